"""Production settings: `check --deploy` is clean on the defaults, HTTPS behind a TLS-terminating proxy, and a
Content-Security-Policy that allows no inline script anywhere."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
from django.test import Client

from dispatch.livekit import client
from tests.worker_process import REPO

pytestmark = pytest.mark.django_db


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """`manage.py <args>` in a fresh process with only `env` for settings (a production-like environment)."""
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TZ")}
    base.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="maitre.example.com",
        DATABASE_URL="sqlite:////tmp/maitre-check-deploy.sqlite3",
    )
    base.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=base, capture_output=True, text=True, timeout=60
    )


class TestCheckDeploy:
    def test_the_production_defaults_pass_djangos_deployment_checks(self):
        result = manage("check", "--deploy", "--fail-level", "WARNING", DEBUG="false")

        assert result.returncode == 0, result.stderr
        assert "System check identified no issues" in result.stdout

    def test_opting_into_hsts_preload_passes_too(self):
        result = manage("check", "--deploy", "--fail-level", "WARNING", DEBUG="false", SECURE_HSTS_PRELOAD="true")

        assert result.returncode == 0, result.stderr

    def test_each_https_setting_can_be_turned_off_and_the_check_says_so(self):
        result = manage(
            "check", "--deploy", DEBUG="false", SECURE_SSL_REDIRECT="false", SESSION_COOKIE_SECURE="false",
            CSRF_COOKIE_SECURE="false", SECURE_HSTS_SECONDS="0",
        )  # fmt: skip

        for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
            assert warning in result.stderr

    def test_a_malformed_proxy_header_setting_is_refused_with_an_example(self):
        result = manage("check", DEBUG="false", SECURE_PROXY_SSL_HEADER="https")

        assert result.returncode != 0
        assert 'SECURE_PROXY_SSL_HEADER is a header line such as "X-Forwarded-Proto: https".' in result.stderr


class TestHttpsBehindAProxy:
    @pytest.fixture
    def production(self, settings):
        settings.SECURE_SSL_REDIRECT = True
        settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
        settings.SECURE_HSTS_SECONDS = 31_536_000
        settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
        settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    def test_plain_http_is_redirected_to_https(self, production, restaurant):
        response = Client().get(f"/r/{restaurant.slug}/")  # a new client: the middleware reads the settings

        assert response.status_code == 301
        assert response["Location"] == f"https://testserver/r/{restaurant.slug}/"

    def test_https_from_the_proxy_is_served_with_hsts_and_secure_cookies(self, production, restaurant):
        response = Client().get(f"/r/{restaurant.slug}/", HTTP_X_FORWARDED_PROTO="https")

        assert response.status_code == 200
        assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        assert response.cookies["csrftoken"]["secure"] is True


class TestContentSecurityPolicy:
    def policy(self, response) -> dict[str, list[str]]:
        header = response["Content-Security-Policy"]
        return {d.split()[0]: d.split()[1:] for d in header.split("; ")}

    def test_the_diner_page_allows_scripts_from_this_site_only_and_connections_to_livekit(self, client, restaurant, settings):
        settings.LIVEKIT_URL = "wss://maitre-demo.livekit.cloud"

        policy = self.policy(client.get(f"/r/{restaurant.slug}/"))

        assert policy["script-src"] == ["'self'"]
        assert policy["style-src"] == ["'self'"]
        assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
        assert policy["connect-src"] == [
            "'self'", "wss://maitre-demo.livekit.cloud", "https://maitre-demo.livekit.cloud",
            "wss://*.livekit.cloud", "https://*.livekit.cloud",
        ]  # fmt: skip

    def test_the_page_has_no_inline_script(self, client, restaurant):
        page = client.get(f"/r/{restaurant.slug}/").content.decode()

        assert "<script>" not in page and 'type="importmap"' not in page
        assert '<script type="module" src="/static/js/talk.js">' in page

    def test_admin_pages_get_the_policy_too(self, admin_client):
        assert "script-src 'self'" in admin_client.get("/admin/")["Content-Security-Policy"]


@pytest.mark.parametrize(
    "url,origins",
    [
        ("ws://127.0.0.1:7880", ["ws://127.0.0.1:7880", "http://127.0.0.1:7880"]),
        ("wss://lk.example.com", ["wss://lk.example.com", "https://lk.example.com"]),
        ("https://lk.example.com:8443", ["wss://lk.example.com:8443", "https://lk.example.com:8443"]),
        ("", []),
        ("127.0.0.1:7880", []),
    ],
)
def test_the_browser_reaches_livekit_at_its_websocket_and_http_origins(settings, url, origins):
    settings.LIVEKIT_URL = url

    assert client.browser_origins() == origins
