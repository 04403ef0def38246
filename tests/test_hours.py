"""Opening hours: open at a moment, closing time, next opening and the sentences diners hear.

Trattoria Test (tests.conftest.make_restaurant) is in Europe/Rome: lunch 12:00-14:30 and dinner 19:00-23:00
Tuesday to Sunday, dinner until 01:30 on Friday and Saturday, closed on Monday. 8 June 2026 is a Monday.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from restaurants import hours
from restaurants.models import Restaurant, ServicePeriod, SpecialDay

pytestmark = pytest.mark.django_db

ROME = ZoneInfo("Europe/Rome")
TOKYO = ZoneInfo("Asia/Tokyo")
UTC = dt.timezone.utc
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
t = dt.time



def day_hours(restaurant, day: dt.date) -> str:
    """One local date's hours as the agent and the page word them (hours.say_periods on the schedule)."""
    periods, note = restaurant.schedule(day, 1).periods_on(day)
    return hours.say_periods(periods, restaurant.language, note)


def rome(day: int, hour: int, minute: int = 0, *, month: int = 6, fold: int = 0) -> dt.datetime:
    """A Rome wall-clock moment in 2026 (June by default: 8 = Monday ... 14 = Sunday)."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=ROME, fold=fold)


def bare_restaurant(slug: str, periods=(), **fields) -> Restaurant:
    """A restaurant with only the given (weekday, opens, closes, label) periods and no menu."""
    defaults = dict(
        name=slug.title(), slug=slug, cuisine="Test", street_address="1 Test Street", city="Roma",
        country="IT", phone="+390612345679", time_zone="Europe/Rome",
    )  # fmt: skip
    r = Restaurant.objects.create(**{**defaults, **fields})
    for weekday, opens, closes, *label in periods:
        label = label[0] if label else ""
        ServicePeriod.objects.create(restaurant=r, weekday=weekday, opens=opens, closes=closes, label=label)
    return r


class TestSplitShifts:
    def test_it_is_open_during_lunch_until_the_end_of_lunch(self, restaurant):
        status = restaurant.opening_status(rome(9, 13))

        assert status.is_open
        assert status.closes_at == rome(9, 14, 30)
        assert restaurant.status_text(rome(9, 13)) == "Open now, until 14:30"

    def test_it_opens_on_the_minute_and_closes_on_the_minute(self, restaurant):
        assert not restaurant.is_open_at(rome(9, 11, 59))
        assert restaurant.is_open_at(rome(9, 12))
        assert restaurant.is_open_at(rome(9, 14, 29))
        assert not restaurant.is_open_at(rome(9, 14, 30))

    def test_it_is_closed_between_shifts_and_opens_again_for_dinner(self, restaurant):
        status = restaurant.opening_status(rome(9, 16))

        assert not status.is_open
        assert status.next_opens_at == rome(9, 19)
        assert restaurant.status_text(rome(9, 16)) == "Closed, opens today 19:00"

    def test_it_is_open_at_22_59_and_closed_at_23_00(self, restaurant):
        assert restaurant.is_open_at(rome(9, 22, 59))
        assert restaurant.opening_status(rome(9, 22, 59)).closes_at == rome(9, 23)

        status = restaurant.opening_status(rome(9, 23))
        assert not status.is_open
        assert status.next_opens_at == rome(10, 12)
        assert restaurant.status_text(rome(9, 23)) == "Closed, opens tomorrow 12:00"

    def test_back_to_back_periods_read_as_one_opening(self, db):
        r = bare_restaurant("brunch", [(TUE, t(9), t(12), "Breakfast"), (TUE, t(12), t(16), "Lunch")])

        assert r.opening_status(rome(9, 10)).closes_at == rome(9, 16)
        assert r.is_open_at(rome(9, 12))


class TestPastMidnight:
    def test_fridays_dinner_is_still_open_early_on_saturday(self, restaurant):
        status = restaurant.opening_status(rome(13, 1))  # Saturday 01:00

        assert status.is_open
        assert status.closes_at == rome(13, 1, 30)
        assert restaurant.status_text(rome(12, 23, 30)) == "Open now, until 01:30"

    def test_it_closes_at_1_30_and_opens_again_for_saturday_lunch(self, restaurant):
        status = restaurant.opening_status(rome(13, 1, 30))

        assert not status.is_open
        assert status.next_opens_at == rome(13, 12)
        assert restaurant.status_text(rome(13, 1, 30)) == "Closed, opens today 12:00"

    def test_a_day_without_late_service_does_not_run_past_midnight(self, restaurant):
        assert not restaurant.is_open_at(rome(12, 0, 30))  # Friday 00:30: Thursday closed at 23:00
        assert not restaurant.is_open_at(rome(15, 0, 30))  # Monday 00:30: Sunday closed at 23:00

    def test_sunday_night_runs_into_monday(self, db):
        r = bare_restaurant("sunday-club", [(SUN, t(21), t(2))])

        status = r.opening_status(rome(15, 1))  # Monday 01:00
        assert status.is_open
        assert status.closes_at == rome(15, 2)
        assert not r.is_open_at(rome(15, 2))

    def test_a_period_with_equal_times_lasts_24_hours(self, db):
        r = bare_restaurant("diner", [(WED, t(6), t(6))])

        assert r.is_open_at(rome(11, 5, 59))  # Thursday
        assert not r.is_open_at(rome(11, 6))
        assert r.opening_status(rome(10, 6)).closes_at == rome(11, 6)
        assert r.status_text(rome(10, 6)) == "Open now, until tomorrow 06:00"

    def test_open_every_hour_of_every_day_has_no_closing_time(self, db):
        r = bare_restaurant("all-nighter", [(day, t(0), t(0)) for day in range(7)])

        status = r.opening_status(rome(10, 15))
        assert status.is_open and status.closes_at is None
        assert r.status_text(rome(10, 15)) == "Open now, around the clock"


class TestClosedWeekday:
    def test_it_is_closed_all_monday_and_opens_on_tuesday(self, restaurant):
        for hour in (0, 12, 13, 20):
            assert not restaurant.is_open_at(rome(8, hour))
        status = restaurant.opening_status(rome(8, 13))

        assert status.next_opens_at == rome(9, 12)
        assert restaurant.status_text(rome(8, 13)) == "Closed, opens tomorrow 12:00"

    def test_after_sunday_dinner_it_names_the_day_it_opens(self, restaurant):
        assert restaurant.status_text(rome(14, 23, 30)) == "Closed, opens Tuesday 12:00"

    def test_with_no_hours_at_all_it_says_so(self, db):
        r = bare_restaurant("empty")

        status = r.opening_status(rome(9, 12))
        assert not status.is_open
        assert status.next_opens_at is None
        assert r.status_text(rome(9, 12)) == "Closed, no opening in the next 2 weeks"


class TestTimeZones:
    def test_the_same_instant_is_open_in_tokyo_and_closed_in_rome(self, restaurant):
        tokyo = bare_restaurant("tokyo-ramen", [(d, t(11), t(22)) for d in range(7)], time_zone="Asia/Tokyo")
        instant = dt.datetime(2026, 6, 9, 4, 0, tzinfo=UTC)  # 13:00 in Tokyo, 06:00 in Rome

        assert tokyo.is_open_at(instant)
        assert not restaurant.is_open_at(instant)
        status = tokyo.opening_status(instant)
        assert status.closes_at == dt.datetime(2026, 6, 9, 22, tzinfo=TOKYO)
        assert status.closes_at.tzinfo == TOKYO
        assert tokyo.status_text(instant) == "Open now, until 22:00"
        assert restaurant.opening_status(instant).next_opens_at == rome(9, 12)

    def test_a_moment_given_in_another_zone_is_converted(self, restaurant):
        new_york = dt.datetime(2026, 6, 9, 7, 0, tzinfo=ZoneInfo("America/New_York"))  # 13:00 in Rome

        status = restaurant.opening_status(new_york)
        assert status.is_open
        assert status.at == rome(9, 13)

    def test_local_times_are_written_the_restaurants_way(self, db):
        la = bare_restaurant(
            "la-tacos", [(TUE, t(11), t(22))], time_zone="America/Los_Angeles", language="en-US"
        )

        assert la.status_text(dt.datetime(2026, 6, 9, 19, tzinfo=UTC)) == "Open now, until 10:00\u202fPM"

    @pytest.mark.parametrize("method", ["is_open_at", "opening_status", "status_text"])
    def test_a_naive_datetime_is_refused(self, restaurant, method):
        with pytest.raises(ValueError):
            getattr(restaurant, method)(dt.datetime(2026, 6, 9, 13, 0))


class TestSpecialDays:
    def test_a_closure_overrides_the_weekly_hours_and_says_why(self, restaurant):
        SpecialDay.objects.create(restaurant=restaurant, date=dt.date(2026, 6, 9), note="Staff party")

        for hour in (13, 20):
            assert not restaurant.is_open_at(rome(9, hour))
        status = restaurant.opening_status(rome(9, 13))
        assert status.note == "Staff party"
        assert status.next_opens_at == rome(10, 12)
        assert day_hours(restaurant, dt.date(2026, 6, 9)) == "closed (Staff party)"

    def test_a_closure_after_a_closed_monday_pushes_the_next_opening_on(self, restaurant):
        SpecialDay.objects.create(restaurant=restaurant, date=dt.date(2026, 6, 9), note="Inventory")

        assert restaurant.status_text(rome(8, 13)) == "Closed, opens Wednesday 12:00"

    def test_changed_hours_replace_both_shifts(self, restaurant):
        SpecialDay.objects.create(
            restaurant=restaurant, date=dt.date(2026, 6, 9), is_closed=False, opens=t(17), closes=t(21),
            note="Republic Day",
        )  # fmt: skip

        assert not restaurant.is_open_at(rome(9, 13))
        assert restaurant.opening_status(rome(9, 13)).next_opens_at == rome(9, 17)
        status = restaurant.opening_status(rome(9, 18))
        assert status.is_open
        assert status.closes_at == rome(9, 21)
        assert status.note == "Republic Day"
        assert not restaurant.is_open_at(rome(9, 22))
        assert day_hours(restaurant, dt.date(2026, 6, 9)) == "17:00 to 21:00 (Republic Day)"

    def test_a_special_opening_on_the_closed_weekday(self, restaurant):
        SpecialDay.objects.create(
            restaurant=restaurant, date=dt.date(2026, 6, 8), is_closed=False, opens=t(18), closes=t(2),
            note="Festa della Musica",
        )  # fmt: skip

        assert restaurant.is_open_at(rome(8, 19))
        assert restaurant.opening_status(rome(9, 1)).closes_at == rome(9, 2)
        assert restaurant.status_text(rome(8, 12)) == "Closed, opens today 18:00"

    def test_ordinary_days_have_no_note(self, restaurant):
        SpecialDay.objects.create(restaurant=restaurant, date=dt.date(2026, 6, 10), note="Closed")

        assert restaurant.opening_status(rome(9, 13)).note == ""
        assert day_hours(restaurant, dt.date(2026, 6, 9)) == "12:00 to 14:30 (Lunch) and 19:00 to 23:00 (Dinner)"


class TestDaylightSavingTime:
    """Italy: clocks go 02:00 -> 03:00 on 29 March 2026 and 03:00 -> 02:00 on 25 October 2026 (Sundays)."""

    def test_on_the_spring_forward_night_a_1_to_4_period_lasts_two_hours(self, db):
        r = bare_restaurant("night-market", [(SUN, t(1), t(4))])
        opens = rome(29, 1, month=3)

        status = r.opening_status(opens)
        assert status.is_open
        assert (status.closes_at.hour, status.closes_at.minute) == (4, 0)
        assert status.closes_at.utcoffset() == dt.timedelta(hours=2)
        assert status.closes_at.astimezone(UTC) - opens.astimezone(UTC) == dt.timedelta(hours=2)
        assert r.is_open_at((opens.astimezone(UTC) + dt.timedelta(hours=1, minutes=59)))
        assert not r.is_open_at(opens.astimezone(UTC) + dt.timedelta(hours=2))
        assert r.status_text(opens) == "Open now, until 04:00"

    def test_a_period_starting_at_a_skipped_time_opens_at_the_jump(self, db):
        r = bare_restaurant("late-bar", [(SUN, t(2, 30), t(5))])

        status = r.opening_status(rome(29, 1, month=3))
        # The clock goes from 02:00 straight to 03:00: 03:00 is the first moment it reads 02:30 or later.
        assert status.next_opens_at == rome(29, 3, month=3)
        assert r.status_text(rome(29, 1, month=3)) == "Closed, opens today 03:00"

    def test_a_period_closing_at_a_skipped_time_closes_at_the_jump(self, db):
        r = bare_restaurant("late-bar", [(SAT, t(22), t(2, 30))])

        assert r.opening_status(rome(29, 1, 30, month=3)).closes_at == rome(29, 3, month=3)
        assert not r.is_open_at(rome(29, 3, 10, month=3))  # not "open until 03:30"

    def test_a_period_inside_the_skipped_hour_does_not_open_that_night(self, db):
        r = bare_restaurant("pop-up", [(SUN, t(2, 10), t(2, 50))])

        status = r.opening_status(rome(29, 1, month=3))
        assert status.next_opens_at == rome(5, 2, 10, month=4)  # a week later

    def test_on_the_autumn_night_both_2_30s_are_open(self, db):
        r = bare_restaurant("night-market", [(SUN, t(1), t(4))])
        first = rome(25, 2, 30, month=10, fold=0)
        second = rome(25, 2, 30, month=10, fold=1)
        assert second.astimezone(UTC) - first.astimezone(UTC) == dt.timedelta(hours=1)

        assert r.is_open_at(first)
        assert r.is_open_at(second)
        status = r.opening_status(second)
        assert (status.closes_at.hour, status.closes_at.minute) == (4, 0)
        assert status.closes_at.utcoffset() == dt.timedelta(hours=1)
        assert status.closes_at.astimezone(UTC) - rome(25, 1, month=10).astimezone(UTC) == dt.timedelta(hours=4)

    def test_an_overnight_period_across_the_change_closes_at_its_wall_clock_time(self, restaurant):
        status = restaurant.opening_status(rome(28, 23, month=3))  # Saturday dinner until 01:30

        assert status.closes_at == rome(29, 1, 30, month=3)
        assert restaurant.opening_status(rome(24, 23, month=10)).closes_at == rome(25, 1, 30, month=10)


def weekly_text(restaurant) -> str:
    return hours.say_weekly(restaurant.weekly_periods(), restaurant.language)


class TestWeeklyHoursText:
    def test_it_groups_days_with_equal_hours(self, restaurant):
        assert weekly_text(restaurant) == (
            "Monday: closed. "
            "Tuesday to Thursday: 12:00 to 14:30 (Lunch) and 19:00 to 23:00 (Dinner). "
            "Friday and Saturday: 12:00 to 14:30 (Lunch) and 19:00 to 01:30 (past midnight) (Dinner). "
            "Sunday: 12:00 to 14:30 (Lunch) and 19:00 to 23:00 (Dinner)."
        )

    def test_the_same_hours_every_day_is_one_group(self, db):
        r = bare_restaurant("every-day", [(d, t(11), t(22)) for d in range(7)])

        assert weekly_text(r) == "Monday to Sunday: 11:00 to 22:00."

    def test_no_hours_reads_closed_all_week(self, db):
        assert weekly_text(bare_restaurant("empty")) == "Monday to Sunday: closed."

    def test_periods_are_said_earliest_first_in_the_restaurants_clock(self, db):
        r = bare_restaurant("us-diner", [(SAT, t(18), t(22), "Dinner"), (SAT, t(7), t(11))], language="en-US")
        nnbsp = "\u202f"

        assert weekly_text(r) == (
            "Monday to Friday: closed. "
            f"Saturday: 7:00{nnbsp}AM to 11:00{nnbsp}AM and 6:00{nnbsp}PM to 10:00{nnbsp}PM (Dinner). "
            "Sunday: closed."
        )

    def test_a_period_with_equal_times_is_said_as_24_hours(self, db):
        r = bare_restaurant("diner", [(WED, t(6), t(6))])

        assert weekly_text(r) == (
            "Monday and Tuesday: closed. Wednesday: 06:00 to 06:00 (24 hours). Thursday to Sunday: closed."
        )


class TestFirstOverlap:
    def test_back_to_back_periods_do_not_overlap(self):
        assert hours.first_overlap([(TUE, t(12), t(14, 30)), (TUE, t(14, 30), t(18))]) is None

    def test_it_names_the_first_overlapping_pair(self):
        periods = [(MON, t(12), t(15)), (TUE, t(12), t(15)), (TUE, t(14), t(16))]

        assert hours.first_overlap(periods) == (1, 2)

    def test_a_late_night_overlaps_the_next_mornings_period(self):
        assert hours.first_overlap([(FRI, t(19), t(2)), (SAT, t(1), t(3))]) == (0, 1)
        assert hours.first_overlap([(FRI, t(19), t(2)), (SAT, t(2), t(3))]) is None

    def test_the_week_wraps_from_sunday_night_into_monday(self):
        assert hours.first_overlap([(MON, t(1), t(3)), (SUN, t(22), t(2))]) == (0, 1)
        assert hours.first_overlap([(MON, t(2), t(3)), (SUN, t(22), t(2))]) is None

    def test_a_24_hour_period_overlaps_everything_until_the_same_time_next_day(self):
        assert hours.first_overlap([(WED, t(6), t(6)), (THU, t(5), t(7))]) == (0, 1)
        assert hours.first_overlap([(WED, t(6), t(6)), (THU, t(6), t(7))]) is None


class TestLocales:
    def test_a_language_is_named_in_english_and_an_unknown_tag_is_kept(self):
        assert hours.language_name("de-DE") == "German (Germany)"
        assert hours.language_name("qq-ZZ") == "qq-ZZ"

    def test_times_fall_back_to_english_for_an_unknown_tag(self):
        assert hours.say_time(dt.time(18), "qq-ZZ") == hours.say_time(dt.time(18), "en") == "6:00\u202fPM"
        assert hours.say_time(dt.time(18), "de-DE") == "18:00"
