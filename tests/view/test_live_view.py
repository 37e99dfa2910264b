"""The live view in a real browser: ``dyad view`` served, driven by Playwright in Chromium.

Playwright's own browser download is not reachable from dyad's machines, so the test drives
the system's Chromium (Debian's ``chromium`` package, which ``.ci/run`` installs). The page is
the full default ``perfect`` scenario (256 mirror neurons, 128-px faces), so the test also
measures that the page keeps up at that size.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import time
from pathlib import Path

import pytest
from served import CHROMIUM, chromium_page, free_port, served

REPO = Path(__file__).resolve().parents[2]
#: the console script of the environment running the tests
DYAD = str(Path(sys.executable).with_name("dyad"))

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="no Chromium on PATH: install it with `apt-get install -y chromium` "
        "(.ci/run does) to run the live-view browser test",
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("solara") is None
        or importlib.util.find_spec("playwright") is None,
        reason="the live view needs the extra viz and Playwright: "
        "uv sync --locked --group test --extra viz",
    ),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory, cache_dir):
    """``dyad view perfect`` on a free port, in its own session so it can be stopped whole."""
    folder = tmp_path_factory.mktemp("live-view")
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    command = [DYAD, "view", "perfect", "--port", str(port)]
    command += ["--cache-dir", str(cache_dir), "--quiet"]
    env = {**os.environ, "SOLARA_HOME": str(folder / "solara-home")}
    log = folder / "server.log"
    # a cold cache pre-trains VisNet first
    with served(
        command, url, cwd=REPO, env=env, log_path=log, timeout=300, name="dyad view"
    ) as up_s:
        yield {"url": url, "log": log, "up_s": up_s}


def status_t(page) -> int:
    """The timestep the page's status line shows."""
    text = page.get_by_text(re.compile(r"t = \d+ of")).inner_text()
    return int(re.search(r"t = (\d+) of", text).group(1))


def test_live_view_steps_plays_and_resets_with_changed_controls(server, tmp_path):
    from playwright.sync_api import expect

    with chromium_page(1400, 1000) as (page, problems):
        page.set_default_timeout(60_000)
        page.goto(server["url"])

        step = page.get_by_role("button", name="Step", exact=True)
        step.wait_for()
        expect(page.get_by_text("dyad: perfect")).to_be_visible()
        expect(page.get_by_text("t = 0 of 2000")).to_be_visible()
        expect(page.get_by_text("parent's policy: perfect")).to_be_visible()

        # step: the status, both faces and the mirror layer follow the model
        latencies = []
        for expected in (1, 2, 3):
            clicked = time.perf_counter()
            step.click()
            expect(page.get_by_text(f"t = {expected} of 2000")).to_be_visible()
            latencies.append(time.perf_counter() - clicked)
        expect(
            page.get_by_text(re.compile(r"parent shows (happy|sad) \(transform \d+\)"))
        ).to_be_visible()
        expect(page.get_by_text(re.compile(r"the infant makes (happy|sad)"))).to_be_visible()
        expect(page.get_by_text("timesteps 0–2 (left to right)")).to_be_visible()
        expect(page.get_by_text("congruence so far c = 1.00")).to_be_visible()
        assert page.locator("img").count() >= 4  # two faces, the rates, the classes

        # render every 10 steps: one Step click now advances 10 timesteps
        render_every = page.locator('div[role=slider][aria-label="Render Interval (steps)"]')
        render_every.focus()
        for _ in range(5):  # the slider moves in steps of 2: 1 -> 11
            render_every.press("ArrowRight")
        expect(render_every).to_have_attribute("aria-valuenow", "11")
        page.wait_for_timeout(500)
        step.click()
        expect(page.get_by_text("t = 14 of 2000")).to_be_visible()

        # play, then pause: the run advances on its own
        page.get_by_role("button", name="▶", exact=True).click()
        page.wait_for_timeout(3000)
        page.get_by_role("button", name="❚❚", exact=True).click()
        page.wait_for_timeout(1000)
        assert status_t(page) > 14

        # controls take effect on Reset: a noisy parent with q = 0.3
        page.get_by_role("button", name="policy perfect").click()
        page.get_by_role("option", name="noisy").click()
        q = page.locator('div[role=slider][aria-label="q (noisy)"]')
        q.focus()
        for _ in range(20):  # steps of 0.01 from the default 0.1
            q.press("ArrowRight")
        expect(q).to_have_attribute("aria-valuenow", "0.3")
        page.wait_for_timeout(1000)  # the value reaches the server
        page.get_by_role("button", name="Reset", exact=True).click()
        expect(page.get_by_text("t = 0 of 2000")).to_be_visible()
        expect(
            page.get_by_text("parent's policy: noisy (q = 0.3, mode = timestep)")
        ).to_be_visible()
        # past two probes (every 50 timesteps), 11 timesteps per Step click
        while status_t(page) < 110:
            before = status_t(page)
            step.click()
            page.wait_for_function(
                "t => !document.body.innerText.includes(`t = ${t} of 2000`)", arg=before
            )
        expect(
            page.get_by_text(re.compile(r"t = \d+ of 2000 · parent's policy: noisy"))
        ).to_be_visible()
        expect(page.get_by_text(re.compile(r"ordered by class at t = 100"))).to_be_visible()
        page.wait_for_timeout(1000)  # let the last figure arrive before the screenshot

        screenshot = tmp_path / "live_view.png"
        page.screenshot(path=screenshot, full_page=True)
        assert screenshot.stat().st_size > 10_000
        assert problems == [], f"console errors: {problems}"
    print(
        f"\nlive view: HTTP 200 after {server['up_s']:.1f} s; step click to DOM update "
        f"{', '.join(f'{s:.2f}' for s in latencies)} s; screenshot {screenshot}"
    )
