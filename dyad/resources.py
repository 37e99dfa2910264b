"""How much memory (and roughly how much time) a run or a sweep needs, checked before starting.

A scenario's size is set by a handful of numbers: interaction timesteps, mirror-layer neurons,
the layer-4 bank, test trials, the number of parents and expressions. A typo in one of them
(``run.steps = 10000000``, ``mirror.n_neurons = 10000000``) used to start allocating gigabytes
and fail, or thrash, many minutes later. :func:`estimate_run` adds up the large arrays a run
holds at its peak, from the same shapes the code allocates; :func:`check_run` and
:func:`check_sweep` refuse with one line when that exceeds the memory limit.

The limit is ``--max-memory`` or ``$DYAD_MAX_MEMORY`` (``"8G"``, ``"512M"``, ``"2.5GiB"`` or
bytes; K/M/G/T are powers of 1024), by default :data:`DEFAULT_FRACTION` of the physical memory
(or of the cgroup's limit, when a container has one).

The estimates are checked against measured allocations at small sizes in
``tests/reliability/test_resources.py``: every part within a factor of 2 of what numpy
allocates, and a whole run's peak resident memory within a factor of 2.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dyad.errors import ConfigError, ResourceError

if TYPE_CHECKING:
    from dyad.config import Scenario

__all__ = [
    "DEFAULT_FRACTION",
    "ENV_MAX_MEMORY",
    "Estimate",
    "ResourceError",
    "check_run",
    "check_sweep",
    "estimate_run",
    "format_bytes",
    "memory_limit",
    "parse_bytes",
    "physical_memory",
]

ENV_MAX_MEMORY = "DYAD_MAX_MEMORY"
#: share of the machine's memory a run (or all of a sweep's workers together) may plan to use
DEFAULT_FRACTION = 0.8
#: resident memory of a process with dyad, numpy, pandas, pyarrow, numba and Mesa imported,
#: plus the pre-trained network and working buffers (measured about 230-330 MB)
BASELINE_BYTES = 400 * 2**20
#: bytes per logged mirror-layer rate at the peak: the float32 log, then the ``t, neuron,
#: rate`` table (3 × 4 bytes) and its Arrow copy while Parquet is written (measured 21-26)
BYTES_PER_LOGGED_RATE = 28
#: bytes per timestep of the per-step record, its table and the layer-4 summary (measured ~90)
BYTES_PER_STEP = 120
#: bytes per row of the test-responses table (phase, condition, expression, parent, trial,
#: neuron, rate), its classification and its Parquet copy (measured ~103)
BYTES_PER_TEST_ROW = 110
#: seconds per timestep: fixed cost (Mesa, policy, recording), per mirror-layer neuron
#: (competition, homeostasis) and per weight (benchmarks/results/interaction.md: 171 µs for
#: 256 neurons x 1,152 inputs; 420 µs measured for 1,024 x 80); a rough guide, within ~3x
SECONDS_PER_STEP = 30e-6
SECONDS_PER_WEIGHT_STEP = 0.6e-9
SECONDS_PER_NEURON_STEP = 0.3e-6


@dataclass(frozen=True)
class Estimate:
    """Peak memory of one run, by part, and a rough interaction time.

    Attributes
    ----------
    parts : mapping of str to int
        Bytes each large part of the run holds at its peak, by name (``"mirror weights"``,
        ``"mirror-rate log"``, ...; see :func:`estimate_run`).
    seconds : float
        Interaction time in seconds on one core, a rough guide (within about 3×).
    """

    parts: Mapping[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def peak_bytes(self) -> int:
        """Bytes the run needs at its peak: all parts together."""
        return int(sum(self.parts.values()))

    def largest(self) -> tuple[str, int]:
        """Return the part that needs the most memory, as ``(name, bytes)``.

        Messages name it, so that a refused run says what to shrink.
        """
        return max(self.parts.items(), key=lambda item: item[1])

    def describe(self) -> str:
        """Describe the peak and its largest part, e.g. ``"9.8 GiB (mirror-rate log 9.5 GiB)"``."""
        name, size = self.largest()
        return f"{format_bytes(self.peak_bytes)} ({name} {format_bytes(size)})"


def layer4_size(scenario: Scenario) -> int:
    """Count the cells in VisNet's last layer: the mirror layer's visual inputs."""
    return int(scenario.vision.visnet.layer_side) ** 2


#: the parts of :func:`estimate_run` each run of a batch holds on its own (the rest is shared)
PER_RUN_PARTS = ("mirror weights", "mirror-rate log", "per-step record", "test responses")


def estimate_run(scenario: Scenario) -> Estimate:
    """Estimate the memory one run of ``scenario`` needs at its peak, and its interaction time.

    The parts are computed from the same shapes the code allocates, so that a typo in a size
    is refused before anything is allocated, not after minutes of thrashing.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.

    Returns
    -------
    Estimate
        Bytes by part, and the interaction time in seconds.

    Notes
    -----
    The parts, in bytes:

    - ``pre-training images``: the rendered training faces ``(S, identities × n, side, side)``
      and their layer-1 inputs ``(…, N1, fan_in1)``, float32 (from the shapes; not measured);
    - ``layer-4 banks``: ``(parents, S, bank_size + n_test, n_l4)`` float32 responses, plus the
      rendered faces of one bank being filtered ``(S, n, side, side)`` float32;
    - ``mirror weights``: ``(n_l4 + n_motor, N)`` float32 and the random initial block;
    - ``mirror-rate log``: ``steps / log_every × N`` rates through logging, table and Parquet
      (only when ``output.mirror_rates``);
    - ``per-step record``: the interaction table and layer-4 summary;
    - ``test responses``: two test phases × (parents + 1 motor) × S × trials × N rows;
    - ``baseline``: the interpreter, libraries and the pre-trained network.
    """
    n_parents = len(scenario.all_parents)
    n_expressions = len(scenario.infant.expressions)
    n_l4 = layer4_size(scenario)
    n_motor = int(scenario.motor.units_per_expression) * n_expressions
    n_neurons = int(scenario.mirror.for_expressions(n_expressions).n_neurons)
    steps = int(scenario.run.steps)
    vision = scenario.vision
    image_side = int(vision.visnet.v1.image_size)
    bank_rows = int(vision.bank_size) + int(vision.n_test_transforms)
    largest_bank = max(int(vision.bank_size), int(vision.n_test_transforms))

    n_identities = len({p.identity_seed for p in scenario.all_parents})
    n_train_images = n_expressions * n_identities * int(vision.n_train_transforms)
    l1_inputs = int(vision.visnet.layer_side) ** 2 * int(vision.visnet.fan_in[0])
    parts = {
        "baseline": BASELINE_BYTES,
        # rendered training faces and the layer-1 inputs gathered from their V1 responses
        # (skipped when the network comes from the cache, counted anyway: the first run
        # trains it)
        "pre-training images": 4 * n_train_images * (image_side**2 + l1_inputs),
        "layer-4 banks": 4 * n_parents * n_expressions * bank_rows * n_l4
        + 4 * n_expressions * largest_bank * image_side**2,
        "mirror weights": 4 * n_neurons * (n_l4 + n_motor + max(n_l4, n_motor)),
        "per-step record": BYTES_PER_STEP * steps,
        "test responses": BYTES_PER_TEST_ROW
        * 2
        * (n_parents + 1)
        * n_expressions
        * int(scenario.run.test_trials)
        * n_neurons,
    }
    if scenario.output.mirror_rates:
        logged = math.ceil(steps / int(scenario.run.log_every))
        parts["mirror-rate log"] = BYTES_PER_LOGGED_RATE * logged * n_neurons
    seconds = steps * (
        SECONDS_PER_STEP
        + SECONDS_PER_NEURON_STEP * n_neurons
        + SECONDS_PER_WEIGHT_STEP * n_neurons * (n_l4 + n_motor)
    )
    return Estimate(parts=parts, seconds=seconds)


# -- limits ----------------------------------------------------------------------------------


def physical_memory() -> int | None:
    """Return the bytes of memory this process may use, or None where that is unknown.

    That is the physical RAM, or the cgroup's limit if lower: in a container the machine's RAM
    overstates what a run may use.
    """
    total = None
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not available on this platform
        total = None
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < (total or math.inf):
            total = int(text)
    return total


_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


def parse_bytes(text: str | int, what: str = "--max-memory") -> int:
    """Parse a memory size such as ``"8G"``, ``"512MiB"``, ``"2.5 GB"`` or ``"1000000"``.

    Parameters
    ----------
    text : str or int
        The size; K, M, G and T are powers of 1024 with or without ``B``/``iB``, an int or a
        bare number is bytes.
    what : str
        Where the size came from, named in the error (``--max-memory``, ``$DYAD_MAX_MEMORY``).

    Returns
    -------
    int
        The size in bytes, above 0.

    Raises
    ------
    ConfigError
        One line naming ``what`` and the expected form, for text that is not a size or is 0.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        value, unit = float(text), ""
    else:
        match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([kKmMgGtT]?)(?:i?[bB])?\s*", str(text))
        if match is None:
            raise ConfigError(
                f"{what}: expected a size such as 8G, 512M or 2.5GiB, got {str(text)!r}"
            )
        value, unit = float(match.group(1)), match.group(2).lower()
    size = int(value * _UNITS[unit])
    if size <= 0:
        raise ConfigError(f"{what}: expected a size above 0, got {text!r}")
    return size


def memory_limit(max_memory: str | int | None = None) -> tuple[int | None, str]:
    """Return the memory limit in bytes and where it came from, for messages.

    Parameters
    ----------
    max_memory : str or int or None
        The command-line option ``--max-memory``; it wins over ``$DYAD_MAX_MEMORY``, which
        wins over :data:`DEFAULT_FRACTION` of :func:`physical_memory`.

    Returns
    -------
    limit : int or None
        The limit in bytes; None if no limit was given and the machine's memory is unknown.
    origin : str
        Where the limit came from (``"--max-memory"``, ``"$DYAD_MAX_MEMORY"``,
        ``"80% of this machine's 23.4 GiB"``, or ``"unknown"``).
    """
    if max_memory is not None:
        return parse_bytes(max_memory), "--max-memory"
    env = os.environ.get(ENV_MAX_MEMORY)
    if env:
        return parse_bytes(env, f"${ENV_MAX_MEMORY}"), f"${ENV_MAX_MEMORY}"
    total = physical_memory()
    if total is None:
        return None, "unknown"
    return int(DEFAULT_FRACTION * total), (
        f"{DEFAULT_FRACTION:.0%} of this machine's {format_bytes(total)}"
    )


def format_bytes(size: float) -> str:
    """Format a size in bytes with binary units: ``1536`` → ``"1.5 KiB"``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(size) < 1024 or unit == "PiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} PiB"  # pragma: no cover


def _raise_hint() -> str:
    return f"raise the limit with --max-memory or ${ENV_MAX_MEMORY} if this machine has it"


def check_run(
    scenario: Scenario, max_memory: str | int | None = None, source: str = "scenario"
) -> Estimate:
    """Estimate a run and refuse it, before it starts, if it needs more memory than allowed.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.
    max_memory : str or int or None
        ``--max-memory``, if given (see :func:`memory_limit`).
    source : str
        The scenario's file name, for the message.

    Returns
    -------
    Estimate
        The run's estimate, when it fits.

    Raises
    ------
    ResourceError
        One line naming the largest part, the limit and its origin, and what to change.
    """
    estimate = estimate_run(scenario)
    limit, origin = memory_limit(max_memory)
    if limit is not None and estimate.peak_bytes > limit:
        raise ResourceError(
            f"{source}: this run needs about {estimate.describe()} of memory, more than the "
            f"limit of {format_bytes(limit)} ({origin}); reduce run.steps, mirror.n_neurons, "
            f"vision.bank_size or set output.mirror_rates = false, or {_raise_hint()}"
        )
    return estimate


def check_sweep(
    estimates: Mapping[str, Estimate],
    n_runs: int,
    workers: int,
    max_memory: str | int | None = None,
    source: str = "sweep",
    batch_size: int = 1,
) -> Estimate:
    """Refuse a sweep, before it starts, if its runs at once need more memory than allowed.

    The sweep's own process holds the layer-4 banks while pre-training, so the banks count
    once more than the runs do. A worker stepping a batch of runs together holds one copy of
    what they share (the interpreter, the visual system and its banks) and each run's own
    parts (:data:`PER_RUN_PARTS`) once per run of the batch.

    Parameters
    ----------
    estimates : mapping of str to Estimate
        One estimate per distinct grid point that changes the run's size (label → estimate).
    n_runs : int
        Runs in the sweep; fewer runs than workers run fewer at once.
    workers : int
        Runs at once (the process pool's size).
    max_memory : str or int or None
        ``--max-memory``, if given (see :func:`memory_limit`).
    source : str
        The sweep scenario's file name, for the message.
    batch_size : int
        The most runs a worker steps together (see :mod:`dyad.sweeps.batching`).

    Returns
    -------
    Estimate
        The largest run's estimate, when the sweep fits.

    Raises
    ------
    ResourceError
        One line giving the total, the largest run and the limit, and suggesting fewer
        ``--workers`` where one run alone would fit.
    """
    label, worst = max(estimates.items(), key=lambda item: item[1].peak_bytes)
    limit, origin = memory_limit(max_memory)
    concurrent = max(1, min(workers, n_runs))
    batch = max(1, min(int(batch_size), math.ceil(n_runs / concurrent)))
    per_run = sum(worst.parts.get(part, 0) for part in PER_RUN_PARTS)
    per_worker = worst.peak_bytes + (batch - 1) * per_run
    shared = worst.parts.get("layer-4 banks", 0) + BASELINE_BYTES
    total = concurrent * per_worker + shared
    if limit is not None and total > limit:
        where = f" at {label}" if label else ""
        single = worst.peak_bytes + shared
        advice = []
        if single <= limit and batch > 1:
            advice.append("use a smaller --batch-size")
        if single <= limit and concurrent > 1:
            advice.append(f"use fewer --workers (each run{where} needs {worst.describe()})")
        fewer = "".join(f"{line}, " for line in advice)
        at_once = (
            f"{concurrent} runs at once"
            if batch == 1
            else f"{concurrent} worker(s) stepping batches of up to {batch} runs"
        )
        raise ResourceError(
            f"{source}: {at_once} need about {format_bytes(total)} of memory "
            f"(one run{where}: {worst.describe()}), more than the limit of "
            f"{format_bytes(limit)} ({origin}); {fewer}{_raise_hint()}"
        )
    return worst
