"""Staff read what happened on their calls in admin, and work through the questions the agent could not answer."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.urls import reverse
from django.utils import timezone

from dispatch import services
from dispatch.models import Call, CallMessage, UnansweredQuestion

pytestmark = pytest.mark.django_db

QUEUE = reverse("admin:dispatch_unansweredquestion_changelist")
T0 = dt.datetime(2026, 11, 23, 18, 0, tzinfo=dt.UTC)
FACTS = [["Open now?", "Closed now (Monday 2026-11-23, 19:00)."], ["Address and phone", "Via dei Coronari 12."]]


@pytest.fixture
def call(restaurant) -> Call:
    """A call in which the diner asked for the address, then about parking, which nothing answered; the agent's
    two model requests were given the same facts."""
    call = Call.objects.create(restaurant=restaurant, room_name="restaurant-1-call", participant_identity="diner-1")
    room = call.room_name
    services.call_agent_joined(room_name=room, at=T0)
    services.call_diner_joined(room_name=room, at=T0 + dt.timedelta(seconds=1))
    say = lambda role, text, s: services.call_message_add(room_name=room, role=role, text=text, at=T0 + dt.timedelta(seconds=s))  # noqa: E731
    say(CallMessage.Role.AGENT, "Welcome to Trattoria Test.", 2)
    say(CallMessage.Role.DINER, "Where are you?", 5)
    for second in (5.5, 6.5):  # the request that called get_address, and the one that answered
        services.call_facts_add(room_name=room, facts=FACTS, at=T0 + dt.timedelta(seconds=second))
    services.call_tool_call_add(room_name=room, name="get_address", arguments={}, output="Via dei Coronari 12",
                                is_error=False, duration_ms=4, at=T0 + dt.timedelta(seconds=6))  # fmt: skip
    say(CallMessage.Role.AGENT, "We are at Via dei Coronari 12.", 7)
    say(CallMessage.Role.DINER, "Is there parking?", 9)
    services.unanswered_question_add(room_name=room, restaurant_id=restaurant.pk, question="Is there parking?")
    services.call_end(room_name=room, reason=Call.EndReason.DINER_HUNG_UP, at=T0 + dt.timedelta(seconds=30))
    return Call.objects.get(pk=call.pk)


class TestCalls:
    def test_the_list_shows_how_each_call_went(self, admin_client, call):
        response = admin_client.get(reverse("admin:dispatch_call_changelist"))

        [row] = response.context["cl"].result_list
        assert (row.status, row.end_reason, row.duration, row.message_count, row.open_questions) == (
            "ended", "diner_hung_up", 29, 4, 1,
        )  # fmt: skip

    @pytest.mark.parametrize(
        "params,shown",
        [({"status__exact": "ended"}, 1), ({"status__exact": "failed"}, 0), ({"channel__exact": "web"}, 1),
         ({"created_at__gte": "2099-01-01 00:00:00+00:00"}, 0)],
    )  # fmt: skip
    def test_calls_filter_by_status_channel_and_date(self, admin_client, call, params, shown):
        response = admin_client.get(reverse("admin:dispatch_call_changelist"), params)

        assert len(response.context["cl"].result_list) == shown

    def test_a_calls_page_shows_the_transcript_and_tool_calls_in_order_read_only(self, admin_client, call):
        page = admin_client.get(reverse("admin:dispatch_call_change", args=[call.pk])).content.decode()

        order = [
            "Welcome to Trattoria Test.", "Where are you?",
            "<strong>Facts given</strong>: Open now? Closed now (Monday 2026-11-23, 19:00). Address and phone: "
            "Via dei Coronari 12.",
            'get_address({}) [4 ms] → Via dei Coronari 12', "We are at Via dei Coronari 12.", "Is there parking?",
        ]  # fmt: skip
        positions = [page.index(text) for text in order]
        assert positions == sorted(positions)
        assert "<strong>Diner</strong>: Where are you?" in page
        assert page.count("<strong>Facts given</strong>") == 1  # the same facts twice are recorded once
        assert "Is there parking? (open)" in page
        assert 'name="_save"' not in page  # nothing to save: read-only


class TestUnansweredQuestions:
    def test_the_queue_is_newest_first(self, admin_client, restaurant, call):
        UnansweredQuestion.objects.create(restaurant=restaurant, question="Do you take dogs?")

        response = admin_client.get(QUEUE)

        assert [q.question for q in response.context["cl"].result_list] == ["Do you take dogs?", "Is there parking?"]

    def test_one_click_resolves_a_question_and_logs_it(self, admin_client, call):
        asked = UnansweredQuestion.objects.get()
        url = reverse("admin:dispatch_unansweredquestion_resolve", args=[asked.pk])
        assert f'formaction="{url}" formmethod="post" name="resolved" value="1"' in admin_client.get(QUEUE).content.decode()

        response = admin_client.post(url, {"resolved": "1"}, HTTP_REFERER=f"http://testserver{QUEUE}?state=open")

        assert response["Location"] == f"http://testserver{QUEUE}?state=open"
        asked.refresh_from_db()
        assert asked.resolved_at is not None
        assert LogEntry.objects.get().action_flag == CHANGE
        assert [q.question for q in admin_client.get(QUEUE, {"state": "open"}).context["cl"].result_list] == []

    def test_the_bulk_action_resolves_several(self, admin_client, restaurant, call):
        UnansweredQuestion.objects.create(restaurant=restaurant, question="Do you take dogs?")
        ids = list(UnansweredQuestion.objects.values_list("pk", flat=True))

        admin_client.post(QUEUE, {"action": "mark_resolved", "_selected_action": ids})

        assert not UnansweredQuestion.objects.open().exists()
        assert LogEntry.objects.count() == 2

    def test_staff_write_a_note(self, admin_client, call):
        asked = UnansweredQuestion.objects.get()
        url = reverse("admin:dispatch_unansweredquestion_change", args=[asked.pk])
        assert admin_client.get(url).status_code == 200

        admin_client.post(url, {"staff_note": "Added the car park on Via Zanardelli to the house rules."})

        asked.refresh_from_db()
        assert asked.staff_note == "Added the car park on Via Zanardelli to the house rules."
        assert asked.question == "Is there parking?"  # the diner's words stay as they were

    def test_the_restaurants_page_says_how_many_are_open(self, admin_client, restaurant, call):
        page = admin_client.get(reverse("admin:restaurants_restaurant_change", args=[restaurant.pk])).content.decode()

        assert f'<a href="{QUEUE}?restaurant__id__exact={restaurant.pk}&amp;state=open">1 open</a>' in page
        UnansweredQuestion.objects.update(resolved_at=timezone.now())
        page = admin_client.get(reverse("admin:restaurants_restaurant_change", args=[restaurant.pk])).content.decode()
        assert ">0 open</a>" in page
