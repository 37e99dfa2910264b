"""A parent who mirrors the infant after a random reaction delay.

Whenever the infant changes expression (and at t = 0, or when the parent comes back after
time spent with another parent) the parent draws a reaction delay d
uniformly from {min_delay, ..., max_delay} and, for that infant hold, shows what the infant
showed d timesteps earlier: v_t = m_{t-d}. With the infant's deterministic alternation of hold
T and d <= T, the congruence is c = 1 - E[d] / T (model.md §9.6 with a random lag).
"""

from pydantic import Field, model_validator

from dyad import ParentPolicy, PolicyParams, hookimpl


class ReactionDelay(ParentPolicy):
    """Mirror the infant's expression of ``d`` timesteps ago, ``d`` redrawn at each infant hold.

    A parent's reaction time varies; a fixed lag (the built-in ``lagged``) is the special case
    ``min_delay == max_delay``.
    """

    name = "reaction_delay"
    description = "Mirrors the infant after a reaction delay redrawn at each infant hold."

    class Params(PolicyParams):
        """Parameters of ``reaction_delay``: the range the delay d is drawn from, uniformly."""

        min_delay: int = Field(1, ge=0, le=1000, description="shortest delay (timesteps)")
        max_delay: int = Field(4, ge=0, le=1000, description="longest delay (timesteps)")

        @model_validator(mode="after")
        def _ordered(self):
            if self.min_delay > self.max_delay:
                raise ValueError("min_delay must not exceed max_delay")
            return self

    @property
    def lookback(self) -> int:
        """Infant timesteps needed before t = 0: the longest delay."""
        return self.params.max_delay

    last_t = -2  # the last timestep this parent acted (it may share the infant with others)

    def choose(self, t, infant_history):
        """Return the infant's expression ``delay`` timesteps ago, drawing a new delay at a hold.

        A new hold starts when the infant changes expression, at t = 0, or when this parent
        comes back after timesteps spent with another parent (it missed the change).
        """
        if t != self.last_t + 1 or infant_history[-1] != infant_history[-2]:
            self.delay = int(self.rng.integers(self.params.min_delay, self.params.max_delay + 1))
        self.last_t = t
        return int(infant_history[-1 - self.delay])


@hookimpl
def dyad_register_policies(register):
    """Register :class:`ReactionDelay` with dyad (the plugin's one hook)."""
    register(ReactionDelay)
