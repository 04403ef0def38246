"""Staff see and change only their own restaurants in admin; a stale page does not undo what others changed
meanwhile; bulk actions leave admin log entries.

The staff member here is a real login with staff status, in the "Restaurant staff" group (no permission of
its own) and staff of Trattoria Alfa. Osteria Beta belongs to someone else; everything of Beta's is named
with "Beta", so a page that shows none of Beta's data has no "Beta" on it. Each Diavola has a required "Size"
(Small, Regular, Large) and optional "Extras" (Olives, Anchovies).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.contrib.auth.models import Group, Permission, User
from django.db.models.signals import pre_save
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from dispatch.models import Call, UnansweredQuestion
from orders.models import Order, WebhookDelivery
from reservations.models import Reservation, Table
from restaurants.admin_base import RestaurantScopedAdmin, StaleSafeModelForm
from restaurants.models import (
    Allergen,
    DietaryTag,
    HouseFact,
    MenuItem,
    Modifier,
    ModifierGroup,
    PhoneLine,
    Restaurant,
    ServicePeriod,
)
from tests.conftest import make_restaurant

pytestmark = pytest.mark.django_db

MISSING = 987654  # an id no row has
FRIDAY_EVENING = dt.datetime(2026, 6, 12, 18, 0, tzinfo=dt.UTC)


def staff_member(username: str, *restaurants: Restaurant) -> User:
    """A login as a superuser makes one: staff status, the "Restaurant staff" group, and these restaurants."""
    user = User.objects.create_user(username, is_staff=True)
    user.groups.add(Group.objects.get(name="Restaurant staff"))
    for restaurant in restaurants:
        restaurant.staff.add(user)
    return user


def add_choices(restaurant: Restaurant, prefix: str = "") -> None:
    """Diavola's modifier groups: a required Size and optional Extras, each modifier's name after `prefix`."""
    diavola = restaurant.menu_items().get(name__endswith="Diavola")
    size = ModifierGroup.objects.create(menu_item=diavola, name="Size", min_choices=1, max_choices=1)
    extras = ModifierGroup.objects.create(menu_item=diavola, name="Extras", max_choices=2, position=1)
    for group, name, delta in [
        (size, "Small", "-1.50"), (size, "Regular", "0"), (size, "Large", "3.00"),
        (extras, "Olives", "1.00"), (extras, "Anchovies", "1.50"),
    ]:  # fmt: skip
        Modifier.objects.create(group=group, name=f"{prefix}{name}", price_delta=Decimal(delta))


def add_booking(restaurant: Restaurant, table: str, guest: str) -> None:
    """A table for two, and a reservation of it."""
    table = Table.objects.create(restaurant=restaurant, name=table, max_seats=2)
    Reservation.objects.create(
        restaurant=restaurant, table=table, party_size=2, starts_at=FRIDAY_EVENING,
        ends_at=FRIDAY_EVENING + dt.timedelta(minutes=90), guest_name=guest,
    )  # fmt: skip


@pytest.fixture
def alfa(db) -> Restaurant:
    restaurant = make_restaurant(name="Trattoria Alfa", slug="alfa")
    add_choices(restaurant)
    call = Call.objects.create(restaurant=restaurant, room_name="restaurant-alfa-room", participant_identity="diner-1")
    UnansweredQuestion.objects.create(restaurant=restaurant, call=call, question="Do you have a terrace?")
    HouseFact.objects.create(restaurant=restaurant, question="Is there parking?", answer="Yes, behind the trattoria.")
    order = Order.objects.create(restaurant=restaurant, call=call, currency="EUR", customer_name="Anna")
    WebhookDelivery.objects.create(
        restaurant=restaurant, order=order, event_type="order.placed", payload='{"data": {"customer_name": "Anna"}}',
        url="https://pos.alfa.example/orders", webhook_id="msg_alfa",
    )  # fmt: skip
    PhoneLine.objects.create(restaurant=restaurant, number="+390612345670")
    add_booking(restaurant, "T1", "Anna")
    return restaurant


@pytest.fixture
def beta(db) -> Restaurant:
    restaurant = make_restaurant(name="Osteria Beta", slug="beta", cuisine="Beta cooking", city="Bergamo")
    for item in restaurant.menu_items():
        item.name = f"Beta {item.name}"
        item.save()
    add_choices(restaurant, prefix="Beta ")
    call = Call.objects.create(restaurant=restaurant, room_name="restaurant-beta-room", participant_identity="diner-2")
    UnansweredQuestion.objects.create(restaurant=restaurant, call=call, question="Beta: is there parking?")
    HouseFact.objects.create(restaurant=restaurant, question="Beta: are dogs allowed?", answer="Beta says yes.")
    order = Order.objects.create(restaurant=restaurant, call=call, currency="EUR", customer_name="Beta diner")
    WebhookDelivery.objects.create(
        restaurant=restaurant, order=order, event_type="order.placed",
        payload='{"data": {"customer_name": "Beta diner"}}',
        url="https://pos.beta.example/orders", webhook_id="msg_beta",
    )  # fmt: skip
    PhoneLine.objects.create(restaurant=restaurant, number="+39035123456")
    add_booking(restaurant, "Beta T1", "Beta guest")
    staff_member("beta-staff", restaurant)
    return restaurant


@pytest.fixture
def staff(client, alfa, beta):
    """The test client, logged in as Trattoria Alfa's staff member."""
    client.force_login(staff_member("alfa-staff", alfa))
    return client


# Each model admin, and one object of it under a restaurant.
ADMINS = {
    "restaurant": ("restaurants", lambda r: r),
    "menusection": ("restaurants", lambda r: r.menu_sections.get(name="Pizze")),
    "menuitem": ("restaurants", lambda r: r.menu_items().get(name__endswith="Diavola")),
    "call": ("dispatch", lambda r: r.calls.get()),
    "unansweredquestion": ("dispatch", lambda r: r.unanswered_questions.get()),
    "phoneline": ("restaurants", lambda r: r.phone_lines.get()),
    "housefact": ("restaurants", lambda r: r.house_facts.get()),
    "order": ("orders", lambda r: r.orders.get()),
    "webhookdelivery": ("orders", lambda r: WebhookDelivery.objects.get(order__restaurant=r)),
    "modifiergroup": ("restaurants", lambda r: ModifierGroup.objects.get(menu_item__section__restaurant=r, name="Size")),
    "modifier": (
        "restaurants", lambda r: Modifier.objects.get(group__menu_item__section__restaurant=r, name__endswith="Large")
    ),
    "table": ("reservations", lambda r: r.tables.get()),
    "reservation": ("reservations", lambda r: r.reservations.get()),
}


def url(model: str, view: str, *args) -> str:
    return reverse(f"admin:{ADMINS[model][0]}_{model}_{view}", args=args)


def one_of(model: str, restaurant: Restaurant):
    return ADMINS[model][1](restaurant)


def listed(client, model: str, **params) -> list:
    response = client.get(url(model, "changelist"), params)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def answer(client, method: str, path: str, data=None) -> tuple:
    """What the staff member gets: the status, the pages it redirects through and the messages shown, with
    numbers (ids) blanked so that answers about different ids compare equal."""
    response = getattr(client, method)(path, data or {}, follow=True)
    shown = [str(m) for m in response.context["messages"]] if response.context else []
    pages = [u for u, _ in response.redirect_chain]
    return response.status_code, [re.sub(r"\d+", "#", text) for text in pages + shown]


class PageForm(HTMLParser):
    """What a browser submits from the form with id `form_id` on an admin page (JavaScript aside), and the
    option labels of each of its selects."""

    def __init__(self, html: str, form_id: str):
        super().__init__()
        self.form_id, self.inside = form_id, False
        self.data: dict[str, list[str]] = {}
        self.options: dict[str, list[str]] = {}
        self.select = self.option = self.textarea = None
        self.text = ""
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        name, kind = a.get("name"), a.get("type")
        if tag == "input" and name and kind not in ("submit", "button", "file", "image"):
            if kind not in ("checkbox", "radio") or "checked" in a:
                self.data.setdefault(name, []).append(a.get("value") or ("on" if kind == "checkbox" else ""))
        elif tag == "select":
            self.select = name
            self.options[name] = []
        elif tag == "option" and self.select:
            self.option, self.text = (a.get("value", ""), "selected" in a), ""
        elif tag == "textarea":
            self.textarea, self.text = name, ""

    def handle_data(self, data):
        self.text += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "option" and self.option:
            value, selected = self.option
            self.options[self.select].append(self.text)
            if selected:
                self.data.setdefault(self.select, []).append(value)
            self.option = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.data[self.textarea] = [self.text.removeprefix("\n")]  # browsers drop the newline after <textarea>
            self.textarea = None


def open_form(client, path: str, form_id: str) -> PageForm:
    response = client.get(path)
    assert response.status_code == 200
    return PageForm(response.content.decode(), form_id)


class TestEveryAdminIsScoped:
    def test_it_scopes_every_registered_admin_and_inline(self):
        global_read_only = {Allergen, DietaryTag}  # fixed lists, the same for every restaurant
        # The staff group has no permission on them (see TestStaffGroup); background tasks are the operators'.
        superusers_only = {User, Group, DBTaskResult}
        for model, model_admin in admin.site._registry.items():
            if model in superusers_only:
                continue
            if model in global_read_only:
                assert not (model_admin.has_add_permission(None) or model_admin.has_change_permission(None))
                assert not model_admin.has_delete_permission(None)
                continue
            for each in (type(model_admin), *model_admin.inlines):
                assert issubclass(each, RestaurantScopedAdmin), f"{each.__name__} is not scoped"
                assert issubclass(each.form, StaleSafeModelForm), f"{each.__name__} would save stale pages"

    def test_it_covers_every_admin_listed_in_these_tests(self):
        scoped = {m._meta.model_name for m, a in admin.site._registry.items() if isinstance(a, RestaurantScopedAdmin)}

        assert scoped == set(ADMINS)


@pytest.mark.parametrize("model", ADMINS)
class TestAnotherRestaurantsObjects:
    def test_the_list_shows_only_ours(self, staff, alfa, beta, model):
        shown = listed(staff, model)

        assert one_of(model, alfa) in shown
        assert one_of(model, beta) not in shown
        assert listed(staff, model, q="Beta") == []

    def test_theirs_answer_like_a_missing_id(self, staff, beta, model):
        theirs = one_of(model, beta)
        for method, view, data in [
            ("get", "change", None),
            ("post", "change", {"name": "Taken over"}),
            ("get", "delete", None),
            ("post", "delete", {"post": "yes"}),
            ("get", "history", None),
        ]:
            assert answer(staff, method, url(model, view, theirs.pk), data) == answer(
                staff, method, url(model, view, MISSING), data
            ), (method, view)
        assert str(type(theirs).objects.get(pk=theirs.pk)) == str(theirs)

    def test_our_change_page_opens(self, staff, alfa, model):
        ours = one_of(model, alfa)

        response = staff.get(url(model, "change", ours.pk))

        assert response.status_code == 200
        assert str(ours) in response.content.decode()
        assert "Beta" not in response.content.decode()


class TestOwnRestaurantsObjects:
    @pytest.mark.parametrize(
        "model, field",
        [
            ("restaurant", "description"), ("menusection", "name"), ("menuitem", "description"),
            ("modifiergroup", "name"), ("modifier", "name"), ("table", "name"), ("housefact", "answer"),
        ],
    )  # fmt: skip
    def test_staff_change_ours(self, staff, alfa, model, field):
        ours = one_of(model, alfa)
        page = open_form(staff, url(model, "change", ours.pk), f"{model}_form")

        response = staff.post(url(model, "change", ours.pk), page.data | {field: "Changed by staff"})

        assert response.status_code == 302
        ours.refresh_from_db()
        assert getattr(ours, field) == "Changed by staff"

    @pytest.mark.parametrize("model", ["menusection", "menuitem", "modifiergroup", "modifier", "housefact"])
    def test_staff_delete_ours(self, staff, alfa, model):
        ours = one_of(model, alfa)
        assert staff.get(url(model, "delete", ours.pk)).status_code == 200

        response = staff.post(url(model, "delete", ours.pk), {"post": "yes"})

        assert response.status_code == 302
        assert not type(ours).objects.filter(pk=ours.pk).exists()

    @pytest.mark.parametrize("model", ["restaurant", "call"])
    def test_staff_may_not_delete_a_restaurant_or_a_call(self, staff, alfa, model):
        ours = one_of(model, alfa)

        assert staff.get(url(model, "delete", ours.pk)).status_code == 403
        assert staff.post(url(model, "delete", ours.pk), {"post": "yes"}).status_code == 403
        assert type(ours).objects.filter(pk=ours.pk).exists()

    def test_calls_stay_read_only(self, staff, alfa):
        call = one_of("call", alfa)

        assert staff.post(url("call", "change", call.pk), {"room_name": "changed"}).status_code == 403
        assert Call.objects.get(pk=call.pk).room_name == "restaurant-alfa-room"


@pytest.mark.parametrize("model", ["menuitem", "modifier"])
class TestTheOneClick86:
    def press(self, client, model: str, pk: int):
        return client.post(reverse(f"admin:restaurants_{model}_availability", args=[pk]), {"is_available": "0"})

    def test_staff_86_ours(self, staff, alfa, model):
        ours = one_of(model, alfa)

        assert self.press(staff, model, ours.pk).status_code == 302
        assert type(ours).objects.get(pk=ours.pk).is_available is False

    def test_theirs_answers_like_a_missing_one(self, staff, beta, model):
        theirs = one_of(model, beta)

        assert self.press(staff, model, theirs.pk).status_code == self.press(staff, model, MISSING).status_code == 404
        assert type(theirs).objects.get(pk=theirs.pk).is_available is True


class TestFiltersSearchAndChoices:
    @pytest.mark.parametrize("model", ADMINS)
    def test_lists_and_their_filters_name_only_our_restaurant(self, staff, model):
        content = staff.get(url(model, "changelist")).content.decode()

        assert "Trattoria Alfa" in content
        assert "Beta" not in content

    def test_the_dish_filters_offer_only_our_restaurants_and_sections(self, client, alfa, beta):
        gamma = make_restaurant(name="Caffè Gamma", slug="gamma")
        client.force_login(staff_member("two-places", alfa, gamma))
        changelist = client.get(url("menuitem", "changelist")).context["cl"]

        filters = {spec.title: [c["display"] for c in spec.choices(changelist)] for spec in changelist.filter_specs}

        assert filters["restaurant"] == ["All", "Caffè Gamma", "Trattoria Alfa"]
        assert filters["section"] == [
            "All", "Caffè Gamma: Antipasti", "Caffè Gamma: Pizze", "Trattoria Alfa: Antipasti", "Trattoria Alfa: Pizze",
        ]  # fmt: skip

    def test_search_finds_only_our_dishes(self, staff, alfa):
        assert [i.name for i in listed(staff, "menuitem", q="Margherita")] == ["Margherita"]
        assert listed(staff, "restaurant", q="Osteria") == []

    def test_autocomplete_offers_only_ours(self, staff, alfa):
        def labels(model_name, field_name):
            params = {"app_label": "restaurants", "model_name": model_name, "field_name": field_name, "term": ""}
            return [r["text"] for r in staff.get(reverse("admin:autocomplete"), params).json()["results"]]

        assert labels("menusection", "restaurant") == ["Trattoria Alfa"]
        assert labels("menuitem", "section") == ["Trattoria Alfa: Antipasti", "Trattoria Alfa: Pizze"]
        assert labels("modifiergroup", "menu_item") == [i.name for i in alfa.menu_items()]
        assert labels("modifier", "group") == ["Diavola: Size", "Diavola: Extras"]

    def test_add_pages_offer_only_our_restaurant_and_sections(self, staff):
        section_page = open_form(staff, url("menusection", "add"), "menusection_form")
        dish_page = open_form(staff, url("menuitem", "add"), "menuitem_form")

        assert section_page.options["restaurant"] == ["---------", "Trattoria Alfa"]
        assert dish_page.options["section"] == ["---------", "Trattoria Alfa: Antipasti", "Trattoria Alfa: Pizze"]

    def test_modifier_pages_offer_only_our_dishes_and_groups(self, staff, alfa):
        group_page = open_form(staff, url("modifiergroup", "add"), "modifiergroup_form")
        modifier_page = open_form(staff, url("modifier", "add"), "modifier_form")

        assert group_page.options["menu_item"] == ["---------", *(i.name for i in alfa.menu_items())]
        assert modifier_page.options["group"] == ["---------", "Diavola: Size", "Diavola: Extras"]

    def test_a_group_cannot_be_moved_or_added_onto_their_dish(self, staff, alfa, beta):
        size, their_diavola = one_of("modifiergroup", alfa), one_of("menuitem", beta)
        page = open_form(staff, url("modifiergroup", "change", size.pk), "modifiergroup_form")

        moved = staff.post(url("modifiergroup", "change", size.pk), page.data | {"menu_item": str(their_diavola.pk)})
        added = staff.post(
            url("modifiergroup", "add"),
            {"menu_item": their_diavola.pk, "name": "Intrusa", "min_choices": 0, "max_choices": 1, "position": 0,
             "modifiers-TOTAL_FORMS": 0, "modifiers-INITIAL_FORMS": 0},
        )  # fmt: skip

        for response in (moved, added):
            assert response.status_code == 200
            assert response.context["adminform"].form.errors["menu_item"] == [
                "Select a valid choice. That choice is not one of the available choices."
            ]
        assert ModifierGroup.objects.get(pk=size.pk).menu_item.restaurant == alfa
        assert not ModifierGroup.objects.filter(name="Intrusa").exists()

    def test_a_modifier_cannot_be_moved_or_added_into_their_group(self, staff, alfa, beta):
        large, their_size = one_of("modifier", alfa), one_of("modifiergroup", beta)
        page = open_form(staff, url("modifier", "change", large.pk), "modifier_form")

        moved = staff.post(url("modifier", "change", large.pk), page.data | {"group": str(their_size.pk)})
        added = staff.post(
            url("modifier", "add"), {"group": their_size.pk, "name": "Intruso", "price_delta": "0", "position": 0}
        )

        for response in (moved, added):
            assert response.status_code == 200
            assert response.context["adminform"].form.errors["group"] == [
                "Select a valid choice. That choice is not one of the available choices."
            ]
        assert Modifier.objects.get(pk=large.pk).group.menu_item.restaurant == alfa
        assert not Modifier.objects.filter(name="Intruso").exists()

    def test_a_row_of_our_page_naming_one_of_theirs_changes_nothing(self, staff, alfa, beta):
        # Django's formsets skip a row whose id is not among the page's own rows.
        for model, parent, theirs, prefix in [
            ("menuitem", one_of("menuitem", alfa), one_of("modifiergroup", beta), "modifier_groups"),
            ("modifiergroup", one_of("modifiergroup", alfa), one_of("modifier", beta), "modifiers"),
        ]:
            page = open_form(staff, url(model, "change", parent.pk), f"{model}_form")
            assert f"{prefix}-0-id" in page.data, model
            before = [str(row) for row in type(theirs).objects.order_by("pk")]

            staff.post(
                url(model, "change", parent.pk), page.data | {f"{prefix}-0-id": str(theirs.pk), f"{prefix}-0-name": "Taken"}
            )

            assert [str(row) for row in type(theirs).objects.order_by("pk")] == before, model

    def test_a_dish_cannot_be_moved_or_added_into_their_section(self, staff, alfa, beta):
        diavola, their_pizze = one_of("menuitem", alfa), beta.menu_sections.get(name="Pizze")
        page = open_form(staff, url("menuitem", "change", diavola.pk), "menuitem_form")

        moved = staff.post(url("menuitem", "change", diavola.pk), page.data | {"section": str(their_pizze.pk)})
        added = staff.post(url("menuitem", "add"), {"section": their_pizze.pk, "name": "Intrusa", "price": "5"})

        for response in (moved, added):
            assert response.status_code == 200
            assert response.context["adminform"].form.errors["section"] == [
                "Select a valid choice. That choice is not one of the available choices."
            ]
        assert MenuItem.objects.get(pk=diavola.pk).section.restaurant == alfa
        assert not MenuItem.objects.filter(name="Intrusa").exists()


class TestInsights:
    """The insights page and its CSV export (insights/) count our restaurant's calls only."""

    def test_the_page_and_the_export_hold_only_ours(self, staff, alfa):
        from tests.test_insights import read_csv

        page = staff.get("/staff/insights/", {"days": 7})
        rows = read_csv(staff.get("/staff/insights/calls.csv", {"days": 7}))

        assert [r.name for r in page.context["restaurants"]] == ["Trattoria Alfa"]
        assert "Do you have a terrace?" in page.content.decode()
        assert "Beta" not in page.content.decode()
        assert [int(r["call_id"]) for r in rows] == [alfa.calls.get().pk]

    @pytest.mark.parametrize("path", ["/staff/insights/", "/staff/insights/calls.csv"])
    def test_theirs_answer_like_a_missing_restaurant(self, staff, beta, path):
        theirs, missing = staff.get(path, {"restaurant": beta.pk}), staff.get(path, {"restaurant": MISSING})

        assert theirs.status_code == missing.status_code == 404
        assert theirs.content == missing.content


class TestRestaurantsAndTheirStaff:
    def test_staff_cannot_add_a_restaurant_even_with_the_permission(self, staff):
        # It would belong to nobody: only a superuser picks a restaurant's staff.
        User.objects.get(username="alfa-staff").user_permissions.add(Permission.objects.get(codename="add_restaurant"))

        assert url("restaurant", "add") not in staff.get(url("restaurant", "changelist")).content.decode()
        assert staff.get(url("restaurant", "add")).status_code == 403
        assert staff.post(url("restaurant", "add"), {"name": "Nuovo"}).status_code == 403
        assert Restaurant.objects.count() == 2

    def test_staff_neither_see_nor_set_who_the_staff_are(self, staff, alfa):
        outsider = User.objects.create_user("outsider", is_staff=True)
        page = open_form(staff, url("restaurant", "change", alfa.pk), "restaurant_form")
        assert "staff" not in page.data and "staff" not in page.options

        response = staff.post(url("restaurant", "change", alfa.pk), page.data | {"staff": [str(outsider.pk)]})

        assert response.status_code == 302
        assert [u.username for u in alfa.staff.all()] == ["alfa-staff"]

    def test_staff_see_but_cannot_raise_their_simultaneous_calls(self, staff, alfa, admin_client):
        # The calls of every restaurant share the same workers: whoever runs them sizes each restaurant's share.
        page = open_form(staff, url("restaurant", "change", alfa.pk), "restaurant_form")
        assert "max_concurrent_calls" not in page.data
        assert "Simultaneous calls" in staff.get(url("restaurant", "change", alfa.pk)).content.decode()

        staff.post(url("restaurant", "change", alfa.pk), page.data | {"max_concurrent_calls": "50"})

        assert Restaurant.objects.get(pk=alfa.pk).max_concurrent_calls == 4
        page = open_form(admin_client, url("restaurant", "change", alfa.pk), "restaurant_form")
        admin_client.post(url("restaurant", "change", alfa.pk), page.data | {"max_concurrent_calls": "6"})
        assert Restaurant.objects.get(pk=alfa.pk).max_concurrent_calls == 6

    def test_a_superuser_gives_a_login_a_restaurant_and_it_then_works_there(self, client, admin_client, alfa, beta):
        newcomer = staff_member("newcomer")
        client.force_login(newcomer)
        assert listed(client, "restaurant") == []
        page = open_form(admin_client, url("restaurant", "change", alfa.pk), "restaurant_form")

        admin_client.post(url("restaurant", "change", alfa.pk), page.data | {"staff": [str(newcomer.pk)]})

        assert listed(client, "restaurant") == [alfa]
        margherita = alfa.menu_items().get(name="Margherita")
        client.post(reverse("admin:restaurants_menuitem_availability", args=[margherita.pk]), {"is_available": "0"})
        assert MenuItem.objects.get(pk=margherita.pk).is_available is False

    def test_staff_of_no_restaurant_see_empty_lists(self, client, alfa, beta):
        client.force_login(staff_member("nobody-yet"))

        for model in ADMINS:
            assert listed(client, model) == [], model


class TestStaffGroup:
    def test_it_holds_exactly_the_permissions_staff_need(self):
        # The test database is built by `migrate` on an empty database: this is what a new deployment gets.
        group = Group.objects.get(name="Restaurant staff")

        granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}

        edit = {
            f"restaurants.{action}_{model}"
            for model in ("serviceperiod", "specialday", "menusection", "menuitem", "phoneline", "housefact")
            for action in ("add", "change", "delete", "view")
        }
        assert granted == edit | {
            "restaurants.view_restaurant", "restaurants.change_restaurant",
            "restaurants.view_allergen", "restaurants.view_dietarytag", "dispatch.view_call",
            "dispatch.view_unansweredquestion", "dispatch.change_unansweredquestion",
            "orders.view_order", "orders.view_orderline", "orders.view_webhookdelivery", "orders.view_webhookattempt",
            "reservations.add_table", "reservations.change_table", "reservations.delete_table",
            "reservations.view_table", "reservations.view_reservation",
        }  # fmt: skip


class TestStalePages:
    def open_dish(self, client, item: MenuItem) -> PageForm:
        return open_form(client, url("menuitem", "change", item.pk), "menuitem_form")

    def test_saving_a_stale_dish_page_keeps_an_86_made_from_the_list(self, staff, alfa):
        margherita = alfa.menu_items().get(name="Margherita")
        page = self.open_dish(staff, margherita)
        staff.post(reverse("admin:restaurants_menuitem_availability", args=[margherita.pk]), {"is_available": "0"})

        response = staff.post(url("menuitem", "change", margherita.pk), page.data | {"description": "Fior di latte"})

        assert response.status_code == 302
        margherita.refresh_from_db()
        assert margherita.description == "Fior di latte"
        assert margherita.is_available is False

    def test_saving_a_stale_dish_page_keeps_allergens_someone_added(self, staff, alfa):
        carciofi = alfa.menu_items().get(name="Carciofi alla giudia")  # opened with no allergens
        page = self.open_dish(staff, carciofi)
        carciofi.allergens.add(Allergen.objects.get(code="mustard"))

        staff.post(url("menuitem", "change", carciofi.pk), page.data | {"description": "Fried whole"})

        assert [a.code for a in carciofi.allergens.all()] == ["mustard"]
        assert MenuItem.objects.get(pk=carciofi.pk).description == "Fried whole"

    def test_a_change_to_a_field_someone_else_changed_is_refused(self, staff, alfa):
        diavola = one_of("menuitem", alfa)
        page = self.open_dish(staff, diavola)
        MenuItem.objects.filter(pk=diavola.pk).update(price=Decimal("10.00"))

        response = staff.post(
            url("menuitem", "change", diavola.pk), page.data | {"price": "12.00", "description": "Spicy salami"}
        )

        assert response.status_code == 200
        assert response.context["adminform"].form.errors["price"] == [
            "Someone else changed this to “10.00” since you opened this page. Reload the page to see the current "
            "values, then make your change again."
        ]
        diavola.refresh_from_db()
        assert (diavola.price, diavola.description) == (Decimal("10.00"), "")

    def test_after_a_reload_the_change_goes_through(self, staff, alfa):
        diavola = one_of("menuitem", alfa)
        MenuItem.objects.filter(pk=diavola.pk).update(price=Decimal("10.00"))
        page = self.open_dish(staff, diavola)

        staff.post(url("menuitem", "change", diavola.pk), page.data | {"price": "12.00"})

        assert MenuItem.objects.get(pk=diavola.pk).price == Decimal("12.00")

    def test_a_change_committed_while_the_page_is_saved_survives(self, staff, alfa):
        diavola = one_of("menuitem", alfa)
        page = self.open_dish(staff, diavola)

        def someone_else_commits(sender, instance, **kwargs):
            # Another request, between this one reading the dish and writing it.
            MenuItem.objects.filter(pk=instance.pk).update(is_available=False)
            instance.allergens.add(Allergen.objects.get(code="mustard"))

        pre_save.connect(someone_else_commits, sender=MenuItem)
        try:
            staff.post(url("menuitem", "change", diavola.pk), page.data | {"description": "Spicy salami"})
        finally:
            pre_save.disconnect(someone_else_commits, sender=MenuItem)

        diavola.refresh_from_db()
        assert (diavola.description, diavola.is_available) == ("Spicy salami", False)
        assert sorted(a.code for a in diavola.allergens.all()) == ["gluten", "milk", "mustard"]

    def test_an_hours_row_saves_only_what_the_page_changed(self, staff, alfa):
        lunch = alfa.service_periods.get(weekday=1, label="Lunch")
        page = open_form(staff, url("restaurant", "change", alfa.pk), "restaurant_form")
        row = next(k for k, v in page.data.items() if k.endswith("-id") and v == [str(lunch.pk)]).removesuffix("-id")

        def someone_else_commits(sender, instance, **kwargs):
            type(instance).objects.filter(pk=instance.pk).update(closes=dt.time(15))

        pre_save.connect(someone_else_commits, sender=ServicePeriod)
        try:
            staff.post(url("restaurant", "change", alfa.pk), page.data | {f"{row}-label": "Pranzo"})
        finally:
            pre_save.disconnect(someone_else_commits, sender=ServicePeriod)

        lunch.refresh_from_db()
        assert (lunch.label, lunch.closes) == ("Pranzo", dt.time(15))

    def test_saving_a_stale_restaurant_page_keeps_hours_changed_meanwhile(self, staff, alfa):
        page = open_form(staff, url("restaurant", "change", alfa.pk), "restaurant_form")
        lunch = alfa.service_periods.get(weekday=1, label="Lunch")
        lunch.label = "Pranzo"
        lunch.save()

        response = staff.post(url("restaurant", "change", alfa.pk), page.data | {"description": "New description"})

        assert response.status_code == 302
        assert alfa.service_periods.get(pk=lunch.pk).label == "Pranzo"
        assert Restaurant.objects.get(pk=alfa.pk).description == "New description"

    def test_the_row_as_it_would_be_stored_is_checked(self, staff, alfa):
        diavola, antipasti = one_of("menuitem", alfa), alfa.menu_sections.get(name="Antipasti")
        page = self.open_dish(staff, diavola)
        MenuItem.objects.filter(pk=diavola.pk).update(section=antipasti)  # someone moves it meanwhile

        response = staff.post(url("menuitem", "change", diavola.pk), page.data | {"name": "Supplì"})

        assert response.status_code == 200
        assert response.context["adminform"].form.non_field_errors() == [
            "Menu item with this Section and Name already exists.",
            "Since you opened this page someone else changed “Section”. Reload the page to see the current values, "
            "then make your change again.",
        ]
        assert MenuItem.objects.get(pk=diavola.pk).name == "Diavola"

    def test_saving_a_stale_restaurant_list_keeps_a_restaurant_switched_off_meanwhile(self, staff, alfa):
        page = open_form(staff, url("restaurant", "changelist"), "changelist-form")
        Restaurant.objects.filter(pk=alfa.pk).update(is_active=False)

        response = staff.post(url("restaurant", "changelist"), page.data | {"_save": "Save"})

        assert response.status_code == 302
        assert Restaurant.objects.get(pk=alfa.pk).is_active is False

    def test_a_post_without_the_opened_values_saves_what_it_posts(self, staff, alfa):
        page = open_form(staff, url("restaurant", "change", alfa.pk), "restaurant_form")
        posted = {k: v for k, v in page.data.items() if not k.startswith("initial-")}
        posted.pop("is_active")  # an unticked box is not posted

        assert staff.post(url("restaurant", "change", alfa.pk), posted).status_code == 302
        assert Restaurant.objects.get(pk=alfa.pk).is_active is False


class TestBulkActions:
    def select(self, client, action: str, items: list[MenuItem], **extra):
        data = {"action": action, "_selected_action": [i.pk for i in items], **extra}
        return client.post(url("menuitem", "changelist"), data, follow=True)

    def test_bulk_86_logs_each_dish_it_changes_and_leaves_theirs(self, staff, alfa, beta):
        ours = [alfa.menu_items().get(name=n) for n in ("Margherita", "Diavola", "Tartufo")]  # Tartufo is 86'd
        theirs = one_of("menuitem", beta)

        response = self.select(staff, "mark_unavailable", [*ours, theirs])

        assert [str(m) for m in response.context["messages"]] == ["2 dishes are marked unavailable."]
        assert not alfa.menu_items().filter(name__in=["Margherita", "Diavola", "Tartufo"], is_available=True).exists()
        assert MenuItem.objects.get(pk=theirs.pk).is_available is True
        entries = LogEntry.objects.filter(action_flag=CHANGE).order_by("object_repr")
        assert [(e.object_repr, e.get_change_message(), e.user.username) for e in entries] == [
            ("Diavola", "Changed Available.", "alfa-staff"),
            ("Margherita", "Changed Available.", "alfa-staff"),
        ]

    def test_bulk_86_of_modifiers_leaves_theirs(self, staff, alfa, beta):
        ours, theirs = one_of("modifier", alfa), one_of("modifier", beta)

        response = staff.post(
            url("modifier", "changelist"),
            {"action": "mark_unavailable", "_selected_action": [ours.pk, theirs.pk]},
            follow=True,
        )

        assert [str(m) for m in response.context["messages"]] == ["1 modifier is marked unavailable."]
        assert Modifier.objects.get(pk=ours.pk).is_available is False
        assert Modifier.objects.get(pk=theirs.pk).is_available is True
        entry = LogEntry.objects.get(action_flag=CHANGE)
        assert (entry.object_repr, entry.get_change_message(), entry.user.username) == (
            "Large", "Changed Available.", "alfa-staff"
        )  # fmt: skip

    def test_bulk_delete_logs_each_dish_and_leaves_theirs(self, staff, alfa, beta):
        ours = [alfa.menu_items().get(name=n) for n in ("Margherita", "Diavola")]
        theirs = one_of("menuitem", beta)

        self.select(staff, "delete_selected", [*ours, theirs], post="yes")

        assert not MenuItem.objects.filter(pk__in=[i.pk for i in ours]).exists()
        assert MenuItem.objects.filter(pk=theirs.pk).exists()
        deleted = LogEntry.objects.filter(action_flag=DELETION).values_list("object_repr", flat=True)
        assert sorted(deleted) == ["Diavola", "Margherita"]


class TestTheQuestionQueueAndAnswerIt:
    """The grouped queue of unanswered questions and "Answer it" show and change only the staff member's own."""

    GROUPED = reverse("admin:dispatch_unansweredquestion_grouped")

    def answer_url(self, pk: int) -> str:
        return reverse("admin:dispatch_unansweredquestion_answer", args=[pk])

    def test_the_grouped_queue_shows_only_ours(self, staff, alfa):
        response = staff.get(self.GROUPED)

        assert [(r["group"].question, r["group"].restaurant) for r in response.context["rows"]] == [
            ("Do you have a terrace?", alfa)
        ]  # fmt: skip
        assert "Beta" not in response.content.decode()

    def test_their_restaurant_in_the_grouped_queue_answers_like_a_missing_one(self, staff, alfa, beta):
        assert staff.get(self.GROUPED, {"restaurant": beta.pk}).status_code == 404
        assert staff.get(self.GROUPED, {"restaurant": MISSING}).status_code == 404
        assert staff.get(self.GROUPED, {"restaurant": "x"}).status_code == 404
        assert staff.get(self.GROUPED, {"restaurant": alfa.pk}).status_code == 200

    def test_staff_answer_ours(self, staff, alfa):
        ours = one_of("unansweredquestion", alfa)

        response = staff.post(self.answer_url(ours.pk), {"answer": "Yes, on the piazza."})

        assert response.status_code == 302
        assert HouseFact.objects.get(source=ours).restaurant == alfa
        assert UnansweredQuestion.objects.get(pk=ours.pk).resolved_at is not None

    def test_answering_theirs_answers_like_a_missing_one_and_changes_nothing(self, staff, beta):
        theirs = one_of("unansweredquestion", beta)
        facts = HouseFact.objects.count()

        for method, data in [("get", None), ("post", {"answer": "Taken over"})]:
            ask = getattr(staff, method)
            got, missing = ask(self.answer_url(theirs.pk), data), ask(self.answer_url(MISSING), data)
            assert got.status_code == missing.status_code == 404, method
            shown, not_there = got.content.decode(), missing.content.decode()
            assert shown.replace(str(theirs.pk), "#") == not_there.replace(str(MISSING), "#")
        assert UnansweredQuestion.objects.get(pk=theirs.pk).resolved_at is None
        assert HouseFact.objects.count() == facts

    def test_without_the_house_fact_permission_there_is_no_answer_it(self, client, alfa):
        viewer = User.objects.create_user("viewer", is_staff=True)
        viewer.user_permissions.add(
            *Permission.objects.filter(codename__in=["view_unansweredquestion", "change_unansweredquestion"])
        )
        alfa.staff.add(viewer)
        client.force_login(viewer)
        ours = one_of("unansweredquestion", alfa)

        assert "Answer it" not in client.get(self.GROUPED).content.decode()
        assert client.post(self.answer_url(ours.pk), {"answer": "Yes."}).status_code == 403
        assert not HouseFact.objects.filter(source=ours).exists()

    def test_a_house_fact_cannot_be_added_to_their_restaurant(self, staff, alfa, beta):
        page = open_form(staff, url("housefact", "add"), "housefact_form")
        assert page.options["restaurant"] == ["---------", "Trattoria Alfa"]

        intruder = {"restaurant": beta.pk, "question": "Intrusa?", "answer": "Yes.", "is_active": "on"}
        response = staff.post(url("housefact", "add"), intruder)

        assert response.status_code == 200
        assert response.context["adminform"].form.errors["restaurant"] == [
            "Select a valid choice. That choice is not one of the available choices."
        ]
        assert not HouseFact.objects.filter(question="Intrusa?").exists()
