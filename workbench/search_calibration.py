"""Scores a person can put a threshold on: raw cosine mapped to 0..1, per model and query kind.

A raw cosine means different things for different queries: the offline embedder
gives a word query's right answer about 0.1-0.3 and a picture query's about
0.6-0.9, so "hide results under 0.3" would hide every word match and keep every
picture. (Immich's maintainers refused a raw distance cutoff for this reason.)
Here each embedder model id has one logistic curve per query kind, fitted on a
dev set by ``bench/search_calibration.py`` and set to a prior of one relevant
candidate in five; a calibrated 0.5 means "as likely relevant as not" whatever
the query. For pictures "relevant" means the same shot or scene (another
crop, grade or camera angle), not merely a similar mood: a still with no
such partner in the library scores low against everything, which is right.

A query with both words and pictures adds the two calibrated scores by its weight
(``workbench/search_hybrid.py``), so it stays on the same 0..1 scale.

A model id with no fitted curve (a CLIP checkpoint nobody calibrated yet) gets a
rank-based score instead: the first result 1.0, halving every
:data:`RANK_HALF_LIFE` results, so a 0.5 threshold keeps about the first 24 as
search did before.

>>> calibration_for("offline:effnet-lite0+minilm-l6-v2/v5", "text").score(0.117)  # about 0.5
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Calibration", "CALIBRATIONS", "RANK_HALF_LIFE", "calibration_for", "rank_score"]

RANK_HALF_LIFE = 24


@dataclass(frozen=True)
class Calibration:
    """p(relevant | cosine) = sigmoid(slope * cosine + bias), as fitted on ``pairs`` dev-set pairs."""

    slope: float
    bias: float
    pairs: int = 0

    @property
    def midpoint(self) -> float:
        """The cosine that scores 0.5."""
        return -self.bias / self.slope

    def score(self, cosine: float) -> float:
        """The calibrated score (0..1) of one raw cosine."""
        z = self.slope * cosine + self.bias
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0

    def cosine_for(self, score: float) -> float:
        """The raw cosine at which the calibrated score reaches ``score`` (the inverse of :meth:`score`)."""
        score = min(max(score, 1e-6), 1 - 1e-6)
        return (math.log(score / (1 - score)) - self.bias) / self.slope


# model id -> query kind -> curve. Fitted with `python -m bench.search_calibration` (bench/search_quality.py's
# dev set: 53 labelled word queries x 64 stills; 225 hard edits and 30 second views against 15,468 unrelated
# stills; equal class weights, then a one-in-five prior). At 0.5 the word curve keeps 49 % of relevant pairs
# and drops 96 % of unrelated ones (the offline text side is the weak one); the picture curve keeps 98 % and
# drops 99.5 %. A new model id (a retrained or re-versioned embedder) needs its own line: rerun the bench.
CALIBRATIONS: dict[str, dict[str, Calibration]] = {
    "offline:effnet-lite0+minilm-l6-v2/v3": {
        "text": Calibration(slope=36.13, bias=-4.21, pairs=3392),
        "image": Calibration(slope=28.05, bias=-15.38, pairs=15723),
    },
    # v5 (padding reaches the network as its zero input): only the dev set's few padded stills moved.
    "offline:effnet-lite0+minilm-l6-v2/v5": {
        "text": Calibration(slope=36.13, bias=-4.21, pairs=3392),
        "image": Calibration(slope=28.17, bias=-15.43, pairs=15723),
    },
}


def calibration_for(model_id: str, kind: str) -> Calibration | None:
    """The fitted curve for a model id and query kind (``text`` or ``image``), or None when there is none."""
    return CALIBRATIONS.get(str(model_id), {}).get(kind)


def rank_score(rank: int) -> float:
    """The fallback score of the result at ``rank`` (0 = first) for a model with no fitted curve."""
    return 0.5 ** (rank / RANK_HALF_LIFE)
