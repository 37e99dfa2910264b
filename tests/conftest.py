"""Shared fixtures: a tiny scenario that runs end to end in a second or two."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

# The kernels' 1-vs-2-thread identity tests need two numba threads on every machine: numba runs
# more threads than cores, so a one-core machine or NUMBA_NUM_THREADS=1 gets 2 here (read when
# numba is first imported, which is after this file).
if int(os.environ.get("NUMBA_NUM_THREADS") or os.cpu_count() or 1) < 2:
    os.environ["NUMBA_NUM_THREADS"] = "2"

#: face transforms for science tests at the small size: the scenario defaults' geometric ranges
#: halved (±2 px at 128 px, ×0.95–1.05, ±4°). The small network (64-px faces, 16×16 layers)
#: learns a narrower tolerance than the full one; at the full ranges it gives mirror neurons
#: for some vision seeds only (docs/vision.md, "What the small preset needs").
SMALL_TRANSFORMS = {"translation": 2.0, "scale": [0.95, 1.05], "rotation": 4.0}


#: the tiny network of the TOML scenarios that sweep and reliability tests write: 32-px faces,
#: 8×8 VisNet layers trained 1 epoch, 16 mirror neurons (seconds per sweep, no figures data)
TINY_NETWORK_TOML = """[vision.faces]
supersample = 1

[vision.visnet]
layer_side = 8
fan_in = [30, 20, 20, 20]
l1_fan_in = [20, 7, 3]
fan_in_radius = [4.0, 2.0, 3.0, 3.0]
inhibition_radius = [1.0, 1.0, 1.5, 2.0]
inhibition_width = [5, 5, 5, 7]
sparseness = [0.9, 0.9, 0.85, 0.85]
epochs = [1, 1, 1, 1]

[vision.visnet.v1]
image_size = 32
wavelengths = [2.0, 4.0, 8.0]

[motor]
units_per_expression = 8

[mirror]
n_neurons = 16

[output]
mirror_rates = false
"""


def tiny_scenario_raw(**sections: Any) -> dict[str, Any]:
    """A scenario dict small enough for unit tests: 64-px faces, 16x16 VisNet, 32 mirror cells."""
    raw: dict[str, Any] = {
        "name": "tiny",
        "seed": 1,
        "run": {"steps": 200, "test_trials": 8},
        "infant": {"expressions": ["happy", "sad"], "hold_length": 10},
        "vision": {
            "preset": "small",
            "n_train_transforms": 8,
            "n_test_transforms": 8,
            "other_faces": 1,
            "bank_size": 16,
            "visnet": {"epochs": [1, 1, 1, 1]},
        },
        "mirror": {"n_neurons": 32},
    }
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict):
            raw[key] = {**raw[key], **value}
        else:
            raw[key] = value
    return raw


def small_science_raw(**sections: Any) -> dict[str, Any]:
    """Return a science-test scenario at the small size.

    The small preset's own network, other faces and training transforms, the halved geometric
    ranges, 1,000 timesteps, 10 test trials and 64 mirror neurons. ``sections`` update those tables
    key by key.
    """
    base: dict[str, dict[str, Any]] = {
        "run": {"steps": 1000, "test_trials": 10},
        "vision": {
            "preset": "small",
            "faces": {"transforms": SMALL_TRANSFORMS},
            "n_test_transforms": 10,
            "bank_size": 30,
        },
        "mirror": {"n_neurons": 64},
    }
    for key, value in sections.items():
        base[key] = {**base[key], **value} if key in base and isinstance(value, dict) else value
    raw = tiny_scenario_raw(**base)
    for key in ("visnet", "other_faces", "n_train_transforms"):
        if key not in sections.get("vision", {}):
            raw["vision"].pop(key, None)
    return raw


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One pre-training cache for the whole test session."""
    return tmp_path_factory.mktemp("dyad-cache")


@pytest.fixture
def tiny_raw():
    return tiny_scenario_raw
