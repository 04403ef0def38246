"""`manage.py doctor`'s checks: is every part of a deployment there and wired right?

Each check returns a CheckResult: ok, or a failure whose message says what to do. They run in this order,
each with a short bound on its outside calls (CHECK_TIMEOUT seconds) so a dead part fails fast:
database, livekit, worker, phone, models, static, redis, deploy. The worker and phone checks need LiveKit to
answer; when the livekit check failed they fail too, saying so, without calling LiveKit again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

import openai
import redis
from django.conf import settings
from django.contrib.staticfiles.finders import get_finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core import checks
from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader

from restaurants.models import PhoneLine

from . import phone_lines
from .livekit import client, probe, sip

CHECK_TIMEOUT = 5.0  # seconds any one outside call of a check may take
AGENT_WAIT = 8.0  # seconds the worker check waits for the agent to join its room (a cold worker needs ~4 s)
OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
# collectstatic's default ignore patterns: files it never copies, so never "missing".
STATIC_IGNORE = ["CVS", ".*", "*~"]


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict: its name ("database", "livekit"...), whether it passed, and a sentence: for a
    failure what is wrong and what to do, for a pass an optional note ("" when there is nothing to add)."""

    name: str
    ok: bool
    message: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def run_all(*, agent_wait: float = AGENT_WAIT) -> list[CheckResult]:
    """Every check, in order; the worker check waits up to `agent_wait` seconds for the agent."""
    results = [check_database()]
    livekit = check_livekit()
    results += [livekit, check_worker(agent_wait, livekit_ok=livekit.ok), check_phone(livekit_ok=livekit.ok)]
    results += [check_models(), check_static(), check_redis(), check_deploy()]
    return results


# --- database ---------------------------------------------------------------------------------------------


def check_database() -> CheckResult:
    """The default database answers `SELECT 1` and every migration is applied."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        loader = MigrationLoader(connection)
        # Every migration not recorded as applied, not only what `migrate` would run next: a row deleted from
        # django_migrations under a later migration counts too.
        unapplied = sorted(set(loader.graph.nodes) - set(loader.applied_migrations))
    except DatabaseError as exc:
        where = _database_name()
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return CheckResult("database", False, f"the database {where} does not answer ({first_line}): start it or "
                                              "fix DATABASE_URL")  # fmt: skip
    if unapplied:
        names = ", ".join(f"{app}.{name}" for app, name in unapplied[:5]) + (", ..." if len(unapplied) > 5 else "")
        return CheckResult(
            "database", False, f"{len(unapplied)} migration(s) not applied ({names}): run `manage.py migrate`"
        )
    return CheckResult("database", True)


def _database_name() -> str:
    """The default database as "postgresql maitre at db.example.com:5432" (no user, no password)."""
    s = connection.settings_dict
    where = f" at {s['HOST']}{':' + str(s['PORT']) if s.get('PORT') else ''}" if s.get("HOST") else ""
    return f"{connection.vendor} {s['NAME']}{where}"


# --- LiveKit ----------------------------------------------------------------------------------------------


def check_livekit() -> CheckResult:
    """LiveKit answers at LIVEKIT_URL and accepts the key pair (ListRooms)."""
    try:
        asyncio.run(probe.count_rooms(timeout=CHECK_TIMEOUT))
    except client.LiveKitNotConfigured as exc:
        return CheckResult("livekit", False, f"not set: {exc}: set them (your LiveKit Cloud project's, or for "
                                             "`livekit-server --dev`: ws://127.0.0.1:7880, devkey, secret)")  # fmt: skip
    except probe.LiveKitCheckFailed as exc:
        return CheckResult("livekit", False, _livekit_sentence(exc))
    return CheckResult("livekit", True)


def _livekit_sentence(exc: probe.LiveKitCheckFailed) -> str:
    url = settings.LIVEKIT_URL
    if exc.problem == "key":
        return (f"LiveKit at {url} refused the key pair ({exc.detail}): the API key or secret is wrong: check "
                "LIVEKIT_API_KEY and LIVEKIT_API_SECRET")  # fmt: skip
    if exc.problem == "unreachable":
        return f"cannot connect to LiveKit at {url} ({exc.detail}): start livekit-server or fix LIVEKIT_URL"
    if exc.problem == "timeout":
        return f"LiveKit at {url} did not answer within {CHECK_TIMEOUT:g} s: check LIVEKIT_URL and the network"
    return f"LiveKit at {url} answered {exc.detail}: check that LIVEKIT_URL is a LiveKit server's"


def check_worker(wait: float, *, livekit_ok: bool = True) -> CheckResult:
    """A worker registered as LIVEKIT_AGENT_NAME takes a job: doctor's throwaway room sees the agent join
    within `wait` seconds (probe.doctor_visit). Not tried when LiveKit itself failed."""
    name = settings.LIVEKIT_AGENT_NAME
    if not livekit_ok:
        return CheckResult("worker", False, "not checked: LiveKit must answer first (see the livekit check)")
    try:
        visit = asyncio.run(probe.doctor_visit(wait=wait, timeout=CHECK_TIMEOUT))
    except (client.LiveKitNotConfigured, probe.LiveKitCheckFailed) as exc:
        return CheckResult("worker", False, f"LiveKit failed while dispatching the agent ({exc}): run doctor again")
    if visit.agent_identity is None:
        return CheckResult("worker", False, f"no worker registered as {name}: start `manage.py runagent start`")
    return CheckResult("worker", True, f"{name} joined a test room in {visit.seconds:.1f} s")


def check_phone(*, livekit_ok: bool = True) -> CheckResult:
    """With live phone lines: LiveKit's SIP API answers (it needs Redis on LiveKit's side) and its trunk and
    dispatch rules match the lines (phone_lines.pending plans nothing). Passes without a word to LiveKit when
    no line is live. Not tried when LiveKit itself failed."""
    try:
        live = PhoneLine.objects.live().count()
    except DatabaseError:
        return CheckResult("phone", False, "not checked: the database must answer first (see the database check)")
    if not live:
        return CheckResult("phone", True, "no live phone line: nothing to check")
    if not livekit_ok:
        return CheckResult("phone", False, "not checked: LiveKit must answer first (see the livekit check)")
    try:
        _lines, actions = phone_lines.pending()
    except phone_lines.SYNC_ERRORS as exc:
        return CheckResult("phone", False, phone_lines.explain(exc))
    if actions:
        return CheckResult("phone", False, f"LiveKit differs from the phone lines ({len(actions)} change(s), first: "
                                           f"{actions[0].text}): run `manage.py sync_sip`")  # fmt: skip
    return CheckResult("phone", True, f"{live} line(s) in sync; phone lines need "
                                      f"{sip.SIP_MINIMUM_VERSIONS}")  # fmt: skip


# --- models -----------------------------------------------------------------------------------------------


def check_models() -> CheckResult:
    """The model server at OPENAI_BASE_URL accepts OPENAI_API_KEY (GET /models) and has the configured models
    (AGENT_LLM_MODEL, AGENT_STT_MODEL, AGENT_TTS_MODEL)."""
    base = settings.OPENAI_BASE_URL or OPENAI_DEFAULT_BASE_URL
    if not settings.OPENAI_API_KEY:
        return CheckResult("models", False, "OPENAI_API_KEY is not set: set the model key (an OpenAI API key, or "
                                            "your OpenAI-compatible server's, with OPENAI_BASE_URL)")  # fmt: skip
    client = openai.OpenAI(api_key=settings.OPENAI_API_KEY, base_url=base, timeout=CHECK_TIMEOUT, max_retries=0)
    try:
        available = {m.id for m in client.models.list()}
    except openai.AuthenticationError:
        return CheckResult("models", False, f"the model key is wrong: {base} refused OPENAI_API_KEY (401)")
    except openai.APITimeoutError:
        return CheckResult("models", False, f"the model server at {base} did not answer within {CHECK_TIMEOUT:g} s: "
                                            "check OPENAI_BASE_URL and the network")  # fmt: skip
    except openai.APIConnectionError as exc:
        cause = exc.__cause__ or exc
        return CheckResult("models", False, f"cannot connect to the model server at {base} ({cause}): fix "
                                            "OPENAI_BASE_URL")  # fmt: skip
    except openai.APIStatusError as exc:
        return CheckResult("models", False, f"{base} answered {exc.status_code} to GET /models: OPENAI_BASE_URL "
                                            f"must be the API's root, e.g. {OPENAI_DEFAULT_BASE_URL}")  # fmt: skip
    finally:
        client.close()
    wanted = {s: getattr(settings, s) for s in ("AGENT_LLM_MODEL", "AGENT_STT_MODEL", "AGENT_TTS_MODEL")}
    missing = [f"{model} ({setting})" for setting, model in wanted.items() if model not in available]
    if missing:
        return CheckResult("models", False, f"{base} has no model {', '.join(missing)}: set those settings to models "
                                            "it lists")  # fmt: skip
    return CheckResult("models", True)


# --- static files, Redis, check --deploy -------------------------------------------------------------------


def check_static() -> CheckResult:
    """Outside DEBUG: every static file the finders know is in STATIC_ROOT, as new as its source."""
    if settings.DEBUG:
        return CheckResult("static", True, "DEBUG is on: served from the source folders, not collected")
    stale = []
    for finder in get_finders():
        for path, storage in finder.list(STATIC_IGNORE):
            prefix = getattr(storage, "prefix", None)
            collected = f"{prefix}/{path}" if prefix else path
            if not staticfiles_storage.exists(collected) or (
                staticfiles_storage.get_modified_time(collected) < storage.get_modified_time(path)
            ):
                stale.append(collected)
    if stale:
        return CheckResult("static", False, f"{len(stale)} static file(s) not collected or out of date in "
                                            f"{settings.STATIC_ROOT} (e.g. {stale[0]}): run `manage.py collectstatic`")  # fmt: skip
    return CheckResult("static", True)


def check_redis() -> CheckResult:
    """REDIS_URL, when set, answers PING."""
    if not settings.REDIS_URL:
        return CheckResult("redis", True, "REDIS_URL is not set: in-memory Channels layer, one web process only")
    where = _redis_name(settings.REDIS_URL)
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=CHECK_TIMEOUT, socket_connect_timeout=CHECK_TIMEOUT
        )
        with contextlib.closing(client):
            client.ping()
    except (redis.RedisError, ValueError) as exc:
        return CheckResult("redis", False, f"Redis at {where} does not answer ({exc}): start it or fix REDIS_URL")
    return CheckResult("redis", True)


def _redis_name(url: str) -> str:
    """REDIS_URL without its password: "redis://cache.internal:6379/0"."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{':' + str(parts.port) if parts.port else ''}{parts.path}"


def check_deploy() -> CheckResult:
    """Outside DEBUG: `manage.py check --deploy` finds no warning or error (silenced ones aside)."""
    if settings.DEBUG:
        return CheckResult("deploy", True, "DEBUG is on: a development set-up, so `check --deploy` does not apply")
    found = [m for m in checks.run_checks(include_deployment_checks=True)
             if m.level >= checks.WARNING and not m.is_silenced()]  # fmt: skip
    if found:
        ids = ", ".join(sorted({m.id or m.msg[:40] for m in found}))
        return CheckResult("deploy", False, f"`manage.py check --deploy` reports {len(found)} issue(s) ({ids}): run "
                                            "it and fix them")  # fmt: skip
    return CheckResult("deploy", True)


@contextlib.contextmanager
def quiet(logger_name: str) -> Iterator[None]:
    """Hold `logger_name`'s records below ERROR for the block: doctor reports what they would say itself."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
