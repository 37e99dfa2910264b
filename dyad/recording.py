"""The per-timestep recorder: what happened each timestep, in preallocated arrays, then tables.

Mesa's ``DataCollector`` calls a Python function per reporter per step and keeps lists of
dicts; for per-neuron rates over tens of thousands of timesteps that costs more than the
simulation itself. :class:`InteractionRecorder` writes into arrays sized once from the run's
length (one row per timestep, and one row per ``log_every`` timesteps for the full rate
vector) and turns them into tidy DataFrames at the end: the run's ``interaction`` and
``mirror_rates`` tables. Like Brian2's monitors it only watches: it never draws a random
number or changes the agents, so recording more or less cannot change a run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from dyad.analysis import ACTIVE_RATE

if TYPE_CHECKING:
    from dyad.agents import Infant, Parent


class InteractionRecorder:
    """Preallocated per-timestep logs of the interaction and the neural responses.

    Parameters
    ----------
    n_steps:
        Timesteps of the run: the length of every per-timestep array.
    n_neurons:
        Mirror-layer neurons: the width of :attr:`mirror_rates`.
    log_every:
        Keep the full rate vector every this many timesteps (``t % log_every == 0``).
    mirror_rates:
        Whether to keep the rate vectors at all (``output.mirror_rates``); when False
        :attr:`mirror_rates` is ``(0, n_neurons)``.
    """

    def __init__(self, n_steps: int, n_neurons: int, log_every: int, mirror_rates: bool) -> None:
        self.n_steps = n_steps
        self.log_every = log_every
        self.infant_expression = np.zeros(n_steps, np.int16)
        self.parent = np.zeros(n_steps, np.int16)
        self.parent_expression = np.zeros(n_steps, np.int16)
        self.transform = np.zeros(n_steps, np.int32)
        self.mirror_mean_rate = np.zeros(n_steps, np.float32)
        self.mirror_active = np.zeros(n_steps, np.int32)
        self.visual_drive = np.zeros(n_steps, np.float32)
        self.motor_drive = np.zeros(n_steps, np.float32)
        n_logged = -(-n_steps // log_every) if mirror_rates else 0
        #: ``(n_logged, n_neurons) float32``: the rates at ``t = 0, log_every, 2 * log_every ...``
        self.mirror_rates = np.zeros((n_logged, n_neurons), np.float32)

    def record(self, t: int, infant: Infant, parent: Parent) -> None:
        """Log timestep ``t``: who showed what, and the mirror layer's response to it."""
        rates = infant.rates
        brain = infant.brain
        self.infant_expression[t] = infant.expression
        self.parent[t] = parent.index
        self.parent_expression[t] = parent.displayed
        self.transform[t] = brain.last_transform
        self.mirror_mean_rate[t] = rates.mean()
        self.mirror_active[t] = np.count_nonzero(rates >= ACTIVE_RATE)
        self.visual_drive[t], self.motor_drive[t] = brain.last_drives
        if self.mirror_rates.shape[0] and t % self.log_every == 0:
            self.mirror_rates[t // self.log_every] = rates

    def congruence(self, n_steps: int) -> float:
        """Return how often the parent showed the infant's expression.

        The fraction of the first ``n_steps`` timesteps on which the parent showed it; nan
        before the first timestep.
        """
        if n_steps == 0:
            return float("nan")
        shown = self.parent_expression[:n_steps]
        return float(np.mean(self.infant_expression[:n_steps] == shown))

    def interaction_table(
        self, expressions: Sequence[str], parent_names: Sequence[str]
    ) -> pd.DataFrame:
        """One row per timestep: who showed what, congruence, mirror-layer summary.

        Built as :meth:`mirror_rates_table` is (new arrays handed over uncopied), the
        categoricals with the dtype built once per categories (``from_codes``).
        """
        from dyad.analysis.classify import from_codes

        return pd.DataFrame(
            {
                "t": np.arange(self.n_steps, dtype=np.int32),
                "infant_expression": from_codes(self.infant_expression, expressions),
                "parent": from_codes(self.parent, parent_names),
                "parent_expression": from_codes(self.parent_expression, expressions),
                "congruent": self.infant_expression == self.parent_expression,
                "transform": self.transform.copy(),
                "mirror_mean_rate": self.mirror_mean_rate.copy(),
                "mirror_active": self.mirror_active.copy(),
                "visual_drive": self.visual_drive.copy(),
                "motor_drive": self.motor_drive.copy(),
            },
            copy=False,
        )

    def mirror_rates_table(self) -> pd.DataFrame:
        """Long table ``t, neuron, rate`` of the logged mirror-layer rates.

        The columns are new arrays (the rates copied: the recorder may log on), handed over
        with ``copy=False``: otherwise pandas copies them again and packs ``t`` and ``neuron``
        into one block, which for a default run's 512,000 rows took 5 of its 5.5 ms.
        """
        n_logged, n_neurons = self.mirror_rates.shape
        steps = np.arange(n_logged, dtype=np.int32) * self.log_every
        return pd.DataFrame(
            {
                "t": np.repeat(steps, n_neurons),
                "neuron": np.tile(np.arange(n_neurons, dtype=np.int32), n_logged),
                "rate": self.mirror_rates.reshape(-1).copy(),
            },
            copy=False,
        )
