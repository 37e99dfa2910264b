"""Sweep throughput and the timing of the whole reproduction, written to results/sweep.md.

1. Throughput: a small fixed sweep (the noise sweep with the small VisNet preset, 4 values of
   q x 4 seeds = 16 runs) on 1 and on 2 local worker processes, with the visual system already
   pre-trained (cached), in runs per second.
2. The full reproduction, from an empty cache: pre-train once, Simulations 1-3
   (scenarios/perfect.toml, noisy.toml, lagged.toml), the noise sweep (11 q x 5 seeds) and the
   lag sweep (21 L x 5 seeds), then the report pooling both sweeps. Target: at most 5 minutes on
   2 cores.

Run:  uv run python benchmarks/bench_sweep.py            (both parts)
      uv run python benchmarks/bench_sweep.py --quick    (throughput only)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bench_pretrain import machine

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
RESULTS = Path(__file__).resolve().parent / "results" / "sweep.md"
SMALL_SWEEP = {"vision.preset": "small"}
SMALL_Q = (0.0, 0.1, 0.2, 0.3)
SMALL_SEEDS = 4


def small_plan():
    """Return the throughput sweep: the noise sweep cut to 4 values of q x 4 seeds, small VisNet."""
    from dyad.sweeps import plan_sweep

    plan = plan_sweep(SCENARIOS / "noise_sweep.toml", SMALL_SWEEP, seeds=SMALL_SEEDS)
    runs = tuple(r for r in plan.runs if r.overrides["parent.params.q"] in SMALL_Q)
    grid = {"parent.params.q": list(SMALL_Q)}
    return type(plan)(**{**plan.__dict__, "runs": runs, "grid": grid})


def throughput(workdir: Path, cache: Path) -> list[tuple[int, int, float, float, float]]:
    """Per worker count: runs, wall time, runs/s overall and runs/s once the workers are up."""
    from dyad.sweeps import run_sweep

    plan = small_plan()
    rows = []
    for workers in (1, 2):
        finished: list[float] = []
        result = run_sweep(
            plan,
            workdir / f"throughput_{workers}",
            workers=workers,
            cache_dir=cache,
            on_run=lambda record, finished=finished: finished.append(time.perf_counter()),
        )
        assert result.failed == 0, result.failures
        # steady state: from each worker's first finished run on, leaving out start-up
        steady = (len(finished) - workers) / (finished[-1] - finished[workers - 1])
        rows.append((workers, result.done, result.wall_time_s, result.runs_per_s, steady))
        print(f"  {workers} worker(s): {result.describe(plan.name)}", flush=True)
    return rows


def reproduction(workdir: Path, cache: Path) -> list[tuple[str, float, str]]:
    from dyad.analysis.figures import draw_run_figures
    from dyad.config import load_scenario
    from dyad.reporting import build_report
    from dyad.simulation import pretrain_config, run_scenario
    from dyad.sweeps import plan_sweep, run_sweep
    from dyad.vision import pretrain

    steps: list[tuple[str, float, str]] = []

    def timed(label: str, action) -> None:
        started = time.perf_counter()
        note = action() or ""
        seconds = time.perf_counter() - started
        steps.append((label, seconds, note))
        print(f"  {label}: {seconds:.1f} s {note}", flush=True)

    perfect = load_scenario(SCENARIOS / "perfect.toml")
    timed(
        "pre-train VisNet (empty cache)",
        lambda: pretrain(pretrain_config(perfect), cache_dir=cache) and None,
    )
    for name in ("perfect", "noisy", "lagged"):
        scenario = load_scenario(SCENARIOS / f"{name}.toml")
        timed(
            f"dyad simulate scenarios/{name}.toml",
            lambda s=scenario, n=name: run_scenario(
                s, output=workdir / n, cache_dir=cache, figures=draw_run_figures
            ).summary["dominant"],
        )
    for name in ("noise_sweep", "lag_sweep"):
        plan = plan_sweep(SCENARIOS / f"{name}.toml")

        def sweep(plan=plan, name=name) -> str:
            result = run_sweep(plan, workdir / name, cache_dir=cache)
            return f"({result.done} runs, {result.failed} failed, {result.runs_per_s:.2f} runs/s)"

        timed(f"dyad sweep scenarios/{name}.toml", sweep)
    timed(
        "dyad report results/noise_sweep results/lag_sweep",
        lambda: (
            str(
                build_report(
                    [workdir / "noise_sweep", workdir / "lag_sweep"], workdir / "report.html"
                )
            )
            and None
        ),
    )
    return steps


def write_results(
    throughput_rows: list[tuple[int, int, float, float, float]],
    steps: list[tuple[str, float, str]] | None,
) -> None:
    n_runs = len(SMALL_Q) * SMALL_SEEDS
    lines = [
        "# Sweep benchmarks",
        "",
        f"Machine: {machine()}.",
        "Timings on a shared machine are noisy; rerun with "
        "`uv run python benchmarks/bench_sweep.py`.",
        "",
        "## Throughput of a small fixed sweep",
        "",
        'The noise sweep with `vision.preset = "small"` (2,000 timesteps per run), '
        f"q = {', '.join(map(str, SMALL_Q))} x {SMALL_SEEDS} seeds = {n_runs} runs, the "
        "visual system pre-trained (cached) beforehand. Overall runs/s includes starting the "
        "worker processes (each imports dyad, Mesa, pandas and scipy); steady-state runs/s "
        "counts from the first run each worker finished.",
        "",
        "| workers | runs | wall time (s) | runs/s overall | runs/s steady state |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {w} | {n} | {t:.1f} | {r:.2f} | {st:.2f} |" for w, n, t, r, st in throughput_rows]
    if len(throughput_rows) == 2 and throughput_rows[0][4] > 0:
        speedup = throughput_rows[1][4] / throughput_rows[0][4]
        lines += ["", f"Steady-state speed-up with 2 workers on 2 cores: {speedup:.2f}x."]
    if steps is not None:
        total = sum(s for _, s, _ in steps)
        lines += [
            "",
            "## The full reproduction",
            "",
            "From an empty cache, in one process, with the default local pool (one worker per "
            "core): the three simulations, the noise sweep (11 q x 5 seeds = 55 runs), the lag "
            "sweep (21 L x 5 seeds = 105 runs) and the report. Target: at most 5 minutes on 2 "
            "cores.",
            "",
            "| step | seconds | |",
            "|---|---|---|",
        ]
        lines += [f"| {label} | {seconds:.1f} | {note} |" for label, seconds, note in steps]
        lines += [
            f"| **total** | **{total:.1f}** | {'within' if total <= 300 else 'over'} the "
            "5-minute target |"
        ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"wrote {RESULTS}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="throughput only")
    parser.add_argument("--keep", type=Path, default=None, help="keep results in this folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dyad-bench-sweep-") as temp:
        workdir = args.keep or Path(temp)
        workdir.mkdir(parents=True, exist_ok=True)
        print("throughput (small fixed sweep):", flush=True)
        small_cache = workdir / "cache-small"
        from dyad.sweeps import pretrain_sweep

        pretrain_sweep(small_plan(), str(small_cache), progress=False)
        rows = throughput(workdir, small_cache)
        steps = None
        if not args.quick:
            print("full reproduction (empty cache):", flush=True)
            steps = reproduction(workdir, workdir / "cache-full")
        write_results(rows, steps)


if __name__ == "__main__":
    sys.exit(main())
