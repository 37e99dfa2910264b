"""Layer-4 banks: a frozen VisNet's responses to fresh transforms of one parent's face.

The interaction phase samples these responses each timestep instead of rendering and
filtering a new image. A bank drawn from an integer seed is cached like pre-training.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

import numpy as np

from dyad._io import is_int
from dyad.errors import ConfigError
from dyad.validation import check_int
from dyad.vision.cache import _cache_file, _resolve_cache_dir, cache_key, read_cache, write_cache
from dyad.vision.config import PhotoSet
from dyad.vision.images import Progress, render_images
from dyad.vision.pretrained import PretrainedVision

log = logging.getLogger(__name__)


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
    check_int("n_per_expression", n_per_expression, 1)
    config = pretrained.config
    if isinstance(identity_seed, PhotoSet):
        identity = identity_seed
    else:
        identity = config.face_identities[0] if identity_seed is None else int(identity_seed)
    seed = None
    if is_int(rng):
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
