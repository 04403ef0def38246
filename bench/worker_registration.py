"""How fast `manage.py runagent start` registers and takes a job, against the `/agent` contract fake.

Run: .venv/bin/python bench/worker_registration.py [--runs 5]

Each run starts a fresh worker (AGENT_IDLE_PROCESSES=1, health server on port 0) against a fresh fake of
LiveKit's worker endpoint on loopback and a throwaway SQLite database migrated once in a temp dir, offers
one job for a real restaurant, then stops the worker with SIGTERM. Figures: process start -> the worker's
"starting worker" log line (imports, Django), the first job process's warm-up (LiveKit's "process
initialized" elapsed time: prewarm, after the fork from the preloaded forkserver), -> `register` received (the worker registers only once its
warm process is prewarmed), -> first `updateWorker` WS_AVAILABLE; offer -> the worker's `availability`
answer, -> `updateJob` JS_RUNNING; SIGTERM -> exit; peak memory of the worker's process tree (worker,
forkserver, job processes): summed RSS sampled every 50 ms, summed PSS every 250 ms. The job then fails to
join its room (the fake has no media server); that part is not measured. Prints; asserts nothing.

Figures (3 runs each, p50, this 2-core machine, 2026-11-23): before issue 8 (commit d874188) start -> register
4.08 s, forkserver PSS 439 MB, one job process 226 MB PSS, worker tree 738 MB PSS; after (plugins not imported
by the main process, the forkserver started before the main process's imports, LiveKit's unused end-of-turn
model not preloaded) 2.73 s, 186 MB, 124 MB, 457 MB. (5.74 s was measured before on a busier machine.)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def tree_memory(proc: psutil.Process, pss: bool) -> tuple[int, int, int]:
    """Summed RSS of `proc` and its descendants (counts pages shared with the forkserver once per process),
    or summed PSS (shared pages split between their sharers; slower to read); with PSS also the forkserver's
    and the largest job process's own (0, 0 for RSS)."""
    total = forkserver = job = 0
    try:
        tree = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0, 0, 0  # the worker has exited
    servers = set()
    for p in tree:  # the forkserver is the worker's child started as one; job processes are its children
        try:
            if p.ppid() == proc.pid and "forkserver" in " ".join(p.cmdline()):
                servers.add(p.pid)
        except psutil.Error:
            pass
    for p in tree:
        try:
            size = p.memory_full_info().pss if pss else p.memory_info().rss
            total += size
            if pss and p.pid in servers:
                forkserver = max(forkserver, size)
            elif pss and p.ppid() in servers:
                job = max(job, size)
        except psutil.Error:
            pass
    return total, forkserver, job


def one_run(env: dict, restaurant_id: int, log_path: Path) -> dict:
    from livekit.protocol import agent

    from tests.conftest import API_KEY, API_SECRET
    from tests.fakes.agent_server import FakeAgentServer

    fake = FakeAgentServer(API_KEY, API_SECRET).start()
    env = dict(env, LIVEKIT_URL=fake.ws_url)
    peak, done = {"rss": 0, "pss": 0, "forkserver": 0, "job": 0}, threading.Event()
    with open(log_path, "wb") as log:
        started, started_wall = time.monotonic(), time.time()
        popen = subprocess.Popen(
            [sys.executable, "manage.py", "runagent", "start"],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

        def sample() -> None:
            proc, tick = psutil.Process(popen.pid), 0
            while not done.is_set():
                peak["rss"] = max(peak["rss"], tree_memory(proc, pss=False)[0])
                if tick % 5 == 0:
                    for key, value in zip(("pss", "forkserver", "job"), tree_memory(proc, pss=True)):
                        peak[key] = max(peak[key], value)
                tick += 1
                done.wait(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            registered = fake.wait_for(lambda r: r.which == "register" and r.dir == "worker->server", 60).at
            available = fake.wait_for(
                lambda r: r.which == "update_worker" and r.msg.update_worker.status == agent.WorkerStatus.WS_AVAILABLE,
                10,
            ).at
            offer = fake.offer_job(json.dumps({"restaurant_id": restaurant_id}))
            running = fake.wait_job_status(offer.job.id, "JS_RUNNING").at
            time.sleep(1.0)  # let the job process do its work (and fail to join the room) for the RSS figure
            stopping = time.monotonic()
            popen.send_signal(signal.SIGTERM)
            try:
                popen.wait(30)
                stopped = time.monotonic() - stopping
            except subprocess.TimeoutExpired:
                stopped = float("nan")
        finally:
            done.set()
            sampler.join()
            try:
                os.killpg(popen.pid, signal.SIGKILL)  # our own group: whatever is left of it
            except ProcessLookupError:
                pass
            popen.wait(5)
            fake.stop()
    records = [json.loads(ln) for ln in log_path.read_text(errors="replace").splitlines() if ln.startswith("{")]
    loop_up = next(datetime.fromisoformat(r["timestamp"]).timestamp() for r in records if r["message"] == "starting worker")
    warm_up = next(r["elapsed_time"] for r in records if r["message"] == "process initialized")
    return {
        "start -> 'starting worker' logged (s)": loop_up - started_wall,
        "job process warm-up, prewarm (s)": warm_up,
        "start -> register received (s)": registered - started,
        "start -> first WS_AVAILABLE (s)": available - started,
        "offer -> availability answer (ms)": (offer.answered_at - offer.offered_at) * 1000,
        "offer -> JS_RUNNING (ms)": (running - offer.offered_at) * 1000,
        "SIGTERM -> exit (s)": stopped,
        "peak summed RSS, worker tree (MB)": peak["rss"] / 1e6,
        "peak summed PSS, worker tree (MB)": peak["pss"] / 1e6,
        "peak PSS, forkserver (MB)": peak["forkserver"] / 1e6,
        "peak PSS, one job process (MB)": peak["job"] / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="maitre-bench-"))
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("LIVEKIT_", "AGENT_"))}
    base_env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"sqlite:///{tmp}/bench.sqlite3",
        SECRET_KEY="bench-only",
        DEBUG="false",
        OPENAI_API_KEY="sk-test-not-used",
        LIVEKIT_AGENT_NAME="bench-agent",
        AGENT_HTTP_PORT="0",
        AGENT_IDLE_PROCESSES="1",
        PYTHONUNBUFFERED="1",
    )
    os.environ.update({k: base_env[k] for k in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "SECRET_KEY", "DEBUG")})
    import django

    django.setup()
    from django.core.management import call_command

    from tests.conftest import API_KEY, API_SECRET, make_restaurant

    call_command("migrate", verbosity=0)
    restaurant_id = make_restaurant().pk
    base_env.update(LIVEKIT_API_KEY=API_KEY, LIVEKIT_API_SECRET=API_SECRET)  # LIVEKIT_URL: each run's fake

    results = []
    for i in range(args.runs):
        results.append(one_run(base_env, restaurant_id, tmp / f"runagent-{i}.log"))
        took = results[-1]["start -> register received (s)"]
        print(f"  run {i + 1}/{args.runs}: registered after {took:.2f} s", flush=True)

    print(f"\nmanage.py runagent start, {args.runs} runs, AGENT_IDLE_PROCESSES=1, /agent fake on loopback")
    print(f"  {'':38} {'p50':>8} {'min':>8} {'max':>8}")
    for key in results[0]:
        values = [r[key] for r in results]
        print(f"  {key:38}" + "".join(f" {v:8.2f}" for v in (statistics.median(values), min(values), max(values))))
    print(f"  worker logs: {tmp}")


if __name__ == "__main__":
    main()
