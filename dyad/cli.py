"""The ``dyad`` command line.

Commands live in ``dyad/commands/`` and are imported only when invoked, so ``dyad --help``
stays fast (Mesa, pandas and numba are heavy to import).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

import click

from dyad import __version__
from dyad.errors import DyadError

#: command name -> "module:attribute" of its click command
COMMANDS: dict[str, tuple[str, str]] = {
    "faces": ("dyad.commands.faces:faces", "Write a contact sheet of a parent's faces."),
    "pretrain": ("dyad.commands.pretrain:pretrain", "Pre-train VisNet on a parent's face."),
    "simulate": ("dyad.commands.simulate:simulate", "Run one scenario and save results."),
    "sweep": ("dyad.commands.sweep:sweep", "Run a scenario's parameter sweep."),
    "report": ("dyad.commands.report:report", "Figures and a report for a results folder."),
    "plugins": ("dyad.commands.plugins:plugins", "List parent policies and their sources."),
    "view": ("dyad.commands.view:view", "Watch a run live in the browser (extra viz)."),
    "schema": ("dyad.commands.schema:schema", "The scenario format: JSON Schema or Markdown."),
}


class BadInput(click.ClickException):
    """A :class:`DyadError` shown as one ``Error:`` line per problem, exit code 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        for line in self.message.splitlines() or ["bad input"]:
            click.echo(f"Error: {line}", err=True)


class LazyGroup(click.Group):
    """A click group that imports each command's module only when that command runs.

    Any :class:`DyadError` raised by a command becomes :class:`BadInput` (exit code 2, no
    traceback), whether the CLI runs from the console script or from ``CliRunner``.
    """

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except DyadError as exc:
            raise BadInput(str(exc) or type(exc).__name__) from exc

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if _available(name)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS or not _available(cmd_name):
            return None
        target, short_help = COMMANDS[cmd_name]
        module_name, attribute = target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        command.short_help = command.short_help or short_help
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _available(name: str) -> bool:
    module_name = COMMANDS[name][0].split(":")[0]
    return importlib.util.find_spec(module_name) is not None


@click.group(cls=LazyGroup)
@click.version_option(__version__, prog_name="dyad")
def cli() -> None:
    """dyad: mirror neurons for facial expressions, grown through infant-parent interaction."""


def main() -> None:
    """Console entry point: bad input becomes one line per problem and exit code 2."""
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except DyadError as exc:
        BadInput(str(exc) or type(exc).__name__).show()
        sys.exit(2)
    # without standalone mode click returns the code a command passed to ctx.exit(n)
    sys.exit(code or 0)
