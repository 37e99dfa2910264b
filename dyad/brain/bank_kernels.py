"""The compiled timestep loop of :class:`dyad.brain.batched.BankMirror` (numba back-end).

One call runs one chunk of timesteps for every network of a batch: per network and timestep
the drive (the chunk's precomputed drive plus the updates made earlier in the chunk), the
competition, the learning step in the bank-coefficient basis, the analytic renormalisation,
the conscience bias and the trace. It is the same arithmetic as ``BankMirror._chunk_numpy``
(the reference, about 25 numpy calls per timestep on ``(B, N)`` arrays); fused, a
network-timestep costs a few microseconds instead of tens. Networks are independent and each
runs the same operations in the same order whatever the batch, so a network gives the same
numbers bit for bit alone or in a batch of any size.

Sums run in another order than numpy's (numpy sums pairwise and multiplies small matrices
through BLAS), so the two back-ends agree to float32 rounding, not bit for bit;
``tests/brain/test_batched.py`` checks the agreement and that the classes do not change.
"""

from __future__ import annotations

import math

import numba
import numpy as np

#: Rates below this are 0, as in the numpy path, where 0.5 + 0.5 tanh(x) rounds to exactly 0
#: below about 3e-8. The logistic would go on to ~1e-38 and below, and arithmetic on such
#: subnormal float32 values (every learning step multiplies the rates) is ~100x slower.
TINY_RATE = np.float32(2.0**-24)

#: numpy's error model: a float division by zero gives inf or NaN instead of raising. With
#: Python's (numba's default) every division carries a zero test, which keeps the compiler from
#: vectorising the loops that divide (the learning step's ``c / scale`` and renormalisation):
#: the same values, bit for bit (no divisor here can be 0: scales and square roots of sums with
#: ``target**2`` are positive), and a timestep costs about 10 % less.
_ERRORS = "numpy"


@numba.njit(cache=True, error_model=_ERRORS, nogil=True)
def _split(values, k):  # pragma: no cover - compiled
    """Return a value t with exactly k of ``values`` above it (bisection), else NaN.

    Each step counts the values above the midpoint of an interval holding the split (a
    comparison the compiler vectorises), so the threshold costs about 1 us for 256 values,
    against about 3 us for a quickselect and 10 us for a full sort, whose branches the
    processor cannot predict on new activations every timestep. Ties at the split (no such t)
    give NaN and the caller falls back to :func:`_kth_pair`.
    """
    n = values.size
    lo = values[0]
    hi = values[0]
    for u in range(1, n):
        lo = min(lo, values[u])
        hi = max(hi, values[u])
    for _ in range(64):
        mid = np.float32(0.5) * (lo + hi)
        if not (lo < mid < hi):
            break
        above = 0
        for u in range(n):
            above += values[u] > mid
        if above > k:
            lo = mid
        elif above < k:
            hi = mid
        else:
            return mid
    return np.float32(np.nan)


@numba.njit(cache=True, error_model=_ERRORS, nogil=True)
def _kth_pair(values, k):  # pragma: no cover - compiled
    """Return the k-th and (k+1)-th largest of ``values`` (reordered in place; quickselect)."""
    n = values.size
    m = n - k
    lo = 0
    hi = n - 1
    while hi > lo:
        mid = (lo + hi) >> 1
        x, y, z = values[lo], values[mid], values[hi]
        if x > y:
            x, y = y, x
        if y > z:
            y = z if x <= z else x
        pivot = y
        i = lo
        j = hi
        while i <= j:
            while values[i] < pivot:
                i += 1
            while values[j] > pivot:
                j -= 1
            if i <= j:
                values[i], values[j] = values[j], values[i]
                i += 1
                j -= 1
        if m <= j:
            hi = j
        elif m >= i:
            lo = i
        else:
            break
    lower = values[0]
    for r in range(1, m):
        lower = max(lower, values[r])
    return values[m], lower


@numba.njit(cache=True, error_model=_ERRORS, nogil=True)
def _compete(shifted, work, k, kwta, gain, rates):  # pragma: no cover - compiled
    """Rates from activations (see ``batched._compete``): k-WTA, or sigmoid about theta.

    theta is the midpoint between the k-th and (k+1)-th largest activation; the sigmoid
    1 / (1 + exp(-2 beta (h - theta))) is written with ``gain`` = 2 beta.
    """
    n = shifted.size
    if k >= n:
        upper = shifted.min()
        lower = upper
        split = np.float32(np.nan)
    else:
        split = _split(shifted, k)
        if split == split:  # not NaN: exactly k values above the split
            upper = np.inf
            lower = -np.inf
            for u in range(n):
                v = shifted[u]
                if v > split:
                    upper = min(upper, v)
                else:
                    lower = max(lower, v)
        else:
            work[:] = shifted
            upper, lower = _kth_pair(work, k)
    if kwta:
        if split == split:
            for u in range(n):
                rates[u] = 1.0 if shifted[u] > split else 0.0
        else:  # ties at the split: the k largest by rank, as argpartition picks them
            order = np.argsort(shifted, kind="mergesort")
            rates[:] = 0.0
            for r in range(n - k, n):
                rates[order[r]] = 1.0
        return
    theta = np.float32(0.5) * (lower + upper) if k < n else upper
    one = np.float32(1.0)
    for u in range(n):
        rate = one / (one + np.float32(math.exp(-gain * (shifted[u] - theta))))
        rates[u] = rate if rate >= TINY_RATE else np.float32(0.0)


@numba.njit(cache=True, error_model=_ERRORS, nogil=True, inline="always")
def _weighted_rows(out, weights, rows, count):  # pragma: no cover - compiled
    """Set ``out`` to the sum of ``weights[i] * rows[i]`` over the first ``count`` rows."""
    out[:] = 0.0
    for i in range(count):
        g = weights[i]
        row = rows[i]
        for u in range(out.size):
            out[u] += g * row[u]


@numba.njit(cache=True, error_model=_ERRORS, nogil=True)
def chunk_steps(
    base,  # (B, L, N) raw visual drive from the weights at the chunk's start
    within,  # (B, L, L) Gram of the chunk's bank rows
    items,  # (B, L) bank row shown
    produced,  # (B, L) infant's expression
    x2,  # (B, L) |x|^2 of the bank row shown
    coef,  # (B, K, N) visual coefficients C (updated)
    coef_m,  # (B, S, N) motor coefficients (updated)
    p0_m,  # (B, S, N) motor drive of the initial weights
    motor_gram,  # (B, S, S)
    m2,  # (B, S) |motor input|^2
    scale_v,  # (B, N) (updated)
    scale_m,  # (B, N) (updated)
    bias,  # (B, N) conscience bias (updated)
    trace,  # (B, N) trace of the rates (updated)
    beta,  # (B,) sigmoid gain
    bias_step,  # (B,) gamma std(h) of the calibration
    updates,  # (B, L, N) work: raw increments of the chunk
    rates_out,  # (B, L, N)
    visual_out,  # (B, L)
    motor_out,  # (B, L)
    k,
    kwta,
    alpha,
    eta,
    gamma,
    joint,
    target,
    target_rate,
):  # pragma: no cover - compiled; checked against the numpy path in tests
    """Run one chunk of timesteps for every network; arrays marked (updated) change in place.

    The arguments are :class:`~dyad.brain.batched.BankMirror`'s state and the chunk's inputs
    (shapes beside each parameter); ``rates_out``, ``visual_out`` and ``motor_out`` receive
    every timestep's rates and mean drives.
    """
    n_networks, length, n = base.shape
    n_expr = coef_m.shape[1]
    learn = alpha > 0
    target2 = target * target
    half = np.float32(0.5)
    one = np.float32(1.0)
    two = np.float32(2.0)
    inv_n = np.float32(1.0) / np.float32(n)
    hv = np.empty(n, np.float32)
    hm = np.empty(n, np.float32)
    h = np.empty(n, np.float32)
    shifted = np.empty(n, np.float32)
    ordered = np.empty(n, np.float32)
    rates = np.empty(n, np.float32)
    post = np.empty(n, np.float32)
    for b in range(n_networks):
        sv = scale_v[b]
        sm = scale_m[b]
        bias_b = bias[b]
        trace_b = trace[b]
        for j in range(length):
            # drive: the chunk's start plus the updates so far, in the coefficient basis
            _weighted_rows(hv, within[b, j], updates[b], j if learn else 0)
            s = produced[b, j]
            _weighted_rows(hm, motor_gram[b, s], coef_m[b], n_expr)
            base_j = base[b, j]
            p0 = p0_m[b, s]
            for u in range(n):
                hv[u] = (hv[u] + base_j[u]) * sv[u]
                hm[u] = (hm[u] + p0[u]) * sm[u]
                h[u] = hv[u] + hm[u]
            sum_v = np.float32(0.0)
            sum_m = np.float32(0.0)
            for u in range(n):
                sum_v += hv[u]
                sum_m += hm[u]
            visual_out[b, j] = sum_v * inv_n
            motor_out[b, j] = sum_m * inv_n
            if gamma > 0:
                for u in range(n):
                    shifted[u] = h[u] - bias_b[u]
            else:
                shifted[:] = h
            # competition: threshold between the k-th and (k+1)-th largest, then the sigmoid
            _compete(shifted, ordered, k, kwta, two * beta[b], rates)
            rates_out[b, j] = rates
            # learning: dw = alpha r x (or the trace), renormalised analytically
            if learn:
                if eta > 0:
                    post[:] = trace_b
                else:
                    post[:] = rates
                row = coef[b, items[b, j]]
                cm = coef_m[b, s]
                upd = updates[b, j]
                xv2 = half * x2[b, j]
                xm2 = half * m2[b, s]
                for u in range(n):
                    c = post[u] * alpha
                    upd[u] = c / sv[u]
                    row[u] += upd[u]
                    cm[u] += c / sm[u]
                if joint:
                    xj2 = xv2 + xm2
                    for u in range(n):
                        c = post[u] * alpha
                        factor = target / np.sqrt((c * xj2 + h[u]) * c * two + target2)
                        sv[u] *= factor
                        sm[u] *= factor
                else:
                    for u in range(n):
                        c = post[u] * alpha
                        sv[u] *= target / np.sqrt((c * xv2 + hv[u]) * c * two + target2)
                        sm[u] *= target / np.sqrt((c * xm2 + hm[u]) * c * two + target2)
            if gamma > 0:
                step_b = bias_step[b]
                for u in range(n):
                    bias_b[u] += (rates[u] - target_rate) * step_b
            if eta > 0:
                for u in range(n):
                    trace_b[u] = trace_b[u] * eta + (one - eta) * rates[u]


@numba.njit(cache=True, error_model=_ERRORS, nogil=True)
def scale_and_flush(values, scale, below):  # pragma: no cover - compiled
    """``values[b, r, n] *= scale[b, n]``, then values under ``below`` set to 0, in one pass."""
    n_networks, n_rows, n = values.shape
    zero = np.float32(0.0)
    for b in range(n_networks):
        for r in range(n_rows):
            for u in range(n):
                v = values[b, r, u] * scale[b, u]
                values[b, r, u] = v if v >= below else zero


def compiled_loop_cached() -> bool:
    """Whether this process will load the compiled loop rather than compile it.

    False on a first run after installing, when compiling the kernels takes several seconds
    (about 6 on 2 cores) that a command should announce (:func:`dyad.numba_cache.kernels_cached`).
    """
    from dyad.numba_cache import kernels_cached

    return kernels_cached(chunk_steps, scale_and_flush)
