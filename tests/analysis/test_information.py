"""Single- and multiple-cell information (model.md §11.1–11.2)."""

import numpy as np
import pytest

from dyad.analysis.information import (
    information_table,
    max_information,
    multiple_cell_information,
    normalise_rates,
    preferred_stimulus,
    response_bins,
    selectivity_summary,
    single_cell_information,
)
from dyad.errors import ConfigError


def _stimuli(n_stimuli: int, trials: int) -> np.ndarray:
    return np.repeat(np.arange(n_stimuli), trials)


@pytest.mark.parametrize("n_stimuli", [2, 3, 4])
def test_perfectly_selective_cell_carries_log2_s_bits(n_stimuli):
    stimuli = _stimuli(n_stimuli, 10)
    # cell k fires only to stimulus k
    rates = (stimuli[:, None] == np.arange(n_stimuli)[None, :]).astype(np.float32)
    info = single_cell_information(rates, stimuli)
    assert info.shape == (n_stimuli, n_stimuli)
    np.testing.assert_allclose(np.diag(info), np.log2(n_stimuli), atol=1e-12)
    np.testing.assert_allclose(max_information(rates, stimuli), np.log2(n_stimuli), atol=1e-12)


def test_unselective_cells_carry_no_information():
    rng = np.random.default_rng(1)
    stimuli = _stimuli(2, 200)
    constant = np.full((400, 1), 0.7)
    random = rng.random((400, 50))
    assert single_cell_information(constant, stimuli).max() == 0.0
    # limited-sampling bias only: a few hundredths of a bit
    assert max_information(random, stimuli).mean() < 0.03


def test_hand_computed_example():
    # stimulus 0: rates in bins 0, 0, 1, 2; stimulus 1: bins 2, 2, 2, 1
    rates = np.array([[0.1], [0.2], [0.5], [0.9], [1.0], [0.8], [0.7], [0.4]])
    stimuli = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    # P(r|0) = [1/2, 1/4, 1/4], P(r|1) = [0, 1/4, 3/4], P(r) = [1/4, 1/4, 1/2]
    i0 = 0.5 * np.log2(0.5 / 0.25) + 0.25 * np.log2(1.0) + 0.25 * np.log2(0.25 / 0.5)
    i1 = 0.25 * np.log2(1.0) + 0.75 * np.log2(0.75 / 0.5)
    info = single_cell_information(rates, stimuli)
    np.testing.assert_allclose(info[:, 0], [i0, i1], atol=1e-12)
    # weighted: bins count 0, 1/2, 1
    w0 = 0.25 * np.log2(0.25 / 0.5)
    w1 = 0.75 * np.log2(0.75 / 0.5)
    np.testing.assert_allclose(
        single_cell_information(rates, stimuli, weighted=True)[:, 0], [w0, w1], atol=1e-12
    )


def test_weighted_variant_gives_no_credit_for_selectivity_by_silence():
    stimuli = _stimuli(2, 10)
    # silent to stimulus 0, fully active to stimulus 1
    rates = (stimuli == 1).astype(float)[:, None]
    plain = single_cell_information(rates, stimuli)[:, 0]
    weighted = single_cell_information(rates, stimuli, weighted=True)[:, 0]
    np.testing.assert_allclose(plain, [1.0, 1.0])
    np.testing.assert_allclose(weighted, [0.0, 1.0])
    # silent vs moderately active (middle bin): half credit for the active stimulus
    moderate = np.where(stimuli == 1, 0.5, 0.0)[:, None]
    np.testing.assert_allclose(
        single_cell_information(moderate, stimuli, weighted=True)[:, 0], [0.0, 0.5]
    )


def test_bins_are_equal_width_and_last_bin_closed():
    np.testing.assert_array_equal(
        response_bins(np.array([0.0, 0.333, 0.334, 0.66, 0.67, 0.999, 1.0])),
        [0, 0, 1, 1, 2, 2, 2],
    )


def test_normalisation_and_range_check():
    stimuli = _stimuli(2, 5)
    rates = np.where(stimuli == 0, 10.0, 30.0)[:, None]
    with pytest.raises(ConfigError, match="rates"):
        single_cell_information(rates, stimuli)
    np.testing.assert_allclose(single_cell_information(rates, stimuli, normalise=True), 1.0)
    np.testing.assert_allclose(normalise_rates(np.array([[2.0, 4.0], [6.0, 10.0]])).max(), 1.0)


def test_bad_inputs_raise_config_error():
    with pytest.raises(ConfigError, match="stimuli"):
        single_cell_information(np.zeros((4, 2)), np.zeros(4, dtype=int))
    with pytest.raises(ConfigError, match="stimuli"):
        single_cell_information(np.zeros((4, 2)), np.array([0, 1, 0]))
    with pytest.raises(ConfigError, match="n_bins"):
        single_cell_information(np.zeros((4, 2)), np.array([0, 1, 0, 1]), n_bins=1)
    with pytest.raises(ConfigError, match="rng"):
        multiple_cell_information(np.zeros((8, 2)), _stimuli(2, 4))


def test_stimulus_labels_need_not_start_at_zero():
    stimuli = np.repeat([3, 7], 6)
    rates = (stimuli == 7).astype(float)[:, None]
    np.testing.assert_allclose(single_cell_information(rates, stimuli)[:, 0], [1.0, 1.0])
    assert preferred_stimulus(rates, stimuli)[0] == 1


def test_information_table_is_tidy_and_ranked():
    stimuli = _stimuli(2, 10)
    rng = np.random.default_rng(0)
    rates = rng.random((20, 4)) * 0.3
    rates[:, 2] = (stimuli == 1) * 1.0  # cell 2 is the best for both stimuli
    table = information_table(rates, stimuli, stimulus_names=("happy", "sad"))
    assert list(table.columns) == ["cell", "stimulus", "information", "rank"]
    assert len(table) == 8
    best = table[table["rank"] == 0]
    assert sorted(best["stimulus"]) == ["happy", "sad"]
    assert (best["cell"] == 2).all()
    assert sorted(table[table.stimulus == "sad"]["rank"]) == [0, 1, 2, 3]


def test_preferred_stimulus_follows_mean_rate():
    stimuli = _stimuli(2, 4)
    rates = np.stack([np.where(stimuli == 0, 0.9, 0.1), np.where(stimuli == 0, 0.2, 0.6)], axis=1)
    np.testing.assert_array_equal(preferred_stimulus(rates, stimuli), [0, 1])


def _selective_population(rng, n_cells, trials, noise):
    stimuli = _stimuli(2, trials)
    preferred = rng.integers(0, 2, n_cells)
    mean = np.where(stimuli[:, None] == preferred[None, :], 0.6, 0.4)
    return np.clip(mean + noise * rng.standard_normal(mean.shape), 0, 1), stimuli


def test_multiple_cell_information_rises_with_ensemble_size_for_selective_cells():
    rng = np.random.default_rng(3)
    # weakly selective, noisy cells: one cell alone is a poor decoder, many together are good
    rates, stimuli = _selective_population(rng, n_cells=40, trials=20, noise=0.2)
    table = multiple_cell_information(rates, stimuli, max_ensemble=10, n_iterations=60, rng=rng)
    assert list(table["ensemble_size"]) == list(range(1, 11))
    info_q = table["information_frequency"].to_numpy()
    info_p = table["information_probability"].to_numpy()
    assert info_q[0] < 0.3
    assert info_q[-1] > 0.7
    assert info_p[-1] > info_p[0] + 0.3
    assert np.all(np.diff(info_p) > -0.03)  # monotone up to sampling noise
    assert np.all(table[["information_probability", "information_frequency"]] <= 1.0 + 1e-9)


def test_multiple_cell_information_is_near_zero_for_random_cells():
    rng = np.random.default_rng(4)
    stimuli = _stimuli(2, 20)
    rates = rng.random((40, 40))
    table = multiple_cell_information(rates, stimuli, max_ensemble=10, n_iterations=60, rng=rng)
    assert table["information_frequency"].max() < 0.1
    assert table["information_probability"].max() < 0.1


def test_leave_one_out_does_not_decode_a_trial_from_itself():
    # one cell, each stimulus's trials all identical except the one held out: with the held-out
    # trial excluded the decoder must still use the other trials, never its own value
    stimuli = _stimuli(2, 5)
    rates = np.where(stimuli == 0, 0.2, 0.8)[:, None]
    rates[0, 0] = 0.8  # one stimulus-0 trial looks exactly like stimulus 1
    table = multiple_cell_information(
        rates, stimuli, max_ensemble=1, n_iterations=5, rng=np.random.default_rng(0)
    )
    # 9 of 10 trials decoded right, one wrong: I_Q of that 2x2 table
    p = np.array([[0.4, 0.1], [0.0, 0.5]])
    expected = sum(
        p[i, j] * np.log2(p[i, j] / (p[i].sum() * p[:, j].sum()))
        for i in range(2)
        for j in range(2)
        if p[i, j] > 0
    )
    np.testing.assert_allclose(table["information_frequency"], expected, atol=1e-12)


def test_selectivity_summary_counts_cells_at_one_bit_by_preferred_stimulus():
    stimuli = _stimuli(2, 10)
    happy = (stimuli == 0).astype(float)
    sad = (stimuli == 1).astype(float)
    mixed = np.where(np.arange(20) % 2 == 0, 1.0, 0.0)  # half the trials of each stimulus
    rates = np.stack([happy, happy, sad, mixed, np.full(20, 0.5)], axis=1)
    summary = selectivity_summary(rates, stimuli, stimulus_names=("happy", "sad"))
    assert summary["n_cells"] == 5
    assert summary["n_selective"] == 3
    assert summary["preferred"] == {"happy": 2, "sad": 1}
    assert summary["max_bits"] == 1.0
    assert summary["threshold_bits"] == pytest.approx(0.99)
    assert summary["mean_information"] == pytest.approx(3 / 5)
