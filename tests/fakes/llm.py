"""A scripted LLM: a real `llm.LLM` subclass that emits tool calls and replies from a script.

It speaks the framework's contract from shared/LIVEKIT.md: `chat()` returns an `LLMStream` whose `_run()`
sends `ChatChunk`s with `FunctionToolCall`s or text into `self._event_ch`; the framework runs the tool and
calls `chat()` again with the tool's output in `chat_ctx.items`.

Script: for the diner's latest message, the first rule whose keyword occurs in it (case-insensitive) makes
the model call that tool with those arguments. After a tool output, the model replies by reading the output
back (so a test can check the reply carries the database's facts); after a tool error, it relays the error.
"""

from __future__ import annotations

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


FALLBACK = "I can help with our opening hours, address and menu."


class ScriptedLLM(llm.LLM):
    def __init__(self, *rules: Rule) -> None:
        super().__init__()
        self.rules = rules
        self.requests: list[dict] = []  # per chat(): the tool names offered, the instructions, when (time.time())

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
            {"tools": sorted(t.info.name for t in tools), "instructions": _instructions(chat_ctx), "at": time.time()}
        )
        return _ScriptedStream(self, chat_ctx=chat_ctx, tools=tools, conn_options=conn_options)

    def next_chunk(self, chat_ctx: llm.ChatContext) -> llm.ChoiceDelta:
        last = chat_ctx.items[-1]
        if last.type == "function_call_output":
            text = f"Sorry: {last.output}" if last.is_error else last.output
            return llm.ChoiceDelta(role="assistant", content=text)
        said = (last.text_content or "").lower() if last.type == "message" else ""
        for rule in self.rules:
            if rule.keyword.lower() in said:
                call = llm.FunctionToolCall(
                    name=rule.tool, arguments=json.dumps(rule.arguments), call_id=f"call_{uuid.uuid4().hex[:8]}"
                )
                return llm.ChoiceDelta(role="assistant", tool_calls=[call])
        return llm.ChoiceDelta(role="assistant", content=FALLBACK)


def _instructions(chat_ctx: llm.ChatContext) -> str:
    return "\n".join(
        m.text_content or "" for m in chat_ctx.items if m.type == "message" and m.role in ("system", "developer")
    )


class _ScriptedStream(llm.LLMStream):
    async def _run(self) -> None:
        delta = self._llm.next_chunk(self._chat_ctx)
        self._event_ch.send_nowait(llm.ChatChunk(id=f"chunk_{uuid.uuid4().hex[:8]}", delta=delta))
