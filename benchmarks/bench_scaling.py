"""Cost of one run and of one vision seed's pre-training at each network size (docs/scaling.md).

Sizes (every one runs the default scenario, ``scenarios/perfect.toml``: 2,000 timesteps, 20
test trials per expression and modality, mirror rates logged every timestep; only the
networks differ):

- ``tiny``: the tests' tiny network (32-px faces, 8×8 VisNet layers, 1 epoch, 16 mirror cells);
- ``small``: ``vision.preset = "small"`` (64-px faces, 16×16 layers, 40 epochs);
- ``default``: the scenario defaults (128-px faces, dense 32×32 layers, 40 epochs, 256 cells);
- ``classic``: the study's sizes (VisNet's classic sparseness and layer-1 fan-in over all four
  V1 wavelengths, 1,024 mirror cells).

For each size, in fresh processes: one run from an empty pre-training cache (its vision time is
the pre-training of one vision seed, plus its layer-4 banks, on numba's default threads), the
size of that cache on disk, then ``--runs`` warm runs the way a sweep worker does them (one
BLAS and one numba thread, no figures, tables written): the run's wall and CPU time (user +
system, from ``getrusage``), the whole process's wall time (start-up and imports included),
its peak resident memory and the run folder's size. Medians over the warm runs.

Writes results/scaling.md and results/scaling.json.

Run:  uv run python benchmarks/bench_scaling.py [--runs 3] [--sizes tiny small default classic]
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"


def tests_tiny_network() -> dict:
    """The tests' tiny network (``TINY_NETWORK_TOML`` in tests/conftest.py), read, not imported.

    Its ``[output]`` table is dropped: every size here logs the mirror rates alike.
    """
    tree = ast.parse((ROOT / "tests" / "conftest.py").read_text())
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        if isinstance(target, ast.Name) and target.id == "TINY_NETWORK_TOML":
            network = tomllib.loads(ast.literal_eval(node.value))
            network.pop("output", None)
            return network
    raise LookupError("tests/conftest.py: TINY_NETWORK_TOML not found")


#: each size's changes to scenarios/perfect.toml
SIZES: dict[str, dict] = {
    "tiny": tests_tiny_network(),
    "small": {"vision": {"preset": "small"}},
    "default": {},
    "classic": {
        "vision": {
            "visnet": {"sparseness": [0.992, 0.98, 0.88, 0.91], "l1_fan_in": [201, 50, 13, 8]}
        },
        "mirror": {"n_neurons": 1024},
    },
}


def merged(base: dict, changes: dict) -> dict:
    out = dict(base)
    for key, value in changes.items():
        out[key] = merged(base.get(key, {}), value) if isinstance(value, dict) else value
    return out


def scenario_raw(size: str) -> dict:
    base = tomllib.loads((ROOT / "scenarios" / "perfect.toml").read_text())
    return merged(base, SIZES[size])


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def child(size: str, cache: str, output: str, sweep_like: bool) -> None:
    """One run in this process; print its measurements as JSON on stdout."""
    import contextlib

    from threadpoolctl import threadpool_limits

    from dyad.config import validate_scenario
    from dyad.simulation import run_scenario, save_run

    scenario = validate_scenario(scenario_raw(size), source=f"bench_scaling:{size}")
    limits = contextlib.ExitStack()
    if sweep_like:
        import numba

        limits.enter_context(threadpool_limits(limits=1))
        numba.set_num_threads(1)
    with limits:
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        outcome = run_scenario(scenario, cache_dir=Path(cache), figures=False)
        save_run(
            Path(output), outcome.tables, dict(outcome.manifest), scenario, None, overwrite=True
        )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(
        json.dumps(
            {
                "run_wall_s": wall,
                "run_cpu_s": cpu,
                "vision_s": outcome.manifest["timings"]["vision_s"],
                "peak_rss_mb": after.ru_maxrss / 1024,
                "folder_mb": folder_mb(Path(output)),
            }
        )
    )


def fresh(size: str, cache: Path, output: Path, sweep_like: bool) -> dict:
    """Run :func:`child` in a new interpreter; add the process's whole wall time."""
    command = [sys.executable, __file__, "--child", size, str(cache), str(output)]
    if sweep_like:
        command.append("--sweep-like")
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{size}: run failed\n{done.stderr[-2000:]}")
    record = json.loads(done.stdout.strip().splitlines()[-1])
    record["process_wall_s"] = time.perf_counter() - started
    return record


def measure(size: str, runs: int, workdir: Path) -> dict:
    cache = workdir / f"cache-{size}"
    print(f"{size}: pre-training (empty cache) ...", file=sys.stderr, flush=True)
    cold = fresh(size, cache, workdir / f"cold-{size}", sweep_like=False)
    warm = []
    for i in range(runs):
        warm.append(fresh(size, cache, workdir / f"warm-{size}-{i}", sweep_like=True))
        print(f"{size}: warm run {i + 1}: {warm[-1]}", file=sys.stderr, flush=True)
    return {
        "cold": cold,
        "pretrain_s": cold["vision_s"],
        "cold_process_wall_s": cold["process_wall_s"],
        "cache_mb": folder_mb(cache),
        "warm": warm,
        "median": {key: statistics.median(r[key] for r in warm) for key in warm[0]},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="warm runs per size")
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=list(SIZES))
    parser.add_argument("--output", type=Path, default=RESULTS, help="folder for the results")
    parser.add_argument("--child", nargs=3, metavar=("SIZE", "CACHE", "OUTPUT"), help="internal")
    parser.add_argument("--sweep-like", action="store_true", help="internal")
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child, sweep_like=args.sweep_like)
        return 0

    load_before = os.getloadavg()
    results = {}
    with tempfile.TemporaryDirectory(prefix="dyad-bench-scaling-") as temp:
        for size in args.sizes:
            results[size] = measure(size, args.runs, Path(temp))
    load_after = os.getloadavg()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    record = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "commit": commit,
        "cores": os.cpu_count(),
        "load_before": load_before,
        "load_after": load_after,
        "runs": args.runs,
        "sizes": results,
    }
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "scaling.json").write_text(json.dumps(record, indent=2) + "\n")
    lines = [
        "# Cost per run and per vision seed at each size",
        "",
        f"`benchmarks/bench_scaling.py`, {record['date']}, commit {commit}, {os.cpu_count()} "
        f"cores; load average (1, 5, 15 min) {', '.join(f'{x:.2f}' for x in load_before)} "
        f"before, {', '.join(f'{x:.2f}' for x in load_after)} after (a shared machine). "
        f"Warm runs: medians of {args.runs} fresh processes, each one run as a sweep worker "
        "does it (1 BLAS and 1 numba thread, no figures, tables written).",
        "",
        "| size | pre-training, one vision seed (s) | cache per vision seed (MB) | run wall (s) "
        "| run CPU (s) | process wall incl. start-up (s) | peak memory (MB) | run folder (MB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for size, r in results.items():
        m = r["median"]
        lines.append(
            f"| {size} | {r['pretrain_s']:.1f} | {r['cache_mb']:.1f} | {m['run_wall_s']:.2f} | "
            f"{m['run_cpu_s']:.2f} | {m['process_wall_s']:.2f} | {m['peak_rss_mb']:.0f} | "
            f"{m['folder_mb']:.2f} |"
        )
    text = "\n".join(lines) + "\n"
    (args.output / "scaling.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
