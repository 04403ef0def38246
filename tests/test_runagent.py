"""`manage.py runagent start` as a real subprocess against a contract fake of LiveKit's `/agent` endpoint.

The worker registers, takes jobs, and runs our entrypoint in its forkserver job processes, which open the
test database through DATABASE_URL (hence `transactional_db`: rows must be committed to be seen there).
The fake has no media server, so a good job gets as far as JS_RUNNING and then fails to join its room.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import aiohttp
import pytest
from livekit import api
from livekit.protocol import agent

from tests.conftest import API_KEY, API_SECRET, make_restaurant
from tests.fakes.agent_server import FakeAgentServer
from tests.worker_process import AGENT_NAME, REPO, Worker, worker_env

pytestmark = pytest.mark.slow

# Imports, the forkserver's preload and one prewarmed process come before registration: ~6 s here.
REGISTER_TIMEOUT = 45


@pytest.fixture
def agent_server():
    fake = FakeAgentServer(API_KEY, API_SECRET).start()
    yield fake
    fake.stop()


@pytest.fixture
def start_worker(transactional_db, django_db_serialized_rollback, agent_server, tmp_path):
    # transactional_db: rows are committed, so the job processes see them. It empties every table after
    # the test, seeded allergens and dietary tags included; serialized rollback puts those back.
    workers: list[Worker] = []

    def start(**env: str) -> Worker:
        worker = Worker(worker_env(LIVEKIT_URL=agent_server.ws_url, **env), tmp_path / f"runagent-{len(workers)}.log")
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
        # Shown by pytest when the test failed.
        print(f"--- {worker.log_path} (exit {worker.proc.returncode}) ---\n{worker.output()[-6000:]}")


def is_available_update(rec) -> bool:
    return rec.which == "update_worker" and rec.msg.update_worker.status == agent.WorkerStatus.WS_AVAILABLE


def test_start_registers_under_the_configured_agent_name(start_worker, agent_server):
    worker = start_worker()

    register = agent_server.wait_registered(REGISTER_TIMEOUT)
    assert register.agent_name == AGENT_NAME
    assert register.type == agent.JobType.JT_ROOM
    assert register.allowed_permissions.agent
    agent_server.wait_for(is_available_update, timeout=10)
    assert (agent_server.connections, agent_server.rejected) == (1, [])
    worker.wait_records("registered worker")


def test_a_job_for_an_existing_restaurant_is_accepted_and_runs(start_worker, agent_server):
    restaurant = make_restaurant()
    worker = start_worker()
    agent_server.wait_registered(REGISTER_TIMEOUT)

    offer = agent_server.offer_job(json.dumps({"restaurant_id": restaurant.pk}))

    job_id = offer.job.id
    assert offer.answer.available
    assert offer.answer.participant_identity == f"agent-{job_id}"
    assert offer.answer.participant_attributes["lk.agent.name"] == AGENT_NAME
    agent_server.wait_job_status(job_id, "JS_RUNNING")
    # The job process read the committed restaurant from the test database. (It then fails to join the
    # room: the fake has no media server. What it reports after that is not this test's business.)
    line = f"job {job_id}: room {offer.job.room.name}, restaurant {restaurant.pk} (Trattoria Test), web call"
    [record] = worker.wait_records(line)
    assert record["job_id"] == job_id  # logged in the job process and forwarded by LiveKit to the worker


def test_jobs_with_bad_metadata_end_cleanly_and_the_worker_carries_on(start_worker, agent_server):
    restaurant = make_restaurant()
    worker = start_worker()
    agent_server.wait_registered(REGISTER_TIMEOUT)

    bad = {"not json": "job metadata is not JSON", '{"restaurant_id": 999999}': "no active restaurant with that id"}
    for metadata, reason in bad.items():
        offer = agent_server.offer_job(metadata)
        job_id = offer.job.id
        assert offer.answer.available  # the worker cannot know before the entrypoint reads the metadata
        # The entrypoint logs and calls ctx.shutdown(); the job process then exits with code 0, and
        # livekit-agents derives the job status from the exit code alone (JS_SUCCESS for 0, JS_FAILED
        # otherwise): the same JS_RUNNING, JS_SUCCESS pair as the capture's normal call. So LiveKit sees a
        # refused job as a successful one (a job whose entrypoint raises, too); the reason is only in the
        # log line below (and in LiveKit's "process exiting" record, as a field).
        agent_server.wait_job_status(job_id, "JS_SUCCESS")
        assert agent_server.job_statuses(job_id) == ["JS_RUNNING", "JS_SUCCESS"]
        [record] = worker.wait_records(f"job {job_id} ended: {reason} (metadata {metadata!r})")
        assert (record["level"], record["job_id"]) == ("ERROR", job_id)
    # Job processes forward every record to this output (a crashing job's traceback shows here, see the
    # last job below): none of the bad jobs logged one.
    assert "Traceback" not in worker.output()

    # Still the same registration on the same connection, and still taking jobs.
    assert worker.proc.poll() is None
    assert (agent_server.connections, len(agent_server.worker_messages("register"))) == (1, 1)
    offer = agent_server.offer_job(json.dumps({"restaurant_id": restaurant.pk}))
    assert offer.answer.available
    agent_server.wait_job_status(offer.job.id, "JS_RUNNING")
    # No respawn loop: one warm process at start plus one replacement per job, give or take one.
    assert len([r for r in worker.records() if r["message"] == "initializing process"]) <= 1 + 3 + 1
    # This job cannot join its room (the fake has no media server): its traceback, raised in the job
    # process, reaches the worker's log with the job's id.
    crash = worker.wait_records("unhandled exception while running the job task", timeout=15)
    assert crash[0]["job_id"] == offer.job.id and "\nTraceback (most recent call last)" in crash[0]["message"]


@pytest.mark.parametrize(
    ("missing", "expected"),
    [("OPENAI_API_KEY", "Not set: OPENAI_API_KEY."), ("LIVEKIT_URL", "Not set: LIVEKIT_URL.")],
)
def test_start_refuses_to_run_without(missing, expected, tmp_path):
    # No fake and no database rows needed: the command refuses before building the worker.
    result = subprocess.run(
        [sys.executable, "manage.py", "runagent", "start"],
        cwd=REPO, env=worker_env(**{missing: ""}), capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert expected in output
    assert "Traceback" not in output


@pytest.mark.parametrize(
    ("grants", "secret", "status"),
    [(api.VideoGrants(agent=True), API_SECRET, 101), (api.VideoGrants(room_join=True, room="r"), API_SECRET, 401),
     (api.VideoGrants(agent=True), "another-secret-long-enough-for-hs256-0123456789", 401)],
)  # fmt: skip
def test_the_fake_checks_the_worker_token_like_the_server(agent_server, grants, secret, status):
    token = api.AccessToken(API_KEY, secret).with_identity("w").with_grants(grants).to_jwt()

    async def dial() -> int:
        headers = {"Authorization": f"Bearer {token}"}
        async with aiohttp.ClientSession() as session:
            try:
                async with session.ws_connect(agent_server.ws_url + "/agent", headers=headers):
                    return 101
            except aiohttp.WSServerHandshakeError as exc:
                return exc.status

    assert asyncio.run(dial()) == status
