"""Reading results folders: one run (:func:`load_run`, tables read lazily) or many below a root.

Every file a manifest lists is checked against its SHA-256 (all at once, or per table on first
access); a missing, damaged or foreign folder is a one-line :class:`~dyad.errors.ResultsError`.
:func:`results_kind` is the one check of what a results folder holds.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from dyad._io import file_sha256, flatten, is_scalar
from dyad.errors import ResultsError
from dyad.store.layout import (
    _NEW_MARK,
    _OLD_MARK,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    RESERVED_KEYS,
    SWEEP_FILE,
)


class TableNotFound(ResultsError, KeyError):
    """A run has no table of that name (a :class:`ResultsError` and a :class:`KeyError`)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return Exception.__str__(self)


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
    """Return the folder's manifest if it is complete and valid, else None."""
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

    The one type for a run, whether it was just simulated (:func:`dyad.api.simulate`, tables held
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
        """Return the table names, in the order they were written."""
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
        """Write this run as the run folder ``folder`` (see :func:`write_run`).

        Return it read back from there.

        Tables, manifest and any figures of a saved run are written whole; a complete run
        already in ``folder`` is refused unless ``overwrite``. Saving a run into its own folder
        is refused: it is already there.
        """
        from dyad.store.write import write_run  # write imports read: import on use

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


def results_kind(folder: str | os.PathLike) -> str:
    """Return what a results folder holds: ``"run"`` or ``"sweep"``.

    A run folder has a ``manifest.json``, a sweep folder a ``sweep.json``.

    The one check of "is this a dyad results folder" (loading a run, opening a report). Any
    other folder is a one-line :class:`ResultsError` naming it and what is missing: it does
    not exist, is a file, is an interrupted run (Parquet tables but no manifest) or holds
    neither file.
    """
    folder = Path(folder)
    if not folder.exists():
        raise ResultsError(f"{folder}: results folder does not exist")
    if not folder.is_dir():
        raise ResultsError(f"{folder}: not a folder (expected a run or sweep results folder)")
    if (folder / SWEEP_FILE).is_file():
        return "sweep"
    if (folder / MANIFEST).is_file():
        return "run"
    leftovers = sorted(p.name for p in folder.glob("*.parquet"))
    if leftovers:
        raise ResultsError(
            f"{folder}: incomplete run: {MANIFEST} missing but {len(leftovers)} table "
            f"file(s) present (interrupted?)"
        )
    raise ResultsError(
        f"{folder}: not a dyad results folder (no {MANIFEST} of a run, no {SWEEP_FILE} of a sweep)"
    )


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
    if results_kind(folder) == "sweep":
        raise ResultsError(
            f"{folder}: is a sweep folder (has {SWEEP_FILE}), not a run folder; open it with "
            "dyad.sweeps.load_sweep, or one of its runs/<run_id> folders"
        )
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
    actual = file_sha256(folder / entry["file"])
    if actual != expected:
        raise ResultsError(
            f"{folder}: checksum mismatch for {what} ({entry['file']}): the file changed or is "
            "corrupt"
        )


def find_runs(root: str | os.PathLike) -> list[Path]:
    """Every complete run folder at or below ``root`` (valid manifest), sorted by path.

    Incomplete folders (no manifest or an unreadable one) are skipped; checksums are not
    verified here (see :func:`load_run`). So are the hidden siblings a writer stages a run in
    or moves an old one aside to (``.<name>.new-…``, ``.<name>.old-…``): they hold complete
    manifests, but are not runs until swapped in (a crash can leave them behind).
    """
    root = Path(root)
    if not root.is_dir():
        raise ResultsError(f"{root}: results folder does not exist")
    runs = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(name for name in dirnames if not _is_sibling(name))
        if MANIFEST in filenames and _read_manifest_quietly(Path(dirpath)) is not None:
            runs.append(Path(dirpath))
    return sorted(runs)


def _is_sibling(name: str) -> bool:
    """Whether a folder name is a writer's hidden staging or aside sibling of a run."""
    return name.startswith(".") and (_NEW_MARK in name or _OLD_MARK in name)


def run_columns(run: Run, root: Path | None = None) -> dict[str, Any]:
    """Return the per-run columns :func:`load_runs` adds: ``run_id``, ``seed`` and the parameters.

    ``run_id`` comes from the manifest, else the folder's path relative to ``root``. Every
    entry of the manifest's ``parameters`` mapping becomes a column (nested mappings are
    flattened with dots: ``{"policy": {"q": 0.1}}`` -> ``policy.q``); lists become strings.
    """
    manifest = run.manifest
    run_id = manifest.get("run_id")
    if run_id is None:
        run_id = run.folder.name if root is None else _relative_id(run.folder, root)
    columns: dict[str, Any] = {"run_id": str(run_id)}
    if "seed" in manifest and is_scalar(manifest["seed"]):
        columns["seed"] = manifest["seed"]
    parameters = manifest.get("parameters", {})
    if not isinstance(parameters, Mapping):
        raise ResultsError(f"{run.folder}: manifest 'parameters' is not a mapping")
    for key, value in flatten(parameters):
        if key in columns and columns[key] != value:
            raise ResultsError(
                f"{run.folder}: parameter {key!r} = {value!r} contradicts the manifest's "
                f"{key!r} = {columns[key]!r}"
            )
        columns[key] = value if is_scalar(value) else json.dumps(value)
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
