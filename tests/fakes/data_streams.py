"""The agent's side of LiveKit's data streams and RPC, for a room that cannot connect (no server here).

`SentData` stands in for rtc.LocalParticipant (livekit rtc 1.1.21) in an rtc.Room that is not connected: it
takes `send_text` and `perform_rpc` with the library's own signatures (keyword-only options, the same names and
defaults) and records each call instead of handing it to LiveKit's native client. It stands for the LiveKit
library, not for maitre's code; besides, it has the identity, sid and kind that livekit-agents reads. Like the
library it raises rtc.StreamError when a send fails (`fail`), and it can take `delay` seconds to finish, as a
send on a slow network does.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field

from livekit import rtc

from tests.fakes.jobs import named_room


@dataclass
class Sent:
    """One text stream the agent sent: what, on which topic, to whom (empty: everyone in the room), and when
    the call began and ended (time.time(), comparable with ScriptedLLM's request times)."""

    text: str
    topic: str
    destination_identities: list[str]
    attributes: dict[str, str]
    at: float
    done_at: float | None = None


@dataclass
class SentData:
    # What the framework reads of its local participant besides (the session's tracing spans).
    identity: str = "agent-AJ_1"
    sid: str = "PA_agent"
    kind: int = rtc.ParticipantKind.PARTICIPANT_KIND_AGENT
    delay: float = 0.0  # seconds each send takes
    fail: str = ""  # when set, each send raises rtc.StreamError(fail), as a failed send does
    texts: list[Sent] = field(default_factory=list)
    rpcs: list[dict] = field(default_factory=list)

    async def send_text(
        self, text: str, *, destination_identities: list[str] | None = None, topic: str = "",
        attributes: dict[str, str] | None = None, reply_to_id: str | None = None, compress: bool = True,
    ) -> rtc.TextStreamInfo:  # fmt: skip
        sent = Sent(text, topic, list(destination_identities or []), dict(attributes or {}), time.time())
        self.texts.append(sent)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail:
            raise rtc.StreamError(self.fail)
        sent.done_at = time.time()
        return rtc.TextStreamInfo(
            stream_id=uuid.uuid4().hex, mime_type="text/plain", topic=topic, timestamp=int(sent.at * 1000),
            size=len(text.encode()), attributes=dict(attributes or {}), attachments=[],
        )  # fmt: skip

    async def perform_rpc(
        self, *, destination_identity: str, method: str, payload: str, response_timeout: float | None = None,
        max_round_trip_latency: float | None = None,
    ) -> str:  # fmt: skip
        self.rpcs.append({"destination_identity": destination_identity, "method": method, "payload": payload})
        if self.fail:
            raise rtc.RpcError(rtc.RpcError.ErrorCode.CONNECTION_TIMEOUT, self.fail)
        return ""

    def on_topic(self, topic: str) -> list[Sent]:
        return [sent for sent in self.texts if sent.topic == topic]


def room_sending_to(sent: SentData, name: str) -> rtc.Room:
    """An rtc.Room called `name`, not connected, whose local participant (the agent) is `sent`."""
    room = named_room(name)
    room._local_participant = sent
    return room
