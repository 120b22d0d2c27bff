"""How fast and how good an embedder is, on the photos scikit-image ships.

Run::

    .venv/bin/python bench/bench_embedders.py                      # the offline default
    .venv/bin/python bench/bench_embedders.py --name clip \\
        --clip-model ViT-B-32 --clip-checkpoint /models/vit-b-32.bin

Prints one table: load time, stills and texts per second, how often a text
query puts the photo it describes first (and the mean reciprocal rank), and
how often an edited copy of a photo finds its original first.
"""

from __future__ import annotations

import argparse
import io
import time

import numpy as np
import skimage.data
from PIL import Image, ImageEnhance, ImageFilter, ImageOps

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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--name", default="offline", choices=["offline", "clip"])
    parser.add_argument("--clip-model", default="ViT-B-32")
    parser.add_argument("--clip-checkpoint", default="")
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    embedder = build_embedder(
        EmbedderSettings(
            name=args.name,
            clip_model=args.clip_model,
            clip_checkpoint=args.clip_checkpoint,
            batch_size=args.batch_size,
        )
    )

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

    rows = [
        ("model", embedder.model_id),
        ("dimension", str(embedder.dimension)),
        ("load (first call)", f"{load_seconds:.1f} s"),
        ("stills per second (640x360)", f"{images_per_second:.1f}"),
        ("texts per second", f"{texts_per_second:.1f}"),
        (
            f"text→photo top-1 ({len(QUERIES)} queries, {len(PHOTOS)} photos)",
            f"{np.mean(np.array(ranks) == 1):.2f}",
        ),
        ("text→photo mean reciprocal rank", f"{np.mean(1 / np.array(ranks)):.2f}"),
        (f"edited copy→original top-1 ({len(copies)} copies)", f"{found:.3f}"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print("text queries that missed:", ", ".join(missed) or "none")


if __name__ == "__main__":
    main()
