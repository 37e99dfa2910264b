"""The fixed wiring of a competitive layer (model.md §4, §5.2).

Each neuron's presynaptic units are drawn once, by Gaussian topological sampling around the
neuron's position on the layer below (no duplicates), and lateral inhibition is a fixed
centre-surround filter on the toroidal sheet. Both are set when the network is built and never
learn, so they live apart from the layer's dynamics (:mod:`dyad.brain.layer`).
"""

from __future__ import annotations

import numpy as np

from dyad.errors import ConfigError

# Rows of presynaptic candidates drawn per round, as a multiple of the fan-in.
_MAX_SAMPLING_ROUNDS = 200


def inhibition_filter(radius: float, contrast: float, width: int) -> np.ndarray:
    """Return the COMP lateral-inhibition filter (model.md §5.2).

    Surround ``I(a, b) = −δ exp(−(a² + b²)/σ_I²)`` for ``(a, b) ≠ (0, 0)``; the centre is
    ``1 − Σ surround`` so the filter sums to exactly 1 and uniform activity passes unchanged.

    Parameters
    ----------
    radius
        σ_I in neurons.
    contrast
        δ.
    width
        odd filter side W.

    Returns
    -------
    np.ndarray
        (W, W) float64 filter, centre at ``[W // 2, W // 2]``.
    """
    half = width // 2
    offsets = np.arange(-half, half + 1, dtype=np.float64)
    dist2 = offsets[:, None] ** 2 + offsets[None, :] ** 2
    filt = -contrast * np.exp(-dist2 / radius**2)
    filt[half, half] = 0.0
    filt[half, half] = 1.0 - filt.sum()
    return filt


def wrap_filter(filt: np.ndarray, side: int) -> np.ndarray:
    """Fold a filter onto a ``side × side`` torus with its centre at index (0, 0).

    A filter wider than the sheet aliases onto itself, exactly as a wrap-around loop over the
    filter offsets would. Returns (side, side) float64.
    """
    half = filt.shape[0] // 2
    wrapped = np.zeros((side, side), dtype=np.float64)
    idx = (np.arange(filt.shape[0]) - half) % side
    np.add.at(wrapped, (idx[:, None], idx[None, :]), filt)
    return wrapped


def _first_distinct(candidates: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the first ``count`` distinct values in draw order.

    Taking the first distinct draws is the same as drawing one at a time and discarding
    repeats. Returns (rows that have enough, (n_ok, count) values of those rows).
    """
    order = np.argsort(candidates, axis=1, kind="stable")
    ordered = np.take_along_axis(candidates, order, axis=1)
    repeat = np.zeros(ordered.shape, dtype=bool)
    repeat[:, 1:] = ordered[:, 1:] == ordered[:, :-1]
    first = np.empty_like(repeat)
    np.put_along_axis(first, order, ~repeat, axis=1)
    ok = first.sum(axis=1) >= count
    keep = first & (np.cumsum(first, axis=1) <= count)
    chosen = candidates[ok][keep[ok]].reshape(-1, count)
    return ok, chosen


def sample_presynaptic(
    rng: np.random.Generator,
    post_side: int,
    pre_side: int,
    radius: float,
    fan_in: int,
    feature_offsets: np.ndarray | None = None,
    *,
    parameter: str = "fan_in",
) -> np.ndarray:
    """Gaussian topological sampling on a torus, no duplicate synapses (model.md §4.2, §3.6).

    For the neuron at (row, col) of a ``post_side`` sheet, the mean presynaptic position is
    ``(col·s + s/2, row·s + s/2)`` with ``s = (pre_side − 1)/post_side``; each draw adds
    independent N(0, radius²) offsets, truncates toward zero and wraps modulo ``pre_side``.
    With ``feature_offsets`` each draw also picks one feature uniformly (for layer 1: an
    orientation × phase map of one wavelength) and the presynaptic index is
    ``feature_offsets[f] + y · pre_side + x``. Repeated units are re-drawn.

    Parameters
    ----------
    rng
        the run's random generator.
    post_side, pre_side
        sheet sides.
    radius
        Gaussian σ in presynaptic units.
    fan_in
        distinct synapses per neuron.
    feature_offsets
        (n_features,) flat offsets of the presynaptic feature maps; None
        means a single map at offset 0.
    parameter
        config field named in the error if sampling cannot finish.

    Returns
    -------
    np.ndarray
        (post_side², fan_in) int64 presynaptic indices, each row sorted ascending.
    """
    if feature_offsets is None:
        feature_offsets = np.zeros(1, dtype=np.int64)
    feature_offsets = np.asarray(feature_offsets, dtype=np.int64)
    n_post = post_side * post_side
    if fan_in == 0:
        return np.empty((n_post, 0), dtype=np.int64)
    n_units = pre_side * pre_side * len(feature_offsets)
    if fan_in > n_units:
        raise ConfigError(f"{parameter}: expected at most {n_units} synapses, got {fan_in}")
    rows, cols = np.divmod(np.arange(n_post), post_side)
    spacing = (pre_side - 1) / post_side
    mean_x = cols * spacing + spacing / 2
    mean_y = rows * spacing + spacing / 2

    def draw(neurons: np.ndarray, n_draws: int) -> np.ndarray:
        offsets = rng.normal(0.0, radius, size=(2, len(neurons), n_draws))
        x = np.trunc(mean_x[neurons, None] + offsets[0]).astype(np.int64) % pre_side
        y = np.trunc(mean_y[neurons, None] + offsets[1]).astype(np.int64) % pre_side
        feature = rng.integers(0, len(feature_offsets), size=(len(neurons), n_draws))
        return feature_offsets[feature] + y * pre_side + x

    result = np.empty((n_post, fan_in), dtype=np.int64)
    pending = np.arange(n_post)
    candidates = draw(pending, fan_in + fan_in // 2 + 8)
    for _ in range(_MAX_SAMPLING_ROUNDS):
        ok, chosen = _first_distinct(candidates, fan_in)
        result[pending[ok]] = chosen
        pending = pending[~ok]
        if len(pending) == 0:
            result.sort(axis=1)
            return result
        candidates = np.concatenate([candidates[~ok], draw(pending, fan_in)], axis=1)
    raise ConfigError(
        f"{parameter}: could not draw {fan_in} distinct synapses per neuron within radius "
        f"{radius:g}; expected a fan-in well below the units the Gaussian reaches"
    )
