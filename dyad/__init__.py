"""dyad: how mirror neurons for facial expressions develop through infant-parent interaction.

The command line's verbs are functions here (:mod:`dyad.api`)::

    import dyad
    run = dyad.simulate("perfect", overrides={"run.steps": 500})
    run.neurons, run.summary, run.save("results/perfect")
    dyad.load_run(folder), dyad.sweep(path), dyad.load_sweep(folder), dyad.report(folders),
    dyad.pretrain(...), dyad.live_view(scenario)  # the live page, in a notebook

with their result types (:class:`Run`, :class:`Sweep`), the error classes, and the names a
policy plugin needs (``from dyad import hookimpl, ParentPolicy, PolicyContext,
PolicyParams``). Every name loads on first use, so ``import dyad`` and ``dyad --help`` stay
fast (numpy, pandas, Mesa and numba are imported only when a function needs them).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: public name -> module that defines it (imported on first access)
_LAZY = {
    # the Python API: the CLI's verbs
    "simulate": "dyad.api",
    "load_run": "dyad.api",
    "sweep": "dyad.api",
    "load_sweep": "dyad.api",
    "report": "dyad.api",
    "pretrain": "dyad.api",
    "live_view": "dyad.api",
    "load_scenario": "dyad.api",
    # what they return and take
    "Run": "dyad.store",
    "Sweep": "dyad.sweeps",
    "Scenario": "dyad.config",
    # what they raise on bad input
    "DyadError": "dyad.errors",
    "ConfigError": "dyad.errors",
    "PluginError": "dyad.errors",
    "ResultsError": "dyad.errors",
    "ResourceError": "dyad.errors",
    # for policy plugins
    "hookimpl": "dyad.hookspecs",
    "ParentPolicy": "dyad.policies",
    "PolicyContext": "dyad.policies",
    "PolicyParams": "dyad.policies",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'dyad' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
