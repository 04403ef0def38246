"""A contract fake of OpenAI's model list, `GET {base_url}/models`, as the `openai` SDK calls it.

OpenAI answers `{"object": "list", "data": [{"id": "gpt-4.1-mini", "object": "model", "created": <epoch s>,
"owned_by": "system"}, ...]}`; without `Authorization: Bearer <key>`, or with a wrong key, 401 with
`{"error": {"message": "Incorrect API key provided...", "type": "invalid_request_error", "code":
"invalid_api_key"}}`. Any other path is 404. It runs in a thread (`start()` returns the base URL, ending in
`/v1`), so synchronous code such as a management command can call it.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeOpenAIModels:
    def __init__(self, *, api_key: str, models: list[str]):
        self.api_key, self.models = api_key, list(models)
        self.requests: list[str] = []  # "GET /v1/models" for each request

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fake.requests.append(f"GET {self.path}")
                status, body = fake.answer(self.path, self.headers.get("Authorization", ""))
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True).start()
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def answer(self, path: str, authorization: str) -> tuple[int, dict]:
        if path.partition("?")[0] != "/v1/models":
            return 404, {"error": {"message": f"Invalid URL (GET {path})", "type": "invalid_request_error"}}
        if authorization != f"Bearer {self.api_key}":
            error = {"message": "Incorrect API key provided.", "type": "invalid_request_error", "code": "invalid_api_key"}
            return 401, {"error": error}
        data = [{"id": m, "object": "model", "created": 1700000000, "owned_by": "system"} for m in self.models]
        return 200, {"object": "list", "data": data}
