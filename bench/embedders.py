"""How fast and how good an embedder is, on the photos scikit-image ships.

Run::

    .venv/bin/python -m bench.embedders                      # the offline default
    .venv/bin/python -m bench.embedders --name clip \\
        --clip-model ViT-B-32 --clip-checkpoint /models/vit-b-32.bin

Prints one table: load time, stills and texts per second, how often a text
query puts the photo it describes first (and the mean reciprocal rank), and
how often an edited copy of a photo finds its original first.
"""

from __future__ import annotations

import io
import time

import numpy as np
import skimage.data
from PIL import Image, ImageEnhance, ImageFilter, ImageOps

from bench import module_main
from workbench.embed import build_embedder
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
    "retina",
    "moon",
    "brick",
    "grass",
    "page",
    "immunohistochemistry",
    "logo",
    "cell",
    "clock",
    "colorwheel",
    "text",
]
QUERIES = {
    "cat": "chelsea",
    "a cat": "chelsea",
    "kitten sleeping": "chelsea",
    "coffee": "coffee",
    "coffee cup": "coffee",
    "espresso": "coffee",
    "a cup of hot coffee on a table": "coffee",
    "rocket": "rocket",
    "rocket launch": "rocket",
    "space shuttle": "rocket",
    "astronaut": "astronaut",
    "woman in a spacesuit": "astronaut",
    "camera": "camera",
    "photographer": "camera",
    "a man with a camera": "camera",
    "coins": "coins",
    "money": "coins",
    "horse": "horse",
    "galaxy": "hubble_deep_field",
    "stars in space": "hubble_deep_field",
    "moon": "moon",
    "brick wall": "brick",
    "grass": "grass",
    "text document": "page",
    "clock": "clock",
}


def edits(image: Image.Image) -> list[Image.Image]:
    """Eleven ways a still gets changed on its way around a production."""
    image = image.convert("RGB")
    width, height = image.size
    jpeg = io.BytesIO()
    image.save(jpeg, "JPEG", quality=20)
    hsv = np.array(image.convert("HSV"))
    hsv[..., 0] = (hsv[..., 0].astype(int) + 40) % 256
    return [
        image.crop((width // 10, height // 10, width * 9 // 10, height * 9 // 10)),
        ImageOps.mirror(image),
        ImageOps.grayscale(image),
        ImageEnhance.Color(image).enhance(0.3),
        ImageEnhance.Brightness(image).enhance(1.4),
        image.resize((64, 64)).resize((width, height)),
        image.rotate(10),
        image.filter(ImageFilter.GaussianBlur(3)),
        Image.open(io.BytesIO(jpeg.getvalue())),
        Image.fromarray(hsv, "HSV").convert("RGB"),
        image.crop((0, 0, width // 2, height)),
    ]


def run(name: str = "offline", clip_model: str = "ViT-B-32", clip_checkpoint: str = "",
        batch_size: int = 32) -> list[dict]:
    """Load the embedder, then time it and score it on scikit-image's photos."""
    embedder = build_embedder(EmbedderSettings(name=name, clip_model=clip_model, clip_checkpoint=clip_checkpoint,
                                               batch_size=batch_size))
    started = time.perf_counter()
    embedder.embed_texts(["warm up"])
    load_seconds = time.perf_counter() - started

    photos = [Image.fromarray(getattr(skimage.data, name)()) for name in PHOTOS]
    frames = [photo.convert("RGB").resize((640, 360)) for photo in photos] * 4
    started = time.perf_counter()
    embedder.embed_images(frames)
    images_per_second = len(frames) / (time.perf_counter() - started)
    sentences = [f"{query}, shot {n} at night in the rain" for n, query in enumerate(QUERIES)] * 8
    started = time.perf_counter()
    embedder.embed_texts(sentences)
    texts_per_second = len(sentences) / (time.perf_counter() - started)

    library = embedder.embed_images(photos)
    scores = embedder.embed_texts(list(QUERIES)) @ library.T
    ranks = [
        int((row > row[PHOTOS.index(target)]).sum()) + 1
        for row, target in zip(scores, QUERIES.values(), strict=True)
    ]
    missed = [
        f"{query}→{PHOTOS[int(np.argmax(row))]}"
        for (query, target), row, rank in zip(QUERIES.items(), scores, ranks, strict=True)
        if rank > 1
    ]
    copies, owners = [], []
    for index, photo in enumerate(photos):
        edited = edits(photo)
        copies += edited
        owners += [index] * len(edited)
    found = (np.argmax(embedder.embed_images(copies) @ library.T, axis=1) == np.array(owners)).mean()

    top1 = float(np.mean(np.array(ranks) == 1))
    return [
        {"benchmark": "load (first call)", "value": load_seconds, "unit": "s", "note": embedder.model_id},
        {"benchmark": f"stills per second (640x360, batch {batch_size})", "value": images_per_second, "unit": "img/s",
         "note": f"{embedder.dimension}-d vectors"},
        {"benchmark": "texts per second", "value": texts_per_second, "unit": "texts/s"},
        {"benchmark": f"text→photo top-1 ({len(QUERIES)} queries, {len(PHOTOS)} photos)", "value": top1, "unit": "",
         "note": "missed: " + (", ".join(missed) or "none")},
        {"benchmark": "text→photo mean reciprocal rank", "value": float(np.mean(1 / np.array(ranks))), "unit": ""},
        {"benchmark": f"edited copy→original top-1 ({len(copies)} copies)", "value": float(found), "unit": ""},
    ]


if __name__ == "__main__":
    raise SystemExit(module_main(run, {
        "name": (str, "offline", "embedder: offline or clip"),
        "clip_model": (str, "ViT-B-32", "open_clip architecture"),
        "clip_checkpoint": (str, "", "local open_clip checkpoint file"),
        "batch_size": (int, 32, "images per forward pass"),
    }, __doc__))
