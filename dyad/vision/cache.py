"""The on-disk cache of pre-training and layer-4 banks: keys, atomic files, integrity checks.

Cache files live in a folder the user chooses (default ``$DYAD_CACHE_DIR`` or ``~/.cache/dyad``).
Each ``.npz`` holds the arrays plus a metadata record: the cache key (a SHA-256 of the canonical
JSON of the config, the dyad version and the source code of the modules the result depends on,
:func:`dependencies`), the config itself, and a checksum of the arrays. The file name is derived
from the config alone, so a file written by other code (a stale key) is found, reported and
replaced rather than left behind. Files are written to a temporary name in the same folder and
renamed into place, so a crash never leaves a half-written cache file under the real name. On
loading, a corrupt (unreadable, truncated, wrong checksum) or stale file is reported with
``logging.warning``, naming the file and the reason, and rebuilt: it is never used.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from dyad import __version__
from dyad._io import atomic_write, to_json
from dyad.errors import ConfigError
from dyad.vision.config import PretrainConfig, _canonical_json

log = logging.getLogger(__name__)

#: version of the cache file layout
CACHE_FORMAT = 1

#: dyad's packages whose modules can decide what pre-training produces; the fingerprint covers
#: those of their modules that this package imports, directly or through each other
#: (:func:`dependencies`), so an edit to the mirror layer's code keeps cached visual systems
DEPENDENCIES = ("faces", "brain", "vision")

_META = "__meta__"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def default_cache_dir() -> Path:
    """``$DYAD_CACHE_DIR`` if set, else ``~/.cache/dyad``."""
    configured = os.environ.get("DYAD_CACHE_DIR")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "dyad"


def dependencies(root: Path | None = None) -> list[Path]:
    """Return the source files pre-training's result can depend on, sorted.

    Every module of this package (``vision``), and every module of :data:`DEPENDENCIES` that
    one of them imports, directly or through another (``import`` and ``from`` statements
    anywhere in a module, functions included, read from its syntax tree), with the
    ``__init__.py`` of each package on the way. ``root`` is the ``dyad`` package folder.
    """
    root = Path(__file__).resolve().parents[1] if root is None else Path(root)
    found: set[Path] = set()
    followed: set[str] = set()
    pending = sorted((root / "vision").glob("*.py"))
    while pending:
        path = pending.pop()
        if path in found:
            continue
        found.add(path)
        stat = path.stat()
        for name in _imported_names(str(path), stat.st_mtime_ns, stat.st_size):
            if name not in followed:
                followed.add(name)
                pending += _module_files(root, name)
    return sorted(found)


@functools.lru_cache(maxsize=256)
def _imported_names(path: str, mtime_ns: int, size: int) -> tuple[str, ...]:
    """Dotted names a module imports (``from a.b import c`` gives ``a.b`` and ``a.b.c``).

    Remembered per file version (modification time and size): parsing every dependency
    costs about 60 ms, and the fingerprint is taken for every cache lookup.
    """
    names: list[str] = []
    for node in ast.walk(ast.parse(Path(path).read_bytes(), filename=path)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return tuple(names)


@functools.lru_cache(maxsize=1024)
def _module_files(root: Path, name: str) -> tuple[Path, ...]:
    """Return the files that importing ``name`` runs, within :data:`DEPENDENCIES` (with inits).

    Remembered: which files exist changes with a module added or removed, and the file that
    imports it is then edited too, which changes the fingerprint anyway.
    """
    parts = name.split(".")
    if len(parts) < 2 or parts[0] != "dyad" or parts[1] not in DEPENDENCIES:
        return ()
    files = []
    for depth in range(2, len(parts) + 1):
        folder = root.joinpath(*parts[1:depth])
        if (folder / "__init__.py").is_file():
            files.append(folder / "__init__.py")
        elif folder.with_suffix(".py").is_file():
            files.append(folder.with_suffix(".py"))
    return tuple(files)


def source_fingerprint(root: Path | None = None) -> str:
    """SHA-256 over the source of every module pre-training depends on (:func:`dependencies`).

    Any edit to those files changes the cache key, so results computed by other code are never
    reused. ``root`` is the ``dyad`` package folder (default: this installation's).
    """
    root = Path(__file__).resolve().parents[1] if root is None else Path(root)
    digest = hashlib.sha256()
    for path in dependencies(root):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def cache_key(config: PretrainConfig, extra: dict[str, Any] | None = None) -> str:
    """Return the SHA-256 cache key.

    It hashes the canonical config JSON + dyad version + source fingerprint (+ ``extra`` for
    results derived from the pre-trained network, such as response banks).
    """
    record = {
        "config": config.canonical(),
        "dyad_version": __version__,
        "source": source_fingerprint(),
    }
    if extra is not None:
        record["extra"] = to_json(extra)
    return _sha256(_canonical_json(record))


def array_checksum(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 over names, dtypes, shapes and bytes of the arrays (in name order)."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _resolve_cache_dir(cache_dir: str | os.PathLike | None) -> Path:
    folder = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"cache_dir: expected a folder, got a file: {folder}")
    return folder


def write_cache(path: Path, arrays: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
    """Write ``arrays`` and ``metadata`` (plus the arrays' checksum) atomically to ``path``.

    The file is written under a temporary name in the same folder, flushed to disk, then
    renamed over ``path``: readers see either the old file or the complete new one.
    """
    if _META in arrays:
        raise ValueError(f"array name {_META!r} is reserved for metadata")
    path.parent.mkdir(parents=True, exist_ok=True)
    record = dict(metadata, format=CACHE_FORMAT, checksum=array_checksum(arrays))
    meta = np.frombuffer(_canonical_json(record).encode(), dtype=np.uint8)
    atomic_write(path, lambda handle: np.savez(handle, **{_META: meta}, **arrays))


def read_cache(path: Path, key: str) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
    """Load a cache file if it is intact and was made for ``key``; otherwise warn and return None.

    A missing file returns None silently. A file made for another key (other config or code)
    is reported as stale; any failure to read it (a damaged zip directory can raise
    ``NotImplementedError``, ``zlib.error``, ``struct.error``, ``MemoryError`` and more, beside
    the usual ``OSError``/``ValueError``), and arrays that do not match their checksum, are
    reported as corrupt. Each is one ``logging.warning`` naming the file and the reason; the
    caller then rebuilds the file, so a damaged cache never stops a run.
    """
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            if _META not in data.files:
                raise ValueError("no metadata record")
            metadata = json.loads(data[_META].tobytes().decode())
            if not isinstance(metadata, dict):
                raise ValueError("metadata record is not a JSON object")
            if metadata.get("format") != CACHE_FORMAT:
                log.warning(
                    "pre-training cache %s is stale (file format %r, expected %r); rebuilding",
                    path,
                    metadata.get("format"),
                    CACHE_FORMAT,
                )
                return None
            if metadata.get("key") != key:
                log.warning(
                    "pre-training cache %s is stale (made by other code or config: key %.12s…, "
                    "expected %.12s…); rebuilding",
                    path,
                    str(metadata.get("key")),
                    key,
                )
                return None
            arrays = {name: data[name] for name in data.files if name != _META}
        intact = array_checksum(arrays) == metadata.get("checksum")
    except Exception as exc:  # any failure to read means the file is damaged: rebuild it
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        log.warning("pre-training cache %s is corrupt (%s); rebuilding", path, reason)
        return None
    if not intact:
        log.warning("pre-training cache %s is corrupt (array checksum mismatch); rebuilding", path)
        return None
    return arrays, metadata


def _cache_file(folder: Path, config: PretrainConfig, kind: str, extra: Any = None) -> Path:
    """Cache file name from the config (and ``extra``) only, not the code version."""
    name = _sha256(_canonical_json({"config": config.canonical(), "extra": to_json(extra)}))
    return folder / f"{kind}-{name[:24]}.npz"
