"""Classification of mirror-layer neurons from their test responses (model.md §11.3).

Each neuron is tested in two modalities: visual-only trials (the parent's face, motor input at
zero) and motor-only trials (the infant's motor pattern, visual input at zero). In each modality
a neuron is *selective* when

1. its responses to its preferred expression differ from those to the next-best expression by a
   two-sided Mann–Whitney U (rank-sum) test at p < ``ALPHA`` (when the trials vary; when every
   trial of both expressions is identical the test is undefined and this step is skipped, the
   deterministic fallback of §11.3),
2. the selectivity index |d| >= ``MIN_SELECTIVITY``, and
3. the preferred-expression mean rate is >= ``MIN_RATE`` (half the sigmoid's maximum: the
   neuron actually fires).

The preferred expression is the argmax of the mean rate. With two expressions d is signed,
d = (R_0 - R_1)/(R_0 + R_1 + eps), positive when the neuron prefers the first expression (happy
in the default run); with S > 2 expressions d = (R_pref - R_next)/(R_pref + R_next + eps) >= 0.
Classes then follow from which modalities are selective and whether their preferred expressions
agree: ``mirror``, ``anti-mirror``, ``visual-only``, ``motor-only``, ``bimodal-unselective``
(fires in both modalities, selective in neither) and ``unselective`` (everything else).

The rank test never depends silently on the number of trials. With up to ``EXACT_LIMIT``
arrangements of the two samples its p-value is exact: the share of all ways to split the
pooled trials (mid-ranks for ties) into two groups whose rank sum is at least as far from its
mean as the observed one. The smallest p it can give is then ``2 / C(2n, n)`` for n trials
each, which first falls below ``ALPHA = 0.01`` at n = 5 (2/252 = 0.0079; at n = 4 it is
2/70 = 0.029), so fewer than ``MIN_TEST_TRIALS`` trials are refused rather than classified
"unselective" for want of trials. (The normal approximation used before needed more: at
5 vs 5 perfectly separated trials it gives p = 0.012.) Beyond ``EXACT_LIMIT`` arrangements
(n >= 9) the normal approximation with tie correction is accurate and is used.

The information-based cross-check of §11.3 is reported beside the classes
(``info_class``): a modality is selective when its single-cell information is at least
``MIN_INFORMATION`` bit and the preferred expression fires more than the next-best; classes
follow as above. docs/analysis.md says where and why the two criteria disagree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from dyad.analysis import ACTIVE_RATE, NEURON_CLASSES
from dyad.analysis.information import max_information

#: significance level of the per-modality Mann–Whitney U test
ALPHA = 0.01
#: minimum |d| for a modality to count as selective
MIN_SELECTIVITY = 0.3
#: minimum preferred-expression mean rate: the neuron fires (half the sigmoid's maximum)
MIN_RATE = ACTIVE_RATE
#: guards the selectivity index against 0/0 for silent neurons
EPSILON = 1e-6
#: largest number of arrangements C(2n, n) for which the rank test's p-value is exact
EXACT_LIMIT = 20_000
#: the information cross-check (§11.3): a modality is selective from this many bits
MIN_INFORMATION = 0.5


def smallest_p_value(n_trials: int) -> float:
    """Return the smallest two-sided p-value of the exact rank test with ``n_trials`` per group.

    Reached when every trial of one expression exceeds every trial of the other: 2 / C(2n, n).
    """
    if n_trials < 1:
        raise ValueError(f"n_trials: expected a positive integer, got {n_trials}")
    return min(1.0, 2.0 / math.comb(2 * n_trials, n_trials))


def minimum_trials(alpha: float = ALPHA) -> int:
    """Return the fewest trials per expression at which the rank test can give p < ``alpha``."""
    n = 1
    while smallest_p_value(n) >= alpha:
        n += 1
    return n


#: the fewest test trials per expression and modality that can show a significant difference
MIN_TEST_TRIALS = minimum_trials(ALPHA)


class TooFewTrials(ValueError):
    """Test responses with too few trials for the rank test to reach ``ALPHA``."""


def check_trials(n_trials: int, what: str = "test_trials") -> None:
    """Raise :class:`TooFewTrials` naming the minimum when ``n_trials`` is too small."""
    if n_trials < MIN_TEST_TRIALS:
        raise TooFewTrials(
            f"{what}: "
            * bool(what)
            + f"expected at least {MIN_TEST_TRIALS} trials per expression, got {n_trials}: "
            f"with {n_trials} vs {n_trials} trials the smallest p-value of the rank test is "
            f"{smallest_p_value(n_trials):.3g}, so no neuron could reach p < {ALPHA}"
        )


def rank_test(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Two-sided rank-sum (Mann–Whitney U) p-values, column by column.

    ``first``, ``second``: (n1, N) and (n2, N) samples of N neurons. Exact (by enumerating
    every split of the pooled trials, mid-ranks for ties) when C(n1 + n2, n1) <=
    ``EXACT_LIMIT``, else the normal approximation with tie and continuity correction, as
    ``scipy.stats.mannwhitneyu(..., method="asymptotic")`` computes it (tested equal; done
    here in numpy because importing scipy.stats takes over a second and each call costs
    milliseconds of checks). Columns whose pooled values are all equal get p = 1.
    """
    first = np.asarray(first, dtype=np.float64)
    second = np.asarray(second, dtype=np.float64)
    n1, n2 = first.shape[0], second.shape[0]
    pooled = np.concatenate([first, second])  # (n1 + n2, N)
    ranks, tie_term = average_ranks(pooled)
    if math.comb(n1 + n2, n1) > EXACT_LIMIT:
        return _normal_p_value(ranks[:n1].sum(axis=0), n1, n2, tie_term)
    membership = _splits(n1 + n2, n1)  # (C, n1 + n2)
    sums = membership @ ranks  # (C, N): rank sum of the first group in every split
    centre = n1 * (n1 + n2 + 1) / 2.0
    observed = np.abs(ranks[:n1].sum(axis=0) - centre)
    extreme = np.abs(sums - centre) >= observed - 1e-9
    return extreme.mean(axis=0)


#: most trials per neuron ranked by the compiled kernel (a run's probes have 2 x 20 trials)
COMPILED_RANKS_MAX = 64


def average_ranks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mid-ranks (1-based, ties averaged) of each column, and each column's sum of t^3 - t.

    ``values``: (n, N). The ranks are ``scipy.stats.rankdata(values, axis=0)``; the tie term
    sums t^3 - t over the column's groups of t equal values (the variance correction of the
    rank-sum test). Computed by ``dyad.analysis.rank_kernel.column_ranks`` (compiled) for up
    to 64 trials, else or where a value is NaN in numpy; the two give the same numbers bit for
    bit.
    """
    # each neuron's trials as one contiguous row: sorting and scattering along rows is about
    # twice as fast as along the columns of ``values`` (numpy: 0.37 against 0.66 ms for 40 x 256)
    rows = np.ascontiguousarray(values.T, dtype=np.float64)
    if rows.size and rows.shape[1] <= COMPILED_RANKS_MAX and not np.isnan(rows).any():
        from dyad.analysis.rank_kernel import column_ranks

        ranks = np.empty(rows.shape, dtype=np.float64)
        tie_term = np.empty(rows.shape[0], dtype=np.float64)
        column_ranks(rows, ranks, tie_term)
        return ranks.T, tie_term
    return _average_ranks_numpy(rows)


def _average_ranks_numpy(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`average_ranks` of ``rows`` (N, n) in numpy: the reference, and for NaN values.

    NaN sort last, each its own group (as numpy's comparisons make them).
    """
    n = rows.shape[1]
    order = np.argsort(rows, axis=1, kind="stable")
    ordered = np.take_along_axis(rows, order, axis=1)
    starts = np.ones(rows.shape, dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    ends = np.ones(rows.shape, dtype=bool)
    ends[:, :-1] = starts[:, 1:]
    position = np.broadcast_to(np.arange(n), rows.shape)
    first = np.maximum.accumulate(np.where(starts, position, 0), axis=1)
    last = np.minimum.accumulate(np.where(ends, position, n)[:, ::-1], axis=1)[:, ::-1]
    ranks = np.empty(rows.shape, dtype=np.float64)
    np.put_along_axis(ranks, order, (first + last) / 2.0 + 1.0, axis=1)
    size = (last - first + 1).astype(np.float64)  # t of each value's group
    tie_term = (size * size - 1.0).sum(axis=1)  # each group of t adds t (t^2 - 1) = t^3 - t
    return ranks.T, tie_term


def _normal_p_value(rank_sum: np.ndarray, n1: int, n2: int, tie_term: np.ndarray) -> np.ndarray:
    """Two-sided p of the rank-sum test, normal approximation, tie and continuity corrected."""
    n = n1 + n2
    u1 = rank_sum - n1 * (n1 + 1) / 2
    centred = u1 - n1 * n2 / 2
    spread = np.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (centred - 0.5 * np.sign(centred)) / spread
    from scipy.special import ndtr  # imported here: validation imports this module

    return np.clip(2 * ndtr(-np.abs(z)), 0.0, 1.0)


@lru_cache(maxsize=16)
def _splits(n_total: int, n_first: int) -> np.ndarray:
    """Every way to choose ``n_first`` of ``n_total`` trials, as 0/1 rows (C, n_total)."""
    import itertools

    combos = list(itertools.combinations(range(n_total), n_first))
    membership = np.zeros((len(combos), n_total), dtype=np.float64)
    rows = np.repeat(np.arange(len(combos)), n_first)
    membership[rows, np.asarray(combos, dtype=np.intp).ravel()] = 1.0
    membership.setflags(write=False)
    return membership


@dataclass(frozen=True)
class ModalitySelectivity:
    """Per-neuron selectivity in one modality (arrays of shape (N,); ``means`` is (S, N)).

    ``preferred``: expression index with the highest mean rate; ``d``: selectivity index (signed
    for S = 2, >= 0 for S > 2); ``p_value``: Mann–Whitney U p-value preferred vs next-best
    (nan where the fallback applied); ``selective``: all three criteria met; ``fires``:
    preferred mean >= ``MIN_RATE``.
    """

    means: np.ndarray
    preferred: np.ndarray
    d: np.ndarray
    p_value: np.ndarray
    selective: np.ndarray
    fires: np.ndarray


@dataclass(frozen=True)
class Classification:
    """Result of :func:`classify_arrays`: one entry per neuron.

    ``neuron_class``: (N,) object array of names from ``NEURON_CLASSES``.
    """

    neuron_class: np.ndarray
    visual: ModalitySelectivity
    motor: ModalitySelectivity


def modality_selectivity(responses: np.ndarray) -> ModalitySelectivity:
    """Return the selectivity of every neuron in one modality.

    ``responses``: (S, n_trials, N) rates of N neurons on n_trials trials of each of S >= 2
    expressions. Vectorised over neurons (one rank test for all of them). Raises
    :class:`TooFewTrials` when the trials vary but are fewer than ``MIN_TEST_TRIALS``.
    """
    responses = np.asarray(responses, dtype=np.float64)
    if responses.ndim != 3:
        raise ValueError(f"responses: expected shape (S, n_trials, N), got {responses.shape}")
    n_expr, n_trials, n_neurons = responses.shape
    if n_expr < 2 or n_trials < 1:
        raise ValueError(
            f"responses: expected >= 2 expressions and >= 1 trial, got shape {responses.shape}"
        )
    means = responses.mean(axis=1)  # (S, N)
    order = np.argsort(-means, axis=0, kind="stable")
    preferred, runner_up = order[0], order[1]
    cells = np.arange(n_neurons)
    r_pref, r_next = means[preferred, cells], means[runner_up, cells]
    if n_expr == 2:
        d = (means[0] - means[1]) / (means[0] + means[1] + EPSILON)
    else:
        d = (r_pref - r_next) / (r_pref + r_next + EPSILON)
    # trials of the preferred and next-best expression of every neuron: (n_trials, N) each
    pref_trials = responses[preferred, :, cells].T
    next_trials = responses[runner_up, :, cells].T
    constant = (np.ptp(pref_trials, axis=0) == 0) & (np.ptp(next_trials, axis=0) == 0)
    p_value = np.full(n_neurons, np.nan)
    varies = ~constant
    if varies.any():
        check_trials(n_trials, "responses")
        p_value[varies] = rank_test(pref_trials[:, varies], next_trials[:, varies])
    significant = np.where(constant, True, p_value < ALPHA)
    fires = r_pref >= MIN_RATE
    selective = significant & (np.abs(d) >= MIN_SELECTIVITY) & fires
    return ModalitySelectivity(
        means=means.astype(np.float32),
        preferred=preferred.astype(np.intp),
        d=d,
        p_value=p_value,
        selective=selective,
        fires=fires,
    )


def classify_arrays(visual: np.ndarray, motor: np.ndarray) -> Classification:
    """Classify N neurons from their visual-only and motor-only test responses (§11.3).

    ``visual``: (S, n_trials, N) rates on visual-only trials; ``motor``: (S, n_trials_m, N)
    rates on motor-only trials; the same S expressions in the same order, the same N neurons.
    """
    visual, motor = np.asarray(visual), np.asarray(motor)
    if visual.ndim != 3 or motor.ndim != 3:
        raise ValueError(
            f"visual, motor: expected (S, n_trials, N) arrays, got {visual.shape}, {motor.shape}"
        )
    if visual.shape[0] != motor.shape[0] or visual.shape[2] != motor.shape[2]:
        raise ValueError(
            "visual, motor: expected the same expressions and neurons, got shapes "
            f"{visual.shape} and {motor.shape}"
        )
    vis = modality_selectivity(visual)
    mot = modality_selectivity(motor)
    neuron_class = _classes(vis.selective, mot.selective, vis, mot)
    return Classification(neuron_class=neuron_class, visual=vis, motor=mot)


def _classes(
    vis_selective: np.ndarray,
    mot_selective: np.ndarray,
    vis: ModalitySelectivity,
    mot: ModalitySelectivity,
) -> np.ndarray:
    """Class names from which modalities are selective and their preferred expressions."""
    return _CLASS_NAMES[_class_codes(vis_selective, mot_selective, vis, mot)]


#: the class names as an object array, indexed by class code
_CLASS_NAMES = np.array(NEURON_CLASSES, dtype=object)


def _class_codes(
    vis_selective: np.ndarray,
    mot_selective: np.ndarray,
    vis: ModalitySelectivity,
    mot: ModalitySelectivity,
) -> np.ndarray:
    """Class codes (int8 indices into ``NEURON_CLASSES``) as :func:`_classes` names them.

    A table's class column is built from these directly, not from names matched back.
    """
    both = vis_selective & mot_selective
    same = vis.preferred == mot.preferred
    return np.select(
        [
            both & same,
            both & ~same,
            vis_selective & ~mot_selective,
            mot_selective & ~vis_selective,
            vis.fires & mot.fires,
        ],
        list(range(5)),
        default=5,
    ).astype(np.int8)


def information_classes(
    classification: Classification, info_visual: np.ndarray, info_motor: np.ndarray
) -> np.ndarray:
    """Classify by the information-based cross-check of §11.3: (N,) class names.

    A modality is selective when its single-cell information (max over expressions, bits) is
    at least ``MIN_INFORMATION`` and the preferred expression's mean rate is above the
    next-best one's; the classes then follow as in :func:`classify_arrays` (same preferred
    expressions, same "fires" threshold for ``bimodal-unselective``).
    """
    vis, mot = classification.visual, classification.motor
    return _CLASS_NAMES[_information_codes(vis, mot, info_visual, info_motor)]


def _information_codes(
    vis: ModalitySelectivity,
    mot: ModalitySelectivity,
    info_visual: np.ndarray,
    info_motor: np.ndarray,
) -> np.ndarray:
    """Class codes of :func:`information_classes`."""

    def selective(sel: ModalitySelectivity, info: np.ndarray) -> np.ndarray:
        ordered = np.sort(sel.means, axis=0)
        return (np.asarray(info) >= MIN_INFORMATION) & (ordered[-1] > ordered[-2])

    return _class_codes(selective(vis, info_visual), selective(mot, info_motor), vis, mot)


def _condition_array(
    rows: pd.DataFrame, expressions: Sequence[str], n_neurons: int, condition: str
) -> np.ndarray:
    """(S, n_trials, N) rates of one condition from tidy rows; every cell must be present once."""
    unknown = sorted(set(rows["expression"].astype(str).unique()) - set(expressions))
    if unknown:
        raise ValueError(f"test_responses: expressions {unknown} are not in {list(expressions)}")
    expr_codes = pd.Categorical(rows["expression"].astype(str), categories=expressions).codes
    trial_codes, trial_labels = pd.factorize(rows["trial"], sort=True)
    neurons = rows["neuron"].to_numpy()
    n_expr, n_trials = len(expressions), len(trial_labels)
    counts = np.bincount(expr_codes, minlength=n_expr)
    if (counts != n_trials * n_neurons).any():
        raise ValueError(
            f"test_responses: condition {condition!r} needs every expression × trial × neuron "
            f"exactly once ({n_trials} trials × {n_neurons} neurons), got row counts "
            f"{dict(zip(expressions, counts.tolist(), strict=True))}"
        )
    out = np.full((n_expr, n_trials, n_neurons), np.nan, dtype=np.float64)
    out[expr_codes, trial_codes, neurons] = rows["rate"].to_numpy(dtype=np.float64)
    if np.isnan(out).any():
        raise ValueError(
            f"test_responses: condition {condition!r} has duplicate or missing "
            "(expression, trial, neuron) rows"
        )
    return out


def classify_neurons(test_responses: pd.DataFrame, expressions: Sequence[str]) -> pd.DataFrame:
    """Return the ``neurons`` table of one test phase from its tidy ``test_responses`` rows.

    ``test_responses``: columns ``condition`` ("visual"/"motor"), ``expression``, ``trial``,
    ``neuron``, ``rate`` (others, such as ``phase`` and ``parent``, are ignored; pass one phase).
    Trials are numbered per condition and expression. ``expressions``: the run's expression
    names in index order.

    Returns one row per neuron: ``neuron``, ``neuron_class``, ``info_class`` (the
    information-based cross-check, :func:`information_classes`), ``preferred_visual``,
    ``preferred_motor`` (expression names, the argmax of the mean rate whether or not the
    neuron is selective), ``d_visual``, ``d_motor``, ``info_visual``, ``info_motor`` (max over
    expressions of the single-cell information, bits, 3 bins; §11.1) and
    ``mean_visual_<expression>``, ``mean_motor_<expression>`` (mean rate per condition and
    expression). Has a ``phase`` column when the input has one.
    """
    expressions = list(expressions)
    if len(expressions) < 2:
        raise ValueError(f"expressions: expected at least 2, got {expressions}")
    missing = {"condition", "expression", "trial", "neuron", "rate"} - set(test_responses)
    if missing:
        raise ValueError(f"test_responses: missing columns {sorted(missing)}")
    phases = test_responses["phase"].unique() if "phase" in test_responses else []
    if len(phases) > 1:
        raise ValueError(f"test_responses: expected one phase, got {list(phases)}")
    neuron_ids = np.unique(test_responses["neuron"].to_numpy())
    n_neurons = len(neuron_ids)
    if n_neurons == 0 or not np.array_equal(neuron_ids, np.arange(n_neurons)):
        raise ValueError("test_responses: neurons must be numbered 0..N-1")
    arrays = {}
    for condition in ("visual", "motor"):
        rows = test_responses[test_responses["condition"] == condition]
        if rows.empty:
            raise ValueError(f"test_responses: no {condition!r} rows")
        arrays[condition] = _condition_array(rows, expressions, n_neurons, condition)
    frame = neurons_table(arrays["visual"], arrays["motor"], expressions)
    if len(phases) == 1:
        frame.insert(0, "phase", phases[0])
    return frame


def neurons_table(
    visual: np.ndarray, motor: np.ndarray, expressions: Sequence[str]
) -> pd.DataFrame:
    """Return the ``neurons`` table of one test phase from its response arrays.

    ``visual``: (S, n_trials, N) and ``motor``: (S, n_trials_m, N) rates (float64, as
    :func:`classify_neurons` reads them from the tidy rows); the same columns as
    :func:`classify_neurons` (without ``phase``). The run path calls it directly, so a run's
    classification never goes through a long table and back.
    """
    return pd.DataFrame(neuron_columns(visual, motor, expressions), copy=False)


def neuron_columns(
    visual: np.ndarray, motor: np.ndarray, expressions: Sequence[str]
) -> dict[str, np.ndarray | pd.Categorical]:
    """Return the columns of :func:`neurons_table` (name -> new array or categorical).

    For the run path, which stacks a run's phases and faces column by column
    (:mod:`dyad.tables`) rather than building a frame for each and concatenating them.
    """
    visual = np.asarray(visual, dtype=np.float64)
    motor = np.asarray(motor, dtype=np.float64)
    result = classify_arrays(visual, motor)  # checks the shapes
    return analysed_columns(
        ModalityAnalysis(result.visual, _information(visual)),
        ModalityAnalysis(result.motor, _information(motor)),
        expressions,
    )


@dataclass(frozen=True)
class ModalityAnalysis:
    """What a neurons table takes from one modality's responses (:func:`analyse_modality`)."""

    selectivity: ModalitySelectivity
    #: (N,) float32: max over expressions of the single-cell information, bits
    information: np.ndarray


def analyse_modality(responses: np.ndarray) -> ModalityAnalysis:
    """Return the selectivity and information of every neuron in one modality.

    ``responses``: (S, n_trials, N) rates. Analysed once, one modality's trials serve every
    neurons table that shares them (:func:`analysed_columns`): a run's motor probe serves the
    table of all faces pooled and the table of each face.
    """
    responses = np.asarray(responses, dtype=np.float64)
    return ModalityAnalysis(modality_selectivity(responses), _information(responses))


def analysed_columns(
    visual: ModalityAnalysis, motor: ModalityAnalysis, expressions: Sequence[str]
) -> dict[str, np.ndarray | pd.Categorical]:
    """Return the columns of :func:`neurons_table` from both modalities' analyses."""
    expressions = list(expressions)
    vis, mot = visual.selectivity, motor.selectivity
    if vis.means.shape != mot.means.shape:
        raise ValueError(
            "visual, motor: expected the same expressions and neurons, got means of shapes "
            f"{vis.means.shape} and {mot.means.shape}"
        )
    classes = _class_codes(vis.selective, mot.selective, vis, mot)
    info_classes = _information_codes(vis, mot, visual.information, motor.information)
    table = {
        "neuron": np.arange(vis.means.shape[1], dtype=np.int32),
        "neuron_class": from_codes(classes, NEURON_CLASSES),
        "info_class": from_codes(info_classes, NEURON_CLASSES),
        "preferred_visual": from_codes(vis.preferred, expressions),
        "preferred_motor": from_codes(mot.preferred, expressions),
        "d_visual": vis.d.astype(np.float32),
        "d_motor": mot.d.astype(np.float32),
        "info_visual": visual.information.copy(),  # the analysis may serve other tables
        "info_motor": motor.information.copy(),
    }
    for condition, sel in (("visual", vis), ("motor", mot)):
        for s, name in enumerate(expressions):
            table[f"mean_{condition}_{name}"] = sel.means[s].copy()
    return table


@lru_cache(maxsize=64)
def _category_dtype(categories: tuple[str, ...]) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(list(categories))


def from_codes(codes: np.ndarray, categories: Sequence[str]) -> pd.Categorical:
    """``pd.Categorical.from_codes(codes, categories)`` with the dtype built once per categories.

    Building a categorical's dtype validates its categories each time (a string index and its
    hash table): most of the cost of a run's small tables before it was cached.
    """
    return pd.Categorical.from_codes(codes, dtype=_category_dtype(tuple(categories)))


def _information(responses: np.ndarray) -> np.ndarray:
    """Max over expressions of the single-cell information, (N,) float32 bits."""
    n_expr, n_trials, n_neurons = responses.shape
    stimuli = np.repeat(np.arange(n_expr), n_trials)
    rates = np.clip(responses.reshape(n_expr * n_trials, n_neurons), 0.0, 1.0)
    return max_information(rates, stimuli).astype(np.float32)


def mirror_index(neurons: pd.DataFrame) -> float:
    """MI = (N_mirror - N_anti) / (N_mirror + N_anti); nan when there are neither (§11.3)."""
    classes = neurons["neuron_class"]
    n_mirror = int((classes == "mirror").sum())
    n_anti = int((classes == "anti-mirror").sum())
    if n_mirror + n_anti == 0:
        return float("nan")
    return (n_mirror - n_anti) / (n_mirror + n_anti)


def class_counts(neurons: pd.DataFrame) -> pd.DataFrame:
    """Count and fraction of neurons per class, every class listed (zeros included).

    Returns columns ``neuron_class``, ``count``, ``fraction`` (of all neurons), with a leading
    ``phase`` column (one block per phase) when ``neurons`` has one.
    """
    by_phase = "phase" in neurons and neurons["phase"].nunique() > 0
    groups = neurons.groupby("phase", sort=False, observed=True) if by_phase else [(None, neurons)]
    frames = []
    for phase, group in groups:
        counts = (
            pd.Categorical(group["neuron_class"], categories=list(NEURON_CLASSES))
            .value_counts()
            .reindex(list(NEURON_CLASSES), fill_value=0)
        )
        frame = pd.DataFrame(
            {
                "neuron_class": list(NEURON_CLASSES),
                "count": counts.to_numpy(dtype=np.int64),
                "fraction": counts.to_numpy(dtype=np.float64) / max(len(group), 1),
            }
        )
        if by_phase:
            frame.insert(0, "phase", phase)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def selectivity_correlation(neurons: pd.DataFrame) -> float:
    """Pearson correlation of d_visual and d_motor over responsive neurons (§11.3).

    A neuron is responsive when its preferred mean rate is >= ``MIN_RATE`` in at least one
    modality. Near +1 when seen and produced expressions agree (c = 1), near 0 at c = 0.5,
    negative for c < 0.5. With S > 2 expressions d is unsigned, so the value then measures how
    selectivity *magnitudes* co-vary, not agreement (use :func:`mirror_index` for that).
    Returns nan with fewer than 3 responsive neurons or no variance in either index.
    """
    vis_cols = [c for c in neurons.columns if c.startswith("mean_visual_")]
    mot_cols = [c for c in neurons.columns if c.startswith("mean_motor_")]
    if not vis_cols or not mot_cols:
        raise ValueError("neurons: expected mean_visual_* and mean_motor_* columns")
    responsive = (_row_max(neurons, vis_cols) >= MIN_RATE) | (
        _row_max(neurons, mot_cols) >= MIN_RATE
    )
    d_v = neurons["d_visual"].to_numpy(dtype=np.float64)[responsive]
    d_m = neurons["d_motor"].to_numpy(dtype=np.float64)[responsive]
    if len(d_v) < 3 or np.ptp(d_v) == 0 or np.ptp(d_m) == 0:
        return float("nan")
    return float(np.corrcoef(d_v, d_m)[0, 1])


def _row_max(table: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """``table[columns].max(axis=1)`` in numpy (missing values skipped, as pandas does).

    A tenth of the time of the pandas call, which dominated a run's summary.
    """
    values = [table[c].to_numpy(dtype=np.float64, na_value=np.nan) for c in columns]
    return np.fmax.reduce(values, axis=0)
