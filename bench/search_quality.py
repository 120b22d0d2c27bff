"""Search quality on a dev set built from photos other Python packages ship (not the sample library).

Run::

    .venv/bin/python -m bench.search_quality                 # the offline default
    .venv/bin/python -m bench.search_quality --name clip --clip-checkpoint /models/vit-b-32.bin

Four numbers, the same four the held-out evaluation of issue #17 reports:

* **near-duplicate R@1**: a lightly edited copy (80 % and 70 % crops, four
  regrades including greyscale and a flat soft one, a 10 degree rotation and a
  5 degree tilt, JPEG q40, thumbnail) finds its original first in the gallery;
* **hard near-duplicate R@1**: a copy keeping only 25-45 % of the frame, mirrored,
  or re-encoded at JPEG q10-20, and mixes of those with a tilt or a regrade,
  finds its original first;
* **same-scene R@1**: another view of the same scene (the motorcycle stereo pair
  scikit-image ships; for ten photos three pairs of overlapping views, side by
  side, one above the other, and wide with closer, re-framed, warped and
  regraded as a second camera would see them) finds its partner view first;
* **text→image precision@1**: a labelled query ("parrot", "a red motorbike",
  "a park bench", "boats on a lake") puts one of the stills it describes first,
  among the whole photos, ten details cut out of them (wheels, boxes, a bench,
  the engine, the lake, trees, the macaw's head, palm leaves, the penguin chick)
  and the faces; every label was checked by looking at the stills.

Two more rows check the first two against overfitting: the same gallery queried with
other edits (:func:`check_near_edits`, :func:`check_hard_edits`) made after offline v3
was frozen. Nothing is tuned on them; a change that gains on the first rows and loses
here fits the dev set, not the task (offline v4 at 256 px did exactly that).

The photos other packages ship are few, so the same-scene and text parts are
still small (31 pairs, 53 queries): one query is 0.019 of the text score.

Sources (all read from installed packages at run time, nothing is committed):
scikit-learn's ``load_sample_images`` photos (china.jpg, flower.jpg; CC BY, see
scikit-learn's docs), HoloViews' example assets (macaw, penguins, pollen; BSD
package), scikit-image's data photos that are *not* in our sample library
(motorcycle stereo pair, retina, moon, ihc, colour wheel, logo, page, cell;
CC0/public domain as scikit-image records) and the 200 small LFW faces
scikit-image bundles (filler for the galleries).
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter, ImageOps

from bench import module_main

__all__ = ["DevSet", "build_devset", "evaluate", "QUERIES", "DETAILS", "near_edits", "hard_edits", "text_misses"]


def _site() -> Path:
    import skimage

    return Path(skimage.__file__).parent.parent


# name -> path inside site-packages; every one is a photo none of workbench/samples.py uses.
SOURCES = {
    "pagoda": "sklearn/datasets/images/china.jpg",
    "dahlia": "sklearn/datasets/images/flower.jpg",
    "macaw": "holoviews/examples/assets/macaw.png",
    "penguins": "holoviews/examples/assets/penguins.png",
    "pollen": "holoviews/examples/reference/features/assets/pollen.png",
    "motorcycle": "skimage/data/motorcycle_left.png",
    "motorcycle_right": "skimage/data/motorcycle_right.png",
    "retina": "skimage/data/retina.jpg",
    "moon": "skimage/data/moon.png",
    "tissue": "skimage/data/ihc.png",
    "colour_wheel": "skimage/data/color.png",
    "logo": "skimage/data/logo.png",
    "page": "skimage/data/page.png",
    "cell": "skimage/data/cell.png",
}

# Labelled text queries: query -> the photos that answer it (checked by eye).
QUERIES: dict[str, tuple[str, ...]] = {
    "pagoda": ("pagoda",),
    "a Chinese temple": ("pagoda",),
    "a palace on a hill above a lake": ("pagoda",),
    "a tower with curved roofs": ("pagoda",),
    "dahlia": ("dahlia",),
    "an orange flower": ("dahlia",),
    "a flower in bloom": ("dahlia",),
    "macaw": ("macaw", "macaw_head"),
    "parrot": ("macaw", "macaw_head"),
    "a red bird on a branch": ("macaw",),
    "a colourful parrot": ("macaw", "macaw_head"),
    "penguin": ("penguins", "chick"),
    "emperor penguins with a chick": ("penguins",),
    "birds standing in the snow": ("penguins",),
    "antarctic animals": ("penguins", "chick"),
    "motorcycle": ("motorcycle", "motorcycle_right", "engine"),
    "motorbike in a garage": ("motorcycle", "motorcycle_right"),
    "a red motorbike": ("motorcycle", "motorcycle_right", "engine"),
    "a workshop with shelves and boxes": ("motorcycle", "motorcycle_right", "boxes"),
    "pollen grains": ("pollen",),
    "an electron microscope image of spores": ("pollen",),
    "retina": ("retina",),
    "a photograph of the back of the eye": ("retina",),
    "blood vessels of the eye": ("retina",),
    "the moon": ("moon",),
    "stained tissue under a microscope": ("tissue",),
    "a histology slide": ("tissue",),
    "colour wheel": ("colour_wheel",),
    "a rainbow of colours": ("colour_wheel",),
    "a page of printed text": ("page",),
    "a scanned document": ("page",),
    "a book page": ("page",),
    "a snake logo": ("logo",),
    "a face": ("face",),
    "portrait of a man": ("face",),
    # Things inside the photos (the DETAILS crops): objects, an animal's young, landscape.
    "a wheel": ("rear_wheel", "front_wheel", "motorcycle", "motorcycle_right"),
    "a motorcycle tyre": ("rear_wheel", "front_wheel", "motorcycle", "motorcycle_right"),
    "a spoked wheel with a brake disc": ("front_wheel", "rear_wheel", "motorcycle", "motorcycle_right"),
    "cardboard boxes on a shelf": ("boxes", "motorcycle", "motorcycle_right"),
    "cartons in a storeroom": ("boxes", "motorcycle", "motorcycle_right"),
    "a wooden garden bench": ("bench", "motorcycle", "motorcycle_right"),
    "a park bench": ("bench", "motorcycle", "motorcycle_right"),
    "a motorcycle engine": ("engine", "motorcycle", "motorcycle_right"),
    "a red fuel tank": ("engine", "motorcycle", "motorcycle_right"),
    "a lake with an island": ("lake", "pagoda"),
    "boats on a lake": ("lake", "pagoda"),
    "lakeside": ("lake", "pagoda"),
    "a forest": ("trees",),
    "treetops": ("trees",),
    "the head of a parrot": ("macaw_head", "macaw"),
    "a hooked beak": ("macaw_head", "macaw"),
    "palm leaves": ("palm", "macaw"),
    "a baby penguin": ("chick", "penguins"),
}

# Details cut out of the photos as stills of their own: text queries about the things inside a
# frame (boxes box (left, top, right, bottom) in the photo's pixels; each checked by eye).
DETAILS: dict[str, tuple[str, tuple[int, int, int, int]]] = {
    "rear_wheel": ("motorcycle", (110, 220, 290, 405)),
    "front_wheel": ("motorcycle", (500, 260, 690, 460)),
    "boxes": ("motorcycle", (500, 20, 700, 130)),
    "bench": ("motorcycle", (15, 70, 190, 230)),
    "engine": ("motorcycle", (280, 160, 460, 300)),
    "lake": ("pagoda", (380, 190, 640, 300)),
    "trees": ("pagoda", (430, 280, 640, 427)),
    "macaw_head": ("macaw", (200, 5, 310, 110)),
    "palm": ("macaw", (250, 220, 400, 400)),
    "chick": ("penguins", (130, 230, 250, 370)),
}


#: The rows of the check edits (:func:`check_near_edits`, :func:`check_hard_edits`) in ``evaluate``.
CHECK_NEAR = "near-duplicate R@1, check edits"
CHECK_HARD = "hard near-duplicate R@1, check edits"


@dataclass
class DevSet:
    """Galleries and queries of the four measurements (PIL images, built in memory)."""

    photos: dict[str, Image.Image]  # whole photos and their DETAILS: what text queries search
    halves: dict[str, Image.Image]  # left and right parts of every photo: the near-duplicate gallery
    filler: list[Image.Image]
    details: dict[str, Image.Image] = field(default_factory=dict)  # things inside the photos (DETAILS)
    near: list[tuple[str, Image.Image]] = field(default_factory=list)  # (original, edited copy)
    hard: list[tuple[str, Image.Image]] = field(default_factory=list)
    scenes: list[tuple[str, Image.Image, Image.Image]] = field(default_factory=list)  # (scene, view a, view b)
    near_check: list[tuple[str, Image.Image]] = field(default_factory=list)  # check_near_edits: never tuned on
    hard_check: list[tuple[str, Image.Image]] = field(default_factory=list)


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def _crop(image: Image.Image, area: float, cx: float, cy: float) -> Image.Image:
    """A crop keeping ``area`` of the frame (same aspect), centred at (cx, cy) as fractions, kept inside."""
    w, h = image.size
    side = area**0.5
    cw, ch = max(8, int(w * side)), max(8, int(h * side))
    left = int(min(max(cx * w - cw / 2, 0), w - cw))
    top = int(min(max(cy * h - ch / 2, 0), h - ch))
    return image.crop((left, top, left + cw, top + ch))


def _regrade(image: Image.Image, warm: float, contrast: float, saturation: float) -> Image.Image:
    graded = ImageEnhance.Color(ImageEnhance.Contrast(image).enhance(contrast)).enhance(saturation)
    pixels = np.asarray(graded, dtype=np.float32) * np.array([warm, 1.0, 2.0 - warm], dtype=np.float32)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def near_edits(image: Image.Image) -> list[Image.Image]:
    """Ten light edits: 80 % and 70 % crops, four regrades, two rotations, a JPEG q40 re-encode, a thumbnail."""
    w, h = image.size
    return [
        _crop(image, 0.8, 0.45, 0.55),
        _regrade(image, 1.15, 1.2, 0.8),
        ImageEnhance.Brightness(_regrade(image, 0.85, 0.85, 1.3)).enhance(1.2),
        image.rotate(-10, resample=Image.Resampling.BILINEAR, expand=True),
        _jpeg(image, 40),
        image.resize((max(8, w // 5), max(8, h // 5))),
        _crop(image, 0.7, 0.6, 0.45),
        # A small tilt that keeps the frame (corners cut, no black wedges), as a levelled scan.
        _crop(image.rotate(5, resample=Image.Resampling.BILINEAR), 0.85, 0.5, 0.5),
        ImageOps.grayscale(image).convert("RGB"),
        _jpeg(ImageEnhance.Sharpness(_regrade(image, 1.0, 0.75, 1.0)).enhance(0.2), 60),  # flat and soft
    ]


def hard_edits(image: Image.Image) -> list[Image.Image]:
    """Eight hard edits: 25-45 % crops off-centre, mirror, JPEG q10, and mixes of them with rotation and regrades."""
    return [
        _crop(image, 0.25, 0.5, 0.5),
        _crop(image, 0.35, 0.3, 0.35),
        ImageOps.mirror(image),
        _jpeg(image, 10),
        _jpeg(_crop(image, 0.45, 0.65, 0.4), 15),
        ImageOps.mirror(_crop(image, 0.35, 0.4, 0.6)),
        _crop(image.rotate(-12, resample=Image.Resampling.BILINEAR), 0.4, 0.55, 0.5),
        _jpeg(_regrade(ImageOps.mirror(_crop(image, 0.45, 0.4, 0.4)), 1.2, 1.3, 0.6), 20),
    ]


def check_near_edits(image: Image.Image) -> list[Image.Image]:
    """Twelve other light edits, made after offline v3 was frozen and never tuned on.

    A change tuned on :func:`near_edits` that only fits those ten edits shows here: offline v4
    (256 px) gained one query on them and lost on these (0.997 -> 0.991), so it was not shipped.
    """
    w, h = image.size
    return [
        _crop(image, 0.75, 0.55, 0.45), _crop(image, 0.65, 0.4, 0.6), _crop(image, 0.85, 0.5, 0.5),
        _regrade(image, 1.1, 0.9, 1.2), ImageEnhance.Brightness(image).enhance(0.75),
        image.rotate(7, resample=Image.Resampling.BILINEAR, expand=True),
        _crop(image.rotate(-4, resample=Image.Resampling.BILINEAR), 0.88, 0.5, 0.5),
        _jpeg(image, 30), image.resize((max(8, w // 4), max(8, h // 4))),
        image.filter(ImageFilter.GaussianBlur(2)), ImageOps.posterize(image, 3),
        ImageOps.autocontrast(_regrade(image, 0.9, 1.3, 0.7)),
    ]


def check_hard_edits(image: Image.Image) -> list[Image.Image]:
    """Seven other hard edits (25-45 % crops, mirror, JPEG q12, a tilted crop), never tuned on either."""
    return [
        _crop(image, 0.3, 0.6, 0.4), _crop(image, 0.4, 0.35, 0.65), _crop(image, 0.28, 0.7, 0.7),
        _regrade(ImageOps.mirror(image), 1.1, 1.1, 0.9), _jpeg(_crop(image, 0.4, 0.45, 0.55), 12),
        ImageOps.mirror(_crop(image, 0.3, 0.55, 0.45)),
        _crop(image.rotate(9, resample=Image.Resampling.BILINEAR), 0.45, 0.45, 0.55),
    ]


def _second_camera(image: Image.Image, turn: float = 1.0) -> Image.Image:
    """The same scene as another camera frames it: a slight perspective warp and another grade."""
    w, h = image.size
    # Output corner k is sampled from source corner k moved by a few per cent: a small turn of the camera.
    d = 0.06 * turn
    quad = (d * w, 0, 0, h, w, h - d * h, w - d * w * 0.5, d * h * 0.5)
    warped = image.transform((w, h), Image.Transform.QUAD, quad, resample=Image.Resampling.BILINEAR)
    return _regrade(warped, 1.1, 1.1, 0.9)


def _scene_views(image: Image.Image) -> list[tuple[Image.Image, Image.Image]]:
    """Three pairs of views of one scene, each pair sharing about a third to a half of what it shows.

    Side by side (a few steps to the right), one above the other (the camera tilted), and a
    wide shot with a closer one (the second camera moved in on the right of the frame).
    """
    w, h = image.size
    side = (image.crop((0, 0, int(w * 0.62), h)),
            _second_camera(image.crop((int(w * 0.38), int(h * 0.08), w, h))))
    tilt = (image.crop((int(w * 0.05), 0, w, int(h * 0.65))),
            _second_camera(image.crop((0, int(h * 0.35), int(w * 0.9), h)), 0.8))
    closer = image.crop((int(w * 0.4), int(h * 0.2), int(w * 0.95), int(h * 0.8)))
    wide = _regrade(image.crop((0, 0, int(w * 0.7), h)), 0.9, 1.05, 1.1)
    return [side, tilt, (wide, _second_camera(closer.resize((w // 2, h // 2)), 0.5))]


def build_devset() -> DevSet:
    """Read the source photos from installed packages and make every query (about 2 s)."""
    site = _site()
    photos = {name: Image.open(site / path).convert("RGB") for name, path in SOURCES.items()}
    faces = np.load(site / "skimage/data/lfw_subset.npy")
    # 40 of the 200 LFW faces, 25 px, as gallery filler: real photos that are none of the answers.
    filler = [Image.fromarray((face * 255).astype(np.uint8)).convert("RGB").resize((100, 100)) for face in faces[:40]]
    # Two parts of one photo (a 10 % strip apart) look alike but are different stills: a gallery
    # of such pairs makes "find the original" as hard as telling two frames of one location apart.
    halves: dict[str, Image.Image] = {}
    for name, image in photos.items():
        w, h = image.size
        halves[name + "/left"] = image.crop((0, 0, int(w * 0.45), h))
        halves[name + "/right"] = image.crop((int(w * 0.55), 0, w, h))
    details = {name: photos[source].crop(box) for name, (source, box) in DETAILS.items()}
    dev = DevSet(photos=photos, halves=halves, filler=filler, details=details)
    for name, image in halves.items():
        dev.near += [(name, edited) for edited in near_edits(image)]
        dev.hard += [(name, edited) for edited in hard_edits(image)]
        dev.near_check += [(name, edited) for edited in check_near_edits(image)]
        dev.hard_check += [(name, edited) for edited in check_hard_edits(image)]
    # A real stereo pair, then overlapping views of one photo seen by a "second camera".
    dev.scenes.append(("motorcycle", photos["motorcycle"], photos["motorcycle_right"]))
    for name in ("pagoda", "dahlia", "macaw", "penguins", "pollen", "retina", "tissue", "page", "moon", "cell"):
        dev.scenes += [(name, view_a, view_b) for view_a, view_b in _scene_views(photos[name])]
    return dev


def _r_at_1(queries: np.ndarray, gallery: np.ndarray, truth: Sequence[int]) -> float:
    return float(np.mean(np.argmax(queries @ gallery.T, axis=1) == np.asarray(truth)))


def evaluate(
    embed_images: Callable[[Sequence[Image.Image]], np.ndarray],
    embed_texts: Callable[[Sequence[str]], np.ndarray],
    dev: DevSet | None = None,
) -> dict[str, float]:
    """The four R@1 / precision@1 numbers of an embedder's two functions on the dev set."""
    dev = dev or build_devset()
    names = list(dev.halves)
    gallery = embed_images([dev.halves[n] for n in names] + dev.filler)
    near = embed_images([image for _, image in dev.near])
    hard = embed_images([image for _, image in dev.hard])
    near_check = embed_images([image for _, image in dev.near_check])
    hard_check = embed_images([image for _, image in dev.hard_check])
    results = {
        "near-duplicate R@1": _r_at_1(near, gallery, [names.index(n) for n, _ in dev.near]),
        "hard near-duplicate R@1": _r_at_1(hard, gallery, [names.index(n) for n, _ in dev.hard]),
        CHECK_NEAR: _r_at_1(near_check, gallery, [names.index(n) for n, _ in dev.near_check]),
        CHECK_HARD: _r_at_1(hard_check, gallery, [names.index(n) for n, _ in dev.hard_check]),
    }
    # Same scene: view a of every scene is in the gallery with the other photos and the filler;
    # the photo a view was cut from is left out, so only the partner view counts as the answer.
    hits = []
    views_a = embed_images([a for _, a, _ in dev.scenes])
    views_b = embed_images([b for _, _, b in dev.scenes])
    for k, (scene, _, _) in enumerate(dev.scenes):
        others = [i for i, n in enumerate(names) if n.split("/")[0] not in (scene, "motorcycle_right")]
        pool = np.concatenate([views_a[k : k + 1], gallery[others], gallery[len(names) :]])
        hits.append(int(np.argmax(pool @ views_b[k]) == 0))
    results["same-scene R@1"] = float(np.mean(hits))
    text_pool_names = list(dev.photos) + list(dev.details) + ["face"] * len(dev.filler)
    stills = embed_images(list(dev.photos.values()) + list(dev.details.values()))
    photos = np.concatenate([stills, gallery[len(names) :]])
    best = np.argmax(embed_texts(list(QUERIES)) @ photos.T, axis=1)
    results["text→image precision@1"] = float(
        np.mean([text_pool_names[b] in answers for b, answers in zip(best, QUERIES.values(), strict=True)])
    )
    return results


def text_misses(
    embed_images: Callable[[Sequence[Image.Image]], np.ndarray],
    embed_texts: Callable[[Sequence[str]], np.ndarray],
    dev: DevSet,
) -> list[str]:
    """The queries whose first answer is wrong, as 'query→what came first'."""
    names = list(dev.photos) + list(dev.details) + ["face"] * len(dev.filler)
    gallery = embed_images(list(dev.photos.values()) + list(dev.details.values()) + dev.filler)
    best = np.argmax(embed_texts(list(QUERIES)) @ gallery.T, axis=1)
    return [f"{q}→{names[b]}" for (q, answers), b in zip(QUERIES.items(), best, strict=True) if names[b] not in answers]


def run(name: str = "offline", clip_model: str = "ViT-B-32", clip_checkpoint: str = "") -> list[dict]:
    """Score the configured embedder on the dev set; also time 32-still batches."""
    from workbench.embed import build_embedder
    from workbench.settings import EmbedderSettings

    embedder = build_embedder(EmbedderSettings(name=name, clip_model=clip_model, clip_checkpoint=clip_checkpoint,
                                               batch_size=32))
    dev = build_devset()
    started = time.perf_counter()
    scores = evaluate(embedder.embed_images, embedder.embed_texts, dev)
    seconds = time.perf_counter() - started
    rows = [{"benchmark": metric, "value": value, "unit": "", "note": embedder.model_id}
            for metric, value in scores.items()]
    rows.append({"benchmark": "text misses", "value": len(text_misses(embedder.embed_images,
                                                                      embedder.embed_texts, dev)),
                 "unit": "queries", "note": ", ".join(text_misses(embedder.embed_images, embedder.embed_texts, dev))})
    rows.append({"benchmark": "dev-set evaluation", "value": seconds, "unit": "s",
                 "note": f"{len(dev.near)} near (+{len(dev.near_check)} check), {len(dev.hard)} hard "
                         f"(+{len(dev.hard_check)} check), {len(dev.scenes)} scenes, {len(QUERIES)} texts"})
    return rows


#: The command-line options that pick the embedder (shared with bench/search_calibration.py).
EMBEDDER_OPTIONS: dict[str, tuple[type, Any, str]] = {
    "name": (str, "offline", "embedder: offline or clip"),
    "clip_model": (str, "ViT-B-32", "open_clip architecture"),
    "clip_checkpoint": (str, "", "local open_clip checkpoint file"),
}

if __name__ == "__main__":
    raise SystemExit(module_main(run, EMBEDDER_OPTIONS, __doc__))
