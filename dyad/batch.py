"""Many runs of one visual system in one process, their mirror layers stepped as one batch.

Runs that share a visual system (the same pre-trained VisNet and layer-4 banks) and a mirror
layer shape differ only in what they draw from their own seeds: the schedules, the policies'
choices, the initial weights and the bank item seen each timestep. :func:`run_batch` wires
every run exactly as a run alone is wired (:func:`dyad.simulation.wire_run`, the same random
streams in the same order), plays each run's decisions (the parents' policies, a plain loop per
dyad: they depend only on the infant's schedule, never on the brain), then steps all the mirror
layers together (:class:`dyad.brain.batched.BankMirror`) and builds each run's tables
(:mod:`dyad.tables`). ``dyad simulate`` is a batch of one, so a run gives the same tables, bit
for bit, alone or in a batch of any size.

One run's failure (a policy that raises, a bad plugin) is that run's: it is returned as the
exception in its place and the others go on.
"""

from __future__ import annotations

import functools
import json
import logging
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dyad import __version__
from dyad.config import Scenario

log = logging.getLogger(__name__)


@dataclass
class _Prepared:
    """One run of a batch, wired and with its decisions played, ready for the mirror layers."""

    index: int
    scenario: Scenario
    seed: int
    wiring: Any
    registry: Any
    items: np.ndarray  # (n_steps,) bank row shown each timestep
    produced: np.ndarray  # (n_steps,) infant's expression
    shown: np.ndarray  # (n_steps,) parent's expression
    transform: np.ndarray  # (n_steps,) item within the parent's and expression's bank
    streams: dict[str, np.random.Generator] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def batch_key(scenario: Scenario, seed: int | None = None) -> str:
    """Return what runs must share to be batched: visual system, mirror layer, length.

    Two runs with the same key use the same layer-4 banks (pre-training config with the
    run's vision seed, parents' faces, bank sizes) and mirror layers of the same shape and
    rules, for the same number of timesteps. Everything else (policies, schedules, seeds,
    test trials, outputs) may differ within a batch.
    """
    from dyad.simulation import pretrain_config

    faces = [(p.identity_seed, str(p.photos), p.photo_labels) for p in scenario.all_parents]
    return json.dumps(
        [
            pretrain_config(scenario, seed).to_json(),
            faces,
            scenario.vision.bank_size,
            scenario.vision.n_test_transforms,
            repr(scenario.mirror),
            repr(scenario.motor),
            scenario.run.steps,
        ],
        sort_keys=True,
        default=str,
    )


def _provenance() -> dict[str, Any]:
    """:func:`dyad.provenance.provenance`, asking git and the installed packages once per process.

    Those take ~50-100 ms and do not change while a process runs; the command line is read
    each time.
    """
    import sys

    code = {key: value for key, value in _code_provenance().items() if key != "command"}
    return {"command": [str(arg) for arg in sys.argv], **code}


@functools.cache
def _code_provenance() -> dict[str, Any]:
    from dyad.provenance import provenance

    return provenance()


def run_batch(
    runs: Sequence[tuple[Scenario, int]],
    *,
    cache_dir: Path | None = None,
    plugin_dirs: Sequence[Path] = (),
    progress: bool = False,
    consume: Callable[[int, Any], Any] | None = None,
) -> list[Any]:
    """Run ``(scenario, seed)`` pairs that share a visual system; one outcome per run, in order.

    Each outcome is a :class:`dyad.store.Run` (tables and manifest, not saved) or the
    exception that run raised. With ``consume``, each outcome is handed to
    ``consume(index, outcome)`` as soon as it is made (a sweep saves the run there) and its
    return value is kept instead, so a batch never holds every run's tables at once. All runs
    must have the same :func:`batch_key` (a ``ValueError`` otherwise). BLAS is limited to one
    thread meanwhile.
    """
    from threadpoolctl import threadpool_limits

    if not runs:
        return []
    keys = {batch_key(scenario, seed) for scenario, seed in runs}
    if len(keys) > 1:
        raise ValueError("run_batch: runs differ in visual system or mirror layer; batch_key")
    with threadpool_limits(limits=1, user_api="blas"):
        outcomes = _run_batch(list(runs), cache_dir, tuple(plugin_dirs), progress, consume)
    return outcomes


def _run_batch(
    runs: list[tuple[Scenario, int]],
    cache_dir: Path | None,
    plugin_dirs: tuple[Path, ...],
    progress: bool,
    consume: Callable[[int, Any], Any] | None,
) -> list[Any]:
    from dyad.simulation import cached_unseen_face_bank, cached_vision

    started = time.perf_counter()
    first, first_seed = runs[0]
    pretrained, training_bank, test_bank = cached_vision(first, cache_dir, progress, first_seed)
    unseen_bank = None
    if any(scenario.run.test_unseen_face for scenario, _ in runs):
        unseen_bank = cached_unseen_face_bank(
            pretrained, first.vision.n_test_transforms, cache_dir, progress
        )
    vision_s = time.perf_counter() - started
    outcomes: list[Any] = [None] * len(runs)
    prepared: list[_Prepared] = []
    for index, (scenario, seed) in enumerate(runs):
        try:
            prepared.append(_prepare(index, scenario, seed, training_bank, test_bank, plugin_dirs))
        except Exception as exc:  # this run fails; the batch goes on
            outcomes[index] = exc
    if prepared:
        try:
            results = _simulate(prepared, training_bank, test_bank, unseen_bank, progress)
        except Exception:
            if len(prepared) == 1:
                raise
            # a failure shared by the batch: run each alone, so only the runs at fault fail
            log.warning("batch of %d failed; running its runs one by one", len(prepared))
            results = {}
            for run in prepared:
                try:
                    results.update(
                        _simulate([run], training_bank, test_bank, unseen_bank, progress)
                    )
                except Exception as exc:
                    outcomes[run.index] = exc
        from dyad.tables import layer4_stats

        layer4 = layer4_stats(training_bank)  # the same for every run of the batch
        for run in prepared:
            if run.index not in results:
                continue
            try:
                outcomes[run.index] = _finish(
                    run,
                    results.pop(run.index),
                    pretrained,
                    training_bank,
                    vision_s,
                    len(runs),
                    layer4,
                )
            except Exception as exc:
                outcomes[run.index] = exc
            if consume is not None:
                outcomes[run.index] = consume(run.index, outcomes[run.index])
    if consume is not None:  # the runs that failed before the layers ran
        for index, outcome in enumerate(outcomes):
            if isinstance(outcome, BaseException):
                outcomes[index] = consume(index, outcome)
    return outcomes


def _prepare(
    index: int,
    scenario: Scenario,
    seed: int,
    training_bank: np.ndarray,
    test_bank: np.ndarray,
    plugin_dirs: tuple[Path, ...],
) -> _Prepared:
    """Wire one run from its streams and play its parents' decisions (no mirror layer yet)."""
    from dyad.config import check_policies, scenario_warnings
    from dyad.decisions import checked_choice
    from dyad.plugins import load_registry
    from dyad.simulation import run_streams, wire_run

    clock = time.perf_counter()
    # the policies exist and take their params (imports plugin code; validation does not)
    check_policies(scenario, f"scenario {scenario.name!r}", plugin_dirs)
    for line in scenario_warnings(scenario):
        log.warning("%s", line)
    streams = run_streams(seed)
    registry = load_registry(plugin_dirs=(*plugin_dirs, *scenario.plugins), strict=True)
    wiring = wire_run(scenario, streams, registry, training_bank, test_bank)
    n_steps = scenario.run.steps
    parents = scenario.all_parents
    n_expr = len(scenario.infant.expressions)
    produced = np.asarray(wiring.schedule[wiring.preroll :], np.intp)
    present = np.asarray(wiring.parent_schedule, np.intp)
    who = [
        f"parent {p.name!r}: policy {p.policy!r} ({registry.get(p.policy).source})" for p in parents
    ]
    policies, schedule, preroll = wiring.policies, wiring.schedule, wiring.preroll
    # a Python loop over timesteps (policies decide one at a time), kept to Python objects:
    # numpy scalar indexing and item assignment cost a third of it
    choices = [
        checked_choice(policies[parent], t, schedule[: preroll + t + 1], n_expr, who[parent])
        for t, parent in enumerate(present.tolist())
    ]
    shown = np.asarray(choices, np.intp).reshape(n_steps)
    # the bank item seen each timestep: the draws InfantBrain.experience makes one at a time
    transform = wiring.brain.rng.integers(wiring.brain.n_bank, size=n_steps)
    n_bank = training_bank.shape[2]
    items = (present * n_expr + shown) * n_bank + transform
    run = _Prepared(
        index, scenario, seed, wiring, registry, items, produced, shown, transform, streams
    )
    run.timings["prepare_s"] = time.perf_counter() - clock
    return run


def _probe(engine, network: int, run: _Prepared, rows: np.ndarray):
    """Probe one network (the test phase, model.md §10) as ``InfantBrain.probe`` draws it."""
    from dyad.brain.infant import ProbeResponses, motor_probe_inputs

    n_trials = run.scenario.run.test_trials
    patterns = run.wiring.brain.motor.patterns
    trials = min(n_trials, rows.shape[2])
    index = rows[:, :, :trials]
    visual = engine.respond_visual(network, index.ravel()).reshape(*index.shape, -1)
    inputs = motor_probe_inputs(
        patterns, n_trials, run.scenario.run.motor_test_flip, run.streams["test"]
    )
    motor = engine.respond_motor(network, inputs).reshape(len(patterns), n_trials, -1)
    return ProbeResponses(visual=visual, motor=motor)


def _simulate(
    prepared: list[_Prepared],
    training_bank: np.ndarray,
    test_bank: np.ndarray,
    unseen_bank: np.ndarray | None,
    progress: bool,
) -> dict[int, dict[str, Any]]:
    """Probe, interact and probe again, every run's mirror layer in one batch."""
    from dyad.brain.batched import BankMirror

    n_l4 = training_bank.shape[-1]
    banks = [test_bank] if unseen_bank is None else [test_bank, unseen_bank]
    probe_rows = np.concatenate([bank.reshape(-1, n_l4) for bank in banks])
    test_rows = np.arange(test_bank[..., 0].size).reshape(test_bank.shape[:3])
    unseen_rows = None
    if unseen_bank is not None:
        unseen_rows = test_rows.size + np.arange(unseen_bank[..., 0].size).reshape(
            unseen_bank.shape[:3]
        )
    engine = BankMirror(
        [run.wiring.brain.mirror for run in prepared],
        training_bank.reshape(-1, n_l4),
        [run.wiring.brain.motor.patterns for run in prepared],
        probe_rows,
    )
    from dyad.analysis import rank_kernel

    loop_s = 0.0
    if engine.backend == "numba":
        from dyad.brain.bank_kernels import compiled_loop_cached
        from dyad.brain.batched import load_compiled_loop

        if progress and not (compiled_loop_cached() and rank_kernel.kernels_cached()):
            from dyad.progress import progress_step

            progress_step(
                f"{prepared[0].scenario.name}: compiling the mirror layer's loop and rank test "
                "(once after installing; later runs load them) ..."
            )
        loop_s = load_compiled_loop(len(prepared))
    loop_s += rank_kernel.load()  # the rank test after the interaction is numba's either way
    results: dict[int, dict[str, Any]] = {}
    for network, run in enumerate(prepared):
        results[run.index] = {"before": _probe(engine, network, run, test_rows)}
        if unseen_rows is not None and run.scenario.run.test_unseen_face:
            results[run.index]["unseen_before"] = _unseen(engine, network, run, unseen_rows)
    clock = time.perf_counter()
    trajectory = engine.run(
        np.stack([run.items for run in prepared]),
        np.stack([run.produced for run in prepared]),
        keep_rates=any(run.scenario.output.mirror_rates for run in prepared),
    )
    interaction_s = time.perf_counter() - clock
    for network, run in enumerate(prepared):
        result = results[run.index]
        result["after"] = _probe(engine, network, run, test_rows)
        if "unseen_before" in result:
            result["unseen_after"] = _unseen(engine, network, run, unseen_rows)
        result["trajectory"] = {
            "mean_rate": trajectory.mean_rate[network],
            "active": trajectory.active[network],
            "visual_drive": trajectory.visual_drive[network],
            "motor_drive": trajectory.motor_drive[network],
            "rates": None if trajectory.rates is None else trajectory.rates[network],
        }
        result["batch"] = {"size": len(prepared), "index": network}
        result["interaction_s"] = interaction_s
        result["loop_s"] = loop_s
    return results


def _unseen(engine, network: int, run: _Prepared, rows: np.ndarray) -> np.ndarray:
    """Probe one network with the unseen face, visual only: ``(1, S, trials, N)``."""
    trials = min(run.scenario.run.test_trials, rows.shape[2])
    index = rows[:, :, :trials]
    return engine.respond_visual(network, index.ravel()).reshape(*index.shape, -1)


def _finish(
    run: _Prepared,
    result: dict[str, Any],
    pretrained,
    training_bank: np.ndarray,
    vision_s: float,
    batch_runs: int,
    layer4: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
):
    """One run's tables, summary and manifest (a :class:`dyad.store.Run`, not saved).

    ``layer4``: :func:`dyad.tables.layer4_stats` of ``training_bank``, shared by the batch.
    """
    from dyad.config import scenario_warnings
    from dyad.recording import InteractionRecorder
    from dyad.store import Run
    from dyad.tables import run_summary, run_tables

    clock = time.perf_counter()
    scenario = run.scenario
    parents = scenario.all_parents
    names = [p.name for p in parents]
    n_steps = scenario.run.steps
    trajectory = result["trajectory"]
    recorder = InteractionRecorder(
        n_steps,
        run.wiring.brain.mirror.n_neurons,
        scenario.run.log_every,
        scenario.output.mirror_rates,
    )
    recorder.infant_expression[...] = run.produced
    recorder.parent[...] = run.wiring.parent_schedule
    recorder.parent_expression[...] = run.shown
    recorder.transform[...] = run.transform
    recorder.mirror_mean_rate[...] = trajectory["mean_rate"]
    recorder.mirror_active[...] = trajectory["active"]
    recorder.visual_drive[...] = trajectory["visual_drive"]
    recorder.motor_drive[...] = trajectory["motor_drive"]
    if recorder.mirror_rates.shape[0]:
        recorder.mirror_rates[...] = trajectory["rates"][:: scenario.run.log_every]
    unseen = None
    if "unseen_before" in result:
        unseen = {"before": result["unseen_before"], "after": result["unseen_after"]}
    tables = run_tables(
        recorder,
        {"before": result["before"], "after": result["after"]},
        unseen,
        training_bank,
        scenario.infant.expressions,
        names,
        scenario.output.mirror_rates,
        layer4,
    )
    summary = run_summary(tables)
    batch = result["batch"]
    share = result["interaction_s"] / batch["size"]
    timings = {
        "vision_s": vision_s,
        "prepare_s": run.timings["prepare_s"],
        "interaction_s": share,
        "steps_per_s": n_steps / max(share, 1e-9),
        "tables_s": time.perf_counter() - clock,
        # loading or compiling the compiled kernels (the mirror layer's loop, the rank test),
        # once per process (the batch's time)
        "loop_s": result["loop_s"],
    }
    timings["total_s"] = (vision_s + result["loop_s"]) / batch_runs + sum(
        timings[k] for k in ("prepare_s", "interaction_s", "tables_s")
    )
    registry = run.registry
    manifest = {
        "kind": "dyad-run",
        "scenario": scenario.to_dict(),
        "seed": run.seed,
        "dyad_version": __version__,
        "python": platform.python_version(),
        "provenance": _provenance(),
        "plugin_sources": {p.policy: registry.get(p.policy).source for p in parents},
        "policies": registry.provenance([p.policy for p in parents]),
        "pretrained_cache_key": getattr(pretrained, "key", None),
        "warnings": scenario_warnings(scenario),
        "vision_seed": pretrained.config.seed,
        "summary": summary,
        "timings": timings,
        # how the run was executed (not what it computed: a run's tables do not depend on it)
        "batch": {"size": batch["size"], "index": batch["index"]},
    }
    return Run(folder=None, manifest=manifest, tables=tables)
