"""A modality analysed once serves several neurons tables with the same columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dyad.analysis.classify import (
    analyse_modality,
    analysed_columns,
    classify_arrays,
    information_classes,
    neuron_columns,
    neurons_table,
)


def responses(seed: int, n_expr: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rates = rng.random((n_expr, 9, 40))
    rates[0, :, :10] += 0.6  # some selective neurons
    rates[:, :, 30:] = 0.0  # silent ones: constant trials
    return np.clip(rates, 0, 1)


@pytest.mark.parametrize("n_expr", [2, 3])
def test_a_shared_motor_analysis_gives_each_faces_own_table(n_expr):
    expressions = ["happy", "sad", "fear"][:n_expr]
    motor = responses(0, n_expr)
    shared = analyse_modality(motor)
    for seed in (1, 2, 3):
        visual = responses(seed, n_expr)
        expected = neurons_table(visual, motor, expressions)
        columns = analysed_columns(analyse_modality(visual), shared, expressions)
        pd.testing.assert_frame_equal(pd.DataFrame(columns), expected, check_exact=True)
        assert columns.keys() == neuron_columns(visual, motor, expressions).keys()


def test_classes_are_the_named_classes():
    visual, motor = responses(4), responses(5)
    table = neurons_table(visual, motor, ["happy", "sad"])
    result = classify_arrays(visual, motor)
    info = information_classes(
        result, analyse_modality(visual).information, analyse_modality(motor).information
    )
    assert list(table["neuron_class"].astype(str)) == list(result.neuron_class)
    assert list(table["info_class"].astype(str)) == list(info)
    assert result.neuron_class.dtype == object


def test_modalities_of_other_shapes_are_refused():
    with pytest.raises(ValueError, match="same expressions and neurons"):
        analysed_columns(
            analyse_modality(responses(0)), analyse_modality(responses(1, 3)), ["a", "b"]
        )
