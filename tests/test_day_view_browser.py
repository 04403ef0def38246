"""The reservation book's day view in a real browser (templates/staff/reservations.html,
static/js/staff_reservations.js): bookings made as the agent makes them arrive live as blocks on their table's row,
staff mark one seated, and moving another onto a table that is taken then is refused with the reason, while moving
it to a free one works.

As in tests/test_staff_browser.py, daphne serves config.asgi from a child process with its own in-memory channel
layer (the embedded setup of `make run`): a booking made here, as the worker makes it, reaches the page through the
consumer's database polling. The clock is the real one: the bookings are for 20:00 in Rome on the first day at
least two days ahead that is not a Monday (Trattoria Test is closed on Mondays).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from reservations.services import reservation_book
from restaurants.models import Restaurant
from tests import test_browser, test_staff_browser
from tests.conftest import ROME
from tests.test_browser import SCREENSHOTS, expect
from tests.test_reservations import make_bookable
from tests.test_staff_browser import as_worker, log_in, staff_member

pytestmark = pytest.mark.browser
# The fixtures of the browser tests: a database live_server can use, Chromium's page, daphne in a child process.
db_with_seeds, page, asgi_server = test_browser.db_with_seeds, test_browser.page, test_staff_browser.asgi_server


@pytest.fixture
def bookable(db_with_seeds) -> Restaurant:
    return make_bookable()


@pytest.fixture
def bookable_staff(bookable) -> str:
    """A staff member of the restaurant, in the "Restaurant staff" group (so its admin page opens too)."""
    username = staff_member(bookable)
    User.objects.get(username=username).groups.add(Group.objects.get(name="Restaurant staff"))
    return username


def the_evening() -> dt.datetime:
    """20:00 in Rome on the first day at least two days from now that is not a Monday."""
    day = timezone.now().astimezone(ROME).date() + dt.timedelta(days=2)
    if day.weekday() == 0:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(20), ROME)


def book(restaurant: Restaurant, at: dt.datetime, party: int, name: str) -> None:
    """A booking as the agent's tool makes it, on a web call."""
    reservation_book(
        restaurant=restaurant, starts_at=at, party_size=party, guest_name=name, guest_phone="+39 333 123 4567"
    )


def test_a_booking_arrives_live_staff_seat_it_and_a_move_onto_it_is_refused(
    bookable, bookable_staff, asgi_server, page
):
    at = the_evening()
    as_worker(book, restaurant=bookable, at=at, party=2, name="Bruno")  # T1
    log_in(page, asgi_server, bookable_staff, f"/staff/reservations/?date={at.date().isoformat()}")
    expect(page.locator("#live-status")).to_have_text("Live")
    t1, t2, t3 = (page.get_by_role("list", name=re.compile(f"^{name} ")) for name in ("T1", "T2", "T3"))
    bruno = t1.get_by_role("button", name="Bruno, 2 people, 20:00 to 21:30, T1, Booked")
    expect(bruno).to_be_visible()
    expect(t3.get_by_role("button")).to_have_count(0)

    as_worker(book, restaurant=bookable, at=at, party=4, name="Anna")  # T3, the smallest free table for 4

    anna = t3.get_by_role("button", name="Anna, 4 people, 20:00 to 21:30, T3, Booked")
    expect(anna).to_be_visible()
    expect(page.locator("#book-news")).to_have_text("New booking: Anna, 4 people, 20:00 at T3.")
    expect(page.get_by_role("row", name=re.compile("Anna"))).to_contain_text("20:00–21:30")
    # Both start at 20:00 and last 90 minutes: their blocks stand one above the other, as wide.
    anna_box, bruno_box = anna.bounding_box(), bruno.bounding_box()
    assert abs(anna_box["x"] - bruno_box["x"]) < 1 and abs(anna_box["width"] - bruno_box["width"]) < 1
    assert anna_box["y"] > bruno_box["y"]
    page.screenshot(path=SCREENSHOTS / "day-view-a-booking-arrived.png", full_page=True)

    anna.click()
    dialog = page.get_by_role("dialog", name="Anna, 4 people")
    expect(dialog).to_contain_text("20:00–21:30 at T3 · Booked")
    expect(dialog.get_by_role("button", name="Completed")).to_be_hidden()
    dialog.get_by_role("button", name="Seated").click()

    expect(dialog).to_be_hidden()
    expect(t3.get_by_role("button", name="Anna, 4 people, 20:00 to 21:30, T3, Seated")).to_be_visible()
    expect(page.locator("#book-news")).to_have_text("Anna is seated at T3.")

    bruno.click()
    dialog = page.get_by_role("dialog", name="Bruno, 2 people")
    dialog.get_by_label("Move to table").select_option(label="T3 (2-4 seats)")
    dialog.get_by_role("button", name="Move").click()

    expect(dialog.get_by_role("alert")).to_have_text("T3 is booked then (Anna, 20:00).")
    expect(t1.get_by_role("button", name=re.compile("^Bruno"))).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "day-view-a-move-refused.png", full_page=True)

    dialog.get_by_label("Move to table").select_option(label="T2 (2 seats)")
    dialog.get_by_role("button", name="Move").click()

    expect(dialog).to_be_hidden()
    expect(t2.get_by_role("button", name="Bruno, 2 people, 20:00 to 21:30, T2, Booked")).to_be_visible()
    expect(t1.get_by_role("button")).to_have_count(0)
    expect(page.locator("#book-news")).to_have_text("Bruno moved to T2.")

    page.reload()  # what was stored, drawn by the server
    expect(page.get_by_role("list", name=re.compile("^T3 ")).get_by_role("button")).to_have_accessible_name(
        "Anna, 4 people, 20:00 to 21:30, T3, Seated"
    )
    t2 = page.get_by_role("list", name=re.compile("^T2 "))
    expect(t2.get_by_role("button", name=re.compile("^Bruno"))).to_be_visible()


def test_staff_seat_a_walk_in_from_todays_book_and_copy_the_calendar_address(
    bookable, bookable_staff, asgi_server, page
):
    log_in(page, asgi_server, bookable_staff, "/staff/reservations/")
    expect(page.locator("#live-status")).to_have_text("Live")
    walk_in = page.get_by_role("region", name="Add walk-in")
    walk_in.get_by_label("Table").select_option(label="T6 (4-6 seats)")
    walk_in.get_by_label("Party").fill("7")
    walk_in.get_by_role("button", name="Seat walk-in").click()

    expect(walk_in.get_by_role("alert")).to_have_text("T6 seats 6: the party is 7.")

    walk_in.get_by_label("Party").fill("5")
    walk_in.get_by_label("Name").fill("Famiglia Rossi")
    walk_in.get_by_role("button", name="Seat walk-in").click()

    t6 = page.get_by_role("list", name=re.compile("^T6 "))
    expect(t6.get_by_role("button", name=re.compile(r"^Famiglia Rossi, 5 people, .* T6, Seated$"))).to_be_visible()
    expect(page.locator("#book-news")).to_have_text("Walk-in seated: Famiglia Rossi, 5 people, at T6.")
    expect(walk_in.get_by_role("alert")).to_be_hidden()
    expect(page.locator(".now-line")).to_have_count(1)  # today's book shows the present moment
    page.screenshot(path=SCREENSHOTS / "day-view-a-walk-in-seated.png", full_page=True)

    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=asgi_server)
    page.goto(f"{asgi_server}/admin/restaurants/restaurant/{bookable.pk}/change/")
    address = page.get_by_role("textbox", name="Calendar feed address")
    expect(address).to_have_value(re.compile(rf"^{asgi_server}/staff/reservations/calendar/{bookable.pk}/.+\.ics$"))
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == address.input_value()
    address.scroll_into_view_if_needed()
    page.screenshot(path=SCREENSHOTS / "day-view-calendar-address-in-admin.png")

    feed = page.request.get(address.input_value())
    assert feed.headers["content-type"] == "text/calendar; charset=utf-8"
    assert "SUMMARY:Famiglia Rossi\\, 5 people (T6)" in feed.text()
