"""Parent faces: a parametric face driven by FACS action units, random transforms, photos.

VisNet is pre-trained on "randomised" images of the parent's face showing each expression
(model.md §6.5, §13). This module makes those images in two ways:

* :class:`ParametricFaces` draws a procedural 2-D face of one parent (model.md §13.3). The
  parent's identity (head shape, grey levels, hairline, eyes, brows, nose, mouth) comes from an
  integer seed (:class:`FaceIdentity`); the expression is a set of FACS action-unit (AU)
  intensities in [0, 1] (:data:`ACTION_UNITS`, :data:`EXPRESSIONS`) that move the brows, eyelids,
  cheeks, nose, lips and chin and deepen lines and folds.
* :class:`PhotoFaces` loads greyscale photographs from a folder, labelled by file name or CSV.

Both give images through the same protocol: ``.expressions`` (tuple of names),
``.render(expression, rng=None)`` (the canonical image when ``rng`` is None) and
``.images(expression, n, rng) -> (n, size, size) float32`` on the 0–255 grey scale, each image
an identity-preserving random transform (:class:`TransformConfig`).

Geometry is written in *face units*: the image spans [-1, 1] on both axes, x to the right and y
downwards, so one unit is 64 px at 128 px. Every shape is a polygon in face units; a random
transform is an affine map applied to the polygon vertices, so transformed faces stay sharp.
Polygons are filled with Pillow on a canvas ``supersample`` times larger than the image and
box-downsampled, which anti-aliases edges (model.md §13.3) so Gabor filters do not respond to
pixel staircases.

The background is the padding grey (128 by default, model.md §3.1) and stays exactly uniform in
every image: brightness, lighting gradient and pixel noise act on the face (the area covered by
head, hair and ears) only, weighted by its anti-aliased coverage; contrast acts about the
background grey, so it leaves the background unchanged too.
"""

from __future__ import annotations

import csv
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from dyad.errors import ConfigError

logger = logging.getLogger(__name__)

__all__ = [
    "ACTION_UNITS",
    "EXPRESSIONS",
    "FaceConfig",
    "FaceIdentity",
    "FaceSource",
    "ParametricFaces",
    "PhotoFaces",
    "TransformConfig",
    "contact_sheet",
]

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
#: File types :class:`PhotoFaces` reads.
PHOTO_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".pgm", ".ppm", ".webp")


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


def _check_number(name: str, value: object, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{name}: expected a number in [{low}, {high}], got {value!r}")
    if not low <= value <= high:
        raise ConfigError(f"{name}: expected a number in [{low}, {high}], got {value!r}")
    return float(value)


def _check_range(name: str, value: object, low: float, high: float) -> tuple[float, float]:
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
        raise ConfigError(f"{name}: expected a (low, high) pair, got {value!r}")
    lo = _check_number(f"{name}[0]", value[0], low, high)
    hi = _check_number(f"{name}[1]", value[1], low, high)
    if lo > hi:
        raise ConfigError(f"{name}: expected low <= high, got {value!r}")
    return lo, hi


def _check_int(name: str, value: object, low: int, high: int | None = None) -> int:
    bad = isinstance(value, bool) or not isinstance(value, int | np.integer)
    if bad or value < low or (high is not None and value > high):
        bound = f"an integer >= {low}" if high is None else f"an integer in [{low}, {high}]"
        raise ConfigError(f"{name}: expected {bound}, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class TransformConfig:
    """Ranges of the identity-preserving random transform applied to each image (model.md §13.3).

    Every quantity is drawn uniformly from its range, independently per image, from the
    generator passed to ``images``. Set a range to a single value (or an amplitude to 0) to
    switch that transform off; :meth:`disabled` switches all of them off.

    Attributes:
        translation: maximum shift in x and in y, in pixels at a 128-px image (scaled with the
            image size).
        scale: isotropic scale factor range.
        rotation: maximum in-plane rotation, degrees (either direction).
        compression: horizontal compression factor range, about a random vertical axis within
            the face (a small yaw).
        brightness: maximum grey-level offset added to the face.
        contrast: contrast factor range, about the background grey.
        gradient: maximum amplitude (grey levels, either sign) of a linear lighting gradient
            across the face at a random angle; the face edge is at ±amplitude.
        noise: standard deviation (grey levels) of Gaussian pixel noise on the face.
        au_jitter: maximum change of each active action unit's intensity (result clipped to
            [0, 1]); AUs the expression does not use stay at 0. Parametric faces only.
    """

    translation: float = 8.0
    scale: tuple[float, float] = (0.9, 1.1)
    rotation: float = 8.0
    compression: tuple[float, float] = (0.95, 1.0)
    brightness: float = 10.0
    contrast: tuple[float, float] = (0.9, 1.1)
    gradient: float = 15.0
    noise: float = 3.0
    au_jitter: float = 0.15

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "translation", _check_number("translation", self.translation, 0.0, 32.0)
        )
        object.__setattr__(self, "scale", _check_range("scale", self.scale, 0.5, 2.0))
        object.__setattr__(self, "rotation", _check_number("rotation", self.rotation, 0.0, 90.0))
        object.__setattr__(
            self, "compression", _check_range("compression", self.compression, 0.5, 1.0)
        )
        object.__setattr__(
            self, "brightness", _check_number("brightness", self.brightness, 0.0, 128.0)
        )
        object.__setattr__(self, "contrast", _check_range("contrast", self.contrast, 0.1, 4.0))
        object.__setattr__(self, "gradient", _check_number("gradient", self.gradient, 0.0, 128.0))
        object.__setattr__(self, "noise", _check_number("noise", self.noise, 0.0, 64.0))
        object.__setattr__(self, "au_jitter", _check_number("au_jitter", self.au_jitter, 0.0, 1.0))

    @classmethod
    def learnable(cls) -> TransformConfig:
        """The ranges dyad's scenarios use: model.md's, with the shift halved to ±4 px.

        ±4 px, ×0.9–1.1, ±8°, yaw ×0.95–1.0 and every photometric change: the widest shift at
        which pre-training gives layer-4 expression cells on faces it never saw and the
        interaction gives mirror neurons (docs/vision.md, "Tolerance").
        """
        return cls(translation=4.0)

    @classmethod
    def photometric(cls) -> TransformConfig:
        """The default ranges with the geometric transforms switched off.

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


#: Range of each identity parameter: (low, high). Defaults are the midpoints (an average
#: parent); :meth:`FaceIdentity.from_seed` draws uniformly within them. Lengths are face units.
_IDENTITY_RANGES: dict[str, tuple[float, float]] = {
    "head_width": (0.45, 0.54),  # half-width of the skull
    "head_height": (0.58, 0.66),  # half-height, crown to chin
    "jaw_taper": (0.0, 0.3),  # how much narrower the jaw is than the temples
    "chin_shape": (1.6, 2.8),  # exponent of the lower contour: < 2 pointed, > 2 square
    "skin": (150.0, 210.0),  # grey level
    "hair": (20.0, 105.0),  # grey level
    "hair_volume": (0.03, 0.08),  # how far hair stands out from the skull
    "hair_length": (-0.15, 0.45),  # y where the hair at the back ends
    "hairline": (0.28, 0.5),  # fraction of the way from crown to brows
    "hairline_tilt": (-0.08, 0.08),  # side-swept fringe: y change from face centre to temple
    "widows_peak": (-0.03, 0.05),  # how far the hairline dips at the centre
    "eye_spacing": (0.17, 0.22),  # half the distance between the eye centres
    "eye_width": (0.08, 0.1),  # half-width of the eye opening
    "eye_height": (0.036, 0.05),  # height of the upper lid above the eye line
    "iris": (25.0, 120.0),  # grey level
    "brow_thickness": (0.035, 0.06),
    "brow_length": (0.16, 0.23),
    "brow_height": (0.085, 0.13),  # brow baseline above the eye line
    "brow_arch": (0.005, 0.035),
    "nose_length": (0.17, 0.25),  # eye line to nose tip
    "nose_width": (0.05, 0.085),  # half-width of the nostril wings
    "mouth_width": (0.12, 0.17),  # half-width
    "upper_lip": (0.02, 0.04),  # thickness
    "lower_lip": (0.03, 0.055),
    "lip_shade": (20.0, 50.0),  # how much darker the lips are than the skin
    "fold_depth": (4.0, 18.0),  # darkness of the nasolabial folds at rest
}


@dataclass(frozen=True)
class FaceIdentity:
    """One parent's face: the parameters that do not change with expression (model.md §13.3).

    Lengths are in face units (the image spans [-1, 1]), grey levels on 0–255. Each field
    must lie in its range in ``_IDENTITY_RANGES``; the defaults are the range midpoints.
    """

    head_width: float = 0.495
    head_height: float = 0.62
    jaw_taper: float = 0.15
    chin_shape: float = 2.2
    skin: float = 180.0
    hair: float = 62.5
    hair_volume: float = 0.055
    hair_length: float = 0.15
    hairline: float = 0.39
    hairline_tilt: float = 0.0
    widows_peak: float = 0.01
    eye_spacing: float = 0.195
    eye_width: float = 0.09
    eye_height: float = 0.043
    iris: float = 72.5
    brow_thickness: float = 0.0475
    brow_length: float = 0.195
    brow_height: float = 0.1075
    brow_arch: float = 0.02
    nose_length: float = 0.21
    nose_width: float = 0.0675
    mouth_width: float = 0.145
    upper_lip: float = 0.03
    lower_lip: float = 0.0425
    lip_shade: float = 35.0
    fold_depth: float = 11.0

    def __post_init__(self) -> None:
        for name, (low, high) in _IDENTITY_RANGES.items():
            object.__setattr__(self, name, _check_number(name, getattr(self, name), low, high))

    @classmethod
    def from_seed(cls, seed: int) -> FaceIdentity:
        """A parent drawn uniformly within every range from ``numpy.random.default_rng(seed)``."""
        seed = _check_int("identity_seed", seed, 0)
        rng = np.random.default_rng(seed)
        values = {
            name: float(rng.uniform(low, high)) for name, (low, high) in _IDENTITY_RANGES.items()
        }
        return cls(**values)


@dataclass(frozen=True)
class FaceConfig:
    """How parametric faces are rendered.

    Attributes:
        size: image side in pixels (images are ``(size, size)``).
        identity_seed: seed of the parent's :class:`FaceIdentity`.
        background: the uniform background (padding) grey level (model.md §3.1).
        supersample: the canvas is ``supersample`` times the image side, then box-downsampled
            (anti-aliasing; 4 in model.md §13.3).
        transforms: ranges of the per-image random transform.
    """

    size: int = 128
    identity_seed: int = 0
    background: float = 128.0
    supersample: int = 4
    transforms: TransformConfig = field(default_factory=TransformConfig)

    def __post_init__(self) -> None:
        _check_int("size", self.size, 16, 4096)
        _check_int("identity_seed", self.identity_seed, 0)
        object.__setattr__(
            self, "background", _check_number("background", self.background, 0.0, 255.0)
        )
        _check_int("supersample", self.supersample, 1, 16)
        if not isinstance(self.transforms, TransformConfig):
            raise ConfigError(
                f"transforms: expected a TransformConfig, got {type(self.transforms).__name__}"
            )


# --------------------------------------------------------------------------------------------
# Random transforms shared by parametric faces and photos
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Draw:
    """One image's random transform. Geometry in face units, photometry in grey levels."""

    shift: tuple[float, float] = (0.0, 0.0)
    scale: float = 1.0
    rotation: float = 0.0  # radians
    compression: float = 1.0
    axis: float = 0.0  # x of the compression axis relative to the face centre
    brightness: float = 0.0
    contrast: float = 1.0
    gradient: float = 0.0
    gradient_angle: float = 0.0


_CANONICAL = _Draw()


def _sample_draw(config: TransformConfig, rng: np.random.Generator, axis_range: float) -> _Draw:
    """Draw one image's transform; always the same number of draws, in the same order."""
    shift_units = config.translation / (_REFERENCE_SIZE / 2)
    dx, dy = rng.uniform(-shift_units, shift_units, size=2)
    scale = rng.uniform(*config.scale)
    rotation = math.radians(rng.uniform(-config.rotation, config.rotation))
    compression = rng.uniform(*config.compression)
    axis = rng.uniform(-axis_range, axis_range)
    brightness = rng.uniform(-config.brightness, config.brightness)
    contrast = rng.uniform(*config.contrast)
    gradient = rng.uniform(-config.gradient, config.gradient)
    gradient_angle = rng.uniform(0.0, 2.0 * math.pi)
    return _Draw(
        (float(dx), float(dy)),
        float(scale),
        float(rotation),
        float(compression),
        float(axis),
        float(brightness),
        float(contrast),
        float(gradient),
        float(gradient_angle),
    )


def _affine(draw: _Draw, centre: tuple[float, float]) -> np.ndarray:
    """The (2, 3) map from face units to transformed face units for ``draw``.

    Compression about the vertical axis ``centre.x + axis``, then scale and rotation about
    ``centre``, then the shift.
    """
    c, s = math.cos(draw.rotation), math.sin(draw.rotation)
    rotation = draw.scale * np.array([[c, -s], [s, c]])
    linear = rotation @ np.diag([draw.compression, 1.0])
    centre_v = np.asarray(centre)
    offset = (
        centre_v
        - linear @ centre_v
        + rotation @ np.array([(1.0 - draw.compression) * draw.axis, 0.0])
        + np.asarray(draw.shift)
    )
    return np.hstack([linear, offset[:, None]])


def _compose(
    shade: np.ndarray,
    coverage: np.ndarray,
    draw: _Draw,
    noise: float,
    rng: np.random.Generator | None,
    background: float,
    centre_px: tuple[float, float],
    radius_px: float,
) -> np.ndarray:
    """Apply contrast, brightness, lighting gradient and noise to the face only.

    ``shade`` is the drawn image (background where nothing was drawn), ``coverage`` the face's
    anti-aliased coverage in [0, 1] (both ``(size, size)``). Contrast scales about the
    background grey; brightness, gradient and noise are weighted by coverage, so pixels the face
    does not touch stay exactly at ``background``. Returns float32 clipped to [0, 255].
    """
    size = shade.shape[0]
    out = shade.astype(np.float32, copy=True)
    if draw.contrast != 1.0:
        out -= background
        out *= draw.contrast
        out += background
    light = np.full((size, size), draw.brightness, dtype=np.float32)
    if draw.gradient != 0.0:
        grid = np.arange(size, dtype=np.float32) + 0.5
        gx = (math.cos(draw.gradient_angle) * draw.gradient / radius_px) * (grid - centre_px[0])
        gy = (math.sin(draw.gradient_angle) * draw.gradient / radius_px) * (grid - centre_px[1])
        light += gy[:, None] + gx[None, :]
    if noise > 0.0 and rng is not None:
        light += rng.normal(0.0, noise, size=(size, size)).astype(np.float32)
    light *= coverage
    out += light
    np.clip(out, 0.0, 255.0, out=out)
    return out


# --------------------------------------------------------------------------------------------
# Polygon helpers (face units)
# --------------------------------------------------------------------------------------------


def _ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 24) -> np.ndarray:
    t = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def _band(x: np.ndarray, top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """The polygon between two curves over the same x samples (top has smaller y)."""
    return np.concatenate([np.stack([x, top], 1), np.stack([x[::-1], bottom[::-1]], 1)])


def _bezier(p0: Sequence[float], p1: Sequence[float], p2: Sequence[float], n: int) -> np.ndarray:
    """Quadratic Bézier curve from p0 to p2 pulled towards p1: (n, 2)."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    return (1 - t) ** 2 * np.asarray(p0) + 2 * (1 - t) * t * np.asarray(p1) + t**2 * np.asarray(p2)


def _taper(n: int, width: float, floor: float = 0.15) -> np.ndarray:
    """Widths along a stroke that narrow towards both ends (a wrinkle or fold)."""
    return width * (floor + (1 - floor) * np.sqrt(np.sin(np.linspace(0.0, np.pi, n))))


def _stroke(points: np.ndarray, width: float | np.ndarray) -> np.ndarray:
    """The polygon of a thick polyline; ``width`` per point or scalar, in face units."""
    d = np.gradient(points, axis=0)
    normal = np.stack([-d[:, 1], d[:, 0]], axis=1)
    normal /= np.hypot(normal[:, 0], normal[:, 1])[:, None] + 1e-12
    half = np.asarray(width, dtype=float)[..., None] / 2 if np.ndim(width) else width / 2
    return np.concatenate([points + normal * half, (points - normal * half)[::-1]])


def _mirror(poly: np.ndarray) -> np.ndarray:
    return poly * np.array([-1.0, 1.0])


# --------------------------------------------------------------------------------------------
# The parametric face
# --------------------------------------------------------------------------------------------

_Shape = tuple[np.ndarray, float]  # (polygon (k, 2) in face units, grey level)


class _FaceGeometry:
    """Polygons of one parent's face for given AU intensities (face units).

    Drawing order (later shapes cover earlier ones): back hair, ears, head, cheek highlights,
    forehead and glabellar lines, fringe (hair covers lines under a low hairline), folds,
    chin, eyes, brows, nose, mouth.
    """

    def __init__(self, identity: FaceIdentity):
        self.identity = idn = identity
        self.centre = (0.0, 0.05)
        cy = self.centre[1]
        self.a, self.b = idn.head_width, idn.head_height
        self.crown = cy - self.b
        self.chin = cy + self.b
        self.eye_y = cy - 0.06
        self.brow_y = self.eye_y - idn.brow_height
        self.brow_in = max(idn.eye_spacing - 0.9 * idn.eye_width - 0.005, 0.06)
        self.hairline_y = self.crown + idn.hairline * (self.brow_y - self.crown)
        self.nose_tip = self.eye_y + idn.nose_length
        self.mouth_y = self.nose_tip + 0.36 * (self.chin - self.nose_tip)
        self.lower_eyelid = 0.65 * idn.eye_height
        self.iris_r = 0.95 * idn.eye_height
        self.sclera = min(idn.skin + 40.0, 232.0)
        self.brow_grey = min(idn.hair + 10.0, idn.skin - 100.0)

        self.outline = self._head_outline()
        hv = idn.hair_volume
        hcx, hcy, hrx, hry = 0.0, cy - 0.02, self.a + hv, self.b + hv
        phi_max = math.acos(float(np.clip((hcy - idn.hair_length) / hry, -1.0, 1.0)))
        phi = np.linspace(-phi_max, phi_max, 48)
        self.back_hair = np.stack([hcx + hrx * np.sin(phi), hcy - hry * np.cos(phi)], 1)
        ear = _ellipse(0.97 * self.a, self.eye_y + 0.05, 0.045, 0.085, 20)
        ear_line = _stroke(
            _bezier(
                (0.99 * self.a, self.eye_y),
                (1.04 * self.a, self.eye_y + 0.05),
                (0.99 * self.a, self.eye_y + 0.1),
                8,
            ),
            0.008,
        )
        self.silhouette = [self.back_hair, ear, _mirror(ear), self.outline]
        self.back: list[_Shape] = [
            (self.back_hair, idn.hair),
            (ear, idn.skin - 15.0),
            (_mirror(ear), idn.skin - 15.0),
            (ear_line, idn.skin - 40.0),
            (_mirror(ear_line), idn.skin - 40.0),
            (self.outline, idn.skin),
        ]
        self.fringe = [(self._fringe(), idn.hair)]

    def _head_outline(self, n: int = 72) -> np.ndarray:
        idn = self.identity
        t = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
        c, s = np.cos(t), np.sin(t)
        exponent = np.where(s > 0, 2.0 / idn.chin_shape, 2.0 / 2.2)
        x = self.a * np.sign(c) * np.abs(c) ** exponent
        x *= 1.0 - idn.jaw_taper * np.clip(s, 0.0, 1.0) ** 2
        y = self.centre[1] + self.b * np.sign(s) * np.abs(s) ** exponent
        return np.stack([x, y], 1)

    def _fringe(self) -> np.ndarray:
        """Hair on the forehead: between the top of the head and the hairline."""
        idn = self.identity
        top = self.outline[self.outline[:, 1] < self.centre[1]]
        top = top[np.argsort(top[:, 0])]
        x = top[:, 0]
        rel = x / self.a
        temple = self.eye_y - 0.07
        hairline = (
            self.hairline_y
            + idn.hairline_tilt * rel
            + (temple - self.hairline_y) * rel**4
            + idn.widows_peak * np.exp(-((x / 0.07) ** 2))
        )
        return _band(x, top[:, 1], np.maximum(top[:, 1], hairline))

    # -- expression-dependent parts ----------------------------------------------------------

    def shapes(self, aus: Mapping[str, float]) -> list[_Shape]:
        """Every polygon to draw, in order, for AU intensities ``aus`` (absent AUs are 0)."""

        def au(name: str) -> float:
            return float(aus.get(name, 0.0))

        out: list[_Shape] = list(self.back)
        out += self._cheeks(au)
        out += self._forehead(au)
        out += self.fringe
        mouth_shapes, corner = self._mouth(au)
        out += self._folds(au, corner)
        out += self._eyes(au)
        out += self._brows(au)
        out += self._nose(au)
        out += mouth_shapes
        return out

    def _both(self, poly: np.ndarray, grey: float) -> list[_Shape]:
        return [(poly, grey), (_mirror(poly), grey)]

    def _cheeks(self, au) -> list[_Shape]:
        """AU6 raises the cheeks: a soft highlight that moves up and brightens."""
        idn, au6 = self.identity, au("AU6")
        if au6 <= 0.0:
            return []
        out: list[_Shape] = []
        cx, cy = idn.eye_spacing + 0.02, self.eye_y + 0.16 - 0.035 * au6
        for k, radius in enumerate((1.0, 0.7, 0.4)):
            poly = _ellipse(cx, cy, 0.09 * radius, 0.06 * radius, 24)
            out += self._both(poly, idn.skin + 5.0 * (k + 1) * au6)
        return out

    def _forehead(self, au) -> list[_Shape]:
        """Forehead lines (AU1 centre, AU2 sides) and vertical glabellar lines (AU4)."""
        idn = self.identity
        skin = idn.skin
        out: list[_Shape] = []
        au1, au2, au4 = au("AU1"), au("AU2"), au("AU4")
        first = self.brow_y - idn.brow_thickness - 0.085
        rows = [first - 0.035 * k for k in range(3) if first - 0.035 * k > self.hairline_y + 0.03]
        if au1 > 0.0:
            x = np.linspace(-0.13, 0.13, 15)
            for y0 in rows:
                line = np.stack([x, y0 - 0.012 * (1 - (x / 0.13) ** 2)], 1)
                out.append((_stroke(line, _taper(15, 0.008)), skin - 45.0 * au1))
        if au2 > 0.0:
            x = np.linspace(0.1, 0.3, 11)
            for y0 in rows:
                line = np.stack([x, y0 + 0.015 * ((x - 0.1) / 0.2) ** 2], 1)
                out += self._both(_stroke(line, _taper(11, 0.008)), skin - 40.0 * au2)
        if au4 > 0.0:
            y = np.linspace(self.brow_y + 0.01, self.eye_y - 0.015, 9)
            line = np.stack([0.022 + 0.006 * np.sin(np.linspace(0, np.pi, 9)), y], 1)
            out += self._both(_stroke(line, _taper(9, 0.008)), skin - 55.0 * au4)
        return out

    def _folds(self, au, corner: tuple[float, float]) -> list[_Shape]:
        """Nasolabial folds (deepened by AU12, AU10, AU9, AU6), mentolabial sulcus and chin
        wrinkles (AU17)."""
        idn = self.identity
        skin = idn.skin
        au12, au17 = au("AU12"), au("AU17")
        depth = (
            idn.fold_depth + 40.0 * au12 + 25.0 * au("AU10") + 20.0 * au("AU9") + 8.0 * au("AU6")
        )
        start = (idn.nose_width + 0.03, self.nose_tip - 0.035)
        end = (corner[0] + 0.04, corner[1] + 0.03)
        ctrl = ((start[0] + end[0]) / 2 + 0.035 + 0.02 * au12, (start[1] + end[1]) / 2)
        fold = _stroke(_bezier(start, ctrl, end, 12), _taper(12, 0.009 * (1 + 0.5 * au12)))
        out = self._both(fold, skin - depth)
        lip_bottom = self.mouth_y + idn.lower_lip
        sulcus_y = lip_bottom + 0.05 - 0.02 * au17 + 0.05 * au("AU26") + 0.02 * au("AU16")
        x = np.linspace(-0.06, 0.06, 11)
        line = np.stack([x, sulcus_y - (0.012 + 0.01 * au17) * (x / 0.06) ** 2], 1)
        out.append((_stroke(line, _taper(11, 0.01)), skin - 10.0 - 35.0 * au17))
        if au17 > 0.0:  # "orange-peel" dimpling of the raised chin boss: short arcs
            for dx, dy in ((-0.028, 0.0), (0.028, 0.0), (0.0, 0.025)):
                arc = _bezier(
                    (dx - 0.014, sulcus_y + 0.045 + dy),
                    (dx, sulcus_y + 0.053 + dy),
                    (dx + 0.014, sulcus_y + 0.045 + dy),
                    5,
                )
                out.append((_stroke(arc, _taper(5, 0.006)), skin - 35.0 * au17))
        return out

    def _eyes(self, au) -> list[_Shape]:
        """Sclera, iris, pupil and lids (AU5, AU6, AU7, AU4, AU9), crow's feet and the
        infra-orbital furrow (AU6)."""
        idn = self.identity
        skin = idn.skin
        au5, au6, au7 = au("AU5"), au("AU6"), au("AU7")
        ex, ey, ew = idn.eye_spacing, self.eye_y, idn.eye_width
        upper_h = idn.eye_height * max(
            1.0 + 0.55 * au5 - 0.3 * au7 - 0.12 * au6 - 0.12 * au("AU4") - 0.1 * au("AU9"), 0.2
        )
        lower_h = self.lower_eyelid * max(1.0 - 0.6 * au6 - 0.45 * au7 + 0.15 * au5, 0.12)
        u = np.linspace(-1.0, 1.0, 21)
        x = ex + ew * u
        upper = ey - upper_h * (1 - u**2) ** 0.8
        lower = ey + lower_h * (1 - u**2) ** 0.9
        out: list[_Shape] = []
        out += self._both(_band(x, upper, lower), self.sclera)

        def clipped_disc(cx: float, cy: float, r: float) -> np.ndarray:
            xs = np.linspace(cx - r, cx + r, 15)
            half = np.sqrt(np.clip(r**2 - (xs - cx) ** 2, 0.0, None))
            us = np.clip((xs - ex) / ew, -1.0, 1.0)
            lid_top = ey - upper_h * (1 - us**2) ** 0.8
            lid_bottom = ey + lower_h * (1 - us**2) ** 0.9
            top = np.maximum(cy - half, lid_top)
            bottom = np.maximum(np.minimum(cy + half, lid_bottom), top)
            return _band(xs, top, bottom)

        r = self.iris_r
        out += self._both(clipped_disc(ex, ey, r), idn.iris)
        out += self._both(clipped_disc(ex, ey, 0.45 * r), 20.0)
        out += self._both(clipped_disc(ex - 0.3 * r, ey - 0.3 * r, 0.17 * r), 235.0)
        lash = _stroke(np.stack([x, upper], 1), _taper(21, 0.013, 0.3))
        out += self._both(lash, min(35.0, idn.hair))
        out += self._both(_stroke(np.stack([x, lower], 1), _taper(21, 0.005)), skin - 45.0)
        uc = np.linspace(-0.8, 1.05, 13)
        crease_h = idn.eye_height + 0.028 - 0.01 * au("AU4")
        crease = np.stack(
            [ex + ew * uc, ey - crease_h * np.clip(1 - uc**2, 0, None) ** 0.7 - 0.004], 1
        )
        out += self._both(_stroke(crease, _taper(13, 0.006)), skin - 28.0)
        if au6 > 0.0:
            tip = np.array([ex + ew + 0.012, ey])
            for angle in (-0.45, 0.0, 0.45):
                direction = np.array([math.cos(angle), math.sin(angle)])
                line = tip + np.linspace(0.0, 0.05, 6)[:, None] * direction
                out += self._both(_stroke(line, _taper(6, 0.006)), skin - 55.0 * au6)
            uf = np.linspace(-0.7, 0.9, 11)
            furrow = np.stack([ex + ew * uf, ey + lower_h + 0.028 - 0.012 * uf**2], 1)
            out += self._both(_stroke(furrow, _taper(11, 0.007)), skin - 45.0 * au6)
        return out

    def _brows(self, au) -> list[_Shape]:
        """Brows: AU1 raises the inner ends, AU2 the outer ends and arch, AU4 (and a little
        AU9) pulls them down and together."""
        idn = self.identity
        au1, au2, au4, au9 = au("AU1"), au("AU2"), au("AU4"), au("AU9")
        x_in = self.brow_in - 0.035 * au4 - 0.005 * au1
        y_in = self.brow_y - 0.065 * au1 + 0.04 * au4 + 0.015 * au9
        x_out = self.brow_in + idn.brow_length
        y_out = self.brow_y + 0.015 - 0.05 * au2 + 0.02 * au4
        ctrl = (
            x_in + 0.55 * (x_out - x_in),
            min(y_in, y_out) - idn.brow_arch * (1 - 0.6 * au1) - 0.03 * au2 + 0.01 * au4 - 0.015,
        )
        line = _bezier((x_in, y_in), ctrl, (x_out, y_out), 16)
        thick = idn.brow_thickness * (1 + 0.2 * au4)
        along = np.linspace(0.5, np.pi - 0.5, 16)
        widths = thick * np.linspace(1.0, 0.55, 16) * np.sin(along) ** 0.3
        return self._both(_stroke(line, widths), self.brow_grey)

    def _nose(self, au) -> list[_Shape]:
        """Nose shadow, wings and nostrils; AU9 wrinkles the bridge and lifts the wings."""
        idn = self.identity
        skin = idn.skin
        au9 = au("AU9")
        nt, nw = self.nose_tip, idn.nose_width * (1 + 0.15 * au9)
        lift = 0.015 * au9
        out: list[_Shape] = []
        bridge = _bezier((-0.045, self.eye_y + 0.03), (-0.06, nt - 0.08), (-0.05, nt - 0.045), 9)
        out.append((_stroke(bridge, _taper(9, 0.012)), skin - 18.0))
        wing = _bezier(
            (0.6 * nw, nt - 0.045 - lift),
            (1.15 * nw, nt - 0.02 - lift),
            (0.75 * nw, nt + 0.018 - lift),
            9,
        )
        out += self._both(_stroke(wing, _taper(9, 0.009)), skin - 45.0)
        nostril = _ellipse(0.5 * nw, nt + 0.006 - lift, 0.022, 0.011, 14)
        out += self._both(nostril, skin - 100.0)
        tip = _bezier((-0.025, nt + 0.012), (0.0, nt + 0.022 - lift), (0.025, nt + 0.012), 7)
        out.append((_stroke(tip, _taper(7, 0.007)), skin - 30.0))
        if au9 > 0.0:
            x = np.linspace(-0.035, 0.035, 7)
            for k in range(3):
                line = np.stack([x, self.eye_y + 0.03 + 0.02 * k + 0.006 * (x / 0.035) ** 2], 1)
                out.append((_stroke(line, _taper(7, 0.006)), skin - 50.0 * au9))
        return out

    def _mouth(self, au) -> tuple[list[_Shape], tuple[float, float]]:
        """Lips, mouth opening and teeth; returns the shapes and the right mouth corner.

        The mouth line bends up at the corners with AU12 and down with AU15 (a parabola across
        the mouth); AU17 pushes the centre of the lower lip up; AU25/AU26 part the lips (teeth
        show in the upper part of the opening); AU10 raises the upper lip, AU16 lowers the
        lower lip; AU12, AU20 widen and AU23 narrows and thins the mouth.
        """
        idn = self.identity
        skin = idn.skin
        au12, au15, au17 = au("AU12"), au("AU15"), au("AU17")
        au10, au16, au20, au23 = au("AU10"), au("AU16"), au("AU20"), au("AU23")
        au25, au26 = au("AU25"), au("AU26")
        half_width = idn.mouth_width * (1 + 0.12 * au12 + 0.22 * au20 - 0.15 * au23 - 0.04 * au15)
        lift = 0.05 * au12 - 0.045 * au15 - 0.012 * au20 + 0.006 * au10
        u = np.linspace(-1.0, 1.0, 31)
        x = half_width * u
        bulge = 1 - u**2
        mid = self.mouth_y - lift * u**2 - 0.016 * au17 * bulge
        opening = (0.075 * au25 + 0.11 * au26) * (1 - 0.5 * au17) * (1 - 0.6 * au23)
        profile = bulge**0.75
        inner_top = mid - 0.35 * opening * profile - (0.03 * au10 + 0.01 * au("AU9")) * bulge**1.5
        inner_bottom = mid + 0.65 * opening * profile + 0.035 * au16 * bulge**1.5
        thin = 1 - 0.45 * au23 - 0.2 * au20
        upper_t = idn.upper_lip * (thin - 0.25 * au12)
        lower_t = idn.lower_lip * (thin - 0.2 * au12 + 0.15 * au17)
        outer_top = inner_top - upper_t * bulge**0.6 * (1 - 0.3 * np.exp(-((u / 0.18) ** 2)))
        outer_bottom = inner_bottom + lower_t * bulge**0.55
        lip = skin - idn.lip_shade
        out: list[_Shape] = []
        gap = inner_bottom - inner_top
        if gap.max() > 0.004:
            out.append((_band(x, inner_top, inner_bottom), 45.0))
            inside = np.abs(u) <= 0.8
            xi, top_i, bottom_i = x[inside], inner_top[inside], inner_bottom[inside]
            teeth_bottom = np.minimum(top_i + 0.045 * (1 - (u[inside] / 0.8) ** 2) ** 0.3, bottom_i)
            out.append((_band(xi, top_i, teeth_bottom), 228.0))
            lower_teeth = 0.03 * min(1.0, au16 + au26)
            if lower_teeth > 0.0:
                inner = np.abs(u) <= 0.6
                bottom_l = inner_bottom[inner]
                top_l = np.maximum(
                    bottom_l - lower_teeth * (1 - (u[inner] / 0.6) ** 2) ** 0.3,
                    inner_top[inner] + 0.045,
                )
                out.append((_band(x[inner], np.minimum(top_l, bottom_l), bottom_l), 210.0))
        out.append((_band(x, outer_top, inner_top), lip))
        out.append((_band(x, inner_bottom, outer_bottom), lip + 6.0))
        line_grey = max(lip - 55.0, 15.0)
        out.append((_stroke(np.stack([x, inner_top], 1), _taper(31, 0.009, 0.4)), line_grey))
        if gap.max() > 0.004:
            out.append((_stroke(np.stack([x, inner_bottom], 1), _taper(31, 0.005)), line_grey))
        corner = (half_width, self.mouth_y - lift)
        return out, corner

    def regions(self) -> dict[str, list[np.ndarray]]:
        """Generous polygons around the parts expressions move (face units).

        ``brows`` (brows, forehead and glabellar lines), ``eyes_cheeks`` (eyes, lids, crow's
        feet, cheeks), ``nose`` and ``mouth`` (lips, nasolabial folds, chin).
        """
        idn = self.identity
        top = self.brow_y - idn.brow_thickness - 0.085 - 0.07 - 0.04
        reach = idn.eye_spacing + idn.eye_width + 0.12
        brows = np.array(
            [[-reach, top], [reach, top], [reach, self.eye_y - 0.02], [-reach, self.eye_y - 0.02]]
        )
        eye = _ellipse(idn.eye_spacing + 0.02, self.eye_y + 0.08, idn.eye_width + 0.11, 0.17, 32)
        side = max(idn.mouth_width * 1.35 + 0.08, idn.nose_width + 0.12)
        mouth = np.array(
            [
                [-side, self.nose_tip - 0.06],
                [side, self.nose_tip - 0.06],
                [side, self.chin],
                [-side, self.chin],
            ]
        )
        nw = idn.nose_width + 0.04
        nose = np.array(
            [
                [-nw - 0.02, self.eye_y],
                [nw, self.eye_y],
                [nw, self.nose_tip + 0.04],
                [-nw - 0.02, self.nose_tip + 0.04],
            ]
        )
        return {
            "brows": [brows],
            "eyes_cheeks": [eye, _mirror(eye)],
            "nose": [nose],
            "mouth": [mouth],
        }


class FaceSource(Protocol):
    """What pre-training needs from a source of face images."""

    size: int

    @property
    def expressions(self) -> tuple[str, ...]: ...

    def render(self, expression: str, rng: np.random.Generator | None = None) -> np.ndarray: ...

    def images(self, expression: str, n: int, rng: np.random.Generator) -> np.ndarray: ...


def _unknown_expression(expression: object, known: Sequence[str]) -> ConfigError:
    return ConfigError(f"expression: unknown {expression!r}; known: {', '.join(known)}")


def _check_images_args(n: object, rng: object) -> int:
    n = _check_int("n", n, 0)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")
    return n


class ParametricFaces:
    """Images of one parent's parametric face (model.md §13.3).

    ``render`` gives the canonical image of an expression (no transform, exact AU preset);
    ``images`` gives randomised ones. Rendering draws polygons with Pillow on a supersampled
    float canvas and box-downsamples it (about 3 ms per 128-px randomised image on one core).
    """

    def __init__(self, config: FaceConfig | None = None):
        self.config = config = config if config is not None else FaceConfig()
        self.size = config.size
        self.identity = FaceIdentity.from_seed(config.identity_seed)
        self._geometry = _FaceGeometry(self.identity)
        self._canvas = config.size * config.supersample

    @property
    def expressions(self) -> tuple[str, ...]:
        """Names of the presets in :data:`EXPRESSIONS`."""
        return tuple(EXPRESSIONS)

    def action_units(self, expression: str) -> dict[str, float]:
        """The AU intensities of a preset (a copy)."""
        if expression not in EXPRESSIONS:
            raise _unknown_expression(expression, self.expressions)
        return dict(EXPRESSIONS[expression])

    def render(self, expression: str, rng: np.random.Generator | None = None) -> np.ndarray:
        """One image of ``expression``: canonical if ``rng`` is None, else randomised.

        Returns ``(size, size)`` float32 on 0–255.
        """
        aus = self.action_units(expression)
        if rng is None:
            return self._render(aus, _CANONICAL, None)
        return self.images(expression, 1, rng)[0]

    def render_aus(
        self, aus: Mapping[str, float], rng: np.random.Generator | None = None
    ) -> np.ndarray:
        """Like :meth:`render` for any AU intensities (names from :data:`ACTION_UNITS`)."""
        aus = self._check_aus(aus)
        if rng is None:
            return self._render(aus, _CANONICAL, None)
        return self._randomised(aus, rng)

    def images(self, expression: str, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` randomised images of ``expression``: ``(n, size, size)`` float32 on 0–255.

        Each image draws its transform, then its AU jitter, then its pixel noise from ``rng``,
        so the same generator state gives bit-identical images.
        """
        aus = self.action_units(expression)
        n = _check_images_args(n, rng)
        out = np.empty((n, self.size, self.size), dtype=np.float32)
        for i in range(n):
            out[i] = self._randomised(aus, rng)
        return out

    def regions(self) -> dict[str, np.ndarray]:
        """Where expressions move the canonical face: name -> ``(size, size)`` bool mask.

        ``brows``, ``eyes_cheeks``, ``nose`` and ``mouth``. Happy and sad differ only inside
        ``brows | eyes_cheeks | mouth`` (the control of model.md §13.3).
        """
        masks = {}
        affine = self._pixel_affine(_CANONICAL)
        for name, polys in self._geometry.regions().items():
            canvas = Image.new("F", (self._canvas, self._canvas), 0.0)
            draw = ImageDraw.Draw(canvas)
            for poly in polys:
                draw.polygon(_to_pixels(poly, affine), fill=1.0)
            masks[name] = self._downsample(canvas) > 0.0
        return masks

    # -- internals ---------------------------------------------------------------------------

    @staticmethod
    def _check_aus(aus: Mapping[str, float]) -> dict[str, float]:
        unknown = [name for name in aus if name not in ACTION_UNITS]
        if unknown:
            raise ConfigError(
                f"action units: unknown {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(ACTION_UNITS)}"
            )
        return {name: _check_number(name, value, 0.0, 1.0) for name, value in aus.items()}

    def _randomised(self, aus: Mapping[str, float], rng: np.random.Generator) -> np.ndarray:
        transforms = self.config.transforms
        draw = _sample_draw(transforms, rng, axis_range=self._geometry.a)
        if transforms.au_jitter > 0.0 and aus:
            jitter = rng.uniform(-transforms.au_jitter, transforms.au_jitter, size=len(aus))
            aus = {
                name: float(np.clip(value + j, 0.0, 1.0))
                for (name, value), j in zip(aus.items(), jitter, strict=True)
            }
        return self._render(aus, draw, rng)

    def _pixel_affine(self, draw: _Draw) -> np.ndarray:
        """(2, 3) map from face units to canvas pixels (pixel j covers [j, j + 1))."""
        half = self._canvas / 2.0
        return half * _affine(draw, self._geometry.centre) + np.array([[0, 0, half], [0, 0, half]])

    def _downsample(self, canvas: Image.Image) -> np.ndarray:
        ss = self.config.supersample
        small = canvas.reduce(ss) if ss > 1 else canvas
        return np.asarray(small, dtype=np.float32)

    def _render(
        self, aus: Mapping[str, float], draw: _Draw, rng: np.random.Generator | None
    ) -> np.ndarray:
        config = self.config
        geometry = self._geometry
        affine = self._pixel_affine(draw)
        shapes = geometry.shapes(aus)
        points = np.concatenate([poly for poly, _ in shapes] + geometry.silhouette)
        pixels = points @ affine[:, :2].T + affine[:, 2]
        counts = np.cumsum(
            [len(poly) for poly, _ in shapes] + [len(p) for p in geometry.silhouette]
        )
        pieces = np.split(pixels, counts[:-1])

        canvas = Image.new("F", (self._canvas, self._canvas), config.background)
        pen = ImageDraw.Draw(canvas)
        for piece, (_, grey) in zip(pieces, shapes, strict=False):
            pen.polygon(piece.ravel().tolist(), fill=float(grey))
        shade = self._downsample(canvas)
        if draw is _CANONICAL:
            return np.clip(shade, 0.0, 255.0)

        mask = Image.new("F", (self._canvas, self._canvas), 0.0)
        pen = ImageDraw.Draw(mask)
        for piece in pieces[len(shapes) :]:
            pen.polygon(piece.ravel().tolist(), fill=1.0)
        coverage = self._downsample(mask)
        scale = config.size / 2.0
        centre = _affine(draw, geometry.centre) @ np.array([*geometry.centre, 1.0])
        centre_px = (float((centre[0] + 1) * scale), float((centre[1] + 1) * scale))
        radius_px = geometry.b * draw.scale * scale
        return _compose(
            shade,
            coverage,
            draw,
            config.transforms.noise,
            rng,
            config.background,
            centre_px,
            radius_px,
        )


def _to_pixels(poly: np.ndarray, affine: np.ndarray) -> list[float]:
    return (poly @ affine[:, :2].T + affine[:, 2]).ravel().tolist()


# --------------------------------------------------------------------------------------------
# Photographs
# --------------------------------------------------------------------------------------------


def _label_from_name(path: Path) -> str:
    """The expression in a file name: the first token before ``_``, ``-`` or a digit."""
    return re.split(r"[_\-\d]", path.stem, maxsplit=1)[0].strip().lower()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


class PhotoFaces:
    """Face photographs from a folder, with the same protocol as :class:`ParametricFaces`.

    Each photo's expression comes from its file name (the first token before ``_``, ``-`` or a
    digit: ``happy_01.png``, ``sad-3.jpg``) or, if ``labels_csv`` is given, from that CSV's
    ``file,expression`` columns (files relative to ``folder``; only listed files are used).
    Photos are converted to greyscale, resized so the longer side is ``size`` keeping the aspect
    ratio, and padded to a square with the background grey. Randomised images apply the same
    transforms as parametric faces (no AU jitter); brightness, gradient and noise act on the
    photo area, not on the padding. All files are read and checked when the object is made.
    """

    def __init__(
        self,
        folder: str | Path,
        size: int = 128,
        labels_csv: str | Path | None = None,
        transforms: TransformConfig = TransformConfig(),  # noqa: B008 (frozen, so shareable)
        background: float = 128.0,
    ):
        self.size = _check_int("size", size, 16, 4096)
        self.background = _check_number("background", background, 0.0, 255.0)
        self.transforms = transforms
        if not isinstance(self.transforms, TransformConfig):
            raise ConfigError(
                f"transforms: expected a TransformConfig, got {type(self.transforms).__name__}"
            )
        self.folder = folder = Path(folder)
        if not folder.is_dir():
            raise ConfigError(f"photos: folder {folder} does not exist")
        if labels_csv is not None:
            labelled = self._read_csv(folder, Path(labels_csv))
        else:
            files = sorted(
                p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES
            )
            if not files:
                raise ConfigError(
                    f"photos: no images ({', '.join(PHOTO_SUFFIXES)}) in folder {folder}"
                )
            labelled = []
            for path in files:
                label = _label_from_name(path)
                if label not in EXPRESSIONS:
                    raise ConfigError(
                        f"photos: {path}: file name gives expression {label!r}; name files "
                        f"<expression>_<n>.<ext> with one of: {', '.join(EXPRESSIONS)}"
                    )
                labelled.append((path, label))
        loaded: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        self.files: dict[str, list[Path]] = {}
        for path, label in labelled:
            loaded.setdefault(label, []).append(self._load(path))
            self.files.setdefault(label, []).append(path)
        order = [name for name in EXPRESSIONS if name in loaded]
        self.files = {name: self.files[name] for name in order}
        self._photos = {name: np.stack([p for p, _ in loaded[name]]) for name in order}
        self._coverage = {name: np.stack([c for _, c in loaded[name]]) for name in order}
        logger.info("loaded %d photos from %s", len(labelled), folder)

    @staticmethod
    def _read_csv(folder: Path, labels_csv: Path) -> list[tuple[Path, str]]:
        if not labels_csv.is_file():
            raise ConfigError(f"labels: CSV file {labels_csv} does not exist")
        try:
            with labels_csv.open(newline="", encoding="utf-8") as handle:
                reader = csv.DictReader(handle)
                columns = [c.strip() for c in reader.fieldnames or []]
                missing = [c for c in ("file", "expression") if c not in columns]
                if missing:
                    raise ConfigError(
                        f"labels: {labels_csv}: missing column(s) {', '.join(missing)}; "
                        f"expected a header 'file,expression', got {','.join(columns) or 'none'}"
                    )
                rows = [
                    {k.strip(): (v or "").strip() for k, v in row.items() if k} for row in reader
                ]
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise ConfigError(f"labels: {labels_csv}: cannot read ({_one_line(exc)})") from exc
        labelled = []
        for line, row in enumerate(rows, start=2):
            path = folder / row["file"]
            label = row["expression"].lower()
            if not row["file"] or not path.is_file():
                raise ConfigError(
                    f"labels: {labels_csv} line {line}: file {row['file']!r} not found in {folder}"
                )
            if label not in EXPRESSIONS:
                raise ConfigError(
                    f"labels: {labels_csv} line {line}: unknown expression {label!r}; "
                    f"known: {', '.join(EXPRESSIONS)}"
                )
            labelled.append((path, label))
        if not labelled:
            raise ConfigError(f"labels: {labels_csv}: no rows, so no images")
        return labelled

    def _load(self, path: Path) -> tuple[np.ndarray, np.ndarray]:
        """A photo in greyscale, resized (longer side = size) and padded square with the
        background, and its coverage (1 on the photo, 0 on the padding): two (size, size)."""
        try:
            with Image.open(path) as image:
                image.load()
                grey = image.convert("L")
        except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as exc:
            raise ConfigError(f"photos: {path}: cannot read image ({_one_line(exc)})") from exc
        width, height = grey.size
        factor = self.size / max(width, height)
        new = (max(1, round(width * factor)), max(1, round(height * factor)))
        resized = grey.resize(new, Image.Resampling.LANCZOS).convert("F")
        corner = ((self.size - new[0]) // 2, (self.size - new[1]) // 2)
        square = Image.new("F", (self.size, self.size), self.background)
        square.paste(resized, corner)
        coverage = np.zeros((self.size, self.size), dtype=np.float32)
        coverage[corner[1] : corner[1] + new[1], corner[0] : corner[0] + new[0]] = 1.0
        return np.asarray(square, dtype=np.float32).copy(), coverage

    @property
    def expressions(self) -> tuple[str, ...]:
        """Expressions with at least one photo, in :data:`EXPRESSIONS` order."""
        return tuple(self._photos)

    def _check_expression(self, expression: str) -> np.ndarray:
        if expression not in self._photos:
            raise _unknown_expression(expression, self.expressions)
        return self._photos[expression]

    def render(self, expression: str, rng: np.random.Generator | None = None) -> np.ndarray:
        """The first photo of ``expression`` (by file name or CSV order) if ``rng`` is None,
        else one randomised image. ``(size, size)`` float32."""
        photos = self._check_expression(expression)
        if rng is None:
            return photos[0].copy()
        return self.images(expression, 1, rng)[0]

    def images(self, expression: str, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` randomised images, each of a photo chosen at random: ``(n, size, size)``."""
        photos = self._check_expression(expression)
        n = _check_images_args(n, rng)
        coverage = self._coverage[expression]
        out = np.empty((n, self.size, self.size), dtype=np.float32)
        for i in range(n):
            k = int(rng.integers(len(photos)))
            draw = _sample_draw(self.transforms, rng, axis_range=0.5)
            out[i] = self._transform(photos[k], coverage[k], draw, rng)
        return out

    def _transform(
        self, photo: np.ndarray, coverage: np.ndarray, draw: _Draw, rng: np.random.Generator
    ) -> np.ndarray:
        half = self.size / 2.0
        forward = _affine(draw, (0.0, 0.0))  # face units, photo centred at the origin
        # in pixels: p_px = half * (A p + t) + half with p = p_px / half - 1
        linear = forward[:, :2]
        offset = half * forward[:, 2] + half - linear @ np.array([half, half])
        inverse = np.linalg.inv(linear)
        inv_offset = -inverse @ offset
        data = (*inverse[0], inv_offset[0], *inverse[1], inv_offset[1])
        size = (self.size, self.size)
        moved = Image.fromarray(photo).transform(
            size,
            Image.Transform.AFFINE,
            data,
            Image.Resampling.BILINEAR,
            fillcolor=self.background,
        )
        mask = Image.fromarray(coverage).transform(
            size, Image.Transform.AFFINE, data, Image.Resampling.BILINEAR, fillcolor=0.0
        )
        centre = forward @ np.array([0.0, 0.0, 1.0])
        centre_px = (float((centre[0] + 1) * half), float((centre[1] + 1) * half))
        return _compose(
            np.asarray(moved, dtype=np.float32),
            np.asarray(mask, dtype=np.float32),
            draw,
            self.transforms.noise,
            rng,
            self.background,
            centre_px,
            half * draw.scale,
        )


# --------------------------------------------------------------------------------------------
# Contact sheet
# --------------------------------------------------------------------------------------------


def contact_sheet(
    source: FaceSource,
    expressions: Sequence[str],
    n_transforms: int,
    rng: np.random.Generator,
    path: str | Path,
) -> Path:
    """Write a PNG grid of faces: one row per expression, labelled; the first column is the
    canonical image (for photos, the first photo), then ``n_transforms`` randomised images.

    Returns the path written. Unknown expressions raise :class:`ConfigError` before anything
    is written.
    """
    n_transforms = _check_int("n_transforms", n_transforms, 0)
    expressions = list(expressions)
    if not expressions:
        raise ConfigError("expressions: expected at least one expression, got none")
    for name in expressions:
        if name not in source.expressions:
            raise _unknown_expression(name, source.expressions)
    rows = []
    for name in expressions:
        row = [source.render(name)]
        if n_transforms:
            row += list(source.images(name, n_transforms, rng))
        rows.append(row)

    size, gap = source.size, 4
    font_size = max(10, min(18, size // 8))
    font = ImageFont.load_default(size=font_size)
    label_width = int(font_size * 0.62 * max(len(name) for name in expressions)) + 2 * gap
    header = font_size + 2 * gap
    columns = 1 + n_transforms
    sheet = Image.new(
        "L",
        (label_width + columns * (size + gap) + gap, header + len(rows) * (size + gap) + gap),
        255,
    )
    pen = ImageDraw.Draw(sheet)
    pen.text((label_width + gap, gap), "canonical", fill=0, font=font)
    if n_transforms:
        pen.text((label_width + 2 * gap + size, gap), "random transforms", fill=0, font=font)
    for r, (name, row) in enumerate(zip(expressions, rows, strict=True)):
        top = header + r * (size + gap)
        pen.text((gap, top + size // 2 - font_size // 2), name, fill=0, font=font)
        for c, image in enumerate(row):
            tile = Image.fromarray(np.rint(image).clip(0, 255).astype(np.uint8))
            sheet.paste(tile, (label_width + gap + c * (size + gap), top))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, format="PNG")
    return path
