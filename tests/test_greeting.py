"""The greeting's audio is rendered once per (text, voice, TTS model) and then played from the cache; staff
editing the greeting or the voice get a new rendering on the next call.

prewarm(), build_session() and the greeting run for real in an AgentSession whose audio goes to a recording
loudspeaker; OpenAI's speech endpoint is the contract fake, so the test sees each rendering requested."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from asgiref.sync import async_to_sync

from agent_worker.agent import RestaurantAgent
from agent_worker.lookups import load_profile
from agent_worker.db import run_orm
from agent_worker.greeting import Greeting
from agent_worker.worker import build_session, prewarm, tts_instructions
from tests.fakes.jobs import job_http_session
from tests.fakes.llm import ScriptedLLM
from tests.fakes.openai_audio import FakeOpenAIAudio
from tests.fakes.openai_realtime import FakeOpenAIRealtime
from tests.fakes.voice import Loudspeaker

pytestmark = pytest.mark.django_db

API_KEY = "sk-test-greeting"


def calls(restaurant, settings, count: int = 1, edit=None):
    """`count` calls to `restaurant`, each greeting the diner as the entrypoint does; `edit(restaurant)` runs
    (and saves) between the first call and the second. Returns (the speech requests, per call: whether the
    greeting came from the cache and the seconds of audio the diner heard, per segment)."""

    async def main():
        realtime = FakeOpenAIRealtime(api_key=API_KEY)  # the session's transcription stream connects to it
        fake = FakeOpenAIAudio(api_key=API_KEY, transcript="", speech_seconds=1.5, realtime=realtime)
        settings.OPENAI_BASE_URL, settings.OPENAI_API_KEY = await fake.start(), API_KEY
        proc = SimpleNamespace(userdata={})
        prewarm(proc)
        proc.userdata["llm"] = ScriptedLLM()
        heard = []
        try:
            async with job_http_session():
                for n in range(count):
                    if n == 1 and edit:
                        await run_orm(edit, restaurant)
                    profile = await run_orm(load_profile, restaurant.pk)
                    session = build_session(proc.userdata, profile)
                    instructions = tts_instructions(session.tts.model, profile.language)
                    greeting = Greeting.prepare(session.tts, profile.greeting, voice=profile.voice, instructions=instructions)
                    speaker = Loudspeaker()
                    session.output.audio = speaker
                    await session.start(RestaurantAgent(profile))
                    await greeting.say(session).wait_for_playout()
                    heard.append((greeting.cached, speaker.played))
                    await session.aclose()
        finally:
            for name in ("llm", "stt", "tts"):
                await proc.userdata[name].aclose()
            await fake.stop()
        return fake.speech, heard

    return async_to_sync(main)()


def test_the_greeting_is_rendered_once_and_then_played_from_the_cache(restaurant, settings):
    restaurant.greeting = "Buonasera, Trattoria Test!"
    restaurant.save()

    speech, heard = calls(restaurant, settings, count=3)

    [rendering] = speech  # one TTS request for three calls
    assert (rendering["input"], rendering["voice"]) == ("Buonasera, Trattoria Test!", settings.AGENT_TTS_VOICE)
    assert [cached for cached, _ in heard] == [False, True, True]
    assert [played for _, played in heard] == [[pytest.approx(1.5)]] * 3  # each diner heard the whole greeting


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda r: (setattr(r, "greeting", "Good evening from Trattoria Test!"), r.save()), id="text"),
        pytest.param(lambda r: (setattr(r, "tts_voice", "coral"), r.save()), id="voice"),
    ],
)
def test_staff_editing_the_greeting_or_the_voice_get_a_new_rendering(restaurant, settings, edit):
    speech, heard = calls(restaurant, settings, count=3, edit=edit)

    first, second = speech  # the second call renders anew; the third uses that rendering
    assert (second["input"], second["voice"]) != (first["input"], first["voice"])
    assert [cached for cached, _ in heard] == [False, False, True]


def test_another_tts_model_gets_its_own_rendering(restaurant, settings):
    calls(restaurant, settings)
    settings.AGENT_TTS_MODEL = "tts-1"

    speech, heard = calls(restaurant, settings)

    assert [r["model"] for r in speech] == ["tts-1"] and heard[0][0] is False
