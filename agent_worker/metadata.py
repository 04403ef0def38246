"""Job metadata: the JSON string the dispatch view sends with each job, `{"restaurant_id": <int>}`."""

from __future__ import annotations

import json

RAW_PREVIEW = 120  # characters of raw metadata quoted in log lines
MAX_METADATA_CHARS = 4096  # ours is about 20; anything longer did not come from maitre
MAX_ID = 2**63 - 1  # the largest id a database key holds (a signed 64-bit integer)


class InvalidJobMetadata(ValueError):
    """The job metadata cannot name a restaurant; the message says why in one sentence."""


def parse_job_metadata(raw: str | None) -> int:
    """The restaurant id in job metadata such as '{"restaurant_id": 3}'.

    Raises InvalidJobMetadata, and nothing else whatever `raw` holds, when it is empty, longer than
    MAX_METADATA_CHARS, not JSON (nesting too deep for the parser included), not a JSON object, or has no
    `restaurant_id` from 1 to MAX_ID (true, "3" and 3.0 are refused). Other keys are ignored.
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
    if "restaurant_id" not in data:
        raise InvalidJobMetadata("job metadata has no restaurant_id")
    value = data["restaurant_id"]
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidJobMetadata("restaurant_id is not a positive integer")
    if value > MAX_ID:
        raise InvalidJobMetadata("restaurant_id is too large to be a restaurant's")
    return value


def preview(raw: str | None) -> str:
    """`raw` quoted for a log line, cut to RAW_PREVIEW characters."""
    raw = raw if isinstance(raw, str) else ""
    return repr(raw if len(raw) <= RAW_PREVIEW else raw[:RAW_PREVIEW] + "...")
