"""One competitive VisNet layer: connectivity, activation, competition and learning.

A layer is a toroidal sheet of ``side × side`` neurons (model.md §4–6). Each neuron has a
fixed set of presynaptic units (Gaussian topological sampling, no duplicates) and a weight
vector of unit L2 length. Presenting one input:

1. activation ``h_i = Σ_j w_ij r_j`` over the neuron's synapses (a sparse gather-dot);
2. lateral inhibition ``h′ = I ⊛ h``, a circular convolution with a centre-surround filter
   that sums to 1 (§5.2);
3. threshold ``θ`` = the k-th largest ``h′`` with ``k = int(N (1 − p))`` (§5.3);
4. rate ``r_i = 1 / (1 + exp(−2β (h′_i − θ)))`` (§5.4);
5. learning (optional): Hebb ``Δw_ij = α r_i x_j`` or trace ``Δw_ij = α ȳ_i x_j`` with the trace
   taken *before* it is updated to ``ȳ ← η ȳ + (1 − η) r`` (§6.1), then each changed weight
   row is rescaled to unit length (§6.2). A row whose update is below float32 resolution
   (‖Δw‖ < 2⁻²⁴ ‖w‖, e.g. a neuron far below threshold with rate 1e-20) is left as it is; so is
   a row whose postsynaptic factor is 0 (the trace on an object's first transform).

   With ``centre_inputs`` the rule is presynaptically centred ("covariance"):
   ``Δw_ij = α ȳ_i (x_ij − x̄_ij)`` with ``x̄`` the mean input of each synapse over the training
   set (:meth:`CompetitiveLayer.set_input_mean`), then weights below 0 are set to 0 and each
   changed row is rescaled to unit length. Centring removes what every input shares (for faces:
   outline, hair, eyes), so winners for different objects do not all drift towards the same
   common pattern; the clip keeps weights excitatory. Only learning uses ``x − x̄``; the
   activation is still ``w·x``.

   With a ``conscience`` γ > 0 (DeSieno 1988) each neuron's activation is lowered by a bias
   ``b_i`` before the competition while the layer learns, and after each presentation
   ``b_i ← b_i + γ σ(h) (r_i − k/N)``, σ(h) the spread of that presentation's activations:
   a neuron that wins more than its share k/N of the inputs becomes harder to drive, one that
   wins less easier. Without it a set of neurons that wins the first images of several similar
   objects keeps winning them all and learns their mean, and the layer keeps only the coarsest
   distinctions (docs/results.md, "More than two expressions"). The bias is part of the neuron,
   its excitability, as the mirror layer's is: it also lowers the activation in every response
   after learning, and :meth:`CompetitiveLayer.reset_bias` clears it before a layer learns.
   Dropping it after learning, as DeSieno's rule does for a classifier, hands the inputs back to
   the neurons that had captured several objects: the neurons the bias let win a third
   expression then lose it again, and layer 4 falls back to the merged code (happy, sad and
   fear: 7 layer-4 cells for fear alone without it, 189 with it; docs/results.md).

Two back-ends: ``"numpy"`` (the reference, plain vectorised numpy; inhibition by FFT) and
``"numba"`` (compiled kernels in :mod:`dyad.brain.kernels`, several times faster; inhibition as
a separable direct convolution). Both agree to float32 rounding; tests check it.

Presynaptic inputs are given either as the presynaptic rate vector ``(n_pre,)`` (gathered
through ``presynaptic``) or already gathered, ``(N, fan_in)`` — layer 1 of VisNet pre-gathers
the V1 values its synapses read so training does not touch whole V1 stacks (model.md §14).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np

from dyad.brain.connectivity import inhibition_filter, wrap_filter
from dyad.errors import ConfigError

#: Updates smaller than one float32 ulp of the row length are not applied (both back-ends):
#: ‖Δw‖² < NEGLIGIBLE · ‖w‖². See :data:`dyad.brain.kernels.NEGLIGIBLE`.
NEGLIGIBLE = 2.0**-48

# Presynaptic vectors up to this length are converted to float64 before compiled batch passes.
_WIDEN_LIMIT = 1 << 16

Backend = Literal["numpy", "numba"]
SlopeMode = Literal["absolute", "relative"]
Rule = Literal["trace", "hebb"]


def n_winners(n_neurons: int, sparseness: float) -> int:
    """Return the number of cells at or above threshold: ``k = int(N (1 − p))`` (model.md §5.3)."""
    return int(n_neurons * (1.0 - sparseness))


def unit_rows(weights: np.ndarray) -> np.ndarray:
    """Scale each row to unit L2 length in place (rows of zeros stay zero); returns it."""
    norms = np.sqrt(np.einsum("ij,ij->i", weights, weights, dtype=np.float64))
    scale = np.divide(1.0, norms, out=np.ones_like(norms), where=norms > 0)
    weights *= scale.astype(weights.dtype)[:, None]
    return weights


class CompetitiveLayer:
    """A competitive layer with fixed sparse connectivity and plastic weights.

    Parameters
    ----------
    presynaptic
        (N, fan_in) presynaptic indices (stored as uint16 when they fit, else
        int32; see :func:`_compact_indices`).
    weights
        (N, fan_in) float32 weights, copied.
    side
        sheet side; N = side².
    inhibition_radius, inhibition_contrast, inhibition_width
        COMP filter (§5.2).
    sparseness
        p; k = int(N (1 − p)) cells reach threshold.
    slope
        β of the sigmoid.
    slope_mode
        ``"absolute"`` applies β to raw ``h′ − θ`` (classic); ``"relative"``
        divides ``h′ − θ`` by the standard deviation of ``h′`` over the layer for the
        same input first, so β is in units of that spread.
    learning_rate
        α.
    rule
        ``"trace"`` or ``"hebb"``.
    trace_eta
        η of the trace.
    backend
        ``"numpy"`` or ``"numba"``.
    centre_inputs
        learn with ``x − x̄`` and clip weights at 0 (see the module docstring).
        ``x̄`` (:attr:`input_mean`) starts at 0, i.e. no centring, until
        :meth:`set_input_mean` sets it from the training inputs.
    conscience
        γ of the conscience bias while learning (0: none; see the module docstring).
    """

    def __init__(
        self,
        presynaptic: np.ndarray,
        weights: np.ndarray,
        *,
        side: int,
        inhibition_radius: float,
        inhibition_contrast: float,
        inhibition_width: int,
        sparseness: float,
        slope: float,
        slope_mode: SlopeMode = "absolute",
        learning_rate: float = 0.1,
        rule: Rule = "trace",
        trace_eta: float = 0.8,
        backend: Backend = "numpy",
        centre_inputs: bool = False,
        conscience: float = 0.0,
    ):
        self.side = int(side)
        self.n_neurons = self.side * self.side
        self.presynaptic = _compact_indices(presynaptic)
        self.weights = np.array(weights, dtype=np.float32, order="C", copy=True)
        if self.presynaptic.shape != self.weights.shape or self.weights.shape[0] != (
            self.n_neurons
        ):
            raise ValueError(
                f"presynaptic {self.presynaptic.shape} and weights {self.weights.shape} must "
                f"both be ({self.n_neurons}, fan_in)"
            )
        self.fan_in = self.weights.shape[1]
        self.filter = inhibition_filter(inhibition_radius, inhibition_contrast, inhibition_width)
        self._filter_spectrum = np.fft.rfft2(wrap_filter(self.filter, self.side)).astype(
            np.complex64
        )
        self.k = n_winners(self.n_neurons, sparseness)
        if self.k < 1:
            raise ConfigError(f"sparseness: leaves no winner in a layer of {self.n_neurons}")
        self.slope = float(slope)
        self.slope_mode = slope_mode
        self.learning_rate = float(learning_rate)
        self.rule = rule
        self.trace_eta = float(trace_eta)
        self.backend = backend
        self.centre_inputs = bool(centre_inputs)
        #: x̄, (N, fan_in) float32: each synapse's mean input (centred rule only, else None)
        self.input_mean: np.ndarray | None = (
            np.zeros(self.weights.shape, dtype=np.float32) if self.centre_inputs else None
        )
        self._mean_norm = np.zeros(self.n_neurons, dtype=np.float64)
        self._unit_mean = self._per_unit(self.input_mean) if self.centre_inputs else None
        self._no_mean = np.zeros((0, 0), dtype=np.float32)
        self.trace = np.zeros(self.n_neurons, dtype=np.float32)
        self._post = np.zeros(self.n_neurons, dtype=np.float32)
        self.conscience = float(conscience)
        #: the conscience bias b, (N,) float64: subtracted from h in every step and response
        #: of a layer with γ > 0; only learning changes it
        self.bias = np.zeros(self.n_neurons, dtype=np.float64)
        self._biased = np.zeros(self.n_neurons, dtype=np.float64)
        # Per-neuron sums from the compiled forward pass (float64, see dyad.brain.kernels).
        self._drive = np.zeros(self.n_neurons, dtype=np.float64)
        self._weight_sq = np.zeros(self.n_neurons, dtype=np.float64)
        self._input_sq = np.zeros(self.n_neurons, dtype=np.float64)
        self._inhibited = np.zeros(self.n_neurons, dtype=np.float64)
        self._scratch = np.zeros(self.n_neurons, dtype=np.float64)
        # Separable form of the COMP filter for the compiled path: −δ g⊗g + (1 + δ Σ g⊗g) e₀.
        half = inhibition_width // 2
        offsets = np.arange(-half, half + 1, dtype=np.float64)
        self._profile = np.exp(-(offsets**2) / inhibition_radius**2)
        self._contrast = float(inhibition_contrast)
        self._centre_gain = 1.0 + self._contrast * float(self._profile.sum() ** 2)
        if backend not in ("numpy", "numba"):
            raise ValueError(f"backend: expected 'numpy' or 'numba', got {backend!r}")

    @property
    def _kernels(self):
        """The compiled kernels, imported with numba on the first compiled call, not before."""
        from dyad.brain import kernels

        return kernels

    # -- centring ----------------------------------------------------------------------------

    def set_input_mean(self, inputs: np.ndarray, *, gathered: bool = False) -> np.ndarray:
        """Set x̄ to the mean input of each synapse over a set of presentations.

        Parameters
        ----------
        inputs
            (n, n_pre) presynaptic rates, or (n, N, fan_in) if ``gathered``; in VisNet,
            every training presentation of this layer (the layers below are frozen).

        Returns
        -------
        np.ndarray
            The new :attr:`input_mean`, (N, fan_in) float32.
        """
        if not self.centre_inputs:
            raise ValueError("set_input_mean: this layer learns with centre_inputs=False")
        inputs = np.asarray(inputs, dtype=np.float32)
        if gathered:
            if inputs.ndim != 3 or inputs.shape[1:] != self.weights.shape or not len(inputs):
                raise ValueError(
                    f"inputs: expected shape (n, {self.n_neurons}, {self.fan_in}), "
                    f"got {inputs.shape}"
                )
            mean = inputs.mean(axis=0, dtype=np.float64)
        else:
            if inputs.ndim != 2 or not len(inputs):
                raise ValueError(f"inputs: expected shape (n, n_pre), got {inputs.shape}")
            mean = inputs.mean(axis=0, dtype=np.float64)[self.presynaptic]
        self.load_input_mean(mean)
        return self.input_mean  # type: ignore[return-value]

    def load_input_mean(self, mean: np.ndarray) -> None:
        """Set x̄ directly, e.g. from a saved network: (N, fan_in), finite."""
        mean = np.asarray(mean)
        if mean.shape != self.weights.shape or not np.all(np.isfinite(mean)):
            raise ValueError(
                f"input_mean: expected finite values of shape {self.weights.shape}, got "
                f"{mean.shape}"
            )
        self.input_mean = np.ascontiguousarray(mean, dtype=np.float32)
        self._mean_norm = np.sqrt(
            np.einsum("ij,ij->i", self.input_mean, self.input_mean, dtype=np.float64)
        )
        self._unit_mean = self._per_unit(self.input_mean)

    def _per_unit(self, mean: np.ndarray) -> np.ndarray | None:
        """x̄ as one value per presynaptic unit, if every synapse from a unit has the same x̄.

        That holds for a mean set from presynaptic rates (x̄ of a synapse is the mean rate of
        its unit). The compiled path then reads x̄ through the synapse indices, as it reads x,
        from a vector of a few KB instead of the (N, fan_in) array: the same values, less
        memory traffic. None if the values differ (e.g. an arbitrary loaded x̄).
        """
        if self.backend != "numba" or self.fan_in == 0:
            return None
        units = np.zeros(int(self.presynaptic.max()) + 1, dtype=np.float32)
        units[self.presynaptic] = mean
        return units if np.array_equal(units[self.presynaptic], mean) else None

    # -- competition (numpy reference) ---------------------------------------------------

    def inhibit(self, drive: np.ndarray) -> np.ndarray:
        """Circular convolution with the COMP filter: (..., N) → (..., N) float32."""
        lead = drive.shape[:-1]
        sheet = drive.reshape(*lead, self.side, self.side)
        spectrum = np.fft.rfft2(sheet) * self._filter_spectrum
        out = np.fft.irfft2(spectrum, s=(self.side, self.side))
        return out.reshape(*lead, self.n_neurons).astype(np.float32, copy=False)

    def compete(self, inhibited: np.ndarray) -> np.ndarray:
        """Percentile threshold and sigmoid: (..., N) h′ → (..., N) float32 rates in (0, 1)."""
        n = self.n_neurons
        threshold = np.partition(inhibited, n - self.k, axis=-1)[..., n - self.k, None]
        excess = inhibited - threshold
        if self.slope_mode == "relative":
            spread = inhibited.std(axis=-1, keepdims=True)
            spread = np.where(spread > 0, spread, np.float32(1.0))
            excess = excess / spread
        gain = np.float32(-2.0 * self.slope)
        with np.errstate(over="ignore"):
            rates = 1.0 / (1.0 + np.exp(gain * excess))
        rates = rates.astype(np.float32, copy=False)
        _flush_subnormal(rates)
        return rates

    # -- activation -----------------------------------------------------------------------

    def gather(self, presyn_rates: np.ndarray) -> np.ndarray:
        """Presynaptic values each synapse reads: (..., n_pre) → (..., N, fan_in) float32."""
        return np.asarray(presyn_rates, dtype=np.float32)[..., self.presynaptic]

    def drive(self, presyn_rates: np.ndarray, *, chunk: int = 16) -> np.ndarray:
        """Activations for a batch: (n, n_pre) presynaptic rates → (n, N) float32 h."""
        presyn_rates = np.ascontiguousarray(presyn_rates, dtype=np.float32)
        n = presyn_rates.shape[0]
        out = np.empty((n, self.n_neurons), dtype=np.float32)
        if self.backend == "numba":
            self._kernels.batch_drive(presyn_rates, self.presynaptic, self.weights, out)
            return out
        for start in range(0, n, chunk):
            gathered = presyn_rates[start : start + chunk, self.presynaptic]
            out[start : start + chunk] = np.einsum("nij,ij->ni", gathered, self.weights)
        return out

    def drive_gathered(self, gathered: np.ndarray) -> np.ndarray:
        """Activations for pre-gathered inputs: (n, N, fan_in) → (n, N) float32 h."""
        gathered = np.asarray(gathered, dtype=np.float32)
        if self.backend == "numba":
            out = np.empty((gathered.shape[0], self.n_neurons), dtype=np.float32)
            self._kernels.batch_drive_gathered(np.ascontiguousarray(gathered), self.weights, out)
            return out
        return np.einsum("nij,ij->ni", gathered, self.weights)

    def respond(self, presyn_rates: np.ndarray, *, gathered: bool = False) -> np.ndarray:
        """Rates for a batch with learning off.

        Parameters
        ----------
        presyn_rates
            (n, n_pre) presynaptic rates, or (n, N, fan_in) if ``gathered``.

        Returns
        -------
        np.ndarray
            (n, N) float32 rates.
        """
        if self.backend == "numba":
            n = presyn_rates.shape[0]
            drive = np.empty((n, self.n_neurons), dtype=np.float64)
            if gathered:
                gathered_rates = np.ascontiguousarray(presyn_rates, dtype=np.float32)
                self._kernels.batch_drive_gathered(gathered_rates, self.weights, drive)
            else:
                # Small rate vectors (layers) are widened to float64 once; whole V1 stacks stay
                # float32 so a batch does not double in memory.
                wide = presyn_rates.shape[-1] <= _WIDEN_LIMIT
                dtype = np.float64 if wide else np.float32
                source = np.ascontiguousarray(presyn_rates, dtype=dtype)
                self._kernels.batch_drive(source, self.presynaptic, self.weights, drive)
            if self.conscience > 0:
                drive -= self.bias
            rates = np.empty(drive.shape, dtype=np.float32)
            for i in range(n):
                self._compete_compiled(drive[i], rates[i])
            return rates
        drive = self.drive_gathered(presyn_rates) if gathered else self.drive(presyn_rates)
        if self.conscience > 0:
            drive = drive - self.bias
        return self.compete(self.inhibit(drive))

    def _compete_compiled(self, drive: np.ndarray, rates: np.ndarray) -> None:
        """Compiled inhibition + threshold + sigmoid: drive (N,) float64 → rates (N,) float32."""
        self._kernels.compete(
            drive,
            self.side,
            self._profile,
            self._centre_gain,
            self._contrast,
            self.k,
            self.slope,
            self.slope_mode == "relative",
            rates,
            self._inhibited,
            self._scratch,
        )

    # -- one presentation with learning ---------------------------------------------------

    def reset_trace(self) -> None:
        """Set the trace to zero (between objects; model.md §6.1)."""
        self.trace[:] = 0.0

    def reset_bias(self) -> None:
        """Set the conscience bias to zero (before a layer's training)."""
        self.bias[:] = 0.0

    def step(self, presyn: np.ndarray, *, learn: bool = True, gathered: bool = False) -> np.ndarray:
        """Present one input, compute rates and (optionally) learn.

        Parameters
        ----------
        presyn
            (n_pre,) presynaptic rates, or (N, fan_in) values already gathered for each
            synapse when ``gathered`` is True. float32.
        learn
            apply the learning rule, renormalise changed rows, update the trace.
        gathered
            see ``presyn``.

        Returns
        -------
        np.ndarray
            (N,) float32 rates (a new array).
        """
        if self.conscience > 0:
            return self._step_with_conscience(presyn, gathered, learn)
        if self.backend == "numba":
            rates = np.empty(self.n_neurons, dtype=np.float32)
            # A rate vector is small: widening it to float64 once saves a conversion per synapse
            # (scalar float32 → float64 conversions of gathered values are slow).
            presyn = (
                np.asarray(presyn, dtype=np.float32)
                if gathered
                else np.asarray(presyn, dtype=np.float64).reshape(1, -1)
            )
            self._kernels.step(
                presyn,
                None if gathered else self.presynaptic,
                self.weights,
                learn,
                self.rule == "hebb",
                self.centre_inputs,
                self._compiled_mean(gathered),
                self._mean_norm,
                self.learning_rate,
                self.trace_eta,
                self.trace,
                self.side,
                self._profile,
                self._centre_gain,
                self._contrast,
                self.k,
                self.slope,
                self.slope_mode == "relative",
                rates,
                self._drive,
                self._weight_sq,
                self._input_sq,
                self._inhibited,
                self._scratch,
            )
            return rates
        values = presyn if gathered else presyn[self.presynaptic]
        drive = np.einsum("ij,ij->i", self.weights, values)
        rates = self.compete(self.inhibit(drive))
        if learn:
            post = self._postsynaptic_factor(rates)
            if self.centre_inputs:
                self._learn_centred(values, post)
                self._update_trace(rates)
                return rates
            self._learn_plain(values, post)
            self._update_trace(rates)
        return rates

    def _learn_plain(self, values: np.ndarray, post: np.ndarray) -> None:
        """Δw = α post x on the rows whose update is not negligible, then renormalise them."""
        step = self.learning_rate * post.astype(np.float64)
        input_sq = np.einsum("ij,ij->i", values, values, dtype=np.float64)
        weight_sq = np.einsum("ij,ij->i", self.weights, self.weights, dtype=np.float64)
        step[step * step * input_sq < NEGLIGIBLE * weight_sq] = 0.0
        changed = np.flatnonzero(step)
        updated = self.weights[changed] + (step[changed, None] * values[changed]).astype(np.float32)
        norms = np.sqrt(np.einsum("ij,ij->i", updated, updated, dtype=np.float64))
        scale = np.divide(1.0, norms, out=np.ones_like(norms), where=norms > 0)
        self.weights[changed] = updated * scale.astype(np.float32)[:, None]

    def _learn_centred(self, values: np.ndarray, post: np.ndarray) -> None:
        """Centred rule (numpy reference): w ← max(w + α post (x − x̄), 0), rows to unit length."""
        step = self.learning_rate * post.astype(np.float64)
        candidates = np.flatnonzero(step)
        inputs = values[candidates].astype(np.float64)
        centred = inputs - self.input_mean[candidates]
        # Negligible updates are judged by the bound a (‖x‖ + ‖x̄‖) ≥ ‖a (x − x̄)‖, as in the
        # compiled kernel (which has ‖x‖ from its forward pass and ‖x̄‖ precomputed).
        input_norm = np.sqrt(np.einsum("ij,ij->i", inputs, inputs))
        weights = self.weights[candidates].astype(np.float64)
        weight_sq = np.einsum("ij,ij->i", weights, weights)
        a = step[candidates]
        bound = a * (input_norm + self._mean_norm[candidates])
        keep = ~(bound * bound < NEGLIGIBLE * weight_sq)
        updated = np.maximum(weights[keep] + a[keep, None] * centred[keep], 0.0)
        norms = np.sqrt(np.einsum("ij,ij->i", updated, updated))
        scale = np.divide(1.0, norms, out=np.ones_like(norms), where=norms > 0)
        self.weights[candidates[keep]] = (updated * scale[:, None]).astype(np.float32)

    def _step_with_conscience(self, presyn: np.ndarray, gathered: bool, learn: bool) -> np.ndarray:
        """:meth:`step` of a layer with a conscience: the same rule, biased winners.

        The compiled path calls the fused step's kernels one by one, so that the bias enters
        between the activation and the competition; it is slower than the fused step and is
        taken only by layers with a conscience. Without ``learn`` neither the weights, the
        trace nor the bias change.
        """
        if not learn:
            return self.respond(np.asarray(presyn)[None], gathered=gathered)[0]
        rates = np.empty(self.n_neurons, dtype=np.float32)
        if self.backend == "numba":
            kernels = self._kernels
            presyn = (
                np.asarray(presyn, dtype=np.float32)
                if gathered
                else np.asarray(presyn, dtype=np.float64).reshape(1, -1)
            )
            presynaptic = None if gathered else self.presynaptic
            mean = self._compiled_mean(gathered)
            sums = (self._drive, self._weight_sq, self._input_sq)
            trace = self.rule == "trace"
            if trace and self.centre_inputs:
                kernels.drive_learn_trace_centred(
                    presyn, presynaptic, self.weights, mean, self._mean_norm, self.trace,
                    self.learning_rate, *sums,
                )  # fmt: skip
            elif trace:
                kernels.drive_learn_trace(
                    presyn, presynaptic, self.weights, self.trace, self.learning_rate, *sums
                )
            else:
                kernels.drive_norms(presyn, presynaptic, self.weights, *sums)
            drive = self._drive
            np.subtract(drive, self.bias, out=self._biased)
            self._compete_compiled(self._biased, rates)
            if not trace and self.centre_inputs:
                kernels.learn_centred(
                    presyn, presynaptic, self.weights, mean, self._mean_norm, rates,
                    self.learning_rate, self._weight_sq, self._input_sq,
                )  # fmt: skip
            elif not trace:
                kernels.learn(presyn, presynaptic, self.weights, rates, self.learning_rate, *sums)
            kernels.update_trace(self.trace, rates, self.trace_eta)
        else:
            values = presyn if gathered else presyn[self.presynaptic]
            drive = np.einsum("ij,ij->i", self.weights, values, dtype=np.float64)
            rates[:] = self.compete(self.inhibit(drive - self.bias))
            post = self._postsynaptic_factor(rates)
            if self.centre_inputs:
                self._learn_centred(values, post)
            else:
                self._learn_plain(values, post)
            self._update_trace(rates)
        self.bias += self.conscience * float(drive.std()) * (rates - self.k / self.n_neurons)
        return rates

    def _compiled_mean(self, gathered: bool) -> np.ndarray:
        """x̄ for the compiled step: per unit for indexed inputs when possible, else per synapse."""
        if not self.centre_inputs:
            return self._no_mean
        if not gathered and self._unit_mean is not None:
            return self._unit_mean
        return self.input_mean  # type: ignore[return-value]

    def _postsynaptic_factor(self, rates: np.ndarray) -> np.ndarray:
        """Return the postsynaptic term of Δw: the rate (Hebb) or the trace before its update."""
        if self.rule == "hebb":
            return rates
        np.copyto(self._post, self.trace)
        return self._post

    def _update_trace(self, rates: np.ndarray) -> None:
        eta = np.float32(self.trace_eta)
        self.trace *= eta
        self.trace += (np.float32(1.0) - eta) * rates
        _flush_subnormal(self.trace)


_TINY = np.finfo(np.float32).tiny


def _compact_indices(presynaptic: np.ndarray) -> np.ndarray:
    """Synapse indices as uint16 if every index fits (≤ 65,535 presynaptic units), else int32.

    A compiled learning pass is bound by memory traffic, not arithmetic: at the classic size
    it streams each layer's weights and indices. Layers 2–4 of VisNet read 1,024 units, so
    16-bit indices halve the bytes their indices cost.
    """
    presynaptic = np.asarray(presynaptic)
    if presynaptic.size and 0 <= presynaptic.min() and presynaptic.max() < 2**16:
        return np.ascontiguousarray(presynaptic, dtype=np.uint16)
    return np.ascontiguousarray(presynaptic, dtype=np.int32)


def _flush_subnormal(values: np.ndarray) -> None:
    """Set values below the smallest normal float32 (1.2e-38) to exactly 0, in place.

    Far below threshold the sigmoid gives subnormal rates (e.g. 1/(1 + e^100) ≈ 4e-44).
    Arithmetic on subnormals is up to ~100× slower on common CPUs and such rates carry no
    information, so they are flushed to zero, as a CPU in flush-to-zero mode would.
    Exact zeros also let learning skip those neurons (their weight change is zero).
    """
    values[values < _TINY] = 0.0


def resolve_backend(backend: str) -> Backend:
    """Return the back-end ``"auto"`` stands for (numba when installed), or check a named one."""
    if backend == "auto":
        # Look numba up without importing it (about 0.5 s): a network loaded from the cache
        # whose layer-4 banks are cached too never runs a kernel.
        import importlib.util

        return "numba" if importlib.util.find_spec("numba") is not None else "numpy"
    if backend not in ("numpy", "numba"):
        raise ValueError(f"backend: expected 'auto', 'numpy' or 'numba', got {backend!r}")
    return backend  # type: ignore[return-value]


class _OneThreadAsIs:
    """The numpy back-end's stand-in for :class:`dyad.brain.kernels.ThreadChooser`."""

    choices: list[int] = []
    fallbacks: list[int | None] = []

    def new_epoch(self) -> None:
        """Nothing to time."""

    def run(self, present: Callable[[], object]) -> None:
        """Call ``present()``."""
        present()

    def close(self) -> None:
        """Nothing to restore."""


def thread_chooser(backend: str):
    """Return a :class:`~dyad.brain.kernels.ThreadChooser` for numba, else a stand-in."""
    if backend != "numba":
        return _OneThreadAsIs()
    from dyad.brain.kernels import ThreadChooser

    return ThreadChooser()


__all__ = ["CompetitiveLayer", "n_winners", "resolve_backend", "thread_chooser", "unit_rows"]
