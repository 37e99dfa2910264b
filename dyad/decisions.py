"""A parent's decision: its policy's choice at one timestep, checked.

The live model's :class:`dyad.agents.Parent` and the batched run path (:mod:`dyad.batch`, which
plays every parent's decisions before the mirror layers run) both call :func:`checked_choice`,
so a policy fails the same way in both. Kept apart from the agents so that the run path does
not import Mesa.
"""

from __future__ import annotations

import numpy as np

from dyad.errors import PluginError
from dyad.policies import is_expression_index


def checked_choice(policy, t: int, history: np.ndarray, n_expressions: int, who: str) -> int:
    """Return ``policy.choose(t, history)``, checked: a valid expression index, or a PluginError.

    ``who`` names the parent and its policy in the error (``"parent 'mum': policy 'x' (...)"``).
    """
    try:
        choice = policy.choose(t, history)
    except (Exception, SystemExit) as exc:
        message = " ".join(str(exc).split())
        raise PluginError(f"{who} failed at timestep {t}: {type(exc).__name__}: {message}") from exc
    if type(choice) is int and 0 <= choice < n_expressions:  # the common case, checked first
        return choice
    if not is_expression_index(choice, n_expressions):
        raise PluginError(
            f"{who} chose {_short(choice)} ({type(choice).__name__}) at timestep {t}; choose "
            f"must return an int expression index below {n_expressions}"
        )
    return int(choice)


def _short(value: object) -> str:
    """``repr(value)`` cut to one short line."""
    text = " ".join(repr(value).split())
    return text if len(text) <= 60 else text[:57] + "..."
