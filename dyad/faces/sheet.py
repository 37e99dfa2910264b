"""Contact sheets, to check faces by eye (``dyad faces``).

A contact sheet is a labelled PNG grid of a face source's expressions, canonical and
randomised.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from dyad.errors import ConfigError
from dyad.faces.parametric import FaceSource, _unknown_expression
from dyad.validation import check_int


def contact_sheet(
    source: FaceSource,
    expressions: Sequence[str],
    n_transforms: int,
    rng: np.random.Generator,
    path: str | Path,
) -> Path:
    """Write a PNG grid of faces, one labelled row per expression.

    The first column is the canonical image (for photos, the first photo), then
    ``n_transforms`` randomised images.

    Returns the path written. Unknown expressions raise :class:`ConfigError` before anything
    is written.
    """
    n_transforms = check_int("n_transforms", n_transforms, 0)
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
