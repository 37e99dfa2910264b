"""Tests for the reaction-delay policy, loaded from its folder exactly as dyad loads plugins."""

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from dyad.plugins import load_registry
from dyad.policies import PolicyContext

PLUGINS_FOLDER = Path(__file__).resolve().parents[2]
HOLD = 10


@pytest.fixture(scope="module")
def registry():
    return load_registry(plugin_dirs=[PLUGINS_FOLDER], entry_points=False)


def alternating_schedule(n_steps: int, lookback: int, hold: int = HOLD) -> np.ndarray:
    """Infant expressions 0/1 alternating every ``hold`` steps, pre-rolled ``lookback`` steps."""
    t = np.arange(-lookback, n_steps)
    return ((t // hold) % 2).astype(np.int64)


def run(policy, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    history = alternating_schedule(n_steps, policy.lookback)
    shown = np.array([policy.choose(t, history[: policy.lookback + t + 1]) for t in range(n_steps)])
    return history[policy.lookback :], shown


def make(registry, params, seed=0, n_steps=2000):
    context = PolicyContext(("happy", "sad"), n_steps=n_steps, hold_length=HOLD)
    return registry.create("reaction_delay", params, context, np.random.default_rng(seed))


def test_registered_from_its_folder(registry):
    entry = registry.get("reaction_delay")
    assert (
        entry.source == f"file {PLUGINS_FOLDER / 'dyad-reaction-delay' / 'dyad_reaction_delay.py'}"
    )
    assert "reaction delay" in entry.description


def test_params_are_validated(registry):
    assert registry.validate_params("reaction_delay", {}).max_delay == 4
    with pytest.raises(ValidationError, match="min_delay must not exceed max_delay"):
        registry.validate_params("reaction_delay", {"min_delay": 5, "max_delay": 2})
    with pytest.raises(ValidationError, match="delay_max"):
        registry.validate_params("reaction_delay", {"delay_max": 2})


@pytest.mark.parametrize("delay", [0, 3, 10])
def test_fixed_delay_is_a_lag(registry, delay):
    policy = make(registry, {"min_delay": delay, "max_delay": delay})
    infant, shown = run(policy, 300)
    full = alternating_schedule(300, delay)
    np.testing.assert_array_equal(shown, full[: len(full) - delay])
    assert np.mean(shown == infant) == pytest.approx(1 - delay / HOLD)


def test_congruence_follows_the_mean_delay(registry):
    policy = make(registry, {"min_delay": 1, "max_delay": 4}, seed=3)
    infant, shown = run(policy, 2000)
    congruent = shown == infant
    # each hold starts with exactly d incongruent steps, then the parent catches up
    per_hold = (~congruent).reshape(-1, HOLD)
    n_late = per_hold.sum(axis=1)
    assert set(n_late.tolist()) <= {1, 2, 3, 4}
    assert all(row[:k].all() and not row[k:].any() for row, k in zip(per_hold, n_late, strict=True))
    assert len(set(n_late.tolist())) == 4
    assert congruent.mean() == pytest.approx(1 - 2.5 / HOLD, abs=0.03)


def test_same_seed_same_parent(registry):
    _, first = run(make(registry, {"min_delay": 0, "max_delay": 9}, seed=7), 500)
    _, again = run(make(registry, {"min_delay": 0, "max_delay": 9}, seed=7), 500)
    _, other = run(make(registry, {"min_delay": 0, "max_delay": 9}, seed=8), 500)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
