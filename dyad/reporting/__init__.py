"""Reports of results folders: figures regenerated from the tables, plus the numbers behind them.

:func:`build_report` takes one or more results folders, each either a single run (a folder with
``manifest.json``, see :mod:`dyad.store`) or a sweep (a folder with ``sweep.json``, see
:mod:`dyad.sweeps`), and writes

- a self-contained HTML file (figures embedded as base64 PNG, so it can be mailed or archived
  on its own) or, for an output ending in ``.md``, a Markdown file linking the figure files;
- the figures as files next to it, in every requested format (``png``, ``svg``, ``pdf``).

The package is laid out as the report is made: :mod:`~dyad.reporting.folders` (what a folder
is), :mod:`~dyad.reporting.sections` (what each part says), :mod:`~dyad.reporting.content`
(sections, tables, figures, links), :mod:`~dyad.reporting.render` with the Jinja2 templates in
``templates/`` (how it looks), and :mod:`~dyad.reporting.build` (the whole, written at once).
Every folder is checked before anything is written: a path that is neither a run nor a sweep
is a one-line :class:`dyad.errors.ResultsError`.
"""

from dyad.reporting.build import FORMATS, StepTimer, build_report, equivalent_command
from dyad.reporting.folders import REPORT_NAME, detect_results
from dyad.reporting.sections import sweep_runs

__all__ = [
    "FORMATS",
    "REPORT_NAME",
    "StepTimer",
    "build_report",
    "detect_results",
    "equivalent_command",
    "sweep_runs",
]
