"""The diner's pages in a real browser: Debian's Chromium driven by Playwright against pytest-django's live_server.

There is no LiveKit server here: the connection-details endpoint talks to the Twirp fake (tests/fakes/twirp.py),
which cannot take the browser's websocket, so these tests cover everything up to `room.connect` failing.
Each test leaves a screenshot of its final page in test-output/screenshots/<test name>.png.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import socket
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core.management import call_command

from restaurants.models import Restaurant
from tests.conftest import API_KEY, API_SECRET, KIRITIMATI, MONDAY_NIGHT_UTC, make_restaurant, pinned

CHROMIUM = "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which("chromium")
if not CHROMIUM:
    pytest.skip("browser tests need Debian's Chromium (/usr/bin/chromium or `chromium` on PATH)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
expect = sync_api.expect

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(django_settings.BASE_DIR) / "test-output" / "screenshots"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]


@pytest.fixture
def page(request):
    """A fresh Chromium page; afterwards a screenshot, and a check that the page raised no JavaScript errors.

    Request it after the database fixtures and live_server (tests list it last). Playwright's sync API keeps
    an asyncio loop registered as running in this thread while it is open; Django then refuses ORM calls here
    (async-safety check) and hands out a different connection object (context-local), one without the
    serialized seed data that `serialized_rollback` restores. So: one browser per test (about 1 s), started
    after the database is ready and closed before it is flushed, and no ORM calls in test bodies.
    """
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.set_default_timeout(10_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        # Chromium reports every resource or inline script the Content-Security-Policy blocked on the console.
        blocked: list[str] = []
        page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
        try:
            yield page
        finally:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SCREENSHOTS / f"{request.node.name}.png", full_page=True)
            browser.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
    assert not blocked, f"The Content-Security-Policy blocked: {blocked}"


@pytest.fixture
def db_with_seeds(transactional_db, django_db_serialized_rollback):
    """live_server needs a transactional database; the rollback keeps the seeded allergens and dietary tags."""


@pytest.fixture
def trattoria(db_with_seeds) -> Restaurant:
    return make_restaurant()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def connection_posts(page) -> list:
    """Start recording the page's POSTs to the connection-details endpoint."""
    posts: list = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" and "/api/connection-details" in r.url else None)
    return posts


@pytest.fixture
def demo(db_with_seeds) -> None:
    """The six demo restaurants (request the clock first: their special days count from its today)."""
    call_command("load_demo")


# Each demo restaurant's badge, worked out by hand from demo_data's hours in the restaurant's own zone and
# language. The live server runs in this process, so the pinned clock is its clock too.
DEMO_BADGES = {
    MONDAY_NIGHT_UTC: {  # Monday 22:30 UTC
        "The Copper Kettle": "Closed, opens tomorrow 12:00",  # Monday 23:30 in London, after dinner
        "Zum Goldenen Hirsch": "Closed, opens today 11:00",  # Tuesday 00:30 in Berlin, after the closed Monday
        "Izakaya Kōyō": "Closed, opens today 5:00\u202fPM",  # Tuesday 07:30 in Tokyo, Monday's night over at 00:30
        "Bistrot des Halles": "Closed, opens today 12:00",  # Tuesday 00:30 in Paris
        "Taquería La Paloma": "Open now, until 10:00\u202fPM",  # Monday 15:30 in Los Angeles
        "Harbour Dumpling House": "Closed, opens tomorrow 11:00\u202fam",  # Tuesday 08:30 in Sydney, closed Tuesdays
    },
    KIRITIMATI: {  # Wednesday 10:30 UTC
        "The Copper Kettle": "Closed, opens today 12:00",  # 11:30 in London
        "Zum Goldenen Hirsch": "Open now, until 23:00",  # 12:30 in Berlin
        "Izakaya Kōyō": "Open now, until 12:30\u202fAM",  # 19:30 in Tokyo
        "Bistrot des Halles": "Open now, until 14:30",  # 12:30 in Paris, lunch
        "Taquería La Paloma": "Closed, opens today 11:00\u202fAM",  # 03:30 in Los Angeles
        "Harbour Dumpling House": "Open now, until 9:30\u202fpm",  # 20:30 in Sydney, dinner
    },
}


@pinned(*DEMO_BADGES)
def test_the_list_shows_each_demo_restaurants_badge_in_its_own_time_zone(clock, demo, live_server, page):
    page.goto(live_server.url + "/")

    cards = page.locator(".restaurant-card")
    expect(cards).to_have_count(6)
    shown = {card.locator("h2").inner_text(): card.locator(".badge").inner_text() for card in cards.all()}
    assert shown == DEMO_BADGES[clock]


@pytest.fixture
def staff(db_with_seeds) -> tuple[str, str]:
    User.objects.create_superuser("staff", "staff@example.org", "a-staff-password")
    return "staff", "a-staff-password"


def test_staff_86_a_dish_from_the_dish_list_in_one_click(trattoria, staff, live_server, page):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/restaurants/menuitem/")
    page.get_by_label("Username").fill(staff[0])
    page.get_by_label("Password").fill(staff[1])
    page.get_by_role("button", name="Log in").click()
    margherita = page.locator("#result_list tr", has_text="Margherita")
    expect(margherita).to_contain_text("Yes")

    margherita.get_by_role("button", name="Mark Margherita unavailable").click()

    expect(page.locator(".messagelist")).to_have_text('Margherita is marked unavailable ("86").')
    expect(margherita).to_contain_text("No (86)")
    margherita.get_by_role("button", name="Mark Margherita available again").click()
    expect(margherita).to_contain_text("Yes")
    # The change page's widgets (two-pane allergen picker) work under the Content-Security-Policy too.
    margherita.get_by_role("link", name="Margherita").click()
    expect(page.locator("#id_allergens_from")).to_be_visible()


def test_talk_posts_to_the_endpoint_and_shows_connecting(trattoria, livekit, live_server, page):
    livekit.delay = 2  # LiveKit answers slowly, so the page stays in "Connecting…" for a while
    posts = connection_posts(page)
    page.goto(f"{live_server.url}/r/{trattoria.slug}/")

    page.get_by_role("button", name="Talk to us").click()

    expect(page.locator("#call-status")).to_have_text("Connecting…")
    expect(page.get_by_role("button", name="Talk to us")).to_be_hidden()  # no double dispatch while waiting
    # The answer comes; the fake cannot take the websocket, so the call ends in the "unreachable" state.
    expect(page.locator("#call-status")).to_contain_text("Could not reach the voice service", timeout=15_000)
    assert len(posts) == 1
    assert posts[0].headers["x-csrftoken"]
    assert json.loads(posts[0].post_data) == {"restaurant_id": trattoria.pk}
    assert len(livekit.dispatches) == 1
    assert json.loads(livekit.dispatches[0].request.metadata) == {"restaurant_id": trattoria.pk}


def test_an_unreachable_livekit_shows_the_sentence_and_a_retry_after_the_wait(trattoria, settings, live_server, page):
    settings.LIVEKIT_URL = f"ws://127.0.0.1:{closed_port()}"
    settings.LIVEKIT_API_KEY = API_KEY
    settings.LIVEKIT_API_SECRET = API_SECRET
    posts = connection_posts(page)
    page.clock.install()
    page.goto(f"{live_server.url}/r/{trattoria.slug}/")
    status = page.locator("#call-status")

    page.get_by_role("button", name="Talk to us").click()

    expect(status).to_have_text("The voice service is not reachable right now. Please try again in a moment.")
    retry = page.locator("#retry-button")
    expect(retry).to_have_text("Retry in 10 s")  # the server's Retry-After
    expect(retry).to_be_disabled()
    page.clock.fast_forward(10_000)
    expect(retry).to_have_text("Retry")
    # ...and it really works again: a second click posts again and gets the same clear answer.
    retry.click()
    expect(retry).to_have_text("Retry in 10 s")
    assert len(posts) == 2


@pytest.fixture
def one_line_taken(db_with_seeds) -> Restaurant:
    """A trattoria that takes one call at a time, with a call going on."""
    from dispatch.models import Call

    trattoria = make_restaurant(max_concurrent_calls=1)
    Call.objects.create(restaurant=trattoria, room_name="restaurant-0-busy", participant_identity="diner-0")
    return trattoria


def test_busy_lines_say_so_and_offer_a_retry_once_the_wait_is_over(one_line_taken, livekit, live_server, page):
    page.clock.install()
    page.goto(f"{live_server.url}/r/{one_line_taken.slug}/")
    status = page.locator("#call-status")
    retry = page.locator("#retry-button")

    page.get_by_role("button", name="Talk to us").click()

    expect(status).to_have_text("All our lines are busy. Please try again in 30 seconds.")
    expect(retry).to_have_text("Retry in 30 s")
    expect(retry).to_be_disabled()
    expect(page.get_by_role("button", name="Talk to us")).to_be_hidden()
    page.clock.fast_forward(12_000)
    expect(retry).to_have_text("Retry in 18 s")
    page.clock.fast_forward(18_000)
    expect(retry).to_be_enabled()
    assert livekit.requests == []  # no room, no dispatch for a busy restaurant


def test_too_many_calls_from_one_diner_say_when_to_try_again(trattoria, livekit, settings, live_server, page):
    settings.CALL_RATE_LIMITS = ["1/m"]
    page.clock.install()
    page.goto(f"{live_server.url}/r/{trattoria.slug}/")
    status = page.locator("#call-status")
    page.get_by_role("button", name="Talk to us").click()
    # The fake cannot take the browser's websocket: this first call fails after the endpoint said yes.
    expect(status).to_have_text(re.compile("^Could not reach the voice service"), timeout=15_000)

    page.get_by_role("button", name="Retry").click()

    expect(status).to_have_text(re.compile(r"^You have started a lot of calls\. Please try again in \d+ seconds?\.$"))
    wait = int(re.search(r"in (\d+) second", status.inner_text())[1])
    expect(page.locator("#retry-button")).to_have_text(f"Retry in {wait} s")
    assert len(livekit.dispatches) == 1


def test_a_failed_room_connect_shows_could_not_reach_with_retry(trattoria, livekit, live_server, page):
    page.goto(f"{live_server.url}/r/{trattoria.slug}/")
    status = page.locator("#call-status")

    page.get_by_role("button", name="Talk to us").click()

    # The endpoint succeeded (one dispatch); room.connect to the fake (Twirp only, no /rtc) failed.
    expect(status).to_have_text(re.compile("^Could not reach the voice service"), timeout=15_000)
    assert len(livekit.dispatches) == 1
    retry = page.get_by_role("button", name="Retry")
    expect(retry).to_be_visible()
    expect(page.get_by_role("button", name="Hang up")).to_be_hidden()

    retry.click()  # a fresh call: a new dispatch to a new room

    expect(status).to_have_text(re.compile("^Could not reach the voice service"), timeout=15_000)
    assert len(livekit.dispatches) == 2
    assert livekit.dispatches[0].request.room != livekit.dispatches[1].request.room


def test_the_widget_works_from_the_keyboard_and_speaks_to_screen_readers(trattoria, settings, live_server, page):
    settings.LIVEKIT_URL = ""  # calls not set up: the endpoint answers 503 with a sentence
    page.goto(f"{live_server.url}/r/{trattoria.slug}/")
    page.locator("#call-status").wait_for(state="attached")

    def tab_to(element_id: str, limit: int = 30) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == element_id:
                return
        pytest.fail(f"#{element_id} cannot be reached with Tab")

    tab_to("talk-button")
    # A visible focus indicator, not the browser's default that some resets remove.
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    tab_to("chat-input")
    page.keyboard.type("Are you open on Monday?")
    page.keyboard.press("Enter")  # a real form: Enter submits; without a call it points to the Talk button
    expect(page.locator("#call-status")).to_contain_text("Start a call")
    assert page.evaluate("document.activeElement.id") == "talk-button"
    page.keyboard.press("Enter")  # starts a call from the keyboard
    expect(page.locator("#call-status")).to_have_text(re.compile("^Voice calls are not set up yet"))
    assert page.evaluate("document.activeElement.id") == "talk-button"  # focus is not lost on the way

    status = page.locator("#call-status")
    assert status.get_attribute("aria-live") == "polite"
    assert status.get_attribute("role") == "status"
    assert page.locator("#transcript").get_attribute("role") == "log"
    expect(page.get_by_label("Type a question")).to_be_visible()


# --- The connected call, against a scripted stand-in for livekit-client -------------------------------
# Without a LiveKit server the browser cannot get past room.connect. To check what talk.js does once it is
# in a room, the test serves this module in place of livekit-client (same URL, same names, the subset of
# livekit-client 2.23.0's API that talk.js uses) and drives it through window.fakeLiveKit.
FAKE_LIVEKIT_CLIENT = r"""
export const RoomEvent = {
  TrackSubscribed: "trackSubscribed", TrackUnsubscribed: "trackUnsubscribed",
  AudioPlaybackStatusChanged: "audioPlaybackChanged", ParticipantConnected: "participantConnected",
  ParticipantDisconnected: "participantDisconnected",
  ParticipantAttributesChanged: "participantAttributesChanged", Disconnected: "disconnected",
  Reconnecting: "reconnecting", Reconnected: "reconnected",
};
export const ConnectionState = {
  Disconnected: "disconnected", Connecting: "connecting", Connected: "connected", Reconnecting: "reconnecting",
  SignalReconnecting: "signalReconnecting",
};
export const Track = { Kind: { Audio: "audio", Video: "video", Unknown: "unknown" } };

const fake = (window.fakeLiveKit = { micError: false, rooms: [], sent: [] });
const tick = () => new Promise((r) => setTimeout(r, 20));

export class Room {
  constructor() {
    this.listeners = {};
    this.handlers = {};
    this.remoteParticipants = new Map();
    this.canPlaybackAudio = true;
    this.state = "disconnected";
    this.localParticipant = {
      identity: "diner-1",
      trackPublications: new Map(),
      setMicrophoneEnabled: async () => { if (fake.micError) throw new DOMException("denied", "NotAllowedError"); },
      sendText: async (text, options) => { fake.sent.push({ text, topic: options.topic }); },
    };
    fake.room = this;
    fake.rooms.push(this);
  }
  on(event, fn) { (this.listeners[event] ||= []).push(fn); return this; }
  emit(event, ...args) { (this.listeners[event] || []).forEach((fn) => fn(...args)); }
  async connect(url, token) { this.url = url; this.token = token; this.state = "connected"; }
  async disconnect() { if (!this.gone) { this.gone = true; this.state = "disconnected"; this.emit("disconnected"); } }
  async startAudio() { this.canPlaybackAudio = true; this.emit("audioPlaybackChanged", true); }
  registerTextStreamHandler(topic, fn) { this.handlers[topic] = fn; }
}

fake.agentJoins = (state) => {
  const agent = { identity: "agent-AJ_1", isAgent: true, attributes: state ? { "lk.agent.state": state } : {} };
  fake.room.remoteParticipants.set(agent.identity, agent);
  fake.agent = agent;
  fake.room.emit("participantConnected", agent);
};
fake.agentState = (state) => {
  fake.agent.attributes = { ...fake.agent.attributes, "lk.agent.state": state };
  fake.room.emit("participantAttributesChanged", { "lk.agent.state": state }, fake.agent);
};
// One text stream on lk.transcription, as livekit-agents sends it; resolves when it has been read.
fake.transcribe = (identity, segmentId, chunks, final) => new Promise((done) => {
  const info = { id: "TS_" + Math.random(), topic: "lk.transcription",
                 attributes: { "lk.segment_id": segmentId, "lk.transcription_final": "false" } };
  const reader = {
    info,
    async *[Symbol.asyncIterator]() {
      for (const chunk of chunks) { await tick(); yield chunk; }
      if (final) info.attributes = { ...info.attributes, "lk.transcription_final": "true" }; // the trailer
      setTimeout(done, 0);
    },
  };
  fake.room.handlers["lk.transcription"](reader, { identity });
});
fake.agentLeaves = () => {
  fake.room.remoteParticipants.delete(fake.agent.identity);
  fake.room.emit("participantDisconnected", fake.agent);
};
// A full reconnect, as livekit-client 2.23.0 runs it (Room.ts handleRestarting / handleRestarted): every
// remote participant is dropped, then the state turns Reconnecting; after Reconnected they come back.
fake.connectionDrops = () => {
  fake.room.remoteParticipants.delete(fake.agent.identity);
  fake.room.emit("participantDisconnected", fake.agent);
  fake.room.state = "reconnecting";
  fake.room.emit("reconnecting");
};
fake.connectionReturns = () => {
  fake.room.state = "connected";
  fake.room.emit("reconnected");
  fake.room.remoteParticipants.set(fake.agent.identity, fake.agent);
  fake.room.emit("participantConnected", fake.agent);
};
fake.blockAudio = () => { fake.room.canPlaybackAudio = false; fake.room.emit("audioPlaybackChanged", false); };
// Someone in the room who is not the agent (a second page with a token for the room, say).
fake.otherJoins = (identity) => {
  const other = { identity, isAgent: false, attributes: {} };
  fake.room.remoteParticipants.set(identity, other);
  fake.room.emit("participantConnected", other);
};
// One text stream of `text` on `topic` from `identity`, as livekit-client 2.23.0 hands it over: the topic's
// handler gets (reader, {identity}); reader.info has id, topic, size (bytes), timestamp, attributes; the
// text comes from reader.readAll() (or by iterating). A topic without a handler is dropped, as the client
// does. Resolves once the page has read the stream and dealt with it, or once it is clear it will not.
fake.sendText = (identity, topic, text) => new Promise((done) => {
  const handler = fake.room.handlers[topic];
  if (!handler) return done(false);
  const info = { id: "TS_" + Math.random(), topic, mimeType: "text/plain", timestamp: Date.now(),
                 size: new TextEncoder().encode(text).length, attributes: {} };
  const read = () => { setTimeout(() => done(true), 0); return text; };  // after the reader's own .then
  const reader = {
    info,
    async readAll() { await tick(); return read(); },
    async *[Symbol.asyncIterator]() { await tick(); yield read(); },
  };
  handler(reader, { identity });
  setTimeout(() => done(false), 200);  // a stream the page chose not to read
});
"""


def use_fake_livekit_client(page) -> None:
    page.route(
        "**/vendor/livekit-client/livekit-client.esm.mjs",
        lambda route: route.fulfill(status=200, content_type="text/javascript", body=FAKE_LIVEKIT_CLIENT),
    )


def test_a_call_shows_agent_state_transcript_and_typed_questions(trattoria, livekit, live_server, page):
    use_fake_livekit_client(page)
    page.goto(f"{live_server.url}/r/{trattoria.slug}/")
    page.evaluate("window.fakeLiveKit.micError = true")
    status = page.locator("#call-status")
    transcript = page.get_by_role("log")

    page.get_by_role("button", name="Talk to us").click()

    expect(status).to_have_text("Connected. Waiting for the agent…")
    expect(page.locator("#mic-notice")).to_have_text("Microphone is off: you can still type your questions.")
    assert page.evaluate("window.fakeLiveKit.room.url") == livekit.ws_url  # the endpoint's serverUrl
    # A question typed before the agent can read it is shown at once and sent once the agent is ready.
    page.get_by_label("Type a question").fill("Is the Margherita vegetarian?")
    page.get_by_role("button", name="Send").click()
    expect(transcript).to_contain_text("You: Is the Margherita vegetarian?")
    page.evaluate("window.fakeLiveKit.agentJoins('initializing')")
    expect(status).to_have_text("The agent is getting ready…")
    assert page.evaluate("window.fakeLiveKit.sent") == []
    page.evaluate("window.fakeLiveKit.agentState('listening')")
    expect(status).to_have_text("Listening")
    assert page.evaluate("window.fakeLiveKit.sent") == [{"text": "Is the Margherita vegetarian?", "topic": "lk.chat"}]

    # The agent's answer streams as deltas into one segment; the diner's speech arrives as whole-text updates.
    page.evaluate("window.fakeLiveKit.agentState('speaking')")
    expect(status).to_have_text("Speaking")
    page.evaluate("window.fakeLiveKit.transcribe('agent-AJ_1', 'SG_a', ['Yes, the Margherita ', 'is vegetarian.'], true)")
    page.evaluate("window.fakeLiveKit.transcribe('diner-1', 'SG_u', ['And is it'], false)")
    page.evaluate("window.fakeLiveKit.transcribe('diner-1', 'SG_u', ['And is it open ', 'on Monday?'], true)")
    lines = transcript.locator(".line")
    expect(lines).to_have_text([
        "You: Is the Margherita vegetarian?",
        "Trattoria Test: Yes, the Margherita is vegetarian.",
        "You: And is it open on Monday?",
    ])
    expect(transcript.locator(".interim")).to_have_count(0)

    page.evaluate("window.fakeLiveKit.blockAudio()")
    enable_audio = page.get_by_role("button", name="Click to enable audio")
    enable_audio.click()
    expect(enable_audio).to_be_hidden()

    page.get_by_role("button", name="Hang up").click()
    expect(status).to_have_text("Call ended.")
    expect(page.get_by_role("button", name="Talk to us")).to_be_enabled()


def test_an_agent_that_never_joins_means_the_lines_are_busy(trattoria, livekit, settings, live_server, page):
    settings.AGENT_JOIN_TIMEOUT = 4  # a deployment's setting reaches the page
    use_fake_livekit_client(page)
    page.clock.install()
    page.goto(f"{live_server.url}/r/{trattoria.slug}/")
    status = page.locator("#call-status")
    reports = []
    page.on("request", lambda r: reports.append(r) if "/api/calls/no-agent" in r.url else None)

    page.get_by_role("button", name="Talk to us").click()
    expect(status).to_have_text("Connected. Waiting for the agent…")
    page.clock.fast_forward(3_500)
    expect(status).to_have_text("Connected. Waiting for the agent…")
    page.clock.fast_forward(1_000)

    expect(status).to_have_text("All our lines are busy. Please try again in a moment.")
    assert page.evaluate("window.fakeLiveKit.rooms[0].gone") is True  # the page left the room
    token = page.evaluate("window.fakeLiveKit.rooms[0].token")
    expect(page.get_by_role("button", name="Hang up")).to_be_hidden()
    # The server heard it: it recorded the failure and deleted the room.
    page.wait_for_function("() => true")  # let the keepalive request go out
    assert [r.headers["authorization"] for r in reports] == [f"Bearer {token}"]
    deadline = time.monotonic() + 5
    while not livekit.deleted_rooms and time.monotonic() < deadline:
        time.sleep(0.05)
    assert livekit.deleted_rooms == [livekit.dispatches[0].request.room]

    page.get_by_role("button", name="Retry").click()  # a fresh call

    expect(status).to_have_text("Connected. Waiting for the agent…")
    assert page.evaluate("window.fakeLiveKit.rooms.map((r) => r.gone === true)") == [True, False]
    assert len(livekit.dispatches) == 2


def test_a_network_blip_keeps_the_call_and_a_lost_connection_ends_it(trattoria, livekit, live_server, page):
    use_fake_livekit_client(page)
    page.goto(f"{live_server.url}/r/{trattoria.slug}/")
    status = page.locator("#call-status")
    page.get_by_role("button", name="Talk to us").click()
    expect(status).to_have_text("Connected. Waiting for the agent…")
    page.evaluate("window.fakeLiveKit.agentJoins('listening')")
    expect(status).to_have_text("Listening")

    page.evaluate("window.fakeLiveKit.connectionDrops()")

    expect(status).to_have_text("Connection lost. Reconnecting…")
    expect(page.get_by_role("button", name="Hang up")).to_be_visible()
    page.evaluate("window.fakeLiveKit.connectionReturns()")
    expect(status).to_have_text("Listening")
    assert page.evaluate("window.fakeLiveKit.room.gone") is None  # the same call goes on

    page.evaluate("window.fakeLiveKit.connectionDrops()")
    page.evaluate("window.fakeLiveKit.room.disconnect()")  # this time reconnecting fails

    expect(status).to_have_text("The connection was lost. The call has ended.")
    expect(page.get_by_role("button", name="Talk to us")).to_be_enabled()


def test_the_agent_leaving_ends_the_call(trattoria, livekit, live_server, page):
    use_fake_livekit_client(page)
    page.goto(f"{live_server.url}/r/{trattoria.slug}/")
    page.get_by_role("button", name="Talk to us").click()
    expect(page.locator("#call-status")).to_have_text("Connected. Waiting for the agent…")
    page.evaluate("window.fakeLiveKit.agentJoins('speaking')")
    expect(page.locator("#call-status")).to_have_text("Speaking")

    page.evaluate("window.fakeLiveKit.agentLeaves()")

    expect(page.locator("#call-status")).to_have_text("The agent left the call.")
    expect(page.get_by_role("button", name="Talk to us")).to_be_enabled()
    assert page.evaluate("window.fakeLiveKit.room.gone") is True


# --- The order card: the cards the agent sent for a whole order on the demo data, shown by the page ---------


@pytest.fixture
def paloma_cards(demo) -> list[str]:
    """The order cards (JSON) the agent sends while a diner orders two Al pastor with salsa roja and guacamole at
    La Paloma (demo), gives a name and a pickup time, hears it read back and says yes (tests/test_order_card.py:
    the real tools and order_card.py through AgentSession with the scripted model). Request the clock first."""
    from tests.test_order_card import TOPIC, order_by_voice, web_call_at_paloma

    sent, _model, _results = order_by_voice(web_call_at_paloma())
    return [each.text for each in sent.on_topic(TOPIC)]


def send_card(page, text: str, identity: str = "agent-AJ_1") -> bool:
    return page.evaluate("([who, text]) => window.fakeLiveKit.sendText(who, 'maitre.order', text)", [identity, text])


@pinned(MONDAY_NIGHT_UTC)  # 15:30 in Los Angeles: the order is for 19:30 there, today
def test_the_diner_sees_the_order_as_it_is_built_and_its_confirmation(clock, paloma_cards, livekit, live_server, page):
    added, with_pickup, read_back, placed = paloma_cards
    number = json.loads(placed)["number"]
    use_fake_livekit_client(page)
    page.goto(f"{live_server.url}/r/taqueria-la-paloma/")
    card = page.locator("#order-card")
    said = page.locator("#order-said")
    page.get_by_role("button", name="Talk to us").click()
    expect(page.locator("#call-status")).to_have_text("Connected. Waiting for the agent…")
    page.evaluate("window.fakeLiveKit.agentJoins('listening')")
    expect(page.locator("#call-status")).to_have_text("Listening")
    expect(card).to_be_hidden()

    assert send_card(page, added)

    expect(card).to_be_visible()
    expect(page.locator("#order-heading")).to_have_text("Your order")
    expect(card.locator(".order-line-name")).to_have_text(["2 × Al pastor"])
    expect(card.locator(".order-line-choices")).to_have_text(["Salsa roja, Guacamole"])
    expect(card.locator(".order-line-total")).to_have_text(["$11.50"])
    expect(page.locator("#order-total")).to_have_text("$11.50")
    expect(page.locator("#order-pickup")).to_be_hidden()
    expect(said).to_have_text("Order updated. Total $11.50.")
    assert said.get_attribute("aria-live") == "polite"

    # Someone who is not the agent sends a "confirmation", and a broken card comes: neither is shown.
    page.evaluate("window.fakeLiveKit.otherJoins('diner-2')")
    forged = {**json.loads(placed), "seq": 99, "number": 999, "total": "$0.01"}
    assert not send_card(page, json.dumps(forged), identity="diner-2")
    assert send_card(page, '{"seq": 98, "status": "placed", "number": 998')
    assert send_card(page, json.dumps({**json.loads(placed), "seq": 97, "lines": "Al pastor"}))
    expect(card.locator(".order-line-total")).to_have_text(["$11.50"])
    expect(page.locator("#order-number")).to_be_hidden()

    assert send_card(page, with_pickup)  # the next change updates the same card

    expect(page.locator("#order-pickup")).to_have_text("Pickup today at 7:30\u202fPM, for Giulia")
    expect(page.locator("#order-heading")).to_have_text("Your order")
    assert send_card(page, read_back)
    assert send_card(page, placed)

    expect(page.locator("#order-heading")).to_have_text("Order placed")
    expect(page.locator("#order-number")).to_have_text(f"Order number {number}")
    expect(page.locator("#order-pickup")).to_have_text("Pickup today at 7:30\u202fPM, for Giulia")
    expect(page.locator("#order-note")).to_have_text("Pay when you pick it up.")
    expect(card.locator(".order-line-name")).to_have_text(["2 × Al pastor"])
    expect(said).to_have_text(f"Order placed: number {number}. Pickup today at 7:30\u202fPM.")
    assert send_card(page, read_back)  # a card overtaken by a later one changes nothing
    expect(page.locator("#order-heading")).to_have_text("Order placed")

    # The confirmation stays after the call ends, until the diner starts a new call.
    page.get_by_role("button", name="Hang up").click()
    expect(page.locator("#call-status")).to_have_text("Call ended.")
    expect(page.locator("#order-number")).to_have_text(f"Order number {number}")
    page.get_by_role("button", name="Talk to us").click()
    expect(card).to_be_hidden()


@pinned(MONDAY_NIGHT_UTC)
def test_a_cancelled_order_says_so_and_a_draft_left_by_the_call_says_it_was_not_placed(
    clock, paloma_cards, livekit, live_server, page
):
    added, *_ = paloma_cards
    use_fake_livekit_client(page)
    page.goto(f"{live_server.url}/r/taqueria-la-paloma/")
    page.get_by_role("button", name="Talk to us").click()
    expect(page.locator("#call-status")).to_have_text("Connected. Waiting for the agent…")
    page.evaluate("window.fakeLiveKit.agentJoins('listening')")
    assert send_card(page, added)
    expect(page.locator("#order-heading")).to_have_text("Your order")

    page.get_by_role("button", name="Hang up").click()

    expect(page.locator("#order-note")).to_have_text("The call ended before this order was placed.")
    page.get_by_role("button", name="Talk to us").click()
    expect(page.locator("#call-status")).to_have_text("Connected. Waiting for the agent…")
    page.evaluate("window.fakeLiveKit.agentJoins('listening')")
    assert send_card(page, json.dumps({**json.loads(added), "status": "cancelled"}))

    expect(page.locator("#order-heading")).to_have_text("Order cancelled")
    expect(page.locator("#order-note")).to_have_text("This order is cancelled.")
    expect(page.locator("#order-said")).to_have_text("Order cancelled.")


# --- The booking card: the cards the agent sent for a whole booking on the demo data, shown by the page -------


@pytest.fixture
def kettle_booking_cards(demo) -> list[str]:
    """The booking cards (JSON) the agent sends while a diner asks the Copper Kettle (demo) for a table for four on
    Saturday at 19:30 (full), takes 16:30 instead and says yes (tests/test_booking_card.py: the real tools and
    booking_card.py through AgentSession with the scripted model). Request the clock first."""
    from tests.test_booking_card import TOPIC, book_by_voice, web_call_at_kettle

    sent, _results = book_by_voice(web_call_at_kettle())
    return [each.text for each in sent.on_topic(TOPIC)]


def send_booking(page, text: str, identity: str = "agent-AJ_1") -> bool:
    return page.evaluate("([who, text]) => window.fakeLiveKit.sendText(who, 'maitre.booking', text)", [identity, text])


def call_the_kettle(page, live_server) -> None:
    use_fake_livekit_client(page)
    page.goto(f"{live_server.url}/r/the-copper-kettle/")
    page.get_by_role("button", name="Talk to us").click()
    expect(page.locator("#call-status")).to_have_text("Connected. Waiting for the agent…")
    page.evaluate("window.fakeLiveKit.agentJoins('listening')")
    expect(page.locator("#call-status")).to_have_text("Listening")


@pinned(MONDAY_NIGHT_UTC)  # 23:30 in London: Saturday is the 13th, its evening full
def test_the_diner_sees_the_table_proposed_then_booked_and_adds_it_to_their_calendar(
    clock, kettle_booking_cards, livekit, live_server, page
):
    from icalendar import Calendar

    unavailable, proposed, booked = kettle_booking_cards
    code = json.loads(booked)["code"]
    card = page.locator("#booking-card")
    calendar_link = page.get_by_role("link", name="Add to calendar")
    call_the_kettle(page, live_server)
    expect(card).to_be_hidden()

    assert send_booking(page, unavailable)

    expect(page.locator("#booking-heading")).to_have_text("Not available")
    expect(page.locator("#booking-when")).to_have_text("Saturday at 19:30 (2026-06-13), 4 people")
    expect(page.locator("#booking-offers")).to_contain_text("Free instead: Saturday at 16:15; Saturday at 16:30; ")
    expect(calendar_link).to_have_count(0)

    assert send_booking(page, proposed)

    expect(page.locator("#booking-heading")).to_have_text("Your table")
    expect(page.locator("#booking-when")).to_have_text("Saturday at 16:30 (2026-06-13), 4 people")
    expect(page.locator("#booking-note")).to_contain_text("Not booked yet")
    expect(page.locator("#booking-code")).to_be_hidden()
    expect(page.locator("#booking-offers")).to_be_hidden()
    expect(page.locator("#booking-said")).to_have_text("Checked: Saturday at 16:30, not booked yet.")

    # Someone who is not the agent sends a "booking", and broken cards come: none is shown.
    page.evaluate("window.fakeLiveKit.otherJoins('diner-2')")
    forged = {**json.loads(booked), "seq": 99, "code": "AAAAAA"}
    assert not send_booking(page, json.dumps(forged), identity="diner-2")
    assert send_booking(page, '{"seq": 98, "status": "booked", "code": "AAAAAA"')
    assert send_booking(page, json.dumps({**json.loads(booked), "seq": 97, "ics": "<script>alert(1)</script>"}))
    assert send_booking(page, json.dumps({**json.loads(booked), "seq": 96, "code": "<b>1</b>"}))
    expect(page.locator("#booking-heading")).to_have_text("Your table")

    assert send_booking(page, booked)

    expect(page.locator("#booking-heading")).to_have_text("Table booked")
    expect(page.locator("#booking-when")).to_have_text("Saturday at 16:30 (2026-06-13), 4 people, for Anna Rossi")
    expect(page.locator("#booking-code")).to_have_text(f"Booking code {code}")
    expect(page.locator("#booking-said")).to_have_text(f"Table booked: Saturday at 16:30, code {code}.")
    expect(calendar_link).to_be_visible()
    with page.expect_download() as downloading:
        calendar_link.click()
    download = downloading.value
    assert download.suggested_filename == f"table-2026-06-13-{code}.ics"
    [event] = Calendar.from_ical(Path(download.path()).read_bytes()).walk("VEVENT")
    london = ZoneInfo("Europe/London")
    assert (event.start, event.end) == (
        dt.datetime(2026, 6, 13, 16, 30, tzinfo=london), dt.datetime(2026, 6, 13, 18, 0, tzinfo=london)
    )
    assert f"Booking code {code}" in str(event["DESCRIPTION"])

    # The booking stays after the call ends, until the diner starts a new call.
    page.get_by_role("button", name="Hang up").click()
    expect(page.locator("#call-status")).to_have_text("Call ended.")
    expect(page.locator("#booking-code")).to_have_text(f"Booking code {code}")
    page.get_by_role("button", name="Talk to us").click()
    expect(card).to_be_hidden()


@pinned(MONDAY_NIGHT_UTC)
def test_a_table_proposed_when_the_call_ends_says_it_was_not_booked(
    clock, kettle_booking_cards, livekit, live_server, page
):
    _, proposed, booked = kettle_booking_cards
    call_the_kettle(page, live_server)
    assert send_booking(page, proposed)
    expect(page.locator("#booking-heading")).to_have_text("Your table")

    page.get_by_role("button", name="Hang up").click()

    expect(page.locator("#booking-note")).to_have_text("The call ended before this table was booked.")
    page.get_by_role("button", name="Talk to us").click()
    expect(page.locator("#call-status")).to_have_text("Connected. Waiting for the agent…")
    page.evaluate("window.fakeLiveKit.agentJoins('listening')")
    cancelled = {**json.loads(booked), "status": "cancelled", "ics": None}
    assert send_booking(page, json.dumps(cancelled))

    expect(page.locator("#booking-heading")).to_have_text("Booking cancelled")
    expect(page.locator("#booking-note")).to_have_text("This booking is cancelled.")
    expect(page.get_by_role("link", name="Add to calendar")).to_have_count(0)
