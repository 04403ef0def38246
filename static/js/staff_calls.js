// The staff's list of calls (templates/staff/calls.html), kept live: a call event adds or updates its row, in
// "Going on now" while it is dispatched or active and in "Recent calls" once it is over (newest first in each);
// a message event counts one more message. Events: see dispatch/staff/events.py.
import { connectLive, formatDuration, formatTime, placeByTime, setField } from "./staff_live.js";

const root = document.getElementById("calls");
const zones = JSON.parse(document.getElementById("restaurant-zones").textContent);
const going = document.querySelector("#going tbody");
const over = document.querySelector("#over tbody");
const rowTemplate = document.getElementById("call-row");
const RECENT_CALLS = Number(root.dataset.recentCalls);
const GOING = new Set(["dispatched", "active"]);
const counted = new Map(); // call id -> ids of the messages counted since the last call event

function rowFor(callId) {
  return root.querySelector(`tr[data-call-id="${callId}"]`);
}

function showCall(call) {
  let row = rowFor(call.id);
  if (!row) {
    row = rowTemplate.content.firstElementChild.cloneNode(true);
    row.dataset.callId = call.id;
    const link = setField(row, "link", `Call ${call.id}`);
    link.href = `${root.dataset.callUrl}${call.id}/`;
  }
  row.dataset.at = call.created_at;
  setField(row, "restaurant", call.restaurant);
  setField(row, "channel", call.caller);
  setField(row, "status", call.status_label).dataset.status = call.status;
  setField(row, "started", formatTime(call.created_at, zones[call.restaurant_id] || "UTC"));
  setField(row, "duration", formatDuration(call.duration));
  setField(row, "messages", call.message_count); // the call event's count is the database's
  setField(row, "questions", call.open_questions);
  counted.delete(call.id);
  placeByTime(GOING.has(call.status) ? going : over, row, { newestFirst: true });
  while (over.rows.length > RECENT_CALLS) over.rows[over.rows.length - 1].remove();
  for (const body of [going, over]) {
    const table = body.parentElement;
    table.hidden = body.rows.length === 0;
    document.getElementById(`${table.id}-empty`).hidden = body.rows.length > 0;
  }
}

function countMessage(callId, messageId) {
  const row = rowFor(callId);
  if (!row) return;
  const ids = counted.get(callId) || new Set();
  if (ids.has(messageId)) return;
  counted.set(callId, ids.add(messageId));
  const cell = row.querySelector('[data-field="messages"]');
  cell.textContent = Number(cell.textContent) + 1;
}

connectLive({
  path: root.dataset.wsPath,
  indicator: document.getElementById("live-status"),
  onEvent(event) {
    if (event.kind === "call") showCall(event.call);
    else if (event.kind === "message") countMessage(event.call_id, event.message.id);
  },
});
