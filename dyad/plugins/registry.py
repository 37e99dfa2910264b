"""The registry of parent policies a run can use: look-up, parameters, creation, rehearsal."""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pluggy
from pydantic import BaseModel, ValidationError

from dyad._io import is_int
from dyad.errors import ConfigError, DyadError, PluginError
from dyad.plugins.contract import _describe

#: timesteps of the trial run of each policy before a run starts (see PolicyRegistry.rehearse)
REHEARSAL_STEPS = 20


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
        except (ValidationError, DyadError):
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
        if not is_int(lookback) or lookback < 0:
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
