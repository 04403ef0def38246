"""The reservation book's day view as staff use it (reservations/views.py, reservations/feed.py): the page at
/staff/reservations/?date=YYYY-MM-DD with a row per table and each booking a block on it, the floor's buttons
(seated, no-show, completed, cancel, move to another table; the second of two clicks refused with the booking as it
is), walk-ins, the bad input they may be sent, another restaurant's book refused over HTTP and over the websocket,
the websocket at /ws/staff/reservations/ through config.asgi's whole stack (the snapshot, bookings arriving live,
another day's and another restaurant's never), the book in admin, and the secret calendar feed read back with
icalendar.

Trattoria Test (tests.test_reservations.make_bookable) takes reservations in Europe/Rome, with tables T1 and T2 (2
seats), T3 and T4 (2-4) and T6 (4-6), and a staff member ("rome-staff"); Osteria Beta is the same and belongs to
someone else. The clock is pinned: Wednesday 12:30 in Rome (KIRITIMATI: the machine's date is a day ahead) and
02:30 on the autumn DST night (a Sunday). Bookings are made for the evening two days on (not a Monday).
"""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from reservations.events import ready_reservations, reservation_event
from reservations.models import Reservation, Table
from reservations.services import reservation_cancel, reservation_change, reservation_move, walk_in
from restaurants.models import Restaurant
from tests.conftest import CLOCKS, KIRITIMATI, ROME, pinned
from tests.test_reservations import book, evening, make_bookable
from tests.test_staff_calls import Login, received, run, socket_db
from tests.test_tenancy import staff_member

AUTUMN_NIGHT = next(c for c in CLOCKS if c.id == "dst-autumn-0230-rome-second-pass")
BOTH = pinned(KIRITIMATI, AUTUMN_NIGHT)
PAGE = "/staff/reservations/"
SOCKET = "/ws/staff/reservations/"


@pytest.fixture
def trattoria(db) -> Restaurant:
    return make_bookable()


@pytest.fixture
def beta(db) -> Restaurant:
    return make_bookable(name="Osteria Beta", slug="beta")


@pytest.fixture
def staff(trattoria) -> Client:
    client = Client()
    client.force_login(staff_member("rome-staff", trattoria))
    return client


def day_of(at: dt.datetime) -> str:
    return at.astimezone(ROME).date().isoformat()


class Timeline(HTMLParser):
    """What a day view page shows: per table row of the timeline (by name, in order) the accessible names of its
    booking blocks, and the list's rows as their cells' text; plus each book section's data-* attributes. What is
    inside a <template> (the script's copies) is not shown."""

    def __init__(self, html: str):
        super().__init__()
        self.rows: dict[str, list[str]] = {}
        self.listed: list[list[str]] = []
        self.sections: list[dict[str, str]] = []
        self.table = None
        self.cells: list[str] | None = None
        self.cell: str | None = None
        self.in_template = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.in_template += tag == "template"
        if self.in_template:
            return
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "section" and "book" in classes:
            self.sections.append(a)
        elif "timeline-row" in classes and "timeline-head" not in classes:
            self.table = a["data-table-name"]
            self.rows[self.table] = []
        elif tag == "button" and "booking-block" in classes:
            self.rows[self.table].append(a["aria-label"])
        elif tag == "tr" and "data-reservation-id" in a:
            self.cells = []
        elif tag in ("td", "th") and self.cells is not None:
            self.cell = ""

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data

    def handle_endtag(self, tag):
        self.in_template -= tag == "template"
        if tag in ("td", "th") and self.cell is not None:
            self.cells.append(" ".join(self.cell.split()))
            self.cell = None
        elif tag == "tr" and self.cells is not None:
            self.listed.append(self.cells[:-1])  # without the Actions button's cell
            self.cells = None


def page_of(client: Client, **query) -> Timeline:
    response = client.get(PAGE, query)
    assert response.status_code == 200
    return Timeline(response.content.decode())


def post(client: Client, path: str, **data):
    return client.post(f"{PAGE}{path}", data)


# --- The page ------------------------------------------------------------------------------------------------


@BOTH
@pytest.mark.django_db
class TestAccess:
    def test_anonymous_users_go_to_the_login_page(self, clock, client):
        response = client.get(PAGE)

        assert (response.status_code, response["Location"]) == (302, "/admin/login/?next=/staff/reservations/")

    def test_users_without_staff_status_are_refused_even_of_a_restaurant(self, clock, client, trattoria):
        user = User.objects.create_user("diner")
        trattoria.staff.add(user)
        client.force_login(user)
        anna = book(trattoria, evening(clock))

        assert client.get(PAGE).status_code == 403
        assert post(client, f"{anna.pk}/status", to="seated").status_code == 403
        assert post(client, "walk-in", table=anna.table_id, party_size=2).status_code == 403
        assert Reservation.objects.get().status == "booked"

    def test_the_admin_links_to_the_day_view(self, clock, staff):
        content = staff.get("/admin/").content

        assert b'<a href="/staff/reservations/">Reservations</a>' in content
        assert b'<a href="/staff/orders/">Kitchen orders</a>' in content


@BOTH
@pytest.mark.django_db
class TestTheDaysBook:
    def test_each_table_is_a_row_and_each_booking_a_block_on_it(self, clock, staff, trattoria):
        at = evening(clock)
        book(trattoria, at, 4, "Anna")  # T3, the smallest table for 4
        book(trattoria, at + dt.timedelta(minutes=30), 2, "Bruno")  # T1
        book(trattoria, at + dt.timedelta(hours=1), 5, "Carla")  # T6, held 120 minutes

        page = page_of(staff, date=day_of(at))

        assert page.rows == {
            "T1": ["Bruno, 2 people, 20:30 to 22:00, T1, Booked"],
            "T2": [],
            "T3": ["Anna, 4 people, 20:00 to 21:30, T3, Booked"],
            "T4": [],
            "T6": ["Carla, 5 people, 21:00 to 23:00, T6, Booked"],
        }
        assert [row[:5] for row in page.listed] == [
            ["20:00–21:30", "T3", "Anna", "4", "Booked"],
            ["20:30–22:00", "T1", "Bruno", "2", "Booked"],
            ["21:00–23:00", "T6", "Carla", "5", "Booked"],
        ]

    def test_the_hours_across_are_the_days_services_in_rome(self, clock, staff, trattoria):
        at = evening(clock)

        response = staff.get(PAGE, {"date": day_of(at)})

        [section] = Timeline(response.content.decode()).sections
        day = at.astimezone(ROME).date()
        closes = "01:30" if day.weekday() in (4, 5) else "23:00"  # the late bar on Friday and Saturday
        assert f"Open 12:00–14:30 and 19:00–{closes}" in response.content.decode()
        axis = [dt.datetime.fromisoformat(section[k]).astimezone(ROME) for k in ("data-axis-starts", "data-axis-ends")]
        assert axis[0] == dt.datetime.combine(day, dt.time(12), ROME)
        assert axis[1] - axis[0] == dt.timedelta(hours=14 if closes == "01:30" else 11)

    def test_a_cancelled_booking_is_listed_but_leaves_the_timeline(self, clock, staff, trattoria):
        anna = book(trattoria, evening(clock), 4, "Anna")
        reservation_cancel(reservation=anna)

        page = page_of(staff, date=day_of(anna.starts_at))

        assert page.rows["T3"] == []
        assert page.listed[0][:5] == ["20:00–21:30", "T3", "Anna", "4", "Cancelled"]

    def test_without_a_date_it_is_today_in_rome_whatever_the_machines_date(self, clock, staff, trattoria):
        content = staff.get(PAGE).content.decode()

        assert f"{clock.today:%A} {clock.today.day} {clock.today:%B %Y}" in content
        previous, following = clock.today - dt.timedelta(days=1), clock.today + dt.timedelta(days=1)
        assert f'href="?date={previous.isoformat()}" rel="prev"' in content
        assert f'href="?date={following.isoformat()}" rel="next"' in content

    def test_another_restaurants_bookings_are_not_shown(self, clock, staff, beta):
        at = evening(clock)
        book(beta, at, 2, "Beta's guest")

        content = staff.get(PAGE, {"date": day_of(at)}).content.decode()

        assert "Beta" not in content
        assert "Trattoria Test" in content

    def test_staff_of_two_restaurants_see_both_books_and_may_pick_one(self, clock, trattoria, beta):
        client = Client()
        client.force_login(staff_member("two-places", trattoria, beta))
        at = evening(clock)
        book(trattoria, at, 4, "Anna")
        book(beta, at, 2, "Bruno")

        both = client.get(PAGE, {"date": day_of(at)}).content.decode()
        one = client.get(PAGE, {"date": day_of(at), "restaurant": beta.pk}).content.decode()

        by_name = [str(beta.pk), str(trattoria.pk)]  # Osteria Beta, Trattoria Test
        assert [s["data-restaurant-id"] for s in Timeline(both).sections] == by_name
        assert [row[2] for row in Timeline(both).listed] == ["Bruno", "Anna"]
        assert [s["data-restaurant-id"] for s in Timeline(one).sections] == [str(beta.pk)]
        assert [row[2] for row in Timeline(one).listed] == ["Bruno"]
        assert f'<option value="{beta.pk}" selected>Osteria Beta</option>' in one
        following = (at.astimezone(ROME).date() + dt.timedelta(days=1)).isoformat()
        assert f'href="?date={following}&amp;restaurant={beta.pk}" rel="next"' in one

    def test_a_walk_in_is_offered_on_todays_book_only(self, clock, staff, trattoria):
        today = staff.get(PAGE).content.decode()
        later = staff.get(PAGE, {"date": day_of(evening(clock))}).content.decode()

        assert 'id="walk-in-form"' in today
        assert 'id="walk-in-form"' not in later


@pinned(KIRITIMATI)  # Wednesday in Rome: Friday's dinner runs to 01:30
@pytest.mark.django_db
def test_a_late_services_bookings_past_midnight_stay_on_its_evening(clock, staff, trattoria):
    friday = clock.next(4)
    book(trattoria, dt.datetime.combine(friday + dt.timedelta(days=1), dt.time(0, 15), ROME), 2, "Night owl")

    on_friday = page_of(staff, date=friday.isoformat())
    on_saturday = page_of(staff, date=(friday + dt.timedelta(days=1)).isoformat())

    assert on_friday.rows["T1"] == ["Night owl, 2 people, 00:15 to 01:45, T1, Booked"]
    assert "Night owl" not in str(on_saturday.rows) + str(on_saturday.listed)


@BOTH
@pytest.mark.django_db
class TestBadDates:
    @pytest.mark.parametrize(
        "date",
        [
            "tomorrow", "2026-13-01", "2026-02-30", "2026-06-10T20:00", "2026-W24-3", "x" * 10_000, "２０２６-06-10",
            "2026-6-9",
        ],
        ids=["word", "month-13", "feb-30", "with-time", "iso-week", "10k", "fullwidth-digits", "unpadded"],
    )
    def test_a_malformed_date_says_how_to_write_one(self, clock, staff, trattoria, date):
        response = staff.get(PAGE, {"date": date})

        assert response.status_code == 400
        assert "That is not a date: write it as YYYY-MM-DD, e.g. 2026-06-09." in response.content.decode()

    @pytest.mark.parametrize("date", ["0001-01-01", "9999-12-31", "far-ahead", "far-back"])
    def test_a_date_out_of_range_says_which_dates_are_possible(self, clock, staff, trattoria, date):
        date = {
            "far-ahead": (clock.today + dt.timedelta(days=367)).isoformat(),
            "far-back": (clock.today - dt.timedelta(days=367)).isoformat(),
        }.get(date, date)

        response = staff.get(PAGE, {"date": date})

        first, last = clock.today - dt.timedelta(days=366), clock.today + dt.timedelta(days=366)
        assert response.status_code == 400
        assert f"Pick a date from {first.isoformat()} to {last.isoformat()}." in response.content.decode()

    def test_a_year_ahead_is_still_a_day(self, clock, staff, trattoria):
        assert staff.get(PAGE, {"date": (clock.today + dt.timedelta(days=366)).isoformat()}).status_code == 200

    def test_another_restaurants_book_is_missing_and_a_malformed_one_said(self, clock, staff, trattoria, beta):
        theirs = staff.get(PAGE, {"restaurant": beta.pk})
        missing = staff.get(PAGE, {"restaurant": 987654})
        malformed = staff.get(PAGE, {"restaurant": "beta"})
        ours = staff.get(PAGE, {"restaurant": trattoria.pk})

        assert (theirs.status_code, missing.status_code) == (404, 404)
        assert "There is no such restaurant." in theirs.content.decode()
        assert "Beta" not in theirs.content.decode()
        assert (malformed.status_code, ours.status_code) == (400, 200)
        assert "That is not a restaurant." in malformed.content.decode()


# --- The floor's buttons -------------------------------------------------------------------------------------------


@BOTH
@pytest.mark.django_db
class TestSteps:
    def test_seated_then_completed(self, clock, staff, trattoria):
        anna = book(trattoria, evening(clock), 4, "Anna")

        seated = post(staff, f"{anna.pk}/status", to="seated")
        completed = post(staff, f"{anna.pk}/status", to="completed")

        assert [seated.status_code, completed.status_code] == [200, 200]
        assert [a.json()["reservation"]["status_label"] for a in (seated, completed)] == ["Seated", "Completed"]
        assert Reservation.objects.get().status == "completed"

    def test_a_no_show_and_a_cancel_free_the_table(self, clock, staff, trattoria):
        anna, bruno = book(trattoria, evening(clock), 4, "Anna"), book(trattoria, evening(clock), 4, "Bruno")

        assert post(staff, f"{anna.pk}/status", to="no_show").json()["reservation"]["status"] == "no_show"
        assert post(staff, f"{bruno.pk}/status", to="cancelled").json()["reservation"]["status"] == "cancelled"
        assert book(trattoria, evening(clock), 4, "Carla").table.name == "T3"  # Anna's table is free again

    def test_the_second_of_two_clicks_is_refused_with_the_booking_as_it_is(self, clock, staff, trattoria):
        anna = book(trattoria, evening(clock), 4, "Anna")
        post(staff, f"{anna.pk}/status", to="seated")

        again = post(staff, f"{anna.pk}/status", to="seated")
        no_show = post(staff, f"{anna.pk}/status", to="no_show")

        assert (again.status_code, again.json()["error"]) == (409, "Anna's booking is already seated.")
        assert again.json()["reservation"]["status"] == "seated"
        assert no_show.json()["error"] == "Anna's booking is seated: it cannot be marked no-show."
        assert Reservation.objects.get().status == "seated"

    def test_a_cancelled_booking_cannot_be_cancelled_again(self, clock, staff, trattoria):
        anna = book(trattoria, evening(clock), 4, "Anna")
        post(staff, f"{anna.pk}/status", to="cancelled")

        again = post(staff, f"{anna.pk}/status", to="cancelled")

        assert (again.status_code, again.json()["error"]) == (409, "That booking is already cancelled.")

    @pytest.mark.parametrize(
        "data, sentence",
        [
            ({"to": "booked"}, "That is not a step staff can take on a booking."),
            ({"to": "x" * 10_000}, "That is not a step staff can take on a booking."),
            ({}, "Which step?"),
        ],
        ids=["booked", "10k-step", "no-step"],
    )
    def test_bad_steps_are_refused_and_nothing_changes(self, clock, staff, trattoria, data, sentence):
        anna = book(trattoria, evening(clock), 4, "Anna")

        response = staff.post(f"{PAGE}{anna.pk}/status", data)

        assert (response.status_code, response.json()) == (400, {"error": sentence})
        assert Reservation.objects.get().status == "booked"

    def test_another_restaurants_booking_is_missing(self, clock, staff, beta):
        theirs = book(beta, evening(clock), 4, "Beta's guest")

        for path, data in [("status", {"to": "seated"}), ("table", {"table": theirs.table_id})]:
            response = staff.post(f"{PAGE}{theirs.pk}/{path}", data)
            assert (response.status_code, response.json()) == (404, {"error": "There is no such booking."})
        assert staff.post(f"{PAGE}99999999999999999999/status", {"to": "seated"}).status_code == 404
        assert Reservation.objects.get().status == "booked"

    def test_a_get_or_a_post_without_the_csrf_token_changes_nothing(self, clock, trattoria):
        anna = book(trattoria, evening(clock), 4, "Anna")
        client = Client(enforce_csrf_checks=True)
        client.force_login(staff_member("rome-staff", trattoria))

        assert client.get(f"{PAGE}{anna.pk}/status").status_code == 405
        assert client.post(f"{PAGE}{anna.pk}/status", {"to": "seated"}).status_code == 403
        assert client.post(f"{PAGE}walk-in", {"table": anna.table_id, "party_size": 2}).status_code == 403
        assert Reservation.objects.get().status == "booked"


@BOTH
@pytest.mark.django_db
class TestMove:
    def test_a_booking_moves_to_a_free_table_for_the_same_time(self, clock, staff, trattoria):
        anna = book(trattoria, evening(clock), 4, "Anna")
        t4 = trattoria.tables.get(name="T4")

        response = post(staff, f"{anna.pk}/table", table=t4.pk)

        assert response.status_code == 200
        moved = response.json()["reservation"]
        assert (moved["table"], moved["start_time"]) == ("T4", "20:00")
        assert Reservation.objects.get().table == t4

    def test_moving_onto_an_overlapping_booking_is_refused_and_says_whose(self, clock, staff, trattoria):
        at = evening(clock)
        anna = book(trattoria, at, 4, "Anna")  # T3, 20:00-21:30
        bruno = book(trattoria, at + dt.timedelta(hours=1), 4, "Bruno")  # T3 is taken: T4, 21:00-22:30

        response = post(staff, f"{bruno.pk}/table", table=anna.table_id)

        assert (response.status_code, response.json()["error"]) == (409, "T3 is booked then (Anna, 20:00).")
        assert response.json()["reservation"]["table"] == "T4"
        assert Reservation.objects.get(pk=bruno.pk).table.name == "T4"

    def test_a_table_too_small_is_refused(self, clock, staff, trattoria):
        anna = book(trattoria, evening(clock), 4, "Anna")

        response = post(staff, f"{anna.pk}/table", table=trattoria.tables.get(name="T1").pk)

        assert (response.status_code, response.json()["error"]) == (409, "T1 seats 2: the party is 4.")

    @pytest.mark.parametrize("table", ["theirs", "abc", "", "9" * 30])
    def test_another_restaurants_or_no_table_is_no_such_table(self, clock, staff, trattoria, beta, table):
        anna = book(trattoria, evening(clock), 4, "Anna")
        table = str(beta.tables.get(name="T4").pk) if table == "theirs" else table

        response = post(staff, f"{anna.pk}/table", table=table)

        assert response.status_code == 400
        assert response.json()["error"] == ("Which table?" if table == "" else "There is no such table.")
        assert Reservation.objects.get().table.name == "T3"


@BOTH
@pytest.mark.django_db
class TestWalkIn:
    def test_a_walk_in_is_seated_now_and_shows_on_todays_book(self, clock, staff, trattoria):
        t1 = trattoria.tables.get(name="T1")

        response = post(staff, "walk-in", table=t1.pk, party_size=2, guest_name="Carla")

        assert response.status_code == 201
        walked_in = response.json()["reservation"]
        assert (walked_in["guest_name"], walked_in["status"], walked_in["table"]) == ("Carla", "seated", "T1")
        assert dt.datetime.fromisoformat(walked_in["starts_at"]) - clock.at < dt.timedelta(minutes=1)
        [block] = page_of(staff).rows["T1"]
        assert block.startswith("Carla, 2 people") and block.endswith("T1, Seated")

    def test_a_walk_in_without_a_name_is_called_walk_in(self, clock, staff, trattoria):
        response = post(staff, "walk-in", table=trattoria.tables.get(name="T6").pk, party_size=6)

        assert response.json()["reservation"]["guest_name"] == "Walk-in"

    def test_a_ten_thousand_character_name_is_refused(self, clock, staff, trattoria):
        t1 = trattoria.tables.get(name="T1")

        response = post(staff, "walk-in", table=t1.pk, party_size=2, guest_name="x" * 10_000)

        assert response.status_code == 400
        assert response.json() == {"error": "That name is too long: at most 80 characters."}
        assert not Reservation.objects.exists()

    @pytest.mark.parametrize("party", ["0", "-1", "101", "2.5", "two", "", "9" * 5000])
    def test_a_party_out_of_range_is_refused(self, clock, staff, trattoria, party):
        response = post(staff, "walk-in", table=trattoria.tables.get(name="T6").pk, party_size=party)

        assert (response.status_code, response.json()) == (400, {"error": "How many people? A number from 1 to 100."})
        assert not Reservation.objects.exists()

    def test_a_party_larger_than_the_table_or_a_table_in_use_is_refused(self, clock, staff, trattoria):
        t1 = trattoria.tables.get(name="T1")
        post(staff, "walk-in", table=t1.pk, party_size=2, guest_name="Carla")

        too_many = post(staff, "walk-in", table=t1.pk, party_size=5)
        taken = post(staff, "walk-in", table=t1.pk, party_size=2)

        assert (too_many.status_code, too_many.json()) == (409, {"error": "T1 seats 2: the party is 5."})
        assert (taken.status_code, taken.json()) == (409, {"error": "T1 is booked then."})
        assert Reservation.objects.count() == 1

    def test_another_restaurants_table_is_no_such_table(self, clock, staff, beta):
        response = post(staff, "walk-in", table=beta.tables.get(name="T1").pk, party_size=2)

        assert (response.status_code, response.json()) == (400, {"error": "There is no such table."})
        assert not Reservation.objects.exists()


# --- The websocket ------------------------------------------------------------------------------------------------


@pytest.fixture
def layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def names(events: list[dict]) -> list[tuple[str, str, str]]:
    return [(e["reservation"]["guest_name"], e["reservation"]["table"], e["reservation"]["status"]) for e in events]


@BOTH
@socket_db
def test_the_day_view_gets_its_book_then_bookings_live_and_never_anothers(clock, layer):
    trattoria, beta = make_bookable(), make_bookable(name="Osteria Beta", slug="beta")
    rome_staff = Login.of(staff_member("rome-staff", trattoria))
    at = evening(clock)
    anna = book(trattoria, at, 4, "Anna")
    book(trattoria, at + dt.timedelta(days=1), 4, "Next day")

    async def scenario():
        communicator, snapshot = await rome_staff.opened(f"{SOCKET}?date={day_of(at)}")
        await sync_to_async(book)(beta, at, 2, "Beta's guest")
        await sync_to_async(book)(trattoria, at + dt.timedelta(days=1), 2, "Another day")
        bruno = await sync_to_async(book)(trattoria, at, 2, "Bruno")
        await sync_to_async(reservation_move)(reservation=bruno, table=await sync_to_async(Table.objects.get)(
            restaurant=trattoria, name="T2"))  # fmt: skip
        await sync_to_async(reservation_cancel)(reservation=anna)
        live = await received(communicator, wait=0.8)  # more than a poll: polling adds nothing new
        await communicator.disconnect()
        return snapshot, live

    snapshot, live = run(scenario)

    assert names(snapshot) == [("Anna", "T3", "booked")]
    assert names(live) == [("Bruno", "T1", "booked"), ("Bruno", "T2", "booked"), ("Anna", "T3", "cancelled")]
    assert [e["happened"] for e in live] == ["made", "moved", "cancelled"]
    assert live[0]["reservation"]["starts_at"] == at.astimezone(dt.UTC).isoformat()
    assert live[0]["reservation"]["start_time"] == "20:00"


@pinned(KIRITIMATI)
@socket_db
def test_a_booking_moved_to_another_day_is_told_once_for_the_page_to_take_it_off(clock, layer):
    trattoria = make_bookable()
    rome_staff = Login.of(staff_member("rome-staff", trattoria))
    at = evening(clock)
    anna = book(trattoria, at, 4, "Anna")

    async def scenario():
        communicator, snapshot = await rome_staff.opened(f"{SOCKET}?date={day_of(at)}")
        await sync_to_async(reservation_change)(reservation=anna, starts_at=at + dt.timedelta(days=1))
        await sync_to_async(reservation_change)(reservation=anna, party_size=3)
        live = await received(communicator, wait=0.8)
        await communicator.disconnect()
        return live

    [moved] = run(scenario)

    assert moved["reservation"]["date"] == day_of(at + dt.timedelta(days=1))


@pinned(KIRITIMATI)
@socket_db
def test_the_socket_polls_what_another_process_wrote(clock, layer, settings):
    trattoria = make_bookable()
    rome_staff = Login.of(staff_member("rome-staff", trattoria))
    at = evening(clock)

    async def scenario():
        communicator, _ = await rome_staff.opened(f"{SOCKET}?date={day_of(at)}")
        # Written behind the layer's back (as the worker's process does with the in-memory layer): no event.
        await sync_to_async(Reservation.objects.create)(
            restaurant=trattoria, table=await sync_to_async(Table.objects.get)(restaurant=trattoria, name="T4"),
            party_size=3, starts_at=at, ends_at=at + dt.timedelta(minutes=90), guest_name="Written elsewhere",
        )  # fmt: skip
        polled = await received(communicator, wait=0.8)
        await communicator.disconnect()
        return polled

    assert names(run(scenario)) == [("Written elsewhere", "T4", "booked")]


@pinned(KIRITIMATI)
@socket_db
@pytest.mark.parametrize(
    "query",
    [
        "", "date=", "date=tomorrow", "date=2026-02-30", "date=9999-12-31", "date=0001-01-01", f"date={'x' * 10_000}",
        "date=2026-06-12&date=2026-06-13", "date=2026-06-12&restaurant=abc",
        "date=2026-06-12&restaurant=1&restaurant=2",
    ],
    ids=["none", "empty", "word", "feb-30", "9999", "year-1", "10k", "two-dates", "bad-restaurant", "two-restaurants"],
)
def test_the_socket_refuses_a_malformed_or_out_of_range_date(clock, layer, query):
    trattoria = make_bookable()

    assert Login.of(staff_member("rome-staff", trattoria)).refused(f"{SOCKET}?{query}")


@pinned(KIRITIMATI)
@socket_db
def test_the_socket_refuses_another_restaurants_book_and_users_who_are_not_staff(clock, layer):
    trattoria, beta = make_bookable(), make_bookable(name="Osteria Beta", slug="beta")
    rome_staff = Login.of(staff_member("rome-staff", trattoria))
    diner = User.objects.create_user("diner")
    trattoria.staff.add(diner)
    day = clock.today.isoformat()

    assert rome_staff.refused(f"{SOCKET}?date={day}&restaurant={beta.pk}")
    assert not rome_staff.refused(f"{SOCKET}?date={day}&restaurant={trattoria.pk}")
    assert Login.of(None).refused(f"{SOCKET}?date={day}")
    assert Login.of(diner).refused(f"{SOCKET}?date={day}")


@pinned(KIRITIMATI)
@socket_db
def test_a_restaurant_named_in_the_query_is_the_only_one_followed(clock, layer):
    trattoria, beta = make_bookable(), make_bookable(name="Osteria Beta", slug="beta")
    both = Login.of(staff_member("two-places", trattoria, beta))
    at = evening(clock)
    book(trattoria, at, 4, "Anna")
    book(beta, at, 4, "Beta's guest")

    async def scenario():
        communicator, snapshot = await both.opened(f"{SOCKET}?date={day_of(at)}&restaurant={beta.pk}")
        await sync_to_async(book)(trattoria, at, 2, "Bruno")
        live = await received(communicator, wait=0.8)
        await communicator.disconnect()
        return snapshot, live

    snapshot, live = run(scenario)

    assert names(snapshot) == [("Beta's guest", "T3", "booked")]
    assert live == []


@BOTH
def test_a_walk_ins_times_are_written_in_the_restaurants_time_whatever_the_machines_zone(clock, trattoria):
    seated = walk_in(table=trattoria.tables.get(name="T3"), party_size=3, guest_name="Dora")

    event = reservation_event(ready_reservations().get(pk=seated.pk))["reservation"]

    assert event["start_time"] == f"{clock.at.astimezone(ROME):%H:%M}"
    assert event["date"] == clock.today.isoformat()


# --- Admin ---------------------------------------------------------------------------------------------------------


@BOTH
@pytest.mark.django_db
class TestAdmin:
    def test_staff_add_a_table_and_the_seats_rule_is_said(self, clock, staff, trattoria):
        url = reverse("admin:reservations_table_add")
        form = {"restaurant": trattoria.pk, "name": "Terrace 1", "min_seats": 1, "max_seats": 2, "is_active": "on"}

        added = staff.post(url, form)
        upside_down = staff.post(url, form | {"name": "Terrace 2", "min_seats": 6, "max_seats": 4})
        too_big = staff.post(url, form | {"name": "Terrace 3", "max_seats": 41})

        assert added.status_code == 302
        assert trattoria.tables.filter(name="Terrace 1").exists()
        assert upside_down.context["adminform"].form.errors == {
            "min_seats": ["The smallest party cannot be more than the table seats (4)."]
        }
        assert too_big.context["adminform"].form.errors == {
            "max_seats": ["A table seats at most 40: make two tables of a larger one."]
        }

    def test_the_restaurant_page_lists_its_tables(self, clock, staff, trattoria):
        response = staff.get(reverse("admin:restaurants_restaurant_change", args=[trattoria.pk]))

        [tables] = [i for i in response.context["inline_admin_formsets"] if i.formset.prefix == "tables"]
        assert [form.instance.name for form in tables.formset.forms] == ["T1", "T2", "T3", "T4", "T6"]

    def test_reservations_are_listed_by_the_day_in_rome_status_and_channel(self, clock, staff, trattoria):
        today = walk_in(table=trattoria.tables.get(name="T1"), party_size=2, guest_name="Today")
        later = book(trattoria, evening(clock), 4, "Later")
        url = reverse("admin:reservations_reservation_changelist")

        def listed(**params) -> list[str]:
            return sorted(r.guest_name for r in staff.get(url, params).context["cl"].result_list)

        assert listed() == ["Later", "Today"]
        assert listed(day="today") == ["Today"]
        assert listed(day="tomorrow") == []
        assert listed(day="in-2-days") == ["Later"]
        assert listed(status__exact="booked") == ["Later"]
        assert listed(channel__exact="phone") == []
        page = staff.get(reverse("admin:reservations_reservation_change", args=[later.pk])).content.decode()
        assert f"?date={day_of(later.starts_at)}&amp;restaurant={trattoria.pk}" in page
        assert today.pk

    def test_reservations_cannot_be_added_changed_or_deleted_in_admin(self, clock, staff, trattoria):
        anna = book(trattoria, evening(clock), 4, "Anna")

        assert staff.get(reverse("admin:reservations_reservation_add")).status_code == 403
        change, delete = (reverse(f"admin:reservations_reservation_{v}", args=[anna.pk]) for v in ("change", "delete"))
        assert staff.post(change, {"status": "seated"}).status_code == 403
        assert staff.post(delete, {"post": "yes"}).status_code == 403
        assert Reservation.objects.get().status == "booked"


# --- The calendar feed --------------------------------------------------------------------------------------------


def feed_url(restaurant: Restaurant, token: str | None = None) -> str:
    return reverse("reservations-calendar", args=[restaurant.pk, token or restaurant.book_feed_token])


@BOTH
@pytest.mark.django_db
class TestCalendarFeed:
    def test_the_feed_holds_the_book_from_a_week_ago_to_the_horizon(self, clock, client, trattoria):
        at = evening(clock)
        anna, bruno = book(trattoria, at, 4, "Anna"), book(trattoria, at, 2, "Bruno")
        reservation_cancel(reservation=bruno)
        old = at - dt.timedelta(days=30)
        Reservation.objects.create(
            restaurant=trattoria, table=anna.table, party_size=2, starts_at=old, ends_at=old + dt.timedelta(hours=1),
            guest_name="Last month",
        )  # fmt: skip

        response = client.get(feed_url(trattoria))

        assert response.status_code == 200
        assert response["Content-Type"] == "text/calendar; charset=utf-8"
        calendar = Calendar.from_ical(response.content)
        events = {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}
        assert set(events) == {"Anna, 4 people (T3)", "Bruno, 2 people (T1)"}
        assert str(events["Bruno, 2 people (T1)"]["STATUS"]) == "CANCELLED"
        assert events["Anna, 4 people (T3)"].decoded("DTSTART") == at.astimezone(dt.UTC)
        assert f"Code {anna.code}" in str(events["Anna, 4 people (T3)"]["DESCRIPTION"])
        assert str(calendar["X-WR-CALNAME"]) == "Trattoria Test: reservations"

    def test_a_wrong_token_or_anothers_token_is_missing(self, clock, client, trattoria, beta):
        book(trattoria, evening(clock), 4, "Anna")

        for url in [
            feed_url(trattoria, "x" * 32), feed_url(trattoria, beta.book_feed_token),
            feed_url(beta, trattoria.book_feed_token), feed_url(trattoria, trattoria.book_feed_token[:-1]),
            f"/staff/reservations/calendar/987654/{'x' * 32}.ics",
            f"/staff/reservations/calendar/{trattoria.pk}/{'x' * 65}.ics",
        ]:  # fmt: skip
            response = client.get(url)
            assert response.status_code == 404, url
            assert b"Anna" not in response.content

    def test_staff_see_the_address_in_admin_and_a_new_one_retires_the_old(self, clock, client, staff, trattoria):
        page_url = reverse("admin:restaurants_restaurant_change", args=[trattoria.pk])
        old = feed_url(trattoria)
        assert f'value="http://testserver{old}"' in staff.get(page_url).content.decode()

        response = staff.post(
            reverse("admin:restaurants_restaurant_book_feed", args=[trattoria.pk]), {"new_book_feed": "1"},
            HTTP_REFERER=f"http://testserver{page_url}", follow=True,
        )  # fmt: skip

        new = feed_url(Restaurant.objects.get(pk=trattoria.pk))
        assert new != old
        assert [str(m) for m in response.context["messages"]] == [
            "Trattoria Test's calendar feed has a new address: the old one no longer works. Subscribe again with the "
            "new one."
        ]
        assert f'value="http://testserver{new}"' in response.content.decode()
        assert (client.get(old).status_code, client.get(new).status_code) == (404, 200)

    def test_anothers_staff_cannot_make_a_new_address(self, clock, staff, beta):
        before = beta.book_feed_token

        response = staff.post(reverse("admin:restaurants_restaurant_book_feed", args=[beta.pk]), {"new_book_feed": "1"})

        assert response.status_code == 404
        assert Restaurant.objects.get(pk=beta.pk).book_feed_token == before

    def test_a_feed_fetched_too_often_says_when_to_come_back(self, clock, client, trattoria, monkeypatch):
        monkeypatch.setattr("reservations.views.FEED_RATE", "2/h")

        answers = [client.get(feed_url(trattoria)) for _ in range(3)]

        assert [a.status_code for a in answers] == [200, 200, 429]
        assert 1 <= int(answers[2]["Retry-After"]) <= 3600
        assert answers[2].content.decode().startswith("This calendar was fetched too often: try again in ")
