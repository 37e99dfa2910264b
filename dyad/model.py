"""The interaction as a Mesa model: who acts when, and what gets logged.

:class:`DyadModel` owns one :class:`~dyad.agents.Infant` and one or more
:class:`~dyad.agents.Parent` agents. Its :meth:`~DyadModel.step` is the scheduler: the order of
events in one timestep is written out there. Per-timestep records go to an
:class:`~dyad.recording.InteractionRecorder` (preallocated arrays, far cheaper than Mesa's
DataCollector for per-neuron rates), which makes the tidy tables at the end. Time is Mesa's own
step counter, ``self.steps``: timestep ``t`` runs as the ``t + 1``-th step.

The model can be built two ways: from ready parts (a brain, schedules, policy objects; this is
what :func:`dyad.simulation.run_scenario` does), or from plain keyword parameters, a scenario
and field overrides, as Mesa's own tools (``SolaraViz``, ``mesa.batch_run``) expect::

    DyadModel(scenario_file="perfect", seed=0, **{"parent.params.q": 0.2})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd
from mesa.experimental.scenarios import Scenario as MesaScenario

from dyad.agents import Infant, Parent
from dyad.analysis import NEURON_CLASSES, class_column
from dyad.brain.infant import InfantBrain
from dyad.config.reading import resolve_scenario
from dyad.errors import ConfigError
from dyad.recording import InteractionRecorder
from dyad.validation import check_int, check_seed

#: the folder of the scenarios shipped with dyad (a source checkout's ``scenarios/``)


class DyadModel(mesa.Model):
    """An infant interacting with its parents; the mirror layer learns every timestep.

    Built either from ready parts (the positional parameters below) or, when
    ``scenario_file`` is given, from a scenario and overrides, wired exactly as
    :func:`dyad.simulation.run_scenario` wires it (same seed, same interaction).

    Parameters
    ----------
    brain:
        The infant's brain (frozen VisNet banks, motor module, mirror layer).
    schedule:
        The infant's expressions, ``(preroll + n_steps,)``.
    parent_schedule:
        Which parent is present at each timestep, ``(n_steps,)``.
    policies:
        One mimicry-policy object per parent (``choose(t, infant_history) -> int``).
    rng:
        The run's seed (an int) or generator; Mesa seeds ``self.rng`` from it. Nothing in
        dyad draws from ``self.rng`` (each purpose has its own stream, see
        :data:`dyad.simulation.STREAMS`); it is seeded so Mesa-side randomness, if any is ever
        used, stays reproducible.
    scenario_file:
        A scenario TOML file, the name of a shipped scenario (``"perfect"``), a scenario dict
        or a validated :class:`~dyad.config.Scenario`. (Not called ``scenario``: Mesa's
        ``Model`` reserves that name for its own scenario objects, and SolaraViz passes one
        under it on reset.)
    seed:
        The run's seed (default: the scenario's ``seed``). ``mesa.batch_run`` passes it.
    overrides, **fields:
        Dotted scenario fields and their values, e.g. ``{"run.steps": 500}`` or
        ``**{"parent.params.q": 0.2}``; validated like the scenario file itself.
    cache_dir:
        The pre-training cache (default ``$DYAD_CACHE_DIR`` or ``~/.cache/dyad``).
    plugin_dirs:
        Folders of policy plugins (default ``./plugins`` when it exists).
    probe_every:
        Test every mirror-layer neuron (learning off, §10) and classify it every N timesteps
        and at t = 0 and at the end; 0 probes only at t = 0 and at the end. Default: every 100
        timesteps for a model built from a scenario; never for one built from parts, whose
        caller tests the layer itself (:func:`~dyad.simulation.run_scenario` does, before and
        after). Probing never changes the run: it uses its own random stream.
    recent_steps:
        How many of the most recent timesteps' mirror-layer rates :attr:`recent_rates` keeps.
    """

    def __init__(
        self,
        brain: InfantBrain | None = None,
        schedule: np.ndarray | None = None,
        parent_schedule: np.ndarray | None = None,
        policies: Sequence | None = None,
        parent_names: Sequence[str] | None = None,
        expressions: Sequence[str] | None = None,
        policy_sources: Sequence[str] | None = None,
        preroll: int = 0,
        log_every: int = 1,
        log_mirror_rates: bool = True,
        rng: int | np.random.Generator | None = None,
        *,
        scenario_file: str | Path | Mapping[str, Any] | None = None,
        seed: int | None = None,
        overrides: Mapping[str, Any] | None = None,
        cache_dir: str | Path | None = None,
        plugin_dirs: Sequence[str | Path] | None = None,
        probe_every: int | None = None,
        recent_steps: int = 60,
        **fields: Any,
    ) -> None:
        mesa_scenario = fields.pop("scenario", None)
        if mesa_scenario is not None and not isinstance(mesa_scenario, MesaScenario):
            raise ConfigError(
                "scenario: Mesa reserves this name for its own Scenario objects; "
                "pass a dyad scenario as scenario_file="
            )
        if probe_every is not None:
            probe_every = check_int("probe_every", probe_every, 0)
        recent_steps = check_int("recent_steps", recent_steps, 1)
        self.config = None
        self.pretrained = None
        test_trials, motor_flip, probe_seed = 20, 0.05, 0
        if scenario_file is not None:
            if brain is not None or rng is not None:
                raise ConfigError(
                    "DyadModel: give either scenario_file (with seed=) or a ready brain, "
                    "schedules and policies (with rng=), not both"
                )
            parts = build_from_scenario(
                scenario_file, seed, {**(overrides or {}), **fields}, cache_dir, plugin_dirs
            )
            self.config, self.pretrained = parts["scenario"], parts["pretrained"]
            self.seed = probe_seed = parts["seed"]
            test_trials = self.config.run.test_trials
            motor_flip = self.config.run.motor_test_flip
            brain, schedule = parts["brain"], parts["schedule"]
            parent_schedule, policies = parts["parent_schedule"], parts["policies"]
            parent_names, expressions = parts["parent_names"], parts["expressions"]
            policy_sources, preroll = parts["policy_sources"], parts["preroll"]
            log_every, log_mirror_rates = parts["log_every"], parts["log_mirror_rates"]
            rng = parts["rng"]
        elif fields or overrides:
            raise ConfigError(
                f"DyadModel: scenario fields {sorted({**(overrides or {}), **fields})} need a "
                "scenario_file= to override"
            )
        elif brain is None or schedule is None or parent_schedule is None or policies is None:
            raise ConfigError(
                "DyadModel: give scenario_file= (a scenario file or name), or a brain, "
                "schedule, parent_schedule, policies, parent_names and expressions"
            )
        else:
            self.seed = seed
            if isinstance(rng, int | np.integer):
                probe_seed = int(rng)
        super().__init__(rng=rng)
        self.n_steps = len(parent_schedule)
        self.expressions = tuple(expressions)
        self.parent_names = tuple(parent_names)
        self.infant = Infant(self, brain, schedule, preroll)
        sources = policy_sources or ["unknown source"] * len(policies)
        self.parents = [
            Parent(self, name, index, policy, source)
            for index, (name, policy, source) in enumerate(
                zip(parent_names, policies, sources, strict=True)
            )
        ]
        self.parent_schedule = parent_schedule
        self.recorder = InteractionRecorder(
            self.n_steps, brain.n_neurons, log_every, log_mirror_rates
        )
        self._init_probes(probe_every, recent_steps, test_trials, motor_flip, probe_seed)

    def step(self) -> None:
        """Advance the dyad by one timestep.

        In this order:

        1. the infant makes this timestep's expression (its motor pattern);
        2. the parent who is present chooses an expression to show (its policy);
        3. the infant sees that face (frozen VisNet layer 4) while making its own expression,
           and both inputs drive the mirror layer, which learns (Hebb + normalisation);
        4. the interaction and the neural responses are logged.

        Mesa has counted this step already, so the timestep is ``self.steps - 1``.
        """
        t = self.steps - 1
        self.infant.step()
        parent = self.parents[self.parent_schedule[t]]
        parent.step()
        self.infant.perceive(parent)
        self.recorder.record(t, self.infant, parent)
        self.recent_rates[t % len(self.recent_rates)] = self.infant.rates
        if self.steps >= self.n_steps:
            self.running = False
        if self.probing and (
            not self.running or (self.probe_every and self.steps % self.probe_every == 0)
        ):
            self.probe()

    # ---------------------------------------------------------------------------------------
    # Probes: the neuron classes while the run goes on

    def _init_probes(
        self, probe_every: int | None, recent_steps: int, trials: int, motor_flip: float, seed: int
    ) -> None:
        n_neurons = self.infant.brain.n_neurons
        if probe_every is None:
            probe_every = 100 if self.config is not None else None
        #: whether the model probes its neuron classes at all (see ``probe_every``)
        self.probing = probe_every is not None
        self.probe_every = int(probe_every or 0)
        self._probe_trials = trials
        self._probe_flip = motor_flip
        # a stream of its own, so probing never changes the interaction or the final test
        self._probe_rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x9E0B]))
        #: the last ``recent_steps`` timesteps' mirror-layer rates, a ring indexed by t % size
        self.recent_rates = np.zeros((recent_steps, n_neurons), np.float32)
        #: each neuron's class at the last probe (names from ``NEURON_CLASSES``)
        self.neuron_class = np.full(n_neurons, NEURON_CLASSES[-1], dtype=object)
        #: each neuron's preferred expression (index) on visual-only trials at the last probe
        self.preferred_visual = np.zeros(n_neurons, np.intp)
        #: one dict per probe: ``t``, a count per neuron class, ``congruence`` so far
        self.probes: list[dict[str, Any]] = []
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "t": "steps",
                "congruence": "congruence",
                "mirror_index": "mirror_index",
                **{name: f"n_{class_column(name)}" for name in NEURON_CLASSES},
            }
        )
        if self.probing:
            self.probe()

    def probe(self) -> dict[str, Any]:
        """Probe and classify every mirror-layer neuron now (learning off, model.md §10–11).

        Updates :attr:`neuron_class`, :attr:`preferred_visual`, appends to :attr:`probes` and
        collects the model reporters (class counts, congruence, mirror index).
        """
        from dyad.analysis.classify import classify_arrays

        brain = self.infant.brain
        responses = brain.probe(self._probe_trials, self._probe_flip, self._probe_rng)
        n_parents, n_expr, n_trials, n_neurons = responses.visual.shape
        # visual trials of all parents pooled per expression, as run_scenario's test table does
        visual = responses.visual.transpose(1, 0, 2, 3).reshape(n_expr, -1, n_neurons)
        result = classify_arrays(visual, responses.motor)
        self.neuron_class = result.neuron_class
        self.preferred_visual = result.visual.preferred
        counts = {
            name: int(np.count_nonzero(result.neuron_class == name)) for name in NEURON_CLASSES
        }
        record = {"t": self.steps, **counts, "congruence": self.congruence}
        self.probes.append(record)
        self.datacollector.collect(self)
        return record

    def class_count(self, name: str) -> int:
        """Neurons of class ``name`` at the last probe."""
        return int(np.count_nonzero(self.neuron_class == name))

    n_mirror = property(lambda self: self.class_count("mirror"))
    n_anti_mirror = property(lambda self: self.class_count("anti-mirror"))
    n_visual_only = property(lambda self: self.class_count("visual-only"))
    n_motor_only = property(lambda self: self.class_count("motor-only"))
    n_bimodal_unselective = property(lambda self: self.class_count("bimodal-unselective"))
    n_unselective = property(lambda self: self.class_count("unselective"))

    @property
    def mirror_index(self) -> float:
        """(N_mirror - N_anti) / (N_mirror + N_anti) at the last probe; nan when neither."""
        mirror, anti = self.n_mirror, self.n_anti_mirror
        return (mirror - anti) / (mirror + anti) if mirror + anti else float("nan")

    @property
    def congruence(self) -> float:
        """Fraction of timesteps so far on which the parent showed the infant's expression."""
        return self.recorder.congruence(self.steps)

    def recent_mirror_rates(self) -> np.ndarray:
        """Return the mirror layer's rates of the last timesteps, oldest first.

        An ``(n, n_neurons)`` array.
        """
        size, done = len(self.recent_rates), self.steps
        if done <= size:
            return self.recent_rates[:done]
        return np.roll(self.recent_rates, -(done % size), axis=0)

    def neuron_order(self) -> np.ndarray:
        """Neurons ordered by their class at the last probe, then by preferred expression."""
        rank = {name: i for i, name in enumerate(NEURON_CLASSES)}
        class_rank = np.array([rank[name] for name in self.neuron_class])
        return np.lexsort((self.preferred_visual, class_rank))

    # ---------------------------------------------------------------------------------------
    # Tidy tables

    def interaction_table(self) -> pd.DataFrame:
        """One row per timestep: who showed what, congruence, mirror-layer summary."""
        return self.recorder.interaction_table(self.expressions, self.parent_names)

    def mirror_rates_table(self) -> pd.DataFrame:
        """Long table ``t, neuron, rate`` of the logged mirror-layer rates."""
        return self.recorder.mirror_rates_table()


# ------------------------------------------------------------------------------------------------
# Building a model from a scenario


def build_from_scenario(
    scenario_file: Any,
    seed: int | None,
    overrides: Mapping[str, Any],
    cache_dir: str | Path | None,
    plugin_dirs: Sequence[str | Path] | None,
) -> dict[str, Any]:
    """Everything :class:`DyadModel` needs, wired as :func:`dyad.simulation.run_scenario` does.

    The visual system comes from the pre-training cache (trained once if missing); the
    brain, schedules and policies from the run's random streams, in the same order as a
    ``dyad simulate`` run, so a model built here steps through the same interaction.
    """
    from dyad.plugins import load_registry, plugin_folders
    from dyad.simulation import cached_vision, run_streams, wire_run

    folders = plugin_folders(plugin_dirs)
    scenario = resolve_scenario(scenario_file, overrides, folders)
    seed = check_seed("seed", scenario.seed if seed is None else seed)
    pretrained, training_bank, test_bank = cached_vision(scenario, cache_dir)

    expressions = tuple(scenario.infant.expressions)
    parents = scenario.all_parents
    streams = run_streams(seed)
    registry = load_registry(plugin_dirs=(*folders, *scenario.plugins), strict=True)
    wiring = wire_run(scenario, streams, registry, training_bank, test_bank)
    policies, preroll, brain = wiring.policies, wiring.preroll, wiring.brain
    schedule, present = wiring.schedule, wiring.parent_schedule
    return {
        "scenario": scenario,
        "pretrained": pretrained,
        "seed": seed,
        "brain": brain,
        "schedule": schedule,
        "parent_schedule": present,
        "policies": policies,
        "parent_names": [p.name for p in parents],
        "expressions": expressions,
        "policy_sources": [registry.get(p.policy).source for p in parents],
        "preroll": preroll,
        "log_every": scenario.run.log_every,
        "log_mirror_rates": scenario.output.mirror_rates,
        "rng": streams["model"],
    }
