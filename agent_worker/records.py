"""What the worker writes about a call as it goes: the agent and the diner joining, every finished utterance
(spoken or typed), every tool call, the facts the model requests were given (when they change), the questions
the restaurant's data could not answer, and how it ended.

The call's row is the one the web side made for its room (dispatch.models.Call, found by room name); the writes
are dispatch.services' functions, which also publish each change to the staff's live view. They run through
the ORM bridge on a queue of their own, one after the other in the order things happened, so nothing on the
audio path (a greeting, the next model request after a tool) waits for the database; and they wait while the
agent is thinking (between the diner's turn and its answer), so that their work in this process (the queries
are built in Python, under the GIL) does not slow the turn down either. When the database
refuses a write, the queue keeps it and tries again with growing pauses, so rows wait out a brief outage and
are written when it is back; a write still refused after AGENT_RECORD_RETRY_FOR seconds is given up (one
error line). At the job's end the queue gets AGENT_RECORD_DRAIN_TIMEOUT seconds to empty.
Import this module only after `django.setup()`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError
from livekit.agents import AgentSession, AgentStateChangedEvent, ConversationItemAddedEvent, FunctionToolsExecutedEvent

from dispatch import services
from dispatch.models import Call, CallMessage

from .db import run_orm

logger = logging.getLogger("maitre.agent")

# Longest text kept of one utterance, one tool output and one tool call's arguments (characters): a diner
# typing a novel into the chat does not fill the database.
MAX_MESSAGE_CHARS = 4000
MAX_OUTPUT_CHARS = 4000
MAX_ARGUMENTS_CHARS = 2000
# Longest sentence kept of one fact given to the model (characters): the weekly hours with a fortnight of special
# days, the longest, are a few hundred.
MAX_FACT_CHARS = 1000
FIRST_RETRY_DELAY, MAX_RETRY_DELAY = 0.25, 5.0  # seconds between tries of a refused write
ROLES = {"user": CallMessage.Role.DINER, "assistant": CallMessage.Role.AGENT}


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def cut(text: str, limit: int) -> str:
    """`text` if it has at most `limit` characters, else its first `limit` - 1 and "…"."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _arguments(raw: str) -> dict:
    """A tool call's arguments as the model sent them (a JSON object string), bounded for storage."""
    if len(raw) <= MAX_ARGUMENTS_CHARS:
        try:
            value = json.loads(raw or "{}")
        except ValueError:
            value = None
        if isinstance(value, dict):
            return value
    return {"unparsed": cut(raw, MAX_ARGUMENTS_CHARS)}


class CallRecord:
    """The record of the call in room `room_name` ("" for a session with no call row, as in console mode:
    unanswered questions are then recorded for the restaurant alone).

    `end_reason` says why the call ends, once something knows (the agent ending it, the session closing);
    `end()` records it, "agent ended" if nothing said.
    """

    def __init__(self, room_name: str) -> None:
        self.room_name = room_name
        self.end_reason: Call.EndReason | None = None
        self._queue: asyncio.Queue[tuple[Callable, dict]] = asyncio.Queue()
        self._writer: asyncio.Task | None = None
        self._quiet = asyncio.Event()  # set while the agent is not thinking: writes may go
        self._quiet.set()
        self._last_facts: list[list[str]] | None = None  # the facts given last put on the queue

    # --- the queue ---

    def _put(self, fn: Callable, **kwargs) -> None:
        """Write `fn(room_name=..., **kwargs)` after everything put before it; returns at once."""
        self._queue.put_nowait((fn, kwargs))
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write_all(), name="call-record")

    async def _write_all(self) -> None:
        while True:
            fn, kwargs = await self._queue.get()
            await self._quiet.wait()
            try:
                await self._write(fn, kwargs)
            finally:
                self._queue.task_done()

    async def _write(self, fn: Callable, kwargs: dict) -> None:
        delay, started = FIRST_RETRY_DELAY, time.monotonic()
        while True:
            try:
                await run_orm(fn, room_name=self.room_name, **kwargs)
                if delay > FIRST_RETRY_DELAY:
                    logger.info("call in %s: %s recorded after the database came back", self.room_name, fn.__name__)
                return
            except DatabaseError as exc:
                if time.monotonic() - started > settings.AGENT_RECORD_RETRY_FOR:
                    logger.error("call in %s: %s not recorded, the database refused it for %s s: %s",
                                 self.room_name, fn.__name__, settings.AGENT_RECORD_RETRY_FOR, exc)  # fmt: skip
                    return
                if delay == FIRST_RETRY_DELAY:
                    logger.warning("call in %s: the database refused %s (%s); keeping it and trying again",
                                   self.room_name, fn.__name__, exc)  # fmt: skip
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY)

    async def flushed(self) -> None:
        """Wait until everything put so far is written (or given up)."""
        await self._queue.join()

    # --- what happens in the call ---

    def follow(self, session: AgentSession) -> None:
        """Record `session`'s finished utterances (the diner's, spoken or typed, and the agent's) and its tool
        calls as they happen."""
        session.on("conversation_item_added", self._on_item)
        session.on("function_tools_executed", self._on_tools)
        session.on("agent_state_changed", self._on_state)

    def _on_state(self, event: AgentStateChangedEvent) -> None:
        if event.new_state == "thinking":
            self._quiet.clear()
        else:
            self._quiet.set()

    def _on_item(self, event: ConversationItemAddedEvent) -> None:
        item = event.item
        role = ROLES.get(getattr(item, "role", None))
        text = (item.text_content or "").strip() if role else ""
        if role == CallMessage.Role.DINER:
            self._quiet.clear()  # the diner's turn is complete: the agent is about to think
        if text:
            self._put(services.call_message_add, role=role, text=cut(text, MAX_MESSAGE_CHARS), at=_utc(item.created_at))

    def _on_tools(self, event: FunctionToolsExecutedEvent) -> None:
        for call, output in zip(event.function_calls, event.function_call_outputs, strict=False):
            self._put(
                services.call_tool_call_add,
                name=call.name,
                arguments=_arguments(call.arguments),
                output=cut(output.output if output else "", MAX_OUTPUT_CHARS),
                is_error=bool(output and output.is_error),
                duration_ms=max(round((output.created_at - call.created_at) * 1000), 0) if output else None,
                at=_utc(call.created_at),
            )

    def facts_given(self, facts: dict[str, str], at: float | None = None) -> None:
        """The facts one model request is given (turn_facts.facts_now: label -> sentence), at `at` (seconds since
        the epoch, default now): recorded, each sentence cut to MAX_FACT_CHARS, unless they are the ones given
        last. So a call records a set per change, not one per request: the open-now sentence names the minute,
        the others change when staff edit. Returns at once; nothing for a session with no call."""
        entry = [[label, cut(text, MAX_FACT_CHARS)] for label, text in facts.items()]
        if not self.room_name or entry == self._last_facts:
            return
        self._last_facts = entry
        self._put(services.call_facts_add, facts=entry, at=_utc(time.time() if at is None else at))

    def phone_answered(self, **call) -> None:
        """Record a phone call's Call row (services.call_phone_answered takes `call`'s keywords)."""
        self._put(services.call_phone_answered, **call)

    def agent_joined(self) -> None:
        self._put(services.call_agent_joined)

    def diner_joined(self) -> None:
        self._put(services.call_diner_joined)

    def unanswered_question(self, restaurant_id: int, question: str) -> None:
        self._put(services.unanswered_question_add, restaurant_id=restaurant_id, question=question)

    async def end(self) -> None:
        """Record the end and wait, at most AGENT_RECORD_DRAIN_TIMEOUT seconds, for every write: the job's
        shutdown callback."""
        # No parameter: JobContext.add_shutdown_callback would pass the shutdown reason to one.
        self._put(services.call_end, reason=self.end_reason or Call.EndReason.AGENT_ENDED)
        self._quiet.set()  # the call is over: nothing left to slow down
        try:
            async with asyncio.timeout(settings.AGENT_RECORD_DRAIN_TIMEOUT):
                await self.flushed()
        except TimeoutError:
            logger.error("call in %s: %d records not written: the database did not answer within %s s",
                         self.room_name, self._queue.qsize() + 1, settings.AGENT_RECORD_DRAIN_TIMEOUT)  # fmt: skip
        if self._writer is not None:
            self._writer.cancel()
