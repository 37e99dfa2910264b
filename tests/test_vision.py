"""Pre-training pipeline and its on-disk cache (dyad/vision/) and ``dyad pretrain``."""

import dataclasses
import logging
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import dyad.vision as vision
from dyad.brain.visnet import VisNet, VisNetConfig
from dyad.cli import cli
from dyad.errors import ConfigError
from dyad.faces import FaceConfig, ParametricFaces, TransformConfig
from dyad.vision import (
    PretrainConfig,
    cache_key,
    layer4_bank,
    pretrain,
    read_cache,
    streams,
    write_cache,
)


def tiny_config(**overrides) -> PretrainConfig:
    """64-px faces, 8×8 layers, 1 epoch, a handful of transforms: about a second to train."""
    values = dict(
        faces=FaceConfig(size=64),
        visnet=VisNetConfig.small(layer_side=8, epochs=(1, 1, 1, 1)),
        n_train_transforms=2,
        n_test_transforms=2,
    )
    values.update(overrides)
    return PretrainConfig(**values)


#: the real fingerprint function (the fixture below pins the module attribute)
real_fingerprint = vision.source_fingerprint


@pytest.fixture(scope="module", autouse=True)
def pinned_source():
    """Pin the source fingerprint for this module.

    Dyad's files may be edited while the tests run, which would (correctly) make every cached file
    stale between two tests.
    """
    fingerprint = real_fingerprint()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(vision.cache, "source_fingerprint", lambda: fingerprint)
        yield


@pytest.fixture(scope="module")
def config() -> PretrainConfig:
    return tiny_config()


@pytest.fixture(scope="module")
def built(config, tmp_path_factory):
    """The tiny config trained once, with its cache file in a folder of its own."""
    return pretrain(config, cache_dir=tmp_path_factory.mktemp("golden"))


@pytest.fixture
def cached(built, tmp_path):
    """A fresh cache folder holding a copy of the trained network's file."""
    shutil.copy2(built.cache_path, tmp_path / built.cache_path.name)
    return tmp_path / built.cache_path.name


def _arrays(result) -> dict[str, np.ndarray]:
    return result.visnet.to_arrays()


def _assert_same_network(a, b) -> None:
    left, right = _arrays(a), _arrays(b)
    assert left.keys() == right.keys()
    for name in left:
        np.testing.assert_array_equal(left[name], right[name], err_msg=name)


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


# --------------------------------------------------------------------------------------------
# configuration


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"expressions": ("happy",)}, "expressions"),
        ({"expressions": ("happy", "happy")}, "expressions"),
        ({"identity_seeds": ()}, "identity_seeds"),
        ({"identity_seeds": (1, 1)}, "identity_seeds"),
        ({"identity_seeds": (-1,)}, "identity_seeds"),
        ({"n_train_transforms": 1}, "n_train_transforms"),
        ({"n_test_transforms": 0}, "n_test_transforms"),
        ({"seed": -3}, "seed"),
        ({"faces": FaceConfig(size=96)}, "faces.size"),
        ({"faces": FaceConfig(size=64, background=100.0)}, "faces.background"),
        ({"visnet": "classic"}, "visnet"),
    ],
)
def test_impossible_configs_are_rejected(overrides, field):
    with pytest.raises(ConfigError, match=f"^{field}[.:]"):
        tiny_config(**overrides)


def test_photometric_transforms_switch_off_geometry_only():
    photometric, default = TransformConfig.photometric(), TransformConfig()
    assert photometric.translation == 0 and photometric.rotation == 0
    assert photometric.scale == (1.0, 1.0) and photometric.compression == (1.0, 1.0)
    for name in ("brightness", "contrast", "gradient", "noise", "au_jitter"):
        assert getattr(photometric, name) == getattr(default, name), name
        assert getattr(photometric, name) != getattr(TransformConfig.disabled(), name), name
    assert default.translation == 8.0 and default.scale == (0.9, 1.1)  # defaults unchanged


def test_pretraining_defaults_to_photometric_transforms_and_centred_learning():
    config = PretrainConfig()
    assert config.faces.transforms == TransformConfig.photometric()
    assert config.faces.size == 128 and config.visnet.centre_inputs


def test_cache_holds_each_layers_input_mean(config, built):
    arrays = _arrays(built)
    for i in range(1, 5):
        mean = arrays[f"layer{i}.input_mean"]
        assert mean.shape == arrays[f"layer{i}.weights"].shape and mean.any()
    loaded, _ = read_cache(built.cache_path, built.key)
    for name, value in arrays.items():
        np.testing.assert_array_equal(loaded[name], value, err_msg=name)


def test_lists_become_tuples():
    config = tiny_config(expressions=["happy", "sad"], identity_seeds=[2, 5])
    assert config.expressions == ("happy", "sad")
    assert config.identity_seeds == (2, 5)


def test_cache_key_changes_with_everything_the_result_depends_on(config, monkeypatch):
    key = cache_key(config)
    assert len(key) == 64 and key == cache_key(tiny_config())
    changed = [
        tiny_config(seed=1),
        tiny_config(n_train_transforms=4),
        tiny_config(identity_seeds=(0, 1)),
        tiny_config(expressions=("sad", "happy")),
        tiny_config(visnet=VisNetConfig.small(layer_side=8, epochs=(2, 1, 1, 1))),
        tiny_config(faces=FaceConfig(size=64, supersample=2)),
        tiny_config(visnet=VisNetConfig.small(layer_side=8, epochs=(1, 1, 1, 1), conscience=0.1)),
    ]
    keys = {cache_key(c) for c in changed}
    assert key not in keys and len(keys) == len(changed)
    # the faces' own identity seed is replaced by identity_seeds and does not matter
    assert cache_key(tiny_config(faces=FaceConfig(size=64, identity_seed=7))) == key
    # a new dyad version or any edit to the code it depends on changes the key
    monkeypatch.setattr(vision.cache, "__version__", "999")
    assert cache_key(config) != key
    monkeypatch.undo()
    monkeypatch.setattr(vision.cache, "source_fingerprint", lambda: "edited")
    assert cache_key(config) != key


def write_package(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_source_fingerprint_follows_what_pre_training_imports(tmp_path):
    write_package(
        tmp_path,
        {
            "cli.py": "import dyad.brain.mirror\n",
            "vision/__init__.py": "from dyad.vision.images import render\n",
            "vision/images.py": "from dyad.faces import Face\nfrom dyad.brain import visnet\n",
            "faces/__init__.py": "from dyad.faces.geometry import Face\n",
            "faces/geometry.py": "# geometry\n",
            "brain/__init__.py": "",
            "brain/visnet.py": "def train():\n    from dyad.brain.kernels import step\n",
            "brain/kernels.py": "# kernels\n",
            "brain/mirror.py": "# the mirror layer: the interaction, not pre-training\n",
        },
    )
    covered = [p.relative_to(tmp_path).as_posix() for p in vision.cache.dependencies(tmp_path)]
    assert covered == [
        "brain/__init__.py",
        "brain/kernels.py",  # imported inside a function of visnet.py
        "brain/visnet.py",
        "faces/__init__.py",
        "faces/geometry.py",  # through the package's __init__
        "vision/__init__.py",
        "vision/images.py",
    ]
    fingerprint = real_fingerprint(tmp_path)
    assert fingerprint == real_fingerprint(tmp_path)
    # files pre-training does not import: edited or added, the cached networks stay valid
    (tmp_path / "brain" / "mirror.py").write_text("# the mirror layer, edited\n")
    (tmp_path / "cli.py").write_text("# edited, but pre-training does not depend on it\n")
    (tmp_path / "brain" / "new.py").write_text("")
    assert real_fingerprint(tmp_path) == fingerprint
    # any file it imports, however deep: a new fingerprint
    for name in ("faces/geometry.py", "vision/images.py", "brain/kernels.py", "brain/__init__.py"):
        (tmp_path / name).write_text((tmp_path / name).read_text() + "# edited\n")
        assert real_fingerprint(tmp_path) != fingerprint, name
        fingerprint = real_fingerprint(tmp_path)
    # a module it starts to import
    (tmp_path / "brain" / "visnet.py").write_text("import dyad.brain.mirror\n")
    covered = [p.relative_to(tmp_path).as_posix() for p in vision.cache.dependencies(tmp_path)]
    assert "brain/mirror.py" in covered and "brain/kernels.py" not in covered


def test_source_fingerprint_covers_pre_training_and_not_the_mirror_layer():
    root = Path(vision.__file__).resolve().parents[1]  # the dyad package
    covered = {p.relative_to(root).as_posix() for p in vision.cache.dependencies(root)}
    every_vision_module = {p.relative_to(root).as_posix() for p in root.glob("vision/*.py")}
    every_faces_module = {p.relative_to(root).as_posix() for p in root.glob("faces/*.py")}
    visnet = {f"brain/{name}.py" for name in ("v1", "visnet", "layer", "connectivity", "kernels")}
    assert every_vision_module | every_faces_module | visnet <= covered
    mirror = {f"brain/{name}.py" for name in ("mirror", "batched", "bank_kernels", "infant")}
    assert not covered & mirror


def test_streams_are_independent_and_reproducible():
    a, b = streams(3), streams(3)
    assert a.keys() == set(vision.STREAMS)
    draws = {name: a[name].random(4) for name in a}
    for name in b:
        np.testing.assert_array_equal(b[name].random(4), draws[name])
    assert not np.allclose(draws["train_images"], draws["test_images"])


# --------------------------------------------------------------------------------------------
# the pipeline


def test_pretraining_is_a_pure_function_of_config_and_seed(config, built):
    again = pretrain(config, use_cache=False)
    assert not again.from_cache and again.cache_path is None
    _assert_same_network(built, again)
    other = pretrain(tiny_config(seed=1), use_cache=False)
    assert not np.array_equal(_arrays(built)["layer4.weights"], _arrays(other)["layer4.weights"])


def test_shuffled_trace_blocks_draw_their_order_from_the_seed(config, built):
    """``visnet.trace_block``: the block order comes from pre-training's own stream.

    Reproducible from the seed, a different network from the classic order, and the other
    streams untouched (the untrained network is the classic one's).
    """
    blocked = tiny_config(visnet=dataclasses.replace(config.visnet, trace_block=2))
    a, b = pretrain(blocked, use_cache=False), pretrain(blocked, use_cache=False)
    _assert_same_network(a, b)
    assert not np.array_equal(_arrays(a)["layer1.weights"], _arrays(built)["layer1.weights"])
    for name, value in a.untrained().visnet.to_arrays().items():
        np.testing.assert_array_equal(value, built.untrained().visnet.to_arrays()[name])


def test_untrained_is_the_same_seed_network_before_training(config, built):
    result = built
    untrained = result.untrained()
    assert not untrained.trained and result.trained
    initial = VisNet(config.visnet, streams(config.seed)["visnet"]).to_arrays()
    trained = _arrays(result)
    for name, value in untrained.visnet.to_arrays().items():
        np.testing.assert_array_equal(value, initial[name])
        if name.endswith("presynaptic"):
            np.testing.assert_array_equal(value, trained[name])  # same connectivity
    assert not np.allclose(initial["layer1.weights"], trained["layer1.weights"])


def test_layer4_and_held_out_test_set(config, built):
    result = built
    images = result.test_images()
    assert images.shape == (2, 2, 64, 64) and images.dtype == np.float32
    rates = result.test_layer4(images)
    assert rates.shape == (2, 2, 64) and rates.dtype == np.float32
    assert np.all((rates >= 0) & (rates <= 1))
    np.testing.assert_array_equal(rates[1], result.layer4(images[1]))
    assert result.layer4(images[0, :0]).shape == (0, 64)
    # held out: drawn from their own stream, never the training images
    train = vision.render_images(config, config.n_train_transforms, streams(0)["train_images"])
    assert not any(np.array_equal(t, x) for t in images.reshape(-1, 64, 64) for x in train[0])


def test_several_parents_are_trained_contiguously_per_expression():
    config = tiny_config(identity_seeds=(0, 4))
    images = vision.render_images(config, 2, np.random.default_rng(0))
    assert images.shape == (2, 4, 64, 64)
    # parent 0's two transforms, then parent 4's, within each expression
    rng = np.random.default_rng(0)
    expected = ParametricFaces(config.face_config(0)).images("happy", 2, rng)
    np.testing.assert_array_equal(images[0, :2], expected)


def test_interleaved_presentation_cycles_through_the_faces_at_each_transform():
    config = tiny_config(identity_seeds=(0, 4))
    blocked = vision.render_images(config, 3, np.random.default_rng(0))
    interleaved = vision.render_images(
        config, 3, np.random.default_rng(0), presentation="interleaved"
    )
    # the same images, in another order: face 0 t0, face 4 t0, face 0 t1, face 4 t1, ...
    for e in range(2):
        np.testing.assert_array_equal(interleaved[e, 0::2], blocked[e, :3])
        np.testing.assert_array_equal(interleaved[e, 1::2], blocked[e, 3:])


def test_training_shows_the_other_faces_in_the_configured_order(monkeypatch):
    shown = {}

    def spy(config, n, rng, identity_seeds=None, expressions=None, presentation="blocked"):
        shown.update(identities=tuple(identity_seeds), presentation=presentation)
        return np.zeros((2, n * len(identity_seeds), 64, 64), dtype=np.float32)

    monkeypatch.setattr(vision.images, "render_images", spy)
    monkeypatch.setattr(VisNet, "fit_gathered", lambda self, *a, **k: self)
    config = tiny_config(identity_seeds=(3,), n_other_faces=2)
    vision.train(config)
    assert shown["identities"] == (3, *config.other_faces)
    assert shown["presentation"] == "interleaved"


def test_other_and_held_out_faces_are_distinct_and_never_a_parent():
    config = tiny_config(identity_seeds=(0, 1), n_other_faces=5)
    other = config.other_faces
    held_out = config.heldout_faces(4)
    assert len(set(other)) == 5 and len(set(held_out)) == 4
    assert not set(other) & {0, 1} and not set(held_out) & set(config.training_faces)
    # drawn from the seed: reproducible, and another seed draws other people
    assert other == tiny_config(identity_seeds=(0, 1), n_other_faces=5).other_faces
    assert other != tiny_config(identity_seeds=(0, 1), n_other_faces=5, seed=1).other_faces
    # the first faces do not change when more are asked for
    assert tiny_config(identity_seeds=(0, 1), n_other_faces=7).other_faces[:5] == other


def test_held_out_images_show_faces_pre_training_never_saw(built):
    images = built.heldout_images(n_faces=2, n_per_face=3)
    assert images.shape == (2, 6, 64, 64)
    parent = vision.render_images(built.config, 3, streams(0)["test_images"])
    assert not np.array_equal(images[0, :3], parent[0])


@pytest.mark.parametrize(
    ("field", "value"),
    [("n_other_faces", -1), ("n_other_faces", 1001), ("presentation", "shuffled")],
)
def test_bad_face_fields_are_named(field, value):
    with pytest.raises(ConfigError, match=field):
        tiny_config(**{field: value})


# --------------------------------------------------------------------------------------------
# the cache


def test_cache_hit_returns_identical_weights_without_retraining(
    config, built, cached, tmp_path, monkeypatch
):
    assert not built.from_cache and built.cache_path.exists()

    def refuse(*args, **kwargs):
        raise AssertionError("trained although a valid cache file exists")

    monkeypatch.setattr(vision.pretrained, "train", refuse)
    loaded = pretrain(config, cache_dir=tmp_path)
    assert loaded.from_cache and loaded.cache_path == cached
    assert loaded.key == built.key == cache_key(config)
    _assert_same_network(built, loaded)
    images = built.test_images()
    np.testing.assert_array_equal(built.test_layer4(images), loaded.test_layer4(images))


def test_default_cache_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DYAD_CACHE_DIR", str(tmp_path / "here"))
    assert vision.default_cache_dir() == tmp_path / "here"
    monkeypatch.delenv("DYAD_CACHE_DIR")
    assert vision.default_cache_dir() == Path.home() / ".cache" / "dyad"


def test_changed_config_uses_another_file(built, cached, tmp_path):
    b = pretrain(tiny_config(seed=1), cache_dir=tmp_path)
    assert cached != b.cache_path and built.key != b.key
    assert not b.from_cache
    assert len(list(tmp_path.glob("*.npz"))) == 2


def test_rebuild_trains_again_and_overwrites(config, cached, tmp_path):
    rebuilt = pretrain(config, cache_dir=tmp_path, rebuild=True)
    assert not rebuilt.from_cache
    assert pretrain(config, cache_dir=tmp_path).from_cache


def _corrupt_truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _corrupt_flip(path):
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    for i in range(middle, middle + 16):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def _corrupt_garbage(path):
    path.write_bytes(b"not a cache file at all")


def _corrupt_checksum(path):
    """A well-formed file whose arrays no longer match the recorded checksum."""
    with np.load(path) as data:
        arrays = {name: data[name].copy() for name in data.files}
    arrays["layer4.weights"][0, 0] += 0.5
    np.savez(path, **arrays)


@pytest.mark.parametrize(
    "corrupt", [_corrupt_truncate, _corrupt_flip, _corrupt_garbage, _corrupt_checksum]
)
def test_corrupt_cache_is_reported_and_rebuilt(config, built, cached, tmp_path, caplog, corrupt):
    corrupt(cached)
    with caplog.at_level(logging.WARNING, logger="dyad.vision"):
        again = pretrain(config, cache_dir=tmp_path)
    messages = _warnings(caplog)
    assert len(messages) == 1
    assert str(cached) in messages[0] and "corrupt" in messages[0]
    assert not again.from_cache
    _assert_same_network(built, again)
    # the rebuilt file is valid again
    caplog.clear()
    assert pretrain(config, cache_dir=tmp_path).from_cache
    assert not _warnings(caplog)


def test_checksum_mismatch_names_the_reason(built, cached, caplog):
    _corrupt_checksum(cached)
    with caplog.at_level(logging.WARNING, logger="dyad.vision"):
        assert read_cache(cached, built.key) is None
    assert "checksum" in _warnings(caplog)[0]


def test_stale_cache_from_other_code_is_reported_and_rebuilt(
    config, built, cached, tmp_path, caplog, monkeypatch
):
    old = pretrain(config, cache_dir=tmp_path)
    assert old.from_cache
    monkeypatch.setattr(vision.cache, "source_fingerprint", lambda: "a newer visnet.py")
    with caplog.at_level(logging.WARNING, logger="dyad.vision"):
        new = pretrain(config, cache_dir=tmp_path)
    messages = _warnings(caplog)
    assert len(messages) == 1
    assert str(old.cache_path) in messages[0] and "stale" in messages[0]
    assert new.cache_path == old.cache_path and new.key != old.key and not new.from_cache
    caplog.clear()
    assert pretrain(config, cache_dir=tmp_path).from_cache  # replaced, not left behind
    assert not _warnings(caplog)


def test_cache_file_embeds_key_config_and_checksum(config, built):
    arrays, metadata = read_cache(built.cache_path, built.key)
    assert metadata["key"] == built.key
    assert metadata["config"] == config.canonical()
    assert metadata["checksum"] == vision.array_checksum(arrays)
    assert metadata["build_seconds"] > 0
    with zipfile.ZipFile(built.cache_path) as archive:
        assert "__meta__.npy" in archive.namelist()


def test_write_is_atomic_and_leaves_no_temporary_files(tmp_path, monkeypatch):
    path = tmp_path / "x.npz"
    write_cache(path, {"a": np.arange(3.0)}, {"key": "k"})
    assert [p.name for p in tmp_path.iterdir()] == ["x.npz"]
    before = path.read_bytes()

    def crash(file, **arrays):
        file.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        write_cache(path, {"a": np.arange(5.0)}, {"key": "k"})
    assert [p.name for p in tmp_path.iterdir()] == ["x.npz"]
    assert path.read_bytes() == before


def test_unwritable_cache_folder_still_returns_a_network(config, tmp_path, caplog, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError("read-only file system")

    monkeypatch.setattr(vision.pretrained, "write_cache", refuse)
    with caplog.at_level(logging.WARNING, logger="dyad.vision"):
        result = pretrain(config, cache_dir=tmp_path)
    assert result.cache_path is None and result.trained
    assert "could not write" in _warnings(caplog)[0]


def test_cache_dir_that_is_a_file_is_bad_input(config, tmp_path):
    target = tmp_path / "file"
    target.write_text("")
    with pytest.raises(ConfigError, match="cache_dir"):
        pretrain(config, cache_dir=target)


# --------------------------------------------------------------------------------------------
# layer-4 banks


def test_layer4_bank_shape_and_reproducibility(config, built):
    result = built
    bank = layer4_bank(result, ("happy", "sad"), 4, np.random.default_rng(1))
    assert bank.shape == (2, 4, 64) and bank.dtype == np.float32
    again = layer4_bank(result, ("happy", "sad"), 4, np.random.default_rng(1))
    np.testing.assert_array_equal(bank, again)
    images = vision.render_images(config, 4, np.random.default_rng(1))
    np.testing.assert_array_equal(bank[0], result.layer4(images[0]))


def test_layer4_bank_is_cached_by_seed_and_size(built, tmp_path, monkeypatch):
    result = built
    bank = layer4_bank(result, ("happy", "sad"), 4, 7, cache_dir=tmp_path)
    files = set(tmp_path.glob("bank-*.npz"))
    assert len(files) == 1
    monkeypatch.setattr(
        vision.PretrainedVision, "layer4", lambda *a: pytest.fail("recomputed a cached bank")
    )
    np.testing.assert_array_equal(
        layer4_bank(result, ("happy", "sad"), 4, 7, cache_dir=tmp_path), bank
    )
    monkeypatch.undo()
    layer4_bank(result, ("happy", "sad"), 5, 7, cache_dir=tmp_path)
    layer4_bank(result, ("happy", "sad"), 4, 8, cache_dir=tmp_path)
    layer4_bank(result, ("happy", "sad"), 4, 7, identity_seed=3, cache_dir=tmp_path)
    assert len(set(tmp_path.glob("bank-*.npz"))) == 4
    # a generator's state cannot be keyed: never cached
    layer4_bank(result, ("happy", "sad"), 4, np.random.default_rng(7), cache_dir=tmp_path)
    assert len(set(tmp_path.glob("bank-*.npz"))) == 4


def test_layer4_bank_rejects_bad_input(built):
    result = built
    with pytest.raises(ConfigError, match="n_per_expression"):
        layer4_bank(result, ("happy",), 0, 1, use_cache=False)
    with pytest.raises(ConfigError, match="rng"):
        layer4_bank(result, ("happy",), 2, "seven", use_cache=False)
    with pytest.raises(ConfigError):
        layer4_bank(result, ("grumpy",), 2, 1, use_cache=False)


# --------------------------------------------------------------------------------------------
# dyad pretrain

TINY_CLI = [
    *("--small", "--epochs", "1", "--transforms", "2", "--test-transforms", "2"),
    *("--other-faces", "1", "--quiet"),
]


def test_cli_trains_then_loads_and_reports_information(tmp_path):
    runner = CliRunner()
    args = ["pretrain", *TINY_CLI, "--cache-dir", str(tmp_path)]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    files = list(tmp_path.glob("pretrain-*.npz"))
    assert len(files) == 1
    assert str(files[0]) in first.stdout and "Trained in" in first.stdout
    for word in ("parents, trained", "unseen, untrained", "happy", "sad", ">= 0.99 bit"):
        assert word in first.stdout
    second = runner.invoke(cli, args)
    assert second.exit_code == 0, second.output
    assert f"Loaded from cache: {files[0]}" in second.stdout
    # the information table is the same whether trained now or loaded
    assert first.stdout.splitlines()[1:] == second.stdout.splitlines()[1:]


def test_cli_writes_the_information_figure(tmp_path):
    target = tmp_path / "figures" / "info_vs_rank.png"
    args = ["pretrain", *TINY_CLI, "--cache-dir", str(tmp_path), "--figure", str(target)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"Figure: {target}" in result.stdout


def test_cli_options_reach_the_config(tmp_path):
    from dyad.commands.pretrain import pretrain_config

    config = pretrain_config(size=96, identity_seeds=(2, 3), seed=5, epochs=7)
    assert config.faces.size == config.visnet.v1.image_size == 96
    assert config.visnet.epochs == (7, 7, 7, 7)
    assert config.identity_seeds == (2, 3) and config.seed == 5
    assert config.visnet.layer_side == 32  # classic unless --small
    assert pretrain_config(small=True).visnet == VisNetConfig.small(
        sparseness=(0.5,) * 4, l1_fan_in=(0, 0, 33, 33), epochs=(40,) * 4
    )
    # the defaults are a scenario's: the same cache file as `dyad simulate` uses
    from dyad.config import load_scenario
    from dyad.simulation import pretrain_config as scenario_config

    perfect = load_scenario(Path(__file__).parents[1] / "scenarios" / "perfect.toml")
    assert pretrain_config() == scenario_config(perfect)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--seed", "-1"], "--seed"),
        (["--epochs", "0"], "--epochs"),
        (["--size", "8"], "--size"),
        (["--identity-seed", "-2"], "--identity-seed"),
        (["--transforms", "1"], "n_train_transforms"),
        (["--other-faces", "-1"], "--other-faces"),
        (["--figure", "curves.txt"], "--figure"),
    ],
)
def test_cli_bad_input_exits_2(tmp_path, extra, message):
    result = CliRunner().invoke(cli, ["pretrain", *TINY_CLI, "--cache-dir", str(tmp_path), *extra])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert not list(tmp_path.glob("*.npz"))


def test_cli_cache_dir_that_is_a_file_exits_2(tmp_path):
    target = tmp_path / "file"
    target.write_text("")
    result = CliRunner().invoke(cli, ["pretrain", *TINY_CLI, "--cache-dir", str(target)])
    assert result.exit_code == 2
    assert "cache_dir" in result.stderr


def test_pretrain_config_is_frozen(config):
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.seed = 3  # type: ignore[misc]


def test_click_progress_draws_one_bar_per_stage(capsys):
    from dyad.progress import ClickProgress

    bars = ClickProgress()
    for stage, total in (("V1 filtering", 3), ("VisNet layer 1", 2)):
        for done in range(total + 1):
            bars(stage, done, total)
    err = capsys.readouterr().err
    assert "V1 filtering" in err and "VisNet layer 1" in err
    assert bars._bar is None  # closed when the last stage reached its total
