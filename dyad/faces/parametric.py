"""The parametric parent face.

A procedural 2-D face drawn from its polygons, anti-aliased by supersampling, and randomised by the
identity-preserving transforms (model.md §13.3).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np
from PIL import Image, ImageDraw

from dyad.errors import ConfigError
from dyad.faces.config import (
    ACTION_UNITS,
    EXPRESSIONS,
    FaceConfig,
    FaceIdentity,
)
from dyad.faces.geometry import (
    _CANONICAL,
    _affine,
    _compose,
    _Draw,
    _FaceGeometry,
    _sample_draw,
)
from dyad.validation import check_int, check_number


class FaceSource(Protocol):
    """What pre-training needs from a source of face images."""

    size: int

    @property
    def expressions(self) -> tuple[str, ...]:
        """The expressions this source can show."""
        ...

    def render(self, expression: str, rng: np.random.Generator | None = None) -> np.ndarray:
        """Return one (size, size) image: the canonical one, or a random transform with ``rng``."""
        ...

    def images(self, expression: str, n: int, rng: np.random.Generator) -> np.ndarray:
        """Return ``n`` randomly transformed images of ``expression``: (n, size, size)."""
        ...


def _unknown_expression(expression: object, known: Sequence[str]) -> ConfigError:
    return ConfigError(f"expression: unknown {expression!r}; known: {', '.join(known)}")


def _check_images_args(n: object, rng: object) -> int:
    n = check_int("n", n, 0)
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
        """Return the AU intensities of a preset (a copy)."""
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
        return {name: check_number(name, value, 0.0, 1.0) for name, value in aus.items()}

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
