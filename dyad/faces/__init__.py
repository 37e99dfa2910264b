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

The package is split by concern: :mod:`~dyad.faces.config` (action units, expression presets,
transform ranges, identities, renderer settings), :mod:`~dyad.faces.geometry` (random transforms
and the face's polygons), :mod:`~dyad.faces.parametric`, :mod:`~dyad.faces.photos` and
:mod:`~dyad.faces.sheet` (contact sheets).
"""

from dyad.faces.config import (
    ACTION_UNITS,
    EXPRESSIONS,
    FaceConfig,
    FaceIdentity,
    TransformConfig,
)
from dyad.faces.parametric import FaceSource, ParametricFaces
from dyad.faces.photos import PHOTO_SUFFIXES, PhotoFaces
from dyad.faces.sheet import contact_sheet

__all__ = [
    "ACTION_UNITS",
    "EXPRESSIONS",
    "FaceConfig",
    "FaceIdentity",
    "PHOTO_SUFFIXES",
    "FaceSource",
    "ParametricFaces",
    "PhotoFaces",
    "TransformConfig",
    "contact_sheet",
]
