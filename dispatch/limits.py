"""Per-client limits on starting calls: who the client is (its address), and how long it must wait.

Counts live in Django's default cache (Redis with REDIS_URL, else the database cache), so every web process
shares them. The counting is django-ratelimit's (fixed windows per client address; IPv6 addresses count per
/64 network).
"""

from __future__ import annotations

import functools
import ipaddress
import logging

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage

logger = logging.getLogger("maitre.dispatch")

# What an address that cannot be read counts as: all such clients share one allowance.
UNKNOWN_ADDRESS = "0.0.0.0"


@functools.lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _address(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str:
    """The address a request comes from, as text ("203.0.113.7", "2001:db8::1").

    REMOTE_ADDR, unless it is one of TRUSTED_PROXIES: then X-Forwarded-For is read from the right (each
    proxy appends the address it received from), skipping trusted proxies, and the first other address is
    the client. X-Forwarded-For is never read when REMOTE_ADDR is not a trusted proxy, since any client can
    send it. An address that cannot be read counts as UNKNOWN_ADDRESS.
    """
    remote = _address(request.META.get("REMOTE_ADDR"))
    if remote is None:
        return UNKNOWN_ADDRESS
    trusted = _networks(tuple(settings.TRUSTED_PROXIES))

    def is_trusted(address) -> bool:
        return any(address in network for network in trusted if network.version == address.version)

    client = remote
    if is_trusted(remote):
        for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
            address = _address(hop)
            if address is None:
                break  # a garbled hop: what lies left of it cannot be trusted
            client = address
            if not is_trusted(address):
                break
    return str(client)


def call_start_wait(request: HttpRequest) -> int | None:
    """Count one call start for this request's client; None if it is within CALL_RATE_LIMITS, else the
    seconds (at least 1) until every exceeded limit lets it start a call again.

    Synchronous (cache I/O). If the cache cannot be reached the limit is skipped (one warning line): the
    per-restaurant cap on calls still holds.
    """
    waits = []
    for rate in settings.CALL_RATE_LIMITS:
        try:
            usage = get_usage(request, group="call-start", key="ip", rate=rate, increment=True)
        except Exception as exc:  # noqa: BLE001  (any cache backend's failure: Redis, database)
            logger.warning("rate limit not checked, the cache failed: %r", exc)
            return None
        if usage and usage["should_limit"]:
            # django-ratelimit's window still counts at its last second (time_left 0): the wait ends a second later.
            waits.append(max(usage["time_left"] + 1, 1))
    return max(waits) if waits else None
