"""The poster's figure: mirror-layer firing rates before and after training (model.md §10 a).

With several parents the seen rows are split into one panel per parent, so a reader sees
whether a neuron answers an expression on every face or only on one person's.
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
    CLASS_ORDER,
    categories,
    draw_and_save,
    new_figure,
    require,
    set_title,
)
from dyad.analysis.figures.ordering import (
    NEURON_COLUMNS,
    group_colours,
    neuron_groups,
    order_neurons,
)
from dyad.errors import ResultsError

_TEST_COLUMNS = ("phase", "condition", "expression", "neuron", "rate")
_PHASE_TITLES = {"before": "before training", "after": "after training"}
_CONDITION_WORDS = {"visual": "seen", "motor": "produced"}


def condition_means(
    test_responses: pd.DataFrame, expressions: Sequence[str] | None = None
) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Mean test rate per phase: rows = (condition, expression), columns = neuron ids.

    Rows run visual × each expression, then motor × each expression. Returns
    ``({phase: (2·S, n_neurons) DataFrame}, expressions)``.
    """
    require(test_responses, _TEST_COLUMNS, "test_responses")
    if expressions is None:
        expressions = categories(test_responses["expression"])
    conditions = {str(c) for c in test_responses["condition"].dropna().unique()}
    if not conditions <= {"visual", "motor"}:
        raise ResultsError(
            f"test_responses: column 'condition' holds {sorted(conditions)}; "
            "expected 'visual' and 'motor'"
        )
    keys = ["phase", "condition", "expression", "neuron"]
    frame = test_responses[keys + ["rate"]].copy()
    for key in ("phase", "condition", "expression"):
        frame[key] = frame[key].astype(str)
    means = frame.groupby(keys, sort=False)["rate"].mean()
    rows = pd.MultiIndex.from_product([["visual", "motor"], list(expressions)])
    out = {}
    for phase in categories(test_responses["phase"]):
        table = means.loc[phase].unstack("neuron")
        out[phase] = table.reindex(rows)
    return out, list(expressions)


def seen_parents(test_responses: pd.DataFrame) -> list[str]:
    """Return the parents whose faces the visual test trials show, in table order.

    Empty for tables without a ``parent`` column (one face, as in runs before parents were
    recorded).
    """
    if "parent" not in test_responses.columns:
        return []
    visual = test_responses[test_responses["condition"].astype(str) == "visual"]
    return categories(visual["parent"])


def parent_means(
    test_responses: pd.DataFrame, expressions: Sequence[str]
) -> dict[str, dict[str, pd.DataFrame]]:
    """Mean visual test rate per phase and parent: rows = expressions, columns = neuron ids.

    Returns ``{phase: {parent: (S, n_neurons) DataFrame}}``.
    """
    require(test_responses, (*_TEST_COLUMNS, "parent"), "test_responses")
    visual = test_responses[test_responses["condition"].astype(str) == "visual"]
    keys = ["phase", "parent", "expression", "neuron"]
    frame = visual[keys + ["rate"]].copy()
    for key in ("phase", "parent", "expression"):
        frame[key] = frame[key].astype(str)
    means = frame.groupby(keys, sort=True)["rate"].mean()
    out: dict[str, dict[str, pd.DataFrame]] = {}
    for phase in categories(test_responses["phase"]):
        out[phase] = {
            parent: means.loc[(phase, parent)].unstack("neuron").reindex(list(expressions))
            for parent in seen_parents(test_responses)
        }
    return out


def plot_firing_rates(
    test_responses: pd.DataFrame,
    neurons: pd.DataFrame,
    path: str | os.PathLike,
    formats: Sequence[str] = ("png",),
    **options: Any,
) -> list[Path]:
    """Draw :func:`draw_firing_rates` and write it once per format; return the paths.

    ``options`` are that function's keywords (``expressions``, ``title``).
    """
    return draw_and_save(
        partial(draw_firing_rates, test_responses, neurons, **options), path, formats
    )


def draw_firing_rates(
    test_responses: pd.DataFrame,
    neurons: pd.DataFrame,
    *,
    expressions: Sequence[str] | None = None,
    title: str | None = None,
):
    """Plot the poster's figure: mirror-layer rates before (left) and after (right) training.

    Each column of panels is a heat map with one row per test condition (seen × each
    expression, then produced × each expression), values = mean rate over trials on a fixed
    0–1 colour scale, and one column per mirror-layer neuron, reordered by
    :func:`order_neurons` using that phase's own classification. A strip above each map marks
    the class blocks (mirror cells per expression, anti-mirror, visual-only, motor-only,
    bimodal-unselective, unselective); the legend gives each block's size per phase.

    When the visual trials show several parents (``parent`` column), the seen rows get one
    panel per parent above the produced rows, in the same neuron order: a neuron that learned
    the expression rather than the person lights up in every parent's panel.

    ``test_responses``: ``phase``, ``condition`` ("visual"/"motor"), ``expression``, ``neuron``,
    ``rate`` (any trials), optionally ``parent``; ``neurons``: ``phase``, ``neuron``,
    ``neuron_class``, ``preferred_visual``, ``preferred_motor``, ``d_visual``, ``d_motor``.
    Phases are drawn "before" then "after" (then any others). Call inside
    :func:`dyad.analysis.figures.common.style` for the house style (``plot_firing_rates`` does).
    Returns the :class:`matplotlib.figure.Figure`.
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    require(neurons, ("phase", *NEURON_COLUMNS), "neurons")
    means, expressions = condition_means(test_responses, expressions)
    known = [p for p in _PHASE_TITLES if p in means]
    phases = known + [p for p in means if p not in known]
    missing_phases = [p for p in phases if p not in set(neurons["phase"].astype(str))]
    if missing_phases:
        raise ResultsError(f"neurons: no rows for phase(s) {missing_phases} of test_responses")
    parents = seen_parents(test_responses)
    by_parent = parent_means(test_responses, expressions) if len(parents) > 1 else None

    # blocks of heat-map rows, top to bottom: (label, row labels, rows by phase)
    seen_labels = [f"seen {e}" for e in expressions]
    produced_labels = [f"produced {e}" for e in expressions]
    panels = []
    for phase in phases:
        table = neurons[neurons["phase"].astype(str) == phase]
        order = order_neurons(table, expressions)
        groups = neuron_groups(table, expressions).reindex(order)
        rates = means[phase]
        absent = sorted(set(order) - set(rates.columns))
        if absent or set(rates.columns) - set(order):
            raise ResultsError(
                f"test_responses and neurons disagree on the neurons of phase {phase!r} "
                f"(e.g. neuron {(absent or sorted(set(rates.columns) - set(order)))[0]})"
            )
        if by_parent is None:
            blocks = [("", seen_labels + produced_labels, rates[order].to_numpy(dtype=float))]
        else:
            blocks = [
                (parent, seen_labels, by_parent[phase][parent][order].to_numpy(dtype=float))
                for parent in parents
            ]
            produced = rates.loc["motor"][order].to_numpy(dtype=float)
            blocks.append(("infant", produced_labels, produced))
        panels.append((phase, blocks, groups.to_numpy()))

    colours = group_colours(expressions)
    group_order = [f"mirror: {e}" for e in expressions] + list(CLASS_ORDER[1:]) + ["mirror"]
    counts_by_phase = {phase: pd.Series(groups).value_counts() for phase, _, groups in panels}
    shown = [g for g in group_order if any(g in c.index for c in counts_by_phase.values())]
    n_panels = len(panels)
    legend_columns = min(len(shown), 2 * n_panels)
    legend_rows = -(-len(shown) // legend_columns)
    block_heights = [0.3 * len(labels) + 0.1 for _, labels, _ in panels[0][1]]
    strip_height = 0.13
    figure_height = (
        strip_height + sum(block_heights) + 1.05 + 0.2 * legend_rows + (0.35 if title else 0)
    )

    figure = new_figure(3.4 * n_panels + 1.2, figure_height)
    grid = figure.add_gridspec(
        1 + len(block_heights),
        n_panels + 1,
        height_ratios=(strip_height, *block_heights),
        width_ratios=[1] * n_panels + [0.035],
    )
    image = None
    for column, (phase, blocks, groups) in enumerate(panels):
        strip = figure.add_subplot(grid[0, column])
        present = [g for g in group_order if g in set(groups)]
        codes = np.array([present.index(g) for g in groups])
        strip.imshow(
            codes[None, :],
            aspect="auto",
            cmap=ListedColormap([colours[g] for g in present]),
            vmin=-0.5,
            vmax=len(present) - 0.5,
        )
        strip.set_axis_off()
        strip.set_title(_PHASE_TITLES.get(phase, phase), pad=4)
        boundaries = np.flatnonzero(groups[1:] != groups[:-1]) + 0.5
        for row, (label, row_labels, rates) in enumerate(blocks, start=1):
            heat = figure.add_subplot(grid[row, column], sharex=strip)
            image = heat.imshow(
                rates, aspect="auto", cmap="viridis", vmin=0.0, vmax=1.0, interpolation="nearest"
            )
            for x in boundaries:
                heat.axvline(x, color="white", linewidth=0.8)
            if by_parent is None:
                heat.axhline(len(expressions) - 0.5, color="white", linewidth=1.2)
            heat.set_yticks(range(len(row_labels)))
            heat.set_yticklabels(row_labels if column == 0 else [])
            if label and column == 0:
                heat.set_ylabel(label, rotation=0, ha="right", va="center", labelpad=8)
            heat.tick_params(axis="y", length=0)
            n = rates.shape[1]
            last = row == len(blocks)
            heat.set_xticks([0, n - 1])
            heat.set_xticklabels(["1", str(n)])
            if last:
                heat.set_xlabel("mirror-layer neurons, ordered by class")
            else:  # one neuron axis per column of panels, at the bottom
                heat.tick_params(axis="x", labelbottom=False, length=0)
            for side in ("top", "right", "left", "bottom"):
                heat.spines[side].set_visible(False)
    colourbar = figure.colorbar(image, cax=figure.add_subplot(grid[1:, n_panels]))
    colourbar.set_label("mean firing rate")
    colourbar.outline.set_visible(False)
    colourbar.set_ticks([0, 0.5, 1])

    def legend_label(group: str) -> str:
        counts = " → ".join(str(int(counts_by_phase[p].get(group, 0))) for p, *_ in panels)
        return f"{group} ({counts})"

    handles = [Patch(facecolor=colours[g], edgecolor="none", label=legend_label(g)) for g in shown]
    legend_title = "neuron class (cells)"
    if n_panels > 1:
        legend_title = "neuron class (cells " + " → ".join(p for p, *_ in panels) + ")"
    figure.legend(
        handles=handles,
        loc="outside lower center",
        ncols=legend_columns,
        title=legend_title,
        title_fontsize=8.5,
        handlelength=1.2,
        columnspacing=1.2,
    )
    if title:
        set_title(figure, title)
    return figure
