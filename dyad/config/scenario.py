"""The scenario model: one pydantic table per TOML table, unknown keys forbidden.

A scenario says everything a run depends on besides the seed and the code version: the infant's
expressions and schedule, the parents (face identity, mimicry policy and its parameters), the
visual pre-training, the motor module, the mirror layer, the run length and the output. The
brain's own configs (:class:`~dyad.brain.visnet.VisNetConfig`,
:class:`~dyad.brain.motor.MotorConfig`, :class:`~dyad.brain.mirror.MirrorConfig`,
:class:`~dyad.faces.TransformConfig`) are embedded directly and validated once with the rest.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    field_validator,
    model_validator,
)

from dyad.brain.mirror import MirrorConfig
from dyad.brain.motor import MotorConfig
from dyad.brain.visnet import VisNetConfig
from dyad.faces import EXPRESSIONS, TransformConfig
from dyad.faces.config import MAX_SUPERSAMPLE
from dyad.validation import CONFIG
from dyad.vision.config import MAX_OTHER_FACES, MIN_TRAIN_TRANSFORMS


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
    supersample: PositiveInt = Field(4, le=MAX_SUPERSAMPLE)
    transforms: TransformConfig = Field(
        default_factory=TransformConfig.learnable,
        description="random changes per image: position, size, tilt, yaw, lighting, contrast, "
        "pixel noise and expression intensity; by default model.md's ranges with the shift "
        "at ±4 px, the widest at which VisNet learns expression cells, and the face drawn "
        "×1.4 (scale ×1.26–1.54) so that it fills the view (docs/vision.md)",
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


#: the pre-training set each preset starts from: many people seen a few times each at the
#: classic size (80 other people × 4 transforms: layer 4 then codes the expression, not the
#: person; docs/vision.md), fewer people seen more often at the small size, where the science
#: tests were measured
_PRETRAINING_SETS: dict[str, dict[str, int]] = {
    "classic": {"other_faces": 80, "n_train_transforms": 4},
    "small": {"other_faces": 15, "n_train_transforms": 20},
}


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
    n_train_transforms: int = Field(
        _PRETRAINING_SETS["classic"]["n_train_transforms"],
        ge=MIN_TRAIN_TRANSFORMS,
        description="random transforms per face and expression shown in pre-training "
        "(preset's default: classic 4, small 20)",
    )
    n_test_transforms: PositiveInt = Field(
        20, description="held-out transforms per face and expression for the test phase"
    )
    other_faces: NonNegativeInt = Field(
        _PRETRAINING_SETS["classic"]["other_faces"],
        le=MAX_OTHER_FACES,
        description="faces of other people (drawn from vision.seed) shown in pre-training "
        "beside the parents', so VisNet learns the expression rather than the person "
        "(preset's default: classic 80, small 15)",
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
        """Given keys override the preset's network and pre-training set, whichever are given."""
        if isinstance(data, dict):
            preset = data.get("preset", "classic")
            given = data.get("visnet", {})
            if isinstance(preset, str) and preset in _VISNET_PRESETS and isinstance(given, dict):
                base = dataclasses.asdict(_VISNET_PRESETS[preset]())
                data = {**_PRETRAINING_SETS[preset], **data, "visnet": _deep_merge(base, given)}
        return data

    @model_validator(mode="after")
    def _background_is_the_padding_grey(self) -> VisionSection:
        """Require the faces' background to be V1's padding grey, as pre-training does."""
        grey = self.visnet.v1.padding_grey
        if self.faces.background != grey:
            raise ValueError(
                f"faces.background: expected vision.visnet.v1.padding_grey = {grey} (a uniform "
                f"background must filter to zero), got {self.faces.background}"
            )
        return self


#: the networks ``vision.preset`` starts from: the classic sizes, or the quick small ones. Both
#: have dense layers with sparseness 1 − 1/S and, for three or more expressions, a conscience
#: learnt in shuffled trace blocks ("auto", resolved from the expressions by pre-training;
#: docs/results.md, "Shuffled trace blocks"), and a layer 1 that samples only the two coarsest
#: V1 scales, as an infant's low acuity does (docs/vision.md, deviations 3 and 4). The classic
#: one learns at 0.015 instead of model.md's 0.1: at 0.1 its layer 4 codes the expression with
#: graded cells only (none at the full bit on unseen people), at 0.015 hundreds of cells carry
#: the full bit and three expressions get mirror neurons (docs/vision.md, "Slower learning").
#: The small one trains 40 epochs at 0.1.
CLASSIC_VISNET_LEARNING_RATE = 0.015
_VISNET_PRESETS = {
    "classic": lambda: VisNetConfig(
        sparseness="auto",
        conscience="auto",
        trace_block="auto",
        l1_fan_in=(0, 0, 136, 136),
        learning_rate=(CLASSIC_VISNET_LEARNING_RATE,) * 4,
    ),
    "small": lambda: VisNetConfig.small(
        sparseness="auto",
        conscience="auto",
        trace_block="auto",
        l1_fan_in=(0, 0, 33, 33),
        epochs=(40, 40, 40, 40),
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

    @field_validator("parents")
    @classmethod
    def _distinct_names(
        cls, parents: tuple[ParentSection, ...] | None
    ) -> tuple[ParentSection, ...] | None:
        names = [p.name for p in parents or ()]
        if len(set(names)) != len(names):
            raise ValueError(f"expected distinct parent names, got {names}")
        return parents

    @model_validator(mode="after")
    def _one_way_to_give_parents(self) -> Scenario:
        if self.parent is not None and self.parents is not None:
            raise ValueError("give either [parent] or [[parents]], not both")
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
