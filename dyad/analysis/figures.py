"""Publication figures from a run's tidy tables (model.md §10, figures a–c).

Every plotting function takes tidy DataFrames, writes one file per requested format
(``formats=("png",)`` by default; ``"svg"`` and ``"pdf"`` on request) and returns the paths it
wrote. ``path`` names the figure without or with a format suffix: ``figures/firing_rates`` and
``figures/firing_rates.png`` both give ``figures/firing_rates.<format>``.

Figures use one style (:data:`STYLE`): seaborn's "ticks" look at paper scale,
colourblind-safe colours (one fixed colour per neuron class and per expression, shared by all
figures), viridis for firing rates, 300 dpi PNG, editable text in SVG/PDF and no timestamps,
so the same tables give the same files. matplotlib is imported inside the functions (it is slow
to import) and figures are drawn on :class:`matplotlib.figure.Figure` objects with no pyplot
state, so plotting is safe in worker processes and never opens a window.

Sweep figures (class counts against q, L or c, mean ± SD across seeds) are drawn with seaborn's
``lineplot``, which aggregates the tidy one-row-per-run table itself. The figures every single
run writes use matplotlib alone: importing seaborn costs 1.5 s idle and several seconds on a
busy machine, which would dominate a run of a few seconds.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dyad.analysis import NEURON_CLASSES
from dyad.errors import ResultsError

log = logging.getLogger(__name__)

#: Neuron classes of model.md §11.3, in the order figures show them.
CLASS_ORDER: tuple[str, ...] = NEURON_CLASSES
#: One colour per class (seaborn "colorblind" palette); mirror sub-blocks use shades of blue.
CLASS_COLOURS: dict[str, str] = {
    "mirror": "#0173b2",
    "anti-mirror": "#d55e00",
    "visual-only": "#029e73",
    "motor-only": "#cc78bc",
    "bimodal-unselective": "#de8f05",
    "unselective": "#949494",
}
#: Expression colours (Okabe–Ito), assigned in the run's expression order.
EXPRESSION_COLOURS: tuple[str, ...] = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#CC79A7",
    "#0072B2",
    "#D55E00",
    "#F0E442",
)
#: Outcome of a run (which class dominates the mirror layer) and its colour.
OUTCOMES: tuple[str, ...] = ("mirror", "anti-mirror", "neither")
OUTCOME_COLOURS: dict[str, str] = {
    "mirror": CLASS_COLOURS["mirror"],
    "anti-mirror": CLASS_COLOURS["anti-mirror"],
    "neither": "#7f7f7f",
}
FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
#: Axis labels for the usual sweep variables.
AXIS_LABELS: dict[str, str] = {
    "q": "share of opposite expressions, q",
    "lag": "lag L (timesteps)",
    "congruence": "congruence c",
    "learning_rate": "learning rate α",
}
_SERIES_STYLES = (
    ("#222222", "-", "o"),
    ("#d55e00", "--", "s"),
    ("#0173b2", ":", "^"),
    ("#029e73", "-.", "D"),
)
_TEST_COLUMNS = ("phase", "condition", "expression", "neuron", "rate")
_NEURON_COLUMNS = (
    "neuron",
    "neuron_class",
    "preferred_visual",
    "preferred_motor",
    "d_visual",
    "d_motor",
)
_PHASE_TITLES = {"before": "before training", "after": "after training"}
_CONDITION_WORDS = {"visual": "seen", "motor": "produced"}


# --------------------------------------------------------------------------------------------
# shared helpers


def _require(table: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """Raise :class:`ResultsError` naming every column of ``columns`` missing from ``table``."""
    if not isinstance(table, pd.DataFrame):
        raise ResultsError(f"{what}: expected a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        names = ", ".join(repr(c) for c in missing)
        raise ResultsError(
            f"{what}: missing column(s) {names} (has: {', '.join(map(str, table.columns))})"
        )
    if table.empty:
        raise ResultsError(f"{what}: the table is empty")


def _output_paths(path: str | os.PathLike, formats: Sequence[str]) -> list[Path]:
    """One output path per format; a known format suffix on ``path`` is replaced."""
    if isinstance(formats, str):
        formats = (formats,)
    formats = [f.lower().lstrip(".") for f in formats]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ValueError(f"formats: expected some of {FORMATS}, got {tuple(formats)}")
    path = Path(path)
    if path.suffix.lower().lstrip(".") in FORMATS:
        path = path.with_suffix("")
    return [path.with_name(f"{path.name}.{fmt}") for fmt in dict.fromkeys(formats)]


#: The figure style: seaborn's "ticks" axes style at its "paper" scale (×1.15), written out
#: so that the per-run figures need not import seaborn (which pulls in pyplot and scipy.stats:
#: about 1.5 s idle and over 10 s on a busy 2-core machine), plus open top/right spines,
#: 300 dpi PNGs, editable text in SVG/PDF and a fixed SVG id salt for reproducible files.
STYLE: dict[str, Any] = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "axes.edgecolor": ".15",
    "axes.labelcolor": ".15",
    "axes.linewidth": 1.0,
    "axes.axisbelow": True,
    "axes.grid": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "axes.labelsize": 9.5,
    "text.color": ".15",
    "font.family": ["sans-serif"],
    "font.sans-serif": ["Arial", "DejaVu Sans", "Liberation Sans", "sans-serif"],
    "font.size": 9.5,
    "xtick.color": ".15",
    "ytick.color": ".15",
    "xtick.direction": "out",
    "ytick.direction": "out",
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "xtick.major.size": 4.8,
    "ytick.major.size": 4.8,
    "xtick.major.width": 1.0,
    "ytick.major.width": 1.0,
    "lines.linewidth": 1.2,
    "lines.markersize": 4.8,
    "lines.solid_capstyle": "round",
    "patch.linewidth": 0.8,
    "legend.fontsize": 8.5,
    "legend.title_fontsize": 8.5,
    "legend.frameon": False,
    "image.interpolation": "nearest",
    "savefig.dpi": 300,
    "svg.fonttype": "none",
    "svg.hashsalt": "dyad",
    "pdf.fonttype": 42,
}


@contextmanager
def _style() -> Iterator[None]:
    """Apply :data:`STYLE` inside the block only (no global state changes)."""
    import matplotlib

    with matplotlib.rc_context(STYLE):
        yield


def _new_figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _save(figure, path: str | os.PathLike, formats: Sequence[str]) -> list[Path]:
    """Write ``figure`` once per format (parents created); return the paths written."""
    paths = _output_paths(path, formats)
    paths[0].parent.mkdir(parents=True, exist_ok=True)
    for target in paths:
        fmt = target.suffix[1:]
        metadata = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}
        figure.savefig(
            target, format=fmt, metadata=metadata[fmt], bbox_inches="tight", pad_inches=0.04
        )
        log.debug("wrote %s", target)
    return paths


def _categories(values: pd.Series) -> list[str]:
    """Distinct values in a meaningful order: categorical order, else first appearance."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        present = set(values.dropna().astype(str))
        return [str(c) for c in values.cat.categories if str(c) in present]
    return [str(v) for v in pd.unique(values.dropna())]


def _axis_label(name: str) -> str:
    return AXIS_LABELS.get(name, name.replace("_", " "))


def _expression_colours(expressions: Sequence[str]) -> dict[str, str]:
    return {e: EXPRESSION_COLOURS[i % len(EXPRESSION_COLOURS)] for i, e in enumerate(expressions)}


def _mirror_shades(expressions: Sequence[str]) -> dict[str, tuple[float, float, float]]:
    """Shades of the mirror colour, one per expression, from full colour towards white."""
    from matplotlib.colors import to_rgb

    base = np.array(to_rgb(CLASS_COLOURS["mirror"]))
    lightness = np.linspace(0.0, 0.55, max(len(expressions), 2))
    return {
        e: tuple(float(v) for v in base + (1.0 - base) * lightness[i])
        for i, e in enumerate(expressions)
    }


# --------------------------------------------------------------------------------------------
# neuron ordering (pure, tested on its own)


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
    _require(neurons, _NEURON_COLUMNS, "neurons")
    if "phase" in neurons.columns and neurons["phase"].nunique() > 1:
        raise ResultsError(
            "neurons: holds several phases "
            f"({', '.join(_categories(neurons['phase']))}); select one phase to order"
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
        found = _categories(neurons["preferred_visual"]) + _categories(neurons["preferred_motor"])
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


def _group_colours(expressions: Sequence[str]) -> dict[str, Any]:
    colours: dict[str, Any] = {f"mirror: {e}": c for e, c in _mirror_shades(expressions).items()}
    colours.update(CLASS_COLOURS)
    return colours


# --------------------------------------------------------------------------------------------
# figure (a): firing rates before and after training


def condition_means(
    test_responses: pd.DataFrame, expressions: Sequence[str] | None = None
) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Mean test rate per phase: rows = (condition, expression), columns = neuron ids.

    Rows run visual × each expression, then motor × each expression. Returns
    ``({phase: (2·S, n_neurons) DataFrame}, expressions)``.
    """
    _require(test_responses, _TEST_COLUMNS, "test_responses")
    if expressions is None:
        expressions = _categories(test_responses["expression"])
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
    for phase in _categories(test_responses["phase"]):
        table = means.loc[phase].unstack("neuron")
        out[phase] = table.reindex(rows)
    return out, list(expressions)


def plot_firing_rates(
    test_responses: pd.DataFrame,
    neurons: pd.DataFrame,
    path: str | os.PathLike,
    formats: Sequence[str] = ("png",),
    *,
    expressions: Sequence[str] | None = None,
    title: str | None = None,
) -> list[Path]:
    """The poster's figure: mirror-layer rates before (left) and after (right) training.

    Each panel is a heat map with one row per test condition (seen × each expression, then
    produced × each expression), values = mean rate over trials on a fixed 0–1 colour scale,
    and one column per mirror-layer neuron, reordered by :func:`order_neurons` using that
    phase's own classification. A strip above each map marks the class blocks (mirror cells
    per expression, anti-mirror, visual-only, motor-only, bimodal-unselective, unselective);
    the legend gives each block's size per phase.

    ``test_responses``: ``phase``, ``condition`` ("visual"/"motor"), ``expression``, ``neuron``,
    ``rate`` (any trials); ``neurons``: ``phase``, ``neuron``, ``neuron_class``,
    ``preferred_visual``, ``preferred_motor``, ``d_visual``, ``d_motor``. Phases are drawn
    "before" then "after" (then any others). Returns the paths written.
    """
    _require(neurons, ("phase", *_NEURON_COLUMNS), "neurons")
    means, expressions = condition_means(test_responses, expressions)
    known = [p for p in _PHASE_TITLES if p in means]
    phases = known + [p for p in means if p not in known]
    missing_phases = [p for p in phases if p not in set(neurons["phase"].astype(str))]
    if missing_phases:
        raise ResultsError(f"neurons: no rows for phase(s) {missing_phases} of test_responses")

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
        panels.append((phase, rates[order].to_numpy(dtype=float), groups.to_numpy()))

    colours = _group_colours(expressions)
    group_order = [f"mirror: {e}" for e in expressions] + list(CLASS_ORDER[1:]) + ["mirror"]
    row_labels = [f"{_CONDITION_WORDS[c]} {e}" for c in ("visual", "motor") for e in expressions]

    counts_by_phase = {phase: pd.Series(groups).value_counts() for phase, _, groups in panels}
    shown = [g for g in group_order if any(g in c.index for c in counts_by_phase.values())]
    n_panels = len(panels)
    legend_columns = min(len(shown), 2 * n_panels)
    legend_rows = -(-len(shown) // legend_columns)
    heat_height = 0.3 * len(row_labels) + 0.1
    strip_height = 0.13
    figure_height = strip_height + heat_height + 1.05 + 0.2 * legend_rows

    with _style():
        from matplotlib.colors import ListedColormap
        from matplotlib.patches import Patch

        figure = _new_figure(3.4 * n_panels + 1.0, figure_height)
        grid = figure.add_gridspec(
            2,
            n_panels + 1,
            height_ratios=(strip_height, heat_height),
            width_ratios=[1] * n_panels + [0.035],
        )
        image = None
        for column, (phase, rates, groups) in enumerate(panels):
            strip = figure.add_subplot(grid[0, column])
            heat = figure.add_subplot(grid[1, column], sharex=strip)
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
            image = heat.imshow(
                rates, aspect="auto", cmap="viridis", vmin=0.0, vmax=1.0, interpolation="nearest"
            )
            n = rates.shape[1]
            boundaries = np.flatnonzero(groups[1:] != groups[:-1]) + 0.5
            for x in boundaries:
                heat.axvline(x, color="white", linewidth=0.8)
            heat.axhline(len(expressions) - 0.5, color="white", linewidth=1.2)
            heat.set_yticks(range(len(row_labels)))
            heat.set_yticklabels(row_labels if column == 0 else [])
            heat.tick_params(axis="y", length=0)
            heat.set_xticks([0, n - 1])
            heat.set_xticklabels(["1", str(n)])
            heat.set_xlabel("mirror-layer neurons, ordered by class")
            for side in ("top", "right", "left", "bottom"):
                heat.spines[side].set_visible(False)
        colourbar = figure.colorbar(image, cax=figure.add_subplot(grid[1, n_panels]))
        colourbar.set_label("mean firing rate")
        colourbar.outline.set_visible(False)
        colourbar.set_ticks([0, 0.5, 1])

        def legend_label(group: str) -> str:
            counts = " → ".join(str(int(counts_by_phase[p].get(group, 0))) for p, *_ in panels)
            return f"{group} ({counts})"

        handles = [
            Patch(facecolor=colours[g], edgecolor="none", label=legend_label(g)) for g in shown
        ]
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
            figure.suptitle(title)
        return _save(figure, path, formats)


# --------------------------------------------------------------------------------------------
# figure (b): single-cell information curves


def plot_information_curves(
    info: pd.DataFrame,
    path: str | os.PathLike,
    max_bits: float,
    formats: Sequence[str] = ("png",),
    *,
    hue: str | None = None,
    units: str | None = None,
    title: str | None = None,
) -> list[Path]:
    """Single-cell information against cell rank: trained solid, untrained dashed.

    ``info`` needs ``information`` (bits), ``network`` ("trained"/"untrained") and either
    ``cell_rank`` (0 = most informative) or ``cell``. With ``cell``, a cell's score is its
    maximum over the rows it has in a group (e.g. over ``stimulus`` rows from
    :func:`dyad.analysis.information.information_table`), and ranks are computed by sorting the
    scores in descending order. ``hue`` (e.g. ``"modality"``) colours separate curves;
    ``units`` (e.g. ``"seed"``) draws one thin curve per value. The y axis spans
    [−0.05, max_bits + 0.05], ``max_bits`` = log2(number of stimuli).
    """
    _require(info, ("information", "network"), "info")
    rank_column = "cell_rank" if "cell_rank" in info.columns else "cell"
    if rank_column not in info.columns:
        raise ResultsError("info: missing column 'cell_rank' (or 'cell' to rank by information)")
    for extra in (hue, units):
        if extra is not None:
            _require(info, (extra,), "info")
    if not np.isfinite(max_bits) or max_bits <= 0:
        raise ValueError(f"max_bits: expected a positive number of bits, got {max_bits!r}")
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

    networks = [n for n in ("trained", "untrained") if n in {c[0]["network"] for c in curves}]
    networks += [n for n in dict.fromkeys(c[0]["network"] for c in curves) if n not in networks]
    dashes = {n: (0, ()) if i == 0 else (0, (4, 2)) for i, n in enumerate(networks)}
    dashes.update({"trained": (0, ()), "untrained": (0, (4, 2))})
    hues = list(dict.fromkeys(c[0][hue] for c in curves)) if hue else []
    hue_colours = {
        h: c for h, c in zip(hues, ("#0173b2", "#d55e00", "#029e73", "#cc78bc"), strict=False)
    }
    with _style():
        from matplotlib.lines import Line2D

        figure = _new_figure(4.8, 2.7)
        axes = figure.add_subplot()
        for labels, ranks, scores in curves:
            colour = hue_colours.get(labels.get(hue), "#222222") if hue else "#222222"
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
        n_cells = max(int(np.max(r)) + 1 for _, r, _ in curves)
        axes.set_xlim(0, n_cells)
        axes.set_ylim(-0.05, max_bits + 0.05)
        axes.set_xlabel("cell rank")
        axes.set_ylabel("information (bits)")
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
        handles += [Line2D([], [], color=hue_colours[h], label=h) for h in hues]
        axes.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5))
        if title:
            axes.set_title(title)
        return _save(figure, path, formats)


# --------------------------------------------------------------------------------------------
# figure (c): sweeps


def _sweep_series(runs: pd.DataFrame, series: str | None) -> str | None:
    if series is None and "series" in runs.columns:
        series = "series"
    if series is not None:
        _require(runs, (series,), "runs")
    return series


def _class_columns(runs: pd.DataFrame, classes: Sequence[str] | None) -> list[str]:
    if classes is None:
        classes = [c for c in CLASS_ORDER if c in runs.columns]
        if not classes:
            raise ResultsError(
                f"runs: no neuron-class columns; expected some of {list(CLASS_ORDER)}"
            )
    else:
        _require(runs, classes, "runs")
    return list(classes)


#: seaborn dash patterns for the line styles of :data:`_SERIES_STYLES`
_DASHES = {"-": "", "--": (4, 2), ":": (1, 1.5), "-.": (4, 1.5, 1, 1.5)}


def _series_style(index: int) -> tuple[str, str, str]:
    return _SERIES_STYLES[index % len(_SERIES_STYLES)]


def plot_class_counts(
    runs: pd.DataFrame,
    x: str,
    path: str | os.PathLike,
    formats: Sequence[str] = ("png",),
    *,
    classes: Sequence[str] | None = None,
    series: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
) -> list[Path]:
    """Neuron-class counts (or fractions) against a swept variable: mean ± SD across seeds.

    ``runs`` has one row per run: the column ``x`` (e.g. ``q``, ``lag``, ``congruence``),
    usually ``seed``, and one column per neuron class (counts or fractions; by default every
    column named after a class in :data:`CLASS_ORDER`). Without a series, one panel shows
    every class in its colour, the band spanning ± 1 SD. With a ``series`` column (used
    automatically when ``runs`` has one, e.g. "noise"/"lag" pooled by congruence) there is one
    panel per class and the series are overlaid, so coinciding curves are easy to judge.
    """
    _require(runs, (x,), "runs")
    classes = _class_columns(runs, classes)
    series = _sweep_series(runs, series)
    if series is not None:  # series values are labels: compare them as text
        names = _categories(runs[series])
        runs = runs.assign(**{series: runs[series].astype(str)})
    keys = ([series] if series else []) + [x]
    stats = runs.groupby(keys, observed=True, sort=True)[classes].agg(["mean", "std", "count"])
    values = runs[classes].to_numpy(dtype=float)
    fractions = bool(np.nanmax(values) <= 1.0 and not np.all(np.mod(values, 1) == 0))
    ylabel = ylabel or ("fraction of neurons" if fractions else "neurons")
    n_seeds = stats.xs("count", axis=1, level=1).to_numpy()
    seeds_note = (
        f"n = {int(n_seeds.min())} seeds per point"
        if n_seeds.min() == n_seeds.max()
        else f"n = {int(n_seeds.min())}–{int(n_seeds.max())} seeds per point"
    )

    import seaborn as sns

    # tidy: one row per run and class; seaborn draws mean ± SD across the seeds of each point
    long = runs.melt(id_vars=keys, value_vars=classes, var_name="neuron_class", value_name="value")
    line = {"marker": "o", "markersize": 3.5, "linewidth": 1.4, "markeredgewidth": 0}
    band = {"alpha": 0.18, "linewidth": 0}

    with _style():
        if series is None:
            figure = _new_figure(5.0, 2.9)
            axes = figure.add_subplot()
            sns.lineplot(
                data=long,
                x=x,
                y="value",
                hue="neuron_class",
                hue_order=classes,
                palette={name: CLASS_COLOURS.get(name, "#222222") for name in classes},
                errorbar="sd",
                err_kws=band,
                ax=axes,
                **line,
            )
            axes.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), title=None)
            axes.set_xlabel(_axis_label(x))
            axes.set_ylabel(ylabel)
            axes.set_ylim(bottom=0)
            axes.set_title(title or seeds_note, fontsize=9 if not title else None)
        else:
            n_cols = min(3, len(classes))
            n_rows = -(-len(classes) // n_cols)
            figure = _new_figure(2.3 * n_cols + 0.4, 1.9 * n_rows + 0.5)
            panels = figure.subplots(n_rows, n_cols, sharex=True, sharey=True, squeeze=False)
            styles = [_series_style(i) for i in range(len(names))]
            for index, (axes, name) in enumerate(zip(panels.flat, classes, strict=False)):
                sns.lineplot(
                    data=long[long["neuron_class"] == name],
                    x=x,
                    y="value",
                    hue=series,
                    hue_order=names,
                    style=series,
                    style_order=names,
                    palette=[colour for colour, _, _ in styles],
                    markers=[marker for _, _, marker in styles],
                    dashes=[_DASHES.get(linestyle, "") for _, linestyle, _ in styles],
                    errorbar="sd",
                    err_kws=band,
                    legend=index == 0,
                    ax=axes,
                    **{k: v for k, v in line.items() if k != "marker"},
                )
                axes.set_title(name, color=CLASS_COLOURS.get(name, "#222222"))
                axes.set_ylim(bottom=0)
                axes.set_xlabel("")
                axes.set_ylabel("")
            for axes in panels.flat[len(classes) :]:
                axes.set_visible(False)
            for axes in panels[-1, :]:
                axes.set_xlabel(_axis_label(x))
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
                title=f"{series} ({seeds_note})",
                title_fontsize=8.5,
            )
            if title:
                figure.suptitle(title)
        return _save(figure, path, formats)


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
    _require(runs, ("mirror", "anti-mirror"), "runs")
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

    Columns: the keys, ``mirror``, ``anti-mirror``, ``neither`` (shares summing to 1) and
    ``n_runs``.
    """
    _require(runs, (x,), "runs")
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
    return shares.reset_index().rename_axis(columns=None)


def plot_outcome_shares(
    runs: pd.DataFrame,
    x: str,
    path: str | os.PathLike,
    formats: Sequence[str] = ("png",),
    *,
    series: str | None = None,
    classes: Sequence[str] | None = None,
    threshold: float = 0.5,
    title: str | None = None,
) -> list[Path]:
    """Share of seeds ending mirror-dominant, anti-mirror-dominant or neither, against ``x``.

    Outcomes are per run (:func:`run_outcomes`): single runs tend to be all-or-none (model.md
    §9.6), so the smooth quantity is the share of seeds. Without a series one panel holds the
    three outcomes; with a ``series`` column (used automatically when present) there is one
    panel per outcome with the series overlaid.
    """
    series = _sweep_series(runs, series)
    shares = outcome_shares(runs, x, series, classes, threshold)
    n = shares["n_runs"]
    seeds_note = (
        f"n = {int(n.min())} seeds per point"
        if n.min() == n.max()
        else f"n = {int(n.min())}–{int(n.max())} seeds per point"
    )
    labels = {
        "mirror": "mirror-dominant",
        "anti-mirror": "anti-mirror-dominant",
        "neither": "neither",
    }
    with _style():
        if series is None:
            figure = _new_figure(4.9, 2.7)
            axes = figure.add_subplot()
            xs = shares[x].to_numpy(dtype=float)
            markers = {"mirror": "o", "anti-mirror": "s", "neither": "^"}
            for outcome in OUTCOMES:
                axes.plot(
                    xs,
                    shares[outcome],
                    color=OUTCOME_COLOURS[outcome],
                    marker=markers[outcome],
                    markersize=3.5,
                    linewidth=1.4,
                    label=labels[outcome],
                )
            axes.set_ylim(-0.03, 1.03)
            axes.set_xlabel(_axis_label(x))
            axes.set_ylabel("share of seeds")
            axes.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
            axes.set_title(title or seeds_note, fontsize=9 if not title else None)
        else:
            names = _categories(runs[series])
            figure = _new_figure(7.0, 2.5)
            panels = figure.subplots(1, len(OUTCOMES), sharex=True, sharey=True)
            for axes, outcome in zip(panels, OUTCOMES, strict=True):
                for i, name in enumerate(names):
                    part = shares[shares[series].astype(str) == name]
                    colour, linestyle, marker = _series_style(i)
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
                axes.set_title(labels[outcome], color=OUTCOME_COLOURS[outcome])
                axes.set_xlabel(_axis_label(x))
                axes.set_ylim(-0.03, 1.03)
            panels[0].set_ylabel("share of seeds")
            handles, names_shown = panels[0].get_legend_handles_labels()
            figure.legend(
                handles,
                names_shown,
                loc="outside lower center",
                ncols=len(names_shown),
                title=f"{series} ({seeds_note})",
                title_fontsize=8.5,
            )
            if title:
                figure.suptitle(title)
        return _save(figure, path, formats)


# --------------------------------------------------------------------------------------------
# interaction timeline


def plot_interaction(
    interaction: pd.DataFrame,
    path: str | os.PathLike,
    formats: Sequence[str] = ("png",),
    *,
    n_steps: int = 200,
    expressions: Sequence[str] | None = None,
    title: str | None = None,
) -> list[Path]:
    """A timeline of the first ``n_steps`` timesteps of the infant–parent interaction.

    Top: one band each for the infant's and the parent's expression (colour = expression) and
    a band marking congruent timesteps (parent shows what the infant makes). Bottom: the
    mirror layer's mean firing rate. ``interaction`` needs ``t``, ``infant_expression``,
    ``parent_expression``, ``congruent`` and ``mirror_mean_rate``.
    """
    columns = ("t", "infant_expression", "parent_expression", "congruent", "mirror_mean_rate")
    _require(interaction, columns, "interaction")
    if n_steps < 1:
        raise ValueError(f"n_steps: expected a positive number of timesteps, got {n_steps}")
    part = interaction.sort_values("t", kind="stable").head(n_steps)
    if expressions is None:
        expressions = list(
            dict.fromkeys(
                _categories(interaction["infant_expression"])
                + _categories(interaction["parent_expression"])
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
    t = part["t"].to_numpy(dtype=float)
    congruent = part["congruent"].to_numpy(dtype=bool)
    rate = part["mirror_mean_rate"].to_numpy(dtype=float)
    colours = _expression_colours(expressions)
    step = float(np.median(np.diff(t))) if t.size > 1 else 1.0
    extent = (t[0] - step / 2, t[-1] + step / 2)

    with _style():
        from matplotlib.colors import ListedColormap
        from matplotlib.patches import Patch

        figure = _new_figure(7.0, 2.9)
        grid = figure.add_gridspec(2, 1, height_ratios=(1.0, 1.5))
        top = figure.add_subplot(grid[0])
        bottom = figure.add_subplot(grid[1], sharex=top)
        cmap = ListedColormap([colours[e] for e in expressions])
        for row, band in enumerate(bands):
            top.imshow(
                band[None, :],
                aspect="auto",
                cmap=cmap,
                vmin=-0.5,
                vmax=len(expressions) - 0.5,
                extent=(extent[0], extent[1], row + 0.38, row - 0.38),
            )
        top.imshow(
            np.where(congruent, 1.0, np.nan)[None, :],
            aspect="auto",
            cmap=ListedColormap(["#333333"]),
            extent=(extent[0], extent[1], 2.3, 1.7),
        )
        top.set_ylim(2.45, -0.5)
        top.set_yticks([0, 1, 2])
        top.set_yticklabels(["infant", "parent", "congruent"])
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
        bottom.plot(t, rate, color="#222222", linewidth=1.2)
        bottom.set_xlim(*extent)
        # rates are sigmoid outputs: a fixed 0-1 scale keeps runs comparable
        bottom.set_ylim(0, max(1.0, float(np.nanmax(rate)) * 1.05))
        bottom.set_ylabel("mirror layer\nmean rate")
        bottom.set_xlabel("timestep")
        note = f"congruence {congruent.mean():.2f} over the {t.size} timesteps shown"
        top.set_title(title or note, fontsize=9 if not title else None, loc="left")
        return _save(figure, path, formats)
