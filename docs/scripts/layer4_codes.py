"""Measure what layer 4 codes after pre-training: the expression, or the person.

Pre-trains (or loads from the cache) the visual system a scenario asks for, then shows it
held-out transforms of faces pre-training never showed. For the trained network and the
untrained one of the same seed it measures, on those images:

- the share of layer-4 response variance explained by the expression and by the person
  (between-group sum of squares over total, summed over cells);
- single-cell information about the expression (cells at ≥ 0.99 and ≥ 0.5 bit, mean);
- a leave-one-face-out linear read-out of the expression from the population (ridge).

Writes ``docs/figures/layer4_codes.png`` and prints a Markdown table.

With ``--diagnose`` it also separates the person from the movement: cells on new transforms
of faces pre-training did show, cells on the unseen faces without geometric changes, and which
held-out images the most informative cells misread. With ``--layers`` it follows the
expression through the hierarchy: the read-out from V1 (every 4th pixel) and from each layer,
trained and untrained, and the cosine between the expressions' centred mean layer-4 codes
(expressions whose codes point the same way cannot get mirror neurons of their own). With
``--one-change`` it shows the unseen faces with one geometric change at a time (fixed
scales, shifts, tilts, inside and beyond the defaults' ranges) and counts the images most of
the 50 most informative cells misread: which change, alone, the network does not tolerate.
With ``--parent-stages`` it reads the expression stage by stage (pixels, V1, layers 1–4) on the
parent's own face, the face the mirror layer is trained and judged on: class means from 120
transforms per expression, 40 fresh ones read by the nearest mean (the kind of code the mirror
layer's Hebbian weights hold) and by a ridge classifier of the whole stage. With ``--merge``
it follows, layer by layer, how alike the expressions' mean codes are on the parent's face
(cosine of the raw class means, what the mirror layer's Hebbian weights become), with the face
still (drawn ×1.4, photometric changes only) and moving as the scenario moves it, trained and
untrained: the layer where two expressions become one code. With ``--mirror`` it trains a mirror
layer on those codes without Mesa (the infant's expressions in turn, held 10 timesteps,
perfect mimicry, 2,000 timesteps, the scenario's mirror settings; run seeds 1 and 2) and
counts its mirror neurons, still and moving: a quick check of a network before a full run.
``--movement 0.25`` adds the parent's face moving a quarter as far as the scenario's ranges
(shift, tilt and the scale's spread about ×1.4), VisNet pre-trained as before. With ``--cells``
it counts layer-4 cells by the expressions they fire to (mean rate above 0.5 over 20 images of
each of 8 unseen people, the scenario's movement) and reads 20 fresh images of the parent per
expression by the nearest (cosine) of the expressions' mean codes over 200 others, with the
face still, moving half as far and moving as the scenario moves it (docs/results.md,
"Shuffled trace blocks").

    uv run python docs/scripts/layer4_codes.py [SCENARIO] [--faces 4] [--set vision.seed=1]
    uv run python docs/scripts/layer4_codes.py --diagnose
    uv run python docs/scripts/layer4_codes.py --layers --set 'infant.expressions=[...]'
    uv run python docs/scripts/layer4_codes.py --one-change --set vision.seed=1341738427
    uv run python docs/scripts/layer4_codes.py --train-set vision.faces.transforms.translation=6
    uv run python docs/scripts/layer4_codes.py --parent-stages --set 'infant.expressions=[...]'
    uv run python docs/scripts/layer4_codes.py --merge --set 'infant.expressions=[...]'
    uv run python docs/scripts/layer4_codes.py --mirror --movement 0.25 --set infant.expressions=...
    uv run python docs/scripts/layer4_codes.py --cells --set 'infant.expressions=[...]'
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np

from dyad.analysis.information import max_information
from dyad.config import load_scenario, parse_override
from dyad.progress import ClickProgress
from dyad.simulation import pretrain_config
from dyad.vision import pretrain, render_images
from dyad.vision.config import streams

ROOT = Path(__file__).resolve().parents[2]
FIGURE = ROOT / "docs" / "figures" / "layer4_codes.png"


def explained(rates: np.ndarray, labels: np.ndarray) -> float:
    """Between-group share of the total sum of squares, over all cells."""
    centred = rates - rates.mean(0)
    total = float((centred**2).sum())
    between = sum(
        (labels == g).sum() * float(((rates[labels == g].mean(0) - rates.mean(0)) ** 2).sum())
        for g in np.unique(labels)
    )
    return between / total if total > 0 else 0.0


def readout(rates: np.ndarray, expression: np.ndarray, person: np.ndarray) -> float:
    """Leave-one-person-out ridge read-out of the expression: fraction correct."""
    correct = 0
    for held in np.unique(person):
        train, test = person != held, person == held
        mean, sd = rates[train].mean(0), rates[train].std(0) + 1e-6
        x, z = (rates[train] - mean) / sd, (rates[test] - mean) / sd
        target = np.eye(expression.max() + 1)[expression[train]]
        gram = x @ x.T + len(x) * np.eye(len(x))
        weights = x.T @ np.linalg.solve(gram, target)
        correct += int(((z @ weights).argmax(1) == expression[test]).sum())
    return correct / len(expression)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios" / "perfect.toml"))
    parser.add_argument("--faces", type=int, default=4, help="faces never seen")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--figure", type=Path, default=FIGURE)
    parser.add_argument("--diagnose", action="store_true", help="person against movement")
    parser.add_argument("--layers", action="store_true", help="read-out layer by layer")
    parser.add_argument("--one-change", action="store_true", help="one geometric change at a time")
    parser.add_argument(
        "--parent-stages", action="store_true", help="read-out stage by stage, parent's face"
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="cosines of the class means layer by layer, parent's face",
    )
    parser.add_argument(
        "--mirror", action="store_true", help="a mirror layer trained on the parent's face codes"
    )
    parser.add_argument(
        "--cells", action="store_true", help="layer-4 cells by expression; parent's face read out"
    )
    parser.add_argument(
        "--movement",
        type=float,
        action="append",
        default=[],
        help="with --mirror: also the face moving this fraction of the scenario's ranges",
    )
    parser.add_argument(
        "--train-set",
        dest="train_overrides",
        action="append",
        default=[],
        help="override for pre-training only; the held-out images keep the scenario's settings",
    )
    args = parser.parse_args()
    overrides = dict(map(parse_override, args.overrides))
    scenario = load_scenario(args.scenario, overrides)
    trained_on = load_scenario(
        args.scenario, {**overrides, **dict(map(parse_override, args.train_overrides))}
    )
    trained = pretrain(pretrain_config(trained_on), progress=ClickProgress())
    tested = pretrain_config(scenario)
    images = render_images(  # (S, faces·n, H, W), face by face, as trained.heldout_images
        tested,
        tested.n_test_transforms,
        streams(tested.seed)["test_images"],
        tested.heldout_faces(args.faces),
    )
    n_expressions, n_images = images.shape[:2]
    per_face = n_images // args.faces
    expression = np.repeat(np.arange(n_expressions), n_images)
    person = np.tile(np.repeat(np.arange(args.faces), per_face), n_expressions)
    rows = {}
    curves = {}
    for label, network in (("trained", trained), ("untrained", trained.untrained())):
        rates = network.test_layer4(images).reshape(n_expressions * n_images, -1)
        info = max_information(rates, expression)
        curves[label] = np.sort(info)[::-1]
        rows[label] = {
            "expression_share": explained(rates, expression),
            "person_share": explained(rates, person),
            "cells_1bit": int((info >= 0.99 * np.log2(n_expressions)).sum()),
            "cells_half_bit": int((info >= 0.5).sum()),
            "mean_bits": float(info.mean()),
            "readout": readout(rates, expression, person),
        }
    print(json.dumps({"scenario": scenario.name, "seed": scenario.vision.seed, **rows}))
    print(
        "| network | variance: expression | variance: person | cells ≥ 0.99 bit "
        "| cells ≥ 0.5 bit | mean bits | read-out |"
    )
    print("|---|---|---|---|---|---|---|")
    for label, r in rows.items():
        print(
            f"| {label} | {r['expression_share']:.3f} | {r['person_share']:.3f} | "
            f"{r['cells_1bit']} | {r['cells_half_bit']} | {r['mean_bits']:.3f} | "
            f"{r['readout']:.2f} |"
        )
    if args.diagnose:
        print(json.dumps(diagnose(trained, images, args.faces)))
    if args.layers:
        print(json.dumps(layers(trained, images, expression, person)))
    if args.one_change:
        print(json.dumps(one_change(trained, images, args.faces)))
    if args.parent_stages:
        print(json.dumps(parent_stages(trained)))
    if args.merge:
        print(json.dumps(merge(trained)))
    if args.mirror:
        print(json.dumps(mirror_check(trained, scenario, args.movement)))
    if args.cells:
        print(json.dumps(cells(trained)))
    plot(rows, curves, scenario, args)


def layers(trained, images: np.ndarray, expression, person) -> dict[str, object]:
    """Read-out of the expression from V1 and each layer; cosines of centred L4 class means."""
    flat = images.reshape(-1, *images.shape[-2:])
    v1 = trained.v1.filter(flat)  # V1 does not learn: the untrained network shares it
    result: dict[str, object] = {
        "V1_readout": round(
            readout(v1[:, :, ::4, ::4].reshape(len(flat), -1), expression, person), 3
        )
    }
    for label, network in (("trained", trained), ("untrained", trained.untrained())):
        rates = [r.reshape(len(flat), -1) for r in network.visnet.layer_rates(v1)]
        result[f"{label}_readout"] = {
            f"L{i + 1}": round(readout(r, expression, person), 3) for i, r in enumerate(rates)
        }
        means = np.stack([rates[-1][expression == e].mean(0) for e in np.unique(expression)])
        centred = means - rates[-1].mean(0)
        unit = centred / np.linalg.norm(centred, axis=1, keepdims=True)
        cosines = unit @ unit.T
        result[f"{label}_L4_mean_cosines"] = [[round(float(c), 2) for c in row] for row in cosines]
    return result


def parent_stages(trained, n_means: int = 120, n_read: int = 40) -> dict[str, object]:
    """Nearest-mean and ridge read-out of the expression at each stage, on the parent's face."""
    config = trained.config
    parent = config.face_identities[:1]
    fit = render_images(config, n_means, np.random.default_rng(11), parent)
    read = render_images(config, n_read, np.random.default_rng(12), parent)
    n_expressions = fit.shape[0]
    fit_labels = np.repeat(np.arange(n_expressions), n_means)
    read_labels = np.repeat(np.arange(n_expressions), n_read)

    def stages(network, images: np.ndarray) -> dict[str, np.ndarray]:
        flat = images.reshape(-1, *images.shape[-2:])
        v1 = np.concatenate([network.v1.filter(flat[i : i + 16]) for i in range(0, len(flat), 16)])
        out = {
            "pixels": flat.reshape(len(flat), -1),
            "V1": v1[:, :, ::4, ::4].reshape(len(flat), -1),
        }
        for i, rates in enumerate(network.visnet.layer_rates(v1)):
            out[f"L{i + 1}"] = rates.reshape(len(flat), -1)
        return out

    def nearest_mean(x: np.ndarray, y: np.ndarray) -> float:
        means = np.stack([x[fit_labels == e].mean(0) for e in range(n_expressions)])
        said = ((y[:, None] - means[None]) ** 2).sum(-1).argmin(1)
        return round(float((said == read_labels).mean()), 2)

    def ridge(x: np.ndarray, y: np.ndarray) -> float:
        mean = x.mean(0)
        centred = x - mean
        gram = centred @ centred.T
        target = np.eye(n_expressions)[fit_labels]
        dual = np.linalg.solve(gram + 1e-2 * np.trace(gram) / len(gram) * np.eye(len(gram)), target)
        said = ((y - mean) @ centred.T @ dual).argmax(1)
        return round(float((said == read_labels).mean()), 2)

    result: dict[str, object] = {}
    for label, network in (("trained", trained), ("untrained", trained.untrained())):
        fitted, shown = stages(network, fit), stages(network, read)
        result[label] = {
            stage: {
                "nearest_mean": nearest_mean(fitted[stage], shown[stage]),
                "ridge": ridge(fitted[stage], shown[stage]),
            }
            for stage in fitted
        }
    return result


def parent_codes(trained, face_config) -> tuple[np.ndarray, np.ndarray]:
    """Layer-4 codes of the parent's face: a bank of 200 and a test of 20 images per expression.

    (S, 200, n_l4) and (S, 20, n_l4), rendered with ``face_config`` from fixed seeds, so that
    ``--mirror`` and ``--cells`` see the same images.
    """
    parent = face_config.face_identities[:1]
    return tuple(
        np.stack(
            [
                trained.layer4(images)
                for images in render_images(face_config, n, np.random.default_rng(seed), parent)
            ]
        )
        for n, seed in ((200, 21), (20, 22))
    )


def cells(trained, n_people: int = 8) -> dict[str, object]:
    """Layer-4 cells by the expressions they fire to, and the parent's face read by class means.

    A cell fires to an expression when its mean rate over 20 images of each of ``n_people``
    unseen people is above 0.5; the parent's images are read by the nearest (cosine) of the
    expressions' mean codes over 200 others (``--cells``).
    """
    config = trained.config
    expressions = config.expressions
    unseen = render_images(
        config, 20, np.random.default_rng(5), list(config.heldout_faces(n_people))
    )
    means = np.stack([trained.layer4(images) for images in unseen]).mean(1)  # (S, n_l4)
    groups: dict[str, int] = {}
    for cell in range(means.shape[1]):
        key = ", ".join(
            e for e, rate in zip(expressions, means[:, cell], strict=True) if rate > 0.5
        )
        groups[key or "none"] = groups.get(key or "none", 0) + 1
    result: dict[str, object] = {
        "unseen_people_cells": dict(sorted(groups.items(), key=lambda kv: -kv[1]))
    }
    for face, face_config in (
        ("still", still_config(config)),
        ("moving x0.5", still_config(config, 0.5)),
        ("moving", config),
    ):
        bank, test = parent_codes(trained, face_config)
        centres = bank.mean(1)
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        shown = test / np.linalg.norm(test, axis=-1, keepdims=True)
        said = (shown @ centres.T).argmax(-1)  # (S, 20)
        result[f"parent_{face}_read_right"] = {
            e: int((said[i] == i).sum()) for i, e in enumerate(expressions)
        }
    return result


def still_config(config, fraction: float = 0.0):
    """``config`` with the face drawn ×1.4 and moving ``fraction`` of its ranges (0: still).

    The shift and the tilt shrink by ``fraction``, and so does the scale range's spread about
    its middle; photometric changes stay as they are.
    """
    transforms = config.faces.transforms
    low, high = transforms.scale
    middle, half = (low + high) / 2, (high - low) / 2 * fraction
    transforms = dataclasses.replace(
        transforms,
        translation=transforms.translation * fraction,
        scale=(middle - half, middle + half),
        rotation=transforms.rotation * fraction,
    )
    return dataclasses.replace(
        config, faces=dataclasses.replace(config.faces, transforms=transforms)
    )


def mirror_check(
    trained, scenario, movements: list[float] = (), steps: int = 2000, hold: int = 10
) -> dict[str, object]:
    """Mirror neurons of a mirror layer trained on the parent's layer-4 codes, without Mesa.

    200 images per expression form the interaction bank, 20 fresh ones the visual test; the
    infant shows the expressions in turn (a random order per run seed), each for ``hold``
    timesteps, and the parent mimics perfectly. Classified as a run classifies its neurons.
    """
    from threadpoolctl import threadpool_limits

    from dyad.analysis.classify import classify_arrays
    from dyad.brain.mirror import MirrorLayer
    from dyad.brain.motor import MotorModule

    config = trained.config
    n_expressions = len(config.expressions)
    mirror_config = scenario.mirror.for_expressions(n_expressions)
    result: dict[str, object] = {}
    faces = [("still", still_config(config)), ("moving", config)]
    faces += [(f"moving x{f:g}", still_config(config, f)) for f in movements]
    for face, face_config in faces:
        bank, test = parent_codes(trained, face_config)
        for seed in (1, 2):
            rng = np.random.default_rng(seed)
            motor = MotorModule(scenario.motor, n_expressions, rng)
            layer = MirrorLayer(mirror_config, bank.shape[-1], motor.n_motor, rng)
            layer.calibrate(
                bank[rng.integers(n_expressions, size=64), rng.integers(200, size=64)],
                motor.patterns[rng.integers(n_expressions, size=64)],
            )
            shown = rng.permutation(n_expressions)[(np.arange(steps) // hold) % n_expressions]
            items = rng.integers(200, size=steps)
            with threadpool_limits(1):
                for t in range(steps):
                    layer.step(bank[shown[t], items[t]], motor.patterns[shown[t]])
            n_trials = n_expressions * 20
            visual = layer.respond(
                test.reshape(n_trials, -1), np.zeros((n_trials, motor.n_motor), np.float32)
            )
            motor_trials = np.concatenate(
                [motor.noisy_patterns(e, 20, 0.05, rng) for e in range(n_expressions)]
            )
            motor_only = layer.respond(
                np.zeros((n_trials, bank.shape[-1]), np.float32), motor_trials
            )
            classes = classify_arrays(
                visual.reshape(n_expressions, 20, -1), motor_only.reshape(n_expressions, 20, -1)
            )
            mirror = classes.neuron_class == "mirror"
            per_expression = np.bincount(classes.visual.preferred[mirror], minlength=n_expressions)
            result[f"{face}_seed{seed}"] = {
                "mirror": int(mirror.sum()),
                "of": mirror_config.n_neurons,
                **dict(zip(config.expressions, per_expression.tolist(), strict=True)),
            }
    return result


def merge(trained, n_images: int = 100) -> dict[str, object]:
    """Cosines between the expressions' raw mean codes, layer by layer, on the parent's face.

    The mirror layer's visual weights become each expression's mean layer-4 code (Hebb rule,
    then normalisation), and a visual trial is won by the group whose weights match it best:
    expressions whose mean codes point the same way cannot be told apart there. Still: the
    face without geometric changes, drawn at the middle of the scenario's scale range (×1.4);
    moving: the scenario's transforms.
    """
    config = trained.config
    still = still_config(config)
    names = config.expressions
    pairs = [(i, j) for i in range(len(names)) for j in range(i + 1, len(names))]
    result: dict[str, object] = {}
    for face, face_config in (("still", still), ("moving", config)):
        images = render_images(
            face_config, n_images, np.random.default_rng(11), config.face_identities[:1]
        )
        flat = images.reshape(-1, *images.shape[-2:])
        v1 = np.concatenate([trained.v1.filter(flat[i : i + 16]) for i in range(0, len(flat), 16)])
        for label, network in (("trained", trained), ("untrained", trained.untrained())):
            rows = {}
            for layer, rates in enumerate(network.visnet.layer_rates(v1)):
                means = rates.reshape(len(names), n_images, -1).mean(1)
                unit = means / np.linalg.norm(means, axis=1, keepdims=True)
                cosines = unit @ unit.T
                rows[f"L{layer + 1}"] = {
                    f"{names[i]}-{names[j]}": round(float(cosines[i, j]), 3) for i, j in pairs
                }
            result[f"{face}_{label}"] = rows
    return result


def cell_counts(network, images: np.ndarray) -> dict[str, float]:
    """Cells at >= 0.99 and >= 0.9 of the maximal information, and the mean, on ``images``."""
    n_expressions, n_images = images.shape[:2]
    expression = np.repeat(np.arange(n_expressions), n_images)
    rates = network.test_layer4(images).reshape(n_expressions * n_images, -1)
    info = max_information(rates, expression) / np.log2(n_expressions)
    return {
        "cells_1bit": int((info >= 0.99).sum()),
        "cells_0.9": int((info >= 0.9).sum()),
        "mean": round(float(info.mean()), 3),
    }


def diagnose(trained, images: np.ndarray, n_faces: int) -> dict[str, object]:
    """Person against movement: known faces moved, unseen faces still, the misread images."""
    config = trained.config
    known = config.training_faces[:n_faces]
    moved = render_images(config, config.n_test_transforms, np.random.default_rng(12345), known)
    geometry = config.faces.transforms
    middle = sum(geometry.scale) / 2
    still_transforms = dataclasses.replace(
        geometry, translation=0.0, scale=(middle, middle), rotation=0.0, compression=(1.0, 1.0)
    )
    still = dataclasses.replace(
        config, faces=dataclasses.replace(config.faces, transforms=still_transforms)
    )
    unseen_still = render_images(
        still, config.n_test_transforms, np.random.default_rng(7), config.heldout_faces(n_faces)
    )
    # the held-out images that at least half of the 50 most informative cells misread
    n_expressions, n_images = images.shape[:2]
    expression = np.repeat(np.arange(n_expressions), n_images)
    person = np.tile(np.repeat(np.arange(n_faces), n_images // n_faces), n_expressions)
    misread = np.flatnonzero(best_cells_reader(trained, images)(images))
    return {
        "known_faces_new_transforms": cell_counts(trained, moved),
        "unseen_faces_no_geometric_change": cell_counts(trained, unseen_still),
        "misread_images": len(misread),
        "misread_by_expression": np.bincount(expression[misread], minlength=n_expressions).tolist(),
        "misread_by_unseen_face": np.bincount(person[misread], minlength=n_faces).tolist(),
    }


def best_cells_reader(trained, images: np.ndarray):
    """Return ``read(other)``: which of ``other``'s images most of the 50 best cells misread.

    The 50 cells most informative on ``images`` each read an image as the expression whose mean
    rate (on ``images``) is nearest their response; ``read`` gives a boolean per image of
    ``other`` (flattened expression by expression), True where at least half of them are wrong.
    """
    n_expressions, n_images = images.shape[:2]
    expression = np.repeat(np.arange(n_expressions), n_images)
    rates = trained.test_layer4(images).reshape(n_expressions * n_images, -1)
    best = np.argsort(-max_information(rates, expression))[:50]
    means = np.stack([rates[expression == s][:, best].mean(0) for s in range(n_expressions)])

    def read(other: np.ndarray) -> np.ndarray:
        labels = np.repeat(np.arange(other.shape[0]), other.shape[1])
        responses = trained.test_layer4(other).reshape(labels.size, -1)[:, best]
        said = np.argmin(np.abs(responses[:, :, None] - means.T[None]), axis=2)
        return (said != labels[:, None]).mean(1) >= 0.5

    return read


def one_change(trained, images: np.ndarray, n_faces: int) -> dict[str, dict[str, int]]:
    """Images misread by most of the best cells, unseen faces, one geometric change at a time.

    Scales are fixed (times the face, the defaults' range 1.26–1.54), shifts and tilts drawn
    up to the given range; every photometric change stays on. 20 images per face and
    expression from a fixed stream.
    """
    config = trained.config
    geometry = config.faces.transforms
    middle = sum(geometry.scale) / 2
    still = {"translation": 0.0, "scale": (middle, middle), "rotation": 0.0}
    changes = {
        "scale": [("scale", (v, v)) for v in (1.2, 1.26, 1.33, 1.4, 1.47, 1.54, 1.6)],
        "shift": [("translation", float(v)) for v in (2, 4, 6)],
        "tilt": [("rotation", float(v)) for v in (4, 8, 12)],
    }
    read = best_cells_reader(trained, images)
    counts: dict[str, dict[str, int]] = {}
    for name, settings in changes.items():
        counts[name] = {}
        for field, value in settings:
            transforms = dataclasses.replace(
                geometry, **{**still, field: value}, compression=(1.0, 1.0)
            )
            changed = dataclasses.replace(
                config, faces=dataclasses.replace(config.faces, transforms=transforms)
            )
            shown = render_images(
                changed, 20, np.random.default_rng(5), config.heldout_faces(n_faces)
            )
            label = str(value[0] if isinstance(value, tuple) else value)
            counts[name][label] = int(read(shown).sum())
    return counts


def plot(rows, curves, scenario, args) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), width_ratios=(1, 1.4))
    labels = list(rows)
    x = np.arange(len(labels))
    left.bar(x - 0.2, [rows[k]["expression_share"] for k in labels], 0.4, label="expression")
    left.bar(x + 0.2, [rows[k]["person_share"] for k in labels], 0.4, label="person")
    left.set_xticks(x, labels)
    left.set_ylim(0, 1)
    left.set_ylabel("share of layer-4 response variance")
    left.set_title("What layer 4 codes", fontsize=10)
    left.legend(fontsize=8)
    for label, style in (("trained", "-"), ("untrained", "--")):
        right.plot(curves[label], style, label=label)
    right.set_ylim(-0.05, 1.05)
    right.set_xlabel("layer-4 cell (sorted by information)")
    right.set_ylabel("information about the expression (bits)")
    right.set_title("Single-cell information", fontsize=10)
    right.legend(fontsize=8)
    right.grid(alpha=0.3)
    fig.suptitle(
        f"Layer 4 on {args.faces} faces pre-training never showed, held-out transforms "
        f"(scenario {scenario.name}, vision seed {scenario.vision.seed})",
        fontsize=10,
    )
    fig.tight_layout()
    args.figure.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.figure, dpi=120)
    print(f"figure: {args.figure}")


if __name__ == "__main__":
    main()
