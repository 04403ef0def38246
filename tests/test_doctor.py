"""`manage.py doctor`: each check against the contract fakes (LiveKit's whole server in
tests/fakes/livekit_stack.py, a real `runagent start` worker, OpenAI's model list), healthy and broken."""

from __future__ import annotations

import io
import json
import os
import secrets
import subprocess
import sys
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client

from dispatch.job_metadata import DOCTOR_METADATA
from dispatch.livekit import probe, sip
from dispatch.models import Call, WebhookEvent
from restaurants.models import PhoneLine
from tests.conftest import API_KEY, API_SECRET, make_restaurant
from tests.fakes import webhooks
from tests.fakes.livekit_stack import FakeLiveKitStack
from tests.fakes.openai_models import FakeOpenAIModels
from tests.test_connection_details import redis_answers
from tests.worker_process import AGENT_NAME, REPO, Worker, worker_env

pytestmark = pytest.mark.django_db
MODEL_KEY = "sk-test-doctor"
CLOSED_PORT = 9  # discard: nothing listens there on a test machine


def doctor(*args: str) -> tuple[int, dict[str, dict]]:
    """Run `doctor --json <args>`: (exit status, check name -> {"ok", "message"})."""
    out = io.StringIO()
    try:
        call_command("doctor", "--json", *args, stdout=out)
        status = 0
    except SystemExit as exc:
        status = exc.code
    report = json.loads(out.getvalue())
    assert report["ok"] is (status == 0)
    return status, {c["name"]: c for c in report["checks"]}


@pytest.fixture
def stack(settings):
    """LiveKit's server as one fake (Twirp, /agent, /rtc), with settings pointing at it."""
    fake = FakeLiveKitStack(API_KEY, API_SECRET).start()
    settings.LIVEKIT_URL, settings.LIVEKIT_API_KEY, settings.LIVEKIT_API_SECRET = fake.ws_url, API_KEY, API_SECRET
    settings.LIVEKIT_AGENT_NAME = AGENT_NAME
    yield fake
    fake.stop()


@pytest.fixture
def models(settings):
    """An OpenAI-compatible model list holding the three configured models."""
    fake = FakeOpenAIModels(
        api_key=MODEL_KEY, models=[settings.AGENT_LLM_MODEL, settings.AGENT_STT_MODEL, settings.AGENT_TTS_MODEL, "o3"]
    )
    settings.OPENAI_BASE_URL, settings.OPENAI_API_KEY = fake.start(), MODEL_KEY
    yield fake
    fake.stop()


@pytest.fixture
def production(settings, tmp_path):
    """DEBUG off with the production defaults `check --deploy` wants, and a small static tree collected."""
    settings.DEBUG = False
    settings.SECRET_KEY = secrets.token_urlsafe(50)
    settings.SECURE_SSL_REDIRECT = settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    source = tmp_path / "static"
    (source / "js").mkdir(parents=True)
    (source / "js" / "call.js").write_text("export {};\n")
    settings.STATICFILES_DIRS = [source]
    settings.STATIC_ROOT = tmp_path / "collected"
    call_command("collectstatic", "--noinput", verbosity=0)
    return source


class TestDatabase:
    def test_it_passes_when_every_migration_is_applied(self):
        assert doctor("--wait", "0.1")[1]["database"] == {"name": "database", "ok": True, "message": ""}

    def test_it_names_the_migrations_not_applied(self):
        MigrationRecorder(connection).record_unapplied("dispatch", "0004_call_records")

        status, checks = doctor("--wait", "0.1")

        assert status == 1
        assert checks["database"]["message"] == (
            "1 migration(s) not applied (dispatch.0004_call_records): run `manage.py migrate`"
        )


class TestLiveKit:
    def test_it_passes_when_livekit_answers_and_accepts_the_key_pair(self, stack):
        assert doctor("--wait", "0.1")[1]["livekit"]["ok"]
        assert "ListRooms" in stack.twirp.methods

    def test_a_wrong_secret_says_the_key_or_secret_is_wrong(self, stack, settings):
        settings.LIVEKIT_API_SECRET = "another-secret-that-is-long-enough-for-hs256-0123"

        status, checks = doctor("--wait", "0.1")

        assert status == 1
        assert checks["livekit"]["message"] == (
            f"LiveKit at {stack.ws_url} refused the key pair (401): the API key or secret is wrong: check "
            "LIVEKIT_API_KEY and LIVEKIT_API_SECRET"
        )
        # The worker is not tried against a LiveKit that refuses us: no room was made.
        assert checks["worker"]["message"] == "not checked: LiveKit must answer first (see the livekit check)"
        assert "CreateRoom" not in stack.twirp.methods

    def test_a_refused_connection_says_which_url_failed(self, settings):
        settings.LIVEKIT_URL = f"ws://127.0.0.1:{CLOSED_PORT}"
        settings.LIVEKIT_API_KEY, settings.LIVEKIT_API_SECRET = API_KEY, API_SECRET

        message = doctor("--wait", "0.1")[1]["livekit"]["message"]

        assert message.startswith(f"cannot connect to LiveKit at ws://127.0.0.1:{CLOSED_PORT} (")
        assert message.endswith("): start livekit-server or fix LIVEKIT_URL")

    def test_missing_settings_are_named(self, settings):
        settings.LIVEKIT_URL, settings.LIVEKIT_API_KEY, settings.LIVEKIT_API_SECRET = "", API_KEY, ""

        message = doctor("--wait", "0.1")[1]["livekit"]["message"]

        assert message.startswith("not set: LIVEKIT_URL, LIVEKIT_API_SECRET: set them")


class TestWorker:
    def test_no_worker_says_which_name_and_what_to_start(self, stack):
        status, checks = doctor("--wait", "0.5")

        assert status == 1
        assert checks["worker"]["message"] == f"no worker registered as {AGENT_NAME}: start `manage.py runagent start`"
        # The throwaway room was made, dispatched to (nobody took the job) and deleted.
        assert stack.twirp.methods[1:3] == ["CreateRoom", "CreateDispatch"]
        assert stack.twirp.methods[-1] == "DeleteRoom"
        [dispatch] = stack.twirp.dispatches
        assert dispatch.request.metadata == DOCTOR_METADATA
        assert probe.DOCTOR_ROOM.match(dispatch.request.room)
        assert [job.room.name for job in stack.dropped] == [dispatch.request.room]
        assert stack.rooms == {}

    def test_webhooks_about_doctors_room_record_nothing(self, settings):
        settings.LIVEKIT_API_KEY, settings.LIVEKIT_API_SECRET = API_KEY, API_SECRET
        room = "doctor-" + secrets.token_hex(16)

        for event in webhooks.session(room, "diner-" + secrets.token_hex(16)):
            raw = webhooks.body(event)
            response = Client().generic(
                "POST", "/api/livekit/webhook", data=raw, content_type=webhooks.CONTENT_TYPE,
                HTTP_AUTHORIZATION=webhooks.signature(raw, API_KEY, API_SECRET),
            )  # fmt: skip
            assert (response.status_code, response.json()) == (200, {})
        assert (Call.objects.count(), WebhookEvent.objects.count()) == (0, 0)


class TestPhone:
    @pytest.fixture
    def line(self, db):
        return PhoneLine.objects.create(restaurant=make_restaurant(), number="+15105550100")

    def test_without_a_live_line_it_asks_livekit_nothing(self, stack):
        _, checks = doctor("--wait", "0.1")

        assert checks["phone"] == {"name": "phone", "ok": True, "message": "no live phone line: nothing to check"}
        assert not [m for m in stack.twirp.methods if "SIP" in m]

    def test_lines_not_synced_yet_say_what_differs_and_what_to_run(self, stack, line):
        status, checks = doctor("--wait", "0.1")

        assert status == 1
        assert checks["phone"]["message"] == (
            "LiveKit differs from the phone lines (2 change(s), first: create trunk maitre for +15105550100): run "
            "`manage.py sync_sip`"
        )
        assert stack.twirp.sip_writes == []

    def test_synced_lines_pass_and_name_the_versions_phone_lines_need(self, stack, line):
        call_command("sync_sip", stdout=io.StringIO())

        _, checks = doctor("--wait", "0.1")

        assert checks["phone"]["ok"], checks["phone"]
        assert checks["phone"]["message"] == (
            "1 line(s) in sync; phone lines need livekit-server 1.9 and livekit-sip 1.3 or newer (verified with "
            "1.9.12 and 1.3.0)"
        )

    def test_livekit_without_redis_is_named(self, stack, line):
        stack.twirp.sip_without_redis()

        _, checks = doctor("--wait", "0.1")

        assert checks["phone"]["message"] == sip.SIP_NOT_CONNECTED

    def test_not_tried_when_livekit_does_not_answer(self, stack, line, settings):
        settings.LIVEKIT_URL = f"ws://127.0.0.1:{CLOSED_PORT}"

        _, checks = doctor("--wait", "0.1")

        assert checks["phone"]["message"] == "not checked: LiveKit must answer first (see the livekit check)"


class TestModels:
    def test_it_passes_when_the_key_is_accepted_and_the_models_exist(self, models):
        assert doctor("--wait", "0.1")[1]["models"]["ok"]
        assert models.requests == ["GET /v1/models"]

    def test_a_refused_key_says_the_model_key_is_wrong(self, models, settings):
        settings.OPENAI_API_KEY = "sk-wrong"

        message = doctor("--wait", "0.1")[1]["models"]["message"]

        assert message == f"the model key is wrong: {settings.OPENAI_BASE_URL} refused OPENAI_API_KEY (401)"

    def test_missing_models_are_named_with_their_settings(self, models, settings):
        settings.AGENT_TTS_MODEL = "tts-9"

        message = doctor("--wait", "0.1")[1]["models"]["message"]

        assert message == (
            f"{settings.OPENAI_BASE_URL} has no model tts-9 (AGENT_TTS_MODEL): set those settings to models it lists"
        )

    def test_an_unreachable_server_and_a_missing_key_are_told_apart(self, settings):
        settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL = MODEL_KEY, f"http://127.0.0.1:{CLOSED_PORT}/v1"
        unreachable = doctor("--wait", "0.1")[1]["models"]["message"]
        settings.OPENAI_API_KEY = ""
        no_key = doctor("--wait", "0.1")[1]["models"]["message"]

        assert unreachable.startswith(f"cannot connect to the model server at http://127.0.0.1:{CLOSED_PORT}/v1 (")
        assert unreachable.endswith("): fix OPENAI_BASE_URL")
        assert no_key.startswith("OPENAI_API_KEY is not set: set the model key")


class TestStaticRedisDeploy:
    def test_production_set_up_passes(self, production):
        _, checks = doctor("--wait", "0.1")

        assert (checks["static"], checks["deploy"]) == (
            {"name": "static", "ok": True, "message": ""}, {"name": "deploy", "ok": True, "message": ""}
        )  # fmt: skip

    def test_files_not_collected_or_changed_since_are_named(self, production, settings):
        (production / "widget.css").write_text("p {}\n")
        changed = production / "js" / "call.js"
        os.utime(changed, (time.time() + 60, time.time() + 60))  # edited after the last collectstatic

        message = doctor("--wait", "0.1")[1]["static"]["message"]

        assert message.startswith(f"2 static file(s) not collected or out of date in {settings.STATIC_ROOT} (e.g. ")
        assert message.endswith("): run `manage.py collectstatic`")

    def test_check_deploy_findings_are_named(self, production, settings):
        settings.SECURE_SSL_REDIRECT = False

        message = doctor("--wait", "0.1")[1]["deploy"]["message"]

        assert message == "`manage.py check --deploy` reports 1 issue(s) (security.W008): run it and fix them"

    def test_with_debug_on_static_and_deploy_do_not_apply(self, settings):
        settings.DEBUG = True

        _, checks = doctor("--wait", "0.1")

        assert checks["static"]["ok"] and checks["deploy"]["ok"]
        assert "DEBUG is on" in checks["static"]["message"] and "DEBUG is on" in checks["deploy"]["message"]

    def test_redis_that_does_not_answer_is_named_without_its_password(self, settings):
        settings.REDIS_URL = f"redis://:hunter2@127.0.0.1:{CLOSED_PORT}/3"

        message = doctor("--wait", "0.1")[1]["redis"]["message"]

        assert message.startswith(f"Redis at redis://127.0.0.1:{CLOSED_PORT}/3 does not answer (")
        assert message.endswith("): start it or fix REDIS_URL") and "hunter2" not in message

    @pytest.mark.skipif(not redis_answers(), reason="needs a Redis server answering on 127.0.0.1:6379 (the CI's)")
    def test_redis_that_answers_passes(self, settings):
        settings.REDIS_URL = "redis://127.0.0.1:6379/15"

        assert doctor("--wait", "0.1")[1]["redis"] == {"name": "redis", "ok": True, "message": ""}


def test_the_text_report_is_one_line_per_check_and_exits_1_on_a_failure(settings):
    settings.LIVEKIT_URL = ""
    out = io.StringIO()

    with pytest.raises(SystemExit) as exit_:
        call_command("doctor", "--wait", "0.1", stdout=out, no_color=True)

    lines = out.getvalue().splitlines()
    assert exit_.value.code == 1
    assert [line.split()[0] for line in lines] == ["database", "livekit", "worker", "phone", "models", "static", "redis", "deploy"]
    assert lines[1].startswith("livekit   FAIL: not set: LIVEKIT_URL")


@pytest.mark.parametrize("wait", ["0", "61", "soon"])
def test_a_wait_out_of_bounds_is_refused(wait):
    with pytest.raises(CommandError, match="--wait"):
        call_command("doctor", "--wait", wait)


# --- With a real worker ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_healthy_stack_passes_every_check(transactional_db, django_db_serialized_rollback, stack, models,
                                            production, tmp_path):  # fmt: skip
    worker = Worker(worker_env(LIVEKIT_URL=stack.ws_url), tmp_path / "runagent.log")
    try:
        stack.wait_registered(45)
        out = io.StringIO()
        call_command("doctor", stdout=out, no_color=True)  # exit status 0: no SystemExit

        lines = out.getvalue().splitlines()
        assert [line.split()[:2] for line in lines] == [
            [name, "ok"] for name in ("database", "livekit", "worker", "phone", "models", "static", "redis", "deploy")
        ]
        print(out.getvalue())  # shown with -s: the closing note's healthy report
        # The agent joined doctor's room, and the room is gone.
        [(room, identity)] = stack.joins
        assert probe.DOCTOR_ROOM.match(room) and identity.startswith("agent-AJ_")
        assert room not in stack.rooms
        # The job started no model and wrote no record: the model server saw doctor's one request only.
        job_id = identity.removeprefix("agent-")
        [record] = worker.wait_records(f"job {job_id}: doctor check in room {room}; leaving after 10.0 s", timeout=15)
        assert record["job_id"] == job_id
        assert models.requests == ["GET /v1/models"]
        assert Call.objects.count() == 0
        assert "Traceback" not in worker.output()
    finally:
        worker.stop()


@pytest.mark.slow
def test_a_stack_with_every_part_missing_says_what_to_do_for_each(tmp_path):
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TZ")}
    env.update(
        SECRET_KEY="short", DEBUG="false", ALLOWED_HOSTS="maitre.example.com",
        DATABASE_URL=f"postgres://maitre@127.0.0.1:{CLOSED_PORT}/maitre", LIVEKIT_URL=f"ws://127.0.0.1:{CLOSED_PORT}",
        LIVEKIT_API_KEY=API_KEY, LIVEKIT_API_SECRET=API_SECRET, OPENAI_API_KEY="",
        REDIS_URL=f"redis://127.0.0.1:{CLOSED_PORT}/0", STATIC_ROOT=str(tmp_path / "never-collected"),
    )  # fmt: skip

    result = subprocess.run(
        [sys.executable, "manage.py", "doctor"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )

    print(result.stdout)  # shown with -s: the closing note's report of a broken stack
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    lines = dict(line.split(maxsplit=1) for line in result.stdout.splitlines())
    assert all(verdict.startswith("FAIL: ") for verdict in lines.values()), result.stdout
    assert lines["database"].startswith(f"FAIL: the database postgresql maitre at 127.0.0.1:{CLOSED_PORT} does not answer")
    assert lines["livekit"].startswith(f"FAIL: cannot connect to LiveKit at ws://127.0.0.1:{CLOSED_PORT}")
    assert lines["models"].startswith("FAIL: OPENAI_API_KEY is not set")
    assert lines["deploy"].startswith("FAIL: `manage.py check --deploy` reports")
