"""The infant's brain during the interaction: frozen VisNet, motor module, mirror layer.

VisNet is pre-trained and frozen while the infant interacts (model.md §2, §9.1), so its layer-4
responses to the parents' faces are computed once, for a bank of random transforms per parent and
expression, and each timestep samples one of them. That keeps a timestep to one mirror-layer
update, which is what the three simulations are about.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dyad.brain.mirror import MirrorLayer
from dyad.brain.motor import MotorModule


@dataclass(frozen=True)
class ProbeResponses:
    """Mirror-layer responses to a probe (learning off): the test phase of model.md §10.

    A probe shows each expression in one modality at a time, before and after the
    interaction (and, in the live model, while it goes on), to classify every neuron.

    ``visual``: ``(n_parents, n_expressions, n_trials, n_neurons)``, held-out face transforms
    with the motor input at zero. ``motor``: ``(n_expressions, n_trials, n_neurons)``, motor
    patterns with a few bits flipped per trial, with the visual input at zero.
    """

    visual: np.ndarray
    motor: np.ndarray


class InfantBrain:
    """Layer-4 response banks + motor module + mirror layer.

    Parameters
    ----------
    training_bank:
        ``(n_parents, n_expressions, n_bank, n_l4) float32`` layer-4 rates of frozen VisNet for
        random transforms of each parent's face showing each expression.
    test_bank:
        ``(n_parents, n_expressions, n_test, n_l4) float32`` responses to held-out transforms.
    motor, mirror:
        The motor module and the mirror layer (sized for ``n_l4`` visual and
        ``motor.patterns.shape[1]`` motor inputs).
    rng:
        The run's generator; picks which bank transform the infant sees each timestep.
    """

    def __init__(
        self,
        training_bank: np.ndarray,
        test_bank: np.ndarray,
        motor: MotorModule,
        mirror: MirrorLayer,
        rng: np.random.Generator,
    ) -> None:
        self.training_bank = np.ascontiguousarray(training_bank, dtype=np.float32)
        self.test_bank = np.ascontiguousarray(test_bank, dtype=np.float32)
        self.motor = motor
        self.mirror = mirror
        self.rng = rng
        self.n_bank = self.training_bank.shape[2]
        self.n_expressions = self.training_bank.shape[1]
        self._zero_motor = np.zeros(motor.patterns.shape[1], dtype=np.float32)
        self.last_transform = -1

    @property
    def n_neurons(self) -> int:
        """Neurons of the mirror layer."""
        return self.mirror.n_neurons

    @property
    def last_drives(self) -> tuple[float, float]:
        """Mean visual and mean motor drive per mirror-layer neuron at the last timestep.

        What the recorder logs beside the rates: which input moved the layer. Read here, so
        the model and recorder need not know how the mirror layer keeps them.
        """
        return self.mirror.last_visual_drive, self.mirror.last_motor_drive

    def calibrate(self, n_samples: int = 64) -> None:
        """Set the mirror layer's motor gain and sigmoid slope from a batch of real inputs."""
        n_parents, n_expr, n_bank, n_l4 = self.training_bank.shape
        parents = self.rng.integers(n_parents, size=n_samples)
        shown = self.rng.integers(n_expr, size=n_samples)
        made = self.rng.integers(n_expr, size=n_samples)
        items = self.rng.integers(n_bank, size=n_samples)
        visual = self.training_bank[parents, shown, items]
        motor = self.motor.patterns[made]
        self.mirror.calibrate(visual, motor)

    def experience(self, parent: int, seen: int, produced: int, learn: bool = True) -> np.ndarray:
        """One timestep: see ``parent`` showing ``seen`` while making ``produced``.

        Returns the mirror layer's rates ``(n_neurons,)`` (a view valid until the next call).
        """
        item = int(self.rng.integers(self.n_bank))
        self.last_transform = item
        visual = self.training_bank[parent, seen, item]
        return self.mirror.step(visual, self.motor.patterns[produced], learn=learn)

    def visual_probe(self, bank: np.ndarray, n_trials: int) -> np.ndarray:
        """Visual-only responses (motor input 0) to the first ``n_trials`` transforms of a bank.

        ``bank`` is ``(n_faces, n_expressions, n, n_l4)``; returns
        ``(n_faces, n_expressions, min(n_trials, n), n_neurons)``.
        """
        n_faces, n_expr, n_test, n_l4 = bank.shape
        trials = min(n_trials, n_test)
        visual_inputs = np.ascontiguousarray(bank[:, :, :trials], np.float32).reshape(-1, n_l4)
        zeros_motor = np.zeros((visual_inputs.shape[0], self._zero_motor.size), np.float32)
        visual = self.mirror.respond(visual_inputs, zeros_motor)
        return visual.reshape(n_faces, n_expr, trials, -1)

    def probe(self, n_trials: int, motor_flip: float, rng: np.random.Generator) -> ProbeResponses:
        """Visual-only and motor-only responses of every mirror-layer neuron (§10).

        Learning is off: probing leaves the weights as they are. ``rng`` flips the motor
        bits (``motor_flip`` of them per trial); pass a stream of its own so that probing
        never shifts the run's other draws.
        """
        n_l4 = self.test_bank.shape[3]
        visual = self.visual_probe(self.test_bank, n_trials)
        motor_inputs = motor_probe_inputs(self.motor.patterns, n_trials, motor_flip, rng)
        zeros_visual = np.zeros((motor_inputs.shape[0], n_l4), np.float32)
        motor = self.mirror.respond(zeros_visual, motor_inputs)
        return ProbeResponses(
            visual=visual, motor=motor.reshape(len(self.motor.patterns), n_trials, -1)
        )


def motor_probe_inputs(
    patterns: np.ndarray, n_trials: int, motor_flip: float, rng: np.random.Generator
) -> np.ndarray:
    """Return the motor-only test trials: ``(S * n_trials, n_motor)``, bits flipped.

    Each bit of each trial flips with probability ``motor_flip`` (one draw of
    ``(S, n_trials, n_motor)`` uniforms from ``rng``); rows are expression-major.
    """
    n_expr, n_motor = patterns.shape
    flips = rng.random((n_expr, n_trials, n_motor)) < motor_flip
    motor_inputs = np.abs(patterns[:, None, :] - flips.astype(np.float32))
    return motor_inputs.reshape(-1, n_motor)
