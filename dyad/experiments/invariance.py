"""A classic translation-invariance task for VisNet (Wallis & Rolls 1997; Rolls & Milward 2000).

Several face identities (stimuli), each shown at every position of a square grid on a uniform
grey canvas, are the "objects" and "transforms" of VisNet's trace rule: the positions of one face
are presented in sequence (snake order, so consecutive positions are neighbours) and the trace is
reset between faces (:meth:`dyad.brain.visnet.VisNet.fit_gathered`). After training, layer-4
cells that respond to one face at every position and to no other face carry the maximal
single-cell information log2(S) bits over all positions; an untrained network of the same seed
should have none (model.md §11, docs/vision.md "A classic invariance task").

Everything is a pure function of :class:`InvarianceTask` (including its ``seed``): the face
identities are drawn from the seed, the network's connectivity and initial weights from another
stream of it, and the ensemble draws of the multiple-cell decoder from a third.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Self

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from dyad.analysis.information import max_information, multiple_cell_information
from dyad.brain.v1 import V1
from dyad.brain.visnet import VisNet, VisNetConfig
from dyad.faces import EXPRESSIONS, FaceConfig, ParametricFaces, TransformConfig
from dyad.validation import Int, frozen_config, integer

#: independent random streams spawned from the task's seed, in this order
STREAMS = ("identities", "visnet", "decoding", "block_order")
#: identity seeds are drawn from [0, IDENTITY_RANGE)
IDENTITY_RANGE = 1_000_000


@frozen_config
class InvarianceTask:
    """The stimulus set, the network and the analysis of one invariance experiment.

    Attributes
    ----------
    visnet
        the network; ``visnet.v1.image_size`` is the canvas side.
    n_identities
        number of stimuli S (different faces).
    grid
        positions per side; the S faces are each shown at ``grid²`` positions.
    face_size
        side of each face image in pixels (rendered at this size, no transform).
    spacing
        distance in pixels between neighbouring grid positions; the grid is centred
        on the canvas.
    expression
        the expression every face shows.
    seed
        seed of the face identities, the network and the decoder's draws.
    max_ensemble
        largest ensemble of the multiple-cell information.
    decoding_iterations
        random ensembles per size (None: the §11.2 default,
        100 · (max_ensemble − size + 1)).
    """

    visnet: VisNetConfig = Field(default_factory=VisNetConfig)
    n_identities: Int = Field(7, ge=2)
    grid: Int = Field(3, ge=1)
    face_size: Int = Field(32, ge=16)
    spacing: Int = Field(32, ge=0)
    expression: Literal[tuple(EXPRESSIONS)] = "neutral"  # type: ignore[valid-type]
    seed: Int = Field(0, ge=0)
    max_ensemble: Int = Field(15, ge=1)
    decoding_iterations: integer(ge=1) | None = 50

    @classmethod
    def small(cls, **overrides: object) -> InvarianceTask:
        """Return the task at the small size, for tests and quick checks.

        A 64-px canvas, 24-px faces 20 px apart (neighbouring
        positions overlap by 4 px), :meth:`VisNetConfig.small` (16×16 layers). Any field can be
        overridden by keyword.

        Halving the full task exactly (16-px faces 16 px apart) leaves faces of about 10 px of
        content, which even the best configuration tried separated at only 2–5 of 7 faces
        (docs/vision.md).
        """
        values: dict[str, object] = dict(visnet=VisNetConfig.small(), face_size=24, spacing=20)
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    @model_validator(mode="after")
    def _grid_fits_the_canvas(self) -> Self:
        extent = self.face_size + (self.grid - 1) * self.spacing
        canvas = self.visnet.v1.image_size
        if extent > canvas:
            raise ValueError(
                f"spacing: faces of {self.face_size} px at {self.grid}×{self.grid} positions "
                f"{self.spacing} px apart span {extent} px, expected at most the "
                f"{canvas}-px canvas"
            )
        return self

    @property
    def n_positions(self) -> int:
        """Transforms per stimulus: grid²."""
        return self.grid * self.grid

    @property
    def max_bits(self) -> float:
        """The maximal single-cell information, log2(S)."""
        return float(np.log2(self.n_identities))

    def streams(self) -> dict[str, np.random.Generator]:
        """One generator per purpose (:data:`STREAMS`), spawned from ``seed``."""
        children = np.random.SeedSequence(self.seed).spawn(len(STREAMS))
        return {n: np.random.default_rng(c) for n, c in zip(STREAMS, children, strict=True)}

    def identity_seeds(self) -> tuple[int, ...]:
        """Return the S face identities, drawn from ``seed``.

        Each is a :class:`dyad.faces.FaceIdentity` seed.
        """
        rng = self.streams()["identities"]
        return tuple(int(s) for s in rng.choice(IDENTITY_RANGE, self.n_identities, replace=False))

    def positions(self) -> list[tuple[int, int]]:
        """Top-left (row, col) pixel of the face at each position, in presentation order.

        Snake (boustrophedon) order: rows top to bottom, every other row right to left, so each
        position is next to the one before it.
        """
        start = (self.visnet.v1.image_size - self.face_size - (self.grid - 1) * self.spacing) // 2
        order = []
        for row in range(self.grid):
            cols = range(self.grid) if row % 2 == 0 else range(self.grid - 1, -1, -1)
            order.extend((start + row * self.spacing, start + col * self.spacing) for col in cols)
        return order


def render_stimuli(task: InvarianceTask) -> np.ndarray:
    """Every face at every position: (S, grid², canvas, canvas) float32 on 0–255.

    Each face is rendered once at ``face_size`` with no transform on a background of the V1
    padding grey, then pasted onto a canvas of that grey, so the background filters to zero.
    """
    v1 = task.visnet.v1
    canvas = v1.image_size
    grey = float(v1.padding_grey)
    positions = task.positions()
    out = np.full((task.n_identities, len(positions), canvas, canvas), grey, dtype=np.float32)
    for i, identity in enumerate(task.identity_seeds()):
        config = FaceConfig(
            size=task.face_size,
            identity_seed=identity,
            background=grey,
            transforms=TransformConfig.disabled(),
        )
        face = ParametricFaces(config).render(task.expression)
        for t, (row, col) in enumerate(positions):
            out[i, t, row : row + task.face_size, col : col + task.face_size] = face
    return out


@dataclass
class InvarianceResult:
    """Layer-4 responses and information of the trained and the untrained network.

    Attributes
    ----------
    task
        the experiment.
    rates
        network ("trained", "untrained") → (S, grid², N4) float32 layer-4 rates.
    information
        network → (N4,) float64 each cell's max over stimuli of I(s, R), in bits,
        over all positions (3 equal-width bins).
    multiple_cell
        network → the table of
        :func:`dyad.analysis.information.multiple_cell_information`.
    """

    task: InvarianceTask
    rates: dict[str, np.ndarray]
    information: dict[str, np.ndarray]
    multiple_cell: dict[str, pd.DataFrame]

    def n_at_max(self, network: str, fraction: float = 0.99) -> int:
        """Cells at ≥ ``fraction`` · log2(S) bits."""
        return int((self.information[network] >= fraction * self.task.max_bits).sum())

    def stimuli_at_max(self, network: str, fraction: float = 0.99) -> int:
        """Count the stimuli coded by a cell at the maximum information.

        A stimulus counts if at least one cell at ≥ ``fraction`` · log2(S) bits fires most to
        it (a population that codes every stimulus has S).
        """
        rates = self.rates[network]
        preferred = np.argmax(rates.mean(axis=1), axis=0)
        selective = self.information[network] >= fraction * self.task.max_bits
        return int(np.unique(preferred[selective]).size)

    def multiple_cell_bits(self, network: str) -> float:
        """I_P (bits) decoded from the largest ensemble."""
        return float(self.multiple_cell[network]["information_probability"].iloc[-1])

    def summary(self) -> pd.DataFrame:
        """Summarise the experiment, one row per network.

        Columns ``network``, ``seed``, ``cells_at_max`` (≥ 0.99·log2 S),
        ``stimuli_at_max`` (:meth:`stimuli_at_max`), ``n_cells``, ``mean_bits``,
        ``multiple_cell_bits`` (I_P of the largest ensemble), ``max_bits``.
        """
        rows = [
            {
                "network": network,
                "seed": self.task.seed,
                "cells_at_max": self.n_at_max(network),
                "stimuli_at_max": self.stimuli_at_max(network),
                "n_cells": int(self.information[network].size),
                "mean_bits": float(self.information[network].mean()),
                "multiple_cell_bits": self.multiple_cell_bits(network),
                "max_bits": self.task.max_bits,
            }
            for network in self.rates
        ]
        return pd.DataFrame(rows)

    def information_curves(self) -> pd.DataFrame:
        """Return each cell's information, cells sorted, most informative first.

        A tidy table of ``network``, ``cell_rank``, ``information``, the input of
        :func:`dyad.analysis.figures.plot_information_curves`.
        """
        frames = [
            pd.DataFrame(
                {
                    "network": network,
                    "cell_rank": np.arange(info.size),
                    "information": np.sort(info)[::-1],
                }
            )
            for network, info in self.information.items()
        ]
        return pd.concat(frames, ignore_index=True)


def layer4_rates(visnet: VisNet, v1_maps: np.ndarray) -> np.ndarray:
    """Layer-4 rates with learning off: (S, T, n_maps, H, W) → (S, T, N4) float32."""
    lead = v1_maps.shape[:2]
    return visnet.transform(v1_maps.reshape(-1, *v1_maps.shape[2:])).reshape(*lead, -1)


def run_invariance(
    task: InvarianceTask, progress: Callable[[str, int, int], None] | None = None
) -> InvarianceResult:
    """Render the stimuli, train VisNet layer by layer and measure layer 4, trained and untrained.

    The untrained network is the same-seed network before training (same connectivity and
    initial weights). Information is measured on all S × grid² stimuli, as in the classic task.
    ``progress`` is told of each layer's epochs (see :meth:`dyad.brain.visnet.VisNet.fit`).
    """
    stimuli = render_stimuli(task)
    v1 = V1(task.visnet.v1)
    maps = v1.filter(stimuli.reshape(-1, *stimuli.shape[2:])).reshape(
        *stimuli.shape[:2], task.visnet.v1.n_maps, *stimuli.shape[2:]
    )
    untrained = VisNet(task.visnet, task.streams()["visnet"])
    trained = VisNet(task.visnet, task.streams()["visnet"])
    trained.fit(maps, progress=progress, rng=task.streams()["block_order"])
    labels = np.repeat(np.arange(task.n_identities), task.n_positions)
    decoding = task.streams()["decoding"]
    rates, information, multiple = {}, {}, {}
    for name, network in (("trained", trained), ("untrained", untrained)):
        rates[name] = layer4_rates(network, maps)
        flat = rates[name].reshape(labels.size, -1)
        information[name] = max_information(flat, labels)
        multiple[name] = multiple_cell_information(
            flat,
            labels,
            max_ensemble=task.max_ensemble,
            n_iterations=task.decoding_iterations,
            rng=decoding,
        )
    return InvarianceResult(task, rates, information, multiple)


def with_visnet(task: InvarianceTask, **visnet: object) -> InvarianceTask:
    """Return the task with some VisNet fields replaced."""
    return dataclasses.replace(task, visnet=dataclasses.replace(task.visnet, **visnet))


__all__ = [
    "InvarianceResult",
    "InvarianceTask",
    "layer4_rates",
    "render_stimuli",
    "run_invariance",
    "with_visnet",
]
