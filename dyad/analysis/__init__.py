"""Analysis of logged runs: classification, information measures, figures."""

#: neuron classes of model.md §11.3, in the order tables and figures list them
NEURON_CLASSES: tuple[str, ...] = (
    "mirror",
    "anti-mirror",
    "visual-only",
    "motor-only",
    "bimodal-unselective",
    "unselective",
)
