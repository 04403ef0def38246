"""The job entrypoint under LiveKit's fake_job_context: good metadata starts the restaurant's agent, bad
metadata ends the job with one log line."""

from __future__ import annotations

import asyncio
import logging

import pytest
from asgiref.sync import async_to_sync
from livekit.agents.testing import fake_job_context

from agent_worker import worker
from agent_worker.agent import RestaurantAgent
from tests.fakes.llm import ScriptedLLM

pytestmark = pytest.mark.django_db


def run_job(metadata: str, *, settle: float = 0.2, deleted_rooms: list | None = None):
    """Run the entrypoint for a job with `metadata`, text only (no STT/TTS), then close its session the way
    a diner's hang-up does. Returns (session, history, shutdown reasons); rooms the job asked LiveKit to
    delete go to `deleted_rooms`."""
    reasons: list[str] = []

    async def main():
        with fake_job_context(job_id="AJ_test", job_metadata=metadata) as ctx:
            ctx._on_shutdown = reasons.append
            ctx.proc.userdata["llm"] = ScriptedLLM()
            await worker.entrypoint(ctx)
            await asyncio.sleep(settle)  # let the greeting play out
            session = ctx._primary_agent_session
            history = [m.text_content for m in session.history.messages()] if session else []
            if session:
                ctx.delete_room = lambda room_name=None: _record(deleted_rooms, room_name)
                await session.aclose()
            return ctx, session, history

    ctx, session, history = async_to_sync(main)()
    return session, history, reasons


def _record(rooms: list | None, room_name: str) -> asyncio.Future:
    if rooms is not None:
        rooms.append(room_name)
    done = asyncio.get_running_loop().create_future()
    done.set_result(None)
    return done


def test_good_metadata_starts_the_restaurants_agent_and_greets(restaurant):
    session, history, reasons = run_job(f'{{"restaurant_id": {restaurant.pk}}}')

    assert isinstance(session.current_agent, RestaurantAgent)
    assert session.current_agent.profile.id == restaurant.pk
    assert history == ["Welcome to Trattoria Test. How can I help you?"]
    assert reasons == []


def test_the_calls_room_is_deleted_when_its_session_closes(restaurant):
    deleted: list[str] = []

    run_job(f'{{"restaurant_id": {restaurant.pk}}}', deleted_rooms=deleted)

    assert len(deleted) == 1  # the session's own room (the fake job's room has no name to compare)


def test_the_restaurants_own_greeting_is_spoken(restaurant):
    restaurant.greeting = "Buonasera! Trattoria Test, come posso aiutarla?"
    restaurant.save()

    _, history, _ = run_job(f'{{"restaurant_id": {restaurant.pk}}}')

    assert history == ["Buonasera! Trattoria Test, come posso aiutarla?"]


@pytest.mark.parametrize(
    "metadata,reason",
    [
        ("", "job metadata is empty"),
        ("restaurant 3", "job metadata is not JSON"),
        ('["restaurant_id", 3]', "job metadata is a JSON list, not an object"),
        ('{"restaurant_id": "3"}', "restaurant_id is not a positive integer"),
        ('{"restaurant_id": 999999}', "no active restaurant with that id"),
    ],
)
def test_bad_metadata_ends_the_job_with_one_log_line(restaurant, caplog, metadata, reason):
    with caplog.at_level(logging.INFO, logger="maitre.agent"):
        session, _, reasons = run_job(metadata, settle=0)

    assert session is None
    assert reasons == [reason]
    [record] = [r for r in caplog.records if r.name == "maitre.agent"]
    assert record.levelno == logging.ERROR
    assert record.getMessage() == f"job AJ_test ended: {reason} (metadata {metadata!r})"
    assert record.exc_info is None  # one line, no traceback


def test_an_inactive_restaurant_gets_no_agent(restaurant, caplog):
    restaurant.is_active = False
    restaurant.save()

    session, _, reasons = run_job(f'{{"restaurant_id": {restaurant.pk}}}', settle=0)

    assert session is None
    assert reasons == ["no active restaurant with that id"]


def test_long_metadata_is_truncated_in_the_log(caplog):
    with caplog.at_level(logging.INFO, logger="maitre.agent"):
        run_job("x" * 10_000, settle=0)

    assert len(caplog.records[-1].getMessage()) < 250


def test_console_mode_uses_the_restaurant_runagent_was_given(restaurant, monkeypatch):
    monkeypatch.setenv(worker.CONSOLE_METADATA_ENV, f'{{"restaurant_id": {restaurant.pk}}}')

    session, history, _ = run_job("")  # the console's fake job carries no metadata

    assert session.current_agent.profile.id == restaurant.pk
