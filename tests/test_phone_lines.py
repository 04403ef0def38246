"""Phone lines: numbers parsed and kept in E.164, one restaurant per number, staff editing their restaurants'
lines in admin with each save reaching LiveKit (or saying why not), the transfer of a phone caller, and the
demo's lines."""

from __future__ import annotations

import asyncio
import json
from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import TestCase
from django.urls import reverse

from dispatch.livekit import client, sip
from dispatch.livekit.sip import LiveKitRefused, SipNotConnected, TransferRefused
from restaurants.models import PhoneLine, Restaurant
from tests.conftest import make_restaurant

pytestmark = pytest.mark.django_db

ADD = reverse("admin:restaurants_phoneline_add")
REDIS_SENTENCE = (
    "LiveKit's SIP service is not connected: livekit-server needs Redis (redis: in its config) for phone calls."
)


def change_url(line: PhoneLine) -> str:
    return reverse("admin:restaurants_phoneline_change", args=[line.pk])


def delete_url(line: PhoneLine) -> str:
    return reverse("admin:restaurants_phoneline_delete", args=[line.pk])


def said(response) -> list[tuple[str, str]]:
    """The messages the admin gave with a response: (level tag, text)."""
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def trattoria(db) -> Restaurant:
    return make_restaurant()


@pytest.fixture
def other(db) -> Restaurant:
    return make_restaurant(name="Osteria Altra", slug="altra", phone="+390612345679")


@pytest.fixture
def staff(client, trattoria):
    """The test client logged in as Trattoria Test's staff member (the "Restaurant staff" group)."""
    user = User.objects.create_user("trattoria-staff", is_staff=True)
    user.groups.add(Group.objects.get(name="Restaurant staff"))
    trattoria.staff.add(user)
    client.force_login(user)
    return client


def post(client, url: str, data: dict):
    """Posts to admin, then runs what waited for the commit of the view's transaction (the sync with LiveKit),
    as the end of the view's transaction does outside tests (a test's transaction never commits)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(url, data)


def add_line(client, restaurant, **fields):
    data = {"restaurant": restaurant.pk, "number": "+1 (510) 555-0100", "transfer_number": "", "is_active": "on"}
    return post(client, ADD, data | fields)


class TestNumbers:
    @pytest.mark.parametrize(
        "typed", ["+1 510 555 0100", "+1 (510) 555-0100", "+1-510-555-0100", "+15105550100", " +1 510.555.0100 "]
    )
    def test_a_line_is_kept_in_e164_however_it_is_typed(self, staff, trattoria, typed):
        response = add_line(staff, trattoria, number=typed)

        assert response.status_code == 302
        assert PhoneLine.objects.values_list("number", flat=True).get() == "+15105550100"

    @pytest.mark.parametrize("typed", ["510 555 0100", "+1 510 555", "+44 7700 900123", "call us", "+0 12345678"])
    def test_a_bad_number_is_refused_with_a_clear_error(self, staff, trattoria, typed):
        response = add_line(staff, trattoria, number=typed)

        assert response.status_code == 200
        assert response.context["adminform"].form.errors["number"] == [
            "Enter a valid phone number in international form: + and the country code, e.g. +44 20 7946 0123."
        ]
        assert not PhoneLine.objects.exists()

    def test_a_number_reaches_one_restaurant_only(self, admin_client, trattoria, other):
        PhoneLine.objects.create(restaurant=other, number="+15105550100")

        response = add_line(admin_client, trattoria, number="+1 510 555 0100")

        assert response.status_code == 200
        assert response.context["adminform"].form.errors["number"] == [
            "This number is already a phone line, here or at another restaurant: each number reaches one restaurant."
        ]
        assert PhoneLine.objects.get().restaurant == other

    def test_the_transfer_number_is_checked_too_and_may_be_empty(self, staff, trattoria):
        refused = add_line(staff, trattoria, transfer_number="555 0199")
        same = add_line(staff, trattoria, transfer_number="+15105550100")
        fine = add_line(staff, trattoria, transfer_number="+1 510 555 0199")

        assert "transfer_number" in refused.context["adminform"].form.errors
        assert same.context["adminform"].form.errors["transfer_number"] == [
            "Put callers through to another number than the line's own."
        ]
        assert fine.status_code == 302
        assert str(PhoneLine.objects.get().transfer_number) == "+15105550199"

    def test_the_restaurants_own_phone_is_parsed_and_printed_in_e164(self, client, trattoria):
        trattoria.phone = "+39 06 1234 5678"
        trattoria.full_clean()
        trattoria.save()

        page = client.get(reverse("restaurant-detail", args=[trattoria.slug])).content.decode()

        assert Restaurant.objects.values_list("phone", flat=True).get() == "+390612345678"
        assert 'href="tel:+390612345678"' in page

    def test_the_restaurants_phone_refuses_a_bad_number(self, trattoria):
        trattoria.phone = "06 1234 5678"

        with pytest.raises(ValidationError) as error:
            trattoria.full_clean()
        assert list(error.value.message_dict) == ["phone"]


class TestAdminSyncsWithLiveKit:
    def test_staff_add_a_line_and_it_is_live(self, staff, trattoria, livekit):
        response = add_line(staff, trattoria, transfer_number="+15105550199")

        assert response.status_code == 302
        added, (level, text) = said(response)
        assert added[0] == "success" and level == "success"
        assert "LiveKit is updated: create trunk maitre for +15105550100; create rule for +15105550100" in text
        rule, = livekit.sip_rules.values()
        assert list(rule.numbers) == ["+15105550100"]
        assert json.loads(rule.room_config.agents[0].metadata) == {"restaurant_id": trattoria.pk, "channel": "phone"}

    def test_changing_the_number_updates_the_rule(self, staff, trattoria, livekit):
        add_line(staff, trattoria)
        line = PhoneLine.objects.get()
        rule_id, = livekit.sip_rules

        response = post(staff, change_url(line), {"restaurant": trattoria.pk, "number": "+1 510 555 0123",
                                                 "transfer_number": "", "is_active": "on"})  # fmt: skip

        assert response.status_code == 302
        assert list(livekit.sip_rules[rule_id].numbers) == ["+15105550123"]
        assert f"update rule {rule_id} for +15105550123" in said(response)[-1][1]

    def test_deleting_a_line_deletes_its_rule_and_the_empty_trunk(self, staff, trattoria, livekit):
        add_line(staff, trattoria)
        line = PhoneLine.objects.get()

        response = post(staff, delete_url(line), {"post": "yes"})

        assert response.status_code == 302
        assert livekit.sip_rules == {} and livekit.sip_trunks == {}
        assert "delete rule SDR_" in said(response)[-1][1]

    def test_a_line_saved_again_unchanged_writes_nothing(self, staff, trattoria, livekit):
        add_line(staff, trattoria)
        line = PhoneLine.objects.get()
        writes = list(livekit.sip_writes)

        response = post(staff, change_url(line), {"restaurant": trattoria.pk, "number": "+15105550100",
                                                 "transfer_number": "", "is_active": "on"})  # fmt: skip

        assert said(response)[-1] == ("success", "LiveKit already had this phone line as it is.")
        assert livekit.sip_writes == writes

    def test_without_redis_the_line_is_saved_and_the_page_says_why_it_is_not_live(
        self, staff, trattoria, livekit
    ):
        livekit.sip_without_redis()

        response = add_line(staff, trattoria)

        assert response.status_code == 302
        assert PhoneLine.objects.exists()
        level, text = said(response)[-1]
        assert level == "error"
        assert text == (f"The phone line is saved, but LiveKit was not updated. {REDIS_SENTENCE} Once that is fixed, "
                        "run manage.py sync_sip.")  # fmt: skip

    def test_a_livekit_too_old_for_phone_lines_is_named_with_the_versions_needed(self, staff, trattoria, livekit):
        livekit.as_livekit_1_8()

        response = add_line(staff, trattoria)

        assert PhoneLine.objects.exists()
        assert said(response)[-1] == (
            "error",
            f"The phone line is saved, but LiveKit was not updated. {sip.SIP_SERVER_TOO_OLD} Once that is "
            "fixed, run manage.py sync_sip.",
        )

    def test_what_livekit_refuses_is_shown_in_its_words(self, staff, trattoria, livekit):
        livekit.fail_with(400, {"code": "invalid_argument", "msg": "Conflicting inbound SIP Trunks"})

        response = add_line(staff, trattoria)

        level, text = said(response)[-1]
        assert level == "error" and "Conflicting inbound SIP Trunks (HTTP 400)" in text

    def test_without_livekit_settings_a_warning_names_them(self, staff, trattoria, livekit, settings):
        settings.LIVEKIT_URL = ""

        response = add_line(staff, trattoria)

        assert PhoneLine.objects.exists()
        assert said(response)[-1] == (
            "warning",
            "The phone line is saved but not live yet: LiveKit is not configured. Set LIVEKIT_URL, then run "
            "manage.py sync_sip.",
        )
        assert livekit.requests == []

    def test_staff_cannot_add_a_line_to_another_restaurant(self, staff, other, livekit):
        response = add_line(staff, other)

        assert response.status_code == 200
        assert "restaurant" in response.context["adminform"].form.errors
        assert not PhoneLine.objects.exists() and livekit.sip_writes == []


class TestTransfer:
    ROOM, CALLER = "restaurant-1-call-_+447700900123_ygaafuD4miAA", "sip_+447700900123"

    def transfer(self, to="tel:+15105550199", **kwargs):
        args = {"room_name": self.ROOM, "participant_identity": self.CALLER, "transfer_to": to} | kwargs
        return asyncio.run(sip.transfer_sip_participant(**args))

    def test_an_accepted_transfer_returns(self, livekit):
        livekit.sip_callers.add((self.ROOM, self.CALLER))

        self.transfer()

        request, = livekit.transfers
        assert (request.room_name, request.participant_identity, request.transfer_to) == (
            self.ROOM, self.CALLER, "tel:+15105550199",
        )  # fmt: skip

    @pytest.mark.parametrize("sip_status", [403, 408])
    def test_a_refused_transfer_says_the_sip_status(self, livekit, sip_status):
        livekit.sip_callers.add((self.ROOM, self.CALLER))
        livekit.refuse_transfers(sip_status)

        with pytest.raises(TransferRefused) as refused:
            self.transfer()

        assert refused.value.sip_status == sip_status
        assert livekit.transfers == []

    def test_a_caller_who_hung_up_is_refused_by_livekit(self, livekit):
        with pytest.raises(LiveKitRefused) as refused:
            self.transfer()

        assert refused.value.status == 404 and not isinstance(refused.value, TransferRefused)

    def test_without_redis(self, livekit):
        livekit.sip_without_redis()

        with pytest.raises(SipNotConnected) as refused:
            self.transfer()

        assert str(refused.value) == REDIS_SENTENCE

    @pytest.mark.parametrize("to", ["+15105550199", "tel:15105550199", "sip:staff@example.com", "tel:+1 510", ""])
    def test_only_a_tel_uri_with_an_e164_number(self, livekit, to):
        with pytest.raises(ValueError):
            self.transfer(to=to)
        assert livekit.requests == []

    def test_an_unreachable_server(self, livekit, settings):
        settings.LIVEKIT_URL = "ws://127.0.0.1:9"

        with pytest.raises(client.LiveKitUnavailable) as error:
            self.transfer()
        assert not isinstance(error.value, LiveKitRefused)


class TestDemoLines:
    def load_demo(self):
        call_command("load_demo", stdout=StringIO())

    def test_two_demo_restaurants_answer_the_phone_and_a_second_load_changes_nothing(self, db):
        self.load_demo()
        first = list(PhoneLine.objects.values_list("restaurant__slug", "number", "transfer_number", "is_active"))
        self.load_demo()

        assert list(PhoneLine.objects.values_list("restaurant__slug", "number", "transfer_number", "is_active")) == first
        assert len({slug for slug, *_ in first}) == 2
        assert any(transfer for *_, transfer, _ in first) and any(not transfer for *_, transfer, _ in first)
        for line in PhoneLine.objects.all():
            line.full_clean()

    def test_sync_sip_on_the_demo_creates_a_trunk_and_two_rules(self, livekit):
        self.load_demo()
        out = StringIO()

        call_command("sync_sip", stdout=out)

        assert len(livekit.sip_trunks) == 1 and len(livekit.sip_rules) == 2
        assert len(out.getvalue().splitlines()) == 3
