"""POST /api/connection-details against a contract fake of LiveKit's Twirp API over real HTTP."""

from __future__ import annotations

import json
import re
import socket
import time

import jwt
import pytest
from django.test import Client
from livekit.api import TokenVerifier

from dispatch.models import Call
from tests.conftest import API_KEY, API_SECRET

URL = "/api/connection-details"
pytestmark = pytest.mark.django_db


def post(client: Client, body, **extra):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", **extra)


@pytest.fixture
def diner(client):
    return client


class TestSuccess:
    def test_it_dispatches_the_configured_agent_to_a_fresh_room(self, diner, livekit, restaurant):
        response = post(diner, {"restaurant_id": restaurant.pk})

        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == {"serverUrl", "participantToken", "roomName"}
        assert body["serverUrl"] == livekit.ws_url
        assert re.fullmatch(rf"restaurant-{restaurant.pk}-[0-9a-f]{{32}}", body["roomName"])
        [sent] = livekit.dispatches
        assert sent.request.agent_name == "test-restaurant-agent"
        assert sent.request.room == body["roomName"]
        assert json.loads(sent.request.metadata) == {"restaurant_id": restaurant.pk}
        assert sent.headers["content-type"] == "application/protobuf"

    def test_it_uses_a_new_room_every_time(self, diner, livekit, restaurant):
        rooms = {post(diner, {"restaurant_id": restaurant.pk}).json()["roomName"] for _ in range(3)}

        assert len(rooms) == 3
        assert {d.request.room for d in livekit.dispatches} == rooms

    def test_the_token_joins_that_room_only_for_fifteen_minutes(self, diner, livekit, restaurant):
        before = int(time.time())
        body = post(diner, {"restaurant_id": restaurant.pk}).json()

        claims = TokenVerifier(API_KEY, API_SECRET).verify(body["participantToken"])
        assert re.fullmatch(r"diner-[0-9a-f]{32}", claims.identity)
        assert claims.video.room == body["roomName"]
        raw = jwt.decode(body["participantToken"], API_SECRET, algorithms=["HS256"], issuer=API_KEY)
        # Exactly these grants: no roomAdmin, roomCreate, roomList, agent, recorder...
        assert raw["video"] == {
            "roomJoin": True,
            "room": body["roomName"],
            "canPublish": True,
            "canSubscribe": True,
            "canPublishData": True,
        }
        assert raw["exp"] - before in range(15 * 60 - 5, 15 * 60 + 5)
        assert raw["sub"] == claims.identity

    def test_the_api_secret_never_reaches_the_browser(self, diner, livekit, restaurant):
        response = post(diner, {"restaurant_id": restaurant.pk})

        assert API_SECRET.encode() not in response.content

    def test_it_records_the_call(self, diner, livekit, restaurant):
        body = post(diner, {"restaurant_id": restaurant.pk}).json()

        call = Call.objects.get()
        assert call.restaurant == restaurant
        assert call.room_name == body["roomName"]
        assert call.dispatch_id == livekit.dispatches[0].response.id
        assert call.dispatch_id.startswith("AD_")
        assert call.participant_identity == TokenVerifier(API_KEY, API_SECRET).verify(body["participantToken"]).identity


class TestBadRequests:
    @pytest.mark.parametrize(
        "body",
        ["{not json", "", b"\xff\xfe", "[1, 2]", "{}", '{"restaurant_id": "3"}', '{"restaurant_id": 3.5}',
         '{"restaurant_id": true}', '{"restaurant_id": null}'],
    )  # fmt: skip
    def test_it_answers_400_with_a_sentence(self, diner, livekit, body):
        response = post(diner, body)

        assert response.status_code == 400
        assert response["Content-Type"] == "application/json"
        assert response.json()["error"].endswith(".")
        assert livekit.requests == []

    def test_an_unknown_restaurant_is_404(self, diner, livekit, restaurant):
        response = post(diner, {"restaurant_id": restaurant.pk + 1000})

        assert response.status_code == 404
        assert "error" in response.json()
        assert livekit.requests == []

    def test_an_inactive_restaurant_is_404(self, diner, livekit, restaurant):
        restaurant.is_active = False
        restaurant.save()

        assert post(diner, {"restaurant_id": restaurant.pk}).status_code == 404
        assert livekit.requests == []

    @pytest.mark.parametrize("method", ["get", "put", "delete", "patch", "options"])
    def test_other_methods_are_405(self, diner, livekit, method):
        response = getattr(diner, method)(URL)

        assert response.status_code == 405
        assert response["Allow"] == "POST"
        assert "error" in response.json()


class TestLiveKitFailures:
    def assert_503_without_token(self, response):
        assert response.status_code == 503
        body = response.json()
        assert set(body) == {"error"}
        assert Call.objects.count() == 0

    def test_connection_refused(self, diner, livekit, restaurant, settings):
        with socket.socket() as s:  # a port nobody listens on
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        settings.LIVEKIT_URL = f"ws://127.0.0.1:{port}"

        self.assert_503_without_token(post(diner, {"restaurant_id": restaurant.pk}))

    def test_timeout(self, diner, livekit, restaurant, settings):
        settings.LIVEKIT_API_TIMEOUT = 0.3
        livekit.delay = 1.0
        started = time.monotonic()

        self.assert_503_without_token(post(diner, {"restaurant_id": restaurant.pk}))
        assert time.monotonic() - started < 1.0

    @pytest.mark.parametrize(
        "status,body",
        [
            (401, {"code": "unauthenticated", "msg": "permissions denied"}),
            (404, {"code": "not_found", "msg": "agent not found"}),
            (500, {"code": "internal", "msg": "boom"}),
            (503, "upstream unavailable"),
        ],
    )
    def test_livekit_answers_an_error(self, diner, livekit, restaurant, status, body):
        livekit.fail_with(status, body)

        self.assert_503_without_token(post(diner, {"restaurant_id": restaurant.pk}))
        assert len(livekit.requests) == 1  # no retry storm against a self-hosted server

    def test_a_wrong_secret_is_refused_by_livekit(self, diner, livekit, restaurant, settings):
        settings.LIVEKIT_API_SECRET = "not-the-secret-the-server-knows-0123456789abcdef"

        self.assert_503_without_token(post(diner, {"restaurant_id": restaurant.pk}))
        assert livekit.requests[0][1] == 401

    def test_livekit_not_configured_says_what_to_set(self, diner, livekit, restaurant, settings):
        settings.LIVEKIT_API_SECRET = ""

        response = post(diner, {"restaurant_id": restaurant.pk})
        self.assert_503_without_token(response)
        assert "LIVEKIT_API_SECRET" in response.json()["error"]
        assert livekit.requests == []


class TestCsrfAndCors:
    def test_a_post_without_the_csrf_token_is_refused(self, livekit, restaurant):
        strict = Client(enforce_csrf_checks=True)

        response = post(strict, {"restaurant_id": restaurant.pk})

        assert response.status_code == 403
        assert response.json() == {"error": "This page has expired. Please reload it and try again."}
        assert livekit.dispatches == []

    def test_pages_outside_the_api_keep_djangos_csrf_page(self):
        response = Client(enforce_csrf_checks=True).post("/admin/login/", {"username": "a", "password": "b"})

        assert response.status_code == 403
        assert response["Content-Type"].startswith("text/html")

    def test_the_token_from_the_restaurant_page_is_accepted(self, livekit, restaurant):
        strict = Client(enforce_csrf_checks=True)
        strict.get(f"/r/{restaurant.slug}/")
        csrf = strict.cookies["csrftoken"].value

        response = post(strict, {"restaurant_id": restaurant.pk}, HTTP_X_CSRFTOKEN=csrf)

        assert response.status_code == 200

    def test_no_cross_origin_access_is_granted(self, diner, livekit, restaurant):
        response = post(diner, {"restaurant_id": restaurant.pk}, HTTP_ORIGIN="https://evil.example")
        preflight = diner.options(URL, HTTP_ORIGIN="https://evil.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")

        assert "Access-Control-Allow-Origin" not in response
        assert "Access-Control-Allow-Origin" not in preflight
