"""The staff's insights page (/staff/insights/) and its CSV export (/staff/insights/calls.csv): the numbers on a
small set of calls counted by hand, local days and hours across both changes of the clocks, the queries a page
costs, bad parameters, whose restaurant, and the export's rows.

Trattoria Alfa (Rome) has a staff member; Osteria Beta (Tokyo) belongs to someone else and has a call at every
moment Alfa has one, so a number that counts Beta's shows it. The clock is pinned at Tuesday 27 October 2026,
13:00 in Rome (12:00 UTC), two days after Rome's clocks went back from 03:00 to 02:00 (Sunday 25 October, 01:00
UTC): the last 7 days are Wednesday 21 to Tuesday 27 October, from 21 October 00:00 in Rome (20 October 22:00
UTC, summer time) to now.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from asgiref.sync import async_to_sync
from django.contrib.auth.models import User
from django.test import AsyncClient, Client

from dispatch.models import Call, UnansweredQuestion
from insights import stats
from insights.demo import seed_calls
from insights.export import safe_cell
from insights.localtime import offsets
from orders.models import Order
from reservations.models import Reservation, Table
from restaurants.models import Restaurant
from tests.conftest import make_restaurant
from tests.test_tenancy import staff_member

NOW = dt.datetime(2026, 10, 27, 12, 0, tzinfo=dt.UTC)  # Tuesday 13:00 in Rome (CET)
ROME = ZoneInfo("Europe/Rome")
SUNDAY, SATURDAY, TUESDAY, WEDNESDAY = 6, 5, 1, 2  # rows of the busy-hours grid


def utc(*wall: int) -> dt.datetime:
    return dt.datetime(*wall, tzinfo=dt.UTC)


def a_call(restaurant: Restaurant, at: dt.datetime, *, channel=Call.Channel.WEB, status=Call.Status.ENDED,
           seconds: int | None = 60, reason: str = "", questions=()) -> Call:  # fmt: skip
    """A call of `restaurant` started at `at`; an ended one lasted `seconds`, a failed one ended 10 s later."""
    over = status in (Call.Status.ENDED, Call.Status.FAILED)
    call = Call.objects.create(
        restaurant=restaurant, room_name=f"restaurant-{restaurant.pk}-{Call.objects.count()}",
        participant_identity="diner", channel=channel, status=status, end_reason=reason,
        diner_joined_at=at if status == Call.Status.ENDED else None,
        duration=seconds if status == Call.Status.ENDED else None,
        ended_at=at + dt.timedelta(seconds=seconds or 10) if over else None,
    )  # fmt: skip
    Call.objects.filter(pk=call.pk).update(created_at=at)  # auto_now_add ignores a given value
    for question in questions:
        UnansweredQuestion.objects.create(restaurant=restaurant, call=call, question=question, created_at=at)
    return call


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def alfa(db) -> Restaurant:
    return make_restaurant(name="Trattoria Alfa", slug="alfa", takes_orders=True, takes_reservations=True)


@pytest.fixture
def beta(db) -> Restaurant:
    return make_restaurant(name="Osteria Beta", slug="beta", time_zone="Asia/Tokyo")


@pytest.fixture
def staff(alfa) -> Client:
    client = Client()
    client.force_login(staff_member("alfa-staff", alfa))
    return client


@pytest.fixture
def week(clock, alfa, beta) -> None:
    """Alfa's calls, questions, orders and bookings around the week ending now (Rome's time in the comments)."""
    failed, phone, active = Call.Status.FAILED, Call.Channel.PHONE, Call.Status.ACTIVE
    for restaurant in (alfa, beta):
        mine = restaurant == alfa
        a_call(restaurant, utc(2026, 10, 20, 21, 59), seconds=45)  # Tue 20 23:59 CEST: the day before the week
        a_call(restaurant, utc(2026, 10, 20, 22, 0), seconds=30)  # Wed 21 00:00 CEST: its first minute
        a_call(restaurant, utc(2026, 10, 24, 21, 30), status=failed, reason=Call.EndReason.NO_AGENT)  # Sat 24 23:30
        a_call(restaurant, utc(2026, 10, 24, 22, 30), seconds=300,  # Sun 25 00:30 CEST
               questions=["Is there parking?", "  is there PARKING?  "] if mine else ["Beta question"])  # fmt: skip
        a_call(restaurant, utc(2026, 10, 25, 0, 30), seconds=60)  # Sun 25 02:30 CEST, the first 02:30
        a_call(restaurant, utc(2026, 10, 25, 1, 30), channel=phone, seconds=120,  # 02:30 CET, the second
               questions=["Is there parking?"] if mine else [])  # fmt: skip
        a_call(restaurant, utc(2026, 10, 26, 23, 30), status=failed, reason=Call.EndReason.NO_DINER)  # Tue 27 00:30
        a_call(restaurant, utc(2026, 10, 27, 11, 58), channel=phone, status=active)  # Tue 12:58, going on
    terrace = UnansweredQuestion.objects.create(
        restaurant=alfa, question="Do you have a terrace?", created_at=utc(2026, 10, 22, 18), resolved_at=NOW
    )  # fmt: skip
    assert terrace.call is None  # asked, say, by a diner whose call has since been deleted
    UnansweredQuestion.objects.create(restaurant=alfa, question="Too old", created_at=utc(2026, 10, 20, 21))

    def order(number: int, status: str, total: str, placed: dt.datetime | None) -> None:
        Order.objects.create(
            restaurant=alfa, status=status, number=number if placed else None, total=Decimal(total),
            subtotal=Decimal(total), currency="EUR", placed_at=placed,
            service_date=placed.astimezone(ROME).date() if placed else None,
            pickup_at=placed + dt.timedelta(minutes=30) if placed else None,
        )  # fmt: skip

    order(101, Order.Status.COLLECTED, "30.00", utc(2026, 10, 25, 0, 10))  # Sun 25 02:10 CEST
    order(102, Order.Status.CANCELLED, "12.50", utc(2026, 10, 24, 22, 30))  # Sun 25 00:30 CEST
    order(101, Order.Status.REJECTED, "8.00", utc(2026, 10, 26, 23, 30))  # Tue 27 00:30 CET
    order(102, Order.Status.ACCEPTED, "20.00", utc(2026, 10, 27, 9))  # Tue 27 10:00
    order(101, Order.Status.COLLECTED, "99.00", utc(2026, 10, 20, 21))  # Tue 20: before the week
    order(0, Order.Status.DRAFT, "15.00", None)  # never placed

    table = Table.objects.create(restaurant=alfa, name="T1", max_seats=6)

    def booking(made: dt.datetime, party: int, channel: str, status=Reservation.Status.BOOKED) -> None:
        starts = NOW + dt.timedelta(days=3, hours=len(Reservation.objects.all()) * 3)
        booked = Reservation.objects.create(
            restaurant=alfa, table=table, party_size=party, starts_at=starts, ends_at=starts + dt.timedelta(hours=2),
            guest_name="Guest", channel=channel, status=status,
        )  # fmt: skip
        Reservation.objects.filter(pk=booked.pk).update(created_at=made)

    booking(utc(2026, 10, 25, 10), 4, Reservation.Channel.WEB)  # Sun 25
    booking(utc(2026, 10, 26, 22, 30), 2, Reservation.Channel.PHONE, Reservation.Status.CANCELLED)  # Mon 26 23:30
    booking(utc(2026, 10, 26, 19), 3, Reservation.Channel.STAFF)  # a walk-in: not the agent's


def page(client: Client, **params):
    return client.get("/staff/insights/", params)


def totals(response) -> dict:
    return response.context["summary"]


@pytest.mark.django_db
class TestTheNumbersOfAWeek:
    """Counted by hand from the `week` fixture's comments."""

    def test_calls_per_day_by_channel_and_how_they_went(self, staff, week):
        numbers = page(staff, days=7).context["numbers"]

        by_day = {d.date.isoformat(): (d.web, d.phone, d.full, d.asked, d.failed, d.going) for d in numbers.days}
        assert by_day == {
            "2026-10-21": (1, 0, 1, 0, 0, 0),
            "2026-10-22": (0, 0, 0, 0, 0, 0),
            "2026-10-23": (0, 0, 0, 0, 0, 0),
            "2026-10-24": (1, 0, 0, 0, 1, 0),  # Saturday night's failed call, 23:30 in Rome
            "2026-10-25": (2, 1, 1, 2, 0, 0),  # three calls in the night of the change, two with a question
            "2026-10-26": (0, 0, 0, 0, 0, 0),
            "2026-10-27": (1, 1, 0, 0, 1, 1),  # 00:30 failed, and the call going on now
        }

    def test_the_summary_says_the_totals_and_shares(self, staff, week):
        summary = totals(page(staff, days=7))

        assert (summary["calls"], summary["web"], summary["phone"]) == (7, 5, 2)
        assert (summary["full"], summary["asked"], summary["failed"], summary["going"]) == (2, 2, 2, 1)
        assert (summary["full_share"], summary["failed_share"]) == ("29%", "29%")

    def test_busy_hours_read_rome_clocks_on_both_sides_of_the_change(self, staff, week):
        hours = page(staff, days=7).context["numbers"].hours

        called = {(row, hour): n for row, counts in enumerate(hours) for hour, n in enumerate(counts) if n}
        assert called == {
            (WEDNESDAY, 0): 1,
            (SATURDAY, 23): 1,
            (SUNDAY, 0): 1,
            (SUNDAY, 2): 2,  # 02:30 in summer time, then 02:30 again in winter time
            (TUESDAY, 0): 1,
            (TUESDAY, 12): 1,
        }

    def test_the_grid_shows_each_hours_calls_shaded_by_share_of_the_busiest(self, staff, week):
        response = page(staff, days=7)

        sunday = dict(response.context["grid"])["Sunday"]
        assert sunday[:3] == [(1, 3), (0, 0), (2, 5)]  # 1 of 2 rounds up to three fifths
        row = '<th scope="row">Sunday</th><td class="heat-3">1</td><td class="heat-0">0</td><td class="heat-5">2</td>'
        assert row in response.content.decode()

    def test_call_length_median_and_90th_percentile(self, staff, week):
        response = page(staff, days=7)
        numbers = response.context["numbers"]

        # Answered calls of the week: 30, 60, 120 and 300 seconds. Median: halfway between 60 and 120; 90th
        # percentile: at 0.9 x 3 = 2.7, i.e. 120 + 0.7 x (300 - 120).
        assert numbers.answered == 4
        assert numbers.median_length == pytest.approx(90)
        assert numbers.p90_length == pytest.approx(246)
        assert (totals(response)["median"], totals(response)["p90"]) == ("1 min 30 s", "4 min 06 s")
        assert numbers.length_bands == [
            ("under 30 s", 0), ("30 s to 1 min", 1), ("1 to 2 min", 1), ("2 to 5 min", 1), ("5 to 10 min", 1),
            ("10 min or more", 0),
        ]  # fmt: skip

    def test_failed_calls_by_why(self, staff, week):
        response = page(staff, days=7)

        assert response.context["reasons"] == [("No agent joined (no worker free)", 1), ("No diner joined", 1)]

    def test_top_unanswered_questions_count_spellings_together(self, staff, week):
        questions = page(staff, days=7).context["numbers"].questions

        assert [(q.text, q.asked, q.open) for q in questions] == [
            ("Is there parking?", 3, 3),
            ("Do you have a terrace?", 1, 0),
        ]
        assert questions[0].last_asked == utc(2026, 10, 25, 1, 30)

    def test_orders_and_bookings_taken_by_the_agent_and_their_value(self, staff, week):
        response = page(staff, days=7)
        by_day = {d.date.isoformat(): (d.orders, d.orders_kept, d.order_value, d.bookings, d.covers)
                  for d in response.context["numbers"].days if d.orders or d.bookings}  # fmt: skip

        assert by_day == {
            "2026-10-25": (2, 1, Decimal("30.00"), 1, 4),  # collected and cancelled; a table for 4
            "2026-10-26": (0, 0, Decimal("0.00"), 1, 0),  # booked at 23:30, cancelled since
            "2026-10-27": (2, 1, Decimal("20.00"), 0, 0),  # rejected and accepted
        }
        summary = totals(response)
        assert (summary["orders"], summary["orders_kept"], summary["bookings"], summary["covers"]) == (4, 2, 2, 4)
        assert response.context["order_value"] == "€50.00"

    def test_the_charts_data_matches_the_tables(self, staff, week):
        response = page(staff, days=7)
        charts = response.context["charts"]

        assert charts["calls"]["labels"][4] == "Sun 25 Oct"
        assert charts["calls"]["series"] == [
            {"label": "Web", "data": [1, 0, 0, 1, 2, 0, 1]},
            {"label": "Phone", "data": [0, 0, 0, 0, 1, 0, 1]},
        ]
        assert [s["label"] for s in charts["outcomes"]["series"]] == [
            "Answered in full", "With an unanswered question", "Failed", "Going on"
        ]  # fmt: skip
        assert response.context["tables"]["calls"]["totals"] == [5, 2]
        assert b'<script id="insights-data" type="application/json">' in response.content

    def test_a_longer_period_counts_the_call_before_the_week(self, staff, week):
        summary = totals(page(staff, days=30))

        assert summary["calls"] == 8
        assert summary["orders"] == 5

    def test_calls_older_than_the_retention_count_as_answered_without_saying_more(self, staff, alfa, clock, settings):
        settings.CALL_RETENTION_DAYS = 30
        old = a_call(alfa, utc(2026, 8, 20, 10))
        Call.objects.filter(pk=old.pk).update(purged_at=NOW)

        response = page(staff, days=90)

        assert (totals(response)["full"], totals(response)["purged"]) == (0, 1)
        assert "Unanswered questions are kept 30 days" in response.content.decode()
        assert "Answered, record purged" in [s["label"] for s in response.context["charts"]["outcomes"]["series"]]


@pytest.mark.django_db
class TestLocalDaysAndHours:
    """A call's day and hour are its restaurant's wall clock, whichever way the clocks moved (written by hand)."""

    @pytest.mark.parametrize(
        "zone, started, weekday, date, hour",
        [
            ("Europe/Rome", utc(2026, 3, 29, 0, 30), "Sunday", "2026-03-29", 1),  # before the jump from 02:00 to 03:00
            ("Europe/Rome", utc(2026, 3, 29, 1, 30), "Sunday", "2026-03-29", 3),  # after it: that night has no 02
            ("Europe/Rome", utc(2026, 3, 28, 23, 0), "Sunday", "2026-03-29", 0),
            ("America/Los_Angeles", utc(2026, 11, 1, 8, 30), "Sunday", "2026-11-01", 1),  # 01:30 PDT
            ("America/Los_Angeles", utc(2026, 11, 1, 9, 30), "Sunday", "2026-11-01", 1),  # 01:30 PST, an hour on
            ("America/Los_Angeles", utc(2026, 11, 1, 10, 30), "Sunday", "2026-11-01", 2),
            ("America/Los_Angeles", utc(2026, 3, 31, 4, 0), "Monday", "2026-03-30", 21),  # the day before, in UTC
            ("Asia/Kolkata", utc(2026, 3, 29, 18, 45), "Monday", "2026-03-30", 0),  # +05:30, a half-hour zone
            ("Australia/Lord_Howe", utc(2026, 4, 4, 14, 45), "Sunday", "2026-04-05", 1),  # 01:45 at +11:00
            ("Australia/Lord_Howe", utc(2026, 4, 4, 15, 5), "Sunday", "2026-04-05", 1),  # 01:35 at +10:30, after
            ("Pacific/Kiritimati", utc(2026, 3, 30, 10, 0), "Tuesday", "2026-03-31", 0),  # +14:00
        ],
    )  # fmt: skip
    def test_a_call_counts_on_its_local_day_and_hour(self, db, zone, started, weekday, date, hour):
        restaurant = make_restaurant(time_zone=zone)
        a_call(restaurant, started)
        a_call(restaurant, started - dt.timedelta(days=20, hours=1))  # weeks before, on the other side of a change

        numbers = stats.insights(stats.Period.ending(restaurant, 30, now=started + dt.timedelta(days=2)))

        assert [d.date.isoformat() for d in numbers.days if d.calls] == [
            (started - dt.timedelta(days=20, hours=1)).astimezone(ZoneInfo(zone)).date().isoformat(), date
        ]  # fmt: skip
        assert numbers.hours[stats.WEEKDAYS.index(weekday)][hour] == 1
        assert sum(map(sum, numbers.hours)) == 2

    def test_the_period_starts_at_local_midnight(self, db):
        restaurant = make_restaurant(time_zone="America/Los_Angeles")

        period = stats.Period.ending(restaurant, 7, now=utc(2026, 11, 2, 6, 0))  # Sunday 1 Nov, 22:00 PST

        assert (period.first, period.last) == (dt.date(2026, 10, 26), dt.date(2026, 11, 1))
        assert period.start == utc(2026, 10, 26, 7, 0)  # midnight PDT, before the clocks went back

    def test_offsets_name_each_change_to_the_second(self):
        found = offsets(ROME, utc(2026, 10, 1), utc(2026, 11, 1))

        assert found == [(None, dt.timedelta(hours=2)), (utc(2026, 10, 25, 1, 0), dt.timedelta(hours=1))]

    def test_the_same_percentile_as_postgresql(self):
        assert stats.percentile_cont([(60, 1), (120, 2), (300, 1)], 0.5) == 120
        assert stats.percentile_cont([(60, 1), (120, 2), (300, 1)], 0.9) == pytest.approx(246)
        assert stats.percentile_cont([(42, 1)], 0.9) == 42
        assert stats.percentile_cont([], 0.5) is None


@pytest.mark.django_db
class TestQueries:
    @pytest.mark.parametrize("calls", [10, 200])
    def test_the_page_costs_the_same_queries_whatever_the_number_of_calls(
        self, staff, alfa, calls, django_assert_num_queries
    ):
        Table.objects.create(restaurant=alfa, name="T1", max_seats=8)
        seed_calls(alfa, calls=calls, days=30, now=dt.datetime.now(dt.UTC))
        assert alfa.calls.count() > calls * 0.9

        # Session, user, the user's restaurants, then the six of insights.stats.
        with django_assert_num_queries(9):
            response = page(staff, days=90)

        assert response.status_code == 200
        assert totals(response)["calls"] == alfa.calls.count()


@pytest.mark.django_db
class TestParametersAndAccess:
    @pytest.mark.parametrize(
        "params, status, sentence",
        [
            ({"days": "8"}, 400, "Choose a period of 7, 30 or 90 days."),
            ({"days": "x" * 5000}, 400, "Choose a period of 7, 30 or 90 days."),
            ({"restaurant": "abc"}, 400, "That is not a restaurant."),
            ({"restaurant": "0"}, 400, "That is not a restaurant."),
            ({"restaurant": "9" * 30}, 400, "That is not a restaurant."),
            ({"restaurant": "987654"}, 404, "There is no such restaurant."),
        ],
    )
    def test_bad_parameters_are_answered_with_a_sentence(self, staff, params, status, sentence):
        response = page(staff, **params)

        assert response.status_code == status
        assert sentence in response.content.decode()
        assert staff.get("/staff/insights/calls.csv", params).content.decode() == sentence

    def test_the_defaults_are_the_first_restaurant_and_30_days(self, staff, alfa, clock):
        response = page(staff)

        assert (response.context["restaurant"], response.context["days"]) == (alfa, 30)
        assert "from Monday 28 September 2026 to today, Tuesday 27 October 2026" in response.content.decode()

    @pytest.mark.parametrize("path", ["/staff/insights/", "/staff/insights/calls.csv"])
    def test_anonymous_users_go_to_the_login_page(self, client, path):
        response = client.get(path)

        assert response.status_code == 302
        assert response["Location"] == f"/admin/login/?next={path}"

    @pytest.mark.parametrize("path", ["/staff/insights/", "/staff/insights/calls.csv"])
    def test_users_without_staff_status_are_refused(self, client, alfa, path):
        user = User.objects.create_user("diner")
        alfa.staff.add(user)
        client.force_login(user)

        assert client.get(path).status_code == 403

    def test_another_restaurants_insights_and_calls_answer_as_missing_ones(self, staff, week, beta):
        for path in ("/staff/insights/", "/staff/insights/calls.csv"):
            theirs, missing = staff.get(path, {"restaurant": beta.pk}), staff.get(path, {"restaurant": 987654})

            assert theirs.status_code == missing.status_code == 404
            assert theirs.content == missing.content
        content = page(staff, days=90).content.decode()
        assert "Beta" not in content

    def test_staff_of_several_restaurants_pick_one(self, client, alfa, beta, week):
        client.force_login(staff_member("both", alfa, beta))

        response = page(client, restaurant=beta.pk, days=7)

        assert response.context["restaurant"] == beta
        assert totals(response)["calls"] == 8  # all of Beta's: in Tokyo even 20 October 21:59 UTC is the 21st
        assert 'value="{}" selected>Osteria Beta'.format(beta.pk) in response.content.decode()

    def test_staff_of_no_restaurant_are_told_so(self, client, alfa):
        client.force_login(staff_member("nobody"))

        assert "You have no restaurant yet." in page(client).content.decode()
        assert client.get("/staff/insights/calls.csv").status_code == 404

    def test_the_admin_and_the_calls_page_link_to_the_insights(self, staff):
        assert b'<a href="/staff/insights/">Insights</a>' in staff.get("/admin/").content
        assert b'<a href="/staff/insights/">Insights</a>' in staff.get("/staff/calls/").content


def read_csv(response) -> list[dict]:
    async def body() -> bytes:
        return b"".join([part async for part in response])

    return list(csv.DictReader(io.StringIO(async_to_sync(body)().decode())))


@pytest.mark.django_db
class TestExport:
    def test_it_streams_the_periods_calls_oldest_first_in_both_times(self, alfa, beta, week):
        client = AsyncClient()
        client.force_login(staff_member("exporter", alfa))

        response = async_to_sync(client.get)("/staff/insights/calls.csv", {"days": 7})
        rows = read_csv(response)

        assert response.streaming
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"] == 'attachment; filename="calls-alfa-2026-10-21-to-2026-10-27.csv"'
        assert [(r["started_local"], r["started_utc"], r["local_date"]) for r in rows] == [
            ("2026-10-21T00:00:00+02:00", "2026-10-20T22:00:00Z", "2026-10-21"),
            ("2026-10-24T23:30:00+02:00", "2026-10-24T21:30:00Z", "2026-10-24"),
            ("2026-10-25T00:30:00+02:00", "2026-10-24T22:30:00Z", "2026-10-25"),
            ("2026-10-25T02:30:00+02:00", "2026-10-25T00:30:00Z", "2026-10-25"),
            ("2026-10-25T02:30:00+01:00", "2026-10-25T01:30:00Z", "2026-10-25"),
            ("2026-10-27T00:30:00+01:00", "2026-10-26T23:30:00Z", "2026-10-27"),
            ("2026-10-27T12:58:00+01:00", "2026-10-27T11:58:00Z", "2026-10-27"),
        ]
        parking = rows[2]
        assert {k: parking[k] for k in ("channel", "status", "ended_because", "length_seconds",
                                        "unanswered_questions", "first_unanswered_question")} == {
            "channel": "Web", "status": "Ended", "ended_because": "", "length_seconds": "300",
            "unanswered_questions": "2", "first_unanswered_question": "Is there parking?",
        }  # fmt: skip
        assert rows[1]["ended_because"] == "No agent joined (no worker free)"
        assert rows[1]["length_seconds"] == ""

    def test_it_reads_the_calls_in_chunks(self, alfa, clock, monkeypatch):
        monkeypatch.setattr("insights.export.MAX_CHUNK", 3)
        for minute in range(8):
            a_call(alfa, utc(2026, 10, 27, 9, 0) if minute < 4 else utc(2026, 10, 27, 9, minute))  # ties on the time
        client = AsyncClient()
        client.force_login(staff_member("x", alfa))

        rows = read_csv(async_to_sync(client.get)("/staff/insights/calls.csv", {"days": 7}))

        assert [int(r["call_id"]) for r in rows] == sorted(alfa.calls.values_list("pk", flat=True))

    def test_a_question_written_as_a_formula_stays_text(self, alfa, clock):
        a_call(alfa, utc(2026, 10, 27, 9), questions=['=HYPERLINK("http://evil.example","Click")'])
        client = AsyncClient()
        client.force_login(staff_member("x", alfa))

        rows = read_csv(async_to_sync(client.get)("/staff/insights/calls.csv", {"days": 7}))

        assert rows[0]["first_unanswered_question"] == '\'=HYPERLINK("http://evil.example","Click")'

    @pytest.mark.parametrize("cell", ["=1+1", "+44 20", "-2", "@SUM(A1)", "\tx", "\rx"])
    def test_every_formula_start_is_defused(self, cell):
        assert safe_cell(cell) == "'" + cell
        assert safe_cell("Is there parking?") == "Is there parking?"
        assert safe_cell(42) == 42

    def test_too_many_calls_are_refused_with_a_sentence(self, staff, alfa, monkeypatch):
        monkeypatch.setattr("insights.views.MAX_EXPORT", 1)
        a_call(alfa, dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
        a_call(alfa, dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))

        response = staff.get("/staff/insights/calls.csv")

        assert response.status_code == 400
        assert response.content.decode() == "The period holds more than 1 calls: export a shorter one."
