"""``dyad.live_view``: the live page for a notebook, built from the same keywords as simulate.

The page in a real notebook (JupyterLab in Chromium) is tested in ``test_notebook_view.py``;
these tests check what the function builds and refuses, without a browser.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import dyad

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import tiny_scenario_raw  # noqa: E402

solara = pytest.importorskip("solara", reason="the live view needs the extra viz")


@pytest.fixture(scope="module")
def view(cache_dir):
    return dyad.live_view(
        tiny_scenario_raw(),
        seed=3,
        overrides={"parent.policy": "noisy", "parent.params.q": 0.2},
        cache_dir=cache_dir,
        probe_every=20,
        progress=False,
    )


def test_the_view_holds_the_model_its_page_shows(view):
    model = view.model
    assert isinstance(model, dyad.model.DyadModel)
    assert (model.seed, model.steps, model.n_steps) == (3, 0, 200)
    assert model.config.parent.policy == "noisy" and model.config.parent.params == {"q": 0.2}
    assert view.page.kwargs["model"].value is model  # a solara.reactive the page resets
    assert repr(view) == "<dyad live view of 'tiny' (seed 3), t = 0>"
    model.step()
    assert view.model.steps == 1 and "t = 1" in repr(view)


def test_the_pages_controls_keep_the_overrides_and_the_cache(view, cache_dir):
    params = view.page.kwargs["model_params"]
    # fixed across resets: the scenario as given, its overrides and the cache
    assert params["scenario_file"]["name"] == "tiny"
    assert params["parent.policy"]["value"] == "noisy"  # a control, starting from the override
    assert params["parent.params.q"]["value"] == 0.2
    assert params["cache_dir"] == str(cache_dir)
    assert params["probe_every"]["value"] == 20
    assert view.page.kwargs["name"] == "dyad: tiny"
    # resetting builds the model the page would build from these parameters
    fixed = {k: v for k, v in params.items() if not isinstance(v, dict) or "type" not in v}
    chosen = {k: v["value"] for k, v in params.items() if isinstance(v, dict) and "type" in v}
    again = type(view.model)(**fixed, **chosen)
    assert again.config.parent.policy == "noisy" and again.config.parent.params["q"] == 0.2
    assert again.seed == 3 and again.probe_every == 20


def test_the_page_renders(view):
    solara.render(view.page, handle_error=False)


def test_the_classes_chart_keeps_every_class_in_sight(cache_dir):
    """Most classes are 0 at most probes: each is drawn thinner and above the one before it."""
    from dyad.analysis import NEURON_CLASSES
    from dyad.analysis.figures import CLASS_COLOURS
    from dyad.view.panels import classes_figure

    model = dyad.live_view(
        tiny_scenario_raw(), seed=3, cache_dir=cache_dir, probe_every=20, progress=False
    ).model
    for _ in range(45):  # past two probes (every 20 timesteps)
        model.step()
    axes = classes_figure(model).axes[0]
    lines = {line.get_label(): line for line in axes.get_lines()}
    drawn = [lines[name] for name in NEURON_CLASSES]
    assert [line.get_color() for line in drawn] == [CLASS_COLOURS[n] for n in NEURON_CLASSES]
    widths = [line.get_linewidth() for line in drawn]
    orders = [line.get_zorder() for line in drawn]
    assert widths == sorted(widths, reverse=True) and len(set(widths)) == len(drawn)
    assert orders == sorted(orders) and len(set(orders)) == len(drawn)


def test_a_scenario_object_gives_the_same_model(cache_dir):
    scenario = dyad.load_scenario(tiny_scenario_raw())
    view = dyad.live_view(scenario, seed=3, cache_dir=cache_dir, progress=False)
    assert view.model.config == scenario


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"overrides": {"run.steps": -5}}, r"run\.steps: Input should be greater than 0"),
        ({"seed": -1}, "seed: expected a non-negative integer"),
        ({"play_interval": 20}, r"play_interval: expected an integer >= 100, got 20"),
        ({"probe_every": 0}, r"probe_every: expected an integer >= 1, got 0"),
    ],
)
def test_bad_input_is_one_of_dyads_errors(cache_dir, kwargs, message):
    with pytest.raises(dyad.ConfigError, match=message):
        dyad.live_view(tiny_scenario_raw(), cache_dir=cache_dir, progress=False, **kwargs)


def test_without_the_viz_extra_it_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "solara", None)  # as if not installed
    with pytest.raises(ImportError, match=r"^dyad.live_view needs the optional extra viz: "):
        dyad.live_view("perfect")


def test_the_visual_system_of_the_runs_seed_is_prepared_first(cache_dir, monkeypatch):
    import dyad.simulation

    prepared = []
    real = dyad.simulation.cached_vision

    def recording(*args, **kwargs):
        prepared.append(kwargs.get("run_seed"))
        return real(*args, **kwargs)

    monkeypatch.setattr(dyad.simulation, "cached_vision", recording)
    raw = tiny_scenario_raw(vision={"vary_with_run_seed": True})
    view = dyad.live_view(raw, seed=5, cache_dir=cache_dir, progress=False)
    assert prepared[0] == 5  # with progress, before the page's model is built
    assert view.model.seed == 5
