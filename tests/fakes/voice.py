"""A diner's voice without a recording: speech-like audio that Silero VAD hears as speech, a microphone that
plays it into an AgentSession in real time, and a loudspeaker that notes when the agent's audio comes.

`speech(seconds)` is synthesised syllables (a glottal pulse train through three vowel formants, a noise burst
for each consonant, 4-8 syllables a second, pitch 100-150 Hz), no words and no program needed: Silero VAD
1.8.9 reports it as speech about 0.1 s after it starts, but for some seeds loses it for a few hundred ms in
the middle or notices a new stretch late, so a 0.3 s pause in it can be heard as 0.6-0.9 s.

`spoken(text)` is the words themselves, said by eSpeak NG (Debian's `espeak-ng`, a formant speech synthesiser):
Silero hears it from its first syllable to its last, short gaps between words included, and a pause in it as
long as it is (within 0.05 s). Use it where the timing of a turn's end matters; `speech()` where only
"someone is talking" does. Either way the transcript comes from the speech-to-text fake.

`Microphone` is an `AudioInput` (livekit.agents.voice.io) that sends 10 ms frames at the pace of a real
microphone, silence whenever nothing is being said, as a participant's track does. `Loudspeaker` is an
`AudioOutput` that plays instantly and records, per segment, when its first frame arrived.
"""

from __future__ import annotations

import asyncio
import functools
import io as _io
import shutil
import subprocess
import time
import wave

import numpy as np
from livekit import rtc
from livekit.agents.voice import io

SAMPLE_RATE = 16000
FRAME = SAMPLE_RATE // 100  # 10 ms

VOWELS = {  # formant frequency and bandwidth, Hz
    "a": ((730, 90), (1090, 110), (2440, 170)),
    "i": ((270, 60), (2290, 100), (3010, 170)),
    "u": ((300, 60), (870, 90), (2240, 170)),
    "e": ((530, 70), (1840, 100), (2480, 170)),
    "o": ((570, 80), (840, 90), (2410, 170)),
}


def _resonate(x: np.ndarray, freq: float, bandwidth: float) -> np.ndarray:
    r, theta = np.exp(-np.pi * bandwidth / SAMPLE_RATE), 2 * np.pi * freq / SAMPLE_RATE
    a1, a2, gain = -2 * r * np.cos(theta), r * r, 1 - r
    y, y1, y2 = np.zeros_like(x), 0.0, 0.0
    for i, v in enumerate(x):
        y1, y2 = gain * v - a1 * y1 - a2 * y2, y1
        y[i] = y1
    return y


def _syllable(vowel: str, seconds: float, pitch: float, rng: np.random.Generator) -> np.ndarray:
    n = int(SAMPLE_RATE * seconds)
    t = np.arange(n) / SAMPLE_RATE
    f0 = pitch * (1 + 0.08 * np.sin(2 * np.pi * 2.5 * t + rng.uniform(0, 6)))
    pulses = np.diff(np.floor(np.cumsum(f0 / SAMPLE_RATE)), prepend=0) + 0.02 * rng.standard_normal(n)
    x = sum(_resonate(pulses, f, bw) / (k + 1) for k, (f, bw) in enumerate(VOWELS[vowel]))
    x = x * np.clip(np.minimum(t / 0.03, (seconds - t) / 0.04), 0, 1)
    burst = int(SAMPLE_RATE * 0.04)
    x[:burst] += 0.3 * rng.standard_normal(burst) * np.abs(x).max()
    return x


@functools.lru_cache(maxsize=32)
def speech(seconds: float, seed: int = 0) -> np.ndarray:
    """`seconds` of speech-like audio, PCM16 mono at SAMPLE_RATE; the same for the same seed."""
    rng = np.random.default_rng(seed)
    parts, total = [], 0
    while total < seconds * SAMPLE_RATE:
        parts.append(_syllable(str(rng.choice(list(VOWELS))), rng.uniform(0.12, 0.25), rng.uniform(100, 150), rng))
        total += len(parts[-1])
    x = np.concatenate(parts)[: int(seconds * SAMPLE_RATE)]
    return (x / np.abs(x).max() * 0.4 * 32767).astype(np.int16)


ESPEAK = shutil.which("espeak-ng")


@functools.lru_cache(maxsize=64)
def spoken(text: str, voice: str = "en-us", words_per_minute: int = 160) -> np.ndarray:
    """`text` said by eSpeak NG in `voice`, PCM16 mono at SAMPLE_RATE, peaking like `speech()`, without the
    silence eSpeak puts before and after it. Raises FileNotFoundError when espeak-ng is not installed
    (`apt-get install espeak-ng`; `ESPEAK` is None then)."""
    if ESPEAK is None:
        raise FileNotFoundError("espeak-ng is not installed: apt-get install espeak-ng")
    wav = subprocess.run([ESPEAK, "-v", voice, "-s", str(words_per_minute), "--stdout", text],
                         capture_output=True, check=True, timeout=30).stdout  # fmt: skip
    with wave.open(_io.BytesIO(wav)) as w:
        rate, pcm = w.getframerate(), np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    resampler, frames = rtc.AudioResampler(rate, SAMPLE_RATE, num_channels=1), []
    for chunk in np.array_split(pcm, max(1, len(pcm) // (rate // 100))):
        frames += resampler.push(rtc.AudioFrame(chunk.tobytes(), rate, 1, len(chunk)))
    frames += resampler.flush()
    x = np.concatenate([np.frombuffer(f.data, dtype=np.int16) for f in frames]).astype(np.float64)
    voiced = np.flatnonzero(np.abs(x) > 0.01 * np.abs(x).max())
    x = x[voiced[0] : voiced[-1] + 1]
    return (x / np.abs(x).max() * 0.4 * 32767).astype(np.int16)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.int16)


class Microphone(io.AudioInput):
    """A diner's microphone: `say(audio)` queues PCM16 at SAMPLE_RATE; frames go out every 10 ms, silence
    between utterances. `said` gets one future per `say`, resolved with the time.time() at which the
    utterance's last frame went out (for speech that ends in silence, add that silence)."""

    def __init__(self) -> None:
        super().__init__(label="Scripted diner")
        self._queue: list[tuple[np.ndarray, asyncio.Future]] = []
        self._playing: tuple[np.ndarray, asyncio.Future, int] | None = None
        self._next_at: float | None = None

    def say(self, audio: np.ndarray) -> asyncio.Future:
        done = asyncio.get_running_loop().create_future()
        self._queue.append((audio, done))
        return done

    async def __anext__(self) -> rtc.AudioFrame:
        now = time.monotonic()
        self._next_at = now if self._next_at is None or self._next_at < now - 0.2 else self._next_at
        if self._next_at > now:
            await asyncio.sleep(self._next_at - now)
        self._next_at += FRAME / SAMPLE_RATE
        if self._playing is None and self._queue:
            self._playing = (*self._queue.pop(0), 0)
        if self._playing is None:
            return rtc.AudioFrame(bytes(FRAME * 2), SAMPLE_RATE, 1, FRAME)
        audio, done, pos = self._playing
        chunk = audio[pos : pos + FRAME]
        chunk = np.pad(chunk, (0, FRAME - len(chunk)))
        if pos + FRAME >= len(audio):
            self._playing = None
            if not done.done():
                done.set_result(time.time())
        else:
            self._playing = (audio, done, pos + FRAME)
        return rtc.AudioFrame(chunk.tobytes(), SAMPLE_RATE, 1, FRAME)


class Loudspeaker(io.AudioOutput):
    """Plays each segment at once (no real-time pacing). `first_frames` holds the time.time() at which each
    segment's first frame arrived, `played` each finished segment's seconds of audio."""

    def __init__(self) -> None:
        super().__init__(label="Scripted loudspeaker", capabilities=io.AudioOutputCapabilities(pause=False))
        self.first_frames: list[float] = []
        self.played: list[float] = []
        self._pushed = 0.0
        self.arrived = asyncio.Event()

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        if not self._pushed:
            self.first_frames.append(time.time())
            self.arrived.set()
            self.on_playback_started(created_at=time.time())
        self._pushed += frame.duration

    def flush(self) -> None:
        super().flush()
        if self._pushed:
            pushed, self._pushed = self._pushed, 0.0
            self.played.append(pushed)
            asyncio.get_running_loop().call_soon(
                lambda: self.on_playback_finished(playback_position=pushed, interrupted=False)
            )

    def clear_buffer(self) -> None:
        if self._pushed:
            pushed, self._pushed = self._pushed, 0.0
            self.on_playback_finished(playback_position=pushed, interrupted=True)
