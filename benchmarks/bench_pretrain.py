"""A scenario's default visual pre-training end to end, timed, written to results/pretrain.md.

The pre-training ``dyad simulate scenarios/perfect.toml`` does (``dyad.simulation.
pretrain_config``): 128-px faces that move, scale and tilt, the parent's and 80 other people's,
4 training transforms per face and expression, interleaved; 32 V1 maps; four dense 32×32
VisNet layers with the centred rule at a learning rate of 0.015, layer 1 on the coarse maps,
40 epochs per layer; without
the cache: render the faces, filter them through V1 and gather layer 1's inputs, train the
four layers; then the held-out evaluation on faces pre-training never showed (trained and
untrained) that ``dyad pretrain`` prints. Target: pre-training at most 60 s on 2 cores.

The four layers are trained twice from the same inputs and seed: on one thread (the baseline)
and as ``fit`` trains by default, on up to numba's threads (one per core), each epoch on one
thread or on all, whichever its first presentations ran faster on
(:class:`dyad.brain.kernels.ThreadChooser`); the choices are reported, and the two networks'
weights are checked to be bit-identical. The pre-training total counts the default training.

Numba kernels are compiled (or loaded from numba's cache) by a tiny warm-up run first, so the
timings are of the computation itself; the warm-up time is reported separately. Peak memory is
the process's peak resident set size (it includes the interpreter and imported libraries).

Run:  uv run python benchmarks/bench_pretrain.py [--seed N] [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import resource
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results" / "pretrain.md"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import numba
    import numpy

    from dyad import __version__

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return (
        f"{dt.date.today().isoformat()}, {cpu}, {os.cpu_count()} cores, Linux "
        f"{platform.release()}, Python {platform.python_version()}, numpy {numpy.__version__}, "
        f"numba {numba.__version__}, dyad {__version__} ({commit or 'no git'})"
    )


class ChoiceLog(logging.Handler):
    """Collects the per-epoch thread choices ``VisNet.fit`` logs for each layer."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "threads per epoch" in message:
            self.lines.append(message.removeprefix("VisNet "))


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--quick", action="store_true", help="4 epochs per layer instead of 40 (a smoke run)"
    )
    parser.add_argument("--output", type=Path, help="default: results/pretrain.md (--quick: none)")
    args = parser.parse_args(argv)

    import dataclasses

    import numba
    import numpy as np

    from dyad.analysis.information import selectivity_summary
    from dyad.api import pretrain_config
    from dyad.brain import kernels
    from dyad.brain.v1 import V1
    from dyad.brain.visnet import VisNet
    from dyad.vision import PretrainedVision, gather_layer1, render_images, streams
    from dyad.vision import pretrain as run_pretrain

    clock = time.perf_counter()
    run_pretrain(pretrain_config(small=True, epochs=1, n_train_transforms=2), use_cache=False)
    warm_up = time.perf_counter() - clock
    rss_before = peak_rss_mb()

    config = dataclasses.replace(pretrain_config(epochs=4 if args.quick else None), seed=args.seed)
    threads = numba.get_num_threads()
    load_before = os.getloadavg()
    timings: dict[str, float] = {}
    total = time.perf_counter()
    clock = time.perf_counter()
    rng = streams(config.seed)
    v1 = V1(config.visnet.v1)
    visnet = VisNet(config.visnet, rng["visnet"])
    timings["build V1 bank and VisNet connectivity"] = time.perf_counter() - clock
    clock = time.perf_counter()
    images = render_images(
        config,
        config.n_train_transforms,
        rng["train_images"],
        identity_seeds=config.training_faces,
        presentation=config.presentation,
    )
    timings[f"render {images.shape[0] * images.shape[1]} faces"] = time.perf_counter() - clock
    clock = time.perf_counter()
    gathered = gather_layer1(v1, visnet, images)
    timings["V1 filtering + layer-1 gather"] = time.perf_counter() - clock
    epochs = "/".join(map(str, config.visnet.epochs))
    baseline = VisNet(config.visnet, streams(config.seed)["visnet"])
    clock = time.perf_counter()
    with kernels.threads(1):
        baseline.fit_gathered(gathered)
    one_thread = time.perf_counter() - clock
    total += one_thread  # the baseline is not part of the pre-training total
    choices = ChoiceLog()
    logging.getLogger("dyad.brain.visnet").addHandler(choices)
    logging.getLogger("dyad.brain.visnet").setLevel(logging.DEBUG)
    clock = time.perf_counter()
    visnet.fit_gathered(gathered)
    train_label = f"train 4 layers ({epochs} epochs), up to {threads} threads"
    timings[train_label] = time.perf_counter() - clock
    pretraining = time.perf_counter() - total
    train_ratio = one_thread / timings[train_label]
    identical = all(
        np.array_equal(value, visnet.to_arrays()[key])
        for key, value in baseline.to_arrays().items()
    )

    clock = time.perf_counter()
    result = PretrainedVision(config, v1, visnet, key="")
    test = result.heldout_images(4)
    n_expressions, n_test = test.shape[:2]
    stimuli = np.repeat(np.arange(n_expressions), n_test)
    summaries = {}
    for label, network in (("trained", result), ("untrained", result.untrained())):
        rates = network.test_layer4(test).reshape(n_expressions * n_test, -1)
        summaries[label] = selectivity_summary(rates, stimuli, config.expressions)
    timings["held-out evaluation (trained + untrained)"] = time.perf_counter() - clock
    peak = peak_rss_mb()

    target = "met" if pretraining <= 60.0 else "not met"
    load_after = os.getloadavg()
    lines = [
        "# Visual pre-training benchmark",
        "",
        f"Machine: {machine()}.",
        "",
        "A scenario's default pre-training (`dyad.simulation.pretrain_config`): 128-px faces "
        "drawn ×1.4, moving ±4 px, ×0.9–1.1 about that size, ±8°, "
        f"{len(config.training_faces)} faces (the parent and {config.n_other_faces} others) × "
        f"{config.n_train_transforms} transforms × {len(config.expressions)} expressions, "
        "interleaved, 32 V1 maps, four dense 32×32 layers, layer 1 on the coarse maps, "
        f"centred rule at a learning rate of {config.visnet.learning_rate[0]:g}, "
        f"seed {config.seed}, no cache. Command: "
        "`uv run python benchmarks/bench_pretrain.py`.",
        "",
        f"Load average (1, 5, 15 min) before: {', '.join(f'{x:.2f}' for x in load_before)}; "
        f"after: {', '.join(f'{x:.2f}' for x in load_after)}.",
        "",
        "| step | seconds |",
        "|---|---|",
        *(f"| {name} | {seconds:.2f} |" for name, seconds in timings.items()),
        f"| **pre-training total** (build + render + V1 + train) | **{pretraining:.2f}** |",
        f"| baseline: train 4 layers on 1 thread | {one_thread:.2f} |",
        "",
        f"Training on up to {threads} threads is {train_ratio:.2f}× as fast as on 1 thread in "
        f"this run; the weights are bit-identical: **{'yes' if identical else 'NO'}**. "
        "Threads chosen for each epoch (by timing its first presentations; an epoch that "
        "fell back ran its rest on one thread, and a resting epoch is on one thread "
        "unprobed): " + "; ".join(choices.lines) + ".",
        "",
        f"Target ≤ 60 s for pre-training on 2 cores: **{target}**.",
        "",
        f"Warm-up (imports, numba compile or cache load, tiny run): {warm_up:.1f} s.",
        f"Peak resident memory: {peak:.0f} MB (after warm-up: {rss_before:.0f} MB).",
        "",
        "Layer-4 single-cell information on held-out transforms of 4 faces pre-training "
        f"never showed ({n_test} per expression, {summaries['trained']['n_cells']} cells):",
        "",
        "| network | cells ≥ 0.99 bit | "
        + " | ".join(f"{e}-preferring" for e in config.expressions)
        + " | mean bits |",
        "|---|---|" + "---|" * len(config.expressions) + "---|",
    ]
    for label, s in summaries.items():
        counts = " | ".join(str(s["preferred"][e]) for e in config.expressions)
        lines.append(f"| {label} | {s['n_selective']} | {counts} | {s['mean_information']:.3f} |")
    record = {
        "pretraining_s": pretraining,
        "train_s": timings[train_label],
        "train_1thread_s": one_thread,
        "threads": threads,
        "threads_per_epoch": choices.lines,
        "identical_weights": identical,
        "load_before": load_before,
        "load_after": load_after,
        "timings_s": timings,
        "warm_up_s": warm_up,
        "peak_rss_mb": peak,
        "epochs": list(config.visnet.epochs),
    }
    output = args.output or (None if args.quick else RESULTS)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text("\n".join(lines) + "\n")
        output.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    print("\n".join(lines))
    return record


if __name__ == "__main__":
    main()
