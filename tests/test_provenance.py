"""Provenance: every manifest says which command, code and libraries made it."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import pytest

from dyad import provenance as prov
from dyad.config import validate_scenario
from dyad.simulation import run_scenario
from dyad.store import load_run


def test_a_run_manifest_records_command_commit_and_dependency_versions(
    tiny_raw, cache_dir, tmp_path, monkeypatch
):
    monkeypatch.setattr(sys, "argv", ["dyad", "simulate", "mine.toml", "--seed", "3"])
    run_scenario(validate_scenario(tiny_raw()), output=tmp_path / "run", cache_dir=cache_dir)
    record = load_run(tmp_path / "run").manifest["provenance"]
    assert record["command"] == ["dyad", "simulate", "mine.toml", "--seed", "3"]
    deps = record["dependencies"]
    for name in ("numpy", "pandas", "mesa", "pydantic", "click", "pluggy", "numba", "scipy"):
        assert deps[name] == importlib.metadata.version(name)
    assert "distributed" not in deps  # an optional extra, not a dependency
    if (prov.PROJECT_ROOT / ".git").exists():
        head = subprocess.run(
            ["git", "-C", str(prov.PROJECT_ROOT), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert record["git"]["commit"] == head
        assert isinstance(record["git"]["dirty"], bool)


def test_a_run_manifest_records_the_processor_its_kernels_were_compiled_for(
    tiny_raw, cache_dir, tmp_path
):
    """Runs are bit for bit the same only on the same kind of processor: the manifest says which."""
    import numba
    from llvmlite import binding

    run_scenario(validate_scenario(tiny_raw()), output=tmp_path / "run", cache_dir=cache_dir)
    host = load_run(tmp_path / "run").manifest["provenance"]["machine"]
    assert host["compiled_for"] == (numba.config.CPU_NAME or binding.get_host_cpu_name())
    assert host["compiled_for"]  # e.g. "znver4", "icelake-server"
    if sys.platform == "linux":
        assert host["processor"] and host["platform"].startswith("Linux")
    row = prov.describe({"machine": host})["machine"]
    assert host["compiled_for"] in row and host["platform"] in row


def test_provenance_without_a_compile_target_still_records_the_machine(monkeypatch):
    from llvmlite import binding

    def broken():
        raise RuntimeError("no LLVM here")

    monkeypatch.setattr(binding, "get_host_cpu_name", broken)
    monkeypatch.delenv("NUMBA_CPU_NAME", raising=False)
    host = prov.machine()
    assert host["compiled_for"] is None and host["platform"]
    assert "compiled for" not in prov.describe({"machine": host})["machine"]


def test_without_git_or_outside_a_checkout_provenance_is_recorded_without_a_commit(
    tmp_path, monkeypatch
):
    assert prov.git_state(tmp_path) is None  # not a checkout
    (tmp_path / ".git").mkdir()  # a checkout, but no git program on PATH
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert prov.git_state(tmp_path) is None
    monkeypatch.setattr(prov, "PROJECT_ROOT", tmp_path)
    record = prov.provenance()
    assert record["git"] is None and record["dependencies"]["numpy"]
    assert prov.describe(record)["git commit"] == "not a git checkout"


def test_a_broken_checkout_does_not_stop_a_run(tmp_path):
    (tmp_path / ".git").write_text("gitdir: /nowhere\n")  # git fails here
    assert prov.git_state(tmp_path) is None


def test_dependency_names_come_from_pyproject_without_installed_metadata(monkeypatch):
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "requires", missing)
    names = prov.dependency_names()
    assert {"numpy", "mesa", "click", "pydantic"} <= set(names)


@pytest.mark.parametrize("dirty", [False, True])
def test_a_dirty_tree_is_flagged(tmp_path, dirty):
    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    # git is part of the set-up (the project is a git clone); without it this test fails
    git("init", "-q")
    (tmp_path / "model.py").write_text("steps = 1\n")
    git("add", "model.py")
    git("-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "first")
    if dirty:
        (tmp_path / "model.py").write_text("steps = 2\n")
    (tmp_path / "results").mkdir()  # untracked results never make the tree dirty
    (tmp_path / "results" / "x.parquet").write_bytes(b"x")
    state = prov.git_state(tmp_path)
    assert len(state["commit"]) == 40 and state["dirty"] is dirty
