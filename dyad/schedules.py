"""When the infant changes expression, and which parent it is with.

The infant's expression schedule drives everything in the interaction: the motor pattern, and
(through the parent's policy) what the infant sees. Schedules are generated up front from the
run's generator so a run is a pure function of its seed.

The deterministic alternating schedule makes the congruence of a lagged parent exact,
c(L) = 1 − L/T for 0 ≤ L ≤ T (model.md §9.6); random hold lengths make c(L) decay towards 0.5
instead, which changes the qualitative outcome of the lag simulation.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from dyad.errors import ConfigError

ScheduleKind = Literal["alternating", "random", "uniform"]


def infant_schedule(
    kind: ScheduleKind,
    n_expressions: int,
    hold_length: int,
    n_steps: int,
    rng: np.random.Generator,
    preroll: int = 0,
) -> np.ndarray:
    """Return the infant's expression index for timesteps ``-preroll .. n_steps - 1``.

    Returns ``(preroll + n_steps,) int16``; entry ``preroll + t`` is the expression at ``t``.

    - ``alternating``: hold each expression ``hold_length`` steps, cycling through them in
      order; the pre-roll continues the cycle backwards (a periodic extension), so a parent
      lagging by L sees exactly ``m[t - L]`` from t = 0.
    - ``random``: Markov switching, probability ``1/hold_length`` per step of switching to a
      uniformly chosen other expression (geometric holds with mean ``hold_length``).
    - ``uniform``: hold lengths uniform in ``[hold_length/2, 3*hold_length/2]``; the next
      expression is the next in order for two expressions, a random other one for more.
    """
    if n_expressions < 2:
        raise ConfigError(f"infant.expressions: expected at least 2, got {n_expressions}")
    if hold_length < 1 or n_steps < 1 or preroll < 0:
        raise ConfigError("infant schedule: hold_length and steps must be positive")
    total = preroll + n_steps
    if kind == "alternating":
        t = np.arange(-preroll, n_steps)
        return ((t // hold_length) % n_expressions).astype(np.int16)
    if kind == "random":
        switches = rng.random(total) < 1.0 / hold_length
        switches[0] = False
        # each switch moves to a uniformly random *other* expression: add 1..S-1 modulo S
        steps = np.where(switches, rng.integers(1, n_expressions, size=total), 0)
        start = rng.integers(n_expressions)
        return ((start + np.cumsum(steps)) % n_expressions).astype(np.int16)
    if kind == "uniform":
        low = max(1, hold_length // 2)
        high = max(low, (3 * hold_length) // 2)
        lengths = rng.integers(low, high + 1, size=total // low + 2)
        if n_expressions == 2:
            moves = np.ones(lengths.size, dtype=np.int64)
        else:
            moves = rng.integers(1, n_expressions, size=lengths.size)
        moves[0] = 0
        labels = (rng.integers(n_expressions) + np.cumsum(moves)) % n_expressions
        return np.repeat(labels, lengths)[:total].astype(np.int16)
    raise ConfigError(
        f"infant.schedule: expected 'alternating', 'random' or 'uniform', got {kind!r}"
    )


def parent_schedule(
    mode: Literal["alternate", "random"],
    n_parents: int,
    block_length: int,
    n_steps: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Which parent is with the infant at each timestep: ``(n_steps,) int16``.

    The infant's time is shared in blocks of ``block_length`` timesteps: in turn
    (``alternate``) or with a uniformly random parent per block (``random``).
    """
    if n_parents == 1:
        return np.zeros(n_steps, dtype=np.int16)
    n_blocks = -(-n_steps // block_length)
    if mode == "alternate":
        blocks = np.arange(n_blocks) % n_parents
    elif mode == "random":
        blocks = rng.integers(n_parents, size=n_blocks)
    else:
        raise ConfigError(f"sharing.mode: expected 'alternate' or 'random', got {mode!r}")
    return np.repeat(blocks, block_length)[:n_steps].astype(np.int16)
