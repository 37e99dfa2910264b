"""Parent policies: what the parent shows, given what the infant is showing (model.md §9).

A policy turns the infant's expression history into the parent's displayed expression, one
timestep at a time. The three built-ins reproduce the study's simulations:

- ``perfect`` (Simulation 1): the parent mirrors the infant, v_t = m_t, congruence c = 1;
- ``noisy`` (Simulation 2): the parent shows the opposite expression with probability q,
  c = 1 − q;
- ``lagged`` (Simulation 3): the parent copies the infant L timesteps late, v_t = m_{t−L}.

A fourth built-in is the study's missing control:

- ``yoked``: the parent shows expressions on a schedule of her own, with the infant's hold
  statistics but independent of what the infant does (c ≈ 0.5, no contingency).

They are registered through the same ``dyad_register_policies`` hook as third-party plugins
(the plugin manager registers this module like any other plugin). Write a new policy by
subclassing :class:`ParentPolicy`; see ``docs/plugins.md``.

Expressions are integer indices into the run's ``expressions`` tuple. The "opposite" of an
expression is the other one when there are two expressions and a uniformly random other
expression when there are more.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from dyad.errors import ConfigError
from dyad.hookspecs import hookimpl
from dyad.schedules import infant_schedule
from dyad.validation import frozen_config, integer

__all__ = [
    "Lagged",
    "Noisy",
    "ParentPolicy",
    "Perfect",
    "PolicyContext",
    "PolicyParams",
    "Yoked",
    "dyad_register_policies",
    "is_expression_index",
    "other_expression",
]


def _distinct(expressions: tuple[str, ...]) -> tuple[str, ...]:
    if len(set(expressions)) != len(expressions):
        raise ValueError("expected distinct names")
    return expressions


@frozen_config
class PolicyContext:
    """What a policy may know about the run before it starts.

    Checked on construction: a context that cannot describe a run raises
    :class:`~dyad.errors.ConfigError` naming every bad field, so a plugin never sees one.

    Attributes
    ----------
    expressions : tuple of str
        The run's expression names, distinct and non-empty; policies work with indices into
        this tuple.
    n_steps : int
        Number of interaction timesteps in the run (Phase B length), at least 1.
    hold_length : int
        The infant's mean hold length T in timesteps (model.md §9.2), at least 1.
    """

    expressions: Annotated[
        tuple[Annotated[str, Field(min_length=1)], ...],
        Field(min_length=1),
        AfterValidator(_distinct),
    ]
    n_steps: integer(ge=1)
    hold_length: integer(ge=1)

    @property
    def n_expressions(self) -> int:
        """Number of expressions S; expression indices run from 0 to S − 1."""
        return len(self.expressions)


class PolicyParams(BaseModel):
    """Base for a policy's parameters: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ParentPolicy(ABC):
    """Base class for parent policies.

    Subclass it, set ``name``, ``description`` and ``Params``, and implement :meth:`choose`.
    The policy object is created once per run, and :meth:`choose` is then called directly once
    per timestep (no hook call in the loop, which would cost about 40 times as much).

    Parameters
    ----------
    params : pydantic.BaseModel or mapping or None
        The policy's parameters: an instance of ``Params``, or a mapping (None for no keys)
        validated into one, so that a wrong key or value is a one-line error before the run.
    context : PolicyContext
        What the policy may know about the run before it starts.
    rng : numpy.random.Generator
        The parent's own random generator, derived from the run's seed: the policy's only
        source of randomness, so that a run is reproducible from its seed.

    Attributes
    ----------
    name : str
        The name scenarios use (``policy = "noisy"``); unique among registered policies.
    description : str
        One line for ``dyad plugins list`` and reports.
    Params : type of pydantic.BaseModel
        The parameters' model; subclass :class:`PolicyParams` so that unknown keys are errors.
    lookback : int
        How many infant timesteps before t = 0 :meth:`choose` may look at (0 by default);
        override it with a class attribute or a property computed from the parameters.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    Params: ClassVar[type[BaseModel]] = PolicyParams
    lookback: int = 0

    def __init__(
        self,
        params: BaseModel | Mapping[str, Any] | None,
        context: PolicyContext,
        rng: np.random.Generator,
    ) -> None:
        if not isinstance(params, self.Params):
            params = self.Params.model_validate(dict(params or {}))
        self.params = params
        self.context = context
        self.rng = rng
        self.setup()

    def setup(self) -> None:  # noqa: B027  (an optional hook: most policies need nothing)
        """Prepare the policy once ``params``, ``context`` and ``rng`` are set (default: nothing).

        Override it, rather than ``__init__``, to precompute what :meth:`choose` reads and to
        check parameters against the run (raise :class:`dyad.errors.ConfigError` for an
        impossible combination).
        """

    @abstractmethod
    def choose(self, t: int, infant_history: np.ndarray) -> int:
        """Return the parent's expression index at timestep ``t``.

        Called once per timestep with t = 0, 1, 2, …

        Parameters
        ----------
        t : int
            The timestep, from 0.
        infant_history : (lookback + t + 1,) int ndarray
            The infant's expression indices (or any longer prefix ending at ``t``):
            ``infant_history[-1]`` is its expression at ``t``, earlier entries are earlier
            timesteps, pre-rolled by ``lookback`` steps before t = 0. Read only: the array is
            shared, so a policy must not modify it.

        Returns
        -------
        int
            An index into ``context.expressions``; anything else (a bool, a float, a string)
            is refused by the caller rather than coerced, see :func:`is_expression_index`.
        """

    def __repr__(self) -> str:
        values = ", ".join(f"{k}={v!r}" for k, v in self.params.model_dump().items())
        return f"{type(self).__name__}({values})"


def is_expression_index(choice: object, n_expressions: int) -> bool:
    """Tell whether a policy's ``choice`` is a valid expression index.

    ``int()`` would turn ``"1"`` or ``1.9`` into an index silently; a policy returning them
    has a bug that must not become a result.

    Parameters
    ----------
    choice : object
        What a policy's :meth:`ParentPolicy.choose` returned.
    n_expressions : int
        S, the number of expressions in the run.

    Returns
    -------
    bool
        True for a real integer (``int`` or a numpy integer, not ``bool``) in ``range(S)``.
    """
    return (type(choice) is int or isinstance(choice, np.integer)) and (0 <= choice < n_expressions)


def other_expression(expression: int, n_expressions: int, rng: np.random.Generator) -> int:
    """Draw a uniformly random expression index other than ``expression``.

    With two expressions (S = 2) this is always the other one; with more, the noisy parent's
    "opposite" is uniform over the rest (model.md §9.4).

    Parameters
    ----------
    expression : int
        The expression index to avoid.
    n_expressions : int
        S, the number of expressions; at least 2.
    rng : numpy.random.Generator
        The parent's random generator (one draw).

    Returns
    -------
    int
        An index in ``range(S)`` other than ``expression``.
    """
    return (int(expression) + int(rng.integers(1, n_expressions))) % n_expressions


class Perfect(ParentPolicy):
    """Simulation 1: the parent shows the infant's current expression (c = 1)."""

    name = "perfect"
    description = "Perfect mimicry: shows the infant's current expression (v_t = m_t)."

    def choose(self, t: int, infant_history: np.ndarray) -> int:
        """Return the infant's current expression."""
        return int(infant_history[-1])


NoiseMode = Literal["timestep", "hold", "exact"]


class Noisy(ParentPolicy):
    """Simulation 2: the parent shows the opposite expression with probability ``q``.

    Modes (model.md §9.4):

    - ``"timestep"``: each timestep flips independently with probability q;
    - ``"hold"``: whole infant holds flip: at t = 0 and whenever the infant's expression
      changes, the parent decides (probability q) to show a different expression for the
      whole hold (a parent that shares the infant with others also decides anew when it comes
      back after an absence);
    - ``"exact"``: exactly round(q · n_steps) timesteps flip (Python's round, half to even),
      chosen by a random permutation at construction; lower variance than ``"timestep"``.

    With more than two expressions a flipped timestep (or hold) shows a uniformly random other
    expression. ``"timestep"`` and ``"exact"`` draw a block of ``n_steps`` decisions at
    construction; a run longer than ``n_steps`` draws a fresh block for each further
    ``n_steps`` timesteps (so ``"exact"`` flips exactly round(q · n_steps) per block). A parent
    that is present only on some timesteps uses the decisions of those timesteps.
    """

    name = "noisy"
    description = (
        "Noisy mimicry: shows a different expression than the infant's with probability q "
        "(per timestep, per infant hold, or an exact fraction of timesteps)."
    )

    class Params(PolicyParams):
        """Parameters of ``noisy`` (a parent's ``params`` table in a scenario)."""

        q: float = Field(
            0.1,
            ge=0.0,
            le=1.0,
            description="probability (or, in exact mode, fraction) of showing the opposite "
            "expression",
        )
        mode: NoiseMode = Field(
            "timestep",
            description="timestep: independent flips; hold: flip whole infant holds; "
            "exact: exactly round(q*n_steps) flipped timesteps",
        )

    def setup(self) -> None:
        """Check ``q`` against the run and draw the first block of flips."""
        context = self.context
        self._n_expressions = context.n_expressions
        self._q = float(self.params.q)
        self._mode = self.params.mode
        if self._n_expressions < 2 and self._q > 0:
            raise ConfigError(f"q: expected 0 when the run has a single expression, got {self._q}")
        # shift s means "show (m + s) mod S": 0 is congruent, 1..S-1 another expression.
        self._block_length = context.n_steps
        self._block_start = 0
        self._shifts: list[int] = []
        self._hold_shift = 0
        self._last_t = -2
        if self._mode != "hold":
            self._shifts = self._draw_block()

    def _draw_block(self) -> list[int]:
        """Per-timestep shifts for the next ``n_steps`` timesteps (vectorised draw)."""
        n, s = self._block_length, self._n_expressions
        if s < 2:
            return [0] * n
        if self._mode == "timestep":
            flips = self.rng.random(n) < self._q
            shifts = np.where(flips, self.rng.integers(1, s, size=n), 0)
        else:  # exact
            n_flipped = round(self._q * n)
            shifts = np.zeros(n, dtype=np.int64)
            flipped = self.rng.permutation(n)[:n_flipped]
            shifts[flipped] = self.rng.integers(1, s, size=n_flipped)
        return shifts.tolist()

    def choose(self, t: int, infant_history: np.ndarray) -> int:
        """Return the infant's expression, or another one where this timestep (or hold) flips.

        Raises
        ------
        ValueError
            If ``t`` is earlier than the block of decisions already drawn: the decisions are
            drawn ahead in blocks, so timesteps must come in increasing order.
        """
        expression = int(infant_history[-1])
        if self._mode == "hold":
            # a new decision at t = 0, when the infant changes expression, and when the parent
            # comes back after timesteps spent with another parent (it missed the hold start)
            if t != self._last_t + 1 or expression != infant_history[-2]:
                self._hold_shift = (
                    int(self.rng.integers(1, self._n_expressions))
                    if self.rng.random() < self._q
                    else 0
                )
            self._last_t = t
            return (expression + self._hold_shift) % self._n_expressions
        i = t - self._block_start
        if i < 0:
            raise ValueError(
                f"noisy: timesteps must be chosen in increasing order; got t={t} after "
                f"t>={self._block_start}"
            )
        while i >= self._block_length:  # past this block: draw the next one(s)
            self._block_start += self._block_length
            self._shifts = self._draw_block()
            i -= self._block_length
        return (expression + self._shifts[i]) % self._n_expressions


class Lagged(ParentPolicy):
    """Simulation 3: the parent copies the infant ``lag`` timesteps late, v_t = m_{t−L}.

    ``lookback`` equals the lag, so the infant's schedule is pre-rolled L steps before t = 0
    and no "neutral" expression is needed (model.md §9.5).
    """

    name = "lagged"
    description = "Lagged mimicry: copies the infant's expression from lag timesteps ago."

    class Params(PolicyParams):
        """Parameters of ``lagged`` (a parent's ``params`` table in a scenario)."""

        lag: int = Field(
            1,
            ge=0,
            le=1_000_000,
            description="L: timesteps between the infant showing an expression and the "
            "parent copying it",
        )

    def setup(self) -> None:
        """Point at the infant's expression ``lag`` timesteps back: history index -1 - lag."""
        self._index = -1 - int(self.params.lag)

    @property
    def lookback(self) -> int:
        """Infant timesteps needed before t = 0: the lag."""
        return int(self.params.lag)

    def choose(self, t: int, infant_history: np.ndarray) -> int:
        """Return the infant's expression ``lag`` timesteps ago."""
        return int(infant_history[self._index])


class Yoked(ParentPolicy):
    """The contingency control: the parent's expressions do not depend on the infant.

    A yoked control, as in studies of infants' contingency learning: the parent shows the
    expressions that the infant of another dyad would make, on a schedule of her own drawn
    from her random generator with the infant's hold length. The infant sees every
    expression as often, for holds as long, as with a mimicking parent; only the pairing of
    what it sees with what it does is gone (c ≈ 0.5 with two expressions). Mirror neurons
    that still develop are what a mirror layer makes of chance pairings.

    Only schedules with random hold lengths are offered: another infant on the alternating
    schedule would change expression in lockstep with this one, which is a lagged parent.
    A run longer than ``n_steps`` (a live view stepped on) continues with a fresh schedule
    for each further ``n_steps`` timesteps.
    """

    name = "yoked"
    description = (
        "Yoked control: shows expressions on a schedule of her own, with the infant's hold "
        "statistics but independent of what the infant does."
    )

    class Params(PolicyParams):
        """Parameters of ``yoked`` (a parent's ``params`` table in a scenario)."""

        schedule: Literal["uniform", "random"] = Field(
            "uniform",
            description="the parent's own hold lengths: uniform in [T/2, 3T/2], or random "
            "(geometric, mean T)",
        )
        hold_length: int | None = Field(
            None,
            ge=1,
            le=1_000_000,
            description="T, her mean hold length in timesteps (default: the infant's)",
        )

    def setup(self) -> None:
        """Draw the first ``n_steps`` timesteps of the parent's own schedule."""
        self._hold = self.params.hold_length or self.context.hold_length
        self._block_start = 0
        self._shown = self._draw_block()

    def _draw_block(self) -> list[int]:
        """Draw the parent's expressions for the next ``n_steps`` timesteps."""
        context = self.context
        if context.n_expressions < 2:
            return [0] * context.n_steps
        kind = self.params.schedule
        return infant_schedule(
            kind, context.n_expressions, self._hold, context.n_steps, self.rng
        ).tolist()

    def choose(self, t: int, infant_history: np.ndarray) -> int:
        """Return the parent's own expression at ``t``, whatever the infant shows."""
        i = t - self._block_start
        if i < 0:
            raise ValueError(
                f"yoked: timesteps must be chosen in increasing order; got t={t} after "
                f"t>={self._block_start}"
            )
        while i >= len(self._shown):  # past this block: draw the next one(s)
            self._block_start += len(self._shown)
            i -= len(self._shown)
            self._shown = self._draw_block()
        return self._shown[i]


@hookimpl
def dyad_register_policies(register) -> None:
    """Register the built-in policies exactly as a third-party plugin would."""
    register(Perfect)
    register(Noisy)
    register(Lagged)
    register(Yoked)
