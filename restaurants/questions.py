"""Diners' questions compared by their words: which wordings ask the same thing ("Is there parking?", "Where can I
park?", "Do you have a car park?"), for the staff's queue of unanswered questions, and which house facts come
closest to a question, for the agent's search.

Plain Python (the standard library's unicodedata), no model and no network: a question's *key words* are its
words without accents, case, punctuation, common question words ("is", "there", "can", "bring"...) and common
endings ("parking" -> "park", "chairs" -> "chair"); two key words match when they are equal or one starts with the
other and the shorter has at least PREFIX_CHARS letters ("access" and "accessible", "near" and "nearby"). So
wordings that share their words group together, and wordings that mean the same with other words ("Where can I
leave my car?") do not: a lexical measure, predictable and cheap, in English, German, French and Spanish.

Bounds: a text is read up to MAX_TEXT_CHARS characters; `group` takes at most MAX_GROUPED questions and compares
each with at most MAX_WORDINGS_COMPARED wordings of each group that shares a word's beginning with it.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_TEXT_CHARS = 1000  # longer texts are read up to here (a question is at most 300; a fact's answer 500)
MAX_GROUPED = 1000  # questions one `group` call takes (the newest first); callers pass at most this many
MAX_WORDINGS_COMPARED = 20  # distinct wordings of a group a new question is compared with
PREFIX_CHARS = 4  # "park" ~ "parking"; "car" is not a prefix match of "card"
SAME_QUESTION = 0.6  # the Dice similarity of key words from which two wordings ask the same thing

# Words that say nothing of what is asked: question words, pronouns, common verbs, and the restaurant itself.
STOP_WORDS = frozenset(
    # English
    "a an the is are was were be been am do does did done can could may might will would shall should must "
    "i im me my mine you your yours we our us he she it its they them their there here this that these those "
    "what whats where wheres when which who whom whose why how any anything some something of in on at to for from "
    "with without by about as and or but if so not please thanks thank hello hi hey ok okay just also still "
    "have has had get got bring take allow allowed let lets need want wanted like tell know find use "
    "restaurant pub place bistro bar cafe venue yours today tonight "
    # German
    "der die das den dem des ein eine einen einem einer ist sind war gibt es ich du sie wir ihr man mein meine "
    "mit fur und oder bei im am zum zur kann konnen darf durfen wo wie was wann hier bitte haben habt hat "
    # French
    "le la les un une des du de est sont il elle ils elles je tu nous vous on mon ma mes votre vos avec pour "
    "et ou dans au aux chez peut peux pouvez puis ce ca y quoi quel quelle ou comment quand ici "
    "avez avoir "
    # Spanish
    "el los las una unos unas es son hay yo tu usted ustedes mi con para por en del al puedo puede pueden "
    "donde como que cuando aqui tienen tiene".split()
)
# Endings taken off a word, longest first, when at least 3 letters remain: "parking" -> "park".
ENDINGS = ("ings", "ing", "ies", "es", "ed", "s")
WORD = re.compile(r"[a-z0-9]+")


def normalised(text: str) -> str:
    """`text` (read up to MAX_TEXT_CHARS) without accents, in lower case, punctuation as spaces, spaces collapsed:
    "Où est le café ?" -> "ou est le cafe"."""
    plain = unicodedata.normalize("NFKD", text[:MAX_TEXT_CHARS])
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold().replace("ß", "ss")
    return " ".join(WORD.findall(plain))


def _stem(word: str) -> str:
    for ending in ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: -len(ending)] + ("y" if ending == "ies" else "")
    return word


def key_words(text: str) -> frozenset[str]:
    """The words of `text` that say what is asked, stemmed: "Is there a high chair for my baby?" ->
    {"high", "chair", "baby"}. Empty for a text of question words only ("Can I?")."""
    return frozenset(_stem(w) for w in normalised(text).split() if w not in STOP_WORDS and len(w) > 1)


def _match(a: str, b: str) -> bool:
    if a == b:
        return True
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    return len(short) >= PREFIX_CHARS and long_.startswith(short)


def _matched(a: frozenset[str], b: frozenset[str]) -> int:
    """How many words of `a` match a word of `b`."""
    return sum(1 for word in a if word in b or any(_match(word, other) for other in b))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Dice similarity of two key-word sets, 0 to 1, with words matched as `_match` says: 2 × matches / (|a| + |b|).
    {"park"} and {"car", "park"}: 0.67; {"vegan", "dessert"} and {"vegan", "pizza"}: 0.5. 0 if either is empty."""
    if not a or not b:
        return 0.0
    return 2 * min(_matched(a, b), _matched(b, a)) / (len(a) + len(b))


def coverage(query: frozenset[str], text: frozenset[str]) -> float:
    """The share of `query`'s key words that `text` has, 0 to 1: how much of a question a fact speaks to."""
    return _matched(query, text) / len(query) if query else 0.0


@dataclass
class Group:
    """Wordings asking the same thing: `items` (the ids given to `group`, newest first), `wordings` (each distinct
    wording, as first seen, with how many times it was asked, most asked first once `group` returns), `latest`
    (when the newest was asked)."""

    items: list = field(default_factory=list)
    wordings: list[list] = field(default_factory=list)  # [text, times]
    latest: dt.datetime | None = None
    _keys: list[frozenset[str]] = field(default_factory=list, repr=False)  # per distinct wording
    _seen: dict[str, int] = field(default_factory=dict, repr=False)  # normalised wording -> index in wordings

    @property
    def count(self) -> int:
        return len(self.items)

    @property
    def question(self) -> str:
        """The wording asked most (the newest of those asked as often)."""
        return self.wordings[0][0]


def group(questions: Iterable[tuple[object, str, dt.datetime]]) -> list[Group]:
    """Groups `questions`, (id, text, asked at) newest first, at most MAX_GROUPED of them (more raise ValueError),
    into wordings that ask the same thing: a question joins the group with a wording whose key words are most
    alike (`similarity` at least SAME_QUESTION; for texts without key words, the same normalised text), else starts
    one. Returns the groups newest first; sort them as the page needs (`count`, `latest`)."""
    groups: list[Group] = []
    by_start: dict[str, list[Group]] = {}  # a key word's first PREFIX_CHARS letters -> groups having such a word
    by_text: dict[str, Group] = {}  # normalised text -> its group
    for n, (item, text, at) in enumerate(questions):
        if n >= MAX_GROUPED:
            raise ValueError(f"group() takes at most {MAX_GROUPED} questions")
        norm, keys = normalised(text), key_words(text)
        chosen = by_text.get(norm)
        if chosen is None and keys:
            candidates = {id(g): g for word in keys for g in by_start.get(word[:PREFIX_CHARS], [])}.values()
            best = 0.0
            for candidate in candidates:
                score = max(similarity(keys, k) for k in candidate._keys[:MAX_WORDINGS_COMPARED])
                if score >= SAME_QUESTION and score > best:
                    chosen, best = candidate, score
        if chosen is None:
            chosen = Group(latest=at)
            groups.append(chosen)
        chosen.items.append(item)
        if norm in chosen._seen:
            chosen.wordings[chosen._seen[norm]][1] += 1
        else:
            chosen._seen[norm] = len(chosen.wordings)
            chosen.wordings.append([text, 1])
            chosen._keys.append(keys)
            by_text[norm] = chosen
            for word in keys:
                starts = by_start.setdefault(word[:PREFIX_CHARS], [])
                if chosen not in starts:
                    starts.append(chosen)
    for g in groups:
        g.wordings.sort(key=lambda w: -w[1])  # stable: among equals, the newest wording first
    return groups


def rank(query: str, texts: Iterable[tuple[object, str, str]], *, limit: int = 3, at_least: float = 0.5) -> list:
    """The ids of the `texts`, (id, question, answer), that speak to `query` best, at most `limit`, best first: the
    share of the query's key words found in the question (or, counted at 0.8, in the answer), at least `at_least`.
    Ties go to the question more alike as a whole. [] for a query without key words."""
    wanted = key_words(query)
    if not wanted:
        return []
    scored = []
    for item, question, answer in texts:
        asked = key_words(question)
        score = max(coverage(wanted, asked), 0.8 * coverage(wanted, key_words(answer)))
        if score >= at_least:
            scored.append((score, similarity(wanted, asked), item))
    scored.sort(key=lambda s: (-s[0], -s[1]))
    return [item for _, _, item in scored[:limit]]
