"""One run of a scenario, end to end: pre-train → interact → test → classify → save.

A run is a pure function of (scenario, seed, code version): every random choice comes from
streams spawned from the run's seed, and the visual pre-training (cached on disk) from the
scenario's ``vision.seed``, so runs of different seeds share one pre-trained visual system.
"""

from __future__ import annotations

import logging
import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dyad import __version__
from dyad.config import Scenario

log = logging.getLogger(__name__)

#: names of the independent random streams of one run, spawned in this order from its seed
STREAMS = ("schedule", "sharing", "motor", "mirror", "experience", "test", "model", "policies")


@dataclass
class RunOutcome:
    """What a run produced: tidy tables, a summary and the manifest (and where it was saved)."""

    folder: Path | None
    tables: dict[str, pd.DataFrame]
    summary: dict[str, Any]
    manifest: dict[str, Any] = field(default_factory=dict)


def run_streams(seed: int) -> dict[str, np.random.Generator]:
    """Independent generators for each purpose, derived from the run's seed."""
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {
        name: np.random.default_rng(child) for name, child in zip(STREAMS, children, strict=True)
    }


def pretrain_config(scenario: Scenario):
    """The visual pre-training a scenario asks for (all parents' faces, its expressions)."""
    from dyad.faces import FaceConfig
    from dyad.vision import PretrainConfig

    vision = scenario.vision
    faces = FaceConfig(
        size=vision.visnet.v1.image_size,
        background=vision.faces.background,
        supersample=vision.faces.supersample,
        transforms=vision.faces.transforms,
    )
    return PretrainConfig(
        faces=faces,
        visnet=vision.visnet,
        expressions=tuple(scenario.infant.expressions),
        identity_seeds=tuple(sorted({p.identity_seed for p in scenario.all_parents})),
        n_train_transforms=vision.n_train_transforms,
        n_test_transforms=vision.n_test_transforms,
        seed=vision.seed,
    )


def bank_seed(vision_seed: int, identity_seed: int, purpose: str) -> int:
    """An integer seed for one parent's layer-4 bank, distinct per purpose.

    Integer seeds let banks be cached; deriving them from the vision seed (not the run seed)
    lets every run of a sweep share the same banks, like it shares the pre-trained network.
    """
    code = {"training": 1, "test": 2}[purpose]
    return int(np.random.SeedSequence([vision_seed, identity_seed, code]).generate_state(1)[0])


def response_banks(
    pretrained,
    identity_seeds: Sequence[int],
    n_bank: int,
    n_test: int,
    cache_dir: Path | None = None,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Frozen-VisNet layer-4 responses for the interaction and for the test phase.

    Returns ``(training, test)``, each ``(n_parents, n_expressions, n, n_l4) float32``: random
    transforms of each parent's face showing each expression, the test ones held out (drawn
    from another seed) so the test phase never shows an image seen during training.
    """
    from dyad.vision import layer4_bank

    config = pretrained.config
    banks = []
    for purpose, n in (("training", n_bank), ("test", n_test)):
        banks.append(
            np.stack(
                [
                    layer4_bank(
                        pretrained,
                        config.expressions,
                        n,
                        bank_seed(config.seed, identity, purpose),
                        identity_seed=identity,
                        cache_dir=cache_dir,
                        progress=progress,
                    )
                    for identity in identity_seeds
                ]
            )
        )
    return banks[0], banks[1]


def prepare_vision(
    scenario: Scenario, cache_dir: Path | None = None, progress: bool = False
) -> tuple[Any, np.ndarray, np.ndarray]:
    """The frozen visual system of a scenario and its layer-4 banks (all cached on disk).

    Returns ``(pretrained, training_bank, test_bank)``; the banks are
    ``(n_parents, n_expressions, n, n_l4)``, one row per parent in the scenario's order.
    """
    from dyad.vision import pretrain

    pretrained = pretrain(pretrain_config(scenario), cache_dir=cache_dir, progress=progress)
    training_bank, test_bank = response_banks(
        pretrained,
        identity_seeds=[p.identity_seed for p in scenario.all_parents],
        n_bank=scenario.vision.bank_size,
        n_test=scenario.vision.n_test_transforms,
        cache_dir=cache_dir,
        progress=progress,
    )
    return pretrained, training_bank, test_bank


def run_scenario(
    scenario: Scenario,
    *,
    seed: int | None = None,
    output: Path | None = None,
    cache_dir: Path | None = None,
    plugin_dirs: Sequence[Path] = (),
    progress: bool = False,
    figures: bool = True,
    overwrite: bool = True,
) -> RunOutcome:
    """Run one scenario; with ``output``, save tables, figures and manifest there."""
    from threadpoolctl import threadpool_limits

    seed = scenario.seed if seed is None else seed
    timings: dict[str, float] = {}
    started = time.perf_counter()

    # 1. the infant's visual system, pre-trained on its parents' faces (cached)
    clock = time.perf_counter()
    pretrained, training_bank, test_bank = prepare_vision(scenario, cache_dir, progress)
    timings["vision_s"] = time.perf_counter() - clock

    # 2. the brain and the agents' plans, all from the run's seed
    with threadpool_limits(limits=1, user_api="blas"):
        return _interact(
            scenario,
            seed,
            pretrained,
            training_bank,
            test_bank,
            timings,
            started,
            output,
            plugin_dirs,
            progress,
            figures,
            overwrite,
        )


def _interact(
    scenario: Scenario,
    seed: int,
    pretrained,
    training_bank: np.ndarray,
    test_bank: np.ndarray,
    timings: dict[str, float],
    started: float,
    output: Path | None,
    plugin_dirs: Sequence[Path],
    progress: bool,
    figures: bool,
    overwrite: bool,
) -> RunOutcome:
    """Interaction, test phases, tables and saving, with BLAS on one thread.

    The per-timestep updates are small (a few hundred kB of weights): a second BLAS thread
    only adds synchronisation, and on a busy 2-core machine its spin-waiting made the loop
    over 10x slower (578 vs 7,668 timesteps/s measured). Parallelism comes from sweeps.
    """
    from dyad.analysis.classify import classify_neurons
    from dyad.brain.infant import InfantBrain
    from dyad.brain.mirror import MirrorLayer, MotorModule
    from dyad.model import DyadModel
    from dyad.plugins import load_registry
    from dyad.policies import PolicyContext
    from dyad.progress import progress_bar
    from dyad.schedules import infant_schedule, parent_schedule

    expressions = tuple(scenario.infant.expressions)
    parents = scenario.all_parents
    n_steps = scenario.run.steps
    streams = run_streams(seed)
    registry = load_registry(plugin_dirs=(*plugin_dirs, *scenario.plugins), strict=True)
    context = PolicyContext(
        expressions=expressions, n_steps=n_steps, hold_length=scenario.infant.hold_length
    )
    policy_rngs = streams["policies"].spawn(len(parents))
    policies = [
        registry.create(p.policy, p.params, context, rng)
        for p, rng in zip(parents, policy_rngs, strict=True)
    ]
    preroll = max(int(getattr(policy, "lookback", 0)) for policy in policies)
    schedule = infant_schedule(
        scenario.infant.schedule,
        len(expressions),
        scenario.infant.hold_length,
        n_steps,
        streams["schedule"],
        preroll=preroll,
    )
    present = parent_schedule(
        scenario.sharing.mode,
        len(parents),
        scenario.sharing.block_length,
        n_steps,
        streams["sharing"],
    )
    motor = MotorModule(scenario.motor, len(expressions), streams["motor"])
    mirror = MirrorLayer(
        scenario.mirror, training_bank.shape[-1], motor.patterns.shape[1], streams["mirror"]
    )
    brain = InfantBrain(training_bank, test_bank, motor, mirror, streams["experience"])
    brain.calibrate()

    # 3. test phase before training, the interaction, test phase after (§10)
    trials, flip = scenario.run.test_trials, scenario.run.motor_test_flip
    before = brain.test(trials, flip, streams["test"])
    model = DyadModel(
        brain,
        schedule,
        present,
        policies,
        [p.name for p in parents],
        expressions,
        policy_sources=[registry.get(p.policy).source for p in parents],
        preroll=preroll,
        log_every=scenario.run.log_every,
        log_mirror_rates=scenario.output.mirror_rates,
        rng=streams["model"],
    )
    clock = time.perf_counter()
    chunk = max(1, n_steps // 100)
    with progress_bar(length=n_steps, label="interaction", enabled=progress) as bar:
        while model.t < n_steps:
            todo = min(chunk, n_steps - model.t)
            model.run_for(todo)
            bar.update(todo)
    timings["interaction_s"] = time.perf_counter() - clock
    timings["steps_per_s"] = n_steps / max(timings["interaction_s"], 1e-9)
    after = brain.test(trials, flip, streams["test"])

    # 4. tables, classification and summary
    test_responses = pd.concat(
        [
            test_table(before, "before", expressions, [p.name for p in parents]),
            test_table(after, "after", expressions, [p.name for p in parents]),
        ],
        ignore_index=True,
    )
    neurons = pd.concat(
        [
            classify_neurons(test_responses[test_responses["phase"] == phase], expressions).assign(
                phase=phase
            )
            for phase in ("before", "after")
        ],
        ignore_index=True,
    )
    interaction = model.interaction_table()
    tables = {
        "interaction": interaction,
        "test_responses": test_responses,
        "neurons": neurons,
        "layer4_summary": layer4_summary(training_bank, interaction),
    }
    if scenario.output.mirror_rates:
        tables["mirror_rates"] = model.mirror_rates_table()
    if len(parents) > 1:
        tables["neurons_by_parent"] = classify_per_parent(test_responses, expressions)
    summary = summarise(neurons[neurons["phase"] == "after"], interaction)
    if "neurons_by_parent" in tables:
        per_parent = tables["neurons_by_parent"].query("phase == 'after'")
        summary["mirror_by_parent"] = {
            str(name): int((group["neuron_class"] == "mirror").sum())
            for name, group in per_parent.groupby("parent", observed=True)
        }
    timings["total_s"] = time.perf_counter() - started
    manifest = {
        "kind": "dyad-run",
        "scenario": scenario.to_dict(),
        "seed": seed,
        "dyad_version": __version__,
        "python": platform.python_version(),
        "plugin_sources": {p.policy: registry.get(p.policy).source for p in parents},
        "policies": registry.provenance([p.policy for p in parents]),
        "pretrained_cache_key": getattr(pretrained, "key", None),
        "summary": summary,
        "timings": timings,
    }
    folder = None
    if output is not None:
        folder = save_run(Path(output), tables, manifest, scenario, figures, overwrite)
    return RunOutcome(folder=folder, tables=tables, summary=summary, manifest=manifest)


def save_run(
    folder: Path,
    tables: dict[str, pd.DataFrame],
    manifest: dict[str, Any],
    scenario: Scenario,
    figures: bool,
    overwrite: bool,
) -> Path:
    """Figures first, then tables, then the manifest (last: it marks the run complete)."""
    from dyad.errors import ResultsError
    from dyad.store import write_run

    manifest_path = folder / "manifest.json"
    if manifest_path.exists():
        if not overwrite:
            raise ResultsError(f"{folder}: already holds a complete run (use --overwrite)")
        # the old run stops counting as complete before any of its files is replaced
        manifest_path.unlink()

    figure_paths: dict[str, Path] = {}
    if figures:
        from dyad.analysis.figures import plot_firing_rates, plot_interaction

        figure_dir = folder / "figures"
        figure_dir.mkdir(parents=True, exist_ok=True)
        formats = tuple(scenario.output.formats)
        written = plot_firing_rates(
            tables["test_responses"],
            tables["neurons"],
            figure_dir / "firing_rates",
            formats=formats,
        )
        written += plot_interaction(
            tables["interaction"], figure_dir / "interaction", formats=formats
        )
        figure_paths = {Path(p).name: Path(p) for p in written}
    return write_run(folder, tables, manifest, figures=figure_paths, overwrite=overwrite)


def test_table(
    responses, phase: str, expressions: Sequence[str], parent_names: Sequence[str]
) -> pd.DataFrame:
    """Tidy rows ``phase, condition, expression, parent, trial, neuron, rate`` of one test."""
    visual = responses.visual  # (n_parents, S, trials, N)
    motor = responses.motor  # (S, trials, N)
    n_parents, n_expr, n_trials, n_neurons = visual.shape
    # visual trials of all parents are numbered consecutively per expression
    v_parent, v_expr, v_trial, v_neuron = np.meshgrid(
        np.arange(n_parents),
        np.arange(n_expr),
        np.arange(n_trials),
        np.arange(n_neurons),
        indexing="ij",
    )
    m_expr, m_trial, m_neuron = np.meshgrid(
        np.arange(n_expr), np.arange(motor.shape[1]), np.arange(n_neurons), indexing="ij"
    )
    parent_codes = np.concatenate([v_parent.ravel(), np.full(m_expr.size, -1)])
    return pd.DataFrame(
        {
            "phase": phase,
            "condition": pd.Categorical(
                np.repeat(["visual", "motor"], [visual.size, motor.size]),
                categories=["visual", "motor"],
            ),
            "expression": pd.Categorical.from_codes(
                np.concatenate([v_expr.ravel(), m_expr.ravel()]), list(expressions)
            ),
            "parent": pd.Categorical.from_codes(parent_codes, list(parent_names)),
            "trial": np.concatenate(
                [(v_parent * n_trials + v_trial).ravel(), m_trial.ravel()]
            ).astype(np.int32),
            "neuron": np.concatenate([v_neuron.ravel(), m_neuron.ravel()]).astype(np.int32),
            "rate": np.concatenate([visual.ravel(), motor.ravel()]).astype(np.float32),
        }
    )


def classify_per_parent(test_responses: pd.DataFrame, expressions: Sequence[str]) -> pd.DataFrame:
    """Neuron classes judged on one parent's face at a time (motor trials shared).

    Answers whether mirror neurons generalise across faces: a neuron that is a mirror neuron
    for every parent's face responds to the expression, not to one person showing it.
    """
    from dyad.analysis.classify import classify_neurons

    motor = test_responses[test_responses["condition"] == "motor"]
    visual = test_responses[test_responses["condition"] == "visual"]
    frames = []
    for phase in ("before", "after"):
        for parent in visual["parent"].cat.categories:
            rows = pd.concat(
                [
                    visual[(visual["phase"] == phase) & (visual["parent"] == parent)],
                    motor[motor["phase"] == phase],
                ]
            )
            frames.append(classify_neurons(rows, expressions).assign(phase=phase, parent=parent))
    return pd.concat(frames, ignore_index=True)


def layer4_summary(training_bank: np.ndarray, interaction: pd.DataFrame) -> pd.DataFrame:
    """Per timestep: how many layer-4 cells fired, their mean rate and Treves–Rolls sparseness."""
    rates = training_bank  # (n_parents, S, n_bank, n_l4)
    active = (rates >= 0.5).sum(axis=-1)
    mean = rates.mean(axis=-1)
    sparseness = mean**2 / np.maximum((rates**2).mean(axis=-1), 1e-12)
    parent = interaction["parent"].cat.codes.to_numpy()
    shown = interaction["parent_expression"].cat.codes.to_numpy()
    item = interaction["transform"].to_numpy()
    return pd.DataFrame(
        {
            "t": interaction["t"].to_numpy(),
            "l4_active": active[parent, shown, item].astype(np.int32),
            "l4_mean_rate": mean[parent, shown, item].astype(np.float32),
            "l4_sparseness": sparseness[parent, shown, item].astype(np.float32),
        }
    )


def summarise(neurons: pd.DataFrame, interaction: pd.DataFrame) -> dict[str, Any]:
    """Class counts, mirror index, selectivity correlation and the dominant outcome."""
    from dyad.analysis.classify import NEURON_CLASSES, mirror_index, selectivity_correlation

    counts = neurons["neuron_class"].value_counts()
    class_counts = {name: int(counts.get(name, 0)) for name in NEURON_CLASSES}
    n = len(neurons)
    n_mirror, n_anti = class_counts["mirror"], class_counts["anti-mirror"]
    if n_mirror >= 0.5 * n and n_mirror > n_anti:
        dominant = "mirror"
    elif n_anti >= 0.5 * n and n_anti > n_mirror:
        dominant = "anti-mirror"
    else:
        dominant = "neither"
    return {
        "n_neurons": n,
        "class_counts": class_counts,
        "mirror_index": _finite(mirror_index(neurons)),
        "selectivity_correlation": _finite(selectivity_correlation(neurons)),
        "dominant": dominant,
        "congruence": float(interaction["congruent"].mean()),
    }


def _finite(value: float) -> float | None:
    """JSON has no NaN: undefined statistics are stored as null."""
    return None if value is None or not np.isfinite(value) else float(value)
