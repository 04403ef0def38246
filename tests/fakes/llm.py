"""A scripted LLM: a real `llm.LLM` subclass that emits tool calls and replies from a script.

It speaks the framework's contract from shared/LIVEKIT.md: `chat()` returns an `LLMStream` whose `_run()`
sends `ChatChunk`s with `FunctionToolCall`s or text into `self._event_ch`; the framework runs the tool and
calls `chat()` again with the tool's output in `chat_ctx.items`.

Script: for the diner's latest message, the first rule whose keyword occurs in it (case-insensitive) makes
the model call that tool with those arguments. After a tool output, the model replies by reading the output
back (so a test can check the reply carries the database's facts); after a tool error, it relays the error.
A rule with a `fact` (a line label of agent_worker.turn_facts) is answered without the tool when the request
carries a facts message with that line: the model reads the line back, as a model answering from its context.
A rule with a `reply` says that text instead of calling a tool (a model reading details back before a yes).

`first_token_delay` (seconds) makes each request wait that long before its first chunk, as a hosted model's
time to first token. Each request's chat context is kept in `requests` ("chat_ctx").
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field

from livekit.agents import llm
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN


@dataclass(frozen=True)
class Rule:
    keyword: str
    tool: str
    arguments: dict = field(default_factory=dict)
    fact: str | None = None  # a facts line that answers the question without the tool
    reply: str | None = None  # said instead of calling a tool


FALLBACK = "I can help with our opening hours, address and menu."


class ScriptedLLM(llm.LLM):
    def __init__(self, *rules: Rule, first_token_delay: float = 0.0) -> None:
        super().__init__()
        self.rules, self.first_token_delay = rules, first_token_delay
        # per chat(): the tool names offered, the instructions, when (time.time()), the chat context
        self.requests: list[dict] = []

    @property
    def model(self) -> str:
        return "scripted"

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools=None,
        conn_options=DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls=NOT_GIVEN,
        tool_choice=NOT_GIVEN,
        extra_kwargs=NOT_GIVEN,
    ) -> llm.LLMStream:
        tools = tools or []
        self.requests.append(
            {"tools": sorted(t.info.name for t in tools), "instructions": _instructions(chat_ctx), "at": time.time(),
             "chat_ctx": chat_ctx.copy()}
        )  # fmt: skip
        return _ScriptedStream(self, chat_ctx=chat_ctx, tools=tools, conn_options=conn_options)

    def next_chunk(self, chat_ctx: llm.ChatContext) -> llm.ChoiceDelta:
        last = chat_ctx.items[-1]
        if last.type == "function_call_output":
            text = f"Sorry: {last.output}" if last.is_error else last.output
            return llm.ChoiceDelta(role="assistant", content=text)
        said = (last.text_content or "").lower() if last.type == "message" else ""
        for rule in self.rules:
            if rule.keyword.lower() in said and rule.fact and (line := _fact(chat_ctx, rule.fact)):
                return llm.ChoiceDelta(role="assistant", content=line)
            if rule.keyword.lower() in said and rule.reply is not None:
                return llm.ChoiceDelta(role="assistant", content=rule.reply)
            if rule.keyword.lower() in said:
                call = llm.FunctionToolCall(
                    name=rule.tool, arguments=json.dumps(rule.arguments), call_id=f"call_{uuid.uuid4().hex[:8]}"
                )
                return llm.ChoiceDelta(role="assistant", tool_calls=[call])
        return llm.ChoiceDelta(role="assistant", content=FALLBACK)


def _fact(chat_ctx: llm.ChatContext, label: str) -> str | None:
    """The text of the facts line `label` in the request's latest system message that has one, or None."""
    for item in reversed(chat_ctx.items):
        if item.type == "message" and item.role == "system":
            for line in (item.text_content or "").splitlines():
                if line.startswith(f"- {label}: "):
                    return line.removeprefix(f"- {label}: ")
    return None


def _instructions(chat_ctx: llm.ChatContext) -> str:
    return "\n".join(
        m.text_content or "" for m in chat_ctx.items if m.type == "message" and m.role in ("system", "developer")
    )


class _ScriptedStream(llm.LLMStream):
    async def _run(self) -> None:
        if self._llm.first_token_delay:
            await asyncio.sleep(self._llm.first_token_delay)
        delta = self._llm.next_chunk(self._chat_ctx)
        self._event_ch.send_nowait(llm.ChatChunk(id=f"chunk_{uuid.uuid4().hex[:8]}", delta=delta))
