"""What pre-training depends on: :class:`PretrainConfig`, photo sets and the random streams.

The result of pre-training is a pure function of this config, its seed and the code version,
so :meth:`PretrainConfig.canonical` is what the cache key hashes (:mod:`dyad.vision.cache`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import numpy as np
from pydantic import AfterValidator, Field, model_validator

from dyad._io import to_json
from dyad.brain.visnet import VisNetConfig
from dyad.errors import ConfigError
from dyad.faces import PHOTO_SUFFIXES, FaceConfig, PhotoFaces, TransformConfig
from dyad.validation import Int, frozen_config, integer

#: names of the independent random streams of pre-training, spawned in this order from its seed
#: (append new purposes at the end so existing streams keep their values)
STREAMS = ("train_images", "visnet", "test_images", "other_faces", "heldout_faces", "block_order")

#: identity seeds of faces drawn at random (other faces, held-out faces) start here, far above
#: the small seeds scenarios give parents, so a drawn face is never a parent by accident
DRAWN_IDENTITY_BASE = 1_000_000


@frozen_config
class PhotoSet:
    """One parent's face given as photographs instead of a parametric identity.

    Attributes
    ----------
    folder
        the folder of photos (read by :class:`dyad.faces.PhotoFaces`).
    labels
        a CSV with columns ``file,expression``, or None to label by file name.
    digest
        SHA-256 over the folder's image files (names and bytes) and the labels CSV, so
        editing, adding or relabelling a photo changes the cache key; the folder's path
        does not enter the key (see :meth:`PretrainConfig.canonical`).
    """

    folder: str
    labels: str | None = None
    digest: str = ""

    @classmethod
    def from_folder(cls, folder: str | os.PathLike, labels: str | os.PathLike | None = None):
        """Return a photo set with the digest of the folder's current content."""
        return cls(
            str(folder), None if labels is None else str(labels), photo_digest(folder, labels)
        )

    def faces(self, config: FaceConfig) -> PhotoFaces:
        """Return the photos as a face source.

        It has the image size, background and transforms of ``config`` (the parametric faces'
        settings), the scale range centred on ×1 (:meth:`~dyad.faces.TransformConfig.about_one`):
        photos keep their own framing rather than the drawn face's enlargement.
        """
        return PhotoFaces(
            self.folder,
            size=config.size,
            labels_csv=self.labels,
            transforms=config.transforms.about_one(),
            background=config.background,
        )


def photo_digest(folder: str | os.PathLike, labels: str | os.PathLike | None = None) -> str:
    """SHA-256 over the image files of ``folder`` (sorted names and bytes) and the labels CSV."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"photos: expected a folder of face images, {folder} does not exist")
    digest = hashlib.sha256()
    files = sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES
    )
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    if labels is not None:
        try:
            digest.update(b"labels\0" + Path(labels).read_bytes())
        except OSError as exc:
            raise ConfigError(f"photo_labels: cannot read {labels} ({exc.strerror})") from None
    return digest.hexdigest()


#: most other faces pre-training accepts (each costs render, V1 and training time)
MAX_OTHER_FACES = 1000
#: fewest training transforms per face and expression pre-training accepts
MIN_TRAIN_TRANSFORMS = 2


def _distinct[T](values: tuple[T, ...]) -> tuple[T, ...]:
    if len(set(values)) != len(values):
        raise ValueError(f"expected distinct values, got {values!r}")
    return values


def _distinct_photo_sets(photo_sets: tuple[PhotoSet, ...]) -> tuple[PhotoSet, ...]:
    if not all(p.digest for p in photo_sets) or len({p.digest for p in photo_sets}) != len(
        photo_sets
    ):
        raise ValueError("expected distinct PhotoSet.from_folder() values (with their digests)")
    return photo_sets


_Expressions = Annotated[
    tuple[Annotated[str, Field(min_length=1)], ...], Field(min_length=2), AfterValidator(_distinct)
]
_IdentitySeeds = Annotated[tuple[integer(ge=0), ...], AfterValidator(_distinct)]


@frozen_config
class PretrainConfig:
    """Everything visual pre-training depends on, besides the code version.

    Attributes
    ----------
    faces
        how faces are rendered; its ``identity_seed`` is replaced by each of
        ``identity_seeds`` (it does not enter the cache key). Default: 128-px faces with
        :meth:`TransformConfig.photometric` transforms. The defaults of this class are the
        minimal Phase A (one parent, photometric changes, classic VisNet); a scenario's
        defaults go further (:func:`dyad.simulation.pretrain_config`).
    visnet
        the network (its ``v1`` field configures the Gabor bank).
    expressions
        the expressions trained, each one VisNet "object".
    identity_seeds
        the parents whose faces are shown; every expression's transforms of all
        of them are presented as one contiguous block (identity by identity), so the trace
        rule binds an expression across parents.
    n_train_transforms
        random transforms per parent and expression for training (≥ 2).
    n_test_transforms
        held-out transforms per parent and expression for evaluation.
    seed
        the seed of every random choice (training images, initial network, test images,
        the other faces).
    n_other_faces
        faces of other people, drawn at random from ``seed``, shown in
        pre-training beside the parents' (0 = the parents' faces only). Seeing many people
        make each expression is what lets VisNet code the expression rather than the person.
    presentation
        order of the images within an expression's block. ``"interleaved"``
        cycles through the people at every transform (person 1, 2, …, n, 1, 2, …), so the
        trace rule binds the expression across people, as it binds the transforms of one
        object; ``"blocked"`` shows each person's transforms together, person by person,
        which binds person-specific templates (layer 4 then codes identity).
    photo_sets
        parents whose faces are photographs (:class:`PhotoSet`), shown after the
        parametric ``identity_seeds`` within each expression's block. With photo sets,
        ``identity_seeds`` may be empty.
    """

    faces: FaceConfig = Field(
        default_factory=lambda: FaceConfig(transforms=TransformConfig.photometric())
    )
    visnet: VisNetConfig = Field(default_factory=VisNetConfig)
    expressions: _Expressions = ("happy", "sad")
    identity_seeds: _IdentitySeeds = (0,)
    n_train_transforms: Int = Field(50, ge=MIN_TRAIN_TRANSFORMS)
    n_test_transforms: Int = Field(20, ge=1)
    seed: Int = Field(0, ge=0)
    n_other_faces: Int = Field(0, ge=0, le=MAX_OTHER_FACES)
    presentation: Literal["interleaved", "blocked"] = "interleaved"
    photo_sets: Annotated[tuple[PhotoSet, ...], AfterValidator(_distinct_photo_sets)] = ()

    @model_validator(mode="after")
    def _faces_fit_the_network(self) -> Self:
        """Check that the faces fit the network.

        At least one face; faces drawn at V1's size on its padding grey; and sparseness
        "auto" resolved for the expressions trained (1 − 1/S).
        """
        problems = []
        if not (self.identity_seeds or self.photo_sets):
            problems.append("identity_seeds: expected at least one face (or photo_sets)")
        if self.faces.size != self.visnet.v1.image_size:
            problems.append(
                f"faces.size: expected the V1 image size {self.visnet.v1.image_size}, "
                f"got {self.faces.size}"
            )
        if self.faces.background != self.visnet.v1.padding_grey:
            problems.append(
                f"faces.background: expected the V1 padding grey {self.visnet.v1.padding_grey} "
                f"(a uniform background must filter to zero), got {self.faces.background}"
            )
        if problems:
            raise ValueError("\n".join(problems))
        object.__setattr__(self, "visnet", self.visnet.for_expressions(len(self.expressions)))
        return self

    @property
    def other_faces(self) -> tuple[int, ...]:
        """Identity seeds of the other people shown in pre-training (drawn from ``seed``)."""
        return drawn_identities(self.seed, "other_faces", self.n_other_faces, self.identity_seeds)

    @property
    def training_faces(self) -> tuple[int | PhotoSet, ...]:
        """Every face pre-training shows: the parents' (photo sets included), then the others."""
        return (*self.face_identities, *self.other_faces)

    def heldout_faces(self, n: int) -> tuple[int, ...]:
        """``n`` identity seeds that pre-training never shows (for tests of generalisation)."""
        shown = [face for face in self.training_faces if not isinstance(face, PhotoSet)]
        return drawn_identities(self.seed, "heldout_faces", n, shown)

    def face_config(self, identity_seed: int) -> FaceConfig:
        """Return the face renderer's config for one parent."""
        return dataclasses.replace(self.faces, identity_seed=int(identity_seed))

    @property
    def face_identities(self) -> tuple[int | PhotoSet, ...]:
        """Every face shown, in presentation order: ``identity_seeds``, then ``photo_sets``."""
        return (*self.identity_seeds, *self.photo_sets)

    def canonical(self) -> dict[str, Any]:
        """Return a JSON-safe dict of every value that decides the result.

        The faces' own ``identity_seed`` is dropped: ``identity_seeds`` replaces it; a photo set
        enters by its content digest only, and not at all when there is none, so configs without
        photos keep their keys.
        """
        data = to_json(dataclasses.asdict(self))
        data["faces"].pop("identity_seed", None)
        photo_sets = data.pop("photo_sets", [])
        if photo_sets:
            data["photo_sets"] = [p["digest"] for p in photo_sets]
        return data

    def to_json(self) -> str:
        """Canonical JSON: sorted keys, no whitespace, tuples as lists."""
        return _canonical_json(self.canonical())


def drawn_identities(seed: int, purpose: str, n: int, exclude: Sequence[int]) -> tuple[int, ...]:
    """``n`` distinct identity seeds drawn from pre-training's ``purpose`` stream.

    Seeds are at least :data:`DRAWN_IDENTITY_BASE` and never in ``exclude``, so other faces
    and held-out faces are never a parent's face or each other.
    """
    rng = streams(seed)[purpose]
    chosen: list[int] = []
    excluded = set(int(e) for e in exclude)
    while len(chosen) < n:
        candidate = DRAWN_IDENTITY_BASE + int(rng.integers(0, 2**31 - DRAWN_IDENTITY_BASE))
        if candidate not in excluded and candidate not in chosen:
            chosen.append(candidate)
    return tuple(chosen)


def _canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


# --------------------------------------------------------------------------------------------
# Random streams


def streams(seed: int) -> dict[str, np.random.Generator]:
    """One independent generator per purpose of pre-training, derived from ``seed``."""
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {
        name: np.random.default_rng(child) for name, child in zip(STREAMS, children, strict=True)
    }
