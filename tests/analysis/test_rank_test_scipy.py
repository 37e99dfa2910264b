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


@pytest.mark.parametrize(("seed", "n_trials"), [(0, 40), (1, 40), (2, 7), (3, 130)])
def test_the_compiled_ranks_are_numpys_bit_for_bit(seed, n_trials):
    """Up to 64 trials compiled, more in numpy (the reference itself)."""
    from dyad.analysis.classify import _average_ranks_numpy

    rng = np.random.default_rng(seed)
    # rates as a run's probes give them: many exactly 0 or 1 (saturated), the rest graded
    values = rng.random((n_trials, 256))
    values[:, :100] = np.round(values[:, :100])
    values[:, 100:120] = np.round(values[:, 100:120], 1)
    values[:, 120] = 0.5  # all tied
    values[3, 121] = -0.0
    ranks, tie_term = average_ranks(values)
    expected_ranks, expected_tie = _average_ranks_numpy(np.ascontiguousarray(values.T))
    assert ranks.tobytes() == expected_ranks.tobytes() and ranks.shape == (n_trials, 256)
    assert tie_term.tobytes() == expected_tie.tobytes()
    np.testing.assert_array_equal(ranks, rankdata(values, axis=0))


def test_nan_values_are_ranked_as_numpy_ranks_them():
    values = np.array([[1.0, np.nan], [np.nan, 2.0], [1.0, 2.0]])
    ranks, tie_term = average_ranks(values)
    np.testing.assert_array_equal(ranks, [[1.5, 3.0], [3.0, 1.5], [1.5, 1.5]])
    np.testing.assert_array_equal(tie_term, [6.0, 6.0])


def test_rank_kernels_load_once_and_know_whether_they_must_compile(tmp_path):
    """With an empty numba cache the kernels are not cached; load() compiles the version runs use.

    Run in a fresh process so the empty cache is the one numba reads.
    """
    import os
    import subprocess
    import sys

    check = (
        "import numpy as np\n"
        "from dyad.analysis import rank_kernel\n"
        "from dyad.analysis.classify import average_ranks\n"
        "print(rank_kernel.kernels_cached())\n"
        "print(rank_kernel.load() > 0.0, rank_kernel.kernels_cached(), rank_kernel.load())\n"
        "signatures = set(rank_kernel.column_ranks.signatures)\n"
        "average_ranks(np.random.default_rng(0).random((40, 256)))\n"
        "print(set(rank_kernel.column_ranks.signatures) == signatures)\n"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", check], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split("\n")[:3] == ["False", "True True 0.0", "True"]
