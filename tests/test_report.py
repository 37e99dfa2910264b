"""Reports of run and sweep folders: figures, tables and a self-contained HTML file."""

from __future__ import annotations

import base64
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from dyad import __version__
from dyad.cli import cli
from dyad.reporting import build_report, detect_results, sweep_runs
from dyad.reporting.sections import gaps_sentence
from dyad.store import load_run
from dyad.sweeps import load_sweep, plan_sweep, run_sweep

sys.path.insert(0, str(Path(__file__).parent))
from test_sweep import write_scenario  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory) -> dict[str, Path]:
    """A tiny noise sweep (q = 0, 1 x 2 seeds) and a tiny lag sweep (L = 0, 5, hold 5)."""
    root = tmp_path_factory.mktemp("report")
    cache = tmp_path_factory.getbasetemp() / "dyad-cache"
    noise = write_scenario(root, '"parent.params.q" = [0.0, 1.0]', seeds=2, name="noise.toml")
    lag = write_scenario(
        root,
        '"parent.params.lag" = [0, 5]',
        policy="lagged",
        params="lag = 0",
        seeds=2,
        name="lag.toml",
    )
    folders = {}
    for name, path in (("noise", noise), ("lag", lag)):
        result = run_sweep(plan_sweep(path), root / name, workers=2, cache_dir=cache)
        assert result.failed == 0, result.failures
        folders[name] = root / name
    return folders


def report(*args) -> object:
    return CliRunner().invoke(cli, ["report", *map(str, args)])


def embedded_pngs(text: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"', text)]


def test_detects_runs_and_sweeps(sweeps):
    assert detect_results(sweeps["noise"]) == "sweep"
    assert detect_results(sweeps["noise"] / "runs" / "q=0.0__seed=0") == "run"


def test_sweep_report_is_self_contained_html_with_figures(sweeps, tmp_path):
    output = tmp_path / "noise.html"
    result = report(sweeps["noise"], "--format", "svg", "--output", output)
    assert result.exit_code == 0, result.output + result.stderr
    assert result.stdout.strip() == f"report: {output}"
    text = output.read_text()
    images = embedded_pngs(text)
    assert len(images) >= 2 and all(image.startswith(PNG_MAGIC) for image in images)
    assert "Neuron classes against q" in text
    assert "mirror-dominant seeds" in text
    # k of the 2 seeds, with the share's 95 % Wilson interval (0 of 2: 0-0.66; 2 of 2: 0.34-1)
    intervals = {"0/2 [0.00, 0.66]", "1/2 [0.09, 0.91]", "2/2 [0.34, 1.00]"}
    shown = set(re.findall(r"\d/2 \[\d\.\d\d, \d\.\d\d\]", text))
    assert shown and shown <= intervals, shown
    assert f"dyad {__version__}" in text
    assert "<script" not in text and 'src="http' not in text  # nothing fetched from elsewhere
    # one sweep against congruence: what it shows alone, and the stretch no run reached
    assert "with one sweep, this shows how its runs&#39; outcomes follow" in text
    assert "No run reached a congruence between 0 and 1; the figures leave" in text
    figures = output.with_name("noise_figures")
    for stem in ("classes_vs_q", "outcomes_vs_q"):
        for suffix in (".png", ".svg"):
            assert any(p.name.endswith(stem + suffix) for p in figures.iterdir()), stem + suffix


def test_sweep_tables_hold_mean_and_sd_across_seeds(sweeps, tmp_path):
    sweep = load_sweep(sweeps["noise"])
    runs = sweep_runs(sweep)
    summary = sweep.summary
    assert len(runs) == len(summary) == 4
    assert list(runs["q"]) == list(summary["parent.params.q"])
    for name in ("mirror", "motor-only", "unselective"):
        column = "count_" + name.replace("-", "_")
        assert list(runs[name]) == list(summary[column].astype(float))
    assert list(runs["congruence_bin"]) == [1.0, 1.0, 0.0, 0.0]

    output = tmp_path / "noise.md"
    result = report(sweeps["noise"], "--output", output)
    assert result.exit_code == 0, result.output + result.stderr
    text = output.read_text()
    at_zero = summary[summary["parent.params.q"] == 0.0]["count_motor_only"].astype(float)
    expected = f"{at_zero.mean():.1f} ± {at_zero.std(ddof=1):.1f}"
    row = next(line for line in text.splitlines() if line.startswith("| 0.0 | 2 |"))
    assert expected in row, row
    for link in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
        assert (output.parent / link).is_file(), link


def test_sweeps_are_pooled_against_congruence(sweeps, tmp_path):
    output = tmp_path / "both.html"
    result = report(sweeps["noise"], sweeps["lag"], "--output", output)
    assert result.exit_code == 0, result.output + result.stderr
    text = output.read_text()
    assert "Against congruence c, sweeps pooled" in text
    assert "so the sweeps&#39; curves should coincide." in text
    assert "No run reached a congruence between 0 and 1" in text  # c is 0 or 1 in every run
    assert "Sweep noise" in text and "Sweep lag" in text
    assert "Neuron classes against lag" in text
    pooled = output.with_name("both_figures") / "pooled_classes_vs_congruence.png"
    assert pooled.read_bytes().startswith(PNG_MAGIC)
    # the lag sweep's hold is 5 timesteps, so L = 5 is exactly anti-phase: c = 0
    lag = sweep_runs(load_sweep(sweeps["lag"]))
    assert list(lag.groupby("lag")["congruence"].mean()) == [1.0, 0.0]


def test_the_stretches_no_run_reached_are_named():
    assert gaps_sentence([(0.0, 1.0)]) is None
    assert gaps_sentence([]) is None
    assert gaps_sentence([(0.0, 0.05), (0.5, 0.55), (1.0, 1.0)]) == (
        "No run reached a congruence between 0.05 and 0.5 or between 0.55 and 1; the figures "
        "leave those stretches open instead of joining the points across them."
    )


def test_a_swept_policy_gets_per_seed_and_outcome_figures(tmp_path):
    """The policy is a label, not a number: figures by policy, and no one policy in the title."""
    path = write_scenario(
        tmp_path, '"parent.policy" = ["perfect", "yoked"]', policy="perfect", params="", seeds=2
    )
    cache = tmp_path.parent / "dyad-cache"
    result = run_sweep(plan_sweep(path), tmp_path / "control", workers=1, cache_dir=cache)
    assert result.failed == 0, result.failures
    output = tmp_path / "control.md"
    result = report(tmp_path / "control", "--output", output, "--format", "svg")
    assert result.exit_code == 0, result.output + result.stderr
    text = output.read_text()
    assert "Neuron classes against policy" in text and "not numeric" not in text
    assert "Neuron classes against policy (one dot per seed, the bar its mean)" in text
    figures = output.with_name("control_figures")
    for stem in ("classes_vs_policy", "outcomes_vs_policy"):
        svg = next(p for p in figures.iterdir() if p.name.endswith(stem + ".svg")).read_text()
        assert ">perfect</text>" in svg and ">yoked</text>" in svg  # the policies' ticks
        assert "perfect parent" not in svg  # the title does not name one of the swept policies
        assert "tiny · 40 timesteps · 2 seeds per point" in svg


def test_a_sweep_title_names_what_is_fixed_and_not_what_is_swept():
    from dyad.reporting.sections import sweep_title

    scenario = {
        "name": "s",
        "run": {"steps": 1000},
        "parent": {"policy": "noisy", "params": {"q": 0.1, "mode": "hold"}},
    }
    assert sweep_title({"scenario": scenario, "grid": {"parent.params.q": [0, 1]}, "seeds": 5}) == (
        "s · noisy parent (mode = hold) · 1,000 timesteps · 5 seeds per point"
    )
    swept = {"scenario": scenario, "grid": {"parent.policy": ["perfect"], "run.steps": [10, 20]}}
    assert sweep_title(swept) == "s"
    two = {
        "name": "memory",
        "parents": [
            {"name": "mimic", "policy": "perfect"},
            {"name": "antiphase", "policy": "lagged", "params": {"lag": 10}},
        ],
    }
    assert sweep_title({"scenario": two, "grid": {"run.steps": [1000, 1010]}}) == (
        "memory · mimic: perfect, antiphase: lagged (lag = 10)"
    )


def test_run_report_has_firing_rates_and_manifest_facts(sweeps):
    folder = sweeps["noise"] / "runs" / "q=1.0__seed=1"
    run = load_run(folder)
    result = report(folder)
    assert result.exit_code == 0, result.output + result.stderr
    text = (folder / "report.html").read_text()
    assert "firing rates before and after training" in text
    assert f"<td>{run.manifest['seed']}</td>" in text
    assert "q=1.0__seed=1" in text and "noisy(q=1.0)" in text
    assert len(embedded_pngs(text)) >= 2
    assert (folder / "report_figures").is_dir()
    load_run(folder)  # the report left the run itself intact (checksums verified)


@pytest.mark.parametrize("make", ["empty", "missing", "file", "partial"])
def test_a_folder_that_is_not_results_exits_2_and_writes_nothing(sweeps, tmp_path, make):
    target = tmp_path / "target"
    if make == "empty":
        target.mkdir()
    elif make == "file":
        target.write_text("not a folder")
    elif make == "partial":
        target.mkdir()
        pd.DataFrame({"t": [0]}).to_parquet(target / "interaction.parquet")
    before = sorted(p.name for p in sweeps["noise"].iterdir())
    result = report(sweeps["noise"], target)
    assert result.exit_code == 2, result.output + result.stderr
    # progress lines, then the error on one line of its own
    *progress, error = result.stderr.strip().splitlines()
    assert error.startswith(f"Error: {target}")
    assert progress[0].startswith("dyad report: reading ")
    assert all(line.startswith("  [") for line in progress[1:])
    assert sorted(p.name for p in sweeps["noise"].iterdir()) == before  # no report.html
    assert not (tmp_path / "report.html").exists()
    if make in ("empty", "partial"):
        assert sorted(p.name for p in target.iterdir()) == (
            [] if make == "empty" else ["interaction.parquet"]
        )


def test_bad_output_name_is_an_error(sweeps, tmp_path):
    result = report(sweeps["noise"], "--output", tmp_path / "report.txt")
    assert result.exit_code == 2
    assert "--output: expected a .html or .md file name" in result.stderr
    assert not list(tmp_path.iterdir())
    assert "opening" not in result.stderr  # said before any folder is read


def test_library_call_returns_the_report_path(sweeps, tmp_path):
    path = build_report([sweeps["lag"]], tmp_path / "lag.html")
    assert path == tmp_path / "lag.html" and path.is_file()


def test_report_records_how_the_runs_and_the_report_were_made(sweeps, tmp_path):
    from dyad.provenance import git_state

    folder = sweeps["noise"] / "runs" / "q=0.0__seed=0"
    made = load_run(folder).manifest["provenance"]
    output = tmp_path / "report.md"
    result = report(folder, sweeps["lag"], "--output", output)
    assert result.exit_code == 0, result.output + result.stderr
    text = output.read_text()
    assert "## How this report was made" in text
    # the run's own command line and the sweep's, and the report's
    assert " ".join(made["command"]) in text
    assert text.count("| command |") == 3
    assert text.count("| dependencies |") == 3 and f"numpy {np.__version__}" in text
    git = git_state()
    if git is not None:  # a checkout: every record names the commit
        assert text.count(git["commit"]) == 3


def test_report_shows_its_command_and_links_the_parquet_tables(sweeps, tmp_path):
    folder = sweeps["noise"] / "runs" / "q=1.0__seed=1"
    output = tmp_path / "pages" / "run.html"
    result = report(folder, "--output", output)
    assert result.exit_code == 0, result.output + result.stderr
    text = output.read_text()
    assert f"dyad report {folder} --output {output}" in text
    assert '<meta name="viewport"' in text  # phone browsers lay it out at their own width
    hrefs = re.findall(r'href="([^"]+\.parquet)"', text)
    names = {Path(h).name for h in hrefs}
    assert {"interaction.parquet", "neurons.parquet", "test_responses.parquet"} <= names
    for href in hrefs:  # relative to the page, wherever the page is
        assert not Path(href).is_absolute()
        assert (output.parent / href).resolve().is_file(), href
    # every figure opens its full-size file
    for href in re.findall(r'<a href="([^"]+\.png)" title=', text):
        assert (output.parent / href).resolve().is_file(), href
    # one parent is "parent", not "parent parent"
    assert "parent parent" not in text
    assert re.search(r"<th>parent</th>\s*<td>noisy\(q=1.0\)</td>", text)


def test_report_shows_progress_for_every_step(sweeps, tmp_path):
    result = report(sweeps["noise"], sweeps["lag"], "--output", tmp_path / "both.html")
    assert result.exit_code == 0, result.output + result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith("dyad report: reading ") and lines[0].endswith("one line per step")
    steps = [line.split("s  ", 1)[1] for line in lines[1:]]
    assert steps[:2] == [f"opening {sweeps['noise']}", f"opening {sweeps['lag']}"]
    assert "noise: classes against q" in steps and "lag: outcomes against lag" in steps
    assert "pooled: classes against congruence" in steps
    assert steps[-1] == f"writing {tmp_path / 'both.html'}"
    quiet = report(sweeps["lag"], "--output", tmp_path / "quiet.html", "--quiet")
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_markdown_report_links_tables_and_figures_relative_to_itself(sweeps, tmp_path):
    folder = sweeps["noise"] / "runs" / "q=0.0__seed=0"
    output = tmp_path / "report.md"
    assert report(folder, "--output", output).exit_code == 0
    text = output.read_text()
    links = re.findall(r"\]\(([^)]+)\)", text)
    assert any(link.endswith("neurons.parquet") for link in links)
    assert any(link.endswith("_firing_rates.png") for link in links)
    for link in links:
        assert (tmp_path / link).resolve().is_file(), link
    assert "| parent | noisy(q=0.0) |" in text


def test_several_parents_are_named_in_the_facts():
    from types import SimpleNamespace

    from dyad.reporting.sections import run_facts

    scenario = {
        "name": "two_parents",
        "parents": [
            {"name": "mother", "policy": "perfect", "params": {}},
            {"name": "father", "policy": "noisy", "params": {"q": 0.5}},
        ],
    }
    run = SimpleNamespace(folder=Path("x"), manifest={"scenario": scenario, "seed": 1})
    facts = run_facts(run)
    assert facts["parent: mother"] == "perfect()"
    assert facts["parent: father"] == "noisy(q=0.5)"
    assert "parent" not in facts
