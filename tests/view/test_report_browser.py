"""The HTML report in a real browser: desktop and phone width, links, screenshots.

Like the live-view test, this drives the system's Chromium (Debian's ``chromium`` package,
installed by ``.ci/run``) through Playwright, because Playwright's own browser download is not
reachable from dyad's machines. The report covers a run and a sweep, so it has the widest
tables dyad writes (mean ± SD per class) and the firing-rate heat maps.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pandas as pd
import pytest

from dyad.analysis.figures import draw_run_figures
from dyad.config import validate_scenario
from dyad.reporting import build_report
from dyad.simulation import run_scenario
from dyad.sweeps import plan_sweep, run_sweep

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import tiny_scenario_raw  # noqa: E402
from served import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402  (tests/view)
from test_sweep import write_scenario  # noqa: E402

#: an iPhone 12-15's CSS width: the narrowest screen the report is checked at
PHONE_WIDTH = 390

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="no Chromium on PATH: install it with `apt-get install -y chromium` "
        "(.ci/run does) to run the report's browser test",
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None,
        reason="the browser test needs Playwright: uv sync --locked --group test",
    ),
]


@pytest.fixture(scope="module")
def report_page(tmp_path_factory, cache_dir) -> Path:
    """A report of one tiny run and one tiny noise sweep (q = 0, 1; one seed each)."""
    root = tmp_path_factory.mktemp("report-browser")
    raw = tiny_scenario_raw(parent={"policy": "noisy", "params": {"q": 0.2}})
    run_scenario(
        validate_scenario(raw),
        output=root / "run",
        cache_dir=cache_dir,
        figures=draw_run_figures,
    )
    scenario = write_scenario(root, seeds=1, name="noise.toml")
    result = run_sweep(plan_sweep(scenario), root / "noise", workers=1, cache_dir=cache_dir)
    assert result.failed == 0, result.failures
    return build_report([root / "run", root / "noise"], root / "report.html")


def overflow(page) -> dict[str, int]:
    """Widths of the viewport and of the page's content (wider content = sideways scrolling)."""
    return page.evaluate(
        """() => ({
            viewport: window.innerWidth,
            document: document.documentElement.scrollWidth,
            body: document.body.scrollWidth,
        })"""
    )


@pytest.mark.parametrize("width", [1280, PHONE_WIDTH], ids=["desktop", "phone"])
def test_report_fits_the_screen_and_links_its_tables(report_page, tmp_path, width):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.goto(report_page.as_uri())
            page.wait_for_load_state("load")

            # nothing widens the page: wide tables scroll inside their own boxes
            sizes = overflow(page)
            assert sizes["document"] <= sizes["viewport"], sizes
            assert sizes["body"] <= sizes["viewport"], sizes
            boxes = page.eval_on_selector_all(
                ".table-scroll", "els => els.map(e => [e.clientWidth, e.scrollWidth])"
            )
            assert boxes and all(client <= sizes["viewport"] for client, _ in boxes)
            if width == PHONE_WIDTH:  # the sweep's mean ± SD table is wider than a phone
                assert any(scroll > client for client, scroll in boxes)

            # every figure is shown within the screen and opens its full-size file
            images = page.eval_on_selector_all(
                "figure img", "els => els.map(e => [e.getBoundingClientRect().right, e.complete])"
            )
            assert len(images) >= 5  # run: 3 figures; sweep: classes and outcomes
            assert all(right <= sizes["viewport"] + 1 and done for right, done in images)
            full_size = page.eval_on_selector_all("figure > a", "els => els.map(e => e.href)")
            assert all(_file(href).is_file() for href in full_size)

            # the command, the version and the Parquet tables, linked so that they open
            assert "dyad report" in page.inner_text("code.command")
            links = page.eval_on_selector_all("a[href$='.parquet']", "els => els.map(e => e.href)")
            names = {_file(href).name for href in links}
            assert {"interaction.parquet", "neurons.parquet", "summary.parquet"} <= names
            for href in links:
                assert len(pd.read_parquet(_file(href))) > 0
            assert "parent parent" not in page.inner_text("body")

            screenshot = tmp_path / f"report_{width}px.png"
            page.screenshot(path=screenshot, full_page=True)
            assert screenshot.stat().st_size > 10_000
            assert problems == [], f"console errors: {problems}"
        finally:
            browser.close()
    print(f"report at {width} px: {sizes}; screenshot {screenshot}")


def _file(href: str) -> Path:
    """The local file a ``file://`` link of the page points to."""
    parsed = urlparse(href)
    assert parsed.scheme == "file", href
    return Path(unquote(parsed.path))
