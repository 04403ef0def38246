"""How soon the agent answers a spoken question, and how soon it greets, with each speed lever on or off.

Run: .venv/bin/python bench/turns.py [--turns 52] [--greetings 12] [--preset before|stt|facts|all] [flags]

What runs for real: a job process's prewarm (Silero VAD, the OpenAI speech clients), worker.build_session
for Trattoria Test (tests.conftest.make_restaurant, in a throwaway SQLite database), RestaurantAgent with its
tools and turn facts against that database, LiveKit's AgentSession (VAD turn detection, endpointing,
preemptive generation, STT and TTS plugins, the greeting cache in Django's database cache). What is scripted,
at the issue's model speeds: the diner's voice (tests/fakes/voice.py: each question's words said by eSpeak
NG, Debian's `espeak-ng`, 1.0-1.4 s a question, played in real time, silence in between), OpenAI's audio
endpoints over HTTP (tests/fakes/openai_audio.py: transcription answered 250 ms after the upload, speech's
first byte 170 ms after the request) and its realtime transcription websocket (tests/fakes/openai_realtime.py:
the final transcript 250 ms after the voice ends, never before the silence the session asked for), and the
LLM (tests/fakes/llm.py: first token 290 ms after each request, a tool call for the question, or the answer
from the turn's facts when they hold it).

Figures, per question type (opening hours, open now, address, a menu question), p50 and p95 over the turns:
the end of the diner's voice (the last speech frame leaving the microphone) -> the first TTS request, and ->
the first agent audio frame reaching the session's audio output; and per greeting, the job's start (before
the restaurant is loaded) -> the greeting's first audio frame, with the diner already in the room.
Also: how often a diner who says "Are you open", pauses (`--pause-seconds`, 0.3 s) and goes on "on Sunday
evening?" gets the first half answered on its own, and how often the agent starts speaking before they have
finished (`--pauses` tries, in the restaurant's `--turn-taking`, balanced by default).

Not measured: LiveKit's media path (WebRTC, jitter buffers, the browser's playout: about 0.1-0.2 s more on a
real server), network latency to real model servers, the agent joining the room (about 0.45 s after the
dispatch on a real server), and the job process's start (bench/worker_registration.py). Prints; asserts
nothing. One configuration per run; about 3 s a turn. Needs espeak-ng (`apt-get install espeak-ng`).

Levers: --no-realtime-stt (upload each utterance, as before), --no-facts (hours and address by tool call),
--old-turns (the turn-taking profile before: VAD silence 0.3 s, no preemptive TTS), --no-greeting-cache.

House facts: --house-facts N seeds N active house facts (restaurants.HouseFact, answers of 60 to 200 characters,
one of them "Is there parking?") and adds a fifth question type, "house fact" ("Is there parking?"): the scripted
model reads it from the turn's facts when they carry it, else calls find_house_facts and reads its answer. Also
printed: the facts message each model request carried (characters, and tokens at 4 characters a token), whether
find_house_facts was offered, and what reading the turn's facts from the database costs (turn_facts.facts_now, the
same database, 200 reads).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from types import SimpleNamespace

from harness import django_with_a_restaurant

API_KEY = "sk-bench-turns"
STT_SECONDS, LLM_FIRST_TOKEN, TTS_FIRST_BYTE = 0.25, 0.29, 0.17
QUESTIONS = {  # type -> (what the diner says, keyword for the scripted model, tool, its arguments, facts line)
    "opening hours": ("What are your opening hours?", "opening hours", "get_opening_hours", {}, "Opening hours"),
    "open now": ("Are you open right now?", "open right now", "check_open", {}, "Open now?"),
    "address": ("What is your address?", "address", "get_address", {}, "Address and phone"),
    "menu": ("How much is the margherita?", "margherita", "find_menu_item", {"name": "margherita"}, None),
}
# The diner's voices (eSpeak NG voice, words a minute), taken in turn: two accents, two speeds.
VOICES = (("en-us", 160), ("en-gb", 175), ("en-us+f3", 150), ("en-gb-x-rp", 170))
PAUSED = ("Are you open", "on Sunday evening?")
PRESETS = {
    "before": dict(realtime_stt=False, facts=False, old_turns=True, greeting_cache=False),
    "stt": dict(realtime_stt=True, facts=False, old_turns=True, greeting_cache=False),
    "facts": dict(realtime_stt=True, facts=True, old_turns=True, greeting_cache=False),
    "all": dict(realtime_stt=True, facts=True, old_turns=False, greeting_cache=True),
}


# Topics of the seeded house facts, with a word the answer varies on (--house-facts).
FACT_TOPICS = ("a cloakroom", "a baby changing table", "gluten-free pasta", "a terrace", "live music", "gift vouchers",
               "a private room", "a kids' menu", "phone charging", "free wifi")  # fmt: skip


def seed_house_facts(restaurant, n: int) -> None:
    """`n` active house facts for `restaurant`: "Is there parking?" and n - 1 others, answers 60 to 200 characters."""
    from restaurants.models import HouseFact

    parking = "There is no car park; the garage on Via Zanardelli is a five-minute walk, EUR 3 an hour."
    facts = [HouseFact(restaurant=restaurant, question="Is there parking?", answer=parking)]
    for i in range(n - 1):
        topic = FACT_TOPICS[i % len(FACT_TOPICS)]
        answer = f"Yes, we have {topic} (number {i}); ask any of the staff." + " It is free for every guest." * (i % 5)
        facts.append(HouseFact(restaurant=restaurant, question=f"Do you have {topic}, number {i}?", answer=answer))
    HouseFact.objects.bulk_create(facts[:n])


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


async def run(args, restaurant_id: int) -> None:
    from django.conf import settings

    from agent_worker import turn_taking
    from agent_worker.agent import RestaurantAgent
    from agent_worker.lookups import load_profile
    from agent_worker.db import run_orm
    from agent_worker.greeting import Greeting
    from agent_worker.worker import build_session, prewarm, tts_instructions
    from tests.fakes.llm import Rule, ScriptedLLM
    from tests.fakes.openai_audio import FakeOpenAIAudio
    from tests.fakes.openai_realtime import FakeOpenAIRealtime
    from tests.fakes.voice import Loudspeaker, Microphone, silence, spoken

    questions = dict(QUESTIONS)
    if args.house_facts:
        from agent_worker.turn_facts import house_label

        questions["house fact"] = ("Is there parking?", "parking", "find_house_facts",
                                   {"question": "Is there parking?"}, house_label("Is there parking?"))  # fmt: skip
    settings.AGENT_REALTIME_STT, settings.AGENT_TURN_FACTS = args.realtime_stt, args.facts
    settings.AGENT_GREETING_CACHE = args.greeting_cache
    if args.old_turns:
        turn_taking.PROFILES["balanced"] = turn_taking.TurnProfile(0.3, 0.4, 3.0, preemptive_tts=False)
    realtime = FakeOpenAIRealtime(api_key=API_KEY, final_after=STT_SECONDS)
    fake = FakeOpenAIAudio(api_key=API_KEY, transcript="", transcription_delay=STT_SECONDS,
                           speech_delay=TTS_FIRST_BYTE, realtime=realtime)  # fmt: skip
    settings.OPENAI_BASE_URL, settings.OPENAI_API_KEY = await fake.start(), API_KEY
    proc = SimpleNamespace(userdata={})
    prewarm(proc)
    model = ScriptedLLM(*(Rule(kw, tool, a, fact) for _, kw, tool, a, fact in questions.values()),
                        first_token_delay=LLM_FIRST_TOKEN)  # fmt: skip
    proc.userdata["llm"] = model

    async def new_session():
        """What the entrypoint does from the job's start to the greeting (worker.entrypoint), with the diner
        already there: returns the session, its greeting's first-frame delay, the microphone and speaker."""
        started = time.time()
        profile = await run_orm(load_profile, restaurant_id)
        session = build_session(proc.userdata, profile)
        greeting = None
        if settings.AGENT_GREETING_CACHE:
            instructions = tts_instructions(session.tts.model, profile.language)
            greeting = Greeting.prepare(session.tts, profile.greeting, voice=profile.voice, instructions=instructions)
        mic, speaker = Microphone(), Loudspeaker()
        session.input.audio, session.output.audio = mic, speaker
        await session.start(agent=RestaurantAgent(profile))
        handle = greeting.say(session) if greeting else session.say(profile.greeting)
        await speaker.arrived.wait()
        took = speaker.first_frames[0] - started
        await handle.wait_for_playout()
        return session, took, mic, speaker

    greetings = []
    for _ in range(args.greetings):
        session, took, _, _ = await new_session()
        greetings.append(took)
        await session.aclose()

    session, _, mic, speaker = await new_session()
    rows: dict[str, list[tuple[float, float]]] = {kind: [] for kind in questions}
    order = [kind for _ in range(args.turns // len(questions) + 1) for kind in questions][: args.turns]
    await asyncio.sleep(1.0)
    for i, kind in enumerate(order):
        text = questions[kind][0]
        realtime.transcripts[:], fake.transcript = [text], text
        voice_end = await mic.say(spoken(text, *VOICES[i % len(VOICES)]))
        heard = len(speaker.first_frames)
        for _ in range(60):  # up to 6 s for the answer
            await asyncio.sleep(0.1)
            if len(speaker.first_frames) > heard and session.agent_state == "listening":
                break
        tts_at = min((r["at"] for r in fake.speech if r["at"] > voice_end), default=float("nan"))
        audio_at = min((t for t in speaker.first_frames if t > voice_end), default=float("nan"))
        rows[kind].append((tts_at - voice_end, audio_at - voice_end))
        finals = [e["at"] for e in realtime.sent("conversation.item.input_audio_transcription.completed")]
        finals += [r["at"] + STT_SECONDS for r in fake.transcriptions]
        final_at = min((t for t in finals if t > voice_end), default=float("nan"))
        llm_at = [r["at"] - voice_end for r in model.requests if r["at"] > voice_end]
        print(f"  turn {i + 1:3}/{len(order)} {kind:14} transcript {final_at - voice_end:5.2f} s, LLM requests at "
              f"{', '.join(f'{t:.2f}' for t in llm_at)} s, first TTS request {tts_at - voice_end:5.2f} s, "
              f"first audio {audio_at - voice_end:5.2f} s", flush=True)  # fmt: skip
        await asyncio.sleep(0.6)

    user_turns: list[str] = []  # each committed turn of the diner, as the chat history got it

    def diners_turn(ev) -> None:
        if ev.item.type == "message" and ev.item.role == "user":
            user_turns.append(ev.item.text_content)

    session.on("conversation_item_added", diners_turn)
    split = cut_off = 0
    for i in range(args.pauses):
        realtime.transcripts[:], fake.transcript = list(PAUSED), " ".join(PAUSED)
        heard, asked = len(speaker.first_frames), len(user_turns)
        voice = VOICES[i % len(VOICES)]
        mic.say(spoken(PAUSED[0], *voice))
        mic.say(silence(args.pause_seconds))
        voice_end = await mic.say(spoken(PAUSED[1], *voice))
        await asyncio.sleep(3.0)
        split += PAUSED[0] in user_turns[asked:]
        cut_off += any(t < voice_end for t in speaker.first_frames[heard:])
        print(f"  pause {i + 1:3}/{args.pauses} {voice[0]:10} the diner's turns: {user_turns[asked:]}", flush=True)
        realtime.transcripts.clear()
    await session.aclose()
    facts_chars, searched = [], 0
    for request in model.requests:
        texts = [m.text_content for m in request["chat_ctx"].items if m.type == "message" and m.role == "system"]
        facts_chars += [len(t) for t in texts if t.startswith("Facts from the restaurant's database")]
        searched += "find_house_facts" in request["tools"]
    from livekit.agents.llm.utils import build_legacy_openai_schema

    from agent_worker import lookups, turn_facts

    reads, searches = [], []
    for _ in range(200):
        started = time.perf_counter()
        await run_orm(turn_facts.facts_now, restaurant_id)
        reads.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        await run_orm(lookups.house_facts_search, restaurant_id, "Is there parking?")
        searches.append((time.perf_counter() - started) * 1000)
    agent = RestaurantAgent(await run_orm(load_profile, restaurant_id))
    search_tool = next(tool for tool in agent.tools if tool.id == "find_house_facts")
    search_schema = len(json.dumps(build_legacy_openai_schema(search_tool)))
    for client in ("llm", "stt", "tts"):  # the pooled realtime socket too, or the fake waits for it on stop
        await proc.userdata[client].aclose()
    await fake.stop()

    on = [name for name in ("realtime_stt", "facts", "greeting_cache") if getattr(args, name)]
    print(f"\nlevers on: {', '.join(on) or 'none'}; turn-taking profile: {'old' if args.old_turns else 'new'} "
          f"(balanced: {turn_taking.PROFILES['balanced']})")  # fmt: skip
    print(f"model speeds: STT {STT_SECONDS} s, LLM first token {LLM_FIRST_TOKEN} s, TTS first byte {TTS_FIRST_BYTE} s")
    print(f"{'':16} {'n':>3}  {'-> first TTS request':>22}  {'-> first agent audio':>22}")
    print(f"{'':16} {'':>3}  {'p50':>10} {'p95':>11}  {'p50':>10} {'p95':>11}")
    for kind, values in rows.items():
        if not values:
            continue
        tts, audio = [v[0] for v in values], [v[1] for v in values]
        print(f"{kind:16} {len(values):3}  {statistics.median(tts):9.2f}s {percentile(tts, 95):10.2f}s"
              f"  {statistics.median(audio):9.2f}s {percentile(audio, 95):10.2f}s")  # fmt: skip
    if greetings:
        print(f"{'greeting':16} {len(greetings):3}  job start -> first greeting audio: p50 "
              f"{statistics.median(greetings):.3f} s, p95 {percentile(greetings, 95):.3f} s "
              f"(first {greetings[0]:.3f} s)")  # fmt: skip
    if args.pauses:
        print(f"{args.pause_seconds} s pause mid-sentence ({args.turn_taking}): first half answered alone in "
              f"{split} of {args.pauses}; agent started before the diner finished in {cut_off} of {args.pauses}")
    print(f"house facts: {args.house_facts}; facts message per model request: "
          + (f"p50 {statistics.median(facts_chars):.0f} characters (~{statistics.median(facts_chars) / 4:.0f} tokens), "
             f"max {max(facts_chars)}" if facts_chars else "none")
          + f"; find_house_facts offered in {searched} of {len(model.requests)} requests")  # fmt: skip
    print(f"reading the turn's facts (turn_facts.facts_now through run_orm, 200 reads): p50 "
          f"{statistics.median(reads):.2f} ms, p95 {percentile(reads, 95):.2f} ms")  # fmt: skip
    print(f"find_house_facts: its schema {search_schema} characters (~{search_schema / 4:.0f} tokens) in each request "
          f"that offers it; a search (lookups.house_facts_search through run_orm, 200 searches): p50 "
          f"{statistics.median(searches):.2f} ms, p95 {percentile(searches, 95):.2f} ms")  # fmt: skip
    print(f"LLM requests: {len(model.requests)}; TTS requests: {len(fake.speech)}; "
          f"uploads: {len(fake.transcriptions)}; realtime transcripts: "
          f"{len(realtime.sent('conversation.item.input_audio_transcription.completed'))}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=52)
    parser.add_argument("--greetings", type=int, default=12)
    parser.add_argument("--pauses", type=int, default=8)
    parser.add_argument("--pause-seconds", type=float, default=0.3)
    parser.add_argument("--turn-taking", choices=("quick", "balanced", "patient"), default="balanced")
    parser.add_argument("--preset", choices=PRESETS, default="all")
    for name in ("realtime_stt", "facts", "greeting_cache"):
        parser.add_argument(f"--{name.replace('_', '-')}", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--old-turns", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--house-facts", type=int, default=0, help="seed this many active house facts (0 to 500)")
    args = parser.parse_args()
    for name, value in PRESETS[args.preset].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    restaurant = django_with_a_restaurant()
    restaurant.turn_taking = args.turn_taking
    restaurant.save()
    if not 0 <= args.house_facts <= 500:
        parser.error("--house-facts takes 0 to 500 (a restaurant has at most 500 active house facts)")
    if args.house_facts:
        seed_house_facts(restaurant, args.house_facts)
    from tests.fakes.jobs import job_http_session

    async def in_a_job():
        async with job_http_session():
            await run(args, restaurant.pk)

    asyncio.run(in_a_job())


if __name__ == "__main__":
    main()
