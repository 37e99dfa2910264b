"""The uncertainty of a share of seeds: Wilson score intervals."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest

from dyad.analysis import share_interval


@pytest.mark.parametrize(("k", "n"), [(0, 5), (1, 5), (4, 5), (5, 5), (8, 20), (20, 20), (3, 7)])
def test_share_interval_is_wilsons(k, n):
    expected = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    low, high = share_interval(k, n)
    assert (low, high) == pytest.approx((expected.low, expected.high), abs=1e-12)
    assert 0.0 <= low <= k / n <= high <= 1.0


def test_all_or_none_still_has_an_interval_and_more_seeds_narrow_it():
    """0 of n and n of n, common when runs are all-or-none, are not a certainty."""
    assert share_interval(5, 5)[0] == pytest.approx(0.566, abs=1e-3)
    assert share_interval(0, 5)[1] == pytest.approx(0.434, abs=1e-3)
    widths = [np.subtract(*share_interval(n // 2, n)[::-1]) for n in (5, 20, 80)]
    assert widths[0] > widths[1] > widths[2]


def test_arrays_and_empty_points():
    low, high = share_interval([0, 20, 0], [20, 20, 0])
    assert low[0] == 0.0 and high[1] == 1.0
    assert np.isnan(low[2]) and np.isnan(high[2])
    assert share_interval(2, 4, confidence=0.5)[1] < share_interval(2, 4)[1]
