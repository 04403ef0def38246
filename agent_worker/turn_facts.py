"""The facts diners ask most, computed from the database each time the model is asked, so that it can answer
"are you open?", "until when?", "what are your hours?", "where are you?" and the questions the staff wrote house facts
for ("is there parking?") without a tool round trip.

The text comes from the builders the tools use (lookups.common_facts: what check_open, get_opening_hours and
get_address say), so a fact in the context and a tool's answer cannot disagree. The restaurant's active house facts
come as one line each while they fit (lookups.house_facts_inline: at most HOUSE_FACTS_INLINE facts and
HOUSE_FACTS_INLINE_CHARS characters); above that one line says to search them with find_house_facts. Synchronous
ORM code: run it through `db.run_orm`. Four queries (the restaurant, its service periods, its special days, its
house facts). The facts a request was given are recorded with the call (records.CallRecord.facts_given), so that
staff see what an answer came from.
"""

from __future__ import annotations

from livekit.agents import ToolError, llm

from . import lookups

HEADER = "Facts from the restaurant's database, computed just now"
# The labels of the lines under HEADER, in order; then a house fact's (house_label), or HOUSE_SEARCH.
OPEN_NOW, TODAY, WEEK, ADDRESS = "Open now?", "Today's hours", "Opening hours", "Address and phone"
HOUSE_SEARCH = "House facts"
SEARCH_THEM = (
    "The staff wrote more house facts than fit here: for any other question about the restaurant, search them with "
    "find_house_facts before saying you do not know."
)


def house_label(question: str) -> str:
    """The label of a house fact's line: House fact “Is there parking?”."""
    return f"House fact “{question}”"


def facts_now(restaurant_id: int) -> dict[str, str] | None:
    """The facts of restaurant `restaurant_id` at this moment (its local time), label -> sentence, in the
    order of the labels above: open or closed now and until when or the next opening, today's hours, the
    weekly hours with special days in the next LOOKAHEAD_DAYS, the address and phone; then each active house fact
    (house_label(question) -> answer) by question, or, when they do not fit, HOUSE_SEARCH -> SEARCH_THEM. None if
    the restaurant is gone or inactive (the tools then say they cannot look it up)."""
    try:
        facts = lookups.common_facts(restaurant_id)
    except ToolError:
        return None
    given = {OPEN_NOW: facts.open_now, TODAY: facts.today, WEEK: facts.week, ADDRESS: facts.address}
    house = lookups.house_facts_inline(restaurant_id)
    if house is None:
        given[HOUSE_SEARCH] = SEARCH_THEM
    else:
        given.update((house_label(question), answer) for question, answer in house)
    return given


def searches_house_facts(facts: dict[str, str] | None) -> bool:
    """Whether the model must search the house facts (find_house_facts) rather than read them in `facts`: when
    they do not fit, or when no facts are given at all (AGENT_TURN_FACTS off, or the restaurant gone)."""
    return facts is None or HOUSE_SEARCH in facts


def message(facts: dict[str, str]) -> str:
    """The text the model reads: HEADER, then one line "- <label>: <sentence>" per fact of `facts_now`."""
    return f"{HEADER} (use these instead of calling a tool for the same fact):\n" + "\n".join(
        f"- {label}: {text}" for label, text in facts.items()
    )


def with_facts(chat_ctx: llm.ChatContext, facts: dict[str, str]) -> llm.ChatContext:
    """A copy of `chat_ctx` with `facts` (`facts_now`) as a system message (`message`) just before the diner's
    latest message (after the earlier turns, so the start of the context, which providers cache, stays the
    same from turn to turn). The facts are not kept in the conversation's history: each model request gets
    its own."""
    ctx = chat_ctx.copy()
    latest_user = max((i for i, item in enumerate(ctx.items) if item.type == "message" and item.role == "user"),
                      default=len(ctx.items))  # fmt: skip
    ctx.items.insert(latest_user, llm.ChatMessage(role="system", content=[message(facts)]))
    return ctx
