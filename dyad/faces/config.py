"""What a face can show and how faces are drawn.

The FACS action units, the expression presets, the ranges of the random transform, a parent's
identity and the renderer's settings (model.md §13).
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import numpy as np
from pydantic import AfterValidator, Field

from dyad.validation import Int, Real, check_int, frozen_config, real

#: The FACS action units the parametric face implements: name -> what it does to the drawing.
#: Names and muscles follow model.md §13.2 ([FACS2]); AU2, 5, 7, 9, 10, 16, 20, 23 and 26 are
#: added for the other basic-emotion prototypes.
ACTION_UNITS: dict[str, str] = {
    "AU1": "inner brow raiser (frontalis, pars medialis): inner brow ends up, oblique brows, "
    "horizontal lines in the centre of the forehead",
    "AU2": "outer brow raiser (frontalis, pars lateralis): outer brow ends and arch up, "
    "horizontal lines on the sides of the forehead",
    "AU4": "brow lowerer (corrugator, depressor supercilii): brows down and drawn together, "
    "vertical glabellar lines, upper lid slightly lowered",
    "AU5": "upper lid raiser (levator palpebrae): upper lid up, sclera shows above the iris",
    "AU6": "cheek raiser (orbicularis oculi, pars orbitalis): cheeks up, lower lid raised so the "
    "eye narrows, crow's-feet lines, infra-orbital furrow",
    "AU7": "lid tightener (orbicularis oculi, pars palpebralis): both lids tighten, lower lid "
    "raised and straightened, eye narrows",
    "AU9": "nose wrinkler (levator labii superioris alaeque nasi): wrinkles across the nose, "
    "nostril wings up and wider, inner brows lowered, upper lip slightly up",
    "AU10": "upper lip raiser (levator labii superioris): upper lip raised in the centre, upper "
    "teeth show, nasolabial folds deepen",
    "AU12": "lip corner puller (zygomaticus major): corners up and outward, upward-curved mouth, "
    "thinner lips, nasolabial folds deepen",
    "AU15": "lip corner depressor (depressor anguli oris): corners down, downward-curved mouth",
    "AU16": "lower lip depressor (depressor labii inferioris): lower lip pulled down, lower "
    "teeth show",
    "AU17": "chin raiser (mentalis): chin boss up, lower lip pushed up, deeper mentolabial "
    "sulcus, chin wrinkles",
    "AU20": "lip stretcher (risorius): mouth stretched sideways, flatter and thinner lips",
    "AU23": "lip tightener (orbicularis oris): lips narrowed and thinned, mouth narrower",
    "AU25": "lips part: lips apart, a lighter band of upper teeth shows",
    "AU26": "jaw drop (masseter relaxed): mouth opens wide, lower lip and chin lines move down",
}

#: AU-intensity presets (intensities in [0, 1]; absent AUs are 0). Happy and sad are model.md
#: §13.3; the other prototypes follow the EMFACS combinations of Ekman & Friesen (recalled,
#: model.md tag [R]): surprise 1+2+5+26, anger 4+5+7+23, fear 1+2+4+5+7+20+26, disgust
#: 9+15+16 with 10 (its other main marker) and 25 (lips part with 16).
EXPRESSIONS: dict[str, dict[str, float]] = {
    "happy": {"AU6": 0.8, "AU12": 1.0, "AU25": 0.5},
    "sad": {"AU1": 0.8, "AU4": 0.6, "AU15": 1.0, "AU17": 0.4},
    "surprise": {"AU1": 1.0, "AU2": 1.0, "AU5": 0.7, "AU26": 0.8},
    "anger": {"AU4": 1.0, "AU5": 0.6, "AU7": 0.8, "AU23": 1.0},
    "fear": {"AU1": 0.9, "AU2": 0.7, "AU4": 0.5, "AU5": 1.0, "AU7": 0.4, "AU20": 1.0, "AU26": 0.5},
    "disgust": {"AU9": 1.0, "AU10": 0.6, "AU15": 0.5, "AU16": 0.5, "AU25": 0.4},
    "neutral": {},
}

#: Image side at which :class:`TransformConfig` translations are given (model.md §13.3).
_REFERENCE_SIZE = 128


def _ordered(pair: tuple[float, float]) -> tuple[float, float]:
    if pair[0] > pair[1]:
        raise ValueError(f"expected low <= high, got {pair!r}")
    return pair


def _bounded_pair(low: float, high: float) -> Any:
    """Return the type of a ``(low, high)`` range of numbers within ``[low, high]``, low first."""
    bounded = real(ge=low, le=high)
    return Annotated[tuple[bounded, bounded], AfterValidator(_ordered)]


_ScaleRange = _bounded_pair(0.5, 2.0)
_CompressionRange = _bounded_pair(0.5, 1.0)
_ContrastRange = _bounded_pair(0.1, 4.0)


#: the largest supersampling factor: the canvas is this many times the image side (memory)
MAX_SUPERSAMPLE = 16

#: the face's scale range in dyad's scenarios: ×0.9–1.1 about a face drawn ×1.4
LEARNABLE_SCALE = (1.26, 1.54)


@frozen_config
class TransformConfig:
    """Ranges of the identity-preserving random transform applied to each image (model.md §13.3).

    Every quantity is drawn uniformly from its range, independently per image, from the
    generator passed to ``images``. Set a range to a single value (or an amplitude to 0) to
    switch that transform off; :meth:`disabled` switches all of them off.

    Attributes
    ----------
    translation
        maximum shift in x and in y, in pixels at a 128-px image (scaled with the
        image size).
    scale
        isotropic scale factor range.
    rotation
        maximum in-plane rotation, degrees (either direction).
    compression
        horizontal compression factor range, about a random vertical axis within
        the face (a small yaw).
    brightness
        maximum grey-level offset added to the face.
    contrast
        contrast factor range, about the background grey.
    gradient
        maximum amplitude (grey levels, either sign) of a linear lighting gradient
        across the face at a random angle; the face edge is at ±amplitude.
    noise
        standard deviation (grey levels) of Gaussian pixel noise on the face.
    au_jitter
        maximum change of each active action unit's intensity (result clipped to
        [0, 1]); AUs the expression does not use stay at 0. Parametric faces only.
    """

    translation: Real = Field(8.0, ge=0.0, le=32.0)
    scale: _ScaleRange = (0.9, 1.1)
    rotation: Real = Field(8.0, ge=0.0, le=90.0)
    compression: _CompressionRange = (0.95, 1.0)
    brightness: Real = Field(10.0, ge=0.0, le=128.0)
    contrast: _ContrastRange = (0.9, 1.1)
    gradient: Real = Field(15.0, ge=0.0, le=128.0)
    noise: Real = Field(3.0, ge=0.0, le=64.0)
    au_jitter: Real = Field(0.15, ge=0.0, le=1.0)

    @classmethod
    def learnable(cls) -> TransformConfig:
        """Return the ranges dyad's scenarios use: model.md's, shift halved, the face drawn larger.

        ±4 px, ±8°, yaw ×0.95–1.0 and every photometric change, and the face scaled ×1.26–1.54:
        ×0.9–1.1 (model.md's range) about a face drawn ×1.4, so that it fills more of the view.
        ±4 px is the widest shift at which pre-training gives layer-4 expression cells on faces
        it never saw and the interaction gives mirror neurons (docs/vision.md, "Tolerance").
        At ×1.4 the mouth spans about 25 px instead of 18, enough for the coarse V1 maps layer 1
        reads to resolve it; every trained visual system measured then supports mirror neurons,
        where at ×1 some did not (docs/vision.md, "Results at full size"; docs/results.md).
        """
        return cls(translation=4.0, scale=LEARNABLE_SCALE)

    def about_one(self) -> TransformConfig:
        """Return these ranges with the scale range centred on ×1, its spread kept.

        Photographs keep the framing they were taken with: the drawn face's enlargement
        (×1.4 in the scenarios, :data:`LEARNABLE_SCALE`) would crop them, so a parent's photos
        are scaled by ``scale / mid-range`` instead (×0.9–1.1 for the default ×1.26–1.54).
        """
        low, high = self.scale
        middle = (low + high) / 2.0
        return dataclasses.replace(self, scale=(low / middle, high / middle))

    @classmethod
    def photometric(cls) -> TransformConfig:
        """Return the default ranges with the geometric transforms switched off.

        No translation, scaling, rotation or compression; brightness, contrast, lighting
        gradient, pixel noise and AU-intensity jitter keep their defaults.
        """
        return cls(translation=0.0, scale=(1.0, 1.0), rotation=0.0, compression=(1.0, 1.0))

    @classmethod
    def disabled(cls) -> TransformConfig:
        """No transform at all: every image equals the canonical one."""
        return cls(
            translation=0.0,
            scale=(1.0, 1.0),
            rotation=0.0,
            compression=(1.0, 1.0),
            brightness=0.0,
            contrast=(1.0, 1.0),
            gradient=0.0,
            noise=0.0,
            au_jitter=0.0,
        )


def _ranged(low: float, high: float) -> Any:
    """Return a field of :class:`FaceIdentity`: a number in [low, high], the midpoint by default."""
    return Field((low + high) / 2, ge=low, le=high)


@frozen_config
class FaceIdentity:
    """One parent's face: the parameters that do not change with expression (model.md §13.3).

    Lengths are in face units (the image spans [-1, 1]), grey levels on 0–255. Each field
    lies in its range; the defaults are the range midpoints (an average parent), and
    :meth:`from_seed` draws uniformly within the ranges.
    """

    head_width: Real = _ranged(0.45, 0.54)  # half-width of the skull
    head_height: Real = _ranged(0.58, 0.66)  # half-height, crown to chin
    jaw_taper: Real = _ranged(0.0, 0.3)  # how much narrower the jaw is than the temples
    chin_shape: Real = _ranged(1.6, 2.8)  # lower contour's exponent: < 2 pointed, > 2 square
    skin: Real = _ranged(150.0, 210.0)  # grey level
    hair: Real = _ranged(20.0, 105.0)  # grey level
    hair_volume: Real = _ranged(0.03, 0.08)  # how far hair stands out from the skull
    hair_length: Real = _ranged(-0.15, 0.45)  # y where the hair at the back ends
    hairline: Real = _ranged(0.28, 0.5)  # fraction of the way from crown to brows
    hairline_tilt: Real = _ranged(-0.08, 0.08)  # side-swept fringe: y change, centre to temple
    widows_peak: Real = _ranged(-0.03, 0.05)  # how far the hairline dips at the centre
    eye_spacing: Real = _ranged(0.17, 0.22)  # half the distance between the eye centres
    eye_width: Real = _ranged(0.08, 0.1)  # half-width of the eye opening
    eye_height: Real = _ranged(0.036, 0.05)  # height of the upper lid above the eye line
    iris: Real = _ranged(25.0, 120.0)  # grey level
    brow_thickness: Real = _ranged(0.035, 0.06)
    brow_length: Real = _ranged(0.16, 0.23)
    brow_height: Real = _ranged(0.085, 0.13)  # brow baseline above the eye line
    brow_arch: Real = _ranged(0.005, 0.035)
    nose_length: Real = _ranged(0.17, 0.25)  # eye line to nose tip
    nose_width: Real = _ranged(0.05, 0.085)  # half-width of the nostril wings
    mouth_width: Real = _ranged(0.12, 0.17)  # half-width
    upper_lip: Real = _ranged(0.02, 0.04)  # thickness
    lower_lip: Real = _ranged(0.03, 0.055)
    lip_shade: Real = _ranged(20.0, 50.0)  # how much darker the lips are than the skin
    fold_depth: Real = _ranged(4.0, 18.0)  # darkness of the nasolabial folds at rest

    @classmethod
    def from_seed(cls, seed: int) -> FaceIdentity:
        """Return a parent drawn uniformly within every range.

        The draws come from ``numpy.random.default_rng(seed)``.
        """
        seed = check_int("identity_seed", seed, 0)
        rng = np.random.default_rng(seed)
        values = {
            name: float(rng.uniform(low, high)) for name, (low, high) in _IDENTITY_RANGES.items()
        }
        return cls(**values)


def _field_range(field: Any) -> tuple[float, float]:
    low = next(item.ge for item in field.metadata if hasattr(item, "ge"))
    high = next(item.le for item in field.metadata if hasattr(item, "le"))
    return low, high


#: Range of each identity parameter, (low, high), as the fields of :class:`FaceIdentity` declare
_IDENTITY_RANGES: dict[str, tuple[float, float]] = {
    name: _field_range(field) for name, field in FaceIdentity.__pydantic_fields__.items()
}


@frozen_config
class FaceConfig:
    """How parametric faces are rendered.

    Attributes
    ----------
    size
        image side in pixels (images are ``(size, size)``).
    identity_seed
        seed of the parent's :class:`FaceIdentity`.
    background
        the uniform background (padding) grey level (model.md §3.1).
    supersample
        the canvas is ``supersample`` times the image side, then box-downsampled
        (anti-aliasing; 4 in model.md §13.3).
    transforms
        ranges of the per-image random transform.
    """

    size: Int = Field(128, ge=16, le=4096)
    identity_seed: Int = Field(0, ge=0)
    background: Real = Field(128.0, ge=0.0, le=255.0)
    supersample: Int = Field(4, ge=1, le=MAX_SUPERSAMPLE)
    transforms: TransformConfig = Field(default_factory=TransformConfig)
