"""Reports of results folders: figures regenerated from the tables, plus the numbers behind them.

:func:`build_report` takes one or more results folders, each either a single run (a folder with
``manifest.json``, see :mod:`dyad.store`) or a sweep (a folder with ``sweep.json``, see
:mod:`dyad.sweeps`), and writes

- a self-contained HTML file (figures embedded as base64 PNG, so it can be mailed or archived
  on its own) or, for an output ending in ``.md``, a Markdown file linking the figure files;
- the figures as files next to it, in every requested format (``png``, ``svg``, ``pdf``).

For a run: firing rates before and after training (the poster's figure), single-cell
information curves (trained solid, untrained dashed), the first timesteps of the interaction,
the class counts per phase and the run's facts (scenario, seed, dyad version, timings).

For sweeps: class counts (mean ± SD across seeds) and the share of seeds whose mirror layer is
mirror-dominant, against each swept parameter (e.g. q, L) and against the measured congruence
c, with every given sweep pooled into one figure (noise and lag runs should fall on one curve
for a mirror layer without a trace, model.md §9.6). Congruence is rounded to bins of
``congruence_bin`` (0.05 by default) so that runs of the same nominal c are grouped.

Every folder is checked before anything is written: a path that is neither a run nor a sweep is
a one-line :class:`dyad.errors.ResultsError`.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import logging
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dyad import __version__
from dyad.analysis import NEURON_CLASSES, class_column
from dyad.errors import ConfigError, ResultsError
from dyad.provenance import describe as describe_provenance

log = logging.getLogger(__name__)

FORMATS = ("png", "svg", "pdf")
REPORT_NAME = "report.html"
#: sweep-table class columns (``count_anti_mirror``) back to class names (``anti-mirror``)
_CLASS_NAMES = NEURON_CLASSES


# --------------------------------------------------------------------------------------------
# what a results folder is


@dataclass
class _Results:
    kind: str  # "run" or "sweep"
    folder: Path
    data: Any  # RunResults or SweepResults


def detect_results(folder: str | os.PathLike) -> str:
    """``"sweep"`` (has ``sweep.json``) or ``"run"`` (has ``manifest.json``).

    Anything else is a :class:`ResultsError` naming the folder and what is missing
    (:func:`dyad.store.results_kind`, the one check of a results folder).
    """
    from dyad.store import results_kind

    return results_kind(folder)


def _open(folder: Path) -> _Results:
    from dyad.store import load_run
    from dyad.sweeps import load_sweep

    kind = detect_results(folder)
    if kind == "sweep":
        return _Results("sweep", folder, load_sweep(folder))
    return _Results("run", folder, load_run(folder))


# --------------------------------------------------------------------------------------------
# the report's content


@dataclass
class Figure:
    """One figure: its caption, its PNG (embedded in HTML) and every file written."""

    caption: str
    png: Path
    files: list[Path]


@dataclass
class Section:
    """A titled part of the report: paragraphs, tables (caption, DataFrame) and figures."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)


def build_report(
    results: Sequence[str | os.PathLike],
    output: str | os.PathLike | None = None,
    formats: Sequence[str] = ("png",),
    *,
    congruence_bin: float = 0.05,
) -> Path:
    """Write a report of ``results`` (run and/or sweep folders); return the report's path.

    Parameters
    ----------
    results:
        Result folders. Several sweep folders are pooled in the congruence figures.
    output:
        The report file, ``.html`` (self-contained) or ``.md``. Default: ``report.html`` in
        the folder, or, for several folders, in their common parent folder.
    formats:
        Figure file formats written next to the report (PNG is always written: HTML embeds it).
    congruence_bin:
        Width of the congruence bins that group runs in the pooled figures.
    """
    if not results:
        raise ConfigError("results: expected at least one results folder")
    formats = tuple(dict.fromkeys(("png", *formats)))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ConfigError(f"--format: expected one of {', '.join(FORMATS)}, got {unknown[0]!r}")
    if not (0 < congruence_bin <= 1):
        raise ConfigError(f"congruence_bin: expected a number in (0, 1], got {congruence_bin}")
    folders = [Path(p) for p in results]
    opened = [_open(folder) for folder in folders]  # every folder checked before writing
    output = Path(output) if output is not None else _default_output(folders)
    if output.suffix.lower() not in (".html", ".htm", ".md"):
        raise ConfigError(f"--output: expected a .html or .md file name, got {output}")
    if output.is_dir():
        raise ConfigError(f"--output: {output} is a folder; give a file name such as report.html")

    figure_dir = output.with_name(f"{output.stem}_figures")
    figure_dir.mkdir(parents=True, exist_ok=True)
    sections: list[Section] = []
    names = _unique_names([r.folder for r in opened])
    sweeps = [(name, r) for name, r in zip(names, opened, strict=True) if r.kind == "sweep"]
    for name, item in zip(names, opened, strict=True):
        if item.kind == "run":
            sections.append(_run_section(item.data, name, figure_dir, formats))
        else:
            sections.append(_sweep_section(item.data, name, figure_dir, formats))
    if sweeps:
        pooled = _pooled_section(sweeps, figure_dir, formats, congruence_bin)
        if pooled is not None:
            sections.append(pooled)
    sections.append(_provenance_section())

    title = "dyad report: " + ", ".join(str(f) for f in folders)
    if output.suffix.lower() == ".md":
        text = _markdown(title, sections, output)
    else:
        text = _html(title, sections)
    _atomic_write_text(output, text)
    log.info("wrote %s (%d sections, figures in %s)", output, len(sections), figure_dir)
    return output


def _default_output(folders: Sequence[Path]) -> Path:
    if len(folders) == 1:
        return folders[0] / REPORT_NAME
    parent = Path(os.path.commonpath([str(f.resolve()) for f in folders]))
    return parent / REPORT_NAME


def _unique_names(folders: Sequence[Path]) -> list[str]:
    """Short labels for the folders (their names, with parents added where they clash)."""
    names = [f.resolve().name or "results" for f in folders]
    for i, name in enumerate(names):
        if names.count(name) > 1:
            names[i] = f"{folders[i].resolve().parent.name}/{name}"
    for i, name in enumerate(names):
        if names.count(name) > 1:
            names[i] = f"{name}#{i + 1}"
    return names


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text).strip("_") or "x"


def _figure(caption: str, paths: Sequence[Path]) -> Figure:
    paths = [Path(p) for p in paths]
    png = next(p for p in paths if p.suffix == ".png")
    return Figure(caption=caption, png=png, files=paths)


def _try_figure(section: Section, caption: str, draw) -> None:
    """Draw one figure; a figure that cannot be drawn becomes a note, not a failed report."""
    try:
        section.figures.append(_figure(caption, draw()))
    except (ResultsError, ValueError, KeyError) as exc:
        log.warning("figure %r skipped: %s", caption, exc)
        section.paragraphs.append(f"Figure not drawn ({caption}): {exc}")


# --------------------------------------------------------------------------------------------
# a single run


def _run_section(run, name: str, figure_dir: Path, formats: tuple[str, ...]) -> Section:
    from dyad.analysis import figures
    from dyad.analysis.classify import class_counts

    manifest = run.manifest
    scenario = manifest.get("scenario", {})
    summary = manifest.get("summary", {})
    section = Section(f"Run {name}")
    if scenario.get("description"):
        section.paragraphs.append(str(scenario["description"]))
    section.tables.append(("Facts", _facts_table(_run_facts(run))))

    tables = run.tables
    if "neurons" in tables:
        neurons = tables["neurons"]
        counts = class_counts(neurons)
        if "phase" in counts.columns:
            wide = counts.pivot(index="neuron_class", columns="phase", values="count")
            wide = wide.reindex(index=counts["neuron_class"].drop_duplicates())
            ordered = [p for p in ("before", "after") if p in wide.columns]
            wide = wide[ordered + [c for c in wide.columns if c not in ordered]]
            wide.columns = [f"{c} training" for c in wide.columns]
            wide.index.name = "neuron class"
            section.tables.append(("Neuron classes before and after training", wide))
        else:
            section.tables.append(("Neuron classes", counts.set_index("neuron_class")))
    if summary:
        section.tables.append(
            (
                "Summary after training",
                _facts_table(
                    {
                        "mirror index": _number(summary.get("mirror_index")),
                        "selectivity correlation d_V vs d_M": _number(
                            summary.get("selectivity_correlation")
                        ),
                        "congruence c": _number(summary.get("congruence")),
                        "dominant outcome": summary.get("dominant"),
                        "neurons": summary.get("n_neurons"),
                    }
                ),
            )
        )

    slug = _slug(name)
    if "test_responses" in tables and "neurons" in tables:
        _try_figure(
            section,
            "Mirror-layer firing rates before and after training (rows: seen and produced "
            "expressions; columns: neurons ordered by class)",
            lambda: figures.plot_firing_rates(
                tables["test_responses"],
                tables["neurons"],
                figure_dir / f"{slug}_firing_rates",
                formats,
            ),
        )
        info = _information_table(tables["neurons"])
        if info is not None:
            n_expr = sum(c.startswith("mean_visual_") for c in tables["neurons"].columns)
            _try_figure(
                section,
                "Single-cell information by cell rank: trained (solid) vs untrained (dashed)",
                lambda: figures.plot_information_curves(
                    info,
                    figure_dir / f"{slug}_information",
                    max_bits=math.log2(max(n_expr, 2)),
                    formats=formats,
                    hue="modality",
                ),
            )
    if "interaction" in tables:
        _try_figure(
            section,
            "The first timesteps of the interaction",
            lambda: figures.plot_interaction(
                tables["interaction"], figure_dir / f"{slug}_interaction", formats
            ),
        )
    return section


def _provenance_section() -> Section:
    """How this report was made: its command line, the code's git commit, the libraries."""
    from dyad.provenance import provenance

    section = Section("How this report was made")
    facts = {"dyad version": __version__, **describe_provenance(provenance())}
    section.tables.append(("Provenance", _facts_table(facts)))
    return section


def _run_facts(run) -> dict[str, Any]:
    manifest = run.manifest
    scenario = manifest.get("scenario", {})
    facts: dict[str, Any] = {
        "folder": str(run.folder),
        "scenario": scenario.get("name"),
        "run id": manifest.get("run_id"),
        "seed": manifest.get("seed"),
        "dyad version": manifest.get("dyad_version"),
        "python": manifest.get("python"),
        "created": manifest.get("created"),
        "timesteps": scenario.get("run", {}).get("steps"),
        "infant schedule": _schedule_text(scenario.get("infant", {})),
    }
    parents = scenario.get("parents") or ([scenario["parent"]] if scenario.get("parent") else [])
    for parent in parents:
        params = ", ".join(f"{k}={v}" for k, v in (parent.get("params") or {}).items())
        facts[f"parent {parent.get('name', '')}"] = f"{parent.get('policy')}({params})"
    if manifest.get("parameters"):
        facts["swept parameters"] = ", ".join(
            f"{k} = {v}" for k, v in manifest["parameters"].items()
        )
    timings = manifest.get("timings", {})
    for key, value in timings.items():
        facts[f"timing {key}"] = _number(value, 2)
    facts.update(describe_provenance(manifest.get("provenance")))
    return {k: v for k, v in facts.items() if v is not None}


def _schedule_text(infant: Mapping[str, Any]) -> str | None:
    if not infant:
        return None
    expressions = ", ".join(infant.get("expressions", []))
    return f"{infant.get('schedule')} holds of {infant.get('hold_length')} ({expressions})"


def _information_table(neurons: pd.DataFrame) -> pd.DataFrame | None:
    """Tidy ``information, network, modality, cell`` rows from the neurons table."""
    needed = {"phase", "neuron", "info_visual", "info_motor"}
    if not needed <= set(neurons.columns):
        return None
    networks = {"before": "untrained", "after": "trained"}
    frames = []
    for modality in ("visual", "motor"):
        part = neurons[neurons["phase"].astype(str).isin(networks)]
        frames.append(
            pd.DataFrame(
                {
                    "information": part[f"info_{modality}"].to_numpy(dtype=float),
                    "network": part["phase"].astype(str).map(networks).to_numpy(),
                    "modality": modality,
                    "cell": part["neuron"].to_numpy(),
                }
            )
        )
    info = pd.concat(frames, ignore_index=True)
    return info if len(info) else None


# --------------------------------------------------------------------------------------------
# sweeps


def sweep_runs(sweep, congruence_bin: float = 0.05) -> pd.DataFrame:
    """The completed runs of a sweep in the shape the sweep figures take.

    One row per run with status "ok": the grid parameters under their short names (``q``,
    ``lag``), ``seed``, one column per neuron class holding counts (``mirror``,
    ``anti-mirror``, ...), ``n_neurons``, ``dominant``, the measured ``congruence`` and
    ``congruence_bin`` (rounded to multiples of ``congruence_bin``).
    """
    from dyad.sweeps import axis_names

    summary = sweep.summary
    done = summary[summary["status"].astype(str) == "ok"].copy()
    grid = list(sweep.grid)
    short = dict(zip(grid, axis_names(grid), strict=True))
    columns = {path: name for path, name in short.items() if path in done.columns}
    for name in _CLASS_NAMES:
        column = "count_" + class_column(name)
        if column in done.columns:
            columns[column] = name
    table = done.rename(columns=columns)
    for name in _CLASS_NAMES:
        if name in table.columns:
            table[name] = table[name].astype("float64")
    if "congruence" in table.columns:
        c = table["congruence"].astype("float64")
        table["congruence_bin"] = (np.round(c / congruence_bin) * congruence_bin).round(6)
    if "dominant" in table.columns:
        table["dominant"] = table["dominant"].astype(str)
    if "n_neurons" in table.columns:
        table["n_neurons"] = table["n_neurons"].astype("float64")
    return table.reset_index(drop=True)


def _numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _sweep_section(sweep, name: str, figure_dir: Path, formats: tuple[str, ...]) -> Section:
    from dyad.analysis import figures
    from dyad.sweeps import axis_names

    definition = sweep.definition
    summary = sweep.summary
    section = Section(f"Sweep {name}")
    scenario = definition.get("scenario", {})
    if scenario.get("description"):
        section.paragraphs.append(str(scenario["description"]))
    status = summary["status"].astype(str).value_counts()
    wall = pd.to_numeric(summary.get("wall_time_s"), errors="coerce")
    grid = definition.get("grid", {})
    overrides = definition.get("overrides", {})
    facts = {
        "folder": str(sweep.folder),
        "scenario": definition.get("name"),
        "scenario file": definition.get("source"),
        "grid": "; ".join(f"{k} = {v}" for k, v in grid.items()),
        "seeds per grid point": definition.get("seeds"),
        "base seed": definition.get("seed"),
        "overrides (--set)": ", ".join(f"{k}={v}" for k, v in overrides.items()) or None,
        "dyad version": definition.get("dyad_version"),
        "created": definition.get("created"),
        "runs": len(summary),
        "runs completed": int(status.get("ok", 0)),
        "runs failed": int(status.get("failed", 0)) or None,
        "runs missing (interrupted)": int(status.get("missing", 0)) or None,
        "run time, sum over runs (s)": _number(wall.sum(), 1) if wall is not None else None,
        "run time per run, mean (s)": _number(wall.mean(), 2) if wall is not None else None,
        "timesteps per run": scenario.get("run", {}).get("steps"),
        "infant schedule": _schedule_text(scenario.get("infant", {})),
        **describe_provenance(definition.get("provenance")),
    }
    section.tables.append(("Facts", _facts_table({k: v for k, v in facts.items() if v})))
    failed = summary[summary["status"].astype(str) == "failed"]
    if len(failed):
        section.tables.append(
            ("Failed runs", failed[["run_id", "error"]].set_index("run_id").astype(str))
        )

    runs = sweep_runs(sweep)
    if runs.empty:
        section.paragraphs.append("No completed runs: nothing to plot.")
        return section
    classes = [c for c in _CLASS_NAMES if c in runs.columns]
    axes = [a for a in axis_names(list(grid)) if a in runs.columns]
    slug = _slug(name)
    for axis in axes:
        section.tables.append(
            (f"Neuron classes against {axis}: mean ± SD across seeds", _mean_sd(runs, axis))
        )
        if not _numeric(runs[axis]):
            section.paragraphs.append(f"{axis} is not numeric: shown as a table only.")
            continue
        others = [a for a in axes if a != axis]
        plotted = runs
        series = None
        if len(others) == 1:  # two-axis grids: the other axis as overlaid series
            series = others[0]
            plotted = runs.assign(**{series: runs[series].astype(str)})
        _try_figure(
            section,
            f"Neuron classes against {axis} (mean ± SD across seeds)",
            lambda axis=axis, plotted=plotted, series=series: figures.plot_class_counts(
                plotted,
                axis,
                figure_dir / f"{slug}_classes_vs_{_slug(axis)}",
                formats,
                classes=classes,
                series=series,
            ),
        )
        if "dominant" in runs.columns:
            _try_figure(
                section,
                f"Share of seeds whose mirror layer is mirror-dominant, anti-mirror-dominant "
                f"or neither, against {axis}",
                lambda axis=axis, plotted=plotted, series=series: figures.plot_outcome_shares(
                    plotted,
                    axis,
                    figure_dir / f"{slug}_outcomes_vs_{_slug(axis)}",
                    formats,
                    series=series,
                    classes=classes,
                ),
            )
    return section


def _mean_sd(runs: pd.DataFrame, axis: str) -> pd.DataFrame:
    """Per value of ``axis``: runs, measured c, each class as mean ± SD, mirror-dominant share."""
    classes = [c for c in _CLASS_NAMES if c in runs.columns]
    rows = []
    for value, group in runs.groupby(axis, sort=True, observed=True):
        row: dict[str, Any] = {axis: value, "runs": len(group)}
        if "congruence" in group.columns:
            row["congruence c"] = _mean_sd_text(group["congruence"], 3)
        for name in classes:
            row[name] = _mean_sd_text(group[name], 1)
        if "dominant" in group.columns:
            dominant = group["dominant"].astype(str)
            row["mirror-dominant seeds"] = f"{int((dominant == 'mirror').sum())}/{len(group)}"
            row["anti-mirror-dominant seeds"] = (
                f"{int((dominant == 'anti-mirror').sum())}/{len(group)}"
            )
        rows.append(row)
    return pd.DataFrame(rows).set_index(axis)


def _mean_sd_text(values: pd.Series, digits: int) -> str:
    values = pd.to_numeric(values, errors="coerce").dropna()
    if values.empty:
        return "n/a"
    if len(values) == 1:
        return f"{values.iloc[0]:.{digits}f}"
    return f"{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f}"


def _pooled_section(
    sweeps: Sequence[tuple[str, Any]],
    figure_dir: Path,
    formats: tuple[str, ...],
    congruence_bin: float,
) -> Section | None:
    """Class counts and outcome shares against congruence, every sweep's runs pooled."""
    from dyad.analysis import figures

    frames = []
    for name, item in sweeps:
        runs = sweep_runs(item.data, congruence_bin)
        if not runs.empty and "congruence_bin" in runs.columns:
            frames.append(runs.assign(series=name))
    if not frames:
        return None
    classes = [c for c in _CLASS_NAMES if all(c in f.columns for f in frames)]
    keep = ["series", "seed", "congruence", "congruence_bin", "n_neurons", "dominant", *classes]
    pooled = pd.concat([f[[c for c in keep if c in f.columns]] for f in frames], ignore_index=True)
    pooled = pooled.rename(columns={"congruence": "congruence_measured"})
    pooled = pooled.rename(columns={"congruence_bin": "congruence"})
    several = pooled["series"].nunique() > 1
    title = "Against congruence c" + (", sweeps pooled" if several else "")
    section = Section(title)
    section.paragraphs.append(
        "Congruence c is the share of interaction timesteps on which the parent showed the "
        "expression the infant was making, measured in each run and rounded to multiples of "
        f"{congruence_bin:g}. For a mirror layer without a trace, noise and lag act only "
        "through c (model.md §9.6), so the sweeps' curves should coincide."
    )
    series = "series" if several else None
    plotted = pooled if several else pooled.drop(columns="series")
    section.tables.append(
        (
            "Neuron classes against congruence c: mean ± SD across runs",
            _mean_sd(pooled, "congruence")
            if not several
            else pd.concat(
                {s: _mean_sd(g, "congruence") for s, g in pooled.groupby("series", sort=False)},
                names=["sweep"],
            ),
        )
    )
    _try_figure(
        section,
        "Neuron classes against congruence c (mean ± SD across runs)",
        lambda: figures.plot_class_counts(
            plotted,
            "congruence",
            figure_dir / "pooled_classes_vs_congruence",
            formats,
            classes=classes,
            series=series,
        ),
    )
    if "dominant" in pooled.columns:
        _try_figure(
            section,
            "Share of runs mirror-dominant, anti-mirror-dominant or neither, against congruence c",
            lambda: figures.plot_outcome_shares(
                plotted,
                "congruence",
                figure_dir / "pooled_outcomes_vs_congruence",
                formats,
                series=series,
                classes=classes,
            ),
        )
    return section


# --------------------------------------------------------------------------------------------
# rendering


def _facts_table(facts: Mapping[str, Any]) -> pd.DataFrame:
    return pd.DataFrame({"value": [_plain(v) for v in facts.values()]}, index=pd.Index(list(facts)))


def _plain(value: Any) -> str:
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, default=str)
    return "" if value is None else str(value)


def _number(value: Any, digits: int = 3) -> str | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(number):
        return "n/a"
    return f"{number:.{digits}f}"


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1100px; color: #222; line-height: 1.45; padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em;
margin-top: 2em; } h3 { font-size: 1em; margin-bottom: .3em; }
table { border-collapse: collapse; font-size: .85em; margin: .3em 0 1.2em; }
th, td { border: 1px solid #ddd; padding: .25em .6em; text-align: right; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
td { white-space: nowrap; } table.facts td { text-align: left; white-space: normal; }
figure { margin: 1em 0 2em; } figure img { max-width: min(100%, 760px); border: 1px solid #eee; }
figcaption { font-size: .9em; color: #444; } .meta { color: #666; font-size: .85em; }
"""


def _html(title: str, sections: Sequence[Section]) -> str:
    created = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="meta">Written by dyad {html.escape(__version__)} on {created}.</p>',
    ]
    if len(sections) > 1:
        parts.append("<ul>")
        parts += [
            f'<li><a href="#s{i}">{html.escape(s.title)}</a></li>' for i, s in enumerate(sections)
        ]
        parts.append("</ul>")
    for i, section in enumerate(sections):
        parts.append(f'<h2 id="s{i}">{html.escape(section.title)}</h2>')
        parts += [f"<p>{html.escape(p)}</p>" for p in section.paragraphs]
        for caption, table in section.tables:
            parts.append(f"<h3>{html.escape(caption)}</h3>")
            facts = list(table.columns) == ["value"]
            parts.append(
                table.to_html(border=0, na_rep="", escape=True, classes="facts" if facts else None)
            )
        for figure in section.figures:
            data = base64.b64encode(figure.png.read_bytes()).decode("ascii")
            files = ", ".join(html.escape(p.name) for p in figure.files)
            parts.append(
                f'<figure><img alt="{html.escape(figure.caption)}" '
                f'src="data:image/png;base64,{data}">'
                f"<figcaption>{html.escape(figure.caption)} "
                f'<span class="meta">({files})</span></figcaption></figure>'
            )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _markdown(title: str, sections: Sequence[Section], output: Path) -> str:
    lines = [f"# {title}", "", f"Written by dyad {__version__}.", ""]
    for section in sections:
        lines += [f"## {section.title}", ""]
        for paragraph in section.paragraphs:
            lines += [paragraph, ""]
        for caption, table in section.tables:
            lines += [f"### {caption}", "", _markdown_table(table), ""]
        for figure in section.figures:
            relative = os.path.relpath(figure.png, output.parent)
            lines += [f"![{figure.caption}]({Path(relative).as_posix()})", "", figure.caption, ""]
    return "\n".join(lines)


def _markdown_table(table: pd.DataFrame) -> str:
    frame = table.reset_index()
    header = [str(c) if str(c) != "" else " " for c in frame.columns]
    rows = [[_plain(v).replace("|", "\\|") for v in row] for row in frame.itertuples(index=False)]
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out)


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
