"""A battery of broken parent-policy plugins: each gives one line naming the plugin, exit 2.

Every fault is run through ``dyad simulate`` exactly as a user would meet it: the plugin is
named with ``--plugins-dir``, the scenario uses its policy. Faults found while loading stop
the command before any work (no results folder); faults in ``__init__`` or ``choose`` stop it
at the first timestep. Never a traceback, never a result.
"""

from __future__ import annotations

import re
import textwrap
import uuid
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from reliability_helpers import policy_plugin, write_tiny

from dyad.cli import cli

# name -> (plugin source with {name} for the policy name, what the error line must say)
LOAD_FAULTS: dict[str, tuple[str, str]] = {
    "import_error": ("import dyad_has_no_such_module\n", "ModuleNotFoundError"),
    "syntax_error": ("def broken(:\n    pass\n", "SyntaxError"),
    "raises_on_import": ("raise RuntimeError('no display')\n", "RuntimeError: no display"),
    "exits_on_import": ("import sys\nsys.exit(3)\n", "SystemExit"),
    "hook_raises": (
        policy_plugin("{name}", hook="raise KeyError('lost')"),
        "dyad_register_policies raised KeyError",
    ),
    "hook_misspelled": (
        "from dyad import hookimpl\n\n@hookimpl\ndef dyad_register_policy(register):\n    pass\n",
        "unknown hook 'dyad_register_policy'",
    ),
    "no_hook": ("def dyad_register_policies(register):\n    pass\n", "defines no dyad hook"),
    "registers_an_instance": (
        policy_plugin("{name}", hook="register(object())"),
        "register() expects a class",
    ),
    "param_without_default": (
        policy_plugin(
            "{name}",
            extra="""
            class Bad(Policy):
                class Params(PolicyParams):
                    q: float
            """,
            hook="register(Bad)",
        ),
        "every field needs a default",
    ),
    "invalid_default": (
        policy_plugin(
            "{name}",
            extra="""
            class Bad(Policy):
                class Params(PolicyParams):
                    q: float = Field(2.0, le=1.0)
            """,
            hook="register(Bad)",
        ),
        "the defaults are not valid",
    ),
    "schema_raises": (
        policy_plugin(
            "{name}",
            extra="""
            class Bad(Policy):
                class Params(PolicyParams):
                    q: float = 0.5

                    @model_validator(mode="after")
                    def _check(self):
                        raise ZeroDivisionError("schema bug")
            """,
            hook="register(Bad)",
        ),
        "ZeroDivisionError: schema bug",
    ),
    "bad_name": (
        policy_plugin(
            "{name}",
            extra="""
            class Bad(Policy):
                name = "has space"
            """,
            hook="register(Bad)",
        ),
        "name: expected a string",
    ),
    "negative_lookback": (
        policy_plugin(
            "{name}",
            extra="""
            class Bad(Policy):
                lookback = -2
            """,
            hook="register(Bad)",
        ),
        "lookback: expected an integer >= 0",
    ),
    "shadows_a_builtin": (policy_plugin("perfect"), 'policy "perfect" is registered twice'),
}

# name -> (choose body, __init__ body, what the error line must say)
RUN_FAULTS: dict[str, tuple[str, str, str]] = {
    "init_raises": ("return 0", "raise RuntimeError('no parent today')", "RuntimeError"),
    "init_exits": ("return 0", "sys.exit(1)", "SystemExit"),
    "init_config_error": (
        "return 0",
        "raise ConfigError('q: expected 0.5, got 0.7')",
        "q: expected 0.5, got 0.7",
    ),
    "lookback_raises": (
        "return 0",
        "type(self).lookback = property(lambda s: 1 / 0)",
        "ZeroDivisionError",
    ),
    "instance_lookback_negative": ("return 0", "self.lookback = -1", "lookback must be"),
    "instance_lookback_text": ("return 0", "self.lookback = '2'", "lookback must be"),
    "choose_raises": ("raise ValueError('tired')", "pass", "ValueError: tired"),
    "choose_exits": ("sys.exit(0)", "pass", "SystemExit"),
    "choose_string": ("return '1'", "pass", "'1' (str)"),
    "choose_float": ("return 1.9", "pass", "1.9 (float)"),
    "choose_whole_float": ("return 1.0", "pass", "1.0 (float)"),
    "choose_numpy_float": ("return np.float32(1)", "pass", "(float32)"),
    "choose_bool": ("return True", "pass", "True (bool)"),
    "choose_none": ("return None", "pass", "None (NoneType)"),
    "choose_list": ("return [1]", "pass", "[1] (list)"),
    "choose_array": ("return np.array([1])", "pass", "(ndarray)"),
    "choose_too_large": ("return 2", "pass", "2 (int)"),
    "choose_negative": ("return -1", "pass", "-1 (int)"),
}

# faults that appear only after the trial before the run (20 timesteps): found while running
LATE_FAULTS: dict[str, tuple[str, str]] = {
    "choose_raises_late": ("return 0 if t < 30 else 1 / 0", "failed at timestep 30: ZeroDivision"),
    "choose_string_late": ("return 0 if t < 30 else '1'", "chose '1' (str) at timestep 30"),
    "choose_float_late": ("return 0 if t < 30 else 1.0", "chose 1.0 (float) at timestep 30"),
    "choose_out_of_range_late": ("return 0 if t < 30 else 7", "chose 7 (int) at timestep 30"),
}

FAULTS_TRIED = len(LOAD_FAULTS) + len(RUN_FAULTS) + len(LATE_FAULTS)


@pytest.fixture
def work(tmp_path, monkeypatch):
    """An empty working folder, no installed plugins, no plugin paths from the environment."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DYAD_LOAD_PLUGINS", "")
    monkeypatch.delenv("DYAD_PLUGINS_DIR", raising=False)
    return tmp_path


def simulate(scenario: Path, plugin: Path, cache_dir: Path, output: Path):
    args = ["simulate", str(scenario), "--plugins-dir", str(plugin), "--cache-dir", str(cache_dir)]
    args += ["--output", str(output), "--no-figures", "--quiet"]
    return CliRunner().invoke(cli, args)


def assert_one_line_exit_2(result, plugin: Path, expected: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: "), lines
    assert str(plugin) in lines[0], lines[0]
    assert expected in lines[0], lines[0]
    assert "Traceback" not in result.output
    assert "results in" not in result.stdout


@pytest.mark.parametrize("fault", sorted(LOAD_FAULTS))
def test_a_plugin_that_fails_to_load_stops_before_any_work(work, cache_dir, fault):
    name = f"faulty_{uuid.uuid4().hex[:8]}"
    source, expected = LOAD_FAULTS[fault]
    plugin = work / "plugins" / f"{fault}.py"
    plugin.parent.mkdir(exist_ok=True)
    plugin.write_text(source.replace("{name}", name))
    scenario = write_tiny(work, policy="perfect")
    output = work / "out"
    result = simulate(scenario, plugin, work / "cache-unused", output)
    assert_one_line_exit_2(result, plugin, expected)
    assert not output.exists()
    assert not (work / "cache-unused").exists()  # refused before pre-training


@pytest.mark.parametrize("fault", sorted(RUN_FAULTS))
def test_a_broken_policy_is_found_by_its_trial_before_any_work(work, fault):
    """__init__ and the first timesteps of choose run once before pre-training starts."""
    name = f"faulty_{uuid.uuid4().hex[:8]}"
    choose, init, expected = RUN_FAULTS[fault]
    plugin = work / f"{fault}.py"
    plugin.write_text(policy_plugin(name, choose=choose, init=init))
    scenario = write_tiny(work, policy=name, steps=60)
    output = work / "out"
    result = simulate(scenario, plugin, work / "cache-unused", output)
    assert_one_line_exit_2(result, plugin, expected)
    assert f'"{name}"' in result.stderr
    assert not output.exists()
    assert not (work / "cache-unused").exists()


@pytest.mark.parametrize("fault", sorted(LATE_FAULTS))
def test_a_policy_that_fails_while_running_gives_one_line(work, cache_dir, fault):
    name = f"faulty_{uuid.uuid4().hex[:8]}"
    choose, expected = LATE_FAULTS[fault]
    plugin = work / f"{fault}.py"
    plugin.write_text(policy_plugin(name, choose=choose))
    scenario = write_tiny(work, policy=name, steps=60)
    output = work / "out"
    result = simulate(scenario, plugin, cache_dir, output)
    assert_one_line_exit_2(result, plugin, expected)
    assert f"'{name}'" in result.stderr
    assert not (output / "manifest.json").exists()


@pytest.mark.parametrize("value", ["np.int64(1)", "np.int8(0)", "int(infant_history[-1])"])
def test_integer_choices_of_any_integer_type_run(work, cache_dir, value):
    name = f"fine_{uuid.uuid4().hex[:8]}"
    plugin = work / "fine.py"
    plugin.write_text(policy_plugin(name, choose=f"return {value}"))
    result = simulate(write_tiny(work, policy=name), plugin, cache_dir, work / "out")
    assert result.exit_code == 0, result.output
    assert (work / "out" / "manifest.json").is_file()


def test_a_broken_plugin_in_a_sweep_exits_2_before_any_run(work, cache_dir):
    plugin = work / "broken.py"
    plugin.write_text("raise RuntimeError('half written')\n")
    scenario = write_tiny(work, sweep='[sweep]\nseeds = 1\n[sweep.grid]\n"run.steps" = [20, 30]\n')
    result = CliRunner().invoke(
        cli,
        ["sweep", str(scenario), "--plugins-dir", str(plugin), "--output", str(work / "s")],
    )
    assert_one_line_exit_2(result, plugin, "RuntimeError: half written")
    assert not (work / "s").exists()


def test_the_scenario_can_name_its_plugins_relative_to_itself(work, cache_dir, monkeypatch):
    name = f"named_{uuid.uuid4().hex[:8]}"
    project = work / "project"
    (project / "policies").mkdir(parents=True)
    plugin = project / "policies" / "mine.py"
    plugin.write_text(policy_plugin(name))
    scenario = write_tiny(project, policy=name, top='plugins = ["policies/mine.py"]')
    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = CliRunner().invoke(
        cli,
        ["simulate", str(scenario), "--cache-dir", str(cache_dir), "--output", "out"]
        + ["--no-figures", "--quiet"],
    )
    assert result.exit_code == 0, result.output
    import json

    manifest = json.loads((elsewhere / "out" / "manifest.json").read_text())
    import hashlib

    assert manifest["policies"][name] == {
        "source": f"file {plugin}",
        "sha256": hashlib.sha256(plugin.read_bytes()).hexdigest(),
        "files": [str(plugin)],
    }
    assert manifest["scenario"]["plugins"] == [str(plugin)]


def test_the_same_plugin_path_with_different_code_gets_a_different_hash(tmp_path):
    """Two codes at one path used to look the same in the manifest (path only)."""
    import subprocess
    import sys

    name = f"twice_{uuid.uuid4().hex[:8]}"
    plugin = tmp_path / "twice.py"
    code = textwrap.dedent(
        f"""
        from dyad.plugins import load_registry
        print(load_registry([{str(plugin)!r}], entry_points=False).provenance([{name!r}])
              [{name!r}]["sha256"])
        """
    )
    hashes = []
    for choose in ("return 0", "return 1"):
        plugin.write_text(policy_plugin(name, choose=choose))
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        hashes.append(done.stdout.strip())
    assert re.fullmatch(r"[0-9a-f]{64}", hashes[0])
    assert hashes[0] != hashes[1]


def test_loading_plugins_leaves_sys_path_alone(tmp_path):
    import sys

    from dyad.plugins import load_registry

    name = f"project_{uuid.uuid4().hex[:8]}"
    module = f"mod_{uuid.uuid4().hex[:8]}"
    project = tmp_path / "dyad-project"
    (project / "src" / module).mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        f'[project]\nname = "dyad-project"\n[project.entry-points."dyad.policies"]\n'
        f'p = "{module}.hooks"\n'
    )
    (project / "src" / module / "__init__.py").write_text("")
    (project / "src" / module / "helpers.py").write_text("SHOWN = 1\n")
    (project / "src" / module / "hooks.py").write_text(
        policy_plugin(name, choose="return SHOWN").replace(
            "import sys\n", "import sys\nfrom .helpers import SHOWN\n", 1
        )
    )
    before = list(sys.path)
    registry = load_registry([tmp_path], entry_points=False)
    assert sys.path == before
    entry = registry.get(name)
    assert entry.source == f"file {project / 'src' / module / 'hooks.py'}"
    assert len(entry.files) == 3  # the whole package is hashed
    policy = registry.create(name, {}, _context(), np.random.default_rng(0))
    assert policy.choose(0, np.array([0])) == 1


def _context():
    from dyad.policies import PolicyContext

    return PolicyContext(("happy", "sad"), n_steps=10, hold_length=5)


def test_sweeps_without_plugins_keep_their_fingerprint(work):
    """Sweep folders made before the `plugins` key existed must still resume."""
    from dyad.sweeps import plan_sweep

    sweep = '[sweep]\nseeds = 1\n[sweep.grid]\n"run.steps" = [20, 30]\n'
    plain = plan_sweep(write_tiny(work, sweep=sweep))
    assert "plugins" not in plain.definition()["scenario"]
    name = f"swept_{uuid.uuid4().hex[:8]}"
    (work / "mine.py").write_text(policy_plugin(name))
    named = plan_sweep(
        write_tiny(work, policy=name, sweep=sweep, top='plugins = ["mine.py"]', name="b.toml")
    )
    assert named.definition()["scenario"]["plugins"] == [str(work / "mine.py")]
    assert all(run.scenario().plugins == (str(work / "mine.py"),) for run in named.runs)
