"""Compiled numba kernels for a competitive layer.

These are the hot loops of :class:`dyad.brain.layer.CompetitiveLayer` with the ``"numba"``
back-end: the sparse gather-dot that computes activations, the competition, and the weight
update with its renormalisation. The plain-numpy code in ``layer.py`` is the reference; tests
check that both agree. Kernels are single-threaded (no numba thread pool), so they never
compete with BLAS or FFT threads or with other processes on a small machine.

Renormalisation without a second pass. The forward kernel returns, per neuron, the activation
``h = w·x``, ``‖w‖²`` and ``‖x‖²`` over the neuron's synapses. After the update
``w′ = w + a x`` (``a = α · postsynaptic factor``) the squared length is
``‖w‖² + 2 a h + a² ‖x‖²``, so the update pass writes ``w′ / ‖w′‖`` directly. ``‖w‖²`` is
measured, not assumed to be 1, so rounding does not accumulate across updates. Rows whose
postsynaptic factor is exactly 0, or whose update is negligible (see :data:`NEGLIGIBLE`), are
left untouched, as in the numpy path.

The centred rule (:func:`learn_centred`) clips weights at 0 after the update, so the new length
has no closed form: changed rows get a second pass instead.

Sums and the update are computed in float64 and stored as float32. Besides accuracy this
avoids subnormal intermediates: rates far below threshold are ~1e-30, and their squares or
products (~1e-60) would be subnormal in float32, which is up to ~100× slower on common CPUs.

The competition (COMP inhibition, percentile threshold, sigmoid) is one fused kernel too; it
computes the inhibition as a separable direct convolution instead of the numpy path's FFT.

``fastmath`` is limited to reassociation and contraction (sums in any order, fused multiply-add);
no assumptions about NaN or infinity are made.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_FAST = {"reassoc", "contract"}

#: An update Δw = a x with ‖Δw‖² < NEGLIGIBLE · ‖w‖², i.e. ‖Δw‖ below 2⁻²⁴ ‖w‖ (one float32
#: unit in the last place of the row's length), is not applied: it cannot change the row at
#: float32 resolution. Far-below-threshold neurons (rates ~1e-10 to 1e-30) make most rows so.
NEGLIGIBLE = 2.0**-48


@numba.njit(cache=True, fastmath=_FAST, nogil=True)
def drive_norms(x, presynaptic, weights, drive, weight_sq, input_sq):  # pragma: no cover
    """Activation and squared lengths for one input vector.

    x: (n_pre,) float32; presynaptic: (N, F) int32; weights: (N, F) float32;
    drive, weight_sq, input_sq: (N,) float64 outputs.
    """
    n, f = weights.shape
    for i in range(n):
        h = 0.0
        ww = 0.0
        xx = 0.0
        for j in range(f):
            v = np.float64(x[presynaptic[i, j]])
            w = np.float64(weights[i, j])
            h += w * v
            ww += w * w
            xx += v * v
        drive[i] = h
        weight_sq[i] = ww
        input_sq[i] = xx


@numba.njit(cache=True, fastmath=_FAST, nogil=True)
def drive_norms_gathered(gathered, weights, drive, weight_sq, input_sq):  # pragma: no cover
    """As :func:`drive_norms` with the inputs already gathered: gathered (N, F) float32."""
    n, f = weights.shape
    for i in range(n):
        h = 0.0
        ww = 0.0
        xx = 0.0
        for j in range(f):
            v = np.float64(gathered[i, j])
            w = np.float64(weights[i, j])
            h += w * v
            ww += w * w
            xx += v * v
        drive[i] = h
        weight_sq[i] = ww
        input_sq[i] = xx


@numba.njit(cache=True, fastmath=_FAST, nogil=True)
def learn(x, presynaptic, weights, post, rate, drive, weight_sq, input_sq):  # pragma: no cover
    """w_i ← (w_i + α post_i x_i) / ‖·‖ for every neuron with post_i ≠ 0, in place."""
    n, f = weights.shape
    for i in range(n):
        p = post[i]
        if p == 0.0:
            continue
        a = rate * np.float64(p)
        if a * a * input_sq[i] < NEGLIGIBLE * weight_sq[i]:
            continue
        length_sq = weight_sq[i] + 2.0 * a * drive[i] + a * a * input_sq[i]
        if length_sq <= 0.0:
            continue
        scale = 1.0 / math.sqrt(length_sq)
        step = a * scale
        for j in range(f):
            weights[i, j] = weights[i, j] * scale + step * np.float64(x[presynaptic[i, j]])


@numba.njit(cache=True, fastmath=_FAST, nogil=True)
def learn_gathered(gathered, weights, post, rate, drive, weight_sq, input_sq):  # pragma: no cover
    """As :func:`learn` with the inputs already gathered: gathered (N, F) float32."""
    n, f = weights.shape
    for i in range(n):
        p = post[i]
        if p == 0.0:
            continue
        a = rate * np.float64(p)
        if a * a * input_sq[i] < NEGLIGIBLE * weight_sq[i]:
            continue
        length_sq = weight_sq[i] + 2.0 * a * drive[i] + a * a * input_sq[i]
        if length_sq <= 0.0:
            continue
        scale = 1.0 / math.sqrt(length_sq)
        step = a * scale
        for j in range(f):
            weights[i, j] = weights[i, j] * scale + step * np.float64(gathered[i, j])


@numba.njit(cache=True, fastmath=_FAST, nogil=True)
def learn_centred(
    x, presynaptic, gathered, mean, mean_norm, weights, post, rate, weight_sq, input_sq, row
):  # pragma: no cover
    """Centred rule: w_i ← max(w_i + α post_i (x_i − x̄_i), 0) / ‖·‖ for post_i ≠ 0, in place.

    x: (1, n_pre) rates read through ``presynaptic``, or (N, F) values when ``gathered``;
    mean: (N, F) float32 x̄; mean_norm: (N,) float64 ‖x̄_i‖; input_sq: (N,) ‖x_i‖² from the
    forward pass; row: (F,) float64 work space. The clip breaks the closed form of the new
    length, so each changed row takes a second pass to rescale. An update is skipped as
    negligible when even its upper bound a (‖x_i‖ + ‖x̄_i‖) ≥ ‖a (x_i − x̄_i)‖ is below
    2⁻²⁴ ‖w_i‖ (as in :func:`learn`), which needs no extra pass over the synapses.
    """
    n, f = weights.shape
    for i in range(n):
        p = post[i]
        if p == 0.0:
            continue
        a = rate * np.float64(p)
        bound = a * (math.sqrt(input_sq[i]) + mean_norm[i])
        if bound * bound < NEGLIGIBLE * weight_sq[i]:
            continue
        length_sq = 0.0
        if gathered:
            for j in range(f):
                w = np.float64(weights[i, j]) + a * (np.float64(x[i, j]) - np.float64(mean[i, j]))
                w = max(w, 0.0)
                row[j] = w
                length_sq += w * w
        else:
            for j in range(f):
                v = x[0, presynaptic[i, j]]
                w = np.float64(weights[i, j]) + a * (np.float64(v) - np.float64(mean[i, j]))
                w = max(w, 0.0)
                row[j] = w
                length_sq += w * w
        scale = 1.0 / math.sqrt(length_sq) if length_sq > 0.0 else 1.0
        for j in range(f):
            weights[i, j] = row[j] * scale


@numba.njit(cache=True, fastmath=_FAST, nogil=True)
def batch_drive(x, presynaptic, weights, out):  # pragma: no cover
    """Activations for a batch: x (n, n_pre) float32 → out (n, N) float32."""
    n_inputs = x.shape[0]
    n, f = weights.shape
    for b in range(n_inputs):
        row = x[b]
        for i in range(n):
            h = 0.0
            for j in range(f):
                h += np.float64(weights[i, j]) * np.float64(row[presynaptic[i, j]])
            out[b, i] = h


@numba.njit(cache=True, fastmath=_FAST, nogil=True)
def batch_drive_gathered(gathered, weights, out):  # pragma: no cover
    """Activations for a pre-gathered batch: gathered (n, N, F) float32 → out (n, N)."""
    n_inputs = gathered.shape[0]
    n, f = weights.shape
    for b in range(n_inputs):
        for i in range(n):
            h = 0.0
            for j in range(f):
                h += np.float64(weights[i, j]) * np.float64(gathered[b, i, j])
            out[b, i] = h


@numba.njit(cache=True, fastmath=_FAST, nogil=True)
def compete(
    drive, side, profile, centre_gain, contrast, k, slope, relative, rates, inhibited, scratch
):  # pragma: no cover
    """COMP inhibition, percentile threshold and sigmoid for one input, fused.

    The COMP filter is ``−δ G + (1 + δ ΣG) e₀`` with ``G(a, b) = g(a) g(b)`` a separable
    Gaussian, so ``h′ = (1 + δ ΣG) h − δ (G ⊛ h)`` is computed as two circular 1-D passes
    (indices wrap, so a filter wider than the sheet aliases exactly as the 2-D wrap does).

    drive: (N,) float64 h; profile: (W,) float64 g; centre_gain: 1 + δ ΣG; contrast: δ;
    k: winners; slope: β (or β′ if ``relative``); rates: (N,) float32 output;
    inhibited: (N,) float64 output h′; scratch: (N,) float64 work space.
    """
    width = profile.shape[0]
    half = width // 2
    n = side * side
    sheet = drive.reshape(side, side)
    # Pass 1, along columns, over a copy of the sheet with wrapped rows above and below.
    padded = np.empty((side + width - 1, side))
    for j in range(side + width - 1):
        padded[j, :] = sheet[(j - half) % side, :]
    blurred = scratch.reshape(side, side)
    acc = np.empty(side)
    for r in range(side):
        acc[:] = 0.0
        for a in range(width):
            weight = profile[a]
            row = padded[r + a]
            for c in range(side):
                acc[c] += weight * row[c]
        blurred[r, :] = acc
    # Pass 2, along rows, through a transposed copy with wrapped columns.
    for j in range(side + width - 1):
        src = (j - half) % side
        for r in range(side):
            padded[j, r] = blurred[r, src]
    result = inhibited.reshape(side, side)
    for c in range(side):
        acc[:] = 0.0
        for b in range(width):
            weight = profile[b]
            column = padded[c + b]
            for r in range(side):
                acc[r] += weight * column[r]
        for r in range(side):
            result[r, c] = centre_gain * sheet[r, c] - contrast * acc[r]
    for i in range(n):
        scratch[i] = inhibited[i]
    threshold = np.partition(scratch, n - k)[n - k]
    gain = -2.0 * slope
    if relative:
        mean = 0.0
        for i in range(n):
            mean += inhibited[i]
        mean /= n
        var = 0.0
        for i in range(n):
            d = inhibited[i] - mean
            var += d * d
        spread = math.sqrt(var / n)
        if spread > 0.0:
            gain /= spread
    tiny = np.finfo(np.float32).tiny
    for i in range(n):
        e = gain * (inhibited[i] - threshold)
        r = 0.0 if e > 700.0 else 1.0 / (1.0 + math.exp(e))
        rates[i] = 0.0 if r < tiny else r


@numba.njit(cache=True, fastmath=_FAST, nogil=True)
def update_trace(trace, rates, eta):  # pragma: no cover
    """ȳ ← η ȳ + (1 − η) r in float32, values below the smallest normal float32 set to 0."""
    tiny = np.finfo(np.float32).tiny
    keep = np.float32(eta)
    add = np.float32(1.0 - eta)
    for i in range(trace.shape[0]):
        value = keep * trace[i] + add * rates[i]
        trace[i] = 0.0 if value < tiny else value


@numba.njit(cache=True, fastmath=_FAST, nogil=True)
def step(
    presyn,
    presynaptic,
    gathered,
    weights,
    learn_now,
    hebb,
    centred,
    mean,
    mean_norm,
    row,
    rate,
    eta,
    trace,
    post,
    side,
    profile,
    centre_gain,
    contrast,
    k,
    slope,
    relative,
    rates,
    drive,
    weight_sq,
    input_sq,
    inhibited,
    scratch,
):  # pragma: no cover
    """One presentation in one call: activation, competition and (if ``learn_now``) learning.

    ``presyn`` is the (n_pre,) rate vector, or the (N, F) pre-gathered values when ``gathered``
    (then ``presynaptic`` is unused). ``hebb`` selects the rule; the trace rule uses ``trace``
    before updating it. ``centred`` learns with ``x − mean`` (mean (N, F) float32, mean_norm
    (N,) float64, row (F,) float64 work space; see :func:`learn_centred`). ``post`` is (N,)
    float32 work space for the postsynaptic factor.
    """
    if gathered:
        drive_norms_gathered(presyn, weights, drive, weight_sq, input_sq)
    else:
        drive_norms(presyn.ravel(), presynaptic, weights, drive, weight_sq, input_sq)
    compete(
        drive, side, profile, centre_gain, contrast, k, slope, relative, rates, inhibited, scratch
    )
    if learn_now:
        if hebb:
            post[:] = rates
        else:
            post[:] = trace
        if centred:
            learn_centred(
                presyn,
                presynaptic,
                gathered,
                mean,
                mean_norm,
                weights,
                post,
                rate,
                weight_sq,
                input_sq,
                row,
            )
        elif gathered:
            learn_gathered(presyn, weights, post, rate, drive, weight_sq, input_sq)
        else:
            learn(presyn.ravel(), presynaptic, weights, post, rate, drive, weight_sq, input_sq)
        update_trace(trace, rates, eta)
