"""Every way a pre-training cache file can be damaged: it is loaded identically or rebuilt.

``dyad.vision.read_cache`` must never raise: a damaged file is reported (one warning) and
rebuilt by the caller. Before, a flipped byte in the zip directory raised
``NotImplementedError`` and every later run crashed until the file was deleted by hand.
"""

from __future__ import annotations

import logging
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import tiny_scenario_raw
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dyad.config import validate_scenario
from dyad.simulation import prepare_vision
from dyad.vision import read_cache, write_cache

KEY = "k" * 64
ARRAYS = {
    "weights": np.arange(24, dtype=np.float32).reshape(4, 6) / 7,
    "indices": np.arange(10, dtype=np.uint16),
}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("cache") / "pristine.npz"
    write_cache(path, ARRAYS, {"key": KEY, "kind": "test"})
    return path.read_bytes()


def loaded_identically_or_rebuilt(path: Path, data: bytes) -> str:
    """Write ``data`` to ``path``, read it: "same" or "rebuild"; anything else fails the test."""
    path.write_bytes(data)
    result = read_cache(path, KEY)  # must not raise
    if result is None:
        return "rebuild"
    arrays, metadata = result
    assert sorted(arrays) == sorted(ARRAYS)
    for name, expected in ARRAYS.items():
        assert arrays[name].dtype == expected.dtype
        np.testing.assert_array_equal(arrays[name], expected)
    assert metadata["key"] == KEY
    return "same"


def test_every_single_byte_flip_and_every_truncation_is_loaded_identically_or_rebuilt(
    pristine, tmp_path
):
    path = tmp_path / "cache.npz"
    outcomes = {"same": 0, "rebuild": 0}
    for offset in range(len(pristine)):
        damaged = bytearray(pristine)
        damaged[offset] ^= 0xFF
        outcomes[loaded_identically_or_rebuilt(path, bytes(damaged))] += 1
    for length in range(len(pristine)):
        outcomes[loaded_identically_or_rebuilt(path, pristine[:length])] += 1
    # most damage is detected; the rest (timestamps, unused header fields) is harmless
    assert outcomes["rebuild"] > 0.8 * 2 * len(pristine)
    assert outcomes["same"] + outcomes["rebuild"] == 2 * len(pristine)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_random_damage_anywhere_is_loaded_identically_or_rebuilt(pristine, tmp_path, data):
    damaged = bytearray(pristine)
    for _ in range(data.draw(st.integers(1, 8), label="flips")):
        offset = data.draw(st.integers(0, len(damaged) - 1), label="offset")
        damaged[offset] = data.draw(st.integers(0, 255), label="byte")
    cut = data.draw(st.integers(0, len(damaged)), label="truncate at")
    tail = data.draw(st.binary(max_size=64), label="appended garbage")
    loaded_identically_or_rebuilt(tmp_path / "cache.npz", bytes(damaged[:cut]) + tail)


def central_directory_method_offsets(data: bytes) -> list[int]:
    """Offsets of the compression-method field of each central-directory entry of a zip."""
    offsets, start = [], 0
    while (found := data.find(b"PK\x01\x02", start)) != -1:
        offsets.append(found + 10)
        start = found + 4
    return offsets


def test_an_unknown_compression_method_in_the_zip_directory_is_rebuilt_not_raised(
    pristine, tmp_path, caplog
):
    """The reported crash: zipfile raises NotImplementedError for an unknown method."""
    damaged = bytearray(pristine)
    (offset, *_) = central_directory_method_offsets(pristine)
    damaged[offset : offset + 2] = struct.pack("<H", 99)
    path = tmp_path / "cache.npz"
    path.write_bytes(bytes(damaged))
    with pytest.raises(NotImplementedError), zipfile.ZipFile(path) as archive:
        archive.read(archive.namelist()[0])  # what np.load meets
    with caplog.at_level(logging.WARNING, logger="dyad.vision"):
        assert read_cache(path, KEY) is None
    (message,) = [r.getMessage() for r in caplog.records]
    assert str(path) in message and "corrupt" in message and "NotImplementedError" in message


def test_a_damaged_cache_is_rebuilt_to_the_same_visual_system(tmp_path, caplog):
    """End to end: pre-training and layer-4 banks load again, identical, after the damage."""
    scenario = validate_scenario(tiny_scenario_raw())
    cache = tmp_path / "cache"
    _, training, test = prepare_vision(scenario, cache)
    files = sorted(cache.rglob("*.npz"))
    assert len(files) >= 2  # the network and its banks
    for path in files:
        data = bytearray(path.read_bytes())
        (offset, *_) = central_directory_method_offsets(bytes(data))
        data[offset : offset + 2] = struct.pack("<H", 99)
        path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="dyad.vision"):
        _, training_again, test_again = prepare_vision(scenario, cache)
    assert sum("corrupt" in r.getMessage() for r in caplog.records) == len(files)
    np.testing.assert_array_equal(training_again, training)
    np.testing.assert_array_equal(test_again, test)
    # and the rebuilt files load cleanly
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="dyad.vision"):
        prepare_vision(scenario, cache)
    assert not caplog.records
