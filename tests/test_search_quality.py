"""Search quality of the offline embedder on the dev set of bench/search_quality.py.

The dev set is built at test time from photos other packages ship (scikit-learn,
HoloViews, scikit-image photos outside our sample library): near duplicates,
hard near duplicates (25-45 % crops, mirror, JPEG q10, tilted and regraded crops),
a real stereo pair and re-framed views of ten scenes, details cut out of the
photos, and text queries whose answers were checked by eye.
The thresholds sit a little below what offline v5 measures, above v2 and v1 (v5 is v3 with
padding, the black wedges and bars software adds, fed to the network as its zero input).
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageOps

from bench.search_quality import CHECK_HARD, CHECK_NEAR, QUERIES, DevSet, build_devset, evaluate, hard_edits
from workbench.embed import build_embedder
from workbench.embed.base import Embedder
from workbench.embed.padding import padding_mask
from workbench.settings import EmbedderSettings


@pytest.fixture(scope="module")
def offline() -> Embedder:
    return build_embedder(EmbedderSettings())


@pytest.fixture(scope="module")
def dev() -> DevSet:
    return build_devset()


@pytest.fixture(scope="module")
def halves(offline: Embedder, dev: DevSet) -> tuple[list[str], np.ndarray]:
    names = list(dev.halves)
    return names, offline.embed_images([dev.halves[n] for n in names] + dev.filler)


@pytest.fixture(scope="module")
def scores(offline: Embedder, dev: DevSet) -> dict[str, float]:
    return evaluate(offline.embed_images, offline.embed_texts, dev)


def test_dev_set_holds_offline_v5s_scores(scores: dict[str, float]) -> None:
    # On this set (280 near, 224 hard, 31 scenes, 53 texts) v5 measures 0.996 / 0.911 / 1.000 / 0.604 (v3
    # 0.993 near: the rotated-with-expand copy of one stereo eye found the other eye; v5 finds its own);
    # v2 measured 0.989 / 0.884 / 1.000 / 0.509, so the near, hard and text floors fail for v2 (and v1).
    assert scores["near-duplicate R@1"] >= 0.995
    assert scores["hard near-duplicate R@1"] >= 0.90
    assert scores["same-scene R@1"] >= 30 / 31
    assert scores["text→image precision@1"] >= 0.58


def test_the_check_edits_nobody_tuned_on_hold_too(scores: dict[str, float]) -> None:
    # Other light and hard edits of the same gallery: v5 and v3 measure 0.997 / 0.878, v2 0.988 / 0.842, and
    # v4 (256 px, fitted to the first rows: 0.996 there) fell to 0.991 / 0.872 here and was not shipped.
    assert scores[CHECK_NEAR] >= 0.995
    assert scores[CHECK_HARD] >= 0.86


def test_a_35_percent_crop_finds_its_original_first(
    offline: Embedder, dev: DevSet, halves: tuple[list[str], np.ndarray]
) -> None:
    names, gallery = halves
    crops = [hard_edits(dev.halves[n])[1] for n in names]  # keeps 35 % of the frame, off-centre
    best = np.argmax(offline.embed_images(crops) @ gallery.T, axis=1)
    found = sum(names[b] == n for b, n in zip(best, names, strict=True))
    assert found >= 24, f"only {found} of {len(names)} crops found their original"


def test_a_mirrored_copy_finds_its_original_first(
    offline: Embedder, dev: DevSet, halves: tuple[list[str], np.ndarray]
) -> None:
    names, gallery = halves
    best = np.argmax(offline.embed_images([ImageOps.mirror(dev.halves[n]) for n in names]) @ gallery.T, axis=1)
    found = sum(names[b] == n for b, n in zip(best, names, strict=True))
    assert found >= len(names) - 1, f"{found} of {len(names)}"


def test_padding_is_only_the_black_that_software_adds(dev: DevSet) -> None:
    # No dev photo or half has any (the retina's and the colour wheel's black surrounds are round, not padding).
    for still in [*dev.photos.values(), *dev.halves.values()]:
        assert padding_mask(np.asarray(still.resize((224, 224)))) is None
    still = np.asarray(dev.halves["macaw/left"].resize((192, 256)))
    letterboxed = np.pad(still, ((32, 32), (0, 0), (0, 0)))
    bars = np.zeros(letterboxed.shape[:2], bool)
    bars[:32], bars[-32:] = True, True
    np.testing.assert_array_equal(padding_mask(letterboxed), bars)
    turned = dev.halves["motorcycle/right"].rotate(-10, resample=Image.Resampling.BILINEAR, expand=True)
    tilted = np.asarray(turned.resize((192, 256)))
    wedges = padding_mask(tilted)
    assert wedges is not None and 0.2 < wedges.mean() < 0.3  # four corner triangles, a quarter of the frame


def test_a_copy_rotated_with_black_corners_stays_close_to_its_original(
    offline: Embedder, dev: DevSet, halves: tuple[list[str], np.ndarray]
) -> None:
    # The wedges are padding, not content: v5 measures a mean cosine of 0.846 (least 0.721) over the 28 halves,
    # v3, which saw the wedges as black shapes, 0.772 (least 0.558).
    names, gallery = halves
    tilted = offline.embed_images(
        [dev.halves[n].rotate(-10, resample=Image.Resampling.BILINEAR, expand=True) for n in names]
    )
    cosines = np.sum(tilted * gallery[: len(names)], axis=1)
    assert cosines.mean() >= 0.82 and cosines.min() >= 0.68, cosines.round(3)


def test_black_bars_embed_like_bars_of_nothing(offline: Embedder, dev: DevSet) -> None:
    # Pillarboxed in black or in the network's zero grey: v5 mean cosine 0.965, v3 0.917 (bars seen as content).
    cosines = []
    for name in dev.halves:
        still = np.asarray(dev.halves[name])
        bars = ((0, 0), (40, 40), (0, 0))
        black, grey = np.pad(still, bars), np.pad(still, bars, constant_values=128)
        first, second = offline.embed_images([Image.fromarray(black), Image.fromarray(grey)])
        cosines.append(float(first @ second))
    assert np.mean(cosines) >= 0.95, np.round(cosines, 3)


def test_the_other_eye_of_a_stereo_pair_is_the_closest_other_photo(offline: Embedder, dev: DevSet) -> None:
    others = [image for name, image in dev.photos.items() if not name.startswith("motorcycle")]
    right, left, *rest = offline.embed_images([dev.photos["motorcycle_right"], dev.photos["motorcycle"], *others])
    assert right @ left > max(right @ v for v in rest)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("penguin", "penguins"),
        ("parrot", "macaw"),
        ("macaw", "macaw"),
        ("a red motorbike", "motorcycle"),
        ("pagoda", "pagoda"),
        ("dahlia", "dahlia"),
        ("a page of printed text", "page"),
    ],
)
def test_words_find_the_dev_photo_they_describe(offline: Embedder, dev: DevSet, query: str, expected: str) -> None:
    names = list(dev.photos)
    scores = offline.embed_images(list(dev.photos.values())) @ offline.embed_texts([query])[0]
    ranking = [names[i] for i in np.argsort(-scores)]
    answers = QUERIES.get(query, (expected,))  # the motorbike is in both photos of the stereo pair
    assert ranking[0] in answers and expected in answers, ranking[:3]


def test_labels_come_with_the_vectors_and_say_what_is_there(offline: Embedder, dev: DevSet) -> None:
    stills = [dev.photos["penguins"], dev.photos["macaw"], dev.photos["dahlia"]]
    vectors, labels = offline.embed_and_describe(stills)
    np.testing.assert_allclose(vectors, offline.embed_images(stills), atol=1e-5)
    assert "penguin" in labels[0][0][0]
    assert labels[1][0][0] == "macaw"
    for still_labels in labels:
        probabilities = [p for _, p in still_labels]
        assert probabilities == sorted(probabilities, reverse=True)
        assert all(0.01 <= p <= 1 for p in probabilities) and sum(probabilities) <= 1 + 1e-5
