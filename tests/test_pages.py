"""The diner's pages: the methods a browser, a crawler or a load balancer's probe uses, and what a diner reads on
them (hours, special days, address and phone, in the restaurant's time zone and locale)."""

import datetime as dt
import html
import re

import pytest
from django.db import connection
from django.utils import timezone

from restaurants.models import SpecialDay
from tests.conftest import KIRITIMATI, MONDAY_NIGHT_UTC, make_restaurant, pinned

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/r/trattoria-test/"])
def test_pages_answer_get_and_head_and_refuse_post(client, restaurant, path):
    assert client.get(path).status_code == 200
    head = client.head(path)
    assert head.status_code == 200 and head.content == b""
    assert client.post(path).status_code == 405


def test_an_inactive_restaurants_page_is_not_found(client, restaurant):
    restaurant.is_active = False
    restaurant.save()

    assert client.get("/r/trattoria-test/").status_code == 404


# --- What a diner reads ---------------------------------------------------------------------------------------

NNBSP = "\u202f"  # Babel's space between a time and AM/PM


def text_of(response) -> str:
    """The page as a diner reads it: tags dropped, ASCII whitespace collapsed (a narrow no-break space kept)."""
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())).strip()


def hours_table(response) -> dict[str, str]:
    """The restaurant page's weekly hours: weekday -> what its row says."""
    return dict(re.findall(r'<th scope="row">(\w+)</th><td>([^<]*)</td>', response.content.decode()))


def special_days(response) -> list[str]:
    return [html.unescape(li) for li in re.findall(r"<li>([^<]*)</li>", response.content.decode())]


@pinned(MONDAY_NIGHT_UTC)
def test_the_restaurant_page_shows_hours_special_days_address_and_phone_in_local_terms(clock, client, restaurant):
    tomorrow, after = clock.today + dt.timedelta(days=1), clock.today + dt.timedelta(days=2)
    SpecialDay.objects.create(restaurant=restaurant, date=tomorrow, note="Staff holiday")
    SpecialDay.objects.create(restaurant=restaurant, date=after, is_closed=False, opens=dt.time(20),
                              closes=dt.time(2), note="Festa")  # fmt: skip

    response = client.get("/r/trattoria-test/")

    assert hours_table(response) == {
        "Monday": "closed",
        **{day: "12:00 to 14:30 (Lunch) and 19:00 to 23:00 (Dinner)" for day in ("Tuesday", "Wednesday", "Thursday")},
        **{day: "12:00 to 14:30 (Lunch) and 19:00 to 01:30 (past midnight) (Dinner)" for day in ("Friday", "Saturday")},
        "Sunday": "12:00 to 14:30 (Lunch) and 19:00 to 23:00 (Dinner)",
    }
    # Rome's today is Tuesday 9 June while the machine's (UTC) is still Monday.
    assert special_days(response) == [
        "Wednesday 10 June: closed (Staff holiday)",
        "Thursday 11 June: 20:00 to 02:00 (past midnight) (Festa)",
    ]
    page = text_of(response)
    assert "Closed, opens today 12:00" in page
    assert "Via dei Coronari 12 00186 Roma, IT 06 1234 5678" in page
    assert 'href="tel:+390612345678"' in response.content.decode()


@pinned(MONDAY_NIGHT_UTC)
def test_times_follow_the_restaurants_locale(clock, client, restaurant):
    restaurant.language = "en-US"
    restaurant.save()
    SpecialDay.objects.create(restaurant=restaurant, date=clock.today + dt.timedelta(days=1), is_closed=False,
                              opens=dt.time(18), closes=dt.time(0, 30), note="Late night")  # fmt: skip

    response = client.get("/r/trattoria-test/")

    assert hours_table(response)["Friday"] == (
        f"12:00{NNBSP}PM to 2:30{NNBSP}PM (Lunch) and 7:00{NNBSP}PM to 1:30{NNBSP}AM (past midnight) (Dinner)"
    )
    assert special_days(response) == [f"Wednesday 10 June: 6:00{NNBSP}PM to 12:30{NNBSP}AM (past midnight) (Late night)"]
    assert f"Closed, opens today 12:00{NNBSP}PM" in text_of(response)


def test_a_phone_number_abroad_is_written_internationally(client, restaurant):
    restaurant.phone = "+442079460123"
    restaurant.save()

    assert "+44 20 7946 0123" in text_of(client.get("/r/trattoria-test/"))


@pinned(MONDAY_NIGHT_UTC, KIRITIMATI)
def test_the_picker_shows_each_restaurants_badge_and_one_line_address(clock, client, restaurant):
    page = text_of(client.get("/"))

    assert f"Trattoria Test Roman trattoria {clock.badge} Via dei Coronari 12, 00186 Roma, IT" in page


def test_the_pickers_queries_do_not_grow_with_the_restaurants(client, restaurant):
    def queries() -> int:
        sent = []
        # Counted where they are sent: CaptureQueriesContext loses them to request_started's reset_queries.
        with connection.execute_wrapper(lambda execute, sql, *args: sent.append(sql) or execute(sql, *args)):
            assert client.get("/").status_code == 200
        return len(sent)

    one = queries()
    for n in range(5):
        make_restaurant(name=f"Trattoria {n}", slug=f"trattoria-{n}")
    SpecialDay.objects.create(restaurant=restaurant, date=timezone.now().date(), note="Closed today")

    assert queries() == one == 3  # the restaurants, their service periods, their special days
