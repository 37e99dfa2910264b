"""Rendering a report's sections with the Jinja2 templates in ``dyad/reporting/templates/``.

The HTML page is self-contained (figures embedded as base64 PNG) so it can be mailed or
archived on its own; each figure also links to its file beside the report (click to see it at
full size) and each table of a run links to its Parquet file. The page is responsive: tables
scroll sideways inside their own box and figures shrink to the screen, so nothing widens the
page on a phone.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dyad.reporting.content import Section, plain

TEMPLATES = Path(__file__).parent / "templates"


def _environment(autoescape: bool):
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,  # a misspelt field fails loudly, not as ""
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["markdown_cell"] = lambda value: plain(value).replace("|", "\\|")
    return environment


def _relative(path: Path, start: Path) -> str:
    return Path(os.path.relpath(Path(path).resolve(), start.resolve())).as_posix()


def _css_width(png: Path) -> int:
    """Return the figure's width in CSS pixels at its print size (96 CSS px per inch).

    Figures are drawn at print size (e.g. 8 in wide at 200 dpi), so this shows text at the
    size it was designed for: a small sweep figure is not blown up to the page's width, and
    the wide heat maps keep readable ticks (on a phone they shrink; the link opens them).
    """
    from PIL import Image

    with Image.open(png) as image:
        dpi = image.info.get("dpi", (300, 300))[0] or 300
        return round(image.width * 96 / float(dpi))


def _table_html(frame, facts: bool) -> str:
    """Return a table as HTML; the index's name moves into the header row (no near-empty row)."""
    if facts:  # label -> value: no header at all
        return frame.to_html(border=0, na_rep="", escape=True, header=False, classes="facts")
    if frame.index.name and frame.columns.nlevels == 1 and frame.index.nlevels == 1:
        frame = frame.rename_axis(index=None, columns=frame.index.name)
    return frame.to_html(border=0, na_rep="", escape=True, classes="data")


def render_html(page: dict[str, Any], sections: Sequence[Section], output: Path) -> str:
    """Return the self-contained HTML page for ``sections``, written to ``output`` by the caller."""
    where = output.parent
    views = []
    for index, section in enumerate(sections):
        views.append(
            {
                "id": f"s{index}",
                "title": section.title,
                "paragraphs": section.paragraphs,
                "links": [
                    {"label": link.label, "href": _relative(link.path, where), "note": link.note}
                    for link in section.links
                ],
                "tables": [
                    {
                        "caption": table.caption,
                        "facts": table.facts,
                        "html": _table_html(table.frame, table.facts),
                    }
                    for table in section.tables
                ],
                "figures": [
                    {
                        "caption": figure.caption,
                        "data": base64.b64encode(figure.png.read_bytes()).decode("ascii"),
                        "width": _css_width(figure.png),
                        "href": _relative(figure.png, where),
                        "files": [
                            {"name": p.name, "href": _relative(p, where)} for p in figure.files
                        ],
                    }
                    for figure in section.figures
                ],
            }
        )
    template = _environment(autoescape=True).get_template("report.html.j2")
    return template.render(page=page, sections=views)


def render_markdown(page: dict[str, Any], sections: Sequence[Section], output: Path) -> str:
    """Return the Markdown page for ``sections``, linking figure files and tables relative to it."""
    where = output.parent
    views = []
    for section in sections:
        views.append(
            {
                "title": section.title,
                "paragraphs": section.paragraphs,
                "links": [
                    {"label": link.label, "href": _relative(link.path, where), "note": link.note}
                    for link in section.links
                ],
                "tables": [_markdown_table(table.caption, table.frame) for table in section.tables],
                "figures": [
                    {"caption": figure.caption, "href": _relative(figure.png, where)}
                    for figure in section.figures
                ],
            }
        )
    template = _environment(autoescape=False).get_template("report.md.j2")
    return template.render(page=page, sections=views)


def _markdown_table(caption: str, frame) -> dict[str, Any]:
    """Header and rows of a table with its index as the first column(s)."""
    flat = frame.reset_index()
    header = [str(c) if str(c) not in ("", "index") else " " for c in flat.columns]
    return {"caption": caption, "header": header, "rows": list(flat.itertuples(index=False))}
