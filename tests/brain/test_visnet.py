"""VisNet: configuration, connectivity, reproducibility, caching, training order, learning."""

import dataclasses

import numpy as np
import pytest

from dyad.brain.v1 import V1, V1Config
from dyad.brain.visnet import (
    MORE_EXPRESSIONS_CONSCIENCE,
    MORE_EXPRESSIONS_TRACE_BLOCK,
    VisNet,
    VisNetConfig,
    training_blocks,
)
from dyad.errors import ConfigError


@pytest.fixture(scope="module")
def small_config():
    return VisNetConfig.small()


@pytest.fixture(scope="module")
def v1_maps(small_config):
    """(2 objects, 4 transforms, 32 maps, 64, 64) V1 stacks of random blob images."""
    rng = np.random.default_rng(11)
    images = np.full((8, 64, 64), 128.0)
    yy, xx = np.mgrid[0:64, 0:64]
    for i in range(8):
        cy, cx = rng.uniform(15, 50, size=2)
        images[i] += rng.uniform(-100, 100) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 40)
    return V1(small_config.v1).filter(images).reshape(2, 4, 32, 64, 64)


def test_classic_defaults():
    config = VisNetConfig()
    assert config.v1.image_size == 128
    assert config.layer_side == 32 and config.n_neurons == 1024
    assert config.fan_in == (272, 100, 100, 100)
    assert config.l1_fan_in == (201, 50, 13, 8)
    assert config.fan_in_radius == (6.0, 6.0, 9.0, 12.0)
    assert config.sparseness == (0.992, 0.98, 0.88, 0.91)
    assert config.slope == (190.0, 40.0, 75.0, 26.0)
    assert [config.winners(i) for i in range(4)] == [8, 20, 122, 92]
    assert config.rule == "trace" and config.trace_eta == 0.8
    assert config.epochs == (40, 40, 40, 40)
    assert config.centre_inputs is True  # the centred rule (a documented deviation)


def test_lists_become_tuples():
    config = VisNetConfig.small(epochs=[1, 2, 3, 4])
    assert config.epochs == (1, 2, 3, 4)
    hash(config)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"fan_in": (66, 300, 40, 40)}, "fan_in.1"),
        ({"l1_fan_in": (40, 16, 6, 40000), "fan_in": (40062, 40, 40, 40)}, "l1_fan_in.3"),
        ({"fan_in": (65, 40, 40, 40)}, "fan_in.0"),
        ({"l1_fan_in": (40, 16, 10)}, "l1_fan_in"),
        ({"sparseness": (0.97, 1.0, 0.88, 0.9)}, "sparseness.1"),
        ({"sparseness": (0.0, 0.95, 0.88, 0.9)}, "sparseness.0"),
        ({"sparseness": (0.999, 0.95, 0.88, 0.9)}, "sparseness.0"),  # k = 0 of 256
        ({"epochs": (5, 5, 5)}, "epochs"),
        ({"inhibition_width": (7, 8, 9, 13)}, "inhibition_width.1"),
        ({"rule": "oja"}, "rule"),
        ({"slope_mode": "steep"}, "slope_mode"),
        ({"layer_side": 0}, "layer_side"),
        ({"n_layers": 0}, "n_layers"),
        ({"fan_in_radius": (6.0, -1.0, 4.5, 6.0)}, "fan_in_radius.1"),
        ({"slope": (190.0, 0.0, 75.0, 26.0)}, "slope.1"),
        ({"learning_rate": (0.1, 0.1, -0.1, 0.1)}, "learning_rate.2"),
        ({"trace_eta": 1.0}, "trace_eta"),
        ({"epochs": (5, 5.5, 5, 5)}, "epochs.1"),
        ({"centre_inputs": 1}, "centre_inputs"),
        ({"transform_order": "shuffled"}, "transform_order"),
        ({"trace_block": -1}, "trace_block"),
        ({"trace_block": 2.5}, "trace_block"),
    ],
)
def test_validation_names_the_field(overrides, field):
    with pytest.raises(ConfigError) as err:
        VisNetConfig.small(**overrides)
    assert any(problem.startswith(field) for problem in err.value.problems), err.value.problems


def test_three_layer_network():
    config = VisNetConfig.small(
        n_layers=3,
        fan_in=(66, 40, 40),
        fan_in_radius=(6.0, 3.0, 4.5),
        inhibition_radius=(1.38, 1.38, 2.0),
        inhibition_contrast=(1.5, 1.5, 1.6),
        inhibition_width=(7, 7, 9),
        sparseness=(0.97, 0.95, 0.88),
        slope=(190.0, 40.0, 75.0),
        relative_slope=(5.0, 5.0, 5.0),
        learning_rate=(0.1, 0.1, 0.1),
        epochs=(1, 1, 1),
    )
    net = VisNet(config, np.random.default_rng(0))
    assert len(net.layers) == 3


def test_connectivity_exact_fan_in_no_duplicates(small_config):
    net = VisNet(small_config, np.random.default_rng(0))
    v1 = small_config.v1
    map_size = v1.image_size**2
    for layer, fan_in in zip(net.layers, small_config.fan_in, strict=True):
        assert layer.presynaptic.shape == (small_config.n_neurons, fan_in)
        assert all(len(np.unique(row)) == fan_in for row in layer.presynaptic)
        np.testing.assert_allclose(np.linalg.norm(layer.weights, axis=1), 1.0, atol=1e-6)
        assert layer.weights.dtype == np.float32 and (layer.weights > 0).all()
    # Layer 1: exactly l1_fan_in[w] synapses on maps of wavelength w, all orientations/phases used.
    maps = net.layers[0].presynaptic // map_size
    wavelength = (maps // len(v1.phases)) % len(v1.wavelengths)
    for w, count in enumerate(small_config.l1_fan_in):
        assert ((wavelength == w).sum(axis=1) == count).all()
    assert set(np.unique(maps)) == set(range(v1.n_maps))
    assert net.layers[1].presynaptic.max() < small_config.n_neurons


def test_classic_connectivity_counts():
    net = VisNet(VisNetConfig(), np.random.default_rng(55))
    assert sum(layer.presynaptic.size for layer in net.layers) == 585_728
    map_size = 128 * 128
    wavelength = (net.layers[0].presynaptic // map_size // 2) % 4
    for w, count in enumerate((201, 50, 13, 8)):
        assert ((wavelength == w).sum(axis=1) == count).all()


def test_fixed_seed_reproduces_bit_for_bit(small_config, v1_maps):
    config = dataclasses.replace(small_config, epochs=(2, 2, 2, 2))
    nets = [VisNet(config, np.random.default_rng(42)).fit(v1_maps) for _ in range(2)]
    for key, value in nets[0].to_arrays().items():
        assert np.array_equal(value, nets[1].to_arrays()[key]), key
    rates = [net.layer_rates(v1_maps[0]) for net in nets]
    for a, b in zip(*rates, strict=True):
        assert np.array_equal(a, b)
    other = VisNet(config, np.random.default_rng(43))
    assert not np.array_equal(other.layers[0].presynaptic, nets[0].layers[0].presynaptic)


@pytest.mark.parametrize(("rule", "centre"), [("trace", True), ("trace", False), ("hebb", True)])
def test_two_threads_train_the_same_weights_as_one_bit_for_bit(small_config, v1_maps, rule, centre):
    """The parallel kernels split rows, never a row's sums, so threads cannot change a bit."""
    import numba

    from dyad.brain import kernels

    # tests/conftest.py makes sure numba has two threads, whatever the machine
    assert numba.config.NUMBA_NUM_THREADS >= 2
    config = dataclasses.replace(small_config, epochs=(2, 2, 2, 2), rule=rule, centre_inputs=centre)
    trained = {}
    for n_threads in (1, 2):
        with kernels.threads(n_threads):
            assert numba.get_num_threads() == n_threads
            net = VisNet(config, np.random.default_rng(42), backend="numba").fit(v1_maps)
            trained[n_threads] = (net.to_arrays(), net.layer_rates(v1_maps[0]))
    (arrays_1, rates_1), (arrays_2, rates_2) = trained[1], trained[2]
    assert arrays_1.keys() == arrays_2.keys()
    for key, value in arrays_1.items():
        assert np.array_equal(value, arrays_2[key]), key
    for a, b in zip(rates_1, rates_2, strict=True):
        assert np.array_equal(a, b)
    # the weights did learn (a network that never changed would pass trivially)
    untrained = VisNet(config, np.random.default_rng(42), backend="numba").to_arrays()
    assert not np.array_equal(untrained["layer4.weights"], arrays_1["layer4.weights"])


def test_thread_chooser_uses_the_faster_setting_for_the_rest_of_each_epoch():
    import numba

    from dyad.brain import kernels

    # tests/conftest.py makes sure numba has two threads, whatever the machine
    assert numba.config.NUMBA_NUM_THREADS >= 2
    now = [0.0]
    seen: list[int] = []
    cost = {}

    def present():
        n = numba.get_num_threads()
        # a presentation right after a change of setting finds cold caches
        cold = bool(seen) and seen[-1] != n
        seen.append(n)
        now[0] += cost[n] + (cost.get("cold", 0.0) if cold else 0.0)

    def epoch(chooser, presentations):
        chooser.new_epoch()
        seen.clear()
        for _ in range(presentations):
            chooser.run(present)
        return list(seen)

    with kernels.threads(2):
        chooser = kernels.ThreadChooser(probes=3, clock=lambda: now[0])
        cost.update({2: 3.0, 1: 1.0})  # a busy machine: one thread is faster
        assert epoch(chooser, 9) == [2, 2, 2, 1, 1, 1, 1, 1, 1]
        cost.update({2: 1.0, 1: 2.0})  # the other core is free again
        assert epoch(chooser, 8) == [2, 2, 2, 1, 1, 1, 2, 2]
        cost.update({2: 0.95, 1: 1.0})  # a tie within the margin goes to one thread
        assert epoch(chooser, 8) == [2, 2, 2, 1, 1, 1, 1, 1]
        chooser.close()
        assert numba.get_num_threads() == 2
        assert chooser.choices == [1, 2, 1]
        # the first presentation of each run is not timed: timed, the cold start of the
        # one-thread run would make two threads look faster
        pair = kernels.ThreadChooser(probes=2, clock=lambda: now[0])
        cost.update({2: 1.0, 1: 1.0, "cold": 100.0})
        assert epoch(pair, 6) == [2, 2, 1, 1, 1, 1]
        assert pair.choices == [1]
    cost.pop("cold")
    with kernels.threads(1):
        single = kernels.ThreadChooser(probes=2, clock=lambda: now[0])
        assert epoch(single, 5) == [1] * 5 and single.choices == []


def test_thread_chooser_falls_back_to_one_thread_when_the_chosen_threads_stall(monkeypatch):
    """Two threads that time fast in the probes and then stall run the rest on one."""
    import numba

    from dyad.brain import kernels

    assert numba.config.NUMBA_NUM_THREADS >= 2
    monkeypatch.setattr(kernels, "WATCH_WINDOW", 4)
    now = [0.0]
    seen: list[int] = []
    after_probes: list[float] = []  # cost of each two-thread presentation after the probes

    def present():
        n = numba.get_num_threads()
        seen.append(n)
        if n == 1:
            now[0] += 1.0
        else:
            now[0] += after_probes.pop(0) if len(seen) > 6 else 0.5

    with kernels.threads(2):
        chooser = kernels.ThreadChooser(probes=3, clock=lambda: now[0])
        # the other core is taken right after the probes: one presentation in four waits out
        # the other process (3.0), and four take 4.5 against 4 × one thread's 1.0
        chooser.new_epoch()
        after_probes[:] = [0.5, 0.5, 0.5, 3.0] * 3
        for _ in range(12):
            chooser.run(present)
        assert seen == [2, 2, 2, 1, 1, 1] + [2] * 4 + [1] * 2
        assert chooser.choices == [2] and chooser.fallbacks == [10]
        # the next epoch rests on one thread, unprobed
        chooser.new_epoch()
        seen.clear()
        for _ in range(5):
            chooser.run(present)
        assert seen == [1] * 5
        assert chooser.choices == [2, 1] and chooser.fallbacks == [10, None]
        # a slow presentation that the fast ones make up for does not make it fall back
        chooser.new_epoch()
        seen.clear()
        after_probes[:] = [0.5, 0.5, 0.5, 2.0] * 2
        for _ in range(14):
            chooser.run(present)
        assert seen == [2, 2, 2, 1, 1, 1] + [2] * 8
        assert chooser.choices == [2, 1, 2] and chooser.fallbacks == [10, None, None]
        assert numba.get_num_threads() == 2
        # falls back twice with no epoch held out between: the rests grow, 1 then 2 epochs
        chooser.new_epoch()  # the last epoch held out: the next rest is one epoch again
        seen.clear()
        after_probes[:] = [3.0] * 4
        for _ in range(10):
            chooser.run(present)
        chooser.new_epoch()  # rest
        chooser.new_epoch()  # probes, falls back again
        seen.clear()
        after_probes[:] = [3.0] * 4
        for _ in range(10):
            chooser.run(present)
        chooser.new_epoch()  # rest
        chooser.new_epoch()  # rest
        chooser.new_epoch()  # probes again (no choice yet)
        assert chooser.choices == [2, 1, 2, 2, 1, 2, 1, 1]
        assert chooser.fallbacks == [10, None, None, 10, None, 10, None, None]
        chooser.close()
        assert numba.get_num_threads() == 2


@pytest.mark.parametrize("centre", [True, False])
def test_arrays_round_trip_exact(small_config, v1_maps, centre):
    config = dataclasses.replace(small_config, epochs=(1, 1, 1, 1), centre_inputs=centre)
    net = VisNet(config, np.random.default_rng(1))
    net.fit(v1_maps)
    arrays = net.to_arrays()
    kinds = ("presynaptic", "weights", "input_mean") if centre else ("presynaptic", "weights")
    assert set(arrays) == {f"layer{i}.{k}" for i in range(1, 5) for k in kinds}
    clone = VisNet.from_arrays(net.config, arrays)
    for key, value in clone.to_arrays().items():
        assert np.array_equal(value, arrays[key]) and value.dtype == arrays[key].dtype
    assert np.array_equal(clone.transform(v1_maps[1]), net.transform(v1_maps[1]))
    # the restored network also learns exactly as the original (x̄ came back too)
    x = net.gather_v1(v1_maps[0])
    for n in (net, clone):
        n.reset_traces()
        for t in range(3):
            n.step(x[t], learn_layers=range(4))
    for key, value in clone.to_arrays().items():
        assert np.array_equal(value, net.to_arrays()[key]), key


def test_a_conscience_bias_is_saved_restored_and_kept_in_responses(small_config, v1_maps):
    """Layers with a conscience keep their learnt bias: in the arrays and in every response."""
    config = dataclasses.replace(small_config, epochs=(1, 1, 1, 1), conscience=(0, 0, 0.5, 0.5))
    net = VisNet(config, np.random.default_rng(1)).fit(v1_maps)
    arrays = net.to_arrays()
    assert {k for k in arrays if k.endswith(".bias")} == {"layer3.bias", "layer4.bias"}
    assert np.abs(arrays["layer4.bias"]).max() > 0
    clone = VisNet.from_arrays(config, arrays)
    np.testing.assert_array_equal(clone.layers[3].bias, net.layers[3].bias)
    np.testing.assert_array_equal(clone.transform(v1_maps[1]), net.transform(v1_maps[1]))
    forgetful = VisNet.from_arrays(config, arrays)
    forgetful.layers[3].reset_bias()
    assert np.abs(forgetful.transform(v1_maps[1]) - net.transform(v1_maps[1])).max() > 0.01
    without = {k: v for k, v in arrays.items() if k != "layer4.bias"}
    with pytest.raises(ConfigError, match="layer4.bias"):
        VisNet.from_arrays(config, without)


def test_fit_sets_each_layers_input_mean_from_frozen_lower_rates(small_config, v1_maps):
    """The input means x̄ come from each layer's training inputs.

    x̄ of layer 1 is the mean gathered V1 input over all training images; x̄ of layer 2 is
    the mean of the *trained* layer 1's rates, read through layer 2's synapses.
    """
    config = dataclasses.replace(small_config, epochs=(1, 1, 0, 0))
    net = VisNet(config, np.random.default_rng(3)).fit(v1_maps)
    gathered = net.gather_v1(v1_maps).reshape(8, *net.layers[0].weights.shape)
    np.testing.assert_allclose(net.layers[0].input_mean, gathered.mean(0), rtol=1e-5, atol=1e-7)
    l1 = net.layers[0].respond(gathered, gathered=True)
    expected = l1.mean(0)[net.layers[1].presynaptic]
    np.testing.assert_allclose(net.layers[1].input_mean, expected, rtol=1e-5, atol=1e-7)
    assert not net.layers[2].input_mean.any()  # layers that do not train keep x̄ = 0


def test_from_arrays_rejects_mismatch(small_config):
    arrays = VisNet(small_config, np.random.default_rng(1)).to_arrays()
    with pytest.raises(ConfigError, match="layer2.weights"):
        VisNet.from_arrays(small_config, {**arrays, "layer2.weights": arrays["layer2.weights"][:5]})
    bad = arrays["layer3.presynaptic"].copy()
    bad[0, 0] = 10_000
    with pytest.raises(ConfigError, match="layer3.presynaptic"):
        VisNet.from_arrays(small_config, {**arrays, "layer3.presynaptic": bad})
    missing = dict(arrays)
    del missing["layer4.weights"]
    with pytest.raises(ConfigError, match="layer4.weights"):
        VisNet.from_arrays(small_config, missing)
    no_mean = {k: v for k, v in arrays.items() if k != "layer2.input_mean"}
    with pytest.raises(ConfigError, match="layer2.input_mean"):
        VisNet.from_arrays(small_config, no_mean)
    nan = arrays["layer1.input_mean"].copy()
    nan[0, 0] = np.nan
    with pytest.raises(ConfigError, match="layer1.input_mean"):
        VisNet.from_arrays(small_config, {**arrays, "layer1.input_mean": nan})
    classic = dataclasses.replace(small_config, centre_inputs=False)
    assert VisNet.from_arrays(classic, no_mean).layers[1].input_mean is None


def test_transform_and_layer_rates(small_config, v1_maps):
    net = VisNet(small_config, np.random.default_rng(2))
    maps = v1_maps.reshape(-1, 32, 64, 64)
    rates = net.layer_rates(maps)
    assert len(rates) == 4
    for i, r in enumerate(rates):
        assert r.shape == (8, 256) and r.dtype == np.float32
        assert ((r >= 0) & (r <= 1)).all()
        assert ((r >= 0.5).sum(axis=1) == small_config.winners(i)).all()
    assert np.array_equal(net.transform(maps), rates[-1])
    before = net.to_arrays()
    net.transform(maps)
    assert all(np.array_equal(v, net.to_arrays()[k]) for k, v in before.items())


def test_input_shapes_are_checked(small_config, v1_maps):
    net = VisNet(small_config, np.random.default_rng(0))
    with pytest.raises(ValueError, match="v1_maps"):
        net.fit(v1_maps[0])
    with pytest.raises(ValueError, match="v1_maps"):
        net.transform(v1_maps)
    with pytest.raises(TypeError, match="rng"):
        VisNet(small_config, 3)


def test_fit_follows_training_order(small_config, v1_maps):
    """Fit presents the images in the documented order.

    Fit = for each epoch, objects in order (reversed on odd epochs), trace reset per object,
    transforms contiguous, learning in layer 1 only; replayed by hand with ``step``.
    """
    config = dataclasses.replace(small_config, epochs=(3, 0, 0, 0))
    fitted = VisNet(config, np.random.default_rng(8), backend="numpy").fit(v1_maps)
    manual = VisNet(config, np.random.default_rng(8), backend="numpy")
    inputs = manual.gather_v1(v1_maps)
    manual.layers[0].set_input_mean(inputs.reshape(8, *inputs.shape[2:]), gathered=True)
    for order in ((0, 1), (1, 0), (0, 1)):
        for obj in order:
            manual.reset_traces()
            for t in range(4):
                manual.step(inputs[obj, t], learn_layers=(0,))
    for key, value in fitted.to_arrays().items():
        assert np.array_equal(value, manual.to_arrays()[key]), key


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_alternating_transform_order_runs_odd_epochs_backwards(small_config, v1_maps, backend):
    """The alternating transform order reverses the transforms on odd epochs.

    ``transform_order="alternating"``: odd epochs present objects *and* their transforms in
    reverse, so the transform that comes first (never learned: the trace was just reset) is
    learned on the other epochs. Same result as a hand-written loop; differs from forward.
    """
    config = dataclasses.replace(small_config, epochs=(3, 0, 0, 0), transform_order="alternating")
    fitted = VisNet(config, np.random.default_rng(8), backend=backend).fit(v1_maps)
    manual = VisNet(config, np.random.default_rng(8), backend=backend)
    inputs = manual.gather_v1(v1_maps)
    manual.layers[0].set_input_mean(inputs.reshape(8, *inputs.shape[2:]), gathered=True)
    epochs = (((0, 1), (0, 1, 2, 3)), ((1, 0), (3, 2, 1, 0)), ((0, 1), (0, 1, 2, 3)))
    for objects, transforms in epochs:
        for obj in objects:
            manual.reset_traces()
            for t in transforms:
                manual.step(inputs[obj, t], learn_layers=(0,))
    for key, value in fitted.to_arrays().items():
        assert np.array_equal(value, manual.to_arrays()[key]), key
    forward = VisNet(
        dataclasses.replace(config, transform_order="forward"),
        np.random.default_rng(8),
        backend=backend,
    ).fit(v1_maps)
    assert not np.array_equal(fitted.layers[0].weights, forward.layers[0].weights)


def test_trace_blocks_show_every_presentation_once_per_epoch_in_a_drawn_order(small_config):
    """``trace_block = n``: one object per block, at most n presentations, all of them once.

    The order is drawn from the generator: reproducible from its seed, new every epoch.
    """
    config = dataclasses.replace(small_config, trace_block=3)
    rng = np.random.default_rng(5)
    epochs = [training_blocks(config, epoch, 2, 8, rng) for epoch in range(2)]
    for blocks in epochs:
        assert len(blocks) == 2 * 3  # ceil(8 / 3) blocks per object
        for obj in (0, 1):
            shown = np.concatenate([t for o, t in blocks if o == obj])
            assert sorted(shown.tolist()) == list(range(8))
        assert all(1 <= len(t) <= 3 for _, t in blocks)
    flatten = [[(o, *t.tolist()) for o, t in blocks] for blocks in epochs]
    assert flatten[0] != flatten[1]
    again = training_blocks(config, 0, 2, 8, np.random.default_rng(5))
    assert [(o, *t.tolist()) for o, t in again] == flatten[0]
    with pytest.raises(TypeError, match="rng"):
        training_blocks(config, 0, 2, 8)


def test_classic_blocks_are_the_objects_in_order(small_config):
    """With ``trace_block = 0`` an epoch is the objects in order, reversed on odd epochs."""
    blocks = [training_blocks(small_config, epoch, 3, 4) for epoch in (0, 1)]
    assert [o for o, _ in blocks[0]] == [0, 1, 2] and [o for o, _ in blocks[1]] == [2, 1, 0]
    assert all(t.tolist() == [0, 1, 2, 3] for epoch in blocks for _, t in epoch)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_fit_with_trace_blocks_follows_the_drawn_blocks(small_config, v1_maps, backend):
    """Fit with ``trace_block`` = the drawn blocks replayed by hand, the trace reset per block.

    It needs a generator, and differs from the classic object-by-object order.
    """
    config = dataclasses.replace(small_config, epochs=(3, 0, 0, 0), trace_block=2)
    fitted = VisNet(config, np.random.default_rng(8), backend=backend).fit(
        v1_maps, rng=np.random.default_rng(4)
    )
    manual = VisNet(config, np.random.default_rng(8), backend=backend)
    inputs = manual.gather_v1(v1_maps)
    manual.layers[0].set_input_mean(inputs.reshape(8, *inputs.shape[2:]), gathered=True)
    order = np.random.default_rng(4)
    for epoch in range(3):
        for obj, transforms in training_blocks(config, epoch, 2, 4, order):
            manual.reset_traces()
            for t in transforms:
                manual.step(inputs[obj, t], learn_layers=(0,))
    for key, value in fitted.to_arrays().items():
        assert np.array_equal(value, manual.to_arrays()[key]), key
    classic = VisNet(
        dataclasses.replace(config, trace_block=0), np.random.default_rng(8), backend=backend
    ).fit(v1_maps)
    assert not np.array_equal(fitted.layers[0].weights, classic.layers[0].weights)
    with pytest.raises(TypeError, match="rng: trace_block is set"):
        VisNet(config, np.random.default_rng(8), backend=backend).fit(v1_maps)


def test_fit_trains_upper_layers_on_frozen_lower_rates(small_config, v1_maps):
    """Caching the frozen layer-1 rates gives the same layer-2 training as propagating."""
    config = dataclasses.replace(small_config, epochs=(0, 2, 0, 0))
    fitted = VisNet(config, np.random.default_rng(8), backend="numpy").fit(v1_maps)
    manual = VisNet(config, np.random.default_rng(8), backend="numpy")
    inputs = manual.gather_v1(v1_maps)
    l1 = manual.layers[0].respond(inputs.reshape(8, *inputs.shape[2:]), gathered=True)
    manual.layers[1].set_input_mean(l1)
    for order in ((0, 1), (1, 0)):
        for obj in order:
            manual.reset_traces()
            for t in range(4):
                manual.step(inputs[obj, t], learn_layers=(1,))
    np.testing.assert_allclose(fitted.layers[1].weights, manual.layers[1].weights, atol=1e-6)
    assert np.array_equal(fitted.layers[0].weights, manual.layers[0].weights)
    assert not np.array_equal(
        fitted.layers[1].weights, VisNet(config, np.random.default_rng(8)).layers[1].weights
    )


@pytest.mark.parametrize("centre", [True, False])
def test_numba_and_numpy_networks_agree(small_config, v1_maps, centre):
    config = dataclasses.replace(small_config, epochs=(2, 2, 2, 2), centre_inputs=centre)
    nets = {
        b: VisNet(config, np.random.default_rng(5), backend=b).fit(v1_maps)
        for b in ("numpy", "numba")
    }
    for layer in nets["numba"].layers:
        assert (layer.weights >= 0).all()
        np.testing.assert_allclose(np.linalg.norm(layer.weights, axis=1), 1.0, atol=2e-6)
    for key, value in nets["numpy"].to_arrays().items():
        np.testing.assert_allclose(nets["numba"].to_arrays()[key], value, atol=1e-4, err_msg=key)
    maps = v1_maps.reshape(-1, 32, 64, 64)
    np.testing.assert_allclose(
        nets["numba"].transform(maps), nets["numpy"].transform(maps), atol=1e-3
    )


def test_progress_is_reported_per_layer_and_epoch(small_config, v1_maps):
    config = dataclasses.replace(small_config, epochs=(2, 1, 1, 1))
    calls = []
    VisNet(config, np.random.default_rng(0)).fit(v1_maps, progress=lambda *c: calls.append(c))
    assert calls[:3] == [
        ("VisNet layer 1", 0, 2),
        ("VisNet layer 1", 1, 2),
        ("VisNet layer 1", 2, 2),
    ]
    assert [c for c in calls if c[1] == c[2]] == [
        ("VisNet layer 1", 2, 2),
        *((f"VisNet layer {i}", 1, 1) for i in (2, 3, 4)),
    ]


def test_visnet_does_not_import_click():
    """The brain reports progress through a callback; drawing bars is the commands' job."""
    import subprocess
    import sys

    code = "import sys, dyad.brain.visnet, dyad.vision; print('click' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


def _blob_images(rng, n, upper):
    yy, xx = np.mgrid[0:64, 0:64]
    images = np.full((n, 64, 64), 128.0, np.float32)
    for i in range(n):
        cy = (20 if upper else 44) + rng.integers(-5, 6)
        cx = 32 + rng.integers(-10, 11)
        images[i] += 100 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * 5.0**2))
    return images


@pytest.mark.parametrize("rule", ["trace", "hebb"])
@pytest.mark.parametrize("centre", [True, False])
def test_training_makes_layer4_class_selective(small_config, rule, centre):
    """Training makes layer-4 cells discriminate two classes of images.

    Two classes (bright blob in the upper vs lower half, randomly shifted): after training,
    many more L4 cells differ strongly in mean rate between the classes on held-out images.
    """
    v1 = V1(small_config.v1)
    rng = np.random.default_rng(0)
    train = np.stack([v1.filter(_blob_images(rng, 12, up)) for up in (True, False)])
    upper, lower = (v1.filter(_blob_images(rng, 12, up)) for up in (True, False))
    config = dataclasses.replace(small_config, rule=rule, centre_inputs=centre)

    def selective_fraction(net):
        difference = np.abs(net.transform(upper).mean(0) - net.transform(lower).mean(0))
        return (difference > 0.5).mean()

    net = VisNet(config, np.random.default_rng(1))
    untrained = selective_fraction(net)
    trained = selective_fraction(net.fit(train))
    assert untrained < 0.05
    assert trained > 0.1
    assert trained > 4 * untrained


def test_small_configs_accept_v1_override():
    config = VisNetConfig.small(
        v1=V1Config(image_size=64, wavelengths=(2.0, 4.0)), l1_fan_in=(50, 16)
    )
    assert config.fan_in[0] == 66
    net = VisNet(config, np.random.default_rng(0))
    assert net.layers[0].presynaptic.max() < 16 * 64 * 64


def test_auto_sparseness_is_one_minus_one_over_the_expressions_and_must_be_resolved():
    config = VisNetConfig.small(sparseness="auto")
    assert config.for_expressions(2).sparseness == (0.5,) * 4
    assert config.for_expressions(6).sparseness == pytest.approx((5 / 6,) * 4)
    assert VisNetConfig.small().for_expressions(2) == VisNetConfig.small()  # given: kept
    with pytest.raises(ConfigError, match="for_expressions"):
        VisNet(config, np.random.default_rng(0))
    with pytest.raises(ConfigError, match="sparseness"):
        VisNetConfig.small(sparseness="dense")


def test_auto_conscience_and_trace_block_are_off_for_two_expressions_on_for_more():
    """``"auto"``: classic learning for two expressions, a conscience in blocks for more.

    For three or more, the documented γ learnt in shuffled trace blocks; given values are kept.
    """
    config = VisNetConfig.small(conscience="auto", trace_block="auto")
    two = config.for_expressions(2)
    assert (two.conscience, two.trace_block) == (0.0, 0)
    for n in (3, 6):
        more = config.for_expressions(n)
        assert more.conscience == MORE_EXPRESSIONS_CONSCIENCE
        assert more.trace_block == MORE_EXPRESSIONS_TRACE_BLOCK
    given = VisNetConfig.small(conscience=0.01, trace_block="auto").for_expressions(3)
    assert (given.conscience, given.trace_block) == (0.01, MORE_EXPRESSIONS_TRACE_BLOCK)
    for field in ("conscience", "trace_block"):
        unresolved = VisNetConfig.small(**{field: "auto"})
        with pytest.raises(ConfigError, match=f"{field}: 'auto' needs the number of expressions"):
            VisNet(unresolved, np.random.default_rng(0))
