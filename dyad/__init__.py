"""dyad: how mirror neurons for facial expressions develop through infant-parent interaction.

The names a policy plugin needs are importable from here (``from dyad import hookimpl,
ParentPolicy, PolicyContext, PolicyParams``); they load lazily so ``dyad --help`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: public name -> module that defines it (imported on first access)
_LAZY = {
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
