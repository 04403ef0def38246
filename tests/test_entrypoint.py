"""The job entrypoint under LiveKit's fake_job_context: good metadata starts the restaurant's agent, which
greets the diner once they are in the room; bad metadata ends the job with one log line; a diner who never
comes ends the job without a word. The call's record follows."""

from __future__ import annotations

import asyncio
import logging

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone
from livekit import rtc
from livekit.rtc._proto import participant_pb2

from agent_worker import worker
from agent_worker.agent import RestaurantAgent
from agent_worker.db import run_orm
from dispatch.models import Call
from tests.fakes.jobs import job_context
from tests.fakes.llm import ScriptedLLM

pytestmark = pytest.mark.django_db

ROOM = "restaurant-1-0123456789abcdef0123456789abcdef"


def participant(identity: str, kind=rtc.ParticipantKind.PARTICIPANT_KIND_STANDARD) -> rtc.RemoteParticipant:
    """A remote participant as LiveKit's room hands one to the agent (info only, no native handle)."""
    info = participant_pb2.ParticipantInfo(sid=f"PA_{identity}", identity=identity, name=identity, kind=kind)
    return rtc.RemoteParticipant(participant_pb2.OwnedParticipant(info=info))


def diner_joins(room: rtc.Room, identity: str = "diner-1") -> None:
    """What rtc.Room does when a participant joins: add it to the room, then emit participant_connected.

    (RoomIO's own listener logs an error for a join after the session started: the fake job's room is not
    connected, so it has no local participant to compare with. The agent's code under test is unaffected.)
    """
    p = participant(identity)
    room._remote_participants[identity] = p
    room.emit("participant_connected", p)


def run_job(metadata: str, *, settle: float = 0.2, deleted_rooms: list | None = None, diner_after: float | None = 0,
            room: str = ROOM, hang_up: bool = True, meanwhile=None):  # fmt: skip
    """Run the entrypoint for a job with `metadata` in `room`, text only (no STT/TTS); the diner joins
    `diner_after` seconds after the job starts (0: already there; None: never). Then, unless `hang_up` is
    False, close its session the way a diner's hang-up does; last, end the job the way LiveKit's job
    executor does once the room is gone (shutdown callbacks). `meanwhile`, an async function, runs beside the
    job from its start. Returns (session, history, shutdown reasons); rooms the job asked LiveKit to delete go
    to `deleted_rooms`."""
    reasons: list[str] = []

    async def main():
        beside = asyncio.create_task(meanwhile()) if meanwhile else None
        with job_context(job_id="AJ_test", metadata=metadata, room_name=room) as ctx:
            ctx._on_shutdown = reasons.append
            ctx.proc.userdata["llm"] = ScriptedLLM()
            ctx.delete_room = lambda room_name=None: _record(deleted_rooms, room_name)
            if diner_after == 0:
                diner_joins(ctx.room)
            elif diner_after is not None:
                asyncio.get_running_loop().call_later(diner_after, diner_joins, ctx.room)
            await worker.entrypoint(ctx)
            await asyncio.sleep(settle)  # let the greeting play out
            session = ctx._primary_agent_session
            history = [m.text_content for m in session.history.messages()] if session else []
            if session and hang_up:
                # What RoomIO does when the linked participant leaves (room_io.py, close_on_disconnect).
                closed = asyncio.Event()
                session.on("close", lambda _event: closed.set())
                session._close_soon(reason=worker.CloseReason.PARTICIPANT_DISCONNECTED)
                await closed.wait()
            for callback in ctx._shutdown_callbacks:  # the room is gone: LiveKit's executor ends the job
                await callback("room deleted")
            if beside:
                await beside
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

    assert deleted == [ROOM]


def test_a_diner_who_joins_after_the_agent_is_greeted_then(restaurant):
    session, history, reasons = run_job(f'{{"restaurant_id": {restaurant.pk}}}', diner_after=0.3)

    assert history == ["Welcome to Trattoria Test. How can I help you?"]
    assert reasons == []


def test_a_diner_who_never_comes_ends_the_job_without_a_word(restaurant, settings, caplog):
    settings.AGENT_NO_SHOW_TIMEOUT = 0.3
    deleted: list[str] = []

    with caplog.at_level(logging.INFO, logger="maitre.agent"):
        session, history, _ = run_job(f'{{"restaurant_id": {restaurant.pk}}}', diner_after=None,
                                      deleted_rooms=deleted, hang_up=False)  # fmt: skip

    assert history == []  # no greeting: no text-to-speech spent on nobody
    assert deleted == [ROOM]  # the room goes, and with it the job: the worker's slot is free
    assert f"job AJ_test: no diner joined room {ROOM} within 0.3 s; ending" in caplog.messages


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


class TestTheCallsRecord:
    """The worker writes the course of the call to the row the web side made for its room."""

    @pytest.fixture
    def call(self, restaurant) -> Call:
        return Call.objects.create(restaurant=restaurant, room_name=ROOM, dispatch_id="AD_1", participant_identity="diner-1")

    def test_a_call_the_diner_hangs_up_is_ended_with_its_times(self, restaurant, call):
        before = timezone.now()

        run_job(f'{{"restaurant_id": {restaurant.pk}}}', diner_after=0.2, settle=0.3)

        call.refresh_from_db()
        assert (call.status, call.end_reason) == (Call.Status.ENDED, Call.EndReason.DINER_HUNG_UP)
        assert before <= call.agent_joined_at < call.diner_joined_at <= call.ended_at <= timezone.now()
        assert call.duration == round((call.ended_at - call.diner_joined_at).total_seconds())

    def test_a_call_nobody_came_to_is_failed(self, restaurant, call, settings):
        settings.AGENT_NO_SHOW_TIMEOUT = 0.2

        run_job(f'{{"restaurant_id": {restaurant.pk}}}', diner_after=None, hang_up=False)

        call.refresh_from_db()
        assert (call.status, call.end_reason) == (Call.Status.FAILED, Call.EndReason.NO_DINER)
        assert call.agent_joined_at is not None and call.diner_joined_at is None and call.duration is None

    def test_a_call_that_reaches_the_time_limit_is_ended_with_a_goodbye(self, restaurant, call, settings):
        settings.AGENT_MAX_CALL_DURATION = 0.3
        deleted: list[str] = []

        _, history, _ = run_job(f'{{"restaurant_id": {restaurant.pk}}}', settle=0.6, hang_up=False,
                                deleted_rooms=deleted)  # fmt: skip

        assert history == ["Welcome to Trattoria Test. How can I help you?", worker.TIME_LIMIT_GOODBYE]
        assert deleted == [ROOM]
        call.refresh_from_db()
        assert (call.status, call.end_reason) == (Call.Status.ENDED, Call.EndReason.TIME_LIMIT)



@pytest.mark.django_db(transaction=True, serialized_rollback=True)
class TestTheDatabaseAway:
    """The database refuses every write for a while (its calls table is renamed away from another connection,
    as a restarting server refuses them): the call goes on, and what happened meanwhile is written once the
    database is back, in order."""

    @pytest.fixture
    def call(self, restaurant) -> Call:
        return Call.objects.create(restaurant=restaurant, room_name=ROOM, dispatch_id="AD_1", participant_identity="diner-1")

    @staticmethod
    def rename(old: str, new: str) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {old} RENAME TO {new}")

    def away_for(self, seconds: float):
        table = Call._meta.db_table
        self.rename(table, "calls_away")

        async def come_back() -> None:
            await asyncio.sleep(seconds)
            await run_orm(self.rename, "calls_away", table)

        return come_back

    def test_the_records_wait_and_are_written_when_it_is_back(self, restaurant, call, caplog):
        with caplog.at_level(logging.INFO, logger="maitre.agent"):
            _, history, reasons = run_job(f'{{"restaurant_id": {restaurant.pk}}}', settle=0.3, meanwhile=self.away_for(1.5))

        assert history == ["Welcome to Trattoria Test. How can I help you?"]  # the greeting did not wait
        assert reasons == []
        call.refresh_from_db()
        assert (call.status, call.end_reason) == (Call.Status.ENDED, Call.EndReason.DINER_HUNG_UP)
        assert call.agent_joined_at < call.diner_joined_at <= call.ended_at
        assert [m.text for m in call.messages.all()] == ["Welcome to Trattoria Test. How can I help you?"]
        said = [r.getMessage() for r in caplog.records if r.name == "maitre.agent" and r.levelno >= logging.INFO]
        assert any("the database refused call_agent_joined" in m and "trying again" in m for m in said)
        assert any("call_agent_joined recorded after the database came back" in m for m in said)
        assert not [r for r in caplog.records if r.name == "maitre.agent" and r.exc_info]  # lines, no traceback

    def test_a_database_that_stays_away_loses_the_records_with_one_line_not_the_call(
        self, restaurant, call, settings, caplog
    ):
        settings.AGENT_RECORD_DRAIN_TIMEOUT = 0.5
        self.rename(Call._meta.db_table, "calls_away")
        try:
            with caplog.at_level(logging.WARNING, logger="maitre.agent"):
                _, history, reasons = run_job(f'{{"restaurant_id": {restaurant.pk}}}')
        finally:
            self.rename("calls_away", Call._meta.db_table)

        assert history == ["Welcome to Trattoria Test. How can I help you?"]
        assert reasons == []
        [error] = [r for r in caplog.records if r.name == "maitre.agent" and r.levelno >= logging.ERROR]
        assert error.getMessage().startswith(f"call in {ROOM}: ")
        assert "records not written: the database did not answer within 0.5 s" in error.getMessage()
        assert error.exc_info is None
