"""The staff's live view of calls (dispatch/staff/): the pages under /staff/calls/, listening in, each event's shape,
and the websocket at /ws/staff/calls/ (dispatch.staff.live.LiveConsumer with the calls' feed) driven through
config.asgi's whole stack with Channels' WebsocketCommunicator: session login, origin check, groups, the snapshot,
relayed events, polling the database with the in-memory layer, and channels-redis against the Redis on
127.0.0.1:6379 when one answers.

Trattoria Alfa has a staff member ("alfa-staff"); Osteria Beta belongs to someone else.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid
from dataclasses import dataclass

import jwt
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from livekit.api import TokenVerifier

from config.asgi import application
from dispatch import services
from dispatch.livekit import rooms
from dispatch.models import Call, CallMessage, ToolCall, TurnFacts, UnansweredQuestion
from dispatch.staff import feed
from dispatch.staff.events import CALLS, call_event, facts_event, message_event, tool_call_event
from restaurants.models import Restaurant
from tests.conftest import API_KEY, API_SECRET, make_restaurant
from tests.test_connection_details import redis_answers
from tests.test_tenancy import staff_member

T0 = dt.datetime(2026, 6, 9, 18, 0, tzinfo=dt.UTC)  # 20:00 in Rome
# What the agent's model requests are given beside the conversation (agent_worker.turn_facts), shortened.
FACTS = [
    ["Open now?", "Open now (Tuesday 2026-06-09, 20:00), until 23:00."],
    ["Today's hours", "Tuesday 2026-06-09: 12:00-14:30 and 19:00-23:00 (local time)."],
    ["Address and phone", "Trattoria Alfa is at Via dei Coronari 12, 00186 Roma, Italy."],
]


def a_call(restaurant: Restaurant, status: str = Call.Status.ACTIVE, *, minutes_ago: float = 1, **fields) -> Call:
    """A call of `restaurant`, begun `minutes_ago`; an ended or failed one ended a minute later."""
    created = timezone.now() - dt.timedelta(minutes=minutes_ago)
    over = status in (Call.Status.ENDED, Call.Status.FAILED)
    call = Call.objects.create(
        restaurant=restaurant, room_name=rooms.new_room_name(restaurant.pk),
        participant_identity=rooms.new_diner_identity(), status=status,
        diner_joined_at=created if status != Call.Status.DISPATCHED else None,
        ended_at=created + dt.timedelta(minutes=1) if over else None, duration=60 if over else None, **fields,
    )  # fmt: skip
    Call.objects.filter(pk=call.pk).update(created_at=created)  # auto_now_add ignores a given value
    call.refresh_from_db()
    return call


@pytest.fixture
def alfa(db) -> Restaurant:
    return make_restaurant(name="Trattoria Alfa", slug="alfa")


@pytest.fixture
def beta(db) -> Restaurant:
    return make_restaurant(name="Osteria Beta", slug="beta", time_zone="Asia/Tokyo")


@pytest.fixture
def staff(alfa) -> Client:
    client = Client()
    client.force_login(staff_member("alfa-staff", alfa))
    return client


# --- Pages ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
class TestAccess:
    @pytest.mark.parametrize("path", ["/staff/calls/", "/staff/calls/1/"])
    def test_it_sends_anonymous_users_to_the_login_page(self, client, path):
        response = client.get(path)

        assert response.status_code == 302
        assert response["Location"] == f"/admin/login/?next={path}"

    def test_listening_needs_a_login_too(self, client, alfa):
        call = a_call(alfa)

        response = client.post(f"/staff/calls/{call.pk}/listen")

        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")

    @pytest.mark.parametrize("path", ["/staff/calls/", "/staff/calls/1/"])
    def test_it_refuses_users_without_staff_status(self, client, alfa, path):
        user = User.objects.create_user("diner")
        alfa.staff.add(user)  # even one a restaurant names
        client.force_login(user)

        assert client.get(path).status_code == 403
        assert client.post("/staff/calls/1/listen").status_code == 403

    def test_the_admin_links_to_the_live_calls(self, staff):
        response = staff.get("/admin/")

        assert b'<a href="/staff/calls/">Live calls</a>' in response.content


@pytest.mark.django_db
class TestCallList:
    def test_it_shows_calls_going_on_first_then_the_ended_ones_newest_first(self, staff, alfa):
        old_ended = a_call(alfa, Call.Status.ENDED, minutes_ago=50)
        failed = a_call(alfa, Call.Status.FAILED, minutes_ago=20, end_reason=Call.EndReason.NO_AGENT)
        active = a_call(alfa, minutes_ago=5)
        dispatched = a_call(alfa, Call.Status.DISPATCHED, minutes_ago=0.1)
        ended = a_call(alfa, Call.Status.ENDED, minutes_ago=3)

        response = staff.get("/staff/calls/")

        assert response.status_code == 200
        assert [c.pk for c in response.context["going"]] == [dispatched.pk, active.pk]
        assert [c.pk for c in response.context["over"]] == [ended.pk, failed.pk, old_ended.pk]
        html = response.content.decode()
        ids = re.findall(r'<tr data-call-id="(\d+)"', html)
        assert ids == [str(c.pk) for c in (dispatched, active, ended, failed, old_ended)]

    def test_a_row_says_restaurant_channel_status_local_start_duration_messages_and_open_questions(self, staff, alfa):
        call = a_call(alfa, Call.Status.ENDED, message_count=7)
        Call.objects.filter(pk=call.pk).update(created_at=T0, duration=125)
        UnansweredQuestion.objects.create(restaurant=alfa, call=call, question="Parking?")
        UnansweredQuestion.objects.create(restaurant=alfa, call=call, question="Terrace?", resolved_at=T0)

        html = staff.get("/staff/calls/").content.decode()

        row = re.search(rf'<tr data-call-id="{call.pk}".*?</tr>', html, re.S)[0]
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
        assert cells == [f"Call {call.pk}", "Trattoria Alfa", "Web", "Ended", "2026-06-09 20:00", "2:05", "7", "1"]
        assert f'href="/staff/calls/{call.pk}/"' in row

    def test_a_phone_call_says_who_called_and_which_number_they_dialled(self, staff, alfa):
        call = a_call(alfa, channel=Call.Channel.PHONE, caller_number="+447700900123", dialled_number="+15105550100")

        row = re.search(rf'<tr data-call-id="{call.pk}".*?</tr>', staff.get("/staff/calls/").content.decode(), re.S)[0]
        page = staff.get(f"/staff/calls/{call.pk}/").content.decode()

        assert '<td data-field="channel">Phone, +44 7700 900123</td>' in row
        assert "<dd>Phone, +44 7700 900123</dd>" in page
        assert "<dt>Number dialled</dt><dd>+1 510-555-0100</dd>" in page

    def test_a_staff_member_sees_only_their_restaurants_calls(self, staff, alfa, beta):
        mine = a_call(alfa)
        a_call(beta)
        a_call(beta, Call.Status.ENDED)

        response = staff.get("/staff/calls/")

        assert [c.pk for c in response.context["going"] + response.context["over"]] == [mine.pk]
        assert b"Beta" not in response.content
        assert response.context["zones"] == {alfa.pk: "Europe/Rome"}

    def test_a_superuser_sees_every_restaurants_calls(self, client, alfa, beta):
        calls = [a_call(alfa, minutes_ago=2), a_call(beta, minutes_ago=1)]
        client.force_login(User.objects.create_superuser("boss"))

        response = client.get("/staff/calls/")

        assert [c.pk for c in response.context["going"]] == [calls[1].pk, calls[0].pk]

    def test_it_shows_the_last_50_calls_that_are_over(self, staff, alfa):
        calls = [a_call(alfa, Call.Status.ENDED, minutes_ago=60 - i) for i in range(52)]

        over = staff.get("/staff/calls/").context["over"]

        assert [c.pk for c in over] == [c.pk for c in reversed(calls[2:])]

    def test_a_call_whose_end_was_never_recorded_is_not_shown_as_going_on(self, staff, alfa, settings):
        a_call(alfa, minutes_ago=settings.CALL_MAX_LIFETIME / 60 + 1)  # its worker died

        response = staff.get("/staff/calls/")

        assert response.context["going"] == [] and response.context["over"] == []
        assert b"No calls going on right now." in response.content


@pytest.mark.django_db
class TestCallPage:
    def test_it_shows_the_transcript_and_tool_calls_interleaved_by_time(self, staff, alfa):
        call = a_call(alfa)
        at = timezone.now()
        CallMessage.objects.create(call=call, role="diner", text="Is the Margherita vegetarian?", created_at=at)
        ToolCall.objects.create(
            call=call, name="find_menu_item", arguments={"name": "Margherita"}, output="Margherita, 9.50 EUR",
            duration_ms=12, created_at=at + dt.timedelta(seconds=1),
        )  # fmt: skip
        ToolCall.objects.create(
            call=call, name="check_open", arguments={}, output="The hours are unknown.", is_error=True,
            created_at=at + dt.timedelta(seconds=2),
        )  # fmt: skip
        CallMessage.objects.create(call=call, role="agent", text="Yes, it is.", created_at=at + dt.timedelta(seconds=3))

        response = staff.get(f"/staff/calls/{call.pk}/")

        assert response.status_code == 200
        record = re.search(r'<ol id="record".*?</ol>', response.content.decode(), re.S)[0]
        entries = re.findall(r"<li [^>]*>(.*?)</li>", record, re.S)
        texts = [" ".join(re.sub(r"<[^>]+>", " ", e).split()[1:]) for e in entries]  # without the time
        assert texts == [
            "Diner Is the Margherita vegetarian?",
            'Tool find_menu_item {&quot;name&quot;:&quot;Margherita&quot;} answered in 12 ms: Margherita, 9.50 EUR',
            "Tool check_open {} failed: The hours are unknown.",
            "Agent Yes, it is.",
        ]
        assert b'id="listen" hidden' not in response.content  # active: staff may listen in

    def test_the_facts_the_agent_answered_from_show_in_order_like_a_tool_call(self, staff, alfa):
        call = a_call(alfa)
        at = timezone.now()
        CallMessage.objects.create(call=call, role="diner", text="Are you open now?", created_at=at)
        TurnFacts.objects.create(call=call, facts=FACTS, created_at=at + dt.timedelta(seconds=1))
        later = at + dt.timedelta(seconds=2)
        CallMessage.objects.create(call=call, role="agent", text="Yes, until 23:00.", created_at=later)

        page = staff.get(f"/staff/calls/{call.pk}/").content.decode()

        record = re.search(r'<ol id="record".*?</ol>', page, re.S)[0]
        entries = re.findall(r"<li [^>]*>(.*?)</li>", record, re.S)
        texts = [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", e)).split()[1:]) for e in entries]
        assert texts == [
            "Diner Are you open now?",
            "Facts given Open now? Open now (Tuesday 2026-06-09, 20:00), until 23:00. Today's hours: Tuesday "
            "2026-06-09: 12:00-14:30 and 19:00-23:00 (local time). Address and phone: Trattoria Alfa is at Via dei "
            "Coronari 12, 00186 Roma, Italy.",
            "Agent Yes, until 23:00.",
        ]
        assert "A new line only when they changed: each held for the answers after it." in page

    def test_with_the_facts_switched_off_the_page_does_not_explain_them(self, staff, alfa, settings):
        settings.AGENT_TURN_FACTS = False

        page = staff.get(f"/staff/calls/{a_call(alfa).pk}/").content.decode()

        assert "Facts given" not in page.split('<template id="message-entry">')[0]

    def test_an_ended_call_offers_no_listening(self, staff, alfa):
        call = a_call(alfa, Call.Status.ENDED)

        response = staff.get(f"/staff/calls/{call.pk}/")

        assert b'id="listen" aria-labelledby="listen-heading" hidden' in response.content
        assert b"Nothing said yet." in response.content

    def test_another_restaurants_call_is_not_found(self, staff, beta):
        call = a_call(beta)

        assert staff.get(f"/staff/calls/{call.pk}/").status_code == 404
        assert staff.get("/staff/calls/987654/").status_code == 404


@pytest.mark.django_db
class TestListen:
    def listen(self, client, call) -> tuple[int, dict]:
        response = client.post(f"/staff/calls/{call.pk}/listen")
        assert response["Content-Type"] == "application/json"
        return response.status_code, response.json()

    def test_it_gives_a_hidden_subscribe_only_token_for_the_calls_room(self, staff, alfa, livekit):
        call = a_call(alfa)

        status, body = self.listen(staff, call)

        assert status == 200
        assert set(body) == {"serverUrl", "participantToken"}
        assert body["serverUrl"] == livekit.ws_url
        claims = jwt.decode(body["participantToken"], API_SECRET, algorithms=["HS256"], issuer=API_KEY)
        assert claims["video"] == {
            "roomJoin": True, "room": call.room_name, "hidden": True,
            "canSubscribe": True, "canPublish": False, "canPublishData": False,
        }  # fmt: skip
        user = User.objects.get(username="alfa-staff")
        assert re.fullmatch(rf"staff-{user.pk}-[0-9a-f]{{12}}", claims["sub"])
        assert claims["exp"] - claims["nbf"] == 5 * 60
        assert TokenVerifier(API_KEY, API_SECRET).verify(body["participantToken"]).identity == claims["sub"]
        assert livekit.requests == []  # a token needs no call to LiveKit

    def test_a_phone_calls_room_can_be_listened_to_as_well(self, staff, alfa, livekit):
        room = "restaurant-%d-call-_+447700900123_ygaafuD4miAA" % alfa.pk  # as LiveKit's SIP dispatch rule names it
        call = a_call(alfa, channel=Call.Channel.PHONE, caller_number="+447700900123")
        Call.objects.filter(pk=call.pk).update(room_name=room)

        status, body = self.listen(staff, call)

        assert status == 200
        assert jwt.decode(body["participantToken"], API_SECRET, algorithms=["HS256"])["video"]["room"] == room

    def test_each_listen_is_a_new_participant(self, staff, alfa, livekit):
        call = a_call(alfa)

        tokens = [self.listen(staff, call)[1]["participantToken"] for _ in range(2)]

        identities = {jwt.decode(t, options={"verify_signature": False})["sub"] for t in tokens}
        assert len(identities) == 2

    @pytest.mark.parametrize("status", [Call.Status.DISPATCHED, Call.Status.ENDED, Call.Status.FAILED])
    def test_only_an_active_call_can_be_listened_to(self, staff, alfa, livekit, status):
        assert self.listen(staff, a_call(alfa, status)) == (
            409, {"error": "This call is not going on, so there is nothing to listen to."}
        )

    def test_a_call_too_old_to_be_real_cannot_be_listened_to(self, staff, alfa, livekit, settings):
        call = a_call(alfa, minutes_ago=settings.CALL_MAX_LIFETIME / 60 + 1)

        assert self.listen(staff, call)[0] == 409

    def test_another_restaurants_call_is_not_found(self, staff, beta, livekit):
        assert self.listen(staff, a_call(beta)) == (404, {"error": "There is no such call."})

    def test_it_says_when_livekit_is_not_set_up(self, staff, alfa, settings):
        settings.LIVEKIT_URL = ""

        status, body = self.listen(staff, a_call(alfa))

        assert status == 503
        assert body == {"error": "Voice calls are not set up: the server needs LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET."}

    def test_it_takes_post_only(self, staff, alfa, livekit):
        assert staff.get(f"/staff/calls/{a_call(alfa).pk}/listen").status_code == 405

    def test_it_needs_the_csrf_token(self, alfa, livekit):
        client = Client(enforce_csrf_checks=True)
        client.force_login(staff_member("careful", alfa))

        assert client.post(f"/staff/calls/{a_call(alfa).pk}/listen").status_code == 403

    def test_a_token_is_only_for_a_maitre_room(self, settings):
        with pytest.raises(ValueError):
            rooms.listener_token(room_name="", identity="staff-1-abc")


# --- The events: one builder per kind, which the writer (dispatch.services) and the feed both call -------------


@pytest.mark.django_db
class TestEvents:
    def test_a_call_event_says_what_the_list_shows_of_a_call(self, alfa):
        call = a_call(
            alfa, Call.Status.ENDED, channel=Call.Channel.PHONE, caller_number="+447700900123",
            end_reason=Call.EndReason.DINER_HUNG_UP, agent_joined_at=T0, message_count=4,
        )  # fmt: skip
        ended = T0 + dt.timedelta(seconds=75)
        Call.objects.filter(pk=call.pk).update(created_at=T0, diner_joined_at=T0, ended_at=ended, duration=75)
        UnansweredQuestion.objects.create(restaurant=alfa, call=call, question="Parking?")
        UnansweredQuestion.objects.create(restaurant=alfa, call=call, question="Terrace?", resolved_at=T0)

        assert call_event(feed.calls_of([alfa.pk]).get()) == {
            "kind": "call",
            "call": {
                "id": call.pk, "restaurant_id": alfa.pk, "restaurant": "Trattoria Alfa",
                "channel": "phone", "caller": "Phone, +44 7700 900123",
                "status": "ended", "status_label": "Ended", "end_reason": "Diner hung up",
                "created_at": "2026-06-09T18:00:00+00:00", "agent_joined_at": "2026-06-09T18:00:00+00:00",
                "diner_joined_at": "2026-06-09T18:00:00+00:00", "ended_at": "2026-06-09T18:01:15+00:00",
                "duration": 75, "message_count": 4, "open_questions": 1,
            },
        }  # fmt: skip

    def test_a_message_event_says_who_said_what_when(self, alfa):
        call = a_call(alfa)
        message = CallMessage.objects.create(call=call, role="diner", text="A table for two?", created_at=T0)

        assert message_event(message) == {
            "kind": "message", "call_id": call.pk,
            "message": {
                "id": message.pk, "role": "diner", "text": "A table for two?",
                "created_at": "2026-06-09T18:00:00+00:00",
            },
        }  # fmt: skip

    def test_a_tool_call_event_says_what_was_asked_what_it_answered_and_how_long_it_took(self, alfa):
        call = a_call(alfa)
        tool = ToolCall.objects.create(
            call=call, name="find_menu_item", arguments={"name": "tiramisù"}, output="No such dish.", is_error=True,
            duration_ms=12, created_at=T0,
        )  # fmt: skip

        assert tool_call_event(tool) == {
            "kind": "tool_call", "call_id": call.pk,
            "tool_call": {
                "id": tool.pk, "name": "find_menu_item", "arguments": {"name": "tiramisù"}, "output": "No such dish.",
                "is_error": True, "duration_ms": 12, "created_at": "2026-06-09T18:00:00+00:00",
            },
        }  # fmt: skip

    def test_a_facts_event_gives_the_facts_in_the_order_the_model_read_them(self, alfa):
        call = a_call(alfa)
        given = TurnFacts.objects.create(call=call, facts=FACTS, created_at=T0)

        assert facts_event(given) == {
            "kind": "facts", "call_id": call.pk,
            "facts": {"id": given.pk, "facts": FACTS, "created_at": "2026-06-09T18:00:00+00:00"},
        }  # fmt: skip

    def test_what_the_services_publish_is_what_the_builders_build(self, alfa, settings):
        """The writer's side: each service publishes its kind's event, to the restaurant's group."""
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
        call = a_call(alfa, Call.Status.DISPATCHED)

        def sent(write) -> dict:
            async def scenario():
                from channels.layers import get_channel_layer

                layer = get_channel_layer()
                channel = await layer.new_channel()
                await layer.group_add(CALLS.group(alfa.pk), channel)
                await sync_to_async(write)()
                return await layer.receive(channel)

            message = run(scenario)
            assert message["restaurant_id"] == alfa.pk
            return message["event"]

        joined = sent(lambda: services.call_diner_joined(room_name=call.room_name, at=T0))
        assert joined == call_event(feed.calls_of([alfa.pk]).get())
        assert joined["call"]["status"] == "active"
        said = sent(lambda: services.call_message_add(room_name=call.room_name, role="agent", text="Ciao!", at=T0))
        tool = sent(lambda: services.call_tool_call_add(
            room_name=call.room_name, name="check_open", arguments={}, output="Open.", is_error=False, duration_ms=3,
            at=T0,
        ))  # fmt: skip
        given = sent(lambda: services.call_facts_add(room_name=call.room_name, facts=FACTS, at=T0))

        assert said == message_event(CallMessage.objects.get(call=call))
        assert tool == tool_call_event(ToolCall.objects.get(call=call))
        assert given == facts_event(TurnFacts.objects.get(call=call))


# --- The websocket ---------------------------------------------------------------------------------------------
# The consumer reads the database from other threads (database_sync_to_async): its tests commit their rows
# (transaction=True), and get the seeded allergens and dietary tags back afterwards (serialized_rollback).
socket_db = pytest.mark.django_db(transaction=True, serialized_rollback=True)
PATH = "/ws/staff/calls/"


@pytest.fixture
def layer(settings):
    """A fresh in-memory channel layer (the embedded default), whatever REDIS_URL says."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@dataclass
class Login:
    """A user, and the session cookie a page of theirs sends with its websocket (none when anonymous)."""

    user: User | None
    cookie: list[tuple[bytes, bytes]]

    @classmethod
    def of(cls, user: User | None) -> Login:
        if user is None:
            return cls(None, [])
        client = Client()
        client.force_login(user)
        name = django_settings.SESSION_COOKIE_NAME
        return cls(user, [(b"cookie", f"{name}={client.cookies[name].value}".encode())])

    def socket(self, path: str = PATH, origin: bytes = b"http://127.0.0.1:8000") -> WebsocketCommunicator:
        """A connection from a page of this site (its Origin), through config.asgi's whole stack."""
        return WebsocketCommunicator(application, path, headers=[(b"origin", origin), *self.cookie])

    def refused(self, path: str = PATH, **origin) -> bool:
        """Whether the server refuses this user's connection to `path` at the handshake."""

        async def attempt() -> bool:
            connected, _ = await self.socket(path, **origin).connect()
            return not connected

        return async_to_sync(attempt)()

    async def opened(self, path: str = PATH) -> tuple[WebsocketCommunicator, list[dict]]:
        """A connection the server accepted, and the events it started with (the snapshot)."""
        communicator = self.socket(path)
        connected, _ = await communicator.connect()
        assert connected
        return communicator, await received(communicator)


def run(scenario):
    """Run an async test body on one event loop (the layer and the communicators share it); returns its result."""
    return async_to_sync(scenario)()


async def received(communicator: WebsocketCommunicator, wait: float = 0.3) -> list[dict]:
    """Everything the consumer sends until it has been quiet for `wait` seconds."""
    events = []
    while not await communicator.receive_nothing(timeout=wait):
        events.append(await communicator.receive_json_from())
    return events


def published(restaurant_id: int, event: dict):
    return sync_to_async(CALLS.publish)(restaurant_id, event)


@pytest.fixture
def alfa_staff(alfa) -> Login:
    return Login.of(staff_member("alfa-staff", alfa))


@socket_db
class TestConsumerAccess:
    def test_it_refuses_anonymous_users(self, layer):
        assert Login.of(None).refused()

    def test_it_refuses_users_without_staff_status_even_of_a_restaurant(self, alfa, layer):
        user = User.objects.create_user("diner")
        alfa.staff.add(user)

        assert Login.of(user).refused()

    def test_it_refuses_a_staff_member_whose_account_was_deactivated(self, alfa_staff, layer):
        User.objects.filter(pk=alfa_staff.user.pk).update(is_active=False)  # after logging in

        assert alfa_staff.refused()

    def test_it_refuses_a_page_of_another_site(self, alfa_staff, layer):
        assert alfa_staff.refused(origin=b"https://evil.example")
        assert not alfa_staff.refused()

    @pytest.mark.parametrize("query", ["call=abc", "call=0", "call=1&call=2", "call=99999999999999999999"])
    def test_it_refuses_a_malformed_call(self, alfa_staff, layer, query):
        assert alfa_staff.refused(f"{PATH}?{query}")

    def test_it_refuses_to_follow_another_restaurants_call(self, alfa_staff, beta, layer):
        assert alfa_staff.refused(f"{PATH}?call={a_call(beta).pk}")

    def test_any_other_path_is_refused(self, alfa_staff, layer):
        assert alfa_staff.refused("/ws/elsewhere/")

    def test_it_closes_on_anything_the_browser_sends(self, alfa_staff, layer):
        async def scenario():
            communicator, _ = await alfa_staff.opened()
            await communicator.send_json_to({"follow": 1})
            return await communicator.receive_output(timeout=1)

        assert run(scenario) == {"type": "websocket.close", "code": 4400}


@socket_db
class TestConsumerEvents:
    def test_it_starts_with_the_calls_the_list_shows(self, alfa_staff, beta, layer):
        alfa = alfa_staff.user.restaurants.get()
        going, ended = a_call(alfa, minutes_ago=1), a_call(alfa, Call.Status.ENDED, minutes_ago=5)
        a_call(beta)

        async def scenario():
            communicator, events = await alfa_staff.opened()
            await communicator.disconnect()
            return events

        events = run(scenario)
        calls = feed.calls_of([alfa.pk])
        assert events == [call_event(calls.get(pk=pk)) for pk in (going.pk, ended.pk)]

    def test_staff_get_their_restaurants_events_and_no_one_elses(self, alfa_staff, beta, layer):
        alfa = alfa_staff.user.restaurants.get()
        mine, theirs = a_call(alfa), a_call(beta)
        message = CallMessage.objects.create(call=mine, role="diner", text="A table for two?", created_at=T0)
        event = message_event(message)

        async def scenario():
            communicator, _ = await alfa_staff.opened()
            await published(beta.pk, {"kind": "message", "call_id": theirs.pk, "message": {"id": 1}})
            await published(alfa.pk, event)
            assert await communicator.receive_json_from(timeout=1) == {
                "kind": "message", "call_id": mine.pk,
                "message": {"id": message.pk, "role": "diner", "text": "A table for two?", "created_at": "2026-06-09T18:00:00+00:00"},
            }  # fmt: skip
            assert await communicator.receive_nothing(timeout=0.3)
            await communicator.disconnect()

        run(scenario)

    def test_an_event_about_another_restaurant_is_not_relayed_even_in_its_group(self, alfa_staff, beta, layer):
        alfa = alfa_staff.user.restaurants.get()
        theirs = a_call(beta)
        payload = call_event(feed.calls_of([beta.pk]).get())["call"]

        async def scenario():
            from channels.layers import get_channel_layer

            communicator, _ = await alfa_staff.opened()
            # A publishing bug: Beta's call sent to Alfa's group.
            wrong = {"type": "live.event", "restaurant_id": alfa.pk, "event": {"kind": "call", "call": payload}}
            await get_channel_layer().group_send(CALLS.group(alfa.pk), wrong)
            assert await communicator.receive_nothing(timeout=0.3)
            await communicator.disconnect()

        run(scenario)
        assert payload["id"] == theirs.pk

    def test_a_call_page_gets_that_calls_record_and_events_only(self, alfa_staff, layer):
        alfa = alfa_staff.user.restaurants.get()
        call, other = a_call(alfa), a_call(alfa)
        said = CallMessage.objects.create(call=call, role="agent", text="Buonasera!", created_at=T0)
        tool = ToolCall.objects.create(call=call, name="check_open", arguments={}, output="Open now.", created_at=T0)
        given = TurnFacts.objects.create(call=call, facts=FACTS, created_at=T0)

        async def scenario():
            communicator, snapshot = await alfa_staff.opened(f"{PATH}?call={call.pk}")
            await published(alfa.pk, {"kind": "message", "call_id": other.pk, "message": {"id": 99}})
            await published(alfa.pk, {"kind": "tool_call", "call_id": call.pk, "tool_call": {"id": 98}})
            later = await received(communicator)
            await communicator.disconnect()
            return snapshot, later

        snapshot, later = run(scenario)
        assert snapshot == [
            message_event(said),
            tool_call_event(tool),
            facts_event(given),
            call_event(feed.calls_of([alfa.pk]).get(pk=call.pk)),
        ]
        assert later == [{"kind": "tool_call", "call_id": call.pk, "tool_call": {"id": 98}}]


@socket_db
class TestPolling:
    """With the in-memory layer the worker's events stay in its own process: the consumer reads its rows."""

    def test_a_call_written_by_another_process_shows_within_a_second(self, alfa_staff, layer):
        alfa = alfa_staff.user.restaurants.get()

        async def scenario():
            communicator, snapshot = await alfa_staff.opened()
            assert snapshot == []
            # The worker's writes, straight to the database: nothing is published in this process.
            call = await sync_to_async(a_call)(alfa, Call.Status.DISPATCHED, minutes_ago=0)
            first = await communicator.receive_json_from(timeout=1)
            await Call.objects.filter(pk=call.pk).aupdate(status=Call.Status.ACTIVE, diner_joined_at=timezone.now())
            second = await communicator.receive_json_from(timeout=1)
            await Call.objects.filter(pk=call.pk).aupdate(message_count=1)
            third = await communicator.receive_json_from(timeout=1)
            await Call.objects.filter(pk=call.pk).aupdate(
                status=Call.Status.ENDED, ended_at=timezone.now(), end_reason=Call.EndReason.DINER_HUNG_UP, duration=3
            )  # fmt: skip
            fourth = await communicator.receive_json_from(timeout=1)
            quiet = await received(communicator, wait=1.2)  # nothing is sent twice
            await communicator.disconnect()
            return call, [first, second, third, fourth], quiet

        call, events, quiet = run(scenario)
        assert [e["kind"] for e in events] == ["call"] * 4
        assert [e["call"]["id"] for e in events] == [call.pk] * 4
        assert [(e["call"]["status"], e["call"]["message_count"]) for e in events] == [
            ("dispatched", 0), ("active", 0), ("active", 1), ("ended", 1),
        ]  # fmt: skip
        assert events[-1] == call_event(feed.calls_of([alfa.pk]).get())
        assert quiet == []

    def test_a_call_page_gets_new_messages_tool_calls_and_facts_from_the_database(self, alfa_staff, layer):
        alfa = alfa_staff.user.restaurants.get()
        call = a_call(alfa)

        async def scenario():
            communicator, _ = await alfa_staff.opened(f"{PATH}?call={call.pk}")
            message = await CallMessage.objects.acreate(call=call, role="diner", text="Parking?", created_at=T0)
            tool = await ToolCall.objects.acreate(call=call, name="get_address", output="Via...", created_at=T0)
            given = await TurnFacts.objects.acreate(call=call, facts=FACTS, created_at=T0)
            events = [await communicator.receive_json_from(timeout=1) for _ in range(3)]
            assert await received(communicator, wait=1.2) == []
            await communicator.disconnect()
            return message, tool, given, events

        message, tool, given, events = run(scenario)
        assert events == [
            message_event(message),
            tool_call_event(tool),
            facts_event(given),
        ]

    def test_facts_the_worker_records_reach_the_call_page_and_unchanged_ones_add_nothing(self, alfa_staff, layer):
        """Published by the service the worker calls (in this process, so the in-memory layer carries it) and
        read from the database too; facts the same as the last add no row and no event."""
        alfa = alfa_staff.user.restaurants.get()
        call = a_call(alfa)
        add = sync_to_async(services.call_facts_add)

        async def scenario():
            communicator, _ = await alfa_staff.opened(f"{PATH}?call={call.pk}")
            await add(room_name=call.room_name, facts=FACTS, at=T0)
            first = await received(communicator, wait=1.2)
            await add(room_name=call.room_name, facts=FACTS, at=T0 + dt.timedelta(seconds=5))
            again = await received(communicator, wait=1.2)
            await communicator.disconnect()
            return first, again

        first, again = run(scenario)
        [given] = TurnFacts.objects.filter(call=call)
        payload = {"id": given.pk, "facts": FACTS, "created_at": "2026-06-09T18:00:00+00:00"}
        # The published event, then the same row read by the poll: the page's script adds it once (by its id).
        assert first[0] == {"kind": "facts", "call_id": call.pk, "facts": payload}
        assert all(event == first[0] for event in first)
        assert again == []

    def test_another_restaurants_rows_are_not_sent(self, alfa_staff, beta, layer):
        async def scenario():
            communicator, _ = await alfa_staff.opened()
            await sync_to_async(a_call)(beta)
            assert await received(communicator, wait=1.2) == []
            await communicator.disconnect()

        run(scenario)


# --- channels-redis -------------------------------------------------------------------------------------------
REDIS_URL = "redis://127.0.0.1:6379/14"


@socket_db
@pytest.mark.skipif(not redis_answers(), reason="needs a Redis server answering on 127.0.0.1:6379 (the CI's)")
def test_with_redis_an_event_published_anywhere_reaches_staff_and_nothing_is_polled(alfa_staff, settings):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": f"maitre-test-{uuid.uuid4().hex}"},
        }
    }
    alfa = alfa_staff.user.restaurants.get()
    call = a_call(alfa, Call.Status.DISPATCHED)
    payload = call_event(feed.calls_of([alfa.pk]).get())["call"]

    async def scenario():
        from channels.layers import get_channel_layer

        communicator, snapshot = await alfa_staff.opened()
        assert snapshot == [{"kind": "call", "call": payload}]
        # A row written without publishing is not read: with Redis there is no polling.
        await Call.objects.filter(pk=call.pk).aupdate(message_count=5)
        assert await received(communicator, wait=1.2) == []
        await published(alfa.pk, {"kind": "call", "call": {**payload, "status": "active"}})
        event = await communicator.receive_json_from(timeout=2)
        await communicator.disconnect()
        await get_channel_layer().flush()
        return event

    assert run(scenario) == {"kind": "call", "call": {**payload, "status": "active"}}


def test_the_duration_filter():
    from dispatch.templatetags.staff_calls import duration

    assert [duration(s) for s in (None, 0, 5, 125, 3723)] == ["–", "0:00", "0:05", "2:05", "1:02:03"]
