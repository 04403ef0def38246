// The table booking card in the call widget (templates/restaurants/_talk.html). After each booking tool the
// agent (agent_worker/booking_card.py) sends the time it checked (proposed, or not available with the nearest
// times) or the reservation as the database has it (booked with its code, changed, cancelled), as one text
// stream on TOPIC_BOOKING to this diner; this module takes it from the agent only, checks its shape and shows it.
// A booked card carries its calendar file: "Add to calendar" downloads it from a Blob made here (no request to
// the server; the Content-Security-Policy governs fetches, not a link's download). Everything is written with
// textContent. It imports nothing: talk.js wires it to the call.

export const TOPIC_BOOKING = "maitre.booking";
// agent_worker/booking_card.py's MAX_CARD_BYTES: a longer card is not one of the agent's.
const MAX_CARD_BYTES = 15000;
const MAX_ICS_CHARS = 12000;
const MAX_OFFERS = 8; // booking_card.py's MAX_OFFERS
const CODE = /^[A-Z0-9]{6}$/;
const STATUSES = ["proposed", "unavailable", "booked", "cancelled", "seated", "completed", "no_show"];
const HEADINGS = {
  proposed: "Your table",
  unavailable: "Not available",
  booked: "Table booked",
  cancelled: "Booking cancelled",
  seated: "Enjoy your meal",
  completed: "Thank you for coming",
  no_show: "Booking missed",
};
const NOTES = {
  proposed: "Not booked yet: the assistant will read the details back and book once you say yes.",
  booked: "Keep the code: it finds your booking if you want to change or cancel it.",
  cancelled: "This booking is cancelled.",
};
export const CALL_ENDED_NOTE = "The call ended before this table was booked.";

// Call `onBooking(card)` with each well-formed booking card that the agent sends in `room`, while `isCurrent()`.
// A stream from anyone else, or one that is not a card, is ignored (and said on the console).
export function receiveBookings(room, { isCurrent, onBooking }) {
  room.registerTextStreamHandler(TOPIC_BOOKING, (reader, { identity }) => {
    if (!isCurrent()) return;
    if (!room.remoteParticipants.get(identity)?.isAgent) {
      console.warn("booking card from a participant that is not the agent, ignored:", identity);
      return;
    }
    if ((reader.info.size || 0) > MAX_CARD_BYTES) {
      console.warn("booking card too large, ignored:", reader.info.size);
      return;
    }
    reader.readAll().then((text) => {
      if (!isCurrent()) return;
      const card = text.length <= MAX_CARD_BYTES ? parseBooking(text) : null;
      if (card) onBooking(card);
      else console.warn("malformed booking card, ignored");
    }).catch((err) => console.warn("booking card stream", err));
  });
}

const isText = (value, max) => typeof value === "string" && value.length <= max;
const isWhole = (value, min, max) => Number.isInteger(value) && value >= min && value <= max;
const isDate = (value) => typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value);
const isWhen = (when) => when !== null && typeof when === "object" && isDate(when.date) && isText(when.day, 60) &&
  isText(when.time, 40);

// The card in `text` (agent_worker/booking_card.py's JSON), or null when it is not one. A booked card has its
// code and calendar file; a card before booking has neither.
export function parseBooking(text) {
  let card;
  try {
    card = JSON.parse(text);
  } catch {
    return null;
  }
  if (card === null || typeof card !== "object") return null;
  const booked = card.status === "booked";
  const ok = isWhole(card.seq, 1, Number.MAX_SAFE_INTEGER) && STATUSES.includes(card.status) && isWhen(card) &&
    isWhole(card.party_size, 1, 100) && isText(card.guest_name, 200) &&
    (card.code === null ? !["booked", "cancelled"].includes(card.status) : CODE.test(card.code)) &&
    Array.isArray(card.offers) && card.offers.length <= MAX_OFFERS && card.offers.every(isWhen) &&
    (booked ? isText(card.ics, MAX_ICS_CHARS) && card.ics.startsWith("BEGIN:VCALENDAR") : card.ics === null);
  return ok ? card : null;
}

const whenText = (when) => `${when.day} at ${when.time}`;

function partyText(size) {
  return `${size} ${size === 1 ? "person" : "people"}`;
}

// Show `card` in the widget's booking elements `els` ({card, heading, when, code, offers, note, calendar, said}).
// The calendar link's Blob URL of the card before is let go.
export function showBooking(els, card) {
  els.card.dataset.status = card.status;
  els.heading.textContent = HEADINGS[card.status];
  const name = card.guest_name ? `, for ${card.guest_name}` : "";
  els.when.textContent = `${whenText(card)} (${card.date}), ${partyText(card.party_size)}${name}`;
  els.code.textContent = card.code === null ? "" : `Booking code ${card.code}`;
  els.code.hidden = card.code === null;
  els.offers.textContent = card.offers.length
    ? `Free instead: ${card.offers.map(whenText).join("; ")}.`
    : card.status === "unavailable" ? "No table near that time." : "";
  els.offers.hidden = !els.offers.textContent;
  els.note.textContent = NOTES[card.status] || "";
  els.note.hidden = !els.note.textContent;
  setCalendar(els, card);
  els.card.hidden = false;
  // One short sentence for screen readers; the card itself says the rest.
  if (card.status === "booked") els.said.textContent = `Table booked: ${whenText(card)}, code ${card.code}.`;
  else if (card.status === "proposed") els.said.textContent = `Checked: ${whenText(card)}, not booked yet.`;
  else els.said.textContent = `${HEADINGS[card.status]}: ${whenText(card)}.`;
}

function setCalendar(els, card) {
  if (els.calendar.href) URL.revokeObjectURL(els.calendar.href);
  els.calendar.removeAttribute("href");
  els.calendar.hidden = card.ics === null;
  if (card.ics === null) return;
  const file = new Blob([card.ics], { type: "text/calendar;charset=utf-8" });
  els.calendar.href = URL.createObjectURL(file);
  els.calendar.download = `table-${card.date}-${card.code}.ics`;
}

// A table proposed when the call ends was never booked: say so on the card, which stays until the next call.
export function bookingCallEnded(els, card) {
  if (!card || card.status !== "proposed") return;
  els.note.textContent = CALL_ENDED_NOTE;
  els.note.hidden = false;
}

export function hideBooking(els) {
  if (els.calendar.href) URL.revokeObjectURL(els.calendar.href);
  els.calendar.removeAttribute("href");
  els.card.hidden = true;
  els.said.textContent = "";
}
