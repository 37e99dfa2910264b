"""V1 Gabor bank: kernel geometry, FFT filtering against direct convolution, validation."""

import math

import numpy as np
import pytest
from scipy.signal import fftconvolve

from dyad.brain.v1 import V1, V1Config, gabor_kernel
from dyad.errors import ConfigError


def test_classic_kernel_sides():
    config = V1Config()
    assert [config.kernel_side(lam) for lam in config.wavelengths] == [13, 25, 51, 101]
    for lam, side in zip(config.wavelengths, (13, 25, 51, 101), strict=True):
        assert gabor_kernel(lam, 0.3, 0.0, config).shape == (side, side)


def test_sigma_from_bandwidth():
    sigma_x, sigma_y = V1Config().sigmas(2.0)
    assert sigma_x == pytest.approx(0.785, abs=1e-3)
    assert sigma_y == pytest.approx(1.569, abs=1e-3)


def test_kernels_zero_mean_unit_norm():
    config = V1Config(image_size=64)
    for lam in config.wavelengths:
        for theta in config.orientations:
            kernel = gabor_kernel(lam, theta, math.pi / 2, config)
            assert abs(kernel.mean()) < 1e-12
            assert np.linalg.norm(kernel) == pytest.approx(1.0, abs=1e-12)


def test_kernel_orientation_convention():
    """θ = 0 gives vertical stripes (x′ = x varies along columns); θ = π/2 horizontal ones."""
    config = V1Config()
    vertical = gabor_kernel(4.0, 0.0, 0.0, config)
    horizontal = gabor_kernel(4.0, math.pi / 2, 0.0, config)
    centre = vertical.shape[0] // 2

    # Along the row through the centre the carrier alternates sign; along the column it does not.
    def sign_changes(line):
        return int((np.diff(np.sign(line)) != 0).sum())

    assert sign_changes(vertical[centre, :]) > 2 * sign_changes(vertical[:, centre])
    np.testing.assert_allclose(horizontal, vertical.T, atol=1e-12)


def _reference_maps(image: np.ndarray, v1: V1, factor: int) -> np.ndarray:
    """V1 filtering computed the direct way, as the reference.

    Direct route of model.md §3: grey canvas ``factor`` × the image side, 'same'
    convolution, crop, norm, rectify.
    """
    size = v1.config.image_size
    canvas = np.full((factor * size, factor * size), v1.config.padding_grey)
    start = (factor - 1) * size // 2
    canvas[start : start + size, start : start + size] = image
    maps = []
    for kernel in v1.kernels:
        response = fftconvolve(canvas, kernel, mode="same")[
            start : start + size, start : start + size
        ]
        maps.append(np.maximum(response / np.linalg.norm(response), 0.0))
    return np.stack(maps)


def test_filter_matches_direct_convolution_classic_canvas():
    """At 128 px the 2× grey canvas of model.md §3.2 holds every kernel (half-width ≤ 50)."""
    v1 = V1()
    rng = np.random.default_rng(3)
    image = np.full((128, 128), 128.0)
    image[30:100, 40:90] = rng.uniform(0, 255, size=(70, 50))
    maps = v1.filter(image)
    assert maps.shape == (1, 32, 128, 128)
    assert maps.dtype == np.float32
    reference = _reference_maps(image, v1, factor=2)
    np.testing.assert_allclose(maps[0], reference, atol=2e-6 * reference.max())


def test_filter_small_images_behave_as_infinite_grey_padding():
    """Kernels wider than the canvas see grey beyond the image.

    At 64 px the λ = 16 kernel reaches past a 2× canvas; the circular FFT then sees grey,
    as an unbounded grey surround would.
    """
    config = V1Config(image_size=64)
    v1 = V1(config)
    rng = np.random.default_rng(4)
    images = np.full((2, 64, 64), 128.0)
    images[:, 20:44, 16:50] = rng.uniform(0, 255, size=(2, 24, 34))
    maps = v1.filter(images)
    assert maps.shape == (2, config.n_maps, 64, 64)
    for i in range(2):
        reference = _reference_maps(images[i], v1, factor=3)
        np.testing.assert_allclose(maps[i], reference, atol=2e-6 * reference.max())


def test_output_non_negative_and_normalised():
    v1 = V1(V1Config(image_size=64))
    rng = np.random.default_rng(0)
    maps = v1.filter(rng.uniform(0, 255, size=(3, 64, 64)))
    assert maps.min() >= 0.0
    assert maps.max() > 0.0
    # Phases 0 and π: the two rectified halves of one unit-norm response.
    both = maps[:, 0] ** 2 + maps[:, 1] ** 2
    np.testing.assert_allclose(both.sum(axis=(1, 2)), 1.0, rtol=1e-4)


def test_map_order_orientation_major():
    config = V1Config()
    assert config.n_maps == 32
    assert config.map_index(0, 0, 1) == 1
    assert config.map_index(0, 1, 0) == 2
    assert config.map_index(1, 0, 0) == 8
    v1 = V1(V1Config(image_size=64))
    assert v1.kernels[v1.config.map_index(2, 3, 0)].shape == (101, 101)


def test_blank_image_gives_zero_maps():
    v1 = V1(V1Config(image_size=64))
    maps = v1.filter(np.full((64, 64), 128.0))
    assert maps.shape == (1, 32, 64, 64)
    assert not maps.any()


def test_filter_rejects_wrong_image_shape():
    v1 = V1(V1Config(image_size=64))
    with pytest.raises(ValueError, match="images"):
        v1.filter(np.zeros((2, 32, 32)))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"image_size": 0}, "image_size"),
        ({"bandwidth": -1.0}, "bandwidth"),
        ({"aspect_ratio": 0.0}, "aspect_ratio"),
        ({"wavelengths": ()}, "wavelengths"),
        ({"wavelengths": (2.0, -4.0)}, "wavelengths"),
        ({"image_size": 32}, "wavelengths"),  # the λ = 16 kernel (101 px) no longer fits
        ({"phases": ()}, "phases"),
    ],
)
def test_config_errors_name_the_field(overrides, field):
    with pytest.raises(ConfigError) as err:
        V1Config(**overrides)
    assert any(problem.startswith(field) for problem in err.value.problems)
