"""Several machines: two `runagent start` workers registered with one LiveKit server share its jobs, and the
Procfile's web process serves the app from several uvicorn processes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from dispatch.livekit import probe
from tests.conftest import API_KEY, API_SECRET
from tests.fakes.livekit_stack import FakeLiveKitStack
from tests.worker_process import AGENT_NAME, REPO, Worker, worker_env

pytestmark = pytest.mark.slow
REGISTER_TIMEOUT = 45


def test_two_workers_under_one_agent_name_both_take_jobs(transactional_db, django_db_serialized_rollback, settings,
                                                         tmp_path):  # fmt: skip
    # transactional_db: the job processes read committed rows; serialized rollback restores the seeded rows after.
    stack = FakeLiveKitStack(API_KEY, API_SECRET).start()
    settings.LIVEKIT_URL, settings.LIVEKIT_API_KEY, settings.LIVEKIT_API_SECRET = stack.ws_url, API_KEY, API_SECRET
    settings.LIVEKIT_AGENT_NAME = AGENT_NAME
    # Two machines' workers: the same settings, each its own health port and process pool.
    workers = [Worker(worker_env(LIVEKIT_URL=stack.ws_url), tmp_path / f"machine-{n}.log") for n in (1, 2)]
    try:
        deadline = time.monotonic() + REGISTER_TIMEOUT
        while len([w for w in stack.workers if w.worker_id]) < 2:
            assert time.monotonic() < deadline, "both workers did not register"
            time.sleep(0.1)

        # Four jobs, dispatched through the same server API the diner's page and doctor use.
        visits = [asyncio.run(probe.doctor_visit(wait=20, timeout=5)) for _ in range(4)]

        assert all(v.agent_identity for v in visits)  # every job was taken and its agent joined
        jobs = {v.agent_identity.removeprefix("agent-") for v in visits}
        per_worker = stack.assignments()
        assert len(per_worker) == 2 and all(len(assigned) == 2 for assigned in per_worker.values()), per_worker
        assert set().union(*per_worker.values()) == jobs
        assert stack.dropped == []
        # Each machine's worker ran its own jobs in its own job processes.
        for worker in workers:
            assigned = per_worker[worker.wait_records("registered worker")[0]["id"]]
            ran = {r["job_id"] for r in worker.records() if r.get("job_id") and "doctor check" in r["message"]}
            deadline = time.monotonic() + 15
            while ran != set(assigned) and time.monotonic() < deadline:
                time.sleep(0.2)
                ran = {r["job_id"] for r in worker.records() if r.get("job_id") and "doctor check" in r["message"]}
            assert ran == set(assigned), worker.output()[-3000:]
    finally:
        for worker in workers:
            worker.proc.send_signal(signal.SIGTERM)  # both drain at once, as on two machines
        for worker in workers:
            worker.stop()
        stack.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, **headers: str) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_the_procfiles_web_process_serves_from_several_processes_behind_a_load_balancer(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k in ("HOME", "LANG", "TZ")}
    env.update(
        PATH=f"{REPO / '.venv' / 'bin'}:{os.environ['PATH']}", PORT=str(port), WEB_CONCURRENCY="2",
        DEBUG="false", SECRET_KEY="procfile-test-not-secret", ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", STATIC_ROOT=str(tmp_path / "static"),
        TRUSTED_PROXIES="127.0.0.1", PYTHONUNBUFFERED="1",
    )  # fmt: skip
    log = tmp_path / "honcho.log"
    with open(log, "wb") as out:
        honcho = subprocess.Popen(
            [str(REPO / ".venv" / "bin" / "honcho"), "start", "web"], cwd=REPO, env=env, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while log.read_text().count("Started server process") < 2:  # uvicorn's line, once per process
            assert honcho.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        status, headers, body = get(f"http://127.0.0.1:{port}/healthz")

        # Production defaults (HTTPS on): the load balancer's plain-HTTP probe is answered, pages redirect.
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        assert "Set-Cookie" not in headers
        assert get(f"http://127.0.0.1:{port}/")[0] == 301
        # collectstatic ran first: WhiteNoise serves the collected livekit-client.
        assert (tmp_path / "static" / "vendor" / "livekit-client" / "livekit-client.umd.js").is_file()
        # The TLS-terminating proxy (TRUSTED_PROXIES) says the diner came over HTTPS: served, not redirected.
        status, headers, _ = get(f"http://127.0.0.1:{port}/static/vendor/livekit-client/livekit-client.umd.js",
                                 **{"X-Forwarded-Proto": "https"})  # fmt: skip
        assert (status, headers["content-type"]) == (200, "text/javascript; charset=\"utf-8\"")
        assert log.read_text().count("Started server process") == 2  # WEB_CONCURRENCY, no more
    finally:
        os.killpg(honcho.pid, signal.SIGTERM)
        honcho.wait(20)
    assert "Traceback" not in log.read_text()
