"""``dyad view``'s input checks and the page's model parameters (no browser needed)."""

from __future__ import annotations

import socket
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from dyad.cli import cli

solara = pytest.importorskip("solara", reason="the live view needs the extra viz")


def test_view_without_the_viz_extra_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "solara", None)  # as if not installed
    result = CliRunner().invoke(cli, ["view", "perfect"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "Error: dyad view needs the optional extra viz: uv sync --extra viz "
        "(or pip install 'dyad[viz]' in your environment)"
    ]


def test_view_of_an_unknown_scenario_is_one_line_and_exit_2():
    result = CliRunner().invoke(cli, ["view", "no_such_scenario"])
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: no_such_scenario: no such scenario file or shipped scenario")


def test_view_with_a_bad_override_names_the_field():
    result = CliRunner().invoke(cli, ["view", "perfect", "--set", "run.steps=-3"])
    assert result.exit_code == 2
    assert "run.steps: Input should be greater than 0 (got -3)" in result.stderr


def test_view_on_a_taken_port_is_bad_input():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["view", "perfect", "--port", str(port)])
    assert result.exit_code == 2
    assert f"--port {port}: cannot listen on 127.0.0.1:{port}" in result.stderr


def test_model_params_offer_every_policy_and_its_parameters(tmp_path):
    from dyad.config import load_scenario
    from dyad.config.reading import find_scenario
    from dyad.view.controls import model_params

    scenario = load_scenario(find_scenario("lagged"))
    params = model_params(scenario, "lagged", seed=1, plugin_dirs=[])
    assert params["scenario_file"] == "lagged"
    assert params["parent.policy"]["type"] == "Select"
    assert params["parent.policy"]["value"] == "lagged"
    assert {"perfect", "noisy", "lagged"} <= set(params["parent.policy"]["values"])
    lag = params["parent.params.lag"]
    assert (lag["type"], lag["value"], lag["min"], lag["label"]) == (
        "SliderInt",
        3,
        0,
        "lag (lagged)",
    )
    q = params["parent.params.q"]
    assert (q["type"], q["value"], q["min"], q["max"]) == ("SliderFloat", 0.1, 0.0, 1.0)
    mode = params["parent.params.mode"]
    assert mode["type"] == "Select" and mode["values"] == ["timestep", "hold", "exact"]
    assert params["seed"]["value"] == 1 and params["run.steps"]["value"] == 2000


def test_view_model_passes_on_only_the_selected_policys_parameters(tmp_path, cache_dir):
    from dyad.view.controls import ViewModel

    path = tmp_path / "lagged_tiny.toml"
    path.write_text(
        'name = "lagged_tiny"\n[run]\nsteps = 30\ntest_trials = 8\n'
        '[parent]\npolicy = "lagged"\n[parent.params]\nlag = 3\n'
        '[vision]\npreset = "small"\nn_train_transforms = 8\nn_test_transforms = 8\n'
        "bank_size = 16\n[vision.visnet]\nepochs = [1, 1, 1, 1]\n[mirror]\nn_neurons = 32\n"
    )
    controls = {"parent.params.q": 0.3, "parent.params.mode": "hold", "parent.params.lag": 5}
    model = ViewModel(
        str(path),
        seed=0,
        cache_dir=cache_dir,
        plugin_dirs=[],
        **{"parent.policy": "noisy"},
        **controls,
    )
    policy = model.parents[0].policy
    assert model.parents[0].policy_name == "noisy"
    assert policy.params.model_dump() == {"q": 0.3, "mode": "hold"}
    model = ViewModel(
        str(path),
        seed=0,
        cache_dir=cache_dir,
        plugin_dirs=[],
        **{"parent.policy": "lagged"},
        **controls,
    )
    assert model.parents[0].policy.params.model_dump() == {"lag": 5}


def test_mirror_image_shows_recent_rates_by_class(cache_dir, tiny_raw):
    from dyad.analysis import NEURON_CLASSES
    from dyad.model import DyadModel
    from dyad.view.panels import _CLASS_RGB, COLUMN_WIDTH, STRIP_WIDTH, VIRIDIS, mirror_image

    model = DyadModel(scenario_file=tiny_raw(), seed=1, cache_dir=cache_dir, probe_every=20)
    model.run_for(45)
    image = mirror_image(model)
    rows_per_neuron = 256 // 32
    assert image.shape == (256, STRIP_WIDTH + 4 + 60 * COLUMN_WIDTH, 3)
    order = model.neuron_order()
    for row, neuron in enumerate(order):
        pixel_row = row * rows_per_neuron
        code = NEURON_CLASSES.index(model.neuron_class[neuron])
        assert (image[pixel_row, 0] == _CLASS_RGB[code]).all()
        # the newest timestep is the rightmost column, coloured by the neuron's rate
        level = int(np.clip(model.infant.rates[neuron] * 255, 0, 255))
        assert (image[pixel_row, -1] == VIRIDIS[level]).all()
    # timesteps before t = 0 (60 shown, 45 run) are blank
    assert (image[:, STRIP_WIDTH + 4] == 255).all()
