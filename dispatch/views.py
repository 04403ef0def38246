"""The diner's API under /api/: start a call, and say that no agent came; and LiveKit's webhooks.

Every answer is JSON. Errors are `{"error": "<sentence a diner can read>"}` with a 4xx status (503 only for
"all lines are busy", "the voice service is not reachable" and "LiveKit's key is not set"), sometimes with
`Retry-After` (seconds); an error never carries a token. Bodies are JSON objects of at most MAX_BODY_BYTES
(LiveKit's webhooks: WEBHOOK_MAX_BYTES).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable
from functools import wraps

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import csrf, defaults
from django.views.decorators.csrf import csrf_exempt

from restaurants.models import Restaurant

from . import limits
from .job_metadata import MAX_ID
from .livekit.client import LiveKitNotConfigured, LiveKitUnavailable
from .livekit.rooms import NotADinerToken, read_diner_token
from .livekit.webhooks import NotAWebhookEvent, WebhookNotVerified, read_webhook  # fmt: skip
from .services import CallLimitReached, call_no_agent, call_start, call_webhook_event

logger = logging.getLogger("maitre.dispatch")

MAX_BODY_BYTES = 4096
# LiveKit's webhook bodies are about 1 KB (a room with its codecs, a participant with its attributes).
WEBHOOK_MAX_BYTES = 64 * 1024
WEBHOOK_CONTENT_TYPES = ("application/webhook+json", "application/json")
# The largest id a database key holds (a signed 64-bit integer).
BUSY_RETRY_AFTER = 30  # seconds: calls last minutes, a line frees up at some point
UNAVAILABLE_RETRY_AFTER = 10  # seconds


class ApiError(Exception):
    """An answer to send instead of going on: `status`, a sentence for the diner, and extra headers."""

    def __init__(self, status: int, sentence: str, **headers: str) -> None:
        super().__init__(sentence)
        self.status, self.sentence, self.headers = status, sentence, headers


def _error(status: int, sentence: str, **headers: str) -> JsonResponse:
    return JsonResponse({"error": sentence}, status=status, headers=headers)


def _in_time(seconds: int) -> str:
    """ "in 40 seconds", "in 1 minute", "in 12 minutes": a wait said the way a person would."""
    if seconds < 90:
        return f"in {seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"in {minutes} minutes"


def lines_busy_sentence(retry_after: int | None = None) -> str:
    """What a diner reads when no agent can take the call: the API's 503 (`retry_after` seconds: "Please try again
    in 30 seconds.") and the call widget when the agent did not join in time (None: "in a moment")."""
    return f"All our lines are busy. Please try again {_in_time(retry_after) if retry_after else 'in a moment'}."


def api_post(view: Callable[..., Awaitable[HttpResponse]]) -> Callable[..., Awaitable[HttpResponse]]:
    """An async API view that takes POST only (else 405 with `Allow: POST`) and turns ApiError into its answer."""

    @wraps(view)
    async def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method != "POST":
            return _error(405, "Use POST.", Allow="POST")
        try:
            return await view(request, *args, **kwargs)
        except ApiError as exc:
            return _error(exc.status, exc.sentence, **exc.headers)

    return wrapper


def _body(request: HttpRequest, limit: int) -> bytes:
    """The request's raw body, at most `limit` bytes. Raises ApiError: 400 Content-Length not a number, 413 over
    `limit` (said or sent)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ApiError(400, "The request's Content-Length is not a number.") from None
    too_big = ApiError(413, f"The request body is too large (at most {limit} bytes).")
    if declared > limit:
        raise too_big
    body = request.read(limit + 1)  # never more, whatever the headers said
    if len(body) > limit:
        raise too_big
    return body


def json_object(request: HttpRequest) -> dict:
    """The request's body as a JSON object. Raises ApiError: 415 not sent as JSON, 413 over MAX_BODY_BYTES,
    400 not UTF-8 JSON, nested too deep for the parser, or not an object."""
    if request.content_type != "application/json":
        raise ApiError(415, "Send the request as JSON (Content-Type: application/json).")
    body = _body(request, MAX_BODY_BYTES)
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        raise ApiError(400, "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return data


def _restaurant_id(data: dict) -> int:
    """The body's restaurant id: exactly `{"restaurant_id": <integer 1..2^63-1>}`, else ApiError 400."""
    restaurant_id = data.get("restaurant_id")
    if (
        set(data) != {"restaurant_id"}
        or not isinstance(restaurant_id, int)
        or isinstance(restaurant_id, bool)
        or not 1 <= restaurant_id <= MAX_ID
    ):
        raise ApiError(400, 'Send {"restaurant_id": <a restaurant\'s id>} and nothing else.')
    return restaurant_id


@api_post
async def connection_details(request: HttpRequest) -> HttpResponse:
    """Start a call with one restaurant's agent.

    Request: POST, JSON `{"restaurant_id": <int>}`, with the CSRF token (header X-CSRFToken).
    200: `{"serverUrl", "participantToken", "roomName"}`; the token joins that room only, for
    LIVEKIT_TOKEN_TTL seconds. Errors, as `{"error": "<sentence>"}`: 400 malformed body; 404 unknown or
    inactive restaurant; 405 any method but POST; 413 body over MAX_BODY_BYTES; 415 not JSON; 429 this
    client started too many calls (CALL_RATE_LIMITS), with Retry-After; 503 the restaurant's lines are all
    busy (max_concurrent_calls), or LiveKit not configured, unreachable, too slow or refusing, with
    Retry-After. No room or dispatch is made for any error but the last.
    """
    restaurant_id = _restaurant_id(json_object(request))
    if wait := await sync_to_async(limits.call_start_wait)(request):
        raise ApiError(
            429, f"You have started a lot of calls. Please try again {_in_time(wait)}.", **{"Retry-After": str(wait)}
        )
    try:
        details = await call_start(restaurant_id=restaurant_id)
    except Restaurant.DoesNotExist:
        raise ApiError(404, "No such restaurant is taking calls.") from None
    except CallLimitReached:
        raise ApiError(
            503,
            lines_busy_sentence(BUSY_RETRY_AFTER),
            **{"Retry-After": str(BUSY_RETRY_AFTER)},
        ) from None
    except LiveKitNotConfigured as exc:
        logger.error("Cannot start a call: set %s", exc)
        raise ApiError(503, f"Voice calls are not set up yet: the server needs {exc}.") from None
    except LiveKitUnavailable:
        raise ApiError(
            503,
            "The voice service is not reachable right now. Please try again in a moment.",
            **{"Retry-After": str(UNAVAILABLE_RETRY_AFTER)},
        ) from None
    return JsonResponse(
        {"serverUrl": details.server_url, "participantToken": details.participant_token, "roomName": details.room_name}
    )


@api_post
async def call_no_agent_view(request: HttpRequest) -> HttpResponse:
    """The diner's page waited AGENT_JOIN_TIMEOUT seconds and no agent joined: record the call as failed.

    Request: POST with `Authorization: Bearer <the participantToken of that call>`, empty body or `{}`.
    204 done (or nothing to do: the agent had joined, or it was said before). Errors: 401 no valid diner token;
    405, 413, 415 as for connection-details.
    """
    if request.META.get("CONTENT_LENGTH") not in (None, "", "0") and json_object(request):
        raise ApiError(400, "Send an empty body or {}.")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    try:
        if scheme != "Bearer":
            raise NotADinerToken("no bearer token")
        grant = read_diner_token(token.strip())
    except NotADinerToken:
        raise ApiError(401, "This call is not known here. Please reload the page.") from None
    await call_no_agent(grant=grant)
    return HttpResponse(status=204)


@csrf_exempt  # LiveKit's server posts here; its signature stands in for the CSRF token
@api_post
async def livekit_webhook(request: HttpRequest) -> HttpResponse:
    """A LiveKit webhook (room_started, participant_joined, participant_left, room_finished...): what happened
    in a call's room, recorded on its call (dispatch.services.call_webhook_event), once per event id.

    Request: POST from LiveKit's server, `Content-Type: application/webhook+json` (or application/json), a
    WebhookEvent as protobuf JSON of at most WEBHOOK_MAX_BYTES, `Authorization: <bare JWT>` signed with
    LIVEKIT_API_KEY / LIVEKIT_API_SECRET and carrying the body's hash. 200 `{}`: recorded, already recorded, or
    nothing to record. Errors, as `{"error": "<sentence>"}`: 400 a signed body that is not an event, or a bad
    Content-Length; 401 no signature, a bad or expired one, or another body's; 405 not POST; 413 too large; 415
    another content type; 503 LIVEKIT_API_KEY or LIVEKIT_API_SECRET not set (LiveKit retries).
    """
    if request.content_type not in WEBHOOK_CONTENT_TYPES:
        raise ApiError(415, "Send a LiveKit webhook (Content-Type: application/webhook+json).")
    body = _body(request, WEBHOOK_MAX_BYTES)
    try:
        event = read_webhook(body, request.headers.get("Authorization", ""))
    except LiveKitNotConfigured as exc:
        logger.error("Cannot check LiveKit's webhooks: set %s", exc)
        raise ApiError(503, "Webhooks are not set up yet: the server needs its LiveKit key and secret.") from None
    except WebhookNotVerified as exc:
        logger.warning("webhook refused: %s", exc)
        raise ApiError(401, "This webhook is not signed by our LiveKit server.") from None
    except NotAWebhookEvent as exc:
        logger.warning("webhook refused: %s", exc)
        raise ApiError(400, "The body is not a LiveKit webhook event.") from None
    await sync_to_async(call_webhook_event)(event=event)
    return JsonResponse({})


def _json_under_api(django_view: Callable[..., HttpResponse], status: int, sentence: str) -> Callable[..., HttpResponse]:
    """An error view that answers `{"error": sentence}` with `status` under /api/ (the diner's page shows the
    sentence) and is Django's own `django_view` everywhere else."""

    def view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.path.startswith("/api/"):
            return _error(status, sentence)
        return django_view(request, *args, **kwargs)

    return view


# CSRF_FAILURE_VIEW, and Django's error handlers (config/urls.py).
csrf_failure = _json_under_api(csrf.csrf_failure, 403, "This page has expired. Please reload it and try again.")
bad_request = _json_under_api(defaults.bad_request, 400, "The request could not be read.")
permission_denied = _json_under_api(defaults.permission_denied, 403, "That is not allowed.")
page_not_found = _json_under_api(defaults.page_not_found, 404, "There is nothing here.")
server_error = _json_under_api(defaults.server_error, 500, "Something went wrong on our side. Please try again in a moment.")
