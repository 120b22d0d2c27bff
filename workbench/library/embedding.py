"""One batch of the embed worker: decode the stored thumbnails, embed them together.

A batch never fails as a whole because of one picture: a thumbnail that no
longer decodes becomes a :class:`DamagedPicture` for its own job, and when the
model refuses a batch, each picture is tried alone so the guilty one is found
and the others are embedded.
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PIL import Image

from store import BlobStore

__all__ = ["DamagedPicture", "decode_thumbnails", "embed_each_or_all", "DECODE_THREADS"]

# Thumbnails of a batch decode in parallel: two threads keep both cores of a small
# machine busy while the model waits for its batch; more would only queue.
DECODE_THREADS = 2

Job = dict[str, Any]


class DamagedPicture(Exception):
    """A stored picture that no longer decodes: its job fails at once (retrying cannot help)."""


def _decode(blobs: BlobStore, image: Any) -> Image.Image:
    data = blobs.get(image.thumb_key)  # a storage error is not the picture's fault: it stays retryable
    try:
        with Image.open(io.BytesIO(data)) as picture:
            return picture.convert("RGB")
    except Exception as error:  # noqa: BLE001 - whatever the decoder raises means one thing: damaged bytes
        raise DamagedPicture(f"The stored thumbnail of {image.filename} is damaged and cannot be read; "
                             "delete the image and upload it again.") from error


def decode_thumbnails(blobs: BlobStore, jobs: list[Job], images: dict[str, Any], pool: ThreadPoolExecutor
                      ) -> tuple[dict[str, Image.Image], list[tuple[Job, Exception]]]:
    """Each job's thumbnail as an RGB picture (by job id), and the jobs whose picture could not be had.

    Decoding runs on ``pool``: Pillow decodes without holding the GIL, so a batch
    uses both cores instead of one.
    """
    futures = [(job, pool.submit(_decode, blobs, images[job["subject"]])) for job in jobs]
    pictures: dict[str, Image.Image] = {}
    failures: list[tuple[Job, Exception]] = []
    for job, future in futures:
        try:
            pictures[job["id"]] = future.result()
        except Exception as error:  # noqa: BLE001 - this picture alone fails; the batch goes on
            failures.append((job, error))
    return pictures, failures


def embed_each_or_all(embedder: Any, pictures: list[Image.Image]
                      ) -> tuple[list[Any], list[list[tuple[str, float]]], dict[int, Exception]]:
    """Vectors and labels for a batch, in one call to the model.

    If the model refuses the batch, each picture is embedded alone; the third
    value maps the position of every picture that still fails to its error.
    """
    if not pictures:
        return [], [], {}
    try:
        vectors, labels = embedder.embed_and_describe(pictures)
        return list(vectors), list(labels), {}
    except Exception as error:  # noqa: BLE001 - one picture (or the model) is at fault: find out which
        if len(pictures) == 1:
            return [None], [[]], {0: error}
    out_vectors: list[Any] = []
    out_labels: list[list[tuple[str, float]]] = []
    broken: dict[int, Exception] = {}
    for i, picture in enumerate(pictures):
        try:
            vector, names = embedder.embed_and_describe([picture])
            out_vectors.append(vector[0])
            out_labels.append(names[0])
        except Exception as error:  # noqa: BLE001 - recorded on this picture's job
            out_vectors.append(None)
            out_labels.append([])
            broken[i] = error
    return out_vectors, out_labels, broken
