"""Neuron classification (model.md §11.3) on hand-made response arrays."""

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.stats import mannwhitneyu, rankdata

from dyad.analysis.classify import (
    MIN_TEST_TRIALS,
    NEURON_CLASSES,
    TooFewTrials,
    class_counts,
    classify_arrays,
    classify_neurons,
    mirror_index,
    modality_selectivity,
    rank_test,
    selectivity_correlation,
    smallest_p_value,
)

N_TRIALS = 20

# (visual happy, visual sad, motor happy, motor sad) mean rates of each hand-made neuron
PROFILES = {
    "mirror-happy": (0.9, 0.1, 0.9, 0.1),
    "mirror-sad": (0.1, 0.9, 0.05, 0.85),
    "anti-mirror": (0.9, 0.1, 0.1, 0.9),
    "visual-only": (0.1, 0.9, 0.05, 0.05),
    "motor-only": (0.05, 0.05, 0.8, 0.1),
    "bimodal-unselective": (0.8, 0.8, 0.7, 0.75),
    "unselective": (0.1, 0.1, 0.1, 0.1),
    "weak selectivity": (0.6, 0.4, 0.6, 0.4),  # |d| = 0.2 < 0.3
    "never fires": (0.4, 0.05, 0.4, 0.05),  # selective but below half the sigmoid maximum
}
EXPECTED = {
    "mirror-happy": "mirror",
    "mirror-sad": "mirror",
    "anti-mirror": "anti-mirror",
    "visual-only": "visual-only",
    "motor-only": "motor-only",
    "bimodal-unselective": "bimodal-unselective",
    "unselective": "unselective",
    "weak selectivity": "bimodal-unselective",
    "never fires": "unselective",
}


def responses(profiles, noise=0.02, n_trials=N_TRIALS, seed=0):
    """visual, motor: (2, n_trials, N) with the given means and small trial noise."""
    means = np.array(list(profiles), dtype=np.float64).T  # (4, N)
    rng = np.random.default_rng(seed)
    trials = means[:, None, :] + noise * rng.standard_normal((4, n_trials, means.shape[1]))
    trials = np.clip(trials, 0.0, 1.0)
    return trials[:2], trials[2:]


def test_each_hand_made_neuron_gets_its_class():
    visual, motor = responses(PROFILES.values())
    result = classify_arrays(visual, motor)
    assert result.neuron_class.tolist() == list(EXPECTED.values())
    np.testing.assert_array_equal(result.visual.preferred[:3], [0, 1, 0])
    np.testing.assert_array_equal(result.motor.preferred[:3], [0, 1, 1])


def test_selectivity_index_is_signed_for_two_expressions():
    visual, motor = responses(PROFILES.values(), noise=0.0)
    result = classify_arrays(visual, motor)
    d_v = result.visual.d
    assert d_v[0] == pytest.approx((0.9 - 0.1) / (1.0 + 1e-6))
    assert d_v[1] == pytest.approx(-(0.9 - 0.1) / (1.0 + 1e-6))
    assert result.motor.d[2] < 0 < result.visual.d[2]
    assert d_v[7] == pytest.approx(0.2, abs=1e-5)


def test_silent_neuron_has_zero_selectivity_not_nan():
    visual, motor = responses([(0, 0, 0, 0)], noise=0.0)
    result = classify_arrays(visual, motor)
    assert result.visual.d[0] == 0.0 and result.motor.d[0] == 0.0
    assert result.neuron_class[0] == "unselective"


def test_too_few_trials_for_the_rank_test_are_refused_naming_the_minimum():
    """4 vs 4 perfectly separated trials: the smallest two-sided p is 2/70 = 0.029 > 0.01."""
    assert MIN_TEST_TRIALS == 5
    assert smallest_p_value(4) == pytest.approx(2 / 70)
    assert smallest_p_value(5) == pytest.approx(2 / 252) and smallest_p_value(5) < 0.01
    visual, motor = responses([PROFILES["mirror-happy"]], n_trials=4)
    with pytest.raises(TooFewTrials, match=r"at least 5 trials per expression, got 4.*0\.0286"):
        classify_arrays(visual, motor)


@pytest.mark.parametrize("n_trials", [5, 6, 8, 10, 20])
def test_perfect_separation_is_significant_from_the_minimum_number_of_trials(n_trials):
    """Before, the normal approximation gave p = 0.012 at 5 vs 5: 'unselective' for few trials."""
    visual, motor = responses([PROFILES["mirror-happy"]], n_trials=n_trials)
    result = classify_arrays(visual, motor)
    assert result.visual.p_value[0] < 0.01 and result.motor.p_value[0] < 0.01
    if n_trials <= 8:  # the exact test: its smallest p
        assert result.visual.p_value[0] == pytest.approx(smallest_p_value(n_trials))
    assert result.neuron_class[0] == "mirror"


def test_exact_rank_test_matches_scipy_without_ties_and_a_permutation_test_with_ties():
    rng = np.random.default_rng(3)
    first, second = rng.random((6, 40)), rng.random((6, 40)) + 0.3
    exact = mannwhitneyu(first, second, alternative="two-sided", axis=0, method="exact")
    np.testing.assert_allclose(rank_test(first, second), exact.pvalue, rtol=1e-9)
    # ties (saturated rates): compare with an explicit enumeration of every split
    tied_first = np.array([1.0, 1.0, 0.9, 0.5, 1.0])
    tied_second = np.array([0.0, 0.5, 0.0, 0.2, 0.9])
    pooled = np.concatenate([tied_first, tied_second])
    ranks = rankdata(pooled)
    centre = 5 * 11 / 2
    observed = abs(ranks[:5].sum() - centre)
    splits = list(itertools.combinations(range(10), 5))
    expected = np.mean([abs(ranks[list(c)].sum() - centre) >= observed - 1e-9 for c in splits])
    assert rank_test(tied_first[:, None], tied_second[:, None])[0] == pytest.approx(expected)


def test_constant_trials_fall_back_to_the_deterministic_criterion():
    """Noise-free motor trials: the U test is undefined, so only |d| and the rate decide."""
    visual, _ = responses(PROFILES.values())
    _, motor = responses(PROFILES.values(), noise=0.0)
    result = classify_arrays(visual, motor)
    assert np.isnan(result.motor.p_value).all()
    assert result.neuron_class.tolist() == list(EXPECTED.values())
    # a single noise-free trial per expression works too
    one_trial = classify_arrays(visual, motor[:, :1])
    assert one_trial.neuron_class.tolist() == list(EXPECTED.values())


def test_overlapping_trials_are_not_significant():
    rng = np.random.default_rng(1)
    visual = rng.random((2, N_TRIALS, 50))  # both expressions from the same distribution
    motor = np.zeros((2, N_TRIALS, 50))
    result = modality_selectivity(visual)
    assert (result.p_value > 0.01).mean() > 0.9
    assert classify_arrays(visual, motor).neuron_class.tolist().count("visual-only") <= 2


def test_more_than_two_expressions_compare_preferred_with_next_best():
    # visual: pref 2 (0.9) vs next 1 (0.5) -> d = 0.4/1.4; motor: pref 2 (0.8) vs next 0 (0.3)
    means = np.array(
        [
            [[0.1, 0.9], [0.5, 0.1], [0.9, 0.1]],  # visual, expression x neuron
            [[0.3, 0.1], [0.1, 0.1], [0.8, 0.7]],  # motor
        ]
    )
    rng = np.random.default_rng(2)
    trials = means[:, :, None, :] + 0.01 * rng.standard_normal((2, 3, N_TRIALS, 2))
    result = classify_arrays(trials[0], trials[1])
    np.testing.assert_array_equal(result.visual.preferred, [2, 0])
    np.testing.assert_array_equal(result.motor.preferred, [2, 2])
    assert result.visual.d[0] == pytest.approx(0.4 / 1.4, abs=0.02)  # below 0.3: not selective
    assert result.motor.d[0] == pytest.approx(0.5 / 1.1, abs=0.02)
    assert (result.visual.d >= 0).all() and (result.motor.d >= 0).all()
    assert result.neuron_class.tolist() == ["motor-only", "anti-mirror"]


def test_more_expressions_mirror_neuron():
    means = np.full((2, 4, 3), 0.05)
    for neuron, expression in enumerate((0, 2, 3)):
        means[:, expression, neuron] = 0.9
    trials = means[:, :, None, :] + np.zeros((1, 1, N_TRIALS, 1))
    result = classify_arrays(trials[0], trials[1])
    assert result.neuron_class.tolist() == ["mirror"] * 3
    np.testing.assert_array_equal(result.visual.preferred, [0, 2, 3])


def test_shape_errors():
    visual, motor = responses(PROFILES.values())
    with pytest.raises(ValueError, match="same expressions and neurons"):
        classify_arrays(visual, motor[:, :, :3])
    with pytest.raises(ValueError, match="S, n_trials, N"):
        classify_arrays(visual[0], motor)
    with pytest.raises(ValueError, match=">= 2 expressions"):
        classify_arrays(visual[:1], motor[:1])


# ------------------------------------------------------------------------------ tables


def tidy(visual, motor, expressions=("happy", "sad"), phase="after"):
    """The ``test_responses`` rows of one phase, as dyad.simulation writes them."""
    frames = []
    for condition, array in (("visual", visual), ("motor", motor)):
        n_expr, n_trials, n_neurons = array.shape
        e, t, n = np.meshgrid(
            np.arange(n_expr), np.arange(n_trials), np.arange(n_neurons), indexing="ij"
        )
        frames.append(
            pd.DataFrame(
                {
                    "phase": phase,
                    "condition": condition,
                    "expression": pd.Categorical.from_codes(e.ravel(), list(expressions)),
                    "parent": "parent",
                    "trial": t.ravel().astype(np.int32),
                    "neuron": n.ravel().astype(np.int32),
                    "rate": array.ravel().astype(np.float32),
                }
            )
        )
    rows = pd.concat(frames, ignore_index=True)
    return rows.sample(frac=1.0, random_state=0)  # row order must not matter


def test_classify_neurons_builds_the_neurons_table():
    visual, motor = responses(PROFILES.values())
    table = classify_neurons(tidy(visual, motor), ["happy", "sad"])
    assert list(table.columns) == [
        "phase",
        "neuron",
        "neuron_class",
        "info_class",
        "preferred_visual",
        "preferred_motor",
        "d_visual",
        "d_motor",
        "info_visual",
        "info_motor",
        "mean_visual_happy",
        "mean_visual_sad",
        "mean_motor_happy",
        "mean_motor_sad",
    ]
    assert table["neuron_class"].astype(str).tolist() == list(EXPECTED.values())
    assert table["neuron"].tolist() == list(range(len(PROFILES)))
    assert (table["phase"] == "after").all()
    assert table["preferred_visual"].astype(str).tolist()[:3] == ["happy", "sad", "happy"]
    assert table["preferred_motor"].astype(str).tolist()[:3] == ["happy", "sad", "sad"]
    np.testing.assert_allclose(table["mean_visual_happy"], visual[0].mean(axis=0), atol=1e-6)
    np.testing.assert_allclose(table["mean_motor_sad"], motor[1].mean(axis=0), atol=1e-6)
    expected = classify_arrays(visual.astype(np.float32), motor.astype(np.float32))
    np.testing.assert_allclose(table["d_visual"], expected.visual.d, atol=1e-6)
    # information: perfectly separated neurons carry 1 bit, unselective ones ~0
    assert table.loc[0, "info_visual"] == pytest.approx(1.0)
    assert table.loc[0, "info_motor"] == pytest.approx(1.0)
    assert table.loc[6, "info_visual"] == pytest.approx(0.0, abs=1e-6)
    assert ((table["info_visual"] >= 0) & (table["info_visual"] <= 1)).all()


def test_information_cross_check_agrees_except_where_the_criteria_differ_by_design():
    """The information cross-check agrees with the rank test where it should.

    I >= 0.5 bit agrees with the rank test on clear cases; it ignores the firing threshold
    (a cell at 0.4 vs 0.05 carries 1 bit but never fires), so there the two disagree.
    """
    visual, motor = responses(PROFILES.values())
    table = classify_neurons(tidy(visual, motor), ["happy", "sad"])
    expected = dict(EXPECTED, **{"never fires": "mirror"})
    assert table["info_class"].astype(str).tolist() == list(expected.values())
    differ = table["neuron_class"].astype(str) != table["info_class"].astype(str)
    assert differ.tolist() == [name == "never fires" for name in PROFILES]


def test_classify_neurons_refuses_incomplete_or_unknown_rows():
    visual, motor = responses(PROFILES.values())
    rows = tidy(visual, motor)
    with pytest.raises(ValueError, match="exactly once"):
        classify_neurons(rows.iloc[1:], ["happy", "sad"])
    with pytest.raises(ValueError, match="not in"):
        classify_neurons(rows, ["happy", "fear"])
    with pytest.raises(ValueError, match="one phase"):
        classify_neurons(pd.concat([rows, tidy(visual, motor, phase="before")]), ["happy", "sad"])
    with pytest.raises(ValueError, match="no 'motor' rows"):
        classify_neurons(rows[rows["condition"] == "visual"], ["happy", "sad"])
    with pytest.raises(ValueError, match="missing columns"):
        classify_neurons(rows.drop(columns="rate"), ["happy", "sad"])


def neurons_table(classes, d_visual=None, d_motor=None, phase=None):
    n = len(classes)
    table = pd.DataFrame(
        {
            "neuron": np.arange(n),
            "neuron_class": classes,
            "d_visual": d_visual if d_visual is not None else np.zeros(n),
            "d_motor": d_motor if d_motor is not None else np.zeros(n),
            "mean_visual_happy": 0.9,
            "mean_visual_sad": 0.1,
            "mean_motor_happy": 0.9,
            "mean_motor_sad": 0.1,
        }
    )
    if phase is not None:
        table.insert(0, "phase", phase)
    return table


def test_mirror_index():
    assert mirror_index(neurons_table(["mirror"] * 6 + ["anti-mirror"] * 2)) == pytest.approx(0.5)
    assert mirror_index(neurons_table(["anti-mirror", "visual-only"])) == -1.0
    assert np.isnan(mirror_index(neurons_table(["visual-only", "unselective"])))


def test_class_counts_list_every_class():
    counts = class_counts(neurons_table(["mirror", "mirror", "motor-only", "unselective"]))
    assert counts["neuron_class"].tolist() == list(NEURON_CLASSES)
    assert counts["count"].tolist() == [2, 0, 0, 1, 0, 1]
    assert counts["fraction"].tolist() == [0.5, 0, 0, 0.25, 0, 0.25]
    both = pd.concat(
        [
            neurons_table(["mirror"], phase="before"),
            neurons_table(["anti-mirror", "anti-mirror"], phase="after"),
        ]
    )
    per_phase = class_counts(both)
    assert per_phase.groupby("phase")["count"].sum().to_dict() == {"after": 2, "before": 1}
    after = per_phase[per_phase["phase"] == "after"].set_index("neuron_class")["count"]
    assert after["anti-mirror"] == 2


def test_selectivity_correlation_over_responsive_neurons():
    d_v = np.array([0.9, -0.8, 0.7, -0.9, 0.5])
    table = neurons_table(["mirror"] * 5, d_visual=d_v, d_motor=d_v * 0.5)
    assert selectivity_correlation(table) == pytest.approx(1.0)
    table = neurons_table(["anti-mirror"] * 5, d_visual=d_v, d_motor=-d_v)
    assert selectivity_correlation(table) == pytest.approx(-1.0)
    # a silent neuron with discordant indices is ignored
    silent = neurons_table(["unselective"], d_visual=[0.9], d_motor=[-0.9])
    silent[["mean_visual_happy", "mean_motor_happy"]] = 0.1
    mixed = pd.concat([neurons_table(["mirror"] * 5, d_visual=d_v, d_motor=d_v), silent])
    assert selectivity_correlation(mixed) == pytest.approx(1.0)
    assert np.isnan(selectivity_correlation(neurons_table(["mirror"] * 2)))
