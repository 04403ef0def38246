"""The staff's pages about calls, under /staff/calls/: the list, one call's record, and listening in.

Staff only: anonymous users get the admin's login page, logged-in users without staff status 403. A staff member
sees the calls of their restaurants (Restaurant.objects.for_staff: every restaurant for a superuser); another
restaurant's call answers as a missing one does. The pages update live through their websocket
(dispatch/staff/routing.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from restaurants.models import Restaurant

from ..livekit import client, rooms
from ..models import Call
from . import feed


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous: redirect to the admin's login page, then back. Logged in without staff status: 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not request.user.is_staff:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _calls_for(user) -> QuerySet:
    """The calls of the restaurants `user` may see, ready for the pages (restaurant joined, open questions)."""
    return feed.calls_of(Restaurant.objects.for_staff(user))


@require_safe
@staff_required
def call_list(request: HttpRequest) -> HttpResponse:
    """The calls going on, newest first, then the last feed.RECENT_CALLS that ended or failed. Times are
    the restaurant's local time."""
    restaurants = Restaurant.objects.for_staff(request.user)
    going, over = feed.staff_calls(restaurants)
    context = {
        "going": going,
        "over": over,
        "recent_calls": feed.RECENT_CALLS,
        "over_caption": f"The last {feed.RECENT_CALLS} calls that ended or failed, newest first",
        # For the page's script, which formats the times of calls it adds in each restaurant's zone.
        "zones": dict(restaurants.values_list("pk", "time_zone")),
    }
    return render(request, "staff/calls.html", context)


@require_safe
@staff_required
def call_detail(request: HttpRequest, call_id: int) -> HttpResponse:
    """One call: its course, and what was said, which tools answered and which facts the agent was given (when
    they changed), interleaved by time."""
    call = get_object_or_404(_calls_for(request.user), pk=call_id)
    tool_calls = list(call.tool_calls.all())
    for tool_call in tool_calls:
        # As compact as the page's script writes them (JSON.stringify).
        tool_call.arguments_text = json.dumps(tool_call.arguments, ensure_ascii=False, separators=(",", ":"))
    given = list(call.turn_facts.all())
    record = sorted([*call.messages.all(), *tool_calls, *given], key=lambda entry: entry.created_at)
    # Say what "Facts given" means where there are some, or may come (AGENT_TURN_FACTS is the worker's setting too).
    facts_note = bool(given) or (settings.AGENT_TURN_FACTS and not call.purged_at)
    context = {"call": call, "record": record, "listenable": _listenable(call), "facts_note": facts_note}
    return render(request, "staff/call.html", context)


def _listenable(call: Call) -> bool:
    """Whether staff can listen in: the diner is in the call and it has not ended (CallQuerySet.not_ended, which
    also leaves out a call too old to be real, whose worker died before recording its end). One query."""
    return call.status == Call.Status.ACTIVE and Call.objects.not_ended().filter(pk=call.pk).exists()


@require_POST
@staff_required
def call_listen(request: HttpRequest, call_id: int) -> JsonResponse:
    """Listen in on an active call: POST (with the CSRF token). 200 `{"serverUrl", "participantToken"}`, a token
    that joins the call's room hidden, to subscribe only, for 5 minutes. Errors as `{"error": "<sentence>"}`:
    404 no such call of the user's restaurants, 409 the call is not going on, 503 LiveKit is not configured."""
    call = _calls_for(request.user).filter(pk=call_id).first()
    if call is None:
        return JsonResponse({"error": "There is no such call."}, status=404)
    if not _listenable(call):
        return JsonResponse({"error": "This call is not going on, so there is nothing to listen to."}, status=409)
    if missing := client.missing_settings():
        return JsonResponse({"error": f"Voice calls are not set up: the server needs {', '.join(missing)}."}, status=503)
    identity = rooms.new_listener_identity(request.user.pk)
    token = rooms.listener_token(room_name=call.room_name, identity=identity)
    return JsonResponse({"serverUrl": settings.LIVEKIT_URL, "participantToken": token})
