"""The parent-policy registry: built-ins, installed plugins and local plugin folders.

Every policy, built-in or not, arrives through the ``dyad_register_policies`` hook
(:mod:`dyad.hookspecs`). :func:`load_registry` builds one pluggy ``PluginManager("dyad")``,
registers

1. dyad's own :mod:`dyad.policies` (source ``"built-in"``),
2. every entry point in the ``dyad.policies`` group of the installed distributions
   (source ``"entry point <dist>==<version>"``),
3. for each plugin folder: each ``*.py`` file directly in it, and each subfolder that is a plugin
   project (a ``pyproject.toml`` declaring ``[project.entry-points."dyad.policies"]``)
   (source ``"file <absolute path>"``),

then calls each plugin's hook once. The simulation looks a policy up by name and calls the
policy object directly every timestep. A broken plugin (import error, exception in its hook, an
invalid policy class, a misspelled hook name) becomes a :class:`DyadPluginWarning` naming the
plugin and its source, and the rest still load; two policies with the same name are a
:class:`dyad.errors.PluginError` naming both sources.

Worker processes rebuild the registry from the same absolute plugin folders and receive a
policy's *name* and parameters, never classes or instances.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import inspect
import logging
import re
import sys
import threading
import tomllib
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pluggy
from pydantic import BaseModel, ValidationError

from dyad import hookspecs
from dyad.errors import ConfigError, PluginError

__all__ = [
    "BUILTIN_SOURCE",
    "ENTRY_POINT_GROUP",
    "DyadPluginWarning",
    "PolicyEntry",
    "PolicyRegistry",
    "clear_registry_cache",
    "default_plugin_dirs",
    "load_registry",
]

logger = logging.getLogger(__name__)

#: entry-point group that installed plugin distributions declare
ENTRY_POINT_GROUP = "dyad.policies"
#: modules registered as built-in plugins, exactly like third-party ones
BUILTIN_PLUGINS = ("dyad.policies",)
BUILTIN_SOURCE = "built-in"
#: prefix of the module names under which single-file plugins are imported
LOCAL_MODULE_PREFIX = "dyad_local_plugin_"

_NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*$")


class DyadPluginWarning(UserWarning):
    """A plugin could not be loaded or one of its policies was rejected; others still load."""


@dataclass(frozen=True)
class PolicyEntry:
    """One registered policy: its ``name``, its class and where it came from."""

    name: str
    policy_class: type
    source: str

    @property
    def description(self) -> str:
        """The class's ``description``, or the first line of its docstring."""
        text = getattr(self.policy_class, "description", "") or ""
        if not text:
            text = (inspect.getdoc(self.policy_class) or "").strip().split("\n")[0]
        return " ".join(str(text).split())

    @property
    def params_class(self) -> type[BaseModel]:
        """The pydantic model of the policy's parameters."""
        return self.policy_class.Params


class PolicyRegistry:
    """All parent policies available to a run, looked up by name.

    ``problems`` holds the text of every :class:`DyadPluginWarning` raised while loading;
    ``plugin_dirs`` the absolute plugin folders it was built from (send these to workers).
    """

    def __init__(
        self,
        entries: Sequence[PolicyEntry],
        *,
        plugin_manager: pluggy.PluginManager,
        problems: Sequence[str] = (),
        plugin_dirs: Sequence[Path] = (),
        entry_points: bool = True,
    ) -> None:
        self._entries = {entry.name: entry for entry in entries}
        self.plugin_manager = plugin_manager
        self.problems = tuple(problems)
        self.plugin_dirs = tuple(plugin_dirs)
        self.entry_points = entry_points

    def names(self) -> list[str]:
        """Policy names in registration order (built-ins first)."""
        return list(self._entries)

    def entries(self) -> list[PolicyEntry]:
        """All entries in registration order."""
        return list(self._entries.values())

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[PolicyEntry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, name: str) -> PolicyEntry:
        """The entry for ``name``; an unknown name is a ConfigError listing the known ones."""
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            known = ", ".join(sorted(self._entries))
            raise ConfigError(
                f"policy: expected one of {known}, got {name!r} (policies from plugins need the "
                "plugin installed or its folder passed with --plugins-dir)"
            ) from None

    def validate_params(
        self, name: str, params: Mapping[str, Any] | BaseModel | None = None
    ) -> BaseModel:
        """The policy's ``Params`` model built from ``params`` (missing keys take defaults).

        Raises ``pydantic.ValidationError`` (field paths relative to the params table) for
        unknown keys or out-of-bounds values, ConfigError for an unknown policy name.
        """
        params_class = self.get(name).params_class
        if isinstance(params, params_class):
            return params
        if isinstance(params, BaseModel):
            params = params.model_dump()
        return params_class.model_validate(dict(params or {}))

    def create(
        self,
        name: str,
        params: Mapping[str, Any] | BaseModel | None,
        context: Any,
        rng: np.random.Generator,
    ) -> Any:
        """A ready policy object: validated params, the run's PolicyContext and the parent's rng."""
        entry = self.get(name)
        policy = entry.policy_class(self.validate_params(name, params), context, rng)
        lookback = getattr(policy, "lookback", 0)
        if (
            isinstance(lookback, bool)
            or not isinstance(lookback, (int, np.integer))
            or lookback < 0
        ):
            raise PluginError(
                f'policy "{name}" ({entry.source}): lookback must be an integer >= 0, '
                f"got {lookback!r}"
            )
        return policy

    def sources(self) -> dict[str, str]:
        """Policy name -> source, for the run manifest."""
        return {name: entry.source for name, entry in self._entries.items()}

    def __repr__(self) -> str:
        return f"PolicyRegistry({', '.join(self._entries)})"


def default_plugin_dirs(cwd: Path | None = None) -> tuple[Path, ...]:
    """``(<cwd>/plugins,)`` as an absolute path if that folder exists, else ``()``."""
    folder = (Path.cwd() if cwd is None else Path(cwd)) / "plugins"
    return (folder.resolve(),) if folder.is_dir() else ()


_cache: dict[tuple, PolicyRegistry] = {}
_cache_lock = threading.RLock()


def clear_registry_cache() -> None:
    """Forget every registry built so far (imported plugin modules stay imported)."""
    with _cache_lock:
        _cache.clear()


def load_registry(
    plugin_dirs: Sequence[Path | str] = (), entry_points: bool = True
) -> PolicyRegistry:
    """Build (or reuse) the registry of built-in, installed and local parent policies.

    ``plugin_dirs``: folders holding single-file plugins and plugin projects; resolved to
    absolute paths. ``entry_points``: also load installed distributions' ``dyad.policies``
    entry points. Registries are cached per (plugin folders, installed entry points); a cached
    registry does not repeat its warnings, read them from ``registry.problems``.

    Raises PluginError for a missing plugin folder or duplicate policy names.
    """
    dirs: list[Path] = []
    for folder in plugin_dirs:
        path = Path(folder).expanduser().resolve()
        if not path.is_dir():
            raise PluginError(f"plugins folder {path} does not exist or is not a folder")
        if path not in dirs:
            dirs.append(path)
    found = _discover_entry_points() if entry_points else []
    key = (
        tuple(dirs),
        entry_points,
        tuple((ep.name, ep.value, *_distribution_of(ep)) for ep in found),
    )
    with _cache_lock:
        registry = _cache.get(key)
        if registry is None:
            registry = _Loader(tuple(dirs), entry_points).build(found)
            _cache[key] = registry
        return registry


def _discover_entry_points() -> list[importlib.metadata.EntryPoint]:
    return list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))


def _distribution_of(ep: importlib.metadata.EntryPoint) -> tuple[str, str, str]:
    """(name, version, location) of the distribution declaring ``ep`` (empty if unknown)."""
    dist = ep.dist
    if dist is None:
        return ("", "", "")
    try:
        location = str(dist.locate_file(""))
    except Exception:  # some finders cannot locate files; the name still identifies it
        location = ""
    return (dist.metadata["Name"] or dist.name, dist.version, location)


def _normalise(project_name: str) -> str:
    return re.sub(r"[-_.]+", "-", project_name).lower()


@dataclass
class _Plugin:
    label: str  # how warnings name it, e.g. 'entry point "delay"' or 'file "x.py"'
    source: str


class _Loader:
    """One registry build: registers plugins, calls their hooks, collects entries."""

    def __init__(self, plugin_dirs: tuple[Path, ...], entry_points: bool) -> None:
        self.plugin_dirs = plugin_dirs
        self.entry_points = entry_points
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, _Plugin] = {}
        self.problems: list[str] = []
        self.loaded_distributions: set[str] = set()

    def warn(self, plugin: _Plugin, problem: str) -> None:
        message = f"dyad plugin {plugin.label} ({plugin.source}): {problem}"
        self.problems.append(message)
        warnings.warn(message, DyadPluginWarning, stacklevel=4)

    # -- registration ------------------------------------------------------------------

    def build(self, found: list[importlib.metadata.EntryPoint]) -> PolicyRegistry:
        for module_name in BUILTIN_PLUGINS:
            module = importlib.import_module(module_name)
            self.add(module, module_name, _Plugin(f'"{module_name}"', BUILTIN_SOURCE))
        for ep in found:
            self.add_entry_point(ep)
        for folder in self.plugin_dirs:
            self.add_folder(folder)
        return PolicyRegistry(
            self.collect(),
            plugin_manager=self.pm,
            problems=self.problems,
            plugin_dirs=self.plugin_dirs,
            entry_points=self.entry_points,
        )

    def add(self, plugin: object, plugin_name: str, info: _Plugin) -> None:
        """Register one plugin object with pluggy; problems become warnings."""
        if self.pm.is_registered(plugin):
            logger.debug("plugin %s (%s) is already registered", info.label, info.source)
            return
        if self.pm.has_plugin(plugin_name):
            plugin_name = f"{plugin_name} ({info.source})"
        try:
            self.pm.register(plugin, name=plugin_name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            self.warn(info, f"rejected by the plugin manager: {exc}")
            return
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self.pm.unregister(plugin)
            self.warn(info, f"{exc} (hook functions must be named dyad_register_policies)")
            return
        if not self.pm.get_hookcallers(plugin):
            self.pm.unregister(plugin)
            self.warn(
                info,
                "defines no dyad hook; decorate a function named dyad_register_policies "
                "with @dyad.hookimpl",
            )
            return
        self.plugins[plugin_name] = info

    def add_entry_point(self, ep: importlib.metadata.EntryPoint) -> None:
        dist_name, version, _ = _distribution_of(ep)
        source = f"entry point {dist_name}=={version}" if dist_name else f"entry point {ep.value}"
        info = _Plugin(f'"{ep.name}"', source)
        try:
            plugin = ep.load()
        except Exception as exc:
            self.warn(info, f"failed to import {ep.value}: {_describe(exc)}")
            return
        if dist_name:
            self.loaded_distributions.add(_normalise(dist_name))
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
        info = _Plugin(f'"{path.name}"', f"file {path}")
        try:
            module = _import_file(path)
        except Exception as exc:
            self.warn(info, f"failed to import: {_describe(exc)}")
            return
        self.add(module, module.__name__, info)

    def add_project(self, folder: Path) -> None:
        info = _Plugin(f'"{folder.name}"', f"file {folder}")
        try:
            with open(folder / "pyproject.toml", "rb") as file:
                project = tomllib.load(file).get("project", {})
        except (OSError, tomllib.TOMLDecodeError) as exc:
            self.warn(info, f"cannot read pyproject.toml: {_describe(exc)}")
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
        module_name = value.split(":")[0].strip()
        top = module_name.split(".")[0]
        root = folder / "src" if _has_module(folder / "src", top) else folder
        if not _has_module(root, top):
            self.warn(info, f"entry point {ep_name} = {value!r}: no module {top} in {folder}")
            return
        loaded = sys.modules.get(top)
        if loaded is not None and not _is_inside(loaded, root):
            self.warn(
                info,
                f"module {top} is already imported from {_location(loaded)}; the copy in "
                f"{root} is not loaded",
            )
            return
        if str(root) not in sys.path:
            sys.path.append(str(root))
            importlib.invalidate_caches()
        try:
            plugin = importlib.metadata.EntryPoint(ep_name, value, ENTRY_POINT_GROUP).load()
        except Exception as exc:
            self.warn(info, f"failed to import {value}: {_describe(exc)}")
            return
        module = sys.modules.get(module_name)
        if module is None or not _is_inside(module, root):
            self.warn(info, f"module {module_name} was imported from outside {root}")
            return
        self.add(
            plugin,
            getattr(plugin, "__name__", value),
            _Plugin(info.label, f"file {_location(module)}"),
        )

    # -- hook calls --------------------------------------------------------------------

    def collect(self) -> list[PolicyEntry]:
        """Call each plugin's hook once; build entries; raise on duplicate names."""
        entries: dict[str, PolicyEntry] = {}
        duplicates: list[str] = []
        for impl in self.pm.hook.dyad_register_policies.get_hookimpls():
            info = self.plugins[impl.plugin_name]
            if impl.hookwrapper or impl.wrapper:
                self.warn(info, "dyad_register_policies must not be a hook wrapper; skipped")
                continue
            accepted: list[type] = []
            register = self._register_callback(info, accepted)
            try:
                impl.function(**{name: register for name in impl.argnames})
            except Exception as exc:
                self.warn(info, f"dyad_register_policies raised {_describe(exc)}; skipped")
                continue
            for policy_class in accepted:
                name = policy_class.name
                if name in entries:
                    duplicates.append(
                        f'policy "{name}" is registered twice: by {entries[name].source} and by '
                        f"{info.source}"
                    )
                    continue
                entries[name] = PolicyEntry(name, policy_class, info.source)
        if duplicates:
            raise PluginError("\n".join(duplicates))
        return list(entries.values())

    def _register_callback(self, info: _Plugin, accepted: list[type]) -> Callable[[type], None]:
        def register(policy_class: type) -> None:
            problem = policy_class_problem(policy_class)
            if problem is not None:
                label = getattr(policy_class, "__qualname__", repr(policy_class))
                self.warn(info, f"policy class {label} skipped: {problem}")
                return
            accepted.append(policy_class)

        return register


def policy_class_problem(policy_class: object) -> str | None:
    """Why ``policy_class`` does not meet the policy contract, or None if it does."""
    if not isinstance(policy_class, type):
        return f"register() expects a class, got {policy_class!r}"
    name = getattr(policy_class, "name", None)
    if not isinstance(name, str) or not _NAME_PATTERN.match(name):
        return f"name: expected a string such as 'my_policy' (letters, digits, _ . -), got {name!r}"
    description = getattr(policy_class, "description", "")
    if not isinstance(description, str):
        return f"description: expected a string, got {description!r}"
    params = getattr(policy_class, "Params", None)
    if not (isinstance(params, type) and issubclass(params, BaseModel)):
        return f"Params: expected a pydantic BaseModel subclass, got {params!r}"
    if params.model_config.get("extra") != "forbid":
        return (
            "Params: must forbid unknown keys (subclass dyad.PolicyParams or set "
            "model_config = ConfigDict(extra='forbid'))"
        )
    required = [field for field, info in params.model_fields.items() if info.is_required()]
    if required:
        return f"Params: every field needs a default; missing for {', '.join(required)}"
    try:
        params.model_validate(params().model_dump())
    except (ValidationError, TypeError, ValueError) as exc:
        return f"Params: the defaults are not valid: {_describe(exc)}"
    if not callable(getattr(policy_class, "choose", None)):
        return "choose: expected a method choose(self, t, infant_history) -> int"
    if inspect.isabstract(policy_class):
        missing = ", ".join(sorted(getattr(policy_class, "__abstractmethods__", ())))
        return f"does not implement {missing}"
    lookback = inspect.getattr_static(policy_class, "lookback", 0)
    if not isinstance(lookback, property) and (
        isinstance(lookback, bool) or not isinstance(lookback, int) or lookback < 0
    ):
        return f"lookback: expected an integer >= 0 or a property, got {lookback!r}"
    return None


# -- importing local plugin code -------------------------------------------------------------


def _local_module_name(path: Path) -> str:
    """A stable module name for a single-file plugin: same path, same name in every process."""
    stem = re.sub(r"\W", "_", path.stem)
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    return f"{LOCAL_MODULE_PREFIX}{stem}_{digest}"


def _import_file(path: Path) -> ModuleType:
    """Import ``path`` under its stable name, inserted into sys.modules before executing."""
    name = _local_module_name(path)
    module = sys.modules.get(name)
    if module is not None and Path(getattr(module, "__file__", "") or "").resolve() == path:
        return module
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _has_module(root: Path, top: str) -> bool:
    return (root / f"{top}.py").is_file() or (root / top / "__init__.py").is_file()


def _location(module: ModuleType) -> str:
    return str(getattr(module, "__file__", None) or module)


def _is_inside(module: ModuleType, folder: Path) -> bool:
    file = getattr(module, "__file__", None)
    if not file:
        return False
    try:
        return Path(file).resolve().is_relative_to(folder.resolve())
    except OSError:
        return False


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
