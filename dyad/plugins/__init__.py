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

The package is split by concern, in the style of llm and datasette (the hooks themselves are
in :mod:`dyad.hookspecs`): :mod:`~dyad.plugins.discovery` (which plugin paths and installed
entry points to load), :mod:`~dyad.plugins.importing` (importing local plugin code without
``sys.path``, hashing it), :mod:`~dyad.plugins.contract` (what a policy class must be),
:mod:`~dyad.plugins.loading` (the plugin manager: :func:`load_registry`) and
:mod:`~dyad.plugins.registry` (:class:`PolicyRegistry`, what a run looks policies up in).
"""

from dyad.plugins.contract import policy_class_problem
from dyad.plugins.discovery import (
    ENTRY_POINT_GROUP,
    ENV_LOAD_PLUGINS,
    ENV_PLUGINS_DIR,
    plugin_folders,
    plugin_paths_from_env,
)
from dyad.plugins.importing import LOCAL_MODULE_PREFIX, code_digest
from dyad.plugins.loading import (
    BUILTIN_PLUGINS,
    BUILTIN_SOURCE,
    DyadPluginWarning,
    load_registry,
)
from dyad.plugins.registry import REHEARSAL_STEPS, PolicyEntry, PolicyRegistry

__all__ = [
    "BUILTIN_PLUGINS",
    "BUILTIN_SOURCE",
    "ENTRY_POINT_GROUP",
    "ENV_LOAD_PLUGINS",
    "ENV_PLUGINS_DIR",
    "LOCAL_MODULE_PREFIX",
    "REHEARSAL_STEPS",
    "DyadPluginWarning",
    "PolicyEntry",
    "PolicyRegistry",
    "code_digest",
    "load_registry",
    "plugin_folders",
    "plugin_paths_from_env",
    "policy_class_problem",
]
