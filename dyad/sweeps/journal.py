"""The sweep folder on disk: its file names, what is already there, and the run journal.

``runs.jsonl`` is append-only: one line per finished run, flushed and fsynced only after the
run's folder is complete, so the latest line per run id is the truth after any crash (a torn
last line is ignored). The checks here decide whether a folder is new, the same sweep to
resume, or something that must not be written over.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from dyad import __version__
from dyad._io import atomic_write, flatten, to_json, write_json
from dyad.errors import ConfigError, ResultsError
from dyad.store import SWEEP_FILE

if TYPE_CHECKING:
    from dyad.sweeps.plan import RunSpec, SweepPlan

log = logging.getLogger(__name__)

RUNS_MANIFEST = "runs.jsonl"
FAILURES_FILE = "failures.json"
SUMMARY_FILE = "summary.parquet"
RUNS_DIR = "runs"
SWEEP_KIND = "dyad-sweep"
SWEEP_FORMAT_VERSION = 1
#: suffix of the hidden sibling where ``--overwrite`` builds the new sweep
_STAGING_MARK = ".overwrite"


def _work_folder(folder: Path, plan: SweepPlan, previous: str) -> tuple[Path, str]:
    """Return where the runs are written, and how.

    The folder itself, or (``--overwrite``) a staging
    sibling ``.<name>.overwrite`` that replaces the folder whole once the sweep completes.

    An interrupted overwrite leaves the old sweep untouched and the staging folder in place;
    the same command with ``--overwrite`` resumes it.
    """
    if previous != "replace":
        return folder, previous
    staging = folder.with_name(f".{folder.name}{_STAGING_MARK}")
    if (staging / SWEEP_FILE).is_file():
        try:
            old = json.loads((staging / SWEEP_FILE).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            old = {}
        if isinstance(old, dict) and old.get("fingerprint") == plan.fingerprint():
            log.info("resuming the interrupted overwrite of %s", folder)
            return staging, "resume"
    return staging, "replace"


def _existing_sweep(folder: Path, plan: SweepPlan, overwrite: bool) -> str:
    """Return ``"new"``, ``"resume"`` (same sweep) or ``"replace"`` (``overwrite``).

    Anything else is an error.
    """
    if not folder.exists():
        return "new"
    if not folder.is_dir():
        raise ConfigError(f"--output {folder}: exists and is not a folder")
    sweep_file = folder / SWEEP_FILE
    if not sweep_file.is_file():
        if any(folder.iterdir()):
            raise ConfigError(
                f"--output {folder}: not empty and not a dyad sweep folder (no {SWEEP_FILE}); "
                "choose another folder"
            )
        return "new"
    if overwrite:
        return "replace"
    try:
        old = json.loads(sweep_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"--output {folder}: unreadable {SWEEP_FILE} ({exc}); pass --overwrite to replace it"
        ) from None
    if old.get("fingerprint") == plan.fingerprint():
        if _is_complete(folder, plan):
            raise ResultsError(
                f"{folder}: already holds this sweep, complete ({len(plan.runs)} runs); pass "
                "--overwrite to run it again, or choose another --output"
            )
        return "resume"
    differences = _differences(old, plan)
    raise ConfigError(
        f"--output {folder}: holds a different sweep ({'; '.join(differences)}); "
        "use another --output, or --overwrite to replace it"
    )


def _is_complete(folder: Path, plan: SweepPlan) -> bool:
    """Tell whether a sweep is complete.

    Every run of ``plan`` finished ok, its folder holds a complete run, and the summary
    table was written (a sweep killed just before it resumes and writes it).
    """
    if not (folder / SUMMARY_FILE).is_file():
        return False
    records = _read_records(folder)
    return all(
        records.get(run.run_id, {}).get("status") == "ok"
        and (folder / RUNS_DIR / run.run_id / "manifest.json").is_file()
        for run in plan.runs
    )


def _differences(old: Mapping[str, Any], plan: SweepPlan) -> list[str]:
    """Return a few human-readable differences between an old ``sweep.json`` and a new plan."""
    new = plan.definition()
    out: list[str] = []
    if old.get("dyad_version") != __version__:
        out.append(f"made by dyad {old.get('dyad_version')}, this is {__version__}")
    if old.get("grid") != new["grid"]:
        out.append(f"grid {old.get('grid')} != {new['grid']}")
    if old.get("seeds") != new["seeds"]:
        out.append(f"seeds {old.get('seeds')} != {new['seeds']}")
    old_raw = old.get("scenario")
    old_scenario = dict(flatten(old_raw if isinstance(old_raw, Mapping) else {}))
    new_scenario = dict(flatten(plan.scenario.to_dict()))
    changed = [
        key
        for key in sorted(set(old_scenario) | set(new_scenario))
        if not key.startswith(("output.folder", "sweep."))
        and old_scenario.get(key) != new_scenario.get(key)
    ]
    if changed:
        shown = ", ".join(
            f"{k}: {old_scenario.get(k)!r} -> {new_scenario.get(k)!r}" for k in changed[:3]
        )
        more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        out.append(f"scenario {shown}{more}")
    return out or ["its definition differs"]


def _remove_staging(staging: Path) -> None:
    """Start an ``--overwrite`` afresh: remove an older staging folder of another sweep."""
    import shutil

    if staging.name.endswith(_STAGING_MARK) and staging.is_dir():
        shutil.rmtree(staging)
        log.info("removed an unfinished overwrite in %s", staging)


def _clean_partial_runs(folder: Path, runs: Sequence[RunSpec]) -> None:
    """Remove leftovers of interrupted runs (complete but unrecorded runs are rewritten)."""
    from dyad.store import clean_partial

    for run in runs:
        # also when the run folder is missing: a run killed mid-write leaves only its
        # hidden staging sibling (.<run_id>.new-...), which clean_partial removes
        clean_partial(folder / RUNS_DIR / run.run_id)


def _read_records(folder: Path) -> dict[str, dict[str, Any]]:
    """Return the latest ``runs.jsonl`` record per run id (a torn last line is ignored)."""
    records: dict[str, dict[str, Any]] = {}
    path = folder / RUNS_MANIFEST
    if not path.is_file():
        return records
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                log.warning("%s: ignoring unreadable line %d", path, number)
                continue
            if isinstance(record, dict) and "run_id" in record:
                records[str(record["run_id"])] = record
    return records


@contextlib.contextmanager
def _open_append(path: Path) -> Iterator[Any]:
    path.parent.mkdir(parents=True, exist_ok=True)
    # a torn last line from a crash would glue onto the next record: start on a fresh line
    if path.is_file() and path.stat().st_size:
        with path.open("rb") as handle:
            handle.seek(-1, os.SEEK_END)
            torn = handle.read(1) != b"\n"
    else:
        torn = False
    with path.open("a", encoding="utf-8") as handle:
        if torn:
            handle.write("\n")
        yield handle


def _append(handle, record: Mapping[str, Any]) -> None:
    """Append one JSON line, flushed and fsynced (the run's files already exist)."""
    handle.write(json.dumps(to_json(record, RUNS_MANIFEST), allow_nan=False) + "\n")
    handle.flush()
    os.fsync(handle.fileno())


def _write_failures(folder: Path, failures: list[dict[str, Any]]) -> None:
    path = folder / FAILURES_FILE
    if not failures:
        path.unlink(missing_ok=True)
        return
    keep = ("run_id", "parameters", "seed_index", "seed", "error", "traceback", "worker")
    write_json(path, [{k: f.get(k) for k in keep} for f in failures])


def _write_parquet(path: Path, table: pd.DataFrame) -> None:
    buffer = io.BytesIO()
    table.to_parquet(buffer, engine="pyarrow", compression="zstd", index=False)
    atomic_write(path, buffer.getvalue())
