"""Progress bars for the command layer: the one click helper and the adapter for callbacks.

The library below the commands (``dyad.brain``, ``dyad.vision``) never draws anything: its long
loops take a ``progress`` callback (:data:`ProgressCallback`), called as
``progress(stage, done, total)`` when a stage starts (``done == 0``) and as it advances.
:class:`ClickProgress` turns those calls into one click bar per stage on stderr; on a
non-terminal (CI logs, files) click prints only the label, so logs stay clean. In a Jupyter
notebook stderr is no terminal either, but its output area redraws a line on a carriage
return: there a :class:`LineBar` is drawn instead, so a sweep or a pre-training started from
a notebook shows how far it has got. A step that takes a while but has nothing to count says
what it is doing with :func:`progress_step`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import click

#: ``progress(stage, done, total)``: ``stage`` names the loop (e.g. "VisNet layer 2"), ``done``
#: counts finished steps of ``total``; a stage ends when ``done == total``
ProgressCallback = Callable[[str, int, int], None]


def in_notebook(stream: Any = None) -> bool:
    """Whether ``stream`` (default: stderr) is a Jupyter kernel's output stream."""
    stream = sys.stderr if stream is None else stream
    return type(stream).__module__.split(".")[0] == "ipykernel"


class LineBar:
    """A progress bar on one line, redrawn after a carriage return: for Jupyter's output area.

    Offers what dyad uses of a click bar: a context manager, iteration over ``iterable`` and
    ``update(n)``. The line is redrawn at most every ``interval`` seconds, and once more, with
    the elapsed time, when the bar closes.
    """

    def __init__(
        self,
        iterable: Iterable[Any] | None = None,
        *,
        length: int | None = None,
        label: str = "",
        file: Any = None,
        width: int = 30,
        interval: float = 0.2,
    ) -> None:
        if length is None:
            length = len(iterable) if hasattr(iterable, "__len__") else 0  # type: ignore[arg-type]
        self.iterable = iterable
        self.length = length
        self.label = label
        self.file = sys.stderr if file is None else file
        self.width = width
        self.interval = interval
        self.pos = 0
        self._started = time.monotonic()
        self._drawn = float("-inf")

    def __enter__(self) -> LineBar:
        self._draw(force=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self._draw(force=True, elapsed=True)
        self.file.write("\n")
        self.file.flush()

    def __iter__(self) -> Iterator[Any]:
        for item in self.iterable or ():
            yield item
            self.update(1)

    def update(self, n_steps: int, current_item: object = None) -> None:
        """Advance by ``n_steps``; ``current_item`` is accepted as click's bar does, unused."""
        self.pos += n_steps
        self._draw()

    def _draw(self, *, force: bool = False, elapsed: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._drawn < self.interval:
            return
        self._drawn = now
        share = min(self.pos / self.length, 1.0) if self.length else 0.0
        filled = round(self.width * share)
        bar = "#" * filled + "-" * (self.width - filled)
        line = f"{self.label}  [{bar}]  {self.pos}/{self.length}"
        if elapsed:
            line += f"  {now - self._started:.1f} s"
        self.file.write("\r" + line)
        self.file.flush()


def _open_bar(iterable: Iterable[Any] | None, length: int | None, label: str, hidden: bool):
    """Open a bar on stderr: a :class:`LineBar` in a notebook, else click's."""
    if not hidden and in_notebook():
        return LineBar(iterable, length=length, label=label)
    return click.progressbar(
        iterable, length=length, label=label, hidden=hidden, file=sys.stderr, show_pos=True
    )


@contextmanager
def progress_bar[T](
    iterable: Iterable[T] | None = None,
    *,
    length: int | None = None,
    label: str = "",
    enabled: bool = True,
) -> Iterator:
    """Show a progress bar on stderr; hidden entirely when ``enabled`` is False.

    Use as ``with progress_bar(items, label="training") as bar: for item in bar: ...`` or with
    ``length=`` and ``bar.update(n)``. Click's bar, or a :class:`LineBar` in a notebook.
    """
    with _open_bar(iterable, length, label, hidden=not enabled) as bar:
        yield bar


class ClickProgress:
    """A :data:`ProgressCallback` that draws one bar per stage on stderr (see progress_bar).

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
            self._bar = _open_bar(None, total, stage, hidden=False).__enter__()
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
