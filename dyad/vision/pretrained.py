"""Pre-training itself and its result, :class:`PretrainedVision` (V1 + a trained VisNet)."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dyad import __version__
from dyad.brain.v1 import V1
from dyad.brain.visnet import VisNet
from dyad.errors import ConfigError
from dyad.vision.cache import _cache_file, _resolve_cache_dir, cache_key, read_cache, write_cache
from dyad.vision.config import PretrainConfig, streams
from dyad.vision.images import BATCH, Progress, gather_layer1, render_images, training_images

log = logging.getLogger(__name__)


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


def train(config: PretrainConfig, progress: Progress | None = None, v1: V1 | None = None) -> VisNet:
    """Render the training images, filter them through V1 and train VisNet (no caching).

    Only the V1 values layer-1 synapses read are kept for each image (about half a V1 stack),
    filtered and gathered in batches, so memory stays at about 1 MB per 128-px training image.
    """
    rng = streams(config.seed)
    visnet = VisNet(config.visnet, rng["visnet"])
    images = training_images(config, rng["train_images"])
    v1 = V1(config.visnet.v1) if v1 is None else v1
    gathered = gather_layer1(v1, visnet, images, progress=progress)
    del images
    visnet.fit_gathered(gathered, progress=progress, rng=rng["block_order"])
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
