"""``dyad plugins list``: every parent policy, where it comes from and its parameters."""

from __future__ import annotations

import json
import typing
import warnings
from pathlib import Path
from typing import Any

import click

from dyad.commands.options import plugin_paths, plugins_dir_option

BOUND_KEYS = ("ge", "gt", "le", "lt", "multiple_of", "min_length", "max_length")


@click.group()
def plugins() -> None:
    """Parent-policy plugins: what is installed or found in plugin folders."""


@plugins.command("list")
@plugins_dir_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_policies(plugins_dirs: tuple[Path, ...], as_json: bool) -> None:
    """List every parent policy: its source, code hash, description and parameters.

    Broken plugins are reported as one warning line each on stderr and the others are still
    listed (``simulate`` and ``sweep`` refuse to run while any plugin is broken).
    """
    from dyad.plugins import DyadPluginWarning, load_registry

    dirs = plugin_paths(plugins_dirs)
    with warnings.catch_warnings():
        # shown below, once per problem, also when the registry comes from the cache
        warnings.simplefilter("ignore", DyadPluginWarning)
        registry = load_registry(plugin_dirs=dirs)
    for problem in registry.problems:
        click.echo(f"Warning: {problem}", err=True)

    policies = [
        {
            "name": entry.name,
            "source": entry.source,
            "sha256": entry.sha256,
            "description": entry.description,
            "parameters": describe_parameters(entry.params_class),
        }
        for entry in registry
    ]
    if as_json:
        document = {
            "policies": policies,
            "plugin_dirs": [str(d) for d in registry.plugin_dirs],
            "warnings": list(registry.problems),
        }
        click.echo(json.dumps(document, indent=2))
        return
    click.echo(format_policies(policies, registry.plugin_dirs))


def describe_parameters(params_class: type) -> list[dict[str, Any]]:
    """One dict per field of a policy's ``Params``: name, type, default, bounds, description."""
    from pydantic_core import to_jsonable_python

    rows = []
    for name, field in params_class.model_fields.items():
        bounds = {}
        for constraint in field.metadata:
            for key in BOUND_KEYS:
                value = getattr(constraint, key, None)
                if value is not None:
                    bounds[key] = value
        row: dict[str, Any] = {
            "name": name,
            "type": type_name(field.annotation),
            "default": to_jsonable_python(
                field.get_default(call_default_factory=True), fallback=repr
            ),
            "bounds": to_jsonable_python(bounds, fallback=repr),
            "description": field.description or "",
        }
        if typing.get_origin(field.annotation) is typing.Literal:
            choices = list(typing.get_args(field.annotation))
            row["type"] = " | ".join(sorted({type(choice).__name__ for choice in choices}))
            row["choices"] = choices
        rows.append(row)
    return rows


def type_name(annotation: Any) -> str:
    """Return a short, readable name of a field's type.

    For example ``float``, ``list[int]``, ``int | None``.
    """
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def bounds_text(name: str, bounds: dict[str, Any]) -> str:
    """``0 <= q <= 1``-style text for a field's numeric bounds (empty if it has none)."""
    lower = (
        f"{bounds['ge']} <= " if "ge" in bounds else f"{bounds['gt']} < " if "gt" in bounds else ""
    )
    upper = (
        f" <= {bounds['le']}" if "le" in bounds else f" < {bounds['lt']}" if "lt" in bounds else ""
    )
    parts = [f"{lower}{name}{upper}"] if lower or upper else []
    if "multiple_of" in bounds:
        parts.append(f"multiple of {bounds['multiple_of']}")
    if "min_length" in bounds or "max_length" in bounds:
        parts.append(f"length {bounds.get('min_length', 0)}..{bounds.get('max_length', 'any')}")
    return ", ".join(parts)


def format_policies(policies: list[dict[str, Any]], plugin_dirs: tuple[Path, ...]) -> str:
    """Return the human-readable listing: one block per policy, one signature line per parameter."""
    blocks = []
    for policy in policies:
        lines = [f"{policy['name']}  ({policy['source']})  sha256 {policy['sha256'][:12]}"]
        if policy["description"]:
            lines.append(click.wrap_text(policy["description"], 96, "    ", "    "))
        if not policy["parameters"]:
            lines.append("    no parameters")
        for param in policy["parameters"]:
            kind = param["type"]
            if "choices" in param:
                kind = " | ".join(json.dumps(choice) for choice in param["choices"])
            signature = f"{param['name']}: {kind} = {json.dumps(param['default'])}"
            limits = bounds_text(param["name"], param["bounds"])
            lines.append(f"    {signature}" + (f"   ({limits})" if limits else ""))
            if param["description"]:
                lines.append(click.wrap_text(param["description"], 96, "        ", "        "))
        blocks.append("\n".join(lines))
    folders = ", ".join(str(d) for d in plugin_dirs) or "none"
    blocks.append(f"plugin paths loaded: {folders}")
    return "\n\n".join(blocks)
