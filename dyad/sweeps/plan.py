"""Planning a sweep: a scenario's ``[sweep]`` grid × seeds expanded into validated runs.

:func:`plan_sweep` reads the scenario, checks the grid, validates every axis value (and the
combinations that a scenario validator relates) before anything runs, and returns a
:class:`SweepPlan` whose :class:`RunSpec` entries are plain data a worker can unpickle
anywhere. Run ids and per-run seeds are made here (see :mod:`dyad.sweeps` for their rules).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dyad import __version__
from dyad._io import utc_now
from dyad.config import (
    Scenario,
    SweepSection,
    apply_overrides,
    check_scenario,
    read_toml,
    resolve_parent_paths,
    resolve_plugin_paths,
)
from dyad.errors import ConfigError, ResourceError
from dyad.sweeps.journal import SWEEP_FORMAT_VERSION, SWEEP_KIND

#: grid paths that cannot be swept: seeds come from ``sweep.seeds``
_FORBIDDEN_AXES = ("seed", "sweep")
_MAX_RUN_ID = 120
#: most runs one sweep may plan unless raised (``--max-runs``): each run takes seconds to
#: minutes, so more is almost always a typo in the grid or in ``--seeds``
MAX_RUNS = 100_000
#: grid axes under these top-level tables are validated together (a Scenario-level
#: validator relates them); axes in different groups are validated independently
_LINKED_TABLES = {"parent": "parents", "parents": "parents"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")


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
        """Return the validated scenario of this run (raises :class:`ConfigError`)."""
        raw = apply_overrides(self.scenario_raw, self.overrides, source=self.source)
        raw["seed"] = self.seed
        return check_scenario(
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
        """The run ids, in plan order."""
        return [run.run_id for run in self.runs]

    def definition(self) -> dict[str, Any]:
        """Return what makes two sweeps the same.

        The resolved scenario (defaults filled in, output folder left out), the grid, the seeds
        and the dyad version.
        """
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
        """Return the content of ``sweep.json``."""
        return {
            "kind": SWEEP_KIND,
            "format_version": SWEEP_FORMAT_VERSION,
            "name": self.name,
            "source": self.source,
            "dyad_version": __version__,
            "created": utc_now(),
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

    Notes
    -----
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

    base = check_scenario(raw, source=source, plugin_dirs=tuple(Path(d) for d in dirs))
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
    """Return the memory estimate of the sweep's largest run, labelled by its grid point.

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
    """Return the grid as ``{dotted path: non-empty list}``; nested TOML tables become dotted paths.

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
    """Return the probe's scenario, or its problems, each rewritten as ``file: where: problem``."""
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
