"""The one progress-bar helper used by long-running work (pre-training, simulations, sweeps).

Library code accepts ``progress: bool`` and wraps its loops with :func:`progress_bar`; on a
non-terminal (CI logs, files) click prints only the label, so logs stay clean. A step that
takes a while but has nothing to count says what it is doing with :func:`progress_step`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import click


@contextmanager
def progress_bar[T](
    iterable: Iterable[T] | None = None,
    *,
    length: int | None = None,
    label: str = "",
    enabled: bool = True,
) -> Iterator:
    """A click progress bar on stderr; hidden entirely when ``enabled`` is False.

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


def progress_step(text: str, *, enabled: bool = True) -> None:
    """One line on stderr naming a slow step that has nothing to count (e.g. starting worker
    processes), shown where a progress bar would be; nothing when ``enabled`` is False."""
    if enabled:
        click.echo(text, file=sys.stderr)
