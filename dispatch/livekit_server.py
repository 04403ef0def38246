"""The one place maitre talks to LiveKit's server API: rooms, agent dispatch, participant tokens, the
verification of LiveKit's webhooks, and the SIP API (phone lines' trunks and dispatch rules, transfers).

Reads LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET, LIVEKIT_API_TIMEOUT, LIVEKIT_TOKEN_TTL and the
LIVEKIT_ROOM_* timeouts from settings at call time. Nothing else in maitre imports `livekit.api`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import aiohttp
import jwt
from django.conf import settings
from django.utils import timezone
from google.protobuf import json_format
from google.protobuf.duration_pb2 import Duration
from livekit import api

logger = logging.getLogger("maitre.dispatch")

ROOM_NAME = re.compile(r"^restaurant-(\d+)-[0-9a-f]{32}$")  # a web call's room, made by new_room_name
# A phone call's room, made by LiveKit's SIP dispatch rule: phone_room_prefix + "_<caller>_<12 random characters>",
# e.g. "restaurant-1-call-_+447700900123_ygaafuD4miAA".
PHONE_ROOM_NAME = re.compile(r"^restaurant-(\d+)-call-[\w+.@-]{1,100}$")
DINER_IDENTITY = re.compile(r"^diner-[0-9a-f]{32}$")


class LiveKitNotConfigured(Exception):
    """LIVEKIT_URL, LIVEKIT_API_KEY or LIVEKIT_API_SECRET is empty."""


class LiveKitUnavailable(Exception):
    """LiveKit's server API could not be reached, timed out, or refused the request."""


class NotADinerToken(Exception):
    """A token that is not one this server minted for a diner, or has expired."""


def missing_settings() -> list[str]:
    """Names of the LiveKit settings that are empty, e.g. ["LIVEKIT_URL"]; [] when configured."""
    return [n for n in ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET") if not getattr(settings, n)]


def browser_origins() -> list[str]:
    """Where a browser's livekit-client connects for LIVEKIT_URL: its websocket and HTTP origins, e.g.
    ["wss://maitre.livekit.cloud", "https://maitre.livekit.cloud"], plus LiveKit Cloud's other regions for a
    *.livekit.cloud project; [] when LIVEKIT_URL is not set or not a ws(s)/http(s) URL."""
    url = urlsplit(settings.LIVEKIT_URL)
    secure = {"wss": True, "https": True, "ws": False, "http": False}.get(url.scheme)
    if secure is None or not url.netloc:
        return []
    ws, http = ("wss", "https") if secure else ("ws", "http")
    origins = [f"{ws}://{url.netloc}", f"{http}://{url.netloc}"]
    if (url.hostname or "").endswith(".livekit.cloud"):
        origins += [f"{ws}://*.livekit.cloud", f"{http}://*.livekit.cloud"]
    return origins


def new_room_name(restaurant_id: int) -> str:
    """A fresh room name, never used before: "restaurant-<id>-<uuid4 hex>"."""
    return f"restaurant-{restaurant_id}-{uuid.uuid4().hex}"


def phone_room_prefix(restaurant_id: int) -> str:
    """The room prefix of a restaurant's SIP dispatch rule: "restaurant-<id>-call-" (see PHONE_ROOM_NAME)."""
    return f"restaurant-{restaurant_id}-call-"


def is_call_room(room_name: str) -> bool:
    """Whether `room_name` is a room maitre makes for a call, web (ROOM_NAME) or phone (PHONE_ROOM_NAME)."""
    return bool(ROOM_NAME.match(room_name) or PHONE_ROOM_NAME.match(room_name))


def new_diner_identity() -> str:
    """A fresh participant identity for a diner: "diner-<uuid4 hex>"."""
    return f"diner-{uuid.uuid4().hex}"


def diner_token(*, room_name: str, identity: str) -> str:
    """A JWT letting `identity` join `room_name` only, to publish, subscribe and publish data.

    Lives LIVEKIT_TOKEN_TTL seconds (15 minutes by default); carries no other grant.
    """
    grants = api.VideoGrants(
        room_join=True, room=room_name, can_publish=True, can_subscribe=True, can_publish_data=True
    )
    return _room_token(grants, identity=identity, name="Diner", ttl=timedelta(seconds=settings.LIVEKIT_TOKEN_TTL))


LISTENER_TOKEN_TTL = timedelta(minutes=5)


def new_listener_identity(user_id: int) -> str:
    """A fresh participant identity for a staff member listening in: "staff-<user id>-<12 hex digits>"."""
    return f"staff-{user_id}-{uuid.uuid4().hex[:12]}"


def listener_token(*, room_name: str, identity: str) -> str:
    """A JWT letting staff member `identity` into `room_name` hidden, to subscribe only: the diner and the agent
    do not see them, and they can publish no audio and no data.

    Lives 5 minutes (LISTENER_TOKEN_TTL; joining is what needs a valid token). Raises ValueError for a room
    name maitre does not make.
    """
    grants = api.VideoGrants(
        room_join=True, room=room_name, hidden=True, can_subscribe=True, can_publish=False, can_publish_data=False
    )
    return _room_token(grants, identity=identity, name="Staff", ttl=LISTENER_TOKEN_TTL)


def _room_token(grants: api.VideoGrants, *, identity: str, name: str, ttl: timedelta) -> str:
    """A JWT with `grants`, which must name one maitre call room (else ValueError: an empty room would admit to
    any)."""
    if not is_call_room(grants.room):
        raise ValueError(f"not a maitre room name: {grants.room!r}")
    return (
        api.AccessToken(settings.LIVEKIT_API_KEY, settings.LIVEKIT_API_SECRET)
        .with_identity(identity)
        .with_name(name)
        .with_ttl(ttl)
        .with_grants(grants)
        .to_jwt()
    )


@dataclass(frozen=True)
class DinerSeat:
    """Who a diner's token admits, and where: the participant identity and the room name."""

    identity: str
    room_name: str


def read_diner_token(token: str) -> DinerSeat:
    """The identity and room of a token `diner_token` minted, checked against LIVEKIT_API_SECRET.

    Raises NotADinerToken when the signature, issuer or expiry (1 minute leeway) is wrong, or the token
    is not a diner's for a maitre room.
    """
    try:
        claims = api.TokenVerifier(settings.LIVEKIT_API_KEY, settings.LIVEKIT_API_SECRET).verify(token)
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise NotADinerToken(str(exc)) from None
    room_name = claims.video.room if claims.video else ""
    if not (DINER_IDENTITY.match(claims.identity or "") and ROOM_NAME.match(room_name or "")):
        raise NotADinerToken("not a diner's token for a maitre room")
    return DinerSeat(identity=claims.identity, room_name=room_name)


@asynccontextmanager
async def _server_api(doing: str, *, timeout: float | None = None) -> AsyncIterator[api.LiveKitAPI]:
    """A LiveKitAPI client whose calls, all together, must finish within `timeout` seconds (default
    LIVEKIT_API_TIMEOUT).

    Raises LiveKitNotConfigured when settings are missing, and LiveKitUnavailable (logged as one line, with
    `doing`) when the server is unreachable, too slow, or answers with an error.
    """
    if missing := missing_settings():
        raise LiveKitNotConfigured(", ".join(missing))
    lkapi = api.LiveKitAPI(settings.LIVEKIT_URL, settings.LIVEKIT_API_KEY, settings.LIVEKIT_API_SECRET)
    try:
        # livekit-api 1.2.2 posts with `timeout=None`, which makes aiohttp ignore the session's timeout:
        # bound the calls here instead.
        async with asyncio.timeout(timeout or settings.LIVEKIT_API_TIMEOUT):
            yield lkapi
    except api.TwirpError as exc:
        logger.warning("LiveKit refused to %s: %s %s", doing, exc.status, exc.message)
        raise LiveKitUnavailable(f"LiveKit answered {exc.status}") from exc
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        logger.warning("LiveKit unreachable at %s (%s): %r", settings.LIVEKIT_URL, doing, exc)
        raise LiveKitUnavailable("LiveKit is unreachable") from exc
    finally:
        await lkapi.aclose()


async def open_call_room(*, room_name: str, metadata: dict) -> str:
    """Create `room_name` for one call, then explicitly dispatch the agent named LIVEKIT_AGENT_NAME to it.

    The room is created first, with LIVEKIT_ROOM_EMPTY_TIMEOUT and LIVEKIT_ROOM_DEPARTURE_TIMEOUT (seconds),
    because a room that the dispatch creates gets LiveKit's defaults: it would hold the agent's job for 300 s
    if no diner came. `metadata` goes as a JSON string: the job metadata the worker reads. Returns the
    dispatch id ("AD_..."). Raises ValueError for a room name maitre does not make, LiveKitNotConfigured,
    and LiveKitUnavailable (the room may then exist; LiveKit closes it after the empty timeout).
    """
    if not ROOM_NAME.match(room_name):
        raise ValueError(f"not a maitre room name: {room_name!r}")
    room = api.CreateRoomRequest(
        name=room_name,
        empty_timeout=settings.LIVEKIT_ROOM_EMPTY_TIMEOUT,
        departure_timeout=settings.LIVEKIT_ROOM_DEPARTURE_TIMEOUT,
    )
    dispatch = api.CreateAgentDispatchRequest(
        agent_name=settings.LIVEKIT_AGENT_NAME, room=room_name, metadata=json.dumps(metadata)
    )
    async with _server_api(f"open the call room {room_name}") as lkapi:
        await lkapi.room.create_room(room)
        created = await lkapi.agent_dispatch.create_dispatch(dispatch)
    return created.id


async def close_call_room(*, room_name: str) -> None:
    """Delete `room_name`: everyone in it is disconnected and an agent's job there ends.

    A room that is already gone is fine. Raises LiveKitNotConfigured or LiveKitUnavailable.
    """
    async with _server_api(f"delete the room {room_name}") as lkapi:
        try:
            await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))
        except api.TwirpError as exc:
            if exc.status != 404:
                raise


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
class RoomEvent:
    """One verified LiveKit webhook: its id ("EV_..."), LiveKit's event name ("room_started",
    "participant_joined", "participant_left", "room_finished", "track_published"...), the room's name ("" when
    the event has no room), when LiveKit made it (UTC, whole seconds; our clock when it did not say), and, for
    the participant_* events, the participant it is about."""

    id: str
    name: str
    room_name: str
    at: dt.datetime
    participant: RoomParticipant | None


def read_webhook(body: bytes, authorization: str) -> RoomEvent:
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
    return RoomEvent(
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


# --- SIP: phone numbers into rooms (inbound trunks and dispatch rules), and transfers -------------------------
# LiveKit's SIP API (livekit-api's `lkapi.sip`). Trunks and rules travel as the plain SipTrunk and SipRule
# below, holding the fields maitre sets or that change who reaches which room; dispatch/sip.py plans with them.

SIP_NOT_CONNECTED = (
    "LiveKit's SIP service is not connected: livekit-server needs Redis (redis: in its config) for phone calls."
)
# What phone lines need of a self-hosted LiveKit (LiveKit Cloud is always newer). Older servers read a
# CreateSIPDispatchRuleRequest's legacy fields only, so they drop a rule's called-number filter (`numbers`: two
# lines on one trunk then conflict), and livekit-server 1.8.3 with livekit-sip 1.0.0 did not dispatch the agents
# named in a rule's room_config: the caller heard ringing until the timeout (shared/LIVEKIT.md).
SIP_MINIMUM_VERSIONS = "livekit-server 1.9 and livekit-sip 1.3 or newer (verified with 1.9.12 and 1.3.0)"
SIP_SERVER_TOO_OLD = (
    f"This LiveKit server is too old for phone lines: it does not read dispatch rules as maitre makes them (a "
    f"rule for one called number that dispatches the agent). Phone lines need {SIP_MINIMUM_VERSIONS}."
)
# How long the far end of a transfer may ring before LiveKit gives up (seconds), and how long a transfer may take
# in all before we do: LiveKit answers only once the far end accepted or refused.
TRANSFER_RINGING_TIMEOUT = 20
TRANSFER_TIMEOUT = TRANSFER_RINGING_TIMEOUT + 5
TRANSFER_TO = re.compile(r"^tel:\+[1-9]\d{6,14}$")
MAX_SIP_NAME = 256  # room names and participant identities LiveKit makes for SIP calls are far shorter


class LiveKitRefused(LiveKitUnavailable):
    """LiveKit answered a SIP API call with an error: `status` (HTTP), `code` (Twirp's, e.g. "invalid_argument")
    and LiveKit's `message`; str() is one sentence saying what was refused."""

    def __init__(self, doing: str, status: int, code: str, message: str):
        self.status, self.code, self.message = status, code, message
        if status == 401:
            sentence = (
                f"LiveKit refused the API key when asked to {doing} ({message or 'unauthenticated'}): check "
                "LIVEKIT_API_KEY and LIVEKIT_API_SECRET."
            )
        else:
            sentence = f"LiveKit refused to {doing}: {message or code or 'no reason given'} (HTTP {status})."
        super().__init__(sentence)


class SipNotConnected(LiveKitRefused):
    """LiveKit answered "sip not connected (redis required)": its SIP service needs Redis. str() says so."""

    def __init__(self, doing: str, status: int, code: str, message: str):
        super().__init__(doing, status, code, message)
        self.args = (SIP_NOT_CONNECTED,)


class SipServerTooOld(LiveKitRefused):
    """LiveKit refused a dispatch rule as a server older than SIP_MINIMUM_VERSIONS does ("missing rule": it reads
    only the legacy fields of CreateSIPDispatchRuleRequest), or listed one of maitre's rules without the numbers
    it was made with. str() says which versions phone lines need."""

    def __init__(self, doing: str, status: int = 400, code: str = "invalid_argument", message: str = "missing rule"):
        super().__init__(doing, status, code, message)
        self.args = (SIP_SERVER_TOO_OLD,)


class TransferRefused(Exception):
    """The far end of a transfer did not take the call: `sip_status` is the SIP response code it gave (403,
    408, 486...; None when LiveKit named none), `message` LiveKit's words. The caller is still on the line."""

    def __init__(self, sip_status: int | None, message: str):
        self.sip_status, self.message = sip_status, message
        super().__init__(f"The transfer was refused (SIP {sip_status or 'status unknown'}): {message}")


@dataclass(frozen=True)
class SipTrunk:
    """An inbound SIP trunk: which called `numbers` (E.164) LiveKit accepts calls for, from which source
    addresses (IPs or CIDRs; empty: any) and calling numbers (empty: any), with which digest credentials (empty:
    none). `id` is LiveKit's ("ST_..."), "" for one not created yet. Lists are kept sorted."""

    id: str
    name: str
    metadata: str
    numbers: tuple[str, ...] = ()
    allowed_addresses: tuple[str, ...] = ()
    allowed_numbers: tuple[str, ...] = ()
    auth_username: str = ""
    auth_password: str = ""


@dataclass(frozen=True)
class SipRule:
    """A SIP dispatch rule: calls through `trunk_ids` (empty: any trunk) to one of `numbers` (the called number;
    empty: any) from one of `inbound_numbers` (the caller's; empty: any) go to a room made by the rule: `kind`
    "individual" (a new room per call, named `room_prefix` + "_" + caller + "_" + random), "direct" or "callee".
    `agents` are the room's agent dispatches, (agent_name, job metadata) each. `id` is LiveKit's ("SDR_..."),
    "" for one not created yet."""

    id: str
    name: str
    metadata: str
    trunk_ids: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    inbound_numbers: tuple[str, ...] = ()
    kind: str = "individual"
    room_prefix: str = ""
    pin: str = ""
    hide_phone_number: bool = False
    agents: tuple[tuple[str, str], ...] = ()


@asynccontextmanager
async def _sip_api(doing: str, *, timeout: float | None = None) -> AsyncIterator[api.sip_service.SipService]:
    """LiveKit's SIP service, with `_server_api`'s limits. Raises LiveKitNotConfigured, SipNotConnected (no
    Redis), TransferRefused (an error carrying a SIP status: the far end of a call refused), LiveKitRefused (any
    other error answer, with LiveKit's message), LiveKitUnavailable (unreachable, too slow)."""
    async with _server_api(doing, timeout=timeout) as lkapi:
        try:
            yield lkapi.sip
        except api.SipCallError as exc:
            logger.info("LiveKit could not %s: %s", doing, exc)
            raise TransferRefused(exc.sip_status_code, exc.sip_status or exc.message) from None
        except api.TwirpError as exc:
            logger.warning("LiveKit refused to %s: %s %s %s", doing, exc.status, exc.code, exc.message)
            refused = SipNotConnected if "sip not connected" in (exc.message or "") else LiveKitRefused
            raise refused(doing, exc.status, exc.code, exc.message) from exc


def _new(thing: str, given_id: str) -> None:
    """Refuses to send a create for a trunk or rule that has an id, as LiveKit would ("trunk id must not be set",
    "rule id must not be set": livekit/protocol's Create*Request.Validate): ValueError, a bug of ours."""
    if given_id:
        raise ValueError(f"a {thing} to create has no id yet; LiveKit refuses one ({given_id!r} given)")


def _trunk(info: api.SIPInboundTrunkInfo) -> SipTrunk:
    return SipTrunk(
        id=info.sip_trunk_id, name=info.name, metadata=info.metadata, numbers=tuple(sorted(info.numbers)),
        allowed_addresses=tuple(sorted(info.allowed_addresses)), allowed_numbers=tuple(sorted(info.allowed_numbers)),
        auth_username=info.auth_username, auth_password=info.auth_password,
    )  # fmt: skip


def _trunk_info(trunk: SipTrunk) -> api.SIPInboundTrunkInfo:
    return api.SIPInboundTrunkInfo(
        sip_trunk_id=trunk.id, name=trunk.name, metadata=trunk.metadata, numbers=trunk.numbers,
        allowed_addresses=trunk.allowed_addresses, allowed_numbers=trunk.allowed_numbers,
        auth_username=trunk.auth_username, auth_password=trunk.auth_password,
    )  # fmt: skip


_RULE_KINDS = {
    "dispatch_rule_individual": "individual", "dispatch_rule_direct": "direct", "dispatch_rule_callee": "callee",
}  # fmt: skip


def _rule(info: api.SIPDispatchRuleInfo) -> SipRule:
    which = info.rule.WhichOneof("rule")
    kind = getattr(info.rule, which) if which else None
    return SipRule(
        id=info.sip_dispatch_rule_id, name=info.name, metadata=info.metadata, trunk_ids=tuple(info.trunk_ids),
        numbers=tuple(info.numbers), inbound_numbers=tuple(info.inbound_numbers), kind=_RULE_KINDS.get(which, ""),
        room_prefix=getattr(kind, "room_prefix", "") or getattr(kind, "room_name", ""),
        pin=getattr(kind, "pin", ""), hide_phone_number=info.hide_phone_number,
        agents=tuple((a.agent_name, a.metadata) for a in info.room_config.agents),
    )  # fmt: skip


def _rule_info(rule: SipRule) -> api.SIPDispatchRuleInfo:
    if rule.kind != "individual":
        raise ValueError(f"maitre makes individual dispatch rules only, not {rule.kind!r}")
    return api.SIPDispatchRuleInfo(
        sip_dispatch_rule_id=rule.id, name=rule.name, metadata=rule.metadata, trunk_ids=rule.trunk_ids,
        numbers=rule.numbers, inbound_numbers=rule.inbound_numbers, hide_phone_number=rule.hide_phone_number,
        rule=api.SIPDispatchRule(
            dispatch_rule_individual=api.SIPDispatchRuleIndividual(room_prefix=rule.room_prefix, pin=rule.pin)
        ),
        room_config=api.RoomConfiguration(
            agents=[api.RoomAgentDispatch(agent_name=name, metadata=metadata) for name, metadata in rule.agents]
        ),
    )  # fmt: skip


async def list_sip_inbound_trunks() -> list[SipTrunk]:
    """Every inbound SIP trunk LiveKit has, maitre's and others'. Raises as `_sip_api` says."""
    async with _sip_api("list the inbound SIP trunks") as sip:
        answer = await sip.list_inbound_trunk(api.ListSIPInboundTrunkRequest())
    return [_trunk(info) for info in answer.items]


async def create_sip_inbound_trunk(trunk: SipTrunk) -> SipTrunk:
    """Creates `trunk` (whose id must be "": ValueError otherwise) and returns it as LiveKit stored it, with its
    new "ST_..." id. Raises as `_sip_api` says (LiveKitRefused e.g. when another trunk already holds one of the
    numbers)."""
    _new("trunk", trunk.id)
    async with _sip_api(f"create the inbound SIP trunk {trunk.name!r}") as sip:
        created = await sip.create_inbound_trunk(api.CreateSIPInboundTrunkRequest(trunk=_trunk_info(trunk)))
    return _trunk(created)


async def update_sip_inbound_trunk(trunk: SipTrunk) -> SipTrunk:
    """Replaces the trunk `trunk.id` with `trunk` as a whole. Raises as `_sip_api` says."""
    async with _sip_api(f"update the inbound SIP trunk {trunk.id}") as sip:
        return _trunk(await sip.update_inbound_trunk(trunk.id, _trunk_info(trunk)))


async def delete_sip_trunk(trunk_id: str) -> None:
    """Deletes the trunk "ST_..."; one already gone is fine. Raises as `_sip_api` says."""
    async with _sip_api(f"delete the SIP trunk {trunk_id}") as sip:
        try:
            await sip.delete_trunk(api.DeleteSIPTrunkRequest(sip_trunk_id=trunk_id))
        except api.TwirpError as exc:
            if exc.status != 404:
                raise


async def list_sip_dispatch_rules() -> list[SipRule]:
    """Every SIP dispatch rule LiveKit has, maitre's and others'. Raises as `_sip_api` says."""
    async with _sip_api("list the SIP dispatch rules") as sip:
        answer = await sip.list_dispatch_rule(api.ListSIPDispatchRuleRequest())
    return [_rule(info) for info in answer.items]


async def create_sip_dispatch_rule(rule: SipRule) -> SipRule:
    """Creates `rule` (an individual rule whose id is "": ValueError otherwise) and returns it as LiveKit stored
    it, with its new "SDR_..." id. Raises as `_sip_api` says, and SipServerTooOld when the server is older than
    SIP_MINIMUM_VERSIONS: it answers "missing rule" to a rule sent whole in `dispatch_rule`, reading only the
    legacy fields, which cannot hold the called number."""
    _new("dispatch rule", rule.id)
    doing = f"create the SIP dispatch rule {rule.name!r}"
    request = api.CreateSIPDispatchRuleRequest(dispatch_rule=_rule_info(rule))
    try:
        async with _sip_api(doing) as sip:
            created = await sip.create_dispatch_rule(request)
    except LiveKitRefused as exc:
        if exc.status == 400 and exc.message == "missing rule":
            raise SipServerTooOld(doing, exc.status, exc.code, exc.message) from exc
        raise
    return _rule(created)


async def update_sip_dispatch_rule(rule: SipRule) -> SipRule:
    """Replaces the rule `rule.id` with `rule` as a whole (individual only, else ValueError). Raises as
    `_sip_api` says."""
    info = _rule_info(rule)
    async with _sip_api(f"update the SIP dispatch rule {rule.id}") as sip:
        return _rule(await sip.update_dispatch_rule(rule.id, info))


async def delete_sip_dispatch_rule(rule_id: str) -> None:
    """Deletes the rule "SDR_..."; one already gone is fine. Raises as `_sip_api` says."""
    async with _sip_api(f"delete the SIP dispatch rule {rule_id}") as sip:
        try:
            await sip.delete_dispatch_rule(api.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id=rule_id))
        except api.TwirpError as exc:
            if exc.status != 404:
                raise


async def transfer_sip_participant(*, room_name: str, participant_identity: str, transfer_to: str) -> None:
    """Puts the phone caller `participant_identity` ("sip_+447700900123") in `room_name` through to
    `transfer_to` ("tel:+15105550199", E.164 after "tel:"): LiveKit's SIP bridge sends the caller's side a REFER
    and returns once the far end accepted (about a second; the bridge then hangs up its leg, so the caller
    leaves the room) or refused.

    The far end rings for at most TRANSFER_RINGING_TIMEOUT seconds; the whole call is bounded by
    TRANSFER_TIMEOUT. Raises ValueError for an empty or over-long room or identity, or a `transfer_to` that is
    not "tel:+<E.164>"; TransferRefused (the far end refused or did not answer: the caller is still on the
    line); LiveKitNotConfigured; SipNotConnected; LiveKitRefused (e.g. no such participant: the caller hung up);
    LiveKitUnavailable (unreachable, too slow).
    """
    for name, value in (("room_name", room_name), ("participant_identity", participant_identity)):
        if not 0 < len(value) <= MAX_SIP_NAME:
            raise ValueError(f"{name} must be 1 to {MAX_SIP_NAME} characters")
    if not TRANSFER_TO.match(transfer_to):
        raise ValueError(f'transfer_to must be "tel:" and an E.164 number, e.g. tel:+15105550199, not {transfer_to!r}')
    request = api.TransferSIPParticipantRequest(
        room_name=room_name, participant_identity=participant_identity, transfer_to=transfer_to,
        ringing_timeout=Duration(seconds=TRANSFER_RINGING_TIMEOUT),
    )  # fmt: skip
    async with _sip_api(f"transfer {participant_identity} to {transfer_to}", timeout=TRANSFER_TIMEOUT) as sip:
        answer = await sip.transfer_sip_participant(request, timeout=TRANSFER_TIMEOUT)
    # livekit-server 1.9 answers an empty message on success; later ones also say how the transfer ended.
    if answer.status == api.SIPTransferStatus.STS_TRANSFER_FAILED:
        code = answer.sip_status.code or None
        raise TransferRefused(code, answer.sip_status.status or api.SIPTransferReason.Name(answer.reason))


# --- Doctor: does LiveKit answer, and does a worker take jobs? (manage.py doctor) ----------------------------

DOCTOR_ROOM = re.compile(r"^doctor-[0-9a-f]{32}$")
# The job metadata of doctor's dispatch: agent_worker.metadata.DOCTOR_METADATA, byte for byte (dispatch does not
# import agent_worker). The worker joins, stays until the room is deleted, and starts no model.
DOCTOR_JOB_METADATA = {"doctor": True}
# Seconds LiveKit keeps doctor's room should doctor die before deleting it (the agent does not count).
DOCTOR_ROOM_EMPTY_TIMEOUT = 10
DOCTOR_POLL_INTERVAL = 0.2  # seconds between two ListParticipants while doctor waits for the agent


class LiveKitCheckFailed(LiveKitUnavailable):
    """Why a doctor check could not talk to LiveKit. `problem` is one of:
    "key" (LiveKit answered 401: the API key or secret is wrong), "unreachable" (no connection to the URL:
    refused, no such host...), "timeout" (no answer in time), "refused" (another error status); `detail` is
    what LiveKit or the connection said."""

    def __init__(self, problem: str, detail: str):
        super().__init__(f"{problem}: {detail}")
        self.problem, self.detail = problem, detail


@asynccontextmanager
async def _doctor_api(doing: str, timeout: float) -> AsyncIterator[api.LiveKitAPI]:
    """_server_api bounded by `timeout` seconds, its failures as LiveKitCheckFailed."""
    try:
        async with _server_api(doing, timeout=timeout) as lkapi:
            yield lkapi
    except LiveKitUnavailable as exc:
        cause = exc.__cause__
        if isinstance(cause, api.TwirpError):
            problem = "key" if cause.status == 401 else "refused"
            raise LiveKitCheckFailed(problem, f"{cause.status} {cause.message}".strip()) from None
        if isinstance(cause, TimeoutError):
            raise LiveKitCheckFailed("timeout", f"no answer within {timeout:g} s") from None
        raise LiveKitCheckFailed("unreachable", str(cause) or type(cause).__name__) from None


async def count_rooms(*, timeout: float) -> int:
    """How many rooms LiveKit has open (ListRooms): a cheap read that proves the server answers at LIVEKIT_URL
    and accepts LIVEKIT_API_KEY / LIVEKIT_API_SECRET. Raises LiveKitNotConfigured, or LiveKitCheckFailed within
    `timeout` seconds."""
    async with _doctor_api("list rooms", timeout) as lkapi:
        rooms = await lkapi.room.list_rooms(api.ListRoomsRequest())
    return len(rooms.rooms)


@dataclass(frozen=True)
class DoctorVisit:
    """What doctor's throwaway room saw: its name, the agent participant's identity ("agent-AJ_...") and the
    seconds from the dispatch until it was listed, or identity None when no agent came within the wait."""

    room_name: str
    agent_identity: str | None
    seconds: float


async def doctor_visit(*, wait: float, timeout: float) -> DoctorVisit:
    """Dispatch the agent named LIVEKIT_AGENT_NAME to a fresh room "doctor-<uuid4 hex>" with job metadata
    DOCTOR_JOB_METADATA, list the room's participants every DOCTOR_POLL_INTERVAL seconds until one of kind
    AGENT is there or `wait` seconds have passed, then delete the room (always, also on failure).

    The room is created first with an empty timeout of DOCTOR_ROOM_EMPTY_TIMEOUT seconds, so LiveKit closes it
    even if doctor dies before deleting it (a failed deletion is logged, not raised). No Call has such a room.
    Each server call is bounded by `timeout` seconds. Raises LiveKitNotConfigured or LiveKitCheckFailed.
    """
    room_name = f"doctor-{uuid.uuid4().hex}"
    loop = asyncio.get_running_loop()
    async with _doctor_api(f"open doctor's room {room_name}", timeout) as lkapi:
        await lkapi.room.create_room(
            api.CreateRoomRequest(name=room_name, empty_timeout=DOCTOR_ROOM_EMPTY_TIMEOUT, departure_timeout=1)
        )
    try:
        async with _doctor_api(f"dispatch the agent to {room_name}", timeout) as lkapi:
            await lkapi.agent_dispatch.create_dispatch(
                api.CreateAgentDispatchRequest(
                    agent_name=settings.LIVEKIT_AGENT_NAME, room=room_name, metadata=json.dumps(DOCTOR_JOB_METADATA)
                )
            )
        started = loop.time()
        while True:
            async with _doctor_api(f"list the participants of {room_name}", timeout) as lkapi:
                people = await lkapi.room.list_participants(api.ListParticipantsRequest(room=room_name))
            agent = next((p for p in people.participants if p.kind == api.ParticipantInfo.Kind.AGENT), None)
            waited = loop.time() - started
            if agent is not None:
                return DoctorVisit(room_name, agent.identity, waited)
            if waited >= wait:
                return DoctorVisit(room_name, None, waited)
            await asyncio.sleep(DOCTOR_POLL_INTERVAL)
    finally:
        try:
            async with _doctor_api(f"delete doctor's room {room_name}", timeout) as lkapi:
                await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))
        except LiveKitCheckFailed as exc:
            logger.info("doctor's room %s was not deleted (%s); LiveKit closes it after %s s", room_name, exc,
                        DOCTOR_ROOM_EMPTY_TIMEOUT)  # fmt: skip
