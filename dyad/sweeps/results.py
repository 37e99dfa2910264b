"""A sweep's results: the summary table (one row per run) and a sweep folder read back.

:func:`summary_table` is built from the run records of ``runs.jsonl`` in plan order, so an
interrupted sweep still has a table (unfinished runs have status ``"missing"``);
:func:`load_sweep` opens a folder as :class:`Sweep`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from dyad._io import is_scalar
from dyad.analysis import NEURON_CLASSES, class_column
from dyad.errors import ResultsError
from dyad.sweeps.journal import RUNS_DIR, SUMMARY_FILE, SWEEP_FILE, SWEEP_KIND, _read_records
from dyad.sweeps.plan import RunSpec, SweepPlan, _canonical

if TYPE_CHECKING:
    from dyad.sweeps.runner import SweepStatus


def summary_table(
    plan: SweepPlan | _PlanRuns, records: Mapping[str, Mapping[str, Any]]
) -> pd.DataFrame:
    """One row per run, in plan order: run id, seed, grid parameters, status, outcome.

    Columns: ``run_id``, ``seed_index``, ``seed``, ``vision_seed`` (the seed of the run's
    visual system, :func:`dyad.simulation.vision_seed`), one column per grid path (lists and
    tables as JSON text), ``status`` ("ok", "failed" or "missing"), ``n_neurons``, ``count_<class>``
    and ``fraction_<class>`` for each neuron class (``anti-mirror`` → ``anti_mirror``),
    ``mirror_index``, ``selectivity_correlation``, ``congruence``, ``dominant``, ``error``
    and ``wall_time_s``. Metrics of runs that did not complete are missing (NaN).
    """
    classes = _class_names(records)
    rows = []
    for run in plan.runs:
        record = records.get(run.run_id, {})
        summary = record.get("summary") or {}
        counts = summary.get("class_counts") or {}
        n = summary.get("n_neurons")
        row: dict[str, Any] = {
            "run_id": run.run_id,
            "seed_index": run.seed_index,
            "seed": run.seed,
            "vision_seed": record.get("vision_seed"),
        }
        for key, value in run.overrides.items():
            row[key] = value if is_scalar(value) else _canonical(value)
        row["status"] = record.get("status", "missing")
        row["n_neurons"] = n
        for name in classes:
            count = counts.get(name)
            row[f"count_{class_column(name)}"] = count
            row[f"fraction_{class_column(name)}"] = count / n if count is not None and n else None
        for key in ("mirror_index", "selectivity_correlation", "congruence"):
            row[key] = summary.get(key)
        row["dominant"] = summary.get("dominant")
        row["error"] = record.get("error")
        row["wall_time_s"] = record.get("wall_time_s")
        rows.append(row)
    table = pd.DataFrame(rows)
    numeric = (
        ["n_neurons", "mirror_index", "selectivity_correlation", "congruence", "wall_time_s"]
        + ["vision_seed"]
        + [f"count_{class_column(c)}" for c in classes]
        + [f"fraction_{class_column(c)}" for c in classes]
    )
    for name in numeric:
        table[name] = pd.to_numeric(table[name], errors="coerce").astype("float64")
    for name in [f"count_{class_column(c)}" for c in classes] + ["n_neurons", "vision_seed"]:
        table[name] = table[name].astype("Int64")
    for name in ("run_id", "status", "dominant", "error"):
        table[name] = table[name].astype("string")
    return table


def _class_names(records: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Return the neuron classes the runs reported (older runs may list fewer), else today's."""
    for record in records.values():
        counts = (record.get("summary") or {}).get("class_counts")
        if counts:
            return list(counts)
    return list(NEURON_CLASSES)


@dataclass
class Sweep:
    """A sweep folder: its ``sweep.json`` definition, the run records and the summary table.

    The one type for a sweep, returned by :func:`dyad.api.sweep` (with :attr:`status`, what that
    invocation did) and by :func:`load_sweep` (``status`` None). ``summary`` has one row per
    run: run id, seed, swept parameters, status, neuron class counts and congruence.
    """

    folder: Path
    definition: dict[str, Any]
    records: dict[str, dict[str, Any]]
    summary: pd.DataFrame
    status: SweepStatus | None = None

    @property
    def grid(self) -> dict[str, list[Any]]:
        """Swept parameter path -> its values."""
        return dict(self.definition.get("grid", {}))

    def run_folder(self, run_id: str) -> Path:
        """Return the folder of one run of the sweep."""
        return self.folder / RUNS_DIR / run_id

    def run(self, run_id: str):
        """One run of the sweep, read back (:class:`dyad.store.Run`)."""
        from dyad.store import load_run

        return load_run(self.run_folder(run_id), verify=False)

    def table(self, name: str) -> pd.DataFrame:
        """Return one table of every complete run, concatenated.

        ``run_id``, ``seed`` and the swept parameters are the leading columns
        (:func:`dyad.store.load_runs`).
        """
        from dyad.store import load_runs

        return load_runs(self.folder / RUNS_DIR, name, verify=False)


def load_sweep(folder: str | Path) -> Sweep:
    """Open a sweep folder; :class:`ResultsError` if it is not one or is unreadable.

    The summary comes from ``summary.parquet`` when the sweep finished, else it is rebuilt from
    ``runs.jsonl`` (an interrupted sweep: unfinished runs have status "missing").
    """
    folder = Path(folder)
    path = folder / SWEEP_FILE
    if not path.is_file():
        raise ResultsError(f"{folder}: not a dyad sweep folder (no {SWEEP_FILE})")
    try:
        definition = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultsError(f"{folder}: unreadable {SWEEP_FILE} ({exc})") from None
    if not isinstance(definition, dict) or definition.get("kind") != SWEEP_KIND:
        raise ResultsError(f"{folder}: {SWEEP_FILE} is not a dyad sweep description")
    records = _read_records(folder)
    summary_path = folder / SUMMARY_FILE
    if summary_path.is_file():
        try:
            summary = pd.read_parquet(summary_path, engine="pyarrow")
        except Exception as exc:  # pyarrow raises several types for damaged files
            raise ResultsError(f"{folder}: cannot read {SUMMARY_FILE}: {exc}") from exc
    else:
        summary = summary_table(_plan_from_record(definition), records)
    return Sweep(folder=folder, definition=definition, records=records, summary=summary)


def _plan_from_record(definition: Mapping[str, Any]) -> _PlanRuns:
    """Return the runs (order, ids, parameters, seeds) recorded in a ``sweep.json``."""
    runs = tuple(
        RunSpec(
            run_id=str(entry["run_id"]),
            overrides=dict(entry.get("parameters", {})),
            seed=int(entry.get("seed", 0)),
            scenario_raw={},
            source=str(definition.get("source", "")),
            seed_index=int(entry.get("seed_index", 0)),
        )
        for entry in definition.get("runs", [])
    )
    return _PlanRuns(runs)


@dataclass(frozen=True)
class _PlanRuns:
    """Just the runs of a plan: what :func:`summary_table` needs."""

    runs: tuple[RunSpec, ...]
