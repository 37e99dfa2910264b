"""Scenario files: TOML in, a raw scenario dict out, its paths absolute and overrides applied.

:func:`load_scenario` reads, overrides and validates in one call; the raw steps are
:func:`read_toml`, :func:`resolve_parent_paths` and :func:`resolve_plugin_paths` (relative paths
are read relative to the scenario file), :func:`apply_overrides` (dotted paths, as ``--set``
gives them: :func:`parse_override`) and :func:`read_scenario`, which does them all.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dyad.config.checks import check_scenario, validate_scenario
from dyad.config.scenario import Scenario
from dyad.errors import ConfigError

#: the scenarios shipped with dyad (``scenarios/`` beside the package)
SHIPPED_SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def read_toml(path: str | Path) -> dict[str, Any]:
    """Parse a scenario file; syntax errors and an empty file are a one-line ConfigError.

    A file without a single key (empty, or only comments) is refused rather than run with
    every default: it is almost always the wrong file or an unsaved editor buffer.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such scenario file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, expected a TOML scenario file") from None
    except PermissionError:
        raise ConfigError(f"{path}: cannot read the scenario file (permission denied)") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not a text file ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: TOML syntax error: {exc}") from None
    if not raw:
        raise ConfigError(
            f"{path}: the scenario is empty (no keys); expected at least a [run] or [parent] "
            "table, see scenarios/perfect.toml"
        )
    return raw


def resolve_plugin_paths(raw: dict[str, Any], base: str | Path) -> dict[str, Any]:
    """``raw`` with its top-level ``plugins`` list made absolute, relative to folder ``base``.

    Entries that are not strings are left for the schema to report.
    """
    plugins = raw.get("plugins")
    if isinstance(plugins, list) and all(isinstance(p, str) for p in plugins):
        folder = Path(base)
        raw = {**raw, "plugins": [str((folder / Path(p).expanduser()).resolve()) for p in plugins]}
    return raw


#: parent-table fields that name files, read relative to the scenario file
PARENT_PATH_FIELDS = ("photos", "photo_labels")


def resolve_parent_paths(raw: dict[str, Any], scenario_file: str | Path) -> dict[str, Any]:
    """Make the parents' relative file paths (``photos``, ``photo_labels``) absolute.

    They are taken relative to the folder of ``scenario_file``, so a run finds them from any
    working folder or worker.
    """
    base = Path(scenario_file).resolve().parent
    tables = raw.get("parents") if isinstance(raw.get("parents"), list) else [raw.get("parent")]
    for table in tables:
        if not isinstance(table, dict):
            continue
        for name in PARENT_PATH_FIELDS:
            value = table.get(name)
            if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
                table[name] = str(base / value)
            elif isinstance(value, str) and value:
                table[name] = str(Path(value).expanduser())
    return raw


def read_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return the raw scenario of a file, overridden, with its relative paths made absolute.

    ``overrides`` maps dotted field paths (``"run.steps"``, ``"parent.params.lag"``) to values
    that replace the file's; they are validated with the file.
    """
    raw = resolve_parent_paths(read_toml(path), path)
    raw.setdefault("name", Path(path).stem)
    if overrides:
        raw = apply_overrides(raw, overrides, source=str(path))
    return resolve_plugin_paths(raw, Path(path).parent)


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Read, override and validate a scenario file (see :func:`validate_scenario`)."""
    return validate_scenario(read_scenario(path, overrides), source=str(path))


def apply_overrides(
    raw: Mapping[str, Any], overrides: Mapping[str, Any], source: str = "<scenario>"
) -> dict[str, Any]:
    """Return a deep copy of ``raw`` with dotted paths set.

    A number indexes a list: ``parents.0.params.q``.
    """
    result = copy.deepcopy(dict(raw))
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        node: Any = result
        for depth, part in enumerate(parts[:-1]):
            here = ".".join(parts[: depth + 1])
            if isinstance(node, list):
                node = _list_item(node, part, here, source)
            elif isinstance(node, dict):
                node = node.setdefault(part, {})
                if not isinstance(node, dict | list):
                    raise ConfigError(f"{source}: {here}: is a value, cannot set {dotted}")
            else:
                raise ConfigError(f"{source}: {here}: cannot set {dotted}")
        last = parts[-1]
        if isinstance(node, list):
            index = _list_index(node, last, dotted, source)
            node[index] = value
        else:
            node[last] = value
    return result


def _list_index(node: list, part: str, here: str, source: str) -> int:
    if not part.isdigit() or int(part) >= len(node):
        raise ConfigError(f"{source}: {here}: expected an index below {len(node)}, got {part!r}")
    return int(part)


def _list_item(node: list, part: str, here: str, source: str) -> Any:
    return node[_list_index(node, part, here, source)]


def parse_override(text: str) -> tuple[str, Any]:
    """``"run.steps=500"`` → ``("run.steps", 500)``; the value is read as TOML, else a string."""
    if "=" not in text:
        raise ConfigError(f"--set {text!r}: expected FIELD=VALUE, e.g. run.steps=500")
    key, value_text = (part.strip() for part in text.split("=", 1))
    try:
        value = tomllib.loads(f"v = {value_text}")["v"]
    except tomllib.TOMLDecodeError:
        value = value_text
    return key, value


def resolve_scenario(
    scenario_file: Any,
    overrides: Mapping[str, Any] | None = None,
    plugin_dirs: Sequence[Path] = (),
):
    """Return a validated :class:`~dyad.config.Scenario` from a file, a shipped name, a dict or one.

    A name without ``.toml`` that is not a file is looked up as ``scenarios/<name>.toml``, in
    the working folder and then among the scenarios shipped with dyad.
    """
    overrides = dict(overrides or {})
    if isinstance(scenario_file, Scenario):
        raw = scenario_file.to_dict()
        source = f"scenario {scenario_file.name!r}"
        if overrides:
            raw = apply_overrides(raw, overrides, source=source)
        return check_scenario(raw, source=source, plugin_dirs=plugin_dirs)
    if isinstance(scenario_file, Mapping):
        raw = dict(scenario_file)
        if overrides:
            raw = apply_overrides(raw, overrides, source="<scenario>")
        return check_scenario(raw, plugin_dirs=plugin_dirs)
    if not isinstance(scenario_file, str | Path):
        raise ConfigError(
            f"scenario_file: expected a TOML file, a scenario name or a dict, got {scenario_file!r}"
        )
    path = find_scenario(scenario_file)
    return check_scenario(read_scenario(path, overrides), source=str(path), plugin_dirs=plugin_dirs)


def find_scenario(name: str | Path) -> Path:
    """Return the file of a scenario given as a path or as the name of a shipped scenario."""
    path = Path(name)
    if path.is_file() or path.suffix == ".toml" or len(path.parts) > 1:
        return path
    for folder in (Path("scenarios"), SHIPPED_SCENARIOS):
        candidate = folder / f"{path.name}.toml"
        if candidate.is_file():
            return candidate
    shipped = sorted(p.stem for p in SHIPPED_SCENARIOS.glob("*.toml"))
    raise ConfigError(
        f"{name}: no such scenario file or shipped scenario; expected a TOML file or one of: "
        + ", ".join(shipped)
    )
