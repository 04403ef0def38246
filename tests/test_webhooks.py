"""POST /api/livekit/webhook: the real server's captured deliveries, the same session signed fresh by the contract
fake (tests/fakes/webhooks.py) for a call of ours, what each event does to the call, replays, and every way a
delivery can be forged or malformed (401, 400, 413, 415, 405, 503; never a 500 or a traceback)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Callable

import jwt
import pytest
import time_machine
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from dispatch.livekit import rooms
from dispatch.models import Call, WebhookEvent
from dispatch.services import call_end
from dispatch.staff.events import CALLS
from tests.conftest import API_KEY, API_SECRET
from tests.fakes import webhooks as fake

URL = "/api/livekit/webhook"
pytestmark = pytest.mark.django_db


@pytest.fixture
def livekit_keys(settings):
    settings.LIVEKIT_API_KEY, settings.LIVEKIT_API_SECRET = API_KEY, API_SECRET


@pytest.fixture
def server():
    """LiveKit's server as a client of ours: no CSRF token, so the checks Django makes of browsers apply."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def call(restaurant, livekit_keys) -> Call:
    """A call the diner's page just started: dispatched, nobody in its room yet."""
    return Call.objects.create(
        restaurant=restaurant,
        room_name=rooms.new_room_name(restaurant.pk),
        participant_identity=rooms.new_diner_identity(),
    )


@pytest.fixture
def events(call) -> list[dict]:
    """The captured session for `call`, its room started 30 s ago."""
    return fake.session(call.room_name, call.participant_identity, start=int(time.time()) - 30)


@pytest.fixture
def published(call, settings) -> Callable[[], list[tuple[str, str]]]:
    """What the staff's live view was sent about `call`'s restaurant, read from the channel layer (the embedded
    in-memory one, whatever REDIS_URL says) as a staff page's connection reads it: a function that gives the
    (status, end reason) of each call state sent since it was last asked."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(CALLS.group(call.restaurant_id), channel)

    async def drain() -> list[dict]:
        messages = []
        while True:
            try:
                messages.append(await asyncio.wait_for(layer.receive(channel), timeout=0.05))
            except TimeoutError:
                return messages

    def sent() -> list[tuple[str, str]]:
        events = [message["event"] for message in async_to_sync(drain)()]
        assert [event["kind"] for event in events] == ["call"] * len(events)
        return [(event["call"]["status"], event["call"]["end_reason"]) for event in events]

    return sent


@pytest.fixture(autouse=True)
def no_traceback(caplog):
    """No request here, however bad, may log a traceback."""
    yield
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


def deliver(server: Client, event: dict | bytes, *, key=API_KEY, secret=API_SECRET, auth=None, **extra):
    """POST `event` (a dict, or raw bytes) the way livekit-server does, signed now with `key`/`secret` unless
    `auth` gives the Authorization header ("" for none)."""
    raw = event if isinstance(event, bytes) else fake.body(event)
    authorization = fake.signature(raw, key, secret) if auth is None else auth
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    content_type = extra.pop("content_type", fake.CONTENT_TYPE)
    # CONTENT_TYPE: the test client leaves it out of an empty body's request.
    return server.generic("POST", URL, data=raw, content_type=content_type, CONTENT_TYPE=content_type, **headers, **extra)


def deliver_ok(server: Client, *events: dict) -> None:
    for event in events:
        response = deliver(server, event)
        assert response.status_code == 200, response.content
        assert response.json() == {}


def at(event: dict, field: str = "createdAt", scale: int = 1) -> dt.datetime:
    """A time of `event` (`field` of the event or of its participant) as the aware datetime it stands for."""
    value = event[field] if field in event else event["participant"][field]
    return dt.datetime.fromtimestamp(int(value) / scale, tz=dt.UTC)


def assert_error(response, status: int) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"error"}


def joined(events, identity):
    return fake.event(events, "participant_joined", identity)


def left(events, identity, reason: str | None = None):
    e = fake.event(events, "participant_left", identity)
    if reason:
        e["participant"]["disconnectReason"] = reason
    return e


# --- The real server's session -------------------------------------------------------------------------------


class TestTheCapturedSession:
    def test_the_real_servers_deliveries_verify_and_close_the_call_at_the_times_they_give(self, server, restaurant, settings):
        settings.LIVEKIT_API_KEY, settings.LIVEKIT_API_SECRET = fake.CAPTURED_KEY, fake.CAPTURED_SECRET
        call = Call.objects.create(
            restaurant=restaurant, room_name=fake.CAPTURED_ROOM, participant_identity=fake.CAPTURED_DINER
        )

        for line in fake.CAPTURE:  # each at the moment the server sent it: its token lived 5 minutes
            with time_machine.travel(line["t"], tick=False):
                response = server.post(
                    URL, data=line["body"].encode(), content_type=line["headers"]["Content-Type"],
                    HTTP_AUTHORIZATION=line["headers"]["Authorization"],
                )  # fmt: skip
            assert response.status_code == 200, response.content

        call.refresh_from_db()
        started = dt.datetime.fromtimestamp(fake.CAPTURED_START, tz=dt.UTC)
        assert (call.status, call.end_reason) == (Call.Status.ENDED, Call.EndReason.DINER_HUNG_UP)
        assert (call.agent_joined_at, call.diner_joined_at) == (started, started)
        assert call.ended_at == started + dt.timedelta(seconds=13)
        assert call.duration == 13
        # room_started and the track events change no call: only the joins, the leaves and the room's end count.
        assert WebhookEvent.objects.count() == 5

    def test_the_fake_sends_what_the_server_sent_byte_for_byte_signatures_included(self):
        rebuilt = fake.session(fake.CAPTURED_ROOM, fake.CAPTURED_DINER, start=fake.CAPTURED_START, fresh_ids=False)

        for event, line in zip(rebuilt, fake.CAPTURE, strict=True):
            raw = fake.body(event)
            assert raw == line["body"].encode()
            assert fake.signature(raw, fake.CAPTURED_KEY, fake.CAPTURED_SECRET, at=line["t"]) == line["headers"]["Authorization"]

    def test_the_whole_session_signed_fresh_leaves_the_call_ended_with_its_times(self, server, call, events, published):
        deliver_ok(server, *events)

        call.refresh_from_db()
        diner_joined, diner_left = joined(events, call.participant_identity), left(events, call.participant_identity)
        assert (call.status, call.end_reason) == (Call.Status.ENDED, Call.EndReason.DINER_HUNG_UP)
        assert call.agent_joined_at == at(joined(events, fake.CAPTURED_AGENT))
        assert call.diner_joined_at == at(diner_joined)
        assert call.ended_at == at(diner_left)
        assert call.duration == 13
        # The diner joined first, then the agent: two states of an active call, then its end.
        assert published() == [("active", ""), ("active", ""), ("ended", "Diner hung up")]


# --- What each event does ------------------------------------------------------------------------------------


class TestEffects:
    def test_the_room_starting_changes_nothing(self, server, call, events, published):
        deliver_ok(server, fake.event(events, "room_started"))

        call.refresh_from_db()
        assert (call.status, call.agent_joined_at, call.diner_joined_at) == (Call.Status.DISPATCHED, None, None)
        assert published() == []
        assert not WebhookEvent.objects.exists()

    def test_the_agent_joining_stamps_its_time_only(self, server, call, events):
        agent_joined = joined(events, fake.CAPTURED_AGENT)
        deliver_ok(server, agent_joined)

        call.refresh_from_db()
        assert call.agent_joined_at == at(agent_joined)
        assert (call.status, call.diner_joined_at) == (Call.Status.DISPATCHED, None)

    def test_the_diner_joining_makes_the_call_active(self, server, call, events):
        diner_joined = joined(events, call.participant_identity)
        deliver_ok(server, diner_joined)

        call.refresh_from_db()
        assert (call.status, call.diner_joined_at, call.agent_joined_at) == (Call.Status.ACTIVE, at(diner_joined), None)

    def test_a_phone_caller_is_the_diner(self, server, call, events):
        caller = joined(events, call.participant_identity)
        caller["participant"].update(identity="sip_+447700900123", kind="SIP")
        deliver_ok(server, caller)

        call.refresh_from_db()
        assert call.status == Call.Status.ACTIVE

    def test_someone_else_in_the_room_is_not_the_diner(self, server, call, events):
        stranger_joined, stranger_left = joined(events, call.participant_identity), left(events, call.participant_identity)
        for e in (stranger_joined, stranger_left):
            e["participant"]["identity"] = "diner-" + "0" * 32
        deliver_ok(server, stranger_joined, stranger_left)

        call.refresh_from_db()
        assert (call.status, call.diner_joined_at, call.ended_at) == (Call.Status.DISPATCHED, None, None)

    def test_the_diner_hanging_up_ends_the_call_with_its_duration(self, server, call, events):
        deliver_ok(server, joined(events, call.participant_identity), joined(events, fake.CAPTURED_AGENT))
        diner_left = left(events, call.participant_identity)
        deliver_ok(server, diner_left)

        call.refresh_from_db()
        assert (call.status, call.end_reason, call.ended_at) == (Call.Status.ENDED, Call.EndReason.DINER_HUNG_UP, at(diner_left))
        assert call.duration == 13

    def test_leaving_also_records_the_join_when_its_own_event_was_lost(self, server, call, events):
        diner_left = left(events, call.participant_identity)
        deliver_ok(server, left(events, fake.CAPTURED_AGENT), diner_left)

        call.refresh_from_db()
        assert call.diner_joined_at == at(diner_left, "joinedAtMs", 1000)
        assert call.agent_joined_at == at(left(events, fake.CAPTURED_AGENT), "joinedAtMs", 1000)
        assert (call.status, call.end_reason) == (Call.Status.ENDED, Call.EndReason.DINER_HUNG_UP)
        assert call.duration == 13  # 12.6 s from the join to the second the diner left

    @pytest.mark.parametrize("reason", ["SIGNAL_CLOSE", "DUPLICATE_IDENTITY", "MIGRATION", "ROOM_DELETED"])
    def test_a_diner_who_dropped_out_or_whose_room_went_has_not_hung_up(self, server, call, events, reason):
        deliver_ok(server, joined(events, call.participant_identity), left(events, call.participant_identity, reason))

        call.refresh_from_db()
        assert (call.status, call.ended_at) == (Call.Status.ACTIVE, None)

    @pytest.mark.parametrize(
        "who_joined,status,reason",
        [
            ((), Call.Status.FAILED, Call.EndReason.NO_AGENT),
            (("diner",), Call.Status.ENDED, Call.EndReason.NO_AGENT),
            (("agent",), Call.Status.FAILED, Call.EndReason.NO_DINER),
            (("agent", "diner"), Call.Status.ENDED, Call.EndReason.AGENT_ENDED),
        ],
        ids=["nobody", "diner-only", "agent-only", "both"],
    )
    def test_a_call_whose_worker_died_is_closed_when_its_room_finishes(self, server, call, events, who_joined, status, reason):
        identities = {"agent": fake.CAPTURED_AGENT, "diner": call.participant_identity}
        deliver_ok(server, *(joined(events, identities[w]) for w in who_joined))
        room_finished = fake.event(events, "room_finished")
        deliver_ok(server, room_finished)

        call.refresh_from_db()
        assert (call.status, call.end_reason, call.ended_at) == (status, reason, at(room_finished))
        assert (call.duration is not None) == ("diner" in who_joined)

    def test_an_ending_the_worker_recorded_stays(self, server, call, events):
        deliver_ok(server, joined(events, call.participant_identity), joined(events, fake.CAPTURED_AGENT))
        call_end(room_name=call.room_name, reason=Call.EndReason.TIME_LIMIT)
        ended_at = Call.objects.get(pk=call.pk).ended_at

        deliver_ok(server, left(events, call.participant_identity), fake.event(events, "room_finished"))

        call.refresh_from_db()
        assert (call.status, call.end_reason, call.ended_at) == (Call.Status.ENDED, Call.EndReason.TIME_LIMIT, ended_at)

    def test_the_workers_telling_reason_after_the_room_finished_replaces_agent_ended(self, server, call, events):
        deliver_ok(server, joined(events, call.participant_identity), joined(events, fake.CAPTURED_AGENT))
        room_finished = fake.event(events, "room_finished")
        deliver_ok(server, room_finished)  # the worker's record of the end is still on its way

        call_end(room_name=call.room_name, reason=Call.EndReason.TIME_LIMIT)

        call.refresh_from_db()
        assert (call.status, call.end_reason, call.ended_at) == (Call.Status.ENDED, Call.EndReason.TIME_LIMIT, at(room_finished))

    def test_events_of_rooms_without_a_call_are_acknowledged_and_ignored(self, server, call, events, published):
        other = fake.session("restaurant-1-" + "f" * 32, call.participant_identity)
        deliver_ok(server, *other)

        call.refresh_from_db()
        assert call.status == Call.Status.DISPATCHED
        assert not WebhookEvent.objects.exists()
        assert published() == []


class TestRepeats:
    def test_a_repeated_delivery_answers_200_and_changes_nothing(self, server, call, events, published):
        diner_joined = joined(events, call.participant_identity)
        deliver_ok(server, diner_joined)
        before = Call.objects.values().get(pk=call.pk)

        deliver_ok(server, diner_joined)  # signed afresh, as LiveKit's retry would be

        assert Call.objects.values().get(pk=call.pk) == before
        assert WebhookEvent.objects.filter(event_id=diner_joined["id"]).count() == 1
        assert published() == [("active", "")]

    def test_a_repeat_is_known_by_its_event_id(self, server, call, events):
        diner_joined = joined(events, call.participant_identity)
        deliver_ok(server, diner_joined)

        deliver_ok(server, left(events, call.participant_identity) | {"id": diner_joined["id"]})

        call.refresh_from_db()
        assert (call.status, call.ended_at) == (Call.Status.ACTIVE, None)


# --- Refused -------------------------------------------------------------------------------------------------


def _signed(claims: dict, secret: str = API_SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def _claims(raw: bytes, **changes) -> dict:
    return jwt.decode(fake.signature(raw, API_KEY, API_SECRET), options={"verify_signature": False}) | changes


FORGED = [
    ("no-authorization", lambda raw: ""),
    ("bearer-prefix", lambda raw: "Bearer " + fake.signature(raw, API_KEY, API_SECRET)),
    ("not-a-jwt", lambda raw: "not-a-jwt"),
    ("wrong-secret", lambda raw: fake.signature(raw, API_KEY, "another-secret-that-is-long-enough-for-hs256")),
    ("another-api-key", lambda raw: fake.signature(raw, "APIanotherkey", API_SECRET)),
    ("hash-of-another-body", lambda raw: fake.signature(raw + b" ", API_KEY, API_SECRET)),
    ("no-hash", lambda raw: _signed({k: v for k, v in _claims(raw).items() if k != "sha256"})),
    ("hash-not-base64", lambda raw: _signed(_claims(raw, sha256="%%%"))),
    ("expired", lambda raw: fake.signature(raw, API_KEY, API_SECRET, at=time.time() - 7 * 60)),
    ("not-valid-yet", lambda raw: fake.signature(raw, API_KEY, API_SECRET, at=time.time() + 3 * 60)),
    ("no-expiry", lambda raw: _signed({k: v for k, v in _claims(raw).items() if k != "exp"})),
    ("unsigned", lambda raw: jwt.encode(_claims(raw), None, algorithm="none")),
]  # fmt: skip

NOT_EVENTS = [
    ("hello", b'{"hello": 1}'),
    ("not-json", b"hello"),
    ("a-list", b"[1]"),
    ("a-string", b'"participant_joined"'),
    ("no-id", b'{"event": "room_finished", "room": {"name": "x"}}'),
    ("id-too-long", json.dumps({"event": "room_finished", "id": "EV_" + "x" * 62}).encode()),
    ("wrong-type", b'{"event": 5, "id": "EV_1"}'),
    ("nul-in-room-name", b'{"event": "room_finished", "id": "EV_1", "room": {"name": "restaurant-1-\\u0000"}}'),
    ("nul-in-id", b'{"event": "room_finished", "id": "EV_\\u0000"}'),
    ("time-out-of-range", b'{"event": "room_finished", "id": "EV_1", "createdAt": "9223372036854775807"}'),
    ("nested-too-deep", b'{"room": ' * 5000 + b"{}" + b"}" * 5000),
    ("duplicate-key", b'{"event": "room_finished", "event": "room_started", "id": "EV_1"}'),
]  # fmt: skip


# Bodies shaped like the events that change a call, with anything in their fields.
EVENT_LIKE = st.fixed_dictionaries(
    {"event": st.sampled_from(["participant_joined", "participant_left", "room_finished", "x"]),
     "id": st.text(max_size=70), "room": st.fixed_dictionaries({"name": st.text(max_size=140)})},
    optional={"createdAt": st.integers(), "participant": st.dictionaries(
        st.sampled_from(["identity", "kind", "joinedAt", "joinedAtMs", "disconnectReason"]),
        st.integers() | st.text(max_size=70), max_size=5)},
).map(lambda v: json.dumps(v).encode())  # fmt: skip


class TestRefused:
    @pytest.mark.parametrize("authorization", [f[1] for f in FORGED], ids=[f[0] for f in FORGED])
    def test_a_delivery_the_server_did_not_sign_is_401_and_changes_nothing(self, server, call, events, authorization):
        raw = fake.body(joined(events, call.participant_identity))

        assert_error(deliver(server, raw, auth=authorization(raw)), 401)
        assert Call.objects.get(pk=call.pk).status == Call.Status.DISPATCHED
        assert not WebhookEvent.objects.exists()

    def test_a_body_changed_after_signing_is_401(self, server, call, events):
        raw = fake.body(joined(events, call.participant_identity))
        signature = fake.signature(raw, API_KEY, API_SECRET)

        forged = raw.replace(call.participant_identity.encode(), b"diner-" + b"1" * 32)
        assert_error(deliver(server, forged, auth=signature), 401)

    def test_a_body_that_is_not_utf8_never_matches_its_hash(self, server, call):
        raw = b'{"event": "room_finished", "id": "EV_\xff"}'

        assert_error(deliver(server, raw), 401)  # signed over its bytes; LiveKit's receiver hashes the text

    @pytest.mark.parametrize("raw", [n[1] for n in NOT_EVENTS], ids=[n[0] for n in NOT_EVENTS])
    def test_a_signed_body_that_is_not_an_event_is_400(self, server, call, raw):
        assert_error(deliver(server, raw), 400)
        assert not WebhookEvent.objects.exists()

    def test_a_body_over_64_kb_is_413_even_signed(self, server, call, events):
        big = joined(events, call.participant_identity)
        big["participant"]["metadata"] = "x" * 70_000

        assert_error(deliver(server, big), 413)
        assert Call.objects.get(pk=call.pk).status == Call.Status.DISPATCHED

    def test_plain_json_is_accepted_too(self, server, call, events):
        assert deliver(server, joined(events, call.participant_identity), content_type="application/json").status_code == 200

    def test_another_content_type_is_415(self, server, call, events):
        assert_error(deliver(server, joined(events, call.participant_identity), content_type="text/plain"), 415)

    def test_only_post(self, server, livekit_keys):
        response = server.get(URL)

        assert_error(response, 405)
        assert response["Allow"] == "POST"

    def test_without_livekits_key_it_is_503_so_livekit_retries(self, server, call, events, settings):
        settings.LIVEKIT_API_SECRET = ""

        assert_error(deliver(server, joined(events, call.participant_identity)), 503)

    @hypothesis_settings(
        max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
    )
    @given(raw=st.binary(max_size=2000) | EVENT_LIKE)
    def test_whatever_a_signed_body_holds_the_answer_is_json_never_a_500(self, server, call, raw):
        response = deliver(server, raw)

        if response.status_code == 200:
            assert response.json() == {}
        else:
            assert response.status_code in (400, 401)  # 401: a body that is not UTF-8 (see above)
            assert_error(response, response.status_code)
