"""POST /api/connection-details: a fresh room with the agent dispatched to it, and a token to join it."""

from __future__ import annotations

import json
import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import csrf

from restaurants.models import Restaurant

from .livekit_server import LiveKitNotConfigured, LiveKitUnavailable
from .services import call_start

logger = logging.getLogger("maitre.dispatch")


def _error(status: int, sentence: str, **headers: str) -> JsonResponse:
    return JsonResponse({"error": sentence}, status=status, headers=headers)


async def connection_details(request: HttpRequest) -> JsonResponse:
    """Start a call with one restaurant's agent.

    Request: POST, JSON `{"restaurant_id": <int>}`, with the CSRF token (header X-CSRFToken).
    200: `{"serverUrl", "participantToken", "roomName"}`; the token joins that room only, for
    LIVEKIT_TOKEN_TTL seconds. Errors, as `{"error": "<sentence>"}`: 400 malformed JSON or a missing or
    non-integer id; 404 unknown or inactive restaurant; 405 any method but POST; 503 LiveKit not
    configured, unreachable, too slow or refusing (no token is handed out then).
    """
    if request.method != "POST":
        return _error(405, "Use POST.", Allow="POST")
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return _error(400, "The request body is not valid JSON.")
    restaurant_id = data.get("restaurant_id") if isinstance(data, dict) else None
    if not isinstance(restaurant_id, int) or isinstance(restaurant_id, bool):
        return _error(400, 'Send {"restaurant_id": <integer>}.')
    restaurant = await Restaurant.objects.active().filter(pk=restaurant_id).afirst()
    if restaurant is None:
        return _error(404, "No such restaurant is taking calls.")
    try:
        details = await call_start(restaurant=restaurant)
    except LiveKitNotConfigured as exc:
        logger.error("Cannot start a call: set %s", exc)
        return _error(503, f"Voice calls are not set up yet: the server needs {exc}.")
    except LiveKitUnavailable:
        return _error(503, "The voice service is not reachable right now. Please try again in a moment.")
    return JsonResponse(
        {"serverUrl": details.server_url, "participantToken": details.participant_token, "roomName": details.room_name}
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: 403 as `{"error": ...}` for the API, whose caller shows the sentence; else Django's page."""
    if request.path.startswith("/api/"):
        return _error(403, "This page has expired. Please reload it and try again.")
    return csrf.csrf_failure(request, reason)
