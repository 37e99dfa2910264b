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


def class_column(name: str) -> str:
    """Return a neuron class as a column-name part: ``anti-mirror`` → ``anti_mirror``.

    Used by the sweep summary (``count_anti_mirror``) and the model's reporters
    (``n_anti_mirror``), so tables and data collectors spell the classes alike.
    """
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")
