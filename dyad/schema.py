"""The scenario format, described from the models that validate it: JSON Schema and Markdown.

:func:`json_schema` is the pydantic :class:`~dyad.config.Scenario`'s JSON Schema with a
description on every field: the ``description=`` of pydantic fields, the ``Attributes``
section (or ````name``: text``) entries of the docstrings of the brain's dataclass configs, and
:data:`FIELD_NOTES` for the few fields that have neither. :func:`markdown` renders the same
schema as ``docs/scenarios.md``, one table per scenario table. Both are printed by
``dyad schema [--markdown]``; the docs page and ``scenarios/scenario.schema.json`` are generated
files, checked by the tests.
"""

from __future__ import annotations

import inspect
import json
import re
from typing import Any

#: JSON Schema dialect of :func:`json_schema`
DIALECT = "https://json-schema.org/draft/2020-12/schema"

#: meanings of fields whose model gives none, keyed ``ModelName.field``
FIELD_NOTES: dict[str, str] = {
    "Scenario.name": "the scenario's name (a file's defaults to the file name without .toml); "
    "names the results folder",
    "Scenario.description": "one line saying what the scenario is for; shown in reports",
    "Scenario.run": "run length, logging and the test phases",
    "Scenario.infant": "the infant's expressions and how it switches between them",
    "Scenario.parent": "the one parent (give [parent] or [[parents]], not both; default: one "
    "perfect mimic)",
    "Scenario.parents": "several parents, one [[parents]] table each, sharing the infant's "
    "time as [sharing] says",
    "Scenario.sharing": "how several parents share the infant's time",
    "Scenario.vision": "the infant's visual system (VisNet) and its pre-training on the "
    "parents' faces",
    "Scenario.motor": "the motor module: the binary code of the infant's own expression",
    "Scenario.mirror": "the intermediate (mirror) layer fed by vision and the motor module",
    "Scenario.output": "what a run saves",
    "Scenario.sweep": "the grid `dyad sweep` runs (seeds per point and the parameter axes)",
    "InfantSection.expressions": "the expressions the infant makes and the parents show "
    "(names known to the face model: happy, sad, surprise, anger, fear, disgust, neutral)",
    "ParentSection.name": "the parent's name in tables and figures (distinct per parent)",
    "SharingSection.mode": "alternate: parents take turns in blocks of block_length timesteps; "
    "random: each block goes to a parent drawn at random",
    "FacesSection.background": "grey level (0–255) behind the face",
    "FacesSection.supersample": "faces are drawn this many times larger, then averaged down "
    "(anti-aliasing)",
    "VisionSection.preset": "classic: VisNet's published sizes (128-px faces, 32×32 layers); "
    "small: 64-px faces and 16×16 layers, for quick tests; [vision.visnet] keys override it",
    "VisionSection.n_train_transforms": "random transforms per expression and parent that "
    "VisNet is pre-trained on",
    "VisionSection.n_test_transforms": "held-out transforms per expression and parent for the "
    "test phases",
    "VisionSection.faces": "how the parents' faces are drawn",
    "VisionSection.visnet": "VisNet's sizes and learning constants (defaults: the classic "
    "values, or those of preset = small)",
    "OutputSection.formats": "file formats of the figures",
    "SweepSection.grid": "dotted scenario field → list of values, e.g. "
    '"parent.params.q" = [0.0, 0.1, 0.2]; runs every combination',
    "VisNetConfig.v1": "the Gabor filter bank feeding layer 1",
}

#: the one table whose TOML header is not ``[<its dotted path>]``
PARENT_HEADER = "[parent] or [[parents]]"
#: where a default scenario holds the values the defaults column shows, for the table whose
#: values are not at its own path (a scenario's ``parent`` is None until it has one)
PARENT_DEFAULTS = "all_parents.0"


def json_schema() -> dict[str, Any]:
    """Return the scenario format as a JSON Schema (2020-12), every field described."""
    from dyad.config import Scenario

    schema = Scenario.model_json_schema()
    classes = _model_classes()
    for name, definition in [("Scenario", schema), *schema.get("$defs", {}).items()]:
        cls = classes.get(name)
        documented = _docstring_fields(cls) if cls is not None else {}
        for field, prop in definition.get("properties", {}).items():
            prop.pop("title", None)
            if not prop.get("description"):
                text = (documented.get(field) or "").rstrip(".") or FIELD_NOTES.get(
                    f"{name}.{field}"
                )
                if text:
                    prop["description"] = text
            if "description" in prop:
                prop["description"] = _plain(prop["description"])
        if "description" in definition:
            definition["description"] = _plain(_summary(definition["description"]))
    _add_factory_defaults(schema, classes)
    # a file may leave out its name: it defaults to the file's name (dyad.config.load_scenario)
    schema["required"] = [f for f in schema.get("required", []) if f != "name"]
    if not schema["required"]:
        del schema["required"]
    schema["properties"]["parent"]["description"] += ". " + _policy_note()
    return {
        "$schema": DIALECT,
        "title": "dyad scenario",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def undocumented_fields(schema: dict[str, Any] | None = None) -> list[str]:
    """``Model.field`` of every field the schema leaves without a description."""
    schema = json_schema() if schema is None else schema
    missing = []
    for name, definition in [("Scenario", schema), *schema.get("$defs", {}).items()]:
        for field, prop in definition.get("properties", {}).items():
            if not prop.get("description"):
                missing.append(f"{name}.{field}")
    return missing


def markdown() -> str:
    """``docs/scenarios.md``: every field with its type, default, range and meaning."""
    schema = json_schema()
    definitions = schema["$defs"]
    lines = [
        "# Scenario reference",
        "",
        "<!-- Generated by `uv run dyad schema --markdown > docs/scenarios.md`; do not edit. -->",
        "",
        "A scenario is a TOML file (see `scenarios/`). Every key below can also be set on the "
        "command line with `--set table.key=value` (e.g. `--set mirror.n_neurons=64`). Unknown "
        "keys are errors. `dyad schema` prints the same format as JSON Schema for editors: the "
        "shipped scenarios start with `#:schema ./scenario.schema.json`, which taplo-based "
        "editors (e.g. VS Code's Even Better TOML) use to complete and check fields.",
        "",
        "Ranges are those the validation enforces; a dash means any value of the type (the "
        "meaning may say more).",
        "",
    ]
    for name, path in _tables(schema):
        definition = schema if name == "Scenario" else definitions[name]
        header = PARENT_HEADER if path == "parent" else f"[{path}]" if path else ""
        defaults = _defaults_at(PARENT_DEFAULTS if path == "parent" else path)
        title = "Top level" if not header else f"`{header}`"
        lines += [f"## {title}", ""]
        if name != "Scenario" and definition.get("description"):
            lines += [definition["description"], ""]
        lines += ["| field | type | default | range | meaning |", "|---|---|---|---|---|"]
        for field, prop in definition.get("properties", {}).items():
            cells = [
                f"`{field}`",
                _type(prop, definitions),
                _default(prop, defaults.get(field, _SCHEMA)),
                _range(prop),
                prop.get("description", ""),
            ]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        lines.append("")
        if name == "ParentSection":
            lines += _policy_tables()
    return "\n".join(lines).rstrip() + "\n"


def _tables(schema: dict[str, Any]) -> list[tuple[str, str]]:
    """Return (schema name, dotted path) of every scenario table, depth first in field order.

    The order a scenario file reads in: the top level, ``[run]``, ``[infant]``, ``[parent]``,
    …, ``[vision]`` with ``[vision.faces]`` and ``[vision.visnet]`` inside it, …, ``[sweep]``.
    A table several fields share (``parent`` and ``parents``) is listed at its first.
    """
    definitions = schema.get("$defs", {})
    found: dict[str, str] = {}

    def visit(name: str, path: str) -> None:
        found[name] = path
        definition = schema if name == "Scenario" else definitions[name]
        for field, prop in definition.get("properties", {}).items():
            ref = _table_ref(prop)
            if ref is not None and ref not in found:
                visit(ref, f"{path}.{field}" if path else field)

    visit("Scenario", "")
    return list(found.items())


def _table_ref(prop: dict[str, Any]) -> str | None:
    """Return the schema name of the table a field holds (alone, optional, in a list), if any."""
    for candidate in (prop, prop.get("items", {}), *prop.get("anyOf", ())):
        ref = candidate.get("$ref", "")
        if ref.startswith("#/$defs/"):
            return ref.removeprefix("#/$defs/")
    return None


# ------------------------------------------------------------------------------------------------
# Descriptions from the models


def _model_classes() -> dict[str, type]:
    """Every model class in the scenario schema by its schema name."""
    import dataclasses
    import typing

    from dyad.config import Scenario

    found: dict[str, type] = {}

    def visit(cls: type) -> None:
        if cls.__name__ in found:
            return
        found[cls.__name__] = cls
        if hasattr(cls, "model_fields"):
            annotations = [f.annotation for f in cls.model_fields.values()]
        elif dataclasses.is_dataclass(cls):
            hints = typing.get_type_hints(cls)
            annotations = [hints[f.name] for f in dataclasses.fields(cls)]
        else:
            return
        for annotation in annotations:
            for candidate in _classes_in(annotation):
                visit(candidate)

    visit(Scenario)
    return found


def _classes_in(annotation: Any) -> list[type]:
    import dataclasses
    import typing

    if isinstance(annotation, type) and (
        hasattr(annotation, "model_fields") or dataclasses.is_dataclass(annotation)
    ):
        return [annotation]
    return [c for arg in typing.get_args(annotation) for c in _classes_in(arg)]


_GOOGLE_ENTRY = re.compile(r"^(\s+)(\w+):\s*(.*)$")
_DOUBLE_TICK_ENTRY = re.compile(r"^``(\w+)``:\s*(.*)$")


def _docstring_fields(cls: type) -> dict[str, str]:
    """Field descriptions from a class docstring.

    Understands a numpy-style ``Attributes`` section (``name`` or ``name : type``, its text
    indented below), a Google-style ``Attributes:`` section (``name: text``, continuation
    lines indented further) and lines of the form ````name``: text`` (continued until the
    next such line or a blank line).
    """
    doc = inspect.getdoc(cls) or ""
    fields: dict[str, str] = {}
    lines = doc.splitlines()
    fields.update(_numpy_attributes(lines))
    if "Attributes:" in lines:
        start = lines.index("Attributes:") + 1
        current, indent = None, None
        for line in lines[start:]:
            if not line.strip():
                current = None
                continue
            match = _GOOGLE_ENTRY.match(line)
            this_indent = len(line) - len(line.lstrip())
            if match and (indent is None or this_indent == indent):
                indent = this_indent
                current = match.group(2)
                fields[current] = match.group(3).strip()
            elif current is not None and indent is not None and this_indent > indent:
                fields[current] += " " + line.strip()
            elif indent is not None and this_indent < indent:
                break
    current = None
    for line in lines:
        match = _DOUBLE_TICK_ENTRY.match(line.strip())
        if match:
            current = match.group(1)
            fields.setdefault(current, match.group(2).strip())
            if fields[current] != match.group(2).strip():
                current = None  # an Attributes: entry already describes it
        elif current is not None and line.strip():
            fields[current] += " " + line.strip()
        else:
            current = None
    return fields


_NUMPY_ENTRY = re.compile(r"^(\w+)(\s*:.*)?$")


def _numpy_attributes(lines: list[str]) -> dict[str, str]:
    """Entries of a numpy-style ``Attributes`` section (a dashed underline below the name).

    An entry is ``name`` or ``name : type`` at the section's indentation, its text the lines
    indented below it; the section ends at the next section heading or unindented text.
    """
    fields: dict[str, str] = {}
    for start in range(len(lines) - 1):
        if lines[start].strip() == "Attributes" and set(lines[start + 1].strip()) == {"-"}:
            break
    else:
        return fields
    current = None
    body = lines[start + 2 :]
    for i, line in enumerate(body):
        if not line.strip():
            continue
        if not line[0].isspace():
            heading = i + 1 < len(body) and set(body[i + 1].strip()) == {"-"}
            match = _NUMPY_ENTRY.match(line)
            if heading or not match:
                break
            current = match.group(1)
            fields[current] = ""
        elif current is not None:
            fields[current] = (fields[current] + " " + line.strip()).strip()
    return fields


def _add_factory_defaults(schema: dict[str, Any], classes: dict[str, type]) -> None:
    """Pydantic leaves ``default_factory`` defaults out of the schema; editors want them."""
    import dataclasses

    for name, definition in [("Scenario", schema), *schema.get("$defs", {}).items()]:
        cls = classes.get(name)
        if cls is None:
            continue
        if hasattr(cls, "model_fields"):
            factories = {
                field: info.default_factory
                for field, info in cls.model_fields.items()
                if info.default_factory is not None
            }
        else:
            factories = {
                f.name: f.default_factory
                for f in dataclasses.fields(cls)
                if f.default_factory is not dataclasses.MISSING
            }
        for field, factory in factories.items():
            prop = definition.get("properties", {}).get(field)
            if prop is not None and "default" not in prop:
                value = factory()
                if dataclasses.is_dataclass(value):
                    value = dataclasses.asdict(value)
                prop["default"] = json.loads(json.dumps(value, default=list))


def _summary(text: str) -> str:
    """Return the first paragraph of a docstring."""
    return " ".join(text.strip().split("\n\n")[0].split())


def _plain(text: str) -> str:
    """Docstring markup to plain text with Markdown code spans."""
    text = re.sub(r":(?:meth|class|func|attr):`~?([^`]+)`", r"`\1`", text)
    return " ".join(text.replace("``", "`").split())


# ------------------------------------------------------------------------------------------------
# Policies


def _builtin_policies() -> list[type]:
    from dyad.policies import dyad_register_policies

    policies: list[type] = []
    dyad_register_policies(register=policies.append)
    return policies


def _policy_note() -> str:
    names = ", ".join(p.name for p in _builtin_policies())
    return (
        f"A parent's params depend on its policy (built in: {names}; plugins add more, see "
        "`dyad plugins list`)"
    )


def _policy_tables() -> list[str]:
    """One table per built-in policy: the keys of ``[parent.params]``."""
    lines = [
        "### `[parent.params]` by policy",
        "",
        "The keys of a parent's `params` table depend on its `policy`. The built-in "
        "policies take these; `dyad plugins list` shows those of installed plugins.",
        "",
    ]
    for policy in _builtin_policies():
        schema = policy.Params.model_json_schema()
        lines += [f"**`{policy.name}`**: {_plain(policy.description)}", ""]
        properties = schema.get("properties", {})
        if not properties:
            lines += ["No parameters.", ""]
            continue
        lines += ["| field | type | default | range | meaning |", "|---|---|---|---|---|"]
        for field, prop in properties.items():
            cells = [
                f"`{field}`",
                _type(prop, schema.get("$defs", {})),
                _default(prop),
                _range(prop),
                _plain(prop.get("description", "")),
            ]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        lines.append("")
    return lines


# ------------------------------------------------------------------------------------------------
# Table cells

_JSON_TYPES = {
    "integer": "integer",
    "number": "number",
    "string": "string",
    "boolean": "boolean",
    "object": "table",
    "null": "none",
}


def _type(prop: dict[str, Any], definitions: dict[str, Any]) -> str:
    if "$ref" in prop:
        return "table"
    if "enum" in prop:
        return "one of " + ", ".join(
            f'`"{v}"`' if isinstance(v, str) else f"`{v}`" for v in prop["enum"]
        )
    if "const" in prop:
        value = prop["const"]
        return f'`"{value}"`' if isinstance(value, str) else f"`{value}`"
    if "anyOf" in prop or "oneOf" in prop:
        options = [_type(option, definitions) for option in prop.get("anyOf", prop.get("oneOf"))]
        return " or ".join(dict.fromkeys(options))
    kind = prop.get("type")
    if kind == "array":
        items = prop.get("items") or prop.get("prefixItems")
        if isinstance(items, list):
            inner = " or ".join(dict.fromkeys(_type(i, definitions) for i in items))
            return f"list of {inner}"
        inner = _type(items, definitions) if items else "values"
        return f"list of {inner}"
    if kind == "object" and "additionalProperties" in prop:
        values = prop["additionalProperties"]
        if isinstance(values, dict) and values:
            return f"table of {_type(values, definitions)}"
        return "table"
    return _JSON_TYPES.get(kind, "any")


#: "take the default from the schema" (no default scenario holds this table)
_SCHEMA = object()


def _defaults_at(path: str) -> dict[str, Any]:
    """Field values of the table at ``path`` in a default scenario, as JSON values."""
    import dataclasses

    from pydantic import BaseModel

    from dyad.config import Scenario

    node: Any = Scenario(name="reference")
    for part in filter(None, path.split(".")):
        node = node[int(part)] if part.isdigit() else getattr(node, part)
    if dataclasses.is_dataclass(node):
        names = [f.name for f in dataclasses.fields(node)]
    elif isinstance(node, BaseModel):
        names = list(type(node).model_fields)
    else:
        return {}
    values = {}
    for field in names:
        value = getattr(node, field)
        if dataclasses.is_dataclass(value) or isinstance(value, BaseModel):
            values[field] = {}  # a table: shown as "(table)"
        else:
            values[field] = json.loads(json.dumps(value, default=list))
    if not path:
        del values["name"]  # the reference scenario's own name, not a default
    return values


def _default(prop: dict[str, Any], value: Any = _SCHEMA) -> str:
    if value is _SCHEMA:
        if "$ref" in prop and "default" not in prop:
            return "(table)"
        if "default" not in prop:
            return "(see meaning)" if prop.get("description") else "required"
        value = prop["default"]
    if isinstance(value, dict) and not value and "$ref" in prop:
        return "(table)"
    if value is None:
        return "none"
    if isinstance(value, dict):
        return "(table)" if value else "`{}`"
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def _range(prop: dict[str, Any]) -> str:
    if "anyOf" in prop or "oneOf" in prop:
        ranges = [_range(option) for option in prop.get("anyOf", prop.get("oneOf"))]
        ranges = [r for r in ranges if r != "—"]
        return "; ".join(ranges) if ranges else "—"
    parts = []
    low = prop.get("minimum"), prop.get("exclusiveMinimum")
    high = prop.get("maximum"), prop.get("exclusiveMaximum")
    if low[0] is not None and high[0] is not None:
        parts.append(f"{_num(low[0])} to {_num(high[0])}")
    else:
        if low[0] is not None:
            parts.append(f"≥ {_num(low[0])}")
        if low[1] is not None:
            parts.append(f"> {_num(low[1])}")
        if high[0] is not None:
            parts.append(f"≤ {_num(high[0])}")
    if high[1] is not None:
        parts.append(f"< {_num(high[1])}")
    if prop.get("minItems") is not None and prop.get("minItems") == prop.get("maxItems"):
        parts.append(f"{prop['minItems']} items")
    else:
        if "minItems" in prop:
            parts.append(f"≥ {prop['minItems']} items")
        if "maxItems" in prop:
            parts.append(f"≤ {prop['maxItems']} items")
    if "minLength" in prop:
        parts.append(f"≥ {prop['minLength']} characters")
    return ", ".join(parts) if parts else "—"


def _num(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else f"{value:,}".replace(",", " ")


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def schema_json_text() -> str:
    """:func:`json_schema` as the text ``dyad schema`` prints (and the committed file holds)."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


__all__ = ["json_schema", "markdown", "schema_json_text", "undocumented_fields"]
