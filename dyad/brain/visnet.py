"""VisNet: four competitive layers over V1, trained layer by layer (model.md §3–6).

Layer 1 samples the V1 stack (per wavelength counts 201/50/13/8, orientation and phase uniform);
layers 2–4 sample the layer below. Every layer has Gaussian toroidal connectivity, unit-length
weight rows, COMP lateral inhibition, a percentile threshold and a sigmoid, and learns by the trace
rule (or Hebb). Training is layer by layer: for layer r, every epoch presents all objects in
order (reversed on odd epochs) with their transforms contiguous (also reversed on odd epochs with
``transform_order="alternating"``), propagates through layers 1..r and learns in layer r only,
resetting layer r's trace between objects (§6.4). With ``trace_block = n`` each epoch instead
presents shuffled blocks of n presentations of one object, the blocks of all objects in a random
order, the trace reset before each block (:func:`training_blocks`).

**Centred learning (default).** With ``centre_inputs`` each layer learns with
``Δw = α ȳ (x − x̄)``, weights clipped at 0 and rows renormalised, where ``x̄`` is the layer's
mean input over all training presentations, computed once before its epochs from the frozen
layers below. The classic rule ``Δw = α ȳ x`` pulls every winner towards what all inputs share
and, on faces, makes layer 4 collapse onto what happy and sad have in common
(docs/vision.md, "Deviations").

Because layers below r are frozen while r trains, their rates for each training image do not
change; :meth:`VisNet.fit` therefore computes layer r − 1's rates for all images once and then runs
the epochs of layer r on them. This is exactly the same computation as propagating from V1 every
time, only cheaper. Layer 1's inputs are pre-gathered: the V1 values each synapse reads,
(N1, fan_in1) per image, about half the size of the V1 stack (model.md §14).

**Sigmoid scale (model.md §5.4).** With dyad's V1 (unit Frobenius norm per map) and face images,
the classic β applied to raw ``h′ − θ`` makes layers 2–4 all-or-none: the COMP centre weights
(34–157) spread ``h′`` so widely that ``2β · std(h′)`` is about 20 in layer 1 and 200–2500 in
layers 2–4, and only ~0.1 % of cells get a rate between 0.1 and 0.9 — a hard k-winners-take-all.
The default is therefore ``slope_mode = "relative"``: ``h′ − θ`` is divided by the standard
deviation of ``h′`` over the layer for the same image and ``relative_slope`` β′ = 5 replaces β.
That keeps the Treves–Rolls sparseness close to 1 − p (e.g. 0.11 for p = 0.91) while 5–7 % of
layer-3/4 cells respond in a graded way. ``slope_mode = "absolute"`` with ``slope`` is the classic
rule. Measurements: ``benchmarks/results/visnet.md``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from functools import partial
from typing import Annotated, Literal, Self

import numpy as np
from pydantic import AfterValidator, Field, StrictBool, model_validator

from dyad.brain.connectivity import sample_presynaptic
from dyad.brain.layer import (
    CompetitiveLayer,
    n_winners,
    resolve_backend,
    thread_chooser,
    unit_rows,
)
from dyad.brain.v1 import V1Config
from dyad.errors import ConfigError
from dyad.validation import Int, Real, auto_or, frozen_config, integer, one_or_per_layer, real

logger = logging.getLogger(__name__)

_PER_LAYER = (
    "fan_in",
    "fan_in_radius",
    "inhibition_radius",
    "inhibition_contrast",
    "inhibition_width",
    "sparseness",
    "slope",
    "relative_slope",
    "learning_rate",
    "epochs",
)

#: fields that may be ``"auto"``, resolved from the number of expressions by
#: :meth:`VisNetConfig.for_expressions`
_AUTO = ("sparseness", "conscience", "trace_block")

#: what ``conscience = "auto"`` and ``trace_block = "auto"`` resolve to for three or more
#: expressions. With two, both stay off: happy and sad need no help to get cells of their own,
#: and the conscience costs layer 4 its cells at the full bit on unseen people. With three and
#: faces that move, the classic order met 3 of the 20 sets of three in one visual system; with
#: these, 14 of 20, and three sets in every visual system and run seed tried (docs/results.md,
#: "Shuffled trace blocks").
MORE_EXPRESSIONS_CONSCIENCE = 0.003
MORE_EXPRESSIONS_TRACE_BLOCK = 16

_PositiveInt = integer(ge=1)
_Count = integer(ge=0)
_Positive = real(gt=0)
_NonNegative = real(ge=0)
_Fraction = real(gt=0, lt=1)


def _odd(width: int) -> int:
    if width % 2 == 0:
        raise ValueError(f"expected an odd width (the filter has a centre), got {width}")
    return width


_OddWidth = Annotated[integer(ge=1), AfterValidator(_odd)]


@frozen_config
class VisNetConfig:
    """Sizes and constants of VisNet; defaults are the classic values (model.md §4–6, §15).

    Per-layer values are tuples of length ``n_layers``.

    Attributes
    ----------
    v1
        the Gabor filter bank feeding layer 1.
    n_layers
        number of competitive layers (4).
    layer_side
        side of every layer's square sheet (32 → 1024 neurons).
    fan_in
        synapses per neuron (272, 100, 100, 100); layer 1's equals ``sum(l1_fan_in)``.
    l1_fan_in
        layer-1 synapses per V1 wavelength, in ``v1.wavelengths`` order
        (201, 50, 13, 8 for λ = 2, 4, 8, 16).
    fan_in_radius
        σ of the Gaussian sampling, in presynaptic units (6, 6, 9, 12).
    inhibition_radius
        σ_I of the COMP filter (1.38, 2.7, 4.0, 6.0).
    inhibition_contrast
        δ of the COMP filter (1.5, 1.5, 1.6, 1.4).
    inhibition_width
        odd COMP filter side W (7, 11, 17, 25).
    sparseness
        percentile p; k = int(N (1 − p)) cells reach threshold
        (classic 0.992, 0.98, 0.88, 0.91). ``"auto"`` is 1 − 1/S in every layer for S
        expressions (0.5 for happy/sad), resolved by :meth:`for_expressions`: dense
        layers whose codes generalise to faces pre-training never showed, and an output
        layer in which each expression can own N/S cells (docs/vision.md).
    slope
        classic sigmoid β on raw h′ − θ (190, 40, 75, 26); used when
        ``slope_mode == "absolute"``.
    relative_slope
        β′ on (h′ − θ)/std(h′); used when ``slope_mode == "relative"``.
    slope_mode
        ``"relative"`` (default, see the module docstring) or ``"absolute"``.
    learning_rate
        α per layer (0.1 each).
    rule
        ``"trace"`` (default) or ``"hebb"``.
    trace_eta
        η of the trace (0.8).
    epochs
        training epochs per layer (40 each).
    conscience
        γ of DeSieno's conscience while a layer learns: one value for every layer, or one
        per layer (0, the default: none). Each neuron's activation is lowered by a bias that
        grows by γ σ(h) (r − k/N) after each presentation, so that every neuron wins about
        its share k/N of the training images and no set of neurons captures several similar
        objects (docs/results.md, "More than two expressions"). The bias is learnt in training
        and kept in every response after it, as the neuron's excitability. ``"auto"``: 0
        for two expressions, 0.003 for three or more (:meth:`for_expressions`).
    centre_inputs
        learn with the presynaptically centred rule Δw = α ȳ (x − x̄), weights
        clipped at 0 then rows renormalised, x̄ being each layer's mean input over the
        training images (default True; a deviation from model.md §6.1, see docs/vision.md).
        False is the classic rule Δw = α ȳ x.
    transform_order
        order of each object's transforms during training. ``"forward"``
        (default, VisBack's fixed file list): always first to last. ``"alternating"``:
        odd epochs, which already present the objects in reverse order, also present each
        object's transforms last to first, so the whole sequence runs backwards. The trace
        is reset before each object and the trace rule learns with the trace *before* the
        current presentation, so learning is asymmetric in time: each transform is learned
        by the cells that fired to the ones before it, and the first drives no learning.
        On the classic invariance task, forward training leaves most layer-4 cells blind
        to the last position of the sequence; alternating binds every position
        (docs/vision.md, "A classic invariance task").
    trace_block
        0 (default): each object is one trace block and the objects come in order,
        as above (model.md §6.4). ``n``: every epoch shuffles each object's presentations,
        cuts them into blocks of ``n`` and presents the blocks of all objects in a random
        order, the trace reset before each block (``transform_order`` then has no effect;
        the order comes from the generator given to :meth:`VisNet.fit`, in pre-training a
        stream of the vision seed). With the objects being
        expressions, the classic order shows one expression hundreds of times in a row, so
        a ``conscience`` balances each neuron's wins within that expression rather than
        across expressions; shuffled blocks give it the mixed stream DeSieno's rule assumes
        (docs/results.md, "Shuffled trace blocks"). ``"auto"``: 0 for two
        expressions, 16 for three or more (:meth:`for_expressions`).
    """

    v1: V1Config = Field(default_factory=V1Config)
    n_layers: Int = Field(4, ge=1)
    layer_side: Int = Field(32, ge=1)
    fan_in: tuple[_PositiveInt, ...] = (272, 100, 100, 100)
    l1_fan_in: tuple[_Count, ...] = (201, 50, 13, 8)
    fan_in_radius: tuple[_Positive, ...] = (6.0, 6.0, 9.0, 12.0)
    inhibition_radius: tuple[_Positive, ...] = (1.38, 2.7, 4.0, 6.0)
    inhibition_contrast: tuple[_NonNegative, ...] = (1.5, 1.5, 1.6, 1.4)
    inhibition_width: tuple[_OddWidth, ...] = (7, 11, 17, 25)
    sparseness: auto_or(tuple[_Fraction, ...]) = (0.992, 0.98, 0.88, 0.91)
    slope: tuple[_Positive, ...] = (190.0, 40.0, 75.0, 26.0)
    relative_slope: tuple[_Positive, ...] = (5.0, 5.0, 5.0, 5.0)
    slope_mode: Literal["absolute", "relative"] = "relative"
    learning_rate: tuple[_NonNegative, ...] = (0.1, 0.1, 0.1, 0.1)
    rule: Literal["trace", "hebb"] = "trace"
    trace_eta: Real = Field(0.8, ge=0, lt=1)
    epochs: tuple[_Count, ...] = (40, 40, 40, 40)
    conscience: auto_or(one_or_per_layer(_NonNegative)) = 0.0
    centre_inputs: StrictBool = True
    transform_order: Literal["forward", "alternating"] = "forward"
    trace_block: auto_or(_Count) = 0

    @classmethod
    def small(cls, **overrides: object) -> VisNetConfig:
        """Return a quick configuration for tests and demos: 64 px images, 16×16 layers.

        The geometry is the classic one scaled to half the image and layer side: V1 spacing
        per layer-1 neuron stays ≈ 4 px, layer-2–4 radii and inhibition widths shrink with the
        sheet, fan-ins shrink so that the percentage sampled stays similar, and 5 epochs per
        layer. Any field can be overridden by keyword.
        """
        values: dict[str, object] = dict(
            v1=V1Config(image_size=64),
            n_layers=4,
            layer_side=16,
            fan_in=(66, 40, 40, 40),
            l1_fan_in=(40, 16, 6, 4),
            fan_in_radius=(6.0, 3.0, 4.5, 6.0),
            inhibition_radius=(1.38, 1.38, 2.0, 3.0),
            inhibition_contrast=(1.5, 1.5, 1.6, 1.4),
            inhibition_width=(7, 7, 9, 13),
            sparseness=(0.97, 0.95, 0.88, 0.9),
            epochs=(5, 5, 5, 5),
        )
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    def for_expressions(self, n_expressions: int) -> VisNetConfig:
        """Return this config with every ``"auto"`` resolved for S expressions.

        ``sparseness``: 1 − 1/S in every layer. ``conscience`` and ``trace_block``: off for
        two expressions; for three or more, γ = :data:`MORE_EXPRESSIONS_CONSCIENCE` in
        shuffled blocks of :data:`MORE_EXPRESSIONS_TRACE_BLOCK`.
        """
        n = int(n_expressions)
        more = n > 2
        resolved = {
            "sparseness": (1.0 - 1.0 / n,) * self.n_layers,
            "conscience": MORE_EXPRESSIONS_CONSCIENCE if more else 0.0,
            "trace_block": MORE_EXPRESSIONS_TRACE_BLOCK if more else 0,
        }
        changes = {name: value for name, value in resolved.items() if getattr(self, name) == "auto"}
        return dataclasses.replace(self, **changes) if changes else self

    @model_validator(mode="after")
    def _layers_fit_together(self) -> Self:
        """Check the rules between fields.

        One value per layer, fan-ins within the layer below, enough winners per layer, and
        layer 1's fan-in split over the V1 wavelengths.
        """
        problems: list[str] = []
        for name in _PER_LAYER:
            value = getattr(self, name)
            if value != "auto" and len(value) != self.n_layers:
                problems.append(
                    f"{name}: expected {self.n_layers} values (one per layer), got {value!r}"
                )
        if isinstance(self.conscience, tuple) and len(self.conscience) != self.n_layers:
            problems.append(
                f"conscience: expected one number or {self.n_layers} (one per layer), "
                f"got {self.conscience!r}"
            )
        if problems:
            raise ValueError("\n".join(problems))
        n_neurons = self.n_neurons
        for i, v in enumerate(self.fan_in[1:], start=1):
            if v > n_neurons:
                problems.append(
                    f"fan_in.{i}: expected at most {n_neurons} (layer {i}'s neurons), got {v}"
                )
        for i, v in enumerate(() if self.sparseness == "auto" else self.sparseness):
            if n_winners(n_neurons, v) < 1:
                problems.append(
                    f"sparseness.{i}: expected at most {1 - 1 / n_neurons:.6g} so that "
                    f"int(N (1 − p)) ≥ 1 of {n_neurons} neurons wins, got {v}"
                )
        n_wavelengths = len(self.v1.wavelengths)
        if len(self.l1_fan_in) != n_wavelengths:
            problems.append(
                f"l1_fan_in: expected {n_wavelengths} integers (one per V1 wavelength), "
                f"got {self.l1_fan_in!r}"
            )
        else:
            units = self.v1.image_size**2 * self.v1.n_features_per_wavelength
            for w, v in enumerate(self.l1_fan_in):
                if v > units:
                    problems.append(
                        f"l1_fan_in.{w}: expected at most {units} (V1 units of wavelength "
                        f"{self.v1.wavelengths[w]:g}), got {v}"
                    )
            if not problems and sum(self.l1_fan_in) != self.fan_in[0]:
                problems.append(
                    f"fan_in.0: expected sum(l1_fan_in) = {sum(self.l1_fan_in)}, "
                    f"got {self.fan_in[0]}"
                )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def n_neurons(self) -> int:
        """Neurons per layer (layer_side²)."""
        return self.layer_side**2

    def layer_conscience(self, layer: int) -> float:
        """γ of the conscience for a layer (0-based)."""
        value = self.conscience
        return float(value[layer] if isinstance(value, tuple) else value)

    def winners(self, layer: int) -> int:
        """K = int(N (1 − p)) for a layer (0-based); needs a resolved ``sparseness``."""
        self._require_resolved()
        return n_winners(self.n_neurons, self.sparseness[layer])

    def _require_resolved(self) -> None:
        for name in _AUTO:
            if getattr(self, name) == "auto":
                raise ConfigError(
                    f"{name}: 'auto' needs the number of expressions S; resolve it with "
                    "VisNetConfig.for_expressions(S) first"
                )


class VisNet:
    """The VisNet stack: connectivity, weights, forward passes and layer-by-layer training.

    Parameters
    ----------
    config
        network parameters.
    rng
        the run's generator; consumed to draw connectivity and initial weights.
    backend
        ``"numba"`` (compiled kernels), ``"numpy"`` (reference) or ``"auto"``
        (numba when importable). Both give the same results to float32 rounding.
    """

    def __init__(
        self,
        config: VisNetConfig | None = None,
        rng: np.random.Generator | None = None,
        *,
        backend: str = "auto",
    ):
        self.config = config if config is not None else VisNetConfig()
        self.config._require_resolved()
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")
        self.backend = resolve_backend(backend)
        arrays: dict[str, np.ndarray] = {}
        for layer in range(self.config.n_layers):
            presynaptic = self._sample_layer(layer, rng)
            weights = rng.random(presynaptic.shape, dtype=np.float32)
            arrays[f"layer{layer + 1}.presynaptic"] = presynaptic.astype(np.int32)
            arrays[f"layer{layer + 1}.weights"] = unit_rows(weights)
        self.layers = self._build_layers(arrays)

    # -- construction -------------------------------------------------------------------------

    def _sample_layer(self, layer: int, rng: np.random.Generator) -> np.ndarray:
        cfg = self.config
        if layer > 0:
            return sample_presynaptic(
                rng,
                cfg.layer_side,
                cfg.layer_side,
                cfg.fan_in_radius[layer],
                cfg.fan_in[layer],
                parameter=f"fan_in[{layer}]",
            )
        v1 = cfg.v1
        map_size = v1.image_size**2
        groups = []
        for w in range(len(v1.wavelengths)):
            offsets = np.array(
                [
                    v1.map_index(o, w, p) * map_size
                    for o in range(len(v1.orientations))
                    for p in range(len(v1.phases))
                ],
                dtype=np.int64,
            )
            groups.append(
                sample_presynaptic(
                    rng,
                    cfg.layer_side,
                    v1.image_size,
                    cfg.fan_in_radius[0],
                    cfg.l1_fan_in[w],
                    offsets,
                    parameter=f"l1_fan_in[{w}]",
                )
            )
        presynaptic = np.concatenate(groups, axis=1)
        presynaptic.sort(axis=1)
        return presynaptic

    def _build_layers(self, arrays: dict[str, np.ndarray]) -> list[CompetitiveLayer]:
        cfg = self.config
        cfg._require_resolved()
        relative = cfg.slope_mode == "relative"
        return [
            CompetitiveLayer(
                arrays[f"layer{i + 1}.presynaptic"],
                arrays[f"layer{i + 1}.weights"],
                side=cfg.layer_side,
                inhibition_radius=cfg.inhibition_radius[i],
                inhibition_contrast=cfg.inhibition_contrast[i],
                inhibition_width=cfg.inhibition_width[i],
                sparseness=cfg.sparseness[i],
                slope=cfg.relative_slope[i] if relative else cfg.slope[i],
                slope_mode=cfg.slope_mode,
                learning_rate=cfg.learning_rate[i],
                rule=cfg.rule,
                trace_eta=cfg.trace_eta,
                backend=self.backend,
                centre_inputs=cfg.centre_inputs,
                conscience=cfg.layer_conscience(i),
            )
            for i in range(cfg.n_layers)
        ]

    # -- persistence --------------------------------------------------------------------------

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Return the connectivity and weights as named arrays, for caching.

        ``layer{i}.presynaptic`` (N, F) int32 and
        ``layer{i}.weights`` (N, F) float32 for i = 1..n_layers, plus ``layer{i}.input_mean``
        (N, F) float32 (x̄) when ``config.centre_inputs`` and ``layer{i}.bias`` (N,) float64
        for a layer with a conscience, whose responses keep its bias (copies).
        """
        arrays: dict[str, np.ndarray] = {}
        for i, layer in enumerate(self.layers):
            arrays[f"layer{i + 1}.presynaptic"] = layer.presynaptic.astype(np.int32)
            arrays[f"layer{i + 1}.weights"] = layer.weights.copy()
            if layer.input_mean is not None:
                arrays[f"layer{i + 1}.input_mean"] = layer.input_mean.copy()
            if layer.conscience > 0:
                arrays[f"layer{i + 1}.bias"] = layer.bias.copy()
        return arrays

    @classmethod
    def from_arrays(
        cls, config: VisNetConfig, arrays: dict[str, np.ndarray], *, backend: str = "auto"
    ) -> Self:
        """Rebuild a network saved with :meth:`to_arrays` (exact round trip).

        Raises
        ------
        ConfigError
            an array is missing or does not fit ``config`` (wrong shape, dtype or
            an index outside the presynaptic layer), e.g. a stale cache.
        """
        problems = []
        n_pre = config.v1.n_maps * config.v1.image_size**2
        for i in range(config.n_layers):
            expected = (config.n_neurons, config.fan_in[i])
            kinds = ("presynaptic", "weights", "input_mean")[: 3 if config.centre_inputs else 2]
            if config.layer_conscience(i) > 0:
                kinds += ("bias",)
            for kind in kinds:
                key = f"layer{i + 1}.{kind}"
                value = arrays.get(key)
                shape = expected[:1] if kind == "bias" else expected
                if value is None:
                    problems.append(f"arrays[{key!r}]: missing")
                elif np.shape(value) != shape:
                    problems.append(
                        f"arrays[{key!r}]: expected shape {shape}, got {np.shape(value)}"
                    )
                elif kind == "presynaptic" and (
                    not np.issubdtype(np.asarray(value).dtype, np.integer)
                    or (value.size and (value.min() < 0 or value.max() >= n_pre))
                ):
                    problems.append(
                        f"arrays[{key!r}]: expected integer indices in [0, {n_pre}), got "
                        f"{np.asarray(value).dtype} values"
                    )
                elif kind != "presynaptic" and not np.all(np.isfinite(value)):
                    problems.append(f"arrays[{key!r}]: expected finite values")
            n_pre = config.n_neurons
        if problems:
            raise ConfigError(problems)
        net = cls.__new__(cls)
        net.config = config
        net.backend = resolve_backend(backend)
        net.layers = net._build_layers(arrays)
        for i, layer in enumerate(net.layers):
            if config.centre_inputs:
                layer.load_input_mean(arrays[f"layer{i + 1}.input_mean"])
            if layer.conscience > 0:
                layer.bias[:] = arrays[f"layer{i + 1}.bias"]
        return net

    # -- inputs -------------------------------------------------------------------------------

    @property
    def n_outputs(self) -> int:
        """Neurons in the last layer."""
        return self.config.n_neurons

    def _check_maps(self, v1_maps: np.ndarray, lead: int, name: str) -> np.ndarray:
        v1 = self.config.v1
        maps = np.asarray(v1_maps)
        tail = (v1.n_maps, v1.image_size, v1.image_size)
        if maps.ndim != lead + 3 or maps.shape[lead:] != tail:
            dims = "n_objects, n_transforms" if lead == 2 else "n"
            raise ValueError(
                f"{name}: expected shape ({dims}, {', '.join(map(str, tail))}), "
                f"got {tuple(maps.shape)}"
            )
        return maps

    def gather_v1(self, v1_maps: np.ndarray) -> np.ndarray:
        """Return the V1 values layer-1 synapses read.

        Maps (..., n_maps, H, W) → values (..., N1, fan_in1) float32.
        """
        v1 = self.config.v1
        maps = np.asarray(v1_maps, dtype=np.float32)
        lead = maps.shape[:-3]
        flat = maps.reshape(-1, v1.n_maps * v1.image_size**2)
        presynaptic = self.layers[0].presynaptic
        out = np.empty((flat.shape[0], *presynaptic.shape), dtype=np.float32)
        for i in range(flat.shape[0]):
            np.take(flat[i], presynaptic, out=out[i])
        return out.reshape(*lead, *presynaptic.shape)

    # -- forward ------------------------------------------------------------------------------

    def layer_rates(self, v1_maps: np.ndarray) -> list[np.ndarray]:
        """Rates of every layer with learning off.

        Parameters
        ----------
        v1_maps
            (n, n_maps, H, W) V1 stacks from :meth:`dyad.brain.v1.V1.filter`.

        Returns
        -------
        list[np.ndarray]
            One (n, N) float32 array per layer, layer 1 first.
        """
        maps = self._check_maps(v1_maps, 1, "v1_maps")
        flat = np.ascontiguousarray(maps, dtype=np.float32).reshape(maps.shape[0], -1)
        rates = [self.layers[0].respond(flat)]
        for layer in self.layers[1:]:
            rates.append(layer.respond(rates[-1]))
        return rates

    def transform(self, v1_maps: np.ndarray) -> np.ndarray:
        """Last-layer (L4) rates with learning off: (n, n_maps, H, W) → (n, N) float32."""
        return self.layer_rates(v1_maps)[-1]

    def step(
        self, layer1_input: np.ndarray, learn_layers: tuple[int, ...] | range = ()
    ) -> list[np.ndarray]:
        """Present one image through all layers, learning in the listed layers (0-based).

        Parameters
        ----------
        layer1_input
            (N1, fan_in1) float32, one image's output of :meth:`gather_v1`.
        learn_layers
            layers that apply their learning rule on this presentation.

        Returns
        -------
        list[np.ndarray]
            One (N,) float32 rate vector per layer.
        """
        rates = [self.layers[0].step(layer1_input, learn=0 in learn_layers, gathered=True)]
        for i, layer in enumerate(self.layers[1:], start=1):
            rates.append(layer.step(rates[-1], learn=i in learn_layers))
        return rates

    def reset_traces(self) -> None:
        """Zero the trace of every layer."""
        for layer in self.layers:
            layer.reset_trace()

    # -- training -----------------------------------------------------------------------------

    def fit(
        self,
        v1_maps: np.ndarray,
        progress: Callable[[str, int, int], None] | None = None,
        rng: np.random.Generator | None = None,
    ) -> Self:
        """Train layer by layer (model.md §6.4).

        Parameters
        ----------
        v1_maps
            (n_objects, n_transforms, n_maps, H, W) V1 stacks; objects (e.g.
            expressions) in order, each object's transforms contiguous.
        progress
            called as ``progress("VisNet layer i", epochs_done, epochs)`` at the
            start of each layer and after each epoch (:class:`dyad.progress.ClickProgress`
            draws it as a bar); None reports nothing.
        rng
            draws the order of the blocks when ``config.trace_block`` is above 0 (required
            then); unused otherwise.

        Returns
        -------
        Self
            self, trained.
        """
        maps = self._check_maps(v1_maps, 2, "v1_maps")
        return self.fit_gathered(self.gather_v1(maps), progress=progress, rng=rng)

    def fit_gathered(
        self,
        layer1_inputs: np.ndarray,
        progress: Callable[[str, int, int], None] | None = None,
        rng: np.random.Generator | None = None,
    ) -> Self:
        """As :meth:`fit` from pre-gathered layer-1 inputs.

        Parameters
        ----------
        layer1_inputs
            (n_objects, n_transforms, N1, fan_in1) float32 from
            :meth:`gather_v1`.
        progress, rng
            as in :meth:`fit`.
        """
        if self.config.trace_block and not isinstance(rng, np.random.Generator):
            raise TypeError(
                "rng: trace_block is set, so the order of the blocks needs a "
                f"numpy.random.Generator, got {type(rng).__name__}"
            )
        inputs = np.ascontiguousarray(layer1_inputs, dtype=np.float32)
        expected = self.layers[0].presynaptic.shape
        if inputs.ndim != 4 or inputs.shape[2:] != expected or 0 in inputs.shape[:2]:
            raise ValueError(
                f"layer1_inputs: expected shape (n_objects, n_transforms, {expected[0]}, "
                f"{expected[1]}), got {tuple(inputs.shape)}"
            )
        n_objects, n_transforms = inputs.shape[:2]
        gathered = True
        for index, layer in enumerate(self.layers):
            if index > 0:
                below = self.layers[index - 1]
                flat = inputs.reshape(n_objects * n_transforms, *inputs.shape[2:])
                inputs = below.respond(flat, gathered=gathered).reshape(n_objects, n_transforms, -1)
                gathered = False
            epochs = self.config.epochs[index]
            if self.config.centre_inputs and epochs > 0:
                flat = inputs.reshape(n_objects * n_transforms, *inputs.shape[2:])
                layer.set_input_mean(flat, gathered=gathered)
            layer.reset_bias()
            stage = f"VisNet layer {index + 1}"
            if progress is not None:
                progress(stage, 0, epochs)
            threads = thread_chooser(self.backend)
            try:
                for epoch in range(epochs):
                    threads.new_epoch()
                    for obj, transforms in training_blocks(
                        self.config, epoch, n_objects, n_transforms, rng
                    ):
                        layer.reset_trace()
                        for t in transforms:
                            threads.run(
                                partial(layer.step, inputs[obj, t], learn=True, gathered=gathered)
                            )
                    if progress is not None:
                        progress(stage, epoch + 1, epochs)
            finally:
                threads.close()
            fallbacks = [i for i, at in enumerate(threads.fallbacks) if at is not None]
            logger.debug(
                "VisNet layer %d: threads per epoch %s; fell back to one thread in epochs %s",
                index + 1,
                threads.choices,
                fallbacks,
            )
            layer.reset_trace()
            logger.debug("trained VisNet layer %d for %d epochs", index + 1, epochs)
        return self


def training_blocks(
    config: VisNetConfig,
    epoch: int,
    n_objects: int,
    n_transforms: int,
    rng: np.random.Generator | None = None,
) -> list[tuple[int, np.ndarray]]:
    """Return the trace blocks of one training epoch in presentation order: (object, transforms).

    The trace is reset before each block. With ``config.trace_block = 0`` each object is one
    block: objects in order, reversed on odd epochs, and the transforms first to last (last to
    first on odd epochs with ``transform_order="alternating"``); ``rng`` is not used. With
    ``trace_block = n`` each object's transforms are shuffled and cut into blocks of n (the
    last may be shorter), and the blocks of all objects come in a random order drawn from
    ``rng``.
    """
    config._require_resolved()
    if not config.trace_block:
        backwards = epoch % 2 == 1
        objects = range(n_objects - 1, -1, -1) if backwards else range(n_objects)
        transforms = np.arange(n_transforms)
        if backwards and config.transform_order == "alternating":
            transforms = transforms[::-1]
        return [(obj, transforms) for obj in objects]
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")
    size = config.trace_block
    blocks = []
    for obj in range(n_objects):
        order = rng.permutation(n_transforms)
        blocks += [(obj, order[i : i + size]) for i in range(0, n_transforms, size)]
    return [blocks[i] for i in rng.permutation(len(blocks))]


__all__ = ["VisNet", "VisNetConfig", "training_blocks"]
