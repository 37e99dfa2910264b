"""benchmarks/run.py reads every benchmark's committed results (a format change breaks it here)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(scope="module")
def run_module():
    sys.path.insert(0, str(BENCHMARKS))  # run.py imports its sibling scripts' helpers
    try:
        spec = importlib.util.spec_from_file_location("benchmarks_run", BENCHMARKS / "run.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(BENCHMARKS))
        sys.modules.pop("benchmarks_run", None)


def test_every_benchmark_has_rows_in_its_committed_results(run_module):
    results = BENCHMARKS / "results"
    for name, bench in run_module.BENCHMARKS.items():
        rows = bench.rows(results)
        assert rows, name
        for row in rows:
            assert row.value > 0 and row.baseline_value > 0, (name, row)


def test_the_sweep_reader_takes_the_batched_and_one_run_per_task_rows(run_module, tmp_path):
    (tmp_path / "sweep.md").write_text(
        "| size | runs | batch size | tasks | busy (s) | runs/s per worker (rounds) | x |\n"
        "|---|---|---|---|---|---|---|\n"
        "| small preset | 16 | 1 (<= 1) | 16 | 0.8 | 19.21 (19.21, 19.63) | 1 |\n"
        "| small preset | 16 | auto (<= 8) | 2 | 0.8 | 21.19 (21.53, 21.19) | 1 |\n"
        "| default size | 32 | auto (<= 16) | 2 | 1.4 | 22.08 (22.08) | 1 |\n"
    )
    (row,) = run_module.sweep_rows(tmp_path)
    assert (row.value, row.baseline_value) == (21.19, 19.21)
    (tmp_path / "sweep.md").write_text("| workers | runs |\n|---|---|\n| 1 | 16 |\n")
    with pytest.raises(LookupError, match="no small-preset rows"):
        run_module.sweep_rows(tmp_path)
