// The "Talk to us" widget on a restaurant's page (templates/restaurants/_talk.html).
// Flow: POST /api/connection-details -> {serverUrl, participantToken} -> join the LiveKit room, where the
// agent for this restaurant has been dispatched. Method names follow livekit-client 2.23.0's typings.
// A takeout order the agent takes shows as a card beside the transcript (order_card.js), and so does a table
// it checks or books (booking_card.js).
// livekit-client is imported by its path next to this file's (static/vendor/), so the page needs no inline
// import map and its Content-Security-Policy can forbid inline scripts.
import * as lk from "../vendor/livekit-client/livekit-client.esm.mjs";
import { bookingCallEnded, hideBooking, receiveBookings, showBooking } from "./booking_card.js";
import { hideOrder, orderCallEnded, receiveOrders, showOrder } from "./order_card.js";
import { enableAudioButton, playAudio, showTranscriptions } from "./room_media.js";

const { ConnectionState, Room, RoomEvent } = lk;
// Names used by livekit-agents; livekit-client defines no constants for them.
const AGENT_STATE = "lk.agent.state";
const TOPIC_CHAT = "lk.chat";
const STATE_TEXT = {
  initializing: "The agent is getting ready…",
  idle: "Ready",
  listening: "Listening",
  thinking: "Thinking…",
  speaking: "Speaking",
};

const widget = document.getElementById("talk");
const $ = (id) => document.getElementById(id);
const talkButton = $("talk-button");
const retryButton = $("retry-button");
const audioButton = $("audio-button");
const hangupButton = $("hangup-button");
const statusEl = $("call-status");
const micNotice = $("mic-notice");
const transcript = $("transcript");
const chatForm = $("chat-form");
const chatInput = $("chat-input");
const audioBox = $("agent-audio");
const orderEls = {
  card: $("order-card"), heading: $("order-heading"), number: $("order-number"), lines: $("order-lines"),
  total: $("order-total"), pickup: $("order-pickup"), note: $("order-note"), said: $("order-said"),
};
const bookingEls = {
  card: $("booking-card"), heading: $("booking-heading"), when: $("booking-when"), code: $("booking-code"),
  offers: $("booking-offers"), note: $("booking-note"), calendar: $("booking-calendar"), said: $("booking-said"),
};

const restaurantName = widget.dataset.restaurantName;
// LiveKit drops a dispatch when no worker has room, and says nothing: the agent not joining is the only sign.
const AGENT_JOIN_TIMEOUT_MS = Number(widget.dataset.agentJoinTimeoutMs);
const LINES_BUSY = widget.dataset.linesBusy; // worded once, by the server (dispatch.views.lines_busy_sentence)
let room = null; // the current call's Room; handlers of an older call compare against it and bail out
let agent = null; // the agent's RemoteParticipant once it has joined
let agentTimer = null;
let pendingTexts = []; // typed before the agent could read them; sent when it is ready
let retryTimer = null; // counts down on the Retry button while the server asks us to wait
const segments = new Map(); // lk.segment_id -> transcript line
let order = null; // the latest order card of this call (order_card.js); kept after the call, until the next
let booking = null; // the latest booking card of this call (booking_card.js); kept likewise

function setStatus(text, state) {
  statusEl.textContent = text;
  statusEl.dataset.state = state;
}

// One place decides which buttons show, so every state leaves the widget usable. `retry` is true, or the
// seconds the Retry button stays disabled, counting down (the server's Retry-After).
function showButtons({ talk = false, retry = false, hangup = false }) {
  clearInterval(retryTimer);
  talkButton.hidden = !talk;
  talkButton.disabled = !talk;
  retryButton.hidden = !retry;
  retryButton.disabled = false;
  retryButton.textContent = "Retry";
  hangupButton.hidden = !hangup;
  if (typeof retry === "number" && retry > 0) countDown(retry);
  // If the focused button just disappeared, keep keyboard focus in the widget.
  const active = document.activeElement;
  if (!active || active === document.body || active.hidden) {
    [retryButton, talkButton, hangupButton].find((b) => !b.hidden)?.focus();
  }
}

function countDown(seconds) {
  const until = Date.now() + seconds * 1000;
  const tick = () => {
    const left = Math.ceil((until - Date.now()) / 1000);
    retryButton.disabled = left > 0;
    retryButton.textContent = left > 0 ? `Retry in ${left} s` : "Retry";
    if (left <= 0) clearInterval(retryTimer);
  };
  tick();
  retryTimer = setInterval(tick, 1000);
}

async function startCall() {
  await endCall(); // a retry starts from a clean slate
  showButtons({ hangup: false });
  micNotice.textContent = "";
  transcript.replaceChildren(); // a new call is a new conversation: the agent starts afresh too
  transcript.hidden = true;
  order = null; // and a new order: the last call's confirmation goes
  hideOrder(orderEls);
  booking = null; // and the last call's booking card
  hideBooking(bookingEls);
  setStatus("Connecting…", "connecting");

  let details;
  try {
    details = await fetchConnectionDetails();
  } catch (err) {
    setStatus(err.message, err.retryAfter ? "busy" : "error");
    // Busy or rate-limited: the sentence says when; the Retry button waits that long.
    if (err.retryAfter) showButtons({ retry: err.retryAfter });
    else showButtons({ talk: true });
    return;
  }

  const thisRoom = new Room();
  room = thisRoom;
  listen(thisRoom);
  try {
    await thisRoom.connect(details.serverUrl, details.participantToken);
  } catch (err) {
    console.warn("room.connect failed", err);
    thisRoom.disconnect(); // release whatever the failed attempt left open
    if (room !== thisRoom) return;
    resetCall();
    setStatus("Could not reach the voice service. Please try again in a moment.", "unreachable");
    showButtons({ retry: true });
    return;
  }
  if (room !== thisRoom) return;
  // Only now: a failed connect() may also emit Disconnected, and that is not "Call ended".
  thisRoom.on(RoomEvent.Disconnected, () => {
    if (room !== thisRoom) return;
    resetCall();
    micNotice.textContent = "";
    if (statusEl.dataset.state === "reconnecting") setStatus("The connection was lost. The call has ended.", "ended");
    else if (statusEl.dataset.state !== "ended") setStatus("Call ended.", "ended");
    showButtons({ talk: true });
  });

  showButtons({ hangup: true });
  transcript.hidden = false;
  setStatus("Connected. Waiting for the agent…", "waiting");
  agentTimer = setTimeout(() => {
    if (room === thisRoom && !agent) {
      reportNoAgent(details.participantToken);
      endCall();
      setStatus(LINES_BUSY, "no-agent");
      showButtons({ retry: true });
    }
  }, AGENT_JOIN_TIMEOUT_MS);
  // The agent may already be in the room when we arrive.
  for (const p of thisRoom.remoteParticipants.values()) {
    if (p.isAgent) agentJoined(p);
  }
  await turnOnMicrophone(thisRoom);
}

// Tell the server this call failed for want of an agent: it records that and deletes the room. Best effort.
function reportNoAgent(token) {
  fetch(widget.dataset.noAgentEndpoint, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "X-CSRFToken": widget.dataset.csrfToken },
    credentials: "same-origin",
    keepalive: true,
  }).catch((err) => console.warn("could not report the missing agent", err));
}

// The endpoint's error sentences are written for diners: show them as they are. An error carries
// `retryAfter` (seconds) when the server said how long to wait (429 too many calls, 503 lines busy).
async function fetchConnectionDetails() {
  let response;
  try {
    response = await fetch(widget.dataset.endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": widget.dataset.csrfToken },
      body: JSON.stringify({ restaurant_id: Number(widget.dataset.restaurantId) }),
      credentials: "same-origin",
    });
  } catch {
    throw new Error("Could not reach this website. Check your connection and try again.");
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const err = new Error(body.error || `Something went wrong (error ${response.status}). Please try again.`);
    err.retryAfter = Number(response.headers.get("Retry-After")) || 0;
    throw err;
  }
  return body;
}

async function turnOnMicrophone(thisRoom) {
  try {
    await thisRoom.localParticipant.setMicrophoneEnabled(true);
  } catch (err) {
    // Denied permission or no device: the call goes on, typed questions still work.
    console.warn("microphone unavailable", err);
    if (room === thisRoom) micNotice.textContent = "Microphone is off: you can still type your questions.";
  }
}

function listen(thisRoom) {
  const current = (fn) => (...args) => { if (room === thisRoom) fn(...args); };

  const isCurrent = () => room === thisRoom;

  playAudio(thisRoom, lk, { box: audioBox, button: audioButton, isCurrent });
  thisRoom.on(RoomEvent.ParticipantConnected, current((p) => { if (p.isAgent) agentJoined(p); }));
  thisRoom.on(RoomEvent.ParticipantDisconnected, current((p) => {
    if (p !== agent) return;
    // A full reconnect first drops every participant and then switches the room to Reconnecting, in one
    // go; the agent comes back after Reconnected. Only a room still connected a moment later lost its agent.
    queueMicrotask(() => {
      if (room !== thisRoom || thisRoom.state !== ConnectionState.Connected) return;
      setStatus("The agent left the call.", "ended");
      thisRoom.disconnect();
    });
  }));
  thisRoom.on(RoomEvent.Reconnecting, current(() => setStatus("Connection lost. Reconnecting…", "reconnecting")));
  thisRoom.on(RoomEvent.Reconnected, current(() => {
    if (agent) showAgentState();
    else setStatus("Connected. Waiting for the agent…", "waiting");
  }));
  thisRoom.on(RoomEvent.ParticipantAttributesChanged, current((changed, p) => {
    if (p.isAgent && p !== agent) agentJoined(p);
    else if (p === agent && AGENT_STATE in changed) showAgentState();
  }));
  // The agent numbers its cards (seq): one overtaken by a later card is dropped.
  receiveOrders(thisRoom, {
    isCurrent,
    onOrder(card) {
      if (order && card.seq <= order.seq) return;
      order = card;
      showOrder(orderEls, card);
    },
  });
  receiveBookings(thisRoom, {
    isCurrent,
    onBooking(card) {
      if (booking && card.seq <= booking.seq) return;
      booking = card;
      showBooking(bookingEls, card);
    },
  });
  showTranscriptions(thisRoom, {
    segments,
    box: transcript,
    isCurrent,
    newLine(identity, attributes) {
      const mine = identity === thisRoom.localParticipant.identity ||
        thisRoom.localParticipant.trackPublications.has(attributes["lk.transcribed_track_id"]);
      return addLine(mine ? "You" : restaurantName, "");
    },
  });
}

function agentJoined(participant) {
  agent = participant;
  clearTimeout(agentTimer);
  showButtons({ hangup: true });
  showAgentState();
}

function showAgentState() {
  const state = agent.attributes[AGENT_STATE] || "initializing";
  setStatus(STATE_TEXT[state] || state, `agent-${state}`);
  // The agent reads lk.chat only once its session runs, i.e. after "initializing".
  if (state !== "initializing") flushPendingTexts();
}

function addLine(who, text) {
  const el = document.createElement("p");
  el.className = who === "You" ? "line line-you" : "line line-agent";
  const label = document.createElement("strong");
  label.textContent = `${who}: `;
  const span = document.createElement("span");
  span.textContent = text;
  el.append(label, span);
  transcript.append(el);
  transcript.hidden = false;
  transcript.scrollTop = transcript.scrollHeight;
  return { el, text: span };
}

async function sendText(text) {
  try {
    await room.localParticipant.sendText(text, { topic: TOPIC_CHAT });
  } catch (err) {
    console.warn("sendText failed", err);
    micNotice.textContent = "Your message could not be sent. Please try again.";
  }
}

function flushPendingTexts() {
  const texts = pendingTexts;
  pendingTexts = [];
  texts.forEach(sendText);
}

function resetCall() {
  clearTimeout(agentTimer);
  orderCallEnded(orderEls, order);
  bookingCallEnded(bookingEls, booking);
  room = null;
  agent = null;
  pendingTexts = [];
  segments.clear();
  audioButton.hidden = true;
  audioBox.replaceChildren();
}

async function endCall() {
  const old = room;
  resetCall();
  if (old) await old.disconnect();
}

talkButton.addEventListener("click", startCall);
retryButton.addEventListener("click", startCall);
enableAudioButton(audioButton, () => room);
hangupButton.addEventListener("click", async () => {
  const old = room;
  if (!old) return;
  // Disconnected does the rest; it only fires for the current room, so keep it current until then.
  await old.disconnect();
  if (room === old) { resetCall(); setStatus("Call ended.", "ended"); showButtons({ talk: true }); }
});

chatForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = chatInput.value.trim();
  if (!text) return;
  if (!room) {
    setStatus("Start a call with “Talk to us” first, then type your question.", "idle");
    talkButton.focus();
    return;
  }
  addLine("You", text);
  chatInput.value = "";
  const ready = agent && (agent.attributes[AGENT_STATE] || "initializing") !== "initializing";
  if (ready) sendText(text);
  else pendingTexts.push(text);
});
