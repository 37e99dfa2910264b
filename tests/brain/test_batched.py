"""The batched mirror layer against the dense reference, and batch-size independence."""

import numpy as np
import pytest

from dyad.brain.batched import CHUNK, BankMirror
from dyad.brain.mirror import MirrorConfig, MirrorLayer
from dyad.brain.motor import MotorConfig, MotorModule

N_VISUAL, K, N_STEPS = 48, 30, 3 * CHUNK + 17  # several chunks and a fold, a partial chunk


def bank(seed: int = 0) -> np.ndarray:
    """Sparse non-negative layer-4-like rows."""
    rng = np.random.default_rng(seed)
    rows = rng.random((K, N_VISUAL), dtype=np.float32)
    return np.where(rng.random((K, N_VISUAL)) < 0.3, rows, 0).astype(np.float32)


def networks(config: MirrorConfig, seeds, rows: np.ndarray):
    """Calibrated (motor module, mirror layer) pairs, one per seed."""
    out = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        motor = MotorModule(MotorConfig(units_per_expression=6), 2, rng)
        layer = MirrorLayer(config.for_expressions(2), N_VISUAL, motor.n_motor, rng)
        picks = rng.integers(K, size=16)
        layer.calibrate(rows[picks], motor.patterns[rng.integers(2, size=16)])
        out.append((motor, layer))
    return out


def inputs(seeds):
    """Bank rows and produced expressions per network: (B, N_STEPS) each."""
    items = np.stack([np.random.default_rng(100 + s).integers(K, size=N_STEPS) for s in seeds])
    produced = np.stack([(np.arange(N_STEPS) // (3 + s)) % 2 for s in seeds])
    return items, produced


CONFIGS = {
    "default": MirrorConfig(n_neurons=24),
    "kwta": MirrorConfig(n_neurons=24, competition="kwta"),
    "joint": MirrorConfig(n_neurons=24, normalisation="joint"),
    "trace": MirrorConfig(n_neurons=24, trace_eta=0.6),
    "no_homeostasis": MirrorConfig(n_neurons=24, homeostasis=0.0),
    "frozen": MirrorConfig(n_neurons=24, learning_rate=0.0, homeostasis=0.0),
    "fast": MirrorConfig(n_neurons=24, learning_rate=0.05, sparseness=0.75),
}


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_batched_layer_follows_the_dense_reference(name, backend):
    rows, probes = bank(0), bank(1)
    seeds = (0, 1, 2)
    nets = networks(CONFIGS[name], seeds, rows)
    engine = BankMirror(
        [layer for _, layer in nets], rows, [m.patterns for m, _ in nets], probes, backend
    )
    items, produced = inputs(seeds)
    untrained = engine.respond_visual(0, np.arange(K))
    trajectory = engine.run(items, produced)
    for b, (motor, layer) in enumerate(nets):
        dense = np.stack(
            [
                layer.step(rows[items[b, t]], motor.patterns[produced[b, t]]).copy()
                for t in range(N_STEPS)
            ]
        )
        # float32 rounding in another order: rates agree far below any class criterion
        np.testing.assert_allclose(trajectory.rates[b], dense, atol=2e-4, rtol=0)
        np.testing.assert_allclose(trajectory.mean_rate[b], dense.mean(axis=1), atol=2e-5)
        visual = layer.respond(probes, np.zeros((K, motor.n_motor), np.float32))
        np.testing.assert_allclose(engine.respond_visual(b, np.arange(K)), visual, atol=2e-4)
        trials = motor.patterns[np.arange(10) % 2]
        motor_only = layer.respond(np.zeros((10, N_VISUAL), np.float32), trials)
        np.testing.assert_allclose(engine.respond_motor(b, trials), motor_only, atol=2e-4)
    # learning happened (or not, when frozen): the test above compares something that moved
    moved = np.abs(engine.respond_visual(0, np.arange(K)) - untrained).max()
    assert (moved < 1e-6) if name == "frozen" else (moved > 0.01)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_a_network_gives_the_same_numbers_alone_or_in_a_batch(backend):
    rows, probes = bank(0), bank(1)
    config = CONFIGS["default"]
    seeds = (3, 4, 5, 6, 7)
    items, produced = inputs(seeds)
    many = BankMirror(
        [layer for _, layer in networks(config, seeds, rows)],
        rows,
        [m.patterns for m, _ in networks(config, seeds, rows)],
        probes,
        backend,
    )
    together = many.run(items, produced)
    for b, seed in enumerate(seeds):
        ((motor, layer),) = networks(config, [seed], rows)
        alone = BankMirror([layer], rows, [motor.patterns], probes, backend)
        single = alone.run(items[b : b + 1], produced[b : b + 1])
        np.testing.assert_array_equal(single.rates[0], together.rates[b])
        np.testing.assert_array_equal(single.visual_drive[0], together.visual_drive[b])
        np.testing.assert_array_equal(single.motor_drive[0], together.motor_drive[b])
        np.testing.assert_array_equal(
            alone.respond_visual(0, np.arange(K)), many.respond_visual(b, np.arange(K))
        )


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_a_run_that_keeps_no_rates_gives_the_same_statistics_bit_for_bit(backend):
    """Without the rates kept only one chunk's are held; every statistic is the same."""
    rows, probes = bank(0), bank(1)
    seeds = (0, 1)
    items, produced = inputs(seeds)
    assert N_STEPS > CHUNK  # several chunks, the last one short
    results = []
    for keep in (True, False):
        nets = networks(CONFIGS["default"], seeds, rows)
        engine = BankMirror(
            [layer for _, layer in nets], rows, [m.patterns for m, _ in nets], probes, backend
        )
        results.append((engine.run(items, produced, keep_rates=keep), engine))
    (kept, kept_engine), (lean, lean_engine) = results
    assert lean.rates is None and kept.rates.shape == (2, N_STEPS, 24)
    for name in ("mean_rate", "active", "visual_drive", "motor_drive"):
        assert getattr(lean, name).tobytes() == getattr(kept, name).tobytes(), name
        assert getattr(lean, name).dtype == getattr(kept, name).dtype
    np.testing.assert_array_equal(kept.mean_rate, kept.rates.mean(axis=2))
    np.testing.assert_array_equal(kept.active, np.count_nonzero(kept.rates >= 0.5, axis=2))
    np.testing.assert_array_equal(
        lean_engine.respond_visual(1, np.arange(K)), kept_engine.respond_visual(1, np.arange(K))
    )


def test_the_compiled_loop_follows_the_numpy_one():
    # the two back-ends of one batch: float32 rounding in another order, nothing more
    rows, probes = bank(0), bank(1)
    seeds = (0, 1)
    items, produced = inputs(seeds)
    runs = {}
    for backend in ("numba", "numpy"):
        nets = networks(CONFIGS["default"], seeds, rows)
        engine = BankMirror(
            [layer for _, layer in nets], rows, [m.patterns for m, _ in nets], probes, backend
        )
        runs[backend] = (engine.run(items, produced), engine)
    (fast, fast_engine), (slow, slow_engine) = runs["numba"], runs["numpy"]
    np.testing.assert_allclose(fast.rates, slow.rates, atol=2e-5, rtol=0)
    np.testing.assert_allclose(fast.visual_drive, slow.visual_drive, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(fast.motor_drive, slow.motor_drive, rtol=1e-5, atol=1e-7)
    for b in range(len(seeds)):
        np.testing.assert_allclose(
            fast_engine.respond_visual(b, np.arange(K)),
            slow_engine.respond_visual(b, np.arange(K)),
            atol=2e-5,
        )
    with pytest.raises(ValueError, match="backend"):
        BankMirror([nets[0][1]], rows, [nets[0][0].patterns], probes, "fortran")


def test_one_draw_of_all_items_equals_one_draw_per_timestep():
    # run_batch draws every timestep's bank item at once; InfantBrain.experience draws one
    # per call: the same stream must give the same items
    for n_bank in (1, 7, 16, 200, 1000, 2**20 + 3):
        one_by_one = np.random.default_rng(n_bank)
        at_once = np.random.default_rng(n_bank)
        expected = [int(one_by_one.integers(n_bank)) for _ in range(500)]
        np.testing.assert_array_equal(at_once.integers(n_bank, size=500), expected)


def test_bad_inputs_are_refused():
    rows, probes = bank(0), bank(1)
    nets = networks(CONFIGS["default"], (0,), rows)
    layers, patterns = [layer for _, layer in nets], [m.patterns for m, _ in nets]
    with pytest.raises(ValueError, match="bank"):
        BankMirror(layers, rows[:, :5], patterns, probes)
    with pytest.raises(ValueError, match="at least one"):
        BankMirror([], rows, [], probes)
    other = networks(MirrorConfig(n_neurons=12), (1,), rows)[0][1]
    with pytest.raises(ValueError, match="one config"):
        BankMirror([*layers, other], rows, patterns * 2, probes)
    engine = BankMirror(layers, rows, patterns, probes)
    with pytest.raises(ValueError, match="n_steps"):
        engine.run(np.zeros((2, 5), int), np.zeros((2, 5), int))


@pytest.mark.parametrize("n_networks", [1, 3])
def test_the_loop_loaded_first_is_the_one_a_batch_runs(n_networks):
    """After load_compiled_loop a batch compiles nothing, so its interaction_s is stepping alone.

    A chunk of one network is a contiguous array, a chunk of several is not: numba makes one
    version of the loop for each, and the warm-up must load the one the batch will use.
    """
    from dyad.brain.bank_kernels import chunk_steps, compiled_loop_cached, scale_and_flush
    from dyad.brain.batched import load_compiled_loop

    load_compiled_loop(n_networks)
    assert compiled_loop_cached()  # loaded in this process
    before = (set(chunk_steps.signatures), set(scale_and_flush.signatures))
    seeds = tuple(range(n_networks))
    rows = bank(0)
    nets = networks(CONFIGS["default"], seeds, rows)
    engine = BankMirror([layer for _, layer in nets], rows, [m.patterns for m, _ in nets], rows)
    engine.run(*inputs(seeds))  # several chunks and a fold
    assert (set(chunk_steps.signatures), set(scale_and_flush.signatures)) == before
    assert load_compiled_loop(n_networks) == 0.0  # nothing left to load


def test_a_process_with_an_empty_numba_cache_knows_it_must_compile(tmp_path):
    import subprocess
    import sys

    check = (
        "from dyad.brain.bank_kernels import compiled_loop_cached; print(compiled_loop_cached())"
    )
    env = {**__import__("os").environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", check], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
