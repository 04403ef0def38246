"""Shared fixtures: a restaurant built in the test database, LiveKit's server API as a contract fake, and
pinned clocks for the tests whose answers depend on the date or the time of day."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

# LiveKit's plugins register on import and refuse to unless on the main thread. A job process has them from
# the forkserver's preload (agent_worker.preload); here tests call prewarm from async_to_sync's thread, so
# import them now, on the main thread, as the forkserver does.
from livekit.plugins import openai, silero  # noqa: F401

from restaurants.models import Allergen, DietaryTag, MenuItem, MenuSection, Restaurant, ServicePeriod
from tests.fakes.twirp import FakeLiveKitServer


def pytest_collection_modifyitems(config, items):
    """Tests marked `speech` say words with espeak-ng (tests/fakes/voice.py): skipped, with the reason, without it."""
    from tests.fakes.voice import ESPEAK

    if ESPEAK is None:
        reason = pytest.mark.skip(reason="espeak-ng is not installed (apt-get install espeak-ng; .ci/run installs it)")
        for item in items:
            if item.get_closest_marker("speech"):
                item.add_marker(reason)


API_KEY = "APItestkey"
API_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"


@pytest.fixture
def livekit(settings):
    """A running fake of LiveKit's Twirp API, with settings pointing at it."""
    fake = FakeLiveKitServer(API_KEY, API_SECRET).start()
    settings.LIVEKIT_URL = fake.ws_url
    settings.LIVEKIT_API_KEY = API_KEY
    settings.LIVEKIT_API_SECRET = API_SECRET
    settings.LIVEKIT_AGENT_NAME = "test-restaurant-agent"
    yield fake
    fake.stop()


def make_restaurant(**overrides) -> Restaurant:
    """Trattoria Test in Europe/Rome: lunch 12:00-14:30 and dinner 19:00-23:00 Tuesday to Sunday, closed
    Monday, late bar Friday and Saturday to 01:30. Menu: Antipasti and Pizze, one dish unavailable."""
    fields = dict(
        name="Trattoria Test",
        slug="trattoria-test",
        cuisine="Roman trattoria",
        description="Cacio e pepe and wood-fired pizza.",
        street_address="Via dei Coronari 12",
        city="Roma",
        postal_code="00186",
        country="IT",
        phone="+390612345678",
        time_zone="Europe/Rome",
        language="en-GB",
        currency="EUR",
    )
    fields.update(overrides)
    r = Restaurant.objects.create(**fields)
    t = dt.time
    for day in range(1, 7):  # Tuesday..Sunday
        ServicePeriod.objects.create(restaurant=r, weekday=day, opens=t(12), closes=t(14, 30), label="Lunch")
        late = day in (4, 5)
        ServicePeriod.objects.create(
            restaurant=r, weekday=day, opens=t(19), closes=t(1, 30) if late else t(23), label="Dinner"
        )
    tags = {t.code: t for t in DietaryTag.objects.all()}
    allergens = {a.code: a for a in Allergen.objects.all()}
    antipasti = MenuSection.objects.create(restaurant=r, name="Antipasti", position=1)
    pizze = MenuSection.objects.create(restaurant=r, name="Pizze", position=2)

    def item(section, name, price, *, tags_=(), allergens_=(), available=True, confirmed=True, description=""):
        i = MenuItem.objects.create(
            section=section, name=name, price=Decimal(price), is_available=available,
            allergens_confirmed=confirmed, description=description,
        )  # fmt: skip
        i.dietary_tags.set([tags[c] for c in tags_])
        i.allergens.set([allergens[c] for c in allergens_])
        return i

    item(antipasti, "Bruschetta al pomodoro", "6.50", tags_=("vegan",), allergens_=("gluten",),
         description="Grilled bread, tomatoes, garlic, olive oil")  # fmt: skip
    item(antipasti, "Supplì", "4.00", tags_=("vegetarian",), allergens_=("gluten", "eggs", "milk"))
    item(antipasti, "Carciofi alla giudia", "9.00", tags_=("vegan", "gluten-free"), confirmed=False)
    item(pizze, "Margherita", "9.50", tags_=("vegetarian",), allergens_=("gluten", "milk"))
    item(pizze, "Diavola", "11.00", allergens_=("gluten", "milk"))
    item(pizze, "Tartufo", "16.00", tags_=("vegetarian",), allergens_=("gluten", "milk"), available=False)
    return r


@pytest.fixture
def restaurant(db) -> Restaurant:
    return make_restaurant()


# --- Pinned clocks ---------------------------------------------------------------------------------------------
# A test whose answer depends on the date or the time of day requests `clock` and runs once under each of CLOCKS:
# awkward moments for Trattoria Test in Rome. Each moment is written in the zone the whole process then runs in
# (time-machine sets TZ and calls tzset, and restores both), so code that reads the UTC date or the machine's own
# date where the restaurant's is meant answers wrongly under one of them. What Rome reads and what the trattoria
# shows are written down by hand, not computed by the code under test. The clock ticks from the pinned moment
# (livekit-agents' sessions expect time to move; asyncio's timers run on the monotonic clock, which time-machine
# leaves alone); no moment is less than a quarter of an hour from an opening or a closing, so ticking on for the
# length of a test changes no answer.

ROME = ZoneInfo("Europe/Rome")


@dataclass(frozen=True)
class Clock:
    """A moment to pin the clock at, and what Trattoria Test's diners are told then."""

    id: str  # the test id: says the moment and why it is awkward
    at: dt.datetime  # aware, in the zone the process runs in while pinned
    rome: dt.datetime  # naive: Rome's wall clock at `at`
    badge: str  # Trattoria Test's open/closed badge at `at`
    now_answer: str  # check_open's answer for "now" at `at`

    def __post_init__(self) -> None:
        if self.at.astimezone(ROME).replace(tzinfo=None) != self.rome:  # a slip in the table below
            raise ValueError(f"{self.id}: Rome reads {self.at.astimezone(ROME):%Y-%m-%d %H:%M} then, not {self.rome}")

    @property
    def today(self) -> dt.date:
        """The date in Rome."""
        return self.rome.date()

    def next(self, weekday: int) -> dt.date:
        """The first date in Rome after today that falls on `weekday` (0 = Monday): 1 to 7 days ahead."""
        return self.today + dt.timedelta(days=(weekday - self.today.weekday() - 1) % 7 + 1)

    @contextlib.contextmanager
    def pin(self) -> Iterator[Clock]:
        """Travel to `at` and run the process in its zone until the block ends."""
        with time_machine.travel(self.at, tick=True):
            # The machine's own clock reads the moment in its zone: that zone's data is installed and TZ took.
            assert dt.datetime.now().replace(second=0, microsecond=0) == self.at.replace(tzinfo=None), self.id
            yield self


def _at(zone: str, *wall: int) -> dt.datetime:
    return dt.datetime(*wall, tzinfo=ZoneInfo(zone))


CLOSED_TILL_LUNCH = "Closed, opens today 12:00"
MONDAY_NIGHT_UTC = Clock(  # the clock: a next-Tuesday computed from the UTC date is Rome's today
    "mon-2230-utc-tue-0030-rome", _at("UTC", 2026, 6, 8, 22, 30), dt.datetime(2026, 6, 9, 0, 30), CLOSED_TILL_LUNCH,
    "Closed now (Tuesday 2026-06-09, 00:30), opens today 12:00 (2026-06-09).",
)  # fmt: skip
NEW_YEAR_UTC = Clock(  # 2027 has begun in Rome, not yet in UTC: a date's "next occurrence" turns on the year
    "thu-2330-utc-fri-0030-rome-new-year", _at("UTC", 2026, 12, 31, 23, 30), dt.datetime(2027, 1, 1, 0, 30),
    CLOSED_TILL_LUNCH, "Closed now (Friday 2027-01-01, 00:30), opens today 12:00 (2027-01-01).",
)  # fmt: skip
KIRITIMATI = Clock(  # UTC+14: the machine's date is a day ahead of Rome's
    "thu-0030-kiritimati-wed-1230-rome", _at("Pacific/Kiritimati", 2026, 6, 11, 0, 30),
    dt.datetime(2026, 6, 10, 12, 30), "Open now, until 14:30", "Open now (Wednesday 2026-06-10, 12:30), until 14:30.",
)  # fmt: skip
CLOCKS = (
    MONDAY_NIGHT_UTC,
    Clock(  # 23:30 in Rome: Saturday's dinner runs on into tomorrow
        "sat-2330-rome-late-dinner", _at("UTC", 2026, 1, 17, 22, 30), dt.datetime(2026, 1, 17, 23, 30),
        "Open now, until 01:30", "Open now (Saturday 2026-01-17, 23:30), until 01:30.",
    ),
    Clock(  # Rome's clocks jump from 02:00 to 03:00 on 29 March 2026, in the night after Saturday's late dinner
        "dst-spring-0115-rome-before-jump", _at("UTC", 2026, 3, 29, 0, 15), dt.datetime(2026, 3, 29, 1, 15),
        "Open now, until 01:30", "Open now (Sunday 2026-03-29, 01:15), until 01:30.",
    ),
    Clock(
        "dst-spring-0315-rome-after-jump", _at("UTC", 2026, 3, 29, 1, 15), dt.datetime(2026, 3, 29, 3, 15),
        CLOSED_TILL_LUNCH, "Closed now (Sunday 2026-03-29, 03:15), opens today 12:00 (2026-03-29).",
    ),
    Clock(  # Rome's clocks go back from 03:00 to 02:00 on 25 October 2026: 02:30 comes twice, an hour apart
        "dst-autumn-0230-rome-first-pass", _at("UTC", 2026, 10, 25, 0, 30), dt.datetime(2026, 10, 25, 2, 30),
        CLOSED_TILL_LUNCH, "Closed now (Sunday 2026-10-25, 02:30), opens today 12:00 (2026-10-25).",
    ),
    Clock(
        "dst-autumn-0230-rome-second-pass", _at("UTC", 2026, 10, 25, 1, 30), dt.datetime(2026, 10, 25, 2, 30),
        CLOSED_TILL_LUNCH, "Closed now (Sunday 2026-10-25, 02:30), opens today 12:00 (2026-10-25).",
    ),
    NEW_YEAR_UTC,
    KIRITIMATI,
    Clock(  # UTC-10: the machine's date is a day behind Rome's: Sunday on the machine, closed Monday in Rome
        "sun-2330-honolulu-mon-1130-rome", _at("Pacific/Honolulu", 2026, 6, 7, 23, 30),
        dt.datetime(2026, 6, 8, 11, 30), "Closed, opens tomorrow 12:00",
        "Closed now (Monday 2026-06-08, 11:30), opens tomorrow 12:00 (2026-06-09).",
    ),
)  # fmt: skip


@pytest.fixture(params=CLOCKS, ids=[c.id for c in CLOCKS])
def clock(request) -> Iterator[Clock]:
    """The clock pinned at each of CLOCKS in turn (or at those a test names with `pinned`). A test lists it
    first, so that the fixtures after it (the agent's instructions, load_demo's special days) see it too."""
    with request.param.pin() as pinned_clock:
        yield pinned_clock


def pinned(*clocks: Clock) -> pytest.MarkDecorator:
    """Run a test that requests `clock` under these clocks only: a slow test, or one whose expected answers are
    written down for a few clocks."""
    return pytest.mark.parametrize("clock", clocks, ids=[c.id for c in clocks], indirect=True)


# --- Rate limits ----------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def own_rate_limit_counts(settings):
    """Each test counts call starts afresh: the counts live in the cache (the database cache's table is not
    emptied between transactional tests), so give every test its own key prefix."""
    settings.RATELIMIT_CACHE_PREFIX = f"rl:{uuid.uuid4().hex}:"
