"""One competitive layer: inhibition filter, sampling, threshold, learning, back-ends."""

import numpy as np
import pytest

from dyad.brain.connectivity import inhibition_filter, sample_presynaptic, wrap_filter
from dyad.brain.layer import CompetitiveLayer, n_winners, unit_rows
from dyad.errors import ConfigError

CLASSIC_INHIBITION = ((1.38, 1.5, 7), (2.7, 1.5, 11), (4.0, 1.6, 17), (6.0, 1.4, 25))


@pytest.mark.parametrize(
    ("params", "centre"),
    list(zip(CLASSIC_INHIBITION, (8.47, 33.61, 79.42, 156.94), strict=True)),
)
def test_inhibition_filter_sums_to_one_with_classic_centre(params, centre):
    filt = inhibition_filter(*params)
    width = params[2]
    assert filt.shape == (width, width)
    assert filt.sum() == pytest.approx(1.0, abs=1e-12)
    assert filt[width // 2, width // 2] == pytest.approx(centre, abs=0.005)
    surround = filt.copy()
    surround[width // 2, width // 2] = 0
    assert (surround <= 0).all()


def test_wrapped_filter_aliases_and_keeps_sum():
    filt = inhibition_filter(6.0, 1.4, 25)
    wrapped = wrap_filter(filt, 16)  # wider than the sheet: offsets alias
    assert wrapped.shape == (16, 16)
    assert wrapped.sum() == pytest.approx(1.0, abs=1e-9)
    # Offset +8 and −8 both land on index 8.
    assert wrapped[8, 0] == pytest.approx(filt[12 + 8, 12] + filt[12 - 8, 12])


def _layer(rng, side=8, fan_in=12, n_pre=64, backend="numpy", rule="trace", **kw):
    presyn = sample_presynaptic(rng, side, int(np.sqrt(n_pre)), 2.0, fan_in)
    weights = unit_rows(rng.random(presyn.shape, dtype=np.float32))
    params = dict(
        side=side,
        inhibition_radius=1.38,
        inhibition_contrast=1.5,
        inhibition_width=5,
        sparseness=0.9,
        slope=5.0,
        slope_mode="relative",
        learning_rate=0.1,
        rule=rule,
        trace_eta=0.8,
        backend=backend,
    )
    params.update(kw)
    return CompetitiveLayer(presyn, weights, **params)


def test_inhibition_is_circular_convolution():
    layer = _layer(np.random.default_rng(0))
    rng = np.random.default_rng(1)
    drive = rng.random(64).astype(np.float32)
    sheet = drive.reshape(8, 8)
    expected = np.zeros((8, 8))
    half = layer.filter.shape[0] // 2
    for a in range(-half, half + 1):
        for b in range(-half, half + 1):
            expected += layer.filter[a + half, b + half] * np.roll(sheet, (-a, -b), axis=(0, 1))
    np.testing.assert_allclose(layer.inhibit(drive), expected.ravel(), rtol=1e-5, atol=1e-5)
    # A uniform drive passes unchanged because the filter sums to 1.
    np.testing.assert_allclose(layer.inhibit(np.full(64, 0.7, np.float32)), 0.7, rtol=1e-5)


def test_sampling_exact_fan_in_no_duplicates_and_local():
    rng = np.random.default_rng(5)
    presyn = sample_presynaptic(rng, 16, 16, 3.0, 40)
    assert presyn.shape == (256, 40)
    assert all(len(np.unique(row)) == 40 for row in presyn)
    assert presyn.min() >= 0 and presyn.max() < 256
    # Toroidal distance from each neuron's mean position stays of the order of the radius.
    post_y, post_x = np.divmod(np.arange(256), 16)
    pre_y, pre_x = np.divmod(presyn, 16)
    spacing = 15 / 16
    dy = (pre_y - (post_y[:, None] * spacing + spacing / 2) + 8) % 16 - 8
    dx = (pre_x - (post_x[:, None] * spacing + spacing / 2) + 8) % 16 - 8
    assert np.sqrt(dx**2 + dy**2).mean() < 2.5 * 3.0


def test_sampling_with_features_and_fan_in_equal_to_units():
    rng = np.random.default_rng(2)
    presyn = sample_presynaptic(rng, 2, 3, 5.0, 18, np.array([0, 100]))
    assert presyn.shape == (4, 18)
    allowed = set(range(9)) | set(range(100, 109))
    assert all(set(row) == allowed for row in presyn.tolist())


def test_sampling_too_many_synapses_names_parameter():
    with pytest.raises(ConfigError, match=r"^fan_in\[2\]"):
        sample_presynaptic(np.random.default_rng(0), 4, 4, 2.0, 17, parameter="fan_in[2]")


def test_k_winners_formula():
    assert [n_winners(1024, p) for p in (0.992, 0.98, 0.88, 0.91, 0.90, 0.70)] == [
        8,
        20,
        122,
        92,
        102,
        307,
    ]


@pytest.mark.parametrize("mode", ["absolute", "relative"])
def test_percentile_threshold_leaves_exactly_k_cells(mode):
    layer = _layer(np.random.default_rng(0), side=16, n_pre=256, slope_mode=mode, sparseness=0.88)
    rng = np.random.default_rng(7)
    inhibited = rng.normal(size=(5, 256)).astype(np.float32)  # distinct values
    rates = layer.compete(inhibited)
    assert layer.k == 30
    assert ((rates >= 0.5).sum(axis=1) == 30).all()
    order = np.argsort(-inhibited, axis=1)
    assert (np.take_along_axis(rates, order[:, :30], 1) >= 0.5).all()
    assert ((rates > 0) & (rates < 1)).all() or mode == "absolute"


def test_sigmoid_formula():
    layer = _layer(np.random.default_rng(0), slope=3.0, slope_mode="absolute")
    inhibited = np.linspace(-1, 1, 64, dtype=np.float32)
    rates = layer.compete(inhibited)
    theta = np.sort(inhibited)[64 - layer.k]
    np.testing.assert_allclose(rates, 1 / (1 + np.exp(-6.0 * (inhibited - theta))), rtol=1e-5)


def _centred_layer(backend, rule="trace", seed=0, **kw):
    """A centred layer whose x̄ is the mean of 30 random inputs; returns (layer, inputs)."""
    layer = _layer(
        np.random.default_rng(seed), backend=backend, rule=rule, centre_inputs=True, **kw
    )
    inputs = np.random.default_rng(seed + 100).random((30, 64)).astype(np.float32)
    layer.set_input_mean(inputs)
    return layer, inputs


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("rule", ["hebb", "trace"])
@pytest.mark.parametrize("gathered", [False, True])
@pytest.mark.parametrize("centre", [False, True])
def test_rows_unit_length_and_non_negative_after_every_update(backend, rule, gathered, centre):
    if centre:
        layer, _ = _centred_layer(backend, rule, learning_rate=1.0)
    else:
        layer = _layer(np.random.default_rng(0), backend=backend, rule=rule)
    rng = np.random.default_rng(1)
    before = layer.weights.copy()
    clipped = 0
    for _ in range(6):
        x = rng.random(64).astype(np.float32)
        layer.step(layer.gather(x) if gathered else x, learn=True, gathered=gathered)
        np.testing.assert_allclose(np.linalg.norm(layer.weights, axis=1), 1.0, atol=2e-6)
        assert (layer.weights >= 0).all()
        clipped += int((layer.weights == 0).sum())
    assert not np.array_equal(before, layer.weights)
    if centre:  # with α = 1 the centred rule pushes weights below 0: the clip must act
        assert clipped > 0


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("gathered", [False, True])
def test_centred_update_formula(backend, gathered):
    """Δw = α r (x − x̄), clipped at 0, rows rescaled to unit length (Hebb: post = rate)."""
    layer, inputs = _centred_layer(backend, "hebb", learning_rate=0.5)
    mean = inputs.mean(0)[layer.presynaptic]
    np.testing.assert_allclose(layer.input_mean, mean, rtol=1e-6)
    x = np.random.default_rng(3).random(64).astype(np.float32)
    w = layer.weights.astype(np.float64)
    rates = layer.step(layer.gather(x) if gathered else x, learn=True, gathered=gathered)
    expected = np.maximum(w + 0.5 * rates[:, None] * (x[layer.presynaptic] - mean), 0.0)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(layer.weights, expected, atol=1e-6)
    assert (expected == 0).any()  # the clip was exercised


def test_input_mean_starts_at_zero_and_is_checked():
    classic = _layer(np.random.default_rng(0))
    assert classic.input_mean is None
    with pytest.raises(ValueError, match="centre_inputs=False"):
        classic.set_input_mean(np.ones((3, 64), np.float32))
    layer = _layer(np.random.default_rng(0), centre_inputs=True)
    assert layer.input_mean.shape == layer.weights.shape and not layer.input_mean.any()
    gathered = layer.gather(np.random.default_rng(1).random((5, 64)).astype(np.float32))
    np.testing.assert_allclose(
        layer.set_input_mean(gathered, gathered=True), gathered.mean(0), rtol=1e-6
    )
    with pytest.raises(ValueError, match="inputs"):
        layer.set_input_mean(gathered[:, :3], gathered=True)
    with pytest.raises(ValueError, match="inputs"):
        layer.set_input_mean(np.ones((0, 64), np.float32))
    with pytest.raises(ValueError, match="input_mean"):
        layer.load_input_mean(np.full(layer.weights.shape, np.nan))


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_hebb_update_formula(backend):
    layer = _layer(np.random.default_rng(0), backend=backend, rule="hebb")
    x = np.random.default_rng(3).random(64).astype(np.float32)
    w = layer.weights.astype(np.float64)
    rates = layer.step(x, learn=True)
    expected = w + 0.1 * rates[:, None] * x[layer.presynaptic]
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(layer.weights, expected, atol=1e-6)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_trace_rule_uses_previous_trace_and_nothing_on_first_transform(backend):
    layer = _layer(np.random.default_rng(0), backend=backend, rule="trace")
    rng = np.random.default_rng(4)
    x1, x2 = rng.random((2, 64)).astype(np.float32)
    before = layer.weights.copy()
    r1 = layer.step(x1, learn=True)
    assert np.array_equal(layer.weights, before)  # trace was 0: no learning at all
    np.testing.assert_allclose(layer.trace, 0.2 * r1, rtol=1e-6)
    w = layer.weights.astype(np.float64)
    r2 = layer.step(x2, learn=True)
    expected = w + 0.1 * (0.2 * r1)[:, None] * x2[layer.presynaptic]
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(layer.weights, expected, atol=1e-6)
    np.testing.assert_allclose(layer.trace, 0.8 * 0.2 * r1 + 0.2 * r2, rtol=1e-5)
    layer.reset_trace()
    after_reset = layer.weights.copy()
    layer.step(x1, learn=True)
    assert np.array_equal(layer.weights, after_reset)


def test_learning_off_changes_nothing():
    layer = _layer(np.random.default_rng(0), rule="hebb")
    before = layer.weights.copy()
    layer.step(np.random.default_rng(1).random(64).astype(np.float32), learn=False)
    assert np.array_equal(layer.weights, before)
    assert not layer.trace.any()


@pytest.mark.parametrize("mode", ["absolute", "relative"])
@pytest.mark.parametrize(("side", "width"), [(8, 5), (8, 11), (16, 9)])
def test_compiled_competition_matches_numpy(mode, side, width):
    """The numba activation equals the numpy FFT path.

    Separable direct inhibition + threshold + sigmoid (numba) = FFT path (numpy), also when
    the filter is wider than the sheet and aliases.
    """
    rng = np.random.default_rng(side + width)
    n_pre = side * side
    layers = {
        b: _layer(
            np.random.default_rng(0),
            side=side,
            n_pre=n_pre,
            backend=b,
            slope_mode=mode,
            slope=3.0,
            inhibition_width=width,
            inhibition_radius=2.0,
        )
        for b in ("numpy", "numba")
    }
    drive = rng.random(side * side)
    rates = np.empty(side * side, dtype=np.float32)
    layers["numba"]._compete_compiled(drive, rates)
    inhibited = layers["numpy"].inhibit(drive)
    np.testing.assert_allclose(layers["numba"]._inhibited, inhibited, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(rates, layers["numpy"].compete(inhibited), atol=1e-4)
    assert (rates >= 0.5).sum() == layers["numpy"].k


@pytest.mark.parametrize("centre", [False, True])
@pytest.mark.parametrize("gathered", [False, True])
def test_numba_and_numpy_agree(centre, gathered):
    if centre:
        layers = {b: _centred_layer(b, learning_rate=0.5)[0] for b in ("numpy", "numba")}
    else:
        layers = {
            b: _layer(np.random.default_rng(0), backend=b, rule="trace") for b in ("numpy", "numba")
        }
    rng = np.random.default_rng(9)
    inputs = rng.random((20, 64)).astype(np.float32)
    for x in inputs:
        rates = {
            b: layer.step(layer.gather(x) if gathered else x, learn=True, gathered=gathered)
            for b, layer in layers.items()
        }
        np.testing.assert_allclose(rates["numba"], rates["numpy"], atol=1e-4)
    np.testing.assert_allclose(layers["numba"].weights, layers["numpy"].weights, atol=1e-5)
    batch = {b: layer.respond(inputs) for b, layer in layers.items()}
    np.testing.assert_allclose(batch["numba"], batch["numpy"], atol=1e-4)
    gathered = layers["numpy"].gather(inputs)
    batch_g = {b: layer.respond(gathered, gathered=True) for b, layer in layers.items()}
    np.testing.assert_allclose(batch_g["numba"], batch["numpy"], atol=1e-4)


def test_batch_response_equals_single_steps():
    layer = _layer(np.random.default_rng(0))
    inputs = np.random.default_rng(2).random((4, 64)).astype(np.float32)
    batch = layer.respond(inputs)
    for x, rates in zip(inputs, batch, strict=True):
        np.testing.assert_allclose(layer.step(x, learn=False), rates, atol=1e-5)


@pytest.mark.parametrize("centre", [False, True])
@pytest.mark.parametrize("gathered", [False, True])
def test_one_sweep_trace_kernel_equals_forward_then_learning(centre, gathered):
    """The fused trace-rule kernel equals the forward and learning kernels in turn.

    The trace rule's fused kernel (activation and update row by row) gives the same drive,
    sums and weights as the forward kernel followed by the separate learning kernel with the
    trace as postsynaptic factor, including rows skipped as negligible and rows clipped.
    """
    from dyad.brain import kernels

    layer, _ = _centred_layer("numba", learning_rate=1.0)
    rng = np.random.default_rng(5)
    x = rng.random(64).astype(np.float32)
    if gathered:
        presyn, presynaptic = layer.gather(x), None
    else:
        presyn, presynaptic = x.astype(np.float64).reshape(1, -1), layer.presynaptic
    trace = rng.random(layer.n_neurons).astype(np.float32)
    trace[::3] = 0.0  # no update
    trace[1::7] = 1e-12  # negligible update
    mean, mean_norm = layer.input_mean, layer._mean_norm
    outputs = []
    for fused in (True, False):
        weights = layer.weights.copy()
        sums = np.zeros((3, layer.n_neurons))
        if fused and centre:
            kernels.drive_learn_trace_centred(
                presyn, presynaptic, weights, mean, mean_norm, trace, 1.0, *sums
            )
        elif fused:
            kernels.drive_learn_trace(presyn, presynaptic, weights, trace, 1.0, *sums)
        else:
            kernels.drive_norms(presyn, presynaptic, weights, *sums)
            if centre:
                kernels.learn_centred(
                    presyn, presynaptic, weights, mean, mean_norm, trace, 1.0, *sums[1:]
                )
            else:
                kernels.learn(presyn, presynaptic, weights, trace, 1.0, *sums)
        outputs.append((weights, sums))
    (w_fused, s_fused), (w_split, s_split) = outputs
    np.testing.assert_array_equal(s_fused, s_split)
    np.testing.assert_allclose(w_fused, w_split, rtol=0, atol=1e-7)
    changed = (w_fused != layer.weights).any(axis=1)
    assert not changed[::3].any() and not changed[1::7].any()
    assert changed.sum() > layer.n_neurons // 3
    if centre:
        assert (w_fused == 0).sum() > (layer.weights == 0).sum()  # the clip acted


def test_per_unit_mean_and_compact_indices_give_the_same_learning():
    """Indexed layers learn as the per-synapse path and the numpy reference do.

    Indexed layers keep 16-bit synapse indices and read x̄ per presynaptic unit in the
    compiled path; learning matches the per-synapse x̄ path and the numpy reference.
    """
    from dyad.brain import kernels

    layer, inputs = _centred_layer("numba", learning_rate=1.0)
    assert layer.presynaptic.dtype == np.uint16
    assert layer._unit_mean is not None and layer._unit_mean.ndim == 1
    np.testing.assert_array_equal(layer._unit_mean[layer.presynaptic], layer.input_mean)
    rng = np.random.default_rng(6)
    x = rng.random(64).astype(np.float64).reshape(1, -1)
    trace = rng.random(layer.n_neurons).astype(np.float32)
    results = []
    for mean in (layer._unit_mean, layer.input_mean):
        weights = layer.weights.copy()
        sums = np.zeros((3, layer.n_neurons))
        kernels.drive_learn_trace_centred(
            x, layer.presynaptic, weights, mean, layer._mean_norm, trace, 1.0, *sums
        )
        results.append(weights)
    np.testing.assert_array_equal(results[0], results[1])
    assert not np.array_equal(results[0], layer.weights)
    # An x̄ that differs between synapses of one unit cannot be stored per unit.
    odd = layer.input_mean.copy()
    odd[0, 0] += 0.5
    layer.load_input_mean(odd)
    assert layer._unit_mean is None
    numpy_layer, _ = _centred_layer("numpy", learning_rate=1.0)
    numpy_layer.load_input_mean(odd)
    for _ in range(3):
        x = rng.random(64).astype(np.float32)
        np.testing.assert_allclose(
            layer.step(x, learn=True), numpy_layer.step(x, learn=True), atol=1e-4
        )
    np.testing.assert_allclose(layer.weights, numpy_layer.weights, atol=1e-5)


def test_indices_wider_than_16_bits_stay_int32():
    layer = _layer(np.random.default_rng(0))
    wide = CompetitiveLayer(
        layer.presynaptic.astype(np.int64) + 70_000,  # as from a 70,064-unit input
        layer.weights,
        side=8,
        inhibition_radius=1.38,
        inhibition_contrast=1.5,
        inhibition_width=5,
        sparseness=0.9,
        slope=5.0,
    )
    assert wide.presynaptic.dtype == np.int32
    assert int(wide.presynaptic.max()) == int(layer.presynaptic.max()) + 70_000


def test_compiled_row_helpers_match_their_python_reference():
    """Every compiled row helper equals its Python body.

    The kernels' row helpers have one compiled implementation per input layout; each must
    equal the Python body for gathered inputs, indexed inputs, and x̄ per synapse or per unit.
    """
    import numba

    from dyad.brain import kernels

    @numba.njit
    def compiled(x, presynaptic, weights, mean, i, out_drive, out_inputs, out_centred):
        drive = kernels._drive_row(x, presynaptic, weights, i, out_drive)
        inputs = kernels._row_inputs(x, presynaptic, i, out_inputs)
        kernels._centred_row(x, presynaptic, mean, i, out_centred)
        return drive, inputs.copy()

    rng = np.random.default_rng(3)
    n, fan_in, n_pre = 6, 5, 40
    rates = rng.random((1, n_pre), dtype=np.float32)
    presynaptic = rng.integers(0, n_pre, (n, fan_in)).astype(np.uint16)
    weights = rng.random((n, fan_in), dtype=np.float32)
    unit_mean = rng.random(n_pre, dtype=np.float32)
    cases = [
        (rates[0, presynaptic], None, unit_mean[presynaptic]),  # gathered, x̄ per synapse
        (rates, presynaptic, unit_mean[presynaptic]),  # indexed, x̄ per synapse
        (rates, presynaptic, unit_mean),  # indexed, x̄ per unit
    ]
    for x, pre, mean in cases:
        for i in range(n):
            got_centred = np.zeros(fan_in)
            got_row = np.zeros(fan_in)
            drive, inputs = compiled(
                x, pre, weights, mean, i, got_row, np.zeros(fan_in), got_centred
            )
            want_centred = np.zeros(fan_in)
            kernels._centred_row(x, pre, mean, i, want_centred)
            want_inputs = kernels._row_inputs(x, pre, i, np.zeros(fan_in))
            want_row = np.zeros(fan_in)
            want_drive = kernels._drive_row(x, pre, weights, i, want_row)
            np.testing.assert_allclose(drive, want_drive, rtol=1e-12)
            if pre is not None:  # the drive's work row holds the gathered inputs
                np.testing.assert_array_equal(got_row, want_inputs)
                np.testing.assert_array_equal(want_row, want_inputs)
            np.testing.assert_array_equal(inputs, want_inputs)
            np.testing.assert_array_equal(got_centred, want_centred)
            assert np.all(want_centred != 0)  # the centring acted on every synapse


# -- the conscience (DeSieno's bias, learnt while a layer learns) ---------------------------


@pytest.mark.parametrize("rule", ["hebb", "trace"])
@pytest.mark.parametrize("centre", [False, True])
@pytest.mark.parametrize("gathered", [False, True])
def test_conscience_numba_and_numpy_agree(rule, centre, gathered):
    def make(backend):
        if centre:
            return _centred_layer(backend, rule, learning_rate=0.5, conscience=0.5)[0]
        return _layer(np.random.default_rng(0), backend=backend, rule=rule, conscience=0.5)

    layers = {b: make(b) for b in ("numpy", "numba")}
    inputs = np.random.default_rng(9).random((20, 64)).astype(np.float32)
    for x in inputs:
        rates = {
            b: layer.step(layer.gather(x) if gathered else x, learn=True, gathered=gathered)
            for b, layer in layers.items()
        }
        np.testing.assert_allclose(rates["numba"], rates["numpy"], atol=1e-4)
    assert np.abs(layers["numpy"].bias).max() > 0
    np.testing.assert_allclose(layers["numba"].bias, layers["numpy"].bias, atol=1e-5)
    np.testing.assert_allclose(layers["numba"].weights, layers["numpy"].weights, atol=1e-5)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_conscience_bias_follows_each_neurons_share_of_wins(backend):
    """The bias grows by γ σ(h) (r − k/N): up for a neuron that won, down for one that lost."""
    layer = _layer(np.random.default_rng(0), backend=backend, conscience=0.2)
    x = np.random.default_rng(1).random(64).astype(np.float32)
    drive = layer.drive(x[None])[0].astype(np.float64)
    rates = layer.step(x, learn=True)
    expected = 0.2 * drive.std() * (rates - layer.k / layer.n_neurons)
    np.testing.assert_allclose(layer.bias, expected, rtol=1e-5, atol=1e-9)
    assert (layer.bias[rates > 0.5] > 0).all() and (layer.bias[rates < 0.1] < 0).all()


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_conscience_shares_out_the_wins(backend):
    """Without a conscience a few neurons win every input near one prototype; with it, fewer.

    With it the wins spread over the layer towards each neuron's share k/N.
    """
    rng = np.random.default_rng(3)
    prototype = rng.random(64).astype(np.float32)
    inputs = (prototype + 0.05 * rng.random((400, 64))).astype(np.float32)

    def win_shares(conscience: float) -> np.ndarray:
        layer = _layer(np.random.default_rng(0), backend=backend, conscience=conscience)
        wins = np.zeros(layer.n_neurons)
        for x in inputs:
            wins += layer.step(x, learn=True) > 0.5
        return wins / len(inputs)

    plain, fair = win_shares(0.0), win_shares(0.05)
    target = _layer(np.random.default_rng(0)).k / 64
    assert plain.max() > 0.9 and (plain == 0).sum() > 32  # a few neurons capture everything
    assert fair.max() < plain.max() and (fair == 0).sum() < (plain == 0).sum() / 2
    assert np.abs(fair - target).mean() < 0.5 * np.abs(plain - target).mean()


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_conscience_bias_stays_in_every_response_after_learning(backend):
    """The bias is the neuron's excitability: responses keep it, and only learning changes it."""
    layer = _layer(np.random.default_rng(0), backend=backend, conscience=0.5)
    inputs = np.random.default_rng(2).random((10, 64)).astype(np.float32)
    for x in inputs:
        layer.step(x, learn=True)
    bias = layer.bias.copy()
    assert np.abs(bias).max() > 0
    unbiased = _layer(np.random.default_rng(0), backend=backend)
    unbiased.weights[:] = layer.weights
    responses = layer.respond(inputs)
    assert np.abs(responses - unbiased.respond(inputs)).max() > 0.1  # the bias moved winners
    reference = _layer(np.random.default_rng(0), backend="numpy")
    drive = layer.drive(inputs).astype(np.float64)
    expected = reference.compete(reference.inhibit(drive - bias))
    np.testing.assert_allclose(responses, expected, atol=1e-4)
    for x, response in zip(inputs, responses, strict=True):
        np.testing.assert_allclose(layer.step(x, learn=False), response, atol=1e-5)
        gathered = layer.step(layer.gather(x), learn=False, gathered=True)
        np.testing.assert_allclose(gathered, response, atol=1e-5)
    np.testing.assert_array_equal(layer.bias, bias)  # responding leaves it alone
    layer.reset_bias()
    assert not layer.bias.any()
    np.testing.assert_allclose(layer.respond(inputs), unbiased.respond(inputs), atol=1e-5)
