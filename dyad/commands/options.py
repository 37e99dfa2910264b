"""Options shared by several ``dyad`` commands, defined once so they read the same everywhere."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from dyad.errors import ConfigError


def path_option(*decls: str, help: str, default: Path | None = None, **extra: Any):
    """Return an option naming a file or folder (a :class:`~pathlib.Path`), its default shown."""
    return click.option(
        *decls,
        type=click.Path(path_type=Path),
        default=default,
        show_default=default is not None,
        help=help,
        **extra,
    )


def int_option(*decls: str, help: str, default: int | None = None, minimum: int | None = None):
    """Return an integer option, at least ``minimum`` when given (a ``click.IntRange``)."""
    return click.option(
        *decls,
        type=int if minimum is None else click.IntRange(min=minimum),
        default=default,
        show_default=default is not None,
        help=help,
    )


def overwrite_option(help: str):
    """Return ``--overwrite``: replace complete results already in the output folder."""
    return click.option("--overwrite", is_flag=True, help=help)


def _non_negative_seed(ctx: click.Context, param: click.Parameter, value: int | None):
    if value is not None and value < 0:
        raise ConfigError(f"--seed: expected a non-negative integer, got {value}")
    return value


#: the command's argument naming a scenario (a TOML file or a shipped scenario's name)
scenario_argument = click.argument("scenario_file", metavar="SCENARIO")

#: ``--seed`` replacing the scenario's (a non-negative integer)
seed_option = click.option(
    "--seed",
    type=int,
    default=None,
    callback=_non_negative_seed,
    help="Override the scenario's seed.",
)

cache_dir_option = path_option(
    "--cache-dir",
    help="Where pre-trained networks are cached (default: $DYAD_CACHE_DIR or ~/.cache/dyad).",
)

plugins_dir_option = path_option(
    "--plugins-dir",
    "plugins_dirs",
    multiple=True,
    help="A folder of parent-policy plugins, or one plugin .py file (repeatable). Also "
    "$DYAD_PLUGINS_DIR (paths separated by ':'); nothing in the working folder is loaded "
    "unless named.",
)


def plugin_paths(extra: tuple[Path, ...]) -> tuple[Path, ...]:
    """``$DYAD_PLUGINS_DIR`` then the ``--plugins-dir`` paths, absolute, without repeats."""
    from dyad.api import plugin_paths as api_plugin_paths

    return api_plugin_paths(extra)


def say(text: str, *, quiet: bool = False) -> None:
    """One line on stderr saying what the command is doing, before it does something slow.

    Commands call it first thing, before importing numpy, pandas or Mesa, so a user at a
    terminal sees within a fraction of a second that the command started. Shown when stderr
    is a terminal or with ``-v`` (so logs and pipes hold only results and errors unless asked);
    ``--quiet`` silences it with the progress bars. stdout keeps only the results.
    """
    if quiet:
        return
    ctx = click.get_current_context(silent=True)
    verbosity = ctx.meta.get(VERBOSITY, 0) if ctx is not None else 0
    if verbosity > 0 or sys.stderr.isatty():
        click.echo(text, err=True)


#: key of ``click.Context.meta`` holding the number of ``-v`` given (see :func:`say`)
VERBOSITY = "dyad.verbosity"


quiet_option = click.option(
    "--quiet", is_flag=True, help="No progress bars or status lines (errors still show)."
)

max_memory_option = click.option(
    "--max-memory",
    default=None,
    metavar="SIZE",
    help="Refuse to start when the estimated memory exceeds SIZE (e.g. 8G, 512M; default: "
    "$DYAD_MAX_MEMORY, else 80% of this machine's memory).",
)


def set_option(help_text: str):
    """``--set FIELD=VALUE`` (repeatable) overriding scenario fields."""
    return click.option("--set", "overrides", multiple=True, metavar="FIELD=VALUE", help=help_text)
