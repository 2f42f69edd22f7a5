"""Shared fixtures: a real HTTP server on 127.0.0.1 and config files written per test."""

from __future__ import annotations

import gzip
import os
import random
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from feedd.feeds import Entry
from feedd.output import ManifestEntry

#: The DW seed article and its expected text, read by the extract and pipeline tests.
DW_SEED = Path(__file__).parent / "extract" / "testdata"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data. The test skips only when that root folder is absent, and fails
    instead when FEEDD_REQUIRE_SHARED_DATA=1 (CI). A missing path under a present root always fails:
    a renamed data file must not quietly turn real-data tests into skips."""
    if not SHARED_DATA.is_dir():
        message = f"shared test data not found at {SHARED_DATA} (expected beside the checkout)"
        if os.environ.get("FEEDD_REQUIRE_SHARED_DATA") == "1":
            pytest.fail(f"{message}, and FEEDD_REQUIRE_SHARED_DATA=1 is set")
        pytest.skip(message)
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"shared test data {path} is missing, though {SHARED_DATA} is there (renamed or moved?)")
    return path


@dataclass
class Route:
    """A canned response; `handler` takes over the whole exchange when set."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    #: Seconds to wait before answering.
    delay: float = 0.0
    #: Served with 304 when the request's If-None-Match matches.
    etag: str | None = None
    handler: Callable[[BaseHTTPRequestHandler], None] | None = None


class LoopbackServer:
    """A threaded HTTP/1.1 server on a loopback address with a route table and a request log."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        #: When each request arrived (time.monotonic()), in the order of `requests`.
        self.request_times: list[float] = []
        self.active = 0
        #: Most requests in progress at once, from arrival until their answer starts (all to one host).
        self.max_active = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            #: Whether this handler's current request counts in `active` (reset per request: a
            #: keep-alive connection serves several through one handler).
            in_flight = False

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                with server._lock:
                    server.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                    server.request_times.append(time.monotonic())
                    server.active += 1
                    server.max_active = max(server.max_active, server.active)
                self.in_flight = True
                try:
                    server._serve(self)
                except ConnectionError:
                    pass  # the client gave up (timeouts, caps): that is what those tests check
                finally:
                    self._answered()

            def send_response(self, code: int, message: str | None = None) -> None:
                self._answered()
                super().send_response(code, message)

            def _answered(self) -> None:
                # A request stops counting as active once its answer starts: a client may free its
                # slot as soon as it has read the answer, before this thread gets the lock again, so
                # counting up to the handler's end would see a third request where a cap of two held.
                if self.in_flight:
                    self.in_flight = False
                    with server._lock:
                        server.active -= 1

        self._httpd = ThreadingHTTPServer((host, 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        route = self.routes.get(handler.path.split("?")[0])
        if route is None:
            route = Route(b"not found", status=404)
        if route.delay:
            time.sleep(route.delay)
        if route.handler is not None:
            route.handler(handler)
            return
        if route.etag and handler.headers.get("If-None-Match") == route.etag:
            handler.send_response(304)
            handler.send_header("ETag", route.etag)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        handler.send_response(route.status)
        headers = {"Content-Type": "text/html; charset=utf-8", **route.headers}
        if route.etag:
            headers["ETag"] = route.etag
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(route.body)))
        handler.end_headers()
        handler.wfile.write(route.body)

    def add(self, path: str, body: bytes | str = b"", **options: object) -> str:
        """Serve `body` at `path`; return its absolute URL."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.routes[path] = Route(body=body, **options)  # type: ignore[arg-type]
        return self.url(path)

    def url(self, path: str) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{path}"

    def hits(self, path: str) -> int:
        """Requests for `path`, whatever their query string."""
        return sum(1 for requested, _ in self.requests if requested.split("?")[0] == path)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    loopback = LoopbackServer()
    loopback.start()
    yield loopback
    loopback.stop()


@pytest.fixture
def other_host() -> Iterator[LoopbackServer]:
    """A second server, on 127.0.0.2: another host as far as per-host limits and the SSRF guard
    are concerned."""
    loopback = LoopbackServer(host="127.0.0.2")
    loopback.start()
    yield loopback
    loopback.stop()


def write_config(folder: Path, feeds: list[dict[str, str]], extra: str = "") -> Path:
    """A config for loopback tests: private networks allowed, short timeouts, no gap between
    requests to the (single) test host, inline extraction."""
    lines = [
        "[storage]",
        'output_dir = "out"',
        'database = "state.sqlite3"',
        "[fetch]",
        "allow_private_networks = true",
        'host_gap = "0s"',
        'timeout = "5s"',
        'read_timeout = "3s"',
        "[extract]",
        "workers = 0",
        extra,
    ]
    for feed in feeds:
        lines.append("[[feeds]]")
        lines.extend(f'{key} = "{value}"' for key, value in feed.items())
    path = folder / "feedd.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def rss(items: list[dict[str, str]], title: str = "Test feed", link: str = "http://example.org/") -> str:
    """A small RSS 2.0 document; each item dict maps element names to (already escaped) text."""
    body = "".join(
        "<item>" + "".join(f"<{k}>{v}</{k}>" for k, v in item.items()) + "</item>" for item in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{title}</title><link>{link}</link><description>test</description>{body}"
        "</channel></rss>"
    )


def article_page(title: str, paragraphs: list[str], *, canonical: str | None = None) -> str:
    """A minimal but realistic article page with navigation chrome around the text."""
    head = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title} | Example News</title>"
        f"{head}</head><body><nav><ul><li><a href='/'>Home</a></li><li><a href='/world'>World</a></li>"
        f"</ul></nav><main><article><h1>{title}</h1>{body}</article></main>"
        "<footer><p>© Example News. All rights reserved.</p></footer></body></html>"
    )


_VOCABULARY = (
    "council harbour minister tram budget river school police storm election court bank train "
    "museum hospital farmers festival bridge airport union strike mayor village factory market "
    "report rain flood fire vote law price energy water road coast forest island city north "
    "south east west old new big small early late first last many few said told asked agreed "
    "refused opened closed began ended rose fell grew cut raised lowered built moved found lost"
).split()


def story(seed: int, paragraphs: int = 4, words: int = 40) -> list[str]:
    """Paragraphs of made-up text that share no run of words with another seed's."""
    rng = random.Random(seed)
    return [
        " ".join(rng.choice(_VOCABULARY) for _ in range(words)).capitalize() + "." for _ in range(paragraphs)
    ]


def manifest_entry(title: str = "Title", **changes: object) -> ManifestEntry:
    """What a manifest line says of a document, for tests that save documents directly."""
    fields: dict[str, object] = {
        "url": "https://news.example/story",
        "canonical_url": None,
        "title": title,
        "published": None,
        "fetched": datetime(2024, 5, 2, 9, 30, tzinfo=UTC),
        "feed": "https://news.example/feed",
        "feed_name": None,
        "tags": None,
        "guid": None,
        "entry_link": None,
        "language": None,
        "source": "page",
        "fallback_reason": None,
        "body_sha256": "0" * 64,
    }
    fields.update(changes)
    return ManifestEntry(**fields)  # type: ignore[arg-type]


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data)


class RedisServer:
    """A real redis-server on a free loopback port, with its data in `folder` (append-only file,
    so a restart keeps what was written)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.folder),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as connection:
                    connection.sendall(b"PING\r\n")
                    if connection.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None


REDIS_SERVER = shutil.which("redis-server") or ""


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A running redis-server; skips where the binary is missing, unless FEEDD_REQUIRE_REDIS is
    set (CI sets it, and installs Debian's redis-server)."""
    if not REDIS_SERVER:
        if os.environ.get("FEEDD_REQUIRE_REDIS"):
            pytest.fail("redis-server not found, and FEEDD_REQUIRE_REDIS is set")
        pytest.skip("redis-server not found (Debian: apt-get install redis-server)")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


#: Nine levels of ten entities: a billion "dha"s when expanded, within an XML internal subset.
_LAUGHS = b'<!ENTITY a0 "dha">' + b"".join(
    b'<!ENTITY a%d "%s">' % (level, b"&a%d;" % (level - 1) * 10) for level in range(1, 10)
)


def entity_bomb(root: bytes, body: bytes, *, before_doctype: bytes = b"", in_subset: bytes = b"") -> bytes:
    """`body` (whose text says `&a9;`) behind a billion-laughs DOCTYPE for its `root` element."""
    return (
        b'<?xml version="1.0"?>'
        + before_doctype
        + b"<!DOCTYPE "
        + root
        + b" ["
        + in_subset
        + _LAUGHS
        + b"]>"
        + body
    )


def dtd_evasions(root: bytes, body: bytes) -> dict[str, bytes]:
    """The ways an entity bomb slipped past feedd's first guard, a pattern over the bytes."""
    bomb = entity_bomb(root, body)
    return {
        # The old pattern, <!DOCTYPE[^>\[]*\[[^\]]*<!ENTITY, stopped at the first "]".
        "a ] in a comment of the internal subset": entity_bomb(root, body, in_subset=b"<!-- ] -->"),
        # It looked at the first 64 KiB only.
        "the DOCTYPE after 64 KiB of padding": entity_bomb(
            root, body, before_doctype=b"<!--" + b" " * 70_000 + b"-->"
        ),
        # It looked for ASCII bytes.
        "UTF-16": bomb.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="utf-16"?>')
        .decode()
        .encode("utf-16"),
    }


def feed_entry(link: str, /, **changes: object) -> Entry:
    """A feed entry linking to `link` (its canonical link too), with no text of its own unless
    `changes` give some."""
    entry = Entry(
        key="guid:1",
        guid="1",
        link=link,
        canonical_link=link,
        title="",
        published=None,
        summary_html="",
        content_html="",
        author=None,
    )
    return replace(entry, **changes)  # type: ignore[arg-type]
