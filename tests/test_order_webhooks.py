"""Order webhooks as a restaurant's receiver (a till bridge, an SMS service) and its staff notice them: each order
event arrives signed per Standard Webhooks with the restaurant's secret (checked here by `standardwebhooks` itself),
with the order as it was when the event happened; a receiver that fails or is down gets the same delivery again
on the backoff schedule, under the same webhook-id, until it answers 2xx, and loses nothing; staff see each
delivery and its attempts in admin (their own restaurant's only), retry one that gave up, and cannot set an
address that would send diners' details in clear.

Deliveries run for real: the order rules announce the event, orders.webhooks records it and enqueues the task in
the database backend, and the Procfile's `db_worker` (in this process, `--batch`) sends it to a local HTTP receiver.
Rows must be committed for the event to be announced, hence `transaction=True`. The clock is frozen at the issue's
moment (Monday 22:30 UTC, Tuesday 00:30 in Rome) and moved on by hand through the backoff delays.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import standardwebhooks
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from orders import webhooks
from orders.models import Order, WebhookDelivery
from orders.services import order_add_line, order_advance, order_cancel, order_set_pickup, order_start
from orders.webhooks import MAX_ATTEMPTS, RETRY_DELAYS
from restaurants.models import Restaurant
from tests.conftest import MONDAY_NIGHT_UTC, make_restaurant
from tests.test_admin import change_form
from tests.test_orders import make_takeout, open_evening, place, ready
from tests.test_tenancy import staff_member

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PICKUP = open_evening(MONDAY_NIGHT_UTC)  # Thursday 11 June 2026, 19:30 in Rome


class Receiver:
    """An order webhook receiver on 127.0.0.1 (a thread running http.server): it verifies each request with
    `standardwebhooks.Webhook(secret).verify(body, headers)`, keeps what it verified, and answers with the next of
    `answers` (HTTP statuses, an error page for anything but 2xx), then 200. A request that does not verify is
    counted in `unverified` and answered 400."""

    def __init__(self, secret: str, answers: tuple[int, ...] = (), port: int = 0):
        self.secret, self.answers, self.port = secret, list(answers), port
        self.received: list[dict] = []  # the verified payloads, in arrival order
        self.headers: list[dict] = []  # their headers, names in lower case
        self.unverified = 0
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/maitre/orders"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {name.lower(): value for name, value in self.headers.items()}
                try:
                    payload = standardwebhooks.Webhook(receiver.secret).verify(body, headers)
                except standardwebhooks.WebhookVerificationError:
                    receiver.unverified += 1
                    status = 400
                else:
                    receiver.received.append(payload)
                    receiver.headers.append(headers)
                    status = receiver.answers.pop(0) if receiver.answers else 200
                page = b"" if 200 <= status < 300 else b"POS offline\nretry later"
                self.send_response(status)
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def types(self) -> list[str]:
        return [payload["type"] for payload in self.received]


def free_port() -> int:
    """A port nothing listens on (until a Receiver is started on it): connections to it are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_worker() -> None:
    """The Procfile's `db_worker`, in this process, until no task is due (`--batch`). Its signal handlers are put
    back afterwards."""
    signals = [signal.SIGINT, signal.SIGTERM, signal.SIGQUIT]
    handlers = [signal.getsignal(s) for s in signals]
    try:
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--interval", "0", verbosity=0)
    finally:
        for s, handler in zip(signals, handlers):
            signal.signal(s, handler)


def attempts(delivery: WebhookDelivery) -> list[tuple[int | None, str]]:
    """Each attempt's HTTP status and its error line, the connection errors' cut to their start."""
    return [
        (a.status_code, "Could not connect" if a.error.startswith("Could not connect") else a.error)
        for a in delivery.attempts.all()
    ]


@pytest.fixture
def frozen():
    """The clock stopped at Monday 22:30 UTC (00:30 in Rome); `frozen.shift(delta)` moves it on."""
    with time_machine.travel(MONDAY_NIGHT_UTC.at, tick=False) as traveller:
        yield traveller


def trattoria_with(url: str) -> Restaurant:
    """Trattoria Test taking orders (tests.test_orders.make_takeout) with its order webhook at `url`."""
    return make_takeout(order_webhook_url=url)


def listening(restaurant: Restaurant, answers: tuple[int, ...] = (), port: int = 0) -> Receiver:
    """A receiver set up with the restaurant's secret, started."""
    return Receiver(restaurant.order_webhook_secret, answers, port).start()


class TestSigned:
    def test_the_placed_order_arrives_signed_with_what_was_ordered(self, frozen):
        restaurant = make_takeout()
        receiver = listening(restaurant)
        Restaurant.objects.filter(pk=restaurant.pk).update(order_webhook_url=receiver.url)
        order = order_start(restaurant=restaurant)
        order_add_line(order=order, dish="Margherita", quantity=2, modifiers=["Large", "Burrata"], note="well done")
        order_add_line(order=order, dish="Supplì")
        order_set_pickup(order=order, name="Anna Rossi", phone="+39 333 123 4567", pickup_at=PICKUP)
        place(order)

        run_worker()
        receiver.stop()

        assert receiver.unverified == 0
        assert receiver.received == [{
            "type": "order.placed",
            "timestamp": "2026-06-08T22:30:00Z",
            "data": {
                "id": order.pk,
                "number": 101,
                "status": "placed",
                "restaurant": {"id": restaurant.pk, "name": "Trattoria Test"},
                "channel": "web",
                "customer_name": "Anna Rossi",
                "customer_phone": "+393331234567",
                "pickup_at": "2026-06-11T17:30:00Z",
                "pickup_at_local": "2026-06-11T19:30:00+02:00",
                "service_date": "2026-06-11",
                "placed_at": "2026-06-08T22:30:00Z",
                "lines": [
                    {"quantity": 2, "name": "Margherita", "note": "well done", "unit_price": "15.00",
                     "line_total": "30.00", "choices": [
                         {"group": "Size", "name": "Large", "price_delta": "3.00"},
                         {"group": "Extras", "name": "Burrata", "price_delta": "2.50"},
                     ]},
                    {"quantity": 1, "name": "Supplì", "note": "", "unit_price": "4.00", "line_total": "4.00",
                     "choices": []},
                ],
                "subtotal": "34.00",
                "total": "34.00",
                "currency": "EUR",
                "cancel_reason": None,
            },
        }]  # fmt: skip
        [headers] = receiver.headers
        assert headers["content-type"] == "application/json"
        assert headers["webhook-id"].startswith("msg_")
        assert headers["webhook-timestamp"] == str(int(MONDAY_NIGHT_UTC.at.timestamp()))
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.event_type, delivery.webhook_id) == ("delivered", "order.placed",
                                                                               headers["webhook-id"])  # fmt: skip
        assert attempts(delivery) == [(200, "")]

    def test_a_receiver_with_another_secret_cannot_verify_it(self, frozen):
        restaurant = make_takeout()
        other = make_restaurant(name="Osteria Altra", slug="altra")
        receiver = Receiver(other.order_webhook_secret).start()  # set up with another restaurant's secret
        Restaurant.objects.filter(pk=restaurant.pk).update(order_webhook_url=receiver.url)

        place(ready(restaurant, PICKUP))
        run_worker()
        receiver.stop()

        assert restaurant.order_webhook_secret.startswith("whsec_")
        assert restaurant.order_webhook_secret != other.order_webhook_secret
        assert (receiver.received, receiver.unverified) == ([], 1)
        assert attempts(WebhookDelivery.objects.get())[0][0] == 400

    def test_the_kitchens_steps_and_cancellations_arrive_in_the_order_they_happened(self, frozen):
        restaurant = make_takeout()
        receiver = listening(restaurant)
        Restaurant.objects.filter(pk=restaurant.pk).update(order_webhook_url=receiver.url)
        cooked = place(ready(restaurant, PICKUP))
        for step in ("accepted", "ready", "collected"):
            order_advance(order=cooked, to=step)
        refused = place(ready(restaurant, PICKUP, name="Bruno"))
        order_cancel(order=refused, by_staff=True, reason="Out of dough")
        changed_mind = place(ready(restaurant, PICKUP, name="Carla"))
        order_cancel(order=changed_mind)

        run_worker()
        receiver.stop()

        got = [(p["type"], p["data"]["number"], p["data"]["status"], p["data"]["cancel_reason"])
               for p in receiver.received]  # fmt: skip
        assert got == [
            ("order.placed", 101, "placed", None), ("order.accepted", 101, "accepted", None),
            ("order.ready", 101, "ready", None), ("order.collected", 101, "collected", None),
            ("order.placed", 102, "placed", None), ("order.rejected", 102, "rejected", "Out of dough"),
            ("order.placed", 103, "placed", None), ("order.cancelled", 103, "cancelled", None),
        ]  # fmt: skip
        assert len({h["webhook-id"] for h in receiver.headers}) == 8

    def test_without_a_url_nothing_is_recorded_or_queued(self, frozen):
        restaurant = make_takeout()

        order_advance(order=place(ready(restaurant, PICKUP)), to="accepted")

        assert Order.objects.get().status == "accepted"
        assert not WebhookDelivery.objects.exists()
        assert not DBTaskResult.objects.exists()


class TestRetries:
    def test_a_receiver_that_fails_twice_then_accepts_gets_it_once_more_under_the_same_id(self, frozen, caplog):
        restaurant = make_takeout()
        receiver = listening(restaurant, answers=(500,))
        Restaurant.objects.filter(pk=restaurant.pk).update(order_webhook_url=receiver.url)
        place(ready(restaurant, PICKUP))
        delivery = WebhookDelivery.objects.get()

        run_worker()  # 1st attempt: 500
        receiver.stop()  # the receiver restarts: connections are refused meanwhile
        frozen.shift(RETRY_DELAYS[0] - dt.timedelta(seconds=1))
        run_worker()  # not yet due
        assert attempts(delivery) == [(500, "HTTP 500: POS offline retry later")]
        frozen.shift(dt.timedelta(seconds=1))
        run_worker()  # 2nd attempt, 5 s after the first: refused
        receiver = listening(restaurant, port=receiver.port)
        frozen.shift(RETRY_DELAYS[1])
        run_worker()  # 3rd attempt, 5 min later: accepted
        frozen.shift(dt.timedelta(days=2))
        run_worker()  # nothing more
        receiver.stop()

        delivery.refresh_from_db()
        assert attempts(delivery) == [
            (500, "HTTP 500: POS offline retry later"), (None, "Could not connect"), (200, ""),
        ]  # fmt: skip
        assert (delivery.status, delivery.attempt_count, delivery.next_attempt_at) == ("delivered", 3, None)
        assert delivery.delivered_at == MONDAY_NIGHT_UTC.at + RETRY_DELAYS[0] + RETRY_DELAYS[1]
        assert receiver.types == ["order.placed"]  # the restarted receiver got it once
        assert receiver.headers[0]["webhook-id"] == delivery.webhook_id
        warned = [r.getMessage() for r in caplog.records if r.name == "maitre.orders" and r.levelno == logging.WARNING]
        assert warned == [
            f"Order webhook {delivery.webhook_id} (order.placed, order {delivery.order_id}) to {receiver.url}: "
            f"attempt 1 failed: HTTP 500: POS offline retry later; next attempt at 2026-06-08T22:30:05Z",
            f"Order webhook {delivery.webhook_id} (order.placed, order {delivery.order_id}) to {receiver.url}: "
            f"attempt 2 failed: {delivery.attempts.all()[1].error}; next attempt at 2026-06-08T22:35:05Z",
        ]  # fmt: skip
        assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]  # no traceback
        assert not DBTaskResult.objects.failed().exists()

    def test_a_receiver_down_for_a_while_loses_nothing_and_gets_each_orders_events_in_order(self, frozen):
        port = free_port()
        restaurant = trattoria_with(f"http://127.0.0.1:{port}/maitre/orders")  # nothing listens yet
        order = place(ready(restaurant, PICKUP))
        run_worker()
        order_advance(order=order, to="accepted")  # while "placed" waits for its retry
        for delay in RETRY_DELAYS[:2]:
            frozen.shift(delay)
            run_worker()
        placed, accepted = WebhookDelivery.objects.order_by("pk")
        assert [len(attempts(placed)), len(attempts(accepted))] == [3, 0]  # "accepted" waits behind "placed"

        receiver = listening(restaurant, port=port)  # back
        frozen.shift(RETRY_DELAYS[2])
        run_worker()
        receiver.stop()

        assert receiver.types == ["order.placed", "order.accepted"]
        assert [p["data"]["status"] for p in receiver.received] == ["placed", "accepted"]  # each as it happened
        assert [d.status for d in WebhookDelivery.objects.order_by("pk")] == ["delivered", "delivered"]

    def test_a_receiver_that_is_back_gets_what_waits_for_a_retry_at_once(self, frozen):
        port = free_port()
        restaurant = trattoria_with(f"http://127.0.0.1:{port}/maitre/orders")
        place(ready(restaurant, PICKUP, name="Early"))
        run_worker()
        for delay in RETRY_DELAYS[:2]:
            frozen.shift(delay)
            run_worker()
        early = WebhookDelivery.objects.get()
        assert (early.status, early.attempt_count) == ("failed", 3)  # the next attempt is 30 minutes away

        receiver = listening(restaurant, port=port)
        frozen.shift(dt.timedelta(minutes=1))
        place(ready(restaurant, PICKUP, name="Later"))  # delivered at once, and the early one right after it
        run_worker()
        receiver.stop()

        assert [p["data"]["customer_name"] for p in receiver.received] == ["Later", "Early"]
        assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}

    def test_a_delivery_is_given_up_after_the_last_attempt_and_staff_can_retry_it(self, frozen, admin_client):
        port = free_port()
        restaurant = trattoria_with(f"http://127.0.0.1:{port}/maitre/orders")
        place(ready(restaurant, PICKUP))
        run_worker()
        for delay in RETRY_DELAYS:
            frozen.shift(delay)
            run_worker()
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempt_count, delivery.next_attempt_at) == ("gave_up", MAX_ATTEMPTS, None)
        frozen.shift(dt.timedelta(days=3))
        run_worker()
        assert delivery.attempts.count() == MAX_ATTEMPTS == 8

        receiver = listening(restaurant, port=port)
        response = admin_client.post(
            reverse("admin:orders_webhookdelivery_changelist"), {"action": "retry", "_selected_action": [delivery.pk]},
            follow=True,
        )  # fmt: skip
        run_worker()
        receiver.stop()

        assert [str(m) for m in response.context["messages"]] == [
            "1 given-up delivery will be tried again within a few seconds."
        ]
        assert receiver.types == ["order.placed"]
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempt_count) == ("delivered", 9)


class Answering:
    """A receiver on 127.0.0.1 whose answer to every POST is `answer(handler)` (a BaseHTTPRequestHandler), for the
    ways a receiver can misbehave; `hits` counts the requests."""

    def __init__(self, answer):
        owner = self
        self.hits = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                owner.hits += 1
                self.rfile.read(int(self.headers["Content-Length"]))
                answer(self)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/maitre/orders"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def __enter__(self) -> Answering:
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def send(url: str) -> webhooks.Outcome:
    return webhooks.post(url=url, body=b'{"type": "order.placed"}', webhook_id="msg_1", secret=SECRET)


class TestTheCall:
    def test_a_redirect_is_not_followed_and_says_where_it_pointed(self):
        with Answering(lambda h: (h.send_response(200), h.end_headers())) as elsewhere:

            def moved(handler):
                handler.send_response(301)
                handler.send_header("Location", elsewhere.url)
                handler.send_header("Content-Length", "0")
                handler.end_headers()

            with Answering(moved) as receiver:
                outcome = send(receiver.url)

        assert (outcome.delivered, outcome.status_code) == (False, 301)
        assert outcome.error == f"HTTP 301: redirected to {elsewhere.url}, not followed"
        assert (receiver.hits, elsewhere.hits) == (1, 0)

    def test_a_receiver_that_does_not_answer_in_time(self, monkeypatch):
        monkeypatch.setattr(webhooks, "TIMEOUT", 0.2)
        release = threading.Event()
        with Answering(lambda h: release.wait(5)) as receiver:
            outcome = send(receiver.url)
            release.set()

        assert (outcome.delivered, outcome.status_code) == (False, None)
        assert outcome.error == "No answer in time (ReadTimeout)"
        assert 200 <= outcome.duration_ms < 2000

    def test_only_the_start_of_a_long_answer_is_read(self):
        written = []

        def flood(handler):
            handler.send_response(500)
            handler.send_header("Content-Length", str(100 * 2**20))
            handler.end_headers()
            try:
                for _ in range(1600):  # 100 MB in 64 KB pieces, until the caller hangs up
                    handler.wfile.write(b"x" * 65536)
                    written.append(65536)
            except OSError:
                pass

        with Answering(flood) as receiver:
            outcome = send(receiver.url)

        assert outcome.status_code == 500
        assert outcome.error == "HTTP 500: " + "x" * 289 + "…"
        assert sum(written) < 20 * 2**20  # it hung up long before the end


class TestAdmin:
    def test_staff_see_each_delivery_with_its_attempts_from_the_order(self, frozen, admin_client):
        restaurant = make_takeout()
        receiver = listening(restaurant, answers=(503,))
        Restaurant.objects.filter(pk=restaurant.pk).update(order_webhook_url=receiver.url)
        order = place(ready(restaurant, PICKUP))
        run_worker()
        receiver.stop()
        delivery = WebhookDelivery.objects.get()

        order_page = admin_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
        page = admin_client.get(reverse("admin:orders_webhookdelivery_change", args=[delivery.pk])).content.decode()

        assert "order.placed" in order_page and "Failed, will retry" in order_page
        assert reverse("admin:orders_webhookdelivery_change", args=[delivery.pk]) in order_page
        for shown in (delivery.webhook_id, receiver.url, "HTTP 503: POS offline retry later", "&quot;Anna&quot;"):
            assert shown in page, shown
        assert 'name="_save"' not in page

    def test_staff_of_another_restaurant_cannot_see_a_delivery(self, frozen, client):
        restaurant = trattoria_with(f"https://127.0.0.1:{free_port()}/maitre/orders")
        place(ready(restaurant, PICKUP))
        WebhookDelivery.objects.update(status="gave_up")
        delivery = WebhookDelivery.objects.get()
        other = make_restaurant(name="Osteria Beta", slug="beta")
        client.force_login(staff_member("beta-staff", other))

        listed = client.get(reverse("admin:orders_webhookdelivery_changelist"))
        opened = client.get(reverse("admin:orders_webhookdelivery_change", args=[delivery.pk]), follow=True)
        retried = client.post(
            reverse("admin:orders_webhookdelivery_changelist"), {"action": "retry", "_selected_action": [delivery.pk]}
        )

        assert list(listed.context["cl"].result_list) == []
        assert [str(m) for m in opened.context["messages"]] == [
            f"webhook delivery with ID “{delivery.pk}” doesn’t exist. Perhaps it was deleted?"
        ]
        assert retried.status_code == 302
        assert WebhookDelivery.objects.get().status == "gave_up"  # not among theirs: not retried

    def test_the_restaurant_page_shows_the_signing_secret(self, admin_client):
        restaurant = make_takeout()

        page = admin_client.get(reverse("admin:restaurants_restaurant_change", args=[restaurant.pk])).content.decode()

        assert restaurant.order_webhook_secret in page
        assert len(restaurant.order_webhook_secret) == 50


@pytest.fixture
def bare(db) -> Restaurant:
    """A restaurant with no hours, special days or menu: its admin page posts its own fields only."""
    return Restaurant.objects.create(
        name="Bar Nuovo", slug="bar-nuovo", cuisine="Wine bar", street_address="Via Roma 1", city="Torino",
        country="IT", phone="+390111234567", time_zone="Europe/Rome",
    )  # fmt: skip


class TestTheAddress:
    def post(self, client, restaurant: Restaurant, url: str):
        path = reverse("admin:restaurants_restaurant_change", args=[restaurant.pk])
        return client.post(path, change_form(restaurant, [], order_webhook_url=url))

    @pytest.mark.parametrize(
        "url, error",
        [
            ("http://pos.example.com/maitre", "Use an https:// address: each order carries the diner's name and phone "
             "number, which plain http would send readable to anyone on the way."),
            ("ftp://pos.example.com/maitre", "Enter a web address such as https://pos.example.com/maitre/orders."),
            ("https://pos.example.com/maitre#orders", "Leave out the #...: the part after # is never sent to the "
             "receiver."),
            ("https://pos.example.com/" + "x" * 480, "Ensure this value has at most 500 characters (it has 504)."),
        ],
    )  # fmt: skip
    def test_a_bad_address_is_refused_with_what_to_do(self, admin_client, bare, url, error):
        response = self.post(admin_client, bare, url)

        assert response.status_code == 200
        assert error in response.context["adminform"].form.errors["order_webhook_url"]
        assert Restaurant.objects.get(pk=bare.pk).order_webhook_url == ""

    @pytest.mark.parametrize("url", ["https://pos.example.com/maitre/orders?key=1", "pos.example.com/maitre"])
    def test_an_https_address_is_kept(self, admin_client, bare, url):
        response = self.post(admin_client, bare, url)

        assert response.status_code == 302
        assert Restaurant.objects.get(pk=bare.pk).order_webhook_url == (
            url if url.startswith("https://") else f"https://{url}"
        )

    def test_plain_http_is_allowed_while_developing(self, admin_client, bare, settings):
        settings.DEBUG = True

        assert self.post(admin_client, bare, "http://127.0.0.1:9000/orders").status_code == 302
        assert Restaurant.objects.get(pk=bare.pk).order_webhook_url == "http://127.0.0.1:9000/orders"
