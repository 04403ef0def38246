// The kitchen board (templates/staff/orders.html), kept live: an order event (orders/events.py) adds or redraws its
// row, in "To do" (by pickup time) while it is placed, accepted or ready and in "Done" (newest change first) once
// collected, cancelled or rejected. An order that arrives placed and was not on the board is new: it is announced
// to screen readers, highlighted, and, when staff turned the sound on, chimes. The buttons post the kitchen's step
// (orders.views.order_status); the answer, or the live event, redraws the row.
import { connectLive, placeByTime, setField } from "./staff_live.js";

const root = document.getElementById("orders");
const toDo = document.querySelector("#to-do tbody");
const done = document.querySelector("#done tbody");
const rowTemplate = document.getElementById("order-row");
const news = document.getElementById("order-news");
const errorLine = document.getElementById("order-error");
const soundButton = document.getElementById("sound");
const dialog = document.getElementById("cancel-dialog");
const reasonField = document.getElementById("cancel-reason");
const TO_DO = new Set(["placed", "accepted", "ready"]);
// Each kitchen step, and the statuses it starts from (orders.services.KITCHEN_STEPS, STAFF_CANCELS).
const STEPS = {
  accepted: ["placed"],
  ready: ["placed", "accepted"],
  collected: ["accepted", "ready"],
  cancelled: ["placed", "accepted", "ready"],
};
const SOUND_KEY = "maitre.kitchen.sound";
let audio = null; // an AudioContext, made on the click that turns the sound on (browsers want a gesture)
let cancelling = null; // the row whose order the cancel dialog is about

function rowFor(orderId) {
  return root.querySelector(`tr[data-order-id="${orderId}"]`);
}

function drawLines(list, lines) {
  list.replaceChildren(...lines.map((line) => {
    const item = document.createElement("li");
    item.append(`${line.quantity} × ${line.name}`);
    if (line.choices.length) {
      const choices = document.createElement("span");
      choices.className = "muted";
      choices.textContent = ` (${line.choices.join(", ")})`;
      item.append(choices);
    }
    if (line.note) {
      const note = document.createElement("em");
      note.textContent = ` “${line.note}”`;
      item.append(note);
    }
    return item;
  }));
}

function showButtons(row, status) {
  for (const button of row.querySelectorAll("button[data-step]")) {
    button.hidden = !STEPS[button.dataset.step].includes(status);
    button.disabled = false;
  }
}

function showOrder(order) {
  let row = rowFor(order.id);
  const isNew = !row && order.status === "placed";
  if (!row) {
    row = rowTemplate.content.firstElementChild.cloneNode(true);
    row.dataset.orderId = order.id;
  }
  const waiting = TO_DO.has(order.status);
  row.dataset.status = order.status;
  row.dataset.at = waiting ? order.pickup_at : order.updated_at;
  setField(row, "number", order.number);
  setField(row, "pickup-day", order.pickup_day);
  setField(row, "pickup", order.pickup_time);
  setField(row, "restaurant", order.restaurant);
  setField(row, "name", order.customer_name);
  setField(row, "phone", order.customer_phone);
  drawLines(row.querySelector('[data-field="lines"]'), order.lines);
  setField(row, "total", order.total);
  setField(row, "status", order.status_label).dataset.status = order.status;
  setField(row, "reason", order.cancel_reason);
  showButtons(row, order.status);
  placeByTime(waiting ? toDo : done, row, { newestFirst: !waiting });
  for (const body of [toDo, done]) {
    const table = body.parentElement;
    table.hidden = body.rows.length === 0;
    document.getElementById(`${table.id}-empty`).hidden = body.rows.length > 0;
  }
  if (isNew) announce(order, row);
}

function announce(order, row) {
  const day = order.pickup_day ? `${order.pickup_day} ` : "";
  news.textContent = `New order ${order.number} for ${day}${order.pickup_time}, ${order.restaurant}.`;
  row.classList.remove("order-new");
  void row.offsetWidth; // restart the highlight
  row.classList.add("order-new");
  if (audio && soundButton.getAttribute("aria-pressed") === "true") chime();
}

// Two short tones, a fourth apart.
function chime() {
  if (audio.state === "suspended") audio.resume();
  const start = audio.currentTime;
  for (const [offset, frequency] of [[0, 660], [0.18, 880]]) {
    const tone = audio.createOscillator();
    const volume = audio.createGain();
    tone.frequency.value = frequency;
    volume.gain.setValueAtTime(0.0001, start + offset);
    volume.gain.exponentialRampToValueAtTime(0.3, start + offset + 0.02);
    volume.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.35);
    tone.connect(volume).connect(audio.destination);
    tone.start(start + offset);
    tone.stop(start + offset + 0.4);
  }
  root.dataset.chimes = Number(root.dataset.chimes) + 1;
}

function setSound(on) {
  soundButton.setAttribute("aria-pressed", String(on));
  soundButton.textContent = on ? "Sound on" : "Turn sound on";
  try {
    localStorage.setItem(SOUND_KEY, on ? "on" : "off");
  } catch {
    // storage refused (private mode): the choice lasts for this page
  }
}

soundButton.addEventListener("click", () => {
  const on = soundButton.getAttribute("aria-pressed") !== "true";
  if (on && !audio) audio = new AudioContext();
  setSound(on);
  if (on) chime(); // so staff hear what a new order sounds like, and know the speakers work
});

// Asks the server for a kitchen step; redraws the row from the answer, or says why not.
async function step(row, to, reason = "") {
  errorLine.hidden = true;
  for (const button of row.querySelectorAll("button[data-step]")) button.disabled = true;
  let response;
  let body = null;
  try {
    response = await fetch(`${root.dataset.statusUrl}${row.dataset.orderId}/status`, {
      method: "POST",
      headers: { "X-CSRFToken": root.dataset.csrfToken },
      body: new URLSearchParams({ to, reason }),
      credentials: "same-origin",
    });
    if (response.headers.get("Content-Type") === "application/json") body = await response.json();
  } catch {
    body = { error: "Could not reach this website. Check your connection and try again." };
  }
  if (body && body.order) showOrder(body.order);
  else showButtons(row, row.dataset.status);
  if (!response || !response.ok) {
    errorLine.textContent = body ? body.error : "Your login has expired. Reload the page and log in again.";
    errorLine.hidden = false;
  }
}

root.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-step]");
  if (!button) return;
  const row = button.closest("tr");
  if (button.dataset.step !== "cancelled") {
    step(row, button.dataset.step);
    return;
  }
  cancelling = row;
  setField(dialog, "number", row.querySelector('[data-field="number"]').textContent);
  reasonField.value = "";
  dialog.returnValue = ""; // closing with Escape leaves it as it was
  dialog.showModal();
});

dialog.addEventListener("close", () => {
  if (dialog.returnValue === "cancel" && cancelling) step(cancelling, "cancelled", reasonField.value.trim());
  cancelling = null;
});
document.getElementById("cancel-keep").addEventListener("click", () => dialog.close("keep"));

for (const row of root.querySelectorAll("tbody tr")) showButtons(row, row.dataset.status);
try {
  if (localStorage.getItem(SOUND_KEY) === "on") {
    // Remembered from an earlier visit: the context may wait for the page's first click to make a sound.
    audio = new AudioContext();
    setSound(true);
    document.addEventListener("click", () => audio.resume(), { once: true });
  }
} catch {
  // storage refused: the sound starts off
}

connectLive({
  path: root.dataset.wsPath,
  indicator: document.getElementById("live-status"),
  onEvent(event) {
    if (event.kind === "order") showOrder(event.order);
  },
});
