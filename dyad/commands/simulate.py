"""``dyad simulate SCENARIO``: one run of a scenario, saved as tables, figures and a manifest."""

from __future__ import annotations

from pathlib import Path

import click

from dyad.commands import options
from dyad.commands.options import plugin_paths, say


@click.command()
@options.scenario_argument
@options.seed_option
@options.set_option(
    "Override a scenario field, e.g. --set run.steps=500 --set parent.params.lag=5."
)
@options.path_option(
    "--output",
    help="Results folder (default: the scenario's output.folder, else results/<name>).",
)
@options.cache_dir_option
@options.plugins_dir_option
@click.option("--no-figures", is_flag=True, help="Skip the figures.")
@options.overwrite_option(
    "Replace a complete run already in the output folder, whole, with everything in it "
    "(default: refuse)."
)
@options.max_memory_option
@options.quiet_option
def simulate(
    scenario_file: str,
    seed: int | None,
    overrides: tuple[str, ...],
    output: Path | None,
    cache_dir: Path | None,
    plugins_dirs: tuple[Path, ...],
    no_figures: bool,
    overwrite: bool,
    max_memory: str | None,
    quiet: bool,
) -> None:
    """Run SCENARIO (a TOML file, or a shipped scenario's name such as perfect) and save it.

    Pre-trains (or loads from the cache) the infant's visual system, runs the interaction,
    tests every mirror-layer neuron before and after, and writes Parquet tables, figures and a
    manifest to the results folder. Prints the neuron classes and the congruence.
    """
    say(f"dyad simulate: loading scenario {scenario_file} ...", quiet=quiet)
    from dyad.api import default_output, load_scenario
    from dyad.api import simulate as run

    plugin_dirs = plugin_paths(plugins_dirs)
    scenario = load_scenario(scenario_file, overrides=overrides, plugins=plugin_dirs)
    folder = output or default_output(scenario)
    say(f"dyad simulate: running {scenario.name} into {folder}", quiet=quiet)
    outcome = run(
        scenario,
        seed=seed,
        output=folder,
        overwrite=overwrite,
        figures=not no_figures,
        cache_dir=cache_dir,
        plugins=plugin_dirs,
        progress=not quiet,
        max_memory=max_memory,
    )
    click.echo(format_summary(scenario.name, outcome))


def format_summary(name: str, outcome) -> str:
    """Return a few lines a researcher reads after a run."""
    summary = outcome.summary
    counts = summary["class_counts"]
    n = summary["n_neurons"]
    parts = [f"{cls} {count} ({100 * count / n:.0f}%)" for cls, count in counts.items() if count]
    mi = summary["mirror_index"]
    lines = [
        f"{name}: seed {outcome.manifest['seed']}, "
        f"{outcome.manifest['scenario']['run']['steps']} timesteps, "
        f"congruence c = {summary['congruence']:.2f}",
        f"mirror layer after training ({n} neurons): " + ", ".join(parts),
        f"mirror index {'n/a' if mi is None else f'{mi:+.2f}'}, outcome: {summary['dominant']}",
        *_cross_check(summary, n),
        f"{outcome.manifest['timings']['steps_per_s']:.0f} timesteps/s; "
        f"results in {outcome.folder}",
    ]
    return "\n".join(lines)


def _cross_check(summary: dict, n: int) -> list[str]:
    """Return the information-based cross-check line (runs saved before it existed have none)."""
    counts = summary.get("info_class_counts")
    if not counts:
        return []
    parts = [f"{cls} {count}" for cls, count in counts.items() if count]
    return [
        "information cross-check (I >= 0.5 bit): "
        + ", ".join(parts)
        + f"; same class for {summary.get('criteria_agree')} of {n} neurons"
    ]
