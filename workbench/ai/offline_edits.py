"""Offline drafts that work on the writer's own material.

Continuing a Fountain scene with the characters already in it, rewriting a
selection, turning a board into story prompts, and splitting a pitch into
scene beats with a shot description each. Same conventions as
:mod:`workbench.ai.offline_story`: a request and a seeded ``random.Random`` in,
a dict shaped like the task's canonical schema out.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any

from workbench.ai import story_craft as craft
from workbench.ai.offline_pages import things_in
from workbench.ai.offline_story import cap, genre_of, keywords_from, pick, sentence_case, tone_of
from workbench.ai.tasks import TaskRequest

__all__ = ["write_continuation", "write_rewrite", "write_prompts", "write_beats", "split_pitch", "scene_characters",
           "motif"]

_HEADING = re.compile(r"^(INT|EXT|EST|INT\./EXT|I/E)[. ]", re.IGNORECASE)
_CUE = re.compile(r"^([A-Z][A-Z0-9 .'-]{0,30}?)(\s*\([^)]*\))?\s*\^?$")


def scene_characters(fountain: str) -> list[str]:
    """Character names in the order they last spoke (a cue is an all-caps line followed by dialogue)."""
    lines = fountain.splitlines()
    speakers: list[str] = []
    for i, raw in enumerate(lines[:-1]):
        line, following = raw.strip(), lines[i + 1].strip()
        match = _CUE.match(line.lstrip("@"))
        if not match or not following or _HEADING.match(line) or line.endswith(("TO:", ":")):
            continue
        if i > 0 and lines[i - 1].strip():
            continue  # a cue always follows a blank line
        name = match.group(1).strip()
        if name in speakers:
            speakers.remove(name)
        speakers.append(name)
    return speakers


_REPLIES = ("You keep saying the {noun} like it explains anything.", "Don't. Not now.",
            "I heard you the first time.", "Then why are you still here?", "Say that again about the {noun}.",
            "We were supposed to be past this.", "I kept it. The {noun}. All this time.",
            "You think I don't know what it costs?", "Look at me. I'm asking you.",
            "One more lie and I walk.", "It's not too late. Not yet.", "Tell me what happened to the {noun}.")
_BEATS = ("{a} sets the {noun} down between them. Neither moves.", "A long silence. {b} looks away first.",
          "{a} crosses to the window. Outside, nothing has changed.", "{b} almost laughs. Almost.",
          "Somewhere a door slams. They both flinch.", "{a} reaches for the {noun}, then stops.")
_PARENTHETICALS = ("(quietly)", "(beat)", "(too fast)", "(not looking up)", "(a ghost of a smile)")


def write_continuation(request: TaskRequest, rng: random.Random) -> dict[str, Any]:
    """The next lines of a Fountain scene, spoken by the characters already in it."""
    scene = request.body
    cast = scene_characters(scene) or [w.upper() for w in request.items("characters", "protagonist")[:2]]
    if not cast:
        cast = ["SOMEONE"]
    # The next line belongs to whoever did not speak last.
    order = [cast[-2], cast[-1]] if len(cast) > 1 else [cast[-1]]
    spoken = _spoken_words(scene, cast)
    nouns = things_in(spoken, {c.lower() for c in cast})[:6] or keywords_from(spoken) or ["door"]
    a, b = (name.title() for name in (order[-1], order[0]))
    out = [""]
    direction = request.get("direction")
    out += [sentence_case(direction.rstrip(".") + ".") if direction else
            pick(rng, _BEATS).format(a=a, b=b, noun=pick(rng, nouns)), ""]
    replies = rng.sample(_REPLIES, k=len(_REPLIES))
    for index in range(request.number("lines", 6, high=12)):
        speaker = order[index % len(order)]
        out.append(speaker)
        if index == 1:
            out.append(pick(rng, _PARENTHETICALS))
        out += [replies[index % len(replies)].format(noun=pick(rng, nouns)), ""]
    out += [pick(rng, _BEATS).format(a=a, b=b, noun=pick(rng, nouns)), ""]
    return {"fountain": "\n".join(out), "characters": cast}


_TITLE_KEY = re.compile(r"^[A-Za-z][A-Za-z ]{0,24}:")


def _story_lines(scene: str) -> list[str]:
    """The lines of a scene that are on the page: no title page, notes, synopses or sections."""
    lines = scene.splitlines()
    if lines and _TITLE_KEY.match(lines[0]):
        # A title page ("Title: …", "Credit: …") runs to the first blank line.
        blank = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
        lines = lines[blank:]
    return [line for line in lines if not line.strip().startswith(("=", "#", "[[", "/*", "*/"))]


def _spoken_words(scene: str, cast: list[str]) -> str:
    # Headings and cues name places and people, not the things a scene is about; a name in an
    # action line becomes "they" so the verb after it ("MARA counts") is not taken for a thing.
    text = " ".join(line for line in _story_lines(scene)
                    if line.strip() and not _HEADING.match(line.strip()) and not line.strip().isupper())
    for name in cast:
        text = re.sub(rf"\b{re.escape(name)}\b", "they", text, flags=re.IGNORECASE)
    return text


_FILLERS = (  # (pattern, replacement, what the note calls it)
    (r"\bin order to\b", "to", "in order to"), (r"\bdue to the fact that\b", "because", "due to the fact that"),
    (r"\bat this point in time\b", "now", "at this point in time"), (r"\b(?:is|are) able to\b", "can", "able to"),
    (r"\b(?:kind|sort) of\s", "", "kind of"), (r"^(?:so|well|now),\s+", "", "opening 'so,'"),
    (r"\b(?:really|very|just|actually|basically|literally|quite|somewhat|rather|totally)\s", "", "filler words"),
)
_DARKER = {"bright": "harsh", "smiles": "stares", "smile": "stare", "laughs": "goes quiet", "warm": "cold",
           "sunlight": "grey light", "sun": "gloom", "soft": "hard", "gentle": "cold", "happy": "hollow",
           "hope": "dread", "friend": "stranger", "home": "house", "morning": "dusk"}
_CONTRACTIONS = {"do not": "don't", "does not": "doesn't", "did not": "didn't", "is not": "isn't", "are not": "aren't",
                 "cannot": "can't", "will not": "won't", "I am": "I'm", "it is": "it's", "you are": "you're",
                 "we are": "we're", "they are": "they're", "that is": "that's", "I will": "I'll", "I have": "I've"}


def _swap(text: str, table: dict[str, str]) -> tuple[str, list[str]]:
    notes = []
    for old, new in table.items():
        pattern = re.compile(rf"\b{re.escape(old)}\b", re.IGNORECASE)
        if pattern.search(text):
            text = pattern.sub(_in_case_of(new), text)
            notes.append(f"'{old}' -> '{new}'")
    return text, notes


def _in_case_of(word: str) -> Callable[[re.Match[str]], str]:
    # A word swapped in at the start of a sentence keeps its capital.
    return lambda match: cap(word) if match.group()[0].isupper() else word


def write_rewrite(request: TaskRequest, rng: random.Random) -> dict[str, Any]:
    """A deterministic rewrite of the selection: tighten, punch up, shift the tone or the register."""
    text, mode = request.body or request.get("text", "selection"), request.get("mode", default="tighten").lower()
    notes: list[str] = []
    if "dark" in mode or "light" in mode:
        table = _DARKER if "dark" in mode else {v: k for k, v in _DARKER.items()}
        text, notes = _swap(text, table)
    elif "formal" in mode or "casual" in mode:
        table = _CONTRACTIONS if "casual" in mode else {v: k for k, v in _CONTRACTIONS.items()}
        text, notes = _swap(text, table)
    elif "punch" in mode or "tension" in mode or "short" in mode:
        text = re.sub(r",\s+(and|but|so|then)\s+(\w)", lambda m: ". " + m.group(2).upper(), text)
        text = re.sub(r";\s+(\w)", lambda m: ". " + m.group(1).upper(), text)
        notes = ["Split long sentences into short, punchy ones."]
    else:
        mode = "tighten"
        for pattern, replacement, label in _FILLERS:
            text, hits = re.subn(pattern, replacement, text, flags=re.IGNORECASE | re.MULTILINE)
            if hits:
                notes.append(f"Cut {label} ({hits}x).")
        text = sentence_case(re.sub(r"[ \t]{2,}", " ", text))
    return {"text": text.strip(), "notes": notes or [f"Nothing to change for '{mode}'; the selection already reads well."],
            "mode": mode}


_PROMPTS = ("Open on {a}. Who is the one person in this frame who should not be there?",
            "Write the scene where {a} and {b} collide, and somebody has to lie.",
            "What if the story of '{board}' began with {a} and ended with {b}?",
            "A character keeps coming back to {a}. Why, and what do they lose the day they stop?",
            "Tell it in a {tone} key: {a} at dawn, {b} at midnight, and one choice in between.",
            "Someone lies about {b}. Write the moment the lie unravels.",
            "A {genre} cold open: {a}, thirty seconds, no dialogue.",
            "Two strangers meet over {b}. Only one of them knows why.")


_SCENE_LINE = re.compile(r"^(?:INT|EXT|EST|I/E|INT\./EXT)\.?\s+(.+?)\s+-\s+(DAY|NIGHT|DAWN|DUSK|MORNING|EVENING|"
                         r"LATER|CONTINUOUS)\b\.?\s*(.*)$", re.IGNORECASE)
_CUE_WORDS = re.compile(r"\b[A-Z][A-Z'.-]+\b(?:\s+[A-Z][A-Z'.-]+\b)*")
_LEADS = {"the", "a", "an", "some", "two", "three", "every", "this", "that", "one"}


def motif(item: str) -> str:
    """A board item as a phrase a sentence can hold: a pinned scene excerpt becomes its place or its
    first image, a long note its first short sentence, a bare label 'the …'.

    >>> motif("EXT. HARBOUR - NIGHT Ferry horn. Fog rolls in over the pier. MARA We leave tonight.")
    'the ferry horn'
    """
    text, place = " ".join(item.split()), ""
    scene = _SCENE_LINE.match(text)
    if scene:
        time = scene.group(2).lower()
        when = {"night": "at night", "dawn": "at dawn", "dusk": "at dusk", "day": "by day",
                "morning": "in the morning", "evening": "in the evening"}.get(time, "")
        place = f"the {scene.group(1).lower()} {when}".strip()
        text = scene.group(3)
    text = " ".join(_CUE_WORDS.sub(" ", text).split())  # character cues and shouted words are not images
    first = re.split(r"(?<=[.!?])\s+", text)[0].strip().rstrip(".!?") if text else ""
    tags = [t.strip() for t in first.split(",") if t.strip()]
    if len(tags) > 2 and all(len(t.split()) <= 2 for t in tags):
        return f"{tags[0]} and {tags[1]}"  # an image's tags: "noir, rain, neon" -> "noir and rain"
    words = first.split()
    if not words or len(words) > 7:
        return place or " ".join(words[:6]) or "an empty frame"
    if not (words[0] in craft.FIRST_NAMES or words[0] in craft.SURNAMES or words[0].isupper()
            or (len(words) > 1 and words[1][:1].isupper())):
        words[0] = words[0].lower()  # "Ferry horn" is a thing mid-sentence; "Lisbon Harbour" stays a name
    if len(words) <= 3 and words[0].lower() not in _LEADS and words[0].islower():
        words.insert(0, "the")
    return " ".join(words)


def write_prompts(request: TaskRequest, rng: random.Random) -> dict[str, Any]:
    """Story prompts that combine what is pinned on a board."""
    genre, conventions = genre_of(request, rng)
    lines = [re.sub(r"^\s*[-*•]\s*", "", line).strip() for line in request.body.splitlines()]
    items = list(dict.fromkeys(motif(line) for line in lines if line.strip(" .")))
    items = items or [motif(k) for k in keywords_from(request.get("board"))] or list(conventions.set_pieces)
    board = request.get("board", "title", default="this board")
    templates = rng.sample(_PROMPTS, k=len(_PROMPTS))
    prompts = []
    for index in range(request.number("count", 5, high=len(_PROMPTS))):
        offset = 1 + rng.randrange(len(items) - 1) if len(items) > 1 else 0  # never pair an item with itself
        a, b = items[index % len(items)], items[(index + offset) % len(items)]
        prompts.append(cap(templates[index].format(a=a, b=b, board=board, tone=tone_of(request, rng, genre),
                                                   genre=genre)))
    return {"prompts": prompts}


_CLAUSE = re.compile(r"(?:,\s+(?:and|but|then|while|so|until)\s+|;\s+|\s+-{1,2}\s+|\s+—\s+)")
_FEELING = {"cries", "tears", "smiles", "realises", "realizes", "whispers", "remembers", "afraid", "fear", "love",
            "alone", "grief", "face", "eyes", "kiss", "kisses", "breaks", "confesses", "hope", "sees"}
_MOTION = {"runs", "chases", "drives", "races", "flees", "falls", "jumps", "escapes", "crosses", "walks", "climbs",
           "fights", "rides", "sails", "follows", "hunts", "dives", "storms"}
_MEETING = {"meets", "tells", "confronts", "asks", "with", "argue", "argues", "joins", "finds"}


def split_pitch(pitch: str, count: int | None = None) -> list[str]:
    """One beat per sentence; split at clauses or merge neighbours to reach ``count``."""
    beats = [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[\"'A-Z0-9])", pitch.strip()) if s.strip()]
    while count and len(beats) < count:
        index = max(range(len(beats)), key=lambda i: len(beats[i]) if _CLAUSE.search(beats[i]) else -1)
        parts = _CLAUSE.split(beats[index], maxsplit=1)
        if len(parts) < 2:
            break
        beats[index : index + 1] = [parts[0].rstrip(",;") + ".", cap(parts[1])]
    while count and len(beats) > count:
        index = min(range(len(beats) - 1), key=lambda i: len(beats[i]) + len(beats[i + 1]))
        beats[index : index + 2] = [beats[index] + " " + beats[index + 1]]
    return beats


def _shot(rng: random.Random, beat: str, index: int, total: int, tone: str) -> str:
    words = set(re.findall(r"[a-z']+", beat.lower()))
    if index == 0:
        size = "Wide establishing shot"
    elif index == total - 1:
        size = pick(rng, ("Slow push-in", "Wide closing shot", "Crane up and away"))
    elif words & _FEELING:
        size = "Close-up"
    elif words & _MOTION:
        size = "Tracking shot"
    elif words & _MEETING:
        size = "Over-the-shoulder two-shot"
    else:
        size = pick(rng, ("Medium shot", "Low-angle medium shot", "High-angle wide shot"))
    if words & {"night", "midnight", "dark", "moon", "neon"}:
        light = "night exterior, practical light only"
    elif words & {"rain", "storm", "snow", "fog"}:
        light = "weather in the frame, diffused light"
    else:
        light = pick(rng, craft.TONES.get(tone, craft.TONES["tense"])["light"])
    subject = " ".join(_CLAUSE.split(beat)[0].rstrip(".!?").split()[:14])
    return f"{size}, {pick(rng, ('24mm', '35mm', '50mm', '85mm'))}: {subject[:1].lower() + subject[1:]}; {light}."


def write_beats(request: TaskRequest, rng: random.Random) -> dict[str, Any]:
    """Scene beats from a pitch, one per sentence (or clause), each with a shot description."""
    pitch = request.body or request.get("pitch", "premise")
    count = request.number("count", 0, low=0, high=40) or None
    beats = split_pitch(pitch, count) or [pitch or "An empty frame."]
    tone = tone_of(request, rng)
    return {"beats": [{"number": i + 1, "text": beat, "shot": _shot(rng, beat, i, len(beats), tone)}
                      for i, beat in enumerate(beats)]}
