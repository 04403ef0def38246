"""The LiveKit Agents worker: AgentServer wiring, per-process prewarm, and the job entrypoint.

Job processes are forkserver children in which Django is not set up: `prewarm` runs `django.setup()`
first thing in each of them. This module is imported by those children before that (they unpickle
`entrypoint` by reference), so it must not import Django models or settings at import time; agent.py and
lookups.py, which do, are imported inside the functions. Nor does it import the model plugins: the
forkserver preloads them (agent_worker.preload) and the worker's main process, which runs no session, is
spared their ~0.5 s of imports.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Collection

import django
from livekit import rtc
from livekit.agents import AgentServer, AgentSession, CloseEvent, CloseReason, JobContext, JobProcess, room_io
from livekit.agents.job import DEFAULT_PARTICIPANT_KINDS

from dispatch.job_metadata import DoctorJob, InvalidJobMetadata, parse_job_metadata, preview

from .db import run_orm
from .forkserver import PRELOAD_MODULES, skip_unused_models

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
    from livekit.plugins import openai, silero  # preloaded by the forkserver, not needed by the main process

    proc.userdata["vad"] = silero.VAD.load(min_silence_duration=0.3)
    # Building the clients costs ~0.2 s of loop time (SSL context): do it here, not per job.
    client = {"api_key": settings.OPENAI_API_KEY, "base_url": settings.OPENAI_BASE_URL or None}
    proc.userdata["llm"] = openai.LLM(model=settings.AGENT_LLM_MODEL, **client)
    proc.userdata["stt"] = build_stt(client)
    proc.userdata["tts"] = openai.TTS(model=settings.AGENT_TTS_MODEL, voice=settings.AGENT_TTS_VOICE, **client)


def build_stt(client: dict):
    """The speech-to-text client: streaming over OpenAI's realtime websocket when AGENT_REALTIME_STT is on
    (the transcript is final AGENT_REALTIME_STT_SILENCE seconds after the diner's voice ends, while the turn
    is still being confirmed), else the upload of each utterance to /audio/transcriptions once the VAD has
    heard it end. The server's VAD only closes transcripts: turns are the local VAD's (turn_taking.py)."""
    from django.conf import settings
    from livekit.plugins import openai

    if not settings.AGENT_REALTIME_STT:
        return openai.STT(model=settings.AGENT_STT_MODEL, **client)
    silence_ms = round(settings.AGENT_REALTIME_STT_SILENCE * 1000)
    turn_detection = {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300, "silence_duration_ms": silence_ms}
    return openai.STT(model=settings.AGENT_STT_MODEL, use_realtime=True, turn_detection=turn_detection, **client)


def tts_instructions(tts_model: str, language: str) -> str | None:
    """How the agent is asked to speak: an accent for `language`; None for OpenAI's older TTS models, which
    take no instructions."""
    from restaurants.hours import language_name

    if tts_model in ("tts-1", "tts-1-hd"):
        return None
    return f"Speak {language_name(language)} as a warm, brisk restaurant host."


def job_metadata(ctx: JobContext) -> str:
    """The job's metadata; for console mode's fake job, what `runagent console --restaurant` set."""
    if not ctx.job.metadata and ctx.is_fake_job():
        return os.environ.get(CONSOLE_METADATA_ENV, "")
    return ctx.job.metadata


def build_session(userdata: dict, profile) -> AgentSession:
    """An AgentSession from the process's prewarmed models, tuned for `profile`'s language and voice.

    Without "stt"/"tts" in `userdata` the session is text only (diners type; the agent answers in text).
    Turn detection and interruptions use the local VAD (no hidden calls to outside services), with the
    waits of the restaurant's turn-taking choice (turn_taking.py).
    """
    from .turn_taking import turn_handling, turn_profile

    stt, tts = userdata.get("stt"), userdata.get("tts")
    if stt is not None:
        # Dish names as a transcription prompt, so "cacio e pepe" is heard as such.
        prompt = f"A diner calls {profile.name}. Dishes: " + ", ".join(profile.dish_names)
        stt.update_options(language=profile.language.split("-")[0], prompt=prompt[:1000])
    if tts is not None:
        # A job process serves one job, so changing the process's client changes this session only.
        tts.update_options(voice=profile.voice)
        if accent := tts_instructions(tts.model, profile.language):
            tts.update_options(instructions=accent)
    vad = userdata.get("vad")
    if vad is None:
        return AgentSession(llm=userdata["llm"], stt=stt, tts=tts, vad=None)
    turns = turn_profile(profile.turn_taking)
    vad.update_options(min_silence_duration=turns.vad_silence)  # the process's VAD serves this one session
    return AgentSession(llm=userdata["llm"], stt=stt, tts=tts, vad=vad, turn_handling=turn_handling(turns))


# Said when a call reaches AGENT_MAX_CALL_DURATION, before the agent hangs up.
TIME_LIMIT_GOODBYE = (
    "I'm sorry, this call has reached its time limit, so I have to say goodbye now. Please call again if you "
    "have more questions."
)


async def wait_for_diner(
    room: rtc.Room, timeout: float, kinds: Collection[rtc.ParticipantKind.ValueType] = DEFAULT_PARTICIPANT_KINDS
) -> rtc.RemoteParticipant | None:
    """The first caller in `room` (by default a browser diner or a phone caller, not another agent; else a
    participant of one of `kinds`), waiting up to `timeout` seconds for one to join; None if nobody did."""

    def is_caller(p: rtc.RemoteParticipant) -> bool:
        return p.kind in kinds

    for participant in room.remote_participants.values():
        if is_caller(participant):
            return participant
    joined: asyncio.Future[rtc.RemoteParticipant] = asyncio.get_running_loop().create_future()

    def on_connected(participant: rtc.RemoteParticipant) -> None:
        if is_caller(participant) and not joined.done():
            joined.set_result(participant)

    room.on("participant_connected", on_connected)
    try:
        async with asyncio.timeout(timeout):
            return await joined
    except TimeoutError:
        return None
    finally:
        room.off("participant_connected", on_connected)


# How long the agent waits for LiveKit's SIP bridge to answer a phone line (it took ~50 ms on a real server)
# before it speaks anyway.
PHONE_ANSWER_TIMEOUT = 3.0
SIP = rtc.ParticipantKind.PARTICIPANT_KIND_SIP


async def answer_phone(ctx: JobContext, profile, record):
    """A phone call's caller (agent.PhoneCaller) once they are in the room and their line is checked, or None
    when the job ends instead.

    Joins the room and waits up to AGENT_NO_SHOW_TIMEOUT seconds for the SIP participant (kind SIP); reads
    its `sip.phoneNumber` (the caller) and `sip.trunkPhoneNumber` (the number dialled), and records the call
    (channel phone: there was no web request). A dialled number that is not an active phone line of this
    restaurant (a stale dispatch rule: run `manage.py sync_sip`) is logged and hung up on: the room is
    deleted and the call recorded as failed.
    """
    from django.conf import settings

    from dispatch.models import Call

    from . import lookups
    from .agent import PhoneCaller

    await ctx.connect()
    participant = await wait_for_diner(ctx.room, settings.AGENT_NO_SHOW_TIMEOUT, kinds=(SIP,))
    if participant is None:
        logger.info("job %s: no phone caller in room %s; ending", ctx.job.id, ctx.job.room.name)
        ctx.shutdown(reason="no phone caller")
        return None
    number = participant.attributes.get("sip.phoneNumber", "")
    dialled = participant.attributes.get("sip.trunkPhoneNumber", "")
    transfer_number = await run_orm(lookups.line_transfer_number, profile.id, dialled)
    record.phone_answered(
        restaurant_id=profile.id, dispatch_id=ctx.job.dispatch_id, caller_identity=participant.identity,
        caller_number=number, dialled_number=dialled, answered=transfer_number is not None,
    )  # fmt: skip
    if transfer_number is None:
        logger.error("job %s: the caller dialled %r, which is not an active phone line of restaurant %s (%s); "
                     "hanging up (run manage.py sync_sip)", ctx.job.id, dialled, profile.id, profile.name)  # fmt: skip
        record.end_reason = Call.EndReason.WRONG_LINE
        await ctx.delete_room()
        ctx.shutdown(reason="dialled number is not this restaurant's")
        return None
    return PhoneCaller(
        room_name=ctx.job.room.name, identity=participant.identity, number=number, dialled=dialled,
        can_transfer=bool(transfer_number),
    )  # fmt: skip


async def wait_until_answered(room: rtc.Room, identity: str, timeout: float) -> bool:
    """Wait up to `timeout` seconds until LiveKit's SIP bridge has answered the line of participant `identity`
    (attribute sip.callStatus "active"); True if it has (or the participant has no such attribute)."""

    def answered() -> bool:
        participant = room.remote_participants.get(identity)
        return participant is None or participant.attributes.get("sip.callStatus", "active") == "active"

    if answered():
        return True
    changed = asyncio.Event()
    on_change = lambda *_args: changed.set()  # noqa: E731
    room.on("participant_attributes_changed", on_change)
    try:
        async with asyncio.timeout(timeout):
            while not answered():
                changed.clear()
                await changed.wait()
        return True
    except TimeoutError:
        logger.warning("room %s: the phone line was not answered within %s s; speaking anyway", room.name, timeout)
        return False
    finally:
        room.off("participant_attributes_changed", on_change)


# Seconds a doctor job stays at most, joining included: doctor deletes the room as soon as it lists the agent.
DOCTOR_STAY = 10.0


async def answer_doctor(ctx: JobContext) -> None:
    """`manage.py doctor`'s job: join the room so doctor sees a worker took it, and leave when doctor deletes the
    room, or DOCTOR_STAY seconds after the job began; no models, no records. A room deleted before the join
    completed ends the job quietly: doctor lists a participant as soon as it joins, before its media connects."""
    room_name = ctx.job.room.name
    gone = asyncio.Event()
    ctx.room.on("disconnected", lambda *_: gone.set())
    try:
        async with asyncio.timeout(DOCTOR_STAY):
            await ctx.connect()
            logger.info("job %s: doctor check in room %s; leaving when doctor deletes it", ctx.job.id, room_name)
            await gone.wait()
    except rtc.ConnectError as exc:
        logger.info("job %s: doctor check in room %s; the room closed while joining (%s)", ctx.job.id, room_name, exc)
    except TimeoutError:
        logger.info("job %s: doctor check in room %s; leaving after %s s", ctx.job.id, room_name, DOCTOR_STAY)
    ctx.shutdown(reason="doctor check")


async def entrypoint(ctx: JobContext) -> None:
    """One call: job metadata -> restaurant (ORM) -> RestaurantAgent, greeting the diner once they are there.

    Bad metadata or an unknown/inactive restaurant: one log line with the job id and the raw metadata
    (truncated), then the job ends cleanly without joining the room. A phone call (channel "phone"): see
    answer_phone; the greeting is said as soon as LiveKit's SIP bridge has answered the line. A web diner who
    has not joined within AGENT_NO_SHOW_TIMEOUT seconds: the job ends (the room is deleted), no model is used.
    A call that reaches AGENT_MAX_CALL_DURATION seconds: the agent says goodbye and ends it. The call's record (dispatch.Call)
    gets the agent's and the diner's join times and how the call ended.
    """
    from django.conf import settings

    from dispatch.models import Call
    from restaurants.models import Restaurant

    from . import lookups
    from .agent import PhoneAgent, RestaurantAgent
    from .greeting import Greeting
    from .records import CallRecord

    raw = job_metadata(ctx)
    try:
        job = parse_job_metadata(raw)
        if isinstance(job, DoctorJob):
            await answer_doctor(ctx)
            return
        profile = await run_orm(lookups.load_profile, job.restaurant_id)
    except (InvalidJobMetadata, Restaurant.DoesNotExist) as exc:
        reason = str(exc) if isinstance(exc, InvalidJobMetadata) else "no active restaurant with that id"
        logger.error("job %s ended: %s (metadata %s)", ctx.job.id, reason, preview(raw))
        ctx.shutdown(reason=reason)
        return

    room_name = ctx.job.room.name
    logger.info("job %s: room %s, restaurant %s (%s), %s call", ctx.job.id, room_name, profile.id, profile.name,
                job.channel)  # fmt: skip
    record = CallRecord(room_name)
    ctx.add_shutdown_callback(record.end)
    caller = None
    if job.channel == "phone" and (caller := await answer_phone(ctx, profile, record)) is None:
        return
    session = build_session(ctx.proc.userdata, profile)

    @session.on("close")
    def _on_close(event: CloseEvent) -> None:
        if record.end_reason is None:
            record.end_reason = {
                CloseReason.PARTICIPANT_DISCONNECTED: Call.EndReason.DINER_HUNG_UP,
                CloseReason.ERROR: Call.EndReason.ERROR,
            }.get(event.reason, Call.EndReason.AGENT_ENDED)

    record.follow(session)
    # Look the greeting's audio up (or render it) now, while the room is joined and the diner connects.
    greeting = None
    if session.tts is not None and settings.AGENT_GREETING_CACHE:
        instructions = tts_instructions(session.tts.model, profile.language)
        greeting = Greeting.prepare(session.tts, profile.greeting, voice=profile.voice, instructions=instructions)
        ctx.add_shutdown_callback(greeting.aclose)
    audio = "stt" in ctx.proc.userdata
    await session.start(
        agent=PhoneAgent(profile, record, caller) if caller else RestaurantAgent(profile, record),
        room=ctx.room,
        # The room is this call's alone: when the diner hangs up, delete it, so the job ends and frees its
        # process now rather than when LiveKit's departure timeout empties the room. (For a phone call,
        # deleting the room also hangs up the caller's line: end_call relies on it.)
        room_options=room_io.RoomOptions(audio_input=audio, audio_output=audio, delete_room_on_close=True),
    )
    if caller:
        # LiveKit's SIP bridge answers the line once the agent subscribes to the caller's audio (session.start).
        await wait_until_answered(ctx.room, caller.identity, PHONE_ANSWER_TIMEOUT)
    else:
        record.agent_joined()
        # Nobody may come (a page closed, a scripted POST): then end here, before any model is paid for.
        if await wait_for_diner(ctx.room, settings.AGENT_NO_SHOW_TIMEOUT) is None:
            logger.info("job %s: no diner joined room %s within %s s; ending", ctx.job.id, room_name,
                        settings.AGENT_NO_SHOW_TIMEOUT)  # fmt: skip
            record.end_reason = Call.EndReason.NO_DINER
            session.shutdown(drain=False)
            return
        record.diner_joined()
    if greeting is not None:
        greeting.say(session)
    else:
        session.say(profile.greeting)

    async def end_at_time_limit() -> None:
        await asyncio.sleep(settings.AGENT_MAX_CALL_DURATION)
        record.end_reason = Call.EndReason.TIME_LIMIT
        await session.say(TIME_LIMIT_GOODBYE, allow_interruptions=False).wait_for_playout()
        session.shutdown()

    time_limit = asyncio.create_task(end_at_time_limit())
    session.on("close", lambda _event: time_limit.cancel())


def build_server(*, agent_name: str) -> AgentServer:
    """The worker, registered as `agent_name`, with its knobs from Django settings (AGENT_*).

    Load is this worker's share of AGENT_MAX_JOBS sessions, not the machine's CPU: on a machine shared with
    the web app, a CPU spike must not make LiveKit drop a diner's job.
    """
    from django.conf import settings

    skip_unused_models()
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
        preload_modules=PRELOAD_MODULES,
        # A finished job writes its last call records before its process goes (see records.py).
        shutdown_process_timeout=settings.AGENT_RECORD_DRAIN_TIMEOUT + 10,
    )
    server.rtc_session(entrypoint, agent_name=agent_name)
    return server
