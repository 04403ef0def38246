"""The order card: what the diner's page shows of the takeout order while they talk to the agent on the web.

After each order tool the agent sends the order as it stands in the database (orders.services.order_read, never
the model's words) to the diner's participant, as one text stream on TOPIC (static/js/talk.js renders it). A
text stream rather than an RPC: the card is a one-way push that needs no answer, and `send_text` returns once
LiveKit has the stream, while `perform_rpc` waits for the browser's acknowledgement and reply (a round trip on
every change, up to its 7 s / 15 s timeouts when the page is slow or gone, and an UNSUPPORTED_METHOD error from a
page that registered no handler, where a stream on an unknown topic is dropped by the client without a word).
Data streams of one sender arrive in the order sent; the card's `seq` still lets the page drop a late one.

Only the web channel gets cards (the phone has no screen), only the diner's identity receives them (the one the
web app minted for the call's token, dispatch.Call.participant_identity), and a card that cannot be read or sent
is one warning line in the log: the tool's answer never depends on it.

Payload (JSON, at most MAX_CARD_BYTES bytes of UTF-8):

    {"seq": 3, "status": "draft" | "placed" | "accepted" | "ready" | "collected" | "cancelled" | "rejected",
     "number": 12 | null,                        # the order number, once placed
     "lines": [{"quantity": 2, "name": "Al pastor", "choices": ["Salsa roja", "Guacamole"], "note": "",
                "line_total": "$11.50", "available": true}],
     "more_lines": 0,                            # lines left out to keep the card within its size
     "total": "$11.50",                          # as Restaurant.format_price writes it
     "pickup": {"time": "7:30 PM", "day": "today", "date": "2026-06-08"} | null,  # the restaurant's local time
     "customer_name": "Giulia"}
"""

from __future__ import annotations

import json
import logging

from livekit import rtc

from orders.models import Order
from orders.services import order_read
from restaurants import hours

from .cards import CardSender, said
from .db import run_orm

logger = logging.getLogger("maitre.agent")

TOPIC = "maitre.order"  # static/js/talk.js registers the same name ("lk." topics are LiveKit's own)
# One card's JSON, in bytes: an order of 30 lines (orders.services.MAX_LINES) of ordinary dishes is ~6 KB;
# lines beyond this are left out and counted in "more_lines". Under 15 KiB, one data packet's worth.
MAX_CARD_BYTES = 15_000
# A line shows at most this many choices (a dish's groups allow more only in odd menus).
MAX_CHOICES_SHOWN = 20


def order_card(order_id: int) -> tuple[str, dict] | None:
    """The card of order `order_id` and who may see it: (the diner's participant identity, the card without its
    `seq`), or None when the order is not a web call's (a phone order, one with no call or identity) or is gone.
    Synchronous ORM code (run it through db.run_orm): order_read's queries plus one for the call."""
    order = Order.objects.select_related("restaurant", "call").filter(pk=order_id).first()
    if order is None or order.channel != Order.Channel.WEB or order.call is None:
        return None
    identity = order.call.participant_identity
    if not identity:
        return None
    summary = order_read(order=order)
    r = order.restaurant
    pickup = None
    if summary.pickup_at is not None:
        local = summary.pickup_at  # order_read gives it in the restaurant's time zone
        pickup = {
            "time": hours.say_time(local, r.language),
            "day": hours.say_day(local.date(), r.local_now().date()),
            "date": local.date().isoformat(),
        }
    card = {
        "status": summary.status,
        "number": summary.number,
        "lines": [
            {
                "quantity": line.quantity,
                "name": line.name,
                "choices": list(line.choices[:MAX_CHOICES_SHOWN]),
                "note": line.note,
                "line_total": r.format_price(line.line_total),
                "available": line.available,
            }
            for line in summary.lines
        ],
        "more_lines": 0,
        "total": r.format_price(summary.total),
        "pickup": pickup,
        "customer_name": summary.customer_name,
    }
    return identity, card


def encode(card: dict, seq: int) -> str:
    """`card` with its `seq` as JSON of at most MAX_CARD_BYTES bytes (UTF-8): lines are left out from the end,
    and counted in "more_lines", until it fits."""
    card = {"seq": seq, **card}
    lines = list(card["lines"])
    while True:
        text = json.dumps({**card, "lines": lines, "more_lines": len(card["lines"]) - len(lines)}, ensure_ascii=False)
        if len(text.encode()) <= MAX_CARD_BYTES or not lines:
            return text
        lines.pop()


class OrderCards:
    """One session's order cards: `show` reads the order and sends its card to the diner (cards.CardSender)."""

    def __init__(self) -> None:
        self.sender = CardSender(TOPIC, "order card")

    async def show(self, room: rtc.Room, order_id: int) -> None:
        """Send order `order_id`'s card to the diner in `room`; return once LiveKit has it, or after SEND_WAIT
        seconds while the send goes on. Never raises: a failure is logged as one warning line."""
        try:
            found = await run_orm(order_card, order_id)
        except Exception as exc:  # the card is a view of the order: a tool's answer must not depend on it
            logger.warning("room %s: order card for order %s not read: %s", room.name, order_id, said(exc))
            return
        if found is None:
            return
        identity, card = found
        seq = self.sender.next_seq()
        await self.sender.send(room, identity, encode(card, seq), seq)
