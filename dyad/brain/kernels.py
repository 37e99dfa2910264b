"""Compiled numba kernels for the synaptic work of a competitive layer.

These are the hot loops of :class:`dyad.brain.layer.CompetitiveLayer` with the ``"numba"``
back-end: the sparse gather-dot that computes activations and the weight update with its
renormalisation. The plain-numpy code in ``layer.py`` is the reference; tests check that both
agree. Kernels are single-threaded (no numba thread pool), so they never compete with BLAS or
FFT threads or with other processes on a small machine.

Renormalisation without a second pass. The forward kernel returns, per neuron, the activation
``h = w·x``, ``‖w‖²`` and ``‖x‖²`` over the neuron's synapses. After the update
``w′ = w + a x`` (``a = α · postsynaptic factor``) the squared length is
``‖w‖² + 2 a h + a² ‖x‖²``, so the update pass writes ``w′ / ‖w′‖`` directly. ``‖w‖²`` is
measured, not assumed to be 1, so rounding does not accumulate across updates. Rows whose
postsynaptic factor is exactly 0 are left untouched, as in the numpy path.

``fastmath`` is limited to reassociation and contraction (sums in any order, fused multiply-add);
no assumptions about NaN or infinity are made.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_FAST = {"reassoc", "contract"}


@numba.njit(cache=True, fastmath=_FAST, nogil=True)
def drive_norms(x, presynaptic, weights, drive, weight_sq, input_sq):  # pragma: no cover
    """Activation and squared lengths for one input vector.

    x: (n_pre,) float32; presynaptic: (N, F) int32; weights: (N, F) float32;
    drive, weight_sq, input_sq: (N,) float32 outputs.
    """
    n, f = weights.shape
    for i in range(n):
        h = np.float32(0.0)
        ww = np.float32(0.0)
        xx = np.float32(0.0)
        for j in range(f):
            v = x[presynaptic[i, j]]
            w = weights[i, j]
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
        h = np.float32(0.0)
        ww = np.float32(0.0)
        xx = np.float32(0.0)
        for j in range(f):
            v = gathered[i, j]
            w = weights[i, j]
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
        a = np.float32(rate * p)
        length_sq = weight_sq[i] + 2.0 * a * drive[i] + a * a * input_sq[i]
        if length_sq <= 0.0:
            continue
        scale = np.float32(1.0 / math.sqrt(length_sq))
        for j in range(f):
            weights[i, j] = (weights[i, j] + a * x[presynaptic[i, j]]) * scale


@numba.njit(cache=True, fastmath=_FAST, nogil=True)
def learn_gathered(gathered, weights, post, rate, drive, weight_sq, input_sq):  # pragma: no cover
    """As :func:`learn` with the inputs already gathered: gathered (N, F) float32."""
    n, f = weights.shape
    for i in range(n):
        p = post[i]
        if p == 0.0:
            continue
        a = np.float32(rate * p)
        length_sq = weight_sq[i] + 2.0 * a * drive[i] + a * a * input_sq[i]
        if length_sq <= 0.0:
            continue
        scale = np.float32(1.0 / math.sqrt(length_sq))
        for j in range(f):
            weights[i, j] = (weights[i, j] + a * gathered[i, j]) * scale


@numba.njit(cache=True, fastmath=_FAST, nogil=True)
def batch_drive(x, presynaptic, weights, out):  # pragma: no cover
    """Activations for a batch: x (n, n_pre) float32 → out (n, N) float32."""
    n_inputs = x.shape[0]
    n, f = weights.shape
    for b in range(n_inputs):
        row = x[b]
        for i in range(n):
            h = np.float32(0.0)
            for j in range(f):
                h += weights[i, j] * row[presynaptic[i, j]]
            out[b, i] = h


@numba.njit(cache=True, fastmath=_FAST, nogil=True)
def batch_drive_gathered(gathered, weights, out):  # pragma: no cover
    """Activations for a pre-gathered batch: gathered (n, N, F) float32 → out (n, N)."""
    n_inputs = gathered.shape[0]
    n, f = weights.shape
    for b in range(n_inputs):
        for i in range(n):
            h = np.float32(0.0)
            for j in range(f):
                h += weights[i, j] * gathered[b, i, j]
            out[b, i] = h
