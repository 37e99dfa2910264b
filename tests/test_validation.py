"""The one validation system reports the same problems however a config is built.

The one validation system: configs built in Python and nested in a scenario report the same
one-line problems, each naming the dotted field, what was expected and the value given.
"""

import dataclasses

import numpy as np
import pytest

from dyad.brain.mirror import MirrorConfig
from dyad.brain.visnet import VisNetConfig
from dyad.config import validate_scenario
from dyad.errors import ConfigError
from dyad.faces import TransformConfig


def test_a_config_built_in_python_names_the_field_and_the_value():
    with pytest.raises(ConfigError) as info:
        MirrorConfig(slope=-1.0)
    assert info.value.problems == ["slope: Input should be greater than 0 (got -1.0)"]


def test_the_same_field_in_a_scenario_carries_the_file_and_the_dotted_path():
    with pytest.raises(ConfigError) as info:
        validate_scenario({"name": "x", "mirror": {"slope": -1.0}}, source="s.toml")
    assert info.value.problems == [
        "s.toml: mirror.slope: Input should be greater than 0 (got -1.0)"
    ]


def test_per_layer_values_report_their_index_once():
    """'auto' or a tuple: one error at the element's own path, not one per union branch."""
    with pytest.raises(ConfigError) as info:
        VisNetConfig.small(sparseness=(0.9, 1.0, 0.9, 0.9))
    assert info.value.problems == ["sparseness.1: Input should be less than 1 (got 1.0)"]
    with pytest.raises(ConfigError, match="sparseness: Input should be 'auto'"):
        VisNetConfig.small(sparseness="half")


def test_one_value_or_one_per_layer_reports_one_problem():
    """The conscience: one γ, one per layer or "auto"; a wrong value is one line at its path."""
    assert VisNetConfig.small(conscience=0.01).layer_conscience(3) == 0.01
    assert VisNetConfig.small(conscience=[0, 0, 0.1, 0.1]).layer_conscience(2) == 0.1
    for bad, problem in (
        (-1.0, "conscience: Input should be greater than or equal to 0 (got -1.0)"),
        ((0.1, -1.0, 0.0, 0.0), "conscience.1: Input should be greater than or equal to 0"),
        ("x", "conscience: Input should be 'auto' (got 'x')"),  # a string: "auto" or nothing
        ((0.1, 0.1), "conscience: expected one number or 4 (one per layer), got (0.1, 0.1)"),
    ):
        with pytest.raises(ConfigError) as info:
            VisNetConfig.small(conscience=bad)
        (line,) = info.value.problems
        assert line.startswith(problem), line


def test_booleans_are_not_numbers_and_floats_are_not_integers():
    for bad in ({"n_neurons": True}, {"n_neurons": 64.0}, {"slope": True}):
        with pytest.raises(ConfigError, match=f"^{next(iter(bad))}: expected"):
            MirrorConfig(**bad)


def test_numeric_strings_and_numpy_scalars_are_read_as_numbers():
    """As everywhere in a scenario (run.steps = "8000" is 8000)."""
    config = MirrorConfig(n_neurons=np.int64(64), slope=np.float32(0.5), learning_rate="0.02")
    assert config.n_neurons == 64 and type(config.n_neurons) is int
    assert config.learning_rate == 0.02
    scenario = validate_scenario(
        {"name": "x", "run": {"steps": "80"}, "mirror": {"n_neurons": "64"}}
    )
    assert scenario.run.steps == 80 and scenario.mirror.n_neurons == 64


def test_replace_validates_and_configs_stay_frozen():
    config = TransformConfig()
    assert dataclasses.replace(config, noise=1.0).noise == 1.0
    with pytest.raises(ConfigError, match="^noise: "):
        dataclasses.replace(config, noise=-1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.noise = 2.0  # type: ignore[misc]


def test_a_nested_config_is_validated_once():
    """A config given as an instance is taken as is, not rebuilt (it was validated when built)."""
    transforms = TransformConfig(noise=1.0)
    scenario = validate_scenario({"name": "x", "vision": {"faces": {"transforms": transforms}}})
    assert scenario.vision.faces.transforms is transforms
