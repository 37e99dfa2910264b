"""Importing local plugin code without changing ``sys.path``, and hashing it.

Files are imported with ``importlib.util.spec_from_file_location`` under a stable module name
inserted into ``sys.modules``, so worker processes given the same absolute paths import the
same modules; :func:`code_digest` is the SHA-256 of a plugin's code for the run manifest.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

#: prefix of the module names under which single-file plugins are imported
LOCAL_MODULE_PREFIX = "dyad_local_plugin_"


def code_digest(files: Sequence[Path]) -> str:
    r"""Return the SHA-256 of a plugin's code.

    The digest of the file's bytes for one file; for several, of the
    ``sha256sum``-style listing ``<sha256>  <path>\n`` of each file, sorted by path.
    """
    files = sorted(Path(f) for f in files)
    if not files:
        return ""
    digests = []
    for path in files:
        try:
            digests.append((hashlib.sha256(path.read_bytes()).hexdigest(), path))
        except OSError as exc:
            digests.append((f"unreadable ({type(exc).__name__})", path))
    if len(digests) == 1:
        return digests[0][0]
    listing = "".join(f"{digest}  {path}\n" for digest, path in digests)
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()


def _module_files(module: ModuleType) -> tuple[Path, ...]:
    """Return the Python source files of a module: its file, or every ``*.py`` of its package."""
    file = getattr(module, "__file__", None)
    if not file:
        return ()
    path = Path(file).resolve()
    if path.name == "__init__.py" and getattr(module, "__path__", None) is not None:
        return tuple(sorted(p.resolve() for p in path.parent.rglob("*.py")))
    return (path,)


# -- importing local plugin code -------------------------------------------------------------


def _local_module_name(path: Path) -> str:
    """Return a stable module name for a single-file plugin.

    The same path gives the same name in every process.
    """
    stem = re.sub(r"\W", "_", path.stem)
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    return f"{LOCAL_MODULE_PREFIX}{stem}_{digest}"


def _import_file(path: Path) -> ModuleType:
    """Import ``path`` under its stable name, inserted into sys.modules before executing."""
    name = _local_module_name(path)
    module = sys.modules.get(name)
    if module is not None and Path(getattr(module, "__file__", "") or "").resolve() == path:
        return module
    return _exec_module(name, path)


def _import_top_level(root: Path, top: str) -> ModuleType:
    """Import module or package ``top`` from ``root`` under its own name, without sys.path.

    A package gets ``submodule_search_locations``, so its submodules (and relative imports)
    resolve through the package's ``__path__``.
    """
    package = root / top / "__init__.py"
    if package.is_file():
        return _exec_module(top, package, package.parent)
    return _exec_module(top, root / f"{top}.py")


def _exec_module(name: str, path: Path, package_dir: Path | None = None) -> ModuleType:
    locations = [str(package_dir)] if package_dir is not None else None
    spec = importlib.util.spec_from_file_location(name, path, submodule_search_locations=locations)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _has_module(root: Path, top: str) -> bool:
    return (root / f"{top}.py").is_file() or (root / top / "__init__.py").is_file()


def _location(module: ModuleType) -> str:
    return str(getattr(module, "__file__", None) or module)


def _is_inside(module: ModuleType, folder: Path) -> bool:
    file = getattr(module, "__file__", None)
    if not file:
        return False
    try:
        return Path(file).resolve().is_relative_to(folder.resolve())
    except OSError:
        return False
