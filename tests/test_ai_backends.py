"""The AI backends: the real openai SDK over HTTP against a local server, and the offline drafts."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Literal

import httpx
import pydantic
import pytest

import workbench.ai as ai
from tests.openai_server import Fail, Hang, ImageReply, OpenAIServer, Reply, tiny_png
from workbench.ai import (
    IdeaCards,
    Loglines,
    Outline,
    PitchBeats,
    Rewrite,
    SceneContinuation,
    ScreenplayPages,
    StoryPrompts,
    TextBackend,
    Treatment,
    build_image_backend,
    build_text_backend,
    parse_task_prompt,
    task_prompt,
)
from workbench.ai.offline_text import OfflineTextBackend
from workbench.ai.openai_images import OpenAIImageBackend
from workbench.ai.openai_text import OpenAITextBackend
from workbench.ai.tasks import IdeaCard
from workbench.errors import ProviderError
from workbench.settings import Settings

JSON_LOGLINES = '{"loglines": ["A courier must deliver her own memory before dawn."]}'
HEADING = re.compile(r"^(INT|EXT)\. [A-Z0-9 '.-]+ - (DAY|NIGHT)$")
CUE = re.compile(r"^[A-Z][A-Z0-9 .'-]+$")


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer() as running:
        yield running


def online(server: OpenAIServer, **overrides: object) -> OpenAITextBackend:
    options: dict = {"api_key": "sk-test", "base_url": server.base_url, "model": "gpt-test",
                     "timeout_seconds": 5.0, "max_retries": 2, "backoff_seconds": 0.01}
    options.update(overrides)
    return OpenAITextBackend(**options)


def fountain_cues(text: str) -> list[str]:
    """Character cues: an all-caps line after a blank line, followed by dialogue or a parenthetical."""
    lines = text.splitlines()
    return [lines[i] for i in range(1, len(lines) - 1)
            if not lines[i - 1].strip() and CUE.match(lines[i]) and lines[i + 1].strip()
            and not HEADING.match(lines[i]) and not lines[i].endswith(("TO:", ":"))]


# The contract every text backend keeps; each backend's class only builds the backend.


class TextBackendContract:
    @pytest.fixture
    def backend(self) -> TextBackend:
        raise NotImplementedError

    def test_complete_returns_a_labelled_generation(self, backend: TextBackend) -> None:
        result = backend.complete("You write loglines.", task_prompt("logline", keywords=["lantern"]), seed=3)
        assert result.text.strip()
        assert result.model == backend.model_id
        assert result.offline is backend.offline

    def test_stream_joins_to_the_complete_text(self, backend: TextBackend) -> None:
        prompt = task_prompt("logline", keywords=["lantern"])
        chunks = list(backend.stream("You write loglines.", prompt, seed=3))
        assert len(chunks) > 1
        assert "".join(chunks) == backend.complete("You write loglines.", prompt, seed=3).text

    def test_structured_returns_the_schema(self, backend: TextBackend) -> None:
        result = backend.structured("You write loglines.", task_prompt("logline", keywords=["lantern"]), Loglines)
        assert isinstance(result, Loglines) and result.loglines and all(line.strip() for line in result.loglines)

    def test_a_cancelled_request_is_a_provider_error(self, backend: TextBackend) -> None:
        cancel = threading.Event()
        cancel.set()
        with pytest.raises(ProviderError, match="cancelled"):
            backend.complete("system", "prompt", cancel=cancel)


class TestOfflineContract(TextBackendContract):
    @pytest.fixture
    def backend(self) -> TextBackend:
        return OfflineTextBackend()


class TestOpenAIContract(TextBackendContract):
    @pytest.fixture
    def backend(self, server: OpenAIServer) -> TextBackend:
        server.default = Reply(JSON_LOGLINES)
        return online(server)


# The openai backend against the local server.


def test_stream_yields_the_chunks_in_order(server: OpenAIServer) -> None:
    pieces = ["INT. ", "KITCHEN ", "- NIGHT\n\n", "Rain ", "on ", "glass."]
    server.script(Reply(chunks=pieces))
    assert list(online(server).stream("system", "prompt")) == pieces
    assert server.requests[0].body["stream"] is True


def test_seed_model_and_token_limit_reach_the_provider(server: OpenAIServer) -> None:
    result = online(server).complete("Be brief.", "Pitch me a heist.", seed=7, max_tokens=50)
    body = server.requests[0].body
    assert body["model"] == "gpt-test" and body["seed"] == 7 and body["max_completion_tokens"] == 50
    assert body["messages"] == [{"role": "system", "content": "Be brief."},
                                {"role": "user", "content": "Pitch me a heist."}]
    assert result.usage_tokens and result.usage_tokens > 10


def test_429_is_retried_until_it_succeeds(server: OpenAIServer) -> None:
    server.script(Fail(429, "Rate limit reached", retry_after=0), Fail(429, retry_after=0), Reply("Fade in."))
    assert online(server, max_retries=3).complete("system", "prompt").text == "Fade in."
    assert len(server.chat_requests()) == 3


def test_a_long_retry_after_fails_at_once_with_the_wait(server: OpenAIServer) -> None:
    server.script(Fail(429, retry_after=3600))
    with pytest.raises(ProviderError, match="3600 s"):
        online(server).complete("system", "prompt")
    assert len(server.requests) == 1


def test_500_forever_gives_up_after_max_retries(server: OpenAIServer) -> None:
    server.default = Fail(500)
    with pytest.raises(ProviderError) as caught:
        online(server, max_retries=2).complete("system", "prompt")
    assert len(server.requests) == 3
    assert "internal error (HTTP 500) on all 3 attempts" in str(caught.value)
    assert "Traceback" not in str(caught.value)


def test_a_hanging_provider_times_out_quickly_without_retries(server: OpenAIServer) -> None:
    server.script(Hang(10))
    started = time.monotonic()
    with pytest.raises(ProviderError, match=r"did not answer within 0\.5 s"):
        online(server, timeout_seconds=0.5).complete("system", "prompt")
    assert time.monotonic() - started < 3
    assert len(server.requests) == 1


def test_an_unreachable_provider_is_a_readable_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = OpenAITextBackend(api_key="sk-test", base_url=f"http://127.0.0.1:{port}/v1", timeout_seconds=2,
                                max_retries=1, backoff_seconds=0.01)
    with pytest.raises(ProviderError, match="Could not reach the AI provider after 2 attempts"):
        backend.complete("system", "prompt")


def test_a_rejected_key_is_not_retried(server: OpenAIServer) -> None:
    server.script(Fail(401, "Incorrect API key provided"))
    with pytest.raises(ProviderError, match="rejected the API key"):
        online(server).complete("system", "prompt")
    assert len(server.requests) == 1


def test_malformed_json_is_repaired_once(server: OpenAIServer) -> None:
    server.script(Reply('{"loglines": ["unfinished'), Reply(JSON_LOGLINES))
    result = online(server).structured("You write loglines.", "TASK: logline", Loglines)
    assert result.loglines == ["A courier must deliver her own memory before dawn."]
    first, repair = server.chat_requests()
    assert first.body["response_format"] == {"type": "json_object"}
    assert '"loglines"' in first.messages[0]["content"]  # the JSON schema travels in the system prompt
    assert repair.messages[-2] == {"role": "assistant", "content": '{"loglines": ["unfinished'}
    assert "not valid" in repair.messages[-1]["content"] and "JSON" in repair.messages[-1]["content"]


def test_json_of_the_wrong_shape_is_repaired_too(server: OpenAIServer) -> None:
    server.script(Reply('{"lines": []}'), Reply(JSON_LOGLINES))
    assert online(server).structured("system", "prompt", Loglines).loglines
    assert "loglines" in server.chat_requests()[1].messages[-1]["content"]


def test_malformed_twice_is_a_provider_error(server: OpenAIServer) -> None:
    server.script(Reply("Sure! Here are some loglines."), Reply('{"loglines": "not a list"}'))
    with pytest.raises(ProviderError, match="twice returned an answer that does not fit the expected Loglines"):
        online(server).structured("system", "prompt", Loglines)
    assert len(server.chat_requests()) == 2


def test_json_inside_a_code_fence_is_accepted(server: OpenAIServer) -> None:
    server.script(Reply(f"```json\n{JSON_LOGLINES}\n```"))
    assert online(server).structured("system", "prompt", Loglines).loglines
    assert len(server.requests) == 1


def test_cancelling_closes_the_stream_early(server: OpenAIServer) -> None:
    words = [f"word{i} " for i in range(200)]
    server.script(Reply(chunks=words, chunk_delay=0.02))
    cancel, received = threading.Event(), []
    for chunk in online(server).stream("system", "prompt", cancel=cancel):
        received.append(chunk)
        if len(received) == 3:
            cancel.set()
    assert received == words[:3]
    assert server.stream_aborted.wait(5), "the server should see the HTTP stream closed"
    assert server.chunks_sent < len(words)


def test_settings_build_the_openai_backend_with_an_injected_client(server: OpenAIServer, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, openai_api_key="sk-from-settings",
                        ai={"text_provider": "openai", "base_url": server.base_url, "text_model": "gpt-test",
                            "timeout_seconds": 5, "max_retries": 0})
    with httpx.Client(headers={"X-Shoot": "night"}) as client:
        backend = build_text_backend(settings, http_client=client)
        assert isinstance(backend, OpenAITextBackend) and backend.offline is False
        assert backend.complete("system", "prompt").text.startswith("Hello")
    headers = server.requests[0].headers
    assert headers["authorization"] == "Bearer sk-from-settings" and headers["x-shoot"] == "night"


def test_openai_without_a_key_or_endpoint_says_what_to_set(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, openai_api_key=None, ai={"text_provider": "openai"})
    with pytest.raises(ProviderError, match="OPENAI_API_KEY"):
        build_text_backend(settings)


def test_images_come_back_as_bytes(server: OpenAIServer, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, openai_api_key="sk-test",
                        ai={"image_provider": "openai", "base_url": server.base_url, "timeout_seconds": 5})
    png = tiny_png((200, 10, 10))
    server.script(ImageReply(png))
    backend = build_image_backend(settings)
    assert backend.generate("A red umbrella in the rain", size="1536x1024") == png
    body = server.requests[0].body
    assert body["prompt"] == "A red umbrella in the rain" and body["size"] == "1536x1024"
    assert body["model"] == "gpt-image-1" and "response_format" not in body  # gpt-image-* always answers base64


def test_dall_e_is_asked_for_base64(server: OpenAIServer) -> None:
    backend = OpenAIImageBackend(api_key="sk-test", base_url=server.base_url, model="dall-e-3", timeout_seconds=5)
    assert backend.generate("A lighthouse at dusk").startswith(b"\x89PNG")
    assert server.requests[0].body["response_format"] == "b64_json"


def test_image_refusals_become_provider_errors(server: OpenAIServer) -> None:
    server.script(Fail(400, "Your request was rejected by the safety system."))
    backend = OpenAIImageBackend(api_key="sk-test", base_url=server.base_url, timeout_seconds=5)
    with pytest.raises(ProviderError, match="refused the request .*safety system"):
        backend.generate("something")


def test_offline_images_signal_library_fallback(tmp_path: Path) -> None:
    backend = build_image_backend(Settings(home=tmp_path))
    assert backend.offline is True
    assert backend.generate("A red umbrella in the rain") is None


# The offline drafts.

OFFLINE = OfflineTextBackend()
PITCH = ("A courier lands in Lisbon at night. She runs through the rain to a bookshop. "
         "Inside, she meets the man who sent her, and he lies. She realises the package was her own memory.")


def test_settings_default_to_the_offline_backend(tmp_path: Path) -> None:
    backend = build_text_backend(Settings(home=tmp_path))
    assert isinstance(backend, OfflineTextBackend)
    assert backend.model_id == "offline-drafts/v1" and backend.offline is True


def test_offline_drafts_are_deterministic_per_seed() -> None:
    prompt = task_prompt("idea", genre="thriller", keywords=["lighthouse", "storm"])
    assert OFFLINE.complete("sys", prompt, seed=1).text == OFFLINE.complete("sys", prompt, seed=1).text
    assert OFFLINE.complete("sys", prompt, seed=1).text != OFFLINE.complete("sys", prompt, seed=2).text
    assert OFFLINE.structured("sys", prompt, IdeaCards, seed=5) == OFFLINE.structured("sys", prompt, IdeaCards, seed=5)


def test_idea_cards_are_built_from_the_request() -> None:
    keywords = ["lighthouse", "storm", "inheritance"]
    prompt = task_prompt("idea", "A keeper finds a radio that picks up tomorrow's news.", genre="thriller",
                         tone="tense", keywords=keywords, count=3)
    cards = OFFLINE.structured("sys", prompt, IdeaCards, seed=4).ideas
    assert len(cards) == 3
    assert "Lighthouse" in cards[0].title
    everything = " ".join(card.model_dump_json() for card in cards).lower()
    assert all(word in everything for word in keywords)
    assert all(card.genre == "thriller" and card.tone == "tense" for card in cards)
    assert all(card.protagonist and card.want and card.need and card.conflict and card.twist for card in cards)
    assert len({card.title for card in cards}) == 3


def test_loglines_use_the_given_idea() -> None:
    prompt = task_prompt("logline", protagonist="Ines Varga, a retired safecracker",
                         want="steal back her father's violin", genre="crime", count=3)
    loglines = OFFLINE.structured("sys", prompt, Loglines).loglines
    assert len(loglines) == 3
    assert all("violin" in line for line in loglines)


@pytest.mark.parametrize(("structure", "beats", "first", "last"), [
    ("three-act", 8, "Setup", "Resolution"),
    ("save-the-cat", 15, "Opening Image", "Final Image"),
])
def test_outlines_fill_the_structure_with_the_idea(structure: str, beats: int, first: str, last: str) -> None:
    prompt = task_prompt("outline", title="Salt", protagonist="Ruth Bell, a ferry captain",
                         want="win back the ferry licence", genre="drama", keywords=["harbour"], structure=structure)
    outline = OFFLINE.structured("sys", prompt, Outline, seed=2)
    assert outline.title == "Salt" and outline.structure == structure
    assert len(outline.beats) == beats and outline.beats[0].name == first and outline.beats[-1].name == last
    assert sum("Ruth" in beat.summary for beat in outline.beats) >= beats // 2
    assert any("ferry licence" in beat.summary for beat in outline.beats)
    assert [beat.page for beat in outline.beats] == sorted(beat.page for beat in outline.beats)


def test_treatment_has_one_headed_scene_per_beat() -> None:
    beats = ["Ruth wakes on the ferry.", "The harbour master refuses her licence.", "Ruth sails anyway."]
    treatment = OFFLINE.structured("sys", task_prompt("treatment", "\n".join(f"- {b}" for b in beats),
                                                      title="Salt"), Treatment)
    assert [scene.summary for scene in treatment.scenes] == beats
    assert [scene.number for scene in treatment.scenes] == [1, 2, 3]
    assert all(HEADING.match(scene.heading) for scene in treatment.scenes)


def test_screenplay_pages_are_fountain() -> None:
    beats = ["Mara finds the cellar door open.", "The snow traps them inside.", "Mara confronts her brother."]
    prompt = task_prompt("screenplay", "\n".join(beats), title="White Out", protagonist="Mara Quinn, a nurse",
                         genre="horror")
    pages = OFFLINE.structured("sys", prompt, ScreenplayPages)
    lines = pages.fountain.splitlines()
    assert lines[0] == "Title: White Out" and pages.title == "White Out"
    headings = [i for i, line in enumerate(lines) if HEADING.match(line)]
    assert len(headings) == 3 and all(lines[i - 1] == "" and lines[i + 1] == "" for i in headings)
    cues = fountain_cues(pages.fountain)
    assert "MARA" in cues and len(set(cues)) == 2
    assert all(beat in pages.fountain for beat in beats)
    assert OFFLINE.complete("sys", prompt).text.strip() == pages.fountain.strip()


SCENE = """INT. KITCHEN - NIGHT

Rain against the window. MARA (40s) counts pills into a saucer.

MARA
You told him about the money.

JONAH
(beat)
He asked. I don't lie to my father.

MARA
You lie to everyone else.
"""


def test_continue_the_scene_with_its_own_characters() -> None:
    added = OFFLINE.structured("sys", task_prompt("continue", SCENE, lines=4), SceneContinuation).fountain
    cues = fountain_cues(added)
    assert cues == ["JONAH", "MARA", "JONAH", "MARA"]  # Mara spoke last, so Jonah answers
    assert fountain_cues(SCENE + added)[-4:] == cues


@pytest.mark.parametrize(("mode", "text", "gone", "present"), [
    ("tighten", "So, I really just wanted to say that I am very sorry in order to move on.", "really", "to move on"),
    ("darker", "The sun was warm and she smiles at her friend.", "smiles", "stares"),
    ("casual", "I am sure we do not need it.", "do not", "don't"),
    ("punch-up", "She opens the door, and the room is empty; nobody is there.", "; ", "The room is empty."),
])
def test_rewrite_changes_the_selection_as_asked(mode: str, text: str, gone: str, present: str) -> None:
    result = OFFLINE.structured("sys", task_prompt("rewrite", text, mode=mode), Rewrite)
    assert gone not in result.text and present in result.text and result.notes


def test_story_prompts_combine_the_board_items() -> None:
    items = ["rain on a neon street", "a red umbrella", "an empty diner at 3 a.m", "an old train ticket"]
    prompt = task_prompt("prompts", "\n".join(items), board="Night shoot", genre="noir", count=5)
    prompts = OFFLINE.structured("sys", prompt, StoryPrompts, seed=9).prompts
    assert len(prompts) == 5 and len(set(prompts)) == 5
    assert all(any(item in p.lower() for item in items) for p in prompts)


OUTLINE_BODY = """Setup (act 1, p. 1): Ruth Bell, a ferry captain, runs the last night crossing alone.
Inciting Incident (act 1, p. 12): Ruth finds a stowaway in the lifeboat, holding the harbour ledger.
Midpoint: The ledger names the harbour master, and Teo offers Ruth a way out.
Resolution (act 3, p. 110): Ruth hands the ledger to the one reporter who will print it."""


def test_pages_from_outline_beats_keep_the_labels_off_the_page() -> None:
    pages = OFFLINE.structured("sys", task_prompt("screenplay", OUTLINE_BODY, title="Last Crossing",
                                                  protagonist="Ruth Bell, a ferry captain who lies to keep the peace"),
                               ScreenplayPages, seed=2).fountain
    for label in ("Setup", "Inciting Incident", "Midpoint", "Resolution", "(act", "p. 110"):
        assert label not in pages, label
    synopses = [line for line in pages.splitlines() if line.startswith("= ")]
    assert synopses[0] == "= Ruth Bell, a ferry captain, runs the last night crossing alone."
    assert len(synopses) == 4
    assert "RUTH BELL (" in pages  # the lead is introduced in capitals, once
    assert set(fountain_cues(pages)) == {"RUTH", "TEO"}  # the people the beats name


def test_a_treatment_lends_its_headings_to_the_pages() -> None:
    body = "1. EXT. FERRY DECK - NIGHT\nRuth counts the cars.\n\n2. INT. WHEELHOUSE - NIGHT\nTeo brings coffee."
    pages = OFFLINE.structured("sys", task_prompt("screenplay", body, title="Deck"), ScreenplayPages).fountain
    assert [line for line in pages.splitlines() if HEADING.match(line)] == ["EXT. FERRY DECK - NIGHT",
                                                                          "INT. WHEELHOUSE - NIGHT"]
    assert "1. EXT." not in pages and "= Ruth counts the cars." in pages


def test_story_prompts_from_a_pinned_scene_are_not_garbled() -> None:
    items = ["Night ferry", "EXT. HARBOUR - NIGHT Ferry horn. Fog rolls in over the pier. MARA We leave tonight.",
             "a red lantern"]
    prompt = task_prompt("prompts", "\n".join(items), board="Night ferry", count=5)
    prompts = OFFLINE.structured("sys", prompt, StoryPrompts, seed=1).prompts
    text = " ".join(prompts)
    assert "eXT" not in text and "EXT." not in text and "MARA" not in text and "Fog rolls" not in text
    assert "the ferry horn" in text and all(p[0].isupper() for p in prompts)


def test_a_continuation_takes_no_words_from_the_title_page() -> None:
    scene = "Title: The Captain\nCredit: Written by\nAuthor: Ana\n\n" + SCENE
    added = OFFLINE.structured("sys", task_prompt("continue", scene, lines=12), SceneContinuation, seed=4).fountain
    assert "captain" not in added.lower() and "credit" not in added.lower()


def test_the_offline_stream_writes_at_a_pace_and_stops_mid_pause() -> None:
    paced = OfflineTextBackend(word_pause=5.0)  # a pause no test could sit through
    cancel = threading.Event()
    stream = paced.stream("sys", task_prompt("continue", SCENE), cancel=cancel)
    first = next(stream)
    stopper = threading.Timer(0.2, cancel.set)
    stopper.start()
    rest = list(stream)  # returns when Stop is pressed, not after the pause
    stopper.join()
    assert first.strip() and rest == []


def test_a_four_sentence_pitch_gives_four_beats_with_shots() -> None:
    beats = OFFLINE.structured("sys", task_prompt("beats", PITCH), PitchBeats).beats
    assert [beat.text for beat in beats] == re.split(r"(?<=\.) ", PITCH)
    assert [beat.number for beat in beats] == [1, 2, 3, 4]
    assert beats[0].shot.startswith("Wide establishing shot") and all(beat.shot for beat in beats)
    assert "rain" in beats[1].shot


def test_asking_for_more_beats_splits_clauses() -> None:
    beats = OFFLINE.structured("sys", task_prompt("beats", PITCH, count=5), PitchBeats).beats
    assert len(beats) == 5
    assert "He lies." in [beat.text for beat in beats]


class Card(pydantic.BaseModel):
    title: str
    pitch: str
    genre: Literal["drama", "thriller", "fantasy"]
    hero: str


class Wall(pydantic.BaseModel):
    cards: Annotated[list[Card], pydantic.Field(max_length=2)]


class Frame(pydantic.BaseModel):
    index: int
    description: str
    image_prompt: str


def test_offline_fills_a_schema_of_the_callers_own() -> None:
    wall = OFFLINE.structured("sys", task_prompt("idea", genre="fantasy", keywords=["lantern"], count=4), Wall)
    assert len(wall.cards) == 2 and all(card.genre == "fantasy" and "Lantern" in card.title for card in wall.cards)
    single = OFFLINE.structured("sys", task_prompt("beats", "A storm hits. She runs."), Frame)
    assert single.index == 1 and single.description == "A storm hits." and "storm" in single.image_prompt


def test_a_free_prompt_is_read_by_its_words() -> None:
    loglines = OFFLINE.structured("sys", "Write a logline about a lantern maker", Loglines).loglines
    assert any("lantern maker" in line for line in loglines)
    assert "(three-act)" in OFFLINE.complete("sys", "Give me an outline of a story about a lantern maker").text


def test_offline_stream_stops_when_cancelled() -> None:
    cancel = threading.Event()
    stream = OFFLINE.stream("sys", task_prompt("screenplay", title="Salt"), cancel=cancel)
    first = next(stream)
    cancel.set()
    assert first.strip() and list(stream) == []


def test_task_prompts_round_trip() -> None:
    prompt = task_prompt("idea", "A keeper finds a radio.", genre="sci-fi", keywords=["radio", "tide"], count=2,
                         tone=None)
    request = parse_task_prompt(prompt)
    assert request.task == "idea" and request.body == "A keeper finds a radio."
    assert request.items("keywords") == ["radio", "tide"] and request.number("count", 3) == 2
    assert request.get("tone") == "" and parse_task_prompt("just words").task is None


def test_public_surface_is_complete() -> None:
    assert all(hasattr(ai, name) for name in ai.__all__)
    assert set(ai.TASK_SCHEMAS) == set(ai.TASK_NAMES)


# The walk-through's premise (tests/browser/test_walkthrough.py) and others that trip a word-gluing writer:
# possessives, a plural thing, an adjective after its noun ("a camera full of…"), no opening determiner.
PREMISES = [
    ("A night-ferry deckhand finds a camera full of tomorrow's photos", ""),
    ("The lighthouse keeper's daughter finds letters hidden in the storm lamps", "mystery"),
    ("A retired safecracker is asked to open her own father's vault", "crime"),
    ("Two sisters inherit a vineyard where the vines whisper at night", "horror"),
    ("An old projectionist discovers the reels show the town's future", ""),
    ("A courier carries a package of stolen memories across a frozen border", "thriller"),
]
def _draft_text(cards: list[IdeaCard]) -> str:
    return "\n".join(f"{c.title}\n{c.logline}\n{c.protagonist}\n{c.want}\n{c.conflict}\n{c.setting}\n{c.twist}"
                     for c in cards)


@pytest.mark.parametrize(("premise", "genre"), PREMISES)
def test_offline_ideas_read_like_a_draft_a_writer_would_keep(premise: str, genre: str) -> None:
    for seed in range(6):
        cards = OFFLINE.structured("sys", task_prompt("idea", premise, genre=genre, count=3), IdeaCards,
                                   seed=seed).ideas
        text = _draft_text(cards)
        assert not re.search(r"\bworld of (?:\w+'s|nursery|cellar|attic)\b", text), text
        assert not re.search(r"\b\w+'s(?=[ ,.;]*(?:$|[,.;]|and |was |makes |the ))", text, re.MULTILINE), text
        assert "camera full" not in text.lower() and "'S" not in text  # "The Last Tomorrow'S"
        titles = "\n".join(c.title for c in cards)
        assert not re.search(r"\b(?:Discovers|Carries|Inherit|Whisper|Hidden)\b", titles), titles  # verbs
        assert not re.search(r"^A \w+s for|\b(?:Letters|Reels|Photos|Vines) (?:Hours|Season|Road)", titles, re.M), titles
        # "the photos makes", "ten thousand sleeping colonists is lost": a plural thing with a singular verb.
        plural = re.search(r"\b(?:photos|letters|lamps|vines|colonists) (?:makes|was|is|has|shapes|keeps)\b", text)
        assert plural is None, text
        assert len({c.logline for c in cards}) == 3, [c.logline for c in cards]  # three ideas, three stories


def test_an_idea_keeps_the_premise_hero_and_its_loglines_and_outline_keep_its_things() -> None:
    premise = PREMISES[0][0]
    for seed in range(6):
        card = OFFLINE.structured("sys", task_prompt("idea", premise, count=3), IdeaCards, seed=seed).ideas[0]
        fields = {k: v for k, v in card.model_dump().items() if v}
        assert "night-ferry deckhand" in card.protagonist
        lines = OFFLINE.structured("sys", task_prompt("logline", count=3, **fields), Loglines, seed=seed).loglines
        outline = OFFLINE.structured("sys", task_prompt("outline", structure="three-act", **fields), Outline,
                                     seed=seed)
        told = " ".join(lines + [b.summary for b in outline.beats])
        assert not re.search(r"\bworld of (?!the )\w+", told), told  # "a world of nursery"
        assert "world of the nursery" not in told and "photos makes" not in told
        assert ", who never left does" not in told and "tenant, takes" not in told
        # The story's things are the card's own (the camera, the photos), not the genre's stock rooms.
        assert "camera" in told or "photos" in told, told
        if card.logline.startswith("When "):
            inciting = card.logline.split(", ")[0].removeprefix("When ")
            assert any(inciting.lower() in line.lower() for line in lines + [b.summary for b in outline.beats])


@pytest.mark.parametrize(("setting", "place"), [
    ("A new-build estate on drained marshland, where nobody talks about the camera", "NEW-BUILD ESTATE"),
    ("A rain-soaked port city, in the long shadow of the ledger", "PORT CITY"),
    ("A summer at a lakeside camp", "LAKESIDE CAMP"),
    ("A generation ship two centuries from anywhere", "GENERATION SHIP"),
    ("A hospital ward on the night shift", "HOSPITAL WARD"),
])
def test_pages_open_in_the_ideas_setting(setting: str, place: str) -> None:
    from workbench.ai.offline_pages import place_of

    assert place_of(setting) == place
    beats = [f"In {setting[:1].lower() + setting[1:]}, Mara keeps score of everything.", "Mara finds the map.",
             "Mara confronts her brother."]
    pages = OFFLINE.structured("sys", task_prompt("screenplay", "\n".join(beats), title="Salt", genre="horror",
                                                  protagonist="Mara Quinn, a nurse"), ScreenplayPages, seed=3)
    headings = [line for line in pages.fountain.splitlines() if HEADING.match(line)]
    assert len(headings) == 3 and headings[0].startswith((f"EXT. {place} - ", f"INT. {place} - "))
    assert all(place in heading for heading in headings)  # later scenes are its rooms and corners
    assert "FOREST ROAD - " not in headings[0]
