"""Figures: neuron ordering, the aggregations behind each figure, and the files written."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from dyad.analysis.figures import (
    condition_means,
    draw_class_counts,
    draw_firing_rates,
    draw_information_curves,
    draw_interaction,
    draw_outcome_shares,
    draw_run_figures,
    neuron_groups,
    order_neurons,
    outcome_shares,
    parent_means,
    plot_class_counts,
    plot_firing_rates,
    plot_information_curves,
    plot_interaction,
    plot_outcome_shares,
    run_outcomes,
    x_segments,
)
from dyad.analysis.figures.run import title_of_run
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
    # each share with its 95 % Wilson interval: 2 of 2 is 0.34-1, 1 of 2 is 0.09-0.91
    assert shares["mirror_low"].round(2).tolist() == [0.34, 0.09, 0.0]
    assert shares["mirror_high"].round(2).tolist() == [1.0, 0.91, 0.66]
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


def policy_runs() -> pd.DataFrame:
    """A label axis (the policy): three mirror seeds for one, a split for the other."""
    rows = [
        ("perfect", 0, 100, 0),
        ("perfect", 1, 100, 0),
        ("perfect", 2, 100, 0),
        ("yoked", 0, 100, 0),
        ("yoked", 1, 0, 100),
        ("yoked", 2, 0, 0),
    ]
    runs = pd.DataFrame(rows, columns=["policy", "seed", "mirror", "anti-mirror"])
    return runs.assign(**{"visual-only": 100 - runs["mirror"] - runs["anti-mirror"]})


def test_a_label_axis_gets_dots_per_seed_and_outcome_bars():
    """A swept policy is a label: no line through it, but each seed and each outcome's share."""
    runs = policy_runs()
    figure = draw_class_counts(runs, "policy", title="yoked_control")
    axes = figure.axes[0]
    assert [t.get_text() for t in axes.get_xticklabels()] == ["perfect", "yoked"]
    dots = [c for c in axes.collections if type(c).__name__ == "PathCollection"]
    assert sum(len(c.get_offsets()) for c in dots) == 3 * len(runs)  # one per seed and class
    mean_bars = [c for c in axes.collections if type(c).__name__ == "LineCollection"]
    # perfect: mirror 100, anti 0, visual 0; yoked: 33.3 each
    means = sorted(round(float(c.get_segments()[0][0][1]), 1) for c in mean_bars)
    assert means == [0.0, 0.0, 33.3, 33.3, 33.3, 100.0]
    assert "n = 3 seeds per policy" in axes.get_legend().get_title().get_text()

    figure = draw_outcome_shares(runs, "policy")
    axes = figure.axes[0]
    assert [t.get_text() for t in axes.get_yticklabels()] == ["perfect", "yoked"]
    labels = sorted(t.get_text() for t in axes.texts)
    assert labels == ["1/3", "1/3", "1/3", "3/3"]  # every seed counted in its outcome
    widths = [(round(p.get_y(), 1), round(p.get_width(), 3)) for p in axes.patches]
    assert (-0.3, 1.0) in widths and widths.count((0.7, 0.333)) == 3


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
    with pytest.raises(ResultsError, match="'congruent'"):
        plot_interaction(interaction_table().drop(columns="congruent"), tmp_path / "x")
    with pytest.raises(ResultsError, match=r"holds \['sad'\] not among \['happy'\]"):
        plot_interaction(interaction_table(), tmp_path / "x", expressions=("happy",))


def test_interaction_figure_covers_the_whole_run_without_a_mean_rate_trace():
    table = interaction_table(2000).assign(
        visual_drive=np.linspace(9.0, 11.0, 2000), motor_drive=np.full(2000, 7.8)
    )
    figure = draw_interaction(table, title="lagged · seed 1 · c = 0.70")
    bands, congruence, drives = figure.axes
    assert figure._suptitle.get_text() == "lagged · seed 1 · c = 0.70"
    # every timestep is on the shared time axis, not the first 200
    assert bands.get_xlim() == pytest.approx((-0.5, 1999.5))
    assert congruence.get_xlim() == bands.get_xlim()
    assert "all 2,000" in drives.get_xlabel()
    # lag 3 with holds of 10: 7 of each 10 steps congruent, the dashed line at c
    labels = [line.get_label() for line in congruence.get_lines()]
    assert labels == ["congruence", "c = 0.70"]
    window = congruence.get_lines()[0].get_ydata()
    assert np.nanmean(window[100:-100]) == pytest.approx(0.7, abs=0.02)
    assert [line.get_label() for line in drives.get_lines()] == ["seen (visual)", "made (motor)"]
    assert not any("mean rate" in axes.get_ylabel() for axes in figure.axes)


def test_interaction_figure_has_a_congruence_line_per_parent():
    table = interaction_table(400)
    mother = (table["t"] // 20) % 2 == 0
    table = table.assign(
        parent=np.where(mother, "mother", "father"),
        congruent=np.where(mother, True, table["congruent"]),
    )
    figure = draw_interaction(table, window=40)
    bands, congruence = figure.axes  # no drive columns: no drive panel
    assert [t.get_text() for t in bands.get_yticklabels()] == [
        "infant",
        "parent",
        "who",
        "congruent",
    ]
    labels = [line.get_label() for line in congruence.get_lines()]
    assert labels[0] == "mother (1.00)" and labels[1].startswith("father (")
    # the mother's line at c = 1 stays inside the axes, clear of its frame
    assert congruence.get_ylim()[1] > 1.0


# --------------------------------------------------------------------------------------------
# titles, panels and limits of the figures themselves (matplotlib objects, not pixels)


def two_parent_responses() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The six-neuron responses with the visual trials shown by a mother and by a father."""
    responses, neurons = responses_and_neurons()
    visual = responses[responses["condition"] == "visual"]
    motor = responses[responses["condition"] == "motor"].assign(parent=None)
    father = visual.assign(parent="father", rate=visual["rate"] * 0.5)
    both = pd.concat([visual.assign(parent="mother"), father, motor], ignore_index=True)
    return both, neurons


def heat_maps(figure) -> list:
    """The heat-map panels of a firing-rate figure (axes with a y axis of row labels)."""
    return [a for a in figure.axes if a.get_images() and a.axison and a.get_yticks().size]


def test_firing_rate_figure_is_titled_and_has_one_heat_map_per_phase():
    responses, neurons = responses_and_neurons()
    figure = draw_firing_rates(responses, neurons, title="perfect · seed 1 · c = 1.00")
    assert figure._suptitle.get_text() == "perfect · seed 1 · c = 1.00"
    maps = heat_maps(figure)
    assert len(maps) == 2  # before, after
    assert [t.get_text() for t in maps[0].get_yticklabels()] == [
        "seen happy",
        "seen sad",
        "produced happy",
        "produced sad",
    ]
    titles = [a.get_title() for a in figure.axes if a.get_title()]
    assert titles == ["before training", "after training"]


def test_firing_rate_figure_has_a_panel_per_parent():
    responses, neurons = two_parent_responses()
    figure = draw_firing_rates(responses, neurons)
    maps = heat_maps(figure)
    assert len(maps) == 2 * 3  # (mother, father, infant's own) x (before, after)
    assert [a.get_ylabel() for a in maps[:3]] == ["mother", "father", "infant"]
    assert [t.get_text() for t in maps[1].get_yticklabels()] == ["seen happy", "seen sad"]
    # the father's panel holds the father's trials: half the mother's rates here
    mother = maps[3].get_images()[0].get_array()
    father = maps[4].get_images()[0].get_array()
    np.testing.assert_allclose(father, mother * 0.5)
    means = parent_means(responses, ["happy", "sad"])
    assert set(means["after"]) == {"mother", "father"}


def test_information_figure_gives_each_modality_its_own_panel():
    # a trained mirror layer: visual and motor curves identical, so one axes would hide one
    cells = np.arange(8)
    info = pd.concat(
        [
            pd.DataFrame(
                {"information": bits, "network": network, "modality": modality, "cell": cells}
            )
            for modality in ("visual", "motor")
            for network, bits in (("trained", np.full(8, 1.0)), ("untrained", cells / 10))
        ]
    )
    figure = draw_information_curves(
        info, max_bits=1.0, hue="modality", layer="mirror layer, 8 neurons", title="perfect"
    )
    panels = [a for a in figure.axes if a.get_lines()]
    assert len(panels) == 2
    assert [a.get_title() for a in panels] == ["seen expressions (visual)", "produced (motor)"]
    for axes in panels:
        assert len(axes.get_lines()) == 2  # trained and untrained, nothing underneath
        assert axes.get_xlabel() == "cell rank (mirror layer, 8 neurons)"
        assert axes.get_ylim() == pytest.approx((-0.05, 1.05))
    assert figure._suptitle.get_text() == "perfect"


def band_heights(axes) -> np.ndarray:
    """The y coordinates of every SD band (filled polygon) on ``axes``."""
    ys = [path.vertices[:, 1] for c in axes.collections for path in c.get_paths()]
    return np.concatenate(ys) if ys else np.array([])


def test_sweep_bands_stay_between_zero_and_the_number_of_neurons():
    runs = sweep_runs().assign(n_neurons=100)
    figure = draw_class_counts(runs, "q", title="noise_sweep · 2,000 timesteps")
    (axes,) = figure.axes
    heights = band_heights(axes)
    assert heights.size and heights.min() >= 0.0 and heights.max() <= 100.0
    # unclipped, q = 0.5 spans 32.5 ± 31.8 (mirror) and 27.5 ± 17.7 (anti-mirror)
    assert heights.min() == pytest.approx(0.0)
    assert axes.get_ylim() == pytest.approx((0.0, 104.0))
    assert figure._suptitle.get_text() == "noise_sweep · 2,000 timesteps"
    legend = axes.get_legend()
    shown = [t.get_text() for t in legend.get_texts()]
    assert "bimodal-unselective" not in shown  # 0 in every run: no line lying on the axis
    note = legend.get_title().get_text()
    assert note.endswith("not drawn (0 in every run):\nbimodal-unselective")


def test_pooled_sweep_figure_has_no_empty_panels():
    runs = sweep_runs()
    pooled = pd.concat([runs.assign(series="noise"), runs.assign(series="lag")])
    pooled = pooled.rename(columns={"q": "congruence"})
    pooled[["visual-only", "unselective"]] = 0
    figure = draw_class_counts(pooled, "congruence", n_neurons=100)
    panels = figure.axes
    assert [a.get_title() for a in panels] == ["mirror", "anti-mirror", "motor-only"]
    for axes in panels:
        assert axes.get_lines(), axes.get_title()
        assert band_heights(axes).max() <= 100.0
        assert axes.get_ylim()[1] == pytest.approx(104.0)
    title = figure.legends[0].get_title().get_text()
    assert "visual-only, bimodal-unselective, unselective" in title


def gapped_runs() -> pd.DataFrame:
    """Runs at c = 0.45, 0.5, 0.55 (a yoked parent) and 1.0 (a perfect mimic), none between."""
    runs = sweep_runs()
    near_half = pd.concat([runs.assign(congruence=c) for c in (0.45, 0.5, 0.55)])
    return pd.concat([near_half, runs.assign(congruence=1.0)], ignore_index=True).drop(columns="q")


def drawn_spans(axes) -> list[tuple[float, float]]:
    """(first, last) x of every unbroken run of points of every line with two or more points."""
    spans = []
    for line in axes.get_lines():
        xs = np.asarray(line.get_xdata(), dtype=float)
        xs[np.isnan(np.asarray(line.get_ydata(), dtype=float))] = np.nan  # matplotlib breaks here
        for piece in np.split(xs, np.flatnonzero(np.isnan(xs))):
            piece = piece[np.isfinite(piece)]
            if piece.size > 1:
                spans.append((float(piece.min()), float(piece.max())))
    return spans


def test_x_segments_split_where_no_point_lies_within_the_gap():
    values = pd.Series([0.5, 0.45, 1.0, 0.55, 0.5, 0.0])
    assert x_segments(values, None) == [(0.0, 1.0)]
    assert x_segments(values, 0.15) == [(0.0, 0.0), (0.45, 0.55), (1.0, 1.0)]
    assert x_segments(values, 0.5) == [(0.0, 1.0)]
    assert x_segments(pd.Series([], dtype=float), 0.15) == []


def test_sweep_lines_are_not_drawn_across_stretches_without_runs():
    """A yoked parent's c near 0.5 and a perfect mimic's 1.0: no line from 0.55 to 1.0."""
    runs = gapped_runs()
    for draw in (draw_class_counts, draw_outcome_shares):
        joined = draw(runs, "congruence")
        assert any(last - first > 0.4 for first, last in drawn_spans(joined.axes[0]))
        figure = draw(runs, "congruence", max_gap=0.15)
        spans = drawn_spans(figure.axes[0])
        assert spans and all(last <= 0.55 or first >= 1.0 for first, last in spans), draw
        assert any(first == 0.45 and last == 0.55 for first, last in spans), draw
        # the lone points at 1.0 are still drawn
        xs = np.concatenate([line.get_xdata() for line in figure.axes[0].get_lines()])
        assert 1.0 in xs.astype(float)
    pooled = pd.concat([runs.assign(series="noise"), runs.assign(series="lag")])
    for draw in (draw_class_counts, draw_outcome_shares):
        figure = draw(pooled, "congruence", max_gap=0.15)
        for axes in figure.axes:
            assert all(last <= 0.55 or first >= 1.0 for first, last in drawn_spans(axes))
    # each series breaks at its own gaps: "lag" lacks the runs at 0.5 and 0.55
    uneven = pooled[(pooled["series"] == "noise") | ~pooled["congruence"].isin([0.5, 0.55])]
    for draw in (draw_class_counts, draw_outcome_shares):
        figure = draw(uneven, "congruence", max_gap=0.15)
        assert all(
            not (first < 0.5 and last > 0.9) for a in figure.axes for first, last in drawn_spans(a)
        )


def test_equal_values_stay_visible_one_line_inside_the_other():
    """At q = 0 anti-mirror and neither are both 0: the later line is thinner and on top."""
    outcomes = draw_outcome_shares(sweep_runs(), "q").axes[0]
    counts = draw_class_counts(sweep_runs(), "q").axes[0]
    for axes, names in (
        (outcomes, ["mirror-dominant", "anti-mirror-dominant", "neither"]),
        (counts, ["mirror", "anti-mirror", "visual-only", "motor-only", "unselective"]),
    ):
        legend = axes.get_legend()
        texts = [text.get_text() for text in legend.get_texts()]
        handles = dict(zip(texts, legend.legend_handles, strict=True))
        widths, sizes, orders = [], [], []
        for name in names:
            handle = handles[name]
            drawn = [
                line
                for line in axes.get_lines()
                if line.get_color() == handle.get_color() and len(line.get_xdata())
            ]
            assert drawn, name
            # the legend shows each line as drawn
            assert {line.get_linewidth() for line in drawn} == {handle.get_linewidth()}, name
            widths.append(handle.get_linewidth())
            sizes.append(handle.get_markersize())
            orders.append(drawn[0].get_zorder())
        assert widths == sorted(widths, reverse=True) and len(set(widths)) == len(names)
        assert sizes == sorted(sizes, reverse=True) and len(set(sizes)) == len(names)
        assert orders == sorted(orders) and len(set(orders)) == len(names)


def test_outcome_figure_is_titled():
    figure = draw_outcome_shares(sweep_runs(), "q", title="noise_sweep · lag 0")
    assert figure._suptitle.get_text() == "noise_sweep · lag 0"
    assert figure.axes[0].get_ylim() == pytest.approx((-0.03, 1.03))


def test_run_figures_are_titled_with_scenario_seed_and_congruence(tmp_path):
    responses, neurons = responses_and_neurons()
    tables = {
        "test_responses": responses,
        "neurons": neurons,
        "interaction": interaction_table(300),
    }
    manifest = {"scenario": {"name": "lagged"}, "seed": 4, "summary": {"congruence": 0.7}}
    written = draw_run_figures(tables, tmp_path, ("png", "svg"), manifest=manifest)
    assert sorted(p.name for p in written) == [
        "firing_rates.png",
        "firing_rates.svg",
        "interaction.png",
        "interaction.svg",
    ]
    for name in ("firing_rates", "interaction"):
        assert "lagged · seed 4 · c = 0.70" in (tmp_path / f"{name}.svg").read_text()
    # without a summary, c is measured from the interaction table
    assert title_of_run(tables, {"seed": 4}) == "seed 4 · c = 0.70"
    with pytest.raises(ValueError, match="figures: expected some of"):
        draw_run_figures(tables, tmp_path, figures=("poster",))


def test_the_simulation_never_imports_matplotlib():
    code = "import sys, dyad.simulation; print('matplotlib' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_long_figure_titles_wrap_to_the_figure_width_instead_of_being_cut():
    """Figures are saved at their own size, so a title wider than the figure lost both ends."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from dyad.analysis.figures.common import new_figure, set_title, style, wrap_title

    title = "noise_sweep · noisy parent (mode = timestep) · 2,000 timesteps · 5 seeds per point"
    assert wrap_title("perfect · seed 1", 54) == "perfect · seed 1"
    lines = wrap_title(title, 54).split("\n")
    assert lines == [
        "noise_sweep · noisy parent (mode = timestep)",
        "2,000 timesteps · 5 seeds per point",
    ]
    with style():
        figure = new_figure(5.0, 3.2)
        figure.add_subplot().plot([0, 1])
        set_title(figure, title)
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        box = figure._suptitle.get_window_extent(canvas.get_renderer())
    assert figure._suptitle.get_text() == "\n".join(lines)
    assert 0 <= box.x0 and box.x1 <= figure.bbox.width
