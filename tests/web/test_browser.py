"""Every page in a real browser: Debian's Chromium driven by Playwright, against the real server.

The server is uvicorn on a free loopback port over the store of tests/web/history.py. Each
page must load without a console error or a dialog (an `alert` would mean a payload ran),
draw every chart (an ECharts instance with data, and a canvas that is not blank), and hold
no `<img>` (the `onerror` payload). Then links are followed run → case → skill → change,
the run page's filters and both diff viewers are used. A screenshot of each page goes to
a temporary folder, or to docs/screenshots/ with ROUTELENS_UPDATE_SCREENSHOTS=1 (the
README shows those).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from routelens.config import RoutelensConfig
from routelens.store import open_store
from routelens.web.app import RunningServer, bind, create_app, start_server
from routelens.web.providers import patterns_provider, summary_provider
from tests.web.history import FLAKY_CASE, SCRIPT, TEMPLATE, XSS_CASE, FilledStore

playwright_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (dev extra)")

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)",
        allow_module_level=True,
    )

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
UPDATE_SCREENSHOTS = os.environ.get("ROUTELENS_UPDATE_SCREENSHOTS") == "1"


# Per chart: does ECharts hold series data, and did any canvas pixel get painted?
CHART_STATE = """
(element) => {
  const chart = echarts.getInstanceByDom(element);
  const series = chart ? chart.getOption().series : [];
  const points = series.reduce((total, s) => total + ((s.data || []).length), 0);
  const canvas = element.querySelector("canvas");
  let painted = 0;
  if (canvas) {
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] !== 0) { painted++; } }
  }
  return {id: element.id, kind: element.dataset.kind, points, painted};
}
"""


@pytest.fixture(scope="module")
def server(filled: FilledStore) -> Iterator[RunningServer]:
    """The real server on a free loopback port, with the real pattern analysis and the
    offline executive summary, as `routelens serve` wires them."""
    with open_store(filled.url, access="read") as store:
        config = RoutelensConfig()
        app = create_app(
            store,
            config,
            patterns=patterns_provider(),
            summary=summary_provider(
                store, slo=config.slo, daily_budget_usd=config.daily_budget_usd, router=None
            ),
        )
        running = start_server(app, bind("127.0.0.1", 0))
        _wait_for_summary_facts(running)
        try:
            yield running
        finally:
            running.stop()


def _wait_for_summary_facts(running: RunningServer) -> None:
    """The summary's facts are gathered in the background after the first visit; the
    screenshots show the summary, so wait for them (a bounded wait: tests check the rest)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        served = httpx.get(running.url + "api/overview", timeout=10).json()
        if served["executive_summary"].get("source"):
            return
        time.sleep(0.2)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Headless Chromium with a fresh profile that never reaches for the network."""
    with playwright_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1360, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


class Watched:
    """A page whose console errors, page errors and dialogs are recorded."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on(
            "console",
            lambda message: (
                self.problems.append(f"console {message.type}: {message.text}")
                if message.type in ("error", "warning")
                else None
            ),
        )
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("dialog", lambda dialog: (self.problems.append("dialog: " + dialog.message),
                                          dialog.dismiss()))  # fmt: skip

    def open(self, url: str) -> None:
        self.page.goto(url)
        self.settle()

    def navigate(self, action: Callable[[], object]) -> None:
        """Do something that loads another page (a click, a submitted form) and wait for it."""
        with self.page.expect_navigation():
            action()
        self.settle()

    def settle(self) -> None:
        """Wait until every chart of the page has finished drawing."""
        self.page.wait_for_load_state("load")
        self.page.wait_for_function(
            "() => [...document.querySelectorAll('.chart')].every(c => c.dataset.drawn === 'true')"
        )


@pytest.fixture
def watched(browser: Any) -> Iterator[Watched]:
    page = browser.new_page()
    try:
        yield Watched(page)
    finally:
        page.close()


def _screenshot(page: Any, name: str, tmp_path: Path) -> Path:
    folder = SCREENSHOTS if UPDATE_SCREENSHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def pages_to_open(filled: FilledStore) -> list[tuple[str, str]]:
    """(screenshot name, URL) of every page."""
    return [
        ("overview", "/"),
        ("runs", "/runs"),
        ("run", f"/runs/{filled.anthropic_run}"),
        ("case", f"/cases/{FLAKY_CASE}"),
        ("case-hostile-id", f"/cases/{quote(XSS_CASE, safe='')}"),
        ("skill", "/skills/deploy-app"),
        ("changes", "/changes"),
        ("change", f"/changes/{filled.event_ids[-1]}"),
        ("flaky", "/flaky"),
        ("confusion", "/confusion"),
        ("coverage", "/coverage"),
        ("patterns", "/patterns"),
        ("experiments", "/experiments"),
        ("experiment", f"/experiments/{filled.experiment}"),
        ("sre", "/sre"),
    ]


EXPECTED_CHARTS = {
    "overview": {"accuracy", "error-rate", "cost", "releases"},
    "case": {"strip"},
    "skill": {"versions"},
    "confusion": {"heatmap"},
    "coverage": {"treemap"},
    "patterns": {"wordcloud"},
    "experiment": {"sequence"},
    "sre": {"latency", "shares", "tokens", "models"},
}


def test_every_page_loads_cleanly_and_draws_its_charts(
    server: RunningServer, watched: Watched, filled: FilledStore, tmp_path: Path
) -> None:
    for name, url in pages_to_open(filled):
        watched.open(server.url.rstrip("/") + url)
        page = watched.page
        charts = [
            page.evaluate(CHART_STATE, element) for element in page.query_selector_all(".chart")
        ]
        assert {chart["kind"] for chart in charts} >= EXPECTED_CHARTS.get(name, set()), name
        for chart in charts:
            assert chart["points"] > 0, (name, chart)
            assert chart["painted"] > 100, (name, chart)
        assert page.locator("img").count() == 0, name
        sources = page.eval_on_selector_all(
            "script", "scripts => scripts.map(s => s.getAttribute('src') || s.type)"
        )
        assert all(s.startswith("/static/") or s == "application/json" for s in sources), name
        assert watched.problems == [], (name, watched.problems)
        _screenshot(page, name, tmp_path)


def test_hostile_text_shows_literally(
    server: RunningServer, watched: Watched, filled: FilledStore
) -> None:
    watched.open(server.url + f"runs/{filled.local_runs[0]}")
    body = watched.page.inner_text("body")
    assert f"note={SCRIPT}{TEMPLATE}" in body
    watched.open(server.url + "skills/deploy-app")
    assert SCRIPT in watched.page.inner_text("#description-diff")
    assert TEMPLATE in watched.page.inner_text("#description-diff")
    watched.open(server.url + f"cases/{quote(XSS_CASE, safe='')}")
    assert XSS_CASE in watched.page.inner_text("h1")
    assert watched.problems == []


def test_links_lead_from_a_run_to_a_case_a_skill_and_a_change(
    server: RunningServer, watched: Watched, filled: FilledStore
) -> None:
    watched.open(server.url + f"runs/{filled.local_runs[1]}")
    page = watched.page
    watched.navigate(lambda: page.locator("table.failures a", has_text="C7").click())
    assert page.url.endswith("/cases/C7")
    watched.navigate(lambda: page.locator("dl.facts a", has_text="triage-bug").click())
    assert page.url.endswith("/skills/triage-bug")
    watched.navigate(lambda: page.locator("table.timeline a", has_text="#").first.click())
    assert re.search(r"/changes/\d+$", page.url)
    assert "triage-bug" in page.inner_text("h1")
    assert watched.problems == []


def test_run_filters_and_search(
    server: RunningServer, watched: Watched, filled: FilledStore
) -> None:
    watched.open(server.url + f"runs/{filled.anthropic_run}")
    page = watched.page
    rows = page.locator("table.failures tr.failure")
    assert rows.count() == 4
    watched.navigate(lambda: page.select_option("#failure-filters select[name=verdict]", "error"))
    assert "verdict=error" in page.url
    assert rows.count() == 1
    assert XSS_CASE in rows.first.inner_text()
    watched.navigate(lambda: page.select_option("#failure-filters select[name=verdict]", ""))
    page.fill("#failure-filters input[name=q]", "PRODUCTION")
    watched.navigate(lambda: page.press("#failure-filters input[name=q]", "Enter"))
    assert [row.inner_text().split()[0] for row in rows.all()] == [FLAKY_CASE]
    page.fill("#failure-filters input[name=q]", "")
    watched.navigate(
        lambda: page.select_option("#failure-filters select[name=category]", "disambiguation")
    )
    assert [row.inner_text().split()[0] for row in rows.all()] == ["C5"]
    watched.navigate(
        lambda: page.select_option("#failure-filters select[name=skill]", "review-code")
    )
    assert rows.count() == 0
    assert watched.problems == []


def test_response_diff_viewer(server: RunningServer, watched: Watched) -> None:
    watched.open(server.url + f"cases/{FLAKY_CASE}")
    page = watched.page
    sides = page.locator(".sides .side")
    assert sides.nth(0).get_attribute("class") == "side pass"
    assert sides.nth(1).get_attribute("class") == "side fail"
    # the newest pass ("Using the deploy-app skill.") against the newest fail
    inserted = page.locator("#response-diff .diff-words ins").all_inner_texts()
    deleted = page.locator("#response-diff .diff-words del").all_inner_texts()
    assert inserted == ["Reviewing", "release", "first"]
    assert "deploy-app" in deleted
    # pick another failed attempt on the left: both sides fail, same text, no marks
    right = page.input_value("form.diff-picker select[name=b]")
    other = [
        value
        for value in page.eval_on_selector_all(
            "form.diff-picker select[name=a] option", "options => options.map(o => o.value)"
        )
        if value != right
    ]
    failing = [v for v in other if "fail" in page.inner_text(f"select[name=a] option[value='{v}']")]
    watched.navigate(lambda: page.select_option("form.diff-picker select[name=a]", failing[0]))
    assert f"a={failing[0]}" in page.url
    assert "same text" in page.inner_text("#response-diff")
    # clicking an attempt of the strip puts it on the right
    point = page.evaluate(
        "() => echarts.getInstanceByDom(document.querySelector('#chart-strip'))"
        ".convertToPixel({seriesIndex: 0}, [0, 0.5])"
    )
    box = page.locator("#chart-strip").bounding_box()
    watched.navigate(lambda: page.mouse.click(box["x"] + point[0], box["y"] + point[1]))
    strip = page.evaluate("() => document.getElementById('chart-strip-data').textContent")
    first = json.loads(strip)["attempts"][0]["attempt_id"]
    assert f"b={first}" in page.url
    assert watched.problems == []


def test_description_diff_viewer(server: RunningServer, watched: Watched) -> None:
    watched.open(server.url + "skills/deploy-app")
    page = watched.page
    diff = page.locator("#description-diff")
    assert "production" in " ".join(diff.locator(".diff-words ins").all_inner_texts())
    watched.navigate(lambda: page.select_option("#description-diff select[name=from]", "0"))
    assert "from=0" in page.url
    inserted = " ".join(page.locator("#description-diff .diff-words ins").all_inner_texts())
    assert "Run the pipeline." in inserted  # against nothing, every line is new
    assert page.locator("#description-diff .diff-words del").count() == 0
    assert watched.problems == []


def test_the_overview_shows_the_executive_summary_of_the_facts(
    server: RunningServer, watched: Watched
) -> None:
    deadline = time.monotonic() + 30
    while True:  # the facts are gathered in the background: the first visits say so
        served = httpx.get(server.url + "api/overview", timeout=10).json()["executive_summary"]
        if served.get("source") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert served["source"] == "offline"  # no model is configured: the plain sentences
    watched.open(server.url)
    shown = watched.page.inner_text("#executive-summary")
    for paragraph in served["text"].split("\n\n"):
        assert " ".join(paragraph.split()) in " ".join(shown.split())
    accuracy = served["facts"]["accuracy"]["accuracy"]
    assert f"{accuracy:.1%}" in shown  # a number the facts hold, as the page prints it
    assert "Plain-sentence summary" in shown
    assert watched.problems == []


def test_the_patterns_page_clusters_the_real_failed_inputs(
    server: RunningServer, watched: Watched
) -> None:
    served = httpx.get(server.url + "api/patterns?window=30d", timeout=30).json()
    assert served["status"] == "ready"
    assert served["failed_inputs"] > 0
    assert served["terms"]
    watched.open(server.url + "patterns?window=30d")
    cloud = watched.page.inner_text("body")
    assert served["terms"][0]["term"] in cloud or watched.page.locator(".chart").count() == 1
    assert watched.problems == []
