"""Mid-ranks of many short columns, compiled: the rank-sum test of every neuron at once.

A run classifies its neurons six times (before and after, seen and made, each face), each a
rank-sum test of 256 neurons on 2 x 20 trials. In numpy the ranks take an argsort, a gather, two
accumulations and a scatter over the whole array (about 0.36 ms); compiled, one pass per column
over its sorted values (about 0.05 ms). The values are the same bit for bit: ranks are
half-integers and tie terms integers, exact in float64 whatever the order of work
(``tests/analysis/test_rank_test_scipy.py`` compares the two).

Kept out of :mod:`dyad.analysis.classify`, which scenario validation imports: numba is imported
only when ranks are computed.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _insertion_order(row, order):  # pragma: no cover - compiled
    """``order`` = the stable ascending order of ``row`` (equal values keep their positions)."""
    for i in range(row.size):
        key = row[i]
        j = i
        while j > 0 and row[order[j - 1]] > key:
            order[j] = order[j - 1]
            j -= 1
        order[j] = i


@numba.njit(cache=True, nogil=True)
def column_ranks(rows, ranks, tie_term):  # pragma: no cover - compiled; tested against numpy
    """Mid-ranks (1-based) of each row of ``rows`` into ``ranks``, each row's sum of t^3 - t.

    ``rows``: (N, n) float64 without NaN, each neuron's trials as one contiguous row, ordered by
    insertion (a few comparisons a value, no allocation), so n is kept short
    (:data:`dyad.analysis.classify.COMPILED_RANKS_MAX`); ``ranks``: (N, n) float64 out;
    ``tie_term``: (N,) float64 out.
    """
    n_rows, n = rows.shape
    order = np.empty(n, np.intp)
    for r in range(n_rows):
        row = rows[r]
        _insertion_order(row, order)
        start = 0
        tie = 0.0
        while start < n:
            value = row[order[start]]
            stop = start + 1
            while stop < n and row[order[stop]] == value:
                stop += 1
            rank = (start + stop - 1) / 2.0 + 1.0
            for q in range(start, stop):
                ranks[r, order[q]] = rank
            size = float(stop - start)
            tie += size * (size * size - 1.0)  # a group of t equal values adds t^3 - t
            start = stop
        tie_term[r] = tie


_loaded = False


def kernels_cached() -> bool:
    """Whether this process will load the rank kernels rather than compile them (about 0.5 s)."""
    from dyad.numba_cache import kernels_cached as cached

    return _loaded or cached(column_ranks, _insertion_order)


def load() -> float:
    """Load (or, on a first run after installing, compile) the rank kernels now; return seconds.

    A run ranks its test trials after the interaction; loading first lets a command announce
    the compilation together with the mirror layer's loop rather than pause unannounced later.
    0.0 when they are loaded already. The tiny call has the array types and layout
    :func:`dyad.analysis.classify.average_ranks` passes, so it loads the version runs use.
    """
    global _loaded
    if _loaded:
        return 0.0
    import time

    started = time.perf_counter()
    rows = np.array([[1.0, 0.0, 1.0], [2.0, 2.0, 3.0]])
    column_ranks(rows, np.empty_like(rows), np.empty(rows.shape[0]))
    _loaded = True
    return time.perf_counter() - started
