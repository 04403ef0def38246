"""Job metadata: the JSON string the dispatch view sends with each job, `{"restaurant_id": <int>}`."""

from __future__ import annotations

import json

RAW_PREVIEW = 120  # characters of raw metadata quoted in log lines


class InvalidJobMetadata(ValueError):
    """The job metadata cannot name a restaurant; the message says why in one sentence."""


def parse_job_metadata(raw: str | None) -> int:
    """The restaurant id in job metadata such as '{"restaurant_id": 3}'.

    Raises InvalidJobMetadata when `raw` is empty, not JSON, not a JSON object, or has no positive
    integer `restaurant_id` (true, "3" and 3.0 are refused). Other keys are ignored.
    """
    if not raw or not raw.strip():
        raise InvalidJobMetadata("job metadata is empty")
    try:
        data = json.loads(raw)
    except ValueError:
        raise InvalidJobMetadata("job metadata is not JSON") from None
    if not isinstance(data, dict):
        raise InvalidJobMetadata(f"job metadata is a JSON {type(data).__name__}, not an object")
    if "restaurant_id" not in data:
        raise InvalidJobMetadata("job metadata has no restaurant_id")
    value = data["restaurant_id"]
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidJobMetadata("restaurant_id is not a positive integer")
    return value


def preview(raw: str | None) -> str:
    """`raw` quoted for a log line, cut to RAW_PREVIEW characters."""
    raw = raw or ""
    return repr(raw if len(raw) <= RAW_PREVIEW else raw[:RAW_PREVIEW] + "...")
