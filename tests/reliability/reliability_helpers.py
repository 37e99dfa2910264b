"""A tiny scenario and plugin sources shared by the reliability tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

from conftest import TINY_NETWORK_TOML

# 32 px faces, an 8x8 VisNet trained 1 epoch per layer, 16 mirror neurons: about a second
TINY = """
name = "tiny"
seed = 7
{top}

[run]
steps = {steps}
test_trials = 8

[infant]
hold_length = 5

[parent]
policy = "{policy}"

[vision]
preset = "small"
n_train_transforms = 3
n_test_transforms = 8
bank_size = 6

{network}{sweep}
"""


def write_tiny(
    folder: Path,
    *,
    policy: str = "perfect",
    steps: int = 40,
    top: str = "",
    sweep: str = "",
    name: str = "tiny.toml",
) -> Path:
    """Write the tiny scenario (optionally with top-level keys and a [sweep] table)."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        TINY.format(policy=policy, steps=steps, top=top, sweep=sweep, network=TINY_NETWORK_TOML)
    )
    return path


def policy_plugin(
    policy_name: str,
    choose: str = "return int(infant_history[-1])",
    init: str = "pass",
    extra: str = "",
    hook: str = "register(Policy)",
) -> str:
    """Source of a single-policy plugin whose choose/__init__/hook bodies are given."""
    return textwrap.dedent(
        """
        import sys

        import numpy as np
        from pydantic import Field, model_validator

        from dyad import ParentPolicy, PolicyParams, hookimpl
        from dyad.errors import ConfigError


        class Policy(ParentPolicy):
            name = "{name}"
            description = "a test policy"

            def __init__(self, params, context, rng):
                super().__init__(params, context, rng)
                {init}

            def choose(self, t, infant_history):
                {choose}

        {extra}

        @hookimpl
        def dyad_register_policies(register):
            {hook}
        """
    ).format(name=policy_name, choose=choose, init=init, extra=textwrap.dedent(extra), hook=hook)
