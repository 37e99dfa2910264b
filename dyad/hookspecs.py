"""Plugin hook specifications for dyad (pluggy project name ``"dyad"``).

A plugin is a module (or any object) with functions marked ``@hookimpl`` whose names match
the specifications below. dyad's own parent policies are registered through the very same
hook (see :mod:`dyad.policies`), so built-ins and third-party policies are treated alike.

Hooks are called once, when the policy registry is built (:func:`dyad.plugins.load_registry`);
the per-timestep loop then calls the chosen policy object directly, because a pluggy hook call
costs about 40 times a plain method call.
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

PROJECT_NAME = "dyad"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def dyad_register_policies(register: Callable[[type], None]) -> None:
    """Register parent-policy classes by calling ``register(policy_class)`` once per class.

    A policy class has ``name: str``, ``description: str``, ``Params`` (a pydantic model with
    ``extra="forbid"`` whose fields all have defaults), an optional ``lookback: int``,
    ``__init__(self, params, context, rng)`` and ``choose(self, t, infant_history) -> int``.
    Subclass :class:`dyad.policies.ParentPolicy` to get sensible defaults.
    """
