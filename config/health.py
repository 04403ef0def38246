"""`GET /healthz`: the web process's health for a load balancer or an orchestrator's probe."""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

logger = logging.getLogger("maitre.health")


@csrf_exempt  # reads only: another method is 405, not a CSRF page
@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """200 `{"status": "ok"}` when the database answers `SELECT 1`; 503 `{"status": "unavailable", "error":
    "<sentence>"}` when it does not (one WARNING line in the log). GET or HEAD only (405 otherwise).

    Costs one query and nothing else: it reads no session and sets no cookie, and needs no CSRF token. Plain
    HTTP is answered even with SECURE_SSL_REDIRECT on (SECURE_REDIRECT_EXEMPT), for a load balancer's probe;
    the probe's Host header must still be in ALLOWED_HOSTS (a probe by IP address: add that address).
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        logger.warning("healthz: the database does not answer: %s", reason)
        return JsonResponse({"status": "unavailable", "error": "The database does not answer."}, status=503)
    return JsonResponse({"status": "ok"})
