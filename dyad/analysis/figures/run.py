"""A run's figures, drawn from its tables by the command and results layer.

:func:`draw_run_figures` is what ``dyad simulate`` (and a saved ``Run``) calls after a run:
the simulation itself never imports matplotlib, so runs in sweeps and notebooks pay nothing
for figures they do not want. Every figure is titled with the scenario, the seed and the
measured congruence c, so the figures of two runs cannot be mistaken for each other.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from dyad.analysis.figures.common import run_title

#: The figures every run writes (file stem -> what it shows); the report adds "information".
RUN_FIGURES: tuple[str, ...] = ("firing_rates", "interaction")
#: Every figure :func:`draw_run_figures` can draw.
ALL_RUN_FIGURES: tuple[str, ...] = ("firing_rates", "information", "interaction")


def _tables_and_manifest(
    tables_or_run: Mapping[str, pd.DataFrame] | Any, manifest: Mapping[str, Any] | None
) -> tuple[Mapping[str, pd.DataFrame], Mapping[str, Any]]:
    """Tables and manifest of a run object (``.tables``, ``.manifest``) or a plain mapping."""
    if isinstance(tables_or_run, Mapping):
        return tables_or_run, manifest or {}
    tables = getattr(tables_or_run, "tables", None)
    if not isinstance(tables, Mapping):
        raise TypeError(
            "tables_or_run: expected a mapping of table name -> DataFrame or a run with "
            f".tables, got {type(tables_or_run).__name__}"
        )
    return tables, manifest or getattr(tables_or_run, "manifest", None) or {}


def title_of_run(tables: Mapping[str, pd.DataFrame], manifest: Mapping[str, Any]) -> str:
    """``"<scenario> · seed <seed> · c = <c>"`` from the manifest, c from the tables if absent."""
    scenario = manifest.get("scenario", {})
    name = scenario.get("name") if isinstance(scenario, Mapping) else None
    congruence = (manifest.get("summary") or {}).get("congruence")
    if congruence is None and "interaction" in tables and "congruent" in tables["interaction"]:
        congruence = float(tables["interaction"]["congruent"].mean())
    return run_title(name, manifest.get("seed"), congruence)


def draw_run_figures(
    tables_or_run: Mapping[str, pd.DataFrame] | Any,
    folder: str | os.PathLike,
    formats: Sequence[str] = ("png",),
    *,
    manifest: Mapping[str, Any] | None = None,
    figures: Sequence[str] = RUN_FIGURES,
    prefix: str = "",
) -> list[Path]:
    """Draw a run's figures into ``folder`` from its tables; return every file written.

    Parameters
    ----------
    tables_or_run
        The run's tables (``{"test_responses": ..., "neurons": ..., "interaction": ...}``) or
        an object with ``.tables`` and ``.manifest`` (a loaded or fresh run).
    folder
        Where the files go (created if missing), named ``<prefix><figure>.<format>``.
    formats
        File formats, some of ``png``, ``svg``, ``pdf``.
    manifest
        The run's manifest (scenario name, seed and summary title the figures); taken from
        the run object when one is given.
    figures
        Which figures: some of :data:`ALL_RUN_FIGURES`. A figure whose tables are missing is
        skipped (a run saved without them still gets the others).
    """
    from dyad.analysis.figures.firing_rates import plot_firing_rates
    from dyad.analysis.figures.information import plot_information_curves
    from dyad.analysis.figures.interaction import plot_interaction

    unknown = [f for f in figures if f not in ALL_RUN_FIGURES]
    if unknown:
        raise ValueError(f"figures: expected some of {ALL_RUN_FIGURES}, got {unknown}")
    tables, manifest = _tables_and_manifest(tables_or_run, manifest)
    folder = Path(folder)
    run = title_of_run(tables, manifest)
    written: list[Path] = []
    has_tests = "test_responses" in tables and "neurons" in tables
    if "firing_rates" in figures and has_tests:
        written += plot_firing_rates(
            tables["test_responses"],
            tables["neurons"],
            folder / f"{prefix}firing_rates",
            formats,
            title=f"Mirror-layer firing rates · {run}",
        )
    if "information" in figures and has_tests:
        info = information_by_modality(tables["neurons"])
        if info is not None:
            neurons = tables["neurons"]
            n_expressions = sum(str(c).startswith("mean_visual_") for c in neurons.columns)
            n_neurons = neurons["neuron"].nunique()
            written += plot_information_curves(
                info,
                folder / f"{prefix}information",
                max_bits=math.log2(max(n_expressions, 2)),
                formats=formats,
                hue="modality",
                layer=f"mirror layer, {n_neurons} neurons",
                title=f"Single-cell information · {run}",
            )
    if "interaction" in figures and "interaction" in tables:
        written += plot_interaction(
            tables["interaction"],
            folder / f"{prefix}interaction",
            formats,
            title=f"Interaction · {run}",
        )
    return written


def information_by_modality(neurons: pd.DataFrame) -> pd.DataFrame | None:
    """Tidy ``information, network, modality, cell`` rows from the neurons table.

    The "before" phase is the untrained network, "after" the trained one. ``None`` when the
    table has no information columns (runs saved before they existed).
    """
    needed = {"phase", "neuron", "info_visual", "info_motor"}
    if not needed <= set(neurons.columns):
        return None
    networks = {"before": "untrained", "after": "trained"}
    part = neurons[neurons["phase"].astype(str).isin(networks)]
    frames = [
        pd.DataFrame(
            {
                "information": part[f"info_{modality}"].to_numpy(dtype=float),
                "network": part["phase"].astype(str).map(networks).to_numpy(),
                "modality": modality,
                "cell": part["neuron"].to_numpy(),
            }
        )
        for modality in ("visual", "motor")
    ]
    info = pd.concat(frames, ignore_index=True)
    return info if len(info) else None
