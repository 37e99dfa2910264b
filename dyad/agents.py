"""Mesa agents of the interaction: the infant and its parents.

Agents do no numerics beyond calling the brain or the policy; the order in which they act each
timestep is written out in :meth:`dyad.model.DyadModel.step`. They know the model only through
:class:`Interaction`, the little they read of it, so this module does not import the model
(and the type checker sees no import cycle).

The current timestep is Mesa's own counter: ``model.steps`` is incremented *before* the
model's ``step()`` runs, so while the agents act in timestep ``t`` it is ``t + 1``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import mesa
import numpy as np

from dyad.decisions import checked_choice

if TYPE_CHECKING:
    from dyad.brain.infant import InfantBrain


class Interaction(Protocol):
    """What the agents read of the model that runs them (:class:`dyad.model.DyadModel`)."""

    #: Mesa's step counter: timesteps begun so far, the current one included
    steps: int
    #: the expressions' names; a policy's choice is an index into them
    expressions: tuple[str, ...]
    #: the infant, whose history the parents' policies see
    infant: Infant


def current_timestep(model: Interaction) -> int:
    """Return the timestep being played (0-based) while the agents act in it."""
    return model.steps - 1


class Infant(mesa.Agent):
    """The infant: makes expressions on its schedule and learns from what it sees.

    ``schedule`` is ``(preroll + n_steps,)`` expression indices; entry ``preroll + t`` is the
    expression at timestep ``t`` (the pre-roll gives lagged parents a history before t = 0).
    """

    model: Interaction

    def __init__(
        self, model: Interaction, brain: InfantBrain, schedule: np.ndarray, preroll: int
    ) -> None:
        super().__init__(model)
        self.brain = brain
        self.schedule = schedule
        self.preroll = preroll
        self.expression = int(schedule[preroll])
        self.rates: np.ndarray | None = None

    def history(self) -> np.ndarray:
        """Return the infant's expressions up to and including the current timestep (a view)."""
        return self.schedule[: self.preroll + current_timestep(self.model) + 1]

    def step(self) -> None:
        """Make this timestep's expression (the motor module's pattern follows it)."""
        self.expression = int(self.schedule[self.preroll + current_timestep(self.model)])

    def perceive(self, parent: Parent) -> None:
        """See the parent's face while making the current expression; the mirror layer learns."""
        self.rates = self.brain.experience(
            parent.index, parent.displayed, self.expression, learn=True
        )


class Parent(mesa.Agent):
    """A parent: shows an expression chosen by its mimicry policy each timestep it is present."""

    model: Interaction

    def __init__(
        self, model: Interaction, name: str, index: int, policy, source: str = "unknown source"
    ) -> None:
        super().__init__(model)
        self.name = name
        self.index = index
        self.policy = policy
        self.policy_name = getattr(policy, "name", type(policy).__name__)
        self.policy_source = source
        self.displayed = -1

    def step(self) -> None:
        """Choose the expression to show, given what the infant has done so far."""
        t = current_timestep(self.model)
        self.displayed = checked_choice(
            self.policy,
            t,
            self.model.infant.history(),
            len(self.model.expressions),
            f"parent {self.name!r}: policy {self.policy_name!r} ({self.policy_source})",
        )
