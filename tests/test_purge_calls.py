"""`manage.py purge_calls [--dry-run]`: what diners said is deleted after CALL_RETENTION_DAYS days, the calls'
times and counts stay for statistics, and a second run changes nothing."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator

import pytest
import time_machine
from django.core.management import call_command

from dispatch import services
from dispatch.livekit import rooms
from dispatch.models import Call, CallMessage, ToolCall, TurnFacts, UnansweredQuestion, WebhookEvent
from tests.test_settings import manage

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 10, 9, 30, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def now(settings) -> Iterator[dt.datetime]:
    settings.CALL_RETENTION_DAYS = 30
    with time_machine.travel(NOW, tick=False):
        yield NOW


def made(age: dt.timedelta, make):
    """`make()` run when the clock read `age` before NOW (rows' auto_now_add times then read that)."""
    with time_machine.travel(NOW - age, tick=False):
        return make()


def a_call(restaurant, age: dt.timedelta) -> Call:
    """A call `age` old that the diner hung up after 3 minutes: 2 messages, 1 set of facts given (to two model
    requests), 1 tool call, 1 unanswered question."""
    room = rooms.new_room_name(restaurant.pk)

    def make() -> Call:
        start = dt.datetime.now(dt.UTC)
        Call.objects.create(restaurant=restaurant, room_name=room, participant_identity=rooms.new_diner_identity())
        services.call_agent_joined(room_name=room, at=start)
        services.call_diner_joined(room_name=room, at=start + dt.timedelta(seconds=1))
        services.call_message_add(room_name=room, role=CallMessage.Role.DINER, text="I'm Ada, allergic to nuts.", at=start)
        for _ in range(2):
            services.call_facts_add(room_name=room, facts=[["Open now?", "Open now, until 23:00."]], at=start)
        services.call_message_add(room_name=room, role=CallMessage.Role.AGENT, text="The pesto has pine nuts.", at=start)
        services.call_tool_call_add(
            room_name=room, name="menu_search", arguments={"query": "nuts, for Ada"}, output="Pesto: pine nuts.",
            is_error=False, duration_ms=42, at=start,
        )  # fmt: skip
        services.unanswered_question_add(room_name=room, restaurant_id=restaurant.pk, question="Can Ada park outside?")
        services.call_end(room_name=room, reason=Call.EndReason.DINER_HUNG_UP, at=start + dt.timedelta(minutes=3))
        return Call.objects.get(room_name=room)

    return made(age, make)


def purge(*args: str) -> str:
    out = io.StringIO()
    call_command("purge_calls", *args, stdout=out)
    return out.getvalue()


def statistics(call: Call) -> dict:
    """What a call keeps for statistics: every field but purged_at, and its tool calls' names, times and outcomes."""
    row = Call.objects.values().get(pk=call.pk)
    del row["purged_at"]
    tools = list(ToolCall.objects.filter(call=call).values_list("name", "is_error", "duration_ms", "created_at"))
    return {**row, "tools": tools}


class TestPurge:
    def test_an_old_calls_words_go_and_its_times_and_counts_stay(self, restaurant):
        old = a_call(restaurant, 30 * DAY + dt.timedelta(minutes=1))
        kept = statistics(old)

        output = purge()

        assert not CallMessage.objects.filter(call=old).exists()
        assert not TurnFacts.objects.filter(call=old).exists()
        assert list(ToolCall.objects.filter(call=old).values_list("arguments", "output")) == [({}, "")]
        assert not UnansweredQuestion.objects.exists()
        assert statistics(old) == kept
        assert (kept["status"], kept["duration"], kept["message_count"], kept["tool_call_count"]) == ("ended", 179, 2, 1)
        assert Call.objects.get(pk=old.pk).purged_at == NOW
        assert output == (
            "Purged 1 call older than 30 days (created before 2026-05-11 09:30 UTC): 2 messages, 1 set of facts "
            "given, 1 unanswered question, the arguments and outputs of 1 tool call; and 0 webhook ids older than a "
            "day.\n"
        )

    def test_an_old_phone_calls_caller_number_goes_too(self, restaurant):
        old = a_call(restaurant, 30 * DAY + dt.timedelta(minutes=1))
        young = a_call(restaurant, 30 * DAY - dt.timedelta(minutes=1))
        Call.objects.update(channel=Call.Channel.PHONE, caller_number="+447700900123")

        purge()

        assert Call.objects.get(pk=old.pk).caller_label == "Phone, number withheld"
        assert Call.objects.get(pk=young.pk).caller_number == "+447700900123"

    def test_a_call_younger_than_the_retention_is_left_whole(self, restaurant):
        young = a_call(restaurant, 30 * DAY - dt.timedelta(minutes=1))

        purge()

        assert CallMessage.objects.filter(call=young).count() == 2
        assert TurnFacts.objects.filter(call=young).count() == 1
        assert list(ToolCall.objects.filter(call=young).values_list("output", flat=True)) == ["Pesto: pine nuts."]
        assert UnansweredQuestion.objects.filter(call=young).exists()
        assert Call.objects.get(pk=young.pk).purged_at is None

    def test_the_retention_is_the_setting(self, restaurant, settings):
        settings.CALL_RETENTION_DAYS = 7
        week_old = a_call(restaurant, 8 * DAY)

        purge()

        assert Call.objects.get(pk=week_old.pk).purged_at == NOW
        assert not CallMessage.objects.exists()

    def test_handled_webhook_ids_are_forgotten_after_a_day(self):
        made(DAY + dt.timedelta(minutes=1), lambda: WebhookEvent.objects.create(event_id="EV_old", event="room_finished"))
        made(DAY - dt.timedelta(minutes=1), lambda: WebhookEvent.objects.create(event_id="EV_new", event="room_finished"))

        assert purge().endswith("; and 1 webhook id older than a day.\n")
        assert list(WebhookEvent.objects.values_list("event_id", flat=True)) == ["EV_new"]

    def test_a_second_run_changes_nothing_and_says_so(self, restaurant):
        old = a_call(restaurant, 40 * DAY)
        purge()
        after_first = statistics(old), Call.objects.get(pk=old.pk).purged_at

        with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
            output = purge()

        assert (statistics(old), Call.objects.get(pk=old.pk).purged_at) == after_first
        assert output == "Nothing to purge: no call records older than 30 days (created before 2026-05-11 10:30 UTC).\n"

    def test_a_dry_run_prints_what_a_run_would_purge_and_changes_nothing(self, restaurant):
        a_call(restaurant, 31 * DAY)
        a_call(restaurant, 45 * DAY)
        a_call(restaurant, 2 * DAY)

        dry = purge("--dry-run")

        assert dry == (
            "Dry run, nothing changed. Would purge 2 calls older than 30 days (created before 2026-05-11 09:30 UTC): "
            "4 messages, 2 sets of facts given, 2 unanswered questions, the arguments and outputs of 2 tool calls; and "
            "0 webhook ids older than a day.\n"
        )
        assert (CallMessage.objects.count(), TurnFacts.objects.count()) == (6, 3)
        assert not Call.objects.filter(purged_at__isnull=False).exists()
        assert purge() == dry.replace("Dry run, nothing changed. Would purge", "Purged")


class TestSetting:
    @pytest.mark.parametrize("days", ["0", "-3", "36501"])
    def test_a_retention_that_is_not_1_to_36500_days_is_refused(self, days):
        result = manage("check", DEBUG="true", CALL_RETENTION_DAYS=days)

        assert result.returncode != 0
        assert "CALL_RETENTION_DAYS is a number of days from 1 to 36500." in result.stderr
