"""A phone call, as the worker sees it: a job from a SIP dispatch rule (channel "phone"), the caller a SIP
participant replayed from a real call (tests/fakes/sip.py), the model scripted (tests/fakes/llm.py) and
LiveKit's SIP API the Twirp contract fake (transfers). The caller hears the greeting once the line is
answered, can be put through to the staff or say goodbye, and the call's record says who called."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from asgiref.sync import async_to_sync

from agent_worker import worker
from agent_worker.agent import PUTTING_THROUGH, PhoneAgent, RestaurantAgent
from dispatch.models import Call
from restaurants.models import PhoneLine
from tests.fakes import sip
from tests.fakes.jobs import job_context
from tests.fakes.llm import Rule, ScriptedLLM
from tests.test_entrypoint import run_job

pytestmark = pytest.mark.django_db

TRANSFER_NUMBER = "+15105550199"


@pytest.fixture
def line(restaurant) -> PhoneLine:
    """Trattoria Test answers +1 510 555 0100, the number dialled in the captured call; staff at +1 510 555 0199."""
    return PhoneLine.objects.create(restaurant=restaurant, number=sip.DIALLED_NUMBER, transfer_number=TRANSFER_NUMBER)


class PhoneJob:
    """What a phone job did: its session, what was said, the rooms it deleted, its shutdown reasons, the
    model's requests, and when the line was answered (time.time())."""

    def __init__(self) -> None:
        self.session = None
        self.history: list[str] = []
        self.deleted_rooms: list[str] = []
        self.reasons: list[str] = []
        self.llm = None
        self.answered_at: float | None = None


def run_phone_job(restaurant, *, rules=(), answer_after: float | None = 0.1, during=None, hang_up=True,
                  **attributes) -> PhoneJob:  # fmt: skip
    """Run the entrypoint for a phone job of `restaurant`, text only, with the captured caller (its
    attributes overridden by `attributes`) in the room, ringing; the bridge answers `answer_after` seconds
    after the job starts (None: never). `during(ctx, session)` runs once the greeting is out; then, if
    `hang_up`, the caller hangs up; last the job ends as LiveKit's executor ends it (shutdown callbacks)."""
    job = PhoneJob()
    metadata = json.dumps({"restaurant_id": restaurant.pk, "channel": "phone"})

    def answer(room) -> None:
        job.answered_at = time.time()
        sip.call_status(room, "active")

    async def main():
        room_name = sip.phone_room_name(restaurant.pk)
        with job_context(job_id="AJ_phone", metadata=metadata, room_name=room_name) as ctx, sip.agent_in(ctx.room, "agent-AJ_phone"):
            ctx.job.dispatch_id = sip.DISPATCH_ID
            ctx._on_shutdown = job.reasons.append
            ctx.proc.userdata["llm"] = job.llm = ScriptedLLM(*rules)
            ctx.delete_room = lambda room_name=None: _deleted(job, room_name or ctx.job.room.name)
            sip.caller_joins(ctx.room, **attributes)
            if answer_after is not None:
                asyncio.get_running_loop().call_later(answer_after, answer, ctx.room)
            await worker.entrypoint(ctx)
            await asyncio.sleep(0.2)  # let the greeting play out
            job.session = session = ctx._primary_agent_session
            if session and during:
                await during(ctx, session)
            if session and hang_up and sip.CALLER_IDENTITY in ctx.room.remote_participants:
                closed = asyncio.Event()
                session.on("close", lambda _event: closed.set())
                sip.caller_hangs_up(ctx.room)
                await asyncio.wait_for(closed.wait(), 5)
            if session:
                job.history = [m.text_content for m in session.history.messages()]
            for callback in ctx._shutdown_callbacks:  # the room is gone: LiveKit's executor ends the job
                await callback("room deleted")

    async_to_sync(main)()
    return job


def _deleted(job: PhoneJob, room_name: str) -> asyncio.Future:
    job.deleted_rooms.append(room_name)
    done = asyncio.get_running_loop().create_future()
    done.set_result(None)
    return done


def test_the_caller_hears_the_greeting_once_the_line_is_answered(restaurant, line):
    job = run_phone_job(restaurant, answer_after=0.3)

    assert isinstance(job.session.current_agent, PhoneAgent)
    greeting = job.session.history.messages()[0]
    assert greeting.text_content == "Welcome to Trattoria Test. How can I help you?"
    assert greeting.created_at >= job.answered_at  # not into a line still ringing


def test_a_line_never_answered_still_gets_the_greeting_after_a_while(restaurant, line, monkeypatch):
    monkeypatch.setattr(worker, "PHONE_ANSWER_TIMEOUT", 0.2)

    job = run_phone_job(restaurant, answer_after=None)

    assert job.history[0] == "Welcome to Trattoria Test. How can I help you?"


def test_the_phone_call_is_recorded_with_its_caller(restaurant, line):
    job = run_phone_job(restaurant)

    call = Call.objects.get()
    assert call.room_name == sip.phone_room_name(restaurant.pk) == job.deleted_rooms[0]
    assert (call.channel, call.caller_number, call.dialled_number) == ("phone", "+447700900123", "+15105550100")
    assert (call.dispatch_id, call.participant_identity) == (sip.DISPATCH_ID, "sip_+447700900123")
    assert (call.status, call.end_reason) == (Call.Status.ENDED, Call.EndReason.DINER_HUNG_UP)
    assert call.agent_joined_at == call.diner_joined_at <= call.ended_at
    assert call.caller_label == "Phone, +44 7700 900123"
    assert call.messages.first().text == "Welcome to Trattoria Test. How can I help you?"


def test_when_the_caller_hangs_up_the_job_ends_at_once(restaurant, line):
    job = run_phone_job(restaurant)  # the runner waits at most 5 s for the session to close on the hang-up

    assert job.deleted_rooms == [sip.phone_room_name(restaurant.pk)]  # no departure timeout: the room goes now


def test_a_number_that_is_not_the_restaurants_line_is_hung_up_on(restaurant, line, caplog):
    job = run_phone_job(restaurant, **{"sip.trunkPhoneNumber": "+15105550111"})

    assert job.session is None  # no agent, no model
    assert job.deleted_rooms == [sip.phone_room_name(restaurant.pk)]
    assert job.reasons == ["dialled number is not this restaurant's"]
    call = Call.objects.get()
    assert (call.status, call.end_reason, call.dialled_number) == (
        Call.Status.FAILED, Call.EndReason.WRONG_LINE, "+15105550111",
    )  # fmt: skip
    assert "not an active phone line of restaurant" in caplog.text


def test_an_inactive_line_is_hung_up_on(restaurant, line):
    line.is_active = False
    line.save()

    job = run_phone_job(restaurant)

    assert job.session is None
    assert Call.objects.get().end_reason == Call.EndReason.WRONG_LINE


def test_a_withheld_number_is_recorded_as_withheld(restaurant, line):
    run_phone_job(restaurant, **{"sip.phoneNumber": ""})

    assert Call.objects.get().caller_label == "Phone, number withheld"


def offered_tools(job: PhoneJob) -> list[str]:
    return job.llm.requests[-1]["tools"]


async def ask(session, text: str) -> None:
    await session.run(user_input=text)


def test_on_the_phone_the_agent_can_end_the_call_and_put_the_caller_through(restaurant, line):
    job = run_phone_job(restaurant, during=lambda ctx, session: ask(session, "hello"))

    assert {"end_call", "transfer_to_staff"} <= set(offered_tools(job))
    instructions = job.llm.requests[-1]["instructions"]
    assert "telephone" in instructions and "transfer_to_staff" in instructions
    assert "button" in instructions  # ... as something never to mention


def test_without_a_transfer_number_there_is_no_transfer(restaurant, line):
    line.transfer_number = ""
    line.save()

    job = run_phone_job(restaurant, during=lambda ctx, session: ask(session, "hello"))

    assert "end_call" in offered_tools(job)
    assert "transfer_to_staff" not in offered_tools(job)
    assert "You cannot put callers through" in job.llm.requests[-1]["instructions"]


def test_the_web_agent_has_neither_phone_tool(restaurant):
    session, _, _ = run_job(f'{{"restaurant_id": {restaurant.pk}}}')

    assert type(session.current_agent) is RestaurantAgent
    tools = {t.info.name for t in session.current_agent.tools}
    assert "get_opening_hours" in tools
    assert not tools & {"end_call", "transfer_to_staff"}


def test_end_call_says_goodbye_then_ends_the_call_for_everyone(restaurant, line):
    job = run_phone_job(
        restaurant, rules=[Rule("bye", "end_call")], hang_up=False,
        during=lambda ctx, session: ask(session, "That's all, thanks, bye!"),
    )  # fmt: skip

    assert job.history[-1] == "Say a short goodbye to the caller."  # the scripted model reads its cue back
    assert job.deleted_rooms == [sip.phone_room_name(restaurant.pk)]  # the line is hung up for the caller too
    call = Call.objects.get()
    assert (call.status, call.end_reason) == (Call.Status.ENDED, Call.EndReason.AGENT_ENDED)


class TestTransfer:
    @pytest.fixture(autouse=True)
    def caller_in_livekit(self, livekit, restaurant):
        """LiveKit knows the captured caller in the call's room (a transfer of anyone else is a 404)."""
        livekit.sip_callers.add((sip.phone_room_name(restaurant.pk), sip.CALLER_IDENTITY))

    def test_the_caller_is_told_then_put_through(self, restaurant, line, livekit):
        job = run_phone_job(
            restaurant, rules=[Rule("person", "transfer_to_staff")], hang_up=False,
            during=lambda ctx, session: ask(session, "Can I speak to a person?"),
        )  # fmt: skip

        assert PUTTING_THROUGH in job.history
        [transfer] = livekit.transfers
        assert (transfer.room_name, transfer.participant_identity, transfer.transfer_to) == (
            sip.phone_room_name(restaurant.pk), "sip_+447700900123", f"tel:{TRANSFER_NUMBER}",
        )  # fmt: skip
        assert Call.objects.get().end_reason == Call.EndReason.TRANSFERRED

    def test_a_refused_transfer_is_said_and_the_call_goes_on(self, restaurant, line, livekit):
        livekit.refuse_transfers(403)

        job = run_phone_job(
            restaurant, rules=[Rule("person", "transfer_to_staff")],
            during=lambda ctx, session: ask(session, "Can I speak to a person?"),
        )  # fmt: skip

        assert job.history[-1].startswith("Sorry: The transfer did not go through.")
        assert "0 6, 1 2 3 4, 5 6 7 8" in job.history[-1]  # the restaurant's own number, to call instead
        assert Call.objects.get().end_reason == Call.EndReason.DINER_HUNG_UP  # the caller stayed, then hung up

    def test_a_transfer_number_removed_during_the_call_is_not_dialled(self, restaurant, line, livekit):
        async def remove_then_ask(ctx, session):
            await PhoneLine.objects.filter(pk=line.pk).aupdate(transfer_number="")
            await ask(session, "Can I speak to a person?")

        job = run_phone_job(restaurant, rules=[Rule("person", "transfer_to_staff")], during=remove_then_ask)

        assert livekit.transfers == []
        assert "cannot put them through" in job.history[-1]
