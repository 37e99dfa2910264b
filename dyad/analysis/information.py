"""Single- and multiple-cell information measures (model.md §11.1–11.2).

Single-cell (stimulus-specific) information tells how much a cell's binned response says about
one particular stimulus; its maximum over stimuli is the cell's score (log2(S) bits at most, so
1 bit for happy vs sad). Multiple-cell information decodes which stimulus was shown from the
responses of a small ensemble of the most informative cells, and measures how much information
the decoded guesses carry as the ensemble grows.

Every function here is vectorised over cells (and over decoding iterations); the only Python
loops run over response bins and stimuli, which are a handful each. scipy is imported where
it is used: validating a scenario imports this module (through dyad.analysis.classify's limits)
and should not pay half a second for it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dyad.errors import ConfigError
from dyad.validation import check_int

#: floor for likelihoods and standard deviations in the decoder (as in [AEm])
DECODER_EPS = 1e-3
#: natural log of 2: scipy's relative entropy is in nats, the study reports bits
LN2 = float(np.log(2.0))


def _check_inputs(
    rates: np.ndarray, stimuli: np.ndarray, *, normalise: bool, n_bins: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate and return (rates as float64, stimulus codes 0..S-1, stimulus labels)."""
    rates = np.asarray(rates, dtype=np.float64)
    stimuli = np.asarray(stimuli)
    if rates.ndim != 2:
        raise ConfigError(f"rates: expected a (n_trials, n_cells) array, got shape {rates.shape}")
    if stimuli.shape != (rates.shape[0],):
        raise ConfigError(
            f"stimuli: expected shape ({rates.shape[0]},) to match rates, got {stimuli.shape}"
        )
    if not np.issubdtype(stimuli.dtype, np.integer):
        raise ConfigError(f"stimuli: expected integer stimulus labels, got dtype {stimuli.dtype}")
    if n_bins is not None:
        check_int("n_bins", n_bins, 2)
    if not np.all(np.isfinite(rates)):
        raise ConfigError("rates: expected finite values, got NaN or infinity")
    labels, codes = np.unique(stimuli, return_inverse=True)
    if labels.size < 2:
        raise ConfigError(f"stimuli: expected at least 2 distinct stimuli, got {labels.size}")
    if normalise:
        rates = normalise_rates(rates)
    elif n_bins is not None and rates.size and (rates.min() < 0.0 or rates.max() > 1.0):
        raise ConfigError(
            f"rates: expected values in [0, 1] (or pass normalise=True), got range "
            f"[{rates.min():.4g}, {rates.max():.4g}]"
        )
    return rates, codes.astype(np.intp), labels


def normalise_rates(rates: np.ndarray) -> np.ndarray:
    """Min–max normalise a whole response array to [0, 1] ([AEpy] pre-processing).

    One minimum and one maximum over all trials and cells, so relative rates between cells are
    kept. An array whose range is below 1e-3 is returned shifted to 0 (nothing to normalise).
    """
    rates = np.asarray(rates, dtype=np.float64)
    low = rates.min() if rates.size else 0.0
    span = (rates.max() - low) if rates.size else 0.0
    if span < 1e-3:
        return rates - low
    return (rates - low) / span


def response_bins(rates: np.ndarray, n_bins: int = 3) -> np.ndarray:
    """Equal-width bin index of each rate on [0, 1]: [k/n, (k+1)/n), the last bin closed at 1.

    ``rates``: any shape, values in [0, 1]. Returns the same shape, ``intp`` in 0..n_bins-1.
    """
    bins = np.floor(np.asarray(rates) * n_bins).astype(np.intp)
    return np.minimum(bins, n_bins - 1)


def _stimulus_averager(codes: np.ndarray) -> np.ndarray:
    """(n_trials, n_stimuli) indicator of each trial's stimulus, scaled by 1/trials-per-stimulus.

    ``averager.T @ x`` is the mean of ``x`` (n_trials, ...) over each stimulus's trials.
    """
    averager = np.zeros((codes.size, int(codes.max()) + 1))
    averager[np.arange(codes.size), codes] = 1.0
    averager /= averager.sum(axis=0, keepdims=True)
    return averager


def _conditional_distributions(codes: np.ndarray, bins: np.ndarray, n_bins: int) -> np.ndarray:
    """P(r|s) for every stimulus, bin and cell: (n_stimuli, n_bins, n_cells) float64."""
    # a matrix product of the stimulus averager with the per-bin indicators gives the
    # conditional frequencies for all cells at once
    averager = _stimulus_averager(codes)
    p_r_given_s = np.empty((averager.shape[1], n_bins, bins.shape[1]))
    for b in range(n_bins):
        p_r_given_s[:, b, :] = averager.T @ (bins == b)
    return p_r_given_s


def single_cell_information(
    rates: np.ndarray,
    stimuli: np.ndarray,
    n_bins: int = 3,
    weighted: bool = False,
    normalise: bool = False,
) -> np.ndarray:
    """Stimulus-specific information I(s, R) of every cell for every stimulus, in bits.

    I(s, R) = Σ_r P(r|s) · log2(P(r|s) / P(r)), summed over every bin r with P(r|s) > 0 (then
    P(r) > 0 too). Responses fall in ``n_bins`` equal-width bins on [0, 1] (last bin closed);
    stimuli are equiprobable, so P(r) is the mean of P(r|s) over stimuli. With ``weighted``,
    each term is multiplied by r/(n_bins − 1), so only selectivity expressed by firing *more*
    to a stimulus earns credit: the lowest bin (silence) contributes nothing ([AEm]).

    Parameters
    ----------
    rates:
        ``(n_trials, n_cells)`` firing rates in [0, 1] (or any range with ``normalise``).
    stimuli:
        ``(n_trials,)`` integer stimulus label of each trial; ≥ 2 distinct labels.
    n_bins:
        Number of response bins (≥ 2; 3 is the lab's default).
    weighted:
        Apply the bin weighting described above.
    normalise:
        Min–max normalise all rates to [0, 1] first (one range for the whole array).

    Returns
    -------
    numpy.ndarray
        ``(n_stimuli, n_cells)`` float64; row i belongs to the i-th smallest stimulus label.
        Values lie in [0, log2(n_stimuli)].
    """
    rates, codes, _ = _check_inputs(rates, stimuli, normalise=normalise, n_bins=n_bins)
    p_r_given_s = _conditional_distributions(codes, response_bins(rates, n_bins), n_bins)
    p_r = p_r_given_s.mean(axis=0, keepdims=True)
    from scipy.special import rel_entr

    # P(r|s) log(P(r|s)/P(r)), 0 where P(r|s) = 0 (and P(r|s) > 0 implies P(r) > 0), in bits
    terms = rel_entr(p_r_given_s, p_r) / LN2
    if weighted:
        terms = terms * (np.arange(n_bins) / (n_bins - 1))[None, :, None]
    return terms.sum(axis=1)


def max_information(rates: np.ndarray, stimuli: np.ndarray, **binning: Any) -> np.ndarray:
    """Each cell's score: max over stimuli of :func:`single_cell_information`, (n_cells,) bits.

    ``binning``: the keywords of :func:`single_cell_information` (``n_bins``, ``weighted``,
    ``normalise``), with the same defaults.
    """
    return single_cell_information(rates, stimuli, **binning).max(axis=0)


def preferred_stimulus(rates: np.ndarray, stimuli: np.ndarray) -> np.ndarray:
    """Index (into the sorted stimulus labels) of the stimulus each cell fires most to.

    For two stimuli a 1-bit cell carries the same information about both, so which one it
    *represents* is read from its mean rate. Returns (n_cells,) intp.
    """
    rates, codes, _ = _check_inputs(rates, stimuli, normalise=False, n_bins=None)
    return np.argmax(_stimulus_averager(codes).T @ rates, axis=0)


def information_table(
    rates: np.ndarray,
    stimuli: np.ndarray,
    stimulus_names: tuple[str, ...] | list[str] | None = None,
    **binning: Any,
) -> pd.DataFrame:
    """Tidy single-cell information: one row per (cell, stimulus).

    Columns: ``cell`` (int), ``stimulus`` (the label, or its name from ``stimulus_names``, which
    lists names in sorted-label order), ``information`` (bits), ``rank`` (0 = the most
    informative cell for that stimulus; ties keep cell order). ``binning``: the keywords of
    :func:`single_cell_information` (``n_bins``, ``weighted``, ``normalise``).
    """
    info = single_cell_information(rates, stimuli, **binning)
    n_stimuli, n_cells = info.shape
    labels = np.unique(np.asarray(stimuli))
    if stimulus_names is not None:
        if len(stimulus_names) != n_stimuli:
            raise ConfigError(
                f"stimulus_names: expected {n_stimuli} names, got {len(stimulus_names)}"
            )
        labels = np.asarray(list(stimulus_names), dtype=object)
    order = np.argsort(-info, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(n_cells)[None, :].repeat(n_stimuli, 0), axis=1)
    return pd.DataFrame(
        {
            "cell": np.tile(np.arange(n_cells), n_stimuli),
            "stimulus": np.repeat(labels, n_cells),
            "information": info.ravel(),
            "rank": ranks.ravel(),
        }
    )


def _table_information(table: np.ndarray) -> np.ndarray:
    """Mutual information of joint tables (..., S, S) summing to 1, in bits, over entries > 0."""
    p_s = table.sum(axis=-1, keepdims=True)
    p_guess = table.sum(axis=-2, keepdims=True)
    from scipy.special import rel_entr

    terms = rel_entr(table, p_s * p_guess) / LN2  # 0 where the joint probability is 0
    return terms.sum(axis=(-2, -1))


def _decode_leave_one_out(
    responses: np.ndarray, codes: np.ndarray, n_stimuli: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Decode every trial from Gaussian statistics of all *other* trials.

    ``responses``: (n_iterations, n_trials, n_cells) rates of each iteration's ensemble.
    Returns the posterior P(s'|r) (n_iterations, n_trials, S) and the best guess
    (n_iterations, n_trials) intp, with ties broken at random.
    """
    onehot = np.zeros((codes.size, n_stimuli))
    onehot[np.arange(codes.size), codes] = 1.0
    counts = onehot.sum(axis=0)  # (S,)
    sums = np.einsum("ts,itc->isc", onehot, responses)  # (I, S, C)
    sumsq = np.einsum("ts,itc->isc", onehot, responses**2)
    # Statistics per (iteration, trial, stimulus, cell): the held-out trial is removed from its
    # own stimulus's sums only.
    own = onehot[None, :, :, None]  # (1, T, S, 1)
    x = responses[:, :, None, :]  # (I, T, 1, C)
    n = counts[None, None, :, None] - own
    total = sums[:, None, :, :] - own * x
    total_sq = sumsq[:, None, :, :] - own * x**2
    mean = total / n
    var = np.maximum(total_sq - n * mean**2, 0.0) / (n - 1)
    std = np.sqrt(var)
    degenerate = std < DECODER_EPS
    safe_std = np.where(degenerate, 1.0, std)
    density = np.exp(-0.5 * ((x - mean) / safe_std) ** 2) / (np.sqrt(2 * np.pi) * safe_std)
    density = np.where(
        degenerate, np.where(np.abs(x - mean) < DECODER_EPS, 1.0, DECODER_EPS), density
    )
    log_like = np.log(np.maximum(density, DECODER_EPS)).sum(axis=-1)  # (I, T, S)
    # equal priors cancel in the normalisation
    log_like -= log_like.max(axis=-1, keepdims=True)
    posterior = np.exp(log_like)
    posterior /= posterior.sum(axis=-1, keepdims=True)
    is_best = log_like >= -1e-12
    guess = np.argmax(is_best * rng.random(is_best.shape), axis=-1)
    return posterior, guess


def multiple_cell_information(
    rates: np.ndarray,
    stimuli: np.ndarray,
    cells_per_stimulus: int = 10,
    max_ensemble: int = 15,
    n_iterations: int | None = None,
    rng: np.random.Generator | None = None,
    n_bins: int = 3,
    weighted_selection: bool = True,
    normalise: bool = False,
) -> pd.DataFrame:
    """Information decoded from ensembles of the most informative cells (§11.2, default [D]).

    1. For each stimulus pick the ``cells_per_stimulus`` cells with the highest I(s, R)
       (``weighted_selection``: the weighted measure, so each stimulus contributes cells that
       fire *to* it, as in [AEm]); the pool is their union, without duplicates.
    2. For ensemble sizes 1..min(max_ensemble, pool size), repeat ``n_iterations`` times (default
       100·(max_ensemble − size + 1), as in [AEm]): draw that many pool cells without
       replacement; decode **each trial** from the Gaussian likelihood (product over cells, each
       density floored at 1e-3) of its response under every stimulus's mean and standard
       deviation computed from all *other* trials (leave-one-trial-out); accumulate the
       probability table P(s, s') from the posteriors and the frequency table Q(s, s') from the
       best guesses.
    3. Report the mean over iterations of the mutual information of each table, in bits.

    Decoding held-out trials rather than each stimulus's mean response avoids the [AEm] shortcut
    that overstates information.

    Parameters
    ----------
    rates:
        ``(n_trials, n_cells)`` firing rates (in [0, 1], or any range with ``normalise``).
    stimuli:
        ``(n_trials,)`` integer labels; every stimulus needs ≥ 3 trials.
    rng:
        The generator for ensemble draws and tie-breaking (required).

    Returns
    -------
    pandas.DataFrame
        Columns ``ensemble_size``, ``information_probability`` (I_P) and
        ``information_frequency`` (I_Q), one row per ensemble size.
    """
    if rng is None:
        raise ConfigError("rng: expected a numpy.random.Generator, got None")
    check_int("cells_per_stimulus", cells_per_stimulus, 1)
    check_int("max_ensemble", max_ensemble, 1)
    if n_iterations is not None and (
        not isinstance(n_iterations, int | np.integer) or n_iterations < 1
    ):
        raise ConfigError(f"n_iterations: expected an integer >= 1 or None, got {n_iterations!r}")
    rates, codes, _ = _check_inputs(rates, stimuli, normalise=normalise, n_bins=n_bins)
    n_stimuli = int(codes.max()) + 1
    counts = np.bincount(codes, minlength=n_stimuli)
    if counts.min() < 3:
        raise ConfigError(
            f"stimuli: expected at least 3 trials per stimulus for leave-one-out decoding, "
            f"got {counts.min()}"
        )
    info = single_cell_information(rates, codes, n_bins=n_bins, weighted=weighted_selection)
    top = np.argsort(-info, axis=1, kind="stable")[:, :cells_per_stimulus]
    pool = np.unique(top)
    # joint-table weights: each trial of stimulus s carries probability 1/(S · n_s)
    trial_weight = np.zeros((codes.size, n_stimuli))
    trial_weight[np.arange(codes.size), codes] = 1.0 / (n_stimuli * counts[codes])
    rows = []
    for size in range(1, min(max_ensemble, pool.size) + 1):
        iterations = n_iterations if n_iterations is not None else 100 * (max_ensemble - size + 1)
        keys = rng.random((iterations, pool.size))
        ensembles = pool[np.argsort(keys, axis=1)[:, :size]]  # (I, size), no repeats per row
        responses = np.moveaxis(rates[:, ensembles], 0, 1)  # (I, T, size)
        posterior, guess = _decode_leave_one_out(responses, codes, n_stimuli, rng)
        p_table = np.einsum("ts,itg->isg", trial_weight, posterior)
        q_table = np.einsum("ts,itg->isg", trial_weight, np.eye(n_stimuli)[guess])
        rows.append(
            (
                size,
                float(_table_information(p_table).mean()),
                float(_table_information(q_table).mean()),
            )
        )
    return pd.DataFrame(
        rows, columns=["ensemble_size", "information_probability", "information_frequency"]
    )


def selectivity_summary(
    rates: np.ndarray,
    stimuli: np.ndarray,
    stimulus_names: tuple[str, ...] | list[str] | None = None,
    threshold: float | None = None,
    n_bins: int = 3,
    weighted: bool = False,
) -> dict:
    """How many cells carry (nearly) the maximum information, and which stimulus they prefer.

    A cell counts as selective when its max-over-stimuli information is ≥ ``threshold`` bits
    (default 0.99·log2(S), e.g. 0.99 bit for happy vs sad); its preferred stimulus is the one it
    fires most to (:func:`preferred_stimulus`).

    Returns a JSON-safe dict: ``n_cells``, ``threshold_bits``, ``n_selective``, ``preferred``
    (stimulus name → number of selective cells preferring it), ``mean_information`` (bits, all
    cells), ``max_bits`` (log2(S)).
    """
    info = max_information(rates, stimuli, n_bins=n_bins, weighted=weighted)
    labels = np.unique(np.asarray(stimuli))
    names = list(stimulus_names) if stimulus_names is not None else [str(x) for x in labels]
    if len(names) != labels.size:
        raise ConfigError(f"stimulus_names: expected {labels.size} names, got {len(names)}")
    max_bits = float(np.log2(labels.size))
    threshold = 0.99 * max_bits if threshold is None else float(threshold)
    selective = info >= threshold
    preferred = preferred_stimulus(rates, stimuli)[selective]
    counts = np.bincount(preferred, minlength=labels.size)
    return {
        "n_cells": int(info.size),
        "threshold_bits": threshold,
        "n_selective": int(selective.sum()),
        "preferred": {name: int(c) for name, c in zip(names, counts, strict=True)},
        "mean_information": float(info.mean()),
        "max_bits": max_bits,
    }
