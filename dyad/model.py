"""The interaction as a Mesa model: who acts when, and what gets logged.

:class:`DyadModel` owns one :class:`~dyad.agents.Infant` and one or more
:class:`~dyad.agents.Parent` agents. Its :meth:`~DyadModel.step` is the scheduler: the order of
events in one timestep is written out there. Per-timestep records go into preallocated arrays
(far cheaper than Mesa's DataCollector for per-neuron rates) and become tidy DataFrames at the end.
"""

from __future__ import annotations

from collections.abc import Sequence

import mesa
import numpy as np
import pandas as pd

from dyad.agents import Infant, Parent
from dyad.brain.infant import InfantBrain


class InteractionRecorder:
    """Preallocated per-timestep logs of the interaction and the neural responses."""

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
        self.mirror_rates = np.zeros((n_logged, n_neurons), np.float32)

    def record(self, t: int, infant: Infant, parent: Parent) -> None:
        rates = infant.rates
        self.infant_expression[t] = infant.expression
        self.parent[t] = parent.index
        self.parent_expression[t] = parent.displayed
        self.transform[t] = infant.brain.last_transform
        self.mirror_mean_rate[t] = rates.mean()
        self.mirror_active[t] = np.count_nonzero(rates >= 0.5)
        mirror = infant.brain.mirror
        self.visual_drive[t] = mirror.last_visual_drive
        self.motor_drive[t] = mirror.last_motor_drive
        if self.mirror_rates.shape[0] and t % self.log_every == 0:
            self.mirror_rates[t // self.log_every] = rates


class DyadModel(mesa.Model):
    """An infant interacting with its parents; the mirror layer learns every timestep.

    Parameters
    ----------
    brain:
        The infant's brain (frozen VisNet banks, motor module, mirror layer).
    schedule:
        The infant's expressions, ``(preroll + n_steps,)``.
    parent_schedule:
        Which parent is present at each timestep, ``(n_steps,)``.
    policies:
        One mimicry-policy object per parent (``choose(t, infant_history) -> int``).
    rng:
        The run's seed (an int) or generator; Mesa seeds ``self.rng`` from it.
    """

    def __init__(
        self,
        brain: InfantBrain,
        schedule: np.ndarray,
        parent_schedule: np.ndarray,
        policies: Sequence,
        parent_names: Sequence[str],
        expressions: Sequence[str],
        policy_sources: Sequence[str] | None = None,
        preroll: int = 0,
        log_every: int = 1,
        log_mirror_rates: bool = True,
        rng: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(rng=rng)
        self.n_steps = len(parent_schedule)
        self.expressions = tuple(expressions)
        self.parent_names = tuple(parent_names)
        self.t = 0
        self.infant = Infant(self, brain, schedule, preroll)
        sources = policy_sources or ["unknown source"] * len(policies)
        self.parents = [
            Parent(self, name, index, policy, source)
            for index, (name, policy, source) in enumerate(
                zip(parent_names, policies, sources, strict=True)
            )
        ]
        self.parent_schedule = parent_schedule
        self.recorder = InteractionRecorder(
            self.n_steps, brain.mirror.n_neurons, log_every, log_mirror_rates
        )

    def step(self) -> None:
        """One timestep, in this order:

        1. the infant makes this timestep's expression (its motor pattern);
        2. the parent who is present chooses an expression to show (its policy);
        3. the infant sees that face (frozen VisNet layer 4) while making its own expression,
           and both inputs drive the mirror layer, which learns (Hebb + normalisation);
        4. the interaction and the neural responses are logged.
        """
        t = self.t
        self.infant.step()
        parent = self.parents[self.parent_schedule[t]]
        parent.step()
        self.infant.perceive(parent)
        self.recorder.record(t, self.infant, parent)
        self.t += 1
        if self.t >= self.n_steps:
            self.running = False

    # ---------------------------------------------------------------------------------------
    # Tidy tables

    def interaction_table(self) -> pd.DataFrame:
        """One row per timestep: who showed what, congruence, mirror-layer summary."""
        rec = self.recorder
        expressions = pd.Categorical.from_codes(rec.infant_expression, self.expressions)
        shown = pd.Categorical.from_codes(rec.parent_expression, self.expressions)
        return pd.DataFrame(
            {
                "t": np.arange(self.n_steps, dtype=np.int32),
                "infant_expression": expressions,
                "parent": pd.Categorical.from_codes(rec.parent, self.parent_names),
                "parent_expression": shown,
                "congruent": rec.infant_expression == rec.parent_expression,
                "transform": rec.transform,
                "mirror_mean_rate": rec.mirror_mean_rate,
                "mirror_active": rec.mirror_active,
                "visual_drive": rec.visual_drive,
                "motor_drive": rec.motor_drive,
            }
        )

    def mirror_rates_table(self) -> pd.DataFrame:
        """Long table ``t, neuron, rate`` of the logged mirror-layer rates."""
        rates = self.recorder.mirror_rates
        n_logged, n_neurons = rates.shape
        steps = np.arange(n_logged, dtype=np.int32) * self.recorder.log_every
        return pd.DataFrame(
            {
                "t": np.repeat(steps, n_neurons),
                "neuron": np.tile(np.arange(n_neurons, dtype=np.int32), n_logged),
                "rate": rates.reshape(-1),
            }
        )
