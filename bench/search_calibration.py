"""Fit the per-model score calibration of hybrid search (``workbench/search_calibration.py``).

Run::

    .venv/bin/python -m bench.search_calibration                  # the offline default
    .venv/bin/python -m bench.search_calibration --name clip --clip-checkpoint /models/vit-b-32.bin

Raw cosine similarity is not comparable across queries or models: the offline
embedder's word queries land around 0.1-0.3 on their answers while its picture
queries land around 0.5-0.9. So each model id gets two logistic curves, one for
word queries and one for picture queries, fitted on the dev set of
``bench/search_quality.py`` (photos other packages ship, not the sample library):

* words: every labelled query against every still; a still the query names is
  relevant, every other still is not;
* pictures: a hard edit (25-45 % crop, mirror, heavy JPEG) or the other view of
  a scene against its original (relevant), and against the photos it was not cut
  from and the filler faces (not relevant).

Both classes are weighted equally in the fit (the dev set's own mix, 1 relevant
pair in 20 for words and 1 in 60 for pictures, is an accident of its size), then
the curve is moved to a stated prior, :data:`PRIOR`: one candidate in five is
relevant. So a calibrated 0.5 reads "as likely relevant as not, for a search
whose candidates are one-fifth right", the same for every query. The printed ``Calibration(...)`` lines go
into ``workbench/search_calibration.py`` under the model id. The rows also report
how well a 0.5 cutoff separates the classes (kept / dropped).
"""

from __future__ import annotations

import numpy as np

from bench import module_main
from bench.search_quality import EMBEDDER_OPTIONS, QUERIES, DevSet, build_devset

__all__ = ["fit_logistic", "text_pairs", "image_pairs", "run", "PRIOR"]

# The share of a search's candidates taken to be relevant: with equal class weights the 0.5 point
# sat at a cosine of 0.078 for words, where the sample library's unrelated stills still scored 0.5;
# a one-in-five prior moves it to about 0.12, between the samples' right answers (0.13-0.33) and
# the best unrelated ones (0.08-0.11).
PRIOR = 0.2


def fit_logistic(cosines: np.ndarray, relevant: np.ndarray, steps: int = 200) -> tuple[float, float]:
    """(slope, bias) of p(relevant | cosine) = sigmoid(slope * cosine + bias), classes weighted equally.

    Newton's method on the weighted log-loss (two parameters, converges in a few steps).
    """
    x = np.asarray(cosines, dtype=np.float64)
    y = np.asarray(relevant, dtype=np.float64)
    weights = np.where(y > 0, 0.5 / max(y.sum(), 1), 0.5 / max((1 - y).sum(), 1))
    design = np.stack([x, np.ones_like(x)], axis=1)
    theta = np.zeros(2)
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(design @ theta)))
        gradient = design.T @ (weights * (p - y))
        hessian = (design * (weights * p * (1 - p))[:, None]).T @ design + 1e-9 * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if np.abs(step).max() < 1e-10:
            break
    return float(theta[0]), float(theta[1])


def text_pairs(embedder: object, dev: DevSet) -> tuple[np.ndarray, np.ndarray]:
    """Cosines of every labelled word query against every still, and whether the still answers it."""
    names = list(dev.photos) + list(dev.details) + ["face"] * len(dev.filler)
    stills = embedder.embed_images(list(dev.photos.values()) + list(dev.details.values()) + dev.filler)  # type: ignore[attr-defined]
    words = embedder.embed_texts(list(QUERIES))  # type: ignore[attr-defined]
    cos = np.asarray(words) @ np.asarray(stills).T
    relevant = np.array([[name in answers for name in names] for answers in QUERIES.values()])
    return cos.ravel(), relevant.ravel()


def image_pairs(embedder: object, dev: DevSet) -> tuple[np.ndarray, np.ndarray]:
    """Cosines of example pictures against the gallery, and whether the gallery still is the one they show."""
    names = list(dev.halves)
    gallery = np.asarray(embedder.embed_images([dev.halves[n] for n in names] + dev.filler))  # type: ignore[attr-defined]
    hard = np.asarray(embedder.embed_images([image for _, image in dev.hard]))  # type: ignore[attr-defined]
    cos: list[float] = []
    relevant: list[bool] = []
    for (original, _), vector in zip(dev.hard, hard, strict=True):
        source = original.split("/")[0]
        for k, name in enumerate(names + ["filler"] * len(dev.filler)):
            if name != original and name.split("/")[0] == source:
                continue  # the other half of the same photo: neither answer nor unrelated
            cos.append(float(gallery[k] @ vector))
            relevant.append(name == original)
    views_a = np.asarray(embedder.embed_images([a for _, a, _ in dev.scenes]))  # type: ignore[attr-defined]
    views_b = np.asarray(embedder.embed_images([b for _, _, b in dev.scenes]))  # type: ignore[attr-defined]
    for k, (scene, _, _) in enumerate(dev.scenes):
        cos.append(float(views_a[k] @ views_b[k]))
        relevant.append(True)
        for j, name in enumerate(names):
            if name.split("/")[0] not in (scene, "motorcycle_right", "motorcycle"):
                cos.append(float(gallery[j] @ views_b[k]))
                relevant.append(False)
    return np.asarray(cos), np.asarray(relevant)


def _rows(kind: str, model_id: str, cos: np.ndarray, relevant: np.ndarray) -> list[dict]:
    slope, bias = fit_logistic(cos, relevant)
    bias += float(np.log(PRIOR / (1 - PRIOR)))
    p = 1 / (1 + np.exp(-(slope * cos + bias)))
    kept = float(np.mean(p[relevant] >= 0.5))
    dropped = float(np.mean(p[~relevant] < 0.5))
    line = f'Calibration(slope={slope:.2f}, bias={bias:.2f}, pairs={len(cos)})'
    return [
        {"benchmark": f"{kind} calibration", "value": round(-bias / slope, 4), "unit": "cosine at 0.5",
         "note": f"{model_id}: {line}"},
        {"benchmark": f"{kind}: relevant kept at 0.5", "value": kept, "unit": "", "note": f"{int(relevant.sum())} pairs"},
        {"benchmark": f"{kind}: unrelated dropped at 0.5", "value": dropped, "unit": "",
         "note": f"{int((~relevant).sum())} pairs"},
    ]


def run(name: str = "offline", clip_model: str = "ViT-B-32", clip_checkpoint: str = "") -> list[dict]:
    """Fit and report the word and picture calibrations of the configured embedder."""
    from workbench.embed import build_embedder
    from workbench.settings import EmbedderSettings

    embedder = build_embedder(EmbedderSettings(name=name, clip_model=clip_model, clip_checkpoint=clip_checkpoint,
                                               batch_size=32))
    dev = build_devset()
    return [*_rows("text", embedder.model_id, *text_pairs(embedder, dev)),
            *_rows("image", embedder.model_id, *image_pairs(embedder, dev))]


if __name__ == "__main__":
    raise SystemExit(module_main(run, EMBEDDER_OPTIONS, __doc__))
