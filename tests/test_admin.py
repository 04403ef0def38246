"""Django admin as restaurant staff use it (as a superuser): the restaurant page with its hours, menu sections
and takeout settings, the dish list with filters and one-click availability, a dish's modifier groups and
their modifiers (one-click availability too), and the read-only call log."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from dispatch.models import Call
from restaurants.models import DietaryTag, MenuItem, Modifier, ModifierGroup, Restaurant, ServicePeriod
from tests.conftest import KIRITIMATI, MONDAY_NIGHT_UTC, make_restaurant, pinned
from tests.test_tenancy import open_form

pytestmark = pytest.mark.django_db
ITEMS_URL = reverse("admin:restaurants_menuitem_changelist")
MODIFIERS_URL = reverse("admin:restaurants_modifier_changelist")


def listed(client, **params) -> list[str]:
    """Names of the dishes the dish list shows for these query parameters."""
    response = client.get(ITEMS_URL, params)
    assert response.status_code == 200
    return sorted(i.name for i in response.context["cl"].result_list)


def change_form(restaurant: Restaurant, periods: list[dict], **changes) -> dict:
    """POST data for the change page of a restaurant without special days, menu sections or tables: its own fields
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
    for prefix in ("special_days", "menu_sections", "tables"):
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
        assert inline_sizes == {"service_periods": 12, "special_days": 0, "menu_sections": 2, "tables": 0}
        assert 'value="Antipasti"' in content

    @pinned(MONDAY_NIGHT_UTC, KIRITIMATI)  # closed, then open: each run logs an admin in, so two clocks only
    def test_the_list_shows_whether_each_restaurant_is_open(self, clock, admin_client, restaurant):
        response = admin_client.get(reverse("admin:restaurants_restaurant_changelist"))

        assert response.status_code == 200
        [row] = response.context["cl"].result_list
        assert row.name == "Trattoria Test"
        assert f'<td class="field-opening_status">{clock.badge}</td>' in response.content.decode()

    def test_the_takeout_settings_have_their_own_fieldset(self, admin_client, bare):
        response = admin_client.get(reverse("admin:restaurants_restaurant_change", args=[bare.pk]))

        [takeout] = [f for f in response.context["adminform"] if f.name == "Takeout orders"]
        assert [line.fields[0] for line in takeout] == [
            "takes_orders", "pickup_lead_minutes", "orders_per_slot", "last_order_minutes",
        ]  # fmt: skip

    def test_the_webhook_has_its_own_fieldset_saying_it_sends_orders_and_bookings(self, admin_client, bare):
        response = admin_client.get(reverse("admin:restaurants_restaurant_change", args=[bare.pk]))

        [webhook] = [f for f in response.context["adminform"] if f.name == "Webhook for orders and bookings"]
        assert [line.fields[0] for line in webhook] == ["order_webhook_url", "order_webhook_secret"]
        assert "both the takeout order events and the table booking events" in webhook.description
        assert "and each table booking event (made, changed, moved, cancelled" in response.content.decode()

    def test_staff_switch_takeout_on_with_their_kitchens_pace(self, admin_client, bare):
        url = reverse("admin:restaurants_restaurant_change", args=[bare.pk])
        pace = {"pickup_lead_minutes": 30, "orders_per_slot": 4, "last_order_minutes": 20}

        response = admin_client.post(url, change_form(bare, [], takes_orders="on", **pace))

        assert response.status_code == 302
        bare.refresh_from_db()
        assert bare.takes_orders is True
        assert (bare.pickup_lead_minutes, bare.orders_per_slot, bare.last_order_minutes) == (30, 4, 20)

    def test_a_kitchen_taking_no_orders_per_slot_is_refused(self, admin_client, bare):
        url = reverse("admin:restaurants_restaurant_change", args=[bare.pk])

        response = admin_client.post(url, change_form(bare, [], takes_orders="on", orders_per_slot=0))

        assert response.context["adminform"].form.errors == {
            "orders_per_slot": ["Ensure this value is greater than or equal to 1."]
        }
        assert Restaurant.objects.get(pk=bare.pk).takes_orders is False

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


@pytest.fixture
def diavola(restaurant) -> MenuItem:
    """Diavola with a required Size (Small -1.50, Regular, Large +3.00) and Extras, up to two of Olives,
    Anchovies and 'Nduja (86'd)."""
    dish = MenuItem.objects.get(name="Diavola")
    size = ModifierGroup.objects.create(menu_item=dish, name="Size", min_choices=1, max_choices=1)
    extras = ModifierGroup.objects.create(menu_item=dish, name="Extras", max_choices=2, position=1)
    for position, (group, name, delta, available) in enumerate([
        (size, "Small", "-1.50", True), (size, "Regular", "0", True), (size, "Large", "3.00", True),
        (extras, "Olives", "1.00", True), (extras, "Anchovies", "1.50", True), (extras, "'Nduja", "2.00", False),
    ]):  # fmt: skip
        Modifier.objects.create(
            group=group, name=name, price_delta=Decimal(delta), is_available=available, position=position
        )
    return dish


def modifier(name: str) -> Modifier:
    return Modifier.objects.get(name=name)


def shown(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


class TestModifierGroups:
    def dish_url(self, dish: MenuItem) -> str:
        return reverse("admin:restaurants_menuitem_change", args=[dish.pk])

    def test_the_dish_page_lists_its_groups_with_their_modifiers_and_links_to_each(self, admin_client, diavola):
        response = admin_client.get(self.dish_url(diavola))

        [groups] = [i for i in response.context["inline_admin_formsets"] if i.formset.model is ModifierGroup]
        assert [f.instance.name for f in groups.formset.forms] == ["Size", "Extras"]
        content = response.content.decode()
        assert "Small -€1.50, Regular, Large +€3.00" in content
        assert "Olives +€1.00, Anchovies +€1.50, &#x27;Nduja +€2.00 (86)" in content
        size = diavola.modifier_groups.get(name="Size")
        assert reverse("admin:restaurants_modifiergroup_change", args=[size.pk]) in content

    def test_a_group_added_on_the_dish_page_is_saved_and_its_missing_choices_are_warned_about(
        self, admin_client, restaurant
    ):
        margherita = MenuItem.objects.get(name="Margherita")
        page = open_form(admin_client, self.dish_url(margherita), "menuitem_form")
        row = {"name": "Choose your crust", "min_choices": "1", "max_choices": "1", "position": "0"}
        added = {"modifier_groups-TOTAL_FORMS": "1"} | {f"modifier_groups-0-{k}": v for k, v in row.items()}

        response = admin_client.post(self.dish_url(margherita), page.data | added, follow=True)

        assert [g.name for g in margherita.modifier_groups.all()] == ["Choose your crust"]
        assert shown(response)[1] == (
            "Diners cannot order Margherita now: “Choose your crust” needs 1 choice and none is available. Add a "
            "modifier to the group or put one back on."
        )

    def test_a_minimum_above_the_maximum_is_refused_with_a_message(self, admin_client, diavola):
        page = open_form(admin_client, self.dish_url(diavola), "menuitem_form")

        response = admin_client.post(
            self.dish_url(diavola), page.data | {"modifier_groups-1-min_choices": "3", "modifier_groups-1-max_choices": "2"}
        )

        assert response.status_code == 200
        [groups] = [i.formset for i in response.context["inline_admin_formsets"] if i.formset.model is ModifierGroup]
        assert groups.errors[1] == {"min_choices": ["The minimum (3) cannot be above the maximum (2)."]}
        assert diavola.modifier_groups.get(name="Extras").max_choices == 2

    def test_a_second_group_with_the_same_name_is_refused(self, admin_client, diavola):
        page = open_form(admin_client, self.dish_url(diavola), "menuitem_form")

        response = admin_client.post(self.dish_url(diavola), page.data | {"modifier_groups-1-name": "Size"})

        [groups] = [i.formset for i in response.context["inline_admin_formsets"] if i.formset.model is ModifierGroup]
        assert groups.non_form_errors() == ["Please correct the duplicate data for name."]
        assert [g.name for g in diavola.modifier_groups.all()] == ["Size", "Extras"]

    def test_the_groups_page_edits_its_modifiers(self, admin_client, diavola):
        extras = diavola.modifier_groups.get(name="Extras")
        url = reverse("admin:restaurants_modifiergroup_change", args=[extras.pk])
        page = open_form(admin_client, url, "modifiergroup_form")
        assert [page.data[f"modifiers-{i}-name"] for i in range(3)] == [["Olives"], ["Anchovies"], ["'Nduja"]]
        row = {"name": "Burrata", "price_delta": "4.00", "is_available": "on", "position": "9"}
        added = {"modifiers-TOTAL_FORMS": "4", "modifiers-2-is_available": "on"}
        added |= {f"modifiers-3-{k}": v for k, v in row.items()}

        response = admin_client.post(url, page.data | added)

        assert response.status_code == 302
        assert [(m.name, m.price_delta, m.is_available) for m in extras.modifiers.all()] == [
            ("Olives", Decimal("1.00"), True), ("Anchovies", Decimal("1.50"), True),
            ("'Nduja", Decimal("2.00"), True), ("Burrata", Decimal("4.00"), True),
        ]  # fmt: skip

    def test_a_price_cut_below_the_dishes_price_is_refused(self, admin_client, diavola):
        size = diavola.modifier_groups.get(name="Size")
        url = reverse("admin:restaurants_modifiergroup_change", args=[size.pk])
        page = open_form(admin_client, url, "modifiergroup_form")

        response = admin_client.post(url, page.data | {"modifiers-0-price_delta": "-11.50"})

        [rows] = [i.formset for i in response.context["inline_admin_formsets"]]
        assert rows.errors[0] == {
            "price_delta": ["Diavola costs €11.00: a price change of -€11.50 would make it cost less than nothing."]
        }
        assert modifier("Small").price_delta == Decimal("-1.50")

    def test_the_group_list_says_what_diners_pick(self, admin_client, diavola):
        response = admin_client.get(reverse("admin:restaurants_modifiergroup_changelist"))

        rows = response.context["cl"].result_list
        assert [(g.name, g.rule_text()) for g in rows] == [("Size", "required, choose 1"), ("Extras", "optional, up to 2")]


class TestModifierAvailabilityToggle:
    def press(self, client, row: Modifier, value: str, referer: str = MODIFIERS_URL):
        """What the row's button sends: a POST of the state it asks for, from the list the staff member is on."""
        url = reverse("admin:restaurants_modifier_availability", args=[row.pk])
        return client.post(url, {"is_available": value}, HTTP_REFERER=referer)

    def test_each_row_has_a_button_for_the_other_state(self, admin_client, diavola):
        page = admin_client.get(MODIFIERS_URL).content.decode()

        url = reverse("admin:restaurants_modifier_availability", args=[modifier("Large").pk])
        assert f'formaction="{url}" formmethod="post" name="is_available" value="0"' in page
        assert 'aria-label="Mark Diavola: Large unavailable">86 it</button>' in page
        url = reverse("admin:restaurants_modifier_availability", args=[modifier("'Nduja").pk])
        assert f'formaction="{url}" formmethod="post" name="is_available" value="1"' in page
        assert 'aria-label="Mark Diavola: &#x27;Nduja available again">Back on</button>' in page

    def test_one_press_86s_the_modifier_and_returns_to_the_same_list(self, admin_client, diavola):
        filtered = f"{MODIFIERS_URL}?q=Olives"

        response = self.press(admin_client, modifier("Olives"), "0", referer=f"http://testserver{filtered}")

        assert response.status_code == 302 and response["Location"] == f"http://testserver{filtered}"
        assert modifier("Olives").is_available is False
        assert shown(admin_client.get(filtered)) == ['Diavola: Olives is marked unavailable ("86").']

    def test_back_on_brings_the_modifier_back(self, admin_client, diavola):
        self.press(admin_client, modifier("'Nduja"), "1")

        assert modifier("'Nduja").is_available is True

    def test_a_second_press_from_a_stale_page_does_not_flip_it_back(self, admin_client, diavola):
        self.press(admin_client, modifier("Large"), "0")
        self.press(admin_client, modifier("Large"), "0")

        assert modifier("Large").is_available is False

    def test_it_returns_to_the_modifier_list_rather_than_to_another_site(self, admin_client, diavola):
        response = self.press(admin_client, modifier("Large"), "0", referer="https://evil.example/")

        assert response["Location"] == MODIFIERS_URL

    def test_it_takes_posts_from_staff_who_may_change_dishes_only(self, client, admin_client, diavola):
        viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
        viewer.user_permissions.add(Permission.objects.get(codename="view_menuitem"))
        client.force_login(viewer)
        url = reverse("admin:restaurants_modifier_availability", args=[modifier("Large").pk])

        assert client.get(MODIFIERS_URL).status_code == 200  # who may see dishes sees their modifiers
        assert self.press(client, modifier("Large"), "0").status_code == 403
        assert admin_client.get(url).status_code == 405
        assert self.press(admin_client, modifier("Large"), "maybe").status_code == 403
        assert modifier("Large").is_available is True

    def test_86ing_the_last_choice_of_a_required_group_warns_that_the_dish_cannot_be_ordered(
        self, admin_client, diavola
    ):
        Modifier.objects.filter(name__in=["Small", "Regular"]).update(is_available=False)

        response = self.press(admin_client, modifier("Large"), "0")

        assert shown(admin_client.get(response["Location"])) == [
            'Diavola: Large is marked unavailable ("86").',
            "Diners cannot order Diavola now: “Size” needs 1 choice and none is available. Add a modifier to the "
            "group or put one back on.",
        ]
        assert list(ModifierGroup.objects.unsatisfiable()) == [diavola.modifier_groups.get(name="Size")]

    def test_the_bulk_actions_name_what_they_change(self, admin_client, diavola):
        def actions(url):
            return [label for _, label in admin_client.get(url).context["action_form"].fields["action"].choices]

        assert actions(ITEMS_URL)[-2:] == ["Mark selected dishes available", 'Mark selected dishes unavailable ("86")']
        assert actions(MODIFIERS_URL)[-2:] == [
            "Mark selected modifiers available", 'Mark selected modifiers unavailable ("86")'
        ]  # fmt: skip

    def test_the_bulk_action_86s_several_modifiers_and_warns_once_per_group(self, admin_client, diavola):
        size = list(Modifier.objects.filter(group__name="Size"))

        response = admin_client.post(
            MODIFIERS_URL, {"action": "mark_unavailable", "_selected_action": [m.pk for m in size]}, follow=True
        )

        assert shown(response) == [
            "3 modifiers are marked unavailable.",
            "Diners cannot order Diavola now: “Size” needs 1 choice and none is available. Add a modifier to the "
            "group or put one back on.",
        ]
        assert not Modifier.objects.filter(group__name="Size", is_available=True).exists()
        assert Modifier.objects.filter(group__name="Extras", is_available=True).count() == 2

    def test_an_optional_group_without_choices_left_warns_nobody(self, admin_client, diavola):
        Modifier.objects.filter(name="Olives").update(is_available=False)

        response = self.press(admin_client, modifier("Anchovies"), "0")

        assert shown(admin_client.get(response["Location"])) == ['Diavola: Anchovies is marked unavailable ("86").']


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
