"""dyad's Python API: the command line's verbs as functions.

Each ``dyad`` command is a thin wrapper over one function here, so a notebook and the shell
do the same thing with the same arguments::

    import dyad

    run = dyad.simulate("perfect", overrides={"run.steps": 500})
    run.neurons.query("phase == 'after'").neuron_class.value_counts()
    run.save("results/perfect-500")

    sweep = dyad.sweep("scenarios/lag_sweep.toml", seeds=2, output="results/lag")
    sweep.summary.groupby("parent.params.lag").n_mirror.mean()

The functions share their keywords: ``overrides`` takes the dotted field paths of ``--set``
(a mapping ``{"run.steps": 500}`` or strings ``["run.steps=500"]``); ``plugins`` names plugin
files or folders once (they are added to ``$DYAD_PLUGINS_DIR``, as ``--plugins-dir`` does);
``overwrite`` is False everywhere (a complete result is never replaced unless asked);
``progress`` shows progress bars on stderr. Bad input raises a :class:`dyad.errors.DyadError`
subclass with one line per problem; the CLI prints those lines and exits with code 2.

Everything heavy (numpy, pandas, Mesa, numba) is imported inside the functions, so ``import
dyad`` stays fast.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dyad.errors import ConfigError

if TYPE_CHECKING:
    from dyad.config import Scenario
    from dyad.store import Run
    from dyad.sweeps import Sweep
    from dyad.view.page import LiveView
    from dyad.vision import PretrainConfig, PretrainedVision

log = logging.getLogger(__name__)

#: what ``plugins=`` accepts: one path or several (files or folders of policy plugins)
PluginPaths = str | os.PathLike | Iterable[str | os.PathLike] | None

#: what ``overrides=`` accepts: dotted path -> value, or ``"path=value"`` strings as for --set
Overrides = Mapping[str, Any] | Iterable[str] | None


def plugin_paths(plugins: PluginPaths = None) -> tuple[Path, ...]:
    """``$DYAD_PLUGINS_DIR`` then ``plugins``, as absolute paths without repeats.

    Absolute, because sweep workers (possibly on other machines of a Dask cluster) import
    the plugins from these paths, whatever their working folder.
    """
    from dyad.plugins import plugin_folders

    if plugins is None:
        given: list[Path] = []
    elif isinstance(plugins, str | os.PathLike):
        given = [Path(plugins)]
    else:
        given = [Path(p) for p in plugins]
    return plugin_folders(given, with_env=True)


def parse_overrides(overrides: Overrides) -> dict[str, Any]:
    """Return ``overrides`` as a dict of dotted path -> value.

    A mapping is taken as it is; strings are read as ``--set`` reads them
    (:func:`dyad.config.parse_override`: ``"run.steps=500"`` -> ``{"run.steps": 500}``, the
    value read as TOML, else kept as a string).
    """
    from dyad.config import parse_override

    if overrides is None:
        return {}
    if isinstance(overrides, Mapping):
        return dict(overrides)
    if isinstance(overrides, str):
        overrides = [overrides]
    return dict(parse_override(text) for text in overrides)


def load_scenario(
    scenario: str | os.PathLike | Mapping[str, Any] | Scenario,
    *,
    overrides: Overrides = None,
    plugins: PluginPaths = None,
) -> Scenario:
    """Return a validated :class:`~dyad.config.Scenario`.

    Parameters
    ----------
    scenario:
        A TOML file, the name of a shipped scenario (``"perfect"``, looked up in
        ``./scenarios`` and then among dyad's own), a scenario dict, or a ``Scenario``.
    overrides:
        Fields to replace, as for ``--set``.
    plugins:
        Plugin files or folders that define the scenario's parent policies.

    Raises
    ------
    ConfigError
        Naming the file, each wrong field and what was expected.

    Notes
    -----
    A ``Scenario`` without overrides is already valid and is returned as it is.
    """
    from dyad.config import Scenario
    from dyad.config.reading import resolve_scenario

    changes = parse_overrides(overrides)
    if isinstance(scenario, Scenario) and not changes:
        return scenario
    return resolve_scenario(scenario, changes, plugin_paths(plugins))


def _describe(scenario: Any) -> str:
    if isinstance(scenario, str | os.PathLike):
        return str(scenario)
    name = getattr(scenario, "name", None)
    if name is None and isinstance(scenario, Mapping):
        name = scenario.get("name")
    return f"scenario {name!r}" if name else "scenario"


def simulate(
    scenario: str | os.PathLike | Mapping[str, Any] | Scenario,
    *,
    seed: int | None = None,
    overrides: Overrides = None,
    output: str | os.PathLike | None = None,
    overwrite: bool = False,
    figures: bool = True,
    cache_dir: str | os.PathLike | None = None,
    plugins: PluginPaths = None,
    progress: bool = True,
    max_memory: str | int | None = None,
) -> Run:
    """Run one scenario: pre-train (or load) the visual system, interact, probe, classify.

    Parameters
    ----------
    scenario:
        A TOML file, a shipped scenario's name, a scenario dict or a
        :class:`~dyad.config.Scenario` (see :func:`load_scenario`).
    seed:
        The run's seed (default: the scenario's ``seed``).
    overrides:
        Scenario fields to replace, as for ``--set``: ``{"run.steps": 500}``.
    output:
        A run folder to write tables, figures and manifest to. Default: none, the run stays
        in memory (save it later with :meth:`Run.save <dyad.store.Run.save>`). ``dyad
        simulate`` passes the scenario's ``output.folder``, else ``results/<name>``.
    overwrite:
        Replace a complete run already in ``output`` (default: refuse).
    figures:
        Draw the run's figures into ``output``.
    cache_dir:
        Pre-training cache (default ``$DYAD_CACHE_DIR`` or ``~/.cache/dyad``).
    plugins:
        Plugin files or folders defining parent policies.
    progress:
        Progress bars on stderr (pre-training, interaction).
    max_memory:
        Refuse to start when the run's estimated memory exceeds this (``"8G"``; default
        ``$DYAD_MAX_MEMORY``, else 80% of this machine's memory).

    Returns
    -------
    Run
        Tables as attributes (``run.interaction``, ``run.test_responses``, ``run.neurons``,
        ``run.layer4_summary``, ...), ``run.summary``, ``run.manifest`` and ``run.folder``.

    The output folder is checked and locked before any work starts, so a mistake in it is
    reported at once rather than after the run.
    """
    from dyad.resources import check_run
    from dyad.simulation import run_scenario
    from dyad.validation import check_seed

    seed = check_seed("seed", seed)
    dirs = plugin_paths(plugins)
    resolved = load_scenario(scenario, overrides=overrides, plugins=dirs)
    check_run(resolved, max_memory, source=_describe(scenario))
    log.info("running %s (seed %s)", resolved.name, resolved.seed if seed is None else seed)
    return run_scenario(
        resolved,
        seed=seed,
        output=None if output is None else Path(output),
        cache_dir=None if cache_dir is None else Path(cache_dir),
        plugin_dirs=dirs,
        progress=progress,
        figures=_figure_drawer() if figures else None,
        overwrite=overwrite,
    )


def _figure_drawer():
    """Return the function that draws a run's figures (imported only when figures are wanted)."""
    from dyad.analysis.figures import draw_run_figures

    return draw_run_figures


def load_run(folder: str | os.PathLike, *, verify: bool = True) -> Run:
    """Read a run folder back as the same :class:`~dyad.store.Run` :func:`simulate` returns.

    With ``verify`` every file's SHA-256 is checked against the manifest now; tables are read
    on first access. A missing, incomplete or damaged folder is a one-line
    :class:`~dyad.errors.ResultsError`.
    """
    from dyad.store import load_run as _load_run

    return _load_run(folder, verify=verify)


def default_output(scenario: Scenario) -> Path:
    """Return where the CLI writes a scenario's results.

    That is its ``output.folder``, else ``results/<name>``.
    """
    return Path(scenario.output.folder or Path("results") / scenario.name)


def sweep(
    scenario: str | os.PathLike,
    *,
    seeds: int | None = None,
    overrides: Overrides = None,
    output: str | os.PathLike | None = None,
    overwrite: bool = False,
    workers: int | None = None,
    address: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    plugins: PluginPaths = None,
    progress: bool = True,
    timeout: float = 10.0,
    max_runs: int | None = None,
    max_memory: str | int | None = None,
    batch_size: int | str | None = "auto",
) -> Sweep:
    """Run (or resume) every run of a scenario's ``[sweep]`` grid × seeds.

    Parameters
    ----------
    scenario:
        A TOML scenario with a ``[sweep]`` table, or a shipped sweep's name (``"lag_sweep"``).
    seeds:
        Runs per grid point (replaces ``sweep.seeds``).
    overrides:
        Fields to replace in every run, as for ``--set`` (not the swept ones).
    output:
        The sweep folder (default: the scenario's ``output.folder``, else ``results/<name>``).
    overwrite:
        Replace a complete or different sweep in ``output`` once the new one has finished
        (default: refuse; an interrupted sweep of the same definition resumes without it).
    workers, address:
        Local worker processes (default: one per core), or a Dask scheduler's address.
    cache_dir, plugins, progress, max_memory:
        As for :func:`simulate`.
    timeout:
        Seconds to wait for the Dask scheduler and its first worker.
    max_runs:
        Refuse sweeps of more runs than this (default 100,000).
    batch_size:
        Most runs of one visual system a worker steps together (``"auto"``: enough batches to
        keep every worker busy, see :mod:`dyad.sweeps.batching`).

    Returns
    -------
    Sweep
        The sweep folder read back (``summary`` has one row per run), with ``status``: runs
        done, skipped, failed, interrupted, wall time. Failed runs do not raise: check
        ``sweep.status.failed`` (details in ``failures.json``).

    Every run is validated before any starts; the visual system is pre-trained once, here.
    Local workers fork from a server that loads their modules meanwhile (Linux,
    :mod:`dyad.forkserver`); it stays up for the next sweep of this process.
    """
    from dyad.forkserver import start_forkserver

    if workers is not None and address is not None:
        raise ConfigError("workers: a Dask cluster (address) has its own workers; give one")
    if address is None:  # local workers' fork server: it loads their modules while we plan
        start_forkserver()
    from dyad.config.reading import find_scenario
    from dyad.resources import check_sweep
    from dyad.sweeps import MAX_RUNS, plan_sweep, run_sweep
    from dyad.sweeps.batching import batch_size_for, check_batch_size

    if not isinstance(scenario, str | os.PathLike):
        raise ConfigError(
            f"scenario: a sweep reads a TOML file or a shipped sweep's name, got {scenario!r}"
        )
    path = find_scenario(scenario)
    dirs = plugin_paths(plugins)
    log.info("planning the sweep of %s", path)
    plan = plan_sweep(
        path,
        parse_overrides(overrides),
        seeds=seeds,
        plugin_dirs=dirs,
        max_runs=max_runs or MAX_RUNS,
    )
    # a Dask cluster's machines are not this one: check that one run fits, at least
    concurrent = 1 if address is not None else workers or os.cpu_count() or 1
    batch = batch_size_for(len(plan.runs), concurrent, check_batch_size(batch_size, "batch_size"))
    check_sweep(plan.estimates, len(plan.runs), concurrent, max_memory, str(path), batch)
    folder = Path(output) if output is not None else default_output(plan.scenario)
    status = run_sweep(
        plan,
        folder,
        workers=workers,
        address=address,
        cache_dir=cache_dir,
        overwrite=overwrite,
        progress=progress,
        timeout=timeout,
        batch_size=batch_size,
    )
    result = load_sweep(status.folder)
    result.status = status
    return result


def load_sweep(folder: str | os.PathLike) -> Sweep:
    """Return a sweep folder read back (:class:`~dyad.sweeps.Sweep`, ``status`` None).

    The summary comes from ``summary.parquet`` when the sweep finished, else it is rebuilt
    from the run records (unfinished runs have status "missing").
    """
    from dyad.sweeps import load_sweep as _load_sweep

    return _load_sweep(Path(folder))


def report(
    results: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    output: str | os.PathLike | None = None,
    formats: Sequence[str] = ("png",),
    congruence_bin: float = 0.05,
    progress: Callable[[str], None] | None = None,
    command: str | None = None,
) -> Path:
    """Write figures and a report (``.html``, self-contained, or ``.md``) of result folders.

    ``results`` is one run or sweep folder or several (several sweeps are pooled against the
    congruence c, grouped in bins of ``congruence_bin``). Default ``output``: ``report.html``
    in the folder, or in the common parent of several. Returns the report's path.
    ``progress`` is called with a short description before each step that takes time
    (e.g. :class:`dyad.reporting.StepTimer`); ``command`` is shown on the page as the command
    that made it (default: the equivalent ``dyad report`` command).
    """
    from dyad.reporting import build_report

    folders = [results] if isinstance(results, str | os.PathLike) else list(results)
    return build_report(
        [Path(f) for f in folders],
        None if output is None else Path(output),
        tuple(formats) or ("png",),
        congruence_bin=congruence_bin,
        command=command,
        progress=progress,
    )


def pretrain(
    scenario: str | os.PathLike | Mapping[str, Any] | Scenario | None = None,
    *,
    seed: int | None = None,
    overrides: Overrides = None,
    identity_seeds: Sequence[int] = (0,),
    size: int | None = None,
    epochs: int | None = None,
    transforms: int | None = None,
    test_transforms: int | None = None,
    other_faces: int | None = None,
    small: bool = False,
    cache_dir: str | os.PathLike | None = None,
    plugins: PluginPaths = None,
    rebuild: bool = False,
    progress: bool = True,
) -> PretrainedVision:
    """Pre-train the infant's visual system (V1 + 4-layer VisNet), or load it from the cache.

    With a ``scenario``, the visual system that scenario's runs use (``seed`` is then the
    run seed, which matters only with ``vision.vary_with_run_seed``). Without one, the
    network ``dyad pretrain`` trains: a scenario's vision defaults for the parents
    ``identity_seeds``, with pre-training seed ``seed`` (default 0) and the other keywords
    (``size`` in pixels, ``epochs`` of every layer, training and held-out ``transforms`` per
    face and expression, ``other_faces`` shown beside the parents', the ``small`` preset).

    The result is cached under ``cache_dir``: the same configuration loads in a second.
    ``rebuild`` trains anyway and replaces the cached file.
    """
    from dyad.progress import progress_callback
    from dyad.validation import check_seed
    from dyad.vision import pretrain as _pretrain

    seed = check_seed("seed", seed)
    if scenario is not None:
        given = {
            "size": size,
            "epochs": epochs,
            "transforms": transforms,
            "test_transforms": test_transforms,
            "other_faces": other_faces,
        }
        clash = [name for name, value in given.items() if value is not None]
        clash += ["small"] if small else []
        clash += ["identity_seeds"] if tuple(identity_seeds) != (0,) else []
        if clash:
            raise ConfigError(
                f"{', '.join(clash)}: set by the scenario; change them with overrides "
                "(e.g. vision.visnet.epochs) instead"
            )
        from dyad.simulation import pretrain_config as scenario_pretrain_config

        resolved = load_scenario(scenario, overrides=overrides, plugins=plugins)
        config = scenario_pretrain_config(resolved, seed)
    else:
        if overrides:
            raise ConfigError("overrides: only with a scenario")
        config = pretrain_config(
            size=size,
            identity_seeds=tuple(dict.fromkeys(identity_seeds)) or (0,),
            seed=0 if seed is None else seed,
            epochs=epochs,
            n_train_transforms=transforms,
            n_test_transforms=test_transforms,
            n_other_faces=other_faces,
            small=small,
        )
    return _pretrain(
        config, cache_dir=cache_dir, progress=progress_callback(progress), rebuild=rebuild
    )


def live_view(
    scenario: str | os.PathLike | Mapping[str, Any] | Scenario = "perfect",
    *,
    seed: int | None = None,
    overrides: Overrides = None,
    cache_dir: str | os.PathLike | None = None,
    plugins: PluginPaths = None,
    probe_every: int = 50,
    play_interval: int = 150,
    progress: bool = True,
) -> LiveView:
    """Return the live view of a run (Mesa's SolaraViz page) to watch in a notebook.

    The page ``dyad view`` serves: the parent's face as the infant sees it and the infant's
    own expression, the mirror layer's rates over the last timesteps, the neuron classes and
    the congruence so far (tested every ``probe_every`` timesteps); play, pause, step and
    reset, with the seed, the run length and each parent's policy and parameters as controls
    that take effect on Reset. Jupyter shows the page as a cell's value (end the cell with
    it), as it shows Mesa's own ``SolaraViz(model, ...)``; the controls are behind the page's
    menu button.

    Parameters
    ----------
    scenario:
        A TOML file, a shipped scenario's name, a scenario dict or a
        :class:`~dyad.config.Scenario`.
    seed, overrides, cache_dir, plugins:
        As for :func:`simulate`; overrides stay fixed when the page is reset.
    probe_every:
        Timesteps between tests of the neuron classes (also a control on the page).
    play_interval:
        Milliseconds between steps while playing (at least 100: faster, a step can run while
        a panel still reads the model).
    progress:
        Show pre-training's progress on stderr when the visual system is not cached yet.

    Returns
    -------
    LiveView
        Shown by Jupyter as the page; ``.model`` is the :class:`~dyad.model.DyadModel` the
        page shows now (after any step or reset), ``.page`` the SolaraViz element.

    Raises
    ------
    ImportError
        Without the optional extra ``viz`` (Mesa's SolaraViz), saying how to install it.
    ConfigError
        For a bad scenario, override or argument, naming the field.
    """
    from dyad.view import install_hint, missing_viz_modules

    if missing_viz_modules():
        raise ImportError(install_hint("dyad.live_view"))
    from dyad.config import Scenario
    from dyad.validation import check_int, check_seed
    from dyad.view.page import LiveView, build_page, prepare_view

    seed = check_seed("seed", seed)
    probe_every = check_int("probe_every", probe_every, 1)
    play_interval = check_int("play_interval", play_interval, 100)
    dirs = plugin_paths(plugins)
    changes = parse_overrides(overrides)
    resolved = load_scenario(scenario, overrides=changes, plugins=dirs)
    prepare_view(resolved, cache_dir, progress=progress, seed=seed)
    if isinstance(scenario, Scenario):
        scenario = scenario.model_dump(mode="json")
    elif not isinstance(scenario, Mapping):
        scenario = str(scenario)
    page = build_page(
        scenario,
        seed=seed,
        overrides=changes,
        plugin_dirs=dirs,
        cache_dir=cache_dir,
        probe_every=probe_every,
        play_interval=play_interval,
        shared_model=True,
    )
    return LiveView(page)


def pretrain_config(
    *,
    size: int | None = None,
    identity_seeds: tuple[int, ...] = (0,),
    seed: int = 0,
    epochs: int | None = None,
    n_train_transforms: int | None = None,
    n_test_transforms: int | None = None,
    n_other_faces: int | None = None,
    small: bool = False,
) -> PretrainConfig:
    """Return the :class:`~dyad.vision.PretrainConfig` that ``dyad pretrain``'s options describe.

    Starts from a scenario's vision defaults (the same pre-training ``dyad simulate`` uses),
    with the parents' identity seeds. ``small`` starts from the small preset (64 px, 16×16
    layers); ``size`` sets both the face images and V1; ``epochs`` every layer's. Impossible
    values raise :class:`~dyad.errors.ConfigError` naming the option.
    """
    from dyad.config import validate_scenario
    from dyad.simulation import pretrain_config as scenario_pretrain_config

    problems = []
    if seed < 0:
        problems.append(f"seed: expected an integer >= 0, got {seed}")
    if any(s < 0 for s in identity_seeds):
        problems.append(f"identity_seeds: expected integers >= 0, got {list(identity_seeds)}")
    if size is not None and size < 16:
        problems.append(f"size: expected at least 16 pixels, got {size}")
    if epochs is not None and epochs < 1:
        problems.append(f"epochs: expected an integer >= 1, got {epochs}")
    if n_other_faces is not None and not 0 <= n_other_faces <= 1000:
        problems.append(f"other_faces: expected an integer in [0, 1000], got {n_other_faces}")
    if problems:
        raise ConfigError(problems)

    vision: dict = {"preset": "small" if small else "classic", "seed": seed, "visnet": {}}
    if size is not None:
        vision["visnet"]["v1"] = {"image_size": size}
    if epochs is not None:
        vision["visnet"]["epochs"] = [epochs] * 4
    for key, value in (
        ("n_train_transforms", n_train_transforms),
        ("n_test_transforms", n_test_transforms),
        ("other_faces", n_other_faces),
    ):
        if value is not None:
            vision[key] = value
    parents = [
        {"name": f"parent {i + 1}", "identity_seed": s} for i, s in enumerate(identity_seeds)
    ]
    raw = {"name": "pretrain", "parents": parents, "vision": vision}
    return scenario_pretrain_config(validate_scenario(raw, source="dyad pretrain"))
