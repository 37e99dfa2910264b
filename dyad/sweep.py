"""Parameter sweeps: a scenario's grid × seeds, run over a local process pool or a Dask cluster.

A scenario's ``[sweep]`` table names the parameters to vary and how many seeds to run at each
grid point::

    [sweep]
    seeds = 5
    [sweep.grid]
    "parent.params.q" = [0.0, 0.1, 0.2]

expands to the Cartesian product of the grid values × the seeds, here 3 × 5 = 15 runs. Each run
is described by plain data (:class:`RunSpec`: a run id, the grid overrides, a seed, the raw
scenario), so it can be sent to a worker process on this machine or on a Dask cluster, where it
is validated again and run with :func:`dyad.simulation.run_scenario`.

Seeds
    Per-run seeds derive from the scenario's ``seed`` with
    ``numpy.random.SeedSequence(seed).spawn(seeds)``: seed index *k* gets the same seed at every
    grid point, so grid points are compared on the same seeds (paired comparisons: the schedule,
    initial weights and transforms shown differ between seeds, not between grid points). The
    children of a ``SeedSequence`` are prefix-stable, so seed index *k* is the same whatever the
    number of seeds.

Run ids
    Stable and readable: the last component of each grid path with its value, then the seed
    index, e.g. ``q=0.1__seed=2`` (the run's folder is ``<sweep>/runs/q=0.1__seed=2``).

The sweep folder::

    <sweep>/
      sweep.json        what was swept: scenario, grid, seeds, run ids, dyad version
      runs.jsonl        append-only manifest: one line per finished run (ok or failed)
      failures.json     failed runs with their error and traceback (only if any failed)
      summary.parquet   one row per run: parameters, seed, class counts and fractions,
                        mirror index, congruence, dominant outcome, status
      runs/<run_id>/    each run's tables and manifest (see dyad.store)

A line is appended to ``runs.jsonl`` (flushed and fsynced) only after the run's files exist,
and a run folder is complete only when its ``manifest.json`` exists. Running the same sweep
again skips completed runs, removes partial run folders and runs the rest, so an interrupted
sweep (Ctrl-C, ``kill``, a crash) resumes to the same results as an uninterrupted one.

Executors
    One code path, any ``concurrent.futures`` executor: a local ``ProcessPoolExecutor`` with an
    explicit ``spawn`` context (one process per core by default), or the executor of a Dask
    ``distributed.Client`` (``--address tcp://host:port``; ``distributed`` is the optional
    ``dyad[dask]`` extra). Workers receive only plain data and write their own run folders, so
    with Dask every worker must see the same paths (sweep folder, cache, plugin folders). The
    visual system is pre-trained once in the submitting process before any run is dispatched.
    Only as many runs as there are workers are in flight at a time, so on SIGINT/SIGTERM every
    run not yet started is cancelled and the running ones finish (a second signal stops local
    workers at once); a Dask task already running cannot be stopped and may still write its
    folder, which a resume rewrites. Signals less than half a second apart count as one, so a
    single Ctrl-C under ``uv run`` (which forwards the SIGINT the terminal already sent) lets
    the running runs finish as in a bare shell. Local workers ignore SIGINT and exit when the
    sweep process dies, even by ``kill -9`` (Linux parent-death signal, and a watch thread
    checking the parent pid everywhere).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import itertools
import json
import logging
import math
import multiprocessing
import os
import re
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dyad import __version__
from dyad.config import (
    Scenario,
    SweepSection,
    apply_overrides,
    read_toml,
    resolve_parent_paths,
    resolve_plugin_paths,
    validate_scenario,
)
from dyad.errors import ConfigError, DyadError, ResourceError, ResultsError

log = logging.getLogger(__name__)

SWEEP_FILE = "sweep.json"
RUNS_MANIFEST = "runs.jsonl"
FAILURES_FILE = "failures.json"
SUMMARY_FILE = "summary.parquet"
RUNS_DIR = "runs"
SWEEP_KIND = "dyad-sweep"
SWEEP_FORMAT_VERSION = 1
#: exit code of ``dyad sweep`` when some runs failed (bad input is 2, Ctrl-C 130)
EXIT_RUNS_FAILED = 3
#: grid paths that cannot be swept: seeds come from ``sweep.seeds``
_FORBIDDEN_AXES = ("seed", "sweep")
_MAX_RUN_ID = 120
#: suffix of the hidden sibling where ``--overwrite`` builds the new sweep
_STAGING_MARK = ".overwrite"
#: most runs one sweep may plan unless raised (``--max-runs``): each run takes seconds to
#: minutes, so more is almost always a typo in the grid or in ``--seeds``
MAX_RUNS = 100_000
#: grid axes under these top-level tables are validated together (a Scenario-level
#: validator relates them); axes in different groups are validated independently
_LINKED_TABLES = {"parent": "parents", "parents": "parents"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")


# --------------------------------------------------------------------------------------------
# expansion


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep, as plain data that can be pickled to any worker.

    ``scenario_raw`` is the sweep's scenario as read from TOML (with ``--set`` overrides and
    without its ``[sweep]`` table); the run's scenario is ``scenario_raw`` with ``overrides``
    (grid path → value) applied and ``seed`` as its seed. ``plugin_dirs`` are absolute paths,
    so a worker started in another folder (or on another machine with the same paths) finds
    the same plugins.
    """

    run_id: str
    overrides: dict[str, Any]
    seed: int
    scenario_raw: dict[str, Any]
    source: str
    plugin_dirs: tuple[str, ...] = ()
    seed_index: int = 0

    def scenario(self) -> Scenario:
        """The validated scenario of this run (raises :class:`ConfigError`)."""
        raw = apply_overrides(self.scenario_raw, self.overrides, source=self.source)
        raw["seed"] = self.seed
        return validate_scenario(
            raw, source=self.source, plugin_dirs=tuple(Path(p) for p in self.plugin_dirs)
        )


@dataclass(frozen=True)
class SweepPlan:
    """A validated sweep: the base scenario, its grid, its seeds and every run, in order.

    Runs are ordered grid point by grid point (the first grid axis varies slowest), seed index
    innermost.
    """

    name: str
    source: str
    scenario: Scenario
    grid: dict[str, list[Any]]
    seeds: int
    runs: tuple[RunSpec, ...]
    overrides: dict[str, Any] = field(default_factory=dict)
    plugin_dirs: tuple[str, ...] = ()
    #: memory/time estimate per grid value that can change a run's size (see dyad.resources)
    estimates: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def run_ids(self) -> list[str]:
        return [run.run_id for run in self.runs]

    def definition(self) -> dict[str, Any]:
        """What makes two sweeps the same: the resolved scenario (defaults filled in, output
        folder left out), the grid, the seeds and the dyad version."""
        scenario = self.scenario.to_dict()
        scenario.get("output", {}).pop("folder", None)
        if not scenario.get("plugins"):  # sweeps planned before the key existed still resume
            scenario.pop("plugins", None)
        return {
            "scenario": scenario,
            "grid": self.grid,
            "seeds": self.seeds,
            "dyad_version": __version__,
        }

    def fingerprint(self) -> str:
        """SHA-256 of :meth:`definition` (canonical JSON)."""
        text = json.dumps(self.definition(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def record(self) -> dict[str, Any]:
        """The content of ``sweep.json``."""
        return {
            "kind": SWEEP_KIND,
            "format_version": SWEEP_FORMAT_VERSION,
            "name": self.name,
            "source": self.source,
            "dyad_version": __version__,
            "created": _now(),
            "fingerprint": self.fingerprint(),
            "seed": self.scenario.seed,
            "seeds": self.seeds,
            "grid": self.grid,
            "overrides": self.overrides,
            "plugin_dirs": list(self.plugin_dirs),
            "scenario": self.scenario.to_dict(),
            "runs": [
                {
                    "run_id": run.run_id,
                    "parameters": run.overrides,
                    "seed_index": run.seed_index,
                    "seed": run.seed,
                }
                for run in self.runs
            ],
        }


def run_seeds(seed: int, n_seeds: int) -> list[int]:
    """Per-run seeds for seed indices ``0 .. n_seeds-1``, derived from the scenario's seed.

    ``SeedSequence(seed).spawn(n)`` gives independent, well-mixed streams; each child's first
    32-bit word is the run's seed. The list is prefix-stable: ``run_seeds(s, 3)`` is the start
    of ``run_seeds(s, 5)``.
    """
    children = np.random.SeedSequence(seed).spawn(n_seeds)
    return [int(child.generate_state(1, dtype=np.uint32)[0]) for child in children]


def plan_sweep(
    path: str | Path,
    overrides: Mapping[str, Any] | None = None,
    seeds: int | None = None,
    plugin_dirs: Sequence[str | Path] = (),
    max_runs: int = MAX_RUNS,
) -> SweepPlan:
    """Read a sweep scenario and expand and validate every run before any run starts.

    Parameters
    ----------
    path:
        The TOML scenario with a ``[sweep]`` table.
    overrides:
        ``--set`` values (dotted path → value) applied to the scenario before expansion; a
        path that is also a grid axis is an error.
    seeds:
        Replaces ``sweep.seeds`` (runs per grid point).
    plugin_dirs:
        Plugin files or folders, stored as absolute paths in each :class:`RunSpec`.
    max_runs:
        More runs (grid points × seeds) than this is a :class:`ResourceError`, raised before
        anything is expanded, so a typo such as ``--seeds 100000000`` is refused at once.

    Raises :class:`ConfigError` with one line per problem, each naming the file, the grid key
    (``sweep.grid.<path>``) and what was expected: a missing ``[sweep]`` table, an empty or
    malformed grid, an unknown parameter path or a value the scenario schema (or the policy's
    parameters) rejects.

    Cost: the plugin registry is built once; each axis value is validated once, and
    combinations only among axes of the same table (``parent``/``parents`` count as one),
    since the scenario's validators relate fields within a table. A 1000 × 1000 grid is
    refused in milliseconds; a 300 × 300 one (90,000 runs) plans in about a second.
    """
    source = str(path)
    raw = resolve_parent_paths(read_toml(path), path)
    raw.setdefault("name", Path(path).stem)
    dirs = tuple(str(Path(d).resolve()) for d in plugin_dirs)
    overrides = dict(overrides or {})

    sweep_raw = raw.get("sweep")
    if sweep_raw is None:
        raise ConfigError(
            f"{source}: sweep: missing [sweep] table; a sweep needs `seeds = N` and a "
            "[sweep.grid] of parameter paths -> lists of values"
        )
    if not isinstance(sweep_raw, dict):
        raise ConfigError(f"{source}: sweep: expected a table, got {sweep_raw!r}")
    grid = _check_grid(sweep_raw.get("grid"), source)
    raw["sweep"] = {**sweep_raw, "grid": grid}

    if seeds is not None:
        if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
            raise ConfigError(f"--seeds: expected a positive integer, got {seeds!r}")
        raw["sweep"]["seeds"] = seeds
    _check_run_count(grid, raw["sweep"].get("seeds"), max_runs, source, seeds is not None)
    clash = sorted(key for key in overrides if key in grid or key.startswith("sweep."))
    if clash:
        raise ConfigError(
            [
                f"--set {key}: {key} is swept by {source} (sweep.grid.{key}); "
                "change the grid instead"
                if key in grid
                else f"--set {key}: use --seeds or edit the [sweep] table"
                for key in clash
            ]
        )
    if overrides:
        raw = apply_overrides(raw, overrides, source=source)
    raw = resolve_plugin_paths(raw, Path(path).parent)

    base = validate_scenario(raw, source=source, plugin_dirs=tuple(Path(d) for d in dirs))
    assert base.sweep is not None  # checked above
    n_seeds = base.sweep.seeds
    run_raw = {key: value for key, value in raw.items() if key != "sweep"}

    # every value of every axis on its own: errors attributable to one grid key
    problems: list[str] = []
    probes: dict[str, dict[str, Scenario]] = {}
    for key, values in grid.items():
        probes[key] = {}
        for value in values:
            probe = RunSpec("probe", {key: value}, base.seed, run_raw, source, dirs)
            scenario, found = _validated(probe, source, f"sweep.grid.{key}: value {value!r}")
            problems.extend(found)
            if scenario is not None:
                probes[key][_canonical(value)] = scenario
    if problems:
        raise ConfigError(problems)

    # combinations of individually valid values can still clash, within one table
    for keys in _linked_axes(grid):
        if len(keys) < 2:
            continue
        for combo in itertools.product(*(grid[k] for k in keys)):
            point = dict(zip(keys, combo, strict=True))
            probe = RunSpec("probe", point, base.seed, run_raw, source, dirs)
            where = "sweep.grid: combination " + ", ".join(f"{k} = {v!r}" for k, v in point.items())
            problems.extend(_validated(probe, source, where)[1])
        if problems:
            raise ConfigError(problems)

    points = [dict(zip(grid, combo, strict=True)) for combo in itertools.product(*grid.values())]
    labels = _point_labels(grid, points)
    seed_values = run_seeds(base.seed, n_seeds)
    runs = tuple(
        RunSpec(
            run_id=f"{label}__seed={k}",
            overrides=point,
            seed=seed_values[k],
            scenario_raw=run_raw,
            source=source,
            plugin_dirs=dirs,
            seed_index=k,
        )
        for point, label in zip(points, labels, strict=True)
        for k in range(n_seeds)
    )
    return SweepPlan(
        name=base.name,
        source=str(Path(path).resolve()),
        scenario=base,
        grid=grid,
        seeds=n_seeds,
        runs=runs,
        overrides=overrides,
        plugin_dirs=dirs,
        estimates=_largest_run(grid, probes, run_raw, base, source, dirs),
    )


def _check_run_count(
    grid: Mapping[str, list[Any]], seeds: Any, max_runs: int, source: str, from_option: bool
) -> None:
    """Refuse more than ``max_runs`` runs before anything is expanded or validated."""
    if seeds is None:
        seeds = SweepSection.model_fields["seeds"].default
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        return  # the schema reports it with its field path
    n_points = math.prod(len(values) for values in grid.values())
    n_runs = n_points * seeds
    if n_runs > max_runs:
        where = "--seeds" if from_option else "sweep.seeds"
        raise ResourceError(
            f"{source}: sweep: {n_points:,} grid points x {seeds:,} seeds ({where}) = "
            f"{n_runs:,} runs, more than the limit of {max_runs:,} runs per sweep; use fewer "
            "grid values or seeds, or raise the limit with --max-runs"
        )


def _linked_axes(grid: Mapping[str, list[Any]]) -> list[list[str]]:
    """Grid axes grouped by the top-level table they set (``parent``/``parents`` together)."""
    groups: dict[str, list[str]] = {}
    for key in grid:
        table = key.split(".")[0]
        groups.setdefault(_LINKED_TABLES.get(table, table), []).append(key)
    return list(groups.values())


def _largest_run(
    grid: Mapping[str, list[Any]],
    probes: Mapping[str, Mapping[str, Scenario]],
    run_raw: dict[str, Any],
    base: Scenario,
    source: str,
    dirs: tuple[str, ...],
) -> dict[str, Any]:
    """The memory estimate of the sweep's largest run, labelled by its grid point.

    A run's memory grows with each size parameter on its own (steps, neurons, bank size,
    trials, ...), so the largest run sets every axis to the value that is largest on its own;
    that point is validated and estimated. Returns ``{label: Estimate}``.
    """
    from dyad.resources import estimate_run

    worst: dict[str, Any] = {}
    for key, values in grid.items():
        sizes = [estimate_run(probes[key][_canonical(v)]).peak_bytes for v in values]
        worst[key] = values[int(np.argmax(sizes))]
    probe = RunSpec("probe", worst, base.seed, run_raw, source, dirs)
    scenario, _ = _validated(probe, source, "")
    if scenario is None:  # an invalid combination was reported above; stay total
        scenario = base
    label = ", ".join(f"{k} = {v!r}" for k, v in worst.items())
    return {label: estimate_run(scenario)}


def _check_grid(grid: Any, source: str) -> dict[str, list[Any]]:
    """The grid as ``{dotted path: non-empty list}``; nested TOML tables become dotted paths.

    ``[sweep.grid]`` with ``parent.params.q = [...]`` (unquoted, so TOML nests it) and
    ``"parent.params.q" = [...]`` mean the same.
    """
    expected = (
        "expected a [sweep.grid] table of parameter paths -> lists of values, "
        'e.g. "parent.params.q" = [0.0, 0.5, 1.0]'
    )
    if grid is None:
        raise ConfigError(f"{source}: sweep.grid: missing; {expected}")
    if not isinstance(grid, dict) or not grid:
        raise ConfigError(f"{source}: sweep.grid: {expected}, got {grid!r}")
    flat: dict[str, Any] = {}

    def walk(node: Mapping[str, Any], prefix: str) -> None:
        for key, value in node.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict) and value:
                walk(value, f"{name}.")
            else:
                flat[name] = value

    walk(grid, "")
    problems = []
    for key, values in flat.items():
        if not isinstance(values, list) or not values:
            problems.append(
                f"{source}: sweep.grid.{key}: expected a non-empty list of values, got {values!r}"
            )
        elif key.split(".")[0] in _FORBIDDEN_AXES:
            hint = (
                "runs per grid point are set by sweep.seeds and their seeds derive from `seed`"
                if key == "seed"
                else "the [sweep] table cannot be swept"
            )
            problems.append(f"{source}: sweep.grid.{key}: cannot be a grid axis ({hint})")
        elif len({_canonical(v) for v in values}) != len(values):
            problems.append(f"{source}: sweep.grid.{key}: expected distinct values, got {values!r}")
    if problems:
        raise ConfigError(problems)
    return flat


def _validated(probe: RunSpec, source: str, where: str) -> tuple[Scenario | None, list[str]]:
    """The probe's scenario, or its problems, each rewritten as ``file: where: problem``."""
    try:
        return probe.scenario(), []
    except ConfigError as exc:
        prefix = f"{source}: "
        return None, [f"{source}: {where}: {line.removeprefix(prefix)}" for line in exc.problems]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _format_value(value: Any) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int | float | str):
        text = str(value)
    else:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return _UNSAFE.sub("-", text) or "x"


def axis_names(keys: Sequence[str]) -> list[str]:
    """Shortest unique dotted suffix of each grid path (``parent.params.q`` → ``q``)."""
    parts = [key.split(".") for key in keys]
    depth = [1] * len(keys)
    while True:
        names = [".".join(p[-d:]) for p, d in zip(parts, depth, strict=True)]
        # "seed" alone would read like the seed index that ends every run id
        clashes = {n for n in names if names.count(n) > 1 or n == "seed"}
        if not clashes:
            return names
        progressed = False
        for i, name in enumerate(names):
            if name in clashes and depth[i] < len(parts[i]):
                depth[i] += 1
                progressed = True
        if not progressed:  # identical paths cannot happen (dict keys), but stay total
            return [f"{n}{i}" for i, n in enumerate(names)]


def _point_labels(grid: Mapping[str, list[Any]], points: list[dict[str, Any]]) -> list[str]:
    """Readable, file-name-safe, unique labels ``q=0.1`` / ``q=0.1__lag=3`` per grid point."""
    names = axis_names(list(grid))
    value_labels: dict[str, dict[str, str]] = {}
    # points built from the grid hold the grid's own value objects: look them up by identity
    # (JSON-encoding every value of every point took most of the planning time)
    by_identity: dict[str, dict[int, str]] = {}
    for key, values in grid.items():
        labels = [_format_value(v) for v in values]
        if len(set(labels)) != len(labels):  # e.g. "a b" and "a/b": number them
            labels = [f"{label}~{i}" for i, label in enumerate(labels)]
        value_labels[key] = {_canonical(v): label for v, label in zip(values, labels, strict=True)}
        by_identity[key] = {id(v): label for v, label in zip(values, labels, strict=True)}

    def label(key: str, value: Any) -> str:
        found = by_identity[key].get(id(value))
        return found if found is not None else value_labels[key][_canonical(value)]

    prefixes = [f"{name}=" for name in names]
    keys = list(grid)
    labels = [
        "__".join(
            prefix + label(key, point[key]) for prefix, key in zip(prefixes, keys, strict=True)
        )
        for point in points
    ]
    if any(len(label) > _MAX_RUN_ID for label in labels):
        labels = [f"point={i}" for i in range(len(points))]
    return labels


# --------------------------------------------------------------------------------------------
# the worker side


def execute_run(spec: RunSpec, folder: str, cache_dir: str | None = None) -> dict[str, Any]:
    """Run one sweep run in a worker and write its folder; return a small JSON-safe record.

    Runs with BLAS/OpenMP limited to one thread (parallelism comes from the processes). Never
    raises for a failing run: the error and traceback are returned with ``status="failed"``
    and any partial files are removed, so one bad run does not stop the sweep.
    """
    from threadpoolctl import threadpool_limits

    started = time.perf_counter()
    record: dict[str, Any] = {
        "run_id": spec.run_id,
        "seed_index": spec.seed_index,
        "seed": spec.seed,
        "parameters": spec.overrides,
        "worker": f"{socket.gethostname()}:{os.getpid()}",
    }
    try:
        with threadpool_limits(limits=1), _numba_threads(1):
            outcome_summary, timings, used_vision_seed = _run_and_save(
                spec, Path(folder), cache_dir
            )
    except Exception as exc:  # recorded and reported; the sweep goes on
        from dyad.store import clean_partial

        with contextlib.suppress(OSError):
            clean_partial(folder)
        record.update(
            status="failed",
            error=f"{type(exc).__name__}: {exc}",
            traceback=traceback.format_exc(),
        )
    else:
        record.update(
            status="ok", summary=outcome_summary, timings=timings, vision_seed=used_vision_seed
        )
    record["wall_time_s"] = round(time.perf_counter() - started, 3)
    record["finished"] = _now()
    return record


def _run_and_save(
    spec: RunSpec, folder: Path, cache_dir: str | None
) -> tuple[dict[str, Any], dict[str, Any], int | None]:
    """Run the scenario and write the run folder with the sweep's facts in its manifest;
    return the run's summary, timings and the vision seed it used."""
    from dyad.simulation import run_scenario, save_run

    scenario = spec.scenario()
    outcome = run_scenario(
        scenario,
        seed=spec.seed,
        output=None,
        cache_dir=None if cache_dir is None else Path(cache_dir),
        plugin_dirs=tuple(Path(p) for p in spec.plugin_dirs),
        progress=False,
        figures=False,
    )
    # run_id and parameters make load_runs() and the run's own manifest self-describing
    manifest = dict(outcome.manifest)
    manifest.update(
        run_id=spec.run_id,
        parameters=spec.overrides,
        sweep={"seed_index": spec.seed_index, "source": spec.source},
    )
    save_run(folder, outcome.tables, manifest, scenario, figures=False, overwrite=True)
    return (
        _json_safe(outcome.summary),
        _json_safe(outcome.manifest.get("timings", {})),
        outcome.manifest.get("vision_seed"),
    )


@contextlib.contextmanager
def _numba_threads(n: int) -> Iterator[None]:
    """Limit numba's parallel kernels to ``n`` threads meanwhile (numba is imported lazily)."""
    import numba

    try:
        previous = numba.get_num_threads()
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    except (ValueError, RuntimeError):  # no threading layer available
        yield
        return
    try:
        yield
    finally:
        numba.set_num_threads(previous)


#: seconds between checks that a pool worker's sweep process is still alive
PARENT_POLL_S = 0.5
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _init_pool_worker(sweep_pid: int | None = None) -> None:
    """Set up a local pool worker: ignore SIGINT, and never outlive the sweep process.

    SIGINT: a Ctrl-C in the terminal reaches the whole process group; the sweep process
    decides what finishes. Lifetime: on Linux the kernel sends SIGTERM when the sweep process
    dies (``prctl(PR_SET_PDEATHSIG)``); everywhere a daemon thread also checks every
    :data:`PARENT_POLL_S` seconds that the parent is still ``sweep_pid`` and exits the worker
    when it is not (``kill -9`` of the sweep left its workers running as orphans).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # blocked by _shielded_submit until now
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    if sweep_pid is None:
        return
    _die_with_parent(signal.SIGTERM)
    if os.getppid() != sweep_pid:  # the sweep died before the line above
        os._exit(1)
    threading.Thread(
        target=_watch_parent, args=(sweep_pid,), name="dyad-parent-watch", daemon=True
    ).start()


def _shielded_submit(executor: Executor, fn: Callable[..., Any], *args: Any) -> Future:
    """``executor.submit`` with SIGINT blocked in this thread meanwhile.

    A process pool starts its workers inside ``submit``; they inherit the signal mask, so a
    Ctrl-C during their start-up (seconds of imports, before :func:`_init_pool_worker` runs)
    no longer kills them: it stays blocked until the initializer ignores it. A SIGINT sent
    to the sweep process meanwhile is delivered when the mask is restored.
    """
    if not hasattr(signal, "pthread_sigmask"):
        return executor.submit(fn, *args)
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        return executor.submit(fn, *args)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _die_with_parent(signum: int) -> bool:
    """Ask Linux to send ``signum`` to this process when its parent dies (False elsewhere)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(sweep_pid: int) -> None:
    while True:
        time.sleep(PARENT_POLL_S)
        if os.getppid() != sweep_pid:
            os._exit(1)


# --------------------------------------------------------------------------------------------
# executors


def import_distributed():
    """``distributed`` (Dask), an optional extra; a clear error if it is missing."""
    try:
        import distributed
    except ImportError:
        raise DyadError(
            "--address needs Dask's `distributed` package: pip install 'dyad[dask]'"
        ) from None
    return distributed


@contextlib.contextmanager
def open_executor(
    workers: int | None = None, address: str | None = None, timeout: float = 10.0
) -> Iterator[tuple[Executor, str, int]]:
    """A ``concurrent.futures`` executor, a description of it and how many runs to keep in flight.

    Without ``address``: a local :class:`ProcessPoolExecutor` with an explicit ``spawn``
    context (never the global start method) and ``workers`` processes (default
    ``os.cpu_count()``). With ``address`` (``tcp://host:port``): the executor of a Dask
    ``distributed.Client`` connected to that scheduler. An unreachable scheduler, or one with
    no workers within ``timeout`` seconds, is a one-line :class:`DyadError`.
    """
    if address is None:
        if workers is not None and workers < 1:
            raise ConfigError(f"--workers: expected a positive integer, got {workers}")
        n = workers or os.cpu_count() or 1
        executor = ProcessPoolExecutor(
            max_workers=n,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_pool_worker,
            initargs=(os.getpid(),),
        )
        try:
            yield executor, f"{n} local worker process{'es' if n != 1 else ''}", n
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
        return

    if not re.fullmatch(r"[a-z][a-z0-9+]*://[^\s/]+:\d+", address):
        raise ConfigError(f"--address: expected tcp://host:port, got {address!r}")
    distributed = import_distributed()
    try:
        client = distributed.Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DyadError(
            f"--address {address}: cannot reach the Dask scheduler within {timeout:g} s ({message})"
        ) from None
    try:
        try:
            client.wait_for_workers(1, timeout=timeout)
        except (OSError, TimeoutError):
            raise DyadError(
                f"--address {address}: the Dask scheduler has no workers (waited {timeout:g} s)"
            ) from None
        workers_info = client.scheduler_info().get("workers", {})
        n_workers = len(workers_info)
        n_threads = sum(int(w.get("nthreads", 1)) for w in workers_info.values()) or 1
        executor = client.get_executor(pure=False)
        try:
            # twice the threads in flight keeps every worker busy while results travel back
            yield executor, f"Dask cluster at {address} ({n_workers} workers)", 2 * n_threads
        finally:
            executor.shutdown(wait=False)
    finally:
        client.close()


#: signals closer together than this count as one: under ``uv run`` a Ctrl-C reaches dyad
#: twice (from the terminal's process group and forwarded by uv) within milliseconds
INTERRUPT_WINDOW_S = 0.5


class StopRequests:
    """Counts SIGINT/SIGTERM during a sweep; a burst within ``window`` seconds counts once.

    The handler only counts; the dispatch loop looks at :attr:`count` between waits. One stop
    request: no new runs start and the running ones finish. Two: the running ones are stopped.
    """

    def __init__(self, window: float = INTERRUPT_WINDOW_S) -> None:
        self.window = window
        self.count = 0
        self._last: float | None = None

    def __call__(self, signum: int, frame: Any = None) -> None:
        now = time.monotonic()
        if self._last is not None and now - self._last < self.window:
            return
        self._last = now
        self.count += 1

    @contextlib.contextmanager
    def installed(self) -> Iterator[StopRequests]:
        """Handle SIGINT and SIGTERM with this counter meanwhile (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {sig: signal.signal(sig, self) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _terminate_workers(executor: Executor) -> None:
    """Stop a local pool's running runs now (a Dask task cannot be stopped from here)."""
    if isinstance(executor, ProcessPoolExecutor):
        # the pool's own worker processes (no public accessor exists)
        for process in list(getattr(executor, "_processes", {}).values()):
            process.terminate()
    executor.shutdown(wait=False, cancel_futures=True)


# --------------------------------------------------------------------------------------------
# running a sweep


@dataclass
class SweepStatus:
    """What one invocation of a sweep did: runs done, skipped, failed, time taken.

    :func:`run_sweep` returns it; :func:`dyad.sweep` hands it back as :attr:`Sweep.status`.
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

    @property
    def not_run(self) -> int:
        return self.n_runs - self.done - self.skipped - self.failed

    @property
    def runs_per_s(self) -> float:
        return (self.done + self.failed) / self.wall_time_s if self.wall_time_s > 0 else 0.0

    def describe(self, name: str = "sweep") -> str:
        """One line: runs done / skipped / failed, wall time, runs/s."""
        on = f", {self.executor}" if self.executor else ""
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
) -> SweepStatus:
    """Run (or resume) every run of ``plan`` into ``folder`` and write the summary table.

    Checks the folder (a different sweep there is a :class:`ConfigError` unless
    ``overwrite``), connects to the executor (:func:`open_executor`), pre-trains the visual
    system once in this process (the cache is shared on disk, so workers do not race to build
    it), then dispatches the runs that are not complete yet. Failed runs are recorded in
    ``runs.jsonl`` and ``failures.json`` and do not stop the others. On SIGINT/SIGTERM pending
    runs are cancelled, running ones finish, partial folders are removed and the result has
    ``interrupted=True``. ``on_run`` is called in this process with each finished run's
    record.
    """
    from dyad.store import FolderLock, check_writable

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
        )


def _work_folder(folder: Path, plan: SweepPlan, previous: str) -> tuple[Path, str]:
    """Where the runs are written, and how: the folder itself, or (``--overwrite``) a staging
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
) -> SweepStatus:
    """The body of :func:`run_sweep`, while its folder lock is held."""
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
    if todo:
        finished, interrupted, described = _dispatch(
            plan, work, todo, previous, workers, address, timeout, cache, progress, on_run
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
            from dyad.store import _swap_in

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
) -> tuple[dict[str, dict[str, Any]], bool, str]:
    """Connect, pre-train, prepare the folder and run ``todo``; the finished runs' records."""
    from dyad.provenance import provenance

    finished: dict[str, dict[str, Any]] = {}
    interrupted = False
    from dyad.progress import progress_step

    where = f"the Dask scheduler at {address}" if address else "local worker processes"
    progress_step(f"{plan.name}: connecting to {where} ...", enabled=progress)
    with open_executor(workers, address, timeout) as (executor, described, capacity):
        progress_step(f"{plan.name}: loading the visual system ...", enabled=progress)
        pretrain_sweep(plan, cache, progress)
        # first writes: only now that the scenario, the folder and the executor are good
        if previous == "replace":
            _remove_staging(folder)
        (folder / RUNS_DIR).mkdir(parents=True, exist_ok=True)
        if previous != "resume":
            _write_json(folder / SWEEP_FILE, {**plan.record(), "provenance": provenance()})
        _clean_partial_runs(folder, todo)
        (folder / SUMMARY_FILE).unlink(missing_ok=True)
        log.info(
            "sweep %s: %d runs, %d to run on %s", plan.name, len(plan.runs), len(todo), described
        )
        # Only `capacity` runs are submitted at a time: a run not yet submitted is trivially
        # cancelled, whereas a process pool marks queued calls as running and cannot take
        # them back.
        waiting = iter(todo)
        in_flight: dict[Future, RunSpec] = {}

        def submit_next() -> None:
            run = next(waiting, None)
            if run is not None:
                run_folder = str(folder / RUNS_DIR / run.run_id)
                future = _shielded_submit(executor, execute_run, run, run_folder, cache)
                in_flight[future] = run

        stops = StopRequests()
        progress_step(
            f"{plan.name}: {len(todo)} of {len(plan.runs)} runs to do on {described}; each "
            "worker starts up (imports, visual system) before its first run ends",
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
                        run = in_flight.pop(future)
                        if future.cancelled():
                            continue
                        record = _collect(future, run)
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
    return finished, interrupted, described


def _collect(future: Future, run: RunSpec) -> dict[str, Any]:
    """The worker's record, or a failure record if the worker itself died."""
    try:
        return future.result()
    except Exception as exc:  # a crashed worker process, a lost Dask worker, ...
        return {
            "run_id": run.run_id,
            "seed_index": run.seed_index,
            "seed": run.seed,
            "parameters": run.overrides,
            "status": "failed",
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": "".join(traceback.format_exception(exc)),
            "finished": _now(),
        }


@contextlib.contextmanager
def _bar(n: int, label: str, enabled: bool) -> Iterator[Any]:
    from dyad.progress import progress_bar

    with progress_bar(length=max(n, 1), label=label, enabled=enabled and n > 0) as bar:
        yield bar


def pretrain_sweep(plan: SweepPlan, cache_dir: str | Path | None, progress: bool) -> None:
    """Pre-train (or load) every distinct visual system of the sweep once, in this process.

    Calls :func:`dyad.simulation.prepare_vision` (pre-training and the layer-4 response banks,
    both cached on disk), the first step of every run, so workers load them from the cache
    instead of racing to build them. Runs share a visual system unless their scenario sets
    ``vision.vary_with_run_seed``: then each distinct vision seed is built here, one after
    the other (a bar counts them when there are several).
    """
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
    with _bar(len(distinct), "visual systems", progress and several) as bar:
        for scenario, seed in distinct.values():
            prepare_vision(scenario, cache, progress and not several, run_seed=seed)
            bar.update(1)


def _varies_vision(plan: SweepPlan, run: RunSpec) -> bool:
    """Whether this run's visual system may depend on its seed (checked without validating)."""
    if plan.scenario.vision.vary_with_run_seed:
        return True
    return any(key.startswith("vision.vary_with_run_seed") for key in run.overrides)


# --------------------------------------------------------------------------------------------
# the sweep folder


def _existing_sweep(folder: Path, plan: SweepPlan, overwrite: bool) -> str:
    """``"new"``, ``"resume"`` (same sweep) or ``"replace"`` (``overwrite``); else an error."""
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
    """Every run of ``plan`` finished ok, its folder holds a complete run, and the summary
    table was written (a sweep killed just before it resumes and writes it)."""
    if not (folder / SUMMARY_FILE).is_file():
        return False
    records = _read_records(folder)
    return all(
        records.get(run.run_id, {}).get("status") == "ok"
        and (folder / RUNS_DIR / run.run_id / "manifest.json").is_file()
        for run in plan.runs
    )


def _differences(old: Mapping[str, Any], plan: SweepPlan) -> list[str]:
    """A few human-readable differences between an old ``sweep.json`` and a new plan."""
    new = plan.definition()
    out: list[str] = []
    if old.get("dyad_version") != __version__:
        out.append(f"made by dyad {old.get('dyad_version')}, this is {__version__}")
    if old.get("grid") != new["grid"]:
        out.append(f"grid {old.get('grid')} != {new['grid']}")
    if old.get("seeds") != new["seeds"]:
        out.append(f"seeds {old.get('seeds')} != {new['seeds']}")
    old_scenario = dict(_flatten(old.get("scenario", {})))
    new_scenario = dict(_flatten(plan.scenario.to_dict()))
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


def _flatten(node: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from _flatten(value, f"{prefix}{key}.")
    else:
        yield prefix.rstrip("."), node


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
    """The latest ``runs.jsonl`` record per run id (a torn last line is ignored)."""
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
    handle.write(json.dumps(_json_safe(record), allow_nan=False) + "\n")
    handle.flush()
    os.fsync(handle.fileno())


def _write_failures(folder: Path, failures: list[dict[str, Any]]) -> None:
    path = folder / FAILURES_FILE
    if not failures:
        path.unlink(missing_ok=True)
        return
    keep = ("run_id", "parameters", "seed_index", "seed", "error", "traceback", "worker")
    _write_json(path, [{k: f.get(k) for k in keep} for f in failures])


def _write_json(path: Path, value: Any) -> None:
    text = json.dumps(_json_safe(value), indent=2, allow_nan=False) + "\n"
    _atomic_write(path, text.encode("utf-8"))


def _write_parquet(path: Path, table: pd.DataFrame) -> None:
    import io

    buffer = io.BytesIO()
    table.to_parquet(buffer, engine="pyarrow", compression="zstd", index=False)
    _atomic_write(path, buffer.getvalue())


def _atomic_write(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with temp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _json_safe(value: Any) -> Any:
    """Plain JSON values; non-finite floats become None."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


# --------------------------------------------------------------------------------------------
# the summary table


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
            row[key] = value if _is_scalar(value) else _canonical(value)
        row["status"] = record.get("status", "missing")
        row["n_neurons"] = n
        for name in classes:
            count = counts.get(name)
            row[f"count_{_column(name)}"] = count
            row[f"fraction_{_column(name)}"] = count / n if count is not None and n else None
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
        + [f"count_{_column(c)}" for c in classes]
        + [f"fraction_{_column(c)}" for c in classes]
    )
    for name in numeric:
        table[name] = pd.to_numeric(table[name], errors="coerce").astype("float64")
    for name in [f"count_{_column(c)}" for c in classes] + ["n_neurons", "vision_seed"]:
        table[name] = table[name].astype("Int64")
    for name in ("run_id", "status", "dominant", "error"):
        table[name] = table[name].astype("string")
    return table


def _class_names(records: Mapping[str, Mapping[str, Any]]) -> list[str]:
    for record in records.values():
        counts = (record.get("summary") or {}).get("class_counts")
        if counts:
            return list(counts)
    try:
        from dyad.analysis.classify import NEURON_CLASSES

        return list(NEURON_CLASSES)
    except ImportError:  # pragma: no cover - classify is part of dyad
        return []


def _column(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


# --------------------------------------------------------------------------------------------
# reading a sweep folder


@dataclass
class Sweep:
    """A sweep folder: its ``sweep.json`` definition, the run records and the summary table.

    The one type for a sweep, returned by :func:`dyad.sweep` (with :attr:`status`, what that
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
        """The folder of one run of the sweep."""
        return self.folder / RUNS_DIR / run_id

    def run(self, run_id: str):
        """One run of the sweep, read back (:class:`dyad.store.Run`)."""
        from dyad.store import load_run

        return load_run(self.run_folder(run_id), verify=False)

    def table(self, name: str) -> pd.DataFrame:
        """One table of every complete run, concatenated, with ``run_id``, ``seed`` and the
        swept parameters as leading columns (:func:`dyad.store.load_runs`)."""
        from dyad.store import load_runs

        return load_runs(self.folder / RUNS_DIR, name, verify=False)


def is_sweep_folder(folder: str | Path) -> bool:
    return (Path(folder) / SWEEP_FILE).is_file()


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
    """The runs (order, ids, parameters, seeds) recorded in a ``sweep.json``."""
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
