"""maitre's settings: every knob comes from the environment (or an optional `.env` beside manage.py).

Read with django-environ. Defaults are the embedded ones (SQLite file in the repo, in-memory channel
layer); anything a deployment must choose itself (SECRET_KEY outside DEBUG) raises ImproperlyConfigured.
"""

import ipaddress
import os
import re
import tempfile
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=true for local development).")
    SECRET_KEY = "insecure-development-key-do-not-deploy"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
# Origins allowed to POST with a CSRF token, e.g. https://maitre.example.com behind a proxy.
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "dispatch.views.csrf_failure"

# --- HTTPS: on outside DEBUG (what `manage.py check --deploy` asks for), each one can be turned off --------
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
# Browsers that saw the site over HTTPS refuse plain HTTP to it for this many seconds (sent on HTTPS only).
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 60 * 60)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
# Asking browsers to hard-code the domain as HTTPS-only is hard to undo: a deployment opts in.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Behind a proxy that terminates TLS: the header it sets on HTTPS requests, as it sends it, e.g.
# "X-Forwarded-Proto: https". Set it only when the proxy always sets or strips that header.
_proxy_ssl_header = env.str("SECURE_PROXY_SSL_HEADER", default="")
SECURE_PROXY_SSL_HEADER = None
if _proxy_ssl_header:
    _name, _, _value = _proxy_ssl_header.partition(":")
    if not (re.fullmatch(r"[A-Za-z0-9-]+", _name.strip()) and _value.strip()):
        raise ImproperlyConfigured('SECURE_PROXY_SSL_HEADER is a header line such as "X-Forwarded-Proto: https".')
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _name.strip().upper().replace("-", "_"), _value.strip())
# A load balancer probes /healthz over plain HTTP: answer it there rather than redirect it.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# security.W021 asks for HSTS preload, which SECURE_HSTS_PRELOAD leaves to the deployment (see above).
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# Content-Security-Policy (django-csp): scripts and styles from this site only, never inline. The call
# widget's connections to LiveKit are added per response (dispatch.csp).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "media-src": [SELF, "blob:"],
        "worker-src": [SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

INSTALLED_APPS = [
    "daphne",  # first: its runserver serves ASGI (Channels)
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_tasks",
    "django_tasks_db",
    "restaurants",
    "dispatch",
    "orders",
    "reservations",
    "insights",
    "agent_worker",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "dispatch.csp.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
# The websocket routes (its `websocket_urlpatterns`), which config/asgi.py serves as Django serves ROOT_URLCONF.
WEBSOCKET_URLCONF = "config.routing"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dispatch.context_processors.voice_setup",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The worker's job processes must see the test database too: a file, not memory; one per test run.
    DATABASES["default"]["TEST"] = {"NAME": str(Path(tempfile.gettempdir()) / f"maitre-test-{os.getpid()}.sqlite3")}
    # The web app and the worker write to one file; wait for each other's locks instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("timeout", 20)
    # Take the write lock when a transaction starts: a read-then-write transaction (the per-restaurant call cap)
    # then waits its turn instead of failing with "database is locked" when another one wrote first.
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    # Write-ahead logging: readers (the pages, the agent's tools) no longer wait for a writer, and a commit
    # costs one append instead of rewriting a journal (about 2 ms less per commit here).
    DATABASES["default"]["OPTIONS"].setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis, when set, carries what several web processes must share: the channel layer and the cache (rate limits).
# Without it: the in-memory channel layer (one web process) and the database cache.
REDIS_URL = env.str("REDIS_URL", default="")
CHANNEL_LAYERS = (
    {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}}
    if REDIS_URL
    else {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
)
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        # The table is made by a migration (dispatch 0003), so `migrate` is all a deployment runs.
        else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "maitre_cache"}
    )
}

# Background work that must survive a restart or a slow receiver (order webhooks): Django's task framework
# (django-tasks) with its database backend, so a task is enqueued in the same transaction as the row it is about;
# `manage.py db_worker` runs them (the Procfile's `tasks`).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where `collectstatic` puts the files WhiteNoise serves (Procfile: `web` collects before it starts).
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # livekit-client from npm (package.json + package-lock.json); never copied into git.
    ("vendor/livekit-client", BASE_DIR / "node_modules" / "livekit-client" / "dist"),
    # Chart.js (the staff's insights page), likewise: its UMD build, a classic script that sets window.Chart.
    ("vendor/chart.js", BASE_DIR / "node_modules" / "chart.js" / "dist"),
]
WHITENOISE_USE_FINDERS = DEBUG
# collectstatic also writes gzip copies that WhiteNoise serves to browsers that accept them: livekit-client's
# 1.4 MB module goes over the wire as about 0.3 MB.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "maitre": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    },
}

# --- LiveKit ---------------------------------------------------------------------------------------
# The server's websocket URL (ws:// or wss://); the server API is reached at the same host over http(s).
LIVEKIT_URL = env.str("LIVEKIT_URL", default="")
LIVEKIT_API_KEY = env.str("LIVEKIT_API_KEY", default="")
LIVEKIT_API_SECRET = env.str("LIVEKIT_API_SECRET", default="")
# The one name that both the dispatch view and the runagent worker use.
LIVEKIT_AGENT_NAME = env.str("LIVEKIT_AGENT_NAME", default="restaurant-agent")
# Seconds the dispatch view waits for LiveKit's server API before answering 503.
LIVEKIT_API_TIMEOUT = env.float("LIVEKIT_API_TIMEOUT", default=5.0)
# Lifetime of a diner's participant token, in seconds.
LIVEKIT_TOKEN_TTL = env.int("LIVEKIT_TOKEN_TTL", default=15 * 60)
# Each call's room is created with these (seconds): LiveKit closes it when nobody but the agent has joined
# within LIVEKIT_ROOM_EMPTY_TIMEOUT, or that long after the last diner left; LIVEKIT_ROOM_DEPARTURE_TIMEOUT
# is how long it waits for a diner who dropped out to come back. LiveKit's own defaults are 300 s and 20 s.
LIVEKIT_ROOM_EMPTY_TIMEOUT = env.int("LIVEKIT_ROOM_EMPTY_TIMEOUT", default=30)
LIVEKIT_ROOM_DEPARTURE_TIMEOUT = env.int("LIVEKIT_ROOM_DEPARTURE_TIMEOUT", default=10)

# --- Calls: limits that keep agents free for real diners -------------------------------------------
# Calls one client address may start: django-ratelimit rates, e.g. "5/m" (per minute), "20/h" (per hour).
CALL_RATE_LIMITS = env.list("CALL_RATE_LIMITS", default=["5/m", "20/h"])
# Reverse proxies (IP addresses or CIDR networks) whose X-Forwarded-For is believed. Empty: the client address
# is REMOTE_ADDR, and X-Forwarded-For, which anyone can send, is ignored.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
RATELIMIT_IP_META_KEY = "dispatch.limits.client_address"
# django_ratelimit is not in INSTALLED_APPS (it needs none of its app parts); its system check would call the
# database cache "not atomic": web processes racing on one count may let a client past the limit by a call
# or two, which the per-restaurant cap still bounds. With REDIS_URL the count is atomic.

# Seconds the diner's page waits for the agent to join before it says all lines are busy. LiveKit drops a
# dispatch silently when no worker has room, so the agent not joining is the only sign.
AGENT_JOIN_TIMEOUT = env.float("AGENT_JOIN_TIMEOUT", default=6.0)
# Seconds the agent waits for a diner to join its room before it ends the job and frees its process.
AGENT_NO_SHOW_TIMEOUT = env.float("AGENT_NO_SHOW_TIMEOUT", default=15.0)
# Seconds a call may last; then the agent says goodbye and ends it.
AGENT_MAX_CALL_DURATION = env.int("AGENT_MAX_CALL_DURATION", default=15 * 60)
# How long the worker keeps trying a call record the database refuses (seconds), and how long a finished job
# waits for its records to be written before its process ends.
AGENT_RECORD_RETRY_FOR = env.float("AGENT_RECORD_RETRY_FOR", default=60.0)
AGENT_RECORD_DRAIN_TIMEOUT = env.float("AGENT_RECORD_DRAIN_TIMEOUT", default=20.0)
# Derived: no call outlives this (seconds from its dispatch), so one whose worker died stops counting then.
CALL_MAX_LIFETIME = AGENT_NO_SHOW_TIMEOUT + AGENT_MAX_CALL_DURATION + 60
# Days a call's transcript, tool-call arguments and outputs, and unanswered questions are kept (personal data);
# `manage.py purge_calls`, run daily, deletes what is older and keeps the calls' times and counts.
CALL_RETENTION_DAYS = env.int("CALL_RETENTION_DAYS", default=30)

# --- The worker (manage.py runagent) ---------------------------------------------------------------
# Health-check HTTP server of the worker; port 0 picks a free port.
AGENT_HTTP_HOST = env.str("AGENT_HTTP_HOST", default="127.0.0.1")
AGENT_HTTP_PORT = env.int("AGENT_HTTP_PORT", default=8081)
# Concurrent sessions one worker process group takes before it reports itself full to LiveKit.
AGENT_MAX_JOBS = env.int("AGENT_MAX_JOBS", default=8)
# Job processes kept warm (prewarmed: Django set up, VAD and model clients built) for the next call.
AGENT_IDLE_PROCESSES = env.int("AGENT_IDLE_PROCESSES", default=2)
# Seconds a job process may take to prewarm before the worker gives up on it.
AGENT_PROCESS_INIT_TIMEOUT = env.float("AGENT_PROCESS_INIT_TIMEOUT", default=20.0)

# --- Models (any OpenAI-compatible server; the OpenAI SDK also reads OPENAI_BASE_URL) ---------------
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="")
AGENT_LLM_MODEL = env.str("AGENT_LLM_MODEL", default="gpt-4.1-mini")
AGENT_STT_MODEL = env.str("AGENT_STT_MODEL", default="gpt-4o-mini-transcribe")
AGENT_TTS_MODEL = env.str("AGENT_TTS_MODEL", default="gpt-4o-mini-tts")
# Used when a restaurant sets no voice of its own.
AGENT_TTS_VOICE = env.str("AGENT_TTS_VOICE", default="alloy")
# Speed levers (bench/turns.py measures each). Streaming transcription over OpenAI's realtime websocket
# (`<OPENAI_BASE_URL>/realtime?intent=transcription`): off for servers that only have /audio/transcriptions.
AGENT_REALTIME_STT = env.bool("AGENT_REALTIME_STT", default=True)
# Silence (seconds) after which the realtime server closes a transcript: it adds straight to each turn.
AGENT_REALTIME_STT_SILENCE = env.float("AGENT_REALTIME_STT_SILENCE", default=0.2)
# Each model request carries the hours, open-now and address, computed from the database right before it.
AGENT_TURN_FACTS = env.bool("AGENT_TURN_FACTS", default=True)
# Each greeting is synthesised once per (text, voice, TTS model) and its audio kept in the cache.
AGENT_GREETING_CACHE = env.bool("AGENT_GREETING_CACHE", default=True)

if LIVEKIT_TOKEN_TTL <= 0 or LIVEKIT_TOKEN_TTL > 60 * 60:
    raise ImproperlyConfigured("LIVEKIT_TOKEN_TTL is in seconds and must be between 1 and 3600.")
if not 0.1 <= AGENT_REALTIME_STT_SILENCE <= 2:
    raise ImproperlyConfigured("AGENT_REALTIME_STT_SILENCE is in seconds, from 0.1 to 2.")
if AGENT_MAX_JOBS < 1:
    raise ImproperlyConfigured("AGENT_MAX_JOBS must be at least 1.")
for _name in ("LIVEKIT_ROOM_EMPTY_TIMEOUT", "LIVEKIT_ROOM_DEPARTURE_TIMEOUT", "AGENT_JOIN_TIMEOUT",
              "AGENT_NO_SHOW_TIMEOUT", "AGENT_MAX_CALL_DURATION", "AGENT_RECORD_RETRY_FOR",
              "AGENT_RECORD_DRAIN_TIMEOUT"):  # fmt: skip
    if not 0 < globals()[_name] <= 24 * 60 * 60:
        raise ImproperlyConfigured(f"{_name} is in seconds and must be more than 0 and at most 86400.")
if not 1 <= CALL_RETENTION_DAYS <= 36500:
    raise ImproperlyConfigured("CALL_RETENTION_DAYS is a number of days from 1 to 36500.")
_RATE = re.compile(r"^\d+/\d*[smhd]$")
if not CALL_RATE_LIMITS or not all(_RATE.match(r) for r in CALL_RATE_LIMITS):
    raise ImproperlyConfigured('CALL_RATE_LIMITS is a comma-separated list of rates such as "5/m,20/h".')
try:
    for _proxy in TRUSTED_PROXIES:
        ipaddress.ip_network(_proxy, strict=False)
except ValueError as exc:
    raise ImproperlyConfigured(f"TRUSTED_PROXIES holds IP addresses or CIDR networks: {exc}") from None

# --- Phone calls (manage.py sync_sip) ----------------------------------------------------------------
# Phone numbers are stored and printed in E.164 (+442079460123), the form LiveKit's SIP API and the caller's
# participant attributes use.
PHONENUMBER_DEFAULT_FORMAT = "E164"
PHONENUMBER_DB_FORMAT = "E164"
# Set on maitre's inbound SIP trunk: the SIP provider's source addresses (IP addresses or CIDR networks; empty:
# calls from any address are accepted), and the digest username and password the provider must send (both or
# neither; empty: no authentication).
SIP_ALLOWED_ADDRESSES = env.list("SIP_ALLOWED_ADDRESSES", default=[])
SIP_AUTH_USERNAME = env.str("SIP_AUTH_USERNAME", default="")
SIP_AUTH_PASSWORD = env.str("SIP_AUTH_PASSWORD", default="")

try:
    for _address in SIP_ALLOWED_ADDRESSES:
        ipaddress.ip_network(_address, strict=False)
except ValueError as exc:
    raise ImproperlyConfigured(f"SIP_ALLOWED_ADDRESSES holds IP addresses or CIDR networks: {exc}") from None
if bool(SIP_AUTH_USERNAME) != bool(SIP_AUTH_PASSWORD):
    raise ImproperlyConfigured("Set both SIP_AUTH_USERNAME and SIP_AUTH_PASSWORD, or neither.")
