"""V1: a fixed bank of Gabor filters applied by FFT (model.md §3).

Each image is placed on a canvas twice its side filled with the padding grey, convolved with
every Gabor kernel, cropped back to the image, divided by the map's Frobenius norm and
rectified. The result is a stack of non-negative "firing-rate" maps that layer 1 of VisNet
samples.

Map order is orientation-major, then wavelength, then phase (model.md §3.5):
``map = (orientation * n_wavelengths + wavelength) * n_phases + phase``.

Implementation notes (all exact, not approximations):

- The kernels have zero mean, so convolving the constant padding grey gives 0. The grey is
  therefore subtracted from the image before the FFT and the canvas is zero-padded, which is
  the same convolution with better float32 precision.
- Circular convolution of size L ≥ H + h (h = kernel half-width) never wraps image content onto
  the crop, and inside the 2× canvas every kernel (h ≤ H, checked in :class:`V1Config`) sees
  only image or grey. So each wavelength is convolved on the smallest fast FFT size with
  L ≥ max(H + h, 2h + 1): 135, 144, 160 and 180 px instead of 256 at the classic size, with
  the same crop as the 2× grey canvas of model.md §3.2 (a test compares against direct
  convolution on that canvas).
- Kernels that are the negative of another kernel (phase ψ + π versus ψ) share one FFT: the
  second map is the first with its sign flipped before rectification. With the classic phases
  (0, π) this halves the work. Even kernels (phases 0, π) have real spectra, which are stored
  as real arrays.
- The inverse transform is done in two 1-D stages and only the rows of the crop go through the
  second stage.
"""

from __future__ import annotations

import logging
import math
from typing import Self

import numpy as np
from pydantic import Field, model_validator

from dyad.validation import Int, Real, frozen_config, real

logger = logging.getLogger(__name__)

_CLASSIC_ORIENTATIONS = (0.0, math.pi / 4, math.pi / 2, 3 * math.pi / 4)


#: spatial-frequency bandwidths (octaves) a Gabor filter can have here: V1 cells span about
#: 0.5–2.5 octaves; far outside, the envelope's σ overflows or the kernel outgrows any image
BANDWIDTH_RANGE = (0.05, 8.0)


@frozen_config
class V1Config:
    """Parameters of the Gabor filter bank (model.md §3; defaults are classic VisNet).

    Attributes
    ----------
    image_size
        side of the square input images in pixels (classic 128).
    wavelengths
        Gabor wavelengths λ in pixels (classic 2, 4, 8, 16).
    orientations
        Gabor orientations θ in radians (classic 0, π/4, π/2, 3π/4).
    phases
        Gabor phase offsets ψ in radians (classic 0 and π: on/off bar detectors).
    bandwidth
        spatial-frequency bandwidth b in octaves (classic 1.5).
    aspect_ratio
        spatial aspect ratio γ; σ_y = σ_x / γ (classic 0.5).
    padding_grey
        grey level (0–255 scale) of the padding canvas and of a uniform
        background (classic 128).
    """

    image_size: Int = Field(128, ge=1)
    wavelengths: tuple[real(gt=0), ...] = Field((2.0, 4.0, 8.0, 16.0), min_length=1)
    orientations: tuple[Real, ...] = Field(_CLASSIC_ORIENTATIONS, min_length=1)
    phases: tuple[Real, ...] = Field((0.0, math.pi), min_length=1)
    # outside it σ = (λ/π)·√(ln2/2)·(2^b + 1)/(2^b − 1) overflows or divides by ~0
    bandwidth: Real = Field(1.5, ge=BANDWIDTH_RANGE[0], le=BANDWIDTH_RANGE[1])
    aspect_ratio: Real = Field(0.5, gt=0)
    padding_grey: Real = 128.0

    @model_validator(mode="after")
    def _kernels_fit_the_canvas(self) -> Self:
        """Every kernel fits the 2× padded canvas V1 filters on (model.md §3.2)."""
        for wavelength in self.wavelengths:
            side = self.kernel_side(wavelength)
            if side > 2 * self.image_size + 1:
                raise ValueError(
                    f"wavelengths: the kernel for λ = {wavelength:g} is {side} px wide, "
                    f"expected at most 2 × image_size + 1 = {2 * self.image_size + 1}"
                )
        return self

    @property
    def n_maps(self) -> int:
        """Number of V1 maps: orientations × wavelengths × phases (classic 32)."""
        return len(self.orientations) * len(self.wavelengths) * len(self.phases)

    @property
    def n_features_per_wavelength(self) -> int:
        """V1 maps per wavelength: orientations × phases (classic 8)."""
        return len(self.orientations) * len(self.phases)

    def map_index(self, orientation: int, wavelength: int, phase: int) -> int:
        """Index of a map in the V1 stack (orientation-major, then wavelength, then phase)."""
        return (orientation * len(self.wavelengths) + wavelength) * len(self.phases) + phase

    def sigmas(self, wavelength: float) -> tuple[float, float]:
        """(σ_x, σ_y) of the Gaussian envelope for a wavelength, from the bandwidth (§3.3)."""
        b = self.bandwidth
        sigma = wavelength / math.pi * math.sqrt(math.log(2) / 2) * (2**b + 1) / (2**b - 1)
        return sigma, sigma / self.aspect_ratio

    def kernel_side(self, wavelength: float) -> int:
        """Kernel side: integer part of 8·max(σ_x, σ_y), made odd (13/25/51/101 classic)."""
        side = int(8 * max(self.sigmas(wavelength)))
        return side + 1 if side % 2 == 0 else side


def gabor_kernel(
    wavelength: float, orientation: float, phase: float, config: V1Config
) -> np.ndarray:
    """One Gabor kernel, zero-mean and unit L2 norm (model.md §3.3).

    g(x, y) = exp(−½ (x′²/σx² + y′²/σy²)) · cos(2π x′/λ + ψ) with x′ = x cos θ + y sin θ,
    y′ = −x sin θ + y cos θ; x points right (columns) and y points up (rows reversed).

    Returns
    -------
    np.ndarray
        (side, side) float64 kernel with side = ``config.kernel_side(wavelength)``.
    """
    sigma_x, sigma_y = config.sigmas(wavelength)
    side = config.kernel_side(wavelength)
    half = side // 2
    coords = np.arange(-half, half + 1, dtype=np.float64)
    x = coords[None, :]
    y = -coords[:, None]
    x_rot = x * math.cos(orientation) + y * math.sin(orientation)
    y_rot = -x * math.sin(orientation) + y * math.cos(orientation)
    envelope = np.exp(-0.5 * (x_rot**2 / sigma_x**2 + y_rot**2 / sigma_y**2))
    kernel = envelope * np.cos(2 * math.pi * x_rot / wavelength + phase)
    kernel -= kernel.mean()
    norm = np.linalg.norm(kernel)
    if norm > 0:
        kernel /= norm
    return kernel


class V1:
    """The Gabor filter bank with its kernels transformed once to the frequency domain.

    Parameters
    ----------
    config
        filter-bank parameters.
    batch_size
        images transformed together (bounds the temporary memory, about
        3 MB per image at the classic size; 2–4 were fastest in benchmarks).
    workers
        threads scipy.fft may use; 1 keeps V1 from competing with other work.
    """

    def __init__(self, config: V1Config | None = None, *, batch_size: int = 2, workers: int = 1):
        self.config = config if config is not None else V1Config()
        self.batch_size = int(batch_size)
        self.workers = int(workers)
        self._kernels: list[np.ndarray] | None = None

    @property
    def kernels(self) -> list[np.ndarray]:
        """The kernel of every map, in map order: (side, side) float64 arrays."""
        self._build()
        return self._kernels  # type: ignore[return-value]

    def _build(self) -> None:
        """Make the kernels and their spectra, once, when first needed.

        A run whose visual system comes from the cache never filters an image, so it never
        pays for the bank (about 0.1 s at the classic size).
        """
        if self._kernels is not None:
            return
        import scipy.fft

        size = self.config.image_size
        bases: list[np.ndarray] = []
        # For each map: which distinct kernel's response it uses, and with which sign.
        base_of_map = np.empty(self.config.n_maps, dtype=np.intp)
        sign_of_map = np.empty(self.config.n_maps, dtype=np.float32)
        kernels: list[np.ndarray] = [np.empty(0)] * self.config.n_maps
        for o, theta in enumerate(self.config.orientations):
            for w, wavelength in enumerate(self.config.wavelengths):
                for p, psi in enumerate(self.config.phases):
                    kernel = gabor_kernel(wavelength, theta, psi, self.config)
                    index = self.config.map_index(o, w, p)
                    kernels[index] = kernel
                    for b, base in enumerate(bases):
                        if base.shape == kernel.shape and np.allclose(base, -kernel, atol=1e-9):
                            base_of_map[index], sign_of_map[index] = b, -1.0
                            break
                        if base.shape == kernel.shape and np.allclose(base, kernel, atol=1e-9):
                            base_of_map[index], sign_of_map[index] = b, 1.0
                            break
                    else:
                        base_of_map[index], sign_of_map[index] = len(bases), 1.0
                        bases.append(kernel)
        # Group the distinct kernels by FFT length (one group per kernel size).
        groups: dict[int, list[int]] = {}
        for b, kernel in enumerate(bases):
            half = kernel.shape[0] // 2
            length = scipy.fft.next_fast_len(max(size + half, 2 * half + 1), real=True)
            groups.setdefault(length, []).append(b)
        self._groups: list[tuple[int, np.ndarray, np.ndarray]] = []
        for length, members in sorted(groups.items()):
            spectra = np.empty((len(members), length, length // 2 + 1), dtype=np.complex128)
            for g, b in enumerate(members):
                kernel = bases[b]
                half = kernel.shape[0] // 2
                placed = np.zeros((length, length), dtype=np.float64)
                index = (np.arange(kernel.shape[0]) - half) % length
                placed[np.ix_(index, index)] = kernel
                spectra[g] = scipy.fft.rfft2(placed)
            if np.abs(spectra.imag).max() <= 1e-9 * np.abs(spectra.real).max():
                stored = spectra.real.astype(np.float32)
            else:
                stored = spectra.astype(np.complex64)
            self._groups.append((length, np.array(members), stored))
        self._n_bases = len(bases)
        self._base_of_map = base_of_map
        self._sign_of_map = sign_of_map
        self._kernels = kernels
        logger.debug("V1: %d maps from %d distinct kernels", self.config.n_maps, len(bases))

    @property
    def n_maps(self) -> int:
        """Number of V1 maps per image (wavelengths × orientations × phases)."""
        return self.config.n_maps

    def filter(self, images: np.ndarray) -> np.ndarray:
        """Filter images into rectified, normalised V1 maps.

        Parameters
        ----------
        images
            (n, H, W) grey levels on the 0–255 scale (H = W = ``image_size``); a
            single (H, W) image is accepted and returned with n = 1.

        Returns
        -------
        np.ndarray
            (n, n_maps, H, W) float32, every value ≥ 0. A map with zero response (a blank
            image) stays all zero.
        """
        images = np.asarray(images)
        if images.ndim == 2:
            images = images[None]
        size = self.config.image_size
        if images.ndim != 3 or images.shape[1:] != (size, size):
            raise ValueError(
                f"images: expected shape (n, {size}, {size}), got {tuple(images.shape)}"
            )
        n = images.shape[0]
        out = np.empty((n, self.n_maps, size, size), dtype=np.float32)
        self._build()
        for start in range(0, n, self.batch_size):
            stop = min(n, start + self.batch_size)
            self._filter_batch(images[start:stop], out[start:stop])
        return out

    def _filter_batch(self, images: np.ndarray, out: np.ndarray) -> None:
        import scipy.fft

        size = self.config.image_size
        n = images.shape[0]
        centred = images.astype(np.float32) - np.float32(self.config.padding_grey)
        responses = np.empty((n, self._n_bases, size, size), dtype=np.float32)
        for length, members, spectra in self._groups:
            spectrum = scipy.fft.rfft2(centred, s=(length, length), workers=self.workers)
            product = spectrum[:, None] * spectra[None]
            # Inverse FFT over rows, keep the rows of the crop, then over columns.
            rows = scipy.fft.ifft(product, axis=-2, overwrite_x=True, workers=self.workers)
            rows = rows[..., :size, :]
            group = scipy.fft.irfft(rows, n=length, axis=-1, workers=self.workers)
            responses[:, members] = group[..., :size]
        sq = np.einsum("nbij,nbij->nb", responses, responses, dtype=np.float64)
        norms = np.sqrt(sq)
        inverse = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        for m in range(self.n_maps):
            b = self._base_of_map[m]
            scale = (inverse[:, b] * self._sign_of_map[m]).astype(np.float32)
            np.multiply(responses[:, b], scale[:, None, None], out=out[:, m])
        np.maximum(out, 0.0, out=out)
