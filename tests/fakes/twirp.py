"""A contract fake of LiveKit's Twirp server API (RoomService and AgentDispatchService), from shared/LIVEKIT.md.

It answers the way livekit-server 1.9.12 was seen to answer: it verifies the Bearer JWT with the API
secret (unknown key / bad signature: 401 text/plain; missing token or a grant the method needs missing:
401 JSON "permissions denied"), decodes the protobuf (or JSON) body (undecodable: 400 JSON "malformed"),
records the request and replies in the request's encoding. It keeps the rooms that exist:
- `CreateRoom` (grant `roomCreate`) makes a room with the request's timeouts, or returns the existing one;
- `CreateDispatch` (grant `roomAdmin` for that room) makes the room with LiveKit's defaults (empty timeout
  300 s, departure timeout 20 s) when it does not exist yet, then answers an `AgentDispatch`;
- `DeleteRoom` (grant `roomCreate`) removes a room; an unknown room is 404 "not_found".

Tests can make it misbehave: `fail_with(status, body)` answers every request that way, `delay` (seconds)
stalls before answering.

LiveKit's SIP service (`livekit.SIP/...`, shared/LIVEKIT.md "Phone calls over SIP") keeps inbound trunks
("ST_...") and dispatch rules ("SDR_...") in `sip_trunks` and `sip_rules`. Trunks and rules need the token's
SIP admin grant; `TransferSIPParticipant` needs SIP call plus room admin for that room. Create, list, update
(replace) and delete behave as livekit-server's do, including its conflict checks (two trunks for one number,
two rules for one trunk and number). Modes: `sip_without_redis()` answers every SIP method 500 "sip not
connected (redis required)", as a server without Redis does; a transfer is accepted (an empty answer, as
livekit-server 1.9 gives) unless `refuse_transfers(sip_status)` is set, or the caller is not one of
`sip_callers` (404). `sip_writes` lists the SIP methods called that change something.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from livekit.protocol import agent_dispatch, models, room, sip

# LiveKit's defaults for a room made implicitly (by a dispatch), seen in a real room_started webhook.
DEFAULT_EMPTY_TIMEOUT, DEFAULT_DEPARTURE_TIMEOUT = 300, 20


# --- LiveKit's SIP service ---------------------------------------------------------------------------------
# SIP statuses a transfer's far end may answer with, as livekit-sip maps them to Twirp errors.
_SIP_REFUSALS = {
    403: ("Forbidden", "permission_denied", 403),
    404: ("Not Found", "not_found", 404),
    408: ("Request Timeout", "deadline_exceeded", 408),
    486: ("Busy Here", "unavailable", 503),
    603: ("Decline", "permission_denied", 403),
}


def _sip_id(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(9)[:12]


def _norm(number: str) -> str:
    return "+" + "".join(c for c in number if c.isdigit())


class _SipService:
    """FakeLiveKitServer's SIP methods (mixed in below, so they share its state)."""

    def _trunk_conflict(self, trunk: sip.SIPInboundTrunkInfo, but: str = ""):
        # livekit-server refuses two inbound trunks for one called number (or two for any number) unless their
        # allowed calling numbers tell them apart.
        numbers = {_norm(n) for n in trunk.numbers} or {""}
        for other in self.sip_trunks.values():
            if other.sip_trunk_id == but or (trunk.allowed_numbers and other.allowed_numbers):
                continue
            if numbers & ({_norm(n) for n in other.numbers} or {""}):
                new = trunk.sip_trunk_id or "<new>"
                return _twirp(400, "invalid_argument", f"Conflicting inbound SIP Trunks: {new!r} and "
                              f"{other.sip_trunk_id!r}, using the same number(s) {list(trunk.numbers)}")  # fmt: skip
        return None

    def _list_trunks(self, request: sip.ListSIPInboundTrunkRequest, claims: dict, headers: dict):
        items = [
            t for t in self.sip_trunks.values()
            if (not request.trunk_ids or t.sip_trunk_id in request.trunk_ids)
            and (not request.numbers or not t.numbers or set(request.numbers) & set(t.numbers))
        ]  # fmt: skip
        return sip.ListSIPInboundTrunkResponse(items=items)

    def _create_trunk(self, request: sip.CreateSIPInboundTrunkRequest, claims: dict, headers: dict):
        trunk = sip.SIPInboundTrunkInfo()
        trunk.CopyFrom(request.trunk)
        trunk.sip_trunk_id = ""
        if error := self._trunk_conflict(trunk):
            return error
        trunk.sip_trunk_id = _sip_id("ST_")
        self.sip_trunks[trunk.sip_trunk_id] = trunk
        return trunk

    def _update_trunk(self, request: sip.UpdateSIPInboundTrunkRequest, claims: dict, headers: dict):
        if request.WhichOneof("action") != "replace":
            return _twirp(400, "invalid_argument", "this fake takes a whole trunk (replace) only")
        if request.sip_trunk_id not in self.sip_trunks:
            return _twirp(404, "not_found", f"SIP trunk {request.sip_trunk_id} not found")
        trunk = sip.SIPInboundTrunkInfo()
        trunk.CopyFrom(request.replace)
        trunk.sip_trunk_id = request.sip_trunk_id
        if error := self._trunk_conflict(trunk, but=trunk.sip_trunk_id):
            return error
        self.sip_trunks[trunk.sip_trunk_id] = trunk
        return trunk

    def _delete_trunk(self, request: sip.DeleteSIPTrunkRequest, claims: dict, headers: dict):
        if self.sip_trunks.pop(request.sip_trunk_id, None) is None:
            return _twirp(404, "not_found", f"SIP trunk {request.sip_trunk_id} not found")
        return sip.SIPTrunkInfo(sip_trunk_id=request.sip_trunk_id)

    def _rule_conflict(self, rule: sip.SIPDispatchRuleInfo, but: str = ""):
        which = rule.rule.WhichOneof("rule")
        if which is None:
            return _twirp(400, "invalid_argument", "Unsupported SIP Dispatch Rule: <nil>")

        def keys(r: sip.SIPDispatchRuleInfo) -> set:
            kind = r.rule.WhichOneof("rule")
            pin = getattr(r.rule, kind).pin if kind else ""
            return {
                (pin, trunk, _norm(caller) if caller else "", _norm(called) if called else "")
                for trunk in (r.trunk_ids or [""])
                for caller in (r.inbound_numbers or [""])
                for called in (r.numbers or [""])
            }

        for other in self.sip_rules.values():
            if other.sip_dispatch_rule_id != but and keys(rule) & keys(other):
                existing = f"{other.sip_dispatch_rule_id!r} {other.name!r}"
                return _twirp(400, "invalid_argument", "Dispatch rule for the same trunk, inbound number, number, and "
                              f"PIN combination already exists in dispatch rule {existing}")  # fmt: skip
        return None

    def _list_rules(self, request: sip.ListSIPDispatchRuleRequest, claims: dict, headers: dict):
        items = [
            r for r in self.sip_rules.values()
            if (not request.dispatch_rule_ids or r.sip_dispatch_rule_id in request.dispatch_rule_ids)
            and (not request.trunk_ids or not r.trunk_ids or set(request.trunk_ids) & set(r.trunk_ids))
        ]  # fmt: skip
        return sip.ListSIPDispatchRuleResponse(items=items)

    def _create_rule(self, request: sip.CreateSIPDispatchRuleRequest, claims: dict, headers: dict):
        rule = sip.SIPDispatchRuleInfo()
        if request.HasField("dispatch_rule"):
            rule.CopyFrom(request.dispatch_rule)
        else:  # the deprecated top-level fields, as older clients send them
            rule = sip.SIPDispatchRuleInfo(
                rule=request.rule, trunk_ids=request.trunk_ids, hide_phone_number=request.hide_phone_number,
                inbound_numbers=request.inbound_numbers, name=request.name, metadata=request.metadata,
                attributes=request.attributes, room_preset=request.room_preset, room_config=request.room_config,
            )  # fmt: skip
        rule.sip_dispatch_rule_id = ""
        if error := self._rule_conflict(rule):
            return error
        rule.sip_dispatch_rule_id = _sip_id("SDR_")
        self.sip_rules[rule.sip_dispatch_rule_id] = rule
        return rule

    def _update_rule(self, request: sip.UpdateSIPDispatchRuleRequest, claims: dict, headers: dict):
        if request.WhichOneof("action") != "replace":
            return _twirp(400, "invalid_argument", "this fake takes a whole rule (replace) only")
        if request.sip_dispatch_rule_id not in self.sip_rules:
            return _twirp(404, "not_found", f"SIP dispatch rule {request.sip_dispatch_rule_id} not found")
        rule = sip.SIPDispatchRuleInfo()
        rule.CopyFrom(request.replace)
        rule.sip_dispatch_rule_id = request.sip_dispatch_rule_id
        if error := self._rule_conflict(rule, but=rule.sip_dispatch_rule_id):
            return error
        self.sip_rules[rule.sip_dispatch_rule_id] = rule
        return rule

    def _delete_rule(self, request: sip.DeleteSIPDispatchRuleRequest, claims: dict, headers: dict):
        rule = self.sip_rules.pop(request.sip_dispatch_rule_id, None)
        if rule is None:
            return _twirp(404, "not_found", f"SIP dispatch rule {request.sip_dispatch_rule_id} not found")
        return rule

    def _transfer(self, request: sip.TransferSIPParticipantRequest, claims: dict, headers: dict):
        if (request.room_name, request.participant_identity) not in self.sip_callers:
            return _twirp(404, "not_found", "participant not found")
        if self.transfer_refusal:
            status = self.transfer_refusal
            reason, code, http = _SIP_REFUSALS.get(status, ("Error", "unknown", 500))
            meta = {"sip_status_code": str(status), "sip_status": reason}
            body = {"code": code, "msg": f"transfer failed: {status} {reason}", "meta": meta}
            return http, "application/json", json.dumps(body).encode()
        self.transfers.append(request)
        return sip.TransferSIPParticipantResponse()  # livekit-server 1.9.12 answers google.protobuf.Empty


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

    def fail_with(self, status: int, body: dict | str) -> None:
        """Answer every later request with `status`: a dict as Twirp JSON, a str as text/plain."""
        if isinstance(body, dict):
            self.forced = (status, "application/json", json.dumps(body))
        else:
            self.forced = (status, "text/plain", body)

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

    def handle(self, path: str, headers: dict, body: bytes) -> tuple[int, str, bytes]:
        headers = {k.lower(): v for k, v in headers.items()}
        if self.forced:
            status, ctype, text = self.forced
            return status, ctype, text.encode()
        service, _, method = path.removeprefix("/twirp/").partition("/")
        handler = self._methods().get((service, method))
        if handler is None:
            return _twirp(404, "bad_route", f"no handler for path {path}")
        request_type, allowed, answer = handler

        auth = headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return _twirp(401, "unauthenticated", "permissions denied")
        token = auth.removeprefix("Bearer ")
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            return 401, "text/plain", f"invalid token: {exc}".encode()
        if unverified.get("iss") != self.api_key:
            return 401, "text/plain", f"invalid API key: {unverified.get('iss')}".encode()
        try:
            claims = jwt.decode(token, self.api_secret, algorithms=["HS256"], issuer=self.api_key)
        except jwt.PyJWTError as exc:
            return 401, "text/plain", f"invalid token: {token}, error: {exc}".encode()

        is_json = headers.get("content-type", "").startswith("application/json")
        request = request_type()
        try:
            if is_json:
                json_format.Parse(body.decode(), request)
            else:
                request.ParseFromString(body)
        except (DecodeError, json_format.ParseError, UnicodeDecodeError):
            return _twirp(400, "malformed", "the protobuf request could not be decoded")

        if not allowed(claims.get("video") or {}, request, claims.get("sip") or {}):
            return _twirp(401, "unauthenticated", "permissions denied")
        if service == "livekit.SIP" and not self.sip_redis:
            return _twirp(500, "internal", "sip not connected (redis required)")
        response = answer(request, claims, headers)
        if isinstance(response, tuple):  # an error
            return response
        if is_json:
            return 200, "application/json", json_format.MessageToJson(response).encode()
        return 200, "application/protobuf", response.SerializeToString()

    def _methods(self):
        """(service, method) -> (request type, grant check on the token's video grant, answer)."""
        room_create = lambda video, _request, _sip: bool(video.get("roomCreate"))  # noqa: E731
        room_admin = lambda video, request, _sip: (  # noqa: E731
            bool(video.get("roomAdmin")) and video.get("room") == request.room
        )
        sip_admin = lambda _video, _request, sip_grant: bool(sip_grant.get("admin"))  # noqa: E731
        sip_call = lambda video, request, sip_grant: (  # noqa: E731
            bool(sip_grant.get("call")) and bool(video.get("roomAdmin")) and video.get("room") == request.room_name
        )
        svc = "livekit.SIP"
        return {
            (svc, "ListSIPInboundTrunk"): (sip.ListSIPInboundTrunkRequest, sip_admin, self._list_trunks),
            (svc, "CreateSIPInboundTrunk"): (sip.CreateSIPInboundTrunkRequest, sip_admin, self._create_trunk),
            (svc, "UpdateSIPInboundTrunk"): (sip.UpdateSIPInboundTrunkRequest, sip_admin, self._update_trunk),
            (svc, "DeleteSIPTrunk"): (sip.DeleteSIPTrunkRequest, sip_admin, self._delete_trunk),
            (svc, "ListSIPDispatchRule"): (sip.ListSIPDispatchRuleRequest, sip_admin, self._list_rules),
            (svc, "CreateSIPDispatchRule"): (sip.CreateSIPDispatchRuleRequest, sip_admin, self._create_rule),
            (svc, "UpdateSIPDispatchRule"): (sip.UpdateSIPDispatchRuleRequest, sip_admin, self._update_rule),
            (svc, "DeleteSIPDispatchRule"): (sip.DeleteSIPDispatchRuleRequest, sip_admin, self._delete_rule),
            (svc, "TransferSIPParticipant"): (sip.TransferSIPParticipantRequest, sip_call, self._transfer),
            ("livekit.RoomService", "CreateRoom"): (room.CreateRoomRequest, room_create, self._create_room),
            ("livekit.RoomService", "DeleteRoom"): (room.DeleteRoomRequest, room_create, self._delete_room),
            ("livekit.AgentDispatchService", "CreateDispatch"): (
                agent_dispatch.CreateAgentDispatchRequest, room_admin, self._create_dispatch,
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
        if self.rooms.pop(request.room, None) is None:
            return _twirp(404, "not_found", "requested room does not exist")
        self.deleted_rooms.append(request.room)
        return room.DeleteRoomResponse()

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


def _twirp(status: int, code: str, msg: str) -> tuple[int, str, bytes]:
    return status, "application/json", json.dumps({"code": code, "msg": msg}).encode()

