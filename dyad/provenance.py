"""How a result was made: the command, the code's git commit, the dependencies, the machine.

Recorded in every run manifest, every ``sweep.json`` and every report, so that a results folder
says exactly which command, which code, which libraries and which processor produced it. Nothing
here may fail: without git, outside a git checkout or without installed metadata the entries are
``None``.

Why the machine. A run is bit for bit the same for the same scenario, seed and code on the same
kind of processor. On another kind the numbers differ in their last bits: numba compiles the
kernels for the processor it runs on (its vector width and fused multiply-add, with sums
reassociated), and numpy and BLAS choose their kernels by processor too. Pre-training amplifies
such differences into different trained networks (docs/reliability.md, "Across processors").
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import platform
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: the project folder when dyad runs from a checkout (the folder holding ``dyad/``)
PROJECT_ROOT = Path(__file__).resolve().parent.parent
_GIT_TIMEOUT_S = 5.0
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def provenance() -> dict[str, Any]:
    """``command`` (``sys.argv``), ``git`` (commit, dirty), ``dependencies`` and ``machine``.

    ``git`` is None outside a checkout. ``dependencies`` maps each package in dyad's
    ``[project] dependencies`` (extras and optional groups left out) to its installed version
    (None when not installed); ``machine`` is :func:`machine`.
    """
    return {
        "command": [str(arg) for arg in sys.argv],
        "python": sys.version.split()[0],
        "git": git_state(),
        "dependencies": dependency_versions(),
        "machine": machine(),
    }


def machine() -> dict[str, str | None]:
    """``platform``, ``processor`` (its model name) and ``compiled_for`` (numba's target).

    ``compiled_for`` is the processor name LLVM compiles numba's kernels for (e.g.
    ``znver4``, ``icelake-server``), or ``NUMBA_CPU_NAME`` when that is set; runs are bit
    for bit the same only where it and the processor are.
    """
    return {
        "platform": platform.platform(),
        "processor": _processor_model(),
        "compiled_for": _compile_target(),
    }


def _processor_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or None


def _compile_target() -> str | None:
    """``NUMBA_CPU_NAME`` (numba's ``config.CPU_NAME``), else LLVM's name for this processor.

    Asked of llvmlite, not numba: a report or a sweep's planning need not import numba.
    """
    try:
        from llvmlite import binding

        return os.environ.get("NUMBA_CPU_NAME") or binding.get_host_cpu_name()
    except Exception as exc:  # provenance never stops a run
        log.debug("no compile target: %s", exc)
        return None


def git_state(root: Path = PROJECT_ROOT) -> dict[str, Any] | None:
    """``{"commit": sha, "dirty": bool}`` when ``root`` is a git checkout, else None.

    ``dirty`` is True when tracked files differ from the commit (untracked files such as
    results folders do not count). None when ``root`` has no ``.git``, git is not installed,
    or git fails: provenance never stops a run.
    """
    if not (root / ".git").exists():
        return None
    try:
        commit = _git(root, "rev-parse", "HEAD")
        status = _git(root, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError) as exc:
        log.debug("no git provenance for %s: %s", root, exc)
        return None
    return {"commit": commit, "dirty": bool(status)}


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *args],
        capture_output=True,
        text=True,
        timeout=_GIT_TIMEOUT_S,
        check=True,
    )
    return done.stdout.strip()


def dependency_names() -> list[str]:
    """Names of dyad's required dependencies, from its installed metadata or pyproject.toml."""
    try:
        requirements = importlib.metadata.requires("dyad") or []
    except importlib.metadata.PackageNotFoundError:
        requirements = _pyproject_dependencies()
    names = []
    for requirement in requirements:
        _, _, marker = requirement.partition(";")
        if "extra" in marker:  # an optional extra, e.g. `distributed; extra == "dask"`
            continue
        match = _NAME.match(requirement)
        if match and match.group(1) not in names:
            names.append(match.group(1))
    return names


def _pyproject_dependencies() -> list[str]:
    try:
        with (PROJECT_ROOT / "pyproject.toml").open("rb") as handle:
            return list(tomllib.load(handle).get("project", {}).get("dependencies", []))
    except (OSError, tomllib.TOMLDecodeError):
        return []


def dependency_versions() -> dict[str, str | None]:
    """Installed version of each of dyad's dependencies (None when it is not installed)."""
    versions: dict[str, str | None] = {}
    for name in dependency_names():
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def describe(record: dict[str, Any] | None) -> dict[str, str]:
    """Report rows (label -> text) for a provenance record; empty for None."""
    if not record:
        return {}
    rows: dict[str, str] = {}
    command = record.get("command")
    if command:
        rows["command"] = " ".join(str(part) for part in command)
    git = record.get("git")
    if isinstance(git, dict):
        dirty = " (uncommitted changes)" if git.get("dirty") else ""
        rows["git commit"] = f"{git.get('commit')}{dirty}"
    else:
        rows["git commit"] = "not a git checkout"
    deps = record.get("dependencies")
    if isinstance(deps, dict) and deps:
        rows["dependencies"] = ", ".join(f"{name} {version}" for name, version in deps.items())
    host = record.get("machine")
    if isinstance(host, dict):
        text = ", ".join(str(host[key]) for key in ("processor", "platform") if host.get(key))
        target = host.get("compiled_for")
        rows["machine"] = f"{text} (kernels compiled for {target})" if target else text
    return rows
