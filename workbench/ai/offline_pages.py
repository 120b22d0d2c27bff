"""Offline treatments and Fountain pages, written from an outline's beats.

A beat sheet says what a scene must *do* ("Setup (act 1, p. 1): Amos wishes he
could…"); a page shows it. So each beat becomes a scene: a heading, an action
line that sets the place, one that puts the characters in it (the lead
introduced in capitals the first time, as scripts do), the beat itself kept as
a Fountain synopsis (``= …``: the writer's note, never printed), then an
exchange of dialogue that is not repeated elsewhere in the draft. Beat labels
and act/page markers are the outline's bookkeeping and never reach the page.
Scene headings come from the idea's setting ("In a new-build estate on drained
marshland, …" opens on EXT. NEW-BUILD ESTATE, later scenes are its rooms).
"""

from __future__ import annotations

import random
import re
from collections.abc import Collection
from typing import Any

from workbench.ai import story_craft as craft
from workbench.ai.offline_story import (
    cap,
    idea_for,
    person,
    pick,
    short_name,
    write_outline,
)
from workbench.ai.tasks import TaskRequest

__all__ = ["write_treatment", "write_screenplay", "given_scenes", "strip_beat_label", "things_in", "place_of",
           "setting_of"]

_OUTDOOR = ("STREET", "ROAD", "HARBOR", "DOCK", "GARDEN", "CANYON", "WOODS", "ROOFTOP", "RIVERBANK", "HIGHWAY",
            "PASS", "CAR PARK", "PLATFORM", "PORCH", "VINEYARD", "DECK", "ALLEY")
_HEADING = re.compile(r"^(?:INT|EXT|EST|INT\./EXT|I/E)[. ]", re.IGNORECASE)
_NUMBERED = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s*")
# "Setup (act 1, p. 1): …", "Midpoint (act 2): …": the outline's own labels.
_ACT_LABEL = re.compile(r"^[^:()]{1,40}\((?:act|p\.|page)[^)]*\)\s*:\s*", re.IGNORECASE)
_BEAT_NAMES = {name.lower() for name, *_ in (*craft.THREE_ACT, *craft.SAVE_THE_CAT)}


def strip_beat_label(line: str) -> str:
    """'3. Midpoint (act 2, p. 55): The truth shifts.' -> 'The truth shifts.'"""
    text = _NUMBERED.sub("", line).strip()
    text = _ACT_LABEL.sub("", text)
    name, sep, rest = text.partition(":")
    if sep and name.strip().lower() in _BEAT_NAMES and rest.strip():
        text = rest.strip()
    return text


def given_scenes(request: TaskRequest) -> list[tuple[str, str]]:
    """The (heading, beat) pairs a request's body holds: outline beats, or a treatment's scenes.

    A treatment gives its own headings ("1. EXT. HARBOR - NIGHT" above the
    summary); outline beats leave the heading empty for the writer to choose.
    """
    scenes: list[tuple[str, str]] = []
    heading = ""
    for raw in request.body.splitlines():
        line = _NUMBERED.sub("", raw).strip()
        if not line or line.lower().startswith(("title:", "task:")):
            continue
        if _HEADING.match(line):
            heading = line.upper()
            continue
        beat = strip_beat_label(line)
        if beat:
            scenes.append((heading, beat))
            heading = ""
    return scenes


# Where a setting's place ends: "a new-build estate | on drained marshland", "a care home | where…".
_PLACE_END = {"on", "in", "at", "of", "where", "that", "which", "who", "with", "run", "built", "cut", "under", "by",
              "from", "selling", "during", "after", "before", "near", "beside", "across", "over"}
_COUNTS = {"two", "three", "four", "five", "ten", "hundred", "thousand"}
# Settings that name a time rather than a place ("a summer at a lakeside camp"): the place follows "at"/"in".
_TIMES = {"summer", "winter", "weekend", "year", "season", "night", "week", "month", "day", "trip", "holiday"}
_ROOMS = {"WARD", "ROOM", "OFFICE", "START-UP", "FLAT", "FLATS", "STUDIO", "LAB", "LABORATORY", "KITCHEN", "CLASSROOM"}
_SETTING_IN_BEAT = re.compile(r"^In (.+?), (?=[A-Z])")


def place_of(setting: str) -> str:
    """The place a setting names, for scene headings: 'a new-build estate on drained marshland, where…'
    -> 'NEW-BUILD ESTATE'; '' when it names none."""
    words = re.findall(r"[A-Za-z][A-Za-z'-]*", setting.split(",")[0].lower())
    if words and words[0] in ("a", "an", "the"):
        words = words[1:]
    head: list[str] = []
    for index, word in enumerate(words):
        if word in _PLACE_END or (head and word in _COUNTS):  # "a generation ship | two centuries from…"
            rest = words[index + 1:]
            if head and head[-1] in _TIMES and word in ("at", "in", "on", "of") and rest:
                return place_of(" ".join(rest))
            break
        head.append(word)
    # "drained marshland", "a rain-soaked port city": the describing word is not the place.
    while len(head) > 2 and head[0].endswith(("ed", "ing")):
        head.pop(0)
    return " ".join(head[-3:]).upper()


def setting_of(request: TaskRequest, beats: list[str]) -> str:
    """The idea's setting: the request's own, or the one an outline's first beat opens in ("In …, Mara …")."""
    given = request.get("setting")
    if given:
        return given
    found = next((m.group(1) for beat in beats if (m := _SETTING_IN_BEAT.match(beat))), "")
    return found


def _heading(rng: random.Random, genre: craft.GenreConventions, tone: str, last: str, place: str = "") -> str:
    """A scene heading: the first scene establishes the setting's place, later ones its rooms and corners."""
    night = 0.6 if tone in ("dark", "tense", "gritty") else 0.35
    time = "NIGHT" if rng.random() < night else "DAY"
    if place and not last:
        # The opening establishes the place from outside, unless it is a room ("INT. HOSPITAL WARD").
        inside = "INT." if place.split()[-1] in _ROOMS else "EXT."
        return f"{inside} {place} - {time}"
    room = pick(rng, [loc for loc in genre.locations if loc not in last] or list(genre.locations))
    inside = "EXT." if any(word in room for word in _OUTDOOR) else "INT."
    return f"{inside} {place} - {room} - {time}" if place else f"{inside} {room} - {time}"


def write_treatment(request: TaskRequest, rng: random.Random) -> dict[str, Any]:
    """A scene-by-scene treatment: one scene per outline beat, each with a heading."""
    idea = idea_for(request, rng)
    beats = [beat for _, beat in given_scenes(request)] or [b["summary"] for b in write_outline(request, rng)["beats"]]
    genre = craft.GENRES.get(idea["genre"], craft.GENRES["drama"])
    place = place_of(setting_of(request, beats))
    scenes, last = [], ""
    for number, beat in enumerate(beats, start=1):
        last = _heading(rng, genre, idea["tone"], last, place)
        scenes.append({"number": number, "heading": last, "summary": beat})
    return {"title": request.get("title") or idea["title"], "scenes": scenes}


_PUSH = ("I'm not walking away from the {noun}. Not this time.", "Give me one night. That's all I need.",
         "Everyone keeps telling me to let the {noun} go.", "You said there was another way. Show me.",
         "I've done the math. It only works if we move now.", "Then I'll do it alone.",
         "I need to know what happened. The whole thing.", "Don't tell me it's nothing. I was there.",
         "If we wait, we lose it. You know we do.", "I came back for the {noun}. Nothing else.")
_PUSHBACK = ("You don't know what the {noun} costs.", "Walk away. While you still can.",
             "And when it goes wrong? Who pays then?", "I've seen people try. I went to their funerals.",
             "You always think you're the exception.", "Look at me. Is this really about the {noun}?",
             "Nobody asked you to fix this.", "You're asking me to trust you. Again.",
             "Keep your voice down.", "It's late. Go home.")
_TURN = ("Then tell me the truth. All of it.", "It was never about the {noun}, was it?", "Fine. My way, then.",
         "I'm still here. That has to count for something.", "We finish it tonight.", "Say it again. Slower.",
         "Then we do it together, or not at all.", "I know. I've always known.", "Get your coat.")
_INSIDE = ("{light}. The {place} is silent except for a dripping tap.", "{light}. The {place} is crowded and loud.",
           "The {place}, {light_lc}. Someone has left in a hurry.", "{light}. A radio murmurs somewhere in the {place}.")
_OUTSIDE = ("{light}. Wind worries at the {place}.", "The {place}, {light_lc}. Not a soul in sight.",
            "{light}. Traffic hisses past the {place}.", "The {place}, {light_lc}. Footsteps, then nothing.")
_ENTRANCE = ("{intro} stands at the edge of it all, watching.", "{intro} comes in out of the cold, already late.",
             "{intro} works alone, fast and careful.", "{intro} waits, turning a coin over and over.")
_MOVES = ("{lead} stops in the doorway and takes it all in.", "{lead} checks the time. Again.",
          "{partner} is already here, waiting for {lead}.", "{lead} and {partner} face each other. Neither sits.",
          "Neither of them mentions the {noun}. Not yet.", "{partner} won't meet {lead}'s eyes.",
          "{lead} looks for a way out, and finds {partner} in it.", "{lead} hesitates, then keeps going.")
_AGES = ("20s", "30s", "40s", "50s", "60s")


class _Lines:
    """Lines drawn without repeats across one draft (a pool starts over only when it runs dry)."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._left: dict[tuple[str, ...], list[str]] = {}

    def take(self, pool: tuple[str, ...]) -> str:
        left = self._left.get(pool) or self._rng.sample(pool, k=len(pool))
        line, self._left[pool] = left[0], left[1:]
        return line


_THING = re.compile(r"\b(?:the|a|an|his|her|their|its|my|our)\s+([a-z][a-z-]+)(?:\s+([a-z][a-z-]+))?")
_NOT_THINGS = {"first", "last", "only", "same", "other", "whole", "most", "next", "final", "deeper", "truth's",
               "one", "way", "time", "day", "night", "stakes", "end", "world", "past"}
_PREPOSITIONS = {"behind", "about", "against", "with", "from", "into", "over", "under", "through", "before", "after",
                 "between", "without", "around", "toward", "towards", "across", "beyond", "inside", "outside", "near"}


def things_in(text: str, avoid: Collection[str] = ()) -> list[str]:
    """What a text is about, most mentioned first: 'the stowaway', 'the water supply' -> stowaway, water supply."""
    counts: dict[str, int] = {}
    for first, second in _THING.findall(text.lower()):
        words = [first] + ([second] if second and second not in craft.STOPWORDS | _PREPOSITIONS
                             and not second.endswith("ly") else [])
        if words[0] in craft.STOPWORDS or words[0] in _NOT_THINGS or any(w in avoid for w in words):
            continue
        # "the stowaway hides": a trailing verb is not part of the thing.
        if len(words) == 2 and words[1].endswith("s") and not words[1].endswith("ss"):
            words = words[:1]
        # "a rain-soaked port", "the hidden door": the describing word is not the thing.
        if len(words) == 2 and ("-" in words[0] or words[0].endswith("ed")):
            words = words[1:]
        thing = " ".join(words)
        counts[thing] = counts.get(thing, 0) + 1
    return sorted(counts, key=lambda t: -counts[t])


def _cast(request: TaskRequest, idea: dict[str, str], beats: list[str],
          rng: random.Random) -> tuple[str, str, str]:
    """(lead, partner, how the lead is introduced): the people the beats talk about."""
    named = list(dict.fromkeys(w for w in re.findall(r"\b[A-Z][a-z]+\b", " ".join(beats)) if w in craft.FIRST_NAMES))
    protagonist = request.get("protagonist") or (named[0] if named else idea["protagonist"])
    lead = short_name(protagonist)
    lead = lead.removeprefix("the ").split()[-1].title() if lead.startswith("the ") else lead
    partner = next((n for n in named if n != lead), "") or person(rng, avoid=[lead])[0]
    full, _, rest = protagonist.partition(",")
    role = rest.split(" who ")[0].strip()
    intro = f"{full.strip().upper()} ({pick(rng, _AGES)})" + (f", {role}," if role else "")
    return lead, partner, intro


def _scene(rng: random.Random, lines: _Lines, heading: str, beat: str, cast: tuple[str, str, str],
           tone: str, nouns: list[str], first: bool) -> list[str]:
    lead, partner, intro = cast
    noun = pick(rng, [n for n in things_in(beat) if n in nouns][:2] or nouns[:3])
    night = heading.endswith("NIGHT")
    light = pick(rng, craft.NIGHT_LIGHT if night else craft.TONES.get(tone, craft.TONES["tense"])["light"])
    # "INT. NEW-BUILD ESTATE - CELLAR - NIGHT": the action line sets the room, not the whole estate.
    place = heading.split(" ", 1)[1].rsplit(" - ", 1)[0].split(" - ")[-1].lower()
    templates: tuple[str, ...] = _OUTSIDE if heading.startswith("EXT.") else _INSIDE
    if "," in light:  # "The harbor, darkness, broken by one bare bulb." reads as a list
        templates = tuple(t for t in templates if t.startswith("{light}"))
    setting = pick(rng, templates).format(light=cap(light), light_lc=light[:1].lower() + light[1:], place=place)
    people = (lines.take(_ENTRANCE).format(intro=intro) if first
              else lines.take(_MOVES).format(lead=lead, partner=partner, noun=noun))
    out = [heading, "", f"= {beat.rstrip('.')}.", "", setting, "", cap(people), ""]
    for speaker, pool in ((lead, _PUSH), (partner, _PUSHBACK), (lead, _TURN)):
        out.append(speaker.upper())
        if speaker == partner and rng.random() < 0.5:
            out.append(pick(rng, ("(quietly)", "(not looking up)", "(beat)")))
        out += [lines.take(pool).format(noun=noun), ""]
    return out


def write_screenplay(request: TaskRequest, rng: random.Random) -> dict[str, Any]:
    """Screenplay pages in Fountain: a title page, then one scene per beat (or treatment scene)."""
    idea = idea_for(request, rng)
    scenes = given_scenes(request) or [("", b["summary"]) for b in write_outline(request, rng)["beats"]]
    scenes = scenes[: request.number("scenes", len(scenes), high=40)]
    lead, partner, intro = _cast(request, idea, [beat for _, beat in scenes], rng)
    # What the people argue about: what the story is after (the idea's want and stakes when the request
    # carries them), then what its beats keep mentioning; never a name.
    avoid = {lead.lower(), partner.lower()}
    wanted = things_in(f"{request.get('want')} {request.get('stakes')}", avoid)
    nouns = list(dict.fromkeys(wanted + things_in(" ".join(beat for _, beat in scenes), avoid))) or ["plan"]
    genre = craft.GENRES.get(idea["genre"], craft.GENRES["drama"])
    place = place_of(setting_of(request, [beat for _, beat in scenes]))
    title = request.get("title") or idea["title"]
    out = [f"Title: {title}", "Credit: Written by", f"Author: {request.get('author') or 'Offline draft'}",
           "Draft date: offline draft (offline-drafts/v1)", "", "FADE IN:", ""]
    last, lines = "", _Lines(rng)
    for index, (given, beat) in enumerate(scenes):
        last = given or _heading(rng, genre, idea["tone"], last, place)
        out += _scene(rng, lines, last, beat, (lead, partner, intro), idea["tone"], nouns, first=index == 0)
        if index < len(scenes) - 1 and rng.random() < 0.3:
            out += ["CUT TO:", ""]
    out += ["> FADE OUT.", ""]
    return {"title": title, "fountain": "\n".join(out), "characters": [lead.upper(), partner.upper()]}
