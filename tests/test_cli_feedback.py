"""The CLI tells the user what it is doing, on stderr only.

The CLI tells the user what it is doing: a status line before anything slow, ``-v`` and
``--log-level`` for dyad's log messages, and nothing of either leaks into stdout.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import TINY_NETWORK_TOML

from dyad.cli import cli

ROOT = Path(__file__).resolve().parent.parent

# runs the CLI in a fresh interpreter and records which heavy libraries were already imported
# when the command wrote its first line to stderr
FIRST_LINE_PROBE = textwrap.dedent(
    """
    import json, sys
    import click

    HEAVY = ("numpy", "pandas", "mesa", "numba", "scipy", "matplotlib")
    first = []
    real_echo = click.echo

    def echo(message=None, file=None, nl=True, err=False, color=None):
        if err and not first:
            first.append({"line": str(message), "heavy": [m for m in HEAVY if m in sys.modules]})
        return real_echo(message, file, nl, err, color)

    click.echo = echo
    from dyad.cli import main
    sys.argv = ["dyad", "-v", *sys.argv[1:]]
    try:
        main()
    except SystemExit:
        pass
    print(json.dumps(first[0] if first else None), file=sys.__stdout__)
    """
)


def first_stderr_line(args: list[str], cwd: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", FIRST_LINE_PROBE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("args", "start"),
    [
        # each stops at bad input right after its status line, so the test stays fast
        (["simulate", "bad.toml"], "dyad simulate: loading scenario bad.toml"),
        (["sweep", "bad.toml"], "dyad sweep: planning bad.toml"),
        (["pretrain", "--size", "8"], "dyad pretrain: loading the visual system"),
        (["report", "no_such_folder"], "dyad report: reading no_such_folder"),
        (["faces", "--output", "faces.png", "--transforms", "0"], "dyad faces: drawing"),
        (["schema"], "dyad schema:"),
    ],
)
def test_each_command_says_what_it_does_before_importing_anything_heavy(tmp_path, args, start):
    (tmp_path / "bad.toml").write_text('[run]\nsteps = "many"\n', encoding="utf-8")
    first = first_stderr_line(args, tmp_path)
    assert first is not None and first["line"].startswith(start), first
    assert first["heavy"] == [], first


def test_status_lines_show_with_v_and_stay_out_of_stdout(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[run]\nsteps = "many"\n', encoding="utf-8")
    quiet = CliRunner().invoke(cli, ["simulate", str(bad)])
    # not a terminal and no -v: only the error, one line (logs stay clean)
    assert quiet.exit_code == 2 and len(quiet.stderr.splitlines()) == 1
    verbose = CliRunner().invoke(cli, ["-v", "simulate", str(bad)])
    assert verbose.exit_code == 2
    lines = verbose.stderr.splitlines()
    assert lines[0] == f"dyad simulate: loading scenario {bad} ..."
    assert lines[-1].startswith("Error: ") and verbose.stdout == ""
    silenced = CliRunner().invoke(cli, ["-v", "simulate", str(bad), "--quiet"])
    assert len(silenced.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("options", "shown"),
    [
        ([], ["Warning: a warning"]),
        (["-v"], ["an info line", "Warning: a warning"]),
        (["-vv"], ["[dyad.example] a debug line", "an info line", "Warning: a warning"]),
        (["--log-level", "error"], []),
        (["-vv", "--log-level", "INFO"], ["an info line", "Warning: a warning"]),
    ],
)
def test_verbosity_and_log_level_choose_which_log_lines_show(monkeypatch, options, shown):
    def fake_reference() -> str:
        log = logging.getLogger("dyad.example")
        log.debug("a debug line")
        log.info("an info line")
        log.warning("a warning")
        return "{}\n"

    monkeypatch.setattr("dyad.schema.schema_json_text", fake_reference)
    logger = logging.getLogger("dyad")
    before = (logger.level, list(logger.handlers))
    result = CliRunner().invoke(cli, [*options, "schema"])
    assert result.exit_code == 0, result.output + result.stderr
    log_lines = [line for line in result.stderr.splitlines() if not line.startswith("dyad ")]
    assert log_lines == shown
    assert result.stdout == "{}\n"
    # the command leaves the process's logging as it found it
    assert (logger.level, list(logger.handlers)) == before


def test_shell_completion_is_offered(tmp_path):
    done = subprocess.run(
        [str(Path(sys.executable).parent / "dyad")],
        env={"_DYAD_COMPLETE": "bash_source", "PATH": str(Path(sys.executable).parent)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "_dyad_completion" in done.stdout
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "_DYAD_COMPLETE=bash_source dyad" in readme


def test_a_run_does_not_import_mesa(tmp_path):
    """Runs go through dyad.batch; Mesa (about 1.5 s to import) is for the live model only."""
    probe = textwrap.dedent(
        """
        import sys
        import dyad
        dyad.simulate(sys.argv[1], overrides=["run.steps=50"])
        print("mesa" in sys.modules)
        """
    )
    scenario = tmp_path / "tiny.toml"
    scenario.write_text('name = "tiny"\n' + TINY_NETWORK_TOML, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", probe, str(scenario)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "DYAD_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"
