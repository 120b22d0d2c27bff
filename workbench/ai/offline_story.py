"""Offline story drafts: ideas, loglines and outlines (treatments and pages: :mod:`offline_pages`).

Each writer takes a parsed :class:`~workbench.ai.tasks.TaskRequest` and a
seeded ``random.Random`` and returns a plain dict shaped like the canonical
schema of its task. Drafts are composed from the request's own words
(keywords, premise, the idea's fields) and the craft tables in
:mod:`workbench.ai.story_craft`, so the same request and seed always give the
same draft and a different seed gives a different one.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Any, TypeVar

from workbench.ai import story_craft as craft
from workbench.ai.tasks import TaskRequest

__all__ = [
    "write_idea",
    "write_logline",
    "write_outline",
    "idea_for",
    "person",
    "short_name",
    "keywords_from",
    "sentence_case",
    "pick",
    "cap",
    "genre_of",
    "tone_of",
]

T = TypeVar("T")
IDEA_FIELDS = ("title", "logline", "protagonist", "want", "need", "conflict", "setting", "twist")
_QUALIFIERS = {"who", "that", "with", "on", "of", "in", "posing", "led", "buying", "than", "whose", "from"}
_VERB_CUES = {"that", "who", "which", "he", "she", "they", "it", "we", "i", "you", "to", "and", "then"}
_DETERMINERS = {"a", "an", "the", "his", "her", "their", "my", "our", "its", "this"}
_MODIFIERS = {"last", "first", "old", "new", "only", "own", "other", "same", "next", "whole", "little", "big", "small",
              "long", "young", "single", "entire", "very"}
_PREDICATES = {"open", "closed", "shut", "empty", "alone", "dead", "alive", "ready", "again", "inside", "outside",
               "away", "back", "home", "tonight", "together", "apart", "down", "off"}


# Small text tools shared with offline_edits.


def pick(rng: random.Random, options: Sequence[T]) -> T:
    return options[rng.randrange(len(options))]


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def sentence_case(text: str) -> str:
    """Capitalise the first letter of every sentence (templates start some with a slot)."""
    return re.sub(r"(^|[.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text.strip())


def article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def keywords_from(text: str, limit: int = 6) -> list[str]:
    """The words that carry a text: noun phrases after a determiner first, then other content words."""
    tokens = re.findall(r"[A-Za-z][A-Za-z'-]*|[.,;:!?()]", text)
    found = [phrase for i, token in enumerate(tokens) if token.lower() in _DETERMINERS
             for phrase in [_noun_phrase(tokens, i + 1)] if phrase]
    for index, token in enumerate(tokens):
        low = token.lower().strip("'")
        if index and tokens[index - 1].lower() in _VERB_CUES:
            continue  # "who picks", "to run": a verb, not a thing
        if (len(low) > 3 and low not in craft.STOPWORDS and low not in _PREDICATES and low not in _MODIFIERS
                and not low.endswith(("ing", "ed", "ly"))):
            found.append(low)
    unique: list[str] = []
    for item in found:
        if not any(item == seen or item in seen.split() for seen in unique):
            unique.append(item)
    return unique[:limit]


def _noun_phrase(tokens: list[str], start: int) -> str:
    """The thing a determiner introduces: 'the [last unedited memory] was' -> 'unedited memory'."""
    phrase: list[str] = []
    for token in tokens[start : start + 3]:
        low = token.lower()
        if not token[0].isalpha() or low in craft.STOPWORDS or low in _DETERMINERS:
            break
        phrase.append(low)
    while len(phrase) > 1 and (phrase[0] in _MODIFIERS or phrase[0].endswith("ly")):
        phrase.pop(0)
    # "the door open", "the snow traps": a trailing state or verb is not part of the thing.
    while len(phrase) > 1 and (phrase[-1] in _PREDICATES or (phrase[-1].endswith("s") and not phrase[-1].endswith("ss"))):
        phrase.pop()
    phrase = phrase[-2:]
    return " ".join(phrase) if phrase and len(phrase[-1]) > 2 else ""


def genre_of(request: TaskRequest, rng: random.Random) -> tuple[str, craft.GenreConventions]:
    asked = request.get("genre").lower()
    name = craft.GENRE_ALIASES.get(asked, asked)
    if name not in craft.GENRES:
        name = next((g for g in craft.GENRES if g in asked), "") or pick(rng, sorted(craft.GENRES))
    return name, craft.GENRES[name]


def tone_of(request: TaskRequest, rng: random.Random, genre: str = "") -> str:
    asked = request.get("tone").lower()
    name = craft.TONE_ALIASES.get(asked, asked)
    if name in craft.TONES:
        return name
    return pick(rng, craft.GENRE_TONES.get(genre) or sorted(craft.TONES))


def request_keywords(request: TaskRequest, genre: craft.GenreConventions) -> list[str]:
    """Explicit keywords first, then words from the premise/body, then the genre's places."""
    words = [k.lower() for k in request.items("keywords", "keyword", "tags")]
    for extra in keywords_from(request.get("premise", "prompt", "idea") + " " + request.body):
        if extra not in words:
            words.append(extra)
    return words or [loc.lower() for loc in genre.locations]


def short_form(phrase: str) -> str:
    """'a fixer who never raises his voice' -> 'the fixer': how a text refers to someone the second time."""
    words = phrase.split()
    cut = next((i for i, w in enumerate(words) if i > 0 and w in _QUALIFIERS), len(words))
    head = words[:cut]
    if head and head[0] in ("a", "an"):
        head[0] = "the"
    return " ".join(head) or phrase


def mention_once(text: str, phrase: str) -> str:
    """Keep the first full mention of ``phrase`` and use its short form after that."""
    short, first = short_form(phrase), text.lower().find(phrase.lower())
    if first < 0 or short == phrase:
        return text
    end = first + len(phrase)
    rest = re.sub(re.escape(phrase), short, text[end:], flags=re.IGNORECASE)
    return sentence_case(text[:end] + rest)


def person(rng: random.Random, avoid: Sequence[str] = ()) -> tuple[str, str]:
    first = pick(rng, [n for n in craft.FIRST_NAMES if n not in avoid])
    return first, pick(rng, craft.SURNAMES)


def short_name(protagonist: str) -> str:
    """'Mara Quinn, a courier' -> 'Mara'; 'a lonely courier' -> 'the lonely courier'."""
    head = protagonist.split(",")[0].strip()
    words = head.split()
    if not words:
        return "the hero"
    if words[0].lower() in _DETERMINERS:
        return "the " + " ".join(words[1:4])
    return words[0]


# Ideas and loglines.


def _compose_idea(request: TaskRequest, rng: random.Random, index: int) -> dict[str, str]:
    genre_name, genre = genre_of(request, rng)
    tone = tone_of(request, rng, genre_name)
    keywords = request_keywords(request, genre)
    premise_role = keywords_from(request.get("premise") or request.body, 1) if index == 0 else []
    # The hero is not the world they live in: "a ferry captain finds…" gives the role, and the other
    # words (the stowaway, the night crossing) give the title, the setting and the twist.
    things = [k for k in keywords if k not in premise_role] or keywords
    kw = [things[(index + i) % len(things)] for i in range(4)]
    engine_name = pick(rng, genre.engines)
    engine = craft.PLOT_ENGINES[engine_name]
    slots = {"goal": pick(rng, genre.goals), "opponent": pick(rng, genre.opponents),
             "stakes": pick(rng, genre.stakes), "kw": kw[1]}
    first, last = person(rng)
    adjective = pick(rng, craft.TONES[tone]["adjectives"])
    role = premise_role[0] if premise_role else pick(rng, genre.roles)
    need, flaw = pick(rng, craft.NEEDS)
    want = engine.want.format(**slots)
    conflict = engine.conflict.format(**slots)
    inciting = engine.inciting.format(**slots)
    title = pick(rng, craft.TITLE_PATTERNS).format(Kw=kw[0].title(), Name=first)
    return {
        "title": title,
        "logline": mention_once(f"When {inciting}, {article(adjective)} {adjective} {role} must {want}, "
                                f"but {conflict}.", slots["opponent"]),
        "protagonist": f"{first} {last}, {article(adjective)} {adjective} {role} who {flaw}",
        "want": cap(want),
        "need": cap(need),
        "conflict": sentence_case(f"{conflict}; and the {kw[2]} makes every choice harder."),
        "setting": cap(pick(rng, genre.settings) + pick(rng, craft.SETTING_FRAMES).format(kw=kw[0])),
        "twist": sentence_case(f"{pick(rng, genre.twists)}, and the {kw[3]} was the clue all along."),
        "genre": genre_name,
        "tone": tone,
        "engine": engine_name,
        "inciting": inciting,
        "opponent": slots["opponent"],
        "stakes": slots["stakes"],
        "flaw": flaw,
        "keywords": ", ".join(keywords),
    }


def write_idea(request: TaskRequest, rng: random.Random) -> dict[str, Any]:
    """Idea cards built from the premise, genre, tone and keywords."""
    count = request.number("count", 3, high=10)
    return {"ideas": [_compose_idea(request, rng, i) for i in range(count)]}


def idea_for(request: TaskRequest, rng: random.Random) -> dict[str, str]:
    """The idea a request talks about: its own fields, completed by a composed idea."""
    idea = _compose_idea(request, rng, 0)
    # genre and tone stay as genre_of/tone_of normalised them ("noir" -> "crime").
    for name in (*IDEA_FIELDS, "opponent", "stakes", "inciting"):
        given = request.get(name)
        if given:
            idea[name] = given
    return idea


def write_logline(request: TaskRequest, rng: random.Random) -> dict[str, Any]:
    """Loglines in three classic shapes, filled with the idea's specifics."""
    idea = idea_for(request, rng)
    # Loglines describe, they don't name: "a wary courier", not "Mara Quinn, a wary courier".
    described = idea["protagonist"].split(" who ")[0]
    who = described.split(", ", 1)[1] if ", " in described else described
    want = idea["want"][:1].lower() + idea["want"][1:]
    conflict = idea["conflict"].rstrip(".")
    shapes = (
        "When {inciting}, {who} must {want}, but {conflict_lc}.",
        "{who_cap} has one chance to {want}; the catch: {conflict_lc}.",
        "In {setting_lc}, {who} sets out to {want}, never guessing that {twist_lc}",
        "A {tone} {genre} story: {who} must {want} before {stakes} is gone.",
    )
    values = {"inciting": idea["inciting"], "who": who, "who_cap": cap(who), "want": want,
              "conflict_lc": conflict[:1].lower() + conflict[1:], "setting_lc": idea["setting"][:1].lower()
              + idea["setting"][1:], "twist_lc": idea["twist"][:1].lower() + idea["twist"][1:],
              "tone": idea["tone"], "genre": idea["genre"], "stakes": idea["stakes"]}
    start = rng.randrange(len(shapes))
    count = request.number("count", 3, high=len(shapes))
    lines = [sentence_case(shapes[(start + i) % len(shapes)].format(**values)) for i in range(count)]
    return {"loglines": lines, "logline": lines[0], "title": idea["title"]}


# Outlines.


def _beat_slots(idea: dict[str, str], rng: random.Random) -> dict[str, str]:
    genre = craft.GENRES.get(idea.get("genre", ""), craft.GENRES["drama"])
    name = short_name(idea["protagonist"])
    ally, _ = person(rng, avoid=[name])
    words = [k.strip() for k in idea.get("keywords", "").split(",") if k.strip()]
    words = words or keywords_from(" ".join(idea.get(f, "") for f in IDEA_FIELDS)) or ["past"]
    lower = {k: v[:1].lower() + v[1:] for k, v in idea.items()}
    return {
        "name": name, "ally": ally, "want": lower["want"].rstrip("."), "need": lower["need"].rstrip("."),
        "flaw": idea.get("flaw", "keeps everyone at arm's length"), "conflict": lower["conflict"].rstrip("."),
        "setting": lower["setting"].rstrip("."), "twist": lower["twist"].rstrip("."),
        "opponent": idea.get("opponent") or "the opposition", "stakes": idea.get("stakes") or "everything",
        "inciting": lower.get("inciting") or "the past catches up", "kw": pick(rng, words),
        "set_piece": pick(rng, genre.set_pieces),
        "new_world": pick(rng, ("unfamiliar territory", "a world with new rules", f"the orbit of {idea.get('opponent', 'danger')}")),
    }


def write_outline(request: TaskRequest, rng: random.Random) -> dict[str, Any]:
    """A three-act (8 beats) or Save the Cat (15 beats) outline of the request's idea."""
    idea = idea_for(request, rng)
    slots = _beat_slots(idea, rng)
    save_the_cat = any(word in request.get("structure").lower() for word in ("cat", "15", "snyder"))
    table = craft.SAVE_THE_CAT if save_the_cat else craft.THREE_ACT
    beats, told = [], ""
    for name, act, page, template in table:
        summary = sentence_case(template.format(**slots))
        # The opponent is introduced once in full, then by a short name.
        if slots["opponent"].lower() in told.lower():
            summary = sentence_case(re.sub(re.escape(slots["opponent"]), short_form(slots["opponent"]), summary,
                                           flags=re.IGNORECASE))
        told += summary
        beats.append({"name": name, "act": act, "page": page, "summary": summary})
    return {"title": idea["title"], "structure": "save-the-cat" if save_the_cat else "three-act", "beats": beats,
            "characters": [slots["name"], slots["ally"]]}
