"""``dyad view SCENARIO``: watch a run live in the browser (Mesa's SolaraViz page)."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
from pathlib import Path

import click

from dyad.commands.options import (
    cache_dir_option,
    plugins_dir_option,
    quiet_option,
    seed_option,
    set_option,
)


class MissingExtra(click.ClickException):
    """The viz extra is not installed: one line on how to install it, exit code 2."""

    exit_code = 2


@click.command()
@click.argument("scenario")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8765,
    show_default=True,
    help="Port of the page on this machine.",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (0.0.0.0 shows the page to other machines).",
)
@seed_option
@set_option("Override a scenario field, e.g. --set mirror.n_neurons=64.")
@cache_dir_option
@plugins_dir_option
@quiet_option
def view(
    scenario: str,
    port: int,
    host: str,
    seed: int | None,
    overrides: tuple[str, ...],
    cache_dir: Path | None,
    plugins_dirs: tuple[Path, ...],
    quiet: bool,
) -> None:
    """Serve a live page of SCENARIO (a TOML file or a shipped scenario's name, e.g. perfect).

    The page shows the parent's face as the infant sees it and the infant's own expression,
    the mirror layer's rates over the last timesteps (neurons ordered by class), and the
    neuron classes and congruence so far, tested every few timesteps. Play, pause, step and
    reset the run; the policy and its parameters take effect on Reset.

    The visual system comes from the pre-training cache (trained now if missing), so once
    cached the page is up in seconds. Stop the server with Ctrl+C.
    """
    from dyad.view import install_hint, missing_viz_modules

    if missing_viz_modules():
        raise MissingExtra(install_hint("dyad view"))

    from dyad.commands.options import plugin_paths
    from dyad.config import parse_override
    from dyad.config.reading import find_scenario, resolve_scenario
    from dyad.view.page import prepare_view

    plugin_dirs = plugin_paths(plugins_dirs)
    fields = dict(parse_override(o) for o in overrides)
    path = find_scenario(scenario).resolve()
    config = resolve_scenario(path, fields, plugin_dirs)
    _check_port(host, port)
    # pre-train (or load) now, with progress, so the page's model loads from the cache; the
    # faces behind the layer-4 bank are rendered once too, so the page shows them at once
    prepare_view(config, cache_dir, progress=not quiet, seed=seed)

    os.environ["DYAD_VIEW_SCENARIO"] = str(path)
    os.environ["DYAD_VIEW_SEED"] = "" if seed is None else str(seed)
    os.environ["DYAD_VIEW_OVERRIDES"] = json.dumps(fields)
    os.environ["DYAD_VIEW_PLUGIN_DIRS"] = json.dumps([str(d) for d in plugin_dirs])
    if cache_dir is not None:
        os.environ["DYAD_CACHE_DIR"] = str(cache_dir.resolve())
    app = importlib.util.find_spec("dyad.view.app").origin
    click.echo(f"dyad view: {config.name} at http://{host}:{port} (Ctrl+C stops)", err=True)
    # Solara's server in this process: dyad, Mesa and numba are imported already, which
    # roughly halves the time until the page is up compared with starting `solara run`
    from solara.__main__ import cli as solara_cli

    solara_cli.main(
        ["run", app, "--host", host, "--port", str(port), "--production", "--no-open"],
        prog_name="solara",
        standalone_mode=False,
    )


def _check_port(host: str, port: int) -> None:
    """Bad input, not a server traceback, when the port is taken."""
    from dyad.errors import ConfigError

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError(
                f"--port {port}: cannot listen on {host}:{port} ({exc.strerror}); "
                "choose another port"
            ) from None
