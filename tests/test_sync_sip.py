"""`manage.py sync_sip` against the contract fake of LiveKit's SIP service: what it creates, that a second run
writes nothing, how it follows lines that change or go, that it never touches what maitre did not make, and the
one sentence it prints when LiveKit cannot be used."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from asgiref.sync import async_to_sync
from django.core.management import CommandError, call_command
from livekit.protocol import agent_dispatch as agent_dispatch_pb
from livekit.protocol import room as room_pb
from livekit.protocol import sip as sip_pb

from dispatch import phone_lines
from dispatch.livekit import sip
from dispatch.livekit.sip import SipRule, SipTrunk
from restaurants.models import PhoneLine
from tests.conftest import make_restaurant
from tests.test_settings import manage

pytestmark = pytest.mark.django_db

MAITRE = '{"managed_by": "maitre"}'


def sync(*args) -> tuple[int, str, str]:
    """Runs sync_sip; returns (exit status, stdout, stderr)."""
    out, err = StringIO(), StringIO()
    try:
        call_command("sync_sip", *args, stdout=out, stderr=err)
        status = 0
    except SystemExit as exit_:
        status = exit_.code
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def trattoria(db):
    return make_restaurant()


@pytest.fixture
def kettle(db):
    return make_restaurant(name="The Copper Kettle", slug="kettle", country="GB", phone="+442079460123")


@pytest.fixture
def lines(trattoria, kettle) -> tuple[PhoneLine, PhoneLine]:
    rome = PhoneLine.objects.create(restaurant=trattoria, number="+15105550100", transfer_number="+15105550199")
    london = PhoneLine.objects.create(restaurant=kettle, number="+442079460018")
    return rome, london


def only(items):
    assert len(items) == 1, items
    return items[0]


def trunk_of(livekit) -> sip_pb.SIPInboundTrunkInfo:
    return only([t for t in livekit.sip_trunks.values() if t.metadata == MAITRE])


def rule_for(livekit, line: PhoneLine) -> sip_pb.SIPDispatchRuleInfo:
    return only([r for r in livekit.sip_rules.values() if json.loads(r.metadata or "{}").get("phone_line") == line.pk])


class TestFirstRun:
    def test_it_creates_one_trunk_with_every_number(self, livekit, lines):
        status, out, _ = sync()

        assert status == 0
        trunk = trunk_of(livekit)
        assert trunk.sip_trunk_id.startswith("ST_")
        assert (trunk.name, trunk.metadata) == ("maitre", MAITRE)
        assert sorted(trunk.numbers) == ["+15105550100", "+442079460018"]
        assert list(trunk.allowed_addresses) == [] and (trunk.auth_username, trunk.auth_password) == ("", "")
        assert "create trunk maitre for +15105550100, +442079460018" in out.splitlines()

    def test_it_creates_one_rule_per_line_with_exactly_the_issues_fields(self, livekit, lines, trattoria, kettle):
        sync()

        trunk_id = trunk_of(livekit).sip_trunk_id
        assert len(livekit.sip_rules) == 2
        for line, restaurant in zip(lines, (trattoria, kettle), strict=True):
            rule = rule_for(livekit, line)
            assert rule.sip_dispatch_rule_id.startswith("SDR_")
            assert rule.rule.WhichOneof("rule") == "dispatch_rule_individual"
            assert rule.rule.dispatch_rule_individual.room_prefix == f"restaurant-{restaurant.pk}-call-"
            assert rule.rule.dispatch_rule_individual.pin == ""
            assert list(rule.trunk_ids) == [trunk_id]
            assert list(rule.numbers) == [str(line.number)]  # the called number
            assert list(rule.inbound_numbers) == []  # any caller
            assert not rule.hide_phone_number  # the worker reads sip.phoneNumber
            agent = only(rule.room_config.agents)
            assert agent.agent_name == "test-restaurant-agent"
            assert json.loads(agent.metadata) == {"restaurant_id": restaurant.pk, "channel": "phone"}
            assert json.loads(rule.metadata) == {"managed_by": "maitre", "phone_line": line.pk}

    def test_it_prints_a_line_per_rule(self, livekit, lines, trattoria, kettle):
        _, out, _ = sync()

        assert f"create rule for +15105550100 -> restaurant {trattoria.pk} (Trattoria Test)" in out
        assert f"create rule for +442079460018 -> restaurant {kettle.pk} (The Copper Kettle)" in out
        assert len(out.splitlines()) == 3

    def test_the_trunk_carries_the_providers_addresses_and_credentials(self, livekit, lines, settings):
        settings.SIP_ALLOWED_ADDRESSES = ["54.172.60.0/30", "192.0.2.10"]
        settings.SIP_AUTH_USERNAME, settings.SIP_AUTH_PASSWORD = "maitre", "s3cret-long-password"

        sync()

        trunk = trunk_of(livekit)
        assert list(trunk.allowed_addresses) == ["192.0.2.10", "54.172.60.0/30"]
        assert (trunk.auth_username, trunk.auth_password) == ("maitre", "s3cret-long-password")

    def test_no_line_no_trunk(self, livekit, trattoria):
        status, out, _ = sync()

        assert (status, out.strip()) == (0, "nothing to change")
        assert livekit.sip_trunks == {} and livekit.sip_rules == {}


class TestSecondRun:
    def test_it_writes_nothing(self, livekit, lines):
        sync()
        writes = list(livekit.sip_writes)

        status, out, _ = sync()

        assert (status, out.strip()) == (0, "nothing to change")
        assert livekit.sip_writes == writes

    def test_it_writes_nothing_with_addresses_and_credentials_either(self, livekit, lines, settings):
        settings.SIP_ALLOWED_ADDRESSES = ["54.172.60.0/30"]
        settings.SIP_AUTH_USERNAME, settings.SIP_AUTH_PASSWORD = "maitre", "s3cret-long-password"
        sync()
        writes = list(livekit.sip_writes)

        assert sync()[1].strip() == "nothing to change"
        assert livekit.sip_writes == writes

    def test_new_provider_addresses_update_the_trunk_in_place(self, livekit, lines, settings):
        sync()
        trunk_id = trunk_of(livekit).sip_trunk_id
        settings.SIP_ALLOWED_ADDRESSES = ["54.172.60.0/30"]

        _, out, _ = sync()

        assert out.splitlines() == [f"update trunk {trunk_id} (allowed addresses): +15105550100, +442079460018"]
        assert list(trunk_of(livekit).allowed_addresses) == ["54.172.60.0/30"]


class TestChangedLines:
    @pytest.fixture(autouse=True)
    def synced(self, livekit, lines):
        sync()

    def test_a_removed_lines_rule_is_deleted_and_its_number_leaves_the_trunk(self, livekit, lines):
        rome, london = lines
        rule_id = rule_for(livekit, london).sip_dispatch_rule_id
        london.delete()

        _, out, _ = sync()

        assert f"delete rule {rule_id} (line removed)" in out
        assert list(trunk_of(livekit).numbers) == ["+15105550100"]
        assert rule_for(livekit, rome) and rule_id not in livekit.sip_rules

    def test_a_deactivated_lines_rule_is_deleted(self, livekit, lines):
        rome, _ = lines
        rule_id = rule_for(livekit, rome).sip_dispatch_rule_id
        rome.is_active = False
        rome.save()

        _, out, _ = sync()

        assert f"delete rule {rule_id} (line +15105550100 inactive)" in out
        assert list(trunk_of(livekit).numbers) == ["+442079460018"]
        assert len(livekit.sip_rules) == 1

    def test_a_deactivated_restaurants_rule_is_deleted(self, livekit, lines, kettle):
        rule_id = rule_for(livekit, lines[1]).sip_dispatch_rule_id
        kettle.is_active = False
        kettle.save()

        _, out, _ = sync()

        assert f"delete rule {rule_id} (restaurant {kettle.pk} inactive)" in out
        assert rule_id not in livekit.sip_rules

    def test_a_changed_number_updates_the_rule_in_place(self, livekit, lines):
        rome, _ = lines
        rule_id = rule_for(livekit, rome).sip_dispatch_rule_id
        rome.number = "+15105550123"
        rome.save()

        _, out, _ = sync()

        rule = rule_for(livekit, rome)
        assert rule.sip_dispatch_rule_id == rule_id
        assert list(rule.numbers) == ["+15105550123"]
        assert sorted(trunk_of(livekit).numbers) == ["+15105550123", "+442079460018"]
        assert f"update rule {rule_id} for +15105550123" in out
        assert sync()[1].strip() == "nothing to change"

    def test_a_rule_changed_by_hand_is_put_back(self, livekit, lines, trattoria):
        rule = rule_for(livekit, lines[0])
        rule.room_config.agents[0].agent_name = "someone-elses-agent"
        rule.inbound_numbers.append("+447700900123")

        _, out, _ = sync()

        assert "(inbound numbers, agents)" in out
        fixed = rule_for(livekit, lines[0])
        assert fixed.room_config.agents[0].agent_name == "test-restaurant-agent"
        assert list(fixed.inbound_numbers) == []

    def test_the_last_line_gone_takes_the_trunk_with_it(self, livekit, lines):
        trunk_id = trunk_of(livekit).sip_trunk_id
        PhoneLine.objects.all().delete()

        _, out, _ = sync()

        assert f"delete trunk {trunk_id} (no live phone line)" in out
        assert livekit.sip_trunks == {} and livekit.sip_rules == {}
        assert out.count("delete rule") == 2

    def test_a_deleted_trunk_is_made_again_and_the_rules_follow_it(self, livekit, lines):
        del livekit.sip_trunks[trunk_of(livekit).sip_trunk_id]

        sync()

        trunk_id = trunk_of(livekit).sip_trunk_id
        assert all(list(r.trunk_ids) == [trunk_id] for r in livekit.sip_rules.values())
        assert sync()[1].strip() == "nothing to change"


class TestWhatMaitreDidNotMake:
    @pytest.fixture
    def foreign(self, livekit):
        """Another team's trunk and catch-all rule on the same LiveKit project, one of them named like ours."""
        trunk = sip_pb.SIPInboundTrunkInfo(sip_trunk_id="ST_theirs00001", name="maitre", numbers=["+12025550123"])
        rule = sip_pb.SIPDispatchRuleInfo(
            sip_dispatch_rule_id="SDR_theirs0001", name="support line", trunk_ids=["ST_theirs00001"],
            metadata='{"team": "support"}',
            rule=sip_pb.SIPDispatchRule(dispatch_rule_individual=sip_pb.SIPDispatchRuleIndividual(room_prefix="s-")),
            room_config=room_pb.RoomConfiguration(agents=[agent_dispatch_pb.RoomAgentDispatch(agent_name="support")]),
        )  # fmt: skip
        livekit.sip_trunks[trunk.sip_trunk_id] = trunk
        livekit.sip_rules[rule.sip_dispatch_rule_id] = rule
        return trunk.SerializeToString(), rule.SerializeToString()  # as they were, to compare with later

    def test_they_are_never_updated(self, livekit, foreign, lines):
        sync()
        sync()

        trunk, rule = foreign
        assert livekit.sip_trunks["ST_theirs00001"].SerializeToString() == trunk
        assert livekit.sip_rules["SDR_theirs0001"].SerializeToString() == rule
        assert len(livekit.sip_trunks) == 2 and len(livekit.sip_rules) == 3

    def test_they_are_never_deleted(self, livekit, foreign, lines):
        sync()
        PhoneLine.objects.all().delete()

        sync()

        assert set(livekit.sip_trunks) == {"ST_theirs00001"}
        assert set(livekit.sip_rules) == {"SDR_theirs0001"}

    def test_a_trunk_holding_one_of_our_numbers_is_refused_in_livekits_words(self, livekit, lines):
        livekit.sip_trunks["ST_theirs00002"] = sip_pb.SIPInboundTrunkInfo(
            sip_trunk_id="ST_theirs00002", name="old", numbers=["+15105550100"]
        )

        status, _, err = sync()

        assert status == 1
        assert err.startswith("LiveKit refused to create the inbound SIP trunk 'maitre': Conflicting inbound SIP Trunks")
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1


class TestDryRun:
    def test_it_prints_the_plan_and_writes_nothing(self, livekit, lines, trattoria):
        status, out, _ = sync("--dry-run")

        assert status == 0
        assert "create trunk maitre for +15105550100, +442079460018" in out
        assert f"create rule for +15105550100 -> restaurant {trattoria.pk} (Trattoria Test)" in out
        assert out.strip().endswith("dry run: nothing was changed")
        assert livekit.sip_writes == [] and livekit.sip_trunks == {}

    def test_it_names_the_rule_it_would_delete(self, livekit, lines):
        sync()
        rule_id = rule_for(livekit, lines[0]).sip_dispatch_rule_id
        lines[0].delete()

        _, out, _ = sync("--dry-run")

        assert f"delete rule {rule_id} (line removed)" in out
        assert rule_id in livekit.sip_rules


def test_a_trunk_or_rule_to_create_never_carries_an_id(livekit):
    """LiveKit refuses a create with an id ("trunk id must not be set"): ours stops before sending one."""
    trunk = SipTrunk(id=phone_lines.NEW_TRUNK, name="maitre", metadata=MAITRE, numbers=("+15105550100",))
    rule = SipRule(id="SDR_000000000000", name="line", metadata=MAITRE, room_prefix="restaurant-1-call-")

    with pytest.raises(ValueError, match="a trunk to create has no id yet"):
        async_to_sync(sip.create_sip_inbound_trunk)(trunk)
    with pytest.raises(ValueError, match="a dispatch rule to create has no id yet"):
        async_to_sync(sip.create_sip_dispatch_rule)(rule)
    assert livekit.requests == []


class TestCheck:
    def test_in_sync_it_exits_0(self, livekit, lines):
        sync()

        assert sync("--check") == (0, "nothing to change\n", "")

    def test_drift_exits_1_naming_each_change_and_writes_nothing(self, livekit, lines, trattoria):
        sync()
        writes = list(livekit.sip_writes)
        lines[1].delete()

        status, out, err = sync("--check")

        assert status == 1
        assert "update trunk" in out and "delete rule" in out and "(line removed)" in out
        assert err.strip() == "LiveKit differs from the phone lines (2 change(s)): run manage.py sync_sip."
        assert livekit.sip_writes == writes

    def test_check_and_dry_run_are_one_or_the_other(self, livekit, lines):
        with pytest.raises(CommandError, match="not allowed with argument"):
            call_command("sync_sip", "--check", "--dry-run", stdout=StringIO(), stderr=StringIO())


class TestWhenLiveKitCannotBeUsed:
    def test_without_redis_it_says_so_plainly(self, livekit, lines):
        livekit.sip_without_redis()

        status, out, err = sync()

        assert status == 1
        assert err.strip() == (
            "LiveKit's SIP service is not connected: livekit-server needs Redis (redis: in its config) for phone calls."
        )
        assert out == "" and livekit.sip_writes == []

    def test_a_server_too_old_for_phone_lines_is_named_with_the_versions_needed(self, livekit, lines):
        livekit.as_livekit_1_8()

        status, out, err = sync()

        assert status == 1
        assert err.strip() == sip.SIP_SERVER_TOO_OLD
        assert "livekit-server 1.9 and livekit-sip 1.3 or newer" in err
        assert out.startswith("create trunk maitre") and livekit.sip_rules == {}

    def test_a_wrong_secret_names_the_api_key_settings(self, livekit, lines, settings):
        settings.LIVEKIT_API_SECRET = "not-the-servers-secret-0123456789abcdef"

        status, _, err = sync()

        assert status == 1
        assert "refused the API key" in err and "LIVEKIT_API_KEY and LIVEKIT_API_SECRET" in err
        assert len(err.strip().splitlines()) == 1 and livekit.sip_trunks == {}

    def test_an_unreachable_server(self, livekit, lines, settings):
        settings.LIVEKIT_URL = "ws://127.0.0.1:9"  # discard port: nothing listens

        status, _, err = sync()

        assert status == 1
        assert err.strip() == "LiveKit did not answer at ws://127.0.0.1:9 within 5 s: is it running and is LIVEKIT_URL right?"

    def test_without_settings(self, lines, settings):
        settings.LIVEKIT_URL = ""

        status, _, err = sync()

        assert status == 1
        assert err.strip().startswith("LiveKit is not configured: set LIVEKIT_URL")


class TestSettings:
    @pytest.mark.parametrize(
        ("env", "refusal"),
        [
            ({"SIP_ALLOWED_ADDRESSES": "54.172.60.0/30,sip.example.com"}, "SIP_ALLOWED_ADDRESSES holds IP addresses"),
            ({"SIP_AUTH_USERNAME": "maitre"}, "Set both SIP_AUTH_USERNAME and SIP_AUTH_PASSWORD, or neither."),
        ],
    )
    def test_a_bad_trunk_setting_stops_the_app_with_a_sentence(self, env, refusal):
        result = manage("check", **env)

        assert result.returncode != 0
        assert refusal in result.stderr
