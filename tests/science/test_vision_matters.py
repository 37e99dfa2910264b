"""The visual system does causal work: mirror neurons need a trained VisNet.

With the scenario defaults the parent's face moves, scales and tilts from image to image as
well as changing in lighting, and pre-training shows 15 other people beside the parent,
interleaved within each expression's trace block. Perfect mimicry then gives mirror neurons
with a trained VisNet, judged on the parent's face and on a face that neither pre-training
nor the interaction showed, while an untrained VisNet of the same seed (same connectivity,
same initial weights, epochs 0) gives none: its layer 4 does not tell happy from sad across
transforms, so the mirror layer can only learn the motor side (motor-only cells).

The claim is checked over three *vision* seeds (each its own VisNet, other faces and image
banks), at the small size (64-px faces, 16×16 layers, 64 mirror neurons, 1,000 timesteps).
The small network has a quarter of the pixels and of the cells, and its learnt tolerance is
narrower (docs/vision.md, "Tolerance"): at the full ranges (±4 px at 128 px, ×0.9–1.1, ±8°)
it gave mirror neurons for some vision seeds only (seed 0 yes; seed 1 none; seed 2 on the
parent's face but not the unseen one), so this test halves them (±2 px, ×0.95–1.05, ±4°).
Measured: trained 64/64 mirror neurons on both faces for vision seeds 0, 1 and 2; untrained
0/64 (all motor-only). At full size and the full ranges: docs/results.md.
"""

from __future__ import annotations

import pytest
from conftest import small_science_raw

from dyad.config import validate_scenario
from dyad.simulation import UNSEEN_FACE, run_scenario

N_NEURONS = 64
VISION_SEEDS = (0, 1, 2)


def scenario(vision_seed: int, trained: bool = True):
    raw = small_science_raw(
        vision={"seed": vision_seed},
        mirror={"n_neurons": N_NEURONS},
        parent={"policy": "perfect"},
    )
    if not trained:
        raw["vision"]["visnet"] = {"epochs": [0, 0, 0, 0]}
    return validate_scenario(raw)


def mirror_counts(outcome) -> dict[str, int]:
    return outcome.summary["mirror_by_parent"]


def test_the_faces_move_and_other_people_are_shown():
    """The premise: geometric transforms on, other faces interleaved, a trained network."""
    vision = scenario(0).vision
    assert vision.faces.transforms.translation == 2.0
    assert vision.faces.transforms.rotation == 4.0
    assert vision.faces.transforms.compression == (0.95, 1.0)  # the default yaw, kept
    assert vision.other_faces >= 10 and vision.presentation == "interleaved"
    assert min(vision.visnet.epochs) > 0


@pytest.mark.parametrize("vision_seed", VISION_SEEDS)
def test_trained_vision_gives_mirror_neurons_on_every_face_untrained_none(vision_seed, cache_dir):
    trained = run_scenario(scenario(vision_seed), seed=1, cache_dir=cache_dir)
    untrained = run_scenario(scenario(vision_seed, trained=False), seed=1, cache_dir=cache_dir)
    counts = mirror_counts(trained)
    assert counts["parent"] >= 0.9 * N_NEURONS, trained.summary
    assert counts[UNSEEN_FACE] >= 0.9 * N_NEURONS, trained.summary
    neurons = trained.tables["neurons"].query("phase == 'after' and neuron_class == 'mirror'")
    assert set(neurons["preferred_visual"]) == {"happy", "sad"}
    # the control: same seed, same connectivity, no training
    assert mirror_counts(untrained)["parent"] <= 0.1 * N_NEURONS, untrained.summary
    assert untrained.summary["dominant"] != "mirror"
