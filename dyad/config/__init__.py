"""Scenario files: TOML in, a validated :class:`Scenario` out, one error line per problem.

Unknown keys are errors, so a misspelt parameter never silently falls back to its default.
Errors name the file, the dotted field path and what was expected::

    scenarios/bad.toml: run.steps: Input should be greater than 0 (got -5)

The package is split by concern: :mod:`~dyad.config.scenario` (the :class:`Scenario` model and
its tables), :mod:`~dyad.config.reading` (TOML files, relative paths, dotted overrides,
:func:`load_scenario`), :mod:`~dyad.config.checks` (:func:`validate_scenario`, and the policy
checks before a run: :func:`check_policies`, :func:`check_scenario`) and
:mod:`~dyad.config.documented` (:func:`scenario_warnings`: settings beyond the documented
results).
"""

from dyad.config.checks import (
    check_policies,
    check_scenario,
    photo_problems,
    policy_problems,
    rehearse_policies,
    scenario_plugin_paths,
    validate_scenario,
)
from dyad.config.documented import (
    DOCUMENTED_EXPRESSIONS,
    DOCUMENTED_ROTATION,
    DOCUMENTED_SCALE_SPREAD,
    DOCUMENTED_TRANSLATION,
    scenario_warnings,
)
from dyad.config.reading import (
    PARENT_PATH_FIELDS,
    apply_overrides,
    load_scenario,
    parse_override,
    read_scenario,
    read_toml,
    resolve_parent_paths,
    resolve_plugin_paths,
)
from dyad.config.scenario import (
    FacesSection,
    InfantSection,
    OutputSection,
    ParentSection,
    RunSection,
    Scenario,
    Section,
    SharingSection,
    SweepSection,
    VisionSection,
)

__all__ = [
    "DOCUMENTED_EXPRESSIONS",
    "DOCUMENTED_ROTATION",
    "DOCUMENTED_SCALE_SPREAD",
    "DOCUMENTED_TRANSLATION",
    "PARENT_PATH_FIELDS",
    "FacesSection",
    "InfantSection",
    "OutputSection",
    "ParentSection",
    "RunSection",
    "Scenario",
    "Section",
    "SharingSection",
    "SweepSection",
    "VisionSection",
    "apply_overrides",
    "check_policies",
    "check_scenario",
    "load_scenario",
    "parse_override",
    "photo_problems",
    "policy_problems",
    "read_scenario",
    "read_toml",
    "rehearse_policies",
    "resolve_parent_paths",
    "resolve_plugin_paths",
    "scenario_plugin_paths",
    "scenario_warnings",
    "validate_scenario",
]
