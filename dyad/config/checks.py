"""What is checked before a run: the schema and photos, then the policies (plugin code).

:func:`validate_scenario` checks the schema and the parents' photos and never imports plugin
code; :func:`check_policies` is the step before running (it loads the policy registry);
:func:`check_scenario` does both and reports every problem at once, as the commands need.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dyad.config.scenario import ParentSection, Scenario
from dyad.errors import ConfigError, PluginError
from dyad.validation import validation_problems


def validate_scenario(raw: Mapping[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate a scenario dict; every problem becomes one line in a :class:`ConfigError`.

    This checks the schema and the parents' photos; it never imports plugin code, so a
    scenario can be read, shown and documented without trusting its plugins. Whether its
    policies exist and accept their parameters is the step before running
    (:func:`check_policies`, or :func:`check_scenario` for both at once).
    """
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(validation_problems(exc, source)) from None
    problems = photo_problems(scenario, source)
    if problems:
        raise ConfigError(problems)
    return scenario


def check_scenario(
    raw: Mapping[str, Any], source: str = "<scenario>", plugin_dirs: Sequence[Path] = ()
) -> Scenario:
    """Validate a scenario and check its policies, reporting the problems of both together.

    What the commands run before any work: one run of a command shows every problem of the
    file, the schema's and the policies' (the policy registry holds the installed plugins,
    ``plugin_dirs`` and the scenario's own ``plugins``). A broken plugin is a
    :class:`dyad.errors.PluginError`.
    """
    problems: list[str] = []
    scenario = None
    try:
        scenario = validate_scenario(raw, source)
    except ConfigError as exc:
        problems.extend(exc.problems)
    paths = (*plugin_dirs, *scenario_plugin_paths(raw))
    problems.extend(policy_problems(_raw_parents(raw), source, paths))
    if problems:
        raise ConfigError(list(dict.fromkeys(problems)))
    assert scenario is not None
    rehearse_policies(scenario, source, paths)
    return scenario


def check_policies(
    scenario: Scenario, source: str = "<scenario>", plugin_dirs: Sequence[Path] = ()
) -> None:
    """Check the policies of a validated scenario, the step before running it.

    Each parent's policy exists, its ``params`` pass the policy's schema and it chooses for a
    few timesteps without failing.

    Loads the policy registry (installed plugins, ``plugin_dirs`` and the scenario's
    ``plugins``), so it imports plugin code. Problems are one-line :class:`ConfigError` lines;
    a broken plugin is a :class:`dyad.errors.PluginError`.
    """
    paths = (*plugin_dirs, *(Path(p) for p in scenario.plugins))
    parents = [(scenario.parent_path(i), p) for i, p in enumerate(scenario.all_parents)]
    problems = policy_problems(parents, source, paths)
    if problems:
        raise ConfigError(problems)
    rehearse_policies(scenario, source, paths)


def rehearse_policies(scenario: Scenario, source: str, plugin_dirs: Sequence[Path] = ()) -> None:
    """Create each parent's policy and let it choose for a few timesteps.

    See :meth:`dyad.plugins.PolicyRegistry.rehearse`: a policy's ConfigError becomes a line of
    this scenario's; a broken policy a :class:`dyad.errors.PluginError`.
    """
    from dyad.plugins import REHEARSAL_STEPS, load_registry

    registry = load_registry(plugin_dirs=tuple(plugin_dirs), strict=True)
    problems: list[str] = []
    for index, parent in enumerate(scenario.all_parents):
        try:
            registry.rehearse(
                parent.policy,
                parent.params,
                scenario.infant.expressions,
                scenario.infant.hold_length,
                n_steps=min(REHEARSAL_STEPS, scenario.run.steps),
            )
        except ConfigError as exc:
            where = f"{scenario.parent_path(index)}.params"
            problems.extend(f"{source}: {where}: {line}" for line in exc.problems)
    if problems:
        raise ConfigError(problems)


def _raw_parents(raw: Mapping[str, Any]) -> list[tuple[str, ParentSection]]:
    """(dotted path, parent) for every parent table that parses on its own."""
    if "parents" in raw and isinstance(raw["parents"], list):
        tables = [(f"parents.{i}", table) for i, table in enumerate(raw["parents"])]
    elif "parent" in raw:
        tables = [("parent", raw["parent"])]
    else:
        tables = [("parent", {})]
    parsed = []
    for where, table in tables:
        try:
            parsed.append((where, ParentSection.model_validate(table)))
        except ValidationError:
            continue  # its own errors are already reported with the scenario's
    return parsed


def policy_problems(
    parents: Sequence[tuple[str, ParentSection]], source: str, plugin_dirs: Sequence[Path] = ()
) -> list[str]:
    """Each parent's policy exists and its ``params`` pass the policy's own schema.

    A plugin path that does not exist, or a broken plugin, is a line too (``plugins: ...``).
    """
    try:
        return _policy_problems(parents, source, plugin_dirs)
    except PluginError as exc:
        return [f"{source}: plugins: {line}" for line in str(exc).splitlines()]


def _policy_problems(
    parents: Sequence[tuple[str, ParentSection]], source: str, plugin_dirs: Sequence[Path]
) -> list[str]:
    from dyad.plugins import load_registry

    registry = load_registry(plugin_dirs=tuple(plugin_dirs), strict=True)
    problems: list[str] = []
    for where, parent in parents:
        if parent.policy not in registry.names():
            hint = ""
            if Path("plugins").is_dir() and Path("plugins").resolve() not in registry.plugin_dirs:
                hint = (
                    " (./plugins is only loaded when named: --plugins-dir plugins, "
                    "$DYAD_PLUGINS_DIR or the scenario's plugins list)"
                )
            problems.append(
                f"{source}: {where}.policy: unknown policy {parent.policy!r}; "
                f"expected one of: {', '.join(sorted(registry.names()))}{hint}"
            )
            continue
        try:
            registry.validate_params(parent.policy, parent.params)
        except ValidationError as exc:
            problems.extend(validation_problems(exc, source, prefix=f"{where}.params"))
    return problems


def photo_problems(scenario: Scenario, source: str) -> list[str]:
    """Return the problems of the parents' ``photos`` folders, one line each.

    Each folder must exist, hold readable, labelled images and show every expression the
    infant makes (all photos are read, as a run would read them).
    """
    from dyad.faces import PhotoFaces

    problems: list[str] = []
    vision = scenario.vision
    for index, parent in enumerate(scenario.all_parents):
        if parent.photos is None:
            continue
        where = scenario.parent_path(index)
        folder = Path(parent.photos)
        if not folder.is_dir():
            problems.append(
                f"{source}: {where}.photos: expected a folder of face images, "
                f"{folder} {'is not a folder' if folder.exists() else 'does not exist'}"
            )
            continue
        try:
            faces = PhotoFaces(
                folder,
                size=vision.visnet.v1.image_size,
                labels_csv=parent.photo_labels,
                transforms=vision.faces.transforms,
                background=vision.faces.background,
            )
        except ConfigError as exc:
            for line in exc.problems:
                field, _, message = line.partition(": ")
                field = "photo_labels" if field == "labels" else "photos"
                if "cannot read image" in message:
                    message += "; expected only readable images in the folder"
                problems.append(f"{source}: {where}.{field}: {message}")
            continue
        missing = [e for e in scenario.infant.expressions if e not in faces.expressions]
        if missing:
            labelled = "listed in photo_labels" if parent.photo_labels else "named <expression>_<n>"
            problems.append(
                f"{source}: {where}.photos: no photo of {', '.join(map(repr, missing))} in "
                f"{folder}; expected at least one image of every expression the infant makes "
                f"({', '.join(scenario.infant.expressions)}), {labelled}"
            )
    return problems


def scenario_plugin_paths(raw: Mapping[str, Any]) -> tuple[Path, ...]:
    """Return the plugin paths a raw scenario names (only when they are a list of strings)."""
    plugins = raw.get("plugins")
    if isinstance(plugins, list | tuple) and all(isinstance(p, str) for p in plugins):
        return tuple(Path(p) for p in plugins)
    return ()
