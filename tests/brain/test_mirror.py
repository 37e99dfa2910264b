"""Motor module and mirror layer: codes, competition, learning, normalisation, saving."""

import math

import numpy as np
import pytest
from scipy.special import expit

from dyad.brain.mirror import MirrorConfig, MirrorLayer, n_winners
from dyad.brain.motor import MotorConfig, MotorModule
from dyad.errors import ConfigError

N_VISUAL, N_MOTOR = 40, 16


# ------------------------------------------------------------------------------ motor module


@pytest.mark.parametrize("n_expressions", range(2, 7))
def test_block_codes_switch_on_one_block_per_expression(n_expressions):
    motor = MotorModule(MotorConfig(units_per_expression=8), n_expressions, rng(0))
    patterns = motor.patterns
    assert patterns.dtype == np.float32
    assert patterns.shape == (n_expressions, 8 * n_expressions) == (n_expressions, motor.n_motor)
    assert set(np.unique(patterns).tolist()) == {0.0, 1.0}
    np.testing.assert_array_equal(patterns.sum(axis=1), 8)
    for s in range(n_expressions):
        np.testing.assert_array_equal(np.flatnonzero(patterns[s]), np.arange(8 * s, 8 * s + 8))


@pytest.mark.parametrize("n_expressions", range(2, 7))
@pytest.mark.parametrize("active_fraction", [0.1, 0.5])
def test_sparse_codes_have_the_right_count_and_are_distinct(n_expressions, active_fraction):
    config = MotorConfig(units_per_expression=20, coding="sparse", active_fraction=active_fraction)
    motor = MotorModule(config, n_expressions, rng(1))
    patterns = motor.patterns
    assert patterns.shape == (n_expressions, 20 * n_expressions)
    assert set(np.unique(patterns).tolist()) == {0.0, 1.0}
    np.testing.assert_array_equal(patterns.sum(axis=1), round(active_fraction * motor.n_motor))
    assert len({row.tobytes() for row in patterns}) == n_expressions
    again = MotorModule(config, n_expressions, rng(1)).patterns
    np.testing.assert_array_equal(patterns, again)
    other = MotorModule(config, n_expressions, rng(2)).patterns
    assert not np.array_equal(patterns, other)


def test_sparse_codes_are_distinct_even_when_few_exist():
    # 2 units, 1 on: only 2 possible codes, so duplicates must be redrawn
    config = MotorConfig(units_per_expression=1, coding="sparse", active_fraction=0.5)
    for seed in range(10):
        patterns = MotorModule(config, 2, rng(seed)).patterns
        assert not np.array_equal(patterns[0], patterns[1])


def test_impossible_number_of_distinct_sparse_codes_is_refused():
    config = MotorConfig(units_per_expression=1, coding="sparse", active_fraction=1.0)
    with pytest.raises(ConfigError, match="active_fraction"):
        MotorModule(config, 2, rng(0))


def test_patterns_are_read_only():
    motor = MotorModule(MotorConfig(), 2, rng(0))
    with pytest.raises(ValueError):
        motor.patterns[0, 0] = 5.0


def test_noisy_patterns_flip_exactly_the_requested_share():
    motor = MotorModule(MotorConfig(units_per_expression=20), 2, rng(0))
    trials = motor.noisy_patterns(1, 30, 0.05, rng(3))
    assert trials.shape == (30, 40) and trials.dtype == np.float32
    assert set(np.unique(trials).tolist()) <= {0.0, 1.0}
    np.testing.assert_array_equal(np.abs(trials - motor.patterns[1]).sum(axis=1), 2)
    assert len({row.tobytes() for row in trials}) > 1  # trials differ from each other
    np.testing.assert_array_equal(motor.noisy_patterns(0, 3, 0.0, rng(3)), motor.patterns[[0] * 3])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"units_per_expression": 0}, "units_per_expression"),
        ({"units_per_expression": 2.5}, "units_per_expression"),
        ({"coding": "dense"}, "coding"),
        ({"active_fraction": 0.0}, "active_fraction"),
        ({"active_fraction": 1.5}, "active_fraction"),
    ],
)
def test_motor_config_validation_names_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=f"^{field}: "):
        MotorConfig(**kwargs)


def test_motor_module_needs_an_expression():
    with pytest.raises(ConfigError, match="n_expressions"):
        MotorModule(MotorConfig(), 0, rng(0))


# ------------------------------------------------------------------------------ config


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n_neurons": 1}, "n_neurons"),
        ({"n_neurons": True}, "n_neurons"),
        ({"competition": "softmax"}, "competition"),
        ({"sparseness": 1.0}, "sparseness"),
        ({"sparseness": -0.1}, "sparseness"),
        ({"n_neurons": 10, "sparseness": 0.95}, "sparseness"),  # 0 winners
        ({"slope": 0.0}, "slope"),
        ({"slope": float("inf")}, "slope"),
        ({"learning_rate": -0.01}, "learning_rate"),
        ({"normalisation": "l1"}, "normalisation"),
        ({"motor_gain": "equal"}, "motor_gain"),
        ({"motor_gain": -1.0}, "motor_gain"),
        ({"trace_eta": 1.0}, "trace_eta"),
        ({"homeostasis": -0.1}, "homeostasis"),
    ],
)
def test_mirror_config_validation_names_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=f"^{field}: "):
        MirrorConfig(**kwargs)


def test_mirror_config_reports_every_problem():
    with pytest.raises(ConfigError) as info:
        MirrorConfig(slope=-1, learning_rate=-1, competition="x")
    assert len(info.value.problems) == 3


def test_number_of_winners():
    assert n_winners(100, 0.9) == 10  # not 9 from 100 * 0.0999...
    assert n_winners(1024, 0.91) == 92
    assert MirrorConfig(n_neurons=256, sparseness=0.5).n_winners == 128


@pytest.mark.parametrize(("n_expressions", "winners"), [(2, 128), (3, 85), (6, 42)])
def test_auto_sparseness_gives_each_expression_its_share_of_the_layer(n_expressions, winners):
    config = MirrorConfig(n_neurons=256)
    assert config.sparseness == "auto"
    assert config.for_expressions(n_expressions).n_winners == winners
    assert MirrorConfig(n_neurons=256, sparseness=0.7).for_expressions(3).sparseness == 0.7
    with pytest.raises(ConfigError, match="for_expressions"):
        MirrorLayer(config, 10, 4, rng(0))


@pytest.mark.parametrize(("n_expressions", "size"), [(2, 256), (3, 255), (4, 256), (6, 252)])
def test_auto_size_is_the_largest_multiple_of_s_up_to_256(n_expressions, size):
    # each expression's group then settles at exactly k = N/S neurons (docs/mirror.md)
    config = MirrorConfig().for_expressions(n_expressions)
    assert config.n_neurons == size and config.n_winners * n_expressions == size
    assert MirrorConfig(n_neurons=64).for_expressions(3).n_neurons == 64  # a given size stays
    with pytest.raises(ConfigError, match="n_neurons"):
        MirrorLayer(MirrorConfig(sparseness=0.5), 10, 4, rng(0))


# ------------------------------------------------------------------------------ the layer


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def inputs(n: int, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Random non-negative visual rates and binary motor patterns."""
    g = rng(seed)
    visual = g.random((n, N_VISUAL), dtype=np.float32) * (g.random((n, N_VISUAL)) < 0.3)
    motor = (g.random((n, N_MOTOR)) < 0.4).astype(np.float32)
    return visual.astype(np.float32), motor


def make_layer(seed: int = 0, **kwargs) -> MirrorLayer:
    config = MirrorConfig(**{"n_neurons": 24, **kwargs}).for_expressions(2)
    layer = MirrorLayer(config, N_VISUAL, N_MOTOR, rng(seed))
    layer.calibrate(*inputs(64, seed=99))
    return layer


def part_norms(layer: MirrorLayer) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.linalg.norm(layer.weights_visual.astype(np.float64), axis=1),
        np.linalg.norm(layer.weights_motor.astype(np.float64), axis=1),
    )


@pytest.mark.parametrize("normalisation", ["per_modality", "joint"])
def test_initial_weights_are_uniform_and_normalised(normalisation):
    layer = MirrorLayer(
        MirrorConfig(n_neurons=300, normalisation=normalisation).for_expressions(2), 50, 20, rng(0)
    )
    wv, wm = layer.weights_visual, layer.weights_motor
    assert wv.shape == (300, 50) and wm.shape == (300, 20)
    assert wv.dtype == wm.dtype == np.float32
    assert (wv > 0).all() and (wm > 0).all()
    nv, nm = part_norms(layer)
    if normalisation == "per_modality":
        np.testing.assert_allclose(nv, 1 / math.sqrt(2), rtol=1e-6)
        np.testing.assert_allclose(nm, 1 / math.sqrt(2), rtol=1e-6)
    else:
        np.testing.assert_allclose(np.hypot(nv, nm), 1.0, rtol=1e-6)
    # U(0,1) before normalisation: the ratio of largest to smallest weight is large
    assert (wv.max(axis=1) / wv.min(axis=1)).min() > 5


@pytest.mark.parametrize("normalisation", ["per_modality", "joint"])
@pytest.mark.parametrize("trace_eta", [0.0, 0.8])
def test_weight_parts_stay_normalised_after_every_update(normalisation, trace_eta):
    layer = make_layer(normalisation=normalisation, trace_eta=trace_eta, learning_rate=0.2)
    visual, motor = inputs(600)  # more steps than between two exact renormalisations
    start = layer.weights_visual
    for t in range(600):
        layer.step(visual[t], motor[t])
        nv, nm = part_norms(layer)
        if normalisation == "per_modality":
            np.testing.assert_allclose(nv, 1 / math.sqrt(2), rtol=2e-5)
            np.testing.assert_allclose(nm, 1 / math.sqrt(2), rtol=2e-5)
        else:
            np.testing.assert_allclose(np.hypot(nv, nm), 1.0, rtol=2e-5)
    assert np.abs(layer.weights_visual - start).max() > 0.1  # learning did happen


def reference_run(layer: MirrorLayer, visual, motor, trace_eta=0.0, homeostasis=0.0):
    """Straightforward float64 re-implementation of the same steps (for comparison)."""
    config = layer.config
    wv = layer.weights_visual.astype(np.float64)
    wm = layer.weights_motor.astype(np.float64)
    gain, beta, k, n = layer.motor_gain, layer.beta, config.n_winners, config.n_neurons
    trace, bias, spread = np.zeros(n), np.zeros(n), config.slope / beta
    rates_out = []
    for x_v, m in zip(visual.astype(np.float64), motor.astype(np.float64), strict=True):
        x_m = gain * m
        h = wv @ x_v + wm @ x_m - bias
        top = np.sort(h)[::-1]
        rates = expit(2 * beta * (h - 0.5 * (top[k - 1] + top[k])))
        post = trace if trace_eta > 0 else rates
        wv += config.learning_rate * post[:, None] * x_v[None, :]
        wm += config.learning_rate * post[:, None] * x_m[None, :]
        if config.normalisation == "joint":
            norm = np.sqrt((wv**2).sum(axis=1) + (wm**2).sum(axis=1))
            wv, wm = wv / norm[:, None], wm / norm[:, None]
        else:
            wv /= math.sqrt(2) * np.linalg.norm(wv, axis=1)[:, None]
            wm /= math.sqrt(2) * np.linalg.norm(wm, axis=1)[:, None]
        trace = trace_eta * trace + (1 - trace_eta) * rates
        bias += homeostasis * spread * (rates - k / n)
        rates_out.append(rates)
    return np.array(rates_out), wv, wm, trace, bias


@pytest.mark.parametrize("normalisation", ["per_modality", "joint"])
@pytest.mark.parametrize("trace_eta", [0.0, 0.8])
def test_step_matches_a_plain_reference(normalisation, trace_eta):
    layer = make_layer(normalisation=normalisation, trace_eta=trace_eta, learning_rate=0.05)
    visual, motor = inputs(20)
    expected_rates, wv, wm, trace, bias = reference_run(
        layer, visual, motor, trace_eta, layer.config.homeostasis
    )
    rates = np.array([layer.step(v, m).copy() for v, m in zip(visual, motor, strict=True)])
    np.testing.assert_allclose(rates, expected_rates, atol=2e-4)
    np.testing.assert_allclose(layer.weights_visual, wv, atol=2e-5)
    np.testing.assert_allclose(layer.weights_motor, wm, atol=2e-5)
    np.testing.assert_allclose(layer.trace, trace if trace_eta else 0.0, atol=2e-5)
    np.testing.assert_allclose(layer.bias, bias, atol=1e-6)


def test_trace_rule_uses_the_trace_before_this_steps_update():
    layer = make_layer(trace_eta=0.8, learning_rate=0.1, homeostasis=0.0)
    visual, motor = inputs(2)
    w0 = layer.weights_visual
    first = layer.step(visual[0], motor[0]).copy()
    # the trace was zero, so the first step cannot change any weight
    np.testing.assert_array_equal(layer.weights_visual, w0)
    np.testing.assert_allclose(layer.trace, 0.2 * first, rtol=1e-6)
    second = layer.step(visual[1], motor[1]).copy()
    with_pre_trace = w0 + 0.1 * (0.2 * first)[:, None] * visual[1][None, :]
    with_pre_trace /= math.sqrt(2) * np.linalg.norm(with_pre_trace, axis=1)[:, None]
    np.testing.assert_allclose(layer.weights_visual, with_pre_trace, atol=1e-6)
    # updating the trace first would have given different weights
    post_trace = 0.8 * 0.2 * first + 0.2 * second
    wrong = w0 + 0.1 * post_trace[:, None] * visual[1][None, :]
    wrong /= math.sqrt(2) * np.linalg.norm(wrong, axis=1)[:, None]
    assert np.abs(layer.weights_visual - wrong).max() > 1e-4


@pytest.mark.parametrize("sparseness", [0.5, 0.75, 0.9])
def test_percentile_competition_puts_exactly_k_neurons_above_threshold(sparseness):
    layer = make_layer(n_neurons=40, sparseness=sparseness)
    k = layer.config.n_winners
    visual, motor = inputs(50)
    for v, m in zip(visual, motor, strict=True):
        rates = layer.step(v, m)
        assert np.count_nonzero(rates > 0.5) == k
        assert rates.min() >= 0 and rates.max() <= 1
    batch = layer.respond(visual, motor)
    np.testing.assert_array_equal(np.count_nonzero(batch > 0.5, axis=1), k)


def test_kwta_gives_exactly_k_ones():
    layer = make_layer(n_neurons=40, competition="kwta", sparseness=0.75)
    visual, motor = inputs(30)
    for v, m in zip(visual, motor, strict=True):
        rates = layer.step(v, m)
        assert np.count_nonzero(rates == 1.0) == 10
        assert np.count_nonzero(rates == 0.0) == 30
    batch = layer.respond(visual, motor)
    np.testing.assert_array_equal(batch.sum(axis=1), 10)


def test_kwta_winners_are_the_largest_activations():
    layer = make_layer(n_neurons=40, competition="kwta", sparseness=0.75, homeostasis=0.0)
    visual, motor = inputs(1)
    h = layer.weights_visual @ visual[0] + layer.motor_gain * (layer.weights_motor @ motor[0])
    rates = layer.step(visual[0], motor[0], learn=False)
    np.testing.assert_array_equal(np.flatnonzero(rates), np.sort(np.argsort(h)[-10:]))


def test_respond_changes_nothing_and_matches_step_without_learning():
    layer = make_layer(trace_eta=0.5)
    visual, motor = inputs(40)
    for v, m in zip(visual[:20], motor[:20], strict=True):
        layer.step(v, m)
    saved = layer.to_arrays()
    batch = layer.respond(visual[20:], motor[20:])
    assert batch.shape == (20, 24) and batch.dtype == np.float32
    for name, value in layer.to_arrays().items():
        np.testing.assert_array_equal(value, saved[name], err_msg=name)
    single = np.array(
        [layer.step(v, m, learn=False).copy() for v, m in zip(visual[20:], motor[20:], strict=True)]
    )
    np.testing.assert_allclose(batch, single, atol=1e-5)
    for name, value in layer.to_arrays().items():
        np.testing.assert_array_equal(value, saved[name], err_msg=name)


def test_step_returns_the_internal_buffer():
    layer = make_layer()
    visual, motor = inputs(2)
    first = layer.step(visual[0], motor[0])
    kept = first.copy()
    second = layer.step(visual[1], motor[1])
    assert second is first  # valid until the next call
    assert not np.array_equal(kept, second)


def test_layers_with_the_same_seed_are_identical_bit_for_bit():
    visual, motor = inputs(300)
    runs = []
    for _ in range(2):
        layer = make_layer(seed=7)
        rates = [layer.step(v, m).copy() for v, m in zip(visual, motor, strict=True)]
        runs.append((np.array(rates), layer.to_arrays()))
    assert runs[0][0].tobytes() == runs[1][0].tobytes()
    for name in runs[0][1]:
        assert runs[0][1][name].tobytes() == runs[1][1][name].tobytes(), name
    other = make_layer(seed=8)
    assert not np.array_equal(other.weights_visual, make_layer(seed=7).weights_visual)


def test_auto_motor_gain_equalises_the_initial_mean_drives():
    layer = MirrorLayer(MirrorConfig(n_neurons=24).for_expressions(2), N_VISUAL, N_MOTOR, rng(0))
    visual, motor = inputs(64, seed=99)
    layer.calibrate(visual, motor)
    mean_visual = (visual @ layer.weights_visual.T).mean()
    mean_motor = layer.motor_gain * (motor @ layer.weights_motor.T).mean()
    assert mean_visual == pytest.approx(mean_motor, rel=1e-5)
    h = visual @ layer.weights_visual.T + layer.motor_gain * motor @ layer.weights_motor.T
    assert layer.beta == pytest.approx(0.4 / np.sqrt(np.mean(h.var(axis=1))), rel=1e-4)


def test_fixed_motor_gain_is_used_as_given():
    layer = MirrorLayer(
        MirrorConfig(n_neurons=24, motor_gain=2.5).for_expressions(2), N_VISUAL, N_MOTOR, rng(0)
    )
    layer.calibrate(*inputs(64))
    assert layer.motor_gain == 2.5
    visual, motor = inputs(1)
    layer.step(visual[0], motor[0], learn=False)
    expected_motor = (2.5 * layer.weights_motor @ motor[0]).mean()
    assert layer.last_motor_drive == pytest.approx(expected_motor, rel=1e-5)
    assert layer.last_visual_drive == pytest.approx(
        (layer.weights_visual @ visual[0]).mean(), rel=1e-5
    )


def test_the_layer_must_be_calibrated_first():
    layer = MirrorLayer(MirrorConfig(n_neurons=24).for_expressions(2), N_VISUAL, N_MOTOR, rng(0))
    visual, motor = inputs(2)
    with pytest.raises(RuntimeError, match="calibrate"):
        layer.step(visual[0], motor[0])
    with pytest.raises(RuntimeError, match="calibrate"):
        layer.respond(visual, motor)


def test_calibration_refuses_inputs_that_do_not_drive_the_layer():
    layer = MirrorLayer(MirrorConfig(n_neurons=24).for_expressions(2), N_VISUAL, N_MOTOR, rng(0))
    visual, _ = inputs(8)
    with pytest.raises(ValueError, match="motor drive"):
        layer.calibrate(visual, np.zeros((8, N_MOTOR), np.float32))
    with pytest.raises(ValueError, match="visual_batch"):
        layer.calibrate(visual[:, :5], np.ones((8, N_MOTOR), np.float32))


def test_wrong_input_shapes_are_refused():
    layer = make_layer()
    visual, motor = inputs(3)
    with pytest.raises(ValueError, match="visual"):
        layer.step(visual[0, :10], motor[0])
    with pytest.raises(ValueError, match="motor"):
        layer.step(visual[0], motor[0, :3])
    with pytest.raises(ValueError, match="motor"):
        layer.respond(visual, motor[:2])
    with pytest.raises(ConfigError, match="n_visual"):
        MirrorLayer(MirrorConfig().for_expressions(2), 0, 5, rng(0))


def test_float64_inputs_are_accepted():
    layer = make_layer()
    visual, motor = inputs(1)
    as32 = layer.step(visual[0], motor[0], learn=False).copy()
    as64 = layer.step(visual[0].astype(np.float64), motor[0].astype(np.float64), learn=False)
    np.testing.assert_allclose(as32, as64, atol=1e-6)


def test_conscience_bias_tracks_how_often_each_neuron_wins():
    layer = make_layer(homeostasis=0.1, learning_rate=0.0)
    visual, motor = inputs(1)
    for _ in range(5):  # the same input again and again: the same neurons keep winning
        rates = layer.step(visual[0], motor[0]).copy()
    bias = layer.bias
    assert (bias[rates > 0.9] > 0).all() and (bias[rates < 0.1] < 0).all()
    # learn=False leaves the bias alone
    layer.step(visual[0], motor[0], learn=False)
    np.testing.assert_array_equal(layer.bias, bias)
    # without homeostasis there is no bias
    plain = make_layer(homeostasis=0.0)
    plain.step(visual[0], motor[0])
    np.testing.assert_array_equal(plain.bias, 0.0)


def test_ever_shrinking_weights_become_zero_not_subnormal():
    config = MirrorConfig(n_neurons=8, learning_rate=0.5, homeostasis=0.0).for_expressions(2)
    layer = MirrorLayer(config, N_VISUAL, N_MOTOR, rng(0))
    visual = np.zeros(N_VISUAL, np.float32)
    visual[:4] = 1.0
    motor = np.zeros(N_MOTOR, np.float32)
    motor[:4] = 1.0
    layer.calibrate(visual[None, :], motor[None, :])
    for _ in range(3000):
        layer.step(visual, motor)
    weights = np.concatenate([layer.weights_visual.ravel(), layer.weights_motor.ravel()])
    tiny = np.finfo(np.float32).tiny
    assert not ((weights > 0) & (weights < tiny)).any()
    assert (weights == 0).any()  # the unused inputs' weights have decayed away


@pytest.mark.parametrize("normalisation", ["per_modality", "joint"])
def test_saved_layer_restores_and_continues_identically(normalisation):
    layer = make_layer(normalisation=normalisation, trace_eta=0.5)
    visual, motor = inputs(60)
    for v, m in zip(visual[:30], motor[:30], strict=True):
        layer.step(v, m)
    restored = MirrorLayer.from_arrays(layer.config, layer.to_arrays())
    assert restored.n_visual == N_VISUAL and restored.n_motor == N_MOTOR
    np.testing.assert_array_equal(restored.respond(visual, motor), layer.respond(visual, motor))
    for v, m in zip(visual[30:], motor[30:], strict=True):
        np.testing.assert_array_equal(restored.step(v, m), layer.step(v, m))
    np.testing.assert_array_equal(restored.weights_visual, layer.weights_visual)


def test_from_arrays_checks_shapes():
    layer = make_layer()
    arrays = layer.to_arrays()
    with pytest.raises(ValueError, match="weights"):
        MirrorLayer.from_arrays(MirrorConfig(n_neurons=10).for_expressions(2), arrays)


def test_effective_weights_alone_restore_the_layer():
    layer = make_layer()
    visual, motor = inputs(40)
    for v, m in zip(visual[:20], motor[:20], strict=True):
        layer.step(v, m)
    arrays = {k: v for k, v in layer.to_arrays().items() if not k.startswith(("raw_", "scale_"))}
    restored = MirrorLayer.from_arrays(layer.config, arrays)
    np.testing.assert_array_equal(restored.weights_visual, layer.weights_visual)
    np.testing.assert_allclose(
        restored.respond(visual, motor), layer.respond(visual, motor), atol=1e-5
    )


def _group_of_k_plus_one(competition: str) -> tuple[np.ndarray, int]:
    """Rates of a layer whose first k + 1 neurons learnt the same motor pattern, shown it."""
    layer = make_layer(n_neurons=24, sparseness=0.75, homeostasis=0.0, competition=competition)
    k = layer.config.n_winners
    arrays = {
        name: value
        for name, value in layer.to_arrays().items()
        if not name.startswith(("raw_", "scale_"))
    }
    pattern = np.zeros(N_MOTOR, dtype=np.float32)
    pattern[:4] = 1.0
    group = slice(0, k + 1)
    arrays["weights_motor"][group] = pattern / (np.linalg.norm(pattern) * math.sqrt(2))
    arrays["weights_visual"][group] = 1.0 / math.sqrt(2 * N_VISUAL)
    restored = MirrorLayer.from_arrays(layer.config, arrays)
    rates = restored.respond(np.zeros((1, N_VISUAL), np.float32), pattern[None])[0]
    return rates, k


def test_a_group_one_larger_than_k_straddles_the_percentile_threshold():
    # Why a mirror group of k + 1 fires at about 0.5 (docs/mirror.md): its equal activations
    # are both the k-th and the (k+1)-th largest, so the threshold falls on them.
    rates, k = _group_of_k_plus_one("percentile")
    np.testing.assert_allclose(rates[: k + 1], 0.5, atol=1e-3)
    assert np.all(rates[k + 1 :] < 0.5)


def test_kwta_breaks_the_tie_of_a_group_one_larger_than_k():
    rates, k = _group_of_k_plus_one("kwta")
    assert np.count_nonzero(rates[: k + 1] == 1.0) == k
    assert np.count_nonzero(rates == 1.0) == k
