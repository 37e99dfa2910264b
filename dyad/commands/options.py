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
    help="Extra folder of parent-policy plugins (repeatable; ./plugins is always searched).",
)

quiet_option = click.option("--quiet", is_flag=True, help="No progress bars.")


def set_option(help_text: str):
    """``--set FIELD=VALUE`` (repeatable) overriding scenario fields."""
    return click.option("--set", "overrides", multiple=True, metavar="FIELD=VALUE", help=help_text)
