"""Django admin as restaurant staff use it (as a superuser): the restaurant page with its hours and menu
sections, the dish list with filters and one-click availability, and the read-only call log."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from dispatch.models import Call
from restaurants.models import DietaryTag, MenuItem, Restaurant, ServicePeriod
from tests.conftest import KIRITIMATI, MONDAY_NIGHT_UTC, make_restaurant, pinned

pytestmark = pytest.mark.django_db
ITEMS_URL = reverse("admin:restaurants_menuitem_changelist")


def listed(client, **params) -> list[str]:
    """Names of the dishes the dish list shows for these query parameters."""
    response = client.get(ITEMS_URL, params)
    assert response.status_code == 200
    return sorted(i.name for i in response.context["cl"].result_list)


def change_form(restaurant: Restaurant, periods: list[dict], **changes) -> dict:
    """POST data for the change page of a restaurant without special days or menu sections: its own fields
    (with `changes`) and the given service period rows (weekday, opens, closes, label, and id if saved)."""
    fields = [f for f in Restaurant._meta.fields if f.editable and not f.primary_key]
    data = {f.name: f.value_from_object(restaurant) for f in fields}
    data["is_active"] = "on" if restaurant.is_active else ""
    data.update(changes)
    saved = sum(1 for p in periods if "id" in p)
    data |= {"service_periods-TOTAL_FORMS": len(periods), "service_periods-INITIAL_FORMS": saved}
    for i, row in enumerate(periods):
        data |= {f"service_periods-{i}-{k}": v for k, v in row.items()}
        data[f"service_periods-{i}-restaurant"] = restaurant.pk
    for prefix in ("special_days", "menu_sections"):
        data |= {f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0}
    return data


@pytest.fixture
def bare(db) -> Restaurant:
    """A restaurant with no hours, special days or menu yet."""
    return Restaurant.objects.create(
        name="Bar Nuovo", slug="bar-nuovo", cuisine="Wine bar", street_address="Via Roma 1", city="Torino",
        country="IT", phone="+390111234567", time_zone="Europe/Rome",
    )  # fmt: skip


class TestRestaurantPages:
    def test_the_change_page_shows_hours_special_days_and_sections(self, admin_client, restaurant):
        response = admin_client.get(reverse("admin:restaurants_restaurant_change", args=[restaurant.pk]))

        assert response.status_code == 200
        content = response.content.decode()
        for heading in ("Service periods", "Special days", "Menu sections"):
            assert heading in content
        inlines = response.context["inline_admin_formsets"]
        inline_sizes = {i.formset.prefix: i.formset.total_form_count() for i in inlines}
        assert inline_sizes == {"service_periods": 12, "special_days": 0, "menu_sections": 2}
        assert 'value="Antipasti"' in content

    @pinned(MONDAY_NIGHT_UTC, KIRITIMATI)  # closed, then open: each run logs an admin in, so two clocks only
    def test_the_list_shows_whether_each_restaurant_is_open(self, clock, admin_client, restaurant):
        response = admin_client.get(reverse("admin:restaurants_restaurant_changelist"))

        assert response.status_code == 200
        [row] = response.context["cl"].result_list
        assert row.name == "Trattoria Test"
        assert f'<td class="field-opening_status">{clock.badge}</td>' in response.content.decode()

    def test_overlapping_period_rows_are_refused_and_nothing_is_saved(self, admin_client, bare):
        rows = [
            {"weekday": 1, "opens": "12:00", "closes": "15:00", "label": "Lunch"},
            {"weekday": 1, "opens": "14:00", "closes": "18:00", "label": "Aperitivo"},
        ]
        url = reverse("admin:restaurants_restaurant_change", args=[bare.pk])

        response = admin_client.post(url, change_form(bare, rows, name="Bar Rinnovato"))

        assert response.status_code == 200
        assert "Two periods overlap: Tuesday 12:00-15:00 and Tuesday 14:00-18:00." in response.content.decode()
        bare.refresh_from_db()
        assert bare.name == "Bar Nuovo"
        assert not bare.service_periods.exists()

    def test_sunday_night_rows_running_into_monday_are_refused(self, admin_client, bare):
        rows = [
            {"weekday": 6, "opens": "20:00", "closes": "02:00", "label": ""},
            {"weekday": 0, "opens": "01:00", "closes": "03:00", "label": ""},
        ]
        url = reverse("admin:restaurants_restaurant_change", args=[bare.pk])

        response = admin_client.post(url, change_form(bare, rows))

        assert "Two periods overlap: Sunday 20:00-02:00 and Monday 01:00-03:00." in response.content.decode()
        assert not bare.service_periods.exists()

    def test_a_row_without_a_weekday_is_an_error_on_that_row(self, admin_client, bare):
        ServicePeriod.objects.create(restaurant=bare, weekday=1, opens=dt.time(12), closes=dt.time(15))
        rows = [
            {"weekday": "", "opens": "18:00", "closes": "22:00", "label": ""},
            {"weekday": 0, "opens": "18:00", "closes": "22:00", "label": ""},
        ]
        url = reverse("admin:restaurants_restaurant_change", args=[bare.pk])

        response = admin_client.post(url, change_form(bare, rows))

        assert response.status_code == 200
        periods = next(i.formset for i in response.context["inline_admin_formsets"] if i.formset.model is ServicePeriod)
        assert periods.errors[0] == {"weekday": ["This field is required."]}
        assert bare.service_periods.count() == 1

    def test_rows_are_judged_by_their_new_values(self, admin_client, bare):
        # Lunch grows into the old dinner's time while dinner moves later: fine as a whole.
        lunch = ServicePeriod.objects.create(restaurant=bare, weekday=1, opens=dt.time(12), closes=dt.time(15))
        dinner = ServicePeriod.objects.create(restaurant=bare, weekday=1, opens=dt.time(18), closes=dt.time(22))
        rows = [
            {"id": lunch.pk, "weekday": 1, "opens": "12:00", "closes": "19:00", "label": ""},
            {"id": dinner.pk, "weekday": 1, "opens": "19:00", "closes": "23:00", "label": ""},
        ]
        url = reverse("admin:restaurants_restaurant_change", args=[bare.pk])

        response = admin_client.post(url, change_form(bare, rows))

        assert response.status_code == 302
        assert [(p.opens, p.closes) for p in bare.service_periods.all()] == [
            (dt.time(12), dt.time(19)), (dt.time(19), dt.time(23)),
        ]  # fmt: skip


class TestMenuItemList:
    @pytest.fixture
    def two_restaurants(self, restaurant):
        other = make_restaurant(name="Pizzeria Due", slug="pizzeria-due")
        for n, item in enumerate(MenuItem.objects.filter(section__restaurant=other).order_by("id")):
            item.name = f"Due {n}"
            item.save()
        return restaurant, other

    def test_it_filters_by_restaurant(self, admin_client, two_restaurants):
        restaurant, other = two_restaurants

        assert listed(admin_client, section__restaurant__id__exact=other.pk) == [f"Due {n}" for n in range(6)]
        assert "Margherita" in listed(admin_client, section__restaurant__id__exact=restaurant.pk)

    def test_it_filters_by_section(self, admin_client, restaurant):
        pizze = restaurant.find_section("Pizze")

        assert listed(admin_client, section__id__exact=pizze.pk) == ["Diavola", "Margherita", "Tartufo"]

    def test_it_filters_by_availability(self, admin_client, restaurant):
        assert listed(admin_client, is_available__exact=0) == ["Tartufo"]
        assert "Tartufo" not in listed(admin_client, is_available__exact=1)

    def test_it_filters_by_dietary_tag(self, admin_client, restaurant):
        vegan = DietaryTag.objects.get(code="vegan")

        vegan_dishes = listed(admin_client, dietary_tags__id__exact=vegan.pk)

        assert vegan_dishes == ["Bruschetta al pomodoro", "Carciofi alla giudia"]

    def test_it_searches_by_name(self, admin_client, restaurant):
        assert listed(admin_client, q="marg") == ["Margherita"]
        assert listed(admin_client, q="nothing like it") == []


class TestAvailabilityToggle:
    def press(self, client, item: MenuItem, value: str, referer: str = ITEMS_URL):
        """What the row's button sends: a POST of the state it asks for, from the list the staff member is on."""
        url = reverse("admin:restaurants_menuitem_availability", args=[item.pk])
        return client.post(url, {"is_available": value}, HTTP_REFERER=referer)

    def test_each_row_has_a_button_for_the_other_state(self, admin_client, restaurant):
        margherita, tartufo = MenuItem.objects.get(name="Margherita"), MenuItem.objects.get(name="Tartufo")

        page = admin_client.get(ITEMS_URL).content.decode()

        url = reverse("admin:restaurants_menuitem_availability", args=[margherita.pk])
        assert f'formaction="{url}" formmethod="post" name="is_available" value="0"' in page
        assert 'aria-label="Mark Margherita unavailable">86 it</button>' in page
        url = reverse("admin:restaurants_menuitem_availability", args=[tartufo.pk])
        assert f'formaction="{url}" formmethod="post" name="is_available" value="1"' in page
        assert 'aria-label="Mark Tartufo available again">Back on</button>' in page

    def test_one_press_86s_the_dish_and_returns_to_the_same_list(self, admin_client, restaurant):
        margherita = MenuItem.objects.get(name="Margherita")
        filtered = f"{ITEMS_URL}?section__id__exact={margherita.section_id}"

        response = self.press(admin_client, margherita, "0", referer=f"http://testserver{filtered}")

        assert response.status_code == 302 and response["Location"] == f"http://testserver{filtered}"
        assert "Margherita" not in [i.name for i in restaurant.menu().available()]
        shown = [str(m) for m in admin_client.get(filtered).context["messages"]]
        assert shown == ['Margherita is marked unavailable ("86").']

    def test_back_on_brings_the_dish_back(self, admin_client, restaurant):
        self.press(admin_client, MenuItem.objects.get(name="Tartufo"), "1")

        assert MenuItem.objects.get(name="Tartufo").is_available is True

    def test_a_second_press_from_a_stale_page_does_not_flip_it_back(self, admin_client, restaurant):
        margherita = MenuItem.objects.get(name="Margherita")

        self.press(admin_client, margherita, "0")
        self.press(admin_client, margherita, "0")

        assert MenuItem.objects.get(name="Margherita").is_available is False

    def test_it_returns_to_the_dish_list_rather_than_to_another_site(self, admin_client, restaurant):
        response = self.press(admin_client, MenuItem.objects.get(name="Diavola"), "0", referer="https://evil.example/")

        assert response["Location"] == ITEMS_URL

    def test_it_takes_posts_from_staff_who_may_change_dishes_only(self, client, admin_client, restaurant):
        margherita = MenuItem.objects.get(name="Margherita")
        viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
        viewer.user_permissions.add(Permission.objects.get(codename="view_menuitem"))
        client.force_login(viewer)
        url = reverse("admin:restaurants_menuitem_availability", args=[margherita.pk])

        assert self.press(client, margherita, "0").status_code == 403
        assert admin_client.get(url).status_code == 405
        assert self.press(admin_client, margherita, "maybe").status_code == 403
        assert MenuItem.objects.get(name="Margherita").is_available is True

    def test_the_bulk_action_86s_several_dishes(self, admin_client, restaurant):
        pizze = list(MenuItem.objects.filter(section__name="Pizze"))

        admin_client.post(ITEMS_URL, {"action": "mark_unavailable", "_selected_action": [i.pk for i in pizze]})

        assert not MenuItem.objects.filter(section__name="Pizze", is_available=True).exists()
        assert MenuItem.objects.filter(section__name="Antipasti", is_available=True).count() == 3


class TestCallAdmin:
    def test_it_lists_calls_and_offers_no_add_button(self, admin_client, restaurant):
        Call.objects.create(
            restaurant=restaurant, room_name="restaurant-1-0123abcd", dispatch_id="AD_abc",
            participant_identity="diner-1",
        )  # fmt: skip

        response = admin_client.get(reverse("admin:dispatch_call_changelist"))

        assert response.status_code == 200
        content = response.content.decode()
        assert "restaurant-1-0123abcd" in content
        assert "Trattoria Test" in content
        assert reverse("admin:dispatch_call_add") not in content
        assert admin_client.get(reverse("admin:dispatch_call_add")).status_code == 403
