"""The one validation system of dyad's configurations: frozen pydantic dataclasses.

Every configuration (the faces' transforms and renderer, V1, VisNet, the motor code, the mirror
layer, pre-training, and the scenario tables of :mod:`dyad.config`) declares its constraints as
data: ``Field(gt=..., ge=...)``, ``Literal`` choices, the annotated types below and model
validators for rules between fields. Pydantic checks them once, whether a configuration is built
in Python or nested in a scenario, and every problem becomes one line in the same format::

    scenarios/bad.toml: mirror.slope: Input should be greater than 0 (got -1)
    slope: Input should be greater than 0 (got -1)            (built in Python, no file)

Configurations built in Python raise :class:`~dyad.errors.ConfigError` (the CLI turns it into
exit code 2); nested in a scenario, their errors carry the scenario's dotted path.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Discriminator, Field, Tag, ValidationError
from pydantic.dataclasses import dataclass as pydantic_dataclass

from dyad._io import is_int
from dyad.errors import ConfigError

#: settings shared by every configuration: unknown keys are errors, infinities and NaN are not
#: numbers
CONFIG = ConfigDict(extra="forbid", allow_inf_nan=False)


def _no_bool_or_float(value: Any) -> Any:
    if isinstance(value, bool | float):
        raise ValueError("expected an integer")  # the line ends "(got <value>)"
    return value


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected a number")
    return value


def integer(**constraints: Any) -> Any:
    """Return an integer type with ``Field`` constraints (``ge=1``).

    Not a bool or a float; numeric strings and numpy integers are read as integers, as
    everywhere in a scenario.
    """
    return Annotated[int, Field(**constraints), BeforeValidator(_no_bool_or_float)]


def real(**constraints: Any) -> Any:
    """Return a finite real number type with ``Field`` constraints (``gt=0``): not a bool."""
    return Annotated[float, Field(**constraints), BeforeValidator(_no_bool)]


#: an integer (see :func:`integer`); bounds go in the field's ``Field(...)``
Int = integer()
#: a finite real number (see :func:`real`); bounds go in the field's ``Field(...)``
Real = real()


def check_int(name: str, value: object, low: int, high: int | None = None) -> int:
    """Return ``value`` as an int if it is an integer in [low, high] (not a bool), else raise.

    For plain function arguments (configurations declare :data:`Int` fields instead): a
    :class:`~dyad.errors.ConfigError` ``"<name>: expected an integer >= <low>, got <value>"``.
    """
    if not is_int(value) or value < low or (high is not None and value > high):
        bound = f"an integer >= {low}" if high is None else f"an integer in [{low}, {high}]"
        raise ConfigError(f"{name}: expected {bound}, got {value!r}")
    return int(value)


def check_seed(name: str, seed: object) -> int | None:
    """Return a seed as an int (None stays None) if it is a non-negative integer, else raise.

    Python and numpy integers, not bools; the :class:`~dyad.errors.ConfigError` reads
    ``"<name>: expected a non-negative integer, got <seed>"``.
    """
    if seed is None:
        return None
    if not is_int(seed) or seed < 0:
        raise ConfigError(f"{name}: expected a non-negative integer, got {seed!r}")
    return int(seed)


def check_number(name: str, value: object, low: float, high: float) -> float:
    """Return ``value`` as a float if it is a finite number in [low, high] (not a bool), else raise.

    The :class:`~dyad.errors.ConfigError` reads ``"<name>: expected a number in [low, high], got
    <value>"``.
    """
    finite = isinstance(value, int | float) and math.isfinite(value)
    if isinstance(value, bool) or not finite or not low <= value <= high:
        raise ConfigError(f"{name}: expected a number in [{low}, {high}], got {value!r}")
    return float(value)


def _auto_or_value(value: Any) -> str:
    """Return the branch a value is checked against.

    Numbers, numeric strings ("1024", as ``--set`` gives them) and sequences go to the value,
    any other string to "auto".
    """
    if not isinstance(value, str):
        return "<value>"
    try:
        float(value)
    except ValueError:
        return "<auto>"
    return "<value>"


def auto_or(value_type: Any) -> Any:
    """Return the type of a field that is either ``"auto"`` (resolved later) or a ``value_type``.

    Only one branch is validated (a string is checked against "auto", anything else against
    ``value_type``), so a wrong number gets one error at its own path rather than one per branch.
    """
    return Annotated[
        Annotated[value_type, Tag("<value>")] | Annotated[Literal["auto"], Tag("<auto>")],
        Discriminator(_auto_or_value),
    ]


def _one_or_each(value: Any) -> str:
    """Return the branch a value is checked against: a list or tuple goes to "each"."""
    return "<each>" if isinstance(value, list | tuple) else "<one>"


def one_or_per_layer(value_type: Any) -> Any:
    """Return the type of a field that is one ``value_type`` for all layers or one per layer.

    As :func:`auto_or`, only one branch is validated, so a wrong value gets one error at its
    own path.
    """
    return Annotated[
        Annotated[value_type, Tag("<one>")] | Annotated[tuple[value_type, ...], Tag("<each>")],
        Discriminator(_one_or_each),
    ]


def frozen_config[T](cls: type[T]) -> type[T]:
    """Make ``cls`` a frozen pydantic dataclass whose Python construction raises ConfigError.

    ``dataclasses.replace``, ``dataclasses.asdict`` and keyword construction keep working (a
    pydantic dataclass is a standard dataclass); nested in a pydantic model, the class is
    validated by the model's own schema, once, and its errors carry the model's field path.
    """
    config_cls = pydantic_dataclass(frozen=True, config=CONFIG)(cls)
    validate = config_cls.__init__
    names = [field.name for field in dataclasses.fields(config_cls)]

    @functools.wraps(validate)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        given = dict(zip(names, args, strict=False))
        if len(args) <= len(names) and not given.keys() & kwargs.keys():
            args, kwargs = (), {**given, **kwargs}  # errors then name the field, not "0"
        try:
            validate(self, *args, **kwargs)
        except ValidationError as exc:
            raise ConfigError(validation_problems(exc)) from None

    config_cls.__init__ = __init__  # type: ignore[method-assign]
    return config_cls


def _shows_input(error: Any) -> bool:
    """Whether an error's input is a value worth quoting (not a whole table or object)."""
    if error["type"] in ("missing", "extra_forbidden", "unexpected_keyword_argument"):
        return False
    value = error.get("input")
    if isinstance(value, tuple | list):  # a list of values, not a list of tables
        return not any(isinstance(item, dict | tuple | list) for item in value)
    return isinstance(value, str | int | float | bool | type(None))


def _is_branch(part: str | int) -> bool:
    """Whether a location part names a union branch (see :func:`auto_or`) rather than a field."""
    return part == "__root__" or (isinstance(part, str) and part.startswith("<"))


def validation_problems(
    exc: ValidationError, source: str | None = None, prefix: str = ""
) -> list[str]:
    """One line per pydantic error: ``[source: ]dotted.path: message (got value)``.

    ``prefix`` is prepended to every path (e.g. ``parents.0.params`` for a policy's own
    schema). A rule between fields reports the path of the table it checks; at the top level
    of a configuration built in Python the line starts with the message.
    """
    lines = []
    for error in exc.errors():
        path = ".".join(str(part) for part in error["loc"] if not _is_branch(part))
        if prefix:
            path = f"{prefix}.{path}" if path else prefix
        message = error["msg"]
        if error["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
            message = "unknown key (not a field of this table)"
        elif error["type"] == "value_error":
            message = message.removeprefix("Value error, ")
        suffix = f" (got {error['input']!r})" if _shows_input(error) else ""
        for part in message.splitlines() or [message]:
            where = [source] if source is not None else []
            where += [path] if path else ([] if source is None else ["(top level)"])
            lines.append(": ".join([*where, f"{part}{suffix}"]))
    return lines
