"""Progress bars for the command layer: the one click helper and the adapter for callbacks.

The library below the commands (``dyad.brain``, ``dyad.vision``) never draws anything: its long
loops take a ``progress`` callback (:data:`ProgressCallback`), called as
``progress(stage, done, total)`` when a stage starts (``done == 0``) and as it advances.
:class:`ClickProgress` turns those calls into one click bar per stage on stderr; on a
non-terminal (CI logs, files) click prints only the label, so logs stay clean. A step that
takes a while but has nothing to count says what it is doing with :func:`progress_step`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import click

#: ``progress(stage, done, total)``: ``stage`` names the loop (e.g. "VisNet layer 2"), ``done``
#: counts finished steps of ``total``; a stage ends when ``done == total``
ProgressCallback = Callable[[str, int, int], None]


@contextmanager
def progress_bar[T](
    iterable: Iterable[T] | None = None,
    *,
    length: int | None = None,
    label: str = "",
    enabled: bool = True,
) -> Iterator:
    """Show a click progress bar on stderr; hidden entirely when ``enabled`` is False.

    Use as ``with progress_bar(items, label="training") as bar: for item in bar: ...`` or with
    ``length=`` and ``bar.update(n)``.
    """
    with click.progressbar(
        iterable,
        length=length,
        label=label,
        hidden=not enabled,
        file=sys.stderr,
        show_pos=True,
    ) as bar:
        yield bar


class ClickProgress:
    """A :data:`ProgressCallback` that draws one click bar per stage on stderr.

    A bar opens when a new stage is reported and closes when it reaches its total (or when
    the next stage starts, or on :meth:`close`), so library code needs no context manager.
    """

    def __init__(self) -> None:
        self._bar: Any = None
        self._stage: str | None = None
        self._done = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        """Show ``done`` of ``total`` in the bar of ``stage``, opening it if it is new."""
        if stage != self._stage:
            self.close()
            self._bar = click.progressbar(
                length=total, label=stage, file=sys.stderr, show_pos=True
            ).__enter__()
            self._stage, self._done = stage, 0
        if done > self._done:
            self._bar.update(done - self._done)
            self._done = done
        if done >= total:
            self.close()

    def close(self) -> None:
        """Finish the open bar, if any."""
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
        self._bar, self._stage, self._done = None, None, 0


def progress_callback(enabled: bool) -> ClickProgress | None:
    """Click bars for library progress when ``enabled`` (the commands' ``not --quiet``)."""
    return ClickProgress() if enabled else None


def progress_step(text: str, *, enabled: bool = True) -> None:
    """Name a slow step that has nothing to count in one line on stderr.

    For example starting worker processes. The line is shown where a progress bar would be;
    nothing is shown when ``enabled`` is False.
    """
    if enabled:
        click.echo(text, file=sys.stderr)
