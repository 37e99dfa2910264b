"""The live view of one run: a Mesa SolaraViz page (``dyad view SCENARIO`` serves it).

Serve it directly with ``solara run dyad/view/app.py``; the run comes from these environment
variables, which ``dyad view`` sets:

- ``DYAD_VIEW_SCENARIO``: a scenario file or the name of a shipped scenario (default
  ``perfect``);
- ``DYAD_VIEW_SEED``: the run's seed (default: the scenario's);
- ``DYAD_VIEW_OVERRIDES``: a JSON object of dotted fields and values (``--set``);
- ``DYAD_VIEW_PLUGIN_DIRS``: a JSON list of plugin folders;
- ``DYAD_CACHE_DIR``: the pre-training cache, as for every dyad command.

The visual system is loaded from the cache (pre-trained once if missing), so with a warm
cache the model is ready in about two seconds. In a notebook,
:func:`dyad.live_view <dyad.api.live_view>` returns the same page
(:func:`dyad.view.page.build_page`).
"""

from __future__ import annotations

import json
import os

from threadpoolctl import threadpool_limits

from dyad.view.page import build_page

# one BLAS thread: the per-timestep updates are small, and a second thread only spins (see
# dyad.simulation._interact); the page's server threads are parallelism enough
threadpool_limits(limits=1, user_api="blas")

scenario_file = os.environ.get("DYAD_VIEW_SCENARIO", "perfect")
seed_text = os.environ.get("DYAD_VIEW_SEED", "")
overrides = json.loads(os.environ.get("DYAD_VIEW_OVERRIDES", "") or "{}")
plugin_dirs_text = os.environ.get("DYAD_VIEW_PLUGIN_DIRS", "")
plugin_dirs = json.loads(plugin_dirs_text) if plugin_dirs_text else None

page = build_page(
    scenario_file,
    seed=int(seed_text) if seed_text else None,
    overrides=overrides,
    plugin_dirs=plugin_dirs,
)
