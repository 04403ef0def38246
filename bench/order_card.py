"""How soon the diner's page can show an order change: from an order tool's call to its card in LiveKit's hands.

Run: .venv/bin/python bench/order_card.py [--rounds 100] [--postgres]

On the demo data (load_demo) in the throwaway database (bench/harness.py: SQLite, or with --postgres a new
database on the PostgreSQL at 127.0.0.1:5432), a RestaurantAgent for Taquería La Paloma runs in a started
AgentSession (scripted model) on a web call whose room's agent side records what it sends
(tests/fakes/data_streams.py: LiveKit's client cannot connect without a server). Each round calls the order tools
as the model would: add_to_order (Al pastor, Salsa roja and Guacamole), set_pickup (a name), read_order and
remove_from_order, so the order stays one line long, and then the card alone (RestaurantAgent.show_order: what a
card adds to a tool). It prints, per tool and in all, p50 / p95 / max of the time from the tool's call to
`send_text` of its card (the card handed to LiveKit) and to the tool's return, in milliseconds, and the card's
size. What LiveKit adds on the way to the browser (one hop through its server over the data channel) and the
page's rendering (a few DOM nodes) are not in these figures. Asserts nothing.
Target (issue 14): the page updated within half a second of each change.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time

from harness import django_with_a_restaurant, throwaway_postgres

ROOM = "restaurant-bench-order-card"
TOOLS = ("add_to_order", "set_pickup", "read_order", "remove_from_order")
CARD_ALONE = "(the card alone)"  # RestaurantAgent.show_order by itself: what the card adds to a tool


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100, help="rounds of the four tools")
    parser.add_argument("--postgres", action="store_true", help="on PostgreSQL at 127.0.0.1:5432 instead of SQLite")
    args = parser.parse_args()
    if args.postgres:
        with throwaway_postgres() as url:
            run(args.rounds, url, "PostgreSQL")
    else:
        run(args.rounds, "", "SQLite")


def run(rounds: int, database_url: str, database: str) -> None:
    django_with_a_restaurant(database_url)
    import io

    from asgiref.sync import async_to_sync
    from django.core.management import call_command

    from dispatch.models import Call
    from restaurants.models import Restaurant

    logging.getLogger("livekit.agents").setLevel(logging.ERROR)  # the unconnected room's session-event warnings
    call_command("load_demo", stdout=io.StringIO())
    paloma = Restaurant.objects.get(slug="taqueria-la-paloma")
    Call.objects.create(restaurant=paloma, room_name=ROOM, dispatch_id="AD_bench", participant_identity="diner-1")
    sent_ms, returned_ms, sizes = async_to_sync(calls)(paloma.pk, rounds)

    print(f"Order card: tool call -> card handed to LiveKit (send_text), {rounds} rounds, in process, {database}")
    for tool in (*TOOLS, "all", CARD_ALONE):
        s, r = sent_ms[tool], returned_ms[tool]
        print(f"  {tool:17s} sent p50 {pct(s, 50):5.1f} ms  p95 {pct(s, 95):5.1f} ms  max {max(s):5.1f} ms   "
              f"(tool returned p50 {pct(r, 50):5.1f} ms, p95 {pct(r, 95):5.1f} ms)")  # fmt: skip
    print(f"  card size: {min(sizes)} to {max(sizes)} bytes of JSON")


def pct(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100)[p - 1] if len(values) > 1 else values[0]


async def calls(restaurant_id: int, rounds: int):
    from livekit.agents import AgentSession, room_io

    from agent_worker import lookups
    from agent_worker.agent import RestaurantAgent
    from agent_worker.db import run_orm
    from agent_worker.records import CallRecord
    from tests.fakes.data_streams import SentData, room_sending_to
    from tests.fakes.llm import ScriptedLLM

    profile = await run_orm(lookups.load_profile, restaurant_id)
    agent = RestaurantAgent(profile, CallRecord(ROOM))
    sent = SentData()
    sent_ms: dict[str, list[float]] = {tool: [] for tool in (*TOOLS, "all", CARD_ALONE)}
    returned_ms: dict[str, list[float]] = {tool: [] for tool in (*TOOLS, "all", CARD_ALONE)}
    steps = (
        ("add_to_order", lambda: agent.add_to_order("Al pastor", 1, ["Salsa roja", "Guacamole"], None)),
        ("set_pickup", lambda: agent.set_pickup("Giulia", None, None, None)),
        ("read_order", agent.read_order),
        ("remove_from_order", lambda: agent.remove_from_order(1)),
        (CARD_ALONE, agent.show_order),
    )
    model = ScriptedLLM()
    async with model, AgentSession(llm=model) as session:
        options = room_io.RoomOptions(audio_input=False, audio_output=False)
        await session.start(agent, room=room_sending_to(sent, ROOM), room_options=options)
        for n in range(rounds + 1):  # the first round warms up (connections, imports): not counted
            for tool, call in steps:
                cards = len(sent.texts)
                called = time.time()
                await call()
                returned = time.time()
                [card] = sent.texts[cards:]
                if n:
                    for key in (tool, "all") if tool in TOOLS else (tool,):
                        sent_ms[key].append((card.at - called) * 1000)
                        returned_ms[key].append((returned - called) * 1000)
    return sent_ms, returned_ms, [len(card.text.encode()) for card in sent.texts]


if __name__ == "__main__":
    main()
