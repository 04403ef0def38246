"""`manage.py runagent start` as a subprocess of a test: its environment and its lifetime.

Its job processes open the test database through DATABASE_URL, so the test's rows must be committed
(`transactional_db`) for them to be seen.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from django.db import connection

from tests.conftest import API_KEY, API_SECRET

REPO = Path(__file__).resolve().parent.parent
AGENT_NAME = "runagent-test-agent"


def database_url() -> str:
    """The test database (not the dev one) as a DATABASE_URL for the subprocess."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return "sqlite:///" + str(s["NAME"])
    auth = quote(s["USER"] or "") + (":" + quote(s["PASSWORD"]) if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}"


def worker_env(**overrides: str) -> dict[str, str]:
    """The environment for a test's worker: the test database, test keys, LiveKit at a closed port unless
    LIVEKIT_URL is given, and `overrides`. The caller's LIVEKIT_* and AGENT_* variables are left out."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIVEKIT_", "AGENT_"))}
    env.update(
        DATABASE_URL=database_url(),
        SECRET_KEY=os.environ.get("SECRET_KEY") or "test-only-not-secret",
        OPENAI_API_KEY="sk-test-not-used",
        LIVEKIT_URL="ws://127.0.0.1:9",
        LIVEKIT_API_KEY=API_KEY,
        LIVEKIT_API_SECRET=API_SECRET,
        LIVEKIT_AGENT_NAME=AGENT_NAME,
        AGENT_HTTP_PORT="0",
        AGENT_IDLE_PROCESSES="1",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)  # "" rather than absent, so a developer's .env cannot fill it in
    return env


class Worker:
    """`manage.py runagent start` in its own process group, its output in a file."""

    def __init__(self, env: dict[str, str], log_path: Path):
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "runagent", "start"],
            cwd=REPO, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def records(self) -> list[dict]:
        """The worker's log records: under `start`, LiveKit's CLI prints each as one JSON object a line,
        maitre's own and those forwarded from job processes (with their `job_id`) included."""
        out = []
        for line in self.output().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and "message" in record:
                out.append(record)
        return out

    def wait_records(self, message: str, timeout: float = 10.0) -> list[dict]:
        """The records whose message is `message` (a traceback, if any, follows on the next lines), once
        there is at least one."""
        deadline = time.monotonic() + timeout
        while not (found := [r for r in self.records() if r["message"].partition("\n")[0] == message]):
            assert time.monotonic() < deadline, f"{message!r} not logged by the worker:\n{self.output()[-4000:]}"
            time.sleep(0.05)
        return found

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (the worker drains and exits), then SIGKILL to its whole process group after `timeout`."""
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the group is ours: forkserver and job processes
            except ProcessLookupError:
                pass
            self.proc.wait(5)
            self._log.close()
