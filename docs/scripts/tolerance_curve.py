"""How far VisNet's learnt tolerance reaches: layer-4 expression cells against transform range.

For each range of one geometric transform (shift, scale or tilt; the others off, the
photometric changes on), pre-train on the default set of faces with that range and measure
layer 4 on held-out transforms of faces pre-training never showed, trained and untrained
(same seed). Writes ``docs/figures/tolerance_curve.png`` (``tolerance_curve_classic.png``
with ``--classic``) and prints a Markdown table.

    uv run python docs/scripts/tolerance_curve.py            # small size (minutes)
    uv run python docs/scripts/tolerance_curve.py --classic  # full size (an hour or more)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np

from dyad.analysis.information import max_information
from dyad.config import validate_scenario
from dyad.faces import TransformConfig
from dyad.faces.config import LEARNABLE_SCALE
from dyad.simulation import pretrain_config
from dyad.vision import pretrain

FIGURE = Path(__file__).resolve().parents[1] / "figures" / "tolerance_curve.png"

#: (transform, label, ranges): each a TransformConfig field and the values swept
SWEEPS = (
    ("translation", "shift (± px at 128 px)", (0.0, 1.0, 2.0, 4.0, 8.0)),
    ("scale", "scale (± fraction of the face's size)", (0.0, 0.05, 0.1, 0.2)),
    ("rotation", "tilt (± degrees)", (0.0, 4.0, 8.0, 16.0)),
)


def transforms(kind: str, value: float, size: float) -> TransformConfig:
    """Photometric changes on, one geometric transform at ``value``, the others off.

    ``size`` is the face's size in the view (the classic scenarios draw it ×1.4, the small
    science tests ×1); the scale range is ± ``value`` about it.
    """
    off = dataclasses.replace(TransformConfig.photometric(), scale=(size, size))
    if kind == "scale":
        return dataclasses.replace(off, scale=(size * (1.0 - value), size * (1.0 + value)))
    return dataclasses.replace(off, **{kind: value})


def measure(preset: str, kind: str, value: float, seed: int, n_faces: int) -> dict:
    raw = {"name": "tolerance", "vision": {"preset": preset, "seed": seed}}
    config = pretrain_config(validate_scenario(raw))
    size = sum(LEARNABLE_SCALE) / 2 if preset == "classic" else 1.0
    faces = dataclasses.replace(config.faces, transforms=transforms(kind, value, size))
    config = dataclasses.replace(config, faces=faces)
    trained = pretrain(config)
    images = trained.heldout_images(n_faces)
    n_expressions, n_trials = images.shape[:2]
    stimuli = np.repeat(np.arange(n_expressions), n_trials)
    row = {"transform": kind, "range": value, "seed": seed}
    for label, network in (("trained", trained), ("untrained", trained.untrained())):
        rates = network.test_layer4(images).reshape(n_expressions * n_trials, -1)
        info = max_information(rates, stimuli)
        row[f"{label}_1bit"] = int((info >= 0.99).sum())
        row[f"{label}_half"] = int((info >= 0.5).sum())
        row[f"{label}_mean"] = float(info.mean())
    return row


def plot(rows: list[dict], n_cells: int, preset: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(SWEEPS), figsize=(11, 3.8), sharey=True)
    for ax, (kind, label, _) in zip(axes, SWEEPS, strict=True):
        part = [r for r in rows if r["transform"] == kind]
        x = [r["range"] for r in part]
        ax.plot(x, [r["trained_half"] for r in part], "-o", color="C0", label="trained, ≥ 0.5 bit")
        ax.plot(x, [r["trained_1bit"] for r in part], "-s", color="C3", label="trained, ≥ 0.99 bit")
        ax.plot(
            x,
            [r["untrained_half"] for r in part],
            "--o",
            color="0.5",
            mfc="none",
            label="untrained, ≥ 0.5 bit (≥ 0.99 bit: 0 too)",
        )
        ax.set_xlabel(label)
        ax.set_ylim(-0.03 * n_cells, 1.03 * n_cells)
        ax.grid(alpha=0.3)
        # the mean is the smooth measure: the full-bit count hinges on one or two images
        bits = ax.twinx()
        bits.plot(x, [r["trained_mean"] for r in part], ":^", color="k", label="trained, mean bits")
        bits.set_ylim(-0.03, 1.03)
        if kind == SWEEPS[-1][0]:
            bits.set_ylabel("mean information per cell (bits)")
        else:
            bits.set_yticklabels([])
    axes[0].set_ylabel(f"layer-4 cells (of {n_cells})")
    handles, labels = axes[0].get_legend_handles_labels()
    mean_handles, mean_labels = bits.get_legend_handles_labels()
    fig.legend(
        handles + mean_handles,
        labels + mean_labels,
        loc="lower center",
        ncol=4,
        fontsize=8,
        frameon=False,
    )
    fig.suptitle(
        f"Expression information in layer 4 on faces never seen, against the transform range "
        f"({preset} size; one transform at a time, photometric changes on)",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    figure = FIGURE if preset == "small" else FIGURE.with_name(f"tolerance_curve_{preset}.png")
    figure.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(figure, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classic", action="store_true", help="full size instead of small")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--faces", type=int, default=4, help="held-out faces")
    parser.add_argument("--rows", type=Path, help="re-plot the JSON lines a run printed")
    args = parser.parse_args()
    preset = "classic" if args.classic else "small"
    rows = []
    if args.rows is not None:
        lines = args.rows.read_text().splitlines()
        rows = [json.loads(line) for line in lines if line.startswith("{")]
    for kind, _, values in [] if rows else SWEEPS:
        for value in values:
            rows.append(measure(preset, kind, value, args.seed, args.faces))
            print(json.dumps(rows[-1]), flush=True)
    n_cells = 1024 if args.classic else 256
    plot(rows, n_cells, preset)
    print(
        "| transform | range | trained ≥ 0.99 bit | ≥ 0.5 bit | mean bits | untrained ≥ 0.5 bit |"
    )
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['transform']} | {r['range']:g} | {r['trained_1bit']} | {r['trained_half']} "
            f"| {r['trained_mean']:.3f} | {r['untrained_half']} |"
        )


if __name__ == "__main__":
    main()
