"""A contract fake of LiveKit's Twirp server API (AgentDispatchService), written from shared/LIVEKIT.md.

It answers the way livekit-server 1.9.12 was seen to answer: it verifies the Bearer JWT with the API
secret (unknown key / bad signature: 401 text/plain; missing token or no `roomAdmin` for the request's
room: 401 JSON "permissions denied"), decodes the protobuf (or JSON) body (undecodable: 400 JSON
"malformed"), records the request and replies with an `AgentDispatch` in the request's encoding.

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
from google.protobuf.message import DecodeError
from livekit.protocol import agent_dispatch

SERVICE = "/twirp/livekit.AgentDispatchService/"


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
    dispatches: list[RecordedDispatch] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (path, answer status) of every request
    delay: float = 0.0
    forced: tuple[int, str, str] | None = None  # (status, content type, body)

    def fail_with(self, status: int, body: dict | str) -> None:
        """Answer every later request with `status`: a dict as Twirp JSON, a str as text/plain."""
        if isinstance(body, dict):
            self.forced = (status, "application/json", json.dumps(body))
        else:
            self.forced = (status, "text/plain", body)

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
        if not path.startswith(SERVICE):
            return _twirp(404, "bad_route", f"no handler for path {path}")
        method = path[len(SERVICE) :]
        if method != "CreateDispatch":
            return _twirp(501, "unimplemented", f"the fake implements CreateDispatch only, not {method}")

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
        request = agent_dispatch.CreateAgentDispatchRequest()
        try:
            if is_json:
                json_format.Parse(body.decode(), request)
            else:
                request.ParseFromString(body)
        except (DecodeError, json_format.ParseError, UnicodeDecodeError):
            return _twirp(400, "malformed", "the protobuf request could not be decoded")

        video = claims.get("video") or {}
        if not video.get("roomAdmin") or video.get("room") != request.room:
            return _twirp(401, "unauthenticated", "permissions denied")

        dispatch = agent_dispatch.AgentDispatch(
            id="AD_" + secrets.token_urlsafe(9)[:12],
            agent_name=request.agent_name,
            room=request.room,
            metadata=request.metadata,
            state=agent_dispatch.AgentDispatchState(created_at=time.time_ns()),
        )
        self.dispatches.append(RecordedDispatch(request, claims, headers, dispatch))
        if is_json:
            return 200, "application/json", json_format.MessageToJson(dispatch).encode()
        return 200, "application/protobuf", dispatch.SerializeToString()


def _twirp(status: int, code: str, msg: str) -> tuple[int, str, bytes]:
    return status, "application/json", json.dumps({"code": code, "msg": msg}).encode()
