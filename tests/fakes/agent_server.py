"""A contract fake of LiveKit's worker endpoint (`/agent`), written from shared/LIVEKIT.md and
shared/captures/agent-protocol.jsonl (livekit-server 1.9.12, livekit-agents 1.8.9).

What it mirrors from the capture and from livekit-agents' `AgentServer._connection_task`:
- the worker dials `ws://<host>/agent` (`urljoin(LIVEKIT_URL + "/", "agent")`, a `worker_token` query
  parameter only when one is configured) with `Authorization: Bearer <JWT>` signed with the API secret and
  carrying the `video.agent` grant; without it the fake answers 401 before the upgrade;
- every frame is a protobuf `WorkerMessage` in a binary frame (the worker never sends text; text frames
  are parsed as protobuf JSON, just in case) and every reply is a binary `ServerMessage`;
- the first message is `register` (agentName, version, allowedPermissions); the server answers
  `register` with `workerId` and `serverInfo` (version 1.9.12, protocol 16, agentProtocol 1);
- a job is offered with `availability` carrying the whole `job` (id `AJ_...`, room with name and sid,
  metadata, agentName, dispatchId, state); the worker answers `availability` (available,
  participantIdentity `agent-<job id>`, attribute `lk.agent.name`); the server then sends `assignment`
  with the job again and a `token` (identity `agent-<job id>`, roomJoin + room + agent grants) and no url;
- the worker then reports `updateJob` (JS_RUNNING, then JS_SUCCESS/JS_FAILED) and `updateWorker`.

Several workers may connect at once, each registered under its own worker id. A test offers a job to the
worker that registered last (`offer_job`); `dispatch` does what the server does for a dispatch: offer the job
to a worker registered under its agent_name that is not full, the one running the fewest jobs first (then the
one given the fewest so far: LiveKit spreads jobs over the workers of one agent_name), and to the next one if
it says it is not available; with no such worker the job is dropped (the real server logs "no workers with
sufficient capacity" and tells nobody).

Anything else dialled on this host (the job's room connection at `/rtc`, say) gets a 404 and is recorded
in `other_requests`: there is no media server here.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from dataclasses import dataclass, field

import jwt
from aiohttp import WSMsgType, web
from google.protobuf import json_format
from livekit import api
from livekit.protocol import agent

# From the capture's server->worker `register` and `availability` lines (room trimmed to what a job uses).
SERVER_INFO = {"version": "1.9.12", "protocol": 16, "nodeId": "ND_amzmfDCYyQNo", "agentProtocol": 1}
ROOM = {"emptyTimeout": 300, "departureTimeout": 20, "enabledCodecs": [{"mime": "audio/opus"}, {"mime": "audio/red"}]}


def _sid(prefix: str) -> str:
    return prefix + secrets.token_hex(6)


@dataclass
class Recorded:
    at: float  # time.monotonic() when the fake received or sent it
    dir: str  # "worker->server" or "server->worker", as in the capture
    msg: agent.WorkerMessage | agent.ServerMessage

    @property
    def which(self) -> str:
        return self.msg.WhichOneof("message")


@dataclass
class Offer:
    job: agent.Job
    offered_at: float
    answer: agent.AvailabilityResponse | None = None
    answered_at: float | None = None
    token: str | None = None  # the assignment's JWT, when the worker said available


@dataclass
class WorkerConnection:
    """One worker's `/agent` websocket; `worker_id` and `agent_name` once it registered."""

    ws: web.WebSocketResponse
    worker_id: str = ""
    agent_name: str | None = None
    status: int = agent.WorkerStatus.WS_AVAILABLE
    running: set[str] = field(default_factory=set)  # ids of the jobs assigned to it and not reported ended
    assigned: list[str] = field(default_factory=list)  # ids of every job assigned to it, in order


class FakeAgentServer:
    def __init__(self, api_key: str, api_secret: str):
        self.api_key, self.api_secret = api_key, api_secret
        self.worker_id = ""  # the id given to the worker that registered last
        self.messages: list[Recorded] = []
        self.rejected: list[tuple[int, str]] = []  # (status, reason) of refused websocket upgrades
        self.other_requests: list[str] = []  # "METHOD /path?query" of anything but /agent
        self.connections = 0  # accepted /agent websockets (more than one: the worker reconnected)
        self.workers: list[WorkerConnection] = []  # connected now, in the order they connected
        self.dropped: list[agent.Job] = []  # jobs `dispatch` found no worker for
        self._cond = threading.Condition()
        self._ws: web.WebSocketResponse | None = None
        self._answers: dict[str, asyncio.Future] = {}
        self._tasks: set[asyncio.Task] = set()  # job id -> the worker's availability answer, awaited
        self._loop = asyncio.new_event_loop()

    # --- plumbing: an aiohttp app on its own loop in a daemon thread ---

    def routes(self, app: web.Application) -> None:
        """The endpoints this server serves, before the catch-all 404 (a subclass adds its own first)."""
        app.router.add_get("/agent", self._agent)

    def start(self) -> FakeAgentServer:
        app = web.Application()
        self.routes(app)
        app.router.add_route("*", "/{tail:.*}", self._other)
        self._runner = web.AppRunner(app, handle_signals=False)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = self._runner.addresses[0][1]
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="fake-agent-server")
        self._thread.start()
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def _record(self, direction: str, msg) -> Recorded:
        rec = Recorded(time.monotonic(), direction, msg)
        with self._cond:
            self.messages.append(rec)
            self._cond.notify_all()
        return rec

    def _send(self, msg: agent.ServerMessage) -> None:
        """From the test's thread: send `msg` to the worker that connected last."""
        if self._ws is None:
            raise RuntimeError("no worker is connected")
        self._record("server->worker", msg)
        asyncio.run_coroutine_threadsafe(self._ws.send_bytes(msg.SerializeToString()), self._loop).result(5)

    async def _send_to(self, conn: WorkerConnection, msg: agent.ServerMessage) -> None:
        self._record("server->worker", msg)
        await conn.ws.send_bytes(msg.SerializeToString())

    async def _other(self, request: web.Request) -> web.Response:
        self.other_requests.append(f"{request.method} {request.path_qs}")
        return web.Response(status=404, text="the fake serves /agent only")

    async def _agent(self, request: web.Request) -> web.StreamResponse:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        try:
            claims = api.TokenVerifier(self.api_key, self.api_secret).verify(token)
        except (jwt.PyJWTError, ValueError) as exc:
            self.rejected.append((401, f"invalid token: {exc}"))
            return web.Response(status=401, text=f"invalid token: {exc}")
        if not (claims.video and claims.video.agent):
            self.rejected.append((401, "permissions denied"))
            return web.json_response({"code": "unauthenticated", "msg": "permissions denied"}, status=401)

        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.connections += 1
        self._ws = ws
        conn = WorkerConnection(ws)
        self.workers.append(conn)
        try:
            async for frame in ws:
                msg = agent.WorkerMessage()
                if frame.type == WSMsgType.BINARY:
                    msg.ParseFromString(frame.data)
                elif frame.type == WSMsgType.TEXT:
                    json_format.Parse(frame.data, msg)
                else:
                    continue
                self._record("worker->server", msg)
                await self._on_worker_message(conn, msg)
        finally:
            self.workers.remove(conn)
            if self._ws is ws:
                self._ws = None
        return ws

    async def _on_worker_message(self, conn: WorkerConnection, msg: agent.WorkerMessage) -> None:
        which = msg.WhichOneof("message")
        if which == "register":
            conn.worker_id, conn.agent_name = _sid("AW_"), msg.register.agent_name
            self.worker_id = conn.worker_id
            reply = json_format.ParseDict(
                {"register": {"workerId": conn.worker_id, "serverInfo": SERVER_INFO}}, agent.ServerMessage()
            )
            await self._send_to(conn, reply)
        elif which == "availability":
            answer = self._answers.get(msg.availability.job_id)
            if answer is not None and not answer.done():
                answer.set_result(msg.availability)
        elif which == "update_worker" and msg.update_worker.HasField("status"):
            conn.status = msg.update_worker.status
        elif which == "update_job" and msg.update_job.status in (agent.JobStatus.JS_SUCCESS, agent.JobStatus.JS_FAILED):
            conn.running.discard(msg.update_job.job_id)

    async def _offer(self, conn: WorkerConnection, job: agent.Job, timeout: float) -> Offer:
        """Offer `job` to `conn`'s worker (`availability`), wait for its answer, and if it is available assign
        the job (`assignment` with a token for the job's room, no url), as the server does."""
        offer = Offer(job=job, offered_at=time.monotonic())
        self._answers[job.id] = answer = self._loop.create_future()
        try:
            await self._send_to(conn, agent.ServerMessage(availability=agent.AvailabilityRequest(job=job)))
            offer.answer = await asyncio.wait_for(answer, timeout)
        finally:
            del self._answers[job.id]
        offer.answered_at = time.monotonic()
        if offer.answer.available:
            identity = offer.answer.participant_identity
            offer.token = (
                api.AccessToken(self.api_key, self.api_secret)
                .with_identity(identity)
                .with_kind("agent")
                .with_attributes(dict(offer.answer.participant_attributes))
                .with_grants(api.VideoGrants(room_join=True, room=job.room.name, agent=True))
                .to_jwt()
            )
            assigned = agent.Job()
            assigned.CopyFrom(job)
            assigned.state.participant_identity = identity
            assigned.state.worker_id = conn.worker_id
            conn.running.add(job.id)
            conn.assigned.append(job.id)
            await self._send_to(conn, agent.ServerMessage(assignment=agent.JobAssignment(job=assigned, token=offer.token)))
        return offer

    # --- what tests use ---

    def wait_for(self, predicate, timeout: float = 10.0) -> Recorded:
        """The first recorded message (either direction) for which `predicate(rec)` is true; waits for it."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for rec in self.messages:
                    if predicate(rec):
                        return rec
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(r.dir, r.which) for r in self.messages]
                    raise TimeoutError(f"no matching message within {timeout} s; seen {seen}")
                self._cond.wait(left)

    def worker_messages(self, which: str | None = None) -> list:
        """The worker's messages (the oneof's payload), optionally only one kind ("update_job", ...)."""
        with self._cond:
            recs = [r for r in self.messages if r.dir == "worker->server"]
        return [getattr(r.msg, r.which) for r in recs if which is None or r.which == which]

    def wait_registered(self, timeout: float = 15.0) -> agent.RegisterWorkerRequest:
        """The first worker's register request, once the server has answered it: the worker has its id then,
        and a job can be offered to it (the request alone is recorded before the id is given)."""
        rec = self.wait_for(lambda r: r.dir == "worker->server" and r.which == "register", timeout)
        self.wait_for(lambda r: r.dir == "server->worker" and r.which == "register", timeout)
        return rec.msg.register

    @property
    def registered_agent_name(self) -> str | None:
        regs = self.worker_messages("register")
        return regs[-1].agent_name if regs else None

    def offer_job(self, metadata: str, agent_name: str | None = None, timeout: float = 20.0) -> Offer:
        """Offer a job like the server does (`availability`) to the worker that registered last, wait for its
        answer, and if it is available assign it (`assignment` with a token, no url). The worker's answer is
        in `offer.answer`."""
        conn = next((c for c in reversed(self.workers) if c.worker_id), None)
        if conn is None:
            raise RuntimeError("no worker is registered")
        job = self.new_job(metadata, agent_name=conn.agent_name if agent_name is None else agent_name)
        job.state.worker_id = conn.worker_id
        return asyncio.run_coroutine_threadsafe(self._offer(conn, job, timeout), self._loop).result(timeout + 5)

    @staticmethod
    def new_job(metadata: str, *, agent_name: str, room_name: str | None = None, room_sid: str | None = None,
                dispatch_id: str | None = None) -> agent.Job:
        """A job as the server builds one for a dispatch (id `AJ_...`, state JS_RUNNING)."""
        room_name = room_name or f"call-{secrets.token_hex(4)}"
        now_ns = str(time.time_ns())
        return json_format.ParseDict(
            {
                "id": _sid("AJ_"),
                "room": {"sid": room_sid or _sid("RM_"), "name": room_name, "creationTime": now_ns[:10],
                         "creationTimeMs": now_ns[:13], **ROOM},
                "metadata": metadata,
                "agentName": agent_name,
                "state": {"status": "JS_RUNNING", "startedAt": now_ns, "updatedAt": now_ns},
                "dispatchId": dispatch_id or _sid("AD_"),
            },
            agent.Job(),
        )  # fmt: skip

    def dispatch(self, job: agent.Job, timeout: float = 10.0) -> None:
        """What the server does with a dispatch, from any thread, without waiting: offer `job` to the workers
        registered under its agent_name that are not full, the one running the fewest jobs first (then the one
        given the fewest so far), until one takes it; if none does, the job is dropped (`dropped`)."""

        async def run() -> None:
            candidates = sorted(
                (c for c in self.workers if c.agent_name == job.agent_name
                 and c.status == agent.WorkerStatus.WS_AVAILABLE),
                key=lambda c: (len(c.running), len(c.assigned)),
            )  # fmt: skip
            for conn in candidates:
                job.state.worker_id = conn.worker_id
                try:
                    offer = await self._offer(conn, job, timeout)
                except (TimeoutError, ConnectionError):
                    continue
                if offer.answer.available:
                    return
            self.dropped.append(job)

        def schedule() -> None:
            task = self._loop.create_task(run())
            self._tasks.add(task)  # held until done: the loop keeps only a weak reference
            task.add_done_callback(self._tasks.discard)

        self._loop.call_soon_threadsafe(schedule)

    def assignments(self) -> dict[str, list[str]]:
        """Worker id -> ids of the jobs assigned to it, for the workers connected now."""
        return {c.worker_id: list(c.assigned) for c in self.workers if c.worker_id}

    def job_statuses(self, job_id: str) -> list[str]:
        """The `updateJob` statuses the worker reported for `job_id`, in order ("JS_RUNNING", ...)."""
        return [agent.JobStatus.Name(u.status) for u in self.worker_messages("update_job") if u.job_id == job_id]

    def wait_job_status(self, job_id: str, status: str, timeout: float = 30.0) -> Recorded:
        code = agent.JobStatus.Value(status)
        return self.wait_for(
            lambda r: r.which == "update_job" and r.msg.update_job.job_id == job_id and r.msg.update_job.status == code,
            timeout,
        )
