"""The voice session a job builds: the process's prewarmed speech clients, tuned for one restaurant.

prewarm() and build_session() run for real; the OpenAI audio endpoints are a contract fake
(tests/fakes/openai_audio.py), so the test sees what the clients put on the wire.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from asgiref.sync import async_to_sync
from livekit import rtc
from livekit.agents import APIConnectOptions

from agent_worker.answers import load_profile
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


@pytest.mark.parametrize(("turn_taking", "delay"), [("quick", 0.1), ("balanced", 0.4), ("patient", 0.8)])
def test_turns_end_after_the_restaurants_chosen_pause_detected_locally(restaurant, settings, turn_taking, delay):
    restaurant.turn_taking = turn_taking
    restaurant.save()

    _, session, _, _ = voice_session(restaurant, settings, "Hello?", "Hello!")

    turns = session.options.turn_handling
    assert turns["turn_detection"] == "vad"  # Silero in this process: no cloud turn detector
    assert turns["interruption"]["mode"] == "vad"
    assert turns["endpointing"]["min_delay"] == delay
