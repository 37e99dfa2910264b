"""The images behind the layer-4 bank: the parent's faces exactly as the infant sees them.

The interaction samples layer-4 responses from a bank of ``bank_size`` random transforms per
parent and expression, drawn from a seed (:func:`dyad.simulation.bank_seed`). Rendering from
the same seed reproduces those very images, so the page can show the transform the infant saw
at each timestep. Rendering takes a few seconds at 128 px, so the images are cached on disk
(uint8, beside the pre-training cache) and kept in memory once loaded.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

_memory: dict[str, np.ndarray] = {}
_lock = threading.Lock()
_rendering: set[str] = set()


def bank_images_key(pretrained, identity_seed: int, n_bank: int, expressions: Sequence[str]) -> str:
    """Name one parent's bank images: the pre-training key plus what the bank draws."""
    text = repr((pretrained.key, int(identity_seed), int(n_bank), tuple(expressions)))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def bank_images(
    pretrained,
    identity_seed: int,
    n_bank: int,
    expressions: Sequence[str],
    cache_dir: str | os.PathLike | None = None,
) -> np.ndarray:
    """Return the ``(n_expressions, n_bank, size, size)`` uint8 images of a parent's bank.

    From memory, else the disk cache, else rendered (and cached).
    """
    key = bank_images_key(pretrained, identity_seed, n_bank, expressions)
    with _lock:
        if key in _memory:
            return _memory[key]
    path = _cache_path(key, cache_dir)
    images = None
    if path.is_file():
        try:
            with np.load(path) as data:
                images = data["images"]
        except (OSError, ValueError, KeyError) as exc:
            log.warning("unreadable face-image cache %s (%s); rendering again", path, exc)
    if images is None:
        images = _render(pretrained.config, identity_seed, n_bank, expressions)
        _write(path, images)
    with _lock:
        _memory[key] = images
    return images


def bank_images_soon(
    pretrained, identity_seed: int, n_bank: int, expressions: Sequence[str]
) -> np.ndarray | None:
    """Return the images if they are in memory; else start loading them in a thread, return None."""
    key = bank_images_key(pretrained, identity_seed, n_bank, expressions)
    with _lock:
        if key in _memory:
            return _memory[key]
        if key in _rendering:
            return None
        _rendering.add(key)
    threading.Thread(
        target=bank_images,
        args=(pretrained, identity_seed, n_bank, tuple(expressions)),
        daemon=True,
    ).start()
    return None


def _render(config, identity_seed: int, n_bank: int, expressions: Sequence[str]) -> np.ndarray:
    from dyad.simulation import bank_seed
    from dyad.vision import render_images

    rng = np.random.default_rng(bank_seed(config.seed, identity_seed, "training"))
    images = render_images(config, n_bank, rng, (identity_seed,), tuple(expressions))
    return np.clip(np.rint(images), 0, 255).astype(np.uint8)


def _cache_path(key: str, cache_dir: str | os.PathLike | None) -> Path:
    from dyad.vision import default_cache_dir

    folder = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    return folder / f"faces-{key}.npz"


def _write(path: Path, images: np.ndarray) -> None:
    """Write whole or not at all (a temporary name, then renamed)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with temporary.open("wb") as handle:
            np.savez(handle, images=images)
        os.replace(temporary, path)
    except OSError as exc:
        log.warning("could not cache face images at %s (%s); continuing without", path, exc)
