"""Checking, locking and tidying a run folder before and after a write.

:func:`reserve_run_folder` checks a folder (:func:`check_run_folder`) and takes its
:class:`FolderLock` before any work starts, so a bad ``--output`` fails in milliseconds, not
after the run; :func:`clean_partial` removes what an interrupted write left behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

from dyad.errors import ResultsError
from dyad.store.layout import (
    _LOCK_SUFFIX,
    _NEW_MARK,
    _OLD_MARK,
    _TEMP_MARK,
    FIGURES_DIR,
    MANIFEST,
    SWEEP_FILE,
)
from dyad.store.read import _read_manifest_quietly

log = logging.getLogger(__name__)


def check_run_folder(folder: str | os.PathLike, *, overwrite: bool = False) -> str:
    """Whether a run may be written as ``folder``: ``"new"``, ``"incomplete"`` or ``"replace"``.

    Raises :class:`ResultsError` (one line naming the folder) when ``folder`` is a file, a sweep
    folder, a folder with files dyad did not write, a complete run without ``overwrite``, or
    cannot be written (its nearest existing parent, or the folder itself, is not writable).
    Nothing is created or changed.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ResultsError(f"{folder}: exists and is not a folder; choose another --output")
    if not folder.exists():
        check_writable(folder)
        return "new"
    if (folder / SWEEP_FILE).is_file():
        raise ResultsError(
            f"{folder}: is a sweep folder (has {SWEEP_FILE}), not a run folder; "
            "choose another --output"
        )
    check_writable(folder)
    old = _read_manifest_quietly(folder)
    if old is not None:
        if not overwrite:
            made = f" made {old['created']}" if isinstance(old.get("created"), str) else ""
            raise ResultsError(
                f"{folder}: already holds a complete run{made}; pass --overwrite to replace it, "
                "or choose another --output"
            )
        return "replace"
    foreign = _foreign_entries(folder)
    if foreign:
        raise ResultsError(
            f"{folder}: not empty and not a dyad run folder (has {foreign[0]!r}"
            f"{f' and {len(foreign) - 1} more' if len(foreign) > 1 else ''}); "
            "choose another --output"
        )
    return "incomplete"


def _foreign_entries(folder: Path) -> list[str]:
    """Entries of a folder without a valid manifest that an interrupted run would not leave."""
    out = []
    for path in sorted(folder.iterdir()):
        name = path.name
        if path.is_file() and (name.endswith(".parquet") or name == MANIFEST or _TEMP_MARK in name):
            continue
        if path.is_dir() and name == FIGURES_DIR:
            continue
        out.append(name)
    return out


def check_writable(folder: Path) -> None:
    """Check that new entries can be written where ``folder`` is.

    Raises :class:`ResultsError` unless ``folder`` (if it exists) and its nearest existing
    parent accept new entries.
    """
    probe = folder if folder.exists() else folder.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise ResultsError(f"{folder}: cannot be created ({probe} is not a folder)")
    for path in {probe, folder.parent} if folder.exists() else {probe}:
        if path.exists() and not os.access(path, os.W_OK | os.X_OK):
            raise ResultsError(f"{folder}: cannot write here ({path} is not writable)")


class FolderLock:
    """An exclusive lock on a results folder, so that one process at a time writes it.

    The lock is ``fcntl.flock`` on a hidden sibling file ``.<name>.lock`` (a sibling, not a
    file inside, because the folder itself is swapped whole). The operating system releases
    the lock when its process dies, so a ``kill -9`` never leaves a stale lock; the file holds
    the owner's pid and host for the error message and is removed on release.
    """

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        resolved = self.folder.resolve()
        if not resolved.name:
            raise ResultsError(f"{folder}: cannot be a results folder (a filesystem root)")
        self.path = resolved.with_name(f".{resolved.name}{_LOCK_SUFFIX}")
        self._fd: int | None = None

    def acquire(self) -> FolderLock:
        """Take the lock or raise :class:`ResultsError` naming the process that holds it."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ResultsError(f"{self.folder}: cannot be created ({_reason(exc)})") from None
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise ResultsError(f"{self.folder}: cannot write here ({_reason(exc)})") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown"
                os.close(fd)
                raise ResultsError(
                    f"{self.folder}: another dyad process ({owner}) is writing this folder; "
                    "wait for it to finish or choose another --output"
                ) from None
            # the previous owner may have removed the file between our open and flock
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        """Remove the lock file and unlock; do nothing if the lock is not held."""
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)  # before unlocking: see acquire()
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc_info) -> None:
        self.release()


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


@contextlib.contextmanager
def reserve_run_folder(folder: str | os.PathLike, *, overwrite: bool = False) -> Iterator[Path]:
    """Check ``folder`` for a new run and hold its lock meanwhile (before any work starts).

    Raises :class:`ResultsError` when another process writes the folder or
    :func:`check_run_folder` refuses it. Leftovers of an interrupted write are tidied first.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ResultsError(f"{folder}: exists and is not a folder; choose another --output")
    with FolderLock(folder):
        _recover(folder)
        check_run_folder(folder, overwrite=overwrite)
        yield folder


def clean_partial(folder: str | os.PathLike) -> list[Path]:
    """Remove what an interrupted write left at ``folder``; return the removed paths.

    First the hidden siblings of :func:`write_run` are tidied: if ``folder`` is missing but a
    complete old run was renamed aside (a crash between the two renames of the swap), it is
    renamed back; other ``.<name>.new-…`` / ``.<name>.old-…`` siblings are deleted. Only call
    this while no other process writes ``folder`` (under its :class:`FolderLock`, or the lock
    of the sweep it belongs to).

    Temporary files (``.<name>.tmp-...``) are always removed. If the folder holds no complete
    run (no valid manifest), the run's own files are removed too: ``*.parquet``, an unreadable
    ``manifest.json`` and ``figures/``; the folder itself goes if it ends up empty. Files that
    dyad does not write are left alone. A complete run is never touched beyond temp files.
    """
    folder = Path(folder)
    removed = _recover(folder)
    if not folder.is_dir():
        return removed
    removed += _remove_temp_files(folder)
    if _read_manifest_quietly(folder) is not None:
        return removed
    targets = sorted(folder.glob("*.parquet"))
    if (folder / MANIFEST).exists():
        targets.append(folder / MANIFEST)
    for path in targets:
        path.unlink()
        removed.append(path)
    figures = folder / FIGURES_DIR
    if figures.is_dir():
        removed.extend(sorted(p for p in figures.rglob("*") if p.is_file()))
        shutil.rmtree(figures)
    if removed and not any(folder.iterdir()):
        folder.rmdir()
        removed.append(folder)
    if removed:
        log.info("cleaned %d leftover file(s) from %s", len(removed), folder)
    return removed


def _recover(folder: Path) -> list[Path]:
    """Undo a swap that a crash interrupted, and delete the siblings it left behind."""
    parent = folder.parent
    if not parent.is_dir():
        return []
    prefix = f".{folder.name}"
    siblings = sorted(
        p
        for p in parent.iterdir()
        if p.name.startswith(prefix + _NEW_MARK) or p.name.startswith(prefix + _OLD_MARK)
    )
    if not siblings:
        return []
    if not folder.exists():
        olds = [
            p
            for p in siblings
            if p.name.startswith(prefix + _OLD_MARK) and _read_manifest_quietly(p) is not None
        ]
        if olds:
            os.rename(olds[-1], folder)
            log.warning("restored the run in %s after an interrupted overwrite", folder)
            siblings.remove(olds[-1])
    for path in siblings:
        shutil.rmtree(path, ignore_errors=True)
    if siblings:
        log.info("removed %d leftover folder(s) of interrupted writes to %s", len(siblings), folder)
    return siblings


def _remove_temp_files(folder: Path) -> list[Path]:
    removed = []
    candidates = list(folder.glob(f".*{_TEMP_MARK}*"))
    if (folder / FIGURES_DIR).is_dir():
        candidates += list((folder / FIGURES_DIR).glob(f".*{_TEMP_MARK}*"))
    for path in sorted(candidates):
        if path.is_file():
            path.unlink()
            removed.append(path)
    return removed
