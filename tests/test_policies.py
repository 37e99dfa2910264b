"""Built-in parent policies (model.md §9.3–9.6): perfect, noisy, lagged, and the yoked control."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from dyad.errors import ConfigError
from dyad.policies import (
    Lagged,
    Noisy,
    ParentPolicy,
    Perfect,
    PolicyContext,
    PolicyParams,
    Yoked,
    other_expression,
)

EXPRESSIONS = ("happy", "sad", "surprise", "anger", "fear", "disgust", "neutral")
HOLD = 10

property_settings = settings(max_examples=60, deadline=None)


def context(n_expressions: int = 2, n_steps: int = 100, hold: int = HOLD) -> PolicyContext:
    return PolicyContext(EXPRESSIONS[:n_expressions], n_steps=n_steps, hold_length=hold)


def run(policy: ParentPolicy, infant: np.ndarray, n_steps: int) -> np.ndarray:
    """The parent's expressions for t = 0..n_steps-1; ``infant`` includes the pre-roll."""
    lookback = policy.lookback
    assert len(infant) == lookback + n_steps
    return np.array([policy.choose(t, infant[: lookback + t + 1]) for t in range(n_steps)])


def alternation(n_steps: int, lookback: int = 0, hold: int = HOLD) -> np.ndarray:
    """Deterministic alternation 0/1 with holds of ``hold`` steps, pre-rolled periodically."""
    t = np.arange(-lookback, n_steps)
    return ((t // hold) % 2).astype(np.int64)


@st.composite
def infant_runs(draw, min_expressions: int = 1, max_steps: int = 120):
    """(n_expressions, infant expression array) made of holds of random length."""
    n_expressions = draw(st.integers(min_expressions, len(EXPRESSIONS)))
    holds = draw(
        st.lists(
            st.tuples(st.integers(0, n_expressions - 1), st.integers(1, 15)),
            min_size=1,
            max_size=20,
        )
    )
    infant = np.concatenate([np.full(length, e, dtype=np.int64) for e, length in holds])
    return n_expressions, infant[:max_steps]


def hold_starts(infant: np.ndarray) -> np.ndarray:
    """Boolean (n,): True at t = 0 and wherever the infant's expression changes."""
    starts = np.ones(len(infant), dtype=bool)
    starts[1:] = infant[1:] != infant[:-1]
    return starts


# -- PolicyContext and the base class ------------------------------------------------------


def test_context_validates_its_fields():
    with pytest.raises(ConfigError) as excinfo:
        PolicyContext(("happy", "happy"), n_steps=0, hold_length=-1)
    assert excinfo.value.problems == [
        "expressions: expected distinct names (got ('happy', 'happy'))",
        "n_steps: Input should be greater than or equal to 1 (got 0)",
        "hold_length: Input should be greater than or equal to 1 (got -1)",
    ]
    with pytest.raises(ConfigError, match="expressions: Input should be a valid tuple"):
        PolicyContext("happy", n_steps=10, hold_length=2)
    with pytest.raises(ConfigError, match="expressions: Tuple should have at least 1 item"):
        PolicyContext((), n_steps=10, hold_length=2)
    with pytest.raises(ConfigError, match=r"expressions\.1: String should have at least 1"):
        PolicyContext(("happy", ""), n_steps=10, hold_length=2)
    with pytest.raises(ConfigError, match=r"n_steps: expected an integer \(got True\)"):
        PolicyContext(("happy",), n_steps=True, hold_length=2)


def test_context_is_frozen_and_normalises_lists():
    ctx = PolicyContext(["happy", "sad"], n_steps=5, hold_length=2)
    assert ctx.expressions == ("happy", "sad")
    assert ctx.n_expressions == 2
    with pytest.raises(AttributeError):
        ctx.n_steps = 3


def test_params_are_validated_and_coerced():
    policy = Noisy({"q": 0.25, "mode": "exact"}, context(), np.random.default_rng(0))
    assert isinstance(policy.params, Noisy.Params)
    assert policy.params.q == 0.25
    with pytest.raises(ValidationError, match="less than or equal to 1"):
        Noisy({"q": 1.5}, context(), np.random.default_rng(0))
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        Noisy({"p": 0.5}, context(), np.random.default_rng(0))
    with pytest.raises(ValidationError, match="'timestep', 'hold' or 'exact'"):
        Noisy({"mode": "block"}, context(), np.random.default_rng(0))
    with pytest.raises(ValidationError):
        Lagged({"lag": -1}, context(), np.random.default_rng(0))
    assert Lagged(None, context(), np.random.default_rng(0)).lookback == 1


def test_a_policy_must_implement_choose():
    class Silent(ParentPolicy):
        name = "silent"

    with pytest.raises(TypeError, match="choose"):
        Silent({}, context(), np.random.default_rng(0))


def test_minimal_subclass_gets_defaults():
    class Mirror(ParentPolicy):
        name = "mirror"

        def choose(self, t, infant_history):
            return int(infant_history[-1])

    policy = Mirror(None, context(), np.random.default_rng(0))
    assert policy.lookback == 0
    assert isinstance(policy.params, PolicyParams)
    with pytest.raises(ValidationError):
        Mirror({"unexpected": 1}, context(), np.random.default_rng(0))


@given(st.integers(2, 7), st.integers(0, 6), st.integers(0, 2**32 - 1))
def test_other_expression_is_never_the_same(n_expressions, expression, seed):
    expression %= n_expressions
    rng = np.random.default_rng(seed)
    others = {other_expression(expression, n_expressions, rng) for _ in range(50)}
    assert expression not in others
    assert others <= set(range(n_expressions))


def test_other_expression_is_uniform_among_the_others():
    rng = np.random.default_rng(1)
    draws = np.array([other_expression(2, 4, rng) for _ in range(6000)])
    fractions = np.bincount(draws, minlength=4) / len(draws)
    assert fractions[2] == 0
    np.testing.assert_allclose(fractions[[0, 1, 3]], 1 / 3, atol=0.03)


# -- perfect -------------------------------------------------------------------------------


@property_settings
@given(infant_runs())
def test_perfect_is_always_congruent(run_spec):
    n_expressions, infant = run_spec
    policy = Perfect({}, context(n_expressions, len(infant)), np.random.default_rng(0))
    shown = run(policy, infant, len(infant))
    np.testing.assert_array_equal(shown, infant)


# -- lagged --------------------------------------------------------------------------------


@property_settings
@given(infant_runs(), st.integers(0, 30))
def test_lagged_is_the_infant_shifted_by_lag(run_spec, lag):
    n_expressions, infant_steps = run_spec
    # the pre-roll: any infant expressions before t = 0
    pre_roll = np.resize(infant_steps[::-1], lag)
    infant = np.concatenate([pre_roll, infant_steps])
    n_steps = len(infant_steps)
    policy = Lagged({"lag": lag}, context(n_expressions, n_steps), np.random.default_rng(0))
    assert policy.lookback == lag
    shown = run(policy, infant, n_steps)
    np.testing.assert_array_equal(shown, infant[:n_steps])


@pytest.mark.parametrize(
    ("lag", "congruence"),
    [(0, 1.0), (2, 0.8), (5, 0.5), (8, 0.2), (10, 0.0), (15, 0.5), (20, 1.0), (23, 0.7)],
)
def test_lagged_congruence_on_alternation(lag, congruence):
    """model.md §9.6: c(L) = 1 − L/T up to T, L/T − 1 up to 2T, periodic in 2T."""
    n_steps = 2000
    policy = Lagged({"lag": lag}, context(2, n_steps), np.random.default_rng(0))
    infant = alternation(n_steps, policy.lookback)
    shown = run(policy, infant, n_steps)
    assert np.mean(shown == infant[lag:]) == pytest.approx(congruence)


# -- noisy ---------------------------------------------------------------------------------

modes = st.sampled_from(["timestep", "hold", "exact"])


@property_settings
@given(infant_runs(), modes, st.integers(0, 2**32 - 1))
def test_noisy_with_q0_is_perfect(run_spec, mode, seed):
    n_expressions, infant = run_spec
    ctx = context(n_expressions, len(infant))
    policy = Noisy({"q": 0.0, "mode": mode}, ctx, np.random.default_rng(seed))
    np.testing.assert_array_equal(run(policy, infant, len(infant)), infant)


@property_settings
@given(infant_runs(min_expressions=2), modes, st.integers(0, 2**32 - 1))
def test_noisy_with_q1_is_always_opposite(run_spec, mode, seed):
    n_expressions, infant = run_spec
    ctx = context(n_expressions, len(infant))
    policy = Noisy({"q": 1.0, "mode": mode}, ctx, np.random.default_rng(seed))
    shown = run(policy, infant, len(infant))
    assert np.all(shown != infant)
    assert np.all((shown >= 0) & (shown < n_expressions))
    if n_expressions == 2:
        np.testing.assert_array_equal(shown, 1 - infant)


@property_settings
@given(infant_runs(min_expressions=2), st.floats(0, 1), st.integers(0, 2**32 - 1))
def test_exact_mode_flips_exactly_round_q_n(run_spec, q, seed):
    n_expressions, infant = run_spec
    n_steps = len(infant)
    policy = Noisy(
        {"q": q, "mode": "exact"}, context(n_expressions, n_steps), np.random.default_rng(seed)
    )
    shown = run(policy, infant, n_steps)
    assert np.sum(shown != infant) == round(q * n_steps)


def test_exact_mode_repeats_its_fraction_in_every_block_of_n_steps():
    n_steps = 50
    policy = Noisy({"q": 0.3, "mode": "exact"}, context(3, n_steps), np.random.default_rng(4))
    infant = alternation(3 * n_steps)
    shown = run(policy, infant, 3 * n_steps)
    flipped = (shown != infant).reshape(3, n_steps)
    np.testing.assert_array_equal(flipped.sum(axis=1), [15, 15, 15])
    assert not np.array_equal(flipped[0], flipped[1])


@property_settings
@given(infant_runs(min_expressions=2), st.floats(0, 1), st.integers(0, 2**32 - 1))
def test_hold_mode_is_constant_within_holds(run_spec, q, seed):
    n_expressions, infant = run_spec
    policy = Noisy(
        {"q": q, "mode": "hold"}, context(n_expressions, len(infant)), np.random.default_rng(seed)
    )
    shown = run(policy, infant, len(infant))
    shift = (shown - infant) % n_expressions
    hold_index = np.cumsum(hold_starts(infant)) - 1
    for hold in range(hold_index[-1] + 1):
        assert len(set(shift[hold_index == hold].tolist())) == 1
        assert len(set(shown[hold_index == hold].tolist())) == 1


@property_settings
@given(infant_runs(min_expressions=2), modes, st.floats(0, 1), st.integers(0, 2**32 - 1))
def test_noisy_is_deterministic_given_the_rng(run_spec, mode, q, seed):
    n_expressions, infant = run_spec
    ctx = context(n_expressions, len(infant))
    first = run(
        Noisy({"q": q, "mode": mode}, ctx, np.random.default_rng(seed)), infant, len(infant)
    )
    again = run(
        Noisy({"q": q, "mode": mode}, ctx, np.random.default_rng(seed)), infant, len(infant)
    )
    np.testing.assert_array_equal(first, again)


@pytest.mark.parametrize("q", [0.1, 0.3, 0.5, 0.8])
@pytest.mark.parametrize("mode", ["timestep", "hold", "exact"])
def test_noisy_congruence_is_one_minus_q(q, mode):
    """model.md §9.6: Simulation 2 has congruence c = 1 − q in every mode."""
    n_steps = 4000
    policy = Noisy({"q": q, "mode": mode}, context(2, n_steps), np.random.default_rng(11))
    infant = alternation(n_steps)
    congruence = np.mean(run(policy, infant, n_steps) == infant)
    # binomial spread: per step for timestep mode, per hold (400 holds) for hold mode
    tolerance = {"timestep": 0.03, "hold": 0.08, "exact": 1e-9}[mode]
    assert congruence == pytest.approx(1 - q, abs=tolerance)


def test_timestep_flips_are_independent_of_holds():
    """Timestep mode flips single steps; hold mode flips whole holds (few switches)."""
    n_steps = 2000
    infant = alternation(n_steps)
    shown = {
        mode: run(
            Noisy({"q": 0.5, "mode": mode}, context(2, n_steps), np.random.default_rng(5)),
            infant,
            n_steps,
        )
        for mode in ("timestep", "hold")
    }
    switches = {mode: np.count_nonzero(np.diff(v)) for mode, v in shown.items()}
    # timestep: a switch on about half of all steps; hold: at most one per infant hold
    assert switches["timestep"] > 800
    assert switches["hold"] <= n_steps // HOLD


def test_noisy_with_many_expressions_shows_each_other_expression():
    n_steps = 3000
    policy = Noisy({"q": 1.0}, context(5, n_steps), np.random.default_rng(2))
    infant = np.zeros(n_steps, dtype=np.int64)
    shown = run(policy, infant, n_steps)
    fractions = np.bincount(shown, minlength=5) / n_steps
    assert fractions[0] == 0
    np.testing.assert_allclose(fractions[1:], 0.25, atol=0.03)


def test_noisy_needs_two_expressions_to_flip():
    with pytest.raises(ConfigError, match="q: expected 0 when the run has a single expression"):
        Noisy({"q": 0.2}, context(1), np.random.default_rng(0))
    policy = Noisy({"q": 0.0}, context(1), np.random.default_rng(0))
    np.testing.assert_array_equal(run(policy, np.zeros(5, dtype=np.int64), 5), np.zeros(5))


def test_noisy_refuses_timesteps_out_of_order():
    policy = Noisy({"q": 0.5}, context(2, n_steps=10), np.random.default_rng(0))
    infant = np.zeros(40, dtype=np.int64)
    policy.choose(0, infant[:1])
    policy.choose(15, infant[:16])  # in the second block of n_steps decisions
    with pytest.raises(ValueError, match="increasing order"):
        policy.choose(3, infant[:4])


@pytest.mark.parametrize("mode", ["timestep", "exact"])
def test_noisy_uses_the_decisions_of_the_timesteps_it_is_present(mode):
    """A parent sharing the infant acts on some timesteps only, with the same decisions."""
    n_steps = 200
    infant = alternation(n_steps)
    always = Noisy({"q": 0.4, "mode": mode}, context(2, 50), np.random.default_rng(3))
    shown = run(always, infant, n_steps)  # spans four blocks of 50
    present = np.r_[0:20, 130:160, 199]  # absent for more than a whole block
    sometimes = Noisy({"q": 0.4, "mode": mode}, context(2, 50), np.random.default_rng(3))
    chosen = [sometimes.choose(int(t), infant[: t + 1]) for t in present]
    np.testing.assert_array_equal(chosen, shown[present])


def test_hold_mode_decides_again_after_an_absence():
    """Coming back mid-hold, the parent makes a fresh decision for the rest of that hold."""
    infant = np.zeros(40, dtype=np.int64)  # one long infant hold
    decisions = set()
    for seed in range(20):
        policy = Noisy({"q": 0.5, "mode": "hold"}, context(2, 40), np.random.default_rng(seed))
        before = [policy.choose(t, infant[: t + 1]) for t in range(10)]
        after = [policy.choose(t, infant[: t + 1]) for t in range(25, 40)]
        assert len(set(before)) == 1 and len(set(after)) == 1
        decisions.add((before[0], after[0]))
    assert len(decisions) == 4  # both decisions are free: all four combinations occur


def test_policies_return_python_ints():
    infant = np.array([0, 1, 1], dtype=np.int64)
    for policy in (
        Perfect({}, context(), np.random.default_rng(0)),
        Noisy({"q": 0.5}, context(), np.random.default_rng(0)),
        Noisy({"q": 0.5, "mode": "hold"}, context(), np.random.default_rng(0)),
        Lagged({"lag": 1}, context(), np.random.default_rng(0)),
        Yoked({}, context(), np.random.default_rng(0)),
    ):
        assert type(policy.choose(1, infant[: policy.lookback + 2])) is int


# -- yoked ---------------------------------------------------------------------------------


def hold_lengths(shown: np.ndarray) -> np.ndarray:
    """Lengths of the runs of one expression, without the first and last (cut off)."""
    starts = np.flatnonzero(np.diff(shown)) + 1
    return np.diff(starts)


@property_settings
@given(infant_runs(min_expressions=2), st.sampled_from(["uniform", "random"]), st.integers(0, 99))
def test_yoked_ignores_the_infant(run_spec, schedule, seed):
    """The same generator gives the same expressions whatever the infant does."""
    n_expressions, infant = run_spec
    n_steps = len(infant)
    params = {"schedule": schedule}
    shown = run(Yoked(params, context(n_expressions, n_steps), np.random.default_rng(seed)),
                infant, n_steps)  # fmt: skip
    other = (infant + 1) % n_expressions
    again = run(Yoked(params, context(n_expressions, n_steps), np.random.default_rng(seed)),
                other, n_steps)  # fmt: skip
    np.testing.assert_array_equal(shown, again)
    assert shown.min() >= 0 and shown.max() < n_expressions


def test_yoked_has_the_infants_hold_statistics_and_no_contingency():
    """Uniform holds in [T/2, 3T/2] (mean T), every expression as often; c ≈ 1/2 on average."""
    n_steps = 20_000
    infant = alternation(n_steps)
    congruences = []
    for seed in range(10):
        policy = Yoked({}, context(2, n_steps), np.random.default_rng(seed))
        shown = run(policy, infant, n_steps)
        holds = hold_lengths(shown)
        assert holds.min() >= HOLD // 2 and holds.max() <= 3 * HOLD // 2
        assert holds.mean() == pytest.approx(HOLD, rel=0.05)
        assert np.mean(shown == 1) == pytest.approx(0.5, abs=0.03)
        congruences.append(np.mean(shown == infant))
    assert np.mean(congruences) == pytest.approx(0.5, abs=0.03)


def test_yoked_random_holds_are_geometric_and_hold_length_overrides():
    n_steps = 20_000
    policy = Yoked(
        {"schedule": "random", "hold_length": 4}, context(3, n_steps), np.random.default_rng(1)
    )
    shown = run(policy, alternation(n_steps), n_steps)
    holds = hold_lengths(shown)
    assert holds.mean() == pytest.approx(4, rel=0.05)
    assert holds.min() == 1  # geometric: many holds of a single timestep
    assert set(np.unique(shown)) == {0, 1, 2}


def test_yoked_runs_past_n_steps_with_a_fresh_schedule():
    """A live view stepped past the run's length keeps getting expressions."""
    policy = Yoked({}, context(2, 30), np.random.default_rng(0))
    infant = alternation(100)
    shown = run(policy, infant, 100)
    assert len(shown) == 100 and set(np.unique(shown)) == {0, 1}
    with pytest.raises(ValueError, match="increasing order"):
        policy.choose(5, infant[:6])


def test_yoked_params_are_checked():
    with pytest.raises(ValidationError):
        Yoked({"schedule": "alternating"}, context(), np.random.default_rng(0))
    with pytest.raises(ValidationError):
        Yoked({"hold_length": 0}, context(), np.random.default_rng(0))
