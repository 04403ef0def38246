"""Staff close the loop: a question the agent could not answer is answered once in admin ("Answer it") and the agent
says the answer from the next question on; the queue groups the wordings that ask the same thing."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from asgiref.sync import async_to_sync
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import DataError, IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from livekit.agents import AgentSession, ToolError

from agent_worker import lookups, turn_facts
from agent_worker.agent import RestaurantAgent
from agent_worker.db import run_orm
from agent_worker.lookups import load_profile
from dispatch import services
from dispatch.models import UnansweredQuestion
from restaurants import questions
from restaurants.models import MAX_ACTIVE_HOUSE_FACTS, HouseFact, Restaurant
from tests.fakes.llm import Rule, ScriptedLLM

pytestmark = pytest.mark.django_db

GROUPED = reverse("admin:dispatch_unansweredquestion_grouped")
PARKING = "Is there parking?"
# The model reads a parking fact back when the request carries one, else notes the question for the staff.
ASKS_ABOUT_PARKING = Rule(
    "park", "record_unanswered_question", {"question": PARKING}, fact=turn_facts.house_label(PARKING)
)
ASKS_ABOUT_DOGS = Rule(
    "dog", "record_unanswered_question", {"question": "Can I bring my dog?"},
    fact=turn_facts.house_label("Can I bring my dog?"),
)  # fmt: skip
# Fourteen times in five wordings, the newest first; then two other questions.
PARKING_WORDINGS = [
    ("Is there parking?", 6), ("Where can I park?", 3), ("Do you have a car park?", 2), ("Is there parking nearby?", 2),
    ("Any parking near the trattoria?", 1),
]  # fmt: skip
T0 = dt.datetime(2026, 11, 23, 18, 0, tzinfo=dt.UTC)


def ask(restaurant: Restaurant, question: str, hours_ago: float) -> UnansweredQuestion:
    return UnansweredQuestion.objects.create(
        restaurant=restaurant, question=question, created_at=timezone.now() - dt.timedelta(hours=hours_ago)
    )


@pytest.fixture
def queue(restaurant) -> dict[str, list[UnansweredQuestion]]:
    """Parking asked 14 times in 5 wordings over the last days (the newest 1 hour ago), a dog twice (the newest 30
    minutes ago), a cake once (3 days ago)."""
    asked = {"parking": [], "dog": [], "cake": []}
    n = 0
    for text, times in PARKING_WORDINGS:
        for _ in range(times):
            asked["parking"].append(ask(restaurant, text, 1 + 5 * n))
            n += 1
    asked["dog"] += [ask(restaurant, "Can I bring my dog?", 0.5), ask(restaurant, "Are dogs allowed?", 30)]
    asked["cake"].append(ask(restaurant, "Can I bring a birthday cake?", 72))
    return asked


def converse(restaurant: Restaurant, model: ScriptedLLM, *turns):
    """Run each turn through a started session: a question (str), or a function to run through the ORM bridge
    between two questions (a staff edit). Returns the RunResults, once the questions noted for the staff are
    written."""

    async def main():
        async with model, AgentSession(llm=model) as session:
            agent = RestaurantAgent(await run_orm(load_profile, restaurant.pk))
            await session.start(agent)
            results = []
            for turn in turns:
                if callable(turn):
                    await run_orm(turn)
                else:
                    results.append(await session.run(user_input=turn))
            await agent.record.flushed()
            return results

    return async_to_sync(main)()


def said(result) -> str:
    return result.expect.next_event().is_message(role="assistant").event().item.text_content


def facts_message(request: dict) -> str:
    """The facts message a model request carried."""
    [text] = [
        m.text_content for m in request["chat_ctx"].items
        if m.type == "message" and m.role == "system" and m.text_content.startswith(turn_facts.HEADER)
    ]  # fmt: skip
    return text


class TestTheAgent:
    def test_it_answers_from_a_house_fact_without_a_tool_or_a_note_for_the_staff(self, restaurant):
        HouseFact.objects.create(restaurant=restaurant, question=PARKING, answer="Yes, free parking behind us.")
        model = ScriptedLLM(ASKS_ABOUT_PARKING)

        [result] = converse(restaurant, model, "Is there parking nearby?")

        assert said(result) == "Yes, free parking behind us."
        result.expect.no_more_events()
        assert not UnansweredQuestion.objects.exists()
        assert "- House fact “Is there parking?”: Yes, free parking behind us." in facts_message(model.requests[0])
        assert "find_house_facts" not in model.requests[0]["tools"]  # all facts came along: nothing to search

    def test_a_question_answered_in_admin_between_two_turns_is_answered_in_the_second(self, restaurant):
        model = ScriptedLLM(ASKS_ABOUT_PARKING)

        def staff_answer_it():
            asked = UnansweredQuestion.objects.get()
            services.unanswered_question_answer(asked=asked, answer="There is a car park on Via Zanardelli.")

        def staff_edit_it():
            HouseFact.objects.filter(question=PARKING).update(
                answer="The car park on Via Zanardelli is free after 8 pm."
            )

        first, second, third = converse(
            restaurant, model, "Is there parking?", staff_answer_it, "Sorry, is there parking?", staff_edit_it,
            "And parking tonight?",
        )  # fmt: skip

        first.expect.next_event().is_function_call(name="record_unanswered_question")
        assert said(second) == "There is a car park on Via Zanardelli."
        second.expect.no_more_events()
        assert said(third) == "The car park on Via Zanardelli is free after 8 pm."
        [asked] = UnansweredQuestion.objects.all()
        assert asked.resolved_at is not None and asked.house_facts.get().question == PARKING

    def test_a_question_no_fact_covers_is_still_noted_for_the_staff(self, restaurant):
        HouseFact.objects.create(restaurant=restaurant, question=PARKING, answer="Yes, behind us.")
        model = ScriptedLLM(ASKS_ABOUT_PARKING, ASKS_ABOUT_DOGS)

        [result] = converse(restaurant, model, "Can I bring my dog?")

        result.expect.next_event().is_function_call(
            name="record_unanswered_question", arguments={"question": "Can I bring my dog?"}
        )
        assert [q.question for q in UnansweredQuestion.objects.open()] == ["Can I bring my dog?"]
        assert "Is there parking?" in facts_message(model.requests[0])  # the model had the facts, and none fitted

    def test_an_inactive_fact_is_not_given(self, restaurant):
        HouseFact.objects.create(restaurant=restaurant, question=PARKING, answer="Yes, behind us.", is_active=False)
        model = ScriptedLLM(ASKS_ABOUT_PARKING)

        [result] = converse(restaurant, model, "Is there parking?")

        result.expect.next_event().is_function_call(name="record_unanswered_question")
        assert "House fact" not in facts_message(model.requests[0])

    def test_the_instructions_say_to_answer_only_from_a_facts_words(self, restaurant):
        instructions = RestaurantAgent(load_profile(restaurant.pk)).instructions

        assert "A house fact answers its own question only, in its own words" in instructions
        assert "say you do not know the\n  rest, and note the question with record_unanswered_question" in instructions

    def test_above_the_inline_limit_the_model_searches_them(self, restaurant):
        for n in range(lookups.HOUSE_FACTS_INLINE):
            HouseFact.objects.create(restaurant=restaurant, question=f"Do you have a room number {n}?", answer="No.")
        HouseFact.objects.create(
            restaurant=restaurant, question="Are dogs allowed?", answer="Dogs are welcome on the terrace."
        )
        model = ScriptedLLM(Rule("dog", "find_house_facts", {"question": "Can I bring my dog?"}))

        [result] = converse(restaurant, model, "Can I bring my dog?")

        result.expect.next_event().is_function_call(name="find_house_facts")
        output = result.expect.next_event().is_function_call_output().event().item.output
        assert "“Are dogs allowed?”: Dogs are welcome on the terrace." in output
        assert "room number" not in output
        message = facts_message(model.requests[0])
        assert f"- {turn_facts.HOUSE_SEARCH}: {turn_facts.SEARCH_THEM}" in message
        assert "House fact “" not in message
        assert "find_house_facts" in model.requests[0]["tools"]

    def test_long_answers_are_searched_rather_than_sent_with_every_request(self, restaurant):
        # Nine facts of 500 characters are over HOUSE_FACTS_INLINE_CHARS: the requests stay small.
        for n in range(9):
            HouseFact.objects.create(restaurant=restaurant, question=f"Question {n}?", answer="x" * 500)

        facts = turn_facts.facts_now(restaurant.pk)

        assert facts[turn_facts.HOUSE_SEARCH] == turn_facts.SEARCH_THEM
        assert len(turn_facts.message(facts)) < 2000

    def test_facts_come_inline_up_to_a_number_and_a_length(self, restaurant):
        for n in range(lookups.HOUSE_FACTS_INLINE):
            HouseFact.objects.create(restaurant=restaurant, question=f"Question {n}?", answer="y" * 180)

        assert len(lookups.house_facts_inline(restaurant.pk)) == lookups.HOUSE_FACTS_INLINE
        HouseFact.objects.filter(question="Question 0?").update(answer="y" * 500)  # now over the characters allowed

        assert lookups.house_facts_inline(restaurant.pk) is None

    def test_line_breaks_in_an_answer_cannot_make_a_line_of_their_own(self, restaurant):
        HouseFact.objects.create(restaurant=restaurant, question=PARKING, answer="Yes.\n- Open now?: Always open.")

        message = turn_facts.message(turn_facts.facts_now(restaurant.pk))

        assert "- House fact “Is there parking?”: Yes. - Open now?: Always open." in message
        assert "\n- Open now?: Always" not in message


class TestTheSearch:
    def search(self, restaurant, question):
        agent = RestaurantAgent(load_profile(restaurant.pk))

        async def search() -> str:
            return await agent.find_house_facts(question=question)

        return async_to_sync(search)()

    def test_it_finds_a_fact_by_its_words_in_the_question_or_the_answer(self, restaurant):
        HouseFact.objects.create(restaurant=restaurant, question="Are dogs allowed?", answer="On the terrace, yes.")
        HouseFact.objects.create(restaurant=restaurant, question="Do you have high chairs?", answer="Two.")

        assert "“Do you have high chairs?”: Two." in self.search(restaurant, "a high chair for the baby")
        assert "“Are dogs allowed?”" in self.search(restaurant, "Can I bring my dog?")

    def test_nothing_found_says_to_note_the_question(self, restaurant):
        HouseFact.objects.create(restaurant=restaurant, question="Are dogs allowed?", answer="On the terrace, yes.")

        assert self.search(restaurant, "Do you sell gift cards?") == lookups.NO_HOUSE_FACT

    @pytest.mark.parametrize("question", [None, "", "   ", "x" * 10_000])
    def test_an_empty_or_overlong_question_gets_a_sentence(self, restaurant, question):
        with pytest.raises(ToolError, match="Which question should I look up?"):
            self.search(restaurant, question)


class TestGroupingWordings:
    def test_wordings_sharing_their_words_are_one_group(self):
        asked = ["Is there parking?", "Where can I park?", "Do you have a car park?", "Can I bring my dog?",
                 "Are dogs allowed?", "Can I bring a cake?", "Do you have vegan dessert?", "Do you have vegan pizza?",
                 "Gibt es Parkplätze?", "Wo finde ich einen Parkplatz?", "Can I?", "can i"]  # fmt: skip

        groups = questions.group([(n, text, T0) for n, text in enumerate(asked)])

        assert [[asked[i] for i in g.items] for g in groups] == [
            ["Is there parking?", "Where can I park?", "Do you have a car park?", "Gibt es Parkplätze?",
             "Wo finde ich einen Parkplatz?"],
            ["Can I bring my dog?", "Are dogs allowed?"], ["Can I bring a cake?"], ["Do you have vegan dessert?"],
            ["Do you have vegan pizza?"], ["Can I?", "can i"],
        ]  # fmt: skip

    def test_it_takes_a_bounded_number_of_questions(self):
        with pytest.raises(ValueError, match="at most 1000"):
            questions.group((n, "Is there parking?", T0) for n in range(questions.MAX_GROUPED + 1))

    def test_the_queue_shows_one_row_per_group_with_its_count_latest_date_and_wordings(self, admin_client, queue):
        response = admin_client.get(GROUPED)

        rows = response.context["rows"]
        assert [(r["group"].question, r["group"].count) for r in rows] == [
            ("Is there parking?", 14), ("Can I bring my dog?", 2), ("Can I bring a birthday cake?", 1)
        ]  # fmt: skip
        newest = timezone.localtime(queue["parking"][0].created_at, rows[0]["group"].restaurant.tz)
        assert rows[0]["latest"] == f"{newest:%Y-%m-%d %H:%M} (Europe/Rome)"
        assert rows[0]["wordings"] == PARKING_WORDINGS
        page = response.content.decode()
        assert "17 open questions in 3 groups" in page
        assert "<li>Where can I park? (3×)</li>" in page
        assert 'aria-label="Answer it: Is there parking?"' in page

    def test_the_newest_group_first_on_request(self, admin_client, queue):
        rows = admin_client.get(GROUPED, {"order": "latest"}).context["rows"]

        assert [r["group"].question for r in rows] == [
            "Can I bring my dog?",
            "Is there parking?",
            "Can I bring a birthday cake?",
        ]

    def test_resolved_questions_are_not_in_the_queue(self, admin_client, queue):
        UnansweredQuestion.objects.filter(pk__in=[q.pk for q in queue["dog"]]).update(resolved_at=timezone.now())

        assert [r["group"].question for r in admin_client.get(GROUPED).context["rows"]] == [
            "Is there parking?", "Can I bring a birthday cake?"
        ]  # fmt: skip

    def test_the_list_links_to_the_groups(self, admin_client, queue):
        page = admin_client.get(reverse("admin:dispatch_unansweredquestion_changelist")).content.decode()

        assert f'href="{GROUPED}"' in page


def answer_url(asked: UnansweredQuestion) -> str:
    return reverse("admin:dispatch_unansweredquestion_answer", args=[asked.pk])


class TestAnswerIt:
    def test_the_form_proposes_the_most_asked_wording_and_names_the_group(self, admin_client, queue):
        older = queue["parking"][-1]  # "Any parking near the trattoria?"

        response = admin_client.get(answer_url(older))

        assert response.context["form"]["question"].value() == "Is there parking?"
        page = response.content.decode()
        assert "these 13 other questions asking the same thing are resolved with it" in page
        assert "Any parking near the trattoria?" in page

    def test_one_answer_makes_the_fact_and_resolves_the_whole_group(self, admin_client, queue, restaurant):
        asked = queue["parking"][3]

        response = admin_client.post(answer_url(asked), {"answer": "Yes, behind the trattoria.", "question": ""})

        assert response.status_code == 302 and response["Location"] == GROUPED
        fact = HouseFact.objects.get()
        assert (fact.restaurant, fact.question, fact.answer, fact.source, fact.is_active) == (
            restaurant, asked.question, "Yes, behind the trattoria.", asked, True
        )  # fmt: skip
        parking = UnansweredQuestion.objects.filter(pk__in=[q.pk for q in queue["parking"]])
        assert parking.filter(resolved_at__isnull=True).count() == 0
        assert {q.staff_note for q in parking} == {"Answered with the house fact “Is there parking?”."}
        assert UnansweredQuestion.objects.open().count() == 3  # the dog and the cake wait
        shown = admin_client.get(GROUPED)
        assert [str(m) for m in shown.context["messages"]] == [
            "“Is there parking?” is a house fact now: the agent answers it from the next question on. 14 questions "
            "resolved."
        ]
        assert [r["group"].question for r in shown.context["rows"]] == [
            "Can I bring my dog?",
            "Can I bring a birthday cake?",
        ]
        assert LogEntry.objects.filter(action_flag=ADDITION).get().object_repr == "Is there parking?"
        assert LogEntry.objects.filter(action_flag=CHANGE).count() == 14

    def test_staff_may_write_the_question_as_diners_ask_it(self, admin_client, queue):
        admin_client.post(
            answer_url(queue["dog"][0]), {"answer": "On the terrace.", "question": "  Are dogs  allowed? "}
        )

        assert HouseFact.objects.get().question == "Are dogs allowed?"
        assert not UnansweredQuestion.objects.filter(question__contains="dog", resolved_at=None).exists()

    @pytest.mark.parametrize(
        "answer, error",
        [("x" * 10_000, "Ensure this value has at most 500 characters (it has 10000)."),
         ("", "This field is required."), ("   \n ", "This field is required.")],
    )  # fmt: skip
    def test_a_bad_answer_is_refused_and_changes_nothing(self, admin_client, queue, answer, error):
        response = admin_client.post(answer_url(queue["parking"][0]), {"answer": answer})

        assert response.status_code == 200
        assert response.context["form"].errors["answer"] == [error]
        assert error in response.content.decode()
        assert not HouseFact.objects.exists()
        assert UnansweredQuestion.objects.open().count() == 17

    def test_an_overlong_question_is_refused(self, admin_client, queue):
        response = admin_client.post(answer_url(queue["parking"][0]), {"answer": "Yes.", "question": "q" * 301})

        assert response.context["form"].errors["question"] == [
            "Ensure this value has at most 300 characters (it has 301)."
        ]
        assert not HouseFact.objects.exists()

    def test_a_question_that_already_has_a_fact_is_refused(self, admin_client, queue, restaurant):
        HouseFact.objects.create(restaurant=restaurant, question="is there PARKING?", answer="Yes.")

        response = admin_client.post(answer_url(queue["parking"][0]), {"answer": "No."})

        assert response.context["form"].non_field_errors() == [
            "This restaurant already has a house fact for this question: edit that one."
        ]
        assert HouseFact.objects.get().answer == "Yes."
        assert UnansweredQuestion.objects.open().count() == 17

    def test_a_get_changes_nothing_and_a_missing_question_is_404(self, admin_client, queue):
        assert admin_client.get(answer_url(queue["cake"][0])).status_code == 200
        assert not HouseFact.objects.exists()
        assert admin_client.get(reverse("admin:dispatch_unansweredquestion_answer", args=[987654])).status_code == 404

    def test_each_open_question_offers_it_in_the_list(self, admin_client, queue):
        page = admin_client.get(reverse("admin:dispatch_unansweredquestion_changelist")).content.decode()

        assert f'<a class="button" href="{answer_url(queue["cake"][0])}"' in page


class TestTheModel:
    def test_the_database_refuses_an_overlong_or_empty_answer(self, restaurant):
        for answer in ("x" * 501, ""):
            with pytest.raises((IntegrityError, DataError)), transaction.atomic():  # PostgreSQL: varchar(500)
                HouseFact.objects.create(restaurant=restaurant, question=PARKING, answer=answer)

    def test_a_restaurant_has_a_bounded_number_of_active_facts(self, restaurant):
        HouseFact.objects.bulk_create(
            HouseFact(restaurant=restaurant, question=f"Question {n}?", answer="Yes.")
            for n in range(MAX_ACTIVE_HOUSE_FACTS)
        )

        with pytest.raises(ValidationError, match="at most 500 active house facts: make one inactive first"):
            HouseFact(restaurant=restaurant, question="One more?", answer="Yes.").full_clean()
        HouseFact(restaurant=restaurant, question="One more?", answer="Yes.", is_active=False).full_clean()

    def test_the_admin_form_refuses_a_10000_character_answer(self, admin_client, restaurant):
        response = admin_client.post(
            reverse("admin:restaurants_housefact_add"),
            {"restaurant": restaurant.pk, "question": PARKING, "answer": "x" * 10_000, "is_active": "on"},
        )

        assert response.context["adminform"].form.errors["answer"] == [
            "Ensure this value has at most 500 characters (it has 10000)."
        ]
        assert not HouseFact.objects.exists()

    def test_a_fact_outlives_the_question_it_answered(self, restaurant, queue):
        fact, _ = services.unanswered_question_answer(asked=queue["cake"][0], answer="Yes, with no corkage.")

        UnansweredQuestion.objects.all().delete()  # the retention purge deletes old questions

        fact.refresh_from_db()
        assert fact.source is None and fact.answer == "Yes, with no corkage."


class TestOnTheDemo:
    def test_answering_parking_once_in_admin_makes_the_agent_answer_it_next(self, admin_client):
        call_command("load_demo", stdout=StringIO())
        kettle = Restaurant.objects.get(slug="the-copper-kettle")
        rows = admin_client.get(GROUPED, {"restaurant": kettle.pk}).context["rows"]
        parking = rows[0]["group"]
        assert (parking.question, parking.count, len(parking.wordings)) == ("Is there parking?", 14, 5)
        assert [(r["group"].question, r["group"].count) for r in rows[1:]] == [
            ("Do you show the football?", 3), ("Can I bring my own birthday cake?", 1)
        ]  # fmt: skip
        model = ScriptedLLM(ASKS_ABOUT_PARKING, ASKS_ABOUT_DOGS)
        [before] = converse(kettle, model, "Where can I park?")
        before.expect.next_event().is_function_call(name="record_unanswered_question")

        admin_client.post(
            reverse("admin:dispatch_unansweredquestion_answer", args=[parking.ids[0]]),
            {"answer": "There is no car park; the one on Baron Street is a five-minute walk."},
        )

        dog, after = converse(kettle, model, "Can I bring my dog?", "Is there parking?")
        assert said(dog).startswith("Dogs are welcome in the bar")  # a demo fact
        assert said(after) == "There is no car park; the one on Baron Street is a five-minute walk."
        assert not UnansweredQuestion.objects.open().filter(restaurant=kettle, question__icontains="park").exists()
