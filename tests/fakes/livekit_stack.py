"""A contract fake of a whole LiveKit server on one port, as livekit-server serves it: the Twirp API, the
workers' endpoint `/agent`, and the signalling side of a room join at `/rtc`. Written from shared/LIVEKIT.md
and shared/captures/agent-protocol.jsonl, on top of the two fakes it joins:

- Twirp (`POST /twirp/...`): FakeLiveKitServer's contract (tests/fakes/twirp.py: LiveKit's JWT, grant and
  request checks, the rooms that exist, `as_livekit_1_8()`), with the participants connected below:
  `ListParticipants` (`roomAdmin` for that room) lists them (nobody for a room nobody is in, as LiveKit's
  store answers), and `TransferSIPParticipant` finds them (one without a SIP call is 400 "no SIP session
  associated with participant");
- `/agent`: FakeAgentServer (tests/fakes/agent_server.py), several workers at once. A `CreateDispatch` is
  offered to a worker registered under its agent_name, as the server does (the least busy first; no worker:
  the job is dropped without a word), with the room that exists and the dispatch's metadata;
- `/rtc` (and `/rtc/v1`, which livekit-rtc 1.1 dials first): a participant's signal connection. With a token
  that may join the room, the websocket is accepted, the server's `SignalResponse` `join` is sent, and from
  then on `ListParticipants` lists the participant (identity and attributes from the token, kind AGENT for an
  agent's token) until its connection closes, it sends `leave`, or the room is deleted (the server then
  sends `leave` with reason ROOM_DELETED and closes). There is no media server: the client's peer
  connections never connect, so an agent's `ctx.connect()` does not complete. A bad token is refused with 401
  before the upgrade.
"""

from __future__ import annotations

import time

import jwt
from aiohttp import WSMsgType, web
from livekit import api
from livekit.protocol import models, room, rtc

from tests.fakes.agent_server import SERVER_INFO, FakeAgentServer, _sid
from tests.fakes.twirp import FakeLiveKitServer


class _Twirp(FakeLiveKitServer):
    """The Twirp side of the stack: answers through `handle()` on the stack's port, not a server of its own."""

    def __init__(self, stack: FakeLiveKitStack):
        super().__init__(stack.api_key, stack.api_secret)
        self.stack = stack

    def _list_participants(self, request: room.ListParticipantsRequest, claims: dict, headers: dict):
        people = self.stack.participants.get(request.room, {})
        return room.ListParticipantsResponse(participants=[info for info, _ws in people.values()])

    def _participant_attributes(self, room_name: str, identity: str) -> dict[str, str] | None:
        connected = self.stack.participants.get(room_name, {}).get(identity)
        if connected is not None:
            return dict(connected[0].attributes)
        return super()._participant_attributes(room_name, identity)

    def _create_dispatch(self, request, claims: dict, headers: dict):
        dispatch = super()._create_dispatch(request, claims, headers)
        the_room = self.rooms[request.room]
        job = self.stack.new_job(
            request.metadata, agent_name=request.agent_name, room_name=the_room.name, room_sid=the_room.sid,
            dispatch_id=dispatch.id,
        )  # fmt: skip
        self.stack.dispatch(job)
        return dispatch

    def _delete_room(self, request: room.DeleteRoomRequest, claims: dict, headers: dict):
        answer = super()._delete_room(request, claims, headers)
        self.stack.room_deleted(request.room)
        return answer


class FakeLiveKitStack(FakeAgentServer):
    def __init__(self, api_key: str, api_secret: str):
        super().__init__(api_key, api_secret)
        self.twirp = _Twirp(self)
        # room name -> identity -> (what ListParticipants says, the participant's signal websocket)
        self.participants: dict[str, dict[str, tuple[models.ParticipantInfo, web.WebSocketResponse]]] = {}
        self.joins: list[tuple[str, str]] = []  # (room, identity) of every accepted signal connection

    @property
    def rooms(self) -> dict[str, models.Room]:
        return self.twirp.rooms

    def routes(self, app: web.Application) -> None:
        super().routes(app)
        app.router.add_post("/twirp/{service}/{method}", self._twirp_request)
        app.router.add_get("/rtc", self._rtc)
        app.router.add_get("/rtc/v1", self._rtc)

    async def _twirp_request(self, request: web.Request) -> web.Response:
        body = await request.read()
        status, ctype, payload = self.twirp.handle(request.path, dict(request.headers), body)
        self.twirp.requests.append((request.path, status))
        return web.Response(status=status, body=payload, headers={"Content-Type": ctype})

    async def _rtc(self, request: web.Request) -> web.StreamResponse:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ") or request.query.get("access_token", "")
        try:
            claims = api.TokenVerifier(self.api_key, self.api_secret).verify(token)
        except (jwt.PyJWTError, ValueError) as exc:
            return web.Response(status=401, text=f"invalid token: {exc}")
        if not (claims.video and claims.video.room_join and claims.video.room):
            return web.Response(status=401, text="permissions denied")
        room_name = claims.video.room
        # livekit-server makes a room that a participant joins if it does not exist (auto_create).
        the_room = self.twirp._room(room_name, 300, 20)
        kind = models.ParticipantInfo.Kind.AGENT if claims.kind == "agent" else models.ParticipantInfo.Kind.STANDARD
        info = models.ParticipantInfo(
            sid=_sid("PA_"), identity=claims.identity, name=claims.name or "", kind=kind,
            state=models.ParticipantInfo.State.JOINED, joined_at=int(time.time()),
            joined_at_ms=int(time.time() * 1000), attributes=claims.attributes or {},
        )  # fmt: skip

        ws = web.WebSocketResponse()
        await ws.prepare(request)
        join = rtc.JoinResponse(
            room=the_room, participant=info, server_version=SERVER_INFO["version"], subscriber_primary=True,
            ping_timeout=15, ping_interval=5,
            server_info=models.ServerInfo(version=SERVER_INFO["version"], protocol=SERVER_INFO["protocol"],
                                          node_id=SERVER_INFO["nodeId"]),
        )  # fmt: skip
        await ws.send_bytes(rtc.SignalResponse(join=join).SerializeToString())
        self.participants.setdefault(room_name, {})[info.identity] = (info, ws)
        self.joins.append((room_name, info.identity))
        try:
            async for frame in ws:
                if frame.type != WSMsgType.BINARY:
                    continue
                msg = rtc.SignalRequest()
                msg.ParseFromString(frame.data)
                which = msg.WhichOneof("message")
                if which == "leave":
                    break
                if which == "ping":
                    await ws.send_bytes(rtc.SignalResponse(pong=int(time.time() * 1000)).SerializeToString())
                elif which == "ping_req":
                    pong = rtc.Pong(last_ping_timestamp=msg.ping_req.timestamp, timestamp=int(time.time() * 1000))
                    await ws.send_bytes(rtc.SignalResponse(pong_resp=pong).SerializeToString())
        finally:
            people = self.participants.get(room_name, {})
            if people.get(info.identity, (None, None))[1] is ws:
                del people[info.identity]
        return ws

    def room_deleted(self, room_name: str) -> None:
        """The room is gone: tell everyone in it to leave (reason ROOM_DELETED) and close their connections."""
        leave = rtc.SignalResponse(
            leave=rtc.LeaveRequest(reason=models.DisconnectReason.ROOM_DELETED, action=rtc.LeaveRequest.Action.DISCONNECT)
        ).SerializeToString()
        people = self.participants.pop(room_name, {})

        async def close() -> None:
            for _info, ws in people.values():
                try:
                    await ws.send_bytes(leave)
                    await ws.close()
                except ConnectionError:
                    pass

        def schedule() -> None:
            task = self._loop.create_task(close())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        self._loop.call_soon_threadsafe(schedule)

    def agents_in(self, room_name: str) -> list[models.ParticipantInfo]:
        """The agent participants ListParticipants would list in `room_name` now."""
        people = self.participants.get(room_name, {})
        return [info for info, _ws in people.values() if info.kind == models.ParticipantInfo.Kind.AGENT]

