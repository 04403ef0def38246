"""Shared fixtures: a restaurant built in the test database, and LiveKit's server API as a contract fake."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from restaurants.models import Allergen, DietaryTag, MenuItem, MenuSection, Restaurant, ServicePeriod
from tests.fakes.twirp import FakeLiveKitServer

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


# --- Rate limits ----------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def own_rate_limit_counts(settings):
    """Each test counts call starts afresh: the counts live in the cache (the database cache's table is not
    emptied between transactional tests), so give every test its own key prefix."""
    settings.RATELIMIT_CACHE_PREFIX = f"rl:{uuid.uuid4().hex}:"
