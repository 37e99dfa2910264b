"""Cutting a sweep's runs into batches: runs of one visual system, sized for the executor.

A batch is a list of runs with the same :func:`dyad.batch.batch_key` (same visual system and
mirror-layer shape), executed by one task (:func:`~dyad.sweeps.worker.execute_batch`): their
mirror layers step together, so a batch of many runs costs far less than as many tasks. The
size is ``"auto"`` by default: enough tasks to keep every slot of the executor busy (at least
:data:`TASKS_PER_SLOT` per slot, so the last tasks end close together) and at most
:data:`MAX_AUTO_BATCH` runs (a batch holds about 5 MB per run at the default size). A number
caps the size instead; every batch of a group then has about the same size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from dyad.errors import ConfigError
from dyad.sweeps.plan import RunSpec, _canonical

#: most runs in one batch when the size is "auto"
MAX_AUTO_BATCH = 32
#: tasks per executor slot the "auto" size aims for
TASKS_PER_SLOT = 2


def check_batch_size(value: Any, where: str = "--batch-size") -> int | None:
    """Return ``value`` as a batch size: a positive integer, or None for ``"auto"``.

    Anything else is a one-line :class:`~dyad.errors.ConfigError` naming ``where``.
    """
    if value is None or (isinstance(value, str) and value.strip().lower() == "auto"):
        return None
    text = value.strip() if isinstance(value, str) else value
    try:
        number = int(text) if not isinstance(text, bool) else None
    except (TypeError, ValueError):
        number = None
    if number is None or number < 1 or (isinstance(text, float) and text != number):
        raise ConfigError(f"{where}: expected 'auto' or a positive integer, got {value!r}")
    return number


def batch_size_for(n_runs: int, slots: int, batch_size: int | None) -> int:
    """Return the largest batch for ``n_runs`` runs on ``slots`` executor slots.

    ``batch_size`` (None for "auto"): see the module's rule.
    """
    if batch_size is not None:
        return batch_size
    per_task = math.ceil(n_runs / max(1, TASKS_PER_SLOT * slots))
    return max(1, min(MAX_AUTO_BATCH, per_task))


def make_batches(runs: Sequence[RunSpec], size: int, varies_vision) -> list[list[RunSpec]]:
    """Group ``runs`` by batch key (plan order kept) and cut each group into even batches.

    ``varies_vision(run)`` tells whether a run's visual system depends on its seed (then its
    seed is part of the key). Keys are computed once per distinct set of overrides.
    """
    from dyad.batch import batch_key

    groups: dict[str, list[RunSpec]] = {}
    keys: dict[str, str] = {}
    for run in runs:
        seeded = varies_vision(run)
        memo = _canonical([run.overrides, run.seed if seeded else None])
        if memo not in keys:
            try:
                keys[memo] = batch_key(run.scenario(), run.seed)
            except Exception:  # an invalid run: alone, so its worker records the failure
                keys[memo] = f"invalid:{run.run_id}"
        groups.setdefault(keys[memo], []).append(run)
    batches = []
    for group in groups.values():
        n_batches = math.ceil(len(group) / size)
        bounds = [round(i * len(group) / n_batches) for i in range(n_batches + 1)]
        batches.extend(group[a:b] for a, b in zip(bounds, bounds[1:], strict=False))
    return batches
