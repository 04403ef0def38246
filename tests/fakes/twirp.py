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
from livekit.protocol import agent_dispatch, models, room

# LiveKit's defaults for a room made implicitly (by a dispatch), seen in a real room_started webhook.
DEFAULT_EMPTY_TIMEOUT, DEFAULT_DEPARTURE_TIMEOUT = 300, 20


@dataclass
class RecordedDispatch:
    request: agent_dispatch.CreateAgentDispatchRequest
    claims: dict
    headers: dict
    response: agent_dispatch.AgentDispatch


@dataclass
class FakeLiveKitServer:
    api_key: str
    api_secret: str
    rooms: dict[str, models.Room] = field(default_factory=dict)  # the rooms that exist now, by name
    dispatches: list[RecordedDispatch] = field(default_factory=list)
    deleted_rooms: list[str] = field(default_factory=list)
    requests: list[tuple[str, int]] = field(default_factory=list)  # (path, answer status) of every request
    delay: float = 0.0
    forced: tuple[int, str, str] | None = None  # (status, content type, body)

    def fail_with(self, status: int, body: dict | str) -> None:
        """Answer every later request with `status`: a dict as Twirp JSON, a str as text/plain."""
        if isinstance(body, dict):
            self.forced = (status, "application/json", json.dumps(body))
        else:
            self.forced = (status, "text/plain", body)

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

        if not allowed(claims.get("video") or {}, request):
            return _twirp(401, "unauthenticated", "permissions denied")
        response = answer(request, claims, headers)
        if isinstance(response, tuple):  # an error
            return response
        if is_json:
            return 200, "application/json", json_format.MessageToJson(response).encode()
        return 200, "application/protobuf", response.SerializeToString()

    def _methods(self):
        """(service, method) -> (request type, grant check on the token's video grant, answer)."""
        room_create = lambda video, _request: bool(video.get("roomCreate"))  # noqa: E731
        room_admin = lambda video, request: bool(video.get("roomAdmin")) and video.get("room") == request.room  # noqa: E731
        return {
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
