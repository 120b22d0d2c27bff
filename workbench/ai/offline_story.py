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
    "agree",
    "premise_role",
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
               "away", "back", "home", "tonight", "together", "apart", "down", "off", "full", "half", "free", "deep",
               "wide", "worth", "aware", "afraid", "sure", "left", "behind", "missing", "lost",
               # past participles that do not end in -ed: "letters hidden in the lamps"
               "hidden", "broken", "stolen", "forgotten", "frozen", "given", "taken", "written", "chosen", "fallen",
               "driven", "known", "shown", "torn", "worn", "sworn", "buried", "gone"}
# A verb after a plural subject loses its -s: "the photos make", not "the photos makes".
_PLURAL_VERBS = {"makes": "make", "was": "were", "is": "are", "has": "have", "shapes": "shape", "keeps": "keep",
                 "knows": "know", "holds": "hold", "turns": "turn", "comes": "come", "hides": "hide"}
_NOT_PLURAL = ("ss", "us", "is", "ics", "news", "'s", "lens", "chaos", "canvas", "atlas", "alias", "bias", "series",
               "species", "compass", "christmas", "texas", "paris", "athens", "mathematics")


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


def is_plural(phrase: str) -> bool:
    """'the photos' -> True, 'the compass', 'the news' -> False: whether a verb after it drops its -s."""
    last = phrase.split()[-1].lower() if phrase.split() else ""
    return len(last) > 3 and last.endswith("s") and not last.endswith(_NOT_PLURAL)


def agree(text: str, nouns: Sequence[str]) -> str:
    """Make the verb after each plural noun agree: 'the photos makes every choice harder' -> 'make'."""
    for noun in nouns:
        if is_plural(noun):
            text = re.sub(rf"\b({re.escape(noun)}) ({'|'.join(_PLURAL_VERBS)})\b",
                          lambda m: f"{m.group(1)} {_PLURAL_VERBS[m.group(2)]}", text, flags=re.IGNORECASE)
    return text


def title_case(text: str) -> str:
    """'night-ferry deckhand' -> 'Night-Ferry Deckhand' (str.title() would give "Tomorrow'S")."""
    return " ".join("-".join(part[:1].upper() + part[1:] for part in word.split("-")) for word in text.split())


def keywords_from(text: str, limit: int = 6) -> list[str]:
    """The words that carry a text: noun phrases after a determiner first, then other content words."""
    tokens = re.findall(r"[A-Za-z][A-Za-z'-]*|[.,;:!?()]", text)
    found = [phrase for i, token in enumerate(tokens) if token.lower() in _DETERMINERS
             for phrase in [_noun_phrase(tokens, i + 1)] if phrase]
    verb_at = _subject_verb(tokens)
    for index, token in enumerate(tokens):
        low = token.lower().strip("'")
        if index == verb_at or (index and tokens[index - 1].lower() in _VERB_CUES):
            continue  # "a courier carries", "who picks", "to run": a verb, not a thing
        if low.endswith("'s") or low.endswith("s'"):
            continue  # "tomorrow's photos": the possessor describes the thing, it is not one
        if index and _plural_noun(tokens[index - 1]):
            continue  # "two sisters inherit", "the vines whisper": the word after a plural is its verb
        if (len(low) > 3 and low not in craft.STOPWORDS and low not in _PREDICATES and low not in _MODIFIERS
                and not low.endswith(("ing", "ed", "ly"))):
            found.append(low)
    unique: list[str] = []
    for item in found:
        if not any(item == seen or item in seen.split() for seen in unique):
            unique.append(item)
    return unique[:limit]


def _subject_verb(tokens: list[str]) -> int:
    """Where the verb of a premise that opens on its subject is: 'An old projectionist [discovers]…'."""
    if not tokens or tokens[0].lower() not in ("a", "an", "the"):
        return -1
    for index in range(2, min(len(tokens), 5)):
        if tokens[index].lower().endswith("s") and not tokens[index].lower().endswith(("ss", "'s")):
            return index
    return -1


def _plural_noun(token: str) -> bool:
    low = token.lower()
    return low not in craft.STOPWORDS and low not in _DETERMINERS and is_plural(low)


def _noun_phrase(tokens: list[str], start: int) -> str:
    """The thing a determiner introduces: 'the [last unedited memory] was' -> 'unedited memory'."""
    phrase: list[str] = []
    for token in tokens[start : start + 3]:
        low = token.lower()
        if not token[0].isalpha() or low in craft.STOPWORDS or low in _DETERMINERS:
            break
        if low.endswith("'s"):
            phrase = []  # "the keeper's daughter": the thing is the daughter
            continue
        if phrase and _plural_noun(phrase[-1]):
            break  # "the vines whisper": a plural noun ends the thing, what follows is its verb
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
    if not words:
        # An idea card carries its things in its own lines ("where nobody talks about the camera"):
        # its loglines and outline stay about them rather than the genre's stock rooms.
        told = "\n".join(request.get(name) for name in ("setting", "twist", "conflict"))
        carried = [m.group(1).lower() for pattern in _CARRIERS for m in pattern.finditer(told)]
        words = list(dict.fromkeys(carried)) or [w for w in keywords_from(told)
                                                  if w not in premise_role(request.get("protagonist"))]
    return words or [loc.lower() for loc in genre.locations]


def _carrier(template: str) -> re.Pattern[str]:
    # "where the {kw} shapes every life" -> a pattern that finds the thing a card's line carries.
    head, _, tail = template.partition("{kw}")
    ending = rf" {re.escape(tail.split()[0])}\b" if tail.split() else r"\b"
    return re.compile(re.escape(head.lstrip(", ")) + r"([\w'-]+(?: [\w'-]+)?)" + ending, re.IGNORECASE)


# The lines of an idea card that hold its things: the setting's frame, the conflict's and the twist's tails.
_CARRIERS = tuple(_carrier(t) for t in (*craft.SETTING_FRAMES, "and the {kw} make", "and the {kw} makes",
                                         "and the {kw} was", "and the {kw} were"))


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


def premise_role(premise: str) -> list[str]:
    """Who a premise is about, when it opens on them: 'A night-ferry deckhand finds…' -> ['night-ferry deckhand'].

    A premise that opens another way ("Two sisters inherit…", "After the flood…") names no role here,
    and the genre lends one.
    """
    words = premise.split()
    if not words or words[0].lower() not in ("a", "an", "the"):
        return []
    return keywords_from(premise, 1)


def _compose_idea(request: TaskRequest, rng: random.Random, index: int,
                  used_engines: set[str] | None = None) -> dict[str, str]:
    genre_name, genre = genre_of(request, rng)
    tone = tone_of(request, rng, genre_name)
    keywords = request_keywords(request, genre)
    role_words = premise_role(request.get("premise") or request.body)
    # The hero is not the world they live in: "a ferry captain finds…" gives the role, and the other
    # words (the stowaway, the night crossing) give the title, the setting and the twist.
    things = [k for k in keywords if k not in role_words] or keywords
    kw = [things[(index + i) % len(things)] for i in range(4)]
    # Ideas of one request each get their own plot engine, so no two share a logline.
    used = used_engines if used_engines is not None else set()
    engines = ([e for e in genre.engines if e not in used] or [e for e in craft.PLOT_ENGINES if e not in used]
               or list(genre.engines))
    engine_name = pick(rng, engines)
    used.add(engine_name)
    engine = craft.PLOT_ENGINES[engine_name]
    slots = {"goal": pick(rng, genre.goals), "opponent": pick(rng, genre.opponents),
             "stakes": pick(rng, genre.stakes), "kw": kw[1]}
    first, last = person(rng)
    adjective = pick(rng, craft.TONES[tone]["adjectives"])
    role = role_words[0] if role_words else pick(rng, genre.roles)
    need, flaw = pick(rng, craft.NEEDS)
    nouns = [*kw, slots["stakes"], slots["goal"]]
    want = agree(engine.want.format(**slots), nouns)
    conflict = agree(engine.conflict.format(**slots), nouns)
    inciting = agree(engine.inciting.format(**slots), nouns)
    # "A Letters for Jonah", "The Vines Hours": some patterns only take one thing.
    patterns = [t for t in craft.TITLE_PATTERNS if not is_plural(kw[0]) or not t.startswith("A ")
                and not t.endswith(("Hours", "Season", "Road"))]
    title = pick(rng, patterns).format(Kw=title_case(kw[0]), Name=first)
    return {
        "title": title,
        "logline": mention_once(agree(f"When {inciting}, {article(adjective)} {adjective} {role} must {want}, "
                                f"but {conflict}.", kw), slots["opponent"]),
        "protagonist": f"{first} {last}, {article(adjective)} {adjective} {role} who {flaw}",
        "want": cap(want),
        "need": cap(need),
        "conflict": agree(sentence_case(f"{conflict}; and the {kw[2]} makes every choice harder."), kw),
        "setting": agree(cap(pick(rng, genre.settings) + pick(rng, craft.SETTING_FRAMES).format(kw=kw[0])), kw),
        "twist": agree(sentence_case(f"{pick(rng, genre.twists)}, and the {kw[3]} was the clue all along."), kw),
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
    engines: set[str] = set()
    return {"ideas": [_compose_idea(request, rng, i, engines) for i in range(count)]}


def idea_for(request: TaskRequest, rng: random.Random) -> dict[str, str]:
    """The idea a request talks about: its own fields, completed by a composed idea."""
    idea = _compose_idea(request, rng, 0)
    # genre and tone stay as genre_of/tone_of normalised them ("noir" -> "crime").
    for name in (*IDEA_FIELDS, "opponent", "stakes", "inciting"):
        given = request.get(name)
        if given:
            idea[name] = given
    # What starts the story is in the card's logline ("When <inciting>, a wary courier must…").
    told = re.match(r"When (.+?), (?:an?|the) [^,]+? must ", request.get("logline"))
    if told and not request.get("inciting"):
        idea["inciting"] = told.group(1)
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
        "A {tone}{genre} story: {who} must {want} before {stakes} is gone.",
    )
    # "A romantic romance story" says it twice.
    tone = "" if idea["tone"][:5] == idea["genre"][:5] else idea["tone"] + " "
    values = {"inciting": idea["inciting"], "who": who, "who_cap": cap(who), "want": want,
              "conflict_lc": conflict[:1].lower() + conflict[1:], "setting_lc": idea["setting"][:1].lower()
              + idea["setting"][1:], "twist_lc": idea["twist"][:1].lower() + idea["twist"][1:],
              "tone": tone, "genre": idea["genre"], "stakes": idea["stakes"]}
    start = rng.randrange(len(shapes))
    count = request.number("count", 3, high=len(shapes))
    lines = [agree(sentence_case(shapes[(start + i) % len(shapes)].format(**values)), [idea["stakes"]])
             for i in range(count)]
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
        "setting": lower["setting"].rstrip("."), "place": lower["setting"].split(",")[0].rstrip("."), "twist": lower["twist"].rstrip("."),
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
        summary = agree(sentence_case(template.format(**slots)), [slots["stakes"], slots["kw"]])
        # The opponent is introduced once in full, then by a short name.
        if slots["opponent"].lower() in told.lower():
            summary = sentence_case(re.sub(re.escape(slots["opponent"]), short_form(slots["opponent"]), summary,
                                           flags=re.IGNORECASE))
        told += summary
        beats.append({"name": name, "act": act, "page": page, "summary": summary})
    return {"title": idea["title"], "structure": "save-the-cat" if save_the_cat else "three-act", "beats": beats,
            "characters": [slots["name"], slots["ally"]]}
