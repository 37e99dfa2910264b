"""The live view in a notebook: ``examples/live_view.ipynb`` in JupyterLab, driven in Chromium.

JupyterLab serves a copy of the notebook; the test runs its cells as a user would, sees the
page appear in the cell's output, steps the run from the page's menu, and reads the stepped
model back in the next cell: the page and the notebook's kernel share one model. Solara's
Jupyter server extension (installed with solara, enabled in the environment) serves the
page's scripts; without it the page's panels stay empty, so this test is what says the live
view works in a notebook.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from served import CHROMIUM, chromium_page, free_port, served

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="no Chromium on PATH: install it with `apt-get install -y chromium` "
        "(.ci/run does) to run the notebook browser test",
    ),
    pytest.mark.skipif(
        any(
            importlib.util.find_spec(name) is None
            for name in ("solara", "playwright", "jupyterlab")
        ),
        reason="the notebook view needs the extra viz, Playwright and JupyterLab: "
        "uv sync --locked --group test --extra viz",
    ),
]


#: a notebook whose one cell draws a progress bar of 3 steps (dyad.progress in a kernel)
PROGRESS_NOTEBOOK = json.dumps(
    {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "metadata": {},
                "outputs": [],
                "source": "import time\n"
                "from dyad.progress import progress_bar\n"
                "with progress_bar(length=3, label='runs') as bar:\n"
                "    for _ in range(3):\n"
                "        time.sleep(1.5)\n"  # each state shows longer than expect polls
                "        bar.update(1)\n",
            }
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
)


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory, cache_dir):
    """JupyterLab on a free port, serving a folder with a copy of the live-view notebook."""
    folder = tmp_path_factory.mktemp("notebook-view")
    shutil.copy(EXAMPLES / "live_view.ipynb", folder / "live_view.ipynb")
    (folder / "progress.ipynb").write_text(PROGRESS_NOTEBOOK)
    home = folder / "jupyter"
    env = {
        **os.environ,
        "DYAD_CACHE_DIR": str(cache_dir),
        # the user's own Jupyter settings and kernels stay out of it
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / "ipython"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
    }
    env.pop("DYAD_PLUGINS_DIR", None)
    # no "notified about Jupyter news?" toast over the page
    news = home / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}\n')
    port = free_port()
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}"]
    command += ["--ServerApp.token=", "--ServerApp.password=", f"--ServerApp.root_dir={folder}"]
    command += ["--ServerApp.ip=127.0.0.1"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    url = f"http://127.0.0.1:{port}/lab"
    log = folder / "jupyterlab.log"
    with served(command, url, cwd=folder, env=env, log_path=log, timeout=120, name="jupyter lab"):
        yield {"url": f"{url}/tree/live_view.ipynb", "lab": url, "log": log}


def test_live_view_notebook_shows_the_page_and_shares_its_model(jupyterlab, tmp_path):
    from playwright.sync_api import expect

    with chromium_page(1400, 1000) as (page, problems):
        try:
            page.set_default_timeout(60_000)
            page.goto(jupyterlab["url"])
            page.locator(".jp-Notebook").wait_for()
            page.get_by_text("Python 3 (ipykernel) | Idle").wait_for()

            page.get_by_role("menuitem", name="Run").click()
            page.get_by_text("Run All Cells", exact=True).click()

            # the page in the second cell's output: its panels and the run's status
            output = page.locator(".jp-Cell").nth(1).locator(".jp-OutputArea")
            expect(output.get_by_text("What the infant sees and does")).to_be_visible(
                timeout=300_000  # a cold cache pre-trains VisNet first
            )
            expect(output.get_by_text("t = 0 of 2000")).to_be_visible()
            expect(
                output.get_by_text("Mirror layer: rates over the last timesteps")
            ).to_be_visible()
            expect(output.get_by_text("Neuron classes, tested every 50 timesteps")).to_be_visible()

            # the controls are behind the page's menu button, as in any SolaraViz page
            output.locator(".v-app-bar__nav-icon").click()
            step = page.get_by_role("button", name="Step", exact=True)
            for expected in (1, 2, 3):
                step.click()
                expect(output.get_by_text(f"t = {expected} of 2000")).to_be_visible()
            expect(output.get_by_text("congruence so far c = 1.00")).to_be_visible()
            assert output.locator("img").count() >= 3  # the two faces, the rates
            page.wait_for_timeout(1000)  # the last figure arrives
            output.scroll_into_view_if_needed()
            screenshot = tmp_path / "notebook_view.png"
            page.screenshot(path=screenshot)
            assert screenshot.stat().st_size > 10_000

            # the next cell reads the model the page stepped: one model, shared with the kernel
            page.keyboard.press("Escape")  # closes the menu
            reader = page.locator(".jp-Cell").nth(3)
            reader.click()
            page.keyboard.press("Shift+Enter")
            expect(reader.locator(".jp-OutputArea")).to_contain_text("t = 3, classes tested")
            assert problems == [], f"console errors: {problems}"
        except Exception:
            page.screenshot(path=tmp_path / "failed.png", full_page=True)
            raise


def test_a_progress_bar_in_a_notebook_is_one_line_that_fills(jupyterlab, tmp_path):
    """JupyterLab redraws the bar's line on each carriage return: one line, ending full."""
    from playwright.sync_api import expect

    with chromium_page(1200, 700) as (page, problems):
        page.set_default_timeout(60_000)
        page.goto(f"{jupyterlab['lab']}/tree/progress.ipynb?reset")  # only this notebook open
        page.locator(".jp-Notebook").wait_for()
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for()
        cell = page.locator(".jp-Cell").first
        cell.click()
        page.keyboard.press("Shift+Enter")
        output = cell.locator(".jp-OutputArea")
        expect(output).to_contain_text("1/3", timeout=30_000)  # seen while it runs
        expect(output).to_contain_text("3/3", timeout=30_000)
        text = output.inner_text().strip()
        assert text.count("runs  [") == 1, text  # redrawn in place, not one line per step
        assert text.startswith("runs  [" + "#" * 30 + "]  3/3"), text
        page.screenshot(path=tmp_path / "notebook_progress.png")
