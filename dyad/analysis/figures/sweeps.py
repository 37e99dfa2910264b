"""Sweep figures: neuron classes and run outcomes against a swept variable (model.md §10 c).

Class counts are drawn as mean ± SD across seeds with seaborn's ``lineplot``, which aggregates
the tidy one-row-per-run table itself. The SD band is clipped to what a count can be
(0..n_neurons, or 0..1 for fractions): a band reaching below zero would show impossible
values. Classes that are zero in every run get no panel or line; the figure names them
instead, so no panel is empty and no line hides under another at zero; where drawn classes
(or outcomes) share a value, each is drawn thinner and above the one before it, so all stay
in sight. Given ``max_gap``, lines join only points of the x axis that lie at most that far
apart: a line across a stretch where no run fell (the measured congruence of a yoked parent
near 0.5 and of a perfect mimic at 1, say) would draw a trend nobody measured.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dyad.analysis import share_interval
from dyad.analysis.figures.common import (
    CLASS_COLOURS,
    CLASS_ORDER,
    OUTCOME_COLOURS,
    OUTCOMES,
    axis_label,
    categories,
    draw_and_save,
    nest_lines,
    new_figure,
    require,
    seeds_note,
    series_style,
    set_title,
)
from dyad.errors import ResultsError

#: seaborn dash patterns for the line styles of :data:`~dyad.analysis.figures.common.SERIES_STYLES`
_DASHES = {"-": "", "--": (4, 2), ":": (1, 1.5), "-.": (4, 1.5, 1, 1.5)}
_OUTCOME_LABELS = {
    "mirror": "mirror-dominant",
    "anti-mirror": "anti-mirror-dominant",
    "neither": "neither",
}


def _sweep_series(runs: pd.DataFrame, series: str | None) -> str | None:
    if series is None and "series" in runs.columns:
        series = "series"
    if series is not None:
        require(runs, (series,), "runs")
    return series


def _class_columns(runs: pd.DataFrame, classes: Sequence[str] | None) -> list[str]:
    if classes is None:
        classes = [c for c in CLASS_ORDER if c in runs.columns]
        if not classes:
            raise ResultsError(
                f"runs: no neuron-class columns; expected some of {list(CLASS_ORDER)}"
            )
    else:
        require(runs, classes, "runs")
    return list(classes)


def is_numeric_axis(values: pd.Series) -> bool:
    """Whether a swept variable is a number (drawn on a continuous axis), not a label."""
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def count_limit(runs: pd.DataFrame, classes: Sequence[str], n_neurons: float | None) -> float:
    """Return the largest value a class column can hold: ``n_neurons``, 1 for fractions.

    ``n_neurons`` defaults to the runs' ``n_neurons`` column, else to the largest sum of the
    class columns of one run (every neuron has exactly one class).
    """
    if n_neurons is not None:
        if not np.isfinite(n_neurons) or n_neurons <= 0:
            raise ValueError(f"n_neurons: expected a positive number, got {n_neurons!r}")
        return float(n_neurons)
    values = runs[list(classes)].to_numpy(dtype=float)
    if np.nanmax(values) <= 1.0 and not np.all(np.mod(values, 1) == 0):
        return 1.0
    if "n_neurons" in runs.columns and runs["n_neurons"].notna().any():
        return float(runs["n_neurons"].max())
    return float(np.nanmax(np.nansum(values, axis=1)))


def x_segments(values: pd.Series, max_gap: float | None) -> list[tuple[float, float]]:
    """Split a numeric x axis where neighbouring points lie more than ``max_gap`` apart.

    Returns the ``(first, last)`` x values of each stretch, in order; one stretch when
    ``max_gap`` is None. Lines are drawn within a stretch and never across the gap between two.
    """
    xs = np.unique(values.to_numpy(dtype=float))
    xs = xs[np.isfinite(xs)]
    if xs.size == 0:
        return []
    if max_gap is None:
        return [(float(xs[0]), float(xs[-1]))]
    cuts = np.flatnonzero(np.diff(xs) > max_gap)
    firsts = np.concatenate([xs[:1], xs[cuts + 1]])
    lasts = np.concatenate([xs[cuts], xs[-1:]])
    return [(float(a), float(b)) for a, b in zip(firsts, lasts, strict=True)]


def _broken(frame: pd.DataFrame, x: str, max_gap: float | None) -> pd.DataFrame:
    """``frame`` (sorted by ``x``) with a row of NaN in every gap wider than ``max_gap``.

    matplotlib leaves a line and a ``fill_between`` band open at a NaN, so the rows of
    :func:`outcome_shares` drawn from this frame are joined within stretches only.
    """
    frame = frame.sort_values(x, kind="stable")
    if max_gap is None or len(frame) < 2:
        return frame
    xs = frame[x].to_numpy(dtype=float)
    gaps = np.flatnonzero(np.diff(xs) > max_gap)
    if gaps.size == 0:
        return frame
    breaks = pd.DataFrame(np.nan, index=range(gaps.size), columns=frame.columns)
    breaks[x] = (xs[gaps] + xs[gaps + 1]) / 2
    return pd.concat([frame, breaks]).sort_values(x, kind="stable").reset_index(drop=True)


def clipped_sd(low: float, high: float):
    """Return a seaborn ``errorbar`` callable: mean ± 1 SD (ddof 1, as seaborn's "sd") clipped."""

    def interval(values: pd.Series) -> tuple[float, float]:
        mean, sd = float(values.mean()), float(values.std())
        return max(low, mean - sd), min(high, mean + sd)

    return interval


def plot_class_counts(
    runs: pd.DataFrame,
    x: str,
    path: str | os.PathLike,
    formats: Sequence[str] = ("png",),
    **options: Any,
) -> list[Path]:
    """Draw :func:`draw_class_counts` and write it once per format; return the paths.

    ``options`` are that function's keywords (``classes``, ``series``, ``ylabel``,
    ``n_neurons``, ``title``).
    """
    return draw_and_save(partial(draw_class_counts, runs, x, **options), path, formats)


def draw_class_counts(
    runs: pd.DataFrame,
    x: str,
    *,
    classes: Sequence[str] | None = None,
    series: str | None = None,
    ylabel: str | None = None,
    n_neurons: float | None = None,
    title: str | None = None,
    max_gap: float | None = None,
):
    """Neuron-class counts (or fractions) against a swept variable: mean ± SD across seeds.

    ``runs`` has one row per run: the column ``x`` (e.g. ``q``, ``lag``, ``congruence``),
    usually ``seed``, and one column per neuron class (counts or fractions; by default every
    column named after a class in :data:`CLASS_ORDER`). Without a series, one panel shows
    every class in its colour, the band spanning ± 1 SD. With a ``series`` column (used
    automatically when ``runs`` has one, e.g. "noise"/"lag" pooled by congruence) there is one
    panel per class and the series are overlaid, so coinciding curves are easy to judge.

    Bands and the y axis stop at 0 and at :func:`count_limit` (``n_neurons``). Classes that
    are 0 in every run are left out and named under the legend. ``title`` (scenario and
    settings, say) goes above the panels. Points of ``x`` more than ``max_gap`` apart are not
    joined (:func:`x_segments`). Returns the :class:`matplotlib.figure.Figure`.
    """
    import seaborn as sns

    require(runs, (x,), "runs")
    classes = _class_columns(runs, classes)
    upper = count_limit(runs, classes, n_neurons)
    series = _sweep_series(runs, series)
    if series is not None:  # series values are labels: compare them as text
        names = categories(runs[series])
        runs = runs.assign(**{series: runs[series].astype(str)})
    always_zero = [c for c in classes if np.nan_to_num(runs[c].to_numpy(dtype=float)).max() == 0]
    drawn = [c for c in classes if c not in always_zero] or classes[:1]
    always_zero = [c for c in always_zero if c not in drawn]
    keys = ([series] if series else []) + [x]
    n_seeds = runs.groupby(keys, observed=True, sort=True).size().to_numpy()
    note = seeds_note(n_seeds)
    zero_note = f"0 in every run, not drawn: {', '.join(always_zero)}" if always_zero else ""
    fractions = upper == 1.0
    ylabel = ylabel or ("fraction of neurons" if fractions else "neurons")

    if series is None and not is_numeric_axis(runs[x]):
        return _draw_class_strips(runs, x, drawn, always_zero, upper, ylabel, note, title)

    # tidy: one row per run and class; seaborn draws mean ± SD across the seeds of each point,
    # one call per series and stretch of x (seaborn drops NaN, so it cannot leave a gap)
    long = runs.melt(id_vars=keys, value_vars=drawn, var_name="neuron_class", value_name="value")
    stretches = [
        piece[piece[x].astype(float).between(first, last)]
        for _, piece in (long.groupby(series, sort=False) if series else [(None, long)])
        for first, last in x_segments(piece[x], max_gap)
    ]
    line = {"marker": "o", "markersize": 3.5, "linewidth": 1.4, "markeredgewidth": 0}
    band = {"alpha": 0.18, "linewidth": 0}
    errorbar = clipped_sd(0.0, upper)
    top = upper * 1.04

    if series is None:
        figure = new_figure(5.0, 2.9 + (0.3 if title else 0))
        axes = figure.add_subplot()
        for index, stretch in enumerate(stretches):
            sns.lineplot(
                data=stretch,
                x=x,
                y="value",
                hue="neuron_class",
                hue_order=drawn,
                palette={name: CLASS_COLOURS.get(name, "#222222") for name in drawn},
                errorbar=errorbar,
                err_kws=band,
                legend=index == 0,
                ax=axes,
                **line,
            )
        nest_lines(axes, [CLASS_COLOURS.get(name, "#222222") for name in drawn])
        axes.legend(
            loc="center left",
            bbox_to_anchor=(1.0, 0.5),
            # one class per line: a long note would squeeze the panel
            title=note
            + ("\nnot drawn (0 in every run):\n" + "\n".join(always_zero) if always_zero else ""),
            title_fontsize=7.5,
            alignment="left",
        )
        axes.set_xlabel(axis_label(x))
        axes.set_ylabel(ylabel)
        axes.set_ylim(0, top)
        if title:
            set_title(figure, title)
        return figure

    n_cols = min(3, len(drawn))
    n_rows = -(-len(drawn) // n_cols)
    figure = new_figure(2.3 * n_cols + 0.4, 1.9 * n_rows + 0.6 + (0.3 if title else 0))
    panels = figure.subplots(n_rows, n_cols, sharex=True, sharey=True, squeeze=False)
    styles = [series_style(i) for i in range(len(names))]
    for index, (axes, name) in enumerate(zip(panels.flat, drawn, strict=False)):
        for part, stretch in enumerate(stretches):
            sns.lineplot(
                data=stretch[stretch["neuron_class"] == name],
                x=x,
                y="value",
                hue=series,
                hue_order=names,
                style=series,
                style_order=names,
                palette=[colour for colour, _, _ in styles],
                markers=[marker for _, _, marker in styles],
                dashes=[_DASHES.get(linestyle, "") for _, linestyle, _ in styles],
                errorbar=errorbar,
                err_kws=band,
                legend=index == 0 and part == 0,
                ax=axes,
                **{k: v for k, v in line.items() if k != "marker"},
            )
        axes.set_title(name, color=CLASS_COLOURS.get(name, "#222222"))
        axes.set_ylim(0, top)
        axes.set_xlabel("")
        axes.set_ylabel("")
    for axes in panels.flat[len(drawn) :]:
        figure.delaxes(axes)
    for index, axes in enumerate(panels.flat[: len(drawn)]):
        # the lowest panel of each column carries the x label
        if index + n_cols >= len(drawn):
            axes.set_xlabel(axis_label(x))
            axes.tick_params(axis="x", labelbottom=True)
    for axes in panels[:, 0]:
        axes.set_ylabel(ylabel)
    first = panels.flat[0]
    handles, labels = first.get_legend_handles_labels()
    if first.get_legend() is not None:
        first.get_legend().remove()
    figure.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=len(labels),
        title=f"{series} ({note})" + (f"\n{zero_note}" if zero_note else ""),
        title_fontsize=8.5,
    )
    if title:
        set_title(figure, title)
    return figure


def _draw_class_strips(
    runs: pd.DataFrame,
    x: str,
    drawn: Sequence[str],
    always_zero: Sequence[str],
    upper: float,
    ylabel: str,
    note: str,
    title: str | None,
):
    """Class counts per value of a label axis (a policy, say): one dot per seed, and the mean.

    Dots rather than mean ± SD: a run tends to be all of one class, so the counts of one
    setting are often 0 or all neurons and a mean between them describes no run.
    """
    import seaborn as sns

    names = categories(runs[x])
    long = runs.assign(**{x: runs[x].astype(str)}).melt(
        id_vars=[x], value_vars=list(drawn), var_name="neuron_class", value_name="value"
    )
    figure = new_figure(2.6 + 0.9 * len(names) * max(1, len(drawn)) ** 0.5, 2.9)
    axes = figure.add_subplot()
    palette = {name: CLASS_COLOURS.get(name, "#222222") for name in drawn}
    sns.stripplot(
        data=long,
        x=x,
        y="value",
        hue="neuron_class",
        order=names,
        hue_order=list(drawn),
        palette=palette,
        dodge=True,
        jitter=0.3,
        size=3.5,
        alpha=0.75,
        linewidth=0,
        ax=axes,
    )
    # the mean of each class and value: a short black bar where seaborn dodged its dots
    width = 0.8 / len(drawn)
    means = long.groupby([x, "neuron_class"], observed=True)["value"].mean()
    for i, name in enumerate(names):
        for j, neuron_class in enumerate(drawn):
            if (name, neuron_class) in means.index:
                centre = i - 0.4 + width * (j + 0.5)
                mean = means[(name, neuron_class)]
                axes.hlines(mean, centre - 0.4 * width, centre + 0.4 * width, color="#222222")
    handles, labels = axes.get_legend_handles_labels()
    handles.append(axes.plot([], [], color="#222222")[0])
    labels.append("mean")
    axes.legend(
        handles,
        labels,
        loc="center left",
        bbox_to_anchor=(1.0, 0.5),
        title=note.replace("per point", f"per {x}")
        + ("\nnot drawn (0 in every run):\n" + "\n".join(always_zero) if always_zero else ""),
        title_fontsize=7.5,
        alignment="left",
    )
    axes.set_xlabel(axis_label(x))
    axes.set_ylabel(ylabel)
    axes.set_ylim(-0.03 * upper, upper * 1.04)
    if title:
        set_title(figure, title)
    return figure


def run_outcomes(
    runs: pd.DataFrame, classes: Sequence[str] | None = None, threshold: float = 0.5
) -> pd.Series:
    """Each run's outcome: "mirror", "anti-mirror" or "neither" (which class dominates).

    A ``dominant`` column, if present, is used as is. Otherwise a run is mirror-dominant when
    mirror cells are at least ``threshold`` of all neurons and outnumber anti-mirror cells
    (and the reverse for anti-mirror), as in the run summaries. All neurons = ``n_neurons``
    if present, else the sum of the class columns.
    """
    if "dominant" in runs.columns:
        outcome = runs["dominant"].astype(str)
        unknown = sorted(set(outcome) - set(OUTCOMES))
        if unknown:
            raise ResultsError(f"runs: column 'dominant' holds {unknown}; expected {OUTCOMES}")
        return outcome
    require(runs, ("mirror", "anti-mirror"), "runs")
    classes = _class_columns(runs, classes)
    if "n_neurons" in runs.columns:
        total = runs["n_neurons"].to_numpy(dtype=float)
    else:
        total = runs[classes].to_numpy(dtype=float).sum(axis=1)
    mirror = runs["mirror"].to_numpy(dtype=float)
    anti = runs["anti-mirror"].to_numpy(dtype=float)
    outcome = np.select(
        [
            (mirror >= threshold * total) & (mirror > anti),
            (anti >= threshold * total) & (anti > mirror),
        ],
        ["mirror", "anti-mirror"],
        default="neither",
    )
    return pd.Series(outcome, index=runs.index, name="outcome")


def outcome_shares(
    runs: pd.DataFrame,
    x: str,
    series: str | None = None,
    classes: Sequence[str] | None = None,
    threshold: float = 0.5,
) -> pd.DataFrame:
    """Share of runs (seeds) with each outcome per value of ``x`` (and series).

    Columns: the keys, ``mirror``, ``anti-mirror``, ``neither`` (shares summing to 1),
    ``n_runs``, and each share's 95 % Wilson interval as ``<outcome>_low`` and
    ``<outcome>_high`` (:func:`dyad.analysis.share_interval`).
    """
    require(runs, (x,), "runs")
    keys = ([series] if series else []) + [x]
    frame = runs[keys].copy()
    frame["outcome"] = pd.Categorical(
        run_outcomes(runs, classes, threshold).to_numpy(), categories=list(OUTCOMES)
    )
    counts = frame.groupby(keys + ["outcome"], observed=False, sort=True).size().unstack("outcome")
    counts = counts[counts.sum(axis=1) > 0]
    n_runs = counts.sum(axis=1)
    shares = counts.div(n_runs, axis=0)
    shares["n_runs"] = n_runs
    for outcome in OUTCOMES:
        low, high = share_interval(counts[outcome].to_numpy(), n_runs.to_numpy())
        shares[f"{outcome}_low"], shares[f"{outcome}_high"] = low, high
    return shares.reset_index().rename_axis(columns=None)


def plot_outcome_shares(
    runs: pd.DataFrame,
    x: str,
    path: str | os.PathLike,
    formats: Sequence[str] = ("png",),
    **options: Any,
) -> list[Path]:
    """Draw :func:`draw_outcome_shares` and write it once per format; return the paths.

    ``options`` are that function's keywords (``series``, ``classes``, ``threshold``,
    ``title``).
    """
    return draw_and_save(partial(draw_outcome_shares, runs, x, **options), path, formats)


def draw_outcome_shares(
    runs: pd.DataFrame,
    x: str,
    *,
    series: str | None = None,
    classes: Sequence[str] | None = None,
    threshold: float = 0.5,
    title: str | None = None,
    max_gap: float | None = None,
):
    """Share of seeds ending mirror-dominant, anti-mirror-dominant or neither, against ``x``.

    Outcomes are per run (:func:`run_outcomes`): single runs tend to be all-or-none (model.md
    §9.6), so the smooth quantity is the share of seeds. Without a series one panel holds the
    three outcomes; with a ``series`` column (used automatically when present) there is one
    panel per outcome with the series overlaid. Points of ``x`` more than ``max_gap`` apart
    are not joined (:func:`x_segments`). Returns the :class:`matplotlib.figure.Figure`.
    """
    series = _sweep_series(runs, series)
    shares = outcome_shares(runs, x, series, classes, threshold)
    note = seeds_note(shares["n_runs"].to_numpy())
    if series is None and not is_numeric_axis(runs[x]):
        return _draw_outcome_bars(shares, x, categories(runs[x]), title)
    if series is None:
        figure = new_figure(4.9, 2.7 + (0.3 if title else 0))
        axes = figure.add_subplot()
        shares = _broken(shares, x, max_gap)
        xs = shares[x].to_numpy(dtype=float)
        markers = {"mirror": "o", "anti-mirror": "s", "neither": "^"}
        for outcome in OUTCOMES:
            axes.plot(
                xs,
                shares[outcome],
                color=OUTCOME_COLOURS[outcome],
                marker=markers[outcome],
                label=_OUTCOME_LABELS[outcome],
            )
            if outcome != "neither":  # the two shares the claims are about
                axes.fill_between(
                    xs,
                    shares[f"{outcome}_low"],
                    shares[f"{outcome}_high"],
                    color=OUTCOME_COLOURS[outcome],
                    alpha=0.13,
                    linewidth=0,
                )
        nest_lines(axes, [OUTCOME_COLOURS[outcome] for outcome in OUTCOMES])
        axes.set_ylim(-0.03, 1.03)
        axes.set_xlabel(axis_label(x))
        axes.set_ylabel("share of seeds")
        axes.legend(
            loc="center left",
            bbox_to_anchor=(1.0, 0.5),
            title=f"{note}\nbands: 95 % interval of the\nmirror- and anti-mirror-dominant\nshares",
            title_fontsize=7.5,
        )
    else:
        names = categories(runs[series])
        figure = new_figure(7.0, 2.5 + (0.3 if title else 0))
        panels = figure.subplots(1, len(OUTCOMES), sharex=True, sharey=True)
        for axes, outcome in zip(panels, OUTCOMES, strict=True):
            for i, name in enumerate(names):
                part = _broken(shares[shares[series].astype(str) == name], x, max_gap)
                colour, linestyle, marker = series_style(i)
                axes.plot(
                    part[x].to_numpy(dtype=float),
                    part[outcome],
                    color=colour,
                    linestyle=linestyle,
                    marker=marker,
                    markersize=3.5,
                    linewidth=1.4,
                    label=name,
                )
                axes.fill_between(
                    part[x].to_numpy(dtype=float),
                    part[f"{outcome}_low"],
                    part[f"{outcome}_high"],
                    color=colour,
                    alpha=0.12,
                    linewidth=0,
                )
            axes.set_title(_OUTCOME_LABELS[outcome], color=OUTCOME_COLOURS[outcome])
            axes.set_xlabel(axis_label(x))
            axes.set_ylim(-0.03, 1.03)
        panels[0].set_ylabel("share of seeds")
        handles, names_shown = panels[0].get_legend_handles_labels()
        figure.legend(
            handles,
            names_shown,
            loc="outside lower center",
            ncols=len(names_shown),
            title=f"{series} ({note}; bands: 95 % interval)",
            title_fontsize=8.5,
        )
    if title:
        set_title(figure, title)
    return figure


def _draw_outcome_bars(shares: pd.DataFrame, x: str, names: Sequence[str], title: str | None):
    """Outcome shares per value of a label axis: one bar of seeds per value, split by outcome."""
    figure = new_figure(5.4, 1.3 + 0.45 * len(names) + (0.3 if title else 0))
    axes = figure.add_subplot()
    rows = shares.assign(**{x: shares[x].astype(str)}).set_index(x).loc[list(names)]
    ys = np.arange(len(names))
    left = np.zeros(len(names))
    for outcome in OUTCOMES:
        share = rows[outcome].to_numpy(dtype=float)
        axes.barh(
            ys,
            share,
            left=left,
            height=0.6,
            color=OUTCOME_COLOURS[outcome],
            label=_OUTCOME_LABELS[outcome],
        )
        for y, start, part, n in zip(ys, left, share, rows["n_runs"], strict=True):
            if part >= 0.1:  # the count of seeds inside its segment, where it fits
                axes.text(
                    start + part / 2,
                    y,
                    f"{round(part * n)}/{int(n)}",
                    ha="center",
                    va="center",
                    color="white",
                    fontsize=8,
                )
        left += share
    # the mirror-dominant share's 95 % interval, around the end of its segment
    mirror = rows["mirror"].to_numpy(dtype=float)
    axes.errorbar(
        mirror,
        ys - 0.2,  # near the bar's top edge, clear of the counts
        xerr=np.vstack([mirror - rows["mirror_low"], rows["mirror_high"] - mirror]).clip(min=0),
        fmt="none",
        ecolor="#222222",
        elinewidth=1.0,
        capsize=3,
        label="95 % interval of the\nmirror-dominant share",
    )
    axes.set_yticks(ys, [str(name) for name in names])
    axes.invert_yaxis()  # the first value on top, as listed in the grid
    axes.set_xlim(0, 1)
    axes.set_xlabel("share of seeds")
    axes.set_ylabel(axis_label(x))
    axes.legend(
        loc="center left", bbox_to_anchor=(1.0, 0.5), title="seeds' outcome", title_fontsize=7.5
    )
    if title:
        set_title(figure, title)
    return figure
