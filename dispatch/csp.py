"""The Content-Security-Policy header (django-csp), with LiveKit's server among the places pages may connect to."""

from __future__ import annotations

from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.middleware import PolicyParts

from .livekit import client


class CSPMiddleware(BaseCSPMiddleware):
    """django-csp's middleware; connect-src also names LiveKit (client.browser_origins()), which the
    call widget's livekit-client reaches over websocket and HTTPS. Read per response, so a changed
    LIVEKIT_URL needs no restart of this part."""

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if origins := client.browser_origins():
            parts.update = {**(parts.update or {}), "connect-src": origins}
        return parts
