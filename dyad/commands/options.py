"""Options shared by several ``dyad`` commands, defined once so they read the same everywhere."""

from __future__ import annotations

from pathlib import Path

import click

cache_dir_option = click.option(
    "--cache-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where pre-trained networks are cached (default: $DYAD_CACHE_DIR or ~/.cache/dyad).",
)

plugins_dir_option = click.option(
    "--plugins-dir",
    "plugins_dirs",
    multiple=True,
    type=click.Path(path_type=Path),
    help="A folder of parent-policy plugins, or one plugin .py file (repeatable). Also "
    "$DYAD_PLUGINS_DIR (paths separated by ':'); nothing in the working folder is loaded "
    "unless named.",
)


def plugin_paths(extra: tuple[Path, ...]) -> tuple[Path, ...]:
    """``$DYAD_PLUGINS_DIR`` then the ``--plugins-dir`` paths, absolute, without repeats."""
    from dyad.plugins import plugin_folders

    return plugin_folders(extra, with_env=True)


quiet_option = click.option("--quiet", is_flag=True, help="No progress bars.")

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
