import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dyad.errors import ConfigError
from dyad.schedules import infant_schedule, parent_schedule


def congruence(infant: np.ndarray, parent: np.ndarray) -> float:
    """Fraction of timesteps on which the parent shows the infant's expression (c)."""
    return float(np.mean(np.asarray(infant) == np.asarray(parent)))


def lagged_congruence(schedule: np.ndarray, lag: int, preroll: int) -> float:
    """What a parent copying the infant with ``lag`` achieves over the run."""
    infant = schedule[preroll:]
    parent = schedule[preroll - lag : len(schedule) - lag]
    return congruence(infant, parent)


@pytest.mark.parametrize(
    ("lag", "expected"), [(0, 1.0), (2, 0.8), (5, 0.5), (8, 0.2), (10, 0.0), (15, 0.5), (20, 1.0)]
)
def test_alternating_schedule_gives_the_exact_lag_congruence(lag, expected):
    # model.md §9.6: c(L) = 1 - L/T for L <= T and L/T - 1 for T <= L <= 2T
    rng = np.random.default_rng(0)
    schedule = infant_schedule("alternating", 2, 10, 2000, rng, preroll=20)
    assert lagged_congruence(schedule, lag, preroll=20) == pytest.approx(expected)


def test_random_holds_make_lag_congruence_decay_towards_one_half():
    # model.md §9.6: c(L) = (1 + (1 - 2/T)^L) / 2 for Markov switching, never below 0.5
    rng = np.random.default_rng(1)
    schedule = infant_schedule("random", 2, 10, 200_000, rng, preroll=20)
    for lag in (2, 5, 10, 20):
        predicted = 0.5 * (1 + (1 - 2 / 10) ** lag)
        assert lagged_congruence(schedule, lag, 20) == pytest.approx(predicted, abs=0.01)


@settings(max_examples=40, deadline=None)
@given(
    kind=st.sampled_from(["alternating", "random", "uniform"]),
    n_expressions=st.integers(2, 6),
    hold=st.integers(1, 30),
    steps=st.integers(1, 500),
    preroll=st.integers(0, 40),
    seed=st.integers(0, 2**32 - 1),
)
def test_schedules_have_the_right_length_and_labels(
    kind, n_expressions, hold, steps, preroll, seed
):
    schedule = infant_schedule(
        kind, n_expressions, hold, steps, np.random.default_rng(seed), preroll=preroll
    )
    assert schedule.shape == (preroll + steps,)
    assert schedule.min() >= 0 and schedule.max() < n_expressions
    again = infant_schedule(
        kind, n_expressions, hold, steps, np.random.default_rng(seed), preroll=preroll
    )
    np.testing.assert_array_equal(schedule, again)


@pytest.mark.parametrize("kind", ["random", "uniform"])
def test_random_hold_lengths_have_the_requested_mean(kind):
    schedule = infant_schedule(kind, 3, 10, 100_000, np.random.default_rng(2))
    switches = np.count_nonzero(np.diff(schedule))
    assert 100_000 / switches == pytest.approx(10, rel=0.08)


def test_uniform_holds_stay_within_bounds():
    schedule = infant_schedule("uniform", 2, 10, 5000, np.random.default_rng(3))
    boundaries = np.flatnonzero(np.diff(schedule)) + 1
    lengths = np.diff(boundaries)
    assert lengths.min() >= 5 and lengths.max() <= 15


def test_parents_alternate_in_blocks():
    present = parent_schedule("alternate", 2, 100, 450, np.random.default_rng(0))
    assert (present[:100] == 0).all() and (present[100:200] == 1).all()
    assert (present[400:] == 0).all()
    one = parent_schedule("alternate", 1, 100, 50, np.random.default_rng(0))
    assert (one == 0).all()


def test_random_sharing_uses_every_parent_in_whole_blocks():
    present = parent_schedule("random", 3, 10, 3000, np.random.default_rng(0))
    assert set(np.unique(present)) == {0, 1, 2}
    assert all(len(set(block)) == 1 for block in present.reshape(-1, 10))


def test_impossible_schedules_are_rejected():
    with pytest.raises(ConfigError, match="at least 2"):
        infant_schedule("alternating", 1, 10, 10, np.random.default_rng(0))
    with pytest.raises(ConfigError, match="infant.schedule"):
        infant_schedule("sometimes", 2, 10, 10, np.random.default_rng(0))
