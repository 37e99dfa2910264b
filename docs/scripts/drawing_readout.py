"""How well a mean code reads six expressions from the pixels and from V1, as drawn.

The mirror layer's Hebbian weights hold class means, so the question for six expressions is
whether their images keep distinct means once the face moves. For the parent's face, and for
four people pre-training never showed, this draws ``--means`` images per expression to form
the class means and ``--read`` fresh ones to read by the nearest mean, from the pixels and from
V1 (every 4th position of every map), with the default scenario's transforms. ``--gain G``
draws the presets' action units at G times their intensity (at most 1, before the ±0.15
jitter each image draws), ``--only`` limits that to some expressions, ``--still`` switches the
geometric changes off. No network is trained.

    uv run python docs/scripts/drawing_readout.py
    uv run python docs/scripts/drawing_readout.py --gain 1.6
    uv run python docs/scripts/drawing_readout.py --gain 1.6 --only fear,anger,disgust
    uv run python docs/scripts/drawing_readout.py --still
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from dyad.brain.v1 import V1
from dyad.config import load_scenario
from dyad.faces import EXPRESSIONS, ParametricFaces
from dyad.simulation import pretrain_config

ROOT = Path(__file__).resolve().parents[2]
SIX = ("happy", "sad", "surprise", "fear", "anger", "disgust")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gain", type=float, default=1.0, help="action-unit intensity factor")
    parser.add_argument("--only", default=",".join(SIX), help="the expressions --gain applies to")
    parser.add_argument("--still", action="store_true", help="no shift, scale change or tilt")
    parser.add_argument("--means", type=int, default=120, help="images per expression for means")
    parser.add_argument("--read", type=int, default=40, help="images per expression to read")
    args = parser.parse_args()
    overrides: dict[str, object] = {"infant.expressions": list(SIX)}
    if args.still:
        overrides |= {
            "vision.faces.transforms.translation": 0,
            "vision.faces.transforms.scale": [1.4, 1.4],
            "vision.faces.transforms.rotation": 0,
        }
    config = pretrain_config(load_scenario(ROOT / "scenarios" / "perfect.toml", overrides))
    boosted = set(args.only.split(","))
    action_units = {
        e: {u: min(1.0, args.gain * v) if e in boosted else v for u, v in EXPRESSIONS[e].items()}
        for e in SIX
    }
    v1 = V1(config.visnet.v1)
    result: dict[str, object] = {"gain": args.gain, "only": sorted(boosted), "still": args.still}
    for who, identities in (
        ("parent", config.face_identities[:1]),
        ("others", config.heldout_faces(4)),
    ):
        faces = [ParametricFaces(config.face_config(seed)) for seed in identities]
        means = stages(v1, draw(faces, action_units, args.means, np.random.default_rng(11)))
        shown = stages(v1, draw(faces, action_units, args.read, np.random.default_rng(12)))
        for stage in means:
            result[f"{who} {stage}"] = nearest_mean(means[stage], shown[stage])
    print(json.dumps(result))


def draw(faces, action_units, n: int, rng: np.random.Generator) -> np.ndarray:
    """(S, n, H, W): for each expression, n / len(faces) random transforms of each face.

    Drawn in the order :func:`dyad.vision.render_images` draws them, so that with the
    presets as they are the images are the same.
    """
    per_face = n // len(faces)
    return np.stack(
        [
            np.stack([f.render_aus(action_units[e], rng) for f in faces for _ in range(per_face)])
            for e in SIX
        ]
    )


def stages(v1: V1, images: np.ndarray) -> dict[str, np.ndarray]:
    """Return the pixels and V1 (every 4th position) of (S, n, H, W) images: (S, n, features)."""
    s, n = images.shape[:2]
    flat = images.reshape(s * n, *images.shape[2:]).astype(np.float32)
    maps = np.concatenate([v1.filter(flat[i : i + 16]) for i in range(0, len(flat), 16)])
    return {
        "pixels": flat.reshape(s, n, -1),
        "V1": maps[:, :, ::4, ::4].reshape(s, n, -1),
    }


def nearest_mean(fit: np.ndarray, read: np.ndarray) -> dict[str, object]:
    """Return the share of ``read`` images whose nearest class mean of ``fit`` is their own."""
    means = fit.mean(axis=1)  # (S, features)
    s, n = read.shape[:2]
    distances = ((read.reshape(s * n, 1, -1) - means[None]) ** 2).sum(-1)
    said = distances.argmin(1).reshape(s, n)
    right = said == np.arange(s)[:, None]
    return {
        "all": round(float(right.mean()), 2),
        **{e: round(float(r), 2) for e, r in zip(SIX, right.mean(1), strict=True)},
    }


if __name__ == "__main__":
    main()
