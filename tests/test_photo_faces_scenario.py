"""Photographs as a parent's face in a scenario: pre-training, banks, runs and bad folders."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from dyad.cli import cli
from dyad.config import load_scenario, validate_scenario
from dyad.errors import ConfigError
from dyad.faces import FaceConfig, ParametricFaces, TransformConfig
from dyad.simulation import parent_faces, prepare_vision, pretrain_config
from dyad.vision import PhotoSet, PretrainConfig, render_images


def write_photos(
    folder: Path, expressions=("happy", "sad"), n: int = 3, identity_seed: int = 5
) -> Path:
    """Write a folder of photos of a parametric face.

    Greyscale PNGs of a parametric face the test draws itself, named ``happy_01.png``...:
    the canonical image and ``n - 1`` random transforms per expression, at 64 px.
    """
    folder.mkdir(parents=True, exist_ok=True)
    faces = ParametricFaces(
        FaceConfig(size=64, identity_seed=identity_seed, transforms=TransformConfig.photometric())
    )
    rng = np.random.default_rng(0)
    for expression in expressions:
        images = [faces.render(expression), *faces.images(expression, n - 1, rng)]
        for i, image in enumerate(images, start=1):
            pixels = np.rint(image).clip(0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"{expression}_{i:02d}.png")
    return folder


TINY = """
name = "photo_parent"
seed = 1

[run]
steps = 100
test_trials = 8

[infant]
expressions = ["happy", "sad"]

{parents}

[vision]
preset = "small"
n_train_transforms = 8
n_test_transforms = 8
bank_size = 16

[vision.visnet]
epochs = [1, 1, 1, 1]

[mirror]
n_neurons = 32
"""

TWO_PARENTS = """
[[parents]]
name = "mother"
identity_seed = 0
policy = "perfect"

[[parents]]
name = "father"
policy = "perfect"
{father}
"""


def write_scenario(folder: Path, father: str = 'photos = "photos"') -> Path:
    path = folder / "photo_parent.toml"
    parents = TWO_PARENTS.format(father=father)
    path.write_text(textwrap.dedent(TINY.format(parents=parents)))
    return path


def simulate(path: Path, cache_dir: Path, output: Path, *extra: str):
    args = ["simulate", str(path), "--output", str(output), "--cache-dir", str(cache_dir)]
    return CliRunner().invoke(cli, [*args, "--quiet", "--no-figures", *extra])


def test_a_photo_parent_runs_end_to_end_through_dyad_simulate(tmp_path, cache_dir):
    write_photos(tmp_path / "photos")
    path = write_scenario(tmp_path)
    result = simulate(path, cache_dir, tmp_path / "out")
    assert result.exit_code == 0, result.output + result.stderr
    assert "mirror layer after training (32 neurons)" in result.stdout

    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    father = manifest["scenario"]["parents"][1]
    # the folder was read relative to the scenario file, and recorded absolute
    assert father["photos"] == str((tmp_path / "photos").resolve())
    # the mirror layer is judged on each face, the photographed one too
    assert (tmp_path / "out" / "neurons_by_parent.parquet").exists()
    assert set(manifest["summary"]["mirror_by_parent"]) == {"mother", "father", "unseen face"}


def test_photos_enter_pre_training_and_the_banks(tmp_path, cache_dir):
    write_photos(tmp_path / "photos")
    scenario = load_scenario(write_scenario(tmp_path))
    mother, father = parent_faces(scenario)
    assert mother == 0 and isinstance(father, PhotoSet)
    config = pretrain_config(scenario)
    assert config.identity_seeds == (0,) and config.photo_sets == (father,)

    # pre-training shows the photos: the father's images are the photographed face
    images = render_images(config, 2, np.random.default_rng(0))
    assert images.shape == (2, 4, 64, 64)  # happy/sad x (mother 2 + father 2)
    photos = {
        p.name: np.asarray(Image.open(p), dtype=np.float32) for p in (tmp_path / "photos").iterdir()
    }
    happy = [v for k, v in photos.items() if k.startswith("happy")]
    closest = min(np.abs(images[0, 2] - photo).mean() for photo in happy)
    assert closest < 12  # a photometric transform of one of the happy photos
    assert np.abs(images[0, 0] - images[0, 2]).mean() > closest  # not the mother's face

    pretrained, training, test = prepare_vision(scenario, cache_dir)
    assert training.shape[:3] == (2, 2, 16) and test.shape[:3] == (2, 2, 8)
    assert not np.array_equal(training[0], training[1])


def test_editing_a_photo_invalidates_the_cache(tmp_path):
    folder = write_photos(tmp_path / "photos")
    scenario = load_scenario(write_scenario(tmp_path))
    before = pretrain_config(scenario)
    # without photos the config's key is what it was before photos existed
    assert "photo_sets" not in PretrainConfig().canonical()
    # same content elsewhere: same key (the path does not enter it)
    copy = write_photos(tmp_path / "elsewhere")
    moved = load_scenario(write_scenario(tmp_path, father=f'photos = "{copy}"'))
    assert pretrain_config(moved).to_json() == before.to_json()

    pixels = np.asarray(Image.open(folder / "sad_02.png")).copy()
    pixels[10:20, 10:20] = 255 - pixels[10:20, 10:20]
    Image.fromarray(pixels).save(folder / "sad_02.png")
    after = pretrain_config(scenario)
    assert after.to_json() != before.to_json()
    assert after.photo_sets[0].digest != before.photo_sets[0].digest


def test_photos_can_be_labelled_by_a_csv(tmp_path):
    folder = write_photos(tmp_path / "photos")
    rows = ["file,expression"]
    for i, photo in enumerate(sorted(folder.iterdir())):  # happy_01..03, sad_01..03
        photo.rename(folder / f"img{i}.png")
        rows.append(f"img{i}.png,{photo.name.split('_')[0]}")
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    path = write_scenario(tmp_path, father='photos = "photos"\nphoto_labels = "labels.csv"')
    scenario = load_scenario(path)
    father = parent_faces(scenario)[1]
    assert father.labels == str((tmp_path / "labels.csv").resolve())
    config = pretrain_config(scenario)
    assert render_images(config, 2, np.random.default_rng(0)).shape == (2, 4, 64, 64)
    # relabelling changes the cache key although no image changed
    relabelled = "\n".join(rows).replace("img0.png,happy", "img0.png,sad")
    (tmp_path / "labels.csv").write_text(relabelled + "\n")
    assert pretrain_config(load_scenario(path)).to_json() != config.to_json()


def error_of(path: Path, tmp_path: Path, cache_dir: Path) -> str:
    result = simulate(path, cache_dir, tmp_path / "out")
    assert result.exit_code == 2, result.output + result.stderr
    assert "Traceback" not in result.output + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert str(path) in lines[0] and "parents.1." in lines[0]
    assert not (tmp_path / "out").exists()
    return lines[0]


@pytest.mark.parametrize(
    ("prepare", "expected"),
    [
        (lambda folder: None, "parents.1.photos: expected a folder of face images"),
        (lambda folder: folder.mkdir(), "parents.1.photos: no images (.png"),
        (
            lambda folder: write_photos(folder, expressions=("happy",)),
            "parents.1.photos: no photo of 'sad' in",
        ),
        (
            lambda folder: (
                write_photos(folder),
                (folder / "sad_09.png").write_bytes(b"not an image"),
            ),
            "sad_09.png: cannot read image",
        ),
    ],
    ids=["missing folder", "no images", "missing expression", "unreadable image"],
)
def test_bad_photo_folders_are_one_line_naming_file_field_and_expectation(
    tmp_path, cache_dir, prepare, expected
):
    prepare(tmp_path / "photos")
    line = error_of(write_scenario(tmp_path), tmp_path, cache_dir)
    assert expected in line


def test_photo_labels_without_photos_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match=r"parents\.1: photo_labels: only used with photos"):
        raw = {
            "name": "x",
            "parents": [{"name": "a"}, {"name": "b", "photo_labels": "labels.csv"}],
        }
        validate_scenario(raw, source="x.toml")


def test_photos_keep_their_framing_while_the_drawn_face_is_enlarged(tmp_path):
    """The scenarios draw the parametric face ×1.4 (scale ×1.26–1.54); a photo is not zoomed."""
    from dyad.faces import TransformConfig

    write_photos(tmp_path / "photos")
    scenario = load_scenario(write_scenario(tmp_path))
    config = pretrain_config(scenario)
    assert config.faces.transforms.scale == (1.26, 1.54)
    photos = config.photo_sets[0].faces(config.faces)
    assert photos.transforms.scale == pytest.approx((0.9, 1.1))
    assert photos.transforms.translation == config.faces.transforms.translation
    assert TransformConfig.photometric().about_one().scale == (1.0, 1.0)
