"""``dyad report RESULTS_DIR...``: figures and a self-contained HTML report of results folders."""

from __future__ import annotations

from pathlib import Path

import click

from dyad.commands.options import path_option, quiet_option


@click.command()
@click.argument("results_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(["png", "svg", "pdf"]),
    help="Figure file formats written next to the report (repeatable; PNG always).",
)
@path_option(
    "--output",
    help="Report file, .html (self-contained) or .md (default: report.html in the results "
    "folder, or in the common parent of several folders).",
)
@click.option(
    "--congruence-bin",
    type=click.FloatRange(min=0.001, max=1.0),
    default=0.05,
    show_default=True,
    help="Runs are grouped by congruence rounded to multiples of this width.",
)
@quiet_option
def report(
    results_dirs: tuple[Path, ...],
    formats: tuple[str, ...],
    output: Path | None,
    congruence_bin: float,
    quiet: bool,
) -> None:
    """Write figures and a report for RESULTS_DIRS (run folders or sweep folders).

    A run folder gets its firing rates before and after training, information curves and
    the whole interaction, with links to its Parquet tables; a sweep folder gets
    neuron-class counts and mirror-dominant shares against each swept parameter (mean ± SD
    across seeds). Several sweep folders are pooled against the congruence c, e.g.
    `dyad report results/noise_sweep results/lag_sweep`. The page shows the command that
    made it and works at phone width; one timed line per step goes to stderr (--quiet: none).
    """
    # said at once: importing pandas and matplotlib alone takes seconds on a busy machine
    folders = ", ".join(str(folder) for folder in results_dirs)
    if not quiet:
        click.echo(f"dyad report: reading {folders}, one line per step", err=True)
    from dyad.api import report as build_report
    from dyad.reporting import StepTimer

    progress = None if quiet else StepTimer(lambda line: click.echo(line, err=True))
    path = build_report(
        results_dirs,
        output=output,
        formats=formats or ("png",),
        congruence_bin=congruence_bin,
        progress=progress,
    )
    click.echo(f"report: {path}")
