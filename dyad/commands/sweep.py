"""``dyad sweep SCENARIO``: every run of a scenario's ``[sweep]`` grid × seeds, resumable."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from dyad.commands import options
from dyad.commands.options import plugin_paths, say
from dyad.errors import ConfigError


@click.command()
@options.scenario_argument
@options.int_option(
    "--workers", minimum=1, help="Local worker processes (default: the number of CPU cores)."
)
@click.option(
    "--address",
    default=None,
    metavar="tcp://HOST:PORT",
    help="Run on a Dask cluster at this scheduler address instead of local processes "
    "(needs dyad[dask]; workers must see the same paths for results, cache and plugins).",
)
@options.path_option(
    "--output",
    help="Sweep folder (default: the scenario's output.folder, else results/<name>).",
)
@options.int_option("--seeds", minimum=1, help="Runs per grid point (replaces sweep.seeds).")
@options.set_option("Override a scenario field for every run, e.g. --set run.steps=500.")
@options.plugins_dir_option
@options.cache_dir_option
@options.overwrite_option(
    "Replace a complete or different sweep already in the output folder, whole, once the "
    "new one has finished (default: refuse; an interrupted sweep resumes without it)."
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds to wait for the Dask scheduler and its first worker.",
)
@options.int_option(
    "--max-runs",
    minimum=1,
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
@options.max_memory_option
@options.quiet_option
def sweep(scenario_file: str, plugins_dirs: tuple[Path, ...], quiet: bool, **settings: Any) -> None:
    """Run every run of SCENARIO_FILE's [sweep] grid × seeds and write a summary table.

    Every run is validated before any starts. The visual system is pre-trained once (cached);
    runs then go to local worker processes or a Dask cluster (--address) and each writes its
    own folder under <output>/runs/. Running the same command again skips completed runs, so
    an interrupted sweep resumes where it stopped. Exit code 3 when some runs failed (see
    <output>/failures.json), 2 for bad input, 130 when interrupted.
    """
    if settings["workers"] is not None and settings["address"] is not None:
        raise ConfigError("--workers: a Dask cluster (--address) has its own workers; give one")
    say(f"dyad sweep: planning {scenario_file} (validating every run) ...", quiet=quiet)
    if settings["address"] is None:  # local workers' fork server loads their modules meanwhile
        from dyad.forkserver import start_forkserver

        start_forkserver()
    from dyad.sweeps.batching import check_batch_size

    check_batch_size(settings["batch_size"], "--batch-size")
    from dyad.api import sweep as run_sweep
    from dyad.sweeps import EXIT_RUNS_FAILED

    # the other options are dyad.sweep's keywords, passed on as they are
    swept = run_sweep(
        scenario_file, plugins=plugin_paths(plugins_dirs), progress=not quiet, **settings
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
