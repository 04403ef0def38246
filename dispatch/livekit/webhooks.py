"""LiveKit's webhooks: a request's signature and body checked, and what it says happened in a room."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from google.protobuf import json_format
from livekit import api

from .client import LiveKitNotConfigured

# --- Webhooks: what LiveKit says happened in a room ----------------------------------------------------------

# LiveKit's event ids are "EV_" and 12 characters; WebhookEvent keeps at most 64.
MAX_EVENT_ID = 64
# Why a participant left, when it means the participant itself ended the call: its page hung up (or a phone
# caller put down the receiver), or it declined. The other reasons say it is coming back (a reconnection, a
# migration), that its connection dropped, or that the room itself went: the room's end settles those.
_HUNG_UP = {api.DisconnectReason.CLIENT_INITIATED, api.DisconnectReason.USER_REJECTED}


class WebhookNotVerified(Exception):
    """A webhook that LiveKit did not sign for this server: no Authorization header, a token not signed with
    LIVEKIT_API_SECRET for LIVEKIT_API_KEY or expired, or a token without the body's hash or with another's."""


class NotAWebhookEvent(Exception):
    """A correctly signed body that is not a LiveKit webhook event: not protobuf JSON of a WebhookEvent, no event
    name or id (or an id over MAX_EVENT_ID characters), a NUL character in the id or room name, or a time out of
    range."""


@dataclass(frozen=True)
class RoomParticipant:
    """The participant a webhook is about. `kind` is LiveKit's participant kind in lower case: "standard" (a
    browser), "sip" (a phone caller), "agent", "egress", "ingress"... ("kind-<n>" for one this version does not
    know). `joined_at` is when it joined (UTC, to the millisecond), if LiveKit said. `hung_up`: it left because it
    ended the call itself (see _HUNG_UP); only ever true on participant_left."""

    identity: str
    kind: str
    joined_at: dt.datetime | None
    hung_up: bool


@dataclass(frozen=True)
class VerifiedWebhook:
    """One verified LiveKit webhook: its id ("EV_..."), LiveKit's event name ("room_started",
    "participant_joined", "participant_left", "room_finished", "track_published"...), the room's name ("" when
    the event has no room), when LiveKit made it (UTC, whole seconds; our clock when it did not say), and, for
    the participant_* events, the participant it is about."""

    id: str
    name: str
    room_name: str
    at: dt.datetime
    participant: RoomParticipant | None


def read_webhook(body: bytes, authorization: str) -> VerifiedWebhook:
    """The event in a webhook LiveKit signed, checked with livekit-api's WebhookReceiver.

    `body` is the raw request body; `authorization` the Authorization header: the bare JWT LiveKit sends (no
    "Bearer"), HS256 over LIVEKIT_API_KEY (its `iss`) with LIVEKIT_API_SECRET, carrying the base64 SHA-256 of the
    body in its `sha256` claim, valid 5 minutes (1 minute's leeway). The hash is taken over the body's UTF-8 text
    as LiveKit's receiver takes it, so a body that is not UTF-8 never matches one. Raises LiveKitNotConfigured
    (no key or secret set), WebhookNotVerified, NotAWebhookEvent.
    """
    if missing := [n for n in ("LIVEKIT_API_KEY", "LIVEKIT_API_SECRET") if not getattr(settings, n)]:
        raise LiveKitNotConfigured(", ".join(missing))
    if not authorization:
        raise WebhookNotVerified("no Authorization header")
    receiver = api.WebhookReceiver(api.TokenVerifier(settings.LIVEKIT_API_KEY, settings.LIVEKIT_API_SECRET))
    try:
        event = receiver.receive(body.decode("utf-8", errors="replace"), authorization)
    except json_format.ParseError as exc:  # raised only once the signature and the hash were found right
        raise NotAWebhookEvent(str(exc)) from None
    except Exception as exc:  # noqa: BLE001  (livekit-api raises bare Exception for a missing or wrong hash)
        raise WebhookNotVerified(str(exc) or type(exc).__name__) from None
    if not event.event or not 0 < len(event.id) <= MAX_EVENT_ID:
        raise NotAWebhookEvent("no event name, or no id (or a longer one than LiveKit's)")
    if "\x00" in event.id + event.room.name:  # no database's text holds one (PostgreSQL refuses the query)
        raise NotAWebhookEvent("a NUL character in the id or the room's name")
    return VerifiedWebhook(
        id=event.id,
        name=event.event,
        room_name=event.room.name,
        at=_epoch(event.created_at) or timezone.now(),
        # Track events name their participant by identity only: its kind would read "standard" whatever it is.
        participant=_participant(event) if event.event.startswith("participant_") else None,
    )


def _participant(event: api.WebhookEvent) -> RoomParticipant:
    p = event.participant
    kinds = api.ParticipantInfo.Kind
    return RoomParticipant(
        identity=p.identity,
        kind=kinds.Name(p.kind).lower() if p.kind in kinds.values() else f"kind-{p.kind}",
        joined_at=_epoch(p.joined_at_ms / 1000 if p.joined_at_ms else p.joined_at),
        hung_up=event.event == "participant_left" and p.disconnect_reason in _HUNG_UP,
    )


def _epoch(seconds: float) -> dt.datetime | None:
    """`seconds` since the epoch as a UTC datetime; None for 0 (protobuf's "not set"). Raises NotAWebhookEvent
    for a time no datetime holds."""
    if not seconds:
        return None
    try:
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise NotAWebhookEvent(f"a time out of range: {seconds}") from None
