"""The parent-policy registry: built-ins, installed plugins and plugin paths the user names.

Every policy, built-in or not, arrives through the ``dyad_register_policies`` hook
(:mod:`dyad.hookspecs`). :func:`load_registry` builds one pluggy ``PluginManager("dyad")``,
registers

1. dyad's own :mod:`dyad.policies` (``BUILTIN_PLUGINS``, source ``"built-in"``), exactly like a
   third-party plugin;
2. every entry point in the ``dyad.policies`` group of the installed distributions
   (source ``"entry point <dist>==<version>"``), limited by ``$DYAD_LOAD_PLUGINS`` when set;
3. each plugin path the user asked for (``--plugins-dir``, ``$DYAD_PLUGINS_DIR`` or the
   scenario's ``plugins`` list): a ``*.py`` file, or a folder whose ``*.py`` files and plugin
   projects (subfolders with a ``pyproject.toml`` declaring ``dyad.policies`` entry points) are
   loaded (source ``"file <absolute path>"``).

Nothing is imported from the working folder unless it is named: dyad never searches
``./plugins`` on its own.

The hook is then called through pluggy's hook caller once per plugin
(``pm.subset_hook_caller``), so a plugin that raises is named and the others still register.
The simulation looks a policy up by name and calls the policy object directly every timestep.

A broken plugin (import error, exception in its hook, an invalid policy class, a misspelled
hook name) is a *problem* naming the plugin and its source. Commands that run simulations
refuse to start while there is any (``strict=True``: a :class:`dyad.errors.PluginError`, one
line per problem, exit code 2); ``dyad plugins list`` shows them as warnings. Two policies with
the same name are always a PluginError naming both sources.

Plugin code is loaded without changing ``sys.path``: files are imported with
``importlib.util.spec_from_file_location`` under a stable module name inserted into
``sys.modules``, so worker processes given the same absolute paths import the same modules.
Each policy carries a SHA-256 of its code for the run manifest (:meth:`PolicyRegistry.provenance`).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import inspect
import logging
import os
import re
import sys
import threading
import tomllib
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pluggy
from pydantic import BaseModel, ValidationError

from dyad import hookspecs
from dyad.errors import ConfigError, DyadError, PluginError

__all__ = [
    "BUILTIN_SOURCE",
    "ENTRY_POINT_GROUP",
    "ENV_LOAD_PLUGINS",
    "ENV_PLUGINS_DIR",
    "DyadPluginWarning",
    "PolicyEntry",
    "PolicyRegistry",
    "code_digest",
    "load_registry",
    "plugin_folders",
    "plugin_paths_from_env",
]

logger = logging.getLogger(__name__)

#: entry-point group that installed plugin distributions declare
ENTRY_POINT_GROUP = "dyad.policies"
#: modules registered as built-in plugins, exactly like third-party ones
BUILTIN_PLUGINS = ("dyad.policies",)
BUILTIN_SOURCE = "built-in"
#: prefix of the module names under which single-file plugins are imported
LOCAL_MODULE_PREFIX = "dyad_local_plugin_"
#: plugin files or folders to load, separated by os.pathsep (like PATH)
ENV_PLUGINS_DIR = "DYAD_PLUGINS_DIR"
#: comma-separated installed plugins (entry-point or distribution names) to load; empty = none
ENV_LOAD_PLUGINS = "DYAD_LOAD_PLUGINS"

#: timesteps of the trial run of each policy before a run starts (see PolicyRegistry.rehearse)
REHEARSAL_STEPS = 20

_NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*$")


class DyadPluginWarning(UserWarning):
    """A plugin could not be loaded or one of its policies was rejected; others still load."""


@dataclass(frozen=True)
class PolicyEntry:
    """One registered policy: its ``name``, its class, where it came from and its code's hash.

    ``sha256``: of the plugin file's bytes for a single file, else of a ``sha256sum``-style
    listing (``<sha256>  <path>`` per line, sorted) of the plugin's Python files; ``files``:
    those files (absolute paths).
    """

    name: str
    policy_class: type
    source: str
    sha256: str = ""
    files: tuple[str, ...] = ()

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

    ``problems`` holds one line per broken plugin or rejected policy class found while loading;
    ``plugin_dirs`` the absolute plugin paths (files or folders) it was built from (send these
    to workers).
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

    def raise_problems(self) -> None:
        """Return a :class:`PluginError` with one line per broken plugin, if there is any."""
        if self.problems:
            raise PluginError("\n".join(self.problems))

    def get(self, name: str) -> PolicyEntry:
        """Return the entry for ``name``.

        An unknown name is a ConfigError listing the known ones.
        """
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            known = ", ".join(sorted(self._entries))
            raise ConfigError(
                f"policy: expected one of {known}, got {name!r} (policies from plugins need the "
                "plugin installed or named with --plugins-dir, $DYAD_PLUGINS_DIR or the "
                "scenario's plugins list)"
            ) from None

    def validate_params(
        self, name: str, params: Mapping[str, Any] | BaseModel | None = None
    ) -> BaseModel:
        """Return the policy's ``Params`` model built from ``params`` (missing keys take defaults).

        Raises ``pydantic.ValidationError`` (field paths relative to the params table) for
        unknown keys or out-of-bounds values, ConfigError for an unknown policy name, and
        PluginError (naming the plugin) when the plugin's own validators fail in another way.
        """
        entry = self.get(name)
        params_class = entry.params_class
        if isinstance(params, params_class):
            return params
        try:
            if isinstance(params, BaseModel):
                params = params.model_dump()
            return params_class.model_validate(dict(params or {}))
        except ValidationError:
            raise
        except DyadError:
            raise
        except Exception as exc:
            raise PluginError(
                f'policy "{name}" ({entry.source}): its parameter schema raised {_describe(exc)}'
            ) from exc

    def create(
        self,
        name: str,
        params: Mapping[str, Any] | BaseModel | None,
        context: Any,
        rng: np.random.Generator,
    ) -> Any:
        """Return a ready policy object.

        It has validated params, the run's PolicyContext and the parent's rng.

        A ConfigError raised by the policy (impossible parameters) names the policy and its
        source; any other exception from its code becomes a PluginError that does.
        """
        entry = self.get(name)
        where = f'policy "{name}" ({entry.source})'
        validated = self.validate_params(name, params)
        try:
            policy = entry.policy_class(validated, context, rng)
            lookback = getattr(policy, "lookback", 0)
        except ConfigError as exc:
            raise ConfigError([f"{where}: {line}" for line in exc.problems]) from exc
        except (Exception, SystemExit) as exc:
            raise PluginError(f"{where}: creating the policy raised {_describe(exc)}") from exc
        if (
            isinstance(lookback, bool)
            or not isinstance(lookback, (int, np.integer))
            or lookback < 0
        ):
            raise PluginError(f"{where}: lookback must be an integer >= 0, got {lookback!r}")
        return policy

    def rehearse(
        self,
        name: str,
        params: Mapping[str, Any] | BaseModel | None,
        expressions: Sequence[str],
        hold_length: int,
        n_steps: int = REHEARSAL_STEPS,
    ) -> None:
        """Create the policy and call ``choose`` for a few timesteps before any real work.

        A throwaway policy (its own generator) sees an infant alternating expressions every
        ``hold_length`` steps, pre-rolled by its ``lookback``. Exceptions and choices that are
        not an int index become the same one-line errors as during a run, so a broken
        ``__init__`` or ``choose`` is found before minutes of pre-training, not after.
        """
        from dyad.policies import PolicyContext, is_expression_index

        entry = self.get(name)
        where = f'policy "{name}" ({entry.source})'
        context = PolicyContext(tuple(expressions), n_steps=n_steps, hold_length=hold_length)
        policy = self.create(name, params, context, np.random.default_rng(0))
        lookback = int(policy.lookback if hasattr(policy, "lookback") else 0)
        t_all = np.arange(-lookback, n_steps)
        history = ((t_all // max(1, hold_length)) % len(expressions)).astype(np.int64)
        history.flags.writeable = False
        for t in range(n_steps):
            try:
                choice = policy.choose(t, history[: lookback + t + 1])
            except (Exception, SystemExit) as exc:
                raise PluginError(
                    f"{where}: choose raised {_describe(exc)} at timestep {t} of a trial before "
                    "the run"
                ) from exc
            if not is_expression_index(choice, len(expressions)):
                shown = " ".join(repr(choice).split())[:60]
                raise PluginError(
                    f"{where}: choose returned {shown} ({type(choice).__name__}) at timestep "
                    f"{t} of a trial before the run; it must return an int expression index "
                    f"below {len(expressions)}"
                )

    def sources(self) -> dict[str, str]:
        """Policy name -> source, for the run manifest."""
        return {name: entry.source for name, entry in self._entries.items()}

    def provenance(self, names: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Policy name -> ``{"source", "sha256", "files"}`` for the run manifest."""
        out: dict[str, dict[str, Any]] = {}
        for name in names:
            entry = self.get(name)
            out[name] = {"source": entry.source, "sha256": entry.sha256, "files": list(entry.files)}
        return out

    def __repr__(self) -> str:
        return f"PolicyRegistry({', '.join(self._entries)})"


def plugin_paths_from_env(environ: Mapping[str, str] | None = None) -> tuple[Path, ...]:
    """Return the plugin files and folders named in ``$DYAD_PLUGINS_DIR`` (os.pathsep-separated)."""
    text = (os.environ if environ is None else environ).get(ENV_PLUGINS_DIR, "")
    return tuple(Path(part).expanduser() for part in text.split(os.pathsep) if part.strip())


def plugin_folders(
    paths: Sequence[str | os.PathLike] | None = None, *, with_env: bool = False
) -> tuple[Path, ...]:
    """Return the plugin files and folders to load: absolute, ``~`` expanded, without repeats.

    ``paths`` as given; when ``paths`` is None, those named in ``$DYAD_PLUGINS_DIR``; with
    ``with_env``, ``$DYAD_PLUGINS_DIR``'s first and then ``paths`` (the command line's rule:
    the environment plus ``--plugins-dir``). Absolute, so sweep workers started in another
    folder find the same plugins. The one place this rule lives (the CLI, the model built
    from a scenario and the live view use it).
    """
    if paths is None:
        found: Sequence[str | os.PathLike] = plugin_paths_from_env()
    elif with_env:
        found = (*plugin_paths_from_env(), *paths)
    else:
        found = tuple(paths)
    return tuple(dict.fromkeys(Path(p).expanduser().resolve() for p in found))


def _load_filter() -> frozenset[str] | None:
    """Names from ``$DYAD_LOAD_PLUGINS`` (normalised), or None when it is not set."""
    text = os.environ.get(ENV_LOAD_PLUGINS)
    if text is None:
        return None
    return frozenset(_normalise(part) for part in text.split(",") if part.strip())


_cache: dict[tuple, PolicyRegistry] = {}
_entry_point_cache: dict[tuple, list[importlib.metadata.EntryPoint]] = {}
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


def _discover_entry_points() -> list[importlib.metadata.EntryPoint]:
    """Installed ``dyad.policies`` entry points allowed by ``$DYAD_LOAD_PLUGINS``.

    Scanning every distribution's metadata takes tens of milliseconds, so the result is kept
    per (``sys.path``, filter): validating thousands of sweep runs scans once.
    """
    allowed = _load_filter()
    key = (tuple(sys.path), allowed)
    with _cache_lock:
        cached = _entry_point_cache.get(key)
        if cached is not None:
            return cached
    found = []
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if allowed is not None:
            dist_name = _distribution_of(ep)[0]
            if _normalise(ep.name) not in allowed and _normalise(dist_name) not in allowed:
                logger.debug("plugin %s not in $%s; skipped", ep.name, ENV_LOAD_PLUGINS)
                continue
        found.append(ep)
    with _cache_lock:
        _entry_point_cache[key] = found
    return found


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
    return re.sub(r"[-_.]+", "-", project_name.strip()).lower()


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


def policy_class_problem(policy_class: object) -> str | None:
    """Why ``policy_class`` does not meet the policy contract, or None if it does."""
    try:
        return _policy_class_problem(policy_class)
    except (Exception, SystemExit) as exc:  # a property or schema of the plugin's raised
        return f"checking the class raised {_describe(exc)}"


def _policy_class_problem(policy_class: object) -> str | None:
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


# -- the code's fingerprint ------------------------------------------------------------------


def code_digest(files: Sequence[Path]) -> str:
    r"""Return the SHA-256 of a plugin's code.

    The digest of the file's bytes for one file; for several, of the
    ``sha256sum``-style listing ``<sha256>  <path>\n`` of each file, sorted by path.
    """
    files = sorted(Path(f) for f in files)
    if not files:
        return ""
    digests = []
    for path in files:
        try:
            digests.append((hashlib.sha256(path.read_bytes()).hexdigest(), path))
        except OSError as exc:
            digests.append((f"unreadable ({type(exc).__name__})", path))
    if len(digests) == 1:
        return digests[0][0]
    listing = "".join(f"{digest}  {path}\n" for digest, path in digests)
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()


def _module_files(module: ModuleType) -> tuple[Path, ...]:
    """Return the Python source files of a module: its file, or every ``*.py`` of its package."""
    file = getattr(module, "__file__", None)
    if not file:
        return ()
    path = Path(file).resolve()
    if path.name == "__init__.py" and getattr(module, "__path__", None) is not None:
        return tuple(sorted(p.resolve() for p in path.parent.rglob("*.py")))
    return (path,)


# -- importing local plugin code -------------------------------------------------------------


def _local_module_name(path: Path) -> str:
    """Return a stable module name for a single-file plugin.

    The same path gives the same name in every process.
    """
    stem = re.sub(r"\W", "_", path.stem)
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    return f"{LOCAL_MODULE_PREFIX}{stem}_{digest}"


def _import_file(path: Path) -> ModuleType:
    """Import ``path`` under its stable name, inserted into sys.modules before executing."""
    name = _local_module_name(path)
    module = sys.modules.get(name)
    if module is not None and Path(getattr(module, "__file__", "") or "").resolve() == path:
        return module
    return _exec_module(name, path)


def _import_top_level(root: Path, top: str) -> ModuleType:
    """Import module or package ``top`` from ``root`` under its own name, without sys.path.

    A package gets ``submodule_search_locations``, so its submodules (and relative imports)
    resolve through the package's ``__path__``.
    """
    package = root / top / "__init__.py"
    if package.is_file():
        return _exec_module(top, package, package.parent)
    return _exec_module(top, root / f"{top}.py")


def _exec_module(name: str, path: Path, package_dir: Path | None = None) -> ModuleType:
    locations = [str(package_dir)] if package_dir is not None else None
    spec = importlib.util.spec_from_file_location(name, path, submodule_search_locations=locations)
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
    if isinstance(exc, SyntaxError) and exc.lineno:
        text = f"{exc.msg} (line {exc.lineno})"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
