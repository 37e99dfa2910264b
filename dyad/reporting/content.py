"""What a report holds, independent of how it is rendered: sections of tables, figures, links.

The sections (:mod:`dyad.reporting.sections`) fill these; the templates
(``dyad/reporting/templates/``) render them as HTML or Markdown.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd


@dataclass
class Figure:
    """One figure: its caption, its PNG (embedded in HTML) and every file written."""

    caption: str
    png: Path
    files: list[Path]


@dataclass
class Table:
    """A captioned table; ``facts`` tables are two columns (label, value) of free text."""

    caption: str
    frame: pd.DataFrame
    facts: bool = False


@dataclass
class Link:
    """A file the reader may open: a Parquet table, a manifest (``path`` is absolute)."""

    label: str
    path: Path
    note: str = ""


@dataclass
class Section:
    """A titled part of the report: paragraphs, links, tables and figures, in that order."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)

    def add_table(self, caption: str, frame: pd.DataFrame) -> None:
        """Add a data table (numbers in columns)."""
        self.tables.append(Table(caption, frame))

    def add_facts(self, caption: str, facts: Mapping[str, Any]) -> None:
        """Add a label -> value table; values that are None are left out."""
        rows = {k: plain(v) for k, v in facts.items() if v is not None}
        frame = pd.DataFrame({"value": list(rows.values())}, index=pd.Index(list(rows)))
        self.tables.append(Table(caption, frame, facts=True))


def plain(value: Any) -> str:
    """Text for a table cell: mappings and lists as JSON, None as empty."""
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, default=str)
    return "" if value is None else str(value)


def number(value: Any, digits: int = 3) -> str | None:
    """``value`` with ``digits`` decimals; "n/a" for NaN/inf, None for None."""
    if value is None:
        return None
    try:
        as_float = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(as_float):
        return "n/a"
    return f"{as_float:.{digits}f}"
