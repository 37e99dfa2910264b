"""Parent faces given as photographs.

A folder of greyscale images labelled by file name or CSV, shown through the same protocol and
random transforms as parametric faces.
"""

from __future__ import annotations

import csv
import logging
import re
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from dyad.errors import ConfigError
from dyad.faces.config import EXPRESSIONS, TransformConfig
from dyad.faces.geometry import _affine, _compose, _Draw, _sample_draw
from dyad.faces.parametric import _check_images_args, _unknown_expression
from dyad.validation import check_int, check_number

logger = logging.getLogger(__name__)

#: File types :class:`PhotoFaces` reads.
PHOTO_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".pgm", ".ppm", ".webp")


def _label_from_name(path: Path) -> str:
    """Return the expression in a file name: the first token before ``_``, ``-`` or a digit."""
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
        self.size = check_int("size", size, 16, 4096)
        self.background = check_number("background", background, 0.0, 255.0)
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
        """Return a photo in greyscale, resized and padded square, and its coverage.

        The longer side becomes ``size``, the padding is the background; the coverage is 1 on
        the photo, 0 on the padding. Both are (size, size).
        """
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
        """Return one image of ``expression``, ``(size, size)`` float32.

        The first photo (by file name or CSV order) if ``rng`` is None, else one randomised
        image.
        """
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
