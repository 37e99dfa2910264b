"""Images for pre-training and banks: random transforms of the faces, filtered through V1."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np

from dyad.brain.v1 import V1
from dyad.brain.visnet import VisNet
from dyad.faces import FaceSource, ParametricFaces
from dyad.vision.config import PhotoSet, PretrainConfig

#: images rendered and filtered per batch: bounds memory (a 128-px V1 stack is about 2 MB per
#: image) and, being a constant, keeps results independent of available memory
BATCH = 16

#: ``progress(stage, done, total)``, see :data:`dyad.progress.ProgressCallback` (which draws it)
Progress = Callable[[str, int, int], None]


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


def training_images(config: PretrainConfig, rng: np.random.Generator) -> np.ndarray:
    """Return the images pre-training shows, in the order it shows them.

    ``n_train_transforms`` of every training face (the parents', then the other people's) per
    expression, ordered by ``config.presentation``: (n_expressions, n_faces·n, size, size).
    """
    return render_images(
        config,
        config.n_train_transforms,
        rng,
        identity_seeds=config.training_faces,
        presentation=config.presentation,
    )


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
