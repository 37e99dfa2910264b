"""Parent faces: configs, determinism, identity, the happy/sad control, transforms, photos, CLI."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from dyad.cli import cli
from dyad.errors import ConfigError
from dyad.faces import (
    ACTION_UNITS,
    EXPRESSIONS,
    FaceConfig,
    FaceIdentity,
    ParametricFaces,
    PhotoFaces,
    TransformConfig,
    contact_sheet,
)
from dyad.faces.config import _IDENTITY_RANGES

SIZE = 64
OFF = TransformConfig.disabled()


def only(**changes) -> TransformConfig:
    """Transforms with everything off except ``changes``."""
    return replace(OFF, **changes)


@pytest.fixture(scope="module")
def faces() -> ParametricFaces:
    return ParametricFaces(FaceConfig(size=SIZE))


def face_pixels(image: np.ndarray, background: float = 128.0) -> int:
    return int(np.count_nonzero(image != background))


# -- configuration ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: FaceConfig(size=8), "size"),
        (lambda: FaceConfig(size=True), "size"),
        (lambda: FaceConfig(size=64.0), "size"),
        (lambda: FaceConfig(supersample=0), "supersample"),
        (lambda: FaceConfig(identity_seed=-1), "identity_seed"),
        (lambda: FaceConfig(background=300.0), "background"),
        (lambda: FaceConfig(transforms={"noise": -3}), "transforms.noise"),
        (lambda: FaceConfig(transforms="wide"), "transforms"),
        (lambda: TransformConfig(scale=(1.1, 0.9)), "scale"),
        (lambda: TransformConfig(contrast=(0.9,)), "contrast"),
        (lambda: TransformConfig(compression=(0.9, 1.2)), "compression"),
        (lambda: TransformConfig(noise=-1.0), "noise"),
        (lambda: TransformConfig(rotation=float("nan")), "rotation"),
        (lambda: TransformConfig(au_jitter=2.0), "au_jitter"),
        (lambda: FaceIdentity(eye_width=1.0), "eye_width"),
    ],
)
def test_impossible_values_raise_config_error_naming_the_field(make, field):
    with pytest.raises(ConfigError) as info:
        make()
    assert str(info.value).startswith(f"{field}")


def test_identity_defaults_are_range_midpoints_and_seeds_are_reproducible():
    default = FaceIdentity()
    for name, (low, high) in _IDENTITY_RANGES.items():
        assert getattr(default, name) == pytest.approx((low + high) / 2)
    assert FaceIdentity.from_seed(3) == FaceIdentity.from_seed(3)
    assert FaceIdentity.from_seed(3) != FaceIdentity.from_seed(4)


def test_presets_use_only_implemented_action_units_with_valid_intensities():
    assert set(EXPRESSIONS) == {"happy", "sad", "surprise", "anger", "fear", "disgust", "neutral"}
    assert EXPRESSIONS["happy"] == {"AU6": 0.8, "AU12": 1.0, "AU25": 0.5}
    assert EXPRESSIONS["sad"] == {"AU1": 0.8, "AU4": 0.6, "AU15": 1.0, "AU17": 0.4}
    assert EXPRESSIONS["neutral"] == {}
    for aus in EXPRESSIONS.values():
        assert set(aus) <= set(ACTION_UNITS)
        assert all(0.0 < v <= 1.0 for v in aus.values())


# -- rendering --------------------------------------------------------------------------------


def test_every_preset_renders_a_distinct_face(faces):
    neutral = faces.render("neutral")
    for name in faces.expressions:
        image = faces.render(name)
        assert image.shape == (SIZE, SIZE) and image.dtype == np.float32
        assert 0.0 <= image.min() and image.max() <= 255.0
        if name != "neutral":
            assert np.abs(image - neutral).mean() > 0.2, name


def test_images_shape_dtype_range_and_empty_batch(faces):
    batch = faces.images("happy", 5, np.random.default_rng(0))
    assert batch.shape == (5, SIZE, SIZE) and batch.dtype == np.float32
    assert batch.min() >= 0.0 and batch.max() <= 255.0
    assert faces.images("sad", 0, np.random.default_rng(0)).shape == (0, SIZE, SIZE)


def test_same_generator_state_gives_bit_identical_images_and_new_states_differ(faces):
    a = faces.images("sad", 3, np.random.default_rng(7))
    b = ParametricFaces(FaceConfig(size=SIZE)).images("sad", 3, np.random.default_rng(7))
    assert np.array_equal(a, b)
    c = faces.images("sad", 3, np.random.default_rng(8))
    assert not np.array_equal(a, c)
    for i, j in itertools.combinations(range(3), 2):  # each image its own transform
        assert np.abs(a[i] - a[j]).mean() > 1.0
    assert np.array_equal(faces.render("sad"), faces.render("sad"))


def test_disabled_transforms_reproduce_the_canonical_image():
    plain = ParametricFaces(FaceConfig(size=SIZE, transforms=OFF))
    batch = plain.images("happy", 2, np.random.default_rng(1))
    assert np.array_equal(batch[0], plain.render("happy"))
    assert np.array_equal(batch[1], plain.render("happy"))


def test_two_parents_differ_far_more_than_one_parents_happy_and_sad():
    parents = [ParametricFaces(FaceConfig(size=SIZE, identity_seed=k)) for k in range(5)]
    happy = [p.render("happy") for p in parents]
    sad = [p.render("sad") for p in parents]
    between = min(np.abs(a - b).mean() for a, b in itertools.combinations(happy, 2))
    within = max(np.abs(h - s).mean() for h, s in zip(happy, sad, strict=True))
    assert within > 0.3
    assert between > 3 * within


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_happy_and_sad_differ_only_in_brow_eye_cheek_and_mouth_regions(seed):
    faces = ParametricFaces(FaceConfig(size=SIZE, identity_seed=seed))
    regions = faces.regions()
    moved = regions["brows"] | regions["eyes_cheeks"] | regions["mouth"]
    assert 0.05 < moved.mean() < 0.3  # the regions are a minority of the image
    difference = np.abs(faces.render("happy") - faces.render("sad"))
    assert difference[~moved].max() == 0.0
    for name in ("brows", "eyes_cheeks", "mouth"):
        assert difference[regions[name]].mean() > 1.0, name


def test_au_jitter_alone_changes_only_the_active_action_units_regions():
    faces = ParametricFaces(FaceConfig(size=SIZE, transforms=only(au_jitter=0.15)))
    regions = faces.regions()
    moved = regions["eyes_cheeks"] | regions["mouth"]  # happy = AU6 + AU12 + AU25
    canonical = faces.render("happy")
    batch = faces.images("happy", 4, np.random.default_rng(2))
    assert np.abs(batch - canonical)[:, ~moved].max() == 0.0
    assert np.abs(batch - canonical)[:, moved].mean() > 0.05


def test_mouth_curves_up_for_happy_and_down_for_sad(faces):
    geometry = faces._geometry
    for name, sign in (("happy", -1), ("sad", 1), ("neutral", 0)):
        aus = EXPRESSIONS[name]
        _, (_, corner_y) = geometry._mouth(lambda au, aus=aus: aus.get(au, 0.0))
        assert np.sign(round(corner_y - geometry.mouth_y, 6)) == sign, name


def test_render_aus_checks_names_and_intensities(faces):
    assert np.array_equal(faces.render_aus({}), faces.render("neutral"))
    assert np.array_equal(faces.render_aus(EXPRESSIONS["sad"]), faces.render("sad"))
    with pytest.raises(ConfigError, match="AU99"):
        faces.render_aus({"AU99": 0.5})
    with pytest.raises(ConfigError, match="AU12"):
        faces.render_aus({"AU12": 1.5})


def test_unknown_expression_lists_the_known_ones(faces):
    with pytest.raises(ConfigError) as info:
        faces.images("grumpy", 2, np.random.default_rng(0))
    message = str(info.value)
    assert "grumpy" in message and "happy" in message and "sad" in message
    assert "\n" not in message


# -- background and transforms ----------------------------------------------------------------


def corners(images: np.ndarray, k: int = 6) -> np.ndarray:
    return np.concatenate(
        [
            images[..., :k, :k].ravel(),
            images[..., :k, -k:].ravel(),
            images[..., -k:, :k].ravel(),
            images[..., -k:, -k:].ravel(),
        ]
    )


@pytest.mark.parametrize("background", [128.0, 100.0])
def test_background_stays_exactly_uniform_in_canonical_and_transformed_images(background):
    faces = ParametricFaces(FaceConfig(size=SIZE, background=background))
    assert np.all(corners(faces.render("happy")) == background)
    batch = faces.images("sad", 12, np.random.default_rng(3))
    assert np.all(corners(batch) == background)


def test_pixel_noise_is_on_the_face_only_with_the_configured_sigma():
    faces = ParametricFaces(FaceConfig(size=SIZE, transforms=only(noise=3.0)))
    canonical = faces.render("happy")
    noisy = faces.images("happy", 4, np.random.default_rng(4))
    on_face = canonical != 128.0
    inner = on_face & np.roll(on_face, 1, 0) & np.roll(on_face, -1, 0)  # away from the edge
    inner &= np.roll(on_face, 1, 1) & np.roll(on_face, -1, 1)
    residual = noisy - canonical
    assert np.all(residual[:, ~on_face] == 0.0)
    assert residual[:, inner].std() == pytest.approx(3.0, rel=0.1)


def test_scale_and_compression_change_face_area_by_the_drawn_factor():
    reference = face_pixels(ParametricFaces(FaceConfig(size=SIZE)).render("neutral"))
    for transforms, factor in (
        (only(scale=(1.1, 1.1)), 1.21),
        (only(scale=(0.9, 0.9)), 0.81),
        (only(compression=(0.95, 0.95)), 0.95),
        (only(translation=8.0, rotation=8.0), 1.0),
    ):
        faces = ParametricFaces(FaceConfig(size=SIZE, transforms=transforms))
        image = faces.images("neutral", 1, np.random.default_rng(5))[0]
        assert face_pixels(image) / reference == pytest.approx(factor, rel=0.04), transforms


def test_translation_moves_the_face_within_its_range():
    base = ParametricFaces(FaceConfig(size=SIZE)).render("neutral")
    faces = ParametricFaces(FaceConfig(size=SIZE, transforms=only(translation=8.0)))
    shifted = faces.images("neutral", 6, np.random.default_rng(6))

    def centroid(image):
        ys, xs = np.nonzero(image != 128.0)
        return np.array([xs.mean(), ys.mean()])

    moves = np.array([centroid(image) - centroid(base) for image in shifted])
    assert np.abs(moves).max() <= 8.0 * SIZE / 128 + 0.3  # ±8 px at 128 px, scaled
    assert np.abs(moves).max() > 1.0


def test_brightness_contrast_and_gradient_leave_background_but_change_the_face():
    faces = ParametricFaces(
        FaceConfig(size=SIZE, transforms=only(brightness=10, contrast=(0.9, 1.1), gradient=15))
    )
    canonical = faces.render("happy")
    batch = faces.images("happy", 3, np.random.default_rng(9))
    on_face = canonical != 128.0
    assert np.all(batch[:, ~on_face] == 128.0)
    assert np.abs(batch[:, on_face] - canonical[on_face]).mean() > 2.0


# -- photos -----------------------------------------------------------------------------------


def write_photo(path, size=(40, 60), value=200, mode="RGB"):
    image = Image.new(mode, size, (value, value // 2, 30) if mode == "RGB" else value)
    image.save(path)
    return path


@pytest.fixture
def photo_folder(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    write_photo(folder / "happy_01.png")
    write_photo(folder / "happy-2.png", value=180)
    write_photo(folder / "sad3.png", size=(60, 40), value=90, mode="L")
    write_photo(folder / "sad_1.jpg", value=100)
    (folder / "notes.txt").write_text("not a photo")
    return folder


def test_photos_labelled_by_file_name_are_greyscale_resized_and_padded(photo_folder):
    photos = PhotoFaces(photo_folder, size=48, transforms=OFF)
    assert photos.expressions == ("happy", "sad")
    assert [p.name for p in photos.files["sad"]] == ["sad3.png", "sad_1.jpg"]
    happy = photos.render("happy")  # happy-2.png sorts first; 40x60 -> 32x48, 8 px padding
    assert happy.shape == (48, 48) and happy.dtype == np.float32
    assert np.all(happy[:, :8] == 128.0) and np.all(happy[:, -8:] == 128.0)
    grey = Image.new("RGB", (1, 1), (180, 90, 30)).convert("L").getpixel((0, 0))
    assert happy[24, 24] == pytest.approx(grey, abs=1.0)
    sad = photos.render("sad")  # 60x40 landscape -> padding above and below
    assert np.all(sad[:8] == 128.0) and np.all(sad[-8:] == 128.0)
    batch = photos.images("sad", 3, np.random.default_rng(0))
    assert batch.shape == (3, 48, 48) and batch.dtype == np.float32


def test_photo_transforms_are_reproducible_and_keep_the_padding_uniform(photo_folder):
    photos = PhotoFaces(photo_folder, size=48, transforms=only(noise=3.0))
    a = photos.images("happy", 4, np.random.default_rng(1))
    b = PhotoFaces(photo_folder, size=48, transforms=only(noise=3.0)).images(
        "happy", 4, np.random.default_rng(1)
    )
    assert np.array_equal(a, b)
    assert np.all(a[:, :, :8] == 128.0) and np.all(a[:, :, -8:] == 128.0)
    assert a[:, 4:44, 12:36].std() > 1.0  # noise on the photo
    moved = PhotoFaces(photo_folder, size=48).images("happy", 4, np.random.default_rng(1))
    assert moved.min() >= 0 and moved.max() <= 255
    assert not np.array_equal(moved[0], moved[1])


def test_photos_labelled_by_csv(photo_folder, tmp_path):
    write_photo(photo_folder / "img1.png", value=50)
    labels = tmp_path / "labels.csv"
    labels.write_text("file,expression\nimg1.png,Sad\nhappy_01.png,fear\n")
    photos = PhotoFaces(photo_folder, size=32, labels_csv=labels)
    assert photos.expressions == ("sad", "fear")
    assert [p.name for p in photos.files["sad"]] == ["img1.png"]
    with pytest.raises(ConfigError, match="known: sad, fear"):
        photos.images("happy", 1, np.random.default_rng(0))


def one_line_error(make) -> str:
    with pytest.raises(ConfigError) as info:
        make()
    message = str(info.value)
    assert "\n" not in message
    return message


def test_photo_errors_are_one_clear_line(tmp_path):
    missing = tmp_path / "nowhere"
    assert "does not exist" in one_line_error(lambda: PhotoFaces(missing))

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("no images here")
    assert "no images" in one_line_error(lambda: PhotoFaces(empty))

    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "happy_1.png").write_bytes(b"this is not a png file\nsecond line")
    message = one_line_error(lambda: PhotoFaces(corrupt))
    assert "happy_1.png" in message and "cannot read" in message

    unknown = tmp_path / "unknown"
    unknown.mkdir()
    write_photo(unknown / "angry_1.png")
    message = one_line_error(lambda: PhotoFaces(unknown))
    assert "angry_1.png" in message and "'angry'" in message and "anger" in message

    unlabelled = tmp_path / "unlabelled"
    unlabelled.mkdir()
    write_photo(unlabelled / "01.png")
    assert "01.png" in one_line_error(lambda: PhotoFaces(unlabelled))


def test_csv_label_errors_are_one_clear_line(photo_folder, tmp_path):
    csv_path = tmp_path / "labels.csv"
    csv_path.write_text("filename,label\nhappy_01.png,happy\n")
    message = one_line_error(lambda: PhotoFaces(photo_folder, labels_csv=csv_path))
    assert "labels.csv" in message and "file" in message and "expression" in message

    csv_path.write_text("file,expression\nhappy_01.png,happy\nmissing.png,sad\n")
    message = one_line_error(lambda: PhotoFaces(photo_folder, labels_csv=csv_path))
    assert "missing.png" in message and "line 3" in message

    csv_path.write_text("file,expression\nhappy_01.png,gleeful\n")
    message = one_line_error(lambda: PhotoFaces(photo_folder, labels_csv=csv_path))
    assert "gleeful" in message and "happy" in message

    csv_path.write_text("file,expression\n")
    assert "no rows" in one_line_error(lambda: PhotoFaces(photo_folder, labels_csv=csv_path))

    absent = tmp_path / "absent.csv"
    assert "absent.csv" in one_line_error(lambda: PhotoFaces(photo_folder, labels_csv=absent))


# -- contact sheet and CLI --------------------------------------------------------------------


def test_contact_sheet_holds_the_canonical_faces(faces, tmp_path):
    path = contact_sheet(faces, ["happy", "sad"], 2, np.random.default_rng(0), tmp_path / "s.png")
    sheet = np.asarray(Image.open(path))
    assert sheet.ndim == 2 and sheet.shape[1] > 3 * SIZE and sheet.shape[0] > 2 * SIZE
    for name in ("happy", "sad"):
        tile = np.rint(faces.render(name)).astype(np.uint8)
        mid = SIZE // 2  # a row through the eyes: candidates where it matches, then the tile
        rows = np.lib.stride_tricks.sliding_window_view(sheet, SIZE, axis=1)
        candidates = np.argwhere((rows[mid : sheet.shape[0] - SIZE + mid + 1] == tile[mid]).all(-1))
        hits = [
            (y, x) for y, x in candidates if np.array_equal(sheet[y : y + SIZE, x : x + SIZE], tile)
        ]
        assert len(hits) == 1, name
    with pytest.raises(ConfigError, match="grumpy"):
        contact_sheet(faces, ["grumpy"], 1, np.random.default_rng(0), tmp_path / "t.png")
    assert not (tmp_path / "t.png").exists()


def test_cli_writes_a_png_and_prints_its_path(tmp_path):
    output = tmp_path / "sheet.png"
    result = CliRunner().invoke(
        cli, ["faces", "--size", "32", "--transforms", "2", "--output", str(output)]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(output)
    with Image.open(output) as image:
        assert image.format == "PNG"


def test_cli_reads_photos_with_labels(photo_folder, tmp_path):
    labels = tmp_path / "labels.csv"
    labels.write_text("file,expression\nhappy_01.png,happy\nsad3.png,sad\n")
    output = tmp_path / "photos.png"
    args = ["faces", "--photos", str(photo_folder), "--labels", str(labels), "--size", "32"]
    result = CliRunner().invoke(cli, [*args, "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert output.is_file()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--expressions", "happy,grumpy"], "grumpy"),
        (["--size", "8"], "size"),
        (["--transforms", "-1"], "--transforms"),
        (["--labels", "x.csv"], "--labels"),
    ],
)
def test_cli_bad_input_exits_2_with_one_error_line(tmp_path, args, needle):
    result = CliRunner().invoke(cli, ["faces", *args, "--output", str(tmp_path / "x.png")])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and needle in lines[0]
    assert not (tmp_path / "x.png").exists()
