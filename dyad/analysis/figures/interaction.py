"""The interaction over the whole run: who showed what, congruence, the mirror layer's input.

Three panels share the time axis, each covering every timestep:

1. bands for the infant's and the parent's expression (colour = expression), the parent
   present (runs with several parents) and the congruent timesteps;
2. congruence in a moving window, per parent where there are several, with the run's overall
   c as a dashed line: lags and noise show as dips, two parents as two levels;
3. the visual and motor drive into the mirror layer in the same window: the input Hebbian
   learning works on. (The layer's mean rate is not drawn: its winner-take-all competition
   holds it at the active share from the first timesteps on, a flat line that says nothing.)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dyad.analysis.figures.common import (
    categories,
    draw_and_save,
    expression_colours,
    new_figure,
    require,
    series_style,
    set_title,
)
from dyad.errors import ResultsError

_COLUMNS = ("t", "infant_expression", "parent_expression", "congruent")
_DRIVES = {"visual_drive": ("seen (visual)", "#0173b2"), "motor_drive": ("made (motor)", "#cc78bc")}


def plot_interaction(
    interaction: pd.DataFrame,
    path: str | os.PathLike,
    formats: Sequence[str] = ("png",),
    **options: Any,
) -> list[Path]:
    """Draw :func:`draw_interaction` and write it once per format; return the paths.

    ``options`` are that function's keywords (``window``, ``expressions``, ``title``).
    """
    return draw_and_save(partial(draw_interaction, interaction, **options), path, formats)


def moving_window(n_steps: int) -> int:
    """Timesteps per moving window: 1/40 of the run, at least 10 (50 for 2,000 timesteps)."""
    return max(10, n_steps // 40)


def draw_interaction(
    interaction: pd.DataFrame,
    *,
    window: int | None = None,
    expressions: Sequence[str] | None = None,
    title: str | None = None,
):
    """Plot the whole infant–parent interaction on one time axis (see the module docstring).

    ``interaction`` needs ``t``, ``infant_expression``, ``parent_expression`` and
    ``congruent``; ``parent`` adds the parent band and per-parent congruence when it holds
    several parents; ``visual_drive`` and ``motor_drive`` add the drive panel. ``window``
    (timesteps, default :func:`moving_window`) smooths the lower panels; a parent's
    congruence is the share of congruent timesteps among that parent's timesteps in the
    window. Returns the :class:`matplotlib.figure.Figure`.
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    require(interaction, _COLUMNS, "interaction")
    part = interaction.sort_values("t", kind="stable")
    n = len(part)
    window = moving_window(n) if window is None else window
    if window < 1:
        raise ValueError(f"window: expected a positive number of timesteps, got {window}")
    if expressions is None:
        expressions = list(
            dict.fromkeys(
                categories(interaction["infant_expression"])
                + categories(interaction["parent_expression"])
            )
        )
    expressions = list(expressions)
    code = {e: i for i, e in enumerate(expressions)}
    bands = []
    for column in ("infant_expression", "parent_expression"):
        values = part[column].astype(str)
        unknown = sorted(set(values) - set(code))
        if unknown:
            raise ResultsError(
                f"interaction: column {column!r} holds {unknown} not among {expressions}"
            )
        bands.append(values.map(code).to_numpy(dtype=float))
    parents = categories(part["parent"]) if "parent" in part.columns else []
    several = len(parents) > 1
    t = part["t"].to_numpy(dtype=float)
    congruent = part["congruent"].to_numpy(dtype=bool)
    colours = expression_colours(expressions)
    step = float(np.median(np.diff(t))) if t.size > 1 else 1.0
    extent = (t[0] - step / 2, t[-1] + step / 2)
    drives = [c for c in _DRIVES if c in part.columns]

    heights = [1.0 + 0.35 * several, 1.2] + ([1.1] if drives else [])
    figure = new_figure(7.2, 0.7 + sum(heights) + (0.3 if title else 0))
    grid = figure.add_gridspec(len(heights), 1, height_ratios=heights)
    top = figure.add_subplot(grid[0])
    rows = ["infant", "parent"]
    cmap = ListedColormap([colours[e] for e in expressions])
    for row, band in enumerate(bands):
        top.imshow(
            band[None, :],
            aspect="auto",
            cmap=cmap,
            vmin=-0.5,
            vmax=len(expressions) - 0.5,
            interpolation="nearest",
            extent=(extent[0], extent[1], row + 0.38, row - 0.38),
        )
    parent_colours = {p: series_style(i)[0] for i, p in enumerate(parents)}
    if several:
        who = part["parent"].astype(str).map({p: i for i, p in enumerate(parents)})
        top.imshow(
            who.to_numpy(dtype=float)[None, :],
            aspect="auto",
            cmap=ListedColormap([parent_colours[p] for p in parents]),
            vmin=-0.5,
            vmax=len(parents) - 0.5,
            interpolation="nearest",
            extent=(extent[0], extent[1], 2.38, 1.62),
        )
        rows.append("who")
    top.imshow(
        np.where(congruent, 1.0, np.nan)[None, :],
        aspect="auto",
        cmap=ListedColormap(["#333333"]),
        interpolation="nearest",
        extent=(extent[0], extent[1], len(rows) + 0.3, len(rows) - 0.3),
    )
    rows.append("congruent")
    top.set_ylim(len(rows) - 0.55, -0.5)
    top.set_yticks(range(len(rows)))
    top.set_yticklabels(rows)
    top.tick_params(axis="y", length=0)
    top.tick_params(axis="x", labelbottom=False, length=0)
    for side in ("left", "bottom"):
        top.spines[side].set_visible(False)
    top.legend(
        handles=[Patch(facecolor=colours[e], label=e) for e in expressions],
        loc="upper left",
        bbox_to_anchor=(1.0, 1.05),
        title="expression",
        title_fontsize=8.5,
    )
    top.set_xlim(*extent)

    middle = figure.add_subplot(grid[1], sharex=top)
    overall = float(congruent.mean())
    if several:
        who = part["parent"].astype(str).to_numpy()
        for parent in parents:
            mine = who == parent
            hits = (
                pd.Series(np.where(mine, congruent, 0.0))
                .rolling(window, center=True, min_periods=1)
                .sum()
            )
            seen = pd.Series(mine.astype(float)).rolling(window, center=True, min_periods=1).sum()
            share = (hits / seen.where(seen > 0)).to_numpy()
            c = float(congruent[mine].mean()) if mine.any() else float("nan")
            middle.plot(
                t, share, color=parent_colours[parent], linewidth=1.1, label=f"{parent} ({c:.2f})"
            )
    else:
        share = (
            pd.Series(congruent.astype(float)).rolling(window, center=True, min_periods=1).mean()
        )
        middle.plot(t, share.to_numpy(), color="#222222", linewidth=1.1, label="congruence")
    middle.axhline(
        overall, color="#7f7f7f", linestyle="--", linewidth=0.9, label=f"c = {overall:.2f}"
    )
    middle.set_ylim(-0.04, 1.08)  # a line at c = 1 stays clear of the frame
    middle.set_ylabel(f"congruence\n({window}-step window)")
    middle.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    last = middle
    if drives:
        middle.tick_params(axis="x", labelbottom=False)
        bottom = figure.add_subplot(grid[2], sharex=top)
        for column in drives:
            label, colour = _DRIVES[column]
            smooth = part[column].astype(float).rolling(window, center=True, min_periods=1).mean()
            bottom.plot(t, smooth.to_numpy(), color=colour, linewidth=1.1, label=label)
        bottom.set_ylim(bottom=0)
        bottom.set_ylabel(f"mirror-layer input\n({window}-step mean)")
        bottom.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
        last = bottom
    last.set_xlabel(f"timestep (all {n:,} of the run)")
    if title:
        set_title(figure, title)
    return figure
