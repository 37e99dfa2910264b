"""A sweep's visual systems built on its workers against one after the other in the sweep process.

With ``vision.vary_with_run_seed = true`` every seed index of a sweep has its own visual system
(VisNet pre-training and layer-4 banks), and ``dyad sweep`` builds them all before any run.
Built in the sweep process they take S · p (S visual systems, p each); as tasks on the sweep's
workers, about ⌈S / W⌉ · p on W workers. This script builds the visual systems of the noise
sweep with ``--seeds S`` both ways, each into an empty cache, on 2 local workers for the second
(worker start-up included), checks that the two caches hold the same arrays, and writes
``results/sweep_pretrain.md`` and ``.json``.

Run:  uv run python benchmarks/bench_sweep_pretrain.py [--seeds 4] [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results" / "sweep_pretrain.md"


def load() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def same_caches(a: Path, b: Path) -> bool:
    """Whether two caches hold the same files with the same arrays (metadata holds timings)."""
    import numpy as np

    from dyad.vision.cache import _META

    names = sorted(p.name for p in a.glob("*.npz"))
    if names != sorted(p.name for p in b.glob("*.npz")):
        return False
    for name in names:
        with np.load(a / name) as x, np.load(b / name) as y:
            if set(x.files) != set(y.files):
                return False
            if any(not np.array_equal(x[k], y[k]) for k in x.files if k != _META):
                return False
    return True


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4, help="seed indices = visual systems")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="the small preset (seconds each)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    from dyad.sweeps import plan_sweep, pretrain_sweep
    from dyad.sweeps.executors import open_executor

    overrides = {"vision.vary_with_run_seed": True}
    if args.quick:
        overrides["vision.preset"] = "small"
    plan = plan_sweep(ROOT / "scenarios" / "noise_sweep.toml", overrides, seeds=args.seeds)
    record: dict[str, object] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        ).stdout.strip(),
        "machine": f"{os.cpu_count()} cores, {platform.platform()}, Python "
        f"{platform.python_version()}",
        "size": "small preset" if args.quick else "default (classic) size",
        "visual_systems": args.seeds,
        "workers": args.workers,
    }
    with tempfile.TemporaryDirectory(prefix="dyad-bench-") as tmp:
        here, there = Path(tmp) / "here", Path(tmp) / "there"
        record["load_before"] = load()
        clock = time.perf_counter()
        pretrain_sweep(plan, here, progress=False)
        record["in_process_s"] = time.perf_counter() - clock
        record["load_between"] = load()
        clock = time.perf_counter()
        with open_executor(workers=args.workers) as (executor, _, _):
            pretrain_sweep(plan, there, progress=False, executor=executor)
        record["on_workers_s"] = time.perf_counter() - clock
        record["load_after"] = load()
        record["identical"] = same_caches(here, there)
    record["speed_up"] = record["in_process_s"] / record["on_workers_s"]
    print(json.dumps(record, indent=1))
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n")
        args.output.write_text(
            "# Building a sweep's visual systems\n\n"
            f"`benchmarks/bench_sweep_pretrain.py`, {record['date']}, commit {record['commit']}, "
            f"{record['machine']}; load average (1, 5, 15 min) {record['load_before']} before, "
            f"{record['load_between']} between, {record['load_after']} after.\n\n"
            f"The noise sweep with `vision.vary_with_run_seed = true` and {args.seeds} seeds: "
            f"{args.seeds} visual systems at the {record['size']}, each into an empty cache.\n\n"
            "| how | wall (s) |\n|---|---|\n"
            f"| one after the other in the sweep process (before 2026-12-01) | "
            f"{record['in_process_s']:.1f} |\n"
            f"| as tasks on {args.workers} local workers (start-up included) | "
            f"{record['on_workers_s']:.1f} |\n\n"
            f"Speed-up **{record['speed_up']:.2f}×**; the two caches hold the same arrays: "
            f"**{record['identical']}**.\n"
        )
    return record


if __name__ == "__main__":
    main()
