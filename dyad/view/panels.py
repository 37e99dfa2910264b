"""The live view's panels: what the infant sees and does, its mirror layer, the neuron classes.

Each panel is a function of the model, as SolaraViz components are; SolaraViz re-renders it
after every step it shows. Figures are built with ``matplotlib.figure.Figure`` (no pyplot: the
model steps in a worker thread) and redrawn only when what they show changed.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np
import solara
from matplotlib.figure import Figure

from dyad.analysis import NEURON_CLASSES
from dyad.analysis.figures import CLASS_COLOURS, nest_lines  # as in dyad's figures
from dyad.view.faces import bank_images_soon

if TYPE_CHECKING:
    from dyad.model import DyadModel

#: the infant's face is drawn with an identity of its own (the model's infant has no face:
#: its expression is a motor pattern); any seed no parent uses
INFANT_IDENTITY_OFFSET = 1000
#: displayed width of each face
FACE_WIDTH = "150px"


# ------------------------------------------------------------------------------------------------
# Faces


def canonical_face(model: DyadModel, identity: int, expression: str) -> np.ndarray:
    """Return the untransformed face of ``identity`` showing ``expression``, uint8."""
    return _canonical(model.pretrained.config, identity, expression)


_canonical_cache: dict[tuple, np.ndarray] = {}


def _canonical(config, identity: int, expression: str) -> np.ndarray:
    from dyad.faces import ParametricFaces

    key = (config.to_json(), identity, expression)
    if key not in _canonical_cache:
        image = ParametricFaces(config.face_config(identity)).render(expression)
        _canonical_cache[key] = np.clip(image, 0, 255).astype(np.uint8)
    return _canonical_cache[key]


# ------------------------------------------------------------------------------------------------
# Panels


def FacesPanel(model: DyadModel):
    """Show the parent's face as the infant sees it, the infant's own expression, the status."""
    infant = model.infant
    t = model.steps
    with solara.Card("What the infant sees and does", margin=0) as card:
        if t == 0:
            policies = " · ".join(
                f"{_e(p.name)}'s policy: {_e(_policy_label(p))}" for p in model.parents
            )
            Html(
                f"<b>t = 0</b> of {model.n_steps} · {policies} · press <b>Step</b> or "
                "<b>▶</b> to start the interaction"
            )
            return card
        parent = model.parents[model.parent_schedule[t - 1]]
        shown = model.expressions[parent.displayed]
        made = model.expressions[infant.expression]
        congruent = parent.displayed == infant.expression
        scenario = model.config
        images = bank_images_soon(
            model.pretrained,
            scenario.all_parents[parent.index].identity_seed,
            scenario.vision.bank_size,
            model.expressions,
        )
        if images is None:
            identity = model.config.all_parents[parent.index].identity_seed
            seen = canonical_face(model, identity, shown)
            seen_caption = f"{_e(parent.name)} shows <b>{shown}</b> (rendering the transforms…)"
        else:
            seen = images[parent.displayed, infant.brain.last_transform]
            seen_caption = (
                f"{_e(parent.name)} shows <b>{shown}</b> (transform {infant.brain.last_transform})"
            )
        infant_identity = INFANT_IDENTITY_OFFSET + max(
            p.identity_seed for p in model.config.all_parents
        )
        own = canonical_face(model, infant_identity, made)
        with solara.Row(justify="space-around"):
            with solara.Column(align="center", gap="4px"):
                solara.Image(_rgb(seen), width=FACE_WIDTH)
                Html(seen_caption)
            with solara.Column(align="center", gap="4px"):
                solara.Image(_rgb(own), width=FACE_WIDTH)
                Html(f"the infant makes <b>{made}</b>")
        congruence = model.congruence
        Html(
            f"<b>t = {t}</b> of {model.n_steps} · {_e(parent.name)}'s policy: "
            f"{_e(_policy_label(parent))} · "
            + ("congruent" if congruent else "<b>incongruent</b>")
            + f" · congruence so far c = {congruence:.2f}"
        )
    return card


def Html(text: str):
    """Show a line of text with inline markup (``solara.Markdown`` would fetch KaTeX from a CDN)."""
    return solara.HTML(tag="div", unsafe_innerHTML=text, style={"text-align": "center"})


def _e(text: str) -> str:
    return html.escape(str(text))


def _rgb(image: np.ndarray) -> np.ndarray:
    """Return a grey (H, W) uint8 image as (H, W, 3), the shape ``solara.Image`` takes."""
    return np.repeat(image[:, :, None], 3, axis=2)


def _policy_label(parent) -> str:
    values = ", ".join(
        f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}"
        for k, v in parent.policy.params.model_dump().items()
    )
    return f"{parent.policy_name} ({values})" if values else parent.policy_name


def MirrorPanel(model: DyadModel):
    """Show the mirror layer's rates over the recent timesteps, neurons ordered by their class.

    Drawn as an image straight from the rates (a colour look-up, a few milliseconds) rather
    than a matplotlib figure (hundreds of milliseconds), so the page keeps up while playing.
    """
    image = mirror_image(model)
    rates = model.recent_mirror_rates()
    first = model.steps - len(rates)
    probe_t = model.probes[-1]["t"]
    counts = {name: model.class_count(name) for name in NEURON_CLASSES}
    legend = " ".join(
        f'<span style="white-space:nowrap"><span style="display:inline-block;width:10px;'
        f'height:10px;background:{CLASS_COLOURS[name]}"></span> {name} {count}</span>'
        for name, count in counts.items()
        if count
    )
    n_neurons = image.shape[0] // _row_scale(len(model.neuron_class))
    with solara.Card("Mirror layer: rates over the last timesteps", margin=0) as card:
        solara.Image(image, width="100%")
        Html(
            f"timesteps {max(first, 0)}–{max(model.steps - 1, 0)} (left to right) · "
            f"{n_neurons} neurons top to bottom, ordered by class at t = {probe_t} · "
            f'rate 0 <span style="display:inline-block;width:80px;height:10px;'
            f'background:linear-gradient(to right,{_VIRIDIS_CSS})"></span> 1'
        )
        Html(legend)
    return card


#: pixels per timestep column and width of the class strip in the mirror-layer image
COLUMN_WIDTH = 6
STRIP_WIDTH = 12


def _row_scale(n_neurons: int) -> int:
    return max(1, 256 // n_neurons)


def _viridis() -> np.ndarray:
    from matplotlib import colormaps

    return (colormaps["viridis"](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.uint8)


VIRIDIS = _viridis()
_VIRIDIS_CSS = ",".join(f"rgb{tuple(int(v) for v in VIRIDIS[i])}" for i in range(0, 256, 51))
_CLASS_RGB = np.array(
    [[int(CLASS_COLOURS[c][i : i + 2], 16) for i in (1, 3, 5)] for c in NEURON_CLASSES],
    dtype=np.uint8,
)


def mirror_image(model: DyadModel) -> np.ndarray:
    """``(rows, columns, 3)`` uint8: a class strip, a gap, then rates (neurons × timesteps).

    Columns are the last ``len(model.recent_rates)`` timesteps (blank before t = 0), rows the
    neurons ordered by :meth:`~dyad.model.DyadModel.neuron_order`, upscaled to whole pixels.
    """
    rates = model.recent_mirror_rates()
    order = model.neuron_order()
    width = len(model.recent_rates)
    n_neurons = len(order)
    grid = np.full((n_neurons, width, 3), 255, dtype=np.uint8)
    if len(rates):
        levels = np.clip(rates[:, order].T * 255, 0, 255).astype(np.uint8)
        grid[:, width - len(rates) :] = VIRIDIS[levels]
    codes = np.array([NEURON_CLASSES.index(c) for c in model.neuron_class[order]])
    strip = np.repeat(_CLASS_RGB[codes][:, None, :], STRIP_WIDTH, axis=1)
    gap = np.full((n_neurons, 4, 3), 255, dtype=np.uint8)
    body = np.repeat(grid, COLUMN_WIDTH, axis=1)
    image = np.concatenate([strip, gap, body], axis=1)
    return np.repeat(image, _row_scale(n_neurons), axis=0)


def ClassesPanel(model: DyadModel):
    """Neuron classes and congruence at each probe so far."""
    n_probes = len(model.probes)
    figure = solara.use_memo(lambda: classes_figure(model), dependencies=[n_probes, id(model)])
    with solara.Card(
        f"Neuron classes, tested every {model.probe_every or model.n_steps} timesteps", margin=0
    ) as card:
        solara.FigureMatplotlib(figure, format="png", dependencies=[n_probes, id(model)])
    return card


def classes_figure(model: DyadModel) -> Figure:
    """Class counts (left axis) and congruence so far (right axis) against the timestep."""
    probes = list(model.probes)  # a snapshot: the model may probe again while this draws
    t = np.array([p["t"] for p in probes])
    figure = Figure(figsize=(7.2, 3.4), dpi=80, layout="constrained")
    ax = figure.subplots()
    for name in NEURON_CLASSES:
        counts = [p[name] for p in probes]
        ax.plot(t, counts, marker="o", ms=3, color=CLASS_COLOURS[name], label=name)
    nest_lines(ax, [CLASS_COLOURS[name] for name in NEURON_CLASSES])  # classes at 0 all show
    n_neurons = model.infant.brain.n_neurons
    ax.set_ylim(-0.02 * n_neurons, 1.02 * n_neurons)
    # the axis grows with the run (at least five probe intervals), so early probes are legible
    span = max(int(t[-1]), 5 * (model.probe_every or model.n_steps))
    ax.set_xlim(0, min(span, model.n_steps) * 1.02)
    ax.set_xlabel("timestep")
    ax.set_ylabel("neurons")
    right = ax.twinx()
    congruence = [p["congruence"] for p in probes]
    right.plot(t, congruence, color="black", ls="--", lw=1.2, label="congruence c")
    right.set_ylim(-0.02, 1.02)
    right.set_ylabel("congruence so far")
    lines = ax.get_lines() + right.get_lines()
    figure.legend(
        lines, [line.get_label() for line in lines], fontsize=7, loc="outside right upper"
    )
    return figure
