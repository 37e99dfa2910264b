"""The policy registry: built-ins, local plugin folders, entry points, and ``dyad plugins list``."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from dyad.cli import cli
from dyad.errors import ConfigError, PluginError
from dyad.plugins import DyadPluginWarning, load_registry
from dyad.policies import Noisy, PolicyContext

CONTEXT = PolicyContext(("happy", "sad"), n_steps=50, hold_length=5)


def policy_module(policy_name: str, body: str = "return 1 - int(infant_history[-1])") -> str:
    """Source of a working single-policy plugin module."""
    return textwrap.dedent(
        f"""
        from pydantic import Field

        from dyad import ParentPolicy, PolicyParams, hookimpl


        class Policy(ParentPolicy):
            name = "{policy_name}"
            description = "test policy {policy_name}"

            class Params(PolicyParams):
                strength: float = Field(0.5, ge=0, le=1, description="how strongly")

            def choose(self, t, infant_history):
                {body}


        @hookimpl
        def dyad_register_policies(register):
            register(Policy)
        """
    )


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def unique(prefix: str) -> str:
    """A module/policy name no other test uses (sys.modules outlives a test)."""
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def no_plugin_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DyadPluginWarning)
        yield


@pytest.fixture
def restore_sys_modules():
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        del sys.modules[name]


# -- built-ins -----------------------------------------------------------------------------


def test_builtins_are_registered_through_the_hook(no_plugin_warnings):
    registry = load_registry(entry_points=False)
    assert registry.names()[:4] == ["perfect", "noisy", "lagged", "yoked"]
    for name in ("perfect", "noisy", "lagged", "yoked"):
        assert registry.get(name).source == "built-in"
        assert registry.get(name).description
    assert registry.get("noisy").policy_class is Noisy
    assert registry.sources() == {name: "built-in" for name in registry.names()}
    assert "dyad.policies" in {name for name, _ in registry.plugin_manager.list_name_plugin()}


def test_unknown_policy_lists_the_known_ones():
    registry = load_registry(entry_points=False)
    with pytest.raises(
        ConfigError, match=r"policy: expected one of lagged, noisy, perfect, yoked, got 'nosy'"
    ):
        registry.get("nosy")
    with pytest.raises(ConfigError):
        registry.create("nosy", {}, CONTEXT, np.random.default_rng(0))


def test_validate_params_reports_field_paths():
    registry = load_registry(entry_points=False)
    params = registry.validate_params("noisy", {"q": 0.3})
    assert isinstance(params, Noisy.Params) and params.q == 0.3 and params.mode == "timestep"
    assert registry.validate_params("noisy", params) is params
    assert registry.validate_params("lagged", None).lag == 1
    with pytest.raises(ValidationError) as excinfo:
        registry.validate_params("noisy", {"q": 2, "flip": True})
    locations = {error["loc"] for error in excinfo.value.errors()}
    assert locations == {("q",), ("flip",)}


def test_create_gives_a_ready_policy():
    registry = load_registry(entry_points=False)
    policy = registry.create("lagged", {"lag": 3}, CONTEXT, np.random.default_rng(0))
    assert policy.lookback == 3
    assert policy.choose(0, np.array([1, 0, 0, 0])) == 1


def test_registries_are_cached_per_plugin_folders(tmp_path):
    assert load_registry(entry_points=False) is load_registry(entry_points=False)
    assert load_registry([tmp_path], entry_points=False) is load_registry(
        [str(tmp_path)], entry_points=False
    )
    assert load_registry([tmp_path], entry_points=False) is not load_registry(entry_points=False)


# -- local plugin folders ------------------------------------------------------------------


def test_a_plugin_file_in_a_folder_loads(tmp_path, no_plugin_warnings):
    name = unique("opposite")
    path = write(tmp_path / "opposite.py", policy_module(name))
    registry = load_registry([tmp_path], entry_points=False)
    entry = registry.get(name)
    assert entry.source == f"file {path}"
    assert entry.description == f"test policy {name}"
    assert registry.names()[:3] == ["perfect", "noisy", "lagged"]
    # imported under a stable name, present in sys.modules for pickling and workers
    module = sys.modules[entry.policy_class.__module__]
    assert Path(module.__file__) == path
    assert entry.policy_class.__module__.startswith("dyad_local_plugin_opposite_")
    policy = registry.create(name, {"strength": 0.2}, CONTEXT, np.random.default_rng(0))
    assert policy.choose(0, np.array([0])) == 1
    with pytest.raises(ValidationError):
        registry.validate_params(name, {"strength": 3})


def test_relative_plugin_folders_become_absolute(tmp_path, monkeypatch):
    name = unique("relative")
    write(tmp_path / "my_plugins" / "relative.py", policy_module(name))
    monkeypatch.chdir(tmp_path)
    registry = load_registry([Path("my_plugins")], entry_points=False)
    assert registry.plugin_dirs == ((tmp_path / "my_plugins").resolve(),)
    assert (
        registry.get(name).source == f"file {(tmp_path / 'my_plugins' / 'relative.py').resolve()}"
    )


def test_missing_plugin_folder_is_an_error(tmp_path):
    with pytest.raises(PluginError, match="does not exist"):
        load_registry([tmp_path / "nowhere"], entry_points=False)


def test_a_worker_process_rebuilds_the_policy_from_name_and_params(tmp_path):
    """Workers get the absolute folder, the policy name and its params; same choices result."""
    name = unique("coin")
    body = "return int(self.rng.integers(0, 2)) if self.params.strength > 0 else 0"
    write(tmp_path / "coin.py", policy_module(name, body))
    registry = load_registry([tmp_path], entry_points=False)
    policy = registry.create(name, {"strength": 1.0}, CONTEXT, np.random.default_rng(9))
    here = [policy.choose(t, np.zeros(t + 1, dtype=int)) for t in range(20)]
    code = textwrap.dedent(
        f"""
        import json, sys
        import numpy as np
        from dyad.plugins import load_registry
        from dyad.policies import PolicyContext
        registry = load_registry([{str(tmp_path)!r}], entry_points=False)
        module = registry.get({name!r}).policy_class.__module__
        assert module in sys.modules, module
        context = PolicyContext(("happy", "sad"), n_steps=50, hold_length=5)
        policy = registry.create({name!r}, {{"strength": 1.0}}, context, np.random.default_rng(9))
        print(json.dumps([policy.choose(t, np.zeros(t + 1, dtype=int)) for t in range(20)]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/"
    )
    assert json.loads(done.stdout) == here
    assert len(set(here)) == 2


def test_a_plugin_project_folder_loads(tmp_path, restore_sys_modules, no_plugin_warnings):
    module_name = unique("delay_pkg")
    policy_name = unique("project_policy")
    project = tmp_path / "dyad-my-project"
    write(
        project / "pyproject.toml",
        f"""
        [project]
        name = "dyad-my-project"
        version = "0.3.0"

        [project.entry-points."dyad.policies"]
        mine = "{module_name}.hooks"
        """,
    )
    write(project / "src" / module_name / "__init__.py", "")
    write(project / "src" / module_name / "hooks.py", policy_module(policy_name))
    # neither the project's tests nor a folder without pyproject.toml are plugins
    write(project / "tests" / "test_it.py", "raise RuntimeError('tests must not be imported')")
    write(tmp_path / "notes" / "scratch.py", "raise RuntimeError('not a plugin project')")
    write(tmp_path / "tests" / "helper.py", "raise RuntimeError('tests must not be imported')")
    registry = load_registry([tmp_path], entry_points=False)
    hooks_file = project / "src" / module_name / "hooks.py"
    assert registry.get(policy_name).source == f"file {hooks_file}"
    assert registry.get(policy_name).policy_class.__module__ == f"{module_name}.hooks"


def test_example_plugin_in_the_repository_loads(no_plugin_warnings):
    folder = Path(__file__).resolve().parents[1] / "plugins"
    registry = load_registry([folder], entry_points=False)
    assert registry.get("reaction_delay").source.startswith(f"file {folder}")


def test_the_documented_example_plugin_works(tmp_path, no_plugin_warnings):
    """docs/plugins.md's complete example, loaded from a folder exactly as written there."""
    guide = (Path(__file__).resolve().parents[1] / "docs" / "plugins.md").read_text()
    marker = "<!-- the test suite loads this block as a plugin: keep it complete -->\n```python\n"
    example = guide.split(marker, 1)[1].split("```", 1)[0]
    folder = tmp_path / "my_plugins"
    write(folder / "constant.py", example)
    registry = load_registry([folder], entry_points=False)
    assert registry.get("constant").source == f"file {folder / 'constant.py'}"
    policy = registry.create("constant", {"expression": "sad"}, CONTEXT, np.random.default_rng(0))
    assert [policy.choose(t, np.array([t % 2])) for t in range(4)] == [1, 1, 1, 1]
    with pytest.raises(ConfigError, match="expression: expected one of happy, sad, got 'fear'"):
        registry.create("constant", {"expression": "fear"}, CONTEXT, np.random.default_rng(0))


BROKEN_PLUGINS = {
    "import_error.py": "import dyad_does_not_have_this_module\n",
    "hook_raises.py": """
        from dyad import hookimpl
        from dyad.policies import Perfect

        class Copy(Perfect):
            name = "copy_then_fail"

        @hookimpl
        def dyad_register_policies(register):
            register(Copy)
            raise RuntimeError("out of coffee")
        """,
    "misspelled.py": """
        from dyad import hookimpl

        @hookimpl
        def dyad_register_policy(register):
            pass
        """,
    "undecorated.py": """
        def dyad_register_policies(register):
            pass
        """,
    "bad_classes.py": """
        from pydantic import BaseModel, Field

        from dyad import ParentPolicy, PolicyParams, hookimpl

        class NoName(ParentPolicy):
            def choose(self, t, infant_history):
                return 0

        class LooseParams(ParentPolicy):
            name = "loose"

            class Params(BaseModel):
                q: float = 0.1

            def choose(self, t, infant_history):
                return 0

        class RequiredParam(ParentPolicy):
            name = "required"

            class Params(PolicyParams):
                q: float

            def choose(self, t, infant_history):
                return 0

        class BadDefault(ParentPolicy):
            name = "bad_default"

            class Params(PolicyParams):
                q: float = Field(2.0, le=1)

            def choose(self, t, infant_history):
                return 0

        class NoChoose(ParentPolicy):
            name = "no_choose"

        class NegativeLookback(ParentPolicy):
            name = "negative_lookback"
            lookback = -1

            def choose(self, t, infant_history):
                return 0

        class Fine(ParentPolicy):
            name = "fine_among_bad"

            def choose(self, t, infant_history):
                return 0

        @hookimpl
        def dyad_register_policies(register):
            for cls in (NoName, LooseParams, RequiredParam, BadDefault, NoChoose,
                        NegativeLookback, "not a class", Fine):
                register(cls)
        """,
}


def test_broken_plugins_warn_and_the_rest_still_load(tmp_path):
    for file_name, source in BROKEN_PLUGINS.items():
        write(tmp_path / file_name, source)
    good = unique("good")
    write(tmp_path / "good.py", policy_module(good))
    with pytest.warns(DyadPluginWarning) as record:
        registry = load_registry([tmp_path], entry_points=False)
    messages = [str(w.message) for w in record]
    assert messages == list(registry.problems)
    assert {good, "fine_among_bad", "perfect", "noisy", "lagged"} <= set(registry.names())
    assert "copy_then_fail" not in registry.names()  # a failing hook registers nothing

    def about(file_name: str) -> list[str]:
        prefix = f'dyad plugin "{file_name}" (file {tmp_path / file_name})'
        return [m for m in messages if m.startswith(prefix)]

    assert "ModuleNotFoundError" in about("import_error.py")[0]
    assert "RuntimeError: out of coffee" in about("hook_raises.py")[0]
    assert "unknown hook 'dyad_register_policy'" in about("misspelled.py")[0]
    assert "defines no dyad hook" in about("undecorated.py")[0]
    bad = about("bad_classes.py")
    expected = [
        "NoName skipped: name: expected a string",
        "LooseParams skipped: Params: must forbid unknown keys",
        "RequiredParam skipped: Params: every field needs a default; missing for q",
        "BadDefault skipped: Params: the defaults are not valid",
        "NoChoose skipped: does not implement choose",
        "NegativeLookback skipped: lookback: expected an integer >= 0",
        "register() expects a class, got 'not a class'",
    ]
    assert len(bad) == len(expected)
    for fragment, message in zip(expected, bad, strict=True):
        assert fragment in message
    assert len(messages) == 4 + len(expected)


def test_duplicate_policy_names_are_an_error_naming_both_sources(tmp_path):
    name = unique("twin")
    first = write(tmp_path / "a_first.py", policy_module(name))
    second = write(tmp_path / "b_second.py", policy_module(name))
    with pytest.raises(PluginError) as excinfo:
        load_registry([tmp_path], entry_points=False)
    assert str(excinfo.value) == (
        f'policy "{name}" is registered twice: by file {first} and by file {second}'
    )


def test_a_plugin_reusing_a_builtin_name_is_an_error(tmp_path):
    path = write(tmp_path / "shadow.py", policy_module("perfect"))
    with pytest.raises(
        PluginError, match=f'"perfect" is registered twice: by built-in and by file {path}'
    ):
        load_registry([tmp_path], entry_points=False)


# -- entry points --------------------------------------------------------------------------


def install_fake_distribution(site: Path, dist: str, version: str, entry_points: dict) -> None:
    """A ``<dist>-<version>.dist-info`` folder that importlib.metadata discovers on sys.path."""
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    write(info / "METADATA", f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    lines = ["[dyad.policies]", *(f"{k} = {v}" for k, v in entry_points.items())]
    write(info / "entry_points.txt", "\n".join(lines) + "\n")


def test_entry_point_plugins_load(tmp_path, monkeypatch, restore_sys_modules, no_plugin_warnings):
    module_name = unique("installed_policy")
    policy_name = unique("installed")
    write(tmp_path / f"{module_name}.py", policy_module(policy_name))
    install_fake_distribution(tmp_path, "dyad-fake-policy", "1.2.3", {"fake": module_name})
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = load_registry()
    assert registry.get(policy_name).source == "entry point dyad-fake-policy==1.2.3"
    assert registry.get("perfect").source == "built-in"
    assert not load_registry(entry_points=False).__contains__(policy_name)


def test_a_broken_entry_point_warns_and_the_rest_still_load(
    tmp_path, monkeypatch, restore_sys_modules
):
    broken = unique("broken_policy")
    working = unique("working_policy")
    policy_name = unique("still_here")
    write(tmp_path / f"{broken}.py", "raise ImportError('needs a GPU')\n")
    write(tmp_path / f"{working}.py", policy_module(policy_name))
    install_fake_distribution(tmp_path, "dyad-broken", "0.1", {"broken": broken})
    install_fake_distribution(tmp_path, "dyad-working", "2.0", {"working": working})
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.warns(DyadPluginWarning) as record:
        registry = load_registry()
    messages = [str(w.message) for w in record]
    assert len(messages) == 1
    assert messages[0].startswith('dyad plugin "broken" (entry point dyad-broken==0.1)')
    assert "ImportError: needs a GPU" in messages[0]
    assert registry.get(policy_name).source == "entry point dyad-working==2.0"


def test_an_installed_project_wins_over_its_folder_copy(
    tmp_path, monkeypatch, restore_sys_modules, no_plugin_warnings
):
    module_name = unique("both_places")
    policy_name = unique("both")
    site, folder = tmp_path / "site", tmp_path / "plugins"
    write(site / f"{module_name}.py", policy_module(policy_name))
    install_fake_distribution(site, "dyad-both", "1.0", {"both": module_name})
    write(
        folder / "dyad-both" / "pyproject.toml",
        f"""
        [project]
        name = "dyad_both"
        [project.entry-points."dyad.policies"]
        both = "{module_name}"
        """,
    )
    write(folder / "dyad-both" / f"{module_name}.py", policy_module(policy_name))
    monkeypatch.syspath_prepend(str(site))
    registry = load_registry([folder])
    assert registry.get(policy_name).source == "entry point dyad-both==1.0"


# -- dyad plugins list ---------------------------------------------------------------------


@pytest.fixture
def runner(tmp_path, monkeypatch):
    """CliRunner in an empty working folder (no ./plugins unless a test creates it)."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return CliRunner()


def test_plugins_list_shows_policies_and_parameters(runner):
    result = runner.invoke(cli, ["plugins", "list"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for name in ("perfect", "noisy", "lagged"):
        assert f"{name}  (built-in)" in out
    assert "q: float = 0.1   (0.0 <= q <= 1.0)" in out
    assert 'mode: "timestep" | "hold" | "exact" = "timestep"' in out
    assert "lag: int = 1   (0 <= lag <= 1000000)" in out
    assert "no parameters" in out
    assert "plugin paths loaded: none" in out
    assert result.stderr == ""


def test_plugins_list_json(runner):
    result = runner.invoke(cli, ["plugins", "list", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    policies = {p["name"]: p for p in document["policies"]}
    assert list(policies)[:3] == ["perfect", "noisy", "lagged"]
    assert policies["perfect"]["parameters"] == []
    q, mode = policies["noisy"]["parameters"]
    assert q == {
        "name": "q",
        "type": "float",
        "default": 0.1,
        "bounds": {"ge": 0.0, "le": 1.0},
        "description": Noisy.Params.model_fields["q"].description,
    }
    assert mode["choices"] == ["timestep", "hold", "exact"] and mode["default"] == "timestep"
    assert policies["lagged"]["source"] == "built-in"
    assert document["warnings"] == [] and document["plugin_dirs"] == []


def test_plugins_list_with_a_plugin_folder_and_broken_plugins(runner, tmp_path):
    folder = tmp_path / "extra"
    name = unique("listed")
    path = write(folder / "listed.py", policy_module(name))
    write(folder / "broken.py", "raise ValueError('bad plugin')\n")
    write(folder / "misspelled.py", BROKEN_PLUGINS["misspelled.py"])
    result = runner.invoke(cli, ["plugins", "list", "--plugins-dir", str(folder)])
    assert result.exit_code == 0, result.output
    assert f"{name}  (file {path})" in result.stdout
    assert "strength: float = 0.5   (0 <= strength <= 1)" in result.stdout
    warning_lines = result.stderr.splitlines()
    assert len(warning_lines) == 2
    assert warning_lines[0].startswith(
        f'Warning: dyad plugin "broken.py" (file {folder / "broken.py"})'
    )
    assert "ValueError: bad plugin" in warning_lines[0]
    assert warning_lines[1].startswith('Warning: dyad plugin "misspelled.py"')
    # listing again in the same process (cached registry) still reports the problems
    again = runner.invoke(cli, ["plugins", "list", "--json", "--plugins-dir", str(folder)])
    assert again.stderr.splitlines() == warning_lines
    assert len(json.loads(again.stdout)["warnings"]) == 2


def test_the_working_folders_plugins_are_not_loaded_unless_named(runner, monkeypatch):
    """./plugins of whatever folder dyad starts in used to be imported unasked."""
    name = unique("default_folder")
    marker = Path("imported.txt")
    write(
        Path("plugins") / "here.py",
        policy_module(name) + f"\nopen({str(marker.resolve())!r}, 'w').close()\n",
    )
    result = runner.invoke(cli, ["plugins", "list", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert name not in {p["name"] for p in document["policies"]}
    assert document["plugin_dirs"] == []
    assert not marker.exists()
    # named with the environment variable, it loads
    monkeypatch.setenv("DYAD_PLUGINS_DIR", "plugins")
    result = runner.invoke(cli, ["plugins", "list", "--json"])
    document = json.loads(result.stdout)
    assert name in {p["name"] for p in document["policies"]}
    assert document["plugin_dirs"] == [str(Path("plugins").resolve())]
    assert marker.exists()


def test_plugins_list_duplicate_names_exit_2(runner, tmp_path):
    path = write(tmp_path / "extra" / "shadow.py", policy_module("lagged"))
    result = runner.invoke(cli, ["plugins", "list", "--plugins-dir", str(path.parent)])
    assert result.exit_code == 2
    assert f'Error: policy "lagged" is registered twice: by built-in and by file {path}' in (
        result.stderr
    )


def test_plugins_list_missing_folder_exit_2(runner, tmp_path):
    result = runner.invoke(cli, ["plugins", "list", "--plugins-dir", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


# -- safety ----------------------------------------------------------------------------------


def test_hooks_are_called_through_pluggys_hook_caller(tmp_path, monkeypatch):
    """The hook used to be called by hand (impl.function(**...)), bypassing pluggy."""
    import pluggy

    calls = []
    original = pluggy.HookCaller.__call__

    def counting(self, *args, **kwargs):
        calls.append(self.name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pluggy.HookCaller, "__call__", counting)
    name = unique("called")
    write(tmp_path / "called.py", policy_module(name))
    registry = load_registry([tmp_path], entry_points=False)
    assert name in registry.names()
    assert calls.count("dyad_register_policies") == 2  # built-ins and the plugin, one each


def test_load_plugins_variable_limits_installed_plugins(tmp_path, monkeypatch, restore_sys_modules):
    """$DYAD_LOAD_PLUGINS names the installed plugins to load; empty loads none."""
    broken = unique("broken_installed")
    working = unique("working_installed")
    policy_name = unique("chosen")
    write(tmp_path / f"{broken}.py", "raise ImportError('needs a GPU')\n")
    write(tmp_path / f"{working}.py", policy_module(policy_name))
    install_fake_distribution(tmp_path, "dyad-broken-two", "0.1", {"broken": broken})
    install_fake_distribution(tmp_path, "dyad-chosen", "2.0", {"chosen": working})
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("DYAD_LOAD_PLUGINS", "dyad-chosen")
    registry = load_registry(strict=True)
    assert policy_name in registry.names() and not registry.problems
    monkeypatch.setenv("DYAD_LOAD_PLUGINS", "")
    assert policy_name not in load_registry(strict=True).names()
    monkeypatch.delenv("DYAD_LOAD_PLUGINS")
    with pytest.raises(PluginError, match=r'dyad plugin "broken" \(entry point dyad-broken-two'):
        load_registry(strict=True)


def test_a_plugin_file_can_be_named_directly(tmp_path, no_plugin_warnings):
    name = unique("direct")
    path = write(tmp_path / "direct.py", policy_module(name))
    write(tmp_path / "other.py", "raise RuntimeError('not named, not imported')\n")
    registry = load_registry([path], entry_points=False, strict=True)
    assert registry.get(name).source == f"file {path}"
    with pytest.raises(PluginError, match="expected a .py file or a folder"):
        load_registry([write(tmp_path / "notes.txt", "")], entry_points=False)


def test_manifest_hash_of_a_file_plugin_is_the_files_sha256(tmp_path):
    import hashlib

    name = unique("hashed")
    path = write(tmp_path / "hashed.py", policy_module(name))
    registry = load_registry([path], entry_points=False)
    assert registry.provenance([name]) == {
        name: {
            "source": f"file {path}",
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "files": [str(path)],
        }
    }
    builtin = registry.provenance(["perfect"])["perfect"]
    policies_file = Path(__file__).resolve().parents[1] / "dyad" / "policies.py"
    assert builtin["sha256"] == hashlib.sha256(policies_file.read_bytes()).hexdigest()


def test_entry_point_plugins_are_hashed_too(tmp_path, monkeypatch, restore_sys_modules):
    import hashlib

    module_name = unique("installed_hashed")
    policy_name = unique("installed_hashed")
    path = write(tmp_path / f"{module_name}.py", policy_module(policy_name))
    install_fake_distribution(tmp_path, "dyad-hashed", "1.0", {"h": module_name})
    monkeypatch.syspath_prepend(str(tmp_path))
    entry = load_registry().get(policy_name)
    assert entry.source == "entry point dyad-hashed==1.0"
    assert entry.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_plugin_project_folder_can_be_named_itself(no_plugin_warnings):
    project = Path(__file__).resolve().parents[1] / "plugins" / "dyad-reaction-delay"
    registry = load_registry([project], entry_points=False, strict=True)
    entry = registry.get("reaction_delay")
    assert entry.source == f"file {project / 'dyad_reaction_delay.py'}"
    assert entry.policy_class.__module__ == "dyad_reaction_delay"  # as a project, not a file
