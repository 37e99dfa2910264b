"""What every dyad figure shares: style, colours, formats, saving, table checks, titles.

Every plotting function of :mod:`dyad.analysis.figures` takes tidy DataFrames, writes one file
per requested format (``formats=("png",)`` by default; ``"svg"`` and ``"pdf"`` on request) and
returns the paths it wrote. ``path`` names the figure without or with a format suffix:
``figures/firing_rates`` and ``figures/firing_rates.png`` both give
``figures/firing_rates.<format>``. Each ``plot_*`` function has a ``draw_*`` twin that returns
the :class:`matplotlib.figure.Figure` without saving it, so tests and notebooks can inspect
titles, limits and panels.

Figures use one style (:data:`STYLE`): seaborn's "ticks" look at paper scale,
colourblind-safe colours (one fixed colour per neuron class and per expression, shared by all
figures), viridis for firing rates, 200 dpi PNG (twice a screen's 96 dpi, sharp on
high-density displays; for print ask for ``pdf`` or ``svg``, which are vector), editable text
in SVG/PDF and no timestamps, so the same tables give the same files. matplotlib is imported
inside the functions (it is slow to import) and figures are drawn on
:class:`matplotlib.figure.Figure` objects with no pyplot state, so plotting is safe in worker
processes and never opens a window.
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
    "steps": "run length (timesteps)",
    "policy": "parent's policy",
}
SERIES_STYLES = (
    ("#222222", "-", "o"),
    ("#d55e00", "--", "s"),
    ("#0173b2", ":", "^"),
    ("#029e73", "-.", "D"),
)


# --------------------------------------------------------------------------------------------
# shared helpers


def require(table: pd.DataFrame, columns: Sequence[str], what: str) -> None:
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


def output_paths(path: str | os.PathLike, formats: Sequence[str]) -> list[Path]:
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
#: 200 dpi PNGs, editable text in SVG/PDF and a fixed SVG id salt for reproducible files.
#: At 300 dpi a run's three PNGs took 0.99 s to draw and write against 0.77 s at 200 (quiet
#: machine): over a fifth of a warm ``dyad simulate``, for pixels a screen does not show.
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
    "savefig.dpi": 200,
    "svg.fonttype": "none",
    "svg.hashsalt": "dyad",
    "pdf.fonttype": 42,
}


@contextmanager
def style() -> Iterator[None]:
    """Apply :data:`STYLE` inside the block only (no global state changes)."""
    import matplotlib

    with matplotlib.rc_context(STYLE):
        yield


def new_figure(width: float, height: float):
    """Return a matplotlib Figure of ``width`` × ``height`` inches with constrained layout.

    A bare :class:`~matplotlib.figure.Figure` (not pyplot), so drawing needs no GUI backend
    and leaves no global state behind.
    """
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def set_title(figure, title: str) -> None:
    """Give ``figure`` the title ``title``, wrapped so that no line is wider than the figure.

    Figures are saved at their own size (:func:`save`), so a title wider than the figure would
    be cut at both edges. Lines break at the title's " · " separators where it has them, else
    at spaces; a character is taken as 0.58 of the font size wide (sans-serif text averages
    about 0.5, so the estimate errs on the safe side).
    """
    import matplotlib
    from matplotlib.font_manager import FontProperties

    size = FontProperties(size=matplotlib.rcParams["figure.titlesize"]).get_size_in_points()
    max_chars = max(16, int(figure.get_figwidth() * 72 / (0.58 * size)))
    figure.suptitle(wrap_title(title, max_chars))


def wrap_title(title: str, max_chars: int) -> str:
    """Return ``title`` on lines of at most ``max_chars`` characters where it can be broken.

    Breaks go at " · " separators first (the separator is dropped at a break), then at
    spaces; a single word longer than a line stays whole.
    """
    import textwrap

    lines: list[str] = []
    for part in title.split(" · "):
        if lines and len(lines[-1]) + 3 + len(part) <= max_chars:
            lines[-1] += " · " + part
        else:
            lines.extend(textwrap.wrap(part, max_chars, break_long_words=False) or [part])
    return "\n".join(lines)


#: per format: metadata that would make files differ between identical runs, left out
_METADATA = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}
#: fast PNG compression: about a third of the encoding time of the default level, files
#: ~15 % larger (a run's figures are written once and mostly looked at on screen)
_PNG_OPTIONS = {"compress_level": 1}


def save(figure, path: str | os.PathLike, formats: Sequence[str]) -> list[Path]:
    """Write ``figure`` once per format (parents created); return the paths written.

    The figure is saved at its own size: its constrained layout already keeps titles, labels
    and outside legends inside it, so a tight bounding box (which draws the figure an extra
    time per file) would only trim a few pixels of margin.
    """
    paths = output_paths(path, formats)
    paths[0].parent.mkdir(parents=True, exist_ok=True)
    for target in paths:
        fmt = target.suffix[1:]
        options = {"pil_kwargs": _PNG_OPTIONS} if fmt == "png" else {}
        figure.savefig(target, format=fmt, metadata=_METADATA[fmt], **options)
        log.debug("wrote %s", target)
    return paths


def categories(values: pd.Series) -> list[str]:
    """Distinct values in a meaningful order: categorical order, else first appearance."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        # through the integer codes: converting every value to str costs ~0.5 s per 100,000
        used = np.unique(values.cat.codes.to_numpy())
        return [str(values.cat.categories[code]) for code in used if code >= 0]
    return [str(v) for v in pd.unique(values.dropna())]


def axis_label(name: str) -> str:
    """Return the axis label of a column: its entry in ``AXIS_LABELS``, else its words."""
    return AXIS_LABELS.get(name, name.replace("_", " "))


def expression_colours(expressions: Sequence[str]) -> dict[str, str]:
    """Return one colour per expression, in order, so every figure colours them alike."""
    return {e: EXPRESSION_COLOURS[i % len(EXPRESSION_COLOURS)] for i, e in enumerate(expressions)}


def mirror_shades(expressions: Sequence[str]) -> dict[str, tuple[float, float, float]]:
    """Shades of the mirror colour, one per expression, from full colour towards white."""
    from matplotlib.colors import to_rgb

    base = np.array(to_rgb(CLASS_COLOURS["mirror"]))
    lightness = np.linspace(0.0, 0.55, max(len(expressions), 2))
    return {
        e: tuple(float(v) for v in base + (1.0 - base) * lightness[i])
        for i, e in enumerate(expressions)
    }


def series_style(index: int) -> tuple[str, str, str]:
    """Colour, line style and marker of the ``index``-th overlaid series."""
    return SERIES_STYLES[index % len(SERIES_STYLES)]


def nest_lines(axes, colours: Sequence[str]) -> None:
    """Draw each colour's lines thinner, with smaller markers and above the colours before it.

    In one panel several classes or outcomes often share a value (0 at most points of a
    sweep); drawn alike, the last line would hide the others. Nested, a line shows inside a
    wider one and a marker inside a larger one. The legend's handles are restyled too.
    """
    widths = np.linspace(2.2, 0.8, len(colours)) if len(colours) > 1 else [1.4]
    sizes = np.linspace(4.8, 2.6, len(colours)) if len(colours) > 1 else [3.5]
    rank = {_rgba(colour): i for i, colour in enumerate(colours)}
    for line in axes.get_lines():
        i = rank.get(_rgba(line.get_color()))
        if i is not None:
            line.set_linewidth(widths[i])
            line.set_markersize(sizes[i])
            line.set_zorder(2.1 + 0.1 * i)


def _rgba(colour: Any) -> tuple[float, ...]:
    """``colour`` as an RGBA tuple, so hex strings and tuples compare equal."""
    from matplotlib.colors import to_rgba

    return tuple(round(v, 4) for v in to_rgba(colour))


def draw_and_save(draw, path: str | os.PathLike, formats: Sequence[str]) -> list[Path]:
    """Check the formats, draw inside :data:`STYLE` (``draw()`` -> Figure) and save the figure.

    The formats are checked before drawing, so a typo costs no drawing time.
    """
    output_paths(path, formats)
    with style():
        figure = draw()
        return save(figure, path, formats)


def run_title(
    scenario: str | None, seed: int | None, congruence: float | None, what: str | None = None
) -> str:
    """``"perfect · seed 1 · c = 1.00"``: what tells two runs' figures apart at a glance.

    ``what`` (e.g. ``"mirror-layer firing rates"``) leads the title when given. Missing parts
    are left out rather than printed as "None".
    """
    parts = [str(scenario)] if scenario else []
    if seed is not None:
        parts.append(f"seed {seed}")
    if congruence is not None and np.isfinite(congruence):
        parts.append(f"c = {congruence:.2f}")
    run = " · ".join(parts)
    if what:
        return f"{what}: {run}" if run else what
    return run


def seeds_note(counts: Sequence[int] | np.ndarray) -> str:
    """``"n = 5 seeds per point"`` or ``"n = 5–10 seeds per point"``."""
    counts = np.asarray(counts)
    low, high = int(counts.min()), int(counts.max())
    if low == high:
        return f"n = {low} seed{'s' if low != 1 else ''} per point"
    return f"n = {low}–{high} seeds per point"
