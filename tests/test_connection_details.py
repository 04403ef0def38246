"""POST /api/connection-details and POST /api/calls/no-agent against a contract fake of LiveKit's Twirp API
over real HTTP: the happy path, every kind of bad input, the abuse limits, and LiveKit failing."""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
import threading
import time

import jwt
import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st
from livekit.api import AccessToken, TokenVerifier, VideoGrants

from dispatch.models import Call
from tests.conftest import API_KEY, API_SECRET, make_restaurant

URL = "/api/connection-details"
NO_AGENT_URL = "/api/calls/no-agent"
pytestmark = pytest.mark.django_db


def post(client: Client, body, **extra):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", **extra)


def assert_error(response, status: int) -> str:
    """The response is `{"error": "<sentence>"}` with `status`, and carries no token; returns the sentence."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert re.fullmatch(r"[A-Z].*[.?]", body["error"]), body["error"]
    assert b"eyJ" not in response.content  # no JWT, whatever the error
    return body["error"]


@pytest.fixture
def diner(client):
    return client


class TestSuccess:
    def test_it_creates_a_fresh_room_then_dispatches_the_configured_agent_to_it(self, diner, livekit, restaurant):
        response = post(diner, {"restaurant_id": restaurant.pk})

        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == {"serverUrl", "participantToken", "roomName"}
        assert body["serverUrl"] == livekit.ws_url
        assert re.fullmatch(rf"restaurant-{restaurant.pk}-[0-9a-f]{{32}}", body["roomName"])
        assert livekit.methods == ["CreateRoom", "CreateDispatch"]
        [sent] = livekit.dispatches
        assert sent.request.agent_name == "test-restaurant-agent"
        assert sent.request.room == body["roomName"]
        assert json.loads(sent.request.metadata) == {"restaurant_id": restaurant.pk}
        assert sent.headers["content-type"] == "application/protobuf"

    def test_the_room_closes_soon_when_nobody_comes(self, diner, livekit, restaurant, settings):
        body = post(diner, {"restaurant_id": restaurant.pk}).json()

        room = livekit.rooms[body["roomName"]]
        # Not LiveKit's 300 s / 20 s for a room a dispatch creates: an abandoned call frees its agent in 30 s.
        assert (room.empty_timeout, room.departure_timeout) == (30, 10)
        settings.LIVEKIT_ROOM_EMPTY_TIMEOUT, settings.LIVEKIT_ROOM_DEPARTURE_TIMEOUT = 12, 4
        room = livekit.rooms[post(diner, {"restaurant_id": restaurant.pk}).json()["roomName"]]
        assert (room.empty_timeout, room.departure_timeout) == (12, 4)

    def test_it_uses_a_new_room_every_time(self, diner, livekit, restaurant):
        rooms = {post(diner, {"restaurant_id": restaurant.pk}).json()["roomName"] for _ in range(3)}

        assert len(rooms) == 3
        assert {d.request.room for d in livekit.dispatches} == rooms

    def test_the_token_joins_that_room_only_for_fifteen_minutes(self, diner, livekit, restaurant):
        before = int(time.time())
        body = post(diner, {"restaurant_id": restaurant.pk}).json()

        claims = TokenVerifier(API_KEY, API_SECRET).verify(body["participantToken"])
        assert re.fullmatch(r"diner-[0-9a-f]{32}", claims.identity)
        assert claims.video.room == body["roomName"]
        raw = jwt.decode(body["participantToken"], API_SECRET, algorithms=["HS256"], issuer=API_KEY)
        # Exactly these grants: no roomAdmin, roomCreate, roomList, agent, recorder...
        assert raw["video"] == {
            "roomJoin": True,
            "room": body["roomName"],
            "canPublish": True,
            "canSubscribe": True,
            "canPublishData": True,
        }
        assert raw["exp"] - before in range(15 * 60 - 5, 15 * 60 + 5)
        assert raw["sub"] == claims.identity

    def test_the_token_is_refused_once_it_has_expired(self, diner, livekit, restaurant):
        token = post(diner, {"restaurant_id": restaurant.pk}).json()["participantToken"]
        verifier = TokenVerifier(API_KEY, API_SECRET)

        with time_machine.travel(timezone.now() + dt.timedelta(minutes=15, seconds=50), tick=False):
            verifier.verify(token)  # within LiveKit's one-minute leeway
        with time_machine.travel(timezone.now() + dt.timedelta(minutes=16, seconds=30), tick=False):
            with pytest.raises(jwt.ExpiredSignatureError):
                verifier.verify(token)

    def test_it_records_the_call_as_dispatched(self, diner, livekit, restaurant):
        body = post(diner, {"restaurant_id": restaurant.pk}).json()

        call = Call.objects.get()
        assert call.restaurant == restaurant
        assert call.room_name == body["roomName"]
        assert call.dispatch_id == livekit.dispatches[0].response.id
        assert call.dispatch_id.startswith("AD_")
        assert call.participant_identity == TokenVerifier(API_KEY, API_SECRET).verify(body["participantToken"]).identity
        assert (call.status, call.channel, call.ended_at) == (Call.Status.DISPATCHED, "web", None)


# --- Bad input: every malformed request gets a 4xx sentence, touches no LiveKit and records no call -------

NESTED_100K = "[" * 100_000 + "]" * 100_000
NESTED_2K = '{"restaurant_id": ' + "[" * 2000 + "]" * 2000 + "}"  # under 4 KB, deeper than the parser goes
MALFORMED = [
    # (id, method, content type, body, extra headers, status)
    ("get", "GET", None, b"", {}, 405),
    ("put", "PUT", "application/json", b'{"restaurant_id": 1}', {}, 405),
    ("delete", "DELETE", None, b"", {}, 405),
    ("patch", "PATCH", "application/json", b"{}", {}, 405),
    ("options", "OPTIONS", None, b"", {}, 405),
    ("text-plain", "POST", "text/plain", b'{"restaurant_id": 1}', {}, 415),
    ("form-encoded", "POST", "application/x-www-form-urlencoded", b"restaurant_id=1", {}, 415),
    ("multipart", "POST", "multipart/form-data; boundary=x", b"--x--", {}, 415),
    ("no-content-type", "POST", "", b'{"restaurant_id": 1}', {}, 415),
    ("empty-body", "POST", "application/json", b"", {"CONTENT_TYPE": "application/json"}, 400),
    ("truncated-json", "POST", "application/json", b"{not json", {}, 400),
    ("not-utf8", "POST", "application/json", b"\xff\xfe\x00", {}, 400),
    ("list", "POST", "application/json", b"[1, 2]", {}, 400),
    ("null", "POST", "application/json", b"null", {}, 400),
    ("string", "POST", "application/json", b'"3"', {}, 400),
    ("number", "POST", "application/json", b"3", {}, 400),
    ("empty-object", "POST", "application/json", b"{}", {}, 400),
    ("id-as-string", "POST", "application/json", b'{"restaurant_id": "3"}', {}, 400),
    ("id-as-float", "POST", "application/json", b'{"restaurant_id": 3.5}', {}, 400),
    ("id-as-true", "POST", "application/json", b'{"restaurant_id": true}', {}, 400),
    ("id-null", "POST", "application/json", b'{"restaurant_id": null}', {}, 400),
    ("id-zero", "POST", "application/json", b'{"restaurant_id": 0}', {}, 400),
    ("id-negative", "POST", "application/json", b'{"restaurant_id": -1}', {}, 400),
    ("id-2-to-the-63", "POST", "application/json", b'{"restaurant_id": 9223372036854775808}', {}, 400),
    ("id-10-to-the-30", "POST", "application/json", b'{"restaurant_id": 1' + b"0" * 30 + b"}", {}, 400),
    ("id-4000-digits", "POST", "application/json", b'{"restaurant_id": ' + b"9" * 4000 + b"}", {}, 400),
    ("id-1e400", "POST", "application/json", b'{"restaurant_id": 1e400}', {}, 400),
    ("id-nan", "POST", "application/json", b'{"restaurant_id": NaN}', {}, 400),
    ("id-infinity", "POST", "application/json", b'{"restaurant_id": Infinity}', {}, 400),
    ("id-object", "POST", "application/json", b'{"restaurant_id": {"id": 1}}', {}, 400),
    ("extra-key", "POST", "application/json", b'{"restaurant_id": 1, "room": "mine"}', {}, 400),
    ("duplicate-key", "POST", "application/json", b'{"restaurant_id": 1, "restaurant_id": "1"}', {}, 400),
    ("nested-2000-deep", "POST", "application/json", NESTED_2K.encode(), {}, 400),
    ("nested-100000-deep", "POST", "application/json", NESTED_100K.encode(), {}, 413),
    ("5-MB", "POST", "application/json", b'{"restaurant_id": "' + b"x" * 5_000_000 + b'"}', {}, 413),
    ("content-length-not-a-number", "POST", "application/json", b"{}", {"CONTENT_LENGTH": "abc"}, 400),
    ("unknown-restaurant", "POST", "application/json", b'{"restaurant_id": 987654321}', {}, 404),
]  # fmt: skip


class TestBadRequests:
    @pytest.mark.parametrize("method,ctype,body,extra,status", [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
    def test_it_answers_a_sentence_and_starts_nothing(self, diner, livekit, restaurant, method, ctype, body, extra, status):
        response = diner.generic(method, URL, data=body, content_type=ctype, **extra)

        sentence = assert_error(response, status)
        assert livekit.requests == []
        assert not Call.objects.exists()
        if status == 405:
            assert response["Allow"] == "POST"
        if status == 413:
            assert "4096 bytes" in sentence

    def test_an_inactive_restaurant_is_404(self, diner, livekit, restaurant):
        restaurant.is_active = False
        restaurant.save()

        assert_error(post(diner, {"restaurant_id": restaurant.pk}), 404)
        assert livekit.requests == []

    def test_an_unknown_api_address_is_a_json_404(self, diner):
        assert_error(diner.post("/api/connection-detail", data="{}", content_type="application/json"), 404)
        assert_error(diner.get("/api/"), 404)

    def test_pages_outside_the_api_keep_djangos_html_404(self, diner):
        response = diner.get("/no-such-page/")

        assert response.status_code == 404
        assert response["Content-Type"].startswith("text/html")

    @hypothesis_settings(
        max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
    )
    @given(
        body=st.one_of(
            st.binary(max_size=5000),
            st.recursive(
                st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=15), inner, max_size=4),
                max_leaves=30,
            ).map(lambda v: json.dumps(v).encode()),
            st.dictionaries(
                st.sampled_from(["restaurant_id", "restaurantId", "id", ""]),
                st.integers() | st.floats() | st.text(max_size=30) | st.none() | st.booleans(),
                max_size=3,
            ).map(lambda v: json.dumps(v).encode()),
        ),
    )
    def test_whatever_the_body_the_answer_is_json_never_a_500(self, diner, livekit, restaurant, body):
        response = diner.generic("POST", URL, data=body, content_type="application/json", CONTENT_TYPE="application/json")

        if response.status_code == 200:
            assert set(response.json()) == {"serverUrl", "participantToken", "roomName"}
        else:
            assert response.status_code in (400, 404, 413, 429, 503)
            assert_error(response, response.status_code)


# --- Abuse limits -------------------------------------------------------------------------------------------


def from_address(address: str, **headers) -> dict:
    return {"REMOTE_ADDR": address, **headers}


def redis_answers(host: str = "127.0.0.1", port: int = 6379) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(params=["database", "redis"])
def shared_cache(request, settings):
    """The cache all web processes share, as production runs it: the database by default, Redis with REDIS_URL."""
    if request.param == "redis":
        if not redis_answers():
            pytest.skip("no Redis answers on 127.0.0.1:6379 (the rate limits' Redis cache is tested where one does)")
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:6379/15"}
        }
    return request.param


class TestRateLimits:
    @pytest.fixture
    def many_lines(self, restaurant):
        """The restaurant's cap out of the way, so only the rate limit answers."""
        restaurant.max_concurrent_calls = 50
        restaurant.save()
        return restaurant

    def test_five_calls_a_minute_then_429_with_the_time_to_wait(self, diner, livekit, many_lines, shared_cache):
        body = {"restaurant_id": many_lines.pk}
        with time_machine.travel(dt.datetime(2026, 11, 23, 12, 0, 1, tzinfo=dt.UTC), tick=False):
            statuses = [post(diner, body, **from_address("203.0.113.7")).status_code for _ in range(5)]
            refused = post(diner, body, **from_address("203.0.113.7"))

        assert statuses == [200] * 5
        sentence = assert_error(refused, 429)
        wait = int(refused["Retry-After"])
        assert 1 <= wait <= 60
        assert sentence == f"You have started a lot of calls. Please try again in {wait} second{'s' * (wait != 1)}."
        assert len(livekit.dispatches) == 5  # the sixth made no room and no dispatch
        with time_machine.travel(dt.datetime(2026, 11, 23, 12, 0, 1 + wait, tzinfo=dt.UTC), tick=False):
            assert post(diner, body, **from_address("203.0.113.7")).status_code == 200

    def test_twenty_calls_an_hour(self, diner, livekit, many_lines):
        body = {"restaurant_id": many_lines.pk}
        start = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
        statuses = []
        for minute in range(5):  # five a minute, within the per-minute limit
            with time_machine.travel(start + dt.timedelta(minutes=minute, seconds=1), tick=False):
                statuses += [post(diner, body, **from_address("203.0.113.7")).status_code for _ in range(5)]

        assert statuses == [200] * 20 + [429] * 5
        with time_machine.travel(start + dt.timedelta(minutes=4, seconds=2), tick=False):
            refused = post(diner, body, **from_address("203.0.113.7"))
        assert int(refused["Retry-After"]) > 60
        assert re.fullmatch(r"You have started a lot of calls\. Please try again in \d+ minutes\.", refused.json()["error"])

    def test_each_client_address_has_its_own_allowance(self, diner, livekit, many_lines):
        body = {"restaurant_id": many_lines.pk}
        for _ in range(5):
            post(diner, body, **from_address("203.0.113.7"))

        assert post(diner, body, **from_address("203.0.113.7")).status_code == 429
        assert post(diner, body, **from_address("198.51.100.20")).status_code == 200

    def test_ipv6_clients_count_per_64_network(self, diner, livekit, many_lines):
        body = {"restaurant_id": many_lines.pk}
        for host in range(1, 6):  # one client rotating through its /64
            assert post(diner, body, **from_address(f"2001:db8:1:2::{host}")).status_code == 200

        assert post(diner, body, **from_address("2001:db8:1:2::99")).status_code == 429
        assert post(diner, body, **from_address("2001:db8:1:3::1")).status_code == 200

    def test_x_forwarded_for_is_ignored_without_trusted_proxies(self, diner, livekit, many_lines):
        body = {"restaurant_id": many_lines.pk}
        # A client forging a new address each time still counts as its own REMOTE_ADDR.
        statuses = [
            post(diner, body, **from_address("203.0.113.7", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")).status_code
            for i in range(6)
        ]

        assert statuses == [200] * 5 + [429]

    def test_behind_a_trusted_proxy_the_client_is_the_forwarded_address(self, diner, livekit, many_lines, settings):
        settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
        body = {"restaurant_id": many_lines.pk}
        via_proxy = lambda client, forged="": from_address(  # noqa: E731
            "10.0.0.2", HTTP_X_FORWARDED_FOR=f"{forged}{client}, 10.0.0.5" if forged else f"{client}, 10.0.0.5"
        )
        for i in range(5):  # the proxy passes many clients' calls: one client's limit does not stop the others
            assert post(diner, body, **via_proxy(f"198.51.100.{i}")).status_code == 200
        for _ in range(5):
            post(diner, body, **via_proxy("203.0.113.7"))

        # The client's own left-hand additions to the header do not change who it is.
        assert post(diner, body, **via_proxy("203.0.113.7", forged="192.0.2.1, ")).status_code == 429
        assert post(diner, body, **via_proxy("198.51.100.77")).status_code == 200


class TestLinesBusy:
    def test_above_the_restaurants_cap_it_answers_busy_and_starts_nothing(self, diner, livekit, restaurant):
        restaurant.max_concurrent_calls = 2
        restaurant.save()
        body = {"restaurant_id": restaurant.pk}

        statuses = [post(diner, body, **from_address(f"198.51.100.{i}")).status_code for i in range(3)]

        assert statuses == [200, 200, 503]
        busy = post(diner, body, **from_address("198.51.100.9"))
        assert assert_error(busy, 503) == "All our lines are busy. Please try again in 30 seconds."
        assert busy["Retry-After"] == "30"
        assert livekit.methods == ["CreateRoom", "CreateDispatch"] * 2
        assert Call.objects.count() == 2

    def test_an_ended_call_frees_its_line(self, diner, livekit, restaurant):
        body = {"restaurant_id": restaurant.pk}
        for i in range(4):
            post(diner, body, **from_address(f"198.51.100.{i}"))
        assert post(diner, body, **from_address("198.51.100.8")).status_code == 503

        Call.objects.filter(pk=Call.objects.earliest("created_at").pk).update(
            status=Call.Status.ENDED, ended_at=timezone.now()
        )

        assert post(diner, body, **from_address("198.51.100.9")).status_code == 200

    def test_lines_are_counted_per_restaurant(self, diner, livekit, restaurant):
        other = make_restaurant(name="Pizzeria Due", slug="pizzeria-due")
        for i in range(4):
            post(diner, {"restaurant_id": restaurant.pk}, **from_address(f"198.51.100.{i}"))

        assert post(diner, {"restaurant_id": other.pk}, **from_address("198.51.100.9")).status_code == 200

    def test_a_call_no_agent_joined_within_a_minute_frees_its_line_and_is_recorded_failed(self, diner, livekit, restaurant):
        body = {"restaurant_id": restaurant.pk}
        start = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
        with time_machine.travel(start, tick=False):
            for i in range(4):
                post(diner, body, **from_address(f"198.51.100.{i}"))
        joined = Call.objects.earliest("created_at")
        Call.objects.filter(pk=joined.pk).update(agent_joined_at=start)  # the agent came to this one only

        with time_machine.travel(start + dt.timedelta(seconds=59), tick=False):
            assert post(diner, body, **from_address("198.51.100.8")).status_code == 503
        with time_machine.travel(start + dt.timedelta(seconds=61), tick=False):
            assert post(diner, body, **from_address("198.51.100.9")).status_code == 200

        failed = Call.objects.filter(status=Call.Status.FAILED)
        assert failed.count() == 3
        assert {c.end_reason for c in failed} == {Call.EndReason.NO_AGENT}
        assert {c.ended_at for c in failed} == {start + dt.timedelta(seconds=60)}
        assert Call.objects.get(pk=joined.pk).status == Call.Status.DISPATCHED

    def test_a_call_whose_worker_died_stops_counting_after_the_longest_call(self, diner, livekit, restaurant, settings):
        body = {"restaurant_id": restaurant.pk}
        start = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
        with time_machine.travel(start, tick=False):
            for i in range(4):
                post(diner, body, **from_address(f"198.51.100.{i}"))
        Call.objects.update(status=Call.Status.ACTIVE, agent_joined_at=start, diner_joined_at=start)

        lifetime = dt.timedelta(seconds=settings.CALL_MAX_LIFETIME)
        with time_machine.travel(start + lifetime - dt.timedelta(seconds=1), tick=False):
            assert post(diner, body, **from_address("198.51.100.8")).status_code == 503
        with time_machine.travel(start + lifetime + dt.timedelta(seconds=1), tick=False):
            assert post(diner, body, **from_address("198.51.100.9")).status_code == 200


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the rollback keeps the seeded tags
def test_concurrent_diners_cannot_take_more_lines_than_the_cap(livekit):
    """Eight diners press Talk at the same moment for a restaurant with four lines: four get through."""
    restaurant = make_restaurant()
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def diner(i: int) -> None:
        client = Client()
        barrier.wait()
        statuses.append(post(client, {"restaurant_id": restaurant.pk}, REMOTE_ADDR=f"198.51.100.{i}").status_code)
        from django.db import connection

        connection.close()

    threads = [threading.Thread(target=diner, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(statuses) == [200] * 4 + [503] * 4
    assert Call.objects.not_ended().count() == 4
    assert len(livekit.dispatches) == 4


# --- The page says no agent came -----------------------------------------------------------------------------


class TestNoAgent:
    def start(self, diner, restaurant) -> dict:
        return post(diner, {"restaurant_id": restaurant.pk}).json()

    def report(self, diner, token: str | None, body: str = "", **extra):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
        return diner.post(NO_AGENT_URL, data=body, content_type="application/json", **headers, **extra)

    def test_it_records_the_call_failed_and_deletes_its_room(self, diner, livekit, restaurant):
        started = self.start(diner, restaurant)

        response = self.report(diner, started["participantToken"])

        assert response.status_code == 204
        call = Call.objects.get()
        assert (call.status, call.end_reason) == (Call.Status.FAILED, Call.EndReason.NO_AGENT)
        assert call.ended_at is not None
        assert livekit.deleted_rooms == [started["roomName"]]
        assert started["roomName"] not in livekit.rooms

    def test_saying_it_twice_changes_nothing_more(self, diner, livekit, restaurant):
        token = self.start(diner, restaurant)["participantToken"]
        self.report(diner, token)
        ended_at = Call.objects.get().ended_at

        assert self.report(diner, token, body="{}").status_code == 204
        assert Call.objects.get().ended_at == ended_at
        assert len(livekit.deleted_rooms) == 1

    def test_a_call_the_agent_joined_is_left_alone(self, diner, livekit, restaurant):
        token = self.start(diner, restaurant)["participantToken"]
        Call.objects.update(agent_joined_at=timezone.now())

        assert self.report(diner, token).status_code == 204
        assert Call.objects.get().status == Call.Status.DISPATCHED
        assert livekit.deleted_rooms == []

    def test_it_needs_a_valid_diner_token(self, diner, livekit, restaurant):
        started = self.start(diner, restaurant)
        room = started["roomName"]
        forged = (
            AccessToken(API_KEY, "another-secret-that-is-long-enough-0123456789")
            .with_identity("diner-" + "0" * 32).with_grants(VideoGrants(room_join=True, room=room)).to_jwt()
        )  # fmt: skip
        not_a_diner = (
            AccessToken(API_KEY, API_SECRET).with_identity("agent-AJ_1")
            .with_grants(VideoGrants(room_join=True, room=room)).to_jwt()
        )  # fmt: skip

        for token in (None, "", "not-a-jwt", forged, not_a_diner):
            assert assert_error(self.report(diner, token), 401) == "This call is not known here. Please reload the page."
        with time_machine.travel(timezone.now() + dt.timedelta(hours=1), tick=False):
            assert_error(self.report(diner, started["participantToken"]), 401)
        assert Call.objects.get().status == Call.Status.DISPATCHED

    def test_a_body_other_than_empty_or_an_empty_object_is_refused(self, diner, livekit, restaurant):
        token = self.start(diner, restaurant)["participantToken"]

        assert_error(self.report(diner, token, body='{"reason": "x"}'), 400)
        assert_error(self.report(diner, token, body="x" * 5000), 413)
        assert_error(diner.get(NO_AGENT_URL), 405)
        assert Call.objects.get().status == Call.Status.DISPATCHED


# --- LiveKit failing ---------------------------------------------------------------------------------------


class TestLiveKitFailures:
    def assert_503_without_token(self, response) -> str:
        sentence = assert_error(response, 503)
        assert not Call.objects.not_ended().exists()
        return sentence

    def assert_recorded_failed(self):
        call = Call.objects.get()
        assert (call.status, call.end_reason) == (Call.Status.FAILED, Call.EndReason.LIVEKIT_UNAVAILABLE)

    def test_connection_refused(self, diner, livekit, restaurant, settings):
        with socket.socket() as s:  # a port nobody listens on
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        settings.LIVEKIT_URL = f"ws://127.0.0.1:{port}"

        response = post(diner, {"restaurant_id": restaurant.pk})

        assert self.assert_503_without_token(response).startswith("The voice service is not reachable right now.")
        assert response["Retry-After"] == "10"
        self.assert_recorded_failed()

    def test_timeout(self, diner, livekit, restaurant, settings):
        settings.LIVEKIT_API_TIMEOUT = 0.3
        livekit.delay = 1.0
        started = time.monotonic()

        self.assert_503_without_token(post(diner, {"restaurant_id": restaurant.pk}))
        assert time.monotonic() - started < 1.0

    @pytest.mark.parametrize(
        "status,body",
        [
            (401, {"code": "unauthenticated", "msg": "permissions denied"}),
            (404, {"code": "not_found", "msg": "agent not found"}),
            (500, {"code": "internal", "msg": "boom"}),
            (503, "upstream unavailable"),
        ],
    )
    def test_livekit_answers_an_error(self, diner, livekit, restaurant, status, body):
        livekit.fail_with(status, body)

        self.assert_503_without_token(post(diner, {"restaurant_id": restaurant.pk}))
        assert len(livekit.requests) == 1  # no retry storm against a self-hosted server
        self.assert_recorded_failed()

    def test_a_wrong_secret_is_refused_by_livekit(self, diner, livekit, restaurant, settings):
        settings.LIVEKIT_API_SECRET = "not-the-secret-the-server-knows-0123456789abcdef"

        self.assert_503_without_token(post(diner, {"restaurant_id": restaurant.pk}))
        assert livekit.requests[0][1] == 401

    def test_livekit_not_configured_says_what_to_set(self, diner, livekit, restaurant, settings):
        settings.LIVEKIT_API_SECRET = ""

        response = post(diner, {"restaurant_id": restaurant.pk})

        assert "LIVEKIT_API_SECRET" in self.assert_503_without_token(response)
        assert livekit.requests == []
        assert not Call.objects.exists()


class TestCsrfAndOrigin:
    def test_a_post_without_the_csrf_token_is_refused(self, livekit, restaurant):
        strict = Client(enforce_csrf_checks=True)

        response = post(strict, {"restaurant_id": restaurant.pk})

        assert assert_error(response, 403) == "This page has expired. Please reload it and try again."
        assert livekit.requests == []

    def test_pages_outside_the_api_keep_djangos_csrf_page(self):
        response = Client(enforce_csrf_checks=True).post("/admin/login/", {"username": "a", "password": "b"})

        assert response.status_code == 403
        assert response["Content-Type"].startswith("text/html")

    def test_the_token_from_the_restaurant_page_is_accepted_from_its_own_origin(self, livekit, restaurant):
        strict = Client(enforce_csrf_checks=True)
        strict.get(f"/r/{restaurant.slug}/")
        csrf = strict.cookies["csrftoken"].value

        response = post(strict, {"restaurant_id": restaurant.pk}, HTTP_X_CSRFTOKEN=csrf, HTTP_ORIGIN="http://testserver")

        assert response.status_code == 200

    def test_another_site_cannot_start_calls_even_with_a_valid_token(self, livekit, restaurant):
        # What a browser sends when a page on another site posts to ours: its own Origin. The CSRF cookie and
        # token may even be right (they are not secret from a logged-out diner); the origin is what counts.
        strict = Client(enforce_csrf_checks=True)
        strict.get(f"/r/{restaurant.slug}/")
        csrf = strict.cookies["csrftoken"].value

        response = post(strict, {"restaurant_id": restaurant.pk}, HTTP_X_CSRFTOKEN=csrf, HTTP_ORIGIN="https://evil.example")

        assert_error(response, 403)
        assert "Access-Control-Allow-Origin" not in response
        assert livekit.requests == []
