"""One run of a scenario, end to end: pre-train → interact → test → classify → save.

A run is a pure function of (scenario, seed, code version): every random choice comes from
streams spawned from the run's seed, and the visual pre-training (cached on disk) from the
scenario's ``vision.seed``, so runs of different seeds share one pre-trained visual system
(unless ``vision.vary_with_run_seed``: then each run seed draws its own, see :func:`vision_seed`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dyad.config import Scenario
from dyad.store import Run, load_run

# the run's tables are built in dyad.tables; these names stay importable from here
from dyad.tables import (  # noqa: F401
    UNSEEN_FACE,
    classify_per_parent,
    layer4_summary,
    probe_table,
    summarise,
)

if TYPE_CHECKING:
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


#: visual systems and unseen-face banks loaded in this process, newest last
#: (:func:`cached_vision`, :func:`cached_unseen_face_bank`)
_VISION_MEMO: dict[tuple, Any] = {}
_VISION_MEMO_SIZE = 4
_VISION_MEMO_LOCK = threading.Lock()  # Dask workers may run batches in threads


def _remembered(key: tuple, load: Callable[[], Any]) -> Any:
    """Return ``load()``, kept for the next :data:`_VISION_MEMO_SIZE` distinct keys.

    The arrays it holds are made read-only: every run that shares them only reads them.
    """
    with _VISION_MEMO_LOCK:
        if key not in _VISION_MEMO:
            value = load()
            for item in value if isinstance(value, tuple) else (value,):
                if isinstance(item, np.ndarray):
                    item.setflags(write=False)
            _VISION_MEMO[key] = value
            while len(_VISION_MEMO) > _VISION_MEMO_SIZE:
                del _VISION_MEMO[next(iter(_VISION_MEMO))]
        return _VISION_MEMO[key]


def cached_vision(
    scenario: Scenario,
    cache_dir: str | Path | None,
    progress: bool = False,
    run_seed: int | None = None,
) -> tuple[Any, np.ndarray, np.ndarray]:
    """:func:`prepare_vision`, remembered for the last few visual systems of this process.

    A sweep worker's next batch of the same visual system, a live view's Reset or a
    ``batch_run`` over policy parameters then skip reading (and checking) the cache files:
    33-53 ms a batch at the default size. The arrays are only read by the brain, so runs and
    models share them.
    """
    from dyad.vision import default_cache_dir

    folder = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    key = (
        "vision",
        pretrain_config(scenario, run_seed).to_json(),
        tuple(p.identity_seed for p in scenario.all_parents),
        scenario.vision.bank_size,
        str(folder.resolve()),
    )
    return _remembered(key, lambda: prepare_vision(scenario, folder, progress, run_seed))


def cached_unseen_face_bank(
    pretrained, n_test: int, cache_dir: str | Path | None, progress: bool = False
) -> np.ndarray:
    """:func:`unseen_face_bank`, remembered as :func:`cached_vision` remembers the banks."""
    from dyad.vision import default_cache_dir

    folder = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    key = ("unseen", pretrained.config.to_json(), n_test, str(folder.resolve()))
    return _remembered(key, lambda: unseen_face_bank(pretrained, n_test, folder, progress))


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
    from dyad.brain.mirror import MirrorLayer
    from dyad.brain.motor import MotorModule
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
    """One run as a batch of one (:func:`dyad.batch.run_batch`), then saved with ``output``.

    A sweep's batches go through the same code, so a run's tables are the same alone or in a
    batch. BLAS runs on one thread meanwhile: the per-timestep updates are small, and on a
    busy 2-core machine a second BLAS thread's spin-waiting made the loop over 10x slower.
    """
    from dyad.batch import run_batch

    seed = scenario.seed if seed is None else seed
    (outcome,) = run_batch(
        [(scenario, seed)], cache_dir=cache_dir, plugin_dirs=plugin_dirs, progress=progress
    )
    if isinstance(outcome, BaseException):
        raise outcome
    if output is None:
        return outcome
    folder = save_run(Path(output), outcome.tables, outcome.manifest, scenario, figures, overwrite)
    # the manifest as written (with each table's file and checksum), as load_run gives it
    return Run(
        folder=folder, manifest=load_run(folder, verify=False).manifest, tables=outcome.tables
    )


def save_run(
    folder: Path,
    tables: dict[str, pd.DataFrame],
    manifest: dict[str, Any],
    scenario: Scenario,
    figures: FigureDrawer | None,
    overwrite: bool,
) -> Path:
    """Figures, tables and the manifest as ``folder``, swapped in whole.

    The folder is written by :func:`dyad.store.write_run`.

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
