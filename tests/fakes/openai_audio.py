"""A contract fake of the two OpenAI audio endpoints the worker's speech clients call.

What livekit-plugins-openai 1.8.9 sends (read in its stt.py / tts.py) and what OpenAI answers:
- `POST {base_url}/audio/transcriptions`: multipart form with `file` (a WAV), `model`, `language`, `prompt`
  and `response_format` ("json"); answer `{"text": "..."}`.
- `POST {base_url}/audio/speech`: JSON `model`, `voice`, `input`, `instructions`, `response_format`, `speed`,
  `stream_format`; the answer is the audio. Servers that ignore the format may send another one and say so in
  Content-Type, which the plugin honours: this fake sends `audio/wav`, 24 kHz mono 16-bit silence.
Both need `Authorization: Bearer <key>`; without it the fake answers 401 as OpenAI does.

Model speeds: `transcription_delay` seconds before a transcription's answer, `speech_delay` before the first
byte of speech (the request is recorded on arrival, with its time.time() as "at"). `realtime`, a
FakeOpenAIRealtime, is served on the same address (`/v1/realtime`), as OpenAI serves both.

It runs on the caller's event loop: `base_url = await fake.start()`, then `await fake.stop()`.
"""

from __future__ import annotations

import asyncio
import io
import time
import wave

from aiohttp import web


class FakeOpenAIAudio:
    def __init__(self, *, api_key: str, transcript: str, speech_seconds: float = 0.2, transcription_delay: float = 0.0,
                 speech_delay: float = 0.0, realtime=None):  # fmt: skip
        self.api_key, self.transcript, self.speech_seconds = api_key, transcript, speech_seconds
        self.transcription_delay, self.speech_delay, self.realtime = transcription_delay, speech_delay, realtime
        self.transcriptions: list[dict] = []  # the form fields of each transcription request (file size as "file")
        self.speech: list[dict] = []  # the JSON body of each speech request

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v1/audio/transcriptions", self._transcriptions)
        app.router.add_post("/v1/audio/speech", self._speech)
        if self.realtime is not None:
            app.router.add_get("/v1/realtime", self.realtime._realtime)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{self._runner.addresses[0][1]}/v1"

    async def stop(self) -> None:
        await self._runner.cleanup()

    def _refused(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            error = {"message": "Incorrect API key provided.", "type": "invalid_request_error", "code": "invalid_api_key"}
            return web.json_response({"error": error}, status=401)
        return None

    async def _transcriptions(self, request: web.Request) -> web.Response:
        if refused := self._refused(request):
            return refused
        form = await request.post()
        fields = {k: v for k, v in form.items() if k != "file"}
        fields["file"] = len(form["file"].file.read())
        fields["at"] = time.time()
        self.transcriptions.append(fields)
        await asyncio.sleep(self.transcription_delay)
        return web.json_response({"text": self.transcript})

    async def _speech(self, request: web.Request) -> web.Response:
        if refused := self._refused(request):
            return refused
        self.speech.append({**await request.json(), "at": time.time()})
        await asyncio.sleep(self.speech_delay)
        out = io.BytesIO()
        with wave.open(out, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(24000)
            wav.writeframes(b"\0\0" * int(24000 * self.speech_seconds))
        return web.Response(body=out.getvalue(), content_type="audio/wav", headers={"x-request-id": f"req_{len(self.speech)}"})
