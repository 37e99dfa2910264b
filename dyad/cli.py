"""The ``dyad`` command line.

Commands live in ``dyad/commands/`` and are imported only when invoked, so ``dyad --help``
stays fast (Mesa, pandas and numba are heavy to import). Each is a thin wrapper over a
function of :mod:`dyad.api`.

Shell completion is click's: ``eval "$(_DYAD_COMPLETE=bash_source dyad)"`` in ``~/.bashrc``
(``zsh_source`` and ``fish_source`` for those shells).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
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
        """Print each line of the message as an ``Error:`` line on stderr."""
        for line in self.message.splitlines() or ["bad input"]:
            click.echo(f"Error: {line}", err=True)


class LazyGroup(click.Group):
    """A click group that imports each command's module only when that command runs.

    Any :class:`DyadError` raised by a command becomes :class:`BadInput` (exit code 2, no
    traceback), whether the CLI runs from the console script or from ``CliRunner``.
    """

    def invoke(self, ctx: click.Context):
        """Run the command, turning a :class:`DyadError` into :class:`BadInput`."""
        try:
            return super().invoke(ctx)
        except DyadError as exc:
            raise BadInput(str(exc) or type(exc).__name__) from exc

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Return the names of the commands whose module can be imported."""
        return [name for name in COMMANDS if _available(name)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import and return the command ``cmd_name``, or None if there is no such command."""
        if cmd_name not in COMMANDS or not _available(cmd_name):
            return None
        target, short_help = COMMANDS[cmd_name]
        module_name, attribute = target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        command.short_help = command.short_help or short_help
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands in ``--help`` from their short help, without importing them."""
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _available(name: str) -> bool:
    module_name = COMMANDS[name][0].split(":")[0]
    return importlib.util.find_spec(module_name) is not None


#: --log-level choices -> logging levels
LOG_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


class EchoHandler(logging.Handler):
    """Log records as lines on the current stderr (click's, so ``CliRunner`` captures them).

    Warnings and errors read as ``Warning: ...``; with ``-v`` the informational lines (what
    was loaded or written, and from where) are plain; with ``-vv`` debug lines name their
    module.
    """

    def emit(self, record: logging.LogRecord) -> None:
        """Write ``record`` as one line on click's stderr."""
        try:
            message = record.getMessage()
            if record.levelno >= logging.ERROR:
                line = f"Error: {message}"
            elif record.levelno >= logging.WARNING:
                line = f"Warning: {message}"
            elif record.levelno >= logging.INFO:
                line = message
            else:
                line = f"[{record.name}] {message}"
            click.echo(line, err=True)
        except Exception:  # a logging call must never break the command
            self.handleError(record)


def configure_logging(ctx: click.Context, level: int) -> None:
    """Show the ``dyad`` loggers' records at ``level`` and above on stderr while ``ctx`` runs.

    The handler and any lowered logger level are removed when the command ends, so calling
    the CLI from Python (or from tests) leaves that process's logging as it was.
    """
    logger = logging.getLogger("dyad")
    handler = EchoHandler(level)
    previous = logger.level
    logger.addHandler(handler)
    if level < logger.getEffectiveLevel():
        logger.setLevel(level)

    def restore() -> None:
        logger.removeHandler(handler)
        logger.setLevel(previous)

    ctx.call_on_close(restore)


@click.group(cls=LazyGroup)
@click.version_option(__version__, prog_name="dyad")
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="Say more: -v what is loaded and written, -vv debugging detail.",
)
@click.option(
    "--log-level",
    type=click.Choice(list(LOG_LEVELS), case_sensitive=False),
    default=None,
    help="Lowest level of dyad's log messages shown on stderr (default: warning; overrides -v).",
)
@click.pass_context
def cli(ctx: click.Context, verbose: int, log_level: str | None) -> None:
    """dyad: mirror neurons for facial expressions, grown through infant-parent interaction.

    Shell completion: eval "$(_DYAD_COMPLETE=bash_source dyad)" (or zsh_source,
    fish_source).
    """
    from dyad.commands.options import VERBOSITY

    ctx.meta[VERBOSITY] = verbose
    if log_level is not None:
        level = LOG_LEVELS[log_level.lower()]
    else:
        level = (logging.WARNING, logging.INFO)[verbose] if verbose < 2 else logging.DEBUG
    configure_logging(ctx, level)


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
