"""A contract fake of livekit-server's webhooks: the session in `livekit-webhooks.jsonl` beside this file
(copied from shared/captures: every webhook livekit-server 1.9.12 sent during one diner session), replayed for
another room, diner and agent, at another time, and signed fresh the way the server signs.

How the server sends one (seen in the capture): `POST` with `Content-Type: application/webhook+json` and
`Authorization: <bare JWT>` (no "Bearer"); the JWT is HS256 with the webhook's API secret and carries only
`iss` (the API key), `nbf` (now), `exp` (now + 5 minutes) and `sha256` (the base64 SHA-256 of the raw body);
the body is a `WebhookEvent` as compact protobuf JSON with camelCase names, int64 values (times) as strings.
Events, in order: room_started, participant_joined (diner), participant_joined (agent, `kind: AGENT`),
track_published, participant_left (diner, CLIENT_INITIATED), track_unpublished, participant_left (agent,
ROOM_DELETED), room_finished. Each event is a dict here; `body()` makes it the bytes the server sends.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import secrets
import time
from pathlib import Path

import jwt

CAPTURE = [json.loads(line) for line in Path(__file__).with_name("livekit-webhooks.jsonl").read_text().splitlines()]
# What the captured session was: its room, its participants, the second its room started, its signing key.
CAPTURED_ROOM = "restaurant-1-048c7778b9dc43fabd7b6ecd6da98f52"
CAPTURED_DINER = "diner-045a82d15a4d40c0bbc7b0efa2dd2046"
CAPTURED_AGENT = "agent-AJ_U4y7qPk3534q"
CAPTURED_START = 1795455706
CAPTURED_KEY, CAPTURED_SECRET = "devkey", "secretsecretsecretsecretsecretsecret"
# The events' time fields (int64 strings) and how many of them make a second.
TIME_FIELDS = {"createdAt": 1, "creationTime": 1, "joinedAt": 1, "creationTimeMs": 1000, "joinedAtMs": 1000,
               "unixMicro": 1_000_000}  # fmt: skip
CONTENT_TYPE = "application/webhook+json"
TOKEN_LIFE = 5 * 60  # seconds


def session(
    room_name: str, diner: str, *, agent: str = CAPTURED_AGENT, start: int | None = None, fresh_ids: bool = True
) -> list[dict]:
    """The captured session's 8 events for `room_name` with participants `diner` and `agent`, every time moved
    by the same amount so the room starts at `start` (seconds since the epoch; default: now), with fresh
    event ids unless `fresh_ids` is false. The diner talks 13 s; the room closes 4 s after the diner left."""
    shift = (int(time.time()) if start is None else start) - CAPTURED_START
    names = {CAPTURED_ROOM: room_name, CAPTURED_DINER: diner, CAPTURED_AGENT: agent}

    def rebuild(value, key=None):
        if isinstance(value, dict):
            return {k: rebuild(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [rebuild(v) for v in value]
        if key in TIME_FIELDS:
            return str(int(value) + shift * TIME_FIELDS[key])
        return names.get(value, value) if isinstance(value, str) else value

    events = [rebuild(json.loads(line["body"])) for line in CAPTURE]
    for event in events if fresh_ids else ():
        event["id"] = "EV_" + secrets.token_urlsafe(9)[:12]
    return events


def event(events: list[dict], name: str, identity: str | None = None) -> dict:
    """A copy of the first of `events` called `name` (and about the participant `identity`, if given)."""
    for e in events:
        if e["event"] == name and identity in (None, e.get("participant", {}).get("identity")):
            return copy.deepcopy(e)
    raise LookupError(f"no {name} for {identity}")


def body(event: dict) -> bytes:
    """The bytes livekit-server sends for `event`: compact JSON, as in the capture."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()


def signature(raw_body: bytes, api_key: str, api_secret: str, *, at: float | None = None, life: int = TOKEN_LIFE) -> str:
    """The Authorization header livekit-server sends with `raw_body`: a bare JWT signed at `at` (seconds since the
    epoch, default now) with `api_secret`, valid `life` seconds."""
    now = int(time.time() if at is None else at)
    digest = base64.b64encode(hashlib.sha256(raw_body).digest()).decode()
    claims = {"exp": now + life, "iss": api_key, "nbf": now, "sha256": digest}
    return jwt.encode(claims, api_secret, algorithm="HS256")
