"""The small I/O helpers every writer of dyad shares: one of each, with one rule each.

Results folders (:mod:`dyad.store`), sweep folders (:mod:`dyad.sweeps`) and the pre-training
cache (:mod:`dyad.vision`) all write files that must survive a crash or a ``kill -9`` whole or
not at all, and all store metadata as strict JSON. Written once here, so a fix (an fsync
forgotten, a NaN let through) reaches every writer.

- :func:`atomic_write`: a temporary sibling, flushed and fsynced, renamed over the target,
  then the folder fsynced, so readers see the old file or the complete new one.
- :func:`sync_filesystems`: one ``syncfs`` for many files written without an fsync each (a
  sweep batch's run folders, made durable together before any is swapped in).
- :func:`to_json`: the one conversion into plain JSON values (non-finite floats become
  ``null``; an unknown type is a ``TypeError`` naming where it was found).
- :func:`flatten`, :func:`is_scalar`, :func:`is_int`, :func:`utc_now`.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import errno
import hashlib
import json
import math
import os
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

#: marks a temporary file of :func:`atomic_write`: ``.<name>.tmp-<pid>-<random>``; tidying
#: code (:func:`dyad.store.clean_partial`) recognises leftovers by it
TEMP_MARK = ".tmp-"
_CHUNK = 1 << 20


def atomic_write(
    path: str | os.PathLike,
    data: bytes | Callable[[BinaryIO], None],
    *,
    sync_folder: bool = True,
    sync_file: bool = True,
) -> str:
    """Write ``path`` whole or not at all; return the SHA-256 (hex) of what was written.

    Parameters
    ----------
    path:
        The file to create or replace. Its folder must exist.
    data:
        The bytes, or a function that writes them into the open binary file it is given
        (so large tables and arrays stream straight to disk).
    sync_folder:
        Also fsync the folder after the rename, so the rename itself survives a power cut.
        A writer of many files in one folder passes False and calls :func:`fsync_folder`
        once at the end.
    sync_file:
        Fsync the file before the rename. Only a writer that makes the file durable some
        other way before anyone can see it passes False: the run folders of a sweep batch,
        hidden until :func:`sync_filesystems` has synced them all at once.

    The data go to a hidden temporary sibling (``.<name>.tmp-<pid>-<random>``), which is
    flushed and fsynced and then renamed over ``path``; on any error, including
    ``KeyboardInterrupt``, the temporary file is removed and ``path`` is untouched.
    """
    target = Path(path)
    temp = target.with_name(f".{target.name}{TEMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        with temp.open("wb") as handle:
            hashing = _HashingFile(handle)
            if callable(data):
                data(hashing)
            else:
                hashing.write(data)
            handle.flush()
            if sync_file:
                os.fsync(handle.fileno())
        digest = hashing.hexdigest() or file_sha256(temp)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    if sync_folder:
        fsync_folder(target.parent)
    return digest


class _HashingFile:
    """The open file, hashing the bytes written through it, so they need not be read back.

    Writers that only append (Parquet, copies, text) are hashed as they write. A writer that
    asks the file for anything but ``write`` (``np.savez`` seeks back into its zip) turns the
    hashing off, and :func:`atomic_write` hashes the finished file from disk instead.
    """

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self._digest: Any = hashlib.sha256()

    def write(self, data) -> int:
        if self._digest is not None:
            self._digest.update(data)
        return self._handle.write(data)

    def __getattr__(self, name: str) -> Any:
        self._digest = None
        return getattr(self._handle, name)

    def hexdigest(self) -> str | None:
        """SHA-256 (hex) of everything written, or None if the writer did more than append."""
        return None if self._digest is None else self._digest.hexdigest()


def fsync_folder(folder: str | os.PathLike) -> None:
    """Persist the renames in ``folder`` (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def sync_filesystems(folders: Sequence[str | os.PathLike]) -> None:
    """Make everything written under ``folders`` durable, with one sync per filesystem.

    On Linux, ``syncfs(2)`` on each distinct filesystem among ``folders``: one flush instead of
    one fsync per file (for a sweep batch of 16 runs, about 3 ms instead of 16 x 8 fsyncs of
    0.3-0.5 ms). Where ``syncfs`` is missing or fails, every file and folder under ``folders``
    is fsynced instead. Raises ``OSError`` when a sync reports a write error.
    """
    pending = {}
    for folder in folders:
        pending.setdefault(os.stat(folder).st_dev, []).append(Path(folder))
    for group in pending.values():
        if not _syncfs(group[0]):
            for folder in group:
                _fsync_tree(folder)


def _syncfs(folder: Path) -> bool:
    """``syncfs(2)`` on the filesystem of ``folder``; False where it is not available."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        syncfs = libc.syncfs
    except (OSError, AttributeError):
        return False
    fd = os.open(folder, os.O_RDONLY)
    try:
        if syncfs(fd) != 0:
            error = ctypes.get_errno()
            if error in (errno.ENOSYS, errno.EINVAL, errno.EPERM):
                return False
            raise OSError(error, f"syncfs failed: {os.strerror(error)}", str(folder))
    finally:
        os.close(fd)
    return True


def _fsync_tree(folder: Path) -> None:
    """Fsync every file under ``folder``, then every folder (deepest first)."""
    for root, _dirs, files in os.walk(folder, topdown=False):
        for name in files:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_folder(root)


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 (hex) of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def to_json(value: Any, where: str = "value") -> Any:
    """``value`` as plain JSON types: dict, list, str, int, float, bool, None.

    Mappings (keys as text), lists, tuples, sets (sorted by text), paths, numpy scalars and
    arrays, dataclasses, enums (their value), dates (ISO 8601) and pydantic models are
    converted; non-finite floats become ``None`` so the result is strict JSON. Anything else
    is a :class:`TypeError` naming ``where`` it was found (e.g. ``manifest.timings.x``):
    metadata that cannot be read back is a bug to see, not a string to store.
    """
    import numpy as np

    if isinstance(value, enum.Enum):
        return to_json(value.value, where)
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): to_json(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, set | frozenset):
        return [to_json(v, where) for v in sorted(value, key=str)]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, np.generic | np.ndarray):
        return to_json(value.tolist(), where)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_json(dataclasses.asdict(value), where)
    if isinstance(value, _dt.datetime | _dt.date):
        return value.isoformat()
    if hasattr(value, "model_dump"):  # pydantic models
        return to_json(value.model_dump(mode="json"), where)
    raise TypeError(f"{where}: cannot store a {type(value).__name__} as JSON: {value!r}")


def json_text(value: Any, where: str = "value") -> str:
    """``value`` as indented, strict JSON text ending in a newline (see :func:`to_json`)."""
    return json.dumps(to_json(value, where), indent=2, allow_nan=False) + "\n"


def write_json(path: str | os.PathLike, value: Any, where: str | None = None) -> str:
    """Write ``value`` as JSON text with :func:`atomic_write`; return its SHA-256."""
    text = json_text(value, where or Path(path).name)
    return atomic_write(path, text.encode("utf-8"))


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(dotted.path, value)`` for each leaf of nested mappings (``{"a": {"b": 1}}`` → ``a.b``)."""
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from flatten(value, f"{name}.")
        else:
            yield name, value


def is_scalar(value: Any) -> bool:
    """Whether ``value`` fits one table cell as it is: None, text, a number or a bool."""
    return value is None or isinstance(value, str | int | float | bool)


def is_int(value: Any) -> bool:
    """Whether ``value`` is an integer (Python or numpy), not a bool."""
    import numpy as np

    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def utc_now() -> str:
    """Return the current UTC time as ISO 8601 text to the second.

    For example ``2026-11-30T13:50:00+00:00``.
    """
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
