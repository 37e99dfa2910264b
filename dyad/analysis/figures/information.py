"""Single-cell information curves: how much each cell says about the expression (model.md §10 b).

Cells are ranked by information, most informative first; the trained network's curve is solid,
the untrained one's dashed. With a ``hue`` (the run report's modality: seen or produced) each
value gets its own panel: on a trained mirror layer the seen and produced curves coincide, and
drawn on one axes the first would hide under the second.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dyad.analysis.figures.common import draw_and_save, new_figure, require, set_title
from dyad.errors import ResultsError

_HUE_COLOURS = ("#0173b2", "#d55e00", "#029e73", "#cc78bc")
_MODALITY_WORDS = {"visual": "seen expressions (visual)", "motor": "produced (motor)"}


def plot_information_curves(
    info: pd.DataFrame,
    path: str | os.PathLike,
    max_bits: float,
    formats: Sequence[str] = ("png",),
    **options: Any,
) -> list[Path]:
    """Draw :func:`draw_information_curves` and write it once per format; return the paths.

    ``options`` are that function's keywords (``hue``, ``units``, ``layer``, ``title``).
    """
    return draw_and_save(partial(draw_information_curves, info, max_bits, **options), path, formats)


def information_curves(
    info: pd.DataFrame, hue: str | None = None, units: str | None = None
) -> list[tuple[dict[str, str], np.ndarray, np.ndarray]]:
    """One ``(labels, ranks, bits)`` curve per network (and hue and unit value).

    ``info`` needs ``information`` (bits), ``network`` and either ``cell_rank`` (0 = most
    informative) or ``cell``. With ``cell``, a cell's score is its maximum over the rows it
    has in a group (e.g. over ``stimulus`` rows from
    :func:`dyad.analysis.information.information_table`), and ranks come from sorting the
    scores in descending order.
    """
    require(info, ("information", "network"), "info")
    rank_column = "cell_rank" if "cell_rank" in info.columns else "cell"
    if rank_column not in info.columns:
        raise ResultsError("info: missing column 'cell_rank' (or 'cell' to rank by information)")
    for extra in (hue, units):
        if extra is not None:
            require(info, (extra,), "info")
    groups = ["network"] + [c for c in (hue, units) if c is not None]
    curves = []
    for key, group in info.groupby(groups, sort=False, observed=True):
        key = key if isinstance(key, tuple) else (key,)
        if rank_column == "cell":
            scores = group.groupby("cell", observed=True)["information"].max().to_numpy()
            scores = np.sort(scores)[::-1]
            ranks = np.arange(scores.size)
        else:
            group = group.sort_values("cell_rank")
            scores = group["information"].to_numpy(dtype=float)
            ranks = group["cell_rank"].to_numpy()
        curves.append((dict(zip(groups, map(str, key), strict=True)), ranks, scores))
    return curves


def draw_information_curves(
    info: pd.DataFrame,
    max_bits: float,
    *,
    hue: str | None = None,
    units: str | None = None,
    layer: str | None = None,
    title: str | None = None,
):
    """Single-cell information against cell rank: trained solid, untrained dashed.

    ``info`` as for :func:`information_curves`. ``hue`` (e.g. ``"modality"``) gives each of
    its values a panel of its own (shared axes, one colour each); ``units`` (e.g. ``"seed"``)
    draws one thin curve per value. ``layer`` (e.g. ``"mirror layer, 256 neurons"``) names
    the cells on the x axis, so the figure says which layer it measures. The y axis spans
    [−0.05, max_bits + 0.05], ``max_bits`` = log2(number of stimuli). Returns the
    :class:`matplotlib.figure.Figure`.
    """
    from matplotlib.lines import Line2D

    if not np.isfinite(max_bits) or max_bits <= 0:
        raise ValueError(f"max_bits: expected a positive number of bits, got {max_bits!r}")
    curves = information_curves(info, hue, units)
    networks = [n for n in ("trained", "untrained") if n in {c[0]["network"] for c in curves}]
    networks += [n for n in dict.fromkeys(c[0]["network"] for c in curves) if n not in networks]
    dashes = {n: (0, ()) if i == 0 else (0, (4, 2)) for i, n in enumerate(networks)}
    dashes.update({"trained": (0, ()), "untrained": (0, (4, 2))})
    hues = list(dict.fromkeys(c[0][hue] for c in curves)) if hue else [None]
    hue_colours = dict(zip(hues, _HUE_COLOURS, strict=False)) if hue else {}

    # 3 in per panel: room for an x label that names the layer, e.g. "(mirror layer, 256 neurons)"
    figure = new_figure(3.0 * len(hues) + 1.6, 2.7 + (0.25 if title else 0))
    panels = figure.subplots(1, len(hues), sharex=True, sharey=True, squeeze=False)[0]
    n_cells = max(int(np.max(r)) + 1 for _, r, _ in curves)
    for axes, value in zip(panels, hues, strict=True):
        for labels, ranks, scores in curves:
            if hue and labels[hue] != value:
                continue
            colour = hue_colours[value] if hue else "#222222"
            if not hue and labels["network"] != "trained":
                colour = "#7f7f7f"
            axes.plot(
                ranks,
                scores,
                color=colour,
                linestyle=dashes[labels["network"]],
                linewidth=0.8 if units else 1.6,
                alpha=0.6 if units else 1.0,
            )
        axes.set_xlim(0, n_cells)
        axes.set_ylim(-0.05, max_bits + 0.05)
        axes.set_xlabel(f"cell rank ({layer})" if layer else "cell rank")
        if hue:
            axes.set_title(_MODALITY_WORDS.get(value, value), color=hue_colours[value])
    panels[0].set_ylabel("information (bits)")
    handles = [
        Line2D(
            [],
            [],
            color="#222222" if (hue or n == "trained") else "#7f7f7f",
            linestyle=dashes[n],
            label=f"{n} network" if n in ("trained", "untrained") else n,
        )
        for n in networks
    ]
    panels[-1].legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5))
    if title:
        set_title(figure, title)
    return figure
