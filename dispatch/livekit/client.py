"""The client of LiveKit's server API that every other module here uses: settings, the errors every call may
raise, and `server_api`, which bounds and closes each use.

Reads LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET and LIVEKIT_API_TIMEOUT from settings at call time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import aiohttp
from django.conf import settings
from livekit import api

logger = logging.getLogger("maitre.dispatch")


class LiveKitNotConfigured(Exception):
    """LIVEKIT_URL, LIVEKIT_API_KEY or LIVEKIT_API_SECRET is empty."""


class LiveKitUnavailable(Exception):
    """LiveKit's server API could not be reached, timed out, or refused the request."""


def missing_settings() -> list[str]:
    """Names of the LiveKit settings that are empty, e.g. ["LIVEKIT_URL"]; [] when configured."""
    return [n for n in ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET") if not getattr(settings, n)]


def browser_origins() -> list[str]:
    """Where a browser's livekit-client connects for LIVEKIT_URL: its websocket and HTTP origins, e.g.
    ["wss://maitre.livekit.cloud", "https://maitre.livekit.cloud"], plus LiveKit Cloud's other regions for a
    *.livekit.cloud project; [] when LIVEKIT_URL is not set or not a ws(s)/http(s) URL."""
    url = urlsplit(settings.LIVEKIT_URL)
    secure = {"wss": True, "https": True, "ws": False, "http": False}.get(url.scheme)
    if secure is None or not url.netloc:
        return []
    ws, http = ("wss", "https") if secure else ("ws", "http")
    origins = [f"{ws}://{url.netloc}", f"{http}://{url.netloc}"]
    if (url.hostname or "").endswith(".livekit.cloud"):
        origins += [f"{ws}://*.livekit.cloud", f"{http}://*.livekit.cloud"]
    return origins


@asynccontextmanager
async def server_api(doing: str, *, timeout: float | None = None) -> AsyncIterator[api.LiveKitAPI]:
    """A LiveKitAPI client whose calls, all together, must finish within `timeout` seconds (default
    LIVEKIT_API_TIMEOUT).

    Raises LiveKitNotConfigured when settings are missing, and LiveKitUnavailable (logged as one line, with
    `doing`) when the server is unreachable, too slow, or answers with an error.
    """
    if missing := missing_settings():
        raise LiveKitNotConfigured(", ".join(missing))
    lkapi = api.LiveKitAPI(settings.LIVEKIT_URL, settings.LIVEKIT_API_KEY, settings.LIVEKIT_API_SECRET)
    try:
        # livekit-api 1.2.2 posts with `timeout=None`, which makes aiohttp ignore the session's timeout:
        # bound the calls here instead.
        async with asyncio.timeout(timeout or settings.LIVEKIT_API_TIMEOUT):
            yield lkapi
    except api.TwirpError as exc:
        logger.warning("LiveKit refused to %s: %s %s", doing, exc.status, exc.message)
        raise LiveKitUnavailable(f"LiveKit answered {exc.status}") from exc
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        logger.warning("LiveKit unreachable at %s (%s): %r", settings.LIVEKIT_URL, doing, exc)
        raise LiveKitUnavailable("LiveKit is unreachable") from exc
    finally:
        await lkapi.aclose()
