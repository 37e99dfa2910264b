"""``dyad pretrain``: pre-train VisNet on a parent's face, or load it from the cache.

The command then says how expression-selective layer 4 became on held-out transforms.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from dyad.api import pretrain_config  # noqa: F401  (re-exported: the command's config)
from dyad.commands import options
from dyad.commands.options import say
from dyad.errors import ConfigError


@click.command()
@click.option(
    "--identity-seed",
    "identity_seeds",
    type=int,
    multiple=True,
    help="Seed of a parent's face identity (repeatable; default 0).",
)
@options.int_option("--seed", default=0, help="Pre-training seed.")
@options.int_option("--size", help="Face image side in pixels (default 128; 64 with --small).")
@options.int_option("--epochs", help="Training epochs of every layer (default: classic).")
@options.int_option(
    "--transforms",
    help="Training transforms per face and expression (default: the scenario default).",
)
@options.int_option(
    "--test-transforms",
    help="Held-out transforms per face and expression for the information summary "
    "(default: the scenario default).",
)
@options.int_option(
    "--other-faces",
    help="Faces of other people shown beside the parents' (default: the scenario default).",
)
@click.option(
    "--small",
    is_flag=True,
    help="The small test network (fast; for trying things out), instead of the classic one.",
)
@options.cache_dir_option
@options.path_option(
    "--figure", help="Also write the information-vs-cell-rank plot here (.png, .svg or .pdf)."
)
@click.option("--rebuild", is_flag=True, help="Train even if a cached result exists.")
@options.quiet_option
def pretrain(figure: Path | None, quiet: bool, **settings: Any) -> None:
    """Pre-train the infant's visual system (V1 + 4-layer VisNet) on a parent's face.

    Pre-training uses a scenario's defaults (dense layers, other people's faces interleaved
    within each expression) unless an option says otherwise. The result is cached: running
    again with the same options loads it. Prints the cache file and the single-cell
    information of layer 4 about the expressions on held-out transforms of the parents' faces
    and of faces pre-training never showed, for the trained network and for the untrained
    network of the same seed.
    """
    suffix = figure.suffix.lower().lstrip(".") if figure is not None else ""
    if suffix and suffix not in ("png", "svg", "pdf"):
        raise ConfigError(f"--figure: expected a .png, .svg or .pdf file, got {figure}")
    say("dyad pretrain: loading the visual system (training it unless cached) ...", quiet=quiet)
    import numpy as np
    import pandas as pd

    from dyad.analysis.information import max_information, selectivity_summary
    from dyad.api import pretrain as run_pretrain

    settings["identity_seeds"] = settings["identity_seeds"] or (0,)
    try:
        # the other options are dyad.pretrain's keywords, passed on as they are
        result = run_pretrain(progress=not quiet, **settings)
    except ConfigError as exc:
        raise ConfigError([_as_option(line) for line in exc.problems]) from None
    config = result.config
    if result.from_cache:
        click.echo(f"Loaded from cache: {result.cache_path}")
    else:
        where = result.cache_path if result.cache_path is not None else "(not cached)"
        click.echo(f"Trained in {result.build_seconds:.1f} s; cache: {where}")

    sets = {"parents": result.test_images(), "unseen": result.heldout_images(N_UNSEEN_FACES)}
    rows = []
    curves = []
    for where, images in sets.items():
        n_expressions, n_test = images.shape[:2]
        stimuli = np.repeat(np.arange(n_expressions), n_test)
        for label, network in (("trained", result), ("untrained", result.untrained())):
            rates = network.test_layer4(images).reshape(n_expressions * n_test, -1)
            rows.append((where, label, selectivity_summary(rates, stimuli, config.expressions)))
            if where == "parents":
                info = max_information(rates, stimuli)
                curves.append(
                    pd.DataFrame(
                        {"network": label, "cell": np.arange(info.size), "information": info}
                    )
                )

    summary = rows[0][2]
    n_test = config.n_test_transforms
    click.echo(
        f"Layer-4 single-cell information on {n_test} held-out transforms per face and "
        f"expression ({summary['n_cells']} cells), on the parents' faces and on "
        f"{N_UNSEEN_FACES} faces pre-training never showed:"
    )
    header = f"  {'':<20}{'>= ' + format(summary['threshold_bits'], '.2f') + ' bit':>13}"
    header += "".join(f"{name:>10}" for name in config.expressions) + f"{'mean bits':>11}"
    click.echo(header)
    for where, label, s in rows:
        line = f"  {where + ', ' + label:<20}{s['n_selective']:>13}"
        line += "".join(f"{s['preferred'][name]:>10}" for name in config.expressions)
        click.echo(line + f"{s['mean_information']:>11.3f}")
    if figure is not None:
        from dyad.analysis.figures import plot_information_curves

        written = plot_information_curves(
            pd.concat(curves, ignore_index=True),
            figure,
            max_bits=summary["max_bits"],
            formats=(suffix or "png",),
            title=f"layer 4, held-out transforms of the parents' faces (seed {settings['seed']})",
        )
        click.echo(f"Figure: {written[0]}")


#: faces pre-training never showed, on which the command also measures layer 4
N_UNSEEN_FACES = 4


def _as_option(line: str) -> str:
    """Rename a problem line of :func:`dyad.api.pretrain` after its option.

    ``seed:`` becomes ``--seed:``, as the user typed it.
    """
    name, sep, rest = line.partition(": ")
    option = OPTION_NAMES.get(name)
    return f"{option}: {rest}" if sep and option else line


#: keyword of :func:`dyad.api.pretrain` -> the option that sets it
OPTION_NAMES = {
    "seed": "--seed",
    "identity_seeds": "--identity-seed",
    "size": "--size",
    "epochs": "--epochs",
    "other_faces": "--other-faces",
}
