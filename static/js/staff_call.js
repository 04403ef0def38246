// One call's page for staff (templates/staff/call.html): its course and record (messages, tool calls, and the
// facts given to the agent) kept live from /ws/staff/calls/?call=<id> (events: dispatch/staff/events.py), and
// "Listen in": POST the listen URL -> {serverUrl, participantToken} -> join the call's LiveKit room hidden and
// subscribe-only, play its audio and show the lk.transcription captions as they are spoken. livekit-client is
// imported by its path next to this file's (static/vendor/) when staff first listen, so the page needs no inline
// import map (CSP).
import { enableAudioButton, playAudio, showTranscriptions } from "./room_media.js";
import { connectLive, formatDuration, formatTime, placeByTime, setField } from "./staff_live.js";

const LIVEKIT_CLIENT = "../vendor/livekit-client/livekit-client.esm.mjs";
const ROLES = { diner: "Diner", agent: "Agent" };
const TEMPLATES = { message: "message-entry", tool_call: "tool-entry", facts: "facts-entry" };

const root = document.getElementById("call");
const $ = (id) => document.getElementById(id);
const callId = Number(root.dataset.callId);
const zone = root.dataset.timeZone;
const record = $("record");
const listenSection = $("listen");
const listenButton = $("listen-button");
const audioButton = $("audio-button");
const stopButton = $("stop-button");
const listenStatus = $("listen-status");
const captions = $("captions");
const audioBox = $("call-audio");
let room = null; // the Room while listening; handlers of an older one compare against it and bail out
const segments = new Map(); // lk.segment_id -> caption line

// --- The call's facts and record --------------------------------------------------------------------------

function showCall(call) {
  setField(root, "status", call.status_label).dataset.status = call.status;
  setField(root, "end_reason", call.end_reason || "–");
  for (const name of ["created_at", "agent_joined_at", "diner_joined_at", "ended_at"]) {
    setField(root, name, formatTime(call[name], zone, { seconds: true }));
  }
  setField(root, "duration", formatDuration(call.duration));
  setField(root, "message_count", call.message_count);
  setField(root, "open_questions", call.open_questions);
  if (call.status === "active") {
    listenSection.hidden = false;
  } else if (call.status !== "dispatched") {
    if (room) stopListening("The call has ended.");
    listenSection.hidden = !room && !captions.hasChildNodes(); // keep the captions of a call staff heard
    listenButton.hidden = true;
  }
}

function addEntry(kind, item) {
  if (record.querySelector(`li[data-kind="${kind}"][data-id="${item.id}"]`)) return; // sent twice: once is enough
  const entry = $(TEMPLATES[kind]).content.firstElementChild.cloneNode(true);
  entry.dataset.id = item.id;
  entry.dataset.at = item.created_at;
  setField(entry, "at", formatTime(item.created_at, zone, { date: false, seconds: true }));
  if (kind === "message") {
    entry.className = `entry entry-${item.role}`;
    setField(entry, "who", ROLES[item.role] || item.role);
    setField(entry, "text", item.text);
  } else if (kind === "facts") {
    showFacts(entry.querySelector('[data-field="facts"]'), item.facts);
  } else {
    setField(entry, "name", item.name);
    setField(entry, "arguments", JSON.stringify(item.arguments));
    const took = item.duration_ms === null ? "" : ` in ${item.duration_ms} ms`;
    setField(entry, "outcome", `${item.is_error ? "failed" : "answered"}${took}:`);
    setField(entry, "output", item.output).classList.toggle("tool-error", item.is_error);
  }
  placeByTime(record, entry);
  $("record-empty").hidden = true;
}

// The [label, sentence] pairs of a facts event as templates/staff/_facts.html writes them: "Open now?" as it is,
// any other label with a colon.
function showFacts(el, facts) {
  el.replaceChildren();
  for (const [label, text] of facts) {
    const fact = document.createElement("span");
    fact.className = "fact";
    const name = document.createElement("span");
    name.className = "fact-label";
    name.textContent = label.endsWith("?") ? label : `${label}:`;
    fact.append(name, ` ${text}`);
    el.append(fact, " ");
  }
}

connectLive({
  path: `${root.dataset.wsPath}?call=${callId}`,
  indicator: $("live-status"),
  onEvent(event) {
    if (event.kind === "call" && event.call.id === callId) showCall(event.call);
    else if (event.kind === "message" && event.call_id === callId) addEntry("message", event.message);
    else if (event.kind === "tool_call" && event.call_id === callId) addEntry("tool_call", event.tool_call);
    else if (event.kind === "facts" && event.call_id === callId) addEntry("facts", event.facts);
  },
});

// --- Listening in --------------------------------------------------------------------------------------------

function showButtons({ listen = false, stop = false }) {
  listenButton.hidden = !listen;
  listenButton.disabled = false;
  stopButton.hidden = !stop;
  if (document.activeElement === document.body || document.activeElement?.hidden) {
    (stop ? stopButton : listenButton).focus(); // keep keyboard focus in the section
  }
}

async function fetchListenDetails() {
  let response;
  try {
    response = await fetch(root.dataset.listenUrl, {
      method: "POST",
      headers: { "X-CSRFToken": root.dataset.csrfToken },
      credentials: "same-origin",
    });
  } catch {
    throw new Error("Could not reach this website. Check your connection and try again.");
  }
  const body = response.headers.get("Content-Type") === "application/json" ? await response.json() : null;
  if (!body) throw new Error("Your login has expired. Reload the page and log in again.");
  if (!response.ok) throw new Error(body.error || `Something went wrong (error ${response.status}).`);
  return body;
}

async function startListening() {
  listenButton.disabled = true;
  listenStatus.textContent = "Joining the call…";
  let details, lk;
  try {
    details = await fetchListenDetails();
    lk = await import(LIVEKIT_CLIENT);
  } catch (err) {
    listenStatus.textContent = err.message;
    showButtons({ listen: true });
    return;
  }
  const thisRoom = new lk.Room();
  room = thisRoom;
  const isCurrent = () => room === thisRoom;
  playAudio(thisRoom, lk, { box: audioBox, button: audioButton, isCurrent });
  // The sender of a caption is the agent for its speech and the diner for theirs.
  showTranscriptions(thisRoom, {
    segments, box: captions, isCurrent, newLine: (identity) => captionLine(thisRoom.remoteParticipants.get(identity)?.isAgent),
  });
  try {
    await thisRoom.connect(details.serverUrl, details.participantToken);
  } catch (err) {
    console.warn("room.connect failed", err);
    thisRoom.disconnect();
    if (room === thisRoom) stopListening("Could not reach the voice service. Please try again in a moment.");
    return;
  }
  if (room !== thisRoom) return;
  thisRoom.on(lk.RoomEvent.Disconnected, () => { if (isCurrent()) stopListening("The connection to the call was lost."); });
  listenStatus.textContent = "Listening. The diner and the agent do not know you are here.";
  captions.hidden = false;
  showButtons({ stop: true });
  thisRoom.startAudio().catch(() => {}); // still inside the click's activation, often enough
  audioButton.hidden = thisRoom.canPlaybackAudio;
}

function captionLine(agent) {
  const line = document.createElement("p");
  line.className = agent ? "line line-agent" : "line line-you";
  const who = document.createElement("strong");
  who.textContent = agent ? "Agent: " : "Diner: ";
  const text = document.createElement("span");
  line.append(who, text);
  captions.append(line);
  return { el: line, text };
}

function stopListening(sentence) {
  const old = room;
  room = null;
  segments.clear();
  audioButton.hidden = true;
  audioBox.replaceChildren();
  listenStatus.textContent = sentence;
  showButtons({ listen: root.querySelector('[data-field="status"]').dataset.status === "active" });
  if (old) old.disconnect();
}

listenButton.addEventListener("click", startListening);
stopButton.addEventListener("click", () => stopListening("You stopped listening."));
enableAudioButton(audioButton, () => room);
