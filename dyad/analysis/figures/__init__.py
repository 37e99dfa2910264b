"""Publication figures from tidy tables, one module per figure family.

- :mod:`~dyad.analysis.figures.common`: style, colours, formats, saving, titles;
- :mod:`~dyad.analysis.figures.ordering`: the neuron order of the heat maps;
- :mod:`~dyad.analysis.figures.firing_rates`: the poster's figure, rates before and after;
- :mod:`~dyad.analysis.figures.information`: single-cell information curves;
- :mod:`~dyad.analysis.figures.interaction`: the whole interaction on one time axis;
- :mod:`~dyad.analysis.figures.sweeps`: class counts and outcomes against a swept variable;
- :mod:`~dyad.analysis.figures.run`: :func:`draw_run_figures`, a run's figures from its tables.

Importing this package imports numpy and pandas only; matplotlib (and seaborn, for sweeps)
load when a figure is drawn.
"""

from dyad.analysis.figures.common import (
    AXIS_LABELS,
    CLASS_COLOURS,
    CLASS_ORDER,
    EXPRESSION_COLOURS,
    FORMATS,
    OUTCOME_COLOURS,
    OUTCOMES,
    STYLE,
    nest_lines,
    run_title,
    style,
)
from dyad.analysis.figures.firing_rates import (
    condition_means,
    draw_firing_rates,
    parent_means,
    plot_firing_rates,
)
from dyad.analysis.figures.information import draw_information_curves, plot_information_curves
from dyad.analysis.figures.interaction import draw_interaction, plot_interaction
from dyad.analysis.figures.ordering import neuron_groups, order_neurons
from dyad.analysis.figures.run import (
    ALL_RUN_FIGURES,
    RUN_FIGURES,
    draw_run_figures,
    information_by_modality,
)
from dyad.analysis.figures.sweeps import (
    draw_class_counts,
    draw_outcome_shares,
    is_numeric_axis,
    outcome_shares,
    plot_class_counts,
    plot_outcome_shares,
    run_outcomes,
    x_segments,
)

__all__ = [
    "ALL_RUN_FIGURES",
    "AXIS_LABELS",
    "CLASS_COLOURS",
    "CLASS_ORDER",
    "EXPRESSION_COLOURS",
    "FORMATS",
    "OUTCOMES",
    "OUTCOME_COLOURS",
    "RUN_FIGURES",
    "STYLE",
    "condition_means",
    "draw_class_counts",
    "draw_firing_rates",
    "draw_information_curves",
    "draw_interaction",
    "draw_outcome_shares",
    "draw_run_figures",
    "information_by_modality",
    "is_numeric_axis",
    "nest_lines",
    "neuron_groups",
    "order_neurons",
    "outcome_shares",
    "parent_means",
    "plot_class_counts",
    "plot_firing_rates",
    "plot_information_curves",
    "plot_interaction",
    "plot_outcome_shares",
    "run_outcomes",
    "run_title",
    "style",
    "x_segments",
]
