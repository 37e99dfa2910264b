"""The rank-sum test computed in numpy equals scipy's (classification never imports scipy.stats)."""

import numpy as np
import pytest
from scipy.stats import mannwhitneyu, rankdata

from dyad.analysis.classify import average_ranks, rank_test


@pytest.mark.parametrize("seed", range(5))
def test_normal_approximation_equals_scipy_with_ties(seed):
    rng = np.random.default_rng(seed)
    for _ in range(20):
        n1, n2 = (int(v) for v in rng.integers(9, 30, size=2))
        # values rounded to one decimal: many ties within and between the groups
        first = np.round(rng.random((n1, 40)) * rng.integers(2, 20), 1)
        second = np.round(rng.random((n2, 40)) * rng.integers(2, 20) + rng.random() * 3, 1)
        expected = mannwhitneyu(first, second, alternative="two-sided", axis=0).pvalue
        np.testing.assert_allclose(rank_test(first, second), expected, rtol=1e-12, atol=0)


def test_average_ranks_are_scipys_and_the_tie_term_counts_groups():
    values = np.array([[1.0, 5.0], [2.0, 5.0], [2.0, 5.0], [0.5, 1.0], [2.0, 0.0]])
    ranks, tie_term = average_ranks(values)
    np.testing.assert_array_equal(ranks, rankdata(values, axis=0))
    # column 0: one group of three 2.0s (27 - 3); column 1: one group of three 5.0s
    np.testing.assert_array_equal(tie_term, [24.0, 24.0])
