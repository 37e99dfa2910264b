"""The policy contract: what a class registered through the hook must be.

:func:`policy_class_problem` says why a class does not meet the contract of
:func:`dyad.hookspecs.dyad_register_policies` (one line), or None; the loader skips such a
class and reports the line as a problem of its plugin.
"""

from __future__ import annotations

import inspect
import re

from pydantic import BaseModel, ValidationError

_NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*$")


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


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if isinstance(exc, SyntaxError) and exc.lineno:
        text = f"{exc.msg} (line {exc.lineno})"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
