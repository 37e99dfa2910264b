"""Analysis of logged runs: classification, information measures, figures.

This module is the one home of the study's vocabulary that every layer shares (the model's
probes, the run summary, the sweep table, the report, the live view): the neuron classes,
when a cell counts as active, and which class dominates a mirror layer. It imports nothing
heavy, so the command line and the view can read the names cheaply.
"""

from __future__ import annotations

import re
from typing import Any

#: neuron classes of model.md §11.3, in the order tables and figures list them
NEURON_CLASSES: tuple[str, ...] = (
    "mirror",
    "anti-mirror",
    "visual-only",
    "motor-only",
    "bimodal-unselective",
    "unselective",
)

#: a cell is active (fires) at a rate of at least half the sigmoid's maximum of 1
ACTIVE_RATE = 0.5

#: a class dominates a mirror layer when at least this share of its neurons are of that class
#: (and they outnumber the opposite class): model.md's "mirror-dominant" outcome
DOMINANT_SHARE = 0.5

#: the outcomes :func:`dominant_class` can give
OUTCOMES: tuple[str, ...] = ("mirror", "anti-mirror", "neither")


def dominant_class(n_mirror: Any, n_anti: Any, n_neurons: Any, share: float = DOMINANT_SHARE):
    """Which class dominates: ``"mirror"``, ``"anti-mirror"`` or ``"neither"``.

    A layer is mirror-dominant when mirror cells are at least ``share`` of its ``n_neurons``
    and outnumber anti-mirror cells, and the reverse for anti-mirror. Takes numbers (returns
    a ``str``) or equal-length arrays of counts, one per run (returns an array of ``str``).
    """
    import numpy as np

    mirror, anti, total = (np.asarray(x, dtype=float) for x in (n_mirror, n_anti, n_neurons))
    outcome = np.select(
        [(mirror >= share * total) & (mirror > anti), (anti >= share * total) & (anti > mirror)],
        list(OUTCOMES[:2]),
        default=OUTCOMES[2],
    )
    return str(outcome.item()) if outcome.ndim == 0 else outcome


def share_interval(k: Any, n: Any, confidence: float = 0.95):
    """Return the Wilson score interval of a share of seeds: ``k`` of ``n`` runs had an outcome.

    A run tends to end all of one class, so the share of seeds is the quantity a sweep
    measures, and with a few seeds per point it is uncertain: 4 of 5 seeds gives 0.38–0.96.
    Wilson's interval stays inside [0, 1] and is not empty at 0 of n or n of n, where the
    normal approximation fails, and those are common here. Takes numbers (returns a pair of
    floats) or equal-length arrays (returns a pair of arrays); ``n = 0`` gives NaN.
    """
    from statistics import NormalDist

    import numpy as np

    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        low, high = np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)
    if low.ndim == 0:
        return float(low), float(high)
    return low, high


def class_column(name: str) -> str:
    """Return a neuron class as a column-name part: ``anti-mirror`` → ``anti_mirror``.

    Used by the sweep summary (``count_anti_mirror``) and the model's reporters
    (``n_anti_mirror``), so tables and data collectors spell the classes alike.
    """
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")
