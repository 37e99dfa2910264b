"""The live view's page: Mesa's SolaraViz of one run, for the browser and for notebooks.

``dyad view`` serves it (through ``app.py``); in a notebook
:func:`dyad.live_view <dyad.api.live_view>` returns it, and Jupyter shows it as a cell's
value, as Mesa's own ``SolaraViz(model, ...)`` pages are shown. Both build it here, so the
page is the same wherever it is watched.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mesa.visualization import SolaraViz

from dyad.view.controls import ViewModel, model_params
from dyad.view.panels import ClassesPanel, FacesPanel, MirrorPanel

#: the page's panels and the SolaraViz page (tab) each goes on
COMPONENTS = [(FacesPanel, 0), (MirrorPanel, 0), (ClassesPanel, 0)]
#: milliseconds between steps while playing; Mesa's page crashes well below ~100 ms, when a
#: step runs while a panel still reads the model
PLAY_INTERVAL = 150


def prepare_view(
    scenario, cache_dir: str | os.PathLike | None, progress: bool, seed: int | None = None
) -> None:
    """Pre-train (or load) the visual system of a run and render its bank's faces, now.

    The page's model then loads both from the cache, so the page is up in seconds, and a
    first pre-training shows its progress here rather than inside the page. ``seed`` is the
    run's (it picks the visual system where ``vision.vary_with_run_seed`` is set).
    """
    from dyad.simulation import cached_vision
    from dyad.view.faces import bank_images

    cache = None if cache_dir is None else Path(cache_dir)
    pretrained, _, _ = cached_vision(scenario, cache, progress=progress, run_seed=seed)
    for parent in scenario.all_parents:
        bank_images(
            pretrained,
            parent.identity_seed,
            scenario.vision.bank_size,
            scenario.infant.expressions,
            cache,
        )


def build_page(
    scenario: str | os.PathLike | Mapping[str, Any],
    *,
    seed: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    plugin_dirs: Sequence[str | os.PathLike] | None = None,
    cache_dir: str | os.PathLike | None = None,
    probe_every: int = 50,
    play_interval: int = PLAY_INTERVAL,
    shared_model: bool = False,
):
    """Return the SolaraViz page of one run of ``scenario`` (a file, a shipped name or a dict).

    The model is built now (the visual system from the cache, pre-trained if missing); the
    page's controls rebuild it on Reset with the seed, run length, probe interval and each
    parent's policy and parameters they show. ``overrides``, the plugin folders and the cache
    are kept fixed across resets.

    With ``shared_model`` the page is given the model in a ``solara.reactive``, so whoever
    holds the page reads the model it shows, after any reset (:class:`LiveView`). Without it
    the page keeps the model in its own state.
    """
    fixed = dict(overrides or {})
    dirs = None if plugin_dirs is None else [str(Path(d)) for d in plugin_dirs]
    if cache_dir is not None:
        fixed["cache_dir"] = str(Path(cache_dir))
    source = scenario if isinstance(scenario, Mapping) else str(scenario)
    model = ViewModel(source, seed=seed, probe_every=probe_every, plugin_dirs=dirs, **fixed)
    params = model_params(
        model.config, source, model.seed, fixed=fixed, plugin_dirs=dirs, probe_every=probe_every
    )
    name = f"dyad: {model.config.name}"
    if shared_model:
        import solara

        model = solara.reactive(model)
    return SolaraViz(
        model=model,
        components=COMPONENTS,
        model_params=params,
        name=name,
        play_interval=play_interval,
    )


class LiveView:
    """The live page of one run in a notebook: Jupyter shows it as a cell's value.

    ``model`` is the :class:`~dyad.model.DyadModel` the page shows now, after any step,
    play or reset on the page; ``page`` is the SolaraViz element itself, to place in a layout
    of one's own. Made by :func:`dyad.live_view <dyad.api.live_view>`.
    """

    def __init__(self, page) -> None:
        self.page = page

    @property
    def model(self) -> ViewModel:
        """The model the page shows now."""
        return self.page.kwargs["model"].value

    def _ipython_display_(self, **kwargs: Any) -> None:
        self.page._ipython_display_(**kwargs)

    def __repr__(self) -> str:
        model = self.model
        return f"<dyad live view of {model.config.name!r} (seed {model.seed}), t = {model.steps}>"
