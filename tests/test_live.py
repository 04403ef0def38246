"""Against the real outside world: a LiveKit server (LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET) and a
model (OPENAI_API_KEY, optionally OPENAI_BASE_URL). Skipped, with the reason, unless those are set."""

from __future__ import annotations

import asyncio
import json
import os
import uuid

import pytest
from asgiref.sync import async_to_sync

from tests.worker_process import Worker, worker_env

LIVEKIT_VARS = ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")

needs_livekit = pytest.mark.skipif(
    not all(os.environ.get(n) for n in LIVEKIT_VARS),
    reason="needs a real LiveKit server: set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET",
)
needs_model = pytest.mark.skipif(
    not os.environ.get("OPENAI_API_KEY"),
    reason="needs a model key: set OPENAI_API_KEY (and OPENAI_BASE_URL for another OpenAI-compatible server)",
)
pytestmark = pytest.mark.live


def post_connection_details(client, restaurant) -> dict:
    response = client.post(
        "/api/connection-details", data={"restaurant_id": restaurant.pk}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return response.json()


@needs_livekit
@pytest.mark.django_db
def test_the_real_server_records_our_dispatch(client, restaurant, settings):
    from livekit import api

    settings.LIVEKIT_AGENT_NAME = f"maitre-live-{uuid.uuid4().hex[:8]}"  # no worker: the dispatch just waits
    body = post_connection_details(client, restaurant)

    async def inspect():
        lkapi = api.LiveKitAPI(settings.LIVEKIT_URL, settings.LIVEKIT_API_KEY, settings.LIVEKIT_API_SECRET)
        try:
            dispatches = await lkapi.agent_dispatch.list_dispatch(room_name=body["roomName"])
            rooms = await lkapi.room.list_rooms(api.ListRoomsRequest(names=[body["roomName"]]))
            await lkapi.room.delete_room(api.DeleteRoomRequest(room=body["roomName"]))
            return dispatches, rooms.rooms
        finally:
            await lkapi.aclose()

    dispatches, [room] = async_to_sync(inspect)()
    # Made by our CreateRoom with short timeouts, not by the dispatch with LiveKit's 300 s / 20 s.
    assert (room.empty_timeout, room.departure_timeout) == (
        settings.LIVEKIT_ROOM_EMPTY_TIMEOUT, settings.LIVEKIT_ROOM_DEPARTURE_TIMEOUT,
    )  # fmt: skip
    # The server adds a dispatch with an empty agent_name to every room it creates: find ours.
    ours = [d for d in dispatches if d.agent_name == settings.LIVEKIT_AGENT_NAME]
    assert len(ours) == 1
    assert json.loads(ours[0].metadata) == {"restaurant_id": restaurant.pk}


@needs_livekit
@needs_model
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # committed rows; the seeded tags come back
def test_a_diner_types_a_question_and_hears_the_address(client, restaurant, settings, tmp_path):
    """The whole path: endpoint -> dispatch -> runagent worker -> room -> lk.chat -> tool -> lk.transcription."""
    from livekit import rtc

    agent_name = f"maitre-live-{uuid.uuid4().hex[:8]}"
    settings.LIVEKIT_AGENT_NAME = agent_name
    real = {n: os.environ[n] for n in (*LIVEKIT_VARS, "OPENAI_API_KEY")}
    worker = Worker(worker_env(**real, LIVEKIT_AGENT_NAME=agent_name), tmp_path / "worker.log")
    try:
        worker.wait_records("registered worker", timeout=60)
        body = post_connection_details(client, restaurant)

        async def talk() -> list[str]:
            room = rtc.Room()
            heard: list[str] = []
            got_address = asyncio.Event()
            tasks = set()

            def on_text(reader, identity):
                async def read():
                    text = await reader.read_all()
                    if identity != room.local_participant.identity:
                        heard.append(text)
                        if "Coronari" in text:
                            got_address.set()

                task = asyncio.ensure_future(read())
                tasks.add(task)

            room.register_text_stream_handler("lk.transcription", on_text)
            await room.connect(body["serverUrl"], body["participantToken"])
            try:
                for _ in range(200):  # the agent joins within 20 s
                    if any(p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT for p in room.remote_participants.values()):
                        break
                    await asyncio.sleep(0.1)
                else:
                    raise AssertionError("the agent did not join within 20 s")
                await asyncio.sleep(1)
                await room.local_participant.send_text("What is your street address?", topic="lk.chat")
                await asyncio.wait_for(got_address.wait(), timeout=45)
                return heard
            finally:
                await room.disconnect()

        heard = async_to_sync(talk)()
        assert any("Coronari" in text for text in heard), heard
    finally:
        worker.stop()


@needs_model
@pytest.mark.django_db
def test_a_real_model_answers_the_address_from_the_turns_facts_and_a_price_from_the_menu_tool(restaurant, settings):
    """The design (AGENT_TURN_FACTS): each model request carries open-now, the hours and the address, so the
    address needs no tool round trip; a dish's price is not among those facts and comes from find_menu_item."""
    from livekit.agents import AgentSession
    from livekit.plugins import openai

    from agent_worker.agent import RestaurantAgent
    from agent_worker.lookups import load_profile

    profile = load_profile(restaurant.pk)

    async def main():
        model = openai.LLM(model=settings.AGENT_LLM_MODEL, base_url=settings.OPENAI_BASE_URL or None)
        async with model, AgentSession(llm=model) as session:
            await session.start(RestaurantAgent(profile))
            address = await session.run(user_input="Where exactly are you? What's the street address?")
            price = await session.run(user_input="How much is the margherita pizza?")
            return address, price

    settings.AGENT_TURN_FACTS = True
    address, price = async_to_sync(main)()
    called = [e.item.name for e in address.events if e.type == "function_call"]
    assert called == [], f"the address is in the turn's facts, yet the model called {called}"
    assert "Coronari" in address.expect.contains_message(role="assistant").event().item.text_content
    price.expect.contains_function_call(name="find_menu_item")
    reply = price.expect.contains_message(role="assistant").event().item.text_content
    assert "9.50" in reply or "9,50" in reply or "nine" in reply.lower()


@needs_livekit
@pytest.mark.django_db
def test_sync_sip_on_the_demo_data_creates_the_trunk_and_rules_then_changes_nothing(settings):
    """On a real server with Redis (else skipped): the demo's two lines give one trunk and two rules; a second
    run changes nothing; with the lines gone, a last run takes maitre's trunk and rules away again."""
    from io import StringIO

    from django.core.management import call_command

    from dispatch.livekit import sip
    from restaurants.models import PhoneLine

    try:
        async_to_sync(sip.list_sip_inbound_trunks)()
    except sip.SipNotConnected as exc:
        pytest.skip(f"the LiveKit server at LIVEKIT_URL has no SIP: {exc}")
    call_command("load_demo", stdout=StringIO())

    def sync() -> str:
        out = StringIO()
        call_command("sync_sip", stdout=out)
        return out.getvalue()

    try:
        first = sync()
        assert "create trunk maitre for +15105550100, +442079460018" in first
        assert first.count("create rule for") == 2
        assert sync().strip() == "nothing to change"
        call_command("sync_sip", "--check", stdout=StringIO())  # in sync: no SystemExit
    finally:
        PhoneLine.objects.all().delete()
        last = sync()
    assert "delete trunk" in last and last.count("delete rule") == 2
