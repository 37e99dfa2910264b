"""The layout of a results folder: file names, format, and the marks of hidden siblings.

Shared by the writer (:mod:`~dyad.store.write`), the folder checks and tidying
(:mod:`~dyad.store.folders`) and the reader (:mod:`~dyad.store.read`).
"""

from __future__ import annotations

import re

from dyad._io import TEMP_MARK

MANIFEST = "manifest.json"
#: the file that makes a folder a sweep's (written by :mod:`dyad.sweeps`)
SWEEP_FILE = "sweep.json"
FORMAT = "dyad-results"
FORMAT_VERSION = 1
FIGURES_DIR = "figures"
#: Keys of the manifest that :func:`~dyad.store.write_run` owns; callers may not pass them.
RESERVED_KEYS = frozenset({"format", "format_version", "tables", "figures", "created"})
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_TEMP_MARK = TEMP_MARK
_NEW_MARK = ".new-"
_OLD_MARK = ".old-"
_LOCK_SUFFIX = ".lock"
_CHUNK = 1 << 20
