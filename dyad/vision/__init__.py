"""Visual pre-training (model.md Phase A, §6.5): parent faces → V1 → VisNet, cached on disk.

Cache files live in ``$DYAD_CACHE_DIR`` (default ``~/.cache/dyad``), keyed by the config, the
dyad version and the source of every module that shapes the weights (this package and the
modules of ``dyad/faces`` and ``dyad/brain`` it imports: :func:`~dyad.vision.cache.dependencies`);
a corrupt or stale file is reported and rebuilt, never used.

The package is split by concern: :mod:`~dyad.vision.config` (:class:`PretrainConfig`, photo
sets, the random streams), :mod:`~dyad.vision.images` (rendering the faces' transforms, V1 in
batches), :mod:`~dyad.vision.pretrained` (:func:`pretrain`, :func:`train` and their result
:class:`PretrainedVision`), :mod:`~dyad.vision.banks` (:func:`layer4_bank`) and
:mod:`~dyad.vision.cache` (keys, atomic cache files, integrity checks).
"""

from dyad.vision.banks import layer4_bank
from dyad.vision.cache import (
    CACHE_FORMAT,
    DEPENDENCIES,
    array_checksum,
    cache_key,
    default_cache_dir,
    dependencies,
    read_cache,
    source_fingerprint,
    write_cache,
)
from dyad.vision.config import (
    DRAWN_IDENTITY_BASE,
    MAX_OTHER_FACES,
    STREAMS,
    PhotoSet,
    PretrainConfig,
    drawn_identities,
    photo_digest,
    streams,
)
from dyad.vision.images import (
    BATCH,
    Progress,
    face_source,
    gather_layer1,
    render_images,
    training_images,
)
from dyad.vision.pretrained import PretrainedVision, pretrain, train

__all__ = [
    "BATCH",
    "CACHE_FORMAT",
    "DEPENDENCIES",
    "dependencies",
    "DRAWN_IDENTITY_BASE",
    "MAX_OTHER_FACES",
    "STREAMS",
    "PhotoSet",
    "PretrainConfig",
    "PretrainedVision",
    "Progress",
    "array_checksum",
    "cache_key",
    "default_cache_dir",
    "drawn_identities",
    "face_source",
    "gather_layer1",
    "layer4_bank",
    "photo_digest",
    "pretrain",
    "read_cache",
    "render_images",
    "source_fingerprint",
    "streams",
    "train",
    "training_images",
    "write_cache",
]
