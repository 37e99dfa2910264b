"""Results on disk: one folder per run, Parquet tables plus a JSON manifest written last.

A run folder holds ``<table>.parquet`` for each table (pyarrow, zstd) and ``manifest.json``.
A run is written whole into a hidden sibling folder (every file flushed and fsynced, the
manifest **last**, listing every table with its row count and SHA-256) and then swapped in
(:func:`write_run`), so a folder never mixes files of two runs and a crash leaves the old run
intact. A folder without a valid manifest is an incomplete run (left by older versions, or
damaged), which resumable sweeps detect with :func:`find_runs` and tidy with
:func:`clean_partial` before running again.

One process at a time writes a folder: :class:`FolderLock` (an ``flock`` on the sibling file
``.<name>.lock``), taken with the checks of :func:`check_run_folder` by
:func:`reserve_run_folder` before any work starts.

Low-cardinality string columns (phase, condition, expression, neuron class, ...) are stored
and loaded as pandas categoricals, with categories in order of first appearance: on disk
Parquet dictionary-encodes strings either way, but in memory a categorical column of a
test-responses table is about 3× smaller and reads about 4× faster.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import socket
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dyad import __version__
from dyad.errors import ResultsError

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
FORMAT = "dyad-results"
FORMAT_VERSION = 1
FIGURES_DIR = "figures"
#: Keys of the manifest that :func:`write_run` owns; callers may not pass them.
RESERVED_KEYS = frozenset({"format", "format_version", "tables", "figures", "created"})
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_TEMP_MARK = ".tmp-"
_NEW_MARK = ".new-"
_OLD_MARK = ".old-"
_LOCK_SUFFIX = ".lock"
_CHUNK = 1 << 20


class TableNotFound(ResultsError, KeyError):
    """A run has no table of that name (a :class:`ResultsError` and a :class:`KeyError`)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return Exception.__str__(self)


# --------------------------------------------------------------------------------------------
# writing


def categorize(table: pd.DataFrame) -> pd.DataFrame:
    """Return ``table`` with low-cardinality string columns turned into categoricals.

    A column qualifies when it holds only strings (missing values allowed) and has at most half
    as many distinct values as rows. Categories keep the order of first appearance (so
    ``("happy", "sad")`` stays in the run's expression order, not alphabetical). Other columns
    are left untouched; the input is not modified.
    """
    converted = {}
    for name in table.columns:
        column = table[name]
        if not (pd.api.types.is_string_dtype(column.dtype) or column.dtype == object):
            continue
        if isinstance(column.dtype, pd.CategoricalDtype):
            continue
        values = column.dropna()
        if len(values) == 0 or not all(isinstance(v, str) for v in pd.unique(values)):
            continue
        categories = pd.unique(values)
        if len(categories) > len(column) // 2:
            continue
        converted[name] = pd.Categorical(column, categories=list(categories))
    if not converted:
        return table
    out = table.copy()
    for name, values in converted.items():
        out[name] = values
    return out


def write_run(
    folder: str | os.PathLike,
    tables: Mapping[str, pd.DataFrame],
    manifest: Mapping[str, Any],
    figures: Mapping[str, str | os.PathLike] | None = None,
    *,
    overwrite: bool = False,
    categorize_strings: bool = True,
) -> Path:
    """Write one run's tables and manifest as the folder ``folder``, whole; return the folder.

    Parameters
    ----------
    folder:
        The run folder; its parents are created if missing.
    tables:
        Table name -> tidy DataFrame. Each becomes ``<name>.parquet`` (pyarrow, zstd). Names
        are file-name safe: letters, digits, ``_``, ``-`` and ``.``.
    manifest:
        Anything the caller wants recorded (resolved scenario, seed, ``run_id``,
        ``parameters`` for sweeps, plugin sources, timings ...). Must be JSON-serialisable
        after converting paths, numpy scalars/arrays, sets and dataclasses. The keys in
        :data:`RESERVED_KEYS` are filled in here.
    figures:
        Optional figure name -> file. Each is copied into ``folder/figures/`` and recorded
        with its SHA-256.
    overwrite:
        If ``folder`` already holds a complete run, raise :class:`ResultsError` unless this is
        True. A folder that is not a dyad run folder (a file, a sweep, a folder with other
        files) is refused either way (:func:`check_run_folder`).
    categorize_strings:
        Store low-cardinality string columns as categoricals (see :func:`categorize`).

    The run is written into a hidden sibling folder (``.<name>.new-…``) and then swapped in:
    the old folder, if any, is renamed aside, the new one renamed into place and the old one
    deleted. No file of an old run survives (a table the new run does not write is gone with
    the old folder), and a crash or ``kill -9`` at any point leaves either the old run or the
    new one complete in ``folder`` (leftover siblings are tidied by :func:`clean_partial`).

    The manifest records, per table, the file name, row count, column names and SHA-256,
    plus ``dyad_version`` (unless given), the format version and the UTC creation time.
    """
    folder = Path(folder)
    _check_inputs(tables, manifest)
    check_run_folder(folder, overwrite=overwrite)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = _sibling(folder, _NEW_MARK)
    staging.mkdir()
    try:
        _write_contents(staging, tables, manifest, figures, categorize_strings)
        _swap_in(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.debug("wrote run %s (%d tables)", folder, len(tables))
    return folder


def _write_contents(
    folder: Path,
    tables: Mapping[str, pd.DataFrame],
    manifest: Mapping[str, Any],
    figures: Mapping[str, str | os.PathLike] | None,
    categorize_strings: bool,
) -> None:
    """Tables, figures, then the manifest (last) into the new, empty ``folder``."""
    table_entries: dict[str, dict[str, Any]] = {}
    for name, table in tables.items():
        if categorize_strings:
            table = categorize(table)
        target = folder / f"{name}.parquet"
        digest = _atomic_write(target, lambda handle, t=table: _write_parquet(t, handle))
        table_entries[name] = {
            "file": target.name,
            "rows": len(table),
            "columns": [str(c) for c in table.columns],
            "sha256": digest,
        }

    figure_entries: dict[str, dict[str, Any]] = {}
    for name, source in (figures or {}).items():
        source = Path(source)
        if not source.is_file():
            raise ResultsError(f"{folder}: figure {name!r} does not exist: {source}")
        target = folder / FIGURES_DIR / source.name
        relative = target.relative_to(folder).as_posix()
        if relative in {entry["file"] for entry in figure_entries.values()}:
            raise ValueError(f"figures: two figures would be copied to {relative}")
        target.parent.mkdir(exist_ok=True)
        digest = _atomic_write(target, lambda handle, s=source: _copy_into(s, handle))
        figure_entries[name] = {"file": relative, "sha256": digest}
    _fsync_dir(folder)

    record: dict[str, Any] = {"format": FORMAT, "format_version": FORMAT_VERSION}
    record["dyad_version"] = __version__
    record.update(_to_json(dict(manifest)))
    record["created"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    record["tables"] = table_entries
    if figure_entries:
        record["figures"] = figure_entries
    text = json.dumps(record, indent=2, allow_nan=False) + "\n"
    _atomic_write(folder / MANIFEST, lambda handle: handle.write(text.encode("utf-8")))
    _fsync_dir(folder)


def _sibling(folder: Path, mark: str) -> Path:
    """A fresh hidden sibling of ``folder``: ``.<name><mark><pid>-<random>``."""
    return folder.with_name(f".{folder.name}{mark}{os.getpid()}-{uuid.uuid4().hex[:8]}")


def _swap_in(staging: Path, folder: Path) -> None:
    """Replace ``folder`` (if it exists) by ``staging``: old aside, new in, old deleted."""
    aside = None
    if folder.exists():
        aside = _sibling(folder, _OLD_MARK)
        os.rename(folder, aside)
    try:
        _rename(staging, folder)
    except BaseException:
        if aside is not None and not folder.exists():
            os.rename(aside, folder)
        raise
    _fsync_dir(folder.parent)
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)


def _rename(source: Path, target: Path) -> None:
    """``os.rename`` (a separate function so tests can inject a crash between the renames)."""
    os.rename(source, target)


# --------------------------------------------------------------------------------------------
# checking and locking a results folder before any work starts


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
    if (folder / "sweep.json").is_file():
        raise ResultsError(
            f"{folder}: is a sweep folder (has sweep.json), not a run folder; "
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
    """:class:`ResultsError` unless ``folder`` (if it exists) and its nearest existing parent
    accept new entries."""
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


def _check_inputs(tables: Mapping[str, pd.DataFrame], manifest: Mapping[str, Any]) -> None:
    if not isinstance(manifest, Mapping):
        raise TypeError(f"manifest: expected a mapping, got {type(manifest).__name__}")
    clash = sorted(RESERVED_KEYS & set(manifest))
    if clash:
        raise ValueError(f"manifest: keys {clash} are reserved for the store")
    for name, table in tables.items():
        if not isinstance(name, str) or not _TABLE_NAME.match(name) or name == "manifest":
            raise ValueError(
                f"tables: table name {name!r} is not a safe file name "
                "(letters, digits, '_', '-', '.'; not 'manifest')"
            )
        if not isinstance(table, pd.DataFrame):
            raise TypeError(f"tables[{name!r}]: expected a pandas DataFrame, got {type(table)}")


def _write_parquet(table: pd.DataFrame, handle) -> None:
    table.to_parquet(handle, engine="pyarrow", compression="zstd")


def _copy_into(source: Path, handle) -> None:
    with source.open("rb") as src:
        shutil.copyfileobj(src, handle, _CHUNK)


def _atomic_write(target: Path, write) -> str:
    """Write ``target`` via a temporary sibling, fsync and rename; return the SHA-256."""
    temp = target.with_name(f".{target.name}{_TEMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        with temp.open("wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        digest = _sha256(temp)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return digest


def _fsync_dir(folder: Path) -> None:
    """Persist renames in ``folder`` (a no-op where directories cannot be opened)."""
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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _relative_inside(path: Path, folder: Path) -> str | None:
    try:
        return path.resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return None


def _to_json(value: Any, where: str = "manifest") -> Any:
    """Convert ``value`` into plain JSON types (paths, numpy, tuples, sets, dataclasses).

    Non-finite floats become ``null`` so the manifest stays strict JSON.
    """
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _to_json(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_json(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, (set, frozenset)):
        return [_to_json(v, where) for v in sorted(value, key=str)]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (np.generic, np.ndarray)):
        return _to_json(value.tolist(), where)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _to_json(dataclasses.asdict(value), where)
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if hasattr(value, "model_dump"):  # pydantic models
        return _to_json(value.model_dump(mode="json"), where)
    raise TypeError(f"{where}: cannot store a {type(value).__name__} as JSON: {value!r}")


# --------------------------------------------------------------------------------------------
# reading


def _parse_manifest(folder: Path) -> dict[str, Any]:
    """Read and validate ``folder/manifest.json``; :class:`ResultsError` if it is unusable."""
    path = folder / MANIFEST
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ResultsError(f"{folder}: corrupt {MANIFEST} (not UTF-8 text)") from None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsError(
            f"{folder}: corrupt {MANIFEST} ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ResultsError(f"{folder}: {MANIFEST} is not a dyad results manifest")
    tables = record.get("tables")
    if not isinstance(tables, dict) or not all(
        isinstance(entry, dict) and isinstance(entry.get("file"), str) for entry in tables.values()
    ):
        raise ResultsError(f"{folder}: corrupt {MANIFEST} (no valid 'tables' entry)")
    version = record.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ResultsError(
            f"{folder}: {MANIFEST} has format version {version!r}; this dyad reads up to "
            f"{FORMAT_VERSION} (upgrade dyad)"
        )
    return record


def _read_manifest_quietly(folder: Path) -> dict[str, Any] | None:
    """The folder's manifest if it is complete and valid, else None."""
    if not (folder / MANIFEST).is_file():
        return None
    try:
        return _parse_manifest(folder)
    except (ResultsError, OSError):
        return None


class _LazyTables(Mapping[str, pd.DataFrame]):
    """Table name -> DataFrame, each read from Parquet on first access and then cached."""

    def __init__(self, folder: Path, entries: Mapping[str, Mapping[str, Any]]):
        self._folder = folder
        self._entries = dict(entries)
        self._cache: dict[str, pd.DataFrame] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._entries:
            available = ", ".join(self._entries) or "none"
            raise TableNotFound(f"{self._folder}: no table {name!r} (tables: {available})")
        if name not in self._cache:
            path = self._folder / self._entries[name]["file"]
            try:
                self._cache[name] = pd.read_parquet(path, engine="pyarrow")
            except FileNotFoundError:
                raise ResultsError(
                    f"{self._folder}: table {name!r} listed in {MANIFEST} is missing ({path.name})"
                ) from None
            except Exception as exc:  # pyarrow raises several types for damaged files
                raise ResultsError(
                    f"{self._folder}: cannot read table {name!r} ({path.name}): {exc}"
                ) from exc
        return self._cache[name]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        loaded = [name for name in self._entries if name in self._cache]
        return f"<tables {list(self._entries)} (loaded: {loaded})>"


@dataclass
class Run:
    """One run: its tables, its manifest and, once saved, its folder.

    The one type for a run, whether it was just simulated (:func:`dyad.simulate`, tables held
    in memory) or read back from disk (:func:`load_run`, tables read lazily on first access):
    code that analyses a run does not need to know which.

    Every table the run wrote is an attribute (``run.interaction``, ``run.neurons``,
    ``run.test_responses``, ...) and an item (``run["neurons"]``); :meth:`names` lists them.

    Attributes
    ----------
    folder:
        The run folder, or None for a run that has not been saved.
    manifest:
        What the run records about itself: the resolved scenario, seed, versions, provenance,
        summary and timings (and, once saved, each table's file, row count and SHA-256).
    tables:
        Table name -> DataFrame.
    """

    folder: Path | None
    manifest: dict[str, Any]
    tables: Mapping[str, pd.DataFrame] = field(repr=False)

    def names(self) -> list[str]:
        """The table names, in the order they were written."""
        return list(self.tables)

    @property
    def summary(self) -> dict[str, Any]:
        """Neuron class counts, congruence, mirror index and outcome after training."""
        return self.manifest.get("summary", {})

    @property
    def figures(self) -> dict[str, Path]:
        """Figure name -> absolute path of each figure recorded in the manifest."""
        if self.folder is None:
            return {}
        entries = self.manifest.get("figures", {})
        return {name: self.folder / entry["file"] for name, entry in entries.items()}

    def save(self, folder: str | os.PathLike, *, overwrite: bool = False) -> Run:
        """Write this run as the run folder ``folder`` (see :func:`write_run`); return it read
        back from there.

        Tables, manifest and any figures of a saved run are written whole; a complete run
        already in ``folder`` is refused unless ``overwrite``. Saving a run into its own folder
        is refused: it is already there.
        """
        target = Path(folder)
        if self.folder is not None and target.resolve() == self.folder.resolve():
            raise ResultsError(f"{target}: this run is already saved there")
        tables = {name: self.tables[name] for name in self.tables}
        manifest = {k: v for k, v in self.manifest.items() if k not in RESERVED_KEYS}
        write_run(target, tables, manifest, figures=self.figures, overwrite=overwrite)
        return load_run(target, verify=False)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def __contains__(self, name: object) -> bool:
        return name in self.tables

    def __getattr__(self, name: str) -> pd.DataFrame:
        # Only called when normal lookup fails; guard dunder/private names so copying and
        # pickling (which probe before fields exist) behave.
        if name.startswith("_"):
            raise AttributeError(name)
        tables = self.__dict__.get("tables")
        if tables is not None and name in tables:
            return tables[name]
        raise AttributeError(f"{type(self).__name__} has no attribute or table {name!r}")

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self.__dict__.get("tables", {})})

    def __repr__(self) -> str:
        # the manifest holds the whole scenario: name what identifies the run instead
        scenario = self.manifest.get("scenario", {})
        name = scenario.get("name") if isinstance(scenario, Mapping) else None
        return (
            f"Run(scenario={name!r}, seed={self.manifest.get('seed')!r}, "
            f"folder={None if self.folder is None else str(self.folder)!r}, "
            f"tables={self.names()})"
        )


#: the former name of :class:`Run` (alias, kept for code written against it)
RunResults = Run


def load_run(folder: str | os.PathLike, verify: bool = True) -> Run:
    """Open a run folder written by :func:`write_run`.

    Raises :class:`ResultsError` (one line: the folder and what is wrong) when the folder is
    missing, is not a dyad results folder, is incomplete (Parquet files but no manifest: the
    run was interrupted), has a corrupt manifest, or lacks a table the manifest lists. With
    ``verify`` (default) every listed file's SHA-256 is checked now; tables themselves are read
    lazily, on first access.
    """
    return _open_run(Path(folder), verify_all=verify)


def _open_run(folder: Path, verify_all: bool, verify_tables: tuple[str, ...] = ()) -> Run:
    """Open ``folder``; checksum every file (``verify_all``) or only ``verify_tables``."""
    if not folder.exists():
        raise ResultsError(f"{folder}: results folder does not exist")
    if not folder.is_dir():
        raise ResultsError(f"{folder}: not a folder")
    if not (folder / MANIFEST).is_file():
        leftovers = sorted(p.name for p in folder.glob("*.parquet"))
        if leftovers:
            raise ResultsError(
                f"{folder}: incomplete run: {MANIFEST} missing but {len(leftovers)} table "
                f"file(s) present (interrupted?)"
            )
        raise ResultsError(f"{folder}: not a dyad results folder (no {MANIFEST})")
    record = _parse_manifest(folder)
    entries = record["tables"]
    for name, entry in entries.items():
        if not (folder / entry["file"]).is_file():
            raise ResultsError(
                f"{folder}: table {name!r} listed in {MANIFEST} is missing ({entry['file']})"
            )
    for name, entry in entries.items():
        if verify_all or name in verify_tables:
            _verify_file(folder, entry, f"table {name!r}")
    if verify_all:
        for name, entry in record.get("figures", {}).items():
            if not (folder / entry["file"]).is_file():
                raise ResultsError(
                    f"{folder}: figure {name!r} listed in {MANIFEST} is missing ({entry['file']})"
                )
            _verify_file(folder, entry, f"figure {name!r}")
    return Run(folder=folder, manifest=record, tables=_LazyTables(folder, entries))


def _verify_file(folder: Path, entry: Mapping[str, Any], what: str) -> None:
    expected = entry.get("sha256")
    actual = _sha256(folder / entry["file"])
    if actual != expected:
        raise ResultsError(
            f"{folder}: checksum mismatch for {what} ({entry['file']}): the file changed or is "
            "corrupt"
        )


# --------------------------------------------------------------------------------------------
# many runs


def find_runs(root: str | os.PathLike) -> list[Path]:
    """Every complete run folder at or below ``root`` (valid manifest), sorted by path.

    Incomplete folders (no manifest or an unreadable one) are skipped; checksums are not
    verified here (see :func:`load_run`).
    """
    root = Path(root)
    if not root.is_dir():
        raise ResultsError(f"{root}: results folder does not exist")
    runs = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        if MANIFEST in filenames and _read_manifest_quietly(Path(dirpath)) is not None:
            runs.append(Path(dirpath))
    return sorted(runs)


def run_columns(run: Run, root: Path | None = None) -> dict[str, Any]:
    """The per-run columns :func:`load_runs` adds: ``run_id``, ``seed`` and the parameters.

    ``run_id`` comes from the manifest, else the folder's path relative to ``root``. Every
    entry of the manifest's ``parameters`` mapping becomes a column (nested mappings are
    flattened with dots: ``{"policy": {"q": 0.1}}`` -> ``policy.q``); lists become strings.
    """
    manifest = run.manifest
    run_id = manifest.get("run_id")
    if run_id is None:
        run_id = run.folder.name if root is None else _relative_id(run.folder, root)
    columns: dict[str, Any] = {"run_id": str(run_id)}
    if "seed" in manifest and _is_scalar(manifest["seed"]):
        columns["seed"] = manifest["seed"]
    parameters = manifest.get("parameters", {})
    if not isinstance(parameters, Mapping):
        raise ResultsError(f"{run.folder}: manifest 'parameters' is not a mapping")
    for key, value in _flatten(parameters):
        if key in columns and columns[key] != value:
            raise ResultsError(
                f"{run.folder}: parameter {key!r} = {value!r} contradicts the manifest's "
                f"{key!r} = {columns[key]!r}"
            )
        columns[key] = value if _is_scalar(value) else json.dumps(value)
    return columns


def load_runs(root: str | os.PathLike, table: str, *, verify: bool = True) -> pd.DataFrame:
    """Concatenate one table across all complete runs below ``root`` (for sweeps).

    Each row gains the run's :func:`run_columns` (``run_id``, ``seed``, swept parameters) as
    leading columns; parameters a run does not set are missing (NaN). String columns shared by
    runs are re-categorised over the union of their values. With ``verify`` the table file's
    checksum is checked per run. Raises :class:`ResultsError` if no complete run exists, a run
    lacks the table, or a run column would overwrite a table column.
    """
    root = Path(root)
    runs = find_runs(root)
    if not runs:
        raise ResultsError(f"{root}: no complete runs found")
    frames = []
    run_keys: list[str] = []
    for folder in runs:
        run = _open_run(folder, verify_all=False, verify_tables=(table,) if verify else ())
        if table not in run.tables:
            raise ResultsError(f"{folder}: run has no table {table!r} (tables: {run.names()})")
        data = run.tables[table]
        extra = run_columns(run, root)
        clash = sorted(set(extra) & set(map(str, data.columns)))
        if clash:
            raise ResultsError(
                f"{folder}: table {table!r} already has column(s) {clash} that would hold "
                "run parameters"
            )
        run_keys.extend(key for key in extra if key not in run_keys)
        extra_frame = pd.DataFrame({key: [value] * len(data) for key, value in extra.items()})
        frames.append(pd.concat([extra_frame, data.reset_index(drop=True)], axis=1))
    combined = pd.concat(frames, ignore_index=True, sort=False)
    combined = combined[run_keys + [c for c in combined.columns if c not in run_keys]]
    return _recategorize(combined, frames)


def _recategorize(combined: pd.DataFrame, frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Restore categoricals that ``concat`` turned into strings (categories differ by run)."""
    for name in combined.columns:
        if isinstance(combined[name].dtype, pd.CategoricalDtype):
            continue
        if any(
            name in frame.columns and isinstance(frame[name].dtype, pd.CategoricalDtype)
            for frame in frames
        ):
            categories: list[Any] = []
            for frame in frames:
                if name in frame.columns and isinstance(frame[name].dtype, pd.CategoricalDtype):
                    categories.extend(c for c in frame[name].cat.categories if c not in categories)
            combined[name] = pd.Categorical(combined[name], categories=categories)
    if "run_id" in combined.columns:
        combined["run_id"] = pd.Categorical(
            combined["run_id"], categories=list(pd.unique(combined["run_id"]))
        )
    return combined


def _relative_id(folder: Path, root: Path) -> str:
    try:
        relative = folder.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return folder.name
    return relative if relative != "." else folder.name


def _flatten(mapping: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{name}.")
        else:
            yield name, value


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


# --------------------------------------------------------------------------------------------
# tidying


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
