// What the staff's live pages share (templates/staff/): the live connection to their websocket (a
// dispatch.staff.live.LiveConsumer: /ws/staff/calls/ for the calls) and the formats of times and durations (the
// same as the templates').

const FIRST_WAIT_MS = 1000;
const LONGEST_WAIT_MS = 30_000;

// Opens the websocket at `path` (ws: or wss: as the page) and hands each event (JSON: the calls' in
// dispatch/staff/events.py) to onEvent. When the connection drops it is opened again after a wait that doubles
// each failed try, up to 30 s; the server then sends what the page missed. `indicator` says "Live", "Connecting…"
// or "Reconnecting…".
export function connectLive({ path, onEvent, indicator }) {
  const url = new URL(path, location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  let wait = FIRST_WAIT_MS;
  const show = (state, text) => {
    if (indicator.dataset.state === state) return; // say each change once to screen readers
    indicator.dataset.state = state;
    indicator.textContent = text;
  };

  function open() {
    const socket = new WebSocket(url);
    socket.addEventListener("open", () => {
      wait = FIRST_WAIT_MS;
      show("live", "Live");
    });
    socket.addEventListener("message", (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return; // not ours to read
      }
      onEvent(event);
    });
    socket.addEventListener("close", () => {
      show("reconnecting", "Reconnecting…");
      // A little randomness, so that pages cut off together do not all come back in the same instant.
      setTimeout(open, wait * (1 + Math.random() / 4));
      wait = Math.min(wait * 2, LONGEST_WAIT_MS);
    });
  }
  open();
}

const formatters = new Map(); // "zone seconds" -> Intl.DateTimeFormat

// An ISO 8601 time as wall-clock time in the IANA `zone`: "2026-06-09 14:05" (with `date`), "14:05:09" (with
// `seconds` and no `date`); "–" for none.
export function formatTime(iso, zone, { date = true, seconds = false } = {}) {
  if (!iso) return "–";
  const key = `${zone} ${seconds}`;
  if (!formatters.has(key)) {
    formatters.set(key, new Intl.DateTimeFormat("en-GB", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: seconds ? "2-digit" : undefined, hourCycle: "h23",
    }));
  }
  const p = Object.fromEntries(formatters.get(key).formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
  const time = seconds ? `${p.hour}:${p.minute}:${p.second}` : `${p.hour}:${p.minute}`;
  return date ? `${p.year}-${p.month}-${p.day} ${time}` : time;
}

// Whole seconds as "4:05" or "1:02:03"; "–" for none (the call has not ended).
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

// Sets the text of the element marked data-field="<name>" inside `root`.
export function setField(root, name, text) {
  const el = root.querySelector(`[data-field="${name}"]`);
  if (el) el.textContent = text;
  return el;
}

// Puts `el` into `parent` among its children in the order of their data-at times (ISO 8601): `newestFirst`
// or oldest first. Leaves it alone when it is already in its place (moving a focused link would lose focus).
export function placeByTime(parent, el, { newestFirst = false } = {}) {
  const at = Date.parse(el.dataset.at);
  const comesAfter = (other) => (newestFirst ? Date.parse(other.dataset.at) < at : Date.parse(other.dataset.at) > at);
  const next = [...parent.children].find((other) => other !== el && comesAfter(other)) || null;
  if (el.parentNode === parent && el.nextElementSibling === next) return;
  parent.insertBefore(el, next);
}
