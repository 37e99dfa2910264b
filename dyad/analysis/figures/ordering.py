"""The order of mirror-layer neurons in the firing-rate heat maps (pure, tested on its own).

Neurons are grouped by class, mirror cells split by the expression they prefer, so each class
reads as one block of the heat map (model.md §10 figure a).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from dyad.analysis.figures.common import (
    CLASS_COLOURS,
    CLASS_ORDER,
    categories,
    mirror_shades,
    require,
)
from dyad.errors import ResultsError

#: the columns of the neurons table that the order depends on
NEURON_COLUMNS = (
    "neuron",
    "neuron_class",
    "preferred_visual",
    "preferred_motor",
    "d_visual",
    "d_motor",
)


def _missing(values: pd.Series) -> np.ndarray:
    text = values.astype(object)
    return (text.isna() | (text.astype(str).str.strip() == "")).to_numpy()


def _expression_ranks(values: pd.Series, expressions: Sequence[str], column: str) -> np.ndarray:
    """Rank of each preferred expression in ``expressions``; missing -> len(expressions)."""
    missing = _missing(values)
    text = values.astype(object).where(~missing, None)
    rank = {e: i for i, e in enumerate(expressions)}
    unknown = sorted({str(v) for v in text[~missing]} - set(rank))
    if unknown:
        raise ResultsError(
            f"neurons: column {column!r} holds expression(s) {unknown} "
            f"not among {list(expressions)}"
        )
    out = np.full(len(values), len(expressions), dtype=np.int64)
    out[~missing] = [rank[str(v)] for v in text[~missing]]
    return out


def _neuron_sort_keys(
    neurons: pd.DataFrame, expressions: Sequence[str] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str], list[str]]:
    """(class rank, preferred-expression rank, selectivity, neuron ids, expressions, labels)."""
    require(neurons, NEURON_COLUMNS, "neurons")
    if "phase" in neurons.columns and neurons["phase"].nunique() > 1:
        raise ResultsError(
            "neurons: holds several phases "
            f"({', '.join(categories(neurons['phase']))}); select one phase to order"
        )
    if neurons["neuron"].duplicated().any():
        raise ResultsError("neurons: column 'neuron' has duplicate ids")
    classes = neurons["neuron_class"].astype(str).to_numpy()
    unknown = sorted(set(classes) - set(CLASS_ORDER))
    if unknown:
        raise ResultsError(
            f"neurons: column 'neuron_class' holds unknown class(es) {unknown}; "
            f"expected some of {list(CLASS_ORDER)}"
        )
    if expressions is None:
        found = categories(neurons["preferred_visual"]) + categories(neurons["preferred_motor"])
        found = [e for e in dict.fromkeys(found) if e.strip()]
        is_cat = isinstance(neurons["preferred_visual"].dtype, pd.CategoricalDtype)
        expressions = found if is_cat else sorted(found)
    expressions = list(expressions)
    class_rank = np.array([CLASS_ORDER.index(c) for c in classes], dtype=np.int64)
    pref_v = _expression_ranks(neurons["preferred_visual"], expressions, "preferred_visual")
    pref_m = _expression_ranks(neurons["preferred_motor"], expressions, "preferred_motor")
    d_v = np.abs(np.nan_to_num(neurons["d_visual"].to_numpy(dtype=np.float64)))
    d_m = np.abs(np.nan_to_num(neurons["d_motor"].to_numpy(dtype=np.float64)))

    visual_led = np.isin(classes, ("mirror", "anti-mirror", "visual-only"))
    motor_led = classes == "motor-only"
    unselective = ~(visual_led | motor_led)
    # unselective classes: follow the modality with the stronger (sub-threshold) preference
    stronger_visual = d_v >= d_m
    pref = np.where(
        visual_led | (unselective & stronger_visual),
        pref_v,
        pref_m,
    )
    both = np.isin(classes, ("mirror", "anti-mirror"))
    magnitude = np.select(
        [both, classes == "visual-only", motor_led],
        [(d_v + d_m) / 2.0, d_v, d_m],
        default=np.maximum(d_v, d_m),
    )
    ids = neurons["neuron"].to_numpy()
    labels = [
        f"mirror: {expressions[p]}" if c == "mirror" and p < len(expressions) else c
        for c, p in zip(classes, pref, strict=True)
    ]
    return class_rank, pref, magnitude, ids, expressions, labels


def order_neurons(neurons: pd.DataFrame, expressions: Sequence[str] | None = None) -> np.ndarray:
    """Neuron ids of one phase in display order for the firing-rate heat map.

    Order (model.md §10 figure a):

    1. by class: mirror, anti-mirror, visual-only, motor-only, bimodal-unselective,
       unselective (:data:`CLASS_ORDER`);
    2. within a class, by preferred expression in ``expressions`` order (neurons without a
       preference last). The preference is ``preferred_visual`` for mirror, anti-mirror and
       visual-only cells, ``preferred_motor`` for motor-only cells, and for the two
       unselective classes that of the modality with the larger ``|d|``;
    3. then by selectivity magnitude, largest first: ``(|d_visual| + |d_motor|) / 2`` for
       mirror and anti-mirror cells, ``|d_visual|`` for visual-only, ``|d_motor|`` for
       motor-only, ``max(|d_visual|, |d_motor|)`` for the unselective classes;
    4. ties by neuron id.

    ``neurons`` needs ``neuron``, ``neuron_class``, ``preferred_visual``, ``preferred_motor``,
    ``d_visual`` and ``d_motor`` for a single phase. ``expressions`` defaults to the categories
    of ``preferred_visual`` if categorical, else the preferred expressions sorted by name.
    Returns ``(n_neurons,)`` neuron ids.
    """
    class_rank, pref, magnitude, ids, _, _ = _neuron_sort_keys(neurons, expressions)
    order = np.lexsort((ids, -magnitude, pref, class_rank))
    return ids[order]


def neuron_groups(neurons: pd.DataFrame, expressions: Sequence[str] | None = None) -> pd.Series:
    """Display group of each neuron: its class, with mirror cells split by expression.

    Mirror cells become ``"mirror: <expression>"`` (e.g. ``"mirror: happy"``); other classes keep
    their name. Indexed by neuron id; same rules and arguments as :func:`order_neurons`.
    """
    *_, ids, _, labels = _neuron_sort_keys(neurons, expressions)
    return pd.Series(labels, index=pd.Index(ids, name="neuron"), name="group")


def group_colours(expressions: Sequence[str]) -> dict[str, Any]:
    """Colour of each display group: shades of blue per mirror expression, else the class's."""
    colours: dict[str, Any] = {f"mirror: {e}": c for e, c in mirror_shades(expressions).items()}
    colours.update(CLASS_COLOURS)
    return colours
