"""`runagent`'s checks before it hands over to LiveKit's CLI: console needs a restaurant (LiveKit's console job
carries no metadata of its own), and every mode says at once which settings it still needs."""

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def model_key(settings):
    settings.OPENAI_API_KEY = "sk-test-not-used"


def test_console_without_a_restaurant_is_refused():
    with pytest.raises(CommandError, match="console needs --restaurant <id or slug>"):
        call_command("runagent", "console")


@pytest.mark.parametrize("value", ["999999", "no-such-place"])
def test_console_with_an_unknown_restaurant_is_refused(value):
    with pytest.raises(CommandError, match=f"No active restaurant with id or slug '{value}'"):
        call_command("runagent", "console", restaurant=value)


def test_an_inactive_restaurant_cannot_be_talked_to(restaurant):
    restaurant.is_active = False
    restaurant.save()

    with pytest.raises(CommandError, match="No active restaurant"):
        call_command("runagent", "console", restaurant=restaurant.slug)


def test_restaurant_is_refused_outside_console(settings):
    with pytest.raises(CommandError, match="--restaurant is for console mode"):
        call_command("runagent", "start", restaurant="1")


def test_an_agent_name_override_that_would_drift_from_the_view_is_refused(monkeypatch, settings):
    monkeypatch.setenv("LIVEKIT_AGENT_NAME_OVERRIDE", "someone-else")

    with pytest.raises(CommandError, match="LIVEKIT_AGENT_NAME_OVERRIDE='someone-else'"):
        call_command("runagent", "start")


def test_start_names_every_missing_setting_at_once(settings):
    settings.OPENAI_API_KEY = settings.LIVEKIT_URL = settings.LIVEKIT_API_KEY = settings.LIVEKIT_API_SECRET = ""

    every = r"^Not set: OPENAI_API_KEY, LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET\."
    with pytest.raises(CommandError, match=every):
        call_command("runagent", "start")


def test_console_needs_the_model_key_but_not_livekit(settings, restaurant):
    settings.OPENAI_API_KEY = settings.LIVEKIT_URL = ""

    with pytest.raises(CommandError, match=r"^Not set: OPENAI_API_KEY\. "):
        call_command("runagent", "console", restaurant=restaurant.slug)
