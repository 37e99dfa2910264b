"""A mutation battery: wrong values are refused clearly or accepted, never a traceback.

A mutation battery: every field of every shipped scenario, and the CLI options for results
folders, given wrong values. Each must be refused with one line per problem naming the file
and the field (exit code 2 on the command line) or be accepted; never a traceback.

Scenario mutations go through the same validation as ``dyad simulate`` and ``dyad sweep``
(:func:`dyad.config.validate_scenario`, :func:`dyad.sweeps.plan_sweep`): for the study's first
scenario every field of the resolved scenario (defaults included), for the others every field
their file sets. A few real command lines check the CLI end.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import dyad.sweeps.plan
from dyad.cli import cli
from dyad.config import read_toml, validate_scenario
from dyad.errors import ConfigError, DyadError
from dyad.sweeps import plan_sweep

SCENARIOS = sorted(Path(__file__).resolve().parents[2].joinpath("scenarios").glob("*.toml"))
MISSING = object()  # the mutation "remove this key"


def leaves(node: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    """(path, value) of every leaf; tables are walked, lists are leaves."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, (*path, key))
    else:
        yield path, node


def tables(node: Any, path: tuple = ()) -> Iterator[tuple]:
    if isinstance(node, dict):
        yield path
        for key, value in node.items():
            yield from tables(value, (*path, key))


def wrong_values(value: Any) -> list[Any]:
    """Values of the wrong type, out of range, or odd, for a field holding ``value``."""
    out: list[Any] = ["x", "", [], {}, True, -1, 0, 2**63 - 1, 1.5, math.nan, math.inf, MISSING]
    if isinstance(value, int | float) and not isinstance(value, bool):
        out += [-value, value * 1_000_000, -math.inf, 1e-300]
    if isinstance(value, str):
        out += ["no-such-choice", "a" * 10_000, "ünïcode", "../../etc/passwd", " " + value]
    if isinstance(value, list):
        out += [["x"], [*value, *value[-1:]] if value else [1], [value], value[:1]]
    return [v for v in out if not _same(v, value)]


def _same(a: Any, b: Any) -> bool:
    return a is not MISSING and type(a) is type(b) and a == b


def mutate(raw: dict, path: tuple, value: Any) -> dict:
    mutated = copy.deepcopy(raw)
    node = mutated
    for key in path[:-1]:
        node = node[key]
    if value is MISSING:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    return mutated


#: every resolved field of this scenario is mutated; of the others, the fields their files set
RESOLVED = "perfect"


def scenario_base(path: Path) -> dict:
    """The scenario to mutate, without its [sweep] table (mutated separately)."""
    raw = read_toml(path)
    raw.setdefault("name", path.stem)
    if path.stem == RESOLVED:
        raw = validate_scenario(raw, source=str(path)).to_dict()
    return {k: v for k, v in raw.items() if v is not None and k != "sweep"}


def scenario_mutations(path: Path) -> Iterator[tuple[str, dict]]:
    """(label, mutated scenario dict) for one scenario file, without its [sweep] table."""
    base = scenario_base(path)
    for field, value in leaves(base):
        for wrong in wrong_values(value):
            label = "remove" if wrong is MISSING else repr(wrong)[:40]
            yield f"{'.'.join(field)} = {label}", mutate(base, field, wrong)
    for table in tables(base):
        yield f"{'.'.join((*table, 'colour'))}: unknown key", mutate(base, (*table, "colour"), 1)
        if table:
            yield f"{'.'.join(table)} = 'x'", mutate(base, table, "x")


def sweep_mutations(path: Path) -> Iterator[tuple[str, dict]]:
    raw = read_toml(path)
    grid = raw["sweep"]["grid"]
    axis = next(iter(grid))
    values = grid[axis]
    cases = {
        "seeds = 0": {"seeds": 0},
        "seeds = -1": {"seeds": -1},
        "seeds = 'x'": {"seeds": "x"},
        "seeds = 1.5": {"seeds": 1.5},
        "seeds = true": {"seeds": True},
        "grid missing": {"grid": MISSING},
        "grid = {}": {"grid": {}},
        "grid = []": {"grid": []},
        "grid = 'x'": {"grid": "x"},
        "unknown axis": {"grid": {**grid, "run.stepz": [1, 2]}},
        "axis not a list": {"grid": {**grid, axis: values[0]}},
        "empty axis": {"grid": {**grid, axis: []}},
        "duplicate values": {"grid": {**grid, axis: [values[0], values[0]]}},
        "wrong-typed value": {"grid": {**grid, axis: [*values, "x"]}},
        "negative value": {"grid": {**grid, axis: [*values, -1]}},
        "nan value": {"grid": {**grid, axis: [*values, math.nan]}},
        "seed as axis": {"grid": {**grid, "seed": [1, 2]}},
        "sweep as axis": {"grid": {**grid, "sweep.seeds": [1, 2]}},
        "table as axis value": {"grid": {**grid, axis: [{"a": 1}]}},
        "unknown key in [sweep]": {"colour": 1},
    }
    for label, change in cases.items():
        mutated = copy.deepcopy(raw)
        for key, value in change.items():
            if value is MISSING:
                mutated["sweep"].pop(key, None)
            else:
                mutated["sweep"][key] = value
        yield f"sweep: {label}", mutated
    yield "sweep = 'x'", {**copy.deepcopy(raw), "sweep": "x"}


def check_refusal(exc: ConfigError, source: str, label: str) -> None:
    assert exc.problems, label
    for line in exc.problems:
        assert "\n" not in line and line.startswith(f"{source}: "), (label, line)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_field_of_every_shipped_scenario_mutated(path, record_property):
    source = str(path)
    refused = accepted = 0
    for label, mutated in scenario_mutations(path):
        try:
            validate_scenario(mutated, source=source)
        except ConfigError as exc:
            check_refusal(exc, source, label)
            field = label.split(" ")[0].split(":")[0]
            top = field.split(".")[0]
            assert any(top in line for line in exc.problems), (label, exc.problems)
            refused += 1
        else:
            accepted += 1
    record_property("mutations", refused + accepted)
    record_property("refused", refused)
    assert refused > accepted  # most wrong values are wrong


@pytest.mark.parametrize(
    ("field", "value"),
    [("bandwidth", 1e-300), ("bandwidth", 1.5e6), ("bandwidth", float("nan"))]
    + [("aspect_ratio", float("nan")), ("aspect_ratio", float("inf"))],
)
def test_an_extreme_gabor_parameter_is_refused_not_raised(field, value):
    """Extreme V1 settings are refused at validation.

    These used to overflow or divide by zero inside V1Config (or, for nan, pass validation
    and fail later when the cache key was computed).
    """
    raw = scenario_base(SCENARIOS[0])
    raw = mutate(raw, ("vision",), {"visnet": {"v1": {field: value}}})
    with pytest.raises(ConfigError) as info:
        validate_scenario(raw, source="gabor.toml")
    assert any(f"vision.visnet.v1.{field}: " in line for line in info.value.problems)


SWEEPS = [p for p in SCENARIOS if "sweep" in read_toml(p)]


@pytest.mark.parametrize("path", SWEEPS, ids=[p.stem for p in SWEEPS])
def test_every_sweep_table_mutation_is_refused_in_one_line_per_problem(path, monkeypatch):
    source = str(path)
    for label, mutated in sweep_mutations(path):
        monkeypatch.setattr(
            dyad.sweeps.plan, "read_toml", lambda _path, m=mutated: copy.deepcopy(m)
        )
        if label == "sweep: seeds = true":  # pydantic's lax mode reads true as 1
            assert plan_sweep(path).seeds == 1
            continue
        with pytest.raises(ConfigError) as info:
            plan_sweep(path)
        check_refusal(info.value, source, label)
        assert any("sweep" in line for line in info.value.problems), (label, info.value.problems)


# --------------------------------------------------------------------------------------------
# the command line: options of results folders


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def assert_bad_input(result, *expected: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output, result.stderr)
    assert "Traceback" not in result.output + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, result.stderr
    for text in expected:
        assert text in errors[0], errors[0]


@pytest.fixture
def tiny_file(tmp_path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text('name = "tiny"\n[run]\nsteps = 10\n[vision]\npreset = "small"\n')
    return path


CLI_CASES = {
    "--output is a file": (["--output", "{file}"], "exists and is not a folder"),
    "--output under a file": (["--output", "{file}/run"], "cannot be created"),
    "--output in /proc": (["--output", "/proc/dyad/run"], "cannot"),
    "--output a sweep folder": (["--output", "{sweep}"], "is a sweep folder"),
    "--output a foreign folder": (["--output", "{foreign}"], "not a dyad run folder"),
    "--output empty": (["--output", ""], ""),
    "--overwrite with a value": (["--overwrite=yes", "--output", "{out}"], "--overwrite"),
    "--set too few test trials": (
        ["--set", "run.test_trials=3", "--output", "{out}"],
        "at least 5",
    ),
    "--set test trials as text": (["--set", "run.test_trials=many", "--output", "{out}"], "trials"),
    "--set an unknown field": (["--set", "output.folderz=x", "--output", "{out}"], "folderz"),
    "--set output.mirror_rates text": (
        ["--set", "output.mirror_rates=maybe", "--output", "{out}"],
        "mirror_rates",
    ),
    "--seed negative": (["--seed", "-3", "--output", "{out}"], "--seed"),
    "--seed text": (["--seed", "abc", "--output", "{out}"], "seed"),
}


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_simulate_options_for_results_folders_are_refused_in_one_line(case, tiny_file, tmp_path):
    args, expected = CLI_CASES[case]
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "sweep").mkdir()
    (tmp_path / "sweep" / "sweep.json").write_text("{}")
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "thesis.tex").write_text("mine")
    places = {
        "file": tmp_path / "notes.txt",
        "sweep": tmp_path / "sweep",
        "foreign": tmp_path / "foreign",
        "out": tmp_path / "out",
    }
    args = [a.format(**places) for a in args]
    cache = tmp_path / "cache"
    result = invoke("simulate", str(tiny_file), "--cache-dir", str(cache), "--quiet", *args)
    assert_bad_input(result, expected)
    assert not cache.exists() and not (tmp_path / "out").exists()  # refused before any work
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_refusal_is_a_dyad_error_in_the_library_too(tiny_file, tmp_path):
    from dyad.config import load_scenario
    from dyad.simulation import run_scenario

    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(DyadError, match="exists and is not a folder"):
        run_scenario(load_scenario(tiny_file), output=tmp_path / "notes.txt")
