"""The Python API, and that the CLI is a thin wrapper over it.

The Python API: ``dyad.simulate``, ``load_run``, ``sweep``, ``load_sweep``, ``report``,
``pretrain``, and that the CLI's commands are wrappers over them (same tables, same errors).
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import tiny_scenario_raw

import dyad
import dyad.api
from dyad.cli import cli

# the tiny scenario of tests/conftest.py as a file with a two-point [sweep], so the CLI and
# dyad.sweep can read it
TINY_TOML = textwrap.dedent(
    """
    name = "tiny"
    seed = 1

    [run]
    steps = 60
    test_trials = 8

    [infant]
    expressions = ["happy", "sad"]
    hold_length = 10

    [parent]
    policy = "noisy"

    [vision]
    preset = "small"
    n_train_transforms = 8
    n_test_transforms = 8
    other_faces = 1
    bank_size = 16

    [vision.visnet]
    epochs = [1, 1, 1, 1]

    [mirror]
    n_neurons = 32

    [sweep]
    seeds = 1

    [sweep.grid]
    "parent.params.q" = [0.0, 0.5]
    """
)


@pytest.fixture
def tiny_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_TOML, encoding="utf-8")
    return path


def small_raw() -> dict:
    return tiny_scenario_raw(run={"steps": 60, "test_trials": 8})


def assert_same_tables(a, b) -> None:
    assert a.names() == b.names()
    for name in a.names():
        left, right = a[name], b[name]
        # the store keeps low-cardinality strings as categoricals; compare values, not dtypes
        pd.testing.assert_frame_equal(
            left.reset_index(drop=True), right.reset_index(drop=True), check_categorical=False
        )


# -- one run -----------------------------------------------------------------------------------


def test_simulate_returns_a_run_whose_tables_are_attributes(cache_dir):
    run = dyad.simulate(small_raw(), cache_dir=cache_dir, progress=False)
    assert isinstance(run, dyad.Run) and run.folder is None
    assert {"interaction", "test_responses", "neurons", "layer4_summary"} <= set(run.names())
    assert isinstance(run.interaction, pd.DataFrame) and len(run.interaction) == 60
    assert run.neurons is run["neurons"] and "neurons" in run
    assert run.summary == run.manifest["summary"]
    assert run.summary["n_neurons"] == 32
    assert {"interaction", "neurons"} <= set(dir(run))
    with pytest.raises(AttributeError, match="no attribute or table 'nonsense'"):
        _ = run.nonsense


def test_a_saved_run_loads_back_as_the_same_type_with_the_same_tables(cache_dir, tmp_path):
    run = dyad.simulate(small_raw(), cache_dir=cache_dir, progress=False)
    saved = run.save(tmp_path / "run")
    loaded = dyad.load_run(tmp_path / "run")
    assert type(saved) is type(loaded) is type(run)
    assert loaded.folder == tmp_path / "run"
    assert loaded.summary == run.summary
    assert loaded.manifest["seed"] == run.manifest["seed"]
    assert_same_tables(run, loaded)
    # one overwrite rule everywhere: a complete run is replaced only when asked
    with pytest.raises(dyad.ResultsError, match="overwrite"):
        run.save(tmp_path / "run")
    again = run.save(tmp_path / "run", overwrite=True)
    assert_same_tables(again, loaded)
    # a loaded run saves elsewhere with its figures (none here) and tables
    copy = loaded.save(tmp_path / "copy")
    assert_same_tables(copy, loaded)
    with pytest.raises(dyad.ResultsError, match="already saved there"):
        loaded.save(tmp_path / "run", overwrite=True)


def test_simulate_with_output_writes_the_folder_it_returns(cache_dir, tmp_path):
    out = tmp_path / "out"
    run = dyad.simulate(small_raw(), output=out, figures=False, cache_dir=cache_dir, progress=False)
    assert run.folder == out
    assert run.manifest == dyad.load_run(out).manifest  # the manifest as written
    with pytest.raises(dyad.ResultsError, match="overwrite"):
        dyad.simulate(small_raw(), output=out, cache_dir=cache_dir, progress=False)
    assert not (out / "figures").exists()


def test_overrides_read_like_set_and_the_cli_gives_the_same_run(cache_dir, tmp_path, tiny_file):
    as_mapping = dyad.simulate(
        tiny_file, seed=3, overrides={"run.steps": 50}, cache_dir=cache_dir, progress=False
    )
    as_strings = dyad.simulate(
        tiny_file, seed=3, overrides=["run.steps=50"], cache_dir=cache_dir, progress=False
    )
    assert len(as_mapping.interaction) == 50
    assert_same_tables(as_mapping, as_strings)

    out = tmp_path / "cli"
    args = ["simulate", str(tiny_file), "--seed", "3", "--set", "run.steps=50"]
    args += ["--output", str(out), "--cache-dir", str(cache_dir), "--no-figures", "--quiet"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output + result.stderr
    assert "congruence c =" in result.stdout
    assert_same_tables(as_mapping, dyad.load_run(out))


def test_a_scenario_object_and_a_dict_give_the_same_run(cache_dir):
    scenario = dyad.load_scenario(small_raw(), overrides={"seed": 4})
    assert isinstance(scenario, dyad.Scenario) and scenario.seed == 4
    from_object = dyad.simulate(scenario, cache_dir=cache_dir, progress=False)
    from_dict = dyad.simulate(small_raw(), seed=4, cache_dir=cache_dir, progress=False)
    assert_same_tables(from_object, from_dict)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"overrides": {"run.steps": "many"}}, "run.steps"),
        ({"overrides": ["run.steps"]}, "expected FIELD=VALUE"),
        ({"seed": -1}, "seed: expected a non-negative integer"),
        ({"max_memory": "1K"}, "more than the limit"),
    ],
)
def test_bad_input_raises_one_of_dyads_errors(cache_dir, tmp_path, kwargs, message):
    with pytest.raises(dyad.DyadError, match=message):
        dyad.simulate(small_raw(), cache_dir=cache_dir, output=tmp_path / "o", **kwargs)
    assert not (tmp_path / "o").exists()


def test_an_unknown_scenario_name_lists_the_shipped_ones():
    with pytest.raises(dyad.ConfigError, match="perfect"):
        dyad.load_scenario("no_such_scenario")
    assert dyad.load_scenario("perfect").name == "perfect"


def test_a_missing_run_folder_is_a_results_error(tmp_path):
    with pytest.raises(dyad.ResultsError, match="does not exist"):
        dyad.load_run(tmp_path / "nothing")


# -- sweeps ------------------------------------------------------------------------------------


def test_sweep_returns_the_folder_as_load_sweep_reads_it(cache_dir, tmp_path, tiny_file):
    sweep, load_sweep = dyad.sweep, dyad.load_sweep

    out = tmp_path / "sweep"
    swept = sweep(tiny_file, output=out, workers=1, cache_dir=cache_dir, progress=False)
    assert swept.status is not None and swept.status.done == 2 and swept.status.failed == 0
    loaded = load_sweep(out)
    assert type(loaded) is type(swept) and loaded.status is None
    pd.testing.assert_frame_equal(loaded.summary, swept.summary)
    assert swept.grid == {"parent.params.q": [0.0, 0.5]}
    neurons = swept.table("neurons")
    assert set(neurons["parent.params.q"]) == {0.0, 0.5}
    run_id = swept.summary["run_id"].iloc[0]
    assert isinstance(swept.run(run_id), dyad.Run)
    # one overwrite rule everywhere: a complete sweep is run again only when asked
    with pytest.raises(dyad.ResultsError, match="already holds this sweep"):
        sweep(tiny_file, output=out, workers=1, cache_dir=cache_dir, progress=False)


def test_a_sweep_needs_a_sweep_table(cache_dir, tmp_path):
    from dyad.api import sweep

    plain = tmp_path / "plain.toml"
    plain.write_text(TINY_TOML.split("[sweep]")[0], encoding="utf-8")
    with pytest.raises(dyad.ConfigError, match=r"missing \[sweep\] table"):
        sweep(plain, output=tmp_path / "s", cache_dir=cache_dir)
    with pytest.raises(dyad.ConfigError, match="TOML file"):
        sweep({"name": "x"}, output=tmp_path / "s")


# -- report and pretrain -----------------------------------------------------------------------


def test_report_writes_a_report_of_a_run(cache_dir, tmp_path):
    report = dyad.report

    run = dyad.simulate(small_raw(), cache_dir=cache_dir, progress=False).save(tmp_path / "run")
    path = report(run.folder, output=tmp_path / "report.md")
    assert path == tmp_path / "report.md" and "firing" in path.read_text().lower()
    with pytest.raises(dyad.ConfigError, match="at least one"):
        report([])


def test_pretrain_gives_the_visual_system_a_scenarios_runs_use(cache_dir):
    from dyad.config import validate_scenario
    from dyad.simulation import pretrain_config

    vision = dyad.pretrain(small_raw(), cache_dir=cache_dir, progress=False)
    assert vision.config == pretrain_config(validate_scenario(small_raw()))
    assert dyad.pretrain(small_raw(), cache_dir=cache_dir, progress=False).from_cache
    with pytest.raises(dyad.ConfigError, match="epochs: set by the scenario"):
        dyad.pretrain(small_raw(), epochs=2)
    with pytest.raises(dyad.ConfigError, match="size: expected at least 16 pixels"):
        dyad.pretrain(size=8)


# -- the package -------------------------------------------------------------------------------


def test_every_public_name_resolves_and_is_listed():
    for name in dyad.__all__:
        assert getattr(dyad, name) is not None, name
        assert name in dir(dyad)
    assert dyad.simulate is dyad.api.simulate and dyad.Run is dyad.store.Run
    assert issubclass(dyad.ConfigError, dyad.DyadError)
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        _ = dyad.nonsense


API_FUNCTIONS = ("simulate", "load_run", "sweep", "load_sweep", "report", "pretrain", "live_view")


def test_no_module_shadows_an_api_function():
    for module in pkgutil.walk_packages(dyad.__path__, "dyad."):
        if not module.name.startswith(("dyad.view", "dyad.experiments")):
            importlib.import_module(module.name)
    for name in API_FUNCTIONS:
        assert getattr(dyad, name) is getattr(dyad.api, name), name


HEAVY = ("numpy", "pandas", "mesa", "numba", "scipy", "matplotlib")


def loaded_after(code: str) -> list[str]:
    """Heavy libraries imported by a fresh interpreter after running ``code``."""
    probe = f"{code}\nimport sys\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return eval(done.stdout.strip().splitlines()[-1])  # a printed list of names


def test_import_dyad_and_naming_the_api_import_nothing_heavy():
    names = ", ".join(f"dyad.{name}" for name in (*API_FUNCTIONS, "ConfigError", "hookimpl"))
    assert loaded_after(f"import dyad; {names}") == []


def test_dyad_help_imports_nothing_heavy():
    code = textwrap.dedent(
        """
        import sys
        from dyad.cli import main
        sys.argv = ["dyad", "--help"]
        try:
            main()
        except SystemExit:
            pass
        """
    )
    assert loaded_after(code) == []


def test_the_sweep_command_says_what_its_start_up_is_doing(cache_dir, tmp_path, tiny_file):
    args = ["sweep", str(tiny_file), "--workers", "1", "--output", str(tmp_path / "s")]
    result = CliRunner().invoke(cli, [*args, "--cache-dir", str(cache_dir)])
    assert result.exit_code == 0, result.output + result.stderr
    steps = [line for line in result.stderr.splitlines() if line.startswith("tiny: ")]
    assert steps[0] == "tiny: connecting to local worker processes ..."
    assert steps[1] == "tiny: loading the visual system ..."
    assert steps[2].startswith("tiny: 2 of 2 runs to do on 1 local worker process")
    assert "2 runs done" in result.stdout
