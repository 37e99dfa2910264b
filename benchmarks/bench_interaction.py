"""Interaction-loop throughput at the default size, written to results/interaction.md.

Runs ``scenarios/lagged.toml`` (2,000 timesteps: Mesa agents, the lagged policy, a
256-neuron mirror layer fed by 1,024 layer-4 and 128 motor inputs, Hebbian learning, and
per-timestep logging of every mirror-layer rate) with pre-training cached, several rounds, and
reports the median timesteps per second of the interaction loop (target: >= 2,000 on 2 cores)
and of the whole run (pre-training loaded from the cache, banks, both test phases, tables,
classification; no figures), plus peak memory. A breakdown times the pieces of one timestep
separately: the Mesa framework with empty agents, the policy's choice, and the mirror step.

The pre-training cache is ``--cache-dir`` (default ``$DYAD_CACHE_DIR``, else a new temporary
folder, so the first run pre-trains). Besides results/interaction.md, the numbers go to
results/interaction.json.

Run:  uv run python benchmarks/bench_interaction.py [--rounds 5] [--cache-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import mesa
import numpy as np
from bench_pretrain import machine, peak_rss_mb
from threadpoolctl import threadpool_limits

from dyad.config import load_scenario
from dyad.simulation import run_scenario

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "interaction.md"


class _Empty(mesa.Agent):
    def step(self) -> None:
        pass


class _EmptyModel(mesa.Model):
    def __init__(self) -> None:
        super().__init__(rng=0)
        self.a, self.b = _Empty(self), _Empty(self)

    def step(self) -> None:
        self.a.step()
        self.b.step()


def mesa_floor_us(n: int = 20_000) -> float:
    model = _EmptyModel()
    start = time.perf_counter()
    model.run_for(n)
    return (time.perf_counter() - start) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cache-dir", type=Path, default=os.environ.get("DYAD_CACHE_DIR"))
    args = parser.parse_args()

    load_before = os.getloadavg()
    scenario = load_scenario(ROOT / "scenarios" / "lagged.toml")
    cache = args.cache_dir or Path(tempfile.mkdtemp(prefix="dyad-bench-"))
    run_scenario(scenario, cache_dir=cache)  # pre-train and build banks once (cached)

    loop, whole = [], []
    for _ in range(args.rounds):
        start = time.perf_counter()
        outcome = run_scenario(scenario, cache_dir=cache)
        whole.append(scenario.run.steps / (time.perf_counter() - start))
        loop.append(outcome.manifest["timings"]["steps_per_s"])

    # pieces of one timestep
    from dyad.plugins import load_registry
    from dyad.policies import PolicyContext

    registry = load_registry()
    policy = registry.create(
        "lagged", {"lag": 3}, PolicyContext(("happy", "sad"), 2000, 10), np.random.default_rng(0)
    )
    history = (np.arange(2003) // 10 % 2).astype(np.int16)
    start = time.perf_counter()
    for t in range(2000):
        policy.choose(t, history[: t + 4])
    policy_us = (time.perf_counter() - start) / 2000 * 1e6

    from dyad.brain.mirror import MirrorLayer
    from dyad.brain.motor import MotorModule

    rng = np.random.default_rng(0)
    motor = MotorModule(scenario.motor, 2, rng)
    layer = MirrorLayer(scenario.mirror.for_expressions(2), 1024, motor.n_motor, rng)
    visual = (rng.random((64, 1024)) < 0.1).astype(np.float32)
    layer.calibrate(visual, motor.patterns[np.arange(64) % 2])
    with threadpool_limits(1, user_api="blas"):
        start = time.perf_counter()
        for t in range(2000):
            layer.step(visual[t % 64], motor.patterns[(t // 10) % 2])
        mirror_us = (time.perf_counter() - start) / 2000 * 1e6

    mesa_us = mesa_floor_us()
    load_after = os.getloadavg()
    lines = [
        "# Interaction loop (scenarios/lagged.toml, 2,000 timesteps, default sizes)",
        "",
        f"Machine: {machine()}",
        f"Rounds: {args.rounds}; medians over rounds (the machine may be shared: see spread). "
        f"Load average before/after: {', '.join(f'{x:.2f}' for x in load_before)} / "
        f"{', '.join(f'{x:.2f}' for x in load_after)}.",
        "",
        "| measure | median | min | max |",
        "|---|---|---|---|",
        f"| interaction loop, timesteps/s (target >= 2,000) | {statistics.median(loop):,.0f} "
        f"| {min(loop):,.0f} | {max(loop):,.0f} |",
        f"| whole run without figures, timesteps/s | {statistics.median(whole):,.0f} "
        f"| {min(whole):,.0f} | {max(whole):,.0f} |",
        "",
        "Per-timestep pieces (single measurement each):",
        "",
        f"- Mesa framework, model with two empty agents: {mesa_us:.1f} µs per step",
        f"- lagged policy `choose`: {policy_us:.2f} µs",
        f"- mirror layer `step` with learning (256 neurons, 1,152 inputs, 1 BLAS thread): "
        f"{mirror_us:.0f} µs",
        "",
        f"Peak RSS: {peak_rss_mb():.0f} MB",
        "",
    ]
    RESULTS.write_text("\n".join(lines))
    record = {
        "rounds": args.rounds,
        "load_before": load_before,
        "load_after": load_after,
        "loop_steps_per_s": loop,
        "whole_run_steps_per_s": whole,
        "mesa_empty_step_us": mesa_us,
        "policy_choose_us": policy_us,
        "mirror_step_us": mirror_us,
        "peak_rss_mb": peak_rss_mb(),
    }
    RESULTS.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
