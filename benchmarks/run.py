"""Run every benchmark with one command; print each result beside its baseline from the same run.

Each ``bench_*.py`` runs in a fresh process, one after the other (they would compete for the
two cores otherwise), exactly as it runs alone. Every result is shown with a baseline measured
in the same run of the same script, and their ratio, because the development machines are
shared and absolute times move with the load: one thread against two, the compiled kernels
against plain numpy, each start-up against ``python -c pass``, one sweep worker against two.
The load average is recorded before and after each benchmark.

    uv run python benchmarks/run.py                  # every benchmark at its own defaults
    uv run python benchmarks/run.py --quick          # a smoke run: fewer rounds and epochs
    uv run python benchmarks/run.py --only visnet startup

A full run updates each script's own results (``results/<name>.md``, and ``.json`` where the
script writes one) and writes ``results/summary.md`` and ``results/summary.json``. A quick run
leaves those alone: the scripts write into a temporary folder and the summary goes to
``results/summary-quick.md`` (+ ``.json``). The pre-training cache is ``--cache-dir``
(default ``$DYAD_CACHE_DIR``, else a new temporary folder: the first start-up and interaction
measurements then pre-train once, untimed).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"

# Runs a benchmark module's main() in a fresh interpreter after pointing its module-level
# settings (e.g. RESULTS) elsewhere: argv[1] the module, argv[2] JSON {name: value} where a
# value {"path": p} becomes a Path, argv[3:] the script's own arguments.
_WRAPPER = """
import importlib, json, sys
from pathlib import Path
sys.path.insert(0, {here!r})
module = importlib.import_module(sys.argv[1])
for name, value in json.loads(sys.argv[2]).items():
    setattr(module, name, Path(value["path"]) if isinstance(value, dict) else value)
sys.argv = [module.__file__, *sys.argv[3:]]
module.main()
"""


@dataclasses.dataclass
class Row:
    """One result beside its baseline from the same run."""

    measure: str
    value: float
    unit: str
    baseline: str
    baseline_value: float
    #: "speed-up" (baseline ÷ value, for times), "rate ratio" (value ÷ baseline, for rates)
    #: or "× baseline" (value ÷ baseline, for times: the result as a multiple of the baseline)
    ratio_kind: str
    goal: str = ""

    @property
    def ratio(self) -> float:
        """The speed-up over the baseline, or the result as a multiple of it."""
        if self.ratio_kind == "speed-up":
            return self.baseline_value / self.value if self.value else float("nan")
        return self.value / self.baseline_value if self.baseline_value else float("nan")


def _json(folder: Path, name: str) -> dict:
    return json.loads((folder / name).read_text())


def _md_table(path: Path) -> dict[str, list[str]]:
    """Rows of the markdown tables in a results file: first cell → the other cells."""
    rows = {}
    for line in path.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) > 1 and not set(cells[1]) <= set("-: "):
            rows[cells[0]] = cells[1:]
    return rows


def _number(text: str) -> float:
    return float(re.sub(r"[^0-9.eE+-]", "", text.replace(",", "")))


def visnet_rows(folder: Path) -> list[Row]:
    med = _json(folder, "visnet.json")["medians_ms"]
    one, two = "1 thread", "2 threads"
    return [
        Row(
            "VisNet pass with learning, classic size, 2 threads",
            med["pass_learn_ms_dyad_numba_2threads"],
            "ms",
            one,
            med["pass_learn_ms_dyad_numba"],
            "speed-up",
            "≤ 0.35 ms",
        ),
        Row(
            "VisNet pass with learning, x̄ set (as in pre-training), 2 threads",
            med["pass_learn_ms_dyad_numba_with_mean_2threads"],
            "ms",
            one,
            med["pass_learn_ms_dyad_numba_with_mean"],
            "speed-up",
        ),
        Row(
            "VisNet pass with learning, 1 thread (compiled)",
            med["pass_learn_ms_dyad_numba"],
            "ms",
            "plain numpy pass",
            med["pass_learn_ms_naive_numpy"],
            "speed-up",
        ),
        Row(
            "VisNet forward pass, 2 threads",
            med["pass_forward_ms_dyad_numba_2threads"],
            "ms",
            one,
            med["pass_forward_ms_dyad_numba"],
            "speed-up",
        ),
        Row(
            f"VisNet fit, per presentation, up to {two}, the faster per epoch",
            med["fit_ms_per_presentation_2threads"],
            "ms",
            one,
            med["fit_ms_per_presentation"],
            "speed-up",
        ),
    ]


def pretrain_rows(folder: Path) -> list[Row]:
    record = _json(folder, "pretrain.json")
    threads = record["threads"]
    epochs = "/".join(map(str, record["epochs"]))
    one_thread_total = record["pretraining_s"] - record["train_s"] + record["train_1thread_s"]
    identical = "bit-identical" if record["identical_weights"] else "WEIGHTS DIFFER"
    return [
        Row(
            f"pre-training: train 4 layers ({epochs} epochs), up to {threads} threads, the "
            f"faster per epoch ({identical})",
            record["train_s"],
            "s",
            "1 thread",
            record["train_1thread_s"],
            "speed-up",
        ),
        Row(
            f"pre-training total, default scenario ({epochs} epochs), up to {threads} threads",
            record["pretraining_s"],
            "s",
            "same with 1-thread training",
            one_thread_total,
            "speed-up",
            "≤ 60 s" if epochs == "40/40/40/40" else "",
        ),
    ]


def startup_rows(folder: Path) -> list[Row]:
    record = _json(folder, "startup.json")
    median = record["median_s"]
    goals = {
        "import dyad": "≤ 0.5 s",
        "dyad --help": "≤ 0.3 s",
        "dyad simulate: first stderr line": "≤ 1 s",
        "dyad simulate perfect.toml (warm)": "≤ 2.5 s (quiet machine)",
    }
    base = median["python -c pass"]
    return [
        Row(name, value, "s", "python -c pass", base, "× baseline", goals.get(name, ""))
        for name, value in median.items()
        if name != "python -c pass"
    ]


def mirror_rows(folder: Path) -> list[Row]:
    table = _md_table(folder / "mirror.md")
    plain = _number(table["plain numpy step, 256 neurons"][0])
    return [
        Row(
            "mirror layer step with learning, 256 neurons",
            _number(table["step(learn=True), 256 neurons"][0]),
            "µs",
            "plain numpy step",
            plain,
            "speed-up",
        )
    ]


def interaction_rows(folder: Path) -> list[Row]:
    record = _json(folder, "interaction.json")
    loop = sorted(record["loop_steps_per_s"])[len(record["loop_steps_per_s"]) // 2]
    return [
        Row(
            "interaction loop, per timestep (lagged.toml)",
            1e6 / loop,
            "µs",
            "Mesa model with two empty agents",
            record["mesa_empty_step_us"],
            "× baseline",
            "≤ 500 µs (2,000 timesteps/s)",
        )
    ]


def sweep_rows(folder: Path) -> list[Row]:
    """Batched runs against one run per task, one worker, small preset (bench_sweep part 1)."""
    rates = {}
    for line in (folder / "sweep.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        # | size | runs | batch size | tasks | busy (s) | runs/s per worker (rounds) | ...
        if line.startswith("|") and len(cells) > 5 and cells[0] == "small preset":
            rates[cells[2].split()[0]] = _number(cells[5].split()[0])
    if set(rates) != {"1", "auto"}:
        raise LookupError(f"{folder / 'sweep.md'}: no small-preset rows for batch sizes 1 and auto")
    return [
        Row(
            "sweep throughput, 1 worker, runs batched (small preset, per worker's busy time)",
            rates["auto"],
            "runs/s",
            "one run per task",
            rates["1"],
            "rate ratio",
        )
    ]


def scaling_rows(folder: Path) -> list[Row]:
    sizes = _json(folder, "scaling.json")["sizes"]
    rows = []
    for size, record in sizes.items():
        median = record["median"]
        rows.append(
            Row(
                f"one warm run at the {size} size, whole process (sweep-worker settings)",
                median["process_wall_s"],
                "s",
                "the run alone, in that process",
                median["run_wall_s"],
                "× baseline",
            )
        )
    return rows


def sweep_pretrain_rows(folder: Path) -> list[Row]:
    record = _json(folder, "sweep_pretrain.json")
    identical = "same arrays" if record["identical"] else "ARRAYS DIFFER"
    return [
        Row(
            f"a sweep's {record['visual_systems']} visual systems ({record['size']}) built on "
            f"{record['workers']} workers ({identical})",
            record["on_workers_s"],
            "s",
            "one after the other in the sweep process",
            record["in_process_s"],
            "speed-up",
        )
    ]


@dataclasses.dataclass
class Benchmark:
    """A bench_*.py script: how to run it (full or quick) and read its results."""

    module: str
    #: module-level names that hold where results go: "dir" (a folder) or a file name
    outputs: dict[str, str]
    full: list[str]
    quick: list[str]
    rows: Callable[[Path], list[Row]]
    quick_settings: dict[str, object] = dataclasses.field(default_factory=dict)


BENCHMARKS = {
    "visnet": Benchmark(
        "bench_visnet", {}, [], ["--quick", "--rounds", "1"], visnet_rows
    ),  # --output given below
    "pretrain": Benchmark("bench_pretrain", {}, [], ["--quick"], pretrain_rows),
    "mirror": Benchmark(
        "bench_mirror", {"RESULTS": "mirror.md"}, [], [], mirror_rows, {"ROUNDS": 2}
    ),
    "startup": Benchmark(
        "bench_startup", {}, [], ["--repeats", "3", "--simulate-repeats", "1"], startup_rows
    ),
    "interaction": Benchmark(
        "bench_interaction", {"RESULTS": "interaction.md"}, [], ["--rounds", "1"], interaction_rows
    ),
    "scaling": Benchmark(
        "bench_scaling", {}, [], ["--runs", "1", "--sizes", "tiny", "small"], scaling_rows
    ),
    "sweep": Benchmark(
        "bench_sweep", {"RESULTS": "sweep.md"}, ["--quick"], ["--quick"], sweep_rows
    ),
    "sweep_pretrain": Benchmark(
        "bench_sweep_pretrain", {}, [], ["--quick", "--seeds", "2"], sweep_pretrain_rows
    ),
}

#: each script's own option for where its results go (the others are redirected by the wrapper)
_OUTPUT_OPTIONS = {
    "visnet": ("--output", "dir"),
    "pretrain": ("--output", "pretrain.md"),
    "startup": ("--output", "dir"),
    "scaling": ("--output", "dir"),
    "sweep_pretrain": ("--output", "sweep_pretrain.md"),
}


def run_one(name: str, bench: Benchmark, folder: Path, quick: bool, env: dict) -> dict:
    """Run one benchmark in a fresh process; return its record with load and wall time."""
    settings: dict[str, object] = {}
    for attr, target in bench.outputs.items():
        settings[attr] = {"path": str(folder if target == "dir" else folder / target)}
    if quick:
        settings.update(bench.quick_settings)
    args = list(bench.quick if quick else bench.full)
    if name in _OUTPUT_OPTIONS:
        option, target = _OUTPUT_OPTIONS[name]
        args += [option, str(folder if target == "dir" else folder / target)]
    command = [sys.executable, "-c", _WRAPPER.format(here=str(HERE)), bench.module]
    command += [json.dumps(settings), *args]
    script_args = " ".join(bench.quick if quick else bench.full)
    load_before = os.getloadavg()
    started = time.perf_counter()
    print(f"== {name}: {' '.join(args) or '(defaults)'}", file=sys.stderr, flush=True)
    process = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    record: dict[str, object] = {
        "benchmark": name,
        "command": f"python benchmarks/{bench.module}.py {script_args}".strip(),
        "wall_s": round(wall, 1),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "exit_code": process.returncode,
    }
    if process.returncode != 0:
        record["error"] = (process.stderr or process.stdout).strip().splitlines()[-5:]
        print(f"   failed ({process.returncode}): {record['error'][-1]}", file=sys.stderr)
        return record
    try:
        record["rows"] = [
            dataclasses.asdict(row) | {"ratio": row.ratio} for row in bench.rows(folder)
        ]
    except (OSError, KeyError, ValueError) as exc:
        record["error"] = [f"could not read the results: {type(exc).__name__}: {exc}"]
        return record
    for row in record["rows"]:
        print(f"   {_line(row)}", file=sys.stderr, flush=True)
    return record


def _line(row: dict) -> str:
    return (
        f"{row['measure']}: {row['value']:.4g} {row['unit']} | {row['baseline']}: "
        f"{row['baseline_value']:.4g} {row['unit']} | {row['ratio_kind']} {row['ratio']:.2f}"
    )


def _load(values: list[float]) -> str:
    return ", ".join(f"{x:.2f}" for x in values)


def markdown(summary: dict) -> str:
    lines = [
        "# Benchmark summary" + (" (quick run)" if summary["quick"] else ""),
        "",
        f"`{summary['command']}`, {summary['date']}, commit {summary['commit']}, "
        f"{summary['machine']}. Load average (1, 5, 15 min) {_load(summary['load_before'])} "
        f"before, {_load(summary['load_after'])} after; {summary['wall_s']:.0f} s in all.",
        "",
        "Each result is beside a baseline measured in the same run of the same script. "
        "Speed-up: baseline time ÷ result time (rates: result ÷ baseline), > 1 means faster "
        "than the baseline. × baseline: the result as a multiple of the baseline.",
        "",
        "| benchmark | measure | result | baseline | baseline result | ratio | goal | "
        "load before → after |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for record in summary["benchmarks"]:
        load = f"{record['load_before'][0]:.2f} → {record['load_after'][0]:.2f}"
        if "error" in record:
            error = " ".join(record["error"]).replace("|", "/")
            lines.append(f"| {record['benchmark']} | failed: {error} |  |  |  |  |  | {load} |")
            continue
        for row in record["rows"]:
            lines.append(
                f"| {record['benchmark']} | {row['measure']} | {row['value']:.4g} {row['unit']} "
                f"| {row['baseline']} | {row['baseline_value']:.4g} {row['unit']} | "
                f"{row['ratio_kind']} {row['ratio']:.2f} | {row['goal']} | {load} |"
            )
    lines += ["", "Commands (each alone, in a fresh process):", ""]
    lines += [
        f"- {r['benchmark']}: `{r['command']}` ({r['wall_s']:.0f} s)" for r in summary["benchmarks"]
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: fewer rounds, 4 epochs")
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), help="run only these")
    parser.add_argument("--cache-dir", type=Path, default=os.environ.get("DYAD_CACHE_DIR"))
    args = parser.parse_args(argv)

    env = dict(os.environ)
    env["DYAD_CACHE_DIR"] = str(args.cache_dir or tempfile.mkdtemp(prefix="dyad-bench-cache-"))
    folder = Path(tempfile.mkdtemp(prefix="dyad-bench-")) if args.quick else RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    names = args.only or list(BENCHMARKS)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    load_before = os.getloadavg()
    started = time.perf_counter()
    records = [run_one(name, BENCHMARKS[name], folder, args.quick, env) for name in names]
    summary = {
        "command": "python benchmarks/run.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": commit or "no git",
        "machine": f"{os.cpu_count()} cores, Linux {platform.release()}, Python "
        f"{platform.python_version()}",
        "quick": args.quick,
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "wall_s": round(time.perf_counter() - started, 1),
        "benchmarks": records,
    }
    stem = "summary-quick" if args.quick else "summary"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{stem}.json").write_text(json.dumps(summary, indent=2) + "\n")
    text = markdown(summary)
    (RESULTS / f"{stem}.md").write_text(text)
    print(text)
    return 1 if any("error" in r for r in records) else 0


if __name__ == "__main__":
    raise SystemExit(main())
