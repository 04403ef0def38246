"""The restaurant's greeting, synthesised once per (text, voice, TTS model, speaking instructions) and its
audio kept in Django's cache (Redis with REDIS_URL, else the database cache table), so a call starts with
audio at hand instead of a TTS round trip.

The cache key is a hash of what shapes the audio, so staff editing the greeting or the voice (or an operator
changing the TTS model) simply makes a new key: the next call renders again, and the old entry expires.
A job looks the greeting up as soon as it starts, before the diner has joined (`Greeting.prepare`). On a
miss it asks the TTS at once, and the diner hears that rendering as it streams in, the same request that then
fills the cache: a miss is never slower than plain TTS would have been. Job-process module: imports no
Django models.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import AsyncIterator

from django.core.cache import cache
from livekit import rtc
from livekit.agents import AgentSession, tts
from livekit.agents.voice import SpeechHandle

from .db import run_orm

logger = logging.getLogger("maitre.agent")

# A greeting's audio stays cached this long after it was rendered (seconds); an unchanged greeting is then
# rendered again on its next call.
CACHE_SECONDS = 30 * 24 * 3600
FRAME_SECONDS = 0.02  # cached audio is played back in frames of this length


def cache_key(*, text: str, voice: str, model: str, instructions: str | None) -> str:
    """The cache key of one rendering: a SHA-256 of everything that changes the audio."""
    shape = json.dumps([text, voice, model, instructions or ""], ensure_ascii=False)
    return "maitre:greeting:" + hashlib.sha256(shape.encode()).hexdigest()


class Greeting:
    """One call's greeting: the cached audio when there is some, else a rendering that streams as it comes
    and is cached once complete. Start it with `prepare`, play it with `say`."""

    def __init__(self, text: str, key: str) -> None:
        self.text, self.key = text, key
        self.cached = False  # True when the audio came from the cache
        self._frames: list[rtc.AudioFrame] = []
        self._more = asyncio.Event()
        self._complete = False  # every frame is in _frames
        self._failed = False
        self._task: asyncio.Task | None = None

    @classmethod
    def prepare(cls, engine: tts.TTS, text: str, *, voice: str, instructions: str | None) -> Greeting:
        """Start looking up (and on a miss rendering, with `engine`, already set to `voice` and
        `instructions`) the greeting `text` in the background; returns at once."""
        greeting = cls(text, cache_key(text=text, voice=voice, model=engine.model, instructions=instructions))
        greeting._task = asyncio.create_task(greeting._fetch(engine), name="greeting")
        return greeting

    async def _fetch(self, engine: tts.TTS) -> None:
        try:
            stored = await run_orm(cache.get, self.key)
        except Exception:  # the cache is an optimisation: a broken one must not cost the greeting
            logger.warning("greeting cache lookup failed", exc_info=True)
            stored = None
        if stored is not None:
            self.cached = True
            self._frames = list(_split(stored))
            self._finish()
            return
        try:
            async for audio in engine.synthesize(self.text):
                self._frames.append(audio.frame)
                self._more.set()
        except Exception:
            logger.warning("greeting: rendering failed", exc_info=True)
            self._failed = True
            self._finish()
            return
        self._finish()
        if self._frames:
            whole = rtc.combine_audio_frames(self._frames)
            stored = {"sample_rate": whole.sample_rate, "num_channels": whole.num_channels, "pcm": bytes(whole.data)}
            try:
                await run_orm(cache.set, self.key, stored, CACHE_SECONDS)
            except Exception:
                logger.warning("greeting cache store failed", exc_info=True)

    def _finish(self) -> None:
        self._complete = True
        self._more.set()

    def say(self, session: AgentSession) -> SpeechHandle:
        """Play the greeting in `session`: its audio as far as it has come (and the rest as it renders), or,
        if rendering failed before any audio, the session's own TTS."""
        if self._failed and not self._frames:
            return session.say(self.text)
        return session.say(self.text, audio=self._audio())

    async def _audio(self) -> AsyncIterator[rtc.AudioFrame]:
        sent = 0
        while True:
            while sent < len(self._frames):
                yield self._frames[sent]
                sent += 1
            if self._complete:
                return
            self._more.clear()
            if sent == len(self._frames) and not self._complete:
                await self._more.wait()

    async def aclose(self) -> None:
        """Stop a lookup or rendering still running (the call ended first)."""
        if self._task and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


def _split(stored: dict) -> list[rtc.AudioFrame]:
    rate, channels, pcm = stored["sample_rate"], stored["num_channels"], stored["pcm"]
    step = int(rate * FRAME_SECONDS) * channels * 2
    return [
        rtc.AudioFrame(pcm[i : i + step], rate, channels, len(pcm[i : i + step]) // (2 * channels))
        for i in range(0, len(pcm), step)
    ]
