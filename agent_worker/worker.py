"""The LiveKit Agents worker: AgentServer wiring, per-process prewarm, and the job entrypoint.

Job processes are forkserver children in which Django is not set up: `prewarm` runs `django.setup()`
first thing in each of them. This module is imported by those children before that (they unpickle
`entrypoint` by reference), so it must not import Django models or settings at import time; agent.py and
answers.py, which do, are imported inside the functions.
"""

from __future__ import annotations

import logging
import os

import django
from livekit.agents import AgentServer, AgentSession, JobContext, JobProcess, room_io
# Imported here, in the worker's main process, so the plugins register and the forkserver preloads them.
from livekit.plugins import openai, silero

from .db import run_orm
from .metadata import InvalidJobMetadata, parse_job_metadata, preview

logger = logging.getLogger("maitre.agent")

# Set by `runagent console --restaurant`: LiveKit's console gives the job no metadata of its own.
CONSOLE_METADATA_ENV = "MAITRE_CONSOLE_JOB_METADATA"


def setup_django() -> None:
    """django.setup() for job processes (and the forkserver they are forked from); cheap when done already.

    Logging stays LiveKit's: it forwards a job process's records to the worker through a handler on the
    root logger, and applying settings.LOGGING (dictConfig) would close every existing handler, that one
    included, so the job's log lines and tracebacks would vanish.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings

    settings.LOGGING_CONFIG = None
    django.setup()


def prewarm(proc: JobProcess) -> None:
    """Runs once in each job process before it takes a job: Django, the VAD model, the model clients."""
    setup_django()  # done in the forkserver already (agent_worker.preload): here for spawn-based platforms
    from django.conf import settings

    proc.userdata["vad"] = silero.VAD.load(min_silence_duration=0.3)
    # Building the clients costs ~0.2 s of loop time (SSL context): do it here, not per job.
    client = {"api_key": settings.OPENAI_API_KEY, "base_url": settings.OPENAI_BASE_URL or None}
    proc.userdata["llm"] = openai.LLM(model=settings.AGENT_LLM_MODEL, **client)
    proc.userdata["stt"] = openai.STT(model=settings.AGENT_STT_MODEL, **client)
    proc.userdata["tts"] = openai.TTS(model=settings.AGENT_TTS_MODEL, voice=settings.AGENT_TTS_VOICE, **client)


def job_metadata(ctx: JobContext) -> str:
    """The job's metadata; for console mode's fake job, what `runagent console --restaurant` set."""
    if not ctx.job.metadata and ctx.is_fake_job():
        return os.environ.get(CONSOLE_METADATA_ENV, "")
    return ctx.job.metadata


def build_session(userdata: dict, profile) -> AgentSession:
    """An AgentSession from the process's prewarmed models, tuned for `profile`'s language and voice.

    Without "stt"/"tts" in `userdata` the session is text only (diners type; the agent answers in text).
    Turn detection and interruptions use the local VAD: no hidden calls to outside services.
    """
    from .agent import language_name

    stt, tts = userdata.get("stt"), userdata.get("tts")
    if stt is not None:
        # Dish names as a transcription prompt, so "cacio e pepe" is heard as such.
        prompt = f"A diner calls {profile.name}. Dishes: " + ", ".join(profile.dish_names)
        stt.update_options(language=profile.language.split("-")[0], prompt=prompt[:1000])
    if tts is not None:
        # A job process serves one job, so changing the process's client changes this session only.
        tts.update_options(voice=profile.voice)
        if tts.model not in ("tts-1", "tts-1-hd"):  # OpenAI's older voices take no instructions
            accent = f"Speak {language_name(profile.language)} as a warm, brisk restaurant host."
            tts.update_options(instructions=accent)
    vad = userdata.get("vad")
    if vad is None:
        return AgentSession(llm=userdata["llm"], stt=stt, tts=tts, vad=None)
    return AgentSession(
        llm=userdata["llm"],
        stt=stt,
        tts=tts,
        vad=vad,
        turn_handling={
            "turn_detection": "vad",
            "endpointing": {"min_delay": profile.turn_end_delay},
            "interruption": {"mode": "vad"},
        },
    )


async def entrypoint(ctx: JobContext) -> None:
    """One diner session: job metadata -> restaurant (ORM) -> RestaurantAgent with its greeting.

    Bad metadata or an unknown/inactive restaurant: one log line with the job id and the raw metadata
    (truncated), then the job ends cleanly without joining the room.
    """
    from restaurants.models import Restaurant

    from . import answers
    from .agent import RestaurantAgent

    raw = job_metadata(ctx)
    try:
        restaurant_id = parse_job_metadata(raw)
        profile = await run_orm(answers.load_profile, restaurant_id)
    except (InvalidJobMetadata, Restaurant.DoesNotExist) as exc:
        reason = str(exc) if isinstance(exc, InvalidJobMetadata) else "no active restaurant with that id"
        logger.error("job %s ended: %s (metadata %s)", ctx.job.id, reason, preview(raw))
        ctx.shutdown(reason=reason)
        return

    logger.info("job %s: room %s, restaurant %s (%s)", ctx.job.id, ctx.job.room.name, profile.id, profile.name)
    session = build_session(ctx.proc.userdata, profile)
    audio = "stt" in ctx.proc.userdata
    await session.start(
        agent=RestaurantAgent(profile),
        room=ctx.room,
        # The room is this call's alone: when the diner hangs up, delete it, so the job ends and frees its
        # process now rather than when LiveKit's departure timeout empties the room.
        room_options=room_io.RoomOptions(audio_input=audio, audio_output=audio, delete_room_on_close=True),
    )
    session.say(profile.greeting)


def build_server(*, agent_name: str) -> AgentServer:
    """The worker, registered as `agent_name`, with its knobs from Django settings (AGENT_*).

    Load is this worker's share of AGENT_MAX_JOBS sessions, not the machine's CPU: on a machine shared with
    the web app, a CPU spike must not make LiveKit drop a diner's job.
    """
    from django.conf import settings

    server = AgentServer(
        ws_url=settings.LIVEKIT_URL,
        api_key=settings.LIVEKIT_API_KEY,
        api_secret=settings.LIVEKIT_API_SECRET,
        host=settings.AGENT_HTTP_HOST,
        port=settings.AGENT_HTTP_PORT,
        num_idle_processes=settings.AGENT_IDLE_PROCESSES,
        initialize_process_timeout=settings.AGENT_PROCESS_INIT_TIMEOUT,
        load_fnc=lambda s: len(s.active_jobs) / settings.AGENT_MAX_JOBS,
        # Full once AGENT_MAX_JOBS sessions run. (While a job is being launched LiveKit's worker counts it as
        # 1/num_idle_processes of this threshold, so keep at least two warm processes for bursts of calls.)
        load_threshold=1.0,
        setup_fnc=prewarm,
        preload_modules=["agent_worker.preload"],
    )
    server.rtc_session(entrypoint, agent_name=agent_name)
    return server
