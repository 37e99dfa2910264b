"""Start-up times from fresh processes, written to results/startup.md and results/startup.json.

What a user waits for before dyad does any science (issue: quick start):

- ``python -c pass``: the interpreter alone, the baseline every other number is compared with;
- ``import dyad``: goal ≤ 0.5 s (the package exports its API lazily);
- ``dyad --help``: goal ≤ 0.3 s (no numpy, pandas, Mesa or numba);
- ``dyad -v simulate …``: time until its first line on stderr (goal: within a second);
- warm ``dyad simulate scenarios/perfect.toml`` wall time: goal ≤ 2.5 s on a quiet 2-core
  machine with bytecode compiled; the pre-training cache is filled by one untimed run first.

Each is the median of several fresh processes (``--repeats``). The machine's load average is
recorded before and after, since the development machines are shared and start-up times grow
with load. Whether bytecode is compiled matters: with ``PYTHONDONTWRITEBYTECODE`` set and no
``__pycache__`` in the environment, every start compiles pandas, scipy and numba again;
``uv sync --compile-bytecode`` (or ``uv run --compile-bytecode``) compiles them once.

Run:  uv run python benchmarks/bench_startup.py [--repeats 7] [--simulate-repeats 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
DYAD = str(Path(sys.executable).parent / "dyad")

#: goals from the quick-start issue, in seconds (None: no goal, a baseline or a detail)
GOALS = {
    "python -c pass": None,
    "import dyad": 0.5,
    "dyad --help": 0.3,
    "dyad simulate: first stderr line": 1.0,
    "dyad simulate perfect.toml (warm)": 2.5,
}


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def timed(command: list[str], env: dict[str, str]) -> float:
    """Wall time of one fresh process running ``command`` (it must succeed)."""
    started = time.perf_counter()
    subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - started


def first_line(command: list[str], env: dict[str, str]) -> float:
    """Time, in seconds, from starting ``command`` until its first line on stderr.

    The process is then left to finish.
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert process.stderr is not None
    process.stderr.readline()
    elapsed = time.perf_counter() - started
    process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"{command} exited with {process.returncode}")
    return elapsed


def bytecode_compiled() -> bool:
    """Whether the environment's heavy packages have compiled bytecode (``__pycache__``)."""
    import importlib.util

    spec = importlib.util.find_spec("pandas")
    return (
        spec is not None
        and spec.origin is not None
        and any(Path(spec.origin).parent.glob("__pycache__/*.pyc"))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="fresh processes per measure")
    parser.add_argument("--simulate-repeats", type=int, default=3, help="warm simulate runs")
    parser.add_argument(
        "--cache-dir",
        default=os.environ.get("DYAD_CACHE_DIR"),
        help="pre-training cache (default: $DYAD_CACHE_DIR, else dyad's default)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="folder for the results")
    args = parser.parse_args()

    env = dict(os.environ)
    if args.cache_dir:
        env["DYAD_CACHE_DIR"] = args.cache_dir
    load_before = load()
    out = Path(tempfile.mkdtemp(prefix="dyad-bench-startup-"))
    simulate = [DYAD, "simulate", "scenarios/perfect.toml", "--output", str(out / "run")]
    simulate += ["--overwrite", "--quiet"]
    print("filling the pre-training cache (untimed) ...", file=sys.stderr)
    timed(simulate, env)

    measures = {
        "python -c pass": lambda: timed([sys.executable, "-c", "pass"], env),
        "import dyad": lambda: timed([sys.executable, "-c", "import dyad"], env),
        "dyad --help": lambda: timed([DYAD, "--help"], env),
        "dyad simulate: first stderr line": lambda: first_line([DYAD, "-v", *simulate[1:-1]], env),
        "dyad simulate perfect.toml (warm)": lambda: timed(simulate, env),
    }
    samples: dict[str, list[float]] = {}
    for name, measure in measures.items():
        repeats = args.simulate_repeats if "simulate" in name else args.repeats
        samples[name] = [measure() for _ in range(repeats)]
        print(f"{name}: median {statistics.median(samples[name]):.3f} s", file=sys.stderr)
    load_after = load()

    baseline = statistics.median(samples["python -c pass"])
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    record = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores, Linux {platform.release()}",
        "python": platform.python_version(),
        "commit": commit,
        "bytecode_compiled": bytecode_compiled(),
        "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE", ""),
        "load_before": load_before,
        "load_after": load_after,
        "samples_s": samples,
        "median_s": {k: statistics.median(v) for k, v in samples.items()},
    }
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "startup.json").write_text(json.dumps(record, indent=2) + "\n")

    rows = [
        "| measure | median (s) | × `python -c pass` | goal (s) | runs |",
        "|---|---|---|---|---|",
    ]
    for name, values in samples.items():
        median = statistics.median(values)
        goal = GOALS[name]
        mark = "" if goal is None else f"≤ {goal} ({'met' if median <= goal else 'not met'})"
        rows.append(f"| {name} | {median:.3f} | {median / baseline:.1f} | {mark} | {len(values)} |")
    text = (
        "# Start-up times\n\n"
        f"`benchmarks/bench_startup.py`, {record['date']}, commit {commit}, {record['machine']}, "
        f"Python {record['python']}; bytecode compiled: {record['bytecode_compiled']} "
        f"(PYTHONDONTWRITEBYTECODE={record['PYTHONDONTWRITEBYTECODE'] or 'unset'}); load "
        f"average (1, 5, 15 min) {load_before} before, {load_after} after. Medians of fresh "
        "processes; the simulation's pre-training cache was warm.\n\n" + "\n".join(rows) + "\n"
    )
    (args.output / "startup.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
