"""A contract fake of LiveKit's Twirp server API (RoomService, AgentDispatchService and the SIP service) that
refuses what livekit-server refuses, in its words, from shared/LIVEKIT.md and LiveKit's own source.

Every request goes through the steps livekit-server takes, in its order, each a small function below naming
the upstream function it ports (livekit/livekit `pkg/service/...`, livekit/protocol `livekit/sip.go`,
`livekit/sip_validation.go`, `livekit/types.go`, `sip/sip.go`, and twitchtv/twirp's generated server code):

1. the API key middleware (`pkg/service/auth.go` APIKeyAuthMiddleware.ServeHTTP): an Authorization header not
   starting "Bearer ", a token that does not parse, an unknown API key or a bad signature / expired token is
   401 `text/plain` (not Twirp JSON); no token at all goes on with no grants;
2. Twirp's routing and decoding (`protoc-gen-twirp` ServeHTTP / serveX): an unknown path or a Content-Type
   other than JSON or protobuf is 404 `bad_route`, an undecodable body 400 `malformed`;
3. the method's own checks (`pkg/service/sip.go`, `roomservice.go`, `agent_dispatch_service.go`): the grant
   it needs (401 `unauthenticated` "permissions denied"), Redis for SIP (500 `internal` "sip not connected
   (redis required)"), the request's `Validate()` (400 `invalid_argument` with the error's text), then the
   store: unknown ids (404 `not_found`), conflicts between trunks or between dispatch rules (400).

It keeps the rooms, trunks ("ST_...") and dispatch rules ("SDR_...") that exist, answers in the request's
encoding, and records requests (`requests`, `methods`, `sip_writes`, `dispatches`, `transfers`).
Nothing a client sends is silently dropped or rewritten: a create that carries an id is refused, as
livekit-server refuses it (issue 17).

Which LiveKit: by default the newer server (1.9.x, current livekit/protocol). `as_livekit_1_8()` turns it into
the 1.8 line (livekit-server 1.8.3 was seen to answer so, shared/LIVEKIT.md): CreateSIPDispatchRule reads only
the legacy top-level fields of the request (`rule`, `trunk_ids`, `name`, ..., never `dispatch_rule`, and so no
`numbers` filter) and answers 400 "missing rule" when `rule` is unset; dispatch rule conflicts are keyed
without the called number; header names are checked with the older pattern; a transfer's `transfer_to` is
not checked.

Tests can make it misbehave: `fail_with(status, body)` answers every request that way, `delay` (seconds)
stalls before answering. `sip_without_redis()` answers every SIP method 500 "sip not connected (redis
required)", as a server without Redis does. A transfer is accepted (an empty answer, as livekit-server 1.9
gives) when the caller is one of `sip_callers` and `refuse_transfers(sip_status)` is not set.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from livekit.protocol import agent_dispatch, models, room, sip

# LiveKit's defaults for a room made implicitly (by a dispatch), seen in a real room_started webhook.
DEFAULT_EMPTY_TIMEOUT, DEFAULT_DEPARTURE_TIMEOUT = 300, 20
# livekit/livekit pkg/config/config.go DefaultConfig.Limit.MaxRoomNameLength (bytes).
MAX_ROOM_NAME_LENGTH = 256

Answer = tuple[int, str, bytes]  # (HTTP status, content type, body)


# --- Twirp's error answers --------------------------------------------------------------------------------
# twitchtv/twirp errors.go ServerHTTPStatusFromErrorCode: the HTTP status of each Twirp error code.
TWIRP_HTTP_STATUS = {
    "canceled": 408, "unknown": 500, "invalid_argument": 400, "malformed": 400, "deadline_exceeded": 408,
    "not_found": 404, "bad_route": 404, "already_exists": 409, "permission_denied": 403,
    "unauthenticated": 401, "resource_exhausted": 429, "failed_precondition": 412, "aborted": 409,
    "out_of_range": 400, "unimplemented": 501, "internal": 500, "unavailable": 503, "dataloss": 500,
}  # fmt: skip


def twirp_error(code: str, msg: str, meta: dict[str, str] | None = None) -> Answer:
    """A Twirp error as the server writes it (twirp's writeError): JSON {"code", "msg"[, "meta"]}."""
    body = {"code": code, "msg": msg} | ({"meta": meta} if meta else {})
    return TWIRP_HTTP_STATUS[code], "application/json", json.dumps(body).encode()


def invalid_argument(err: str) -> Answer:
    # pkg/service/sip.go: `twirp.WrapError(twirp.NewError(twirp.InvalidArgument, err.Error()), err)` around a
    # request's Validate() error; also psrpc.NewErrorf(psrpc.InvalidArgument, ...) errors, which psrpc's
    # psrpcError.As turns into a Twirp error of the same code and message (livekit/psrpc errors.go toTwirp).
    return twirp_error("invalid_argument", err)


def internal(err: str) -> Answer:
    # A plain Go error a handler returns: twirp.InternalErrorWith(err) (code internal, the error's text, and
    # its Go type as meta "cause").
    return twirp_error("internal", err, {"cause": "*errors.errorString"})


def permission_denied() -> Answer:
    # pkg/service/auth.go twirpAuthError(ErrPermissionDenied): twirp.NewError(twirp.Unauthenticated, ...).
    return twirp_error("unauthenticated", "permissions denied")


def _bad_route(msg: str, path: str) -> Answer:
    # protoc-gen-twirp badRouteError(msg, method, path): code bad_route, meta twirp_invalid_route.
    return twirp_error("bad_route", msg, {"twirp_invalid_route": f"POST {path}"})


def _go_quote(s: str) -> str:
    """Go's %q of a string (strconv.Quote), for the printable strings LiveKit's messages quote."""
    return json.dumps(s, ensure_ascii=False)


# --- livekit/protocol livekit/sip_validation.go: SIP header names and values ---------------------------------
_TOKEN_CHARACTERS = frozenset(map(ord, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-.!%*_+`'~"))
_HEADER_VALUE_CHARACTERS = frozenset(range(0x20, 0x7F)) | {0x09}  # AddPrintableLienarASCII, plus AddUTF8
# FrobiddenSipHeaderNames (sic): headers a client may not set.
_FORBIDDEN_SIP_HEADER_NAMES = frozenset({
    "accept", "accept-encoding", "accept-language", "allow", "allow-events", "call-id", "contact",
    "content-encoding", "content-length", "content-type", "cseq", "event", "expires", "from", "max-forwards",
    "record-route", "refer-to", "reply-to", "k", "l", "m", "o", "r", "t", "u", "v",
})  # fmt: skip


def _allowed_characters(target: str, allowed: frozenset[int], utf8: bool) -> str | None:
    # allowedCharacters.Validate (an [128]bool table; utf8: any code point from 128 up is allowed).
    for char in target:
        if ord(char) >= 128:
            if utf8:
                continue
            return f"char {ord(char)} out of range, consider explicilty adding utf8 characters"
        if ord(char) not in allowed:
            return f"char {ord(char)} not allowed"
    return None


def validate_header_name(name: str, restrict_names: bool) -> str | None:
    # ValidateHeaderName(name, restrictNames)
    if name == "":
        return "header name cannot be empty"
    if len(name.encode()) > 255:
        return "header name too long (max 255 characters)"
    if err := _allowed_characters(name, _TOKEN_CHARACTERS, utf8=False):
        return f"header name {name} contains invalid characters: {err}"
    if restrict_names and name.lower() in _FORBIDDEN_SIP_HEADER_NAMES:
        return f"header name {name} not supported"
    return None


def validate_header_value(name: str, value: str) -> str | None:
    # ValidateHeaderValue(name, value)
    if value == "":
        return None
    if len(value.encode()) > 1024:
        return f"header {name}: value too long (max 1024 characters)"
    if err := _allowed_characters(value, _HEADER_VALUE_CHARACTERS, utf8=True):
        return f"header {name}: value: {err}"
    return None


# --- livekit/protocol livekit/sip.go: the header maps of trunks and transfers --------------------------------
def validate_headers(headers) -> str | None:
    # validateHeaders: names (restricted) and values of headers LiveKit sends.
    for name, value in headers.items():
        if err := validate_header_name(name, True):
            return f"invalid header name: {err}"
        if err := validate_header_value(name, value):
            return f"invalid header value for {name}: {err}"
    return None


def validate_attributes_to_headers(attributes_to_headers) -> str | None:
    # validateAttributesToHeaders: the map's values are header names.
    for name in attributes_to_headers.values():
        if err := validate_header_name(name, False):
            return f"invalid header name: {err}"
    return None


def validate_headers_to_attributes(headers_to_attributes) -> str | None:
    # validateHeaderToAttributes: the map's keys are header names.
    for name in headers_to_attributes:
        if err := validate_header_name(name, False):
            return f"invalid header name: {err}"
    return None


_LEGACY_HEADER = re.compile(r"^[a-zA-Z][a-zA-Z0-9\-]*$")


def validate_header_keys_1_8(headers) -> str | None:
    # The 1.8 line's livekit/sip.go validateHeaderKeys / validateHeader: `^[a-zA-Z][a-zA-Z0-9\-]*$`.
    for name in headers:
        if not _LEGACY_HEADER.match(name):
            return f"invalid header name: {_go_quote(name)}"
    return None


# --- livekit/protocol livekit/sip.go: trunks ----------------------------------------------------------------
def sip_inbound_trunk_info_validate(info: sip.SIPInboundTrunkInfo, version: str = "1.9") -> str | None:
    # SIPInboundTrunkInfo.Validate
    has_auth = info.auth_username != "" or info.auth_password != ""
    if not has_auth and not info.allowed_addresses and not info.numbers:
        return "for security, one of the fields must be set: AuthUsername+AuthPassword, AllowedAddresses or Numbers"
    if version == "1.8":  # the 1.8 line checked header names with one pattern
        return (
            validate_header_keys_1_8(info.headers)
            or validate_header_keys_1_8(info.headers_to_attributes)
            or validate_header_keys_1_8(list(info.attributes_to_headers.values()))
        )
    return (
        validate_headers(info.headers)
        or validate_attributes_to_headers(info.attributes_to_headers)
        or validate_headers_to_attributes(info.headers_to_attributes)
    )


def create_sip_inbound_trunk_request_validate(req: sip.CreateSIPInboundTrunkRequest, version: str = "1.9"):
    # CreateSIPInboundTrunkRequest.Validate
    if not req.HasField("trunk"):
        return "missing trunk"
    if req.trunk.sip_trunk_id != "":
        return "trunk id must not be set"
    return sip_inbound_trunk_info_validate(req.trunk, version)


def list_update_validate(update: models.ListUpdate) -> str | None:
    # livekit/types.go ListUpdate.Validate
    change = len(update.set) + len(update.add) + len(update.remove) > 0
    if not update.clear and not change:
        return "unsupported list update operation"
    if update.clear and change:
        return "cannot clear and change the list at the same time"
    if update.set and (update.add or update.remove):
        return "cannot set and change the list at the same time"
    if "" in [*update.set, *update.add, *update.remove]:
        return "empty element in the list"
    return None


def _list_updates_validate(message: Message, fields: Iterable[str]) -> str | None:
    for name in fields:
        if message.HasField(name) and (err := list_update_validate(getattr(message, name))):
            return err
    return None


def sip_inbound_trunk_update_validate(update: sip.SIPInboundTrunkUpdate) -> str | None:
    # SIPInboundTrunkUpdate.Validate
    return _list_updates_validate(update, ("numbers", "allowed_addresses", "allowed_numbers"))


def update_sip_inbound_trunk_request_validate(req: sip.UpdateSIPInboundTrunkRequest, version: str = "1.9"):
    # UpdateSIPInboundTrunkRequest.Validate
    if req.sip_trunk_id == "":
        return "trunk id must be set"
    action = req.WhichOneof("action")
    if action is None:
        return "missing or unsupported update action"
    if action == "replace":
        if req.replace.sip_trunk_id not in ("", req.sip_trunk_id):
            return "trunk id in the info must be empty or match the id in the update"
        return sip_inbound_trunk_info_validate(req.replace, version)
    return sip_inbound_trunk_update_validate(req.update)


def apply_list_update(current, update: models.ListUpdate) -> list[str]:
    # livekit/types.go applyListUpdate
    if update.clear:
        return []
    if update.set:
        return list(update.set)
    values = list(current)
    for value in update.remove:
        if value in values:
            values.remove(value)
    values += [value for value in update.add if value not in values]
    return values


def _apply_updates(info: Message, update: Message, lists: Iterable[str], scalars: Iterable[str]) -> None:
    # livekit/types.go applyListUpdate / applyUpdate / applyUpdatePtr: a field the update carries replaces it.
    for name in lists:
        if update.HasField(name):
            values = apply_list_update(getattr(info, name), getattr(update, name))
            del getattr(info, name)[:]
            getattr(info, name).extend(values)
    for name in scalars:
        if update.HasField(name):
            value = getattr(update, name)
            if isinstance(value, Message):
                getattr(info, name).CopyFrom(value)
            else:
                setattr(info, name, value)


def update_sip_inbound_trunk_apply(req: sip.UpdateSIPInboundTrunkRequest, stored: sip.SIPInboundTrunkInfo,
                                   version: str = "1.9") -> tuple[sip.SIPInboundTrunkInfo, str | None]:  # fmt: skip
    # UpdateSIPInboundTrunkRequest_Replace.Apply (a copy of `replace` keeping the stored id) and
    # UpdateSIPInboundTrunkRequest_Update.Apply -> SIPInboundTrunkUpdate.Apply (the fields it carries, then
    # the trunk's Validate again). Returns (the trunk, an error's text or None).
    info = sip.SIPInboundTrunkInfo()
    if req.WhichOneof("action") == "replace":
        info.CopyFrom(req.replace)
        if stored.sip_trunk_id:
            info.sip_trunk_id = stored.sip_trunk_id
        return info, sip_inbound_trunk_info_validate(info, version)
    info.CopyFrom(stored)
    update = req.update
    if err := sip_inbound_trunk_update_validate(update):
        return info, err
    _apply_updates(
        info, update, lists=("numbers", "allowed_addresses", "allowed_numbers"),
        scalars=("auth_username", "auth_password", "name", "metadata", "media_encryption"),
    )  # fmt: skip
    return info, sip_inbound_trunk_info_validate(info, version)


# --- livekit/protocol livekit/sip.go: dispatch rules --------------------------------------------------------
def dispatch_rule_info(req: sip.CreateSIPDispatchRuleRequest) -> sip.SIPDispatchRuleInfo:
    # CreateSIPDispatchRuleRequest.DispatchRuleInfo: `dispatch_rule` when the request has one, else a rule
    # made of the legacy top-level fields.
    if req.HasField("dispatch_rule"):
        return _copy(req.dispatch_rule)
    return _legacy_dispatch_rule_info(req, with_room_preset=True)


def _legacy_dispatch_rule_info(req: sip.CreateSIPDispatchRuleRequest, with_room_preset: bool):
    info = sip.SIPDispatchRuleInfo(
        trunk_ids=req.trunk_ids, inbound_numbers=req.inbound_numbers, hide_phone_number=req.hide_phone_number,
        name=req.name, metadata=req.metadata, attributes=req.attributes,
    )  # fmt: skip
    if with_room_preset:
        info.room_preset = req.room_preset
    if req.HasField("rule"):
        info.rule.CopyFrom(req.rule)
    if req.HasField("room_config"):
        info.room_config.CopyFrom(req.room_config)
    return info


def dispatch_rule_info_1_8(req: sip.CreateSIPDispatchRuleRequest) -> sip.SIPDispatchRuleInfo:
    # livekit-server 1.8 pkg/service/sip.go CreateSIPDispatchRule (livekit/livekit commit 60a09cb): the rule
    # is built from the legacy fields only (Rule, TrunkIds, InboundNumbers, HidePhoneNumber, Name, Metadata,
    # Attributes, RoomConfig); `dispatch_rule` is not read.
    return _legacy_dispatch_rule_info(req, with_room_preset=False)


def sip_dispatch_rule_info_validate(info: sip.SIPDispatchRuleInfo) -> str | None:
    # SIPDispatchRuleInfo.Validate
    if not info.HasField("rule"):
        return "missing rule"
    return None


def create_sip_dispatch_rule_request_validate(req: sip.CreateSIPDispatchRuleRequest) -> str | None:
    # CreateSIPDispatchRuleRequest.Validate
    if not req.HasField("dispatch_rule"):  # legacy
        return sip_dispatch_rule_info_validate(dispatch_rule_info(req))
    if req.dispatch_rule.sip_dispatch_rule_id != "":
        return "rule id must not be set"
    return sip_dispatch_rule_info_validate(req.dispatch_rule)


def create_sip_dispatch_rule_request_validate_1_8(req: sip.CreateSIPDispatchRuleRequest) -> str | None:
    # The 1.8 line's CreateSIPDispatchRuleRequest.Validate: only the legacy `rule` is looked at.
    if not req.HasField("rule"):
        return "missing rule"
    return None


def sip_dispatch_rule_update_validate(update: sip.SIPDispatchRuleUpdate) -> str | None:
    # SIPDispatchRuleUpdate.Validate
    return _list_updates_validate(update, ("trunk_ids",))


def update_sip_dispatch_rule_request_validate(req: sip.UpdateSIPDispatchRuleRequest) -> str | None:
    # UpdateSIPDispatchRuleRequest.Validate
    if req.sip_dispatch_rule_id == "":
        return "rule id must be set"
    action = req.WhichOneof("action")
    if action is None:
        return "missing or unsupported update action"
    if action == "replace":
        if req.replace.sip_dispatch_rule_id not in ("", req.sip_dispatch_rule_id):
            return "rule id in the info must be empty or match the id in the update"
        return sip_dispatch_rule_info_validate(req.replace)
    return sip_dispatch_rule_update_validate(req.update)


def update_sip_dispatch_rule_apply(req: sip.UpdateSIPDispatchRuleRequest, stored: sip.SIPDispatchRuleInfo):
    # UpdateSIPDispatchRuleRequest_Replace.Apply / UpdateSIPDispatchRuleRequest_Update.Apply ->
    # SIPDispatchRuleUpdate.Apply (attributes as a diff: an empty value deletes the key).
    info = sip.SIPDispatchRuleInfo()
    if req.WhichOneof("action") == "replace":
        info.CopyFrom(req.replace)
        if stored.sip_dispatch_rule_id:
            info.sip_dispatch_rule_id = stored.sip_dispatch_rule_id
        return info, sip_dispatch_rule_info_validate(info)
    info.CopyFrom(stored)
    update = req.update
    if err := sip_dispatch_rule_update_validate(update):
        return info, err
    scalars = ("rule", "media", "name", "metadata", "media_encryption")
    _apply_updates(info, update, lists=("trunk_ids",), scalars=scalars)
    for key, value in update.attributes.items():  # applyMapDiff
        if value:
            info.attributes[key] = value
        else:
            info.attributes.pop(key, None)
    return info, sip_dispatch_rule_info_validate(info)


# --- livekit/protocol livekit/sip.go: transfers ---------------------------------------------------------------
def transfer_sip_participant_request_validate(req: sip.TransferSIPParticipantRequest) -> str | None:
    # TransferSIPParticipantRequest.Validate; like upstream it rewrites `transfer_to` as it goes (a SIP URI
    # in angle brackets, a tel: URI without).
    if req.room_name == "":
        return "missing room name"
    if req.participant_identity == "":
        return "missing participant identity"
    if req.transfer_to == "":
        return "missing transfer to"
    inner = req.transfer_to
    if inner.startswith("<") and inner.endswith(">"):
        inner = inner[1:-1]
    if not inner.startswith(("sip:", "sips:", "tel:")):
        return "transfer_to must be a valid SIP(s) or TEL URI (sip:, sips: or tel:)"
    req.transfer_to = f"<{inner}>" if inner.startswith(("sip:", "sips:")) else inner
    return validate_headers(req.headers)


# --- livekit/protocol livekit/sip.go: list filters ------------------------------------------------------------
_NUMBER = re.compile(r"^\+?[\d\- ()]+$")


def normalize_number(number: str) -> str:
    # NormalizeNumber
    if number == "" or not _NUMBER.match(number):
        return number
    number = re.sub(r"[ \-()]", "", number)
    return number if number.startswith("+") else "+" + number


def list_sip_inbound_trunk_filter(req: sip.ListSIPInboundTrunkRequest, info: sip.SIPInboundTrunkInfo) -> bool:
    # ListSIPInboundTrunkRequest.Filter
    if req.trunk_ids and info.sip_trunk_id not in req.trunk_ids:
        return False
    if req.numbers and info.numbers:
        wanted = {normalize_number(n) for n in req.numbers}
        return any(n in req.numbers or normalize_number(n) in wanted for n in info.numbers)
    return True


def list_sip_dispatch_rule_filter(req: sip.ListSIPDispatchRuleRequest, info: sip.SIPDispatchRuleInfo) -> bool:
    # ListSIPDispatchRuleRequest.Filter
    if req.dispatch_rule_ids and info.sip_dispatch_rule_id not in req.dispatch_rule_ids:
        return False
    if req.trunk_ids and info.trunk_ids:
        return any(trunk_id in req.trunk_ids for trunk_id in info.trunk_ids)
    return True


# --- livekit/protocol sip/sip.go: conflicts between trunks, and between dispatch rules -----------------------
def _print_id(s: str) -> str:
    return s or "<new>"  # printID


def _print_numbers(numbers) -> str:
    # printNumbers: Go's %q of a []string, e.g. ["+15105550100" "+442079460018"]
    return "[" + " ".join(map(_go_quote, numbers)) + "]" if numbers else "<any>"


def _validate_trunk_inbound(by_inbound: dict, trunk: sip.SIPInboundTrunkInfo) -> Answer | None:
    # validateTrunkInbound: per called number, one trunk without AllowedNumbers, and one per allowed number.
    if not trunk.allowed_numbers:
        if (other := by_inbound.get("")) is not None:
            return invalid_argument(
                f"Conflicting inbound SIP Trunks: {_go_quote(_print_id(trunk.sip_trunk_id))} and "
                f"{_go_quote(_print_id(other.sip_trunk_id))}, using the same number(s) "
                f"{_print_numbers(trunk.numbers)} without AllowedNumbers set"
            )
        by_inbound[""] = trunk
        return None
    for number in trunk.allowed_numbers:
        key = normalize_number(number)
        if (other := by_inbound.get(key)) is not None:
            return invalid_argument(
                f"Conflicting inbound SIP Trunks: {_go_quote(_print_id(trunk.sip_trunk_id))} and "
                f"{_go_quote(_print_id(other.sip_trunk_id))}, using the same number(s) "
                f"{_print_numbers(trunk.numbers)} and AllowedNumber {_go_quote(number)}"
            )
        by_inbound[key] = trunk
    return None


def validate_trunks(trunks: Iterable[sip.SIPInboundTrunkInfo]) -> Answer | None:
    # ValidateTrunksIter: trunks grouped by called number as given (not normalized; "" for no numbers).
    by_number: dict[str, dict] = {}
    for trunk in trunks:
        for number in list(trunk.numbers) or [""]:
            if error := _validate_trunk_inbound(by_number.setdefault(number, {}), trunk):
                return error
    return None


def get_pin_and_room(info: sip.SIPDispatchRuleInfo) -> tuple[str, str, str | None]:
    # GetPinAndRoom: (room name or prefix, pin, error's text)
    kind = info.rule.WhichOneof("rule")
    if kind is None:
        return "", "", "Unsupported SIP Dispatch Rule: <nil>"  # Go's %T of the unset oneof
    rule = getattr(info.rule, kind)
    return getattr(rule, "room_name", "") or getattr(rule, "room_prefix", ""), rule.pin, None


def validate_dispatch_rules(rules: Iterable[sip.SIPDispatchRuleInfo]) -> Answer | None:
    # ValidateDispatchRulesIter -> DispatchRuleValidator.Validate: one rule per (PIN, trunk, caller's number,
    # called number); an empty list matches all, and collides only with other rules that leave it empty.
    by_key: dict[tuple, sip.SIPDispatchRuleInfo] = {}
    for rule in rules:
        _room, pin, err = get_pin_and_room(rule)
        if err:
            return internal(err)  # a plain error: DispatchRuleValidator returns it as is
        for trunk in list(rule.trunk_ids) or [""]:
            for inbound in list(rule.inbound_numbers) or [""]:
                for number in list(rule.numbers) or [""]:
                    key = (pin, trunk, normalize_number(number), normalize_number(inbound))
                    if (other := by_key.get(key)) is not None:
                        return invalid_argument(
                            "Dispatch rule for the same trunk, inbound number, number, and PIN combination "
                            f"already exists in dispatch rule {_go_quote(_print_id(other.sip_dispatch_rule_id))} "
                            f"{_go_quote(other.name or '<blank name>')}"  # printName
                        )
                    by_key[key] = rule
    return None


def validate_dispatch_rules_1_8(rules: Iterable[sip.SIPDispatchRuleInfo]) -> Answer | None:
    # The 1.8 line's sip/sip.go DispatchRuleValidator.Validate (livekit/protocol commit 40bc980): the key is
    # (PIN, trunk, caller's number); rules had no called-number filter yet.
    by_key: dict[tuple, sip.SIPDispatchRuleInfo] = {}
    for rule in rules:
        _room, pin, err = get_pin_and_room(rule)
        if err:
            return internal(err)
        for trunk in list(rule.trunk_ids) or [""]:
            for inbound in list(rule.inbound_numbers) or [""]:
                key = (pin, trunk, normalize_number(inbound))
                if (other := by_key.get(key)) is not None:
                    return invalid_argument(
                        "Conflicting SIP Dispatch Rules: same Trunk+Number+PIN combination for for "
                        f"{_go_quote(_print_id(rule.sip_dispatch_rule_id))} and "
                        f"{_go_quote(_print_id(other.sip_dispatch_rule_id))}"
                    )
                by_key[key] = rule
    return None


def _copy(message: Message) -> Message:
    copy = type(message)()
    copy.CopyFrom(message)
    return copy


def _sip_id(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(9)[:12]


# --- the grants each method needs (livekit/livekit pkg/service/auth.go) --------------------------------------
Step = Callable[[Message, dict | None], Answer | None]


def _video(claims: dict | None) -> dict:
    return (claims or {}).get("video") or {}


def ensure_create_permission(request: Message, claims: dict | None) -> Answer | None:
    # EnsureCreatePermission: video.roomCreate
    return None if _video(claims).get("roomCreate") else permission_denied()


def ensure_list_permission(request: Message, claims: dict | None) -> Answer | None:
    # EnsureListPermission: video.roomList
    return None if _video(claims).get("roomList") else permission_denied()


def ensure_admin_permission(room_field: str) -> Step:
    # EnsureAdminPermission(ctx, room): video.roomAdmin, and video.room is the request's room (exactly)
    def check(request: Message, claims: dict | None) -> Answer | None:
        video = _video(claims)
        ok = bool(claims) and video.get("roomAdmin") and video.get("room", "") == getattr(request, room_field)
        return None if ok else permission_denied()

    check.__name__ = f"ensure_admin_permission({room_field})"
    return check


def ensure_sip_admin_permission(request: Message, claims: dict | None) -> Answer | None:
    # EnsureSIPAdminPermission: sip.admin
    return None if ((claims or {}).get("sip") or {}).get("admin") else permission_denied()


def ensure_sip_call_permission(request: Message, claims: dict | None) -> Answer | None:
    # EnsureSIPCallPermission: sip.call
    return None if ((claims or {}).get("sip") or {}).get("call") else permission_denied()


def validated(validate: Callable[[Message], str | None]) -> Step:
    """A request's Validate() as a step: its error is 400 invalid_argument with the error's text."""

    def check(request: Message, claims: dict | None) -> Answer | None:
        err = validate(request)
        return invalid_argument(err) if err else None

    check.__name__ = f"validated({validate.__name__})"
    return check


@dataclass(frozen=True)
class Method:
    """How livekit-server serves one Twirp method: the request type, the checks it makes in order (each
    answers an error or None), and the answer once they pass (a message, or an error the store gave)."""

    request: type[Message]
    steps: tuple[Step, ...]
    answer: Callable[[Message, dict, dict], Message | Answer]


# SIP statuses a transfer's far end may answer with, as livekit-sip maps them to Twirp errors (the older
# livekit/sip.go SIPStatus.GRPCStatus switch; the current sipCodeToGRPCCode table makes 486 resource_exhausted).
_SIP_REFUSALS = {
    403: ("Forbidden", "permission_denied", 403),
    404: ("Not Found", "not_found", 404),
    408: ("Request Timeout", "deadline_exceeded", 408),
    486: ("Busy Here", "unavailable", 503),
    603: ("Decline", "permission_denied", 403),
}


class _SipService:
    """FakeLiveKitServer's SIP methods (mixed in below, so they share its state): livekit/livekit
    pkg/service/sip.go, step by step."""

    def _sip_methods(self) -> dict[tuple[str, str], Method]:
        admin = (ensure_sip_admin_permission, self._sip_store)
        v = self._version_of
        svc = "livekit.SIP"
        return {
            # ListSIPInboundTrunk: admin grant, Redis, then the store filtered by the request.
            (svc, "ListSIPInboundTrunk"): Method(sip.ListSIPInboundTrunkRequest, admin, self._list_trunks),
            # CreateSIPInboundTrunk: admin grant, Redis, req.Validate(), then conflicts, then a new id.
            (svc, "CreateSIPInboundTrunk"): Method(
                sip.CreateSIPInboundTrunkRequest,
                (*admin, validated(v(create_sip_inbound_trunk_request_validate))), self._create_trunk,
            ),
            # UpdateSIPInboundTrunk: admin grant, Redis, req.Validate(), the stored trunk (404), Apply, conflicts.
            (svc, "UpdateSIPInboundTrunk"): Method(
                sip.UpdateSIPInboundTrunkRequest,
                (*admin, validated(v(update_sip_inbound_trunk_request_validate))), self._update_trunk,
            ),
            # DeleteSIPTrunk: admin grant, Redis, an id ("trunk ID is required"); an unknown id is deleted too.
            (svc, "DeleteSIPTrunk"): Method(
                sip.DeleteSIPTrunkRequest, (*admin, validated(delete_sip_trunk_request_check)), self._delete_trunk
            ),
            # ListSIPDispatchRule: admin grant, Redis, then the store filtered by the request.
            (svc, "ListSIPDispatchRule"): Method(sip.ListSIPDispatchRuleRequest, admin, self._list_rules),
            # CreateSIPDispatchRule: admin grant, Redis, req.Validate() (1.8: the legacy one), conflicts, an id.
            (svc, "CreateSIPDispatchRule"): Method(
                sip.CreateSIPDispatchRuleRequest, (*admin, self._validate_create_rule), self._create_rule
            ),
            # UpdateSIPDispatchRule: admin grant, Redis, req.Validate(), the stored rule (404), Apply, conflicts.
            (svc, "UpdateSIPDispatchRule"): Method(
                sip.UpdateSIPDispatchRuleRequest,
                (*admin, validated(update_sip_dispatch_rule_request_validate)), self._update_rule,
            ),
            # DeleteSIPDispatchRule: admin grant, Redis, an id, then the stored rule (404).
            (svc, "DeleteSIPDispatchRule"): Method(
                sip.DeleteSIPDispatchRuleRequest, (*admin, validated(delete_sip_dispatch_rule_request_check)),
                self._delete_rule,
            ),
            # TransferSIPParticipant (transferSIPParticipantRequest): room and identity set, SIP call grant,
            # room admin grant for that room, req.Validate() (not on 1.8), then the participant (404) and its
            # SIP call (400).
            (svc, "TransferSIPParticipant"): Method(
                sip.TransferSIPParticipantRequest,
                (
                    transfer_room_name_check, transfer_participant_identity_check, ensure_sip_call_permission,
                    ensure_admin_permission("room_name"), self._validate_transfer,
                ),
                self._transfer,
            ),
        }  # fmt: skip

    def _version_of(self, validate: Callable) -> Callable[[Message], str | None]:
        """`validate` for the server version the fake plays."""

        def for_version(request: Message) -> str | None:
            return validate(request, self.server_version)

        for_version.__name__ = validate.__name__
        return for_version

    def _sip_store(self, request: Message, claims: dict | None) -> Answer | None:
        # `if s.store == nil { return nil, ErrSIPNotConnected }` (pkg/service/errors.go ErrSIPNotConnected:
        # psrpc Internal "sip not connected (redis required)").
        return None if self.sip_redis else twirp_error("internal", "sip not connected (redis required)")

    def _validate_create_rule(self, request: Message, claims: dict | None) -> Answer | None:
        if self.server_version == "1.8":
            return validated(create_sip_dispatch_rule_request_validate_1_8)(request, claims)
        return validated(create_sip_dispatch_rule_request_validate)(request, claims)

    def _validate_transfer(self, request: Message, claims: dict | None) -> Answer | None:
        # The 1.8 line's transferSIPParticipantRequest did not call req.Validate() (livekit/livekit 60a09cb).
        if self.server_version == "1.8":
            return None
        return validated(transfer_sip_participant_request_validate)(request, claims)

    # --- trunks ---

    def _list_trunks(self, request: sip.ListSIPInboundTrunkRequest, claims: dict, headers: dict):
        items = [t for t in self.sip_trunks.values() if list_sip_inbound_trunk_filter(request, t)]
        return sip.ListSIPInboundTrunkResponse(items=items)

    def _create_trunk(self, request: sip.CreateSIPInboundTrunkRequest, claims: dict, headers: dict):
        trunk = _copy(request.trunk)  # its id is empty: Validate() refused one that was set
        # The trunks listed for the new one's numbers, then the new one ("<new>" in a conflict's message).
        listing = sip.ListSIPInboundTrunkRequest(numbers=trunk.numbers)
        others = [t for t in self.sip_trunks.values() if list_sip_inbound_trunk_filter(listing, t)]
        if error := validate_trunks([*others, trunk]):
            return error
        trunk.sip_trunk_id = _sip_id("ST_")
        self.sip_trunks[trunk.sip_trunk_id] = trunk
        return trunk

    def _update_trunk(self, request: sip.UpdateSIPInboundTrunkRequest, claims: dict, headers: dict):
        stored = self.sip_trunks.get(request.sip_trunk_id)
        if stored is None:  # LoadSIPInboundTrunk: ErrSIPTrunkNotFound, answered as twirp.NotFound
            return twirp_error("not_found", "requested sip trunk does not exist")
        trunk, err = update_sip_inbound_trunk_apply(request, stored, self.server_version)
        if err:
            return internal(err)  # Apply's errors are returned as they are
        # The stored trunks listed for the updated numbers, this one replaced by its update (WithTrunkReplace).
        listing = sip.ListSIPInboundTrunkRequest(numbers=trunk.numbers)
        others = [t for t in self.sip_trunks.values() if list_sip_inbound_trunk_filter(listing, t)]
        if error := validate_trunks([trunk if t.sip_trunk_id == trunk.sip_trunk_id else t for t in others]):
            return error
        self.sip_trunks[trunk.sip_trunk_id] = trunk
        return trunk

    def _delete_trunk(self, request: sip.DeleteSIPTrunkRequest, claims: dict, headers: dict):
        # store.DeleteSIPTrunk is a Redis HDEL: a trunk that is not there is no error.
        self.sip_trunks.pop(request.sip_trunk_id, None)
        return sip.SIPTrunkInfo(sip_trunk_id=request.sip_trunk_id)

    # --- dispatch rules ---

    def _list_rules(self, request: sip.ListSIPDispatchRuleRequest, claims: dict, headers: dict):
        items = [r for r in self.sip_rules.values() if list_sip_dispatch_rule_filter(request, r)]
        return sip.ListSIPDispatchRuleResponse(items=items)

    def _create_rule(self, request: sip.CreateSIPDispatchRuleRequest, claims: dict, headers: dict):
        if self.server_version == "1.8":
            rule, conflicts = dispatch_rule_info_1_8(request), validate_dispatch_rules_1_8
        else:
            rule, conflicts = dispatch_rule_info(request), validate_dispatch_rules
        rule.sip_dispatch_rule_id = ""
        # The rules listed for the request's (top-level) trunk_ids, then the new one.
        listing = sip.ListSIPDispatchRuleRequest(trunk_ids=request.trunk_ids)
        others = [r for r in self.sip_rules.values() if list_sip_dispatch_rule_filter(listing, r)]
        if error := conflicts([*others, rule]):
            return error
        rule.sip_dispatch_rule_id = _sip_id("SDR_")
        self.sip_rules[rule.sip_dispatch_rule_id] = rule
        return rule

    def _update_rule(self, request: sip.UpdateSIPDispatchRuleRequest, claims: dict, headers: dict):
        stored = self.sip_rules.get(request.sip_dispatch_rule_id)
        if stored is None:  # LoadSIPDispatchRule: ErrSIPDispatchRuleNotFound, answered as twirp.NotFound
            return twirp_error("not_found", "requested sip dispatch rule does not exist")
        rule, err = update_sip_dispatch_rule_apply(request, stored)
        if err:
            return internal(err)
        listing = sip.ListSIPDispatchRuleRequest(trunk_ids=rule.trunk_ids)
        others = [r for r in self.sip_rules.values() if list_sip_dispatch_rule_filter(listing, r)]
        conflicts = validate_dispatch_rules_1_8 if self.server_version == "1.8" else validate_dispatch_rules
        replaced = [rule if r.sip_dispatch_rule_id == rule.sip_dispatch_rule_id else r for r in others]
        if error := conflicts(replaced):
            return error
        self.sip_rules[rule.sip_dispatch_rule_id] = rule
        return rule

    def _delete_rule(self, request: sip.DeleteSIPDispatchRuleRequest, claims: dict, headers: dict):
        rule = self.sip_rules.pop(request.sip_dispatch_rule_id, None)
        if rule is None:  # LoadSIPDispatchRule: ErrSIPDispatchRuleNotFound (psrpc NotFound)
            return twirp_error("not_found", "requested sip dispatch rule does not exist")
        return rule

    # --- transfers ---

    def _participant_attributes(self, room_name: str, identity: str) -> dict[str, str] | None:
        """The attributes of participant `identity` in `room_name`, None when LiveKit has no such participant.
        Here: the phone callers in `sip_callers` (with a SIP call id)."""
        if (room_name, identity) in self.sip_callers:
            return {"sip.callID": "SCL_" + identity.removeprefix("sip_")}
        return None

    def _transfer(self, request: sip.TransferSIPParticipantRequest, claims: dict, headers: dict):
        # Without Redis every SIP method answers "sip not connected" (shared/LIVEKIT.md; the upstream handler
        # has no such check: its psrpc call to the SIP bridge fails instead).
        if error := self._sip_store(request, claims):
            return error
        # RoomService.GetParticipant: LoadParticipant -> ErrParticipantNotFound (psrpc NotFound).
        attributes = self._participant_attributes(request.room_name, request.participant_identity)
        if attributes is None:
            return twirp_error("not_found", "participant does not exist")
        if "sip.callID" not in attributes:  # livekit.AttrSIPCallID
            return invalid_argument("no SIP session associated with participant")
        if self.transfer_refusal:
            status = self.transfer_refusal
            reason, code, http = _SIP_REFUSALS.get(status, ("Error", "unknown", 500))
            meta = {"sip_status_code": str(status), "sip_status": reason}
            body = {"code": code, "msg": f"transfer failed: {status} {reason}", "meta": meta}
            return http, "application/json", json.dumps(body).encode()
        self.transfers.append(request)
        return sip.TransferSIPParticipantResponse()  # livekit-server 1.9.12 answers google.protobuf.Empty


def delete_sip_trunk_request_check(request: sip.DeleteSIPTrunkRequest) -> str | None:
    # pkg/service/sip.go DeleteSIPTrunk: twirp.NewError(twirp.InvalidArgument, "trunk ID is required")
    return "trunk ID is required" if request.sip_trunk_id == "" else None


def delete_sip_dispatch_rule_request_check(request: sip.DeleteSIPDispatchRuleRequest) -> str | None:
    # pkg/service/sip.go DeleteSIPDispatchRule: twirp.NewError(twirp.InvalidArgument, "dispatch rule ID is required")
    return "dispatch rule ID is required" if request.sip_dispatch_rule_id == "" else None


def transfer_room_name_check(request: Message, claims: dict | None) -> Answer | None:
    # pkg/service/sip.go transferSIPParticipantRequest: psrpc.NewErrorf(psrpc.InvalidArgument, "Missing room
    # name"), before any grant is looked at.
    return invalid_argument("Missing room name") if request.room_name == "" else None


def transfer_participant_identity_check(request: Message, claims: dict | None) -> Answer | None:
    # pkg/service/sip.go transferSIPParticipantRequest: "Missing participant identity", likewise.
    return invalid_argument("Missing participant identity") if request.participant_identity == "" else None


def create_room_name_length_check(request: room.CreateRoomRequest, claims: dict | None) -> Answer | None:
    # pkg/service/roomservice.go CreateRoom: `!s.limitConf.CheckRoomNameLength(req.Name)` ->
    # fmt.Errorf("%w: max length %d", ErrRoomNameExceedsLimits, ...); Twirp finds the wrapped psrpc error, so
    # the message is ErrRoomNameExceedsLimits' own.
    if len(request.name.encode()) > MAX_ROOM_NAME_LENGTH:
        return invalid_argument("room name length exceeds limits")
    return None


@dataclass
class RecordedDispatch:
    request: agent_dispatch.CreateAgentDispatchRequest
    claims: dict
    headers: dict
    response: agent_dispatch.AgentDispatch


@dataclass
class FakeLiveKitServer(_SipService):
    api_key: str
    api_secret: str
    rooms: dict[str, models.Room] = field(default_factory=dict)  # the rooms that exist now, by name
    dispatches: list[RecordedDispatch] = field(default_factory=list)
    deleted_rooms: list[str] = field(default_factory=list)
    requests: list[tuple[str, int]] = field(default_factory=list)  # (path, answer status) of every request
    delay: float = 0.0
    forced: tuple[int, str, str] | None = None  # (status, content type, body)
    sip_trunks: dict[str, sip.SIPInboundTrunkInfo] = field(default_factory=dict)  # by id
    sip_rules: dict[str, sip.SIPDispatchRuleInfo] = field(default_factory=dict)  # by id
    sip_redis: bool = True
    sip_callers: set[tuple[str, str]] = field(default_factory=set)  # (room name, participant identity)
    transfers: list[sip.TransferSIPParticipantRequest] = field(default_factory=list)  # accepted ones
    transfer_refusal: int | None = None  # the SIP status the far end of a transfer answers with
    server_version: str = "1.9"  # "1.9": livekit-server 1.9.x and current livekit/protocol; "1.8": see as_livekit_1_8

    def fail_with(self, status: int, body: dict | str) -> None:
        """Answer every later request with `status`: a dict as Twirp JSON, a str as text/plain."""
        if isinstance(body, dict):
            self.forced = (status, "application/json", json.dumps(body))
        else:
            self.forced = (status, "text/plain", body)

    def as_livekit_1_8(self) -> FakeLiveKitServer:
        """Answer as livekit-server 1.8 does (the module docstring says what differs). Returns the fake."""
        self.server_version = "1.8"
        return self

    def sip_without_redis(self) -> None:
        """Answer every SIP method as livekit-server without Redis does: 500 "sip not connected"."""
        self.sip_redis = False

    def refuse_transfers(self, sip_status: int) -> None:
        """The far end of every later transfer refuses it with `sip_status` (403, 408, 486...)."""
        self.transfer_refusal = sip_status

    @property
    def sip_writes(self) -> list[str]:
        """The SIP methods called so far that create, update or delete something, in order."""
        return [m for m in self.methods if m.startswith(("Create", "Update", "Delete")) and "SIP" in m]

    @property
    def methods(self) -> list[str]:
        """The Twirp methods called so far, in order, e.g. ["CreateRoom", "CreateDispatch"]."""
        return [path.rsplit("/", 1)[-1] for path, _ in self.requests]

    # --- server plumbing ---

    def start(self) -> FakeLiveKitServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, ctype, payload = fake.handle(self.path, dict(self.headers), body)
                fake.requests.append((self.path, status))
                if fake.delay:
                    time.sleep(fake.delay)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (timeout tests)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        # shutdown() waits for the loop's next poll: poll often, or every test pays half a second to stop it.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def ws_url(self) -> str:
        """What LIVEKIT_URL holds in production: the websocket URL (the client swaps in http)."""
        return f"ws://127.0.0.1:{self.port}"

    # --- the contract ---

    def handle(self, path: str, headers: dict, body: bytes) -> Answer:
        headers = {k.lower(): v for k, v in headers.items()}
        if self.forced:
            status, ctype, text = self.forced
            return status, ctype, text.encode()
        claims, refusal = self._authenticate(headers.get("authorization", ""))
        if refusal:
            return refusal
        service, _, method_name = path.removeprefix("/twirp/").partition("/")
        method = self._methods().get((service, method_name))
        if method is None or not path.startswith("/twirp/"):
            return _bad_route(f"no handler for path {_go_quote(path)}", path)
        content_type = headers.get("content-type", "")
        media_type = content_type.partition(";")[0].strip().lower()
        if media_type not in ("application/json", "application/protobuf"):
            return _bad_route(f"unexpected Content-Type: {_go_quote(content_type)}", path)
        is_json = media_type == "application/json"
        request = method.request()
        try:
            if is_json:
                json_format.Parse(body.decode(), request, ignore_unknown_fields=True)
            else:
                request.ParseFromString(body)
        except (DecodeError, json_format.ParseError, UnicodeDecodeError):
            return twirp_error("malformed", f"the {'json' if is_json else 'protobuf'} request could not be decoded")

        for step in method.steps:
            if refusal := step(request, claims):
                return refusal
        response = method.answer(request, claims or {}, headers)
        if isinstance(response, tuple):  # an error
            return response
        if is_json:
            text = json_format.MessageToJson(response, preserving_proto_field_name=True)  # Twirp's OrigName
            return 200, "application/json", text.encode()
        return 200, "application/protobuf", response.SerializeToString()

    def _authenticate(self, authorization: str) -> tuple[dict | None, Answer | None]:
        """pkg/service/auth.go APIKeyAuthMiddleware.ServeHTTP: (the token's claims or None for no token, or its
        401 text/plain refusal)."""
        if not authorization:
            return None, None  # no grants: the method's grant check refuses
        if not authorization.startswith("Bearer "):
            return None, (401, "text/plain", b"invalid authorization header. Must start with Bearer ")
        token = authorization.removeprefix("Bearer ")
        if not token:
            return None, None
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})  # auth.ParseAPIToken
        except jwt.PyJWTError:
            return None, (401, "text/plain", b"invalid authorization token")
        if unverified.get("iss") != self.api_key:
            return None, (401, "text/plain", f"invalid API key: {unverified.get('iss') or ''}".encode())
        try:
            claims = jwt.decode(token, self.api_secret, algorithms=["HS256"], issuer=self.api_key, leeway=60)
        except jwt.PyJWTError as exc:
            return None, (401, "text/plain", f"invalid token: {token}, error: {exc}".encode())
        return claims, None

    def _methods(self) -> dict[tuple[str, str], Method]:
        """(service, method) -> how livekit-server serves it."""
        rooms = "livekit.RoomService"
        return self._sip_methods() | {
            # CreateRoom: roomCreate grant, the room name's length, then the room (an existing one as it is).
            (rooms, "CreateRoom"): Method(
                room.CreateRoomRequest, (ensure_create_permission, create_room_name_length_check), self._create_room
            ),
            # DeleteRoom: roomCreate grant, then LoadRoom (404 for a room that does not exist).
            (rooms, "DeleteRoom"): Method(room.DeleteRoomRequest, (ensure_create_permission,), self._delete_room),
            # ListRooms: roomList grant.
            (rooms, "ListRooms"): Method(room.ListRoomsRequest, (ensure_list_permission,), self._list_rooms),
            # ListParticipants: roomAdmin for that room; a room nobody is in (or no room) lists nobody.
            (rooms, "ListParticipants"): Method(
                room.ListParticipantsRequest, (ensure_admin_permission("room"),), self._list_participants
            ),
            # CreateDispatch: roomAdmin for that room; the room is made with LiveKit's defaults if need be.
            ("livekit.AgentDispatchService", "CreateDispatch"): Method(
                agent_dispatch.CreateAgentDispatchRequest, (ensure_admin_permission("room"),), self._create_dispatch
            ),
        }  # fmt: skip

    def _room(self, name: str, empty_timeout: int, departure_timeout: int) -> models.Room:
        if name not in self.rooms:
            self.rooms[name] = models.Room(
                sid="RM_" + secrets.token_urlsafe(9)[:12], name=name, empty_timeout=empty_timeout,
                departure_timeout=departure_timeout, creation_time=int(time.time()),
                creation_time_ms=int(time.time() * 1000),
            )  # fmt: skip
        return self.rooms[name]

    def _create_room(self, request: room.CreateRoomRequest, claims: dict, headers: dict) -> Message:
        # LiveKit fills in its defaults for timeouts left at 0.
        return self._room(
            request.name,
            request.empty_timeout or DEFAULT_EMPTY_TIMEOUT,
            request.departure_timeout or DEFAULT_DEPARTURE_TIMEOUT,
        )

    def _delete_room(self, request: room.DeleteRoomRequest, claims: dict, headers: dict):
        if self.rooms.pop(request.room, None) is None:  # LoadRoom: ErrRoomNotFound (psrpc NotFound)
            return twirp_error("not_found", "requested room does not exist")
        self.deleted_rooms.append(request.room)
        return room.DeleteRoomResponse()

    def _list_rooms(self, request: room.ListRoomsRequest, claims: dict, headers: dict):
        names = set(request.names)
        return room.ListRoomsResponse(rooms=[r for n, r in self.rooms.items() if not names or n in names])

    def _list_participants(self, request: room.ListParticipantsRequest, claims: dict, headers: dict):
        # The store's ListParticipants: no participants (LocalStore/RedisStore answer nil, no error).
        return room.ListParticipantsResponse()

    def _create_dispatch(self, request: agent_dispatch.CreateAgentDispatchRequest, claims: dict, headers: dict):
        self._room(request.room, DEFAULT_EMPTY_TIMEOUT, DEFAULT_DEPARTURE_TIMEOUT)
        dispatch = agent_dispatch.AgentDispatch(
            id="AD_" + secrets.token_urlsafe(9)[:12],
            agent_name=request.agent_name,
            room=request.room,
            metadata=request.metadata,
            state=agent_dispatch.AgentDispatchState(created_at=time.time_ns()),
        )
        self.dispatches.append(RecordedDispatch(request, claims, headers, dispatch))
        return dispatch
