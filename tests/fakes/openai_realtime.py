"""A contract fake of OpenAI's realtime transcription websocket, as livekit-plugins-openai 1.8.9 uses it.

What the plugin does (read in its stt.py, `STT(use_realtime=True)`):
- dials `ws(s)://<base_url>/realtime?intent=transcription` (plus `&model=<model>` for hosts other than
  api.openai.com) with `Authorization: Bearer <key>`; a pooled socket serves one speech stream after another;
- sends `session.update` with `session.type == "transcription"` and `session.audio.input`: `format` (PCM,
  24 kHz), `transcription` (`model`, `language`, `prompt`) and `turn_detection` (`server_vad`: `threshold`,
  `prefix_padding_ms`, `silence_duration_ms`), again whenever its options change;
- streams the audio as `input_audio_buffer.append` events, `audio` = base64 PCM16 mono 24 kHz, 50 ms a chunk;
- reads only `input_audio_buffer.speech_started` / `.speech_stopped` (`item_id`, `audio_start_ms`,
  `audio_end_ms`), `conversation.item.input_audio_transcription.delta` (`item_id`, `delta`) and `.completed`
  (`item_id`, `transcript`, `usage`), and `error` (`error.message`), which ends its stream for good.

What this server does, like OpenAI's server VAD but by loudness: a chunk whose RMS is above `LOUD` is speech.
Speech starts a segment (`speech_started`); `silence_duration_ms` of quiet audio (as the session says) ends it
(`speech_stopped`, the buffer committed), and the segment's transcript (`delta`, then `completed`) comes
`final_after` seconds after the voice ended, but never before the server's silence has run out: so a longer
server silence setting shows up in the latency, as on the real service. The transcript of each segment is
the next of `transcripts` (a list the caller fills; "" when it is empty). The audio arrives in real time, so
"after the voice ended" is measured from the moment the last loud 10 ms of audio arrived (a chunk arrives
whole, 50 ms after its start).

A session.update whose type is not "transcription", an audio format other than 24 kHz PCM, or a wrong key:
an `error` event (wrong key: HTTP 401 before the upgrade), as OpenAI answers. Runs on the caller's loop:
`base_url = await fake.start()`, then `await fake.stop()`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid

import numpy as np
from aiohttp import WSMsgType, web

SAMPLE_RATE = 24000
LOUD = 500  # RMS of PCM16 samples above which a chunk counts as speech (speech here peaks near 13000)


class FakeOpenAIRealtime:
    """OpenAI's realtime transcription websocket; served at `/v1/realtime` by FakeOpenAIAudio(realtime=...)."""

    def __init__(self, *, api_key: str, final_after: float = 0.25):
        self.api_key, self.final_after = api_key, final_after
        self.transcripts: list[str] = []  # what the next segments say, first first
        self.connections: list[dict] = []  # per websocket: its query string and every session.update received
        self.events: list[dict] = []  # what the server sent, with "at" (time.time()) added
        self.appended_seconds = 0.0  # audio received, all connections

    def sent(self, kind: str) -> list[dict]:
        """The events of type `kind` the server sent, oldest first."""
        return [e for e in self.events if e["type"] == kind]

    async def _realtime(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            error = {"message": "Incorrect API key provided.", "type": "invalid_request_error", "code": "invalid_api_key"}
            return web.json_response({"error": error}, status=401)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        connection = {"query": dict(request.query), "updates": []}
        self.connections.append(connection)
        segment = _Segment(self, ws)
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            event = json.loads(msg.data)
            if event.get("type") == "session.update":
                connection["updates"].append(event)
                if problem := _refused_update(event):
                    await self._send(ws, {"type": "error", "error": {"type": "invalid_request_error", "message": problem}})
                else:
                    segment.silence = event["session"]["audio"]["input"].get("turn_detection", {}).get(
                        "silence_duration_ms", 500
                    ) / 1000
            elif event.get("type") == "input_audio_buffer.append":
                pcm = np.frombuffer(base64.b64decode(event["audio"]), dtype=np.int16)
                self.appended_seconds += len(pcm) / SAMPLE_RATE
                await segment.hear(pcm)
        segment.cancel()
        return ws

    async def _send(self, ws: web.WebSocketResponse, event: dict) -> None:
        self.events.append({**event, "at": time.time()})
        if not ws.closed:
            await ws.send_json(event)


def _refused_update(event: dict) -> str | None:
    session = event.get("session", {})
    if session.get("type") != "transcription":
        return "Only transcription sessions are served here."
    fmt = session.get("audio", {}).get("input", {}).get("format", {})
    if fmt.get("type") != "audio/pcm" or fmt.get("rate") != SAMPLE_RATE:
        return "Invalid audio format: expected audio/pcm at 24000 Hz."
    return None


class _Segment:
    """One connection's server VAD: speech, then `silence` seconds of quiet, makes a transcribed item."""

    def __init__(self, fake: FakeOpenAIRealtime, ws: web.WebSocketResponse):
        self.fake, self.ws = fake, ws
        self.silence = 0.5  # OpenAI's default silence_duration_ms, until a session.update says otherwise
        self.audio_ms = 0.0  # audio received on this connection
        self.item_id: str | None = None
        self.voice_ended_at: float | None = None  # time.time() of the first quiet chunk after speech
        self.quiet_ms = 0.0
        self.pending: set[asyncio.Task] = set()

    async def hear(self, pcm: np.ndarray) -> None:
        """One appended chunk, judged 10 ms at a time (as it arrives whole, a voice that ends inside it ended
        that long before its arrival)."""
        arrived, window = time.time(), SAMPLE_RATE // 100
        for start in range(0, len(pcm), window):
            part = pcm[start : start + window].astype(np.float64)
            part_ms = len(part) * 1000 / SAMPLE_RATE
            if float(np.sqrt(np.mean(part**2))) > LOUD:
                if self.item_id is None:
                    self.item_id = f"item_{uuid.uuid4().hex[:12]}"
                    await self.fake._send(self.ws, {"type": "input_audio_buffer.speech_started",
                                                    "item_id": self.item_id, "audio_start_ms": int(self.audio_ms)})  # fmt: skip
                self.voice_ended_at, self.quiet_ms = None, 0.0
            elif self.item_id is not None:
                if self.voice_ended_at is None:
                    self.voice_ended_at = arrived - (len(pcm) - start) / SAMPLE_RATE
                self.quiet_ms += part_ms
                if self.quiet_ms >= self.silence * 1000:
                    await self._commit(end_ms=self.audio_ms + part_ms - self.quiet_ms)
            self.audio_ms += part_ms

    async def _commit(self, *, end_ms: float) -> None:
        item_id, voice_ended_at = self.item_id, self.voice_ended_at
        self.item_id, self.voice_ended_at, self.quiet_ms = None, None, 0.0
        await self.fake._send(self.ws, {"type": "input_audio_buffer.speech_stopped", "item_id": item_id,
                                        "audio_end_ms": int(end_ms)})  # fmt: skip
        await self.fake._send(self.ws, {"type": "input_audio_buffer.committed", "item_id": item_id})
        text = self.fake.transcripts.pop(0) if self.fake.transcripts else ""
        wait = max(0.0, voice_ended_at + self.fake.final_after - time.time())
        task = asyncio.create_task(self._transcribe(item_id, text, wait))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _transcribe(self, item_id: str, text: str, wait: float) -> None:
        await asyncio.sleep(wait)
        base = {"item_id": item_id, "content_index": 0}
        await self.fake._send(self.ws, {"type": "conversation.item.input_audio_transcription.delta", **base, "delta": text})
        usage = {"type": "tokens", "input_tokens": 20, "output_tokens": len(text.split()), "total_tokens": 0}
        await self.fake._send(self.ws, {"type": "conversation.item.input_audio_transcription.completed", **base,
                                        "transcript": text, "usage": usage})  # fmt: skip

    def cancel(self) -> None:
        for task in self.pending:
            task.cancel()
