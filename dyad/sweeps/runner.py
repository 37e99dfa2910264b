"""Running a sweep: lock the folder, pre-train once, dispatch the runs, write the summary.

:func:`run_sweep` ties the other modules together: the folder checks and journal
(:mod:`~dyad.sweeps.journal`), the executor (:mod:`~dyad.sweeps.executors`), the worker
function (:mod:`~dyad.sweeps.worker`) and the summary table (:mod:`~dyad.sweeps.results`).
Only as many runs as the executor can run are in flight, so a stop request cancels the rest.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, as_completed, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from dyad._io import utc_now, write_json
from dyad.config import Scenario
from dyad.sweeps.executors import (
    StopRequests,
    _terminate_workers,
    interrupt_once_per_burst,
    open_executor,
)
from dyad.sweeps.journal import (
    RUNS_DIR,
    RUNS_MANIFEST,
    SUMMARY_FILE,
    SWEEP_FILE,
    _append,
    _clean_partial_runs,
    _existing_sweep,
    _open_append,
    _read_records,
    _remove_staging,
    _work_folder,
    _write_failures,
    _write_parquet,
)
from dyad.sweeps.plan import RunSpec, SweepPlan, _canonical
from dyad.sweeps.results import summary_table
from dyad.sweeps.worker import _shielded_submit, execute_batch, prepare_visual_system

log = logging.getLogger(__name__)

#: exit code of ``dyad sweep`` when some runs failed (bad input is 2, Ctrl-C 130)
EXIT_RUNS_FAILED = 3


@dataclass
class SweepStatus:
    """What one invocation of a sweep did: runs done, skipped, failed, time taken.

    :func:`run_sweep` returns it; :func:`dyad.api.sweep` hands it back as :attr:`Sweep.status`.
    """

    folder: Path
    n_runs: int
    done: int
    skipped: int
    failed: int
    wall_time_s: float
    executor: str = ""
    interrupted: bool = False
    failures: list[dict[str, Any]] = field(default_factory=list)
    summary: pd.DataFrame | None = None
    note: str = ""
    #: tasks the runs were cut into, and the largest (runs of one visual system step together)
    batches: int = 0
    batch_size: int = 0

    @property
    def not_run(self) -> int:
        """Runs neither done, skipped nor failed (the sweep was stopped before them)."""
        return self.n_runs - self.done - self.skipped - self.failed

    @property
    def runs_per_s(self) -> float:
        """Throughput: finished runs (done or failed) per second of wall time."""
        return (self.done + self.failed) / self.wall_time_s if self.wall_time_s > 0 else 0.0

    def describe(self, name: str = "sweep") -> str:
        """One line: runs done / skipped / failed, wall time, runs/s."""
        on = f", {self.executor}" if self.executor else ""
        if self.batches:
            on += (
                f", {self.batches} batch{'es' if self.batches != 1 else ''} of <= {self.batch_size}"
            )
        text = (
            f"{name}: {self.done} runs done, {self.skipped} skipped, {self.failed} failed "
            f"of {self.n_runs} in {self.wall_time_s:.1f} s ({self.runs_per_s:.2f} runs/s{on})"
        )
        if self.interrupted:
            text += f"; interrupted, {self.not_run} not run (run again to resume)"
        if self.note:
            text += f"; {self.note}"
        return f"{text}; results in {self.folder}"


def run_sweep(
    plan: SweepPlan,
    folder: str | Path,
    *,
    workers: int | None = None,
    address: str | None = None,
    cache_dir: str | Path | None = None,
    overwrite: bool = False,
    progress: bool = False,
    timeout: float = 10.0,
    on_run: Callable[[dict[str, Any]], None] | None = None,
    batch_size: int | str | None = None,
) -> SweepStatus:
    """Run (or resume) every run of ``plan`` into ``folder`` and write the summary table.

    Checks the folder (a different sweep there is a :class:`ConfigError` unless
    ``overwrite``), connects to the executor (:func:`open_executor`), pre-trains the visual
    system once in this process (the cache is shared on disk, so workers do not race to build
    it), then dispatches the runs that are not complete yet. Failed runs are recorded in
    ``runs.jsonl`` and ``failures.json`` and do not stop the others. On SIGINT/SIGTERM pending
    runs are cancelled, running ones finish, partial folders are removed and the result has
    ``interrupted=True``. ``on_run`` is called in this process with each finished run's
    record. ``batch_size`` (``"auto"``/None, or a positive integer) caps how many runs of one
    visual system a task runs together (:mod:`~dyad.sweeps.batching`).
    """
    from dyad.store import FolderLock, check_writable
    from dyad.sweeps.batching import check_batch_size

    batch_size = check_batch_size(batch_size, "batch_size")
    folder = Path(folder).resolve()
    started = time.perf_counter()
    with FolderLock(folder):  # one writer per sweep folder, taken before anything else
        previous = _existing_sweep(folder, plan, overwrite)  # nothing written yet
        check_writable(folder)
        work, previous = _work_folder(folder, plan, previous)
        return _run_locked(
            plan,
            folder,
            work,
            previous,
            started,
            workers,
            address,
            timeout,
            cache_dir,
            progress,
            on_run,
            batch_size,
        )


def _run_locked(
    plan: SweepPlan,
    folder: Path,
    work: Path,
    previous: str,
    started: float,
    workers: int | None,
    address: str | None,
    timeout: float,
    cache_dir: str | Path | None,
    progress: bool,
    on_run: Callable[[dict[str, Any]], None] | None,
    batch_size: int | None = None,
) -> SweepStatus:
    """Run the body of :func:`run_sweep`, while its folder lock is held."""
    cache = None if cache_dir is None else str(Path(cache_dir).resolve())
    records = _read_records(work) if previous == "resume" else {}
    done_before = {
        run.run_id
        for run in plan.runs
        if records.get(run.run_id, {}).get("status") == "ok"
        and (work / RUNS_DIR / run.run_id / "manifest.json").is_file()
    }
    todo = [run for run in plan.runs if run.run_id not in done_before]
    finished: dict[str, dict[str, Any]] = {}
    interrupted = False
    described = "nothing to run"
    batching = (0, 0)
    if todo:
        finished, interrupted, described, batching = _dispatch(
            plan,
            work,
            todo,
            previous,
            workers,
            address,
            timeout,
            cache,
            progress,
            on_run,
            batch_size,
        )

    records.update(finished)
    failures = [
        records[run.run_id]
        for run in plan.runs
        if records.get(run.run_id, {}).get("status") == "failed"
    ]
    _write_failures(work, failures)
    summary = None
    note = ""
    if not interrupted:
        summary = summary_table(plan, records)
        _write_parquet(work / SUMMARY_FILE, summary)
        if work != folder:
            from dyad.store.write import _swap_in

            _swap_in(work, folder)
    elif work != folder:
        note = (
            f"the previous sweep in {folder} is untouched; run the same command with "
            "--overwrite to resume replacing it"
        )
    return SweepStatus(
        folder=folder,
        n_runs=len(plan.runs),
        done=sum(r["status"] == "ok" for r in finished.values()),
        skipped=len(done_before),
        failed=len(failures),
        wall_time_s=time.perf_counter() - started,
        executor=described,
        interrupted=interrupted,
        failures=failures,
        summary=summary,
        note=note,
        batches=batching[0],
        batch_size=batching[1],
    )


def _dispatch(
    plan: SweepPlan,
    folder: Path,
    todo: list[RunSpec],
    previous: str,
    workers: int | None,
    address: str | None,
    timeout: float,
    cache: str | None,
    progress: bool,
    on_run: Callable[[dict[str, Any]], None] | None,
    batch_size: int | None = None,
) -> tuple[dict[str, dict[str, Any]], bool, str, tuple[int, int]]:
    """Connect, pre-train, prepare the folder and run ``todo`` in batches.

    Returns the finished runs' records, whether the sweep was interrupted, the executor's
    description and (number of batches, largest batch).
    """
    from dyad.progress import progress_step
    from dyad.provenance import provenance
    from dyad.sweeps.batching import batch_size_for, make_batches

    finished: dict[str, dict[str, Any]] = {}
    interrupted = False
    where = f"the Dask scheduler at {address}" if address else "local worker processes"
    progress_step(f"{plan.name}: connecting to {where} ...", enabled=progress)
    with open_executor(workers, address, timeout) as (executor, described, capacity):
        pretrain_sweep(plan, cache, progress, executor)
        # first writes: only now that the scenario, the folder and the executor are good
        if previous == "replace":
            _remove_staging(folder)
        (folder / RUNS_DIR).mkdir(parents=True, exist_ok=True)
        if previous != "resume":
            write_json(folder / SWEEP_FILE, {**plan.record(), "provenance": provenance()})
        _clean_partial_runs(folder, todo)
        (folder / SUMMARY_FILE).unlink(missing_ok=True)
        size = batch_size_for(len(todo), capacity, batch_size)
        batches = make_batches(todo, size, lambda run: _varies_vision(plan, run))
        largest = max(len(batch) for batch in batches)
        log.info(
            "sweep %s: %d runs, %d to run in %d batches of <= %d on %s",
            plan.name,
            len(plan.runs),
            len(todo),
            len(batches),
            largest,
            described,
        )
        # Only `capacity` batches are submitted at a time: a batch not yet submitted is
        # trivially cancelled, whereas a process pool marks queued calls as running and
        # cannot take them back.
        waiting = iter(enumerate(batches))
        in_flight: dict[Future, list[RunSpec]] = {}

        def submit_next() -> None:
            batch_id, batch = next(waiting, (0, None))
            if batch is not None:
                run_folders = [str(folder / RUNS_DIR / run.run_id) for run in batch]
                future = _shielded_submit(
                    executor, execute_batch, batch, run_folders, cache, batch_id
                )
                in_flight[future] = batch

        stops = StopRequests()
        progress_step(
            f"{plan.name}: {len(todo)} of {len(plan.runs)} runs to do on {described}, in "
            f"{len(batches)} batch{'es' if len(batches) != 1 else ''} of <= {largest} runs "
            "(runs of one visual system step together); each worker starts up (imports, "
            "visual system) before its first batch ends",
            enabled=progress,
        )
        with stops.installed(), _open_append(folder / RUNS_MANIFEST) as journal:
            with _bar(len(todo), plan.name, progress) as bar:
                for _ in range(max(1, capacity)):
                    submit_next()
                while in_flight:
                    if stops.count and not interrupted:
                        interrupted = True
                        log.warning(
                            "interrupted: %d running run(s) will finish; interrupt again "
                            "to stop them",
                            len(in_flight),
                        )
                        waiting = iter(())
                        for future in in_flight:
                            future.cancel()
                    if stops.count >= 2:
                        log.warning("stopping the running runs now")
                        _terminate_workers(executor)
                        break
                    done, _ = wait(in_flight, timeout=0.2, return_when=FIRST_COMPLETED)
                    for future in done:
                        batch = in_flight.pop(future)
                        if future.cancelled():
                            continue
                        for record in _collect(future, batch):
                            _append(journal, record)
                            finished[record["run_id"]] = record
                            if on_run is not None:
                                try:
                                    on_run(record)
                                except KeyboardInterrupt:  # e.g. Ctrl-C in a notebook's callback
                                    stops(signal.SIGINT)
                            bar.update(1)
                        submit_next()
            if interrupted:
                _clean_partial_runs(folder, [r for r in todo if r.run_id not in finished])
        if not in_flight:
            # every batch is in: idle local workers are stopped rather than left to tear down
            # numba and pyarrow on a normal exit (about 0.4 s, which the pool's shutdown waits for)
            _terminate_workers(executor)
    return finished, interrupted, described, (len(batches), largest)


def _collect(future: Future, batch: list[RunSpec]) -> list[dict[str, Any]]:
    """Return the worker's records, or failure records if the worker itself died."""
    try:
        return future.result()
    except Exception as exc:  # a crashed worker process, a lost Dask worker, ...
        return [
            {
                "run_id": run.run_id,
                "seed_index": run.seed_index,
                "seed": run.seed,
                "parameters": run.overrides,
                "status": "failed",
                "error": f"{type(exc).__name__}: {exc}",
                "traceback": "".join(traceback.format_exception(exc)),
                "finished": utc_now(),
            }
            for run in batch
        ]


@contextlib.contextmanager
def _bar(n: int, label: str, enabled: bool) -> Iterator[Any]:
    from dyad.progress import progress_bar

    with progress_bar(length=max(n, 1), label=label, enabled=enabled and n > 0) as bar:
        yield bar


def pretrain_sweep(
    plan: SweepPlan,
    cache_dir: str | Path | None,
    progress: bool,
    executor: Executor | None = None,
) -> None:
    """Pre-train (or load) every distinct visual system of the sweep once, before any run.

    Calls :func:`dyad.simulation.prepare_vision` (pre-training and the layer-4 response banks,
    both cached on disk), the first step of every run, so workers load them from the cache
    instead of racing to build them. Runs share a visual system unless their scenario sets
    ``vision.vary_with_run_seed``: then each distinct vision seed is built once. With
    ``executor`` and several of them, each is a task on its workers (a local pool's cores, a
    Dask cluster), so ``W`` workers build ``W`` at a time, each exactly as it would be built
    alone; otherwise they are built here, one after the other. A bar counts them when there
    are several.
    """
    from dyad.progress import progress_step
    from dyad.simulation import prepare_vision, vision_seed

    cache = None if cache_dir is None else Path(cache_dir)
    distinct: dict[str, tuple[Scenario, int]] = {}
    # only axes that can change the visual system need a look; one run per distinct setting
    visual = ("vision", "infant", "parent")  # also "parents"
    settings: dict[str, RunSpec] = {}
    for run in plan.runs:
        varies = _varies_vision(plan, run)
        if run.seed_index and not varies:
            continue
        relevant = {k: v for k, v in run.overrides.items() if k.startswith(visual)}
        if varies:  # the run's seed draws its visual system too
            relevant["(seed)"] = run.seed
        settings.setdefault(_canonical(relevant), run)
    for run in settings.values():
        scenario = run.scenario()
        identities = [(p.identity_seed, p.photos, p.photo_labels) for p in scenario.all_parents]
        key = json.dumps(scenario.vision.model_dump(mode="json"), sort_keys=True, default=str)
        key += repr((scenario.infant.expressions, identities, vision_seed(scenario, run.seed)))
        distinct.setdefault(key, (scenario, run.seed))
    several = len(distinct) > 1
    on_workers = executor is not None and several
    what = f"{len(distinct)} visual systems" if several else "the visual system"
    where = " on the workers, each trained unless cached" if on_workers else ""
    progress_step(f"{plan.name}: loading {what}{where} ...", enabled=progress)
    with _bar(len(distinct), "visual systems", progress and several) as bar:
        if not on_workers:
            for scenario, seed in distinct.values():
                prepare_vision(scenario, cache, progress and not several, run_seed=seed)
                bar.update(1)
            return
        folder = None if cache is None else str(cache)
        futures = [
            _shielded_submit(executor, prepare_visual_system, scenario, folder, seed)
            for scenario, seed in distinct.values()
        ]
        with interrupt_once_per_burst():  # also while the workers are being stopped
            try:
                for future in as_completed(futures):
                    future.result()  # a failure is raised here, as it would be in this process
                    bar.update(1)
            except BaseException:
                _terminate_workers(executor)  # a Ctrl-C or a failure: do not wait for the rest
                raise


def _varies_vision(plan: SweepPlan, run: RunSpec) -> bool:
    """Whether this run's visual system may depend on its seed (checked without validating)."""
    if plan.scenario.vision.vary_with_run_seed:
        return True
    return any(key.startswith("vision.vary_with_run_seed") for key in run.overrides)
