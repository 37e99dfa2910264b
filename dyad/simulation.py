"""One run of a scenario, end to end: pre-train → interact → test → classify → save.

A run is a pure function of (scenario, seed, code version): every random choice comes from
streams spawned from the run's seed, and the visual pre-training (cached on disk) from the
scenario's ``vision.seed``, so runs of different seeds share one pre-trained visual system
(unless ``vision.vary_with_run_seed``: then each run seed draws its own, see :func:`vision_seed`).
"""

from __future__ import annotations

import logging
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dyad import __version__
from dyad.analysis import ACTIVE_RATE, NEURON_CLASSES, dominant_class
from dyad.config import Scenario
from dyad.store import Run, categorize, load_run

if TYPE_CHECKING:
    from dyad.brain.infant import ProbeResponses
    from dyad.vision import PhotoSet

log = logging.getLogger(__name__)

#: draws a run's figures: ``(tables, folder, formats, manifest=...) -> [paths written]``
FigureDrawer = Callable[..., Sequence[Path]]

#: names of the independent random streams of one run, spawned in this order from its seed.
#: "model" seeds Mesa's own ``model.rng``/``model.random``, which dyad never draws from; it
#: stays because the order is part of every result: dropping it would hand "policies" another
#: child of the seed and change every run with a random policy.
STREAMS = ("schedule", "sharing", "motor", "mirror", "experience", "test", "model", "policies")


def run_streams(seed: int) -> dict[str, np.random.Generator]:
    """Independent generators for each purpose, derived from the run's seed."""
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {
        name: np.random.default_rng(child) for name, child in zip(STREAMS, children, strict=True)
    }


def vision_seed(scenario: Scenario, run_seed: int | None = None) -> int:
    """Return the seed of a run's visual system (VisNet pre-training and its layer-4 banks).

    ``vision.seed`` itself, shared by every run seed; with ``vision.vary_with_run_seed`` a seed
    derived from ``vision.seed`` and the run's seed (default ``scenario.seed``), so each run
    seed draws its own pre-trained network and banks. It is derived through ``SeedSequence``
    rather than equal to the run's seed, so pre-training's streams never coincide with the
    run's own streams of the same seed.
    """
    vision = scenario.vision
    if not vision.vary_with_run_seed:
        return vision.seed
    run_seed = scenario.seed if run_seed is None else run_seed
    state = np.random.SeedSequence([vision.seed, run_seed]).generate_state(1, dtype=np.uint32)
    return int(state[0])


def pretrain_config(scenario: Scenario, run_seed: int | None = None):
    """Return the visual pre-training a scenario asks for.

    All parents' faces and its expressions, with the run's vision seed (:func:`vision_seed`).
    """
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
        identity_seeds=tuple(
            sorted({p.identity_seed for p in scenario.all_parents if p.photos is None})
        ),
        n_train_transforms=vision.n_train_transforms,
        n_test_transforms=vision.n_test_transforms,
        seed=vision_seed(scenario, run_seed),
        n_other_faces=vision.other_faces,
        presentation=vision.presentation,
        photo_sets=tuple(
            dict.fromkeys(face for face in parent_faces(scenario) if not isinstance(face, int))
        ),
    )


def parent_faces(scenario: Scenario) -> list[int | PhotoSet]:
    """Return each parent's face in the scenario's order.

    Its identity seed (a parametric face), or a
    :class:`dyad.vision.PhotoSet` when the parent's table names a ``photos`` folder.
    """
    from dyad.vision import PhotoSet

    return [
        p.identity_seed if p.photos is None else PhotoSet.from_folder(p.photos, p.photo_labels)
        for p in scenario.all_parents
    ]


def bank_seed(vision_seed: int, identity_seed: int | PhotoSet, purpose: str) -> int:
    """Return an integer seed for one parent's layer-4 bank, distinct per purpose.

    A parent given as photographs enters by its content digest.

    Integer seeds let banks be cached; deriving them from the vision seed (not the run seed)
    lets every run of a sweep share the same banks, like it shares the pre-trained network.
    """
    code = {"training": 1, "test": 2}[purpose]
    if not isinstance(identity_seed, int):  # a parent given as photos: its content digest
        identity_seed = int(identity_seed.digest[:16], 16)
    return int(np.random.SeedSequence([vision_seed, identity_seed, code]).generate_state(1)[0])


def response_banks(
    pretrained,
    identity_seeds: Sequence[int | PhotoSet],
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
    from dyad.progress import progress_callback
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
                        progress=progress_callback(progress),
                    )
                    for identity in identity_seeds
                ]
            )
        )
    return banks[0], banks[1]


def prepare_vision(
    scenario: Scenario,
    cache_dir: Path | None = None,
    progress: bool = False,
    run_seed: int | None = None,
) -> tuple[Any, np.ndarray, np.ndarray]:
    """Return the frozen visual system of a scenario and its layer-4 banks (all cached on disk).

    Returns ``(pretrained, training_bank, test_bank)``; the banks are
    ``(n_parents, n_expressions, n, n_l4)``, one row per parent in the scenario's order.
    ``run_seed`` (default ``scenario.seed``) matters only with ``vision.vary_with_run_seed``.
    """
    from dyad.progress import progress_callback
    from dyad.vision import pretrain

    config = pretrain_config(scenario, run_seed)
    pretrained = pretrain(config, cache_dir=cache_dir, progress=progress_callback(progress))
    training_bank, test_bank = response_banks(
        pretrained,
        identity_seeds=parent_faces(scenario),
        n_bank=scenario.vision.bank_size,
        n_test=scenario.vision.n_test_transforms,
        cache_dir=cache_dir,
        progress=progress,
    )
    return pretrained, training_bank, test_bank


#: the name the unseen face's test rows carry in the ``parent`` column
UNSEEN_FACE = "unseen face"


def unseen_face_bank(
    pretrained, n_test: int, cache_dir: Path | None = None, progress: bool = False
) -> np.ndarray:
    """Layer-4 responses to held-out transforms of a face that pre-training never showed.

    The face is :meth:`~dyad.vision.PretrainConfig.heldout_faces`' first, so it is never a
    parent's face nor one of the other faces of pre-training; the interaction never shows it
    either. Returns ``(1, n_expressions, n_test, n_l4)`` float32 (cached like the other banks).
    """
    from dyad.progress import progress_callback
    from dyad.vision import layer4_bank

    config = pretrained.config
    identity = config.heldout_faces(1)[0]
    bank = layer4_bank(
        pretrained,
        config.expressions,
        n_test,
        bank_seed(config.seed, identity, "test"),
        identity_seed=identity,
        cache_dir=cache_dir,
        progress=progress_callback(progress),
    )
    return bank[None]


@dataclass
class RunWiring:
    """The parts of one run drawn from its random streams: policies, plans and the brain."""

    policies: list
    preroll: int
    schedule: np.ndarray
    parent_schedule: np.ndarray
    brain: Any


def wire_run(
    scenario: Scenario,
    streams: dict[str, np.random.Generator],
    registry,
    training_bank: np.ndarray,
    test_bank: np.ndarray,
) -> RunWiring:
    """Policies, the infant's and the parents' schedules, and a calibrated brain.

    One place for the order in which a run draws from its streams, shared by
    :func:`run_scenario` and :func:`dyad.model.build_from_scenario`, so a live model steps
    through exactly the interaction ``dyad simulate`` runs.
    """
    from dyad.brain.infant import InfantBrain
    from dyad.brain.mirror import MirrorLayer, MotorModule
    from dyad.policies import PolicyContext
    from dyad.schedules import infant_schedule, parent_schedule

    expressions = tuple(scenario.infant.expressions)
    parents = scenario.all_parents
    n_steps = scenario.run.steps
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
        scenario.mirror.for_expressions(len(expressions)),
        training_bank.shape[-1],
        motor.patterns.shape[1],
        streams["mirror"],
    )
    brain = InfantBrain(training_bank, test_bank, motor, mirror, streams["experience"])
    brain.calibrate()
    return RunWiring(policies, preroll, schedule, present, brain)


def run_scenario(
    scenario: Scenario,
    *,
    seed: int | None = None,
    output: Path | None = None,
    cache_dir: Path | None = None,
    plugin_dirs: Sequence[Path] = (),
    progress: bool = False,
    figures: FigureDrawer | None = None,
    overwrite: bool = False,
) -> Run:
    """Run one scenario; with ``output``, save tables, manifest and any figures there.

    ``figures`` is a function that draws the run's figures from its tables into a folder,
    ``figures(tables, folder, formats, manifest=manifest) -> [paths]``, such as
    :func:`dyad.analysis.figures.draw_run_figures`; ``None`` (or ``False``) draws none.

    With ``output``, the folder is checked and locked before any work starts
    (:func:`dyad.store.reserve_run_folder`): a file, a sweep folder, a folder with other files,
    an unwritable place, a complete run without ``overwrite`` or a folder another process is
    writing is a one-line :class:`dyad.errors.ResultsError`. The run is then written beside the
    old one and swapped in whole (:func:`dyad.store.write_run`).
    """
    if output is None:
        return _run(scenario, seed, None, cache_dir, plugin_dirs, progress, figures, overwrite)
    from dyad.store import reserve_run_folder

    with reserve_run_folder(output, overwrite=overwrite) as folder:
        return _run(scenario, seed, folder, cache_dir, plugin_dirs, progress, figures, overwrite)


def _run(
    scenario: Scenario,
    seed: int | None,
    output: Path | None,
    cache_dir: Path | None,
    plugin_dirs: Sequence[Path],
    progress: bool,
    figures: FigureDrawer | None,
    overwrite: bool,
) -> Run:
    from threadpoolctl import threadpool_limits

    from dyad.config import check_policies, scenario_warnings

    # the policies exist and take their params (imports plugin code; validation does not)
    check_policies(scenario, f"scenario {scenario.name!r}", plugin_dirs)
    seed = scenario.seed if seed is None else seed
    for line in scenario_warnings(scenario):
        log.warning("%s", line)
    timings: dict[str, float] = {}
    started = time.perf_counter()

    # 1. the infant's visual system, pre-trained on its parents' faces (cached)
    clock = time.perf_counter()
    pretrained, training_bank, test_bank = prepare_vision(scenario, cache_dir, progress, seed)
    timings["vision_s"] = time.perf_counter() - clock

    unseen_bank = None
    if scenario.run.test_unseen_face:
        unseen_bank = unseen_face_bank(
            pretrained, scenario.vision.n_test_transforms, cache_dir, progress
        )
    timings["vision_s"] = time.perf_counter() - clock

    # 2. the brain and the agents' plans, all from the run's seed
    with threadpool_limits(limits=1, user_api="blas"):
        return _interact(
            scenario,
            seed,
            pretrained,
            training_bank,
            test_bank,
            unseen_bank,
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
    unseen_bank: np.ndarray | None,
    timings: dict[str, float],
    started: float,
    output: Path | None,
    plugin_dirs: Sequence[Path],
    progress: bool,
    figures: FigureDrawer | None,
    overwrite: bool,
) -> Run:
    """Interaction, test phases, tables and saving, with BLAS on one thread.

    The per-timestep updates are small (a few hundred kB of weights): a second BLAS thread
    only adds synchronisation, and on a busy 2-core machine its spin-waiting made the loop
    over 10x slower (578 vs 7,668 timesteps/s measured). Parallelism comes from sweeps.
    """
    from dyad.analysis.classify import classify_neurons
    from dyad.brain.infant import ProbeResponses
    from dyad.config import scenario_warnings
    from dyad.model import DyadModel
    from dyad.plugins import load_registry
    from dyad.progress import progress_bar
    from dyad.provenance import provenance

    expressions = tuple(scenario.infant.expressions)
    parents = scenario.all_parents
    n_steps = scenario.run.steps
    streams = run_streams(seed)
    registry = load_registry(plugin_dirs=(*plugin_dirs, *scenario.plugins), strict=True)
    wiring = wire_run(scenario, streams, registry, training_bank, test_bank)
    policies, preroll, brain = wiring.policies, wiring.preroll, wiring.brain
    schedule, present = wiring.schedule, wiring.parent_schedule

    # 3. test phase before training, the interaction, test phase after (§10)
    trials, flip = scenario.run.test_trials, scenario.run.motor_test_flip
    before = brain.probe(trials, flip, streams["test"])
    unseen_before = None if unseen_bank is None else brain.visual_probe(unseen_bank, trials)
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
        while model.steps < n_steps:
            todo = min(chunk, n_steps - model.steps)
            model.run_for(todo)
            bar.update(todo)
    timings["interaction_s"] = time.perf_counter() - clock
    timings["steps_per_s"] = n_steps / max(timings["interaction_s"], 1e-9)
    after = brain.probe(trials, flip, streams["test"])

    # 4. tables, classification and summary
    names = [p.name for p in parents]
    test_responses = pd.concat(
        [
            probe_table(before, "before", expressions, names),
            probe_table(after, "after", expressions, names),
        ],
        ignore_index=True,
    )
    unseen_tables = []
    if unseen_bank is not None:
        # the unseen face's visual trials beside each phase's motor trials
        faces = [*names, UNSEEN_FACE]
        widened = test_responses["parent"].cat.set_categories(faces)
        unseen_tables.append(test_responses.assign(parent=widened))
        for phase, unseen, motor in (
            ("before", unseen_before, before.motor),
            ("after", brain.visual_probe(unseen_bank, trials), after.motor),
        ):
            table = probe_table(ProbeResponses(unseen, motor), phase, expressions, [UNSEEN_FACE])
            visual = table[table["condition"] == "visual"]
            unseen_tables.append(visual.assign(parent=visual["parent"].cat.set_categories(faces)))
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
    if len(parents) > 1 or unseen_bank is not None:
        # kept out of test_responses, so the run's own classes and figures stay about the parents
        per_face = pd.concat(unseen_tables or [test_responses], ignore_index=True)
        tables["neurons_by_parent"] = classify_per_parent(per_face, expressions)
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
        "provenance": provenance(),
        "plugin_sources": {p.policy: registry.get(p.policy).source for p in parents},
        "policies": registry.provenance([p.policy for p in parents]),
        "pretrained_cache_key": getattr(pretrained, "key", None),
        "warnings": scenario_warnings(scenario),
        "vision_seed": pretrained.config.seed,
        "summary": summary,
        "timings": timings,
    }
    # the tables with the column types load_run gives (strings as categoricals)
    stored = {name: categorize(table) for name, table in tables.items()}
    if output is None:
        return Run(folder=None, manifest=manifest, tables=stored)
    folder = save_run(Path(output), tables, manifest, scenario, figures, overwrite)
    # the manifest as written (with each table's file and checksum), as load_run gives it
    return Run(folder=folder, manifest=load_run(folder, verify=False).manifest, tables=stored)


def save_run(
    folder: Path,
    tables: dict[str, pd.DataFrame],
    manifest: dict[str, Any],
    scenario: Scenario,
    figures: FigureDrawer | None,
    overwrite: bool,
) -> Path:
    """Figures, tables and the manifest as ``folder``, swapped in whole (:func:`write_run`).

    ``figures`` draws the run's figures (e.g. :func:`dyad.analysis.figures.draw_run_figures`,
    which ``dyad simulate`` passes); ``None`` or ``False`` writes none. The simulation never
    draws itself, so runs that want no figures never import matplotlib. Figures are drawn
    into a temporary folder first and copied into the new run folder, so nothing of the run
    is written into ``folder`` before the whole run is ready.
    """
    import tempfile

    from dyad.store import check_run_folder, write_run

    check_run_folder(folder, overwrite=overwrite)
    if not figures:
        return write_run(folder, tables, manifest, overwrite=overwrite)
    with tempfile.TemporaryDirectory(prefix="dyad-figures-") as scratch:
        written = figures(tables, Path(scratch), tuple(scenario.output.formats), manifest=manifest)
        figure_paths = {Path(p).name: Path(p) for p in written}
        return write_run(folder, tables, manifest, figures=figure_paths, overwrite=overwrite)


def probe_table(
    responses: ProbeResponses, phase: str, expressions: Sequence[str], parent_names: Sequence[str]
) -> pd.DataFrame:
    """Tidy rows ``phase, condition, expression, parent, trial, neuron, rate`` of one probe.

    The run's ``test_responses`` table is the ``before`` and ``after`` probes stacked (the
    table keeps its name on disk, so existing results folders still load).
    """
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
    active = (rates >= ACTIVE_RATE).sum(axis=-1)
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
    """Class counts, mirror index, selectivity correlation and the dominant outcome.

    Also the information-based cross-check of §11.3: ``info_class_counts`` (class counts by
    the I >= 0.5 bit criterion) and ``criteria_agree`` (neurons both criteria put in the same
    class).
    """
    from dyad.analysis.classify import mirror_index, selectivity_correlation

    counts = neurons["neuron_class"].value_counts()
    class_counts = {name: int(counts.get(name, 0)) for name in NEURON_CLASSES}
    info = neurons["info_class"].value_counts()
    info_counts = {name: int(info.get(name, 0)) for name in NEURON_CLASSES}
    agree = int((neurons["neuron_class"].astype(str) == neurons["info_class"].astype(str)).sum())
    n = len(neurons)
    dominant = dominant_class(class_counts["mirror"], class_counts["anti-mirror"], n)
    return {
        "n_neurons": n,
        "class_counts": class_counts,
        "mirror_index": _finite(mirror_index(neurons)),
        "selectivity_correlation": _finite(selectivity_correlation(neurons)),
        "dominant": dominant,
        "congruence": float(interaction["congruent"].mean()),
        "info_class_counts": info_counts,
        "criteria_agree": agree,
    }


def _finite(value: float) -> float | None:
    """JSON has no NaN: undefined statistics are stored as null."""
    return None if value is None or not np.isfinite(value) else float(value)
