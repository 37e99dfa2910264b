"""Building the policy registry: one pluggy ``PluginManager("dyad")`` per set of plugins.

:func:`load_registry` registers dyad's own :mod:`dyad.policies`, the installed entry points and
the plugin paths the user names, calls each plugin's hook once and caches the registry.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import sys
import threading
import tomllib
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy

from dyad import hookspecs
from dyad.errors import PluginError
from dyad.plugins.contract import _describe, policy_class_problem
from dyad.plugins.discovery import (
    ENTRY_POINT_GROUP,
    _discover_entry_points,
    _distribution_of,
    _normalise,
)
from dyad.plugins.importing import (
    _has_module,
    _import_file,
    _import_top_level,
    _is_inside,
    _location,
    _module_files,
    code_digest,
)
from dyad.plugins.registry import PolicyEntry, PolicyRegistry

logger = logging.getLogger(__name__)

#: modules registered as built-in plugins, exactly like third-party ones
BUILTIN_PLUGINS = ("dyad.policies",)
BUILTIN_SOURCE = "built-in"


class DyadPluginWarning(UserWarning):
    """A plugin could not be loaded or one of its policies was rejected; others still load."""


_cache: dict[tuple, PolicyRegistry] = {}
_cache_lock = threading.RLock()


def load_registry(
    plugin_dirs: Sequence[Path | str] = (), entry_points: bool = True, strict: bool = False
) -> PolicyRegistry:
    """Build (or reuse) the registry of built-in, installed and named local parent policies.

    ``plugin_dirs``: plugin files (``*.py``) and folders holding single-file plugins and plugin
    projects; resolved to absolute paths. ``entry_points``: also load installed distributions'
    ``dyad.policies`` entry points (only those named in ``$DYAD_LOAD_PLUGINS`` when it is set).
    ``strict``: any broken plugin is a :class:`PluginError` (one line per problem) instead of a
    :class:`DyadPluginWarning`. Registries are cached per (plugin paths, installed entry
    points); a cached registry does not repeat its warnings, read them from
    ``registry.problems``.

    Raises PluginError for a missing plugin path or duplicate policy names.
    """
    paths: list[Path] = []
    for folder in plugin_dirs:
        path = Path(folder).expanduser().resolve()
        if path.is_file() and path.suffix != ".py":
            raise PluginError(f"plugin {path}: expected a .py file or a folder of plugins")
        if not path.exists():
            raise PluginError(f"plugins folder {path} does not exist")
        if path not in paths:
            paths.append(path)
    found = _discover_entry_points() if entry_points else []
    key = (
        tuple(paths),
        entry_points,
        tuple((ep.name, ep.value, *_distribution_of(ep)) for ep in found),
    )
    with _cache_lock:
        registry = _cache.get(key)
        fresh = registry is None
        if registry is None:
            registry = _Loader(tuple(paths), entry_points).build(found)
            _cache[key] = registry
    if strict:
        registry.raise_problems()
    elif fresh:
        for problem in registry.problems:
            warnings.warn(problem, DyadPluginWarning, stacklevel=2)
    return registry


@dataclass
class _Plugin:
    label: str  # how problems name it, e.g. '"delay"' or '"x.py"'
    source: str
    files: tuple[Path, ...] = ()
    sha256: str = field(default="")


class _Loader:
    """One registry build: registers plugins, calls their hooks, collects entries."""

    def __init__(self, plugin_paths: tuple[Path, ...], entry_points: bool) -> None:
        self.plugin_paths = plugin_paths
        self.entry_points = entry_points
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, _Plugin] = {}
        self.problems: list[str] = []
        self.loaded_distributions: set[str] = set()

    def problem(self, plugin: _Plugin, problem: str) -> None:
        self.problems.append(f"dyad plugin {plugin.label} ({plugin.source}): {problem}")

    # -- registration ------------------------------------------------------------------

    def build(self, found: list[importlib.metadata.EntryPoint]) -> PolicyRegistry:
        for module_name in BUILTIN_PLUGINS:
            module = importlib.import_module(module_name)
            info = _Plugin(f'"{module_name}"', BUILTIN_SOURCE, _module_files(module))
            self.add(module, module_name, info)
        for ep in found:
            self.add_entry_point(ep)
        for path in self.plugin_paths:
            if path.is_file():
                self.add_file(path)
            elif (path / "pyproject.toml").is_file():  # a plugin project named itself
                self.add_project(path)
            else:
                self.add_folder(path)
        return PolicyRegistry(
            self.collect(),
            plugin_manager=self.pm,
            problems=self.problems,
            plugin_dirs=self.plugin_paths,
            entry_points=self.entry_points,
        )

    def add(self, plugin: object, plugin_name: str, info: _Plugin) -> None:
        """Register one plugin object with pluggy; problems are recorded, not raised."""
        if self.pm.is_registered(plugin):
            logger.debug("plugin %s (%s) is already registered", info.label, info.source)
            return
        if self.pm.has_plugin(plugin_name):
            plugin_name = f"{plugin_name} ({info.source})"
        try:
            self.pm.register(plugin, name=plugin_name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            self.problem(info, f"rejected by the plugin manager: {exc}")
            return
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self.pm.unregister(plugin)
            self.problem(info, f"{exc} (hook functions must be named dyad_register_policies)")
            return
        if not self.pm.get_hookcallers(plugin):
            self.pm.unregister(plugin)
            self.problem(
                info,
                "defines no dyad hook; decorate a function named dyad_register_policies "
                "with @dyad.hookimpl",
            )
            return
        info.sha256 = code_digest(info.files)
        self.plugins[plugin_name] = info

    def add_entry_point(self, ep: importlib.metadata.EntryPoint) -> None:
        dist_name, version, _ = _distribution_of(ep)
        source = f"entry point {dist_name}=={version}" if dist_name else f"entry point {ep.value}"
        info = _Plugin(f'"{ep.name}"', source)
        try:
            plugin = ep.load()
        except (Exception, SystemExit) as exc:
            self.problem(info, f"failed to import {ep.value}: {_describe(exc)}")
            return
        if dist_name:
            self.loaded_distributions.add(_normalise(dist_name))
        top = sys.modules.get(ep.module.split(".")[0])
        info.files = _module_files(top) if top is not None else ()
        self.add(plugin, getattr(plugin, "__name__", ep.value), info)

    def add_folder(self, folder: Path) -> None:
        for path in sorted(folder.iterdir()):
            if path.name.startswith((".", "_")) or path.name == "tests":
                continue
            if path.is_file() and path.suffix == ".py":
                self.add_file(path)
            elif path.is_dir() and (path / "pyproject.toml").is_file():
                self.add_project(path)

    def add_file(self, path: Path) -> None:
        info = _Plugin(f'"{path.name}"', f"file {path}", (path,))
        try:
            module = _import_file(path)
        except (Exception, SystemExit) as exc:
            self.problem(info, f"failed to import: {_describe(exc)}")
            return
        self.add(module, module.__name__, info)

    def add_project(self, folder: Path) -> None:
        info = _Plugin(f'"{folder.name}"', f"file {folder}")
        try:
            with open(folder / "pyproject.toml", "rb") as file:
                project = tomllib.load(file).get("project", {})
        except (OSError, tomllib.TOMLDecodeError) as exc:
            self.problem(info, f"cannot read pyproject.toml: {_describe(exc)}")
            return
        declared = project.get("entry-points", {}).get(ENTRY_POINT_GROUP, {})
        if not declared:
            logger.debug("%s declares no %s entry points; skipped", folder, ENTRY_POINT_GROUP)
            return
        project_name = str(project.get("name", folder.name))
        info.label = f'"{project_name}"'
        if _normalise(project_name) in self.loaded_distributions:
            logger.info(
                "plugin project %s is also installed; using the installed entry points", folder
            )
            return
        for ep_name, value in declared.items():
            self.add_project_entry_point(folder, str(ep_name), str(value), info)

    def add_project_entry_point(self, folder: Path, ep_name: str, value: str, info: _Plugin):
        """Import ``module[:attr]`` from the project folder (flat or src layout), no sys.path."""
        module_name, _, attribute = (part.strip() for part in value.partition(":"))
        top = module_name.split(".")[0]
        root = folder / "src" if _has_module(folder / "src", top) else folder
        if not _has_module(root, top):
            self.problem(info, f"entry point {ep_name} = {value!r}: no module {top} in {folder}")
            return
        loaded = sys.modules.get(top)
        if loaded is not None and not _is_inside(loaded, root):
            self.problem(
                info,
                f"module {top} is already imported from {_location(loaded)}; the copy in "
                f"{root} is not loaded",
            )
            return
        try:
            if loaded is None:
                _import_top_level(root, top)
            plugin: Any = importlib.import_module(module_name)
            for part in filter(None, attribute.split(".")):
                plugin = getattr(plugin, part)
        except (Exception, SystemExit) as exc:
            self.problem(info, f"failed to import {value}: {_describe(exc)}")
            return
        module = sys.modules.get(module_name)
        if module is None or not _is_inside(module, root):
            self.problem(info, f"module {module_name} was imported from outside {root}")
            return
        files = _module_files(sys.modules[top])
        self.add(
            plugin,
            getattr(plugin, "__name__", value),
            _Plugin(info.label, f"file {_location(module)}", files),
        )

    # -- hook calls --------------------------------------------------------------------

    def collect(self) -> list[PolicyEntry]:
        """Call each plugin's hook once, through pluggy; build entries; raise on duplicates.

        The hook is called once per plugin with ``pm.subset_hook_caller`` (pluggy's hook
        caller without the other plugins), so a plugin that raises is named and registers
        nothing, and the other plugins still register.
        """
        entries: dict[str, PolicyEntry] = {}
        duplicates: list[str] = []
        for plugin_name, plugin in self.pm.list_name_plugin():
            info = self.plugins.get(plugin_name)
            if info is None:
                continue
            impls = [
                impl
                for impl in self.pm.hook.dyad_register_policies.get_hookimpls()
                if impl.plugin is plugin
            ]
            if any(impl.hookwrapper or impl.wrapper for impl in impls):
                self.problem(info, "dyad_register_policies must not be a hook wrapper; skipped")
                continue
            others = [p for p in self.pm.get_plugins() if p is not plugin]
            caller = self.pm.subset_hook_caller("dyad_register_policies", remove_plugins=others)
            accepted: list[type] = []
            try:
                caller(register=self._register_callback(info, accepted))
            except (Exception, SystemExit) as exc:
                self.problem(info, f"dyad_register_policies raised {_describe(exc)}; skipped")
                continue
            for policy_class in accepted:
                name = policy_class.name
                if name in entries:
                    duplicates.append(
                        f'policy "{name}" is registered twice: by {entries[name].source} and by '
                        f"{info.source}"
                    )
                    continue
                entries[name] = PolicyEntry(
                    name,
                    policy_class,
                    info.source,
                    info.sha256,
                    tuple(str(path) for path in info.files),
                )
        if duplicates:
            raise PluginError("\n".join(duplicates))
        return list(entries.values())

    def _register_callback(self, info: _Plugin, accepted: list[type]) -> Callable[[type], None]:
        def register(policy_class: type) -> None:
            problem = policy_class_problem(policy_class)
            if problem is not None:
                label = getattr(policy_class, "__qualname__", repr(policy_class))
                self.problem(info, f"policy class {label} skipped: {problem}")
                return
            accepted.append(policy_class)

        return register
