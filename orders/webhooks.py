"""Order and booking webhooks: every order event and every table reservation event is POSTed to the restaurant's
`order_webhook_url` (a till bridge, an SMS service), signed per the Standard Webhooks spec with the restaurant's
`order_webhook_secret`, by a background task (django-tasks with its database backend; `manage.py db_worker` runs it)
that retries with backoff. One mechanism for both: a WebhookDelivery is about an order or a reservation.

1. `record_event` receives orders.events.order_changed, and `record_reservation_event` receives
   reservations.events.reservation_changed, inside the transaction that changed the order or the reservation. When
   the restaurant has a URL, each records a WebhookDelivery holding the JSON body built now (`order_payload`,
   `reservation_payload`), and enqueues `deliver` for it, in that same transaction: the task queue is a table of the
   same database, so the change, its delivery and its task exist together or not at all, and a receiver or a worker
   that is down loses nothing. (orders.apps connects both: the webhook is orders', reservations know nothing of it.)
2. `deliver` makes one attempt (`post`) and records it as a WebhookAttempt. A 2xx answer delivers it. Anything else
   (another status, a redirect, which is never followed, no answer within the timeouts, no connection) schedules the
   next attempt RETRY_DELAYS later, Standard Webhooks' schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h after
   the failures, so the delivery is given up after MAX_ATTEMPTS (8) attempts, about 27.6 hours after the event.
   Staff can retry a given-up delivery from admin (`retry_given_up`: one more attempt).
3. A receiver that is back catches up at once: when a delivery of a restaurant succeeds, its other deliveries
   waiting for a retry are tried straight away.

Order: a delivery waits while an earlier delivery about the same order (or the same reservation) is unfinished (its
task returns; the earlier one wakes it when delivered or given up), so a receiver does not get "ready" before
"placed", or "cancelled" before "made", unless the earlier one was given up. Different orders and reservations do
not wait for each other. Every attempt of a delivery sends the same body under the same webhook-id, so a receiver
that got it but answered too late can drop the repeat.

An attempt claims its delivery with a conditional UPDATE for LEASE, so two workers never send it at once. Should a
worker die in the middle of an attempt, the delivery is taken up again by the next event recorded after LEASE
(`_resume_stalled`), or from admin.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import time
import uuid
from dataclasses import dataclass

import httpx2
import standardwebhooks
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django_tasks import task

from reservations.models import Reservation
from restaurants.models import Restaurant, one_line

from .models import Order, WebhookAttempt, WebhookDelivery

logger = logging.getLogger("maitre.orders")

# Waits after the 1st, 2nd... failed attempt (Standard Webhooks' schedule); one failure more and it is given up.
RETRY_DELAYS = tuple(dt.timedelta(seconds=s) for s in (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# Seconds to connect, and to send or to receive each part of the answer.
CONNECT_TIMEOUT = 5.0
TIMEOUT = 10.0
# The most of an answer's body read (bytes): the start of an error page, for the attempt's line.
MAX_ANSWER_BYTES = 1024
# How long an attempt holds its delivery against a second worker; and how long after it was due a delivery that
# nobody finished (its worker died mid-attempt) is taken up again.
LEASE = dt.timedelta(minutes=5)
# At most this many deliveries are woken or resumed at once (the rest by the next success or event).
WAKE_BATCH = 100
MAX_ERROR_LENGTH = 300
USER_AGENT = "maitre-order-webhooks/1"


# --- What is sent ---------------------------------------------------------------------------------------------


def _utc(value: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, as Standard Webhooks writes times: "2026-06-10T17:30:00Z"."""
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if value else None


def order_payload(order: Order, happened: str, at: dt.datetime) -> dict:
    """The event as a Standard Webhooks payload: `{"type": "order.<happened>", "timestamp": <at, UTC>, "data":
    {...}}`, data being the order (read with its restaurant and lines) as it is now: id, number, status (`happened`),
    restaurant {id, name}, channel ("web" or "phone"), customer_name, customer_phone (E.164 or null), pickup_at (UTC)
    and pickup_at_local (the restaurant's wall clock with its offset), service_date, placed_at (UTC), lines
    (quantity, name, choices [{group, name, price_delta}], note, unit_price, line_total), subtotal, total, currency
    (ISO 4217) and cancel_reason (null unless cancelled or rejected with one). Money is a string in major units with
    two decimals ("12.50")."""
    restaurant = order.restaurant
    return {
        "type": f"order.{happened}",
        "timestamp": _utc(at),
        "data": {
            "id": order.pk,
            "number": order.number,
            "status": happened,
            "restaurant": {"id": restaurant.pk, "name": restaurant.name},
            "channel": order.channel,
            "customer_name": order.customer_name,
            "customer_phone": str(order.customer_phone) if order.customer_phone else None,
            "pickup_at": _utc(order.pickup_at),
            "pickup_at_local": order.pickup_at.astimezone(restaurant.tz).isoformat() if order.pickup_at else None,
            "service_date": order.service_date.isoformat() if order.service_date else None,
            "placed_at": _utc(order.placed_at),
            "lines": [
                {
                    "quantity": line.quantity,
                    "name": line.name,
                    "choices": [{"group": m["group"], "name": m["name"], "price_delta": m["price_delta"]}
                                for m in line.modifiers],  # fmt: skip
                    "note": line.note,
                    "unit_price": str(line.unit_price),
                    "line_total": str(line.line_total),
                }
                for line in order.lines.all()
            ],
            "subtotal": str(order.subtotal),
            "total": str(order.total),
            "currency": order.currency,
            "cancel_reason": order.cancel_reason or None,
        },
    }


def reservation_payload(reservation: Reservation, happened: str, at: dt.datetime) -> dict:
    """The event as a Standard Webhooks payload: `{"type": "reservation.<happened>", "timestamp": <at, UTC>, "data":
    {...}}`, data being the reservation (read with its restaurant and table) as it is now: id, code (the one the
    guest was told), status (booked, seated, completed, cancelled or no_show: after "changed" or "moved" still
    "booked"), restaurant {id, name}, table (its name, "T4"), party_size, starts_at and ends_at (UTC) and
    starts_at_local and ends_at_local (the restaurant's wall clock with its offset), guest_name, guest_phone (E.164
    or null), notes ("" when none) and channel ("web" or "phone"; a walk-in is "web")."""
    restaurant = reservation.restaurant
    return {
        "type": f"reservation.{happened}",
        "timestamp": _utc(at),
        "data": {
            "id": reservation.pk,
            "code": reservation.code,
            "status": reservation.status,
            "restaurant": {"id": restaurant.pk, "name": restaurant.name},
            "table": reservation.table.name,
            "party_size": reservation.party_size,
            "starts_at": _utc(reservation.starts_at),
            "starts_at_local": reservation.starts_at.astimezone(restaurant.tz).isoformat(),
            "ends_at": _utc(reservation.ends_at),
            "ends_at_local": reservation.ends_at.astimezone(restaurant.tz).isoformat(),
            "guest_name": reservation.guest_name,
            "guest_phone": str(reservation.guest_phone) if reservation.guest_phone else None,
            "notes": reservation.notes,
            "channel": reservation.channel,
        },
    }


# --- Recording an event ---------------------------------------------------------------------------------------


def record_event(sender=None, *, order_id: int, happened: str, **kwargs) -> WebhookDelivery | None:
    """Receiver of orders.events.order_changed, inside the order's transaction: when the order's restaurant has an
    order webhook URL, record the delivery of `happened` (its body built now) and enqueue its task. Returns the
    delivery, or None when there is nothing to send (no URL, or the order is gone). Costs one query without a URL."""
    order = Order.objects.select_related("restaurant").filter(pk=order_id).first()
    if order is None or not order.restaurant.order_webhook_url:
        return None
    now = timezone.now()
    return _record(order.restaurant, order_payload(order, happened, now), now, order=order)


def record_reservation_event(sender=None, *, reservation_id: int, happened: str, **kwargs) -> WebhookDelivery | None:
    """Receiver of reservations.events.reservation_changed, inside the reservation's transaction: when its
    restaurant has an order webhook URL (the one address for orders and bookings), record the delivery of
    `happened` (one of reservations.events.HAPPENED; its body built now) and enqueue its task. Returns the
    delivery, or None when there is nothing to send (no URL, or the reservation is gone). Costs one query without a
    URL."""
    reservation = Reservation.objects.select_related("restaurant", "table").filter(pk=reservation_id).first()
    if reservation is None or not reservation.restaurant.order_webhook_url:
        return None
    now = timezone.now()
    payload = reservation_payload(reservation, happened, now)
    return _record(reservation.restaurant, payload, now, reservation=reservation)


def _record(restaurant: Restaurant, payload: dict, now: dt.datetime, **subject) -> WebhookDelivery:
    """Record the delivery of `payload` about `subject` (order=... or reservation=...) to the restaurant's URL and
    enqueue its task, in one transaction (the caller's, when there is one)."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            restaurant=restaurant, event_type=payload["type"], payload=body, url=restaurant.order_webhook_url,
            webhook_id=f"msg_{uuid.uuid4().hex}", next_attempt_at=now, created_at=now, **subject,
        )  # fmt: skip
        deliver.enqueue(delivery.pk)
        _resume_stalled(now)
    return delivery


def retry_given_up(deliveries: QuerySet[WebhookDelivery]) -> int:
    """Give each given-up delivery among `deliveries` one more attempt, now (if it fails too it is given up again).
    Returns how many were retried."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(deliveries.filter(status=WebhookDelivery.Status.GAVE_UP).values_list("pk", flat=True))
        WebhookDelivery.objects.filter(pk__in=ids, status=WebhookDelivery.Status.GAVE_UP).update(
            status=WebhookDelivery.Status.FAILED, next_attempt_at=now
        )
        for pk in ids:
            deliver.enqueue(pk)
    return len(ids)


# --- Delivering -----------------------------------------------------------------------------------------------


@task()
def deliver(delivery_id: int) -> str:
    """The background task: one attempt at delivery `delivery_id` if it is due and no earlier delivery about its
    order (or reservation) is unfinished, then the next step (delivered; a retry enqueued for later; or given up).
    Returns what it did, in a few words (kept as the task's result). Receivers' failures are recorded and logged in
    one WARNING line each; they never raise."""
    now = timezone.now()
    delivery = WebhookDelivery.objects.select_related("restaurant").filter(pk=delivery_id).first()
    if delivery is None or delivery.is_finished:
        return "nothing to do"
    if delivery.next_attempt_at and delivery.next_attempt_at > now:
        return "not due yet"  # a repeated task: the one due then is queued, or another worker is at it
    ahead = (
        WebhookDelivery.objects.unfinished()
        .about_the_same(delivery)
        .filter(pk__lt=delivery.pk)
        .order_by("pk")
        .values_list("webhook_id", flat=True)
        .first()
    )
    if ahead:
        return f"waiting for {ahead}"  # which wakes this one when it is delivered or given up
    claimed = WebhookDelivery.objects.filter(
        pk=delivery.pk, status=delivery.status, attempt_count=delivery.attempt_count
    ).update(attempt_count=F("attempt_count") + 1, next_attempt_at=now + LEASE)
    if not claimed:
        return "taken by another worker"

    # Each attempt goes to the restaurant's address of the moment: staff who fix it fix the deliveries still due.
    restaurant = delivery.restaurant
    url, attempt = restaurant.order_webhook_url, delivery.attempt_count + 1
    if not url:  # staff turned the webhook off: nothing more is sent
        outcome = Outcome(status_code=None, error="The restaurant has no order webhook URL any more.", duration_ms=0)
        return _conclude(delivery, url=delivery.url, attempt=attempt, sent_at=now, outcome=outcome, last=True)
    outcome = post(url=url, body=delivery.payload.encode(), webhook_id=delivery.webhook_id,
                   secret=restaurant.order_webhook_secret)  # fmt: skip
    return _conclude(delivery, url=url, attempt=attempt, sent_at=now, outcome=outcome, last=attempt >= MAX_ATTEMPTS)


def _conclude(
    delivery: WebhookDelivery, *, url: str, attempt: int, sent_at: dt.datetime, outcome: Outcome, last: bool
) -> str:
    """Record the attempt and take the next step (`last`: no retry after a failure), in one transaction, the next
    task's enqueueing included."""
    now = timezone.now()
    Status = WebhookDelivery.Status
    if outcome.delivered:
        status, next_at, said = Status.DELIVERED, None, "delivered"
    elif last:
        status, next_at, said = Status.GAVE_UP, None, f"gave up after {attempt} attempts"
    else:
        status, next_at = Status.FAILED, now + RETRY_DELAYS[attempt - 1]
        said = f"next attempt at {_utc(next_at)}"
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery, at=sent_at, status_code=outcome.status_code, error=outcome.error,
            duration_ms=outcome.duration_ms,
        )  # fmt: skip
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=status, next_attempt_at=next_at, url=url, delivered_at=now if outcome.delivered else None
        )
        if next_at:
            deliver.using(run_after=next_at).enqueue(delivery.pk)
        else:
            _wake_next_about_the_same(delivery, now)
        if outcome.delivered:
            _wake_retries(delivery.restaurant_id, now)
    kind = "Order" if delivery.order_id is not None else "Booking"
    line = f"{kind} webhook {delivery.webhook_id} ({delivery.event_type}, {delivery.subject}) to {url}: "
    if outcome.delivered:
        logger.info("%sdelivered at attempt %d (HTTP %s)", line, attempt, outcome.status_code)
    else:
        logger.warning("%sattempt %d failed: %s; %s", line, attempt, outcome.error, said)
    return said


def _wake_next_about_the_same(delivery: WebhookDelivery, now: dt.datetime) -> None:
    """The delivery is finished: the next unfinished one about its order (or reservation), which waits for it, may
    go now."""
    following = WebhookDelivery.objects.unfinished().about_the_same(delivery).filter(pk__gt=delivery.pk)
    following = following.order_by("pk").first()
    if following is not None:
        WebhookDelivery.objects.filter(pk=following.pk).update(next_attempt_at=now)
        deliver.enqueue(following.pk)


def _wake_retries(restaurant_id: int, now: dt.datetime) -> None:
    """The restaurant's receiver answers again: try its deliveries that wait for a retry now. Those whose retry is
    due within LEASE are left alone (soon anyway; an attempt in flight holds its delivery that long)."""
    ids = list(
        WebhookDelivery.objects.filter(
            restaurant_id=restaurant_id, status=WebhookDelivery.Status.FAILED, next_attempt_at__gt=now + LEASE
        ).order_by("pk").values_list("pk", flat=True)[:WAKE_BATCH]
    )  # fmt: skip
    WebhookDelivery.objects.filter(pk__in=ids).update(next_attempt_at=now)
    for pk in ids:
        deliver.enqueue(pk)


def _resume_stalled(now: dt.datetime) -> None:
    """Enqueue again the deliveries due more than LEASE ago and still unfinished that no earlier delivery about their
    order (or reservation) holds back: their worker died mid-attempt (or is down, in which case the repeat is
    harmless)."""
    # SQL's NULL = NULL is not true, so each side of the OR matches only deliveries about the same subject.
    earlier_unfinished = WebhookDelivery.objects.unfinished().filter(
        Q(order_id=OuterRef("order_id")) | Q(reservation_id=OuterRef("reservation_id")), pk__lt=OuterRef("pk")
    )
    ids = list(
        WebhookDelivery.objects.unfinished()
        .filter(next_attempt_at__lt=now - LEASE)
        .exclude(Exists(earlier_unfinished))
        .order_by("pk")
        .values_list("pk", flat=True)[:WAKE_BATCH]
    )
    WebhookDelivery.objects.filter(pk__in=ids).update(next_attempt_at=now)
    for pk in ids:
        deliver.enqueue(pk)


# --- The HTTP call --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What an attempt got: the receiver's HTTP status (None without an answer), why it failed in one line (empty
    when delivered), and how long it took in milliseconds."""

    status_code: int | None
    error: str
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(*, url: str, body: bytes, webhook_id: str, secret: str) -> Outcome:
    """POST the JSON `body` to `url` with Standard Webhooks' headers: webhook-id, webhook-timestamp (now, in Unix
    seconds) and webhook-signature (`standardwebhooks.Webhook(secret).sign`, secret "whsec_<base64>"). Waits at most
    CONNECT_TIMEOUT seconds to connect and TIMEOUT seconds for each part of the exchange; never follows a redirect;
    reads at most MAX_ANSWER_BYTES of the answer. Never raises for what the receiver or the network does: no answer
    is an Outcome with status_code None and the reason."""
    sent_at = timezone.now()
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "accept-encoding": "identity",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(math.floor(sent_at.timestamp())),
        "webhook-signature": standardwebhooks.Webhook(secret).sign(webhook_id, sent_at, body),
    }
    started = time.perf_counter()
    status_code, error = None, ""
    try:
        with httpx2.Client(timeout=httpx2.Timeout(TIMEOUT, connect=CONNECT_TIMEOUT), follow_redirects=False) as client:
            with client.stream("POST", url, content=body, headers=headers) as response:
                status_code = response.status_code
                answer = _read_at_most(response, MAX_ANSWER_BYTES)
                if response.is_redirect:
                    error = f"HTTP {status_code}: redirected to {response.headers.get('location', '?')}, not followed"
                elif not 200 <= status_code < 300:
                    error = f"HTTP {status_code}" + (f": {answer}" if answer else "")
    except httpx2.TimeoutException as exc:
        error = f"No answer in time ({type(exc).__name__})"
    except httpx2.ConnectError as exc:
        error = f"Could not connect: {exc}"
    except (httpx2.HTTPError, httpx2.InvalidURL) as exc:
        error = f"{type(exc).__name__}: {exc}"
    duration_ms = round((time.perf_counter() - started) * 1000)
    return Outcome(status_code=status_code, error=_one_line(error), duration_ms=duration_ms)


def _read_at_most(response: httpx2.Response, limit: int) -> str:
    """The start of the answer's body as text (at most `limit` bytes read, undecoded), on one line."""
    head = b""
    for chunk in response.iter_raw():
        head += chunk
        if len(head) >= limit:
            break
    return _one_line(head[:limit].decode("utf-8", errors="replace"))


def _one_line(text: str) -> str:
    """An error or an answer's start for an attempt's line: restaurants.models.one_line, cut to MAX_ERROR_LENGTH."""
    text = one_line(text)
    return text if len(text) <= MAX_ERROR_LENGTH else text[: MAX_ERROR_LENGTH - 1] + "…"
