"""Shared fixtures: a tiny scenario that runs end to end in a second or two."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


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


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One pre-training cache for the whole test session."""
    return tmp_path_factory.mktemp("dyad-cache")


@pytest.fixture
def tiny_raw():
    return tiny_scenario_raw
