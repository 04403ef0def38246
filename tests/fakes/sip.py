"""A phone caller as LiveKit's SIP bridge puts one in a room, replayed from a real call.

`sip-call-events.jsonl` beside this file is what an agent saw during one real inbound call (livekit-server
1.9.12 with Redis, livekit-sip 1.3.0, a SIPp caller +447700900123 dialling +15105550100; see
shared/captures/README.md). The functions here turn its events into the room events the LiveKit SDK's native
side sends (`livekit.rtc._proto.room_pb2.RoomEvent`) and feed them to `rtc.Room._on_room_event`, so the
room's own code adds the participant, updates its attributes and removes it, as in a real call:
the caller joins while ringing (kind SIP, every `sip.*` attribute), the bridge answers (`sip.callStatus`
"active"), the caller hangs up ("hangup", then a disconnect with reason CLIENT_INITIATED).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from livekit import rtc
from livekit.rtc._proto import participant_pb2, room_pb2

CAPTURE = [json.loads(line) for line in Path(__file__).with_name("sip-call-events.jsonl").read_text().splitlines()]
_JOINED = next(event for event in CAPTURE if event["ev"] == "sip_participant")
JOB = next(event for event in CAPTURE if event["ev"] == "job")

CALLER_IDENTITY = _JOINED["identity"]  # "sip_+447700900123"
CALLER_NUMBER = _JOINED["attributes"]["sip.phoneNumber"]  # "+447700900123"
DIALLED_NUMBER = _JOINED["attributes"]["sip.trunkPhoneNumber"]  # "+15105550100"
DISPATCH_ID = JOB["job_dispatch_id"]


def phone_room_name(restaurant_id: int) -> str:
    """The name LiveKit gave the captured call's room, for restaurant `restaurant_id`'s dispatch rule."""
    return JOB["room_name"].replace("restaurant-1-", f"restaurant-{restaurant_id}-", 1)


def _entries(attributes: dict[str, str]) -> list[room_pb2.AttributesEntry]:
    return [room_pb2.AttributesEntry(key=key, value=value) for key, value in attributes.items()]


class _NoNativeRoom:
    """Stands for the native room handle a connected rtc.Room holds (there is no LiveKit server here)."""

    handle = 0

    def dispose(self) -> None:
        pass


@contextmanager
def agent_in(room: rtc.Room, identity: str) -> Iterator[None]:
    """While open, the fake job's room is connected, with the agent `identity` as its local participant, as
    connecting makes it: the room's own event handling compares identities with it, and the agent's RoomIO
    links the caller (and closes the session when they leave) only in a connected room."""
    info = participant_pb2.ParticipantInfo(identity=identity, kind=rtc.ParticipantKind.PARTICIPANT_KIND_AGENT)
    room._local_participant = rtc.LocalParticipant(room._room_queue, participant_pb2.OwnedParticipant(info=info))
    room._ffi_handle = _NoNativeRoom()
    room._connection_state = rtc.ConnectionState.CONN_CONNECTED
    try:
        yield
    finally:  # disconnected again, so the room's finaliser has no native queue to let go of
        room._ffi_handle = None
        room._connection_state = rtc.ConnectionState.CONN_DISCONNECTED


def caller_joins(room: rtc.Room, **attributes: str) -> rtc.RemoteParticipant:
    """The captured caller joins `room`, ringing; `attributes` replace captured ones, e.g.
    `**{"sip.trunkPhoneNumber": "+15105550111"}`."""
    info = participant_pb2.ParticipantInfo(
        sid=_JOINED["sid"], identity=CALLER_IDENTITY, name=_JOINED["name"], metadata=_JOINED["metadata"],
        kind=_JOINED["kind_value"], attributes={**_JOINED["attributes"], **attributes},
    )  # fmt: skip
    event = room_pb2.RoomEvent(
        participant_connected=room_pb2.ParticipantConnected(info=participant_pb2.OwnedParticipant(info=info))
    )
    room._on_room_event(event)
    return room.remote_participants[CALLER_IDENTITY]


def call_status(room: rtc.Room, status: str) -> None:
    """The bridge sets the caller's `sip.callStatus` ("active" once it answered, "hangup" when they hang up)."""
    attributes = {**room.remote_participants[CALLER_IDENTITY].attributes, "sip.callStatus": status}
    event = room_pb2.RoomEvent(
        participant_attributes_changed=room_pb2.ParticipantAttributesChanged(
            participant_identity=CALLER_IDENTITY,
            attributes=_entries(attributes),
            changed_attributes=_entries({"sip.callStatus": status}),
        )
    )
    room._on_room_event(event)


def caller_hangs_up(room: rtc.Room) -> None:
    """What the captured hang-up did: `sip.callStatus` "hangup", then the caller leaves (CLIENT_INITIATED)."""
    call_status(room, "hangup")
    event = room_pb2.RoomEvent(
        participant_disconnected=room_pb2.ParticipantDisconnected(
            participant_identity=CALLER_IDENTITY, disconnect_reason=rtc.DisconnectReason.CLIENT_INITIATED
        )
    )
    room._on_room_event(event)
