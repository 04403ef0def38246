"""Makes LiveKit's SIP configuration match the restaurants' phone lines: `manage.py sync_sip` and the phone line
admin use it.

What maitre wants (from the database): when any line is live (active, of an active restaurant), one inbound
trunk named "maitre" holding every live number, and per live line one individual dispatch rule: calls through
that trunk to the line's number get a new room "restaurant-<id>-call-_<caller>_<random>" and the agent
LIVEKIT_AGENT_NAME with job metadata {"restaurant_id": <id>, "channel": "phone"}. What LiveKit has is listed from
its SIP API. The plan is the actions that turn one into the other, comparing every field maitre sets, so a
second run plans nothing.

maitre's trunks and rules carry {"managed_by": "maitre", ...} in their metadata; nothing without it is ever
updated or deleted. With no live line the trunk is deleted: a trunk without numbers would accept calls to any
number. A rule's metadata also names its line ({"managed_by": "maitre", "phone_line": 7}); LiveKit gives it to
the caller's participant as its metadata.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from asgiref.sync import async_to_sync
from django.conf import settings

from restaurants.models import PhoneLine

from . import job_metadata
from .livekit import client, rooms, sip
from .livekit.sip import SipRule, SipTrunk

MANAGED_BY = "maitre"
TRUNK_NAME = "maitre"
TRUNK_METADATA = json.dumps({"managed_by": MANAGED_BY})
# The trunk id a rule gets for the trunk that this plan creates (the trunk itself has id ""): `apply` puts the
# new trunk's id in its place before the rule is sent.
NEW_TRUNK = "<new trunk>"


def _marker(metadata: str) -> dict | None:
    """The metadata as a dict if maitre made the trunk or rule, else None."""
    try:
        data = json.loads(metadata)
    except ValueError:
        return None
    return data if isinstance(data, dict) and data.get("managed_by") == MANAGED_BY else None


def _line_of(rule: SipRule) -> int | None:
    """The phone line id a maitre rule is for; None for a rule that is not maitre's (or names no line)."""
    line = (_marker(rule.metadata) or {}).get("phone_line")
    return line if isinstance(line, int) and not isinstance(line, bool) else None


def desired_trunk(numbers: Iterable[str], trunk_id: str = "") -> SipTrunk:
    """maitre's trunk holding `numbers` (E.164), with SIP_ALLOWED_ADDRESSES and SIP_AUTH_USERNAME/PASSWORD."""
    return SipTrunk(
        id=trunk_id, name=TRUNK_NAME, metadata=TRUNK_METADATA, numbers=tuple(sorted(set(numbers))),
        allowed_addresses=tuple(sorted(settings.SIP_ALLOWED_ADDRESSES)),
        auth_username=settings.SIP_AUTH_USERNAME, auth_password=settings.SIP_AUTH_PASSWORD,
    )  # fmt: skip


def desired_rule(line: PhoneLine, trunk_id: str, rule_id: str = "") -> SipRule:
    """The dispatch rule for `line` (its restaurant loaded): calls through `trunk_id` to the line's number.

    The called number goes in `numbers`; `inbound_numbers` would filter on the caller's number (LiveKit's
    matcher compares it with the calling number, whatever older protocol comments say)."""
    number, restaurant_id = str(line.number), line.restaurant_id
    return SipRule(
        id=rule_id,
        name=f"maitre line {line.pk}: {number} to restaurant {restaurant_id}",
        metadata=json.dumps({"managed_by": MANAGED_BY, "phone_line": line.pk}),
        trunk_ids=(trunk_id,),
        numbers=(number,),
        room_prefix=rooms.phone_room_prefix(restaurant_id),
        agents=((settings.LIVEKIT_AGENT_NAME, job_metadata.phone_call(restaurant_id)),),
    )


@dataclass(frozen=True)
class Action:
    """One change to LiveKit: `verb` "create" | "update" | "delete" of a `trunk` or `rule` (the wanted one for
    create/update, the existing one for delete). `line_id` is the phone line a rule action is for (None for
    the trunk); `text` is the line sync_sip prints."""

    verb: str
    text: str
    trunk: SipTrunk | None = None
    rule: SipRule | None = None
    line_id: int | None = None


def _changed(have, want) -> str:
    """The names of the fields that differ, id aside: "numbers, name"."""
    names = [f.name for f in dataclasses.fields(want) if f.name != "id"]
    return ", ".join(n.replace("_", " ") for n in names if getattr(have, n) != getattr(want, n))


def _who(line: PhoneLine) -> str:
    return f"{line.number} -> restaurant {line.restaurant_id} ({line.restaurant.name})"


def plan(lines: Iterable[PhoneLine], trunks: Iterable[SipTrunk], rules: Iterable[SipRule]) -> list[Action]:
    """The actions that make LiveKit's `trunks` and `rules` match the phone `lines` (all of them, live or not,
    each with its restaurant loaded): rule deletions first, then the trunk, then rule updates and creations.
    Only trunks and rules with maitre's marker are ever touched. Pure: no query, no call to LiveKit."""
    lines = {line.pk: line for line in lines}
    live = {pk: line for pk, line in lines.items() if line.is_active and line.restaurant.is_active}
    ours = sorted((t for t in trunks if _marker(t.metadata) is not None), key=lambda t: t.id)
    deletions, trunk_actions, changes = [], [], []

    trunk_id = ours[0].id if ours and live else NEW_TRUNK
    for extra in ours[1:] if live else ours:
        why = "a second maitre trunk" if live else "no live phone line"
        trunk_actions.append(Action("delete", f"delete trunk {extra.id} ({why})", trunk=extra))
    if live:
        # A trunk to create has no id: LiveKit refuses a create that carries one ("trunk id must not be set").
        want = desired_trunk((str(line.number) for line in live.values()), ours[0].id if ours else "")
        numbers = ", ".join(want.numbers)
        if not ours:
            trunk_actions.append(Action("create", f"create trunk {TRUNK_NAME} for {numbers}", trunk=want))
        elif changed := _changed(ours[0], want):
            trunk_actions.append(Action("update", f"update trunk {trunk_id} ({changed}): {numbers}", trunk=want))

    kept: set[int] = set()
    for rule in sorted(rules, key=lambda r: r.id):
        line_id = _line_of(rule)
        if line_id is None and _marker(rule.metadata) is None:
            continue  # not maitre's
        line = live.get(line_id)
        if line is None or line_id in kept:
            if line_id in kept:
                why = f"a second rule for line {line_id}"
            elif line_id not in lines:
                why = "line removed"
            elif not lines[line_id].is_active:
                why = f"line {lines[line_id].number} inactive"
            else:
                why = f"restaurant {lines[line_id].restaurant_id} inactive"
            deletions.append(Action("delete", f"delete rule {rule.id} ({why})", rule=rule, line_id=line_id))
            continue
        kept.add(line_id)
        want = desired_rule(line, trunk_id, rule.id)
        if changed := _changed(rule, want):
            text = f"update rule {rule.id} for {_who(line)} ({changed})"
            changes.append(Action("update", text, rule=want, line_id=line_id))
    for line_id, line in sorted(live.items(), key=lambda item: str(item[1].number)):
        if line_id not in kept:
            want = desired_rule(line, trunk_id)
            changes.append(Action("create", f"create rule for {_who(line)}", rule=want, line_id=line_id))
    return deletions + trunk_actions + changes


def current_lines() -> list[PhoneLine]:
    """Every phone line with its restaurant (one query)."""
    return list(PhoneLine.objects.select_related("restaurant"))


async def read_livekit() -> tuple[list[SipTrunk], list[SipRule]]:
    """LiveKit's inbound trunks and dispatch rules. Raises as dispatch.livekit.sip's functions say."""
    return await sip.list_sip_inbound_trunks(), await sip.list_sip_dispatch_rules()


async def apply(actions: Iterable[Action], done=lambda action: None) -> None:
    """Carries the actions out in order, calling `done(action)` after each. A rule that waits for the trunk this
    plan creates gets its id. Stops at the first error: raises LiveKitNotConfigured, SipNotConnected,
    LiveKitRefused or LiveKitUnavailable, and what was done before stays done (a later sync carries on)."""
    new_trunk_id = None
    for action in actions:
        if action.trunk is not None:
            if action.verb == "create":
                new_trunk_id = (await sip.create_sip_inbound_trunk(action.trunk)).id
            elif action.verb == "update":
                await sip.update_sip_inbound_trunk(action.trunk)
            else:
                await sip.delete_sip_trunk(action.trunk.id)
        else:
            rule = action.rule
            if rule.trunk_ids == (NEW_TRUNK,):
                rule = dataclasses.replace(rule, trunk_ids=(new_trunk_id,))
            if action.verb == "create":
                await sip.create_sip_dispatch_rule(rule)
            elif action.verb == "update":
                await sip.update_sip_dispatch_rule(rule)
            else:
                await sip.delete_sip_dispatch_rule(rule.id)
        done(action)


def pending() -> tuple[list[PhoneLine], list[Action]]:
    """Every phone line (with its restaurant) and the actions that would bring LiveKit up to date for them ([]:
    in sync). Reads LiveKit, changes nothing. Raises as `read_livekit` says. Sync: for commands and doctor."""
    lines = current_lines()
    trunks, rules = async_to_sync(read_livekit)()
    return lines, plan(lines, trunks, rules)


def sync_lines(line_ids: Collection[int]) -> list[str]:
    """Brings LiveKit up to date for a change to these phone lines (saved or deleted): the trunk's numbers, and
    those lines' rules; other lines' rules are left to sync_sip. Returns the texts of the actions done ([]:
    LiveKit already matched). Raises as `apply` says. Sync: for admin views and commands."""
    lines = current_lines()

    async def run() -> list[str]:
        trunks, rules = await read_livekit()
        wanted = [a for a in plan(lines, trunks, rules) if a.trunk is not None or a.line_id in line_ids]
        done: list[str] = []
        await apply(wanted, done=lambda action: done.append(action.text))
        return done

    return async_to_sync(run)()


def explain(exc: Exception) -> str:
    """One sentence for staff or an operator saying why LiveKit's SIP configuration could not be read or changed
    (`exc` is one of the exceptions `apply` and `read_livekit` raise)."""
    if isinstance(exc, client.LiveKitNotConfigured):
        return f"LiveKit is not configured: set {exc}."
    if isinstance(exc, sip.LiveKitRefused):  # SipNotConnected and SipServerTooOld included: they say what to do
        return str(exc)
    return (
        f"LiveKit did not answer at {settings.LIVEKIT_URL} within {settings.LIVEKIT_API_TIMEOUT:g} s: is it "
        "running and is LIVEKIT_URL right?"
    )


SYNC_ERRORS = (client.LiveKitNotConfigured, client.LiveKitUnavailable)

