"""Visual pre-training (model.md Phase A, §6.5): parent faces → V1 → VisNet, cached on disk.

The infant's visual system is trained once on random transforms of its parents' faces, each
expression an "object" whose transforms are presented contiguously so the trace rule can bind
them. The result is a pure function of (config, seed, code version), so it is cached: a run, a
sweep and ``dyad pretrain`` with the same config share one file.

Cache files live in a folder the user chooses (default ``$DYAD_CACHE_DIR`` or ``~/.cache/dyad``).
Each ``.npz`` holds the arrays plus a metadata record: the cache key (a SHA-256 of the canonical
JSON of the config, the dyad version and the source code of the modules the result depends on),
the config itself, and a checksum of the arrays. The file name is derived from the config alone,
so a file written by other code (a stale key) is found, reported and replaced rather than left
behind. Files are written to a temporary name in the same folder and renamed into place, so a
crash never leaves a half-written cache file under the real name. On loading, a corrupt
(unreadable, truncated, wrong checksum) or stale file is reported with ``logging.warning``,
naming the file and the reason, and rebuilt: it is never used.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import numpy as np
from pydantic import AfterValidator, Field, model_validator

from dyad import __version__
from dyad._io import atomic_write, to_json
from dyad.brain.v1 import V1
from dyad.brain.visnet import VisNet, VisNetConfig
from dyad.errors import ConfigError
from dyad.faces import (
    PHOTO_SUFFIXES,
    FaceConfig,
    FaceSource,
    ParametricFaces,
    PhotoFaces,
    TransformConfig,
)
from dyad.validation import Int, frozen_config, integer

log = logging.getLogger(__name__)

#: names of the independent random streams of pre-training, spawned in this order from its seed
#: (append new purposes at the end so existing streams keep their values)
STREAMS = ("train_images", "visnet", "test_images", "other_faces", "heldout_faces")

#: identity seeds of faces drawn at random (other faces, held-out faces) start here, far above
#: the small seeds scenarios give parents, so a drawn face is never a parent by accident
DRAWN_IDENTITY_BASE = 1_000_000

#: images rendered and filtered per batch: bounds memory (a 128-px V1 stack is about 2 MB per
#: image) and, being a constant, keeps results independent of available memory
BATCH = 16

#: version of the cache file layout
CACHE_FORMAT = 1

#: dyad modules whose source decides what pre-training produces (globs relative to dyad/)
DEPENDENCIES = ("faces/*.py", "brain/*.py", "vision.py")

_META = "__meta__"

#: ``progress(stage, done, total)``, see :data:`dyad.progress.ProgressCallback` (which draws it)
Progress = Callable[[str, int, int], None]


# --------------------------------------------------------------------------------------------
# Configuration


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
        settings).
        """
        return PhotoFaces(
            self.folder,
            size=config.size,
            labels_csv=self.labels,
            transforms=config.transforms,
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
    n_train_transforms: Int = Field(50, ge=2)
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


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------------------------
# Random streams


def streams(seed: int) -> dict[str, np.random.Generator]:
    """One independent generator per purpose of pre-training, derived from ``seed``."""
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {
        name: np.random.default_rng(child) for name, child in zip(STREAMS, children, strict=True)
    }


# --------------------------------------------------------------------------------------------
# Cache mechanics


def default_cache_dir() -> Path:
    """``$DYAD_CACHE_DIR`` if set, else ``~/.cache/dyad``."""
    configured = os.environ.get("DYAD_CACHE_DIR")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "dyad"


def source_fingerprint(root: Path | None = None) -> str:
    """SHA-256 over the source of every module pre-training depends on (faces, brain, vision).

    Any edit to those files changes the cache key, so results computed by other code are never
    reused. ``root`` is the ``dyad`` package folder (default: this installation's).
    """
    root = Path(__file__).resolve().parent if root is None else Path(root)
    digest = hashlib.sha256()
    files = sorted({path for pattern in DEPENDENCIES for path in root.glob(pattern)})
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def cache_key(config: PretrainConfig, extra: dict[str, Any] | None = None) -> str:
    """Return the SHA-256 cache key.

    It hashes the canonical config JSON + dyad version + source fingerprint (+ ``extra`` for
    results derived from the pre-trained network, such as response banks).
    """
    record = {
        "config": config.canonical(),
        "dyad_version": __version__,
        "source": source_fingerprint(),
    }
    if extra is not None:
        record["extra"] = to_json(extra)
    return _sha256(_canonical_json(record))


def array_checksum(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 over names, dtypes, shapes and bytes of the arrays (in name order)."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _resolve_cache_dir(cache_dir: str | os.PathLike | None) -> Path:
    folder = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"cache_dir: expected a folder, got a file: {folder}")
    return folder


def write_cache(path: Path, arrays: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
    """Write ``arrays`` and ``metadata`` (plus the arrays' checksum) atomically to ``path``.

    The file is written under a temporary name in the same folder, flushed to disk, then
    renamed over ``path``: readers see either the old file or the complete new one.
    """
    if _META in arrays:
        raise ValueError(f"array name {_META!r} is reserved for metadata")
    path.parent.mkdir(parents=True, exist_ok=True)
    record = dict(metadata, format=CACHE_FORMAT, checksum=array_checksum(arrays))
    meta = np.frombuffer(_canonical_json(record).encode(), dtype=np.uint8)
    atomic_write(path, lambda handle: np.savez(handle, **{_META: meta}, **arrays))


def read_cache(path: Path, key: str) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
    """Load a cache file if it is intact and was made for ``key``; otherwise warn and return None.

    A missing file returns None silently. A file made for another key (other config or code)
    is reported as stale; any failure to read it (a damaged zip directory can raise
    ``NotImplementedError``, ``zlib.error``, ``struct.error``, ``MemoryError`` and more, beside
    the usual ``OSError``/``ValueError``), and arrays that do not match their checksum, are
    reported as corrupt. Each is one ``logging.warning`` naming the file and the reason; the
    caller then rebuilds the file, so a damaged cache never stops a run.
    """
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            if _META not in data.files:
                raise ValueError("no metadata record")
            metadata = json.loads(data[_META].tobytes().decode())
            if not isinstance(metadata, dict):
                raise ValueError("metadata record is not a JSON object")
            if metadata.get("format") != CACHE_FORMAT:
                log.warning(
                    "pre-training cache %s is stale (file format %r, expected %r); rebuilding",
                    path,
                    metadata.get("format"),
                    CACHE_FORMAT,
                )
                return None
            if metadata.get("key") != key:
                log.warning(
                    "pre-training cache %s is stale (made by other code or config: key %.12s…, "
                    "expected %.12s…); rebuilding",
                    path,
                    str(metadata.get("key")),
                    key,
                )
                return None
            arrays = {name: data[name] for name in data.files if name != _META}
        intact = array_checksum(arrays) == metadata.get("checksum")
    except Exception as exc:  # any failure to read means the file is damaged: rebuild it
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        log.warning("pre-training cache %s is corrupt (%s); rebuilding", path, reason)
        return None
    if not intact:
        log.warning("pre-training cache %s is corrupt (array checksum mismatch); rebuilding", path)
        return None
    return arrays, metadata


# --------------------------------------------------------------------------------------------
# Images and responses


def face_source(config: PretrainConfig, identity: int | PhotoSet) -> FaceSource:
    """Return the renderer of one parent's face.

    Parametric for an identity seed, else photographs.
    """
    if isinstance(identity, PhotoSet):
        return identity.faces(config.faces)
    return ParametricFaces(config.face_config(identity))


def render_images(
    config: PretrainConfig,
    n_per_identity: int,
    rng: np.random.Generator,
    identity_seeds: Sequence[int | PhotoSet] | None = None,
    expressions: Sequence[str] | None = None,
    presentation: Literal["interleaved", "blocked"] = "blocked",
) -> np.ndarray:
    """Random transforms of faces: (n_expressions, n_identities·n, size, size).

    Images are drawn face by face (n each, in the order given; default:
    :attr:`PretrainConfig.face_identities`, photo sets included), so the images do not depend
    on ``presentation``, only their order does: ``"blocked"`` keeps them face by face,
    ``"interleaved"`` cycles through the faces at every transform index.
    """
    identity_seeds = config.face_identities if identity_seeds is None else tuple(identity_seeds)
    expressions = config.expressions if expressions is None else tuple(expressions)
    renderers = [face_source(config, s) for s in identity_seeds]
    size = config.faces.size
    blocks = []
    for e in expressions:
        per_identity = np.stack([faces.images(e, n_per_identity, rng) for faces in renderers])
        if presentation == "interleaved":
            per_identity = per_identity.swapaxes(0, 1)
        blocks.append(per_identity.reshape(-1, size, size))
    return np.stack(blocks).astype(np.float32, copy=False)


def gather_layer1(
    v1: V1, visnet: VisNet, images: np.ndarray, progress: Progress | None = None
) -> np.ndarray:
    """Layer-1 inputs of images (..., H, W) → (..., N1, fan_in1) float32.

    Images pass through V1 ``BATCH`` at a time and only the values layer-1 synapses read are
    kept, so whole V1 stacks never pile up in memory.
    """
    lead = images.shape[:-2]
    flat = images.reshape(-1, *images.shape[-2:])
    shape = visnet.layers[0].presynaptic.shape
    out = np.empty((flat.shape[0], *shape), dtype=np.float32)
    total = flat.shape[0]
    if progress is not None:
        progress("V1 filtering", 0, total)
    for start in range(0, total, BATCH):
        stop = min(start + BATCH, total)
        out[start:stop] = visnet.gather_v1(v1.filter(flat[start:stop]))
        if progress is not None:
            progress("V1 filtering", stop, total)
    return out.reshape(*lead, *shape)


@dataclass
class PretrainedVision:
    """A (pre-)trained visual system: V1 + VisNet, the config it came from, and its cache file.

    Attributes
    ----------
    config
        the pre-training config.
    v1
        the Gabor filter bank.
    visnet
        the network (trained unless ``trained`` is False).
    key
        the cache key of this result (same for the trained and untrained network).
    trained
        False for :meth:`untrained`'s same-seed, untrained network.
    cache_path
        the cache file it was loaded from or saved to (None when not cached).
    from_cache
        whether it was loaded rather than trained.
    build_seconds
        wall time of training (when it was trained, here or for the cache).
    """

    config: PretrainConfig
    v1: V1
    visnet: VisNet
    key: str
    trained: bool = True
    cache_path: Path | None = None
    from_cache: bool = False
    build_seconds: float | None = None

    def layer4(self, images: np.ndarray) -> np.ndarray:
        """Layer-4 rates (learning off) for images (n, size, size) on 0–255: (n, n_l4) float32."""
        images = np.asarray(images, dtype=np.float32)
        if images.ndim != 3:
            raise ConfigError(f"images: expected (n, size, size), got shape {images.shape}")
        out = np.empty((images.shape[0], self.visnet.n_outputs), dtype=np.float32)
        for start in range(0, images.shape[0], BATCH):
            batch = images[start : start + BATCH]
            out[start : start + batch.shape[0]] = self.visnet.transform(self.v1.filter(batch))
        return out

    def untrained(self) -> PretrainedVision:
        """Return the same-seed network before training (same initial weights and connectivity)."""
        visnet = VisNet(self.config.visnet, streams(self.config.seed)["visnet"])
        return PretrainedVision(self.config, self.v1, visnet, self.key, trained=False)

    def test_images(self) -> np.ndarray:
        """The held-out test transforms: (n_expressions, n_identities·n_test, size, size).

        Drawn from their own stream, so they never coincide with the training images.
        """
        rng = streams(self.config.seed)["test_images"]
        return render_images(self.config, self.config.n_test_transforms, rng)

    def heldout_images(self, n_faces: int = 4, n_per_face: int | None = None) -> np.ndarray:
        """Return held-out transforms of faces pre-training never showed.

        An array (n_expressions, n_faces·n_per_face, size, size), face by face within an
        expression.

        ``n_per_face`` defaults to ``n_test_transforms``. The faces come from
        :meth:`PretrainConfig.heldout_faces` and the transforms from the test stream.
        """
        n = self.config.n_test_transforms if n_per_face is None else int(n_per_face)
        rng = streams(self.config.seed)["test_images"]
        return render_images(self.config, n, rng, self.config.heldout_faces(n_faces))

    def test_layer4(self, images: np.ndarray | None = None) -> np.ndarray:
        """Layer-4 rates on the held-out test transforms: (n_expressions, n_test_total, n_l4)."""
        images = self.test_images() if images is None else images
        rates = self.layer4(images.reshape(-1, *images.shape[-2:]))
        return rates.reshape(*images.shape[:2], -1)


def _cache_file(folder: Path, config: PretrainConfig, kind: str, extra: Any = None) -> Path:
    """Cache file name from the config (and ``extra``) only, not the code version."""
    name = _sha256(_canonical_json({"config": config.canonical(), "extra": to_json(extra)}))
    return folder / f"{kind}-{name[:24]}.npz"


def train(config: PretrainConfig, progress: Progress | None = None, v1: V1 | None = None) -> VisNet:
    """Render the training images, filter them through V1 and train VisNet (no caching).

    Only the V1 values layer-1 synapses read are kept for each image (about half a V1 stack),
    filtered and gathered in batches, so memory stays at about 1 MB per 128-px training image.
    """
    rng = streams(config.seed)
    visnet = VisNet(config.visnet, rng["visnet"])
    images = render_images(
        config,
        config.n_train_transforms,
        rng["train_images"],
        identity_seeds=config.training_faces,
        presentation=config.presentation,
    )
    v1 = V1(config.visnet.v1) if v1 is None else v1
    gathered = gather_layer1(v1, visnet, images, progress=progress)
    del images
    visnet.fit_gathered(gathered, progress=progress)
    return visnet


def pretrain(
    config: PretrainConfig,
    cache_dir: str | os.PathLike | None = None,
    progress: Progress | None = None,
    rebuild: bool = False,
    use_cache: bool = True,
) -> PretrainedVision:
    """Pre-train VisNet on the parents' faces, or load the identical result from the cache.

    Parameters
    ----------
    config
        what to train.
    cache_dir
        the cache folder (default :func:`default_cache_dir`).
    progress
        told of each stage (V1 filtering, then each VisNet layer's epochs) as
        ``progress(stage, done, total)``; the commands pass
        :class:`dyad.progress.ClickProgress` to draw bars. None reports nothing.
    rebuild
        train even if a valid cache file exists, and overwrite it.
    use_cache
        read and write the cache at all.
    """
    key = cache_key(config)
    v1 = V1(config.visnet.v1)
    path = None
    if use_cache:
        path = _cache_file(_resolve_cache_dir(cache_dir), config, "pretrain")
        if not rebuild:
            cached = read_cache(path, key)
            if cached is not None:
                arrays, metadata = cached
                log.info("loaded pre-trained VisNet from %s", path)
                return PretrainedVision(
                    config,
                    v1,
                    VisNet.from_arrays(config.visnet, arrays),
                    key,
                    cache_path=path,
                    from_cache=True,
                    build_seconds=metadata.get("build_seconds"),
                )
    started = time.perf_counter()
    visnet = train(config, progress=progress, v1=v1)
    seconds = time.perf_counter() - started
    log.info("pre-trained VisNet in %.1f s", seconds)
    if path is not None:
        try:
            write_cache(
                path,
                visnet.to_arrays(),
                {
                    "key": key,
                    "kind": "pretrain",
                    "config": config.canonical(),
                    "dyad_version": __version__,
                    "build_seconds": seconds,
                    "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                },
            )
            log.info("saved pre-trained VisNet to %s", path)
        except OSError as exc:
            log.warning("could not write pre-training cache %s (%s); continuing without", path, exc)
            path = None
    return PretrainedVision(config, v1, visnet, key, cache_path=path, build_seconds=seconds)


def layer4_bank(
    pretrained: PretrainedVision,
    expressions: Sequence[str],
    n_per_expression: int,
    rng: np.random.Generator | int,
    *,
    identity_seed: int | PhotoSet | None = None,
    cache_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
    progress: Progress | None = None,
) -> np.ndarray:
    """Layer-4 responses to fresh random transforms of one parent's face, per expression.

    Used by the interaction phase, where VisNet is frozen and each timestep samples one of these
    responses instead of rendering and filtering a new image.

    Parameters
    ----------
    pretrained
        the visual system.
    expressions
        the expressions to render (any the face model knows).
    n_per_expression
        transforms per expression.
    rng
        a generator, or an integer seed. With a seed (and ``use_cache``) the bank is a pure
        function of its inputs and is cached like pre-training, keyed also by the
        expressions, n, the seed and the identity; a generator's state cannot be keyed, so
        it is never cached.
    identity_seed
        which parent (default: the first of the config's ``identity_seeds``),
        or a :class:`PhotoSet` for a parent given as photographs.
    progress
        told ``progress("layer-4 bank", expressions_done, n_expressions)``.

    Returns
    -------
    np.ndarray
        (n_expressions, n_per_expression, n_l4) float32.
    """
    expressions = tuple(expressions)
    if not expressions or not all(isinstance(e, str) for e in expressions):
        raise ConfigError(f"expressions: expected expression names, got {expressions!r}")
    if not _is_int(n_per_expression) or n_per_expression < 1:
        raise ConfigError(f"n_per_expression: expected an integer >= 1, got {n_per_expression!r}")
    config = pretrained.config
    if isinstance(identity_seed, PhotoSet):
        identity = identity_seed
    else:
        identity = config.face_identities[0] if identity_seed is None else int(identity_seed)
    seed = None
    if _is_int(rng):
        seed = int(rng)
        generator = np.random.default_rng(seed)
    elif isinstance(rng, np.random.Generator):
        generator = rng
    else:
        raise ConfigError(f"rng: expected a numpy Generator or an integer seed, got {rng!r}")

    path = None
    key = None
    if seed is not None and use_cache:
        extra = {
            "bank": {
                "expressions": list(expressions),
                "n": int(n_per_expression),
                "seed": seed,
                "identity_seed": (
                    {"photos": identity.digest} if isinstance(identity, PhotoSet) else identity
                ),
                "trained": pretrained.trained,
            }
        }
        key = cache_key(config, extra)
        path = _cache_file(_resolve_cache_dir(cache_dir), config, "bank", extra)
        cached = read_cache(path, key)
        if cached is not None and "bank" in cached[0]:
            return cached[0]["bank"]

    images = render_images(config, n_per_expression, generator, (identity,), expressions)
    parts = []
    for block in images:
        if progress is not None:
            progress("layer-4 bank", len(parts), len(expressions))
        parts.append(pretrained.layer4(block))
    if progress is not None:
        progress("layer-4 bank", len(parts), len(expressions))
    bank = np.stack(parts).astype(np.float32, copy=False)
    if path is not None:
        try:
            write_cache(
                path,
                {"bank": bank},
                {"key": key, "kind": "bank", "config": config.canonical()},
            )
        except OSError as exc:
            log.warning("could not write layer-4 bank cache %s (%s); continuing without", path, exc)
    return bank
