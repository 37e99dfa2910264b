"""Progress on stderr: click bars on a terminal, one redrawn line in a Jupyter notebook."""

from __future__ import annotations

import io

import pytest

from dyad import progress
from dyad.progress import ClickProgress, LineBar, in_notebook, progress_bar


def draws(text: str) -> list[str]:
    """The successive states of a line redrawn after carriage returns."""
    return [part for part in text.split("\r") if part]


def test_a_line_bar_redraws_one_line_and_ends_it(monkeypatch):
    clock = iter([0.0, 0.0, 0.05, 0.3, 0.31, 1.5])  # started, opened, 3 updates, closed
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))
    out = io.StringIO()
    with LineBar(length=3, label="lag_sweep", file=out, width=6) as bar:
        for _ in range(3):
            bar.update(1)
    text = out.getvalue()
    assert text.endswith("\n") and "\n" not in text[:-1]  # one line, ended once
    # drawn on opening, at 0.3 s (the update at 0.05 s is within 0.2 s of the last), at close
    assert draws(text[:-1]) == [
        "lag_sweep  [------]  0/3",
        "lag_sweep  [####--]  2/3",
        "lag_sweep  [######]  3/3  1.5 s",
    ]


def test_a_line_bar_iterates_and_counts():
    out = io.StringIO()
    with LineBar(["a", "b"], label="runs", file=out, interval=0.0) as bar:
        assert list(bar) == ["a", "b"]
    assert draws(out.getvalue().strip())[-1].startswith("runs  [")
    assert "2/2" in draws(out.getvalue().strip())[-1]


def test_bars_are_line_bars_in_a_notebook_and_click_bars_elsewhere(monkeypatch, capsys):
    with progress_bar(length=2, label="runs") as bar:
        assert not isinstance(bar, LineBar)
    monkeypatch.setattr(progress, "in_notebook", lambda stream=None: True)
    with progress_bar(length=2, label="runs") as bar:
        assert isinstance(bar, LineBar)
        bar.update(2)
    with progress_bar(length=2, label="quiet", enabled=False) as bar:
        assert not isinstance(bar, LineBar)  # hidden stays hidden
    callback = ClickProgress()
    callback("VisNet layer 1", 0, 4)
    assert isinstance(callback._bar, LineBar)
    callback("VisNet layer 1", 4, 4)
    assert callback._bar is None
    err = capsys.readouterr().err
    assert "runs  [" in err and "2/2" in err and "quiet" not in err
    assert "VisNet layer 1  [" in err and "4/4" in err


def test_only_a_jupyter_kernels_stream_is_a_notebook():
    assert not in_notebook(io.StringIO())
    kernel_stream = type("OutStream", (), {"__module__": "ipykernel.iostream"})()
    assert in_notebook(kernel_stream)


@pytest.mark.slow
def test_a_notebook_cell_shows_a_bar_that_advances():
    """In a real kernel: stderr is ipykernel's stream, and the bar's states reach the cell."""
    nbformat = pytest.importorskip("nbformat", reason="nbformat is in the test dependency group")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is in the test dependency group")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "import time\n"
            "from dyad.progress import progress_bar\n"
            "with progress_bar(length=3, label='runs') as bar:\n"
            "    for _ in range(3):\n"
            "        time.sleep(0.25)\n"
            "        bar.update(1)\n"
        )
    ]
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    err = "".join(
        output.get("text", "")
        for output in notebook.cells[0].outputs
        if output.get("name") == "stderr"
    )
    states = draws(err.strip())
    assert states[0] == "runs  [" + "-" * 30 + "]  0/3"
    assert "runs  [##########" in states[1] and "1/3" in states[1]
    assert states[-1].startswith("runs  [" + "#" * 30 + "]  3/3")
