"""Requests that try to break the view: page numbers and days that overflow (400, never a 500),
errors that still carry the security headers, and Host headers of other sites (DNS rebinding)
refused while no secret guards the view."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from webcorpus import ServedView

from conftest import write_config
from feedd.config import load_config
from feedd.errors import ConfigError
from feedd.state import State
from feedd.web import SECURITY_HEADERS, create_app
from feedd.web.app import THREADS, NotFound

FEED = "https://news.example/feed.xml"


def _config_path(folder: Path, web: str = "") -> Path:
    path = write_config(folder, [{"url": FEED}], extra=f"[web]\n{web}\n")
    with State(folder / "state.sqlite3", folder / "out", "{seq:03d}_{id}.txt"):
        pass  # an empty state
    return path


def _has_headers(response: httpx.Response) -> bool:
    return all(response.headers.get(name) == value for name, value in SECURITY_HEADERS.items())


@pytest.fixture
def view(tmp_path: Path) -> Iterator[ServedView]:
    served = ServedView(load_config(_config_path(tmp_path))).start()
    yield served
    served.stop()


@pytest.mark.parametrize(
    "query",
    [
        "/documents?until=9999-12-31",
        "/documents?since=9999-12-31",
        "/documents?page=99999999999999999999999",
        "/api/documents?page=1000000000",
        "/duplicates?page=99999999999999999999",
        "/feeds?page=99999999999999999999",
        "/documents?page=" + "9" * 5000,
        "/?days=" + "9" * 5000,
        "/documents?page=%EF%BC%91",  # a full-width digit
    ],
)
def test_numbers_and_days_out_of_range_are_400_with_the_headers(view: ServedView, query: str) -> None:
    response = httpx.get(view.url(query), timeout=10)
    assert response.status_code == 400, (query, response.text[:300])
    assert _has_headers(response)


def test_the_last_page_number_allowed_answers(view: ServedView) -> None:
    response = httpx.get(view.url("/api/documents?page=999999999"), timeout=10)
    assert response.status_code == 200 and response.json()["documents"] == []


def test_a_server_error_carries_the_security_headers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("feedd.web.app.feeds_page", broken)
    app = create_app(load_config(_config_path(tmp_path)))

    async def ask() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as client:
            return await client.get("/feeds")

    response = asyncio.run(ask())
    assert response.status_code == 500 and _has_headers(response)


def _host(view: ServedView, host: str) -> httpx.Response:
    return httpx.get(view.url("/api/feeds"), headers={"Host": host}, timeout=10)


def test_without_a_secret_only_this_machines_names_are_answered(view: ServedView) -> None:
    for host in ("attacker.example", f"attacker.example:{view.port}", "127.0.0.1.attacker.example", ""):
        refused = _host(view, host)
        assert refused.status_code == 400, host
        assert _has_headers(refused)
    for host in ("127.0.0.1", f"127.0.0.1:{view.port}", "localhost:1234", "LOCALHOST.", "[::1]:8080"):
        assert _host(view, host).status_code == 200, host


def test_allowed_hosts_are_answered(tmp_path: Path) -> None:
    config = load_config(_config_path(tmp_path, 'allowed_hosts = ["News.example", "[2001:db8::7]"]'))
    served = ServedView(config).start()
    try:
        assert _host(served, "news.example").status_code == 200
        assert _host(served, "news.example:443").status_code == 200
        assert _host(served, "[2001:db8::7]").status_code == 200
        assert _host(served, "other.example").status_code == 400
    finally:
        served.stop()


def test_with_a_secret_any_host_is_answered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEEDD_TEST_WEB_TOKEN", "s3cret")
    config = load_config(_config_path(tmp_path, 'token = { env = "FEEDD_TEST_WEB_TOKEN" }'))
    served = ServedView(config).start()
    try:
        headers = {"Host": "feedd.example", "Authorization": "Bearer s3cret"}
        assert httpx.get(served.url("/api/feeds"), headers=headers).status_code == 200
        assert httpx.get(served.url("/api/feeds"), headers={"Host": "feedd.example"}).status_code == 401
    finally:
        served.stop()


@pytest.mark.parametrize("host", ["news.example:443", "http://news.example", "2001:db8::7", "a b", "", " "])
def test_allowed_hosts_must_be_names(tmp_path: Path, host: str) -> None:
    with pytest.raises(ConfigError, match=r"web\.allowed_hosts.*without a port"):
        load_config(_config_path(tmp_path, f'allowed_hosts = ["{host}"]'))


def test_a_stop_that_cuts_a_request_off_logs_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def slow(*args: object, **kwargs: object) -> None:
        time.sleep(4)  # longer than the stop's grace period (2 s)
        raise RuntimeError("too late")

    monkeypatch.setattr("feedd.web.app.feeds_page", slow)
    served = ServedView(load_config(_config_path(tmp_path))).start()
    asked = threading.Thread(target=lambda: httpx.get(served.url("/feeds"), timeout=10), daemon=True)
    with caplog.at_level(logging.INFO):
        try:
            asked.start()
            time.sleep(0.5)
        finally:
            served.stop()
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert not errors, [record.getMessage() for record in errors]
    assert "web view stopped: 1 request(s) still running were cut off" in caplog.messages


def test_at_most_a_few_requests_run_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    running, most, lock = 0, 0, threading.Lock()

    def counted(*args: object, **kwargs: object) -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.3)
        with lock:
            running -= 1
        raise NotFound("counted")

    monkeypatch.setattr("feedd.web.app.feeds_page", counted)
    served = ServedView(load_config(_config_path(tmp_path))).start()
    try:
        askers = [
            threading.Thread(target=lambda: httpx.get(served.url("/api/feeds"), timeout=20))
            for _ in range(12)
        ]
        for asker in askers:
            asker.start()
        for asker in askers:
            asker.join()
    finally:
        served.stop()
    assert most == THREADS
