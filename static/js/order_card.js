// The takeout order card in the call widget (templates/restaurants/_talk.html). After each change to the
// order the agent (agent_worker/order_card.py) sends the order as it stands, read from the database, as one
// text stream on TOPIC_ORDER to this diner; this module takes it from the agent only, checks its shape and
// shows it. Everything is written with textContent. It imports nothing: talk.js wires it to the call.

export const TOPIC_ORDER = "maitre.order";
// agent_worker/order_card.py's MAX_CARD_BYTES: a longer card is not one of the agent's.
const MAX_CARD_BYTES = 15000;
const MAX_LINES = 30; // orders.services.MAX_LINES
const STATUSES = ["draft", "placed", "accepted", "ready", "collected", "cancelled", "rejected"];
const ENDED = ["cancelled", "rejected"];
const HEADINGS = {
  draft: "Your order",
  placed: "Order placed",
  accepted: "Order accepted",
  ready: "Order ready for pickup",
  collected: "Order collected",
  cancelled: "Order cancelled",
  rejected: "Order not accepted",
};
const NOTES = {
  placed: "Pay when you pick it up.",
  accepted: "The kitchen is on it. Pay when you pick it up.",
  ready: "Pay when you pick it up.",
  cancelled: "This order is cancelled.",
  rejected: "The restaurant could not take this order.",
};
export const CALL_ENDED_NOTE = "The call ended before this order was placed.";

// Call `onOrder(card)` with each well-formed order card that the agent sends in `room`, while `isCurrent()`.
// A stream from anyone else, or one that is not a card, is ignored (and said on the console).
export function receiveOrders(room, { isCurrent, onOrder }) {
  room.registerTextStreamHandler(TOPIC_ORDER, (reader, { identity }) => {
    if (!isCurrent()) return;
    if (!room.remoteParticipants.get(identity)?.isAgent) {
      console.warn("order card from a participant that is not the agent, ignored:", identity);
      return;
    }
    if ((reader.info.size || 0) > MAX_CARD_BYTES) {
      console.warn("order card too large, ignored:", reader.info.size);
      return;
    }
    reader.readAll().then((text) => {
      if (!isCurrent()) return;
      const card = text.length <= MAX_CARD_BYTES ? parseOrder(text) : null;
      if (card) onOrder(card);
      else console.warn("malformed order card, ignored");
    }).catch((err) => console.warn("order card stream", err));
  });
}

const isText = (value, max) => typeof value === "string" && value.length <= max;
const isWhole = (value, min, max) => Number.isInteger(value) && value >= min && value <= max;

function isLine(line) {
  return line !== null && typeof line === "object" && isWhole(line.quantity, 1, 99) && isText(line.name, 200) &&
    Array.isArray(line.choices) && line.choices.length <= 40 && line.choices.every((c) => isText(c, 200)) &&
    isText(line.note, 200) && isText(line.line_total, 40) && typeof line.available === "boolean";
}

function isPickup(pickup) {
  return pickup !== null && typeof pickup === "object" && isText(pickup.time, 40) && isText(pickup.day, 60) &&
    isText(pickup.date, 10);
}

// The card in `text` (agent_worker/order_card.py's JSON), or null when it is not one.
export function parseOrder(text) {
  let card;
  try {
    card = JSON.parse(text);
  } catch {
    return null;
  }
  const ok = card !== null && typeof card === "object" && isWhole(card.seq, 1, Number.MAX_SAFE_INTEGER) &&
    STATUSES.includes(card.status) && (card.number === null || isWhole(card.number, 1, 1e9)) &&
    Array.isArray(card.lines) && card.lines.length <= MAX_LINES && card.lines.every(isLine) &&
    isWhole(card.more_lines, 0, 1000) && isText(card.total, 40) && isText(card.customer_name, 200) &&
    (card.pickup === null || isPickup(card.pickup));
  return ok ? card : null;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = text;
  return node;
}

function lineItem(line) {
  const item = el("li", line.available ? "order-line" : "order-line order-line-gone", "");
  item.append(el("span", "order-line-name", `${line.quantity} × ${line.name}`),
    el("span", "order-line-total", line.line_total));
  if (line.choices.length) item.append(el("span", "order-line-choices", line.choices.join(", ")));
  if (line.note) item.append(el("span", "order-line-note", `Note: ${line.note}`));
  if (!line.available) item.append(el("span", "order-line-note", "No longer available"));
  return item;
}

function pickupText(card) {
  const who = card.customer_name ? `for ${card.customer_name}` : "";
  if (!card.pickup) return who ? `Name: ${card.customer_name}` : "";
  return `Pickup ${card.pickup.day} at ${card.pickup.time}${who ? `, ${who}` : ""}`;
}

// Show `card` in the widget's order elements `els` ({card, heading, number, lines, total, pickup, note, said}).
export function showOrder(els, card) {
  els.card.dataset.status = card.status;
  els.heading.textContent = HEADINGS[card.status];
  els.number.textContent = card.number === null ? "" : `Order number ${card.number}`;
  els.number.hidden = card.number === null;
  const items = card.lines.map(lineItem);
  if (card.more_lines) items.push(el("li", "order-line order-more", `and ${card.more_lines} more`));
  els.lines.replaceChildren(...items);
  els.total.textContent = card.total;
  els.pickup.textContent = pickupText(card);
  els.pickup.hidden = !els.pickup.textContent;
  els.note.textContent = NOTES[card.status] || "";
  els.note.hidden = !els.note.textContent;
  els.card.hidden = false;
  // One short sentence for screen readers; the card itself says the rest.
  const pickup = card.pickup ? ` Pickup ${card.pickup.day} at ${card.pickup.time}.` : "";
  if (card.status === "draft") els.said.textContent = `Order updated. Total ${card.total}.`;
  else if (ENDED.includes(card.status) || card.number === null) els.said.textContent = `${HEADINGS[card.status]}.`;
  else els.said.textContent = `${HEADINGS[card.status]}: number ${card.number}.${pickup}`;
}

// A draft left when the call ends was never placed: say so on the card, which stays until the next call.
export function orderCallEnded(els, card) {
  if (!card || card.status !== "draft") return;
  els.note.textContent = CALL_ENDED_NOTE;
  els.note.hidden = false;
}

export function hideOrder(els) {
  els.card.hidden = true;
  els.lines.replaceChildren();
  els.said.textContent = "";
}
