"""The sections of a report: one per run, one per sweep, sweeps pooled by congruence, provenance.

For a run: its facts (scenario, seed, parents, dyad version, provenance from the manifest),
links to its Parquet tables and manifest, class counts per phase, and its figures (firing rates
before and after training, single-cell information, the whole interaction), each titled with
scenario, seed and measured congruence c.

For a sweep: class counts (mean ± SD across seeds) and the share of seeds whose mirror layer is
mirror-dominant, against each swept parameter (e.g. q, L), titled with the scenario and its
fixed settings; and, for all sweeps given, the same against the measured congruence c, every
sweep pooled into one figure (noise and lag runs should fall on one curve for a mirror layer
without a trace, model.md §9.6). Congruence is rounded to bins of ``congruence_bin`` (0.05 by
default) so that runs of the same nominal c are grouped.

Every figure is drawn through ``step``, a callback the command uses to show progress.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dyad import __version__
from dyad.analysis import NEURON_CLASSES, class_column
from dyad.errors import ResultsError
from dyad.provenance import describe as describe_provenance
from dyad.reporting.content import Figure, Link, Section, number
from dyad.reporting.folders import Results, slug

log = logging.getLogger(__name__)

#: sweep-table class columns (``count_anti_mirror``) back to class names (``anti-mirror``)
_CLASS_NAMES = NEURON_CLASSES
#: reports progress: called with a short description before each step that takes time
Step = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def _figure(caption: str, paths: Sequence[Path]) -> Figure:
    paths = [Path(p) for p in paths]
    png = next(p for p in paths if p.suffix == ".png")
    return Figure(caption=caption, png=png, files=paths)


def _try_figure(section: Section, caption: str, draw) -> None:
    """Draw one figure; a figure that cannot be drawn becomes a note, not a failed report."""
    try:
        paths = draw()
    except (ResultsError, ValueError, KeyError) as exc:
        log.warning("figure %r skipped: %s", caption, exc)
        section.paragraphs.append(f"Figure not drawn ({caption}): {exc}")
        return
    if paths:
        section.figures.append(_figure(caption, paths))


# --------------------------------------------------------------------------------------------
# a single run

_RUN_CAPTIONS = {
    "firing_rates": "Mirror-layer firing rates before and after training (rows: seen and "
    "produced expressions; columns: neurons ordered by class)",
    "information": "Single-cell information by cell rank, seen and produced expressions in "
    "their own panels: trained (solid) vs untrained (dashed)",
    "interaction": "The whole interaction: who showed what, congruence in a moving window and "
    "the mirror layer's visual and motor input",
}


def run_section(
    run, name: str, figure_dir: Path, formats: tuple[str, ...], step: Step = _quiet
) -> Section:
    """Facts, files, class counts and figures of one run folder."""
    from dyad.analysis.classify import class_counts
    from dyad.analysis.figures.run import ALL_RUN_FIGURES, draw_run_figures

    manifest = run.manifest
    scenario = manifest.get("scenario", {})
    summary = manifest.get("summary", {})
    section = Section(f"Run {name}")
    if scenario.get("description"):
        section.paragraphs.append(str(scenario["description"]))
    section.links += run_links(run)
    section.add_facts("Facts", run_facts(run))

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
            wide.columns.name = None
            section.add_table("Neuron classes before and after training", wide)
        else:
            section.add_table("Neuron classes", counts.set_index("neuron_class"))
    if summary:
        section.add_facts(
            "Summary after training",
            {
                "mirror index": number(summary.get("mirror_index")),
                "selectivity correlation d_V vs d_M": number(
                    summary.get("selectivity_correlation")
                ),
                "congruence c": number(summary.get("congruence")),
                "dominant outcome": summary.get("dominant"),
                "neurons": summary.get("n_neurons"),
            },
        )
    prefix = f"{slug(name)}_"
    for figure in ALL_RUN_FIGURES:
        step(f"{name}: {figure.replace('_', ' ')} figure")
        _try_figure(
            section,
            _RUN_CAPTIONS[figure],
            lambda figure=figure: draw_run_figures(
                run, figure_dir, formats, figures=(figure,), prefix=prefix
            ),
        )
    return section


def run_links(run) -> list[Link]:
    """Return the run's Parquet tables and manifest, as files beside the report can link them."""
    from dyad.store import MANIFEST

    links = []
    for table, entry in (run.manifest.get("tables") or {}).items():
        rows = entry.get("rows")
        note = f"{rows:,} rows" if isinstance(rows, int) else ""
        links.append(Link(f"{table} (Parquet)", Path(run.folder) / entry["file"], note))
    links.append(Link(f"{MANIFEST} (scenario, seed, provenance)", Path(run.folder) / MANIFEST))
    return links


def provenance_section() -> Section:
    """How this report was made: its command line, the code's git commit, the libraries."""
    from dyad.provenance import provenance

    section = Section("How this report was made")
    section.add_facts(
        "Provenance", {"dyad version": __version__, **describe_provenance(provenance())}
    )
    return section


def run_facts(run) -> dict[str, Any]:
    """Label -> value rows describing one run, from its manifest."""
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
        policy = f"{parent.get('policy')}({params})"
        # one parent is just "parent"; several are told apart by name ("parent: mother")
        label = "parent" if len(parents) == 1 else f"parent: {parent.get('name', '')}"
        facts[label] = policy
    if manifest.get("parameters"):
        facts["swept parameters"] = ", ".join(
            f"{k} = {v}" for k, v in manifest["parameters"].items()
        )
    timings = manifest.get("timings", {})
    for key, value in timings.items():
        facts[f"timing {key}"] = number(value, 2)
    facts.update(describe_provenance(manifest.get("provenance")))
    return {k: v for k, v in facts.items() if v is not None}


# --------------------------------------------------------------------------------------------
# sweeps


def sweep_runs(sweep, congruence_bin: float = 0.05) -> pd.DataFrame:
    """Return the completed runs of a sweep in the shape the sweep figures take.

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


def sweep_title(definition: Mapping[str, Any]) -> str:
    """``"noise_sweep · noisy parent · 2,000 timesteps · 5 seeds per point"``: the settings.

    Names the scenario, the parent's policy and its fixed parameters, the run length, the
    seeds per grid point and the ``--set`` overrides, so a figure's settings are never guessed
    from its file name.
    """
    scenario = definition.get("scenario") or {}
    parts = [str(definition.get("name") or scenario.get("name") or "sweep")]
    swept = {key.split(".")[-1] for key in definition.get("grid") or {}}
    parents = scenario.get("parents") or [scenario.get("parent") or {}]
    described = []
    for parent in parents:
        if not parent.get("policy") or "policy" in swept:
            continue
        # the parent's fixed parameters; swept ones are the x axis
        fixed = {k: v for k, v in (parent.get("params") or {}).items() if k not in swept}
        settings = ", ".join(f"{k} = {v}" for k, v in fixed.items())
        who = f"{parent['name']}: " if len(parents) > 1 and parent.get("name") else ""
        policy = parent["policy"] + ("" if who else " parent")
        described.append(f"{who}{policy}" + (f" ({settings})" if settings else ""))
    if described:
        parts.append(", ".join(described))
    steps = (scenario.get("run") or {}).get("steps")
    if steps and "steps" not in swept:  # a swept run length is the x axis
        parts.append(f"{int(steps):,} timesteps")
    if definition.get("seeds"):
        seeds = int(definition["seeds"])
        parts.append(f"{seeds} seed{'s' if seeds != 1 else ''} per point")
    overrides = definition.get("overrides") or {}
    parts += [f"{k.split('.')[-1]} = {v}" for k, v in overrides.items()]
    return " · ".join(parts)


def sweep_links(sweep) -> list[Link]:
    """Return the sweep's summary table and definition."""
    from dyad.sweeps import SUMMARY_FILE, SWEEP_FILE

    folder = Path(sweep.folder)
    links = []
    if (folder / SUMMARY_FILE).is_file():
        links.append(Link(f"{SUMMARY_FILE} (one row per run)", folder / SUMMARY_FILE))
    links.append(Link(f"{SWEEP_FILE} (grid, seeds, provenance)", folder / SWEEP_FILE))
    return links


def sweep_section(
    sweep, name: str, figure_dir: Path, formats: tuple[str, ...], step: Step = _quiet
) -> Section:
    """Facts, files, mean ± SD tables and figures against each swept parameter."""
    from dyad.analysis import figures
    from dyad.sweeps import axis_names

    definition = sweep.definition
    summary = sweep.summary
    section = Section(f"Sweep {name}")
    scenario = definition.get("scenario", {})
    if scenario.get("description"):
        section.paragraphs.append(str(scenario["description"]))
    section.links += sweep_links(sweep)
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
        "run time, sum over runs (s)": number(wall.sum(), 1) if wall is not None else None,
        "run time per run, mean (s)": number(wall.mean(), 2) if wall is not None else None,
        "timesteps per run": scenario.get("run", {}).get("steps"),
        "infant schedule": _schedule_text(scenario.get("infant", {})),
        **describe_provenance(definition.get("provenance")),
    }
    section.add_facts("Facts", {k: v for k, v in facts.items() if v})
    failed = summary[summary["status"].astype(str) == "failed"]
    if len(failed):
        section.add_table(
            "Failed runs", failed[["run_id", "error"]].set_index("run_id").astype(str)
        )

    runs = sweep_runs(sweep)
    if runs.empty:
        section.paragraphs.append("No completed runs: nothing to plot.")
        return section
    classes = [c for c in _CLASS_NAMES if c in runs.columns]
    axes = [a for a in axis_names(list(grid)) if a in runs.columns]
    base = slug(name)
    title = sweep_title(definition)
    for axis in axes:
        section.add_table(
            f"Neuron classes against {axis}: mean ± SD across seeds; dominant seeds with "
            "the 95 % interval of their share",
            _mean_sd(runs, axis),
        )
        others = [a for a in axes if a != axis]
        if not figures.is_numeric_axis(runs[axis]) and others:
            section.paragraphs.append(
                f"{axis} is not numeric and is swept with {', '.join(others)}: "
                "shown as a table only."
            )
            continue
        plotted = runs
        series = None
        if len(others) == 1:  # two-axis grids: the other axis as overlaid series
            series = others[0]
            plotted = runs.assign(**{series: runs[series].astype(str)})
        spread = (
            "mean ± SD across seeds, clipped to 0..n neurons"
            if figures.is_numeric_axis(runs[axis])
            else "one dot per seed, the bar its mean"
        )
        plots = [
            ("classes", f"Neuron classes against {axis} ({spread})", figures.plot_class_counts)
        ]
        if "dominant" in runs.columns:
            caption = (
                "Share of seeds whose mirror layer is mirror-dominant, anti-mirror-dominant "
                f"or neither, against {axis}"
            )
            plots.append(("outcomes", caption, figures.plot_outcome_shares))
        for kind, caption, plot in plots:
            step(f"{name}: {kind} against {axis}")
            path = figure_dir / f"{base}_{kind}_vs_{slug(axis)}"
            _try_figure(
                section,
                caption,
                lambda plot=plot, axis=axis, path=path, plotted=plotted, series=series: plot(
                    plotted, axis, path, formats, classes=classes, series=series, title=title
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
            for outcome in ("mirror", "anti-mirror"):
                row[f"{outcome}-dominant seeds"] = _seeds_text(
                    int((dominant == outcome).sum()), len(group)
                )
        rows.append(row)
    return pd.DataFrame(rows).set_index(axis)


def _seeds_text(k: int, n: int) -> str:
    """``"8/20 [0.22, 0.61]"``: k of n seeds and the share's 95 % Wilson interval."""
    from dyad.analysis import share_interval

    low, high = share_interval(k, n)
    return f"{k}/{n} [{low:.2f}, {high:.2f}]"


def _mean_sd_text(values: pd.Series, digits: int) -> str:
    values = pd.to_numeric(values, errors="coerce").dropna()
    if values.empty:
        return "n/a"
    if len(values) == 1:
        return f"{values.iloc[0]:.{digits}f}"
    return f"{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f}"


def gaps_sentence(stretches: Sequence[tuple[float, float]]) -> str | None:
    """Name the stretches of c between ``stretches`` (first, last) that no run reached, if any."""
    if len(stretches) < 2:
        return None
    empty = " or between ".join(
        f"{last:g} and {first:g}"
        for (_, last), (first, _) in zip(stretches, stretches[1:], strict=False)
    )
    return (
        f"No run reached a congruence between {empty}; the figures leave those stretches open "
        "instead of joining the points across them."
    )


def pooled_section(
    sweeps: Sequence[tuple[str, Results]],
    figure_dir: Path,
    formats: tuple[str, ...],
    congruence_bin: float,
    step: Step = _quiet,
) -> Section | None:
    """Class counts and outcome shares against congruence, every sweep's runs pooled."""
    from dyad.analysis import figures

    frames = []
    for name, item in sweeps:
        runs = sweep_runs(item.data, congruence_bin)
        if not runs.empty and "congruence_bin" in runs.columns:
            frames.append(runs.assign(sweep=name))
    if not frames:
        return None
    classes = [c for c in _CLASS_NAMES if all(c in f.columns for f in frames)]
    keep = ["sweep", "seed", "congruence", "congruence_bin", "n_neurons", "dominant", *classes]
    pooled = pd.concat([f[[c for c in keep if c in f.columns]] for f in frames], ignore_index=True)
    pooled = pooled.rename(columns={"congruence": "congruence_measured"})
    pooled = pooled.rename(columns={"congruence_bin": "congruence"})
    several = pooled["sweep"].nunique() > 1
    title = "Against congruence c" + (", sweeps pooled" if several else "")
    section = Section(title)
    comparison = (
        "so the sweeps' curves should coincide."
        if several
        else "so a noise sweep and a lag sweep given together should fall on one curve; "
        "with one sweep, this shows how its runs' outcomes follow the congruence they reached."
    )
    section.paragraphs.append(
        "Congruence c is the share of interaction timesteps on which the parent showed the "
        "expression the infant was making, measured in each run and rounded to multiples of "
        f"{congruence_bin:g}. For a mirror layer without a trace, noise and lag act only "
        f"through c (model.md §9.6), {comparison}"
    )
    # a line across more than two empty bins would draw a trend no run measured
    max_gap = 3 * congruence_bin + 1e-9
    gaps = gaps_sentence(figures.x_segments(pooled["congruence"], max_gap))
    if gaps:
        section.paragraphs.append(gaps)
    figure_title = (
        " + ".join(name for name, _ in sweeps) + f" · measured c in bins of {congruence_bin:g}"
    )
    steps = {
        (item.data.definition.get("scenario") or {}).get("run", {}).get("steps")
        for _, item in sweeps
    }
    if len(steps) == 1 and None not in steps:
        figure_title += f" · {int(steps.pop()):,} timesteps"
    series = "sweep" if several else None  # the legend names the sweeps
    plotted = pooled if several else pooled.drop(columns="sweep")
    section.add_table(
        "Neuron classes against congruence c: mean ± SD across runs; dominant runs with the "
        "95 % interval of their share",
        _mean_sd(pooled, "congruence")
        if not several
        else pd.concat(
            {s: _mean_sd(g, "congruence") for s, g in pooled.groupby("sweep", sort=False)},
            names=["sweep"],
        ),
    )
    step("pooled: classes against congruence")
    _try_figure(
        section,
        "Neuron classes against congruence c (mean ± SD across runs, clipped to 0..n neurons; "
        "classes that are 0 in every run are named, not drawn)",
        lambda: figures.plot_class_counts(
            plotted,
            "congruence",
            figure_dir / "pooled_classes_vs_congruence",
            formats,
            classes=classes,
            series=series,
            title=figure_title,
            max_gap=max_gap,
        ),
    )
    if "dominant" in pooled.columns:
        step("pooled: outcomes against congruence")
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
                title=figure_title,
                max_gap=max_gap,
            ),
        )
    return section


def _schedule_text(infant: Mapping[str, Any]) -> str | None:
    if not infant:
        return None
    expressions = ", ".join(infant.get("expressions", []))
    return f"{infant.get('schedule')} holds of {infant.get('hold_length')} ({expressions})"
