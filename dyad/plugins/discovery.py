"""Where plugins come from: the paths the user names and the installed entry points.

Plugin paths are named with ``--plugins-dir``, ``$DYAD_PLUGINS_DIR`` (:func:`plugin_folders`
holds the one rule for which paths those are) or a scenario's ``plugins`` list; installed
distributions declare ``dyad.policies`` entry points, and ``$DYAD_LOAD_PLUGINS`` limits which
of them load.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import re
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

#: entry-point group that installed plugin distributions declare
ENTRY_POINT_GROUP = "dyad.policies"
#: plugin files or folders to load, separated by os.pathsep (like PATH)
ENV_PLUGINS_DIR = "DYAD_PLUGINS_DIR"
#: comma-separated installed plugins (entry-point or distribution names) to load; empty = none
ENV_LOAD_PLUGINS = "DYAD_LOAD_PLUGINS"


def plugin_paths_from_env(environ: Mapping[str, str] | None = None) -> tuple[Path, ...]:
    """Return the plugin files and folders named in ``$DYAD_PLUGINS_DIR`` (os.pathsep-separated)."""
    text = (os.environ if environ is None else environ).get(ENV_PLUGINS_DIR, "")
    return tuple(Path(part).expanduser() for part in text.split(os.pathsep) if part.strip())


def plugin_folders(
    paths: Sequence[str | os.PathLike] | None = None, *, with_env: bool = False
) -> tuple[Path, ...]:
    """Return the plugin files and folders to load: absolute, ``~`` expanded, without repeats.

    ``paths`` as given; when ``paths`` is None, those named in ``$DYAD_PLUGINS_DIR``; with
    ``with_env``, ``$DYAD_PLUGINS_DIR``'s first and then ``paths`` (the command line's rule:
    the environment plus ``--plugins-dir``). Absolute, so sweep workers started in another
    folder find the same plugins. The one place this rule lives (the CLI, the model built
    from a scenario and the live view use it).
    """
    if paths is None:
        found: Sequence[str | os.PathLike] = plugin_paths_from_env()
    elif with_env:
        found = (*plugin_paths_from_env(), *paths)
    else:
        found = tuple(paths)
    return tuple(dict.fromkeys(Path(p).expanduser().resolve() for p in found))


def _load_filter() -> frozenset[str] | None:
    """Names from ``$DYAD_LOAD_PLUGINS`` (normalised), or None when it is not set."""
    text = os.environ.get(ENV_LOAD_PLUGINS)
    if text is None:
        return None
    return frozenset(_normalise(part) for part in text.split(",") if part.strip())


_entry_point_cache: dict[tuple, list[importlib.metadata.EntryPoint]] = {}
_cache_lock = threading.Lock()


def _discover_entry_points() -> list[importlib.metadata.EntryPoint]:
    """Installed ``dyad.policies`` entry points allowed by ``$DYAD_LOAD_PLUGINS``.

    Scanning every distribution's metadata takes tens of milliseconds, so the result is kept
    per (``sys.path``, filter): validating thousands of sweep runs scans once.
    """
    allowed = _load_filter()
    key = (tuple(sys.path), allowed)
    with _cache_lock:
        cached = _entry_point_cache.get(key)
        if cached is not None:
            return cached
    found = []
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if allowed is not None:
            dist_name = _distribution_of(ep)[0]
            if _normalise(ep.name) not in allowed and _normalise(dist_name) not in allowed:
                logger.debug("plugin %s not in $%s; skipped", ep.name, ENV_LOAD_PLUGINS)
                continue
        found.append(ep)
    with _cache_lock:
        _entry_point_cache[key] = found
    return found


def _distribution_of(ep: importlib.metadata.EntryPoint) -> tuple[str, str, str]:
    """(name, version, location) of the distribution declaring ``ep`` (empty if unknown)."""
    dist = ep.dist
    if dist is None:
        return ("", "", "")
    try:
        location = str(dist.locate_file(""))
    except Exception:  # some finders cannot locate files; the name still identifies it
        location = ""
    return (dist.metadata["Name"] or dist.name, dist.version, location)


def _normalise(project_name: str) -> str:
    return re.sub(r"[-_.]+", "-", project_name.strip()).lower()
