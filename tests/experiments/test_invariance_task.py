"""Unit tests of dyad.experiments.invariance: the stimulus set and the result summary."""

from __future__ import annotations

import numpy as np
import pytest

from dyad.brain.visnet import VisNetConfig
from dyad.errors import ConfigError
from dyad.experiments.invariance import (
    InvarianceTask,
    render_stimuli,
    run_invariance,
    with_visnet,
)


def test_positions_are_a_centred_grid_in_snake_order():
    task = InvarianceTask.small()
    positions = task.positions()
    assert len(positions) == task.n_positions == 9
    assert positions[:3] == [(0, 0), (0, 20), (0, 40)]
    assert positions[3:6] == [(20, 40), (20, 20), (20, 0)]  # second row runs backwards
    full = InvarianceTask().positions()
    assert full[0] == (16, 16) and full[-1] == (80, 80)  # centred on the 128-px canvas


def test_stimuli_are_one_face_per_identity_pasted_on_grey():
    task = InvarianceTask.small(n_identities=3, seed=4)
    stimuli = render_stimuli(task)
    assert stimuli.shape == (3, 9, 64, 64) and stimuli.dtype == np.float32
    size = task.face_size
    for i in range(3):
        crops = [
            stimuli[i, t, r : r + size, c : c + size] for t, (r, c) in enumerate(task.positions())
        ]
        for crop in crops[1:]:
            np.testing.assert_array_equal(crop, crops[0])  # the same face at every position
        outside = stimuli[i, 0].copy()
        outside[:size, :size] = 128.0
        assert np.all(outside == 128.0)  # uniform V1 padding grey elsewhere
    assert not np.array_equal(stimuli[0, 0], stimuli[1, 0])  # different identities
    np.testing.assert_array_equal(stimuli, render_stimuli(task))  # deterministic
    assert task.identity_seeds() != InvarianceTask.small(n_identities=3, seed=5).identity_seeds()


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"n_identities": 1}, "n_identities"),
        ({"grid": 0}, "grid"),
        ({"spacing": 40}, "spacing"),  # 24 + 2·40 px > 64
        ({"expression": "bored"}, "expression"),
        ({"seed": -1}, "seed"),
    ],
)
def test_validation_names_the_field(overrides, field):
    with pytest.raises(ConfigError) as err:
        InvarianceTask.small(**overrides)
    assert any(p.startswith(field) for p in err.value.problems), err.value.problems


def test_untrained_network_equals_training_with_zero_epochs():
    """The baseline is the same-seed network before training.

    The baseline is the same-seed network before training: with epochs 0 the 'trained' and
    'untrained' rates are identical, and the summary reports both networks.
    """
    task = with_visnet(
        InvarianceTask.small(n_identities=3, grid=2, seed=1, max_ensemble=3),
        epochs=(0, 0, 0, 0),
    )
    result = run_invariance(task)
    np.testing.assert_array_equal(result.rates["trained"], result.rates["untrained"])
    summary = result.summary().set_index("network")
    assert summary.loc["trained", "cells_at_max"] == summary.loc["untrained", "cells_at_max"]
    assert summary.loc["trained", "max_bits"] == pytest.approx(np.log2(3))
    curves = result.information_curves()
    assert set(curves["network"]) == {"trained", "untrained"}
    assert len(curves) == 2 * VisNetConfig.small().n_neurons
