"""How a vector table of some size is indexed and searched (measured in ``bench/search.py``).

:func:`index_plan` says which index a table wants; :class:`store.vectors.VectorStore`
builds it and probes it as :func:`probes_for` says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["IndexPlan", "index_plan", "probes_for"]

# Measured on clustered 512-d vectors (bench/search.py), recall@10 against exact search,
# no filter / owner prefilter, p50 on a busy 2-core machine:
#   100k rows, IVF_FLAT 316 partitions: 8 probes 0.997, 16 probes 1.000 (4.8 ms); build 8 s
#   300k rows, IVF_FLAT 548 partitions, 28 probes: 0.993 / 0.988 (6-12 ms); build 34 s
#   300k rows, IVF_PQ 548 partitions, refine 10, 35 probes: 1.000 / 1.000 (10-18 ms); build 208 s
#   1M rows, IVF_FLAT 1000 partitions: 16 probes 0.950, 32 0.970, 64 0.995 (36-53 ms); build 320 s
#   1M rows, IVF_PQ 1000 partitions, 32 sub-vectors, refine 10: 64 probes 0.993 / 0.990,
#   128 probes 0.997 / 0.997 (12-20 ms); build 440 s
# IVF_FLAT scores exact distances, so recall follows the share of partitions probed: 5 %
# keeps it level as the table grows, and it builds several times faster. Past about half a
# million rows that share is a lot of full vectors to read per query; IVF_PQ scans one byte
# per 16 dimensions instead and re-ranks 10x the asked-for rows exactly: at 1M, 3x faster
# for the same recall, with an index 1/64 the size.
_FLAT_PROBE_SHARE = 0.05
_PQ_PROBE_SHARE = 1 / 8
_MIN_PROBES = 16
PQ_FROM_ROWS = 500_000  # rows from which a table is quantized
PQ_REFINE = 10  # IVF_PQ re-ranks this many times the asked-for rows exactly


@dataclass(frozen=True)
class IndexPlan:
    """How a vector table of some size is searched: ``kind`` is ``exact``, ``IVF_FLAT`` or ``IVF_PQ``.

    ``refine_factor``: how many times the asked-for rows a quantized index
    re-ranks with exact distances (None: distances are exact already).
    """

    kind: str
    partitions: int = 0
    nprobes: int = 0
    refine_factor: int | None = None


def probes_for(kind: str, partitions: int) -> int:
    """Partitions a search probes: 5 % of an IVF_FLAT index, 1/8 of an IVF_PQ one, at least 16 (or all)."""
    share = _PQ_PROBE_SHARE if kind == "IVF_PQ" else _FLAT_PROBE_SHARE
    return min(partitions, max(_MIN_PROBES, math.ceil(partitions * share)))


def index_plan(rows: int, *, threshold: int = 5000, quantize_from: int = PQ_FROM_ROWS) -> IndexPlan:
    """The index a table of ``rows`` vectors should have.

    Below ``threshold`` an exact scan is fast enough and needs no build. Above it,
    about sqrt(rows) partitions (100 at 10k rows, 316 at 100k, 1000 at 1M):
    IVF_FLAT below ``quantize_from`` (500,000) rows, IVF_PQ with an exact re-rank from there.

    >>> index_plan(100_000)
    IndexPlan(kind='IVF_FLAT', partitions=316, nprobes=16, refine_factor=None)
    """
    if rows < threshold:
        return IndexPlan("exact")
    partitions = max(1, min(rows, round(math.sqrt(rows))))
    if rows >= quantize_from:
        return IndexPlan("IVF_PQ", partitions, probes_for("IVF_PQ", partitions), PQ_REFINE)
    return IndexPlan("IVF_FLAT", partitions, probes_for("IVF_FLAT", partitions))


def sub_vectors(dimension: int) -> int:
    """PQ sub-vectors for a width: 16 dimensions each (32 for CLIP's 512), else 8, else 4."""
    for width in (16, 8, 4):
        if dimension % width == 0:
            return dimension // width
    return 1
