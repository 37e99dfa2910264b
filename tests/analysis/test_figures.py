"""Figures: neuron ordering, the aggregations behind each figure, and the files written."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from dyad.analysis.figures import (
    condition_means,
    neuron_groups,
    order_neurons,
    outcome_shares,
    plot_class_counts,
    plot_firing_rates,
    plot_information_curves,
    plot_interaction,
    plot_outcome_shares,
    run_outcomes,
)
from dyad.errors import ResultsError

NAN = float("nan")
# neuron, class, preferred_visual, preferred_motor, d_visual, d_motor
NEURON_ROWS = [
    (0, "unselective", "happy", "sad", 0.1, -0.2),  # motor |d| larger -> sad, 0.2
    (1, "mirror", "sad", "sad", -0.5, -0.7),  # sad, 0.6
    (2, "visual-only", "happy", "sad", 0.8, -0.1),  # happy, 0.8
    (3, "mirror", "happy", "happy", 0.4, 0.4),  # happy, 0.4
    (4, "anti-mirror", "sad", "happy", -0.6, 0.6),  # sad (visual), 0.6
    (5, "motor-only", "happy", "sad", 0.05, -0.9),  # sad (motor), 0.9
    (6, "mirror", "happy", "happy", 0.9, 0.7),  # happy, 0.8
    (7, "bimodal-unselective", None, None, 0.1, 0.0),  # no preference -> last, 0.1
    (8, "anti-mirror", "happy", "sad", 0.3, -0.3),  # happy, 0.3
    (9, "motor-only", "sad", "happy", 0.2, 0.5),  # happy (motor), 0.5
    (10, "mirror", "happy", "happy", 0.4, 0.4),  # ties with 3 -> by id
    (11, "bimodal-unselective", "happy", "happy", 0.2, 0.1),  # happy (visual), 0.2
    (12, "unselective", "happy", "sad", 0.3, -0.3),  # equal |d| -> visual: happy, 0.3
    (13, "visual-only", "sad", None, -0.5, NAN),  # sad, 0.5
]
EXPECTED_ORDER = [6, 3, 10, 1, 8, 4, 2, 13, 9, 5, 11, 7, 12, 0]
EXPECTED_ORDER_SAD_FIRST = [1, 6, 3, 10, 4, 8, 13, 2, 5, 9, 11, 7, 0, 12]


def neuron_table(shuffle_seed: int | None = 1) -> pd.DataFrame:
    table = pd.DataFrame(
        NEURON_ROWS,
        columns=[
            "neuron",
            "neuron_class",
            "preferred_visual",
            "preferred_motor",
            "d_visual",
            "d_motor",
        ],
    )
    if shuffle_seed is not None:  # row order must not matter
        table = table.sample(frac=1.0, random_state=shuffle_seed).reset_index(drop=True)
    return table


# --------------------------------------------------------------------------------------------
# ordering


def test_order_neurons_follows_class_expression_and_selectivity():
    order = order_neurons(neuron_table())
    assert order.tolist() == EXPECTED_ORDER


def test_order_neurons_uses_the_given_expression_order():
    order = order_neurons(neuron_table(), expressions=("sad", "happy"))
    assert order.tolist() == EXPECTED_ORDER_SAD_FIRST


def test_order_neurons_default_expressions_come_from_categories():
    table = neuron_table()
    for column in ("preferred_visual", "preferred_motor"):
        table[column] = pd.Categorical(table[column], categories=["sad", "happy"])
    assert order_neurons(table).tolist() == EXPECTED_ORDER_SAD_FIRST


def test_neuron_groups_split_mirror_cells_by_expression():
    groups = neuron_groups(neuron_table())
    assert groups[6] == "mirror: happy" and groups[1] == "mirror: sad"
    assert groups[4] == "anti-mirror" and groups[7] == "bimodal-unselective"
    in_order = groups.reindex(order_neurons(neuron_table())).tolist()
    assert list(dict.fromkeys(in_order)) == [
        "mirror: happy",
        "mirror: sad",
        "anti-mirror",
        "visual-only",
        "motor-only",
        "bimodal-unselective",
        "unselective",
    ]


def test_order_neurons_rejects_bad_input():
    table = neuron_table()
    with pytest.raises(ResultsError, match="'d_motor'"):
        order_neurons(table.drop(columns="d_motor"))
    odd = table.copy()
    odd.loc[0, "neuron_class"] = "mirror-ish"
    with pytest.raises(ResultsError, match="unknown class.*mirror-ish"):
        order_neurons(odd)
    with pytest.raises(ResultsError, match="'preferred_visual' holds expression.*'happy'"):
        order_neurons(table, expressions=("sad", "fear"))
    two_phases = pd.concat([table.assign(phase="before"), table.assign(phase="after")])
    with pytest.raises(ResultsError, match="several phases"):
        order_neurons(two_phases)


# --------------------------------------------------------------------------------------------
# firing-rate figure


def responses_and_neurons() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Six neurons, three trials; after training neurons 0-2 are happy, 3-5 sad mirror cells."""
    rows = []
    for phase in ("before", "after"):
        for condition in ("visual", "motor"):
            for e, expression in enumerate(("happy", "sad")):
                for trial in range(3):
                    if phase == "before":
                        rates = np.full(6, 0.2 + 0.1 * trial)
                    else:
                        prefers = np.arange(6) // 3 == e
                        rates = np.where(prefers, 0.9, 0.1) + 0.01 * trial
                    for neuron, rate in enumerate(rates):
                        rows.append((phase, condition, expression, trial, neuron, rate))
    responses = pd.DataFrame(
        rows, columns=["phase", "condition", "expression", "trial", "neuron", "rate"]
    )
    happy = np.arange(6) < 3
    after = pd.DataFrame(
        {
            "phase": "after",
            "neuron": np.arange(6),
            "neuron_class": "mirror",
            "preferred_visual": np.where(happy, "happy", "sad"),
            "preferred_motor": np.where(happy, "happy", "sad"),
            "d_visual": np.where(happy, 0.8, -0.8),
            "d_motor": np.where(happy, 0.8, -0.8),
        }
    )
    before = after.assign(
        phase="before",
        neuron_class="unselective",
        preferred_visual=None,
        preferred_motor=None,
        d_visual=0.0,
        d_motor=0.0,
    )
    return responses, pd.concat([before, after], ignore_index=True)


def assert_image(path, formats=("png",)):
    assert path.exists() and path.stat().st_size > 0
    if path.suffix == ".png":
        pixels = np.asarray(Image.open(path).convert("RGB"), dtype=float)
        assert pixels.shape[0] > 200 and pixels.shape[1] > 200
        assert pixels.std() > 10  # not a blank canvas


def test_condition_means_rows_are_visual_then_motor_per_expression():
    responses, _ = responses_and_neurons()
    means, expressions = condition_means(responses)
    assert expressions == ["happy", "sad"]
    after = means["after"]
    assert list(after.index) == [
        ("visual", "happy"),
        ("visual", "sad"),
        ("motor", "happy"),
        ("motor", "sad"),
    ]
    np.testing.assert_allclose(after.loc[("motor", "sad")].to_numpy(), [0.11] * 3 + [0.91] * 3)
    np.testing.assert_allclose(means["before"].to_numpy(), 0.3)


def test_plot_firing_rates_writes_png_and_svg(tmp_path):
    responses, neurons = responses_and_neurons()
    paths = plot_firing_rates(
        responses, neurons, tmp_path / "figs" / "firing_rates", formats=("png", "svg")
    )
    assert [p.name for p in paths] == ["firing_rates.png", "firing_rates.svg"]
    for path in paths:
        assert_image(path)
    svg = paths[1].read_text()
    # panel titles, row labels and per-phase block sizes (before -> after) are in the figure
    for text in ("before training", "after training", "produced sad", "mirror: happy (0 → 3)"):
        assert text in svg
    assert "unselective (6 → 0)" in svg


def test_plot_firing_rates_is_reproducible(tmp_path):
    responses, neurons = responses_and_neurons()
    first = plot_firing_rates(responses, neurons, tmp_path / "a.png", formats=("png", "svg"))
    second = plot_firing_rates(responses, neurons, tmp_path / "b", formats=("png", "svg"))
    for one, two in zip(first, second, strict=True):
        assert one.read_bytes() == two.read_bytes()


def test_plot_firing_rates_rejects_bad_input(tmp_path):
    responses, neurons = responses_and_neurons()
    with pytest.raises(ResultsError, match="test_responses: missing column.*'rate'"):
        plot_firing_rates(responses.drop(columns="rate"), neurons, tmp_path / "x")
    with pytest.raises(ResultsError, match="neurons: missing column.*'neuron_class'"):
        plot_firing_rates(responses, neurons.drop(columns="neuron_class"), tmp_path / "x")
    with pytest.raises(ResultsError, match="no rows for phase"):
        plot_firing_rates(responses, neurons[neurons["phase"] == "after"], tmp_path / "x")
    with pytest.raises(ResultsError, match="disagree on the neurons"):
        plot_firing_rates(responses[responses["neuron"] != 5], neurons, tmp_path / "x")
    with pytest.raises(ValueError, match="formats"):
        plot_firing_rates(responses, neurons, tmp_path / "x", formats=("jpg",))
    assert not list(tmp_path.iterdir())


# --------------------------------------------------------------------------------------------
# information curves


def test_plot_information_curves_from_per_stimulus_rows(tmp_path):
    rng = np.random.default_rng(0)
    rows = []
    for network, scale in (("trained", 1.0), ("untrained", 0.3)):
        for stimulus in ("happy", "sad"):
            rows.append(
                pd.DataFrame(
                    {
                        "cell": np.arange(30),
                        "stimulus": stimulus,
                        "information": scale * rng.random(30),
                        "network": network,
                    }
                )
            )
    paths = plot_information_curves(
        pd.concat(rows), tmp_path / "info", max_bits=1.0, formats=("png", "pdf")
    )
    assert [p.suffix for p in paths] == [".png", ".pdf"]
    for path in paths:
        assert_image(path)


def test_plot_information_curves_with_ranks_and_hue(tmp_path):
    info = pd.DataFrame(
        {
            "cell_rank": np.tile(np.arange(10), 4),
            "information": np.tile(np.linspace(1, 0, 10), 4),
            "network": np.repeat(["trained", "untrained"], 20),
            "modality": np.tile(np.repeat(["visual", "motor"], 10), 2),
        }
    )
    (path,) = plot_information_curves(info, tmp_path / "info.png", max_bits=1.0, hue="modality")
    assert_image(path)
    with pytest.raises(ResultsError, match="'network'"):
        plot_information_curves(info.drop(columns="network"), tmp_path / "x", max_bits=1.0)
    with pytest.raises(ResultsError, match="'cell_rank'"):
        plot_information_curves(info.drop(columns="cell_rank"), tmp_path / "x", max_bits=1.0)
    with pytest.raises(ValueError, match="max_bits"):
        plot_information_curves(info, tmp_path / "x", max_bits=0.0)


# --------------------------------------------------------------------------------------------
# sweeps


def sweep_runs() -> pd.DataFrame:
    """Two seeds per q; mirror-dominant at q = 0, anti at q = 1, split at q = 0.5."""
    rows = [
        # q, seed, mirror, anti-mirror, visual-only, motor-only, bimodal, unselective
        (0.0, 0, 90, 0, 5, 5, 0, 0),
        (0.0, 1, 80, 5, 5, 5, 0, 5),
        (0.5, 0, 55, 40, 5, 0, 0, 0),
        (0.5, 1, 10, 15, 40, 35, 0, 0),
        (1.0, 0, 0, 95, 0, 5, 0, 0),
        (1.0, 1, 40, 45, 10, 5, 0, 0),  # anti outnumbers mirror but is not half of all cells
    ]
    columns = ["q", "seed", "mirror", "anti-mirror", "visual-only", "motor-only"]
    columns += ["bimodal-unselective", "unselective"]
    return pd.DataFrame(rows, columns=columns)


def test_run_outcomes_and_shares():
    runs = sweep_runs()
    assert run_outcomes(runs).tolist() == [
        "mirror",
        "mirror",
        "mirror",
        "neither",
        "anti-mirror",
        "neither",
    ]
    shares = outcome_shares(runs, "q")
    assert shares["q"].tolist() == [0.0, 0.5, 1.0]
    assert shares["mirror"].tolist() == [1.0, 0.5, 0.0]
    assert shares["anti-mirror"].tolist() == [0.0, 0.0, 0.5]
    assert shares["neither"].tolist() == [0.0, 0.5, 0.5]
    assert shares["n_runs"].tolist() == [2, 2, 2]
    # a 'dominant' column from the run summaries wins over recounting
    given = runs.assign(dominant=["neither"] * 6)
    assert (run_outcomes(given) == "neither").all()


def test_plot_class_counts_single_panel_and_series(tmp_path):
    runs = sweep_runs()
    (single,) = plot_class_counts(runs, "q", tmp_path / "counts", formats=("svg",))
    assert single.suffix == ".svg" and "anti-mirror" in single.read_text()
    pooled = pd.concat([runs.assign(series="noise"), runs.assign(series="lag")])
    pooled = pooled.rename(columns={"q": "congruence"})
    (path,) = plot_class_counts(pooled, "congruence", tmp_path / "pooled")
    assert_image(path)
    # numeric series values (e.g. a second grid axis) are labels: every series is drawn
    by_lag = pd.concat([runs.assign(lag=3), runs.assign(lag=7)])
    (svg,) = plot_class_counts(by_lag, "q", tmp_path / "by_lag", formats=("svg",), series="lag")
    text = svg.read_text()
    assert "lag (n = 2 seeds per point)" in text
    assert ">3</text>" in text and ">7</text>" in text  # both series reach the legend
    with pytest.raises(ResultsError, match="'lag'"):
        plot_class_counts(runs, "lag", tmp_path / "x")
    with pytest.raises(ResultsError, match="no neuron-class columns"):
        plot_class_counts(runs[["q", "seed"]], "q", tmp_path / "x")


def test_plot_outcome_shares_single_panel_and_series(tmp_path):
    runs = sweep_runs()
    (path,) = plot_outcome_shares(runs, "q", tmp_path / "outcomes")
    assert_image(path)
    pooled = pd.concat([runs.assign(series="noise"), runs.assign(series="lag")])
    (path,) = plot_outcome_shares(pooled, "q", tmp_path / "outcomes_pooled")
    assert_image(path)
    with pytest.raises(ResultsError, match="'anti-mirror'"):
        plot_outcome_shares(runs.drop(columns="anti-mirror"), "q", tmp_path / "x")


# --------------------------------------------------------------------------------------------
# interaction timeline


def interaction_table(n: int = 300) -> pd.DataFrame:
    t = np.arange(n)
    infant = np.where((t // 10) % 2 == 0, "happy", "sad")
    parent = np.roll(infant, 3)
    return pd.DataFrame(
        {
            "t": t,
            "infant_expression": infant,
            "parent": "mother",
            "parent_expression": parent,
            "congruent": infant == parent,
            "mirror_mean_rate": (0.2 + 0.05 * np.sin(t / 5)).astype(np.float32),
        }
    )


def test_plot_interaction(tmp_path):
    paths = plot_interaction(interaction_table(), tmp_path / "interaction", formats=("png", "svg"))
    for path in paths:
        assert_image(path)
    svg = paths[1].read_text()
    # lag 3 with holds of 10: 7 of each 10 steps congruent over the first 200 timesteps
    assert "congruence 0.70 over the 200 timesteps shown" in svg
    with pytest.raises(ResultsError, match="'congruent'"):
        plot_interaction(interaction_table().drop(columns="congruent"), tmp_path / "x")
    with pytest.raises(ResultsError, match=r"holds \['sad'\] not among \['happy'\]"):
        plot_interaction(interaction_table(), tmp_path / "x", expressions=("happy",))
