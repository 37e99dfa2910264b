"""A run's tables and summary, built from its arrays: the one place both run paths share.

:func:`run_tables` turns what a run produced (the per-timestep arrays of its interaction, the
before/after probes of its mirror layer, its visual banks) into the tidy tables of
``docs/architecture.md`` ("Tables a run produces") and :func:`summarise` into the manifest's
summary. A single ``dyad simulate`` and every run of a batched sweep go through these
functions, so they write the same tables. Classification starts from the probe arrays
(:func:`dyad.analysis.classify.neurons_table`), never from the long ``test_responses`` table
and back; :func:`dyad.analysis.classify.classify_neurons` gives the same rows from that table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dyad.analysis import ACTIVE_RATE, NEURON_CLASSES, dominant_class
from dyad.analysis.classify import from_codes

if TYPE_CHECKING:
    from dyad.analysis.classify import ModalityAnalysis
    from dyad.brain.infant import ProbeResponses
    from dyad.recording import InteractionRecorder

#: the name the unseen face's test rows carry in the ``parent`` column
UNSEEN_FACE = "unseen face"
#: the two test phases, in the order of the tables
PHASES = ("before", "after")


def probe_table(
    responses: ProbeResponses, phase: str, expressions: Sequence[str], parent_names: Sequence[str]
) -> pd.DataFrame:
    """Tidy rows ``phase, condition, expression, parent, trial, neuron, rate`` of one probe.

    The run's ``test_responses`` table is the ``before`` and ``after`` probes stacked (the
    table keeps its name on disk, so existing results folders still load).
    """
    columns = _probe_columns(responses, expressions, parent_names)
    n_rows = len(columns["rate"])
    # typed as dyad.store.categorize types the stacked table's column
    label = _labels([n_rows], [PHASES.index(phase)], PHASES) if phase in PHASES else phase
    return pd.DataFrame({"phase": label, **columns}, copy=False)


def _probe_columns(
    responses: ProbeResponses, expressions: Sequence[str], parent_names: Sequence[str]
) -> dict[str, Any]:
    """Return the columns of :func:`probe_table` but ``phase``: new arrays and categoricals."""
    visual = responses.visual  # (n_parents, S, trials, N)
    motor = responses.motor  # (S, trials, N)
    n_parents, n_expr, n_trials, n_neurons = visual.shape
    # visual trials of all parents are numbered consecutively per expression
    v_parent, v_expr, v_trial, v_neuron = np.meshgrid(
        np.arange(n_parents),
        np.arange(n_expr),
        np.arange(n_trials),
        np.arange(n_neurons),
        indexing="ij",
    )
    m_expr, m_trial, m_neuron = np.meshgrid(
        np.arange(n_expr), np.arange(motor.shape[1]), np.arange(n_neurons), indexing="ij"
    )
    parent_codes = np.concatenate([v_parent.ravel(), np.full(m_expr.size, -1)])
    return {
        "condition": from_codes(
            np.repeat(np.array([0, 1], np.int8), [visual.size, motor.size]),
            ["visual", "motor"],
        ),
        "expression": from_codes(
            np.concatenate([v_expr.ravel(), m_expr.ravel()]), list(expressions)
        ),
        "parent": from_codes(parent_codes, list(parent_names)),
        "trial": np.concatenate([(v_parent * n_trials + v_trial).ravel(), m_trial.ravel()]).astype(
            np.int32
        ),
        "neuron": np.concatenate([v_neuron.ravel(), m_neuron.ravel()]).astype(np.int32),
        "rate": np.concatenate([visual.ravel(), motor.ravel()]).astype(np.float32),
    }


def classify_per_parent(test_responses: pd.DataFrame, expressions: Sequence[str]) -> pd.DataFrame:
    """Neuron classes judged on one parent's face at a time (motor trials shared).

    Answers whether mirror neurons generalise across faces: a neuron that is a mirror neuron
    for every parent's face responds to the expression, not to one person showing it. (From
    the tidy table; :func:`run_tables` builds the same rows from the probe arrays.)
    """
    from dyad.analysis.classify import classify_neurons

    motor = test_responses[test_responses["condition"] == "motor"]
    visual = test_responses[test_responses["condition"] == "visual"]
    frames = []
    for phase in PHASES:
        for parent in visual["parent"].cat.categories:
            rows = pd.concat(
                [
                    visual[(visual["phase"] == phase) & (visual["parent"] == parent)],
                    motor[motor["phase"] == phase],
                ]
            )
            frames.append(classify_neurons(rows, expressions).assign(phase=phase, parent=parent))
    return pd.concat(frames, ignore_index=True)


def layer4_stats(training_bank: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per bank item: layer-4 cells firing, their mean rate, Treves–Rolls sparseness.

    ``training_bank``: (n_parents, S, n_bank, n_l4) rates. The runs of a batch share the
    bank, so :mod:`dyad.batch` computes these once for all of them (~0.7 ms a run).
    """
    rates = training_bank
    active = (rates >= ACTIVE_RATE).sum(axis=-1)
    mean = rates.mean(axis=-1)
    sparseness = mean**2 / np.maximum((rates**2).mean(axis=-1), 1e-12)
    return active, mean, sparseness


def layer4_summary(
    training_bank: np.ndarray,
    interaction: pd.DataFrame,
    stats: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Per timestep: how many layer-4 cells fired, their mean rate and Treves–Rolls sparseness.

    ``stats``: :func:`layer4_stats` of ``training_bank``, if computed already.
    """
    active, mean, sparseness = layer4_stats(training_bank) if stats is None else stats
    parent = interaction["parent"].cat.codes.to_numpy()
    shown = interaction["parent_expression"].cat.codes.to_numpy()
    item = interaction["transform"].to_numpy()
    return pd.DataFrame(
        {
            "t": interaction["t"].to_numpy().copy(),
            "l4_active": active[parent, shown, item].astype(np.int32),
            "l4_mean_rate": mean[parent, shown, item].astype(np.float32),
            "l4_sparseness": sparseness[parent, shown, item].astype(np.float32),
        },
        copy=False,
    )


def _pooled(visual: np.ndarray) -> np.ndarray:
    """(n_faces, S, trials, N) visual probes → (S, n_faces * trials, N), faces consecutive."""
    n_faces, n_expr, n_trials, n_neurons = visual.shape
    return visual.transpose(1, 0, 2, 3).reshape(n_expr, n_faces * n_trials, n_neurons)


def _labels(
    n_rows: Sequence[int], codes: Sequence[int], categories: Sequence[str]
) -> pd.Categorical:
    """Return a categorical column of stacked parts: part i's ``n_rows[i]`` rows ``codes[i]``."""
    return from_codes(np.repeat(np.asarray(codes, np.int8), n_rows), list(categories))


def _stacked(
    parts: Sequence[dict[str, Any]], **labels: tuple[list[int], Sequence[str]]
) -> pd.DataFrame:
    """Return the rows of ``parts`` one after another, as ``pd.concat(parts)`` would.

    ``parts``: column name -> array or categorical, the same columns and dtypes in each.
    ``labels``: name -> (a code per part, categories): categorical columns telling the parts
    apart; ``phase`` goes first, others last. Column by column, so nothing is copied twice
    and no categoricals are unified (``pd.concat`` did both, table by table).
    """
    n_rows = [len(next(iter(part.values()))) for part in parts]
    columns = {}
    for name in parts[0]:
        values = [part[name] for part in parts]
        first = values[0]
        if isinstance(first, pd.Categorical):
            if any(v.dtype is not first.dtype and v.dtype != first.dtype for v in values):
                raise ValueError(f"{name}: parts to stack have different categories")
            codes = np.concatenate([v.codes for v in values])
            columns[name] = pd.Categorical.from_codes(codes, dtype=first.dtype)
        else:
            columns[name] = np.concatenate(values)
    named = {name: _labels(n_rows, *label) for name, label in labels.items()}
    leading = {"phase": named.pop("phase")} if "phase" in named else {}
    return pd.DataFrame({**leading, **columns, **named}, copy=False)


def run_tables(
    recorder: InteractionRecorder,
    probes: dict[str, ProbeResponses],
    unseen: dict[str, np.ndarray] | None,
    training_bank: np.ndarray,
    expressions: Sequence[str],
    parent_names: Sequence[str],
    mirror_rates: bool,
    layer4: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> dict[str, pd.DataFrame]:
    """Every table of one run, typed as :func:`dyad.store.load_run` gives them back.

    ``recorder`` holds the per-timestep arrays; ``probes`` the ``"before"`` and ``"after"``
    :class:`~dyad.brain.infant.ProbeResponses`; ``unseen`` (or None) the unseen face's visual
    probes per phase, ``(1, S, trials, N)``; ``layer4`` (or None) :func:`layer4_stats` of
    ``training_bank``, which the runs of a batch share.
    """
    from dyad.analysis.classify import analyse_modality, analysed_columns
    from dyad.store import categorize

    expressions, names = list(expressions), list(parent_names)
    phases = (list(range(len(PHASES))), PHASES)
    test_responses = _stacked(
        [_probe_columns(probes[phase], expressions, names) for phase in PHASES], phase=phases
    )
    # each phase's motor trials serve the pooled faces' table and each face's
    motor = {phase: analyse_modality(probes[phase].motor) for phase in PHASES}
    by_phase = {
        phase: analysed_columns(
            analyse_modality(_pooled(probes[phase].visual)), motor[phase], expressions
        )
        for phase in PHASES
    }
    neurons = _stacked([by_phase[phase] for phase in PHASES], phase=phases)
    interaction = recorder.interaction_table(expressions, names)
    tables = {
        "interaction": interaction,
        "test_responses": test_responses,
        "neurons": neurons,
        "layer4_summary": layer4_summary(training_bank, interaction, layer4),
    }
    if mirror_rates:
        tables["mirror_rates"] = recorder.mirror_rates_table()
    if len(names) > 1 or unseen is not None:
        # kept out of test_responses, so the run's own classes and figures stay about the parents
        tables["neurons_by_parent"] = _per_parent(
            probes, unseen, expressions, names, by_phase, motor
        )
    return {name: categorize(table) for name, table in tables.items()}


def _per_parent(
    probes: dict[str, ProbeResponses],
    unseen: dict[str, np.ndarray] | None,
    expressions: list[str],
    names: list[str],
    pooled: dict[str, dict[str, Any]],
    motor: dict[str, ModalityAnalysis],
) -> pd.DataFrame:
    """Build the ``neurons_by_parent`` table (as :func:`classify_per_parent`) from arrays.

    ``pooled``: each phase's neurons columns of all parents' faces pooled, which with a single
    parent are that parent's own (the same trials), so they are not classified again.
    ``motor``: each phase's motor trials analysed (the same for every face).
    """
    from dyad.analysis.classify import analyse_modality, analysed_columns

    faces = [*names, UNSEEN_FACE] if unseen is not None else names
    parts, phase_codes, face_codes = [], [], []
    for code, phase in enumerate(PHASES):
        visual = probes[phase].visual
        if unseen is not None:
            visual = np.concatenate([visual, unseen[phase]])
        for index in range(len(faces)):
            if index == 0 and len(names) == 1:
                parts.append(pooled[phase])
            else:
                face = analyse_modality(visual[index])
                parts.append(analysed_columns(face, motor[phase], expressions))
            phase_codes.append(code)
            face_codes.append(index)
    return _stacked(parts, phase=(phase_codes, PHASES), parent=(face_codes, faces))


def summarise(neurons: pd.DataFrame, interaction: pd.DataFrame) -> dict[str, Any]:
    """Class counts, mirror index, selectivity correlation and the dominant outcome.

    Also the information-based cross-check of §11.3: ``info_class_counts`` (class counts by
    the I >= 0.5 bit criterion) and ``criteria_agree`` (neurons both criteria put in the same
    class).
    """
    from dyad.analysis.classify import mirror_index, selectivity_correlation

    classes = _class_names(neurons["neuron_class"])
    info_classes = _class_names(neurons["info_class"])
    class_counts = {name: int(np.count_nonzero(classes == name)) for name in NEURON_CLASSES}
    info_counts = {name: int(np.count_nonzero(info_classes == name)) for name in NEURON_CLASSES}
    agree = int(np.count_nonzero(classes == info_classes))
    n = len(neurons)
    dominant = dominant_class(class_counts["mirror"], class_counts["anti-mirror"], n)
    return {
        "n_neurons": n,
        "class_counts": class_counts,
        "mirror_index": _finite(mirror_index(neurons)),
        "selectivity_correlation": _finite(selectivity_correlation(neurons)),
        "dominant": dominant,
        "congruence": float(interaction["congruent"].mean()),
        "info_class_counts": info_counts,
        "criteria_agree": agree,
    }


def run_summary(tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Return the manifest's ``summary`` of a run from its tables (after the interaction)."""
    neurons = tables["neurons"]
    summary = summarise(neurons[neurons["phase"] == "after"], tables["interaction"])
    if "neurons_by_parent" in tables:
        summary["mirror_by_parent"] = _mirror_by_parent(tables["neurons_by_parent"])
    return summary


def _mirror_by_parent(by_parent: pd.DataFrame) -> dict[str, int]:
    """Mirror neurons after the interaction per face, the faces in the ``parent`` order.

    As ``groupby("parent", observed=True)`` counts them (the faces with rows after, in
    category order), from the categorical codes: a tenth of the time.
    """
    after = (by_parent["phase"] == "after").to_numpy()
    parent = by_parent["parent"]
    if not isinstance(parent.dtype, pd.CategoricalDtype):
        per_parent = by_parent[after]
        return {
            str(name): int((group["neuron_class"] == "mirror").sum())
            for name, group in per_parent.groupby("parent", observed=True)
        }
    codes = parent.cat.codes.to_numpy()[after]
    mirror = (by_parent["neuron_class"] == "mirror").to_numpy()[after]
    faces = parent.cat.categories
    rows = np.bincount(codes[codes >= 0], minlength=len(faces))
    counts = np.bincount(codes[(codes >= 0) & mirror], minlength=len(faces))
    return {str(faces[i]): int(counts[i]) for i in np.flatnonzero(rows)}


def _class_names(column: pd.Series) -> np.ndarray:
    """Return a class column's names as a numpy string array (missing values as "")."""
    if isinstance(column.dtype, pd.CategoricalDtype):  # from the codes: far faster
        names = np.asarray([*map(str, column.cat.categories), ""])
        return names[column.cat.codes.to_numpy()]  # code -1 (missing) picks ""
    return column.astype(object).fillna("").to_numpy(dtype=str)


def _finite(value: float) -> float | None:
    """JSON has no NaN: undefined statistics are stored as null."""
    return None if value is None or not np.isfinite(value) else float(value)
