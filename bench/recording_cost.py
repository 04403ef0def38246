"""What recording a call (agent_worker.records) costs a turn: a real AgentSession, the scripted model, the real
tools against a database, with and without the call's record following the session.

Run: .venv/bin/python bench/recording_cost.py [--turns 60]

Each turn the diner types "What is your address?": the model calls get_address, the tool reads the database,
the model answers from its output; between turns the diner takes `--pause` seconds to ask again (0.5 s by
default: shorter than any spoken question; 0 shows back-to-back turns, where the last turn's writes still
run). Figures per turn, p50 and p95, in milliseconds:
- tool return -> next model request: from the tool's output (FunctionCallOutput.created_at) to the model's
  next chat() call, the gap the issue names;
- turn -> tool output: from the diner's message to the tool's output, which includes the tool's own query
  (that is where sharing the database with the record's writes would show).
Uses a throwaway SQLite database (WAL) in a temp dir. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import time
import uuid

from harness import django_with_a_restaurant


def run(restaurant_id: int, turns: int, *, recorded: bool, pause: float) -> tuple[list[float], list[float], str]:
    """(tool return -> next request, turn -> tool output) for each turn, in milliseconds, and the call's room."""
    from asgiref.sync import async_to_sync
    from agent_worker import lookups
    from agent_worker.agent import RestaurantAgent
    from agent_worker.db import run_orm
    from agent_worker.records import CallRecord
    from agent_worker.worker import build_session
    from dispatch.models import Call
    from tests.fakes.llm import Rule, ScriptedLLM

    room = f"restaurant-{restaurant_id}-{uuid.uuid4().hex}"
    Call.objects.create(restaurant_id=restaurant_id, room_name=room, participant_identity="diner-bench")
    model = ScriptedLLM(Rule("address", "get_address"))
    gaps, tool_latencies = [], []

    async def main():
        profile = await run_orm(lookups.load_profile, restaurant_id)
        record = CallRecord(room)
        # The worker's own session builder, text only (no speech models in userdata), as a typed call runs.
        async with model, build_session({"llm": model}, profile) as session:
            if recorded:
                record.follow(session)
            await session.start(RestaurantAgent(profile, record))
            for _ in range(turns):
                await asyncio.sleep(pause)
                asked = time.time()
                before = len(model.requests)
                result = await session.run(user_input="What is your address?")
                output = next(e.item for e in result.events if e.type == "function_call_output")
                request_after_tool = model.requests[before + 1]["at"]
                gaps.append((request_after_tool - output.created_at) * 1000)
                tool_latencies.append((output.created_at - asked) * 1000)
            await record.flushed()

    async_to_sync(main)()
    return gaps, tool_latencies, room


def figures(values: list[float]) -> str:
    q = statistics.quantiles(values, n=20)
    return f"p50 {statistics.median(values):6.2f}   p95 {q[18]:6.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=60)
    parser.add_argument("--pause", type=float, default=0.5)
    args = parser.parse_args()

    restaurant = django_with_a_restaurant()
    import logging

    import agent_worker.worker  # noqa: F401  (LiveKit's plugins register on the main thread only)
    from dispatch.models import Call

    logging.getLogger("livekit.agents").setLevel(logging.ERROR)
    run(restaurant.pk, 5, recorded=True, pause=0)  # warm up: imports, first connections
    results: dict[bool, tuple[list[float], list[float]]] = {False: ([], []), True: ([], [])}
    for recorded in itertools.islice(itertools.cycle((False, True)), 4):  # alternate, so drift hits both alike
        gaps, latencies, room = run(restaurant.pk, args.turns // 2, recorded=recorded, pause=args.pause)
        results[recorded][0].extend(gaps)
        results[recorded][1].extend(latencies)
    print(f"{args.turns} turns each, {args.pause:g} s between turns, scripted model, SQLite; milliseconds")
    print(f"{'':32}{'tool return -> next request':32}turn -> tool output")
    for recorded, (gaps, latencies) in results.items():
        print(f"  {'with recording' if recorded else 'without recording':30}{figures(gaps):32}{figures(latencies)}")
    last = Call.objects.get(room_name=room)
    print(f"  the last recorded call: {last.messages.count()} messages, {last.tool_calls.count()} tool calls")


if __name__ == "__main__":
    main()
