"""`GET /healthz`: what a load balancer's probe gets from a web process."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection
from django.test import Client

pytestmark = pytest.mark.django_db


def refuse_every_query(execute, sql, params, many, context):
    raise OperationalError("connection to server at 10.0.0.9, port 5432 failed: Connection refused")


class TestHealthz:
    def test_it_answers_ok_when_the_database_answers(self, django_assert_num_queries):
        with django_assert_num_queries(1):
            response = Client().get("/healthz")

        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        assert "no-cache" in response["Cache-Control"]

    def test_it_answers_503_when_the_database_does_not(self, caplog):
        with connection.execute_wrapper(refuse_every_query):
            response = Client().get("/healthz")

        assert response.status_code == 503
        assert response.json() == {"status": "unavailable", "error": "The database does not answer."}
        [record] = [r for r in caplog.records if r.name == "maitre.health"]
        assert record.getMessage() == (
            "healthz: the database does not answer: connection to server at 10.0.0.9, port 5432 failed: "
            "Connection refused"
        )
        assert record.exc_info is None  # one line, no traceback

    def test_it_costs_no_session_no_cookie_and_no_csrf_token(self):
        client = Client(enforce_csrf_checks=True)

        get, head = client.get("/healthz"), client.head("/healthz")

        assert (get.status_code, head.status_code) == (200, 200)
        assert not get.cookies and not head.cookies
        assert "Cookie" not in get.get("Vary", "")
        assert client.post("/healthz").status_code == 405  # a probe reads; nothing to post

    def test_plain_http_is_answered_where_every_other_page_redirects(self, settings):
        settings.SECURE_SSL_REDIRECT = True

        client = Client()  # built after the change: the security middleware reads settings once

        assert client.get("/healthz").status_code == 200
        assert client.get("/").status_code == 301

    def test_a_probe_by_ip_address_needs_that_address_in_allowed_hosts(self, settings):
        settings.ALLOWED_HOSTS = ["maitre.example.com"]

        assert Client().get("/healthz", HTTP_HOST="10.0.0.5").status_code == 400
        settings.ALLOWED_HOSTS = ["maitre.example.com", "10.0.0.5"]
        assert Client().get("/healthz", HTTP_HOST="10.0.0.5").status_code == 200
