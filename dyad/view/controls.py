"""The live view's model parameters: the scenario's policies and their parameters as controls.

SolaraViz shows one control per entry of ``model_params`` and passes every value, by its key,
to the model class on Reset. Keys here are dotted scenario fields (``parent.policy``,
``parent.params.q``), which :class:`~dyad.model.DyadModel` accepts as keyword arguments. Every
registered policy's parameters get a control; :class:`ViewModel` passes on only those of the
policy selected for each parent, so switching policy never sends a parameter it does not know.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dyad.model import DyadModel

#: largest value an integer policy parameter's slider offers (e.g. the lag, in timesteps)
MAX_INT_SLIDER = 50


class ViewModel(DyadModel):
    """:class:`DyadModel` as the page builds it on Reset.

    Controls exist for every registered policy's parameters; here the parameters of the
    policies not selected are dropped before the scenario is validated.
    """

    def __init__(self, scenario_file: str | Path | None = None, **fields: Any) -> None:
        policies = {
            key.removesuffix(".policy"): value
            for key, value in fields.items()
            if key.endswith(".policy")
        }
        registry = _registry(fields.get("plugin_dirs"))
        kept: dict[str, Any] = {}
        tables: dict[str, dict[str, Any]] = {parent: {} for parent in policies}
        for key, value in fields.items():
            parent, sep, param = key.partition(".params.")
            if sep and parent in policies:
                # the selected policy's parameters replace the file's whole table, so a
                # parameter of the policy the file named never reaches another policy
                if param in registry.get(policies[parent]).params_class.model_fields:
                    tables[parent][param] = value
                continue
            kept[key] = value
        for parent, table in tables.items():
            kept[f"{parent}.params"] = table
        super().__init__(scenario_file=scenario_file, **kept)


def _registry(plugin_dirs: Sequence[str | Path] | None):
    from dyad.plugins import load_registry, plugin_folders

    return load_registry(plugin_dirs=plugin_folders(plugin_dirs))


def model_params(
    scenario,
    scenario_file: str | Path | Mapping[str, Any],
    seed: int,
    fixed: Mapping[str, Any] | None = None,
    plugin_dirs: Sequence[str | Path] | None = None,
    probe_every: int = 50,
) -> dict[str, Any]:
    """SolaraViz ``model_params`` for a validated scenario.

    Fixed entries: the scenario file (or dict, kept as given), the overrides given on the
    command line (``fixed``) and the plugin folders. Controls: the seed, the run length, the
    probe interval (starting at ``probe_every``), and per parent its policy and every
    registered policy's parameters (labelled ``q (noisy)``), starting from the scenario's
    values.
    """
    registry = _registry(plugin_dirs)
    source = scenario_file if isinstance(scenario_file, Mapping) else str(scenario_file)
    params: dict[str, Any] = {"scenario_file": source}
    if plugin_dirs is not None:
        params["plugin_dirs"] = [str(d) for d in plugin_dirs]
    params.update(fixed or {})
    params["seed"] = {"type": "SliderInt", "value": seed, "label": "seed", "min": 0, "max": 99}
    steps = scenario.run.steps
    params["run.steps"] = {
        "type": "SliderInt",
        "value": steps,
        "label": "timesteps",
        "min": 100,
        "max": max(10_000, steps),
        "step": 100,
    }
    params["probe_every"] = {
        "type": "SliderInt",
        "value": probe_every,
        "label": "probe classes every (timesteps)",
        "min": min(10, probe_every),
        "max": max(500, probe_every),
        "step": 10,
    }
    for index, parent in enumerate(scenario.all_parents):
        path = scenario.parent_path(index)
        who = "" if len(scenario.all_parents) == 1 else f"{parent.name}: "
        params[f"{path}.policy"] = {
            "type": "Select",
            "value": parent.policy,
            "values": registry.names(),
            "label": f"{who}policy",
        }
        for entry in registry.entries():
            given = parent.params if entry.name == parent.policy else {}
            for name, field in entry.params_class.model_fields.items():
                control = param_control(field, given.get(name, field.default))
                if control is not None:
                    control["label"] = f"{who}{name} ({entry.name})"
                    params[f"{path}.params.{name}"] = control
    return params


def param_control(field, value: Any) -> dict[str, Any] | None:
    """Return the SolaraViz control for one pydantic field, or None for types without one."""
    annotation = field.annotation
    if typing.get_origin(annotation) is typing.Literal:
        return {"type": "Select", "value": value, "values": list(typing.get_args(annotation))}
    if annotation is bool:
        return {"type": "Checkbox", "value": bool(value)}
    low, high = _bounds(field)
    if annotation is int:
        low = 0 if low is None else int(low)
        high = MAX_INT_SLIDER if high is None else int(min(high, MAX_INT_SLIDER))
        return {"type": "SliderInt", "value": int(value), "min": low, "max": high, "step": 1}
    if annotation is float:
        low = 0.0 if low is None else float(low)
        high = 1.0 if high is None else float(high)
        return {
            "type": "SliderFloat",
            "value": float(value),
            "min": low,
            "max": high,
            "step": (high - low) / 100,
        }
    if annotation is str or (
        isinstance(annotation, types.UnionType) and str in typing.get_args(annotation)
    ):
        return {"type": "InputText", "value": "" if value is None else str(value)}
    return None


def _bounds(field) -> tuple[float | None, float | None]:
    """Return the inclusive bounds a pydantic field declares (``ge``/``gt``, ``le``/``lt``)."""
    low = high = None
    for rule in field.metadata:
        low = getattr(rule, "ge", None) if getattr(rule, "ge", None) is not None else low
        low = getattr(rule, "gt", None) if getattr(rule, "gt", None) is not None else low
        high = getattr(rule, "le", None) if getattr(rule, "le", None) is not None else high
        high = getattr(rule, "lt", None) if getattr(rule, "lt", None) is not None else high
    return low, high
