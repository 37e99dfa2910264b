"""The notebooks in examples/ run from top to bottom without an error, so they cannot rot."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat is in the test dependency group")
nbclient = pytest.importorskip("nbclient", reason="nbclient is in the test dependency group")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))

#: seconds a cell may take; a notebook is meant to run in seconds to a minute once cached
CELL_TIMEOUT = 600


def test_the_examples_are_there():
    assert {p.name for p in NOTEBOOKS} >= {
        "quickstart.ipynb",
        "sweep_analysis.ipynb",
        "live_view.ipynb",
    }


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_are_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, cell.source[:60]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_without_error(path, tmp_path, cache_dir, monkeypatch):
    notebook = nbformat.read(path, as_version=4)
    # the kernel inherits the environment: the session's pre-training cache
    monkeypatch.setenv("DYAD_CACHE_DIR", str(cache_dir))
    monkeypatch.delenv("DYAD_PLUGINS_DIR", raising=False)
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    errors = [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors
    if path.stem == "live_view":
        # the page is a widget: Jupyter gets a widget view, not the "cannot show" fallback
        shown = [
            output["data"]
            for cell in notebook.cells
            for output in cell.get("outputs", [])
            if "application/vnd.jupyter.widget-view+json" in output.get("data", {})
        ]
        assert len(shown) == 1, "the live view's page was not shown as a widget"
    else:
        assert os.listdir(tmp_path), "the notebook wrote nothing to its working folder"
