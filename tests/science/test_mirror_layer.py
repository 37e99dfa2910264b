"""The mirror layer reproduces the poster's findings with stand-in layer-4 codes (model.md §9–§11).

A minimal interaction loop without Mesa: the infant alternates expressions deterministically
(hold T = 10), the parent follows one of the §9 rules, layer 4 is replaced by banks of noisy
sparse population codes (one population per expression, partly shared between expressions, with
trial-to-trial jitter and a background of weak activity), and the §10 test phase runs
visual-only trials (motor input zero) and motor-only trials (5% bit flips, visual input zero).

Competitive networks break symmetry early, so every claim is checked over several seeds.
"""

from dataclasses import dataclass

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from dyad.analysis.classify import Classification, classify_arrays
from dyad.brain.mirror import MirrorConfig, MirrorLayer
from dyad.brain.motor import MotorConfig, MotorModule

HOLD = 10
N_L4 = 256
N_NEURONS = 64
N_STEPS = 1000
N_BANK = 100
N_TEST = 20
CONFIG = MirrorConfig(n_neurons=N_NEURONS).for_expressions(2)  # every other at its default
MOTOR = MotorConfig()


class StandInLayer4:
    """Noisy sparse population codes standing in for VisNet layer 4.

    Each expression has a population of ``active_fraction * n_cells`` cells, ``overlap`` of
    which are shared by all expressions. A trial keeps each population cell with probability
    ``keep`` (rate U(0.5, 1)), switches on ``extra * population`` random other cells, and gives
    every other cell a weak rate U(0, ``background``).
    """

    def __init__(
        self,
        n_expressions: int,
        rng: np.random.Generator,
        *,
        active_fraction: float = 0.1,
        overlap: float = 0.3,
        keep: float = 0.8,
        extra: float = 0.2,
        background: float = 0.1,
    ):
        n_active = round(active_fraction * N_L4)
        n_shared = round(overlap * n_active)
        cells = rng.permutation(N_L4)
        own = n_active - n_shared
        self.populations = [
            np.concatenate([cells[:n_shared], cells[n_shared + s * own : n_shared + (s + 1) * own]])
            for s in range(n_expressions)
        ]
        self.keep, self.n_extra, self.background = keep, round(extra * n_active), background

    def sample(self, expression: int, n: int, rng: np.random.Generator) -> np.ndarray:
        """(n, N_L4) float32 rates for ``n`` random transforms of one expression."""
        rates = rng.random((n, N_L4), dtype=np.float32) * np.float32(self.background)
        population = self.populations[expression]
        kept = rng.random((n, population.size)) < self.keep
        strong = 0.5 + 0.5 * rng.random((n, population.size), dtype=np.float32)
        rates[:, population] = np.where(kept, strong, rates[:, population])
        extra = rng.integers(N_L4, size=(n, self.n_extra))
        rates[np.arange(n)[:, None], extra] = 0.5 + 0.5 * rng.random(
            (n, self.n_extra), dtype=np.float32
        )
        return rates


@dataclass
class Outcome:
    before: Classification
    after: Classification

    @staticmethod
    def fractions(result: Classification) -> tuple[float, float]:
        classes = result.neuron_class
        return float(np.mean(classes == "mirror")), float(np.mean(classes == "anti-mirror"))

    @property
    def mirror_index(self) -> float:
        mirror, anti = self.fractions(self.after)
        return np.nan if mirror + anti == 0 else (mirror - anti) / (mirror + anti)


def interact(
    seed: int,
    *,
    noise: float = 0.0,
    lag: int = 0,
    n_expressions: int = 2,
    motor_config: MotorConfig = MOTOR,
    config: MirrorConfig = CONFIG,
    **layer4,
) -> Outcome:
    """Train one mirror layer through the §9 interaction and test it before and after (§10)."""
    rng = np.random.default_rng(seed)
    visual_system = StandInLayer4(n_expressions, rng, **layer4)
    bank = np.stack([visual_system.sample(s, N_BANK, rng) for s in range(n_expressions)])
    held_out = np.stack([visual_system.sample(s, N_TEST, rng) for s in range(n_expressions)])
    motor = MotorModule(motor_config, n_expressions, rng)
    layer = MirrorLayer(config, N_L4, motor.n_motor, rng)
    picks = rng.integers(N_BANK, size=64)
    layer.calibrate(
        bank[rng.integers(n_expressions, size=64), picks],
        motor.patterns[rng.integers(n_expressions, size=64)],
    )

    # infant: deterministic alternation; parent: v_t = m_{t-lag} (periodic pre-roll), then
    # the opposite expression on a fraction `noise` of timesteps
    clock = np.arange(-lag, N_STEPS)
    produced_all = (clock // HOLD) % n_expressions
    produced, seen = produced_all[lag:], produced_all[:N_STEPS].copy()
    flip = rng.random(N_STEPS) < noise
    seen[flip] = (seen[flip] + rng.integers(1, n_expressions, size=flip.sum())) % n_expressions
    items = rng.integers(N_BANK, size=N_STEPS)

    def test_phase() -> Classification:
        n_trials = n_expressions * N_TEST
        visual = layer.respond(
            held_out.reshape(n_trials, N_L4), np.zeros((n_trials, motor.n_motor), np.float32)
        )
        motor_trials = np.concatenate(
            [motor.noisy_patterns(s, N_TEST, 0.05, rng) for s in range(n_expressions)]
        )
        motor_only = layer.respond(np.zeros((n_trials, N_L4), np.float32), motor_trials)
        return classify_arrays(
            visual.reshape(n_expressions, N_TEST, -1), motor_only.reshape(n_expressions, N_TEST, -1)
        )

    before = test_phase()
    # one BLAS thread: the per-step products are far too small to gain from threads
    with threadpool_limits(1):
        for t in range(N_STEPS):
            layer.step(bank[seen[t], items[t]], motor.patterns[produced[t]])
    return Outcome(before=before, after=test_phase())


@pytest.mark.parametrize("seed", range(5))
def test_perfect_mimicry_makes_every_neuron_a_mirror_neuron(seed):
    outcome = interact(seed)
    mirror, _ = Outcome.fractions(outcome.after)
    assert mirror >= 0.9
    # both expressions are represented by mirror neurons
    is_mirror = outcome.after.neuron_class == "mirror"
    preferred = outcome.after.visual.preferred[is_mirror]
    assert set(preferred.tolist()) == {0, 1}
    assert min(np.bincount(preferred, minlength=2)) >= 0.3 * N_NEURONS
    # the untrained layer: at most a few chance "mirror" cells (measured: none)
    untrained_mirror, untrained_anti = Outcome.fractions(outcome.before)
    assert untrained_mirror <= 0.05
    assert untrained_anti <= 0.05


@pytest.mark.parametrize(
    ("variant", "kwargs"),
    [
        ("half the layer-4 population shared", {"overlap": 0.5}),
        ("sloppy layer-4 codes", {"keep": 0.6, "extra": 0.5, "background": 0.3}),
        ("random sparse motor codes", {"motor_config": MotorConfig(coding="sparse")}),
        (
            "overlapping random motor codes",
            {"motor_config": MotorConfig(coding="sparse", active_fraction=0.5)},
        ),
        (
            "joint normalisation",
            {"config": MirrorConfig(n_neurons=64, normalisation="joint").for_expressions(2)},
        ),
    ],
)
def test_perfect_mimicry_does_not_need_clean_inputs(variant, kwargs):
    fractions = [Outcome.fractions(interact(seed, **kwargs).after)[0] for seed in range(3)]
    assert min(fractions) >= 0.9, variant


@pytest.mark.parametrize("n_expressions", [3, 4, 6])
def test_perfect_mimicry_with_more_expressions(n_expressions):
    config = MirrorConfig(n_neurons=N_NEURONS, sparseness=1 - 1 / n_expressions)
    for seed in range(2):
        after = interact(seed, n_expressions=n_expressions, config=config).after
        is_mirror = after.neuron_class == "mirror"
        assert is_mirror.mean() >= 0.85
        assert set(after.visual.preferred[is_mirror].tolist()) == set(range(n_expressions))


def test_mirror_index_degrades_with_noise():
    """Seed-averaged mirror index: about +1 at q = 0.1; near 0 at q = 0.5.

    At q = 0.5 vision and motor are independent. Each network then ends up mostly motor-only
    (or visual-only), with at most one kind of bimodal neuron, so its own MI is +1, -1 or
    undefined (no mirror and no anti-mirror neuron); an undefined MI counts as 0, no preference.
    """

    def mean_index(outcomes: list[Outcome]) -> float:
        return float(np.mean([np.nan_to_num(o.mirror_index, nan=0.0) for o in outcomes]))

    def bimodal_share(outcomes: list[Outcome]) -> float:
        return float(np.mean([sum(Outcome.fractions(o.after)) for o in outcomes]))

    low = [interact(100 + seed, noise=0.1) for seed in range(8)]
    assert mean_index(low) >= 0.8
    half = [interact(200 + seed, noise=0.5) for seed in range(16)]
    assert abs(mean_index(half)) <= 0.5
    # far fewer neurons are selective in both modalities than after mostly congruent training
    assert bimodal_share(half) < 0.6 * bimodal_share(low)


@pytest.mark.parametrize("seed", range(5))
def test_lag_of_one_hold_makes_anti_mirror_neurons(seed):
    """L = T: the parent is exactly anti-phase (congruence c = 0)."""
    mirror, anti = Outcome.fractions(interact(300 + seed, lag=HOLD).after)
    assert anti >= 0.5
    assert anti > 5 * mirror


def test_lag_of_two_holds_looks_like_perfect_mimicry():
    """L = 2T gives c = 1 again: a Hebb layer without a trace cannot tell it from L = 0."""
    mirror, _ = Outcome.fractions(interact(400, lag=2 * HOLD).after)
    assert mirror >= 0.9
