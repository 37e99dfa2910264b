"""``build_report``: check the folders, draw the figures, render the page, write it whole."""

from __future__ import annotations

import datetime as _dt
import logging
import os
import shlex
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from dyad import __version__
from dyad._io import atomic_write
from dyad.analysis.figures.common import FORMATS
from dyad.errors import ConfigError
from dyad.reporting.content import Section
from dyad.reporting.folders import default_output, open_results, unique_names
from dyad.reporting.render import render_html, render_markdown
from dyad.reporting.sections import pooled_section, provenance_section, run_section, sweep_section

log = logging.getLogger(__name__)


def equivalent_command(
    folders: Sequence[Path],
    output: Path | None,
    formats: Sequence[str],
    congruence_bin: float,
) -> str:
    """Return the ``dyad report`` command line that makes this report (shown at its top)."""
    words = ["dyad", "report", *(str(f) for f in folders)]
    for fmt in formats:
        if fmt != "png":
            words += ["--format", fmt]
    if output is not None:
        words += ["--output", str(output)]
    if congruence_bin != 0.05:
        words += ["--congruence-bin", f"{congruence_bin:g}"]
    return shlex.join(words)


def build_report(
    results: Sequence[str | os.PathLike],
    output: str | os.PathLike | None = None,
    formats: Sequence[str] = ("png",),
    *,
    congruence_bin: float = 0.05,
    command: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Write a report of ``results`` (run and/or sweep folders); return the report's path.

    Parameters
    ----------
    results
        Result folders. Several sweep folders are pooled in the congruence figures.
    output
        The report file, ``.html`` (self-contained) or ``.md``. Default: ``report.html`` in
        the folder, or, for several folders, in their common parent folder.
    formats
        Figure file formats written next to the report (PNG is always written: HTML embeds it).
    congruence_bin
        Width of the congruence bins that group runs in the pooled figures.
    command
        The command line shown at the top of the report; default: the ``dyad report`` command
        that makes the same report.
    progress
        Called with a short description at the start of every step (opening a folder,
        drawing a figure, writing the page), so a command can show what it is doing.
    """
    step = progress or (lambda _: None)
    if not results:
        raise ConfigError("results: expected at least one run or sweep folder")
    given_formats = tuple(formats)
    formats = tuple(dict.fromkeys(("png", *formats)))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ConfigError(f"--format: expected one of {', '.join(FORMATS)}, got {unknown[0]!r}")
    if not (0 < congruence_bin <= 1):
        raise ConfigError(f"congruence_bin: expected a number in (0, 1], got {congruence_bin}")
    folders = [Path(p) for p in results]
    given_output = Path(output) if output is not None else None
    if given_output is not None:  # a wrong name is said before any folder is read
        _check_output(given_output)
    opened = []
    for folder in folders:  # every folder checked before anything is written
        step(f"opening {folder}")
        opened.append(open_results(folder))
    output = given_output if given_output is not None else default_output(folders)
    _check_output(output)

    figure_dir = output.with_name(f"{output.stem}_figures")
    figure_dir.mkdir(parents=True, exist_ok=True)
    sections: list[Section] = []
    names = unique_names([r.folder for r in opened])
    sweeps = [(name, r) for name, r in zip(names, opened, strict=True) if r.kind == "sweep"]
    for name, item in zip(names, opened, strict=True):
        if item.kind == "run":
            sections.append(run_section(item.data, name, figure_dir, formats, step))
        else:
            sections.append(sweep_section(item.data, name, figure_dir, formats, step))
    if sweeps:
        pooled = pooled_section(sweeps, figure_dir, formats, congruence_bin, step)
        if pooled is not None:
            sections.append(pooled)
    sections.append(provenance_section())

    step(f"writing {output}")
    page = {
        "title": "dyad report: " + ", ".join(str(f) for f in folders),
        "version": __version__,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "command": command
        or equivalent_command(folders, given_output, given_formats, congruence_bin),
    }
    if output.suffix.lower() == ".md":
        text = render_markdown(page, sections, output)
    else:
        text = render_html(page, sections, output)
    _atomic_write_text(output, text)
    log.info("wrote %s (%d sections, figures in %s)", output, len(sections), figure_dir)
    return output


def _atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` as ``path`` whole or not at all (:func:`dyad._io.atomic_write`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text.encode("utf-8"))


class StepTimer:
    """A progress callback that numbers the steps and shows the time since the start.

    ``StepTimer(echo)`` calls ``echo("  [3]   4.2 s  noise_sweep: classes against q")``;
    ``dyad report`` uses it so a report of many folders is never silent.
    """

    def __init__(self, echo: Callable[[str], None]) -> None:
        self.echo = echo
        self.count = 0
        self.started = time.perf_counter()

    def __call__(self, message: str) -> None:
        """Echo ``message`` with its step number and the seconds since the start."""
        self.count += 1
        elapsed = time.perf_counter() - self.started
        self.echo(f"  [{self.count}] {elapsed:5.1f} s  {message}")


def _check_output(output: Path) -> None:
    """Raise ConfigError unless ``output`` names an HTML or Markdown file (not a folder)."""
    if output.suffix.lower() not in (".html", ".htm", ".md"):
        raise ConfigError(f"--output: expected a .html or .md file name, got {output}")
    if output.is_dir():
        raise ConfigError(f"--output: {output} is a folder; give a file name such as report.html")
