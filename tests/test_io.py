"""The shared helpers: one atomic write, one JSON rule, and the study's one-home constants."""

from __future__ import annotations

import enum
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from dyad._io import TEMP_MARK, atomic_write, file_sha256, flatten, is_int, to_json, write_json
from dyad.analysis import NEURON_CLASSES, class_column, dominant_class
from dyad.errors import ResultsError
from dyad.plugins import ENV_PLUGINS_DIR, plugin_folders
from dyad.store import results_kind


def test_atomic_write_replaces_whole_and_returns_the_digest(tmp_path):
    target = tmp_path / "table.bin"
    target.write_bytes(b"old")
    digest = atomic_write(target, b"new bytes")
    assert target.read_bytes() == b"new bytes"
    assert digest == file_sha256(target)
    assert [p.name for p in tmp_path.iterdir()] == ["table.bin"]


def test_the_digest_of_a_writer_is_of_the_finished_file_whether_it_appends_or_seeks(tmp_path):
    def appends(handle):  # hashed as written
        for chunk in (b"first ", memoryview(b"second "), bytearray(b"third")):
            handle.write(chunk)

    def seeks_back(handle):  # like np.savez's zip: what was written first is overwritten
        handle.write(b"placeholder and body")
        handle.seek(0)
        handle.write(b"PLACEHOLDER")

    def zipped(handle):
        np.savez(handle, weights=np.arange(5.0))

    for writer, expected in [
        (appends, b"first second third"),
        (seeks_back, b"PLACEHOLDER and body"),
        (zipped, None),
    ]:
        target = tmp_path / writer.__name__
        digest = atomic_write(target, writer)
        if expected is not None:
            assert target.read_bytes() == expected
        assert digest == file_sha256(target), writer.__name__
    assert np.load(tmp_path / "zipped")["weights"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_a_failing_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "table.bin"
    target.write_bytes(b"old")

    def half_then_crash(handle):
        handle.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, half_then_crash)
    assert target.read_bytes() == b"old"
    assert not [p for p in tmp_path.iterdir() if TEMP_MARK in p.name]


class Colour(enum.Enum):
    RED = "red"


def test_one_json_rule_for_every_writer(tmp_path):
    value = {
        "nan": float("nan"),
        "inf": np.float32("inf"),
        "array": np.arange(3, dtype=np.int16),
        "path": Path("a") / "b",
        "set": {"b", "a"},
        "tuple": (1, 2.5),
        "enum": Colour.RED,
        3: True,
    }
    assert to_json(value) == {
        "nan": None,
        "inf": None,
        "array": [0, 1, 2],
        "path": str(Path("a") / "b"),
        "set": ["a", "b"],
        "tuple": [1, 2.5],
        "enum": "red",
        "3": True,
    }
    path = tmp_path / "record.json"
    write_json(path, value)
    assert json.loads(path.read_text())["nan"] is None


def test_an_unknown_type_is_refused_naming_where_it_was(tmp_path):
    with pytest.raises(TypeError, match=r"manifest\.timings\.clock: cannot store a object"):
        to_json({"timings": {"clock": object()}}, "manifest")


def test_flatten_and_is_int():
    assert dict(flatten({"a": {"b": 1, "c": {"d": [2]}}, "e": None})) == {
        "a.b": 1,
        "a.c.d": [2],
        "e": None,
    }
    assert is_int(3) and is_int(np.int64(3))
    assert not is_int(True) and not is_int(3.0)


def test_which_class_dominates():
    assert dominant_class(16, 3, 32) == "mirror"  # half the layer and more than anti-mirror
    assert dominant_class(15, 3, 32) == "neither"
    assert dominant_class(3, 20, 32) == "anti-mirror"
    assert dominant_class(16, 16, 32) == "neither"
    assert list(dominant_class([20, 0], [0, 20], [32, 32])) == ["mirror", "anti-mirror"]


def test_class_columns_are_identifier_safe():
    assert [class_column(c) for c in NEURON_CLASSES] == [
        "mirror",
        "anti_mirror",
        "visual_only",
        "motor_only",
        "bimodal_unselective",
        "unselective",
    ]


def test_plugin_folders_follow_one_rule(tmp_path, monkeypatch):
    env_dir, given = tmp_path / "env", tmp_path / "given"
    monkeypatch.setenv(ENV_PLUGINS_DIR, str(env_dir))
    assert plugin_folders() == (env_dir.resolve(),)
    assert plugin_folders([given]) == (given.resolve(),)
    assert plugin_folders([given, env_dir], with_env=True) == (env_dir.resolve(), given.resolve())
    monkeypatch.setenv("HOME", str(tmp_path))
    assert plugin_folders(["~/given"]) == (given.resolve(),)


def test_results_kind_is_the_one_folder_check(tmp_path):
    run, sweep, interrupted, other = (tmp_path / n for n in ("run", "sweep", "cut", "other"))
    for folder in (run, sweep, interrupted, other):
        folder.mkdir()
    (run / "manifest.json").write_text("{}")
    (sweep / "sweep.json").write_text("{}")
    (interrupted / "interaction.parquet").write_bytes(b"")
    assert results_kind(run) == "run" and results_kind(sweep) == "sweep"
    with pytest.raises(ResultsError, match=r"incomplete run: manifest\.json missing but 1 table"):
        results_kind(interrupted)
    with pytest.raises(ResultsError, match="not a dyad results folder"):
        results_kind(other)
    with pytest.raises(ResultsError, match="does not exist"):
        results_kind(tmp_path / "missing")


def test_sync_filesystems_fsyncs_every_file_where_syncfs_is_missing(tmp_path, monkeypatch):
    from dyad import _io

    (tmp_path / "run" / "figures").mkdir(parents=True)
    for name in ("a.parquet", "manifest.json", "figures/f.png"):
        (tmp_path / "run" / name).write_bytes(b"x")
    synced = []
    real = os.fsync

    def fsync(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}") if os.path.exists("/proc/self/fd") else fd)
        real(fd)

    monkeypatch.setattr(_io, "_syncfs", lambda folder: False)
    monkeypatch.setattr(os, "fsync", fsync)
    _io.sync_filesystems([tmp_path / "run"])
    assert len(synced) == 5  # three files, two folders
    if os.path.exists("/proc/self/fd"):
        assert str(tmp_path / "run" / "figures" / "f.png") in synced
        assert synced[-1] == str(tmp_path / "run")  # the folder last, after its contents


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="syncfs(2) is Linux's")
def test_sync_filesystems_uses_one_syncfs_per_filesystem_on_linux(tmp_path, monkeypatch):
    from dyad import _io

    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
    calls = []
    real = _io._syncfs
    monkeypatch.setattr(_io, "_syncfs", lambda folder: calls.append(folder) or real(folder))
    monkeypatch.setattr(os, "fsync", lambda fd: pytest.fail("fsync called although syncfs ran"))
    _io.sync_filesystems([tmp_path / n for n in "abc"])
    assert calls == [tmp_path / "a"]
