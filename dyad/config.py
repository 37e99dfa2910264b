"""Scenario files: TOML in, a validated :class:`Scenario` out, one error line per problem.

A scenario says everything a run depends on besides the seed and the code version: the infant's
expressions and schedule, the parents (face identity, mimicry policy and its parameters), the
visual pre-training, the motor module, the mirror layer, the run length and the output. Unknown
keys are errors, so a misspelt parameter never silently falls back to its default.

Errors name the file, the dotted field path and what was expected::

    scenarios/bad.toml: run.steps: Input should be greater than 0 (got -5)
"""

from __future__ import annotations

import copy
import dataclasses
import json
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    ValidationError,
    field_validator,
    model_validator,
)

from dyad.brain.mirror import MirrorConfig, MotorConfig
from dyad.brain.visnet import VisNetConfig
from dyad.errors import ConfigError, PluginError
from dyad.faces import EXPRESSIONS, TransformConfig
from dyad.validation import CONFIG, validation_problems


def _deep_merge(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class Section(BaseModel):
    """Base of every scenario table: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(**CONFIG, frozen=True)


class RunSection(Section):
    """How long the interaction lasts, and how it is logged and tested."""

    steps: PositiveInt = Field(2000, description="interaction timesteps (training updates)")
    log_every: PositiveInt = Field(1, description="log mirror-layer rates every N timesteps")
    test_trials: PositiveInt = Field(20, description="test trials per expression and modality")
    motor_test_flip: float = Field(
        0.05, ge=0.0, lt=0.5, description="fraction of motor bits flipped per motor test trial"
    )
    test_unseen_face: bool = Field(
        True,
        description="also classify every neuron on a face that neither pre-training nor the "
        "interaction showed (table neurons_by_parent, parent 'unseen face')",
    )

    @field_validator("test_trials")
    @classmethod
    def _enough_for_the_rank_test(cls, value: int) -> int:
        """Fewer trials could never show a significant difference (dyad.analysis.classify)."""
        from dyad.analysis.classify import check_trials

        check_trials(value, what="")
        return value


class InfantSection(Section):
    """The expressions the infant makes and the schedule it makes them on."""

    expressions: tuple[str, ...] = Field(("happy", "sad"), min_length=2)
    schedule: Literal["alternating", "random", "uniform"] = Field(
        "alternating",
        description="alternating: hold each expression hold_length steps, in turn; "
        "random: geometric hold lengths with mean hold_length (Markov switching); "
        "uniform: hold lengths uniform in [hold_length/2, 3*hold_length/2]",
    )
    hold_length: PositiveInt = Field(10, description="timesteps per hold (mean for random)")

    @field_validator("expressions")
    @classmethod
    def _known_and_unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [name for name in value if name not in EXPRESSIONS]
        if unknown:
            raise ValueError(f"unknown expression {unknown[0]!r}; known: {', '.join(EXPRESSIONS)}")
        if len(set(value)) != len(value):
            raise ValueError("expressions must be distinct")
        return value


class ParentSection(Section):
    """One parent: a face (parametric or photographs) and a mimicry policy."""

    name: str = Field("parent", min_length=1)
    identity_seed: NonNegativeInt = Field(0, description="seed of the parent's face identity")
    policy: str = Field("perfect", description="mimicry policy (see `dyad plugins list`)")
    params: dict[str, Any] = Field(default_factory=dict, description="the policy's parameters")
    photos: str | None = Field(
        None,
        min_length=1,
        description="folder of face photographs shown instead of the parametric face "
        "(identity_seed is then unused), relative to the scenario file; files named "
        "<expression>_<n>.<ext> (happy_01.png), or labelled by photo_labels",
    )
    photo_labels: str | None = Field(
        None,
        min_length=1,
        description="CSV with columns file,expression labelling the photos (files relative to "
        "the photos folder), relative to the scenario file; default: labels from file names",
    )

    @model_validator(mode="after")
    def _labels_need_photos(self) -> ParentSection:
        if self.photo_labels is not None and self.photos is None:
            raise ValueError("photo_labels: only used with photos = <folder>")
        return self


class SharingSection(Section):
    """How the infant's time is shared between several parents."""

    mode: Literal["alternate", "random"] = "alternate"
    block_length: PositiveInt = Field(100, description="timesteps with one parent per block")


class FacesSection(Section):
    """How the parents' faces are drawn; the image side is ``vision.visnet.v1.image_size``."""

    background: float = Field(128.0, ge=0, le=255)
    supersample: PositiveInt = 4
    transforms: TransformConfig = Field(
        default_factory=TransformConfig.learnable,
        description="random changes per image: position, size, tilt, yaw, lighting, contrast, "
        "pixel noise and expression intensity; by default model.md's ranges with the shift "
        "at ±4 px, the widest at which VisNet learns expression cells (docs/vision.md)",
    )

    @field_validator("transforms", mode="before")
    @classmethod
    def _start_from_the_default(cls, value: Any) -> Any:
        """Let keys given in ``[vision.faces.transforms]`` override the defaults one by one.

        A bare dataclass would fall back to its own, different, defaults.
        """
        if isinstance(value, dict):
            return {**dataclasses.asdict(TransformConfig.learnable()), **value}
        return value


class VisionSection(Section):
    """Pre-training of the infant's visual system on the parents' faces (cached).

    ``preset = "small"`` starts from :meth:`VisNetConfig.small` (64-px faces, 16×16 layers, a
    few seconds to train) instead of the classic sizes; ``[vision.visnet]`` keys override
    either preset.
    """

    preset: Literal["classic", "small"] = "classic"
    seed: NonNegativeInt = Field(0, description="seed of pre-training (fixed across run seeds)")
    vary_with_run_seed: bool = Field(
        False,
        description="draw the visual system from each run's seed too: the vision seed (VisNet "
        "pre-training and layer-4 banks) is then derived from `seed` and the run's seed, so "
        "runs of a sweep differ in their whole model (each vision seed is pre-trained once "
        "and cached)",
    )
    n_train_transforms: PositiveInt = Field(
        20, description="random transforms per face and expression shown in pre-training"
    )
    n_test_transforms: PositiveInt = Field(
        20, description="held-out transforms per face and expression for the test phase"
    )
    other_faces: NonNegativeInt = Field(
        15,
        le=1000,
        description="faces of other people (drawn from vision.seed) shown in pre-training "
        "beside the parents', so VisNet learns the expression rather than the person",
    )
    presentation: Literal["interleaved", "blocked"] = Field(
        "interleaved",
        description="order within an expression's pre-training block: interleaved cycles "
        "through the people at every transform (binds the expression across people); "
        "blocked shows one person at a time (layer 4 then codes identity)",
    )
    bank_size: PositiveInt = Field(200, description="layer-4 responses per expression and parent")
    faces: FacesSection = FacesSection()
    visnet: VisNetConfig = Field(default_factory=lambda: _VISNET_PRESETS["classic"]())

    @model_validator(mode="before")
    @classmethod
    def _start_from_preset(cls, data: Any) -> Any:
        """``[vision.visnet]`` keys override the preset's network, whichever keys are given."""
        if isinstance(data, dict):
            preset = data.get("preset", "classic")
            given = data.get("visnet", {})
            if isinstance(preset, str) and preset in _VISNET_PRESETS and isinstance(given, dict):
                base = dataclasses.asdict(_VISNET_PRESETS[preset]())
                data = {**data, "visnet": _deep_merge(base, given)}
        return data


#: the networks ``vision.preset`` starts from: the classic sizes, or the quick small ones. Both
#: have dense layers with sparseness 1 − 1/S ("auto", resolved from the expressions by
#: pre-training) and a layer 1 that samples only the two coarsest V1 scales, as an infant's
#: low acuity does (docs/vision.md, deviations 3 and 4); the small one trains 40 epochs.
_VISNET_PRESETS = {
    "classic": lambda: VisNetConfig(sparseness="auto", l1_fan_in=(0, 0, 136, 136)),
    "small": lambda: VisNetConfig.small(
        sparseness="auto", l1_fan_in=(0, 0, 33, 33), epochs=(40, 40, 40, 40)
    ),
}


class OutputSection(Section):
    """Where a run's results are written and what they include."""

    folder: str | None = Field(None, description="default: results/<scenario name>")
    formats: tuple[Literal["png", "svg", "pdf"], ...] = ("png",)
    mirror_rates: bool = Field(True, description="log every mirror-layer rate per timestep")


class SweepSection(Section):
    """The parameter grid of a sweep and the number of seeds per grid point."""

    seeds: PositiveInt = Field(5, description="runs per grid point, seeds derived from `seed`")
    grid: dict[str, list[Any]] = Field(default_factory=dict)

    @field_validator("grid")
    @classmethod
    def _non_empty_axes(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        if not grid:
            raise ValueError("the grid needs at least one parameter with a list of values")
        for key, values in grid.items():
            if not values:
                raise ValueError(f"{key!r} has an empty list of values")
        return grid


class Scenario(Section):
    """A dyad scenario: the settings of a run (or sweep), as validated from a scenario file."""

    name: str = Field(min_length=1)
    description: str = ""
    plugins: tuple[str, ...] = Field(
        (),
        description="plugin files or folders this scenario's policies come from, relative to "
        "the scenario file (stored as absolute paths)",
    )
    seed: int = Field(0, ge=0, description="the run's seed; every random choice derives from it")
    run: RunSection = RunSection()
    infant: InfantSection = InfantSection()
    parent: ParentSection | None = None
    parents: tuple[ParentSection, ...] | None = None
    sharing: SharingSection = SharingSection()
    vision: VisionSection = VisionSection()
    motor: MotorConfig = MotorConfig()
    mirror: MirrorConfig = MirrorConfig()
    output: OutputSection = OutputSection()
    sweep: SweepSection | None = None

    @model_validator(mode="after")
    def _one_way_to_give_parents(self) -> Scenario:
        if self.parent is not None and self.parents is not None:
            raise ValueError("give either [parent] or [[parents]], not both")
        names = [p.name for p in self.all_parents]
        if len(set(names)) != len(names):
            raise ValueError(f"parent names must be distinct, got {names}")
        return self

    @property
    def all_parents(self) -> tuple[ParentSection, ...]:
        """The parents in order: ``[parent]`` or ``[[parents]]`` or one perfect mimic."""
        if self.parents:
            return self.parents
        if self.parent is not None:
            return (self.parent,)
        return (ParentSection(),)

    def parent_path(self, index: int) -> str:
        """Return the dotted path of a parent's table, as the user wrote it."""
        return f"parents.{index}" if self.parents else "parent"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict of every resolved value (defaults included), for manifests."""
        return json.loads(self.model_dump_json())


# --------------------------------------------------------------------------------------------
# Where the documented results hold

#: the most expressions for which docs/results.md shows the documented results
DOCUMENTED_EXPRESSIONS = 3
#: the widest transforms at which docs/vision.md shows VisNet's learnt tolerance
DOCUMENTED_TRANSLATION = 4.0
DOCUMENTED_ROTATION = 8.0
DOCUMENTED_SCALE = (0.9, 1.1)


def scenario_warnings(scenario: Scenario) -> list[str]:
    """Return the settings outside the range where dyad's documented results hold, one line each.

    A run still goes ahead (exploring beyond is legitimate), but its results then stand on
    their own: the lines say which documented claim no longer covers them.
    """
    warnings = []
    n_expressions = len(scenario.infant.expressions)
    if n_expressions > DOCUMENTED_EXPRESSIONS:
        warnings.append(
            f"infant.expressions: {n_expressions} expressions; the documented results hold for "
            f"2 and 3 (docs/results.md, 'More than two expressions'): with more, layer 4 may "
            f"not tell every expression apart and some may get no mirror neurons"
        )
    sparseness = scenario.mirror.sparseness
    if sparseness != "auto" and abs(sparseness - (1 - 1 / n_expressions)) > 0.01:
        warnings.append(
            f"mirror.sparseness: {sparseness:g} differs from 1 - 1/S = {1 - 1 / n_expressions:.3g} "
            f"for {n_expressions} expressions: not every neuron can win for exactly one "
            f"expression, so T1 (every neuron a mirror neuron) is not expected"
        )
    transforms = scenario.vision.faces.transforms
    if (
        transforms.translation > DOCUMENTED_TRANSLATION
        or transforms.rotation > DOCUMENTED_ROTATION
        or transforms.scale[0] < DOCUMENTED_SCALE[0]
        or transforms.scale[1] > DOCUMENTED_SCALE[1]
    ):
        warnings.append(
            "vision.faces.transforms: beyond the ranges VisNet is shown to learn to tolerate "
            f"(±{DOCUMENTED_TRANSLATION:g} px, ±{DOCUMENTED_ROTATION:g}°, ×{DOCUMENTED_SCALE[0]:g}"
            f"–{DOCUMENTED_SCALE[1]:g}; docs/vision.md, 'Tolerance')"
        )
    return warnings


# --------------------------------------------------------------------------------------------
# Loading


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


def scenario_plugin_paths(raw: Mapping[str, Any]) -> tuple[Path, ...]:
    """Return the plugin paths a raw scenario names (only when they are a list of strings)."""
    plugins = raw.get("plugins")
    if isinstance(plugins, list | tuple) and all(isinstance(p, str) for p in plugins):
        return tuple(Path(p) for p in plugins)
    return ()


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
    try:
        problems.extend(policy_problems(_raw_parents(raw), source, paths))
    except PluginError as exc:  # a plugin path that does not exist, or a broken plugin
        problems.extend(f"{source}: plugins: {line}" for line in str(exc).splitlines())
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
    try:
        problems = policy_problems(parents, source, paths)
    except PluginError as exc:
        problems = [f"{source}: plugins: {line}" for line in str(exc).splitlines()]
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
    """Each parent's policy exists and its ``params`` pass the policy's own schema."""
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
