"""Compiled numba kernels for a competitive layer.

These are the hot loops of :class:`dyad.brain.layer.CompetitiveLayer` with the ``"numba"``
back-end: the sparse gather-dot that computes activations, the competition, and the weight
update with its renormalisation. The plain-numpy code in ``layer.py`` is the reference; tests
check that both agree.

Threads. The row loops (activation, learning, batch activations) run in parallel over blocks
of :data:`ROW_BLOCK` postsynaptic rows (``numba.prange``): each row's arithmetic is the same
whatever the number of threads, and no sum runs across rows, so the weights are bit-identical
on 1 or 2 threads (tests/brain/test_visnet.py). The competition (a partition over the sheet)
stays on one thread. The number of threads is numba's: one per core by default,
``NUMBA_NUM_THREADS`` for a process, ``numba.set_num_threads`` or :func:`threads` for a
stretch of code. Sweep workers run one thread each, so that processes, not threads, share the
cores. A pass at the classic size is short (tenths of a millisecond), so a second thread only
pays while the other core is free: on a loaded machine the pass waits for a descheduled thread.
So ``VisNet.fit`` times each epoch's first presentations on numba's threads and on one,
trains the rest of the epoch on the faster and falls back to one thread when the chosen
threads turn slow (:class:`ThreadChooser`).

Renormalisation without a second pass. The forward kernel returns, per neuron, the activation
``h = w·x``, ``‖w‖²`` and ``‖x‖²`` over the neuron's synapses. After the update
``w′ = w + a x`` (``a = α · postsynaptic factor``) the squared length is
``‖w‖² + 2 a h + a² ‖x‖²``, so the update pass writes ``w′ / ‖w′‖`` directly. ``‖w‖²`` is
measured, not assumed to be 1, so rounding does not accumulate across updates. Rows whose
postsynaptic factor is exactly 0, or whose update is negligible (see :data:`NEGLIGIBLE`), are
left untouched, as in the numpy path.

The centred rule clips weights at 0 after the update, so the new length has no closed form:
changed rows get a second pass, over a work row that is still in the first-level cache.

One sweep for the trace rule. Its postsynaptic factor (the trace before this presentation) is
known before the activation, so :func:`drive_learn_trace` and :func:`drive_learn_trace_centred`
update each row right after summing its activation, while the row is still in cache.

Indexed rows are gathered into a work row first and summed after (:func:`_drive_row`): in one
loop each indexed load waited on the sums of the one before, which made a 1,024 × 100 layer
slower than layer 1's 1,024 × 272 contiguous rows. Memory traffic is the other bound of a
learning pass at the classic size (about 5 MB per pass: layer 1's weights and pre-gathered
inputs, 1.1 MB each, and the weights and indices of layers 2–4). So indexed layers keep
16-bit indices where they fit (see ``layer._compact_indices``) and read the centred rule's x̄
per presynaptic unit through those indices, like x, instead of an (N, F) array
(:func:`_centred_row`); and work rows are allocated inside the kernels so that the compiler
can vectorise the row loops (see :func:`_work_rows`).

Sums and the update are computed in float64 and stored as float32. Besides accuracy this
avoids subnormal intermediates: rates far below threshold are ~1e-30, and their squares or
products (~1e-60) would be subnormal in float32, which is up to ~100× slower on common CPUs.

The competition (COMP inhibition, percentile threshold, sigmoid) is one fused kernel too; it
computes the inhibition as a separable direct convolution instead of the numpy path's FFT.

``fastmath`` is limited to reassociation and contraction (sums in any order, fused multiply-add);
no assumptions about NaN or infinity are made.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator

import numba
import numpy as np
from numba import types
from numba.extending import overload

# OpenMP worker threads keep libgomp's default: after a parallel region they spin for a while
# (GOMP_SPINCOUNT, 300,000 iterations) before they sleep. The threads meet once or twice per
# layer presentation, every 0.1-0.2 ms, and a sleeping worker must be woken at each meeting: on
# a 2-core KVM guest that cost 80-90 us a meeting (2026-12-02), so with sleeping workers
# (OMP_WAIT_POLICY=passive, dyad's setting before) two threads trained no faster than one
# (22.1 and 22.8 s against 22.2 and 22.0 s) and spinning ones trained in 17.4 and 17.1 s. A
# spinning worker that loses its core to another process stalls every meeting instead (three
# times slower than one thread, measured with a busy loop on the other core): ThreadChooser
# watches for that and falls back to one thread. A user's OMP_WAIT_POLICY or GOMP_SPINCOUNT
# applies as libgomp reads it. See docs/scaling.md.

_FAST = {"reassoc", "contract"}

#: An update Δw = a x with ‖Δw‖² < NEGLIGIBLE · ‖w‖², i.e. ‖Δw‖ below 2⁻²⁴ ‖w‖ (one float32
#: unit in the last place of the row's length), is not applied: it cannot change the row at
#: float32 resolution. Far-below-threshold neurons (rates ~1e-10 to 1e-30) make most rows so.
NEGLIGIBLE = 2.0**-48

#: Rows per parallel task. The row loops run over blocks of this many rows with
#: ``numba.prange``; each block allocates its own work rows once. The blocks, and each row's
#: arithmetic, do not depend on the number of threads, so results are bit-identical whatever
#: ``numba.set_num_threads`` says.
ROW_BLOCK = 32


@contextlib.contextmanager
def threads(n: int) -> Iterator[None]:
    """Run the kernels on at most ``n`` threads meanwhile (the calling thread's setting).

    The default is numba's, one thread per core (``NUMBA_NUM_THREADS`` sets it for a whole
    process). Results do not depend on ``n``: see :data:`ROW_BLOCK`.
    """
    previous = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(previous)


#: how much faster (a fraction of one thread's median time) more threads must be to be chosen
THREADS_MARGIN = 0.1

#: presentations per window over which chosen threads must stay faster than one thread
WATCH_WINDOW = 64

#: the most epochs that run on one thread, unprobed, after the chosen threads fell back
MAX_REST = 8


class ThreadChooser:
    """Run each training presentation on numba's threads or on one, whichever is faster now.

    On a shared machine a second thread helps only while the other core is free (see the
    module docstring), and that changes from minute to minute. So at the start of every epoch
    the first ``probes`` presentations run on numba's current number of threads and the next
    ``probes`` on one (the first of each run untimed: it finds the weights in the other
    setting's caches; alternating the two settings made one thread look slower than it is),
    and the rest of the epoch runs on more threads only if their median time is at least
    :data:`THREADS_MARGIN` lower than one thread's. A layer's presentation takes about
    0.1–0.25 ms, so the two settings can time within noise of each other; without the margin
    such ties went to two threads in about a third of the epochs, and training took 1.11× as
    long as on one thread (benchmarks/results/pretrain.md, 2026-12-01).

    The probes can mislead: when another process starts using the second core, or when the
    scheduler has given a woken worker thread a share of that core that it takes back a few
    milliseconds later, two threads time fast in the probes and then stall at a meeting every
    few milliseconds (a spinning worker waiting out the other process's time slice). So the
    chosen threads stay watched: when :data:`WATCH_WINDOW` presentations in a row take longer
    in all than as many at one thread's median, the rest of the epoch falls back to one
    thread. The window spans several of the scheduler's time slices, and it sums times rather
    than counting slow presentations, because a stall is one long presentation among many fast
    ones. After a fall-back the next epoch runs on one thread without probes, after a second
    one in a row the next two, then four, up to :data:`MAX_REST`; an epoch that the chosen
    threads hold out to its end resets that. Measured with a busy loop on the other core
    (2026-12-02): unwatched, training took 62 s against 22 s on one thread.

    The weights do not depend on the choice (:data:`ROW_BLOCK`), only the speed does. With one
    thread to begin with (``NUMBA_NUM_THREADS=1``, ``numba.set_num_threads(1)``, a sweep
    worker) there is nothing to choose.

    Parameters
    ----------
    probes
        Presentations timed per setting at the start of each epoch.
    clock
        Returns seconds (``time.perf_counter``); tests pass a fake one.
    """

    def __init__(self, probes: int = 8, clock: Callable[[], float] = time.perf_counter):
        self.most = numba.get_num_threads()
        self.probes = int(probes)
        self.clock = clock
        #: the number of threads chosen for the rest of each epoch, one entry per epoch
        self.choices: list[int] = []
        #: per epoch, the presentation (counted from the epoch's start) at which the chosen
        #: threads fell back to one, or None
        self.fallbacks: list[int | None] = []
        self._times: dict[int, list[float]] = {}
        self._count = 0
        self._one = 0.0  # one thread's median time this epoch; 0 when not watching
        self._spent, self._watched = 0.0, 0
        self._rest = 0  # epochs still to run on one thread without probing
        self._next_rest = 1

    def new_epoch(self) -> None:
        """Start timing both settings again, unless the last fall-back asks for a rest."""
        if self.choices and self.choices[-1] > 1 and self.fallbacks[-1] is None:
            self._next_rest = 1  # the chosen threads held out a whole epoch
        self._times = {self.most: [], 1: []}
        self._count = 0
        self._one = 0.0
        self._spent, self._watched = 0.0, 0
        if self._rest and self.most > 1:
            self._rest -= 1
            self._count = 2 * self.probes  # no probes: the epoch runs on one thread
            numba.set_num_threads(1)
            self.choices.append(1)
            self.fallbacks.append(None)

    def run(self, present: Callable[[], object]) -> None:
        """Call ``present()`` (one presentation) on the threads chosen for it."""
        if self.most == 1:
            present()
            return
        if self._count < 2 * self.probes:
            self._probe(present)
            return
        self._count += 1
        if not self._one:
            present()
            return
        started = self.clock()
        present()
        self._spent += self.clock() - started
        self._watched += 1
        if self._watched < WATCH_WINDOW:
            return
        if self._spent > WATCH_WINDOW * self._one:
            numba.set_num_threads(1)
            self._one = 0.0
            self.fallbacks[-1] = self._count
            self._rest = self._next_rest
            self._next_rest = min(2 * self._next_rest, MAX_REST)
        self._spent, self._watched = 0.0, 0

    def _probe(self, present: Callable[[], object]) -> None:
        n = self.most if self._count < self.probes else 1
        numba.set_num_threads(n)
        started = self.clock()
        present()
        if self._count % self.probes:  # the first of each run warms the caches up
            self._times[n].append(self.clock() - started)
        self._count += 1
        if self._count < 2 * self.probes:
            numba.set_num_threads(self.most)
            return
        many, one = (float(np.median(self._times[k])) for k in (self.most, 1))
        faster = self.most if many < (1.0 - THREADS_MARGIN) * one else 1
        numba.set_num_threads(faster)
        self.choices.append(faster)
        self.fallbacks.append(None)
        self._one = one if faster > 1 else 0.0

    def close(self) -> None:
        """Give numba back the number of threads it had."""
        numba.set_num_threads(self.most)


# Row helpers take ``presynaptic=None`` for inputs that are already gathered, (N, F), and a
# (N, F) index array for a (1, n_pre) rate vector read through it. Each has one implementation
# per case, chosen when the kernel is compiled (an overload on the argument's type): a runtime
# flag with both loops in one kernel stops the compiler from vectorising the row loops around
# it (measured: learning ~1.6× slower). Each helper's Python body is the reference that its
# compiled implementations are tested against (tests/brain/test_layer.py).


def _drive_row(x, presynaptic, weights, i, out):
    """(h, ‖w‖², ‖x‖²) of neuron i.

    Indexed inputs are first gathered into ``out``, an (F,) float64 work row, and then summed:
    the loads of a gather alone do not wait on one another, while in a loop that gathers and
    sums each load waits for the sums of the one before (measured: 0.26 → 0.09 ms for a
    1,024 × 100 layer). Afterwards ``out`` holds the row's inputs, as from :func:`_row_inputs`.
    """
    if presynaptic is not None:
        out[:] = x[0, presynaptic[i]]
    inputs = np.asarray(x[i] if presynaptic is None else out, np.float64)
    row = np.asarray(weights[i], np.float64)
    return float(row @ inputs), float(row @ row), float(inputs @ inputs)


def _row_inputs(x, presynaptic, i, out):
    """Return neuron i's inputs as a contiguous row.

    That is x[i] if the inputs are gathered, else the inputs gathered into ``out``, an (F,)
    float64 work row.
    """
    if presynaptic is None:
        return x[i]
    out[:] = x[0, presynaptic[i]]
    return out


@overload(_drive_row, inline="always")
def _drive_row_impl(x, presynaptic, weights, i, out):  # pragma: no cover
    if isinstance(presynaptic, types.NoneType):

        def drive_row(x, presynaptic, weights, i, out):
            h = 0.0
            ww = 0.0
            xx = 0.0
            for j in range(weights.shape[1]):
                v = np.float64(x[i, j])
                w = np.float64(weights[i, j])
                h += w * v
                ww += w * w
                xx += v * v
            return h, ww, xx

    else:

        def drive_row(x, presynaptic, weights, i, out):
            for j in range(out.shape[0]):
                out[j] = x[0, presynaptic[i, j]]
            h = 0.0
            ww = 0.0
            xx = 0.0
            for j in range(weights.shape[1]):
                v = out[j]
                w = np.float64(weights[i, j])
                h += w * v
                ww += w * w
                xx += v * v
            return h, ww, xx

    return drive_row


@overload(_row_inputs, inline="always")
def _row_inputs_impl(x, presynaptic, i, out):  # pragma: no cover
    if isinstance(presynaptic, types.NoneType):

        def row_inputs(x, presynaptic, i, out):
            return x[i]

    else:

        def row_inputs(x, presynaptic, i, out):
            for j in range(out.shape[0]):
                out[j] = x[0, presynaptic[i, j]]
            return out

    return row_inputs


def _centred_row(x, presynaptic, mean, i, out):
    """Write neuron i's centred inputs x_i − x̄_i into ``out``, an (F,) float64 work row.

    x̄ is (N, F) per synapse, or (n_pre,) per presynaptic unit, read through ``presynaptic``
    like x: the same values (x̄ of a synapse is the mean of its unit), a few KB instead of
    N × F × 4 bytes streamed per learning pass.
    """
    if presynaptic is None:
        out[:] = np.asarray(x[i], np.float64) - mean[i]
    elif mean.ndim == 1:
        units = presynaptic[i]
        out[:] = np.asarray(x[0, units], np.float64) - mean[units]
    else:
        out[:] = np.asarray(x[0, presynaptic[i]], np.float64) - mean[i]


@overload(_centred_row, inline="always")
def _centred_row_impl(x, presynaptic, mean, i, out):  # pragma: no cover
    if isinstance(presynaptic, types.NoneType):

        def centred_row(x, presynaptic, mean, i, out):
            for j in range(out.shape[0]):
                out[j] = np.float64(x[i, j]) - np.float64(mean[i, j])

    elif mean.ndim == 1:

        def centred_row(x, presynaptic, mean, i, out):
            for j in range(out.shape[0]):
                unit = presynaptic[i, j]
                out[j] = np.float64(x[0, unit]) - np.float64(mean[unit])

    else:

        def centred_row(x, presynaptic, mean, i, out):
            for j in range(out.shape[0]):
                out[j] = np.float64(x[0, presynaptic[i, j]]) - np.float64(mean[i, j])

    return centred_row


@numba.njit(cache=True, fastmath=_FAST, nogil=True, parallel=True)
def drive_norms(x, presynaptic, weights, drive, weight_sq, input_sq):  # pragma: no cover
    """Compute the activations and squared lengths for one input.

    The lengths let :func:`learn` renormalise in closed form, without another pass.

    Parameters
    ----------
    x : (1, n_pre) or (N, F) float ndarray
        The presynaptic rates, read through ``presynaptic``; or, when ``presynaptic`` is None,
        the N neurons' F inputs already gathered.
    presynaptic : (N, F) int ndarray or None
        Each neuron's presynaptic units (16- or 32-bit indices).
    weights : (N, F) float32 ndarray
        Each neuron's synaptic weights.
    drive, weight_sq, input_sq : (N,) float64 ndarray
        Output: the activation h = w·x, ‖w‖² and ‖x‖² of each neuron.
    """
    n = weights.shape[0]
    for block in numba.prange(_n_blocks(n)):
        inputs, _ = _work_rows(weights.shape[1])
        for i in _block_rows(block, n):
            drive[i], weight_sq[i], input_sq[i] = _drive_row(x, presynaptic, weights, i, inputs)


@numba.njit(cache=True, nogil=True, inline="always")
def _n_blocks(n):  # pragma: no cover
    """Blocks of :data:`ROW_BLOCK` rows that cover ``n`` rows."""
    return (n + ROW_BLOCK - 1) // ROW_BLOCK


@numba.njit(cache=True, nogil=True, inline="always")
def _block_rows(block, n):  # pragma: no cover
    """Return the rows of block ``block``: block · ROW_BLOCK up to (not incl.) the next block."""
    return range(block * ROW_BLOCK, min(n, (block + 1) * ROW_BLOCK))


@numba.njit(cache=True, nogil=True, inline="always")
def _step_size(post, i, rate):  # pragma: no cover
    """Row i's a = α post_i, or 0 when post_i is 0 (the row does not learn)."""
    p = post[i]
    return rate * np.float64(p) if p != 0.0 else 0.0


@numba.njit(cache=True, fastmath=_FAST, nogil=True, inline="always")
def _work_rows(fan_in):  # pragma: no cover
    """Two (F,) float64 rows of work space: a row's inputs and its updated weights.

    Allocated inside the compiled kernel (once per call, not per row) rather than passed in:
    the compiler then knows they overlap no other array and vectorises the row loops, which it
    does not do for work arrays that arrive as arguments (measured: learning ~1.8× faster).
    """
    return np.empty(fan_in), np.empty(fan_in)


@numba.njit(cache=True, fastmath=_FAST, nogil=True, inline="always")
def _learn_row(inputs, weights, i, a, h, ww, xx):  # pragma: no cover
    """Row i of the classic rule: w_i ← (w_i + a x_i) / ‖·‖ in closed form from h, ‖w‖², ‖x‖²."""
    length_sq = ww + 2.0 * a * h + a * a * xx
    if length_sq <= 0.0:
        return
    scale = 1.0 / math.sqrt(length_sq)
    step = a * scale
    for j in range(inputs.shape[0]):
        weights[i, j] = weights[i, j] * scale + step * np.float64(inputs[j])


@numba.njit(cache=True, fastmath=_FAST, nogil=True, inline="always")
def _learn_row_centred(centred, weights, i, a, row):  # pragma: no cover
    """Row i of the centred rule, w_i ← max(w_i + a (x_i − x̄_i), 0) / ‖·‖, from x_i − x̄_i."""
    length_sq = 0.0
    for j in range(centred.shape[0]):
        w = np.float64(weights[i, j]) + a * centred[j]
        w = w if w > 0.0 else 0.0
        row[j] = w
        length_sq += w * w
    scale = 1.0 / math.sqrt(length_sq) if length_sq > 0.0 else 1.0
    for j in range(centred.shape[0]):
        weights[i, j] = row[j] * scale


@numba.njit(cache=True, fastmath=_FAST, nogil=True, inline="always")
def _negligible(a, ww, xx):  # pragma: no cover
    """Whether the classic update a x is below float32 resolution: a ‖x‖ < 2⁻²⁴ ‖w‖."""
    return a * a * xx < NEGLIGIBLE * ww


@numba.njit(cache=True, fastmath=_FAST, nogil=True, inline="always")
def _negligible_centred(a, ww, xx, mean_norm):  # pragma: no cover
    """Whether a centred update is below float32 resolution.

    Judged by the bound ‖a (x − x̄)‖ ≤ a (‖x‖ + ‖x̄‖), which needs no extra pass over the
    synapses.
    """
    bound = a * (math.sqrt(xx) + mean_norm)
    return bound * bound < NEGLIGIBLE * ww


@numba.njit(cache=True, fastmath=_FAST, nogil=True, inline="always")
def _drive_row_trace(
    x, presynaptic, weights, i, inputs, trace, rate, drive, weight_sq, input_sq
):  # pragma: no cover
    """Sum row i, store its (h, ‖w‖², ‖x‖²), and return them with its trace-rule step a.

    a = α ȳ_i, 0 when the trace is 0 (the row does not learn). ``inputs`` is the work row of
    :func:`_drive_row`.
    """
    h, ww, xx = _drive_row(x, presynaptic, weights, i, inputs)
    drive[i] = h
    weight_sq[i] = ww
    input_sq[i] = xx
    return h, ww, xx, _step_size(trace, i, rate)


# The classic and centred rules get separate kernels rather than one with a runtime flag: with
# both row updates in one loop the compiler stops vectorising them (measured: ~1.6× slower).


@numba.njit(cache=True, fastmath=_FAST, nogil=True, parallel=True)
def learn(x, presynaptic, weights, post, rate, drive, weight_sq, input_sq):  # pragma: no cover
    """Apply the classic rule w_i ← (w_i + α post_i x_i) / ‖·‖ for post_i ≠ 0, in place.

    Rows with post_i = 0, or whose update is below float32 resolution (:data:`NEGLIGIBLE`),
    are left untouched.

    Parameters
    ----------
    x, presynaptic, weights
        As in :func:`drive_norms`; ``weights`` is updated in place.
    post : (N,) float32 ndarray
        The postsynaptic factor: the rates (Hebb rule) or the trace (trace rule).
    rate : float
        The learning rate α.
    drive, weight_sq, input_sq : (N,) float64 ndarray
        The forward pass's sums for the same ``x`` and ``weights`` (:func:`drive_norms`),
        which give the new length in closed form.
    """
    n = weights.shape[0]
    for block in numba.prange(_n_blocks(n)):
        inputs, _ = _work_rows(weights.shape[1])
        for i in _block_rows(block, n):
            a = _step_size(post, i, rate)
            if a != 0.0 and not _negligible(a, weight_sq[i], input_sq[i]):
                row_x = _row_inputs(x, presynaptic, i, inputs)
                _learn_row(row_x, weights, i, a, drive[i], weight_sq[i], input_sq[i])


@numba.njit(cache=True, fastmath=_FAST, nogil=True, parallel=True)
def learn_centred(
    x, presynaptic, weights, mean, mean_norm, post, rate, weight_sq, input_sq
):  # pragma: no cover
    """Apply the centred rule w_i ← max(w_i + α post_i (x_i − x̄_i), 0) / ‖·‖ for post_i ≠ 0.

    The weights are updated in place. The clip at 0 breaks the closed form of the new length,
    so each changed row takes a second pass, over a work row still in cache.

    Parameters
    ----------
    x, presynaptic, weights
        As in :func:`drive_norms`; ``weights`` is updated in place.
    mean : (N, F) or (n_pre,) float32 ndarray
        The mean input x̄: per synapse, or, with ``presynaptic``, per presynaptic unit.
    mean_norm : (N,) float64 ndarray
        ‖x̄_i‖ of each neuron, for the negligible-update test.
    post, rate, weight_sq, input_sq
        As in :func:`learn`.
    """
    n = weights.shape[0]
    for block in numba.prange(_n_blocks(n)):
        inputs, row = _work_rows(weights.shape[1])
        for i in _block_rows(block, n):
            a = _step_size(post, i, rate)
            if a != 0.0 and not _negligible_centred(a, weight_sq[i], input_sq[i], mean_norm[i]):
                _centred_row(x, presynaptic, mean, i, inputs)
                _learn_row_centred(inputs, weights, i, a, row)


@numba.njit(cache=True, fastmath=_FAST, nogil=True, parallel=True)
def drive_learn_trace(
    x, presynaptic, weights, trace, rate, drive, weight_sq, input_sq
):  # pragma: no cover
    """Forward sums and classic trace-rule learning in one sweep over the rows.

    With the trace rule the postsynaptic factor is the trace *before* this presentation, known
    before the activation is computed, and row i's update needs nothing from other rows. So
    each row is updated right after its activation is summed, while its weights and inputs are
    still in the first-level cache, instead of in a second sweep. Same arithmetic as
    :func:`drive_norms` followed by :func:`learn` with ``post = trace`` (tests check that the
    results agree); ``drive`` holds the activation with the weights *before* the update.
    """
    n = weights.shape[0]
    for block in numba.prange(_n_blocks(n)):
        inputs, _ = _work_rows(weights.shape[1])
        for i in _block_rows(block, n):
            h, ww, xx, a = _drive_row_trace(
                x, presynaptic, weights, i, inputs, trace, rate, drive, weight_sq, input_sq
            )
            if a != 0.0 and not _negligible(a, ww, xx):
                _learn_row(_row_inputs(x, presynaptic, i, inputs), weights, i, a, h, ww, xx)


@numba.njit(cache=True, fastmath=_FAST, nogil=True, parallel=True)
def drive_learn_trace_centred(
    x, presynaptic, weights, mean, mean_norm, trace, rate, drive, weight_sq, input_sq
):  # pragma: no cover
    """As :func:`drive_learn_trace` with the centred rule (:func:`learn_centred`)."""
    n = weights.shape[0]
    for block in numba.prange(_n_blocks(n)):
        inputs, row = _work_rows(weights.shape[1])
        for i in _block_rows(block, n):
            _, ww, xx, a = _drive_row_trace(
                x, presynaptic, weights, i, inputs, trace, rate, drive, weight_sq, input_sq
            )
            if a != 0.0 and not _negligible_centred(a, ww, xx, mean_norm[i]):
                _centred_row(x, presynaptic, mean, i, inputs)
                _learn_row_centred(inputs, weights, i, a, row)


@numba.njit(cache=True, fastmath=_FAST, nogil=True, parallel=True)
def batch_drive(x, presynaptic, weights, out):  # pragma: no cover
    """Compute the activations for a batch: x (n, n_pre) float32 → out (n, N) float32."""
    n, f = weights.shape
    blocks = _n_blocks(n)
    for task in numba.prange(x.shape[0] * blocks):
        b, block = divmod(np.int64(task), blocks)
        row = x[b]
        inputs, _ = _work_rows(f)
        for i in _block_rows(block, n):
            for j in range(f):  # gather first, then sum (see _drive_row)
                inputs[j] = row[presynaptic[i, j]]
            h = 0.0
            for j in range(f):
                h += np.float64(weights[i, j]) * inputs[j]
            out[b, i] = h


@numba.njit(cache=True, fastmath=_FAST, nogil=True, parallel=True)
def batch_drive_gathered(gathered, weights, out):  # pragma: no cover
    """Compute the activations for a pre-gathered batch: (n, N, F) float32 → out (n, N)."""
    n, f = weights.shape
    blocks = _n_blocks(n)
    for task in numba.prange(gathered.shape[0] * blocks):
        b, block = divmod(np.int64(task), blocks)
        for i in _block_rows(block, n):
            h = 0.0
            for j in range(f):
                h += np.float64(weights[i, j]) * np.float64(gathered[b, i, j])
            out[b, i] = h


@numba.njit(cache=True, fastmath=_FAST, nogil=True)
def compete(
    drive, side, profile, centre_gain, contrast, k, slope, relative, rates, inhibited, scratch
):  # pragma: no cover
    """Apply COMP inhibition, the percentile threshold and the sigmoid to one input, fused.

    The COMP filter is ``−δ G + (1 + δ ΣG) e₀`` with ``G(a, b) = g(a) g(b)`` a separable
    Gaussian, so ``h′ = (1 + δ ΣG) h − δ (G ⊛ h)`` is computed as two circular 1-D passes
    (indices wrap, so a filter wider than the sheet aliases exactly as the 2-D wrap does).

    Parameters
    ----------
    drive : (N,) float64 ndarray
        The activations h of the side × side sheet, N = side².
    side : int
        The sheet's side in neurons.
    profile : (W,) float64 ndarray
        The 1-D Gaussian g of the inhibition filter.
    centre_gain : float
        1 + δ ΣG.
    contrast : float
        δ, the inhibition's contrast.
    k : int
        Neurons above the percentile threshold (the winners).
    slope : float
        The sigmoid's slope β, or β′ in units of the sheet's spread if ``relative``.
    relative : bool
        Divide the slope by the standard deviation of h′, so that the sparseness does not
        depend on the input's scale.
    rates : (N,) float32 ndarray
        Output: the firing rates; values below the smallest normal float32 are set to 0.
    inhibited : (N,) float64 ndarray
        Output: h′, the activations after inhibition.
    scratch : (N,) float64 ndarray
        Work space.
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
    """Update the trace ȳ ← η ȳ + (1 − η) r in place, in float32.

    Values below the smallest normal float32 are set to 0, so that decaying traces never
    become subnormal (up to ~100× slower arithmetic).
    """
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
    weights,
    learn_now,
    hebb,
    centred,
    mean,
    mean_norm,
    rate,
    eta,
    trace,
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
    """Present one input in one compiled call: activation, competition and, if asked, learning.

    Parameters
    ----------
    presyn : (1, n_pre) or (N, F) float ndarray
        The presynaptic rates read through ``presynaptic``, or the (N, F) pre-gathered values
        when ``presynaptic`` is None (``x`` of :func:`drive_norms`).
    presynaptic, weights
        As in :func:`drive_norms`.
    learn_now : bool
        Update the weights (and the trace) after the competition.
    hebb : bool
        The Hebb rule (post = the new rates) if True, else the trace rule, which uses
        ``trace`` before updating it and learns in the same sweep as the activation
        (:func:`drive_learn_trace`).
    centred : bool
        Learn with x − x̄ (:func:`learn_centred`) instead of x.
    mean, mean_norm
        x̄ and ‖x̄_i‖ for the centred rule (see :func:`learn_centred`).
    rate : float
        The learning rate α.
    eta : float
        The trace's η (:func:`update_trace`).
    trace : (N,) float32 ndarray
        The trace ȳ, updated in place when learning.
    side, profile, centre_gain, contrast, k, slope, relative, rates, inhibited, scratch
        The competition's arguments (:func:`compete`).
    drive, weight_sq, input_sq : (N,) float64 ndarray
        Output of the forward pass (:func:`drive_norms`).
    """
    if learn_now and not hebb:
        if centred:
            drive_learn_trace_centred(
                presyn,
                presynaptic,
                weights,
                mean,
                mean_norm,
                trace,
                rate,
                drive,
                weight_sq,
                input_sq,
            )
        else:
            drive_learn_trace(presyn, presynaptic, weights, trace, rate, drive, weight_sq, input_sq)
    else:
        drive_norms(presyn, presynaptic, weights, drive, weight_sq, input_sq)
    compete(
        drive, side, profile, centre_gain, contrast, k, slope, relative, rates, inhibited, scratch
    )
    if learn_now:
        if hebb and centred:
            learn_centred(
                presyn,
                presynaptic,
                weights,
                mean,
                mean_norm,
                rates,
                rate,
                weight_sq,
                input_sq,
            )
        elif hebb:
            learn(presyn, presynaptic, weights, rates, rate, drive, weight_sq, input_sq)
        update_trace(trace, rates, eta)
