"""The live view: a Mesa SolaraViz page of one run, in the browser or a notebook.

``dyad view SCENARIO`` serves it; :func:`dyad.live_view` returns it for a notebook. ``page.py``
builds the page, ``app.py`` is what the server runs (as in Mesa's examples), ``panels.py`` its
components (faces, the mirror layer's rates, neuron classes over time), ``controls.py`` the
model parameters shown as controls. Needs the optional extra ``viz`` (``uv sync --extra
viz``); this module itself imports nothing of it, so it can say so.
"""

from __future__ import annotations

import importlib.util

#: what the live view needs beyond dyad's own dependencies (the optional extra "viz")
VIZ_MODULES = ("solara", "solara_assets", "mesa.visualization")


def missing_viz_modules() -> list[str]:
    """Return the modules of the extra ``viz`` that cannot be imported (empty if installed)."""
    return [name for name in VIZ_MODULES if not _importable(name)]


def install_hint(who: str) -> str:
    """Return one line saying that ``who`` needs the extra ``viz``, and how to install it."""
    return (
        f"{who} needs the optional extra viz: uv sync --extra viz "
        "(or pip install 'dyad[viz]' in your environment)"
    )


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False
