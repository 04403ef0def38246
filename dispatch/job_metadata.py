"""Job metadata: the JSON string each job carries, saying what the job is for. Built here (the dispatch view,
the SIP dispatch rules, doctor, console mode) and parsed here (the worker), so the two cannot drift.

Three shapes come from maitre, and nothing else is a job of ours:
- `{"restaurant_id": 3}` (`web_call`; `"channel": "web"` is accepted too): a browser diner's call;
- `{"restaurant_id": 3, "channel": "phone"}` (`phone_call`): a phone call, from a SIP dispatch rule;
- `{"doctor": true}` (`DOCTOR_METADATA`): `manage.py doctor` checking that a worker is registered (join,
  leave, no models).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

RAW_PREVIEW = 120  # characters of raw metadata quoted in log lines
MAX_METADATA_CHARS = 4096  # ours is about 40; anything longer did not come from maitre
MAX_ID = 2**63 - 1  # the largest id a database key holds (a signed 64-bit integer)
CHANNELS = ("web", "phone")


class InvalidJobMetadata(ValueError):
    """The job metadata is not one of maitre's shapes; the message says why in one sentence."""


@dataclass(frozen=True)
class CallJob:
    """A call for one restaurant: `restaurant_id` (1..MAX_ID) and `channel`, "web" or "phone"."""

    restaurant_id: int
    channel: Literal["web", "phone"] = "web"


@dataclass(frozen=True)
class DoctorJob:
    """`manage.py doctor`'s check that a worker takes jobs: the agent joins its room and leaves at once."""


DOCTOR_METADATA = '{"doctor": true}'


def web_call(restaurant_id: int) -> str:
    """The metadata of a browser diner's call to restaurant `restaurant_id` (1..MAX_ID, else ValueError):
    '{"restaurant_id": 3}'."""
    return json.dumps({"restaurant_id": _checked(restaurant_id)})


def phone_call(restaurant_id: int) -> str:
    """The metadata of a phone call to restaurant `restaurant_id` (1..MAX_ID, else ValueError), as its SIP
    dispatch rule gives it: '{"restaurant_id": 3, "channel": "phone"}'."""
    return json.dumps({"restaurant_id": _checked(restaurant_id), "channel": "phone"})


def _checked(restaurant_id: int) -> int:
    if not isinstance(restaurant_id, int) or isinstance(restaurant_id, bool) or not 1 <= restaurant_id <= MAX_ID:
        raise ValueError(f"a restaurant id is an integer from 1 to {MAX_ID}, not {restaurant_id!r}")
    return restaurant_id


def parse_job_metadata(raw: str | None) -> CallJob | DoctorJob:
    """What the job metadata `raw` asks for: a CallJob, or a DoctorJob for exactly `{"doctor": true}`.

    Raises InvalidJobMetadata, and nothing else whatever `raw` holds, when it is empty, longer than
    MAX_METADATA_CHARS, not JSON (nesting too deep for the parser included), not a JSON object, has a
    `doctor` key with anything but true or beside other keys, has no `restaurant_id` from 1 to MAX_ID (true,
    "3" and 3.0 are refused), or has a `channel` other than "web" or "phone". Other keys are ignored.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidJobMetadata("job metadata is empty")
    if len(raw) > MAX_METADATA_CHARS:
        raise InvalidJobMetadata(f"job metadata is longer than {MAX_METADATA_CHARS} characters")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        raise InvalidJobMetadata("job metadata is not JSON") from None
    if not isinstance(data, dict):
        raise InvalidJobMetadata(f"job metadata is a JSON {type(data).__name__}, not an object")
    if "doctor" in data:
        if data["doctor"] is not True or len(data) != 1:  # not `!= {"doctor": True}`: 1 == True
            raise InvalidJobMetadata('a doctor job\'s metadata is exactly {"doctor": true}')
        return DoctorJob()
    if "restaurant_id" not in data:
        raise InvalidJobMetadata("job metadata has no restaurant_id")
    value = data["restaurant_id"]
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidJobMetadata("restaurant_id is not a positive integer")
    if value > MAX_ID:
        raise InvalidJobMetadata("restaurant_id is too large to be a restaurant's")
    channel = data.get("channel", "web")
    if channel not in CHANNELS:  # also refuses non-strings: a list or dict is never `in` a tuple of str
        raise InvalidJobMetadata('channel is not "web" or "phone"')
    return CallJob(restaurant_id=value, channel=channel)


def preview(raw: str | None) -> str:
    """`raw` quoted for a log line, cut to RAW_PREVIEW characters."""
    raw = raw if isinstance(raw, str) else ""
    return repr(raw if len(raw) <= RAW_PREVIEW else raw[:RAW_PREVIEW] + "...")
