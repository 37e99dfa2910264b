"""Mesa agents of the interaction: the infant and its parents.

Agents do no numerics beyond calling the brain or the policy; the order in which they act each
timestep is written out in :meth:`dyad.model.DyadModel.step`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from dyad.errors import PluginError
from dyad.policies import is_expression_index

if TYPE_CHECKING:
    from dyad.brain.infant import InfantBrain
    from dyad.model import DyadModel


class Infant(mesa.Agent):
    """The infant: makes expressions on its schedule and learns from what it sees.

    ``schedule`` is ``(preroll + n_steps,)`` expression indices; entry ``preroll + t`` is the
    expression at timestep ``t`` (the pre-roll gives lagged parents a history before t = 0).
    """

    model: DyadModel

    def __init__(
        self, model: DyadModel, brain: InfantBrain, schedule: np.ndarray, preroll: int
    ) -> None:
        super().__init__(model)
        self.brain = brain
        self.schedule = schedule
        self.preroll = preroll
        self.expression = int(schedule[preroll])
        self.rates: np.ndarray | None = None

    def history(self) -> np.ndarray:
        """The infant's expressions up to and including the current timestep (a view)."""
        return self.schedule[: self.preroll + self.model.t + 1]

    def step(self) -> None:
        """Make this timestep's expression (the motor module's pattern follows it)."""
        self.expression = int(self.schedule[self.preroll + self.model.t])

    def perceive(self, parent: Parent) -> None:
        """See the parent's face while making the current expression; the mirror layer learns."""
        self.rates = self.brain.experience(
            parent.index, parent.displayed, self.expression, learn=True
        )


class Parent(mesa.Agent):
    """A parent: shows an expression chosen by its mimicry policy each timestep it is present."""

    model: DyadModel

    def __init__(
        self, model: DyadModel, name: str, index: int, policy, source: str = "unknown source"
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
        t = self.model.t
        try:
            choice = self.policy.choose(t, self.model.infant.history())
        except (Exception, SystemExit) as exc:
            message = " ".join(str(exc).split())
            raise PluginError(
                f"parent {self.name!r}: policy {self.policy_name!r} ({self.policy_source}) "
                f"failed at timestep {t}: {type(exc).__name__}: {message}"
            ) from exc
        if not is_expression_index(choice, len(self.model.expressions)):
            raise PluginError(
                f"parent {self.name!r}: policy {self.policy_name!r} ({self.policy_source}) "
                f"chose {_short(choice)} ({type(choice).__name__}) at timestep {t}; choose must "
                f"return an int expression index below {len(self.model.expressions)}"
            )
        self.displayed = int(choice)


def _short(value: object) -> str:
    """``repr(value)`` cut to one short line."""
    text = " ".join(repr(value).split())
    return text if len(text) <= 60 else text[:57] + "..."
