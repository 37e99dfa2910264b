"""The intermediate ("mirror") layer (model.md §8).

The mirror layer receives the frozen VisNet layer-4 rates and the motor pattern
(:mod:`dyad.brain.motor`) through full feed-forward connections, competes (percentile threshold +
sigmoid, or hard k-winners-take-all) and learns by a Hebb (or trace) rule followed by weight
normalisation.

Implementation notes (why the step is fast):

- Each neuron's weights are stored as ``raw * scale``: a raw matrix per modality and one scale
  factor per neuron and modality. Renormalising a neuron after a Hebb update is then a change of
  its scale only, and the update itself is one BLAS rank-1 update (``sger``) per modality.
- The new norm follows analytically from quantities the forward pass already computed:
  ``|w + a x|^2 = |w|^2 + 2 a (w . x) + a^2 |x|^2``, where ``w . x`` is the neuron's drive from
  that modality.
- Every ``_FOLD_EVERY`` steps (or when a scale gets small) the scales are folded back into the raw
  weights, the norms are recomputed exactly (so rounding cannot drift) and weights below
  ``_FLUSH_BELOW`` are set to zero, so ever-shrinking weights never become slow subnormal floats.

The layer uses one ``numpy.random.Generator`` (passed in) only to draw its initial weights.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from typing import Any, Literal, Self

import numpy as np
from pydantic import Field, model_validator

from dyad.errors import ConfigError
from dyad.validation import Real, auto_or, check_int, frozen_config, integer, real

logger = logging.getLogger(__name__)

_FOLD_EVERY = 256
_FOLD_BELOW = np.float32(1e-10)
_FLUSH_BELOW = np.float32(1e-30)


def _sger():
    """BLAS ``sger`` (rank-1 update), from scipy.linalg imported on first use: start-up time."""
    global _SGER
    if _SGER is None:
        from scipy.linalg import blas

        _SGER = blas.sger
    return _SGER


def _expit():
    """``scipy.special.expit``, imported on first use (scipy.special takes 0.2 s to import)."""
    global _EXPIT
    if _EXPIT is None:
        from scipy.special import expit

        _EXPIT = expit
    return _EXPIT


_SGER = None
_EXPIT = None


def float32_rows(name: str, values: object, width: int, rows: str = "n") -> np.ndarray:
    """Return ``values`` as a C-contiguous float32 ``(rows, width)`` array, else raise.

    The one shape check of a batch of inputs (``ValueError`` naming ``name`` and the shape).
    """
    array = np.ascontiguousarray(values, dtype=np.float32)
    if array.ndim != 2 or array.shape[1] != width:
        raise ValueError(f"{name}: expected shape ({rows}, {width}), got {array.shape}")
    return array


#: the mirror layer's size when it is not set: 16 × 16 (S ⌊256/S⌋ neurons for S expressions)
REFERENCE_NEURONS = 256


def n_winners(n_neurons: int, sparseness: float) -> int:
    """Return the number of neurons at or above threshold, k = int(N (1 - p)) (model.md §5.3).

    A tiny tolerance keeps ``int(100 * (1 - 0.9))`` at 10 rather than 9.
    """
    return int(math.floor(n_neurons * (1.0 - sparseness) + 1e-9))


# --------------------------------------------------------------------------------------------
# Mirror layer
# --------------------------------------------------------------------------------------------


@frozen_config
class MirrorConfig:
    """Parameters of the mirror layer (model.md §8; defaults chosen in docs/mirror.md).

    ``n_neurons``: N, layer size. ``"auto"`` (default) is the largest multiple of S up to
    :data:`REFERENCE_NEURONS` = 256 (16x16; model.md §8.1 allows it for speed): 256 for two
    or four expressions, 255 for three, 252 for six. With the layer a multiple of S the
    conscience bias's share k/N is exactly 1/S, so each expression's group settles at k
    neurons; with N = 256 and three expressions the spare neuron made one group outnumber
    the winners, its near-equal activations tied at the threshold and it fired at about 0.5,
    under the 0.5 active threshold (docs/mirror.md).
    ``competition``: ``"percentile"`` (threshold between the k-th and (k+1)-th largest
    activation, then sigmoid) or ``"kwta"`` (rate 1 for the k largest activations, 0
    otherwise).
    ``sparseness``: p; k = int(N (1 - p)) neurons are at or above threshold. ``"auto"``
    (default) is p = 1 - 1/S for S expressions (0.5 for happy/sad): each input then recruits
    N/S neurons, so every neuron can win for exactly one expression (T1); with a fixed 0.5 and
    three expressions, every input recruits half the layer and two expressions must share
    neurons. Resolve it with :meth:`for_expressions` before building a layer.
    ``slope``: sigmoid steepness relative to the activation spread; beta = slope / std(h), with
    std(h) the spread across neurons measured by :meth:`MirrorLayer.calibrate`. 0.4 keeps the
    untrained layer's responses graded (almost no chance "mirror" cells) and rates unsaturated
    enough for neurons to break symmetry, yet steep enough that trained responses clear the
    |d| >= 0.3 criterion with noisy layer-4 codes (docs/mirror.md has the sweep).
    ``learning_rate``: alpha in dw = alpha r x. The step is not scaled by the input's length,
    so with dense layer-4 input 0.01 keeps a memory of a few timesteps, not 1/alpha = 100
    (docs/results.md, "Noise and lag against congruence"); 0.002 integrates over many holds.
    ``normalisation``: ``"per_modality"`` (visual and motor weight parts each to length 1/sqrt 2)
    or ``"joint"`` (whole weight vector to length 1).
    ``motor_gain``: g_M multiplying the motor input; ``"auto"`` equalises the initial mean
    visual and motor drive on the calibration batch.
    ``trace_eta``: eta of the trace rule; 0 = plain Hebb, > 0 = dw = alpha ybar x with ybar the
    trace before this step's update, ybar <- eta ybar + (1 - eta) r.
    ``homeostasis``: gamma of a conscience bias b (model.md §8.3): the competition uses h - b,
    and after each learning step b += gamma std(h) (r - k/N), so a neuron that wins more than
    its share gets harder to drive and one that never wins gets easier. 0 turns it off. It
    dissolves a stable state in which some neurons win for every expression (and stay
    unselective) while as many never win and never learn.
    """

    n_neurons: auto_or(integer(ge=2)) = "auto"
    competition: Literal["percentile", "kwta"] = "percentile"
    sparseness: auto_or(real(ge=0.0, lt=1.0)) = "auto"
    slope: Real = Field(0.4, gt=0.0)
    learning_rate: Real = Field(0.01, ge=0.0)
    normalisation: Literal["per_modality", "joint"] = "per_modality"
    motor_gain: auto_or(real(gt=0.0)) = "auto"
    trace_eta: Real = Field(0.0, ge=0.0, lt=1.0)
    homeostasis: Real = Field(0.005, ge=0.0)

    @model_validator(mode="after")
    def _at_least_one_winner(self) -> Self:
        resolved = "auto" not in (self.n_neurons, self.sparseness)
        if resolved and n_winners(self.n_neurons, self.sparseness) < 1:
            raise ValueError(
                f"sparseness: expected int(n_neurons * (1 - sparseness)) >= 1 winner, got "
                f"0 winners for sparseness {self.sparseness!r} and n_neurons {self.n_neurons}"
            )
        return self

    def for_expressions(self, n_expressions: int) -> MirrorConfig:
        """Return this config with its ``"auto"`` fields resolved for S expressions.

        ``n_neurons = "auto"`` becomes S ⌊256/S⌋ and ``sparseness = "auto"`` 1 - 1/S.

        Raises
        ------
        ConfigError
            the resolved sparseness leaves no winner (a layer smaller than S).
        """
        n_expressions = int(n_expressions)
        changes: dict[str, Any] = {}
        if self.n_neurons == "auto":
            changes["n_neurons"] = n_expressions * max(1, REFERENCE_NEURONS // n_expressions)
        if self.sparseness == "auto":
            changes["sparseness"] = 1.0 - 1.0 / n_expressions
        return dataclasses.replace(self, **changes) if changes else self

    @property
    def n_winners(self) -> int:
        """k, the number of neurons at or above threshold for every input."""
        if "auto" in (self.n_neurons, self.sparseness):
            raise ConfigError(
                "sparseness, n_neurons: 'auto' depends on the number of expressions; resolve "
                "it with MirrorConfig.for_expressions(S) first"
            )
        return n_winners(self.n_neurons, self.sparseness)


class MirrorLayer:
    """Competitive Hebbian layer fed by layer-4 rates and the motor pattern (model.md §8).

    Activation h = W_V x_V + g_M W_M x_M (shape (N,)); competition (on h minus the conscience
    bias) and sigmoid give rates in [0, 1]; learning is dw = alpha r x on both weight parts
    followed by renormalisation. Call :meth:`calibrate` once before :meth:`step` or
    :meth:`respond`. The bias is learned with the weights and applies at test time too.
    """

    def __init__(self, config: MirrorConfig, n_visual: int, n_motor: int, rng: np.random.Generator):
        self._allocate(config, n_visual, n_motor)
        n = config.n_neurons
        # U(0,1) initial weights (model.md §8.1), drawn in a fixed order for reproducibility.
        self._uv_t[...] = rng.random((n, n_visual), dtype=np.float32).T
        self._um_t[...] = rng.random((n, n_motor), dtype=np.float32).T
        self._fold()

    def _allocate(self, config: MirrorConfig, n_visual: int, n_motor: int) -> None:
        if "auto" in (config.n_neurons, config.sparseness):
            raise ConfigError(
                "mirror.sparseness, mirror.n_neurons: 'auto' needs the number of expressions S; "
                "build the layer from config.for_expressions(S)"
            )
        self.config = config
        self.n_visual = check_int("n_visual", n_visual, 1)
        self.n_motor = check_int("n_motor", n_motor, 1)
        self.n_neurons = n = config.n_neurons
        self._k = config.n_winners
        self._alpha = np.float32(config.learning_rate)
        self._eta = np.float32(config.trace_eta)
        self._joint = config.normalisation == "joint"
        # target lengths of the visual / motor parts (joint: the whole vector has length 1)
        self._target = np.float32(1.0 if self._joint else 1.0 / math.sqrt(2.0))
        # Raw weights, stored transposed (Fortran order) so BLAS sger updates them in place;
        # the effective weights are raw.T * scale[:, None].
        self._uv_t = np.zeros((self.n_visual, n), dtype=np.float32, order="F")
        self._um_t = np.zeros((self.n_motor, n), dtype=np.float32, order="F")
        self._scale_v = np.ones(n, dtype=np.float32)
        self._scale_m = np.ones(n, dtype=np.float32)
        self._steps_since_fold = 0
        self.motor_gain: float | None = None
        self.activation_spread: float | None = None
        self.beta: float | None = None
        # per-step buffers
        self._xv = np.empty(self.n_visual, dtype=np.float32)
        self._xm = np.empty(self.n_motor, dtype=np.float32)
        self._hv = np.empty(n, dtype=np.float32)
        self._hm = np.empty(n, dtype=np.float32)
        self._h = np.empty(n, dtype=np.float32)
        self._sorted = np.empty(n, dtype=np.float32)
        self._rates = np.zeros(n, dtype=np.float32)
        self._bias = np.zeros(n, dtype=np.float32)
        self._h_eff = np.empty(n, dtype=np.float32)
        self._gamma = np.float32(config.homeostasis)
        self._target_rate = np.float32(self._k / n)
        self._trace = np.zeros(n, dtype=np.float32)
        self._coef = np.empty(n, dtype=np.float32)
        self._norm2 = np.empty(n, dtype=np.float32)
        self._tmp = np.empty(n, dtype=np.float32)
        self.last_visual_drive = 0.0
        self.last_motor_drive = 0.0
        self.last_threshold = 0.0

    # ---------------------------------------------------------------- weights

    @property
    def weights_visual(self) -> np.ndarray:
        """Effective visual weights, (N, n_visual) float32 (a new array)."""
        return np.ascontiguousarray(self._uv_t.T * self._scale_v[:, None])

    @property
    def weights_motor(self) -> np.ndarray:
        """Effective motor weights, (N, n_motor) float32 (a new array)."""
        return np.ascontiguousarray(self._um_t.T * self._scale_m[:, None])

    @property
    def bias(self) -> np.ndarray:
        """The conscience bias b subtracted from h before competition, (N,) float32 (a copy)."""
        return self._bias.copy()

    @property
    def trace(self) -> np.ndarray:
        """The trace ybar, (N,) float32 (a copy); all zero when ``trace_eta`` is 0."""
        return self._trace.copy()

    def reset_trace(self) -> None:
        """Set the trace to zero (e.g. before a new training run)."""
        self._trace.fill(0.0)

    def _fold(self) -> None:
        """Fold the scales into the raw weights and renormalise exactly."""
        uv, um = self._uv_t, self._um_t
        uv *= self._scale_v[None, :]
        um *= self._scale_m[None, :]
        uv[uv < _FLUSH_BELOW] = 0.0
        um[um < _FLUSH_BELOW] = 0.0
        nv = np.einsum("ij,ij->j", uv, uv, dtype=np.float64)
        nm = np.einsum("ij,ij->j", um, um, dtype=np.float64)
        if self._joint:
            total = np.sqrt(nv + nm)
            nv = nm = total
        else:
            nv, nm = np.sqrt(nv), np.sqrt(nm)
        self._scale_v[...] = self._target / np.where(nv > 0, nv, 1.0)
        self._scale_m[...] = self._target / np.where(nm > 0, nm, 1.0)
        uv *= self._scale_v[None, :]
        um *= self._scale_m[None, :]
        self._scale_v.fill(1.0)
        self._scale_m.fill(1.0)
        self._steps_since_fold = 0

    # ---------------------------------------------------------------- calibration

    def calibrate(self, visual_batch: np.ndarray, motor_batch: np.ndarray) -> None:
        """Set the motor gain (if ``"auto"``) and the sigmoid slope beta from training inputs.

        ``visual_batch``: (n, n_visual) layer-4 rates; ``motor_batch``: (n, n_motor) motor
        patterns, both samples of what training will present. With the initial weights,
        ``motor_gain = mean(W_V x_V) / mean(W_M x_M)`` (model.md §8.2), and
        ``beta = slope / std(h)``, std(h) being the spread of h across neurons, averaged (RMS)
        over the batch: the scale on which competition acts.
        """
        xv = float32_rows("visual_batch", visual_batch, self.n_visual)
        xm = float32_rows("motor_batch", motor_batch, self.n_motor)
        if len(xv) < 1 or len(xm) < 1:
            raise ValueError("calibrate: expected at least one visual and one motor sample")
        hv = self._drive(xv, self._uv_t, self._scale_v)
        hm = self._drive(xm, self._um_t, self._scale_m)
        if self.config.motor_gain == "auto":
            mean_v, mean_m = float(hv.mean()), float(hm.mean())
            if not (mean_v > 0 and mean_m > 0):
                raise ValueError(
                    "calibrate: the visual and motor batches must both drive the layer "
                    f"(mean visual drive {mean_v:g}, mean motor drive {mean_m:g})"
                )
            gain = mean_v / mean_m
        else:
            gain = float(self.config.motor_gain)
        n = min(len(hv), len(hm))
        h = hv[:n] + np.float32(gain) * hm[:n]
        spread = float(np.sqrt(np.mean(np.var(h, axis=1, dtype=np.float64))))
        if not spread > 0:
            raise ValueError("calibrate: activations do not vary across neurons; cannot set beta")
        self._set_calibration(gain, spread)
        logger.debug("mirror layer calibrated: motor_gain=%.4g beta=%.4g", gain, self.beta)

    def _set_calibration(self, gain: float, spread: float) -> None:
        self.motor_gain = gain
        self.activation_spread = spread
        self.beta = self.config.slope / spread
        self._gain32 = np.float32(gain)
        self._two_beta = np.float32(2.0 * self.beta)
        self._bias_step = np.float32(self.config.homeostasis * spread)

    @staticmethod
    def _drive(x: np.ndarray, u_t: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """Per-modality drive for a batch: (n, N) = x @ (u_t * scale)."""
        return (x @ u_t) * scale[None, :]

    def _check_calibrated(self) -> None:
        if self.beta is None:
            raise RuntimeError("MirrorLayer.calibrate() must be called before step()/respond()")

    # ---------------------------------------------------------------- dynamics

    def step(self, visual: np.ndarray, motor: np.ndarray, learn: bool = True) -> np.ndarray:
        """One timestep: forward pass, competition and (if ``learn``) a Hebb/trace update.

        ``visual``: (n_visual,) layer-4 rates; ``motor``: (n_motor,) motor pattern (the gain is
        applied here). With ``learn=False`` neither the weights nor the trace change. Returns
        the rates, (N,) float32 in [0, 1]: the layer's own buffer, valid until the next call.
        ``last_visual_drive`` / ``last_motor_drive`` hold the mean drive per modality and
        ``last_threshold`` the threshold of this step.
        """
        self._check_calibrated()
        if visual.shape != self._xv.shape:
            raise ValueError(f"visual: expected shape {self._xv.shape}, got {visual.shape}")
        if motor.shape != self._xm.shape:
            raise ValueError(f"motor: expected shape {self._xm.shape}, got {motor.shape}")
        xv, xm = self._xv, self._xm
        np.copyto(xv, visual)
        np.multiply(motor, self._gain32, out=xm)
        hv, hm, h = self._hv, self._hm, self._h
        np.dot(self._uv_t.T, xv, out=hv)
        hv *= self._scale_v
        np.dot(self._um_t.T, xm, out=hm)
        hm *= self._scale_m
        np.add(hv, hm, out=h)
        # ndarray.sum is a direct ufunc reduction; .mean() costs several microseconds more
        self.last_visual_drive = float(hv.sum()) / self.n_neurons
        self.last_motor_drive = float(hm.sum()) / self.n_neurons
        if self._gamma > 0:
            np.subtract(h, self._bias, out=self._h_eff)
            self._compete(self._h_eff, self._rates)
        else:
            self._compete(h, self._rates)
        if not learn:
            return self._rates
        if self._alpha > 0:
            self._learn(self._trace if self._eta > 0 else self._rates)
        if self._gamma > 0:
            # conscience: neurons that win more than their share become harder to drive
            np.subtract(self._rates, self._target_rate, out=self._tmp)
            self._tmp *= self._bias_step
            self._bias += self._tmp
        if self._eta > 0:
            # trace after the weight change, so learning used only preceding presentations
            self._trace *= self._eta
            self._trace += (1 - self._eta) * self._rates
        return self._rates

    def _compete(self, h: np.ndarray, out: np.ndarray) -> None:
        """Rates from activations: k-WTA, or sigmoid around the percentile threshold.

        The threshold is the midpoint between the k-th and (k+1)-th largest activation, so
        exactly k neurons are above it (ties aside). With the k-th largest itself (VisBack's
        choice) the k-th neuron always sits at rate 0.5, and once learning has made a winning
        group's weights identical the whole group would sit at 0.5 (docs/mirror.md).
        """
        n, k = self.config.n_neurons, self._k
        if self.config.competition == "kwta":
            winners = np.argpartition(h, n - k)[n - k :]
            out.fill(0.0)
            out[winners] = 1.0
            self.last_threshold = float(h[winners].min())
            return
        sorted_h = self._sorted
        np.copyto(sorted_h, h)
        if k < n:
            sorted_h.partition((n - k - 1, n - k))
            theta = np.float32(0.5) * (sorted_h[n - k - 1] + sorted_h[n - k])
        else:
            theta = sorted_h.min()
        self.last_threshold = float(theta)
        np.subtract(h, theta, out=out)
        out *= self._two_beta
        _expit()(out, out=out)

    def _learn(self, post: np.ndarray) -> None:
        """Dw = alpha post x per modality, then renormalise via the scale factors."""
        coef, norm2, tmp = self._coef, self._norm2, self._tmp
        np.multiply(post, self._alpha, out=coef)  # a_i = alpha * post_i
        target2 = self._target * self._target
        xv2 = np.float32(np.dot(self._xv, self._xv))
        xm2 = np.float32(np.dot(self._xm, self._xm))
        # |w + a x|^2 = |w|^2 + 2 a (w.x) + a^2 |x|^2 with w.x = the drive of that part
        if self._joint:
            self._new_norm2(coef, self._h, xv2 + xm2, target2, norm2)
            self._rank1(self._uv_t, self._xv, coef, self._scale_v)
            self._rank1(self._um_t, self._xm, coef, self._scale_m)
            np.sqrt(norm2, out=norm2)
            np.divide(self._target, norm2, out=tmp)
            self._scale_v *= tmp
            self._scale_m *= tmp
        else:
            for u_t, x, h_part, x2, scale in (
                (self._uv_t, self._xv, self._hv, xv2, self._scale_v),
                (self._um_t, self._xm, self._hm, xm2, self._scale_m),
            ):
                self._new_norm2(coef, h_part, x2, target2, norm2)
                self._rank1(u_t, x, coef, scale)
                np.sqrt(norm2, out=norm2)
                np.divide(self._target, norm2, out=tmp)
                scale *= tmp
        self._steps_since_fold += 1
        if (
            self._steps_since_fold >= _FOLD_EVERY
            or self._scale_v.min() < _FOLD_BELOW
            or self._scale_m.min() < _FOLD_BELOW
        ):
            self._fold()

    @staticmethod
    def _new_norm2(
        coef: np.ndarray, drive: np.ndarray, x2: np.float32, target2: np.float32, out: np.ndarray
    ) -> None:
        """|w + a x|^2 = |w|^2 + 2 a (w . x) + a^2 |x|^2, with w . x the drive, |w| the target."""
        np.multiply(coef, np.float32(0.5) * x2, out=out)
        out += drive
        out *= coef
        out *= 2
        out += target2

    def _rank1(self, u_t: np.ndarray, x: np.ndarray, coef: np.ndarray, scale: np.ndarray) -> None:
        """Raw += (coef / scale) outer x, in place through BLAS sger on the transposed matrix."""
        y = self._tmp
        np.divide(coef, scale, out=y)
        out = _sger()(1.0, x, y, a=u_t, overwrite_a=True)
        if out is not u_t:  # pragma: no cover - sger copies only for non-contiguous input
            u_t[...] = out

    def respond(self, visual: np.ndarray, motor: np.ndarray) -> np.ndarray:
        """Rates for a batch of inputs with learning off: (n, N) float32 (a new array).

        ``visual``: (n, n_visual); ``motor``: (n, n_motor). Used for the test phase (model.md
        §10): visual-only trials pass a zero motor batch and vice versa. Weights and the trace
        are untouched.
        """
        self._check_calibrated()
        xv = np.asarray(visual, dtype=np.float32)
        xm = np.asarray(motor, dtype=np.float32)
        if xv.ndim != 2 or xv.shape[1] != self.n_visual:
            raise ValueError(f"visual: expected shape (n, {self.n_visual}), got {xv.shape}")
        if xm.shape != (len(xv), self.n_motor):
            raise ValueError(f"motor: expected shape ({len(xv)}, {self.n_motor}), got {xm.shape}")
        h = self._drive(xv, self._uv_t, self._scale_v)
        h += self._gain32 * self._drive(xm, self._um_t, self._scale_m)
        h -= self._bias[None, :]
        n, k = self.config.n_neurons, self._k
        if self.config.competition == "kwta":
            winners = np.argpartition(h, n - k, axis=1)[:, n - k :]
            rates = np.zeros_like(h)
            np.put_along_axis(rates, winners, 1.0, axis=1)
            return rates
        if k < n:
            part = np.partition(h, (n - k - 1, n - k), axis=1)
            theta = 0.5 * (part[:, n - k - 1] + part[:, n - k])
        else:
            theta = h.min(axis=1)
        h -= theta[:, None]
        h *= self._two_beta
        return _expit()(h, out=h)

    # ---------------------------------------------------------------- saving

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Everything needed to restore the layer exactly.

        ``weights_visual`` (N, n_visual) and ``weights_motor`` (N, n_motor) are the effective
        weights; ``raw_*`` and ``scale_*`` are their internal factors (kept so a restored layer
        continues bit for bit); ``motor_gain``, ``activation_spread`` (std(h) at calibration),
        ``beta``, ``trace`` and ``bias`` (N,) complete the state.
        """
        self._check_calibrated()
        return {
            "weights_visual": self.weights_visual,
            "weights_motor": self.weights_motor,
            "raw_visual": np.ascontiguousarray(self._uv_t.T),
            "raw_motor": np.ascontiguousarray(self._um_t.T),
            "scale_visual": self._scale_v.copy(),
            "scale_motor": self._scale_m.copy(),
            "steps_since_fold": np.array(self._steps_since_fold, dtype=np.int64),
            "motor_gain": np.array(self.motor_gain, dtype=np.float64),
            "activation_spread": np.array(self.activation_spread, dtype=np.float64),
            "beta": np.array(self.beta, dtype=np.float64),
            "trace": self.trace,
            "bias": self.bias,
        }

    @classmethod
    def from_arrays(cls, config: MirrorConfig, arrays: dict[str, np.ndarray]) -> MirrorLayer:
        """Rebuild a layer saved with :meth:`to_arrays`; it continues exactly as the original.

        Without the ``raw_*``/``scale_*`` entries the effective weights are used (the same
        weights up to float32 rounding).
        """
        exact = all(
            f"{kind}_{part}" in arrays for kind in ("raw", "scale") for part in ("visual", "motor")
        )
        prefix = "raw" if exact else "weights"
        wv = np.asarray(arrays[f"{prefix}_visual"], dtype=np.float32)
        wm = np.asarray(arrays[f"{prefix}_motor"], dtype=np.float32)
        n = config.n_neurons
        if wv.ndim != 2 or wm.ndim != 2 or wv.shape[0] != n or wm.shape[0] != n:
            raise ValueError(
                f"weights: expected ({n}, n_visual) and ({n}, n_motor), got {wv.shape} and "
                f"{wm.shape}"
            )
        layer = cls.__new__(cls)
        layer._allocate(config, wv.shape[1], wm.shape[1])
        layer._uv_t[...] = wv.T
        layer._um_t[...] = wm.T
        if exact:
            layer._scale_v[...] = np.asarray(arrays["scale_visual"], dtype=np.float32)
            layer._scale_m[...] = np.asarray(arrays["scale_motor"], dtype=np.float32)
            layer._steps_since_fold = int(arrays.get("steps_since_fold", 0))
        layer._trace[...] = np.asarray(arrays["trace"], dtype=np.float32)
        layer._bias[...] = np.asarray(arrays.get("bias", 0.0), dtype=np.float32)
        layer._set_calibration(float(arrays["motor_gain"]), float(arrays["activation_spread"]))
        return layer
