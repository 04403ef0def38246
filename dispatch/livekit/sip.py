"""LiveKit's SIP service: inbound trunks and dispatch rules (phone numbers into rooms), and transfers of a
phone caller to a person. dispatch/phone_lines.py decides what they should be."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from google.protobuf.duration_pb2 import Duration
from livekit import api

from .client import LiveKitUnavailable, server_api

logger = logging.getLogger("maitre.dispatch")


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
    async with server_api(doing, timeout=timeout) as lkapi:
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
