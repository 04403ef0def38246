"""The staff's live view of calls in a real browser: a diner's call shows on /staff/calls/ as it happens, its
page fills in as it is spoken, and staff listen in.

Websockets need an ASGI server, and pytest-django's live_server speaks no websockets. So `asgi_server` runs
Channels' own test server, daphne, in a child process (channels.testing.live's DaphneProcess, as
ChannelsLiveServerTestCase does) serving config.asgi on the test database. The child is forked once the fixtures
before it have run, so it has their settings (the LiveKit fake's URL and keys). Its in-memory channel layer is its
own: what this process publishes never reaches it. That is the embedded setup of `make run` (the worker in
another process, no Redis), so the pages' updates here come through the consumer's database polling.

The worker's writes (dispatch.services) run in a thread (`as_worker`): Playwright's loop, open in the test's
thread, makes Django refuse ORM calls there (see the `page` fixture in tests/test_browser.py, which also fails a
test on any JavaScript error or Content-Security-Policy violation). Screenshots go to test-output/screenshots/.
"""

from __future__ import annotations

import threading
from functools import partial

import pytest
from channels.testing.live import make_application
from daphne.testing import DaphneProcess
from django.contrib.auth.models import User
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.db import connections
from django.utils import timezone
from livekit.api import TokenVerifier

from dispatch import services
from dispatch.livekit import rooms
from dispatch.models import Call
from restaurants.models import Restaurant
from tests.conftest import API_KEY, API_SECRET
from tests.test_browser import SCREENSHOTS, db_with_seeds, demo, expect, page, trattoria, use_fake_livekit_client  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser
PASSWORD = "a-staff-password"


@pytest.fixture
def asgi_server(db_with_seeds, livekit) -> str:
    """The base URL of daphne serving config.asgi (HTTP, static files and websockets) from a child process."""
    connections.close_all()  # the child opens its own; it must not share this process's sockets
    server = DaphneProcess("127.0.0.1", partial(make_application, static_wrapper=ASGIStaticFilesHandler))
    server.start()
    if not server.ready.wait(15):
        server.terminate()
        raise RuntimeError(f"daphne did not start: {server.errors.get(timeout=1) if not server.errors.empty() else ''}")
    yield f"http://127.0.0.1:{server.port.value}"
    server.terminate()
    server.join(5)


def staff_member(restaurant: Restaurant) -> str:
    """A staff member of `restaurant` (not a superuser): their username."""
    user = User.objects.create_user("maria", password=PASSWORD, is_staff=True)
    restaurant.staff.add(user)
    return user.username


@pytest.fixture
def trattoria_staff(trattoria) -> str:
    return staff_member(trattoria)


@pytest.fixture
def kettle(demo) -> Restaurant:
    """The Copper Kettle, among the demo restaurants (manage.py load_demo)."""
    return Restaurant.objects.get(slug="the-copper-kettle")


@pytest.fixture
def kettle_staff(kettle) -> str:
    return staff_member(kettle)


def as_worker(service, **kwargs) -> None:
    """Run a dispatch.services function as the runagent worker would: in another thread, with its own database
    connection (closed after)."""
    failure = []

    def work():
        try:
            service(**kwargs)
        except BaseException as exc:  # noqa: BLE001  (handed to the test's thread)
            failure.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(10)
    if failure:
        raise failure[0]


def log_in(page, base: str, username: str, path: str) -> None:
    page.goto(f"{base}/admin/login/?next={path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}{path}")


def test_a_diners_call_shows_on_the_staff_page_as_it_happens(kettle, kettle_staff, livekit, asgi_server, page):
    log_in(page, asgi_server, kettle_staff, "/staff/calls/")
    expect(page.locator("#live-status")).to_have_text("Live")
    expect(page.get_by_text("No calls going on right now.")).to_be_visible()
    diner = page.context.browser.new_context().new_page()
    diner_errors = []
    diner.on("pageerror", lambda exc: diner_errors.append(str(exc)))
    use_fake_livekit_client(diner)  # the diner's page gets as far as being in the room
    diner.goto(f"{asgi_server}/r/{kettle.slug}/")

    diner.get_by_role("button", name="Talk to us").click()

    expect(diner.locator("#call-status")).to_have_text("Connected. Waiting for the agent…")
    diner.evaluate("window.fakeLiveKit.agentJoins('listening')")
    room = livekit.dispatches[0].request.room
    row = page.locator("#going tbody tr")
    expect(row).to_have_count(1, timeout=1_000)  # the call starting (no event: the consumer read the row)
    status = row.locator('[data-field="status"]')
    expect(status).to_have_text("Dispatched (waiting for the agent and the diner)")
    expect(row.locator('[data-field="restaurant"]')).to_have_text("The Copper Kettle")
    # The worker, in its own process: the agent and then the diner are in the room.
    as_worker(services.call_agent_joined, room_name=room)
    as_worker(services.call_diner_joined, room_name=room)
    expect(status).to_have_text("Active", timeout=1_000)
    as_worker(services.call_message_add, room_name=room, role="agent", text="Good evening!", at=timezone.now())
    expect(row.locator('[data-field="messages"]')).to_have_text("1", timeout=1_000)
    page.screenshot(path=SCREENSHOTS / "staff-calls-list-during-a-call.png", full_page=True)

    row.get_by_role("link").click()  # the call's own page

    expect(page.locator("#live-status")).to_have_text("Live")
    expect(page.get_by_role("button", name="Listen in")).to_be_visible()
    record = page.locator("#record li")
    expect(record).to_have_count(1)
    as_worker(services.call_message_add, room_name=room, role="diner", text="Is the nut roast vegan?",
              at=timezone.now())  # fmt: skip
    facts = [["Open now?", "Open now, until 22:00."], ["Address and phone", "12 Mill Lane, Bath."]]
    as_worker(services.call_facts_add, room_name=room, facts=facts, at=timezone.now())
    as_worker(services.call_tool_call_add, room_name=room, name="find_menu_item", arguments={"name": "nut roast"},
              output="Nut roast: 17.00 GBP, vegan", is_error=False, duration_ms=14, at=timezone.now())  # fmt: skip
    as_worker(services.call_facts_add, room_name=room, facts=facts, at=timezone.now())  # the same: not again
    as_worker(services.call_message_add, room_name=room, role="agent", text="Yes, it is vegan.", at=timezone.now())
    expect(record).to_have_count(5, timeout=1_000)
    texts = [" ".join(t.split()[1:]) for t in record.all_inner_texts()]  # without the time
    assert texts == [
        "Agent Good evening!",
        "Diner Is the nut roast vegan?",
        "Facts given Open now? Open now, until 22:00. Address and phone: 12 Mill Lane, Bath.",
        'Tool find_menu_item {"name":"nut roast"} answered in 14 ms: Nut roast: 17.00 GBP, vegan',
        "Agent Yes, it is vegan.",
    ]
    page.screenshot(path=SCREENSHOTS / "staff-call-page-during-a-call.png", full_page=True)
    as_worker(services.call_end, room_name=room, reason=Call.EndReason.DINER_HUNG_UP)
    expect(page.locator('#call [data-field="status"]')).to_have_text("Ended", timeout=1_000)
    expect(page.locator('[data-field="end_reason"]')).to_have_text("Diner hung up")
    expect(page.locator("#listen")).to_be_hidden()

    page.get_by_role("link", name="All calls").click()

    over = page.locator("#over tbody tr")
    expect(over).to_have_count(1)
    expect(over.locator('[data-field="status"]')).to_have_text("Ended")
    expect(over.locator('[data-field="messages"]')).to_have_text("3")
    expect(page.get_by_text("No calls going on right now.")).to_be_visible()
    assert diner_errors == []


@pytest.fixture
def active_call(trattoria) -> Call:
    return Call.objects.create(
        restaurant=trattoria, room_name=rooms.new_room_name(trattoria.pk),
        participant_identity=rooms.new_diner_identity(), status=Call.Status.ACTIVE,
        diner_joined_at=timezone.now(),
    )  # fmt: skip


def test_staff_listen_in_hidden_and_read_what_is_said(active_call, trattoria_staff, livekit, asgi_server, page):
    use_fake_livekit_client(page)
    log_in(page, asgi_server, trattoria_staff, f"/staff/calls/{active_call.pk}/")
    listen_status = page.locator("#listen-status")

    page.get_by_role("button", name="Listen in").click()

    expect(listen_status).to_have_text("Listening. The diner and the agent do not know you are here.")
    assert page.evaluate("window.fakeLiveKit.room.url") == livekit.ws_url
    claims = TokenVerifier(API_KEY, API_SECRET).verify(page.evaluate("window.fakeLiveKit.room.token"))
    video = claims.video
    assert (video.room, video.room_join, video.hidden, video.can_subscribe) == (active_call.room_name, True, True, True)
    assert (video.can_publish, video.can_publish_data) == (False, False)
    page.evaluate("window.fakeLiveKit.agentJoins('speaking')")
    page.evaluate("window.fakeLiveKit.transcribe('agent-AJ_1', 'SG_a', ['Buonasera, ', 'how can I help?'], true)")
    page.evaluate("window.fakeLiveKit.transcribe('diner-1', 'SG_u', ['A table'], false)")
    page.evaluate("window.fakeLiveKit.transcribe('diner-1', 'SG_u', ['A table ', 'for two?'], true)")
    captions = page.get_by_role("log", name="Live captions")
    expect(captions.locator(".line")).to_have_text(["Agent: Buonasera, how can I help?", "Diner: A table for two?"])
    expect(captions.locator(".interim")).to_have_count(0)
    page.screenshot(path=SCREENSHOTS / "staff-call-page-listening.png", full_page=True)

    page.get_by_role("button", name="Stop listening").click()

    expect(listen_status).to_have_text("You stopped listening.")
    assert page.evaluate("window.fakeLiveKit.room.gone") is True
    expect(page.get_by_role("button", name="Listen in")).to_be_focused()  # keyboard focus stays in the section


def test_a_list_that_lost_its_connection_says_so_and_catches_up(active_call, trattoria_staff, asgi_server, page):
    sockets = []

    def through(ws) -> None:
        if sockets:  # the page reconnecting: the call ended while it was away
            as_worker(services.call_end, room_name=active_call.room_name, reason=Call.EndReason.AGENT_ENDED)
        ws.connect_to_server()
        sockets.append(ws)

    page.route_web_socket("**/ws/staff/calls/", through)
    log_in(page, asgi_server, trattoria_staff, "/staff/calls/")
    indicator = page.locator("#live-status")
    expect(indicator).to_have_text("Live")
    expect(page.locator("#going tbody tr")).to_have_count(1)

    sockets[0].close()

    expect(indicator).to_have_text("Reconnecting…")
    expect(indicator).to_have_attribute("aria-live", "polite")
    expect(indicator).to_have_text("Live", timeout=5_000)
    expect(page.locator('#over [data-field="status"]')).to_have_text("Ended")
    expect(page.locator("#going")).to_be_hidden()
    assert len(sockets) == 2
