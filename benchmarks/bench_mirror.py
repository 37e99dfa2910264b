"""Mirror-layer step time at the default size, written to results/mirror.md.

Default layer (256 neurons, percentile competition, per-modality normalisation, conscience) fed
by 1024 layer-4 rates (about 10% strongly active, the rest weak) and the default motor code
(2 expressions × 64 units = 128 inputs). Measures the median time of ``step(learn=True)`` (the
per-timestep cost in the interaction), ``step(learn=False)``, and for comparison a plain numpy
step (outer-product update and explicit row renormalisation) and the 1024-neuron layer of
model.md §8.1. Target: the whole interaction loop at >= 2,000 timesteps/s, so the layer step
well under 0.3 ms.

Timings use one BLAS thread (as a simulation should: the products are far too small to gain
from threads, and on a shared 2-core machine threads mostly contend); the default thread count
is reported too.

Run:  uv run python benchmarks/bench_mirror.py
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
from bench_pretrain import machine
from scipy.special import expit
from threadpoolctl import threadpool_limits

from dyad.brain.mirror import MirrorConfig, MirrorLayer
from dyad.brain.motor import MotorConfig, MotorModule

RESULTS = Path(__file__).resolve().parent / "results" / "mirror.md"
N_VISUAL = 1024
N_STEPS = 2000
ROUNDS = 7


def layer4_inputs(rng: np.random.Generator, n: int) -> np.ndarray:
    """Stand-in layer-4 rates: weak background everywhere, ~10% of cells strongly active."""
    rates = rng.random((n, N_VISUAL), dtype=np.float32) * np.float32(0.1)
    active = rng.random((n, N_VISUAL)) < 0.1
    return np.where(active, 0.5 + 0.5 * rng.random((n, N_VISUAL), dtype=np.float32), rates)


def build(config: MirrorConfig, seed: int = 0):
    rng = np.random.default_rng(seed)
    motor = MotorModule(MotorConfig(), 2, rng)
    layer = MirrorLayer(config, N_VISUAL, motor.n_motor, rng)
    visual = layer4_inputs(rng, N_STEPS)
    produced = (np.arange(N_STEPS) // 10) % 2
    layer.calibrate(visual[:64], motor.patterns[produced[:64]])
    return layer, visual, motor.patterns[produced]


def per_step_us(step, visual: np.ndarray, motor: np.ndarray) -> list[float]:
    """Per-round median of single-step times, microseconds."""
    medians = []
    for _ in range(ROUNDS):
        times = np.empty(N_STEPS)
        for t in range(N_STEPS):
            start = time.perf_counter()
            step(visual[t], motor[t])
            times[t] = time.perf_counter() - start
        medians.append(float(np.median(times)) * 1e6)
    return medians


def naive_step_factory(layer: MirrorLayer):
    """Return a plain numpy step with the same maths, for comparison."""
    wv, wm = layer.weights_visual, layer.weights_motor
    gain, beta, k = np.float32(layer.motor_gain), layer.beta, layer.config.n_winners
    alpha = np.float32(layer.config.learning_rate)
    target = np.float32(1 / np.sqrt(2))

    def step(visual: np.ndarray, motor: np.ndarray) -> np.ndarray:
        x_m = gain * motor
        h = wv @ visual + wm @ x_m
        top = np.partition(h, (h.size - k - 1, h.size - k))
        rates = expit(2 * beta * (h - 0.5 * (top[h.size - k - 1] + top[h.size - k])))
        for w, x in ((wv, visual), (wm, x_m)):
            w += alpha * np.outer(rates, x)
            w *= target / np.linalg.norm(w, axis=1, keepdims=True)
        return rates

    return step


def main() -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    rows = []
    with threadpool_limits(1):
        layer, visual, motor = build(MirrorConfig().for_expressions(2))
        rows.append(("step(learn=True), 256 neurons", per_step_us(layer.step, visual, motor)))
        rows.append(
            (
                "step(learn=False), 256 neurons",
                per_step_us(lambda v, m: layer.step(v, m, learn=False), visual, motor),
            )
        )
        naive_layer, _, _ = build(MirrorConfig().for_expressions(2))
        rows.append(
            (
                "plain numpy step, 256 neurons",
                per_step_us(naive_step_factory(naive_layer), visual, motor),
            )
        )
        big, _, _ = build(MirrorConfig(n_neurons=1024).for_expressions(2))
        rows.append(("step(learn=True), 1024 neurons", per_step_us(big.step, visual, motor)))
        # the interaction's own loop shape: 2,000 steps back to back
        layer, visual, motor = build(MirrorConfig().for_expressions(2))
        start = time.perf_counter()
        for t in range(N_STEPS):
            layer.step(visual[t], motor[t])
        loop_rate = N_STEPS / (time.perf_counter() - start)
    layer, visual, motor = build(MirrorConfig().for_expressions(2))
    rows.append(
        (
            "step(learn=True), 256 neurons, default BLAS threads",
            per_step_us(layer.step, visual, motor),
        )
    )
    load_after = os.getloadavg()

    lines = [
        "# Mirror-layer benchmark",
        "",
        f"Machine: {machine()}.",
        "",
        f"Inputs: {N_VISUAL} layer-4 rates + 128 motor units (2 × 64 blocks); default "
        "`MirrorConfig()` unless stated. One BLAS thread unless stated. "
        f"{N_STEPS} steps per round, {ROUNDS} rounds; the median of per-round medians. "
        f"Load average before/after: {', '.join(f'{x:.2f}' for x in load_before)} / "
        f"{', '.join(f'{x:.2f}' for x in load_after)} (shared machine). "
        "Command: `uv run python benchmarks/bench_mirror.py`.",
        "",
        "| measure | median (µs) | per-round medians (µs) |",
        "|---|---|---|",
    ]
    for name, medians in rows:
        lines.append(
            f"| {name} | {np.median(medians):.1f} | {', '.join(f'{m:.1f}' for m in medians)} |"
        )
    default_us = float(np.median(rows[0][1]))
    lines += [
        "",
        f"{N_STEPS} back-to-back learning steps of the default layer: **{loop_rate:,.0f} steps/s** "
        "(the layer alone; the interaction loop adds its own per-step cost).",
        "",
        f"Target (layer step well under 0.3 ms): **{'met' if default_us < 150 else 'NOT met'}** "
        f"({default_us:.0f} µs, {default_us / 500:.0%} of the 0.5 ms budget per timestep at "
        "2,000 timesteps/s).",
        "",
    ]
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
