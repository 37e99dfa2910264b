"""Results on disk: one folder per run, Parquet tables plus a JSON manifest written last.

A run folder holds ``<table>.parquet`` for each table (pyarrow, zstd) and ``manifest.json``.
A run is written whole into a hidden sibling folder (every file flushed and fsynced, the
manifest **last**, listing every table with its row count and SHA-256) and then swapped in
(:func:`write_run`), so a folder never mixes files of two runs and a crash leaves the old run
intact. A sweep batch stages its runs unsynced and makes them durable with one filesystem sync
before swapping any in (:class:`BatchWriter`). A folder without a valid manifest is an
incomplete run (left by older versions, or damaged), which resumable sweeps detect with
:func:`find_runs` and tidy with :func:`clean_partial` before running again.

One process at a time writes a folder: :class:`FolderLock` (an ``flock`` on the sibling file
``.<name>.lock``), taken with the checks of :func:`check_run_folder` by
:func:`reserve_run_folder` before any work starts.

Low-cardinality string columns (phase, condition, expression, neuron class, ...) are stored
and loaded as pandas categoricals, with categories in order of first appearance: on disk
Parquet dictionary-encodes strings either way, but in memory a categorical column of a
test-responses table is about 3× smaller and reads about 4× faster.

The package, one concern a module: :mod:`~dyad.store.layout` (file names and marks),
:mod:`~dyad.store.write` (:func:`write_run`), :mod:`~dyad.store.parquet` (the Parquet files
``DataFrame.to_parquet`` writes, byte for byte, at a fraction of its fixed cost per table),
:mod:`~dyad.store.folders` (checks, the lock, tidying) and :mod:`~dyad.store.read`
(:func:`load_run`, :func:`load_runs`). Every public name is importable from ``dyad.store``.
"""

from __future__ import annotations

from dyad.store.folders import (
    FolderLock,
    check_run_folder,
    check_writable,
    clean_partial,
    reserve_run_folder,
)
from dyad.store.layout import (
    FIGURES_DIR,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    RESERVED_KEYS,
    SWEEP_FILE,
)
from dyad.store.read import (
    Run,
    RunResults,
    TableNotFound,
    find_runs,
    load_run,
    load_runs,
    results_kind,
    run_columns,
)
from dyad.store.write import BatchWriter, categorize, write_run

__all__ = [
    "BatchWriter",
    "FIGURES_DIR",
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST",
    "RESERVED_KEYS",
    "SWEEP_FILE",
    "FolderLock",
    "Run",
    "RunResults",
    "TableNotFound",
    "categorize",
    "check_run_folder",
    "check_writable",
    "clean_partial",
    "find_runs",
    "load_run",
    "load_runs",
    "reserve_run_folder",
    "results_kind",
    "run_columns",
    "write_run",
]
