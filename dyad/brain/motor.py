"""The motor module: the infant's own expression as a clamped binary pattern (model.md §7).

One pattern per expression, fixed for the run (no learning): the mirror layer reads it beside
layer 4's rates. Kept apart from :mod:`dyad.brain.mirror` because it is the other input of
that layer, not part of it.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import Field

from dyad.errors import ConfigError
from dyad.validation import Int, Real, check_int, frozen_config


@frozen_config
class MotorConfig:
    """Binary motor code of the infant's expression (model.md §7).

    ``units_per_expression``: K; the module has ``n_motor = K * n_expressions`` units.
    ``coding``: ``"blocks"`` (expression s switches on units ``s*K .. s*K + K - 1``) or
    ``"sparse"`` (each expression gets its own random set of ``active_fraction * n_motor`` units,
    drawn once, all sets distinct; tests that results do not need orthogonal motor codes).
    ``active_fraction``: share of units on per expression, used by ``"sparse"`` only.
    """

    units_per_expression: Int = Field(64, ge=1)
    coding: Literal["blocks", "sparse"] = "blocks"
    active_fraction: Real = Field(0.1, gt=0.0, le=1.0)


class MotorModule:
    """Clamped binary motor patterns, one per expression; no learning (model.md §7).

    ``patterns``: (n_expressions, n_motor) float32 of 0/1; row s is M(s).
    """

    def __init__(self, config: MotorConfig, n_expressions: int, rng: np.random.Generator):
        self.config = config
        self.n_expressions = check_int("n_expressions", n_expressions, 1)
        self.n_motor = config.units_per_expression * self.n_expressions
        patterns = np.zeros((self.n_expressions, self.n_motor), dtype=np.float32)
        if config.coding == "blocks":
            k = config.units_per_expression
            for s in range(self.n_expressions):
                patterns[s, s * k : (s + 1) * k] = 1.0
        else:
            n_on = max(1, round(config.active_fraction * self.n_motor))
            if self.n_expressions > math.comb(self.n_motor, n_on):
                raise ConfigError(
                    f"active_fraction: {n_on} of {self.n_motor} motor units cannot give "
                    f"{self.n_expressions} distinct patterns"
                )
            seen: set[bytes] = set()
            s = 0
            while s < self.n_expressions:
                on = rng.choice(self.n_motor, size=n_on, replace=False)
                row = np.zeros(self.n_motor, dtype=np.float32)
                row[on] = 1.0
                key = row.tobytes()
                if key in seen:
                    continue
                seen.add(key)
                patterns[s] = row
                s += 1
        patterns.setflags(write=False)
        self.patterns = patterns

    def noisy_patterns(
        self, expression: int, n_trials: int, flip_fraction: float, rng: np.random.Generator
    ) -> np.ndarray:
        """Test trials of M(expression) with bits flipped: (n_trials, n_motor) float32 0/1.

        Each trial flips exactly ``round(flip_fraction * n_motor)`` randomly chosen units, which
        gives the trial-to-trial variability the information measures need (model.md §10).
        """
        if not 0.0 <= flip_fraction <= 1.0:
            raise ValueError(f"flip_fraction: expected a number in [0, 1], got {flip_fraction!r}")
        n_flip = round(flip_fraction * self.n_motor)
        trials = np.repeat(self.patterns[expression][None, :], n_trials, axis=0)
        if n_flip:
            # argsort of uniform noise = an independent random subset of units per trial
            flips = np.argsort(rng.random((n_trials, self.n_motor)), axis=1)[:, :n_flip]
            rows = np.arange(n_trials)[:, None]
            trials[rows, flips] = 1.0 - trials[rows, flips]
        return trials
