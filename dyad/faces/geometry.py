"""Face geometry in face units.

One image's random transform as an affine map and its photometric changes, polygon helpers, and the
polygons of a parametric face for given action-unit intensities (model.md §13.3).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from dyad.faces.config import _REFERENCE_SIZE, FaceIdentity, TransformConfig


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
    """Return the (2, 3) map from face units to transformed face units for ``draw``.

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
    """Return the polygon between two curves over the same x samples (top has smaller y)."""
    return np.concatenate([np.stack([x, top], 1), np.stack([x[::-1], bottom[::-1]], 1)])


def _bezier(p0: Sequence[float], p1: Sequence[float], p2: Sequence[float], n: int) -> np.ndarray:
    """Quadratic Bézier curve from p0 to p2 pulled towards p1: (n, 2)."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    return (1 - t) ** 2 * np.asarray(p0) + 2 * (1 - t) * t * np.asarray(p1) + t**2 * np.asarray(p2)


def _taper(n: int, width: float, floor: float = 0.15) -> np.ndarray:
    """Widths along a stroke that narrow towards both ends (a wrinkle or fold)."""
    return width * (floor + (1 - floor) * np.sqrt(np.sin(np.linspace(0.0, np.pi, n))))


def _stroke(points: np.ndarray, width: float | np.ndarray) -> np.ndarray:
    """Return the polygon of a thick polyline; ``width`` per point or scalar, in face units."""
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
        """Return the shapes of the folds around the mouth.

        Nasolabial folds (deepened by AU12, AU10, AU9, AU6), mentolabial sulcus and chin
        wrinkles (AU17).
        """
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
        """Return the shapes of one eye.

        Sclera, iris, pupil and lids (AU5, AU6, AU7, AU4, AU9), crow's feet and the
        infra-orbital furrow (AU6).
        """
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
        """Return the shapes of the brows.

        AU1 raises the inner ends, AU2 the outer ends and arch, AU4 (and a little AU9) pulls
        them down and together.
        """
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
