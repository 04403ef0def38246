"""The voice session a job builds: the process's prewarmed speech clients, tuned for one restaurant.

prewarm() and build_session() run for real; the OpenAI audio endpoints are a contract fake
(tests/fakes/openai_audio.py), so the test sees what the clients put on the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import SimpleNamespace

import numpy as np
import pytest
from asgiref.sync import async_to_sync
from livekit import rtc
from livekit.agents import APIConnectOptions

from agent_worker.lookups import load_profile
from agent_worker.db import run_orm
from agent_worker.worker import build_session, prewarm
from tests.fakes.openai_audio import FakeOpenAIAudio

pytestmark = pytest.mark.django_db

API_KEY = "sk-test-speech"
ONE_TRY = APIConnectOptions(max_retry=0, timeout=5)


def voice_session(restaurant, settings, question: str, answer: str):
    """prewarm a job process, build the restaurant's session, hear `question` and say `answer` through it.

    Returns (fake OpenAI, the session, the transcribed text, seconds of synthesised audio).
    """

    async def main():
        fake = FakeOpenAIAudio(api_key=API_KEY, transcript=question)
        settings.OPENAI_BASE_URL = await fake.start()
        settings.OPENAI_API_KEY = API_KEY
        proc = SimpleNamespace(userdata={})
        try:
            prewarm(proc)
            session = build_session(proc.userdata, await run_orm(load_profile, restaurant.pk))
            half_a_second = rtc.AudioFrame.create(sample_rate=16000, num_channels=1, samples_per_channel=8000)
            heard = await session.stt.recognize([half_a_second], conn_options=ONE_TRY)
            spoken = await session.tts.synthesize(answer, conn_options=ONE_TRY).collect()
            return fake, session, heard.alternatives[0].text, spoken.duration
        finally:
            for name in ("llm", "stt", "tts"):
                if name in proc.userdata:
                    await proc.userdata[name].aclose()
            await fake.stop()

    return async_to_sync(main)()


def test_speech_recognition_hears_the_restaurants_language_and_dish_names(restaurant, settings):
    restaurant.language = "it-IT"
    restaurant.save()

    fake, _, heard, _ = voice_session(restaurant, settings, "Quanto costa la carciofi alla giudia?", "Nove euro.")

    assert heard == "Quanto costa la carciofi alla giudia?"
    [request] = fake.transcriptions
    assert request["model"] == settings.AGENT_STT_MODEL
    assert request["language"] == "it"
    assert request["prompt"].startswith("A diner calls Trattoria Test. Dishes: ")
    for dish in ("Bruschetta al pomodoro", "Carciofi alla giudia", "Margherita", "Tartufo"):
        assert dish in request["prompt"]
    assert request["file"] > 16000  # the WAV of half a second of 16 kHz audio


def test_the_agent_speaks_with_the_restaurants_voice_and_language(restaurant, settings):
    restaurant.language = "de-DE"
    restaurant.tts_voice = "coral"
    restaurant.save()

    fake, _, _, seconds = voice_session(restaurant, settings, "Hallo?", "Guten Abend!")

    [request] = fake.speech
    assert (request["model"], request["voice"], request["input"]) == (settings.AGENT_TTS_MODEL, "coral", "Guten Abend!")
    assert "German (Germany)" in request["instructions"]
    assert seconds == pytest.approx(0.2)


def test_older_speech_models_get_no_instructions(restaurant, settings):
    settings.AGENT_TTS_MODEL = "tts-1"

    fake, _, _, _ = voice_session(restaurant, settings, "Hello?", "Good evening!")

    assert fake.speech[0]["model"] == "tts-1"
    assert "instructions" not in fake.speech[0]


def test_a_restaurant_without_a_voice_gets_the_default_voice(restaurant, settings):
    settings.AGENT_TTS_VOICE = "ash"

    fake, _, _, _ = voice_session(restaurant, settings, "Hello?", "Good evening!")

    assert fake.speech[0]["voice"] == "ash"


@pytest.mark.parametrize(("turn_taking", "silence"), [("quick", 0.25), ("balanced", 0.6), ("patient", 0.8)])
def test_turns_end_after_the_restaurants_chosen_silence_detected_locally(restaurant, settings, turn_taking, silence):
    restaurant.turn_taking = turn_taking
    restaurant.save()

    _, session, _, _ = voice_session(restaurant, settings, "Hello?", "Hello!")

    turns = session.options.turn_handling
    assert turns["turn_detection"] == "vad"  # Silero in this process: no cloud turn detector
    assert turns["interruption"]["mode"] == "vad"
    assert session.vad.min_silence_duration == silence
    assert f"{silence} s" in restaurant.get_turn_taking_display()  # what staff read is what the agent does


@contextlib.asynccontextmanager
async def streaming_job(settings, transcripts: list[str]):
    """A prewarmed job process with streaming transcription on, against the realtime fake, whose segments say
    `transcripts` in turn. Yields (the fake, the process); closes the process's clients, then the fake."""
    from tests.fakes.jobs import job_http_session
    from tests.fakes.openai_realtime import FakeOpenAIRealtime

    realtime = FakeOpenAIRealtime(api_key=API_KEY)
    realtime.transcripts[:] = transcripts
    audio_fake = FakeOpenAIAudio(api_key=API_KEY, transcript="", realtime=realtime)
    settings.OPENAI_BASE_URL, settings.OPENAI_API_KEY = await audio_fake.start(), API_KEY
    settings.AGENT_REALTIME_STT = True
    proc = SimpleNamespace(userdata={})
    try:
        async with job_http_session():
            prewarm(proc)
            try:
                yield realtime, proc
            finally:  # the pooled realtime socket too: the fake waits for it when stopping
                for name in ("llm", "stt", "tts"):
                    await proc.userdata[name].aclose()
    finally:
        await audio_fake.stop()


def realtime_transcription(restaurant, settings, audio, transcripts: list[str]):
    """prewarm a job process with streaming transcription on, build the restaurant's session, and stream
    `audio` (PCM16 at tests.fakes.voice.SAMPLE_RATE, then a second of silence) through its STT to the
    realtime fake. Returns (the fake, the final transcripts the STT reported)."""
    from livekit.agents import stt

    from tests.fakes.voice import FRAME, SAMPLE_RATE, silence

    async def main():
        finals: list[str] = []
        async with streaming_job(settings, transcripts) as (fake, proc):
            session = build_session(proc.userdata, await run_orm(load_profile, restaurant.pk))
            stream = session.stt.stream()
            samples = np.concatenate([audio, silence(1.0)])
            for i in range(0, len(samples), FRAME):
                stream.push_frame(rtc.AudioFrame(samples[i : i + FRAME].tobytes(), SAMPLE_RATE, 1, FRAME))
            async with asyncio.timeout(10):
                async for event in stream:
                    if event.type == stt.SpeechEventType.FINAL_TRANSCRIPT:
                        finals.append(event.alternatives[0].text)
                    if len(finals) == len(transcripts):
                        break
            await stream.aclose()
        return fake, finals

    return async_to_sync(main)()


def test_streaming_transcription_hears_the_diner_in_the_restaurants_language(restaurant, settings):
    from tests.fakes.voice import speech

    restaurant.language = "it-IT"
    restaurant.save()

    fake, finals = realtime_transcription(restaurant, settings, speech(0.8), ["Siete aperti stasera?"])

    assert finals == ["Siete aperti stasera?"]
    [connection] = fake.connections
    assert connection["query"] == {"intent": "transcription", "model": settings.AGENT_STT_MODEL}
    session = connection["updates"][-1]["session"]["audio"]["input"]
    assert session["transcription"]["language"] == "it"
    assert session["transcription"]["prompt"].startswith("A diner calls Trattoria Test. Dishes: ")
    assert "Carciofi alla giudia" in session["transcription"]["prompt"]
    # The server's silence before it closes a transcript is ours to choose: it adds to every turn.
    assert session["turn_detection"]["silence_duration_ms"] == 200
    assert fake.appended_seconds > 1.5  # the audio was streamed, not uploaded


def test_a_diner_who_pauses_gets_each_part_transcribed_in_order(restaurant, settings):
    from tests.fakes.voice import silence, speech

    audio = np.concatenate([speech(0.6, seed=1), silence(0.5), speech(0.6, seed=2)])

    _, finals = realtime_transcription(restaurant, settings, audio, ["Are you open", "on Sunday evening?"])

    assert finals == ["Are you open", "on Sunday evening?"]


def test_without_streaming_transcription_each_utterance_is_uploaded(restaurant, settings):
    settings.AGENT_REALTIME_STT = False

    fake, session, heard, _ = voice_session(restaurant, settings, "Hello?", "Hello!")

    assert heard == "Hello?"
    assert not session.stt.capabilities.streaming
    assert len(fake.transcriptions) == 1


def test_replies_are_prepared_while_the_turn_is_confirmed(restaurant, settings):
    _, session, _, _ = voice_session(restaurant, settings, "Hello?", "Hello!")

    preemptive = session.options.turn_handling["preemptive_generation"]
    assert preemptive["enabled"] and preemptive["preemptive_tts"]


def spoken_turns(restaurant, settings, *parts, transcripts: list[str]):
    """A whole voice session of the restaurant's job (prewarm, build_session, RestaurantAgent, Silero VAD and
    streaming transcription against the realtime fake, a scripted model) hearing `parts` (PCM16 at
    tests.fakes.voice.SAMPLE_RATE) in a row from a microphone, in real time.

    Returns (the diner's turns as the chat history got them, time.time() of the first frame of each agent
    reply, time.time() at which the diner's voice ended)."""
    from agent_worker.agent import RestaurantAgent
    from tests.fakes.llm import ScriptedLLM
    from tests.fakes.voice import Loudspeaker, Microphone

    async def main():
        turns: list[str] = []
        async with streaming_job(settings, transcripts) as (_, proc):
            proc.userdata["llm"] = ScriptedLLM()
            profile = await run_orm(load_profile, restaurant.pk)
            session = build_session(proc.userdata, profile)
            mic, speaker = Microphone(), Loudspeaker()
            session.input.audio, session.output.audio = mic, speaker
            session.on("conversation_item_added", lambda ev: turns.extend(_diners_words(ev.item)))
            await session.start(agent=RestaurantAgent(profile))
            said = [mic.say(part) for part in parts]
            voice_end = await said[-1]
            async with asyncio.timeout(10):  # the answer to the whole question, or to the last part
                while not any(t > voice_end for t in speaker.first_frames) or session.agent_state != "listening":
                    await asyncio.sleep(0.05)
            await session.aclose()
        return turns, speaker.first_frames, voice_end

    return async_to_sync(main)()


def _diners_words(item) -> list[str]:
    """[the text] of a chat history item that is the diner's turn, else [] (agent messages, handoffs)."""
    return [item.text_content] if item.type == "message" and item.role == "user" else []


@pytest.mark.speech
def test_balanced_turn_taking_lets_a_diner_pause_mid_question(restaurant, settings):
    from tests.fakes.voice import silence, spoken

    assert restaurant.turn_taking == "balanced"
    turns, replies, voice_end = spoken_turns(
        restaurant, settings, spoken("Are you open"), silence(0.3), spoken("on Sunday evening?"),
        transcripts=["Are you open", "on Sunday evening?"],
    )  # fmt: skip

    assert turns == ["Are you open on Sunday evening?"]  # one question, answered once
    assert replies and min(replies) > voice_end  # the agent waited for the end of it


@pytest.mark.speech
def test_a_longer_silence_ends_the_diners_turn(restaurant, settings):
    from tests.fakes.voice import silence, spoken

    turns, _, _ = spoken_turns(
        restaurant, settings, spoken("Are you open?"), silence(1.0), spoken("And on Sunday?"),
        transcripts=["Are you open?", "And on Sunday?"],
    )  # fmt: skip

    assert turns == ["Are you open?", "And on Sunday?"]
