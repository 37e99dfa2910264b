"""A tiny scenario and plugin sources shared by the reliability tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

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

[vision.faces]
supersample = 1

[vision.visnet]
layer_side = 8
fan_in = [30, 20, 20, 20]
l1_fan_in = [20, 7, 3]
fan_in_radius = [4.0, 2.0, 3.0, 3.0]
inhibition_radius = [1.0, 1.0, 1.5, 2.0]
inhibition_width = [5, 5, 5, 7]
sparseness = [0.9, 0.9, 0.85, 0.85]
epochs = [1, 1, 1, 1]

[vision.visnet.v1]
image_size = 32
wavelengths = [2.0, 4.0, 8.0]

[motor]
units_per_expression = 8

[mirror]
n_neurons = 16

[output]
mirror_rates = false
{sweep}
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
    path.write_text(TINY.format(policy=policy, steps=steps, top=top, sweep=sweep))
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
