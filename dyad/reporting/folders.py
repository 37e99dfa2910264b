"""Which results folders a report is about: runs (``manifest.json``) or sweeps (``sweep.json``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPORT_NAME = "report.html"


@dataclass
class Results:
    """An opened results folder."""

    kind: str  # "run" or "sweep"
    folder: Path
    data: Any  # a Run or a Sweep


def detect_results(folder: str | os.PathLike) -> str:
    """``"sweep"`` (has ``sweep.json``) or ``"run"`` (has ``manifest.json``).

    Anything else is a :class:`ResultsError` naming the folder and what is missing
    (:func:`dyad.store.results_kind`, the one check of a results folder).
    """
    from dyad.store import results_kind

    return results_kind(folder)


def open_results(folder: Path) -> Results:
    """Open a run or sweep folder (checksums of a run are verified)."""
    from dyad.store import load_run
    from dyad.sweeps import load_sweep

    kind = detect_results(folder)
    if kind == "sweep":
        return Results("sweep", folder, load_sweep(folder))
    return Results("run", folder, load_run(folder))


def default_output(folders: list[Path]) -> Path:
    """``report.html`` in the one folder, or in the common parent of several."""
    if len(folders) == 1:
        return folders[0] / REPORT_NAME
    parent = Path(os.path.commonpath([str(f.resolve()) for f in folders]))
    return parent / REPORT_NAME


def unique_names(folders: list[Path]) -> list[str]:
    """Short labels for the folders (their names, with parents added where they clash)."""
    names = [f.resolve().name or "results" for f in folders]
    for i, name in enumerate(names):
        if names.count(name) > 1:
            names[i] = f"{folders[i].resolve().parent.name}/{name}"
    for i, name in enumerate(names):
        if names.count(name) > 1:
            names[i] = f"{name}#{i + 1}"
    return names


def slug(text: str) -> str:
    """Return a file-name-safe form of ``text``."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text).strip("_") or "x"
