"""Who may read the web view, and feed text that tries to act on the page: a token or basic auth
when configured (401 without, 200 with), [web] checked as check-config checks it, and hostile
titles, links and control characters shown as text."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from webcorpus import ServedView

from conftest import manifest_entry, write_config
from feedd.config import load_config
from feedd.dedup import DuplicateMatch
from feedd.errors import ConfigError
from feedd.state import NewDocument, State
from feedd.web import CONTENT_SECURITY_POLICY, http_link

FEED = "https://news.example/feed.xml"
JS_LINK = "javascript:window.pwned=1"
#: A title with an escape sequence, a right-to-left override and markup.
CONTROL_TITLE = "Title \x1b[31mred\x1b[0m \u202eevil\u202c <b>bold</b>"


def _hostile_state(folder: Path) -> str:
    """A state written through its own API: a document whose link is javascript:, and a drop whose
    link and title are hostile. Returns the document's id."""
    doc_id = "00000000000000aa"
    with State(folder / "state.sqlite3", folder / "out", "{seq:03d}_{id}.txt") as state:
        state.documents.save(
            NewDocument(
                doc_id=doc_id,
                canonical_url="https://news.example/a",
                body_hash="1" * 64,
                text=f"{CONTROL_TITLE}\n\nBody text.",
                filename_date=datetime(2024, 5, 2, tzinfo=UTC),
                feed_url=FEED,
                entry_key="a",
                entry_link=JS_LINK,
                manifest=manifest_entry(CONTROL_TITLE, url=JS_LINK, feed=FEED, tags=('t"ag',)),
            )
        )
        state.entries.record_duplicate(
            FEED,
            "b",
            JS_LINK,
            DuplicateMatch(doc_id, "near duplicate"),
            title='"><script>window.pwned=1</script>',
        )
    return doc_id


def _config(folder: Path, web: str = "") -> Path:
    return write_config(folder, [{"url": FEED}], extra=f"[web]\n{web}\n")


@pytest.fixture
def token_view(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServedView]:
    _hostile_state(tmp_path)
    monkeypatch.setenv("FEEDD_TEST_WEB_TOKEN", "s3cret-token")
    served = ServedView(load_config(_config(tmp_path, 'token = { env = "FEEDD_TEST_WEB_TOKEN" }'))).start()
    yield served
    served.stop()


def test_a_token_is_required_when_configured(token_view: ServedView) -> None:
    for path in ("/", "/feeds", "/api/documents", "/static/style.css", "/nowhere"):
        refused = httpx.get(token_view.url(path))
        assert refused.status_code == 401, path
        assert refused.headers["www-authenticate"] == "Bearer"
        assert refused.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "s3cret" not in refused.text
    wrong = httpx.get(token_view.url("/api/feeds"), headers={"Authorization": "Bearer s3cret-tokem"})
    assert wrong.status_code == 401
    basic = base64.b64encode(b"x:s3cret-token").decode()
    assert (
        httpx.get(token_view.url("/api/feeds"), headers={"Authorization": f"Basic {basic}"}).status_code
        == 401
    )
    allowed = httpx.get(token_view.url("/api/feeds"), headers={"Authorization": "Bearer s3cret-token"})
    assert allowed.status_code == 200 and allowed.json()["feeds"][0]["status"]["url"] == FEED


def test_basic_auth_from_a_file(tmp_path: Path) -> None:
    _hostile_state(tmp_path)
    (tmp_path / "web.auth").write_text("reader:pa:ss word\n")
    served = ServedView(load_config(_config(tmp_path, 'basic_auth = { file = "web.auth" }'))).start()
    try:
        refused = httpx.get(served.url("/feeds"))
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == 'Basic realm="feedd", charset="UTF-8"'
        assert httpx.get(served.url("/feeds"), auth=("reader", "pa:ss wore")).status_code == 401
        assert httpx.get(served.url("/feeds"), auth=("reader2", "pa:ss word")).status_code == 401
        assert httpx.get(served.url("/feeds"), auth=("reader", "pa:ss word")).status_code == 200
    finally:
        served.stop()


@pytest.mark.parametrize(
    ("web", "message"),
    [
        ('listen = "0.0.0.0:8080"', "is reachable beyond this machine: set token or basic_auth"),
        ('listen = "news.example:8080"', "is reachable beyond this machine"),
        (
            'token = { env = "A" }\nbasic_auth = { env = "B" }',
            "give token or basic_auth, not both",
        ),
        (
            'token = { env = "FEEDD_TEST_UNSET" }',
            r":\d+: web.token.env: environment variable FEEDD_TEST_UNSET is not set",
        ),
        ('basic_auth = { file = "missing.auth" }', r":\d+: web.basic_auth.file: cannot read .*missing.auth"),
        ('root_path = "feedd/"', "root_path"),
        ('listen = "127.0.0.1"', "expected host:port"),
    ],
)
def test_web_section_errors_name_the_key(tmp_path: Path, web: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(_config(tmp_path, web))


@pytest.mark.parametrize(
    ("credentials", "message"),
    [
        (":", "the user name is empty"),
        ("reader:", "the password is empty"),
        (":pass", "the user name is empty"),
    ],
)
def test_empty_basic_auth_credentials_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, credentials: str, message: str
) -> None:
    monkeypatch.setenv("FEEDD_TEST_WEB_AUTH", credentials)
    web = 'listen = "0.0.0.0:8080"\nbasic_auth = { env = "FEEDD_TEST_WEB_AUTH" }'
    with pytest.raises(ConfigError, match=rf":\d+: web\.basic_auth\.env: {message}"):
        load_config(_config(tmp_path, web))
    (tmp_path / "web.auth").write_text(credentials + "\n")
    with pytest.raises(ConfigError, match=rf":\d+: web\.basic_auth\.file: {message}"):
        load_config(_config(tmp_path, 'basic_auth = { file = "web.auth" }'))


def test_loopback_and_guarded_listens_are_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for listen in ("127.0.0.1:8080", "[::1]:8080", "localhost:8080", ":8080"):
        assert load_config(_config(tmp_path, f'listen = "{listen}"')).web_secret is None
    monkeypatch.setenv("FEEDD_TEST_WEB_TOKEN", " t0ken \n")
    config = load_config(
        _config(tmp_path, 'listen = "0.0.0.0:8080"\ntoken = { env = "FEEDD_TEST_WEB_TOKEN" }')
    )
    assert config.web_secret is not None and config.web_secret.secret == "t0ken"
    assert "t0ken" not in repr(config)


def test_feedd_web_refuses_an_open_listen_beyond_loopback(tmp_path: Path) -> None:
    _hostile_state(tmp_path)
    finished = subprocess.run(
        [sys.executable, "-m", "feedd", "web", "-c", str(_config(tmp_path)), "--listen", "0.0.0.0:1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 2, finished.stderr
    assert "--listen 0.0.0.0:1: listen = '0.0.0.0:1' is reachable beyond this machine" in finished.stderr


def test_hostile_feed_text_stays_text(tmp_path: Path) -> None:
    doc_id = _hostile_state(tmp_path)
    served = ServedView(load_config(_config(tmp_path))).start()
    try:
        pages = {
            path: httpx.get(served.url(path)).text
            for path in ("/documents", f"/documents/{doc_id}", "/duplicates")
        }
    finally:
        served.stop()
    for path, page in pages.items():
        assert "javascript:" not in "".join(re.findall(r'href="([^"]*)"', page)), path
        assert "<script>window.pwned" not in page and "<b>bold" not in page, path
        assert "\x1b" not in page and "\u202e" not in page, path
    assert "Title \\x1b[31mred\\x1b[0m \\u202eevil\\u202c &lt;b&gt;bold&lt;/b&gt;" in pages["/documents"]
    assert "&#34;&gt;&lt;script&gt;window.pwned=1&lt;/script&gt;" in pages["/duplicates"]
    # The javascript: link is shown, as text, where a link would be.
    assert f'<span class="inert">{JS_LINK}</span>' in pages[f"/documents/{doc_id}"]


@pytest.mark.parametrize(
    ("url", "linked"),
    [
        ("https://example.org/a?b=1", True),
        ("http://example.org", True),
        ("javascript:alert(1)", False),
        ("JavaScript:alert(1)", False),
        (" javascript:alert(1)", False),
        ("java\tscript:alert(1)", False),
        ("data:text/html,<script>", False),
        ("//example.org/a", False),
        ("http:///nohost", False),
        ("https://example.org/\u202e", False),
    ],
)
def test_only_http_links_are_links(url: str, linked: bool) -> None:
    assert (http_link(url) == url) is linked


def test_behind_a_proxy_that_strips_the_root_path(tmp_path: Path) -> None:
    doc_id = _hostile_state(tmp_path)
    served = ServedView(load_config(_config(tmp_path, 'root_path = "/feedd"'))).start()
    try:
        # The proxy passes /feedd/documents on as /documents; the links the page writes keep the prefix.
        page = httpx.get(served.url("/documents"))
        assert page.status_code == 200
        assert f'href="/feedd/documents/{doc_id}"' in page.text
        assert 'href="/feedd/static/style.css"' in page.text
        assert httpx.get(served.url("/static/style.css")).status_code == 200
        assert httpx.get(served.url(f"/api/documents/{doc_id}")).json()["document"]["doc_id"] == doc_id
    finally:
        served.stop()
