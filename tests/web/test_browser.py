"""The web view in a real browser: Playwright driving Debian's chromium against `feedd web` over a
state polled from loopback feeds. Every page loads without console errors, the pair view marks
the shared runs `feedd explain` reports, filters and search work, and a hostile title does not
run. Skipped (with the reason) without playwright or chromium, unless FEEDD_REQUIRE_BROWSER=1.

FEEDD_SCREENSHOTS=1 also saves the pair view as docs/images/duplicate-pair.png (the README's)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from webcorpus import HOSTILE_TITLE, Corpus, explained_drop, polled_corpus

from conftest import LoopbackServer

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "images" / "duplicate-pair.png"


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install 'playwright>=1.65,<2')"
    if not CHROMIUM.exists():
        return f"no chromium at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="module")
def browser(base: str) -> Iterator[Any]:
    """Chromium, started once the state is polled and served: Playwright's sync API keeps an
    event loop running in this thread, where run_once could not start its own."""
    if reason := _missing():
        if os.environ.get("FEEDD_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason}, and FEEDD_REQUIRE_BROWSER=1 is set")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Chromium's sandbox refuses to start as root.
        args = ["--no-sandbox"] if os.geteuid() == 0 else []
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    server = LoopbackServer()
    server.start()
    try:
        yield polled_corpus(server, tmp_path_factory.mktemp("browser"))
    finally:
        server.stop()


@pytest.fixture(scope="module")
def base(corpus: Corpus, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`feedd web` over the corpus's state, on a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path_factory.mktemp("browser-log") / "web.log"
    command = [sys.executable, "-m", "feedd", "web", "-c", str(corpus.config_path), "-l", f"127.0.0.1:{port}"]
    with open(log, "wb") as output:
        web = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        assert web.poll() is None and time.monotonic() < deadline, log.read_text()
        try:
            httpx.get(url + "/feeds")
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield url
    web.send_signal(signal.SIGTERM)
    web.wait(timeout=30)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page that fails the test on any console error or uncaught page error."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    opened.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    yield opened
    context.close()
    assert errors == []


def _pair_path(corpus: Corpus) -> str:
    query = {"of": corpus.original_id, "feed": corpus.copy_feed, "link": corpus.copy_link}
    return "/duplicates/pair?" + urlencode(query)


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text.casefold())


def test_every_page_loads_without_errors(page: Any, base: str, corpus: Corpus) -> None:
    paths = [
        "/",
        "/?days=7",
        "/feeds",
        "/documents",
        "/duplicates",
        f"/documents/{corpus.original_id}",
        f"/documents/{corpus.extended_id}/compare/{corpus.original_id}",
        _pair_path(corpus),
    ]
    for path in paths:
        response = page.goto(base + path)
        assert response is not None and response.ok, path
        # The stylesheet applied (a CSP that refused it would leave the header unstyled).
        color = page.eval_on_selector("header", "element => getComputedStyle(element).backgroundColor")
        assert color == "rgb(32, 38, 46)", path
    page.goto(base + "/")
    assert page.locator("svg rect.bar.saved").count() >= 1
    assert page.locator("#disk").inner_text() != ""


def test_the_pair_view_marks_the_run_feedd_explain_reports(page: Any, base: str, corpus: Corpus) -> None:
    drop = explained_drop(corpus)
    page.goto(base + _pair_path(corpus))
    for rank, run in enumerate(drop["evidence"]["runs"], start=1):
        first, *_, last = run["excerpt"].split(" ... ") * 2
        for side in ("new", "saved"):
            marks = page.locator(f"article.{side} mark[data-run='{rank}']")
            words = _words(" ".join(marks.all_inner_texts()))
            assert len(words) == run["length"], (side, rank)
            assert " ".join(words).startswith(first) and " ".join(words).endswith(last), (side, rank)
    # The quoted words of a run are marked apart, in a colour of their own.
    quoted = page.locator("article.saved mark.quoted").first
    shared = page.locator("article.saved mark.shared").first
    assert quoted.evaluate("e => getComputedStyle(e).backgroundColor") != shared.evaluate(
        "e => getComputedStyle(e).backgroundColor"
    )
    assert page.locator("#copied-share").inner_text() == f"{drop['evidence']['copied_share']:.0%}"
    if os.environ.get("FEEDD_SCREENSHOTS") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)


def test_filters_and_search_work(page: Any, base: str, corpus: Corpus) -> None:
    page.goto(base + "/feeds")
    assert page.locator("#feeds tbody tr").count() == 3
    # Choosing a state submits the form (the script); the table follows.
    with page.expect_navigation():
        page.select_option("select[name=state]", "failing")
    assert "state=failing" in page.url
    rows = page.locator("#feeds tbody tr")
    assert rows.count() == 1 and corpus.failing_feed in rows.inner_text()
    assert "failing since" in rows.inner_text()
    page.goto(base + "/feeds")
    page.click("#feeds th >> text=saved")
    page.click("#feeds th >> text=saved")  # again: descending
    assert "order=desc" in page.url
    assert page.locator("#feeds tbody tr").first.inner_text().startswith("Paper")

    page.goto(base + "/documents")
    page.fill("input[name=title]", "full story")
    page.click("button >> text=search")
    titles = page.locator("#documents a.title").all_inner_texts()
    assert titles == ["Bridge closes after storm: the full story"]
    page.goto(base + "/documents")
    page.select_option("select[name=tag]", "agency")
    page.click("button >> text=search")
    assert page.locator("#documents a.title").all_inner_texts() == ["Bridge closes after storm"]


def test_a_hostile_title_does_not_run(page: Any, base: str, corpus: Corpus) -> None:
    page.goto(base + "/documents")
    link = page.locator(f"#documents a[href$='{corpus.hostile_id}']")
    assert link.inner_text() == HOSTILE_TITLE
    link.hover()
    link.click()
    page.wait_for_url(f"**/documents/{corpus.hostile_id}")
    page.locator("h1").hover()
    assert page.locator("h1").inner_text() == HOSTILE_TITLE
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert page.locator("main img, main script").count() == 0
