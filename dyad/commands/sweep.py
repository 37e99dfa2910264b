"""``dyad sweep SCENARIO``: every run of a scenario's ``[sweep]`` grid × seeds, resumable."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dyad.commands.options import (
    cache_dir_option,
    max_memory_option,
    plugin_paths,
    plugins_dir_option,
    quiet_option,
    say,
    set_option,
)
from dyad.errors import ConfigError


@click.command()
@click.argument("scenario_file", metavar="SCENARIO")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Local worker processes (default: the number of CPU cores).",
)
@click.option(
    "--address",
    default=None,
    metavar="tcp://HOST:PORT",
    help="Run on a Dask cluster at this scheduler address instead of local processes "
    "(needs dyad[dask]; workers must see the same paths for results, cache and plugins).",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Sweep folder (default: the scenario's output.folder, else results/<name>).",
)
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=None,
    help="Runs per grid point (replaces sweep.seeds).",
)
@set_option("Override a scenario field for every run, e.g. --set run.steps=500.")
@plugins_dir_option
@cache_dir_option
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace a complete or different sweep already in the output folder, whole, once the "
    "new one has finished (default: refuse; an interrupted sweep resumes without it).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds to wait for the Dask scheduler and its first worker.",
)
@click.option(
    "--max-runs",
    type=click.IntRange(min=1),
    default=None,
    help="Refuse sweeps of more runs (grid points x seeds) than this [default: 100,000].",
)
@click.option(
    "--batch-size",
    default="auto",
    show_default=True,
    metavar="auto|N",
    help="Most runs of one visual system a worker steps together as one batched mirror "
    "layer ('auto': enough batches to keep every worker busy, at most 32 runs each).",
)
@max_memory_option
@quiet_option
def sweep(
    scenario_file: str,
    workers: int | None,
    address: str | None,
    output: Path | None,
    seeds: int | None,
    overrides: tuple[str, ...],
    plugins_dirs: tuple[Path, ...],
    cache_dir: Path | None,
    overwrite: bool,
    timeout: float,
    max_runs: int | None,
    max_memory: str | None,
    batch_size: str,
    quiet: bool,
) -> None:
    """Run every run of SCENARIO_FILE's [sweep] grid × seeds and write a summary table.

    Every run is validated before any starts. The visual system is pre-trained once (cached);
    runs then go to local worker processes or a Dask cluster (--address) and each writes its
    own folder under <output>/runs/. Running the same command again skips completed runs, so
    an interrupted sweep resumes where it stopped. Exit code 3 when some runs failed (see
    <output>/failures.json), 2 for bad input, 130 when interrupted.
    """
    if workers is not None and address is not None:
        raise ConfigError("--workers: a Dask cluster (--address) has its own workers; give one")
    say(f"dyad sweep: planning {scenario_file} (validating every run) ...", quiet=quiet)
    from dyad.sweeps.batching import check_batch_size

    check_batch_size(batch_size, "--batch-size")
    from dyad.api import sweep as run_sweep
    from dyad.sweeps import EXIT_RUNS_FAILED

    swept = run_sweep(
        scenario_file,
        seeds=seeds,
        overrides=overrides,
        output=output,
        overwrite=overwrite,
        workers=workers,
        address=address,
        cache_dir=cache_dir,
        plugins=plugin_paths(plugins_dirs),
        progress=not quiet,
        timeout=timeout,
        max_runs=max_runs,
        max_memory=max_memory,
        batch_size=batch_size,
    )
    result = swept.status
    click.echo(result.describe(swept.definition.get("name", "sweep")))
    for failure in result.failures[:5]:
        click.echo(f"  failed {failure['run_id']}: {failure.get('error')}", err=True)
    if result.failed > 5:
        click.echo(f"  ... and {result.failed - 5} more", err=True)
    if result.failed:
        click.echo(f"  details: {result.folder / 'failures.json'}", err=True)
    # sys.exit, not ctx.exit: with standalone_mode=False click returns ctx.exit's code
    # instead of exiting, and the console entry point would then exit 0
    if result.interrupted:
        sys.exit(130)
    if result.failed:
        sys.exit(EXIT_RUNS_FAILED)
