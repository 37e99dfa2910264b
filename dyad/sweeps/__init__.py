"""Parameter sweeps: a scenario's grid × seeds, run over a local process pool or a Dask cluster.

A scenario's ``[sweep]`` table names the parameters to vary and how many seeds to run at each
grid point::

    [sweep]
    seeds = 5
    [sweep.grid]
    "parent.params.q" = [0.0, 0.1, 0.2]

expands to the Cartesian product of the grid values × the seeds, here 3 × 5 = 15 runs. Each run
is described by plain data (:class:`RunSpec`: a run id, the grid overrides, a seed, the raw
scenario), so it can be sent to a worker process on this machine or on a Dask cluster, where it
is validated again and run with the other runs of its batch (runs sharing a visual system,
:mod:`~dyad.sweeps.batching`) by :func:`dyad.batch.run_batch`, the code ``dyad simulate`` runs
too (as a batch of one), so a run's tables do not depend on its batch.

Seeds
    Per-run seeds derive from the scenario's ``seed`` with
    ``numpy.random.SeedSequence(seed).spawn(seeds)``: seed index *k* gets the same seed at every
    grid point, so grid points are compared on the same seeds (paired comparisons: the schedule,
    initial weights and transforms shown differ between seeds, not between grid points). The
    children of a ``SeedSequence`` are prefix-stable, so seed index *k* is the same whatever the
    number of seeds.

Run ids
    Stable and readable: the last component of each grid path with its value, then the seed
    index, e.g. ``q=0.1__seed=2`` (the run's folder is ``<sweep>/runs/q=0.1__seed=2``).

The sweep folder::

    <sweep>/
      sweep.json        what was swept: scenario, grid, seeds, run ids, dyad version
      runs.jsonl        append-only manifest: one line per finished run (ok or failed)
      failures.json     failed runs with their error and traceback (only if any failed)
      summary.parquet   one row per run: parameters, seed, class counts and fractions,
                        mirror index, congruence, dominant outcome, status
      runs/<run_id>/    each run's tables and manifest (see dyad.store)

A line is appended to ``runs.jsonl`` (flushed and fsynced) only after the run's files exist,
and a run folder is complete only when its ``manifest.json`` exists. Running the same sweep
again skips completed runs, removes partial run folders and runs the rest, so an interrupted
sweep (Ctrl-C, ``kill``, a crash) resumes to the same results as an uninterrupted one.

Executors
    One code path, any ``concurrent.futures`` executor: a local ``ProcessPoolExecutor`` (one
    process per core by default; on Linux its workers fork from a server that imported their
    modules while the sweep was planned, :mod:`dyad.forkserver`), or the executor of a Dask
    ``distributed.Client`` (``--address tcp://host:port``; ``distributed`` is the optional
    ``dyad[dask]`` extra). Workers receive only plain data and write their own run folders, so
    with Dask every worker must see the same paths (sweep folder, cache, plugin folders). The
    visual system is pre-trained once in the submitting process before any run is dispatched.
    Only as many runs as there are workers are in flight at a time, so on SIGINT/SIGTERM every
    run not yet started is cancelled and the running ones finish (a second signal stops local
    workers at once); a Dask task already running cannot be stopped and may still write its
    folder, which a resume rewrites. Signals less than half a second apart count as one, so a
    single Ctrl-C under ``uv run`` (which forwards the SIGINT the terminal already sent) lets
    the running runs finish as in a bare shell. Local workers ignore SIGINT and exit when the
    sweep process dies, even by ``kill -9`` (Linux parent-death signal, and a watch thread
    checking the parent pid everywhere).

The package, one concern a module (data flows down the list):

- :mod:`~dyad.sweeps.plan`: the grid × seeds, expanded and validated (:class:`RunSpec`);
- :mod:`~dyad.sweeps.batching`: runs of one visual system cut into batches (``--batch-size``);
- :mod:`~dyad.sweeps.worker`: a batch of runs in a worker process (:func:`execute_batch`:
  their mirror layers step together, :func:`dyad.batch.run_batch`);
- :mod:`~dyad.sweeps.executors`: the local pool or Dask cluster, and stop requests;
- :mod:`~dyad.sweeps.journal`: the sweep folder's files and the append-only run journal;
- :mod:`~dyad.sweeps.runner`: :func:`run_sweep`, which ties them together;
- :mod:`~dyad.sweeps.results`: the summary table and :func:`load_sweep`.

(The package is ``dyad.sweeps``, not ``dyad.sweep``: ``dyad.sweep(...)`` is the API function.)
"""

from __future__ import annotations

from dyad.sweeps.batching import MAX_AUTO_BATCH, check_batch_size, make_batches
from dyad.sweeps.executors import (
    INTERRUPT_WINDOW_S,
    StopRequests,
    import_distributed,
    open_executor,
)
from dyad.sweeps.journal import (
    FAILURES_FILE,
    RUNS_DIR,
    RUNS_MANIFEST,
    SUMMARY_FILE,
    SWEEP_FILE,
    SWEEP_FORMAT_VERSION,
    SWEEP_KIND,
)
from dyad.sweeps.plan import MAX_RUNS, RunSpec, SweepPlan, axis_names, plan_sweep, run_seeds
from dyad.sweeps.results import Sweep, load_sweep, summary_table
from dyad.sweeps.runner import EXIT_RUNS_FAILED, SweepStatus, pretrain_sweep, run_sweep
from dyad.sweeps.worker import PARENT_POLL_S, execute_batch, execute_run

__all__ = [
    "EXIT_RUNS_FAILED",
    "FAILURES_FILE",
    "INTERRUPT_WINDOW_S",
    "MAX_AUTO_BATCH",
    "MAX_RUNS",
    "PARENT_POLL_S",
    "RUNS_DIR",
    "RUNS_MANIFEST",
    "SUMMARY_FILE",
    "SWEEP_FILE",
    "SWEEP_FORMAT_VERSION",
    "SWEEP_KIND",
    "RunSpec",
    "StopRequests",
    "SweepPlan",
    "Sweep",
    "SweepStatus",
    "axis_names",
    "check_batch_size",
    "execute_batch",
    "execute_run",
    "import_distributed",
    "load_sweep",
    "make_batches",
    "open_executor",
    "plan_sweep",
    "pretrain_sweep",
    "run_seeds",
    "run_sweep",
    "summary_table",
]
