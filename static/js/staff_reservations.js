// The reservation book's day view (templates/staff/reservations.html), kept live. Each restaurant's section is a
// timeline: a row per table, the hours of the day across (the restaurant's local time), each reservation a block
// from its start to its end; and the same reservations as a list (a table, for screen readers and small screens).
// A reservation event (reservations/events.py), from the websocket or from the answer to a button, redraws its
// block and its list row: a new one appears, a moved one changes rows, a cancelled one leaves the timeline (it stays
// listed), and one moved to another day leaves the page. What changed is said in the polite live region.
// Selecting a block (or a row's Actions) opens the booking's dialog: Seated, Completed, No-show, Cancel, Move to
// another table (reservations.views; the answer, or the live event, redraws it). "Add walk-in" seats a party now.
import { connectLive, formatTime, placeByTime, setField } from "./staff_live.js";

const root = document.getElementById("book");
const news = document.getElementById("book-news");
const blockTemplate = document.getElementById("booking-block");
const rowTemplate = document.getElementById("booking-row");
const tableTemplate = document.getElementById("table-row");
const dialog = document.getElementById("booking-dialog");
const dialogError = document.getElementById("booking-error");
const cancelConfirm = document.getElementById("cancel-confirm");
const moveForm = document.getElementById("move-form");
const moveSelect = document.getElementById("move-table");
const walkInForm = document.getElementById("walk-in-form");
const walkInError = document.getElementById("walk-in-error");
const HOUR = 3_600_000;
// Each step, and the statuses it starts from (reservations.services.FLOOR_STEPS; staff cancel a booked one).
const STEPS = { seated: ["booked"], completed: ["seated"], no_show: ["booked"], cancelled: ["booked"] };
const LIVE = new Set(["booked", "seated"]); // the statuses that hold the table, and can be moved
const SAID = {
  seated: (r) => `${r.guest_name} is seated at ${r.table}.`,
  completed: (r) => `${r.guest_name}'s table ${r.table} is free again: completed.`,
  no_show: (r) => `${r.guest_name} is marked a no-show.`,
  cancelled: (r) => `${r.guest_name}'s booking at ${r.start_time} is cancelled.`,
  booked: (r) => `${r.guest_name}'s booking is booked again.`,
};

const known = new Map(); // reservation id -> the payload last drawn
let opened = null; // the reservation id the dialog is about, and the element that opened it

// --- Time on the timeline ------------------------------------------------------------------------------------

const minuteFormats = new Map();

// The local minutes and seconds past the hour of instant `ms` in IANA `zone` (offsets of half hours exist).
function pastTheHour(ms, zone) {
  if (!minuteFormats.has(zone)) {
    minuteFormats.set(zone, new Intl.DateTimeFormat("en-GB", { timeZone: zone, minute: "2-digit", second: "2-digit" }));
  }
  const parts = Object.fromEntries(minuteFormats.get(zone).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return (Number(parts.minute) * 60 + Number(parts.second)) * 1000 + (ms % 1000);
}

const floorHour = (ms, zone) => ms - pastTheHour(ms, zone);
const ceilHour = (ms, zone) => (pastTheHour(ms, zone) ? floorHour(ms, zone) + HOUR : ms);

function axisOf(section) {
  return [Date.parse(section.dataset.axisStarts), Date.parse(section.dataset.axisEnds)];
}

// Where instant `ms` falls across the section's timeline, as a percentage of its width.
function percent(section, ms) {
  const [starts, ends] = axisOf(section);
  return ((ms - starts) / (ends - starts)) * 100;
}

function placeSpan(section, el, starts, ends) {
  el.style.left = `${percent(section, starts)}%`;
  el.style.width = `${percent(section, ends) - percent(section, starts)}%`;
}

// The hour marks (local time) and the services' bands across the head of the timeline.
function drawHours(section) {
  const [starts, ends] = axisOf(section);
  const lane = section.querySelector(".timeline-head .hours");
  for (const tick of lane.querySelectorAll(".hour-tick")) tick.remove();
  for (let at = ceilHour(starts, section.dataset.zone); at < ends; at += HOUR) {
    const tick = document.createElement("span");
    tick.className = "hour-tick";
    tick.textContent = formatTime(new Date(at).toISOString(), section.dataset.zone, { date: false });
    tick.style.left = `${percent(section, at)}%`;
    lane.append(tick);
  }
  for (const band of lane.querySelectorAll(".service-band")) {
    placeSpan(section, band, Date.parse(band.dataset.starts), Date.parse(band.dataset.ends));
  }
  section.querySelector(".timeline").style.setProperty("--hours", String(Math.round((ends - starts) / HOUR)));
  drawNow(section);
}

// Widens the timeline to whole local hours around [starts, ends) when a block falls outside it.
function cover(section, starts, ends) {
  const [axisStarts, axisEnds] = axisOf(section);
  if (starts >= axisStarts && ends <= axisEnds) return;
  const zone = section.dataset.zone;
  section.dataset.axisStarts = new Date(Math.min(axisStarts, floorHour(starts, zone))).toISOString();
  section.dataset.axisEnds = new Date(Math.max(axisEnds, ceilHour(ends, zone))).toISOString();
  drawHours(section);
  for (const block of section.querySelectorAll("li.booking")) placeBlock(section, block);
}

function placeBlock(section, block) {
  placeSpan(section, block, Date.parse(block.dataset.at), Date.parse(block.dataset.ends));
}

// A line at the present moment, on a timeline that covers it.
function drawNow(section) {
  const timeline = section.querySelector(".timeline");
  let line = timeline.querySelector(".now-line");
  const at = percent(section, Date.now());
  if (at < 0 || at > 100) {
    line?.remove();
    return;
  }
  if (!line) {
    line = document.createElement("span");
    line.className = "now-line";
    line.setAttribute("aria-hidden", "true");
    timeline.append(line);
  }
  line.style.setProperty("--at", String(at / 100));
}

// --- Drawing a reservation -----------------------------------------------------------------------------------

const people = (n) => `${n} ${n === 1 ? "person" : "people"}`;
const times = (r) => `${r.start_time}–${r.end_time}`;

function sectionOf(restaurantId) {
  return root.querySelector(`section.book[data-restaurant-id="${restaurantId}"]`);
}

function inBook(section, r) {
  const at = Date.parse(r.starts_at);
  return at >= Date.parse(section.dataset.starts) && at < Date.parse(section.dataset.ends);
}

// The <ul> of the table's row, made (at the end) for a table the page did not show.
function laneOf(section, r) {
  let row = section.querySelector(`.timeline-row[data-table-id="${r.table_id}"]`);
  if (!row) {
    row = tableTemplate.content.firstElementChild.cloneNode(true);
    row.dataset.tableId = r.table_id;
    row.dataset.tableName = r.table;
    const label = row.querySelector(".table-label");
    label.id = `table-${r.table_id}-label`;
    row.querySelector(".lane").setAttribute("aria-labelledby", label.id);
    setField(row, "table-name", r.table);
    setField(row, "seats", "");
    section.querySelector(".timeline").append(row);
  }
  return row.querySelector(".lane");
}

function drawBlock(section, r) {
  let block = root.querySelector(`li.booking[data-reservation-id="${r.id}"]`);
  if (r.status === "cancelled") {
    block?.remove();
    return null;
  }
  if (!block) {
    block = blockTemplate.content.firstElementChild.cloneNode(true);
    block.dataset.reservationId = r.id;
  }
  block.dataset.at = r.starts_at;
  block.dataset.ends = r.ends_at;
  block.dataset.status = r.status;
  setField(block, "guest", r.guest_name);
  setField(block, "party", r.party_size);
  setField(block, "time", times(r));
  const button = block.querySelector("button");
  button.setAttribute("aria-label", `${r.guest_name}, ${people(r.party_size)}, ${r.start_time} to ${r.end_time}, ${r.table}, ${r.status_label}`);
  button.title = `${r.guest_name}, ${people(r.party_size)}, ${times(r)}, ${r.status_label}`;
  const hadFocus = block.contains(document.activeElement);
  placeByTime(laneOf(section, r), block);
  if (hadFocus && !block.contains(document.activeElement)) button.focus();
  cover(section, Date.parse(r.starts_at), Date.parse(r.ends_at));
  placeBlock(section, block);
  return block;
}

function drawRow(section, r) {
  let row = root.querySelector(`tr[data-reservation-id="${r.id}"]`);
  if (!row) {
    row = rowTemplate.content.firstElementChild.cloneNode(true);
    row.dataset.reservationId = r.id;
  }
  row.dataset.at = r.starts_at;
  row.dataset.table = r.table;
  row.dataset.status = r.status;
  setField(row, "time", times(r));
  setField(row, "table", r.table);
  setField(row, "guest", r.guest_name);
  setField(row, "party", r.party_size);
  setField(row, "status", r.status_label).dataset.status = r.status;
  const details = [r.code, r.guest_phone, r.notes ? `“${r.notes}”` : ""].filter(Boolean);
  setField(row, "details", details.join(" · "));
  row.querySelector("button").setAttribute("aria-label", `Actions for ${r.guest_name}`);
  placeRow(section.querySelector(".book-list tbody"), row);
}

const tableNames = new Intl.Collator("en", { numeric: true }); // "T2" before "T10", as the server sorts them

// Puts a list row among the others by start, then table (the server's order).
function placeRow(body, row) {
  const at = Date.parse(row.dataset.at);
  const comesAfter = (other) => {
    const otherAt = Date.parse(other.dataset.at);
    return otherAt > at || (otherAt === at && tableNames.compare(other.dataset.table, row.dataset.table) > 0);
  };
  const next = [...body.children].find((other) => other !== row && comesAfter(other)) || null;
  if (row.parentNode === body && row.nextElementSibling === next) return;
  body.insertBefore(row, next);
}

function showEmpty(section) {
  section.querySelector("[data-empty]").hidden = section.querySelector(".book-list tbody tr") !== null;
}

function takeOff(id) {
  for (const el of root.querySelectorAll(`[data-reservation-id="${id}"]`)) {
    const section = el.closest("section.book");
    el.remove();
    showEmpty(section);
  }
}

// What staff are told of a change: a new booking, a step, a move, another time or party.
function said(before, r) {
  if (!before) {
    return r.status === "seated"
      ? `Walk-in seated: ${r.guest_name}, ${people(r.party_size)}, at ${r.table}.`
      : `New booking: ${r.guest_name}, ${people(r.party_size)}, ${r.start_time} at ${r.table}.`;
  }
  if (before.status !== r.status) return SAID[r.status](r);
  if (before.table_id !== r.table_id) return `${r.guest_name} moved to ${r.table}.`;
  if (before.starts_at !== r.starts_at || before.party_size !== r.party_size) {
    return `${r.guest_name}'s booking changed: ${people(r.party_size)}, ${r.start_time} at ${r.table}.`;
  }
  return "";
}

function say(text) {
  if (text) news.textContent = text;
}

function showReservation(r) {
  const section = sectionOf(r.restaurant_id);
  if (!section) return;
  const before = known.get(r.id);
  if (!inBook(section, r)) {
    if (before) say(`${r.guest_name}'s booking moved to ${r.date}, ${r.start_time}.`);
    known.delete(r.id);
    takeOff(r.id);
    return;
  }
  if (before && Date.parse(before.updated_at) > Date.parse(r.updated_at)) return; // an older event, overtaken
  drawRow(section, r);
  const block = drawBlock(section, r);
  showEmpty(section);
  known.set(r.id, r);
  say(said(before, r));
  if (!before && block) {
    block.classList.remove("booking-new");
    void block.offsetWidth; // restart the highlight
    block.classList.add("booking-new");
  }
  if (opened && opened.id === r.id) fillDialog(r);
}

// --- The booking's dialog --------------------------------------------------------------------------------------

function fillDialog(r) {
  setField(dialog, "title", `${r.guest_name}, ${people(r.party_size)}`);
  setField(dialog, "summary", `${times(r)} at ${r.table} · ${r.status_label}`);
  setField(dialog, "details", [`Code ${r.code}`, r.guest_phone].filter(Boolean).join(" · "));
  setField(dialog, "notes", r.notes ? `“${r.notes}”` : "");
  setField(dialog, "whose", `${r.guest_name}'s`);
  for (const button of dialog.querySelectorAll("button[data-step]")) {
    button.hidden = !STEPS[button.dataset.step].includes(r.status);
    button.disabled = false;
  }
  moveForm.hidden = !LIVE.has(r.status);
  const section = sectionOf(r.restaurant_id);
  const chosen = moveSelect.value;
  moveSelect.replaceChildren(
    ...[...section.querySelectorAll('.timeline-row[data-active="true"]')]
      .filter((row) => Number(row.dataset.tableId) !== r.table_id)
      .map((row) => {
        const seats = row.querySelector('[data-field="seats"]').textContent.trim();
        return new Option(seats ? `${row.dataset.tableName} (${seats})` : row.dataset.tableName, row.dataset.tableId);
      }),
  );
  if ([...moveSelect.options].some((o) => o.value === chosen)) moveSelect.value = chosen;
  moveForm.querySelector("button").disabled = moveSelect.options.length === 0;
}

function openDialog(id, opener) {
  const r = known.get(id);
  if (!r) return;
  opened = { id, opener };
  dialogError.hidden = true;
  cancelConfirm.hidden = true;
  moveSelect.value = "";
  fillDialog(r);
  dialog.showModal();
  dialog.querySelector("h2").focus(); // not the first button: Enter must not seat anyone by surprise
}

dialog.addEventListener("close", () => {
  const opener = opened && opened.opener;
  opened = null;
  // The block may have been redrawn elsewhere (moved): focus the one that stands for the booking now.
  if (opener && opener.isConnected) opener.focus();
});

// Posts a button's form to `url`; redraws from the answer. Returns whether the server did it.
async function post(url, fields) {
  let response;
  let body = null;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "X-CSRFToken": root.dataset.csrfToken },
      body: new URLSearchParams(fields),
      credentials: "same-origin",
    });
    if (response.headers.get("Content-Type") === "application/json") body = await response.json();
  } catch {
    body = { error: "Could not reach this website. Check your connection and try again." };
  }
  if (body && body.reservation) showReservation(body.reservation);
  if (response && response.ok) return { ok: true };
  return { ok: false, error: body ? body.error : "Your login has expired. Reload the page and log in again." };
}

function refuse(line, error) {
  line.textContent = error;
  line.hidden = false;
}

async function act(path, fields) {
  const id = opened.id;
  dialogError.hidden = true;
  for (const button of dialog.querySelectorAll("button")) button.disabled = true;
  const answer = await post(`${root.dataset.baseUrl}${id}/${path}`, fields);
  for (const button of dialog.querySelectorAll("button")) button.disabled = false;
  if (!opened || opened.id !== id) return;
  if (answer.ok) {
    dialog.close();
    return;
  }
  if (known.has(id)) fillDialog(known.get(id));
  refuse(dialogError, answer.error);
}

dialog.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-step]");
  if (!button) return;
  if (button.dataset.step === "cancelled") {
    cancelConfirm.hidden = false;
    document.getElementById("cancel-no").focus();
    return;
  }
  act("status", { to: button.dataset.step });
});
document.getElementById("cancel-yes").addEventListener("click", () => act("status", { to: "cancelled" }));
document.getElementById("cancel-no").addEventListener("click", () => {
  cancelConfirm.hidden = true;
  dialog.querySelector('button[data-step="cancelled"]').focus();
});
moveForm.addEventListener("submit", (event) => {
  event.preventDefault();
  act("table", { table: moveSelect.value });
});

root.addEventListener("click", (event) => {
  const opener = event.target.closest(".booking-block, .booking-open");
  if (!opener) return;
  const id = Number(opener.closest("[data-reservation-id]").dataset.reservationId);
  openDialog(id, opener);
});

// --- Walk-ins ----------------------------------------------------------------------------------------------

walkInForm?.addEventListener("submit", async (event) => {
  event.preventDefault();
  walkInError.hidden = true;
  const button = walkInForm.querySelector('button[type="submit"]');
  button.disabled = true;
  const answer = await post(walkInForm.action, new FormData(walkInForm));
  button.disabled = false;
  if (answer.ok) walkInForm.elements.guest_name.value = "";
  else refuse(walkInError, answer.error);
});

// --- Start ---------------------------------------------------------------------------------------------------

for (const r of JSON.parse(document.getElementById("book-data").textContent)) known.set(r.id, r);
for (const section of root.querySelectorAll("section.book")) {
  drawHours(section);
  for (const block of section.querySelectorAll("li.booking")) placeBlock(section, block);
}
setInterval(() => root.querySelectorAll("section.book").forEach(drawNow), 30_000);

connectLive({
  path: root.dataset.wsPath,
  indicator: document.getElementById("live-status"),
  onEvent(event) {
    if (event.kind === "reservation") showReservation(event.reservation);
  },
});
