"""A loopback news site built from the real pages in ../shared/data/extraction/.

`serve_corpus` starts a threaded HTTP server in a child process serving N feeds whose items link
to real article pages (AEB and Fundus), each page under `copies` distinct URLs.
"""

from __future__ import annotations

import gzip
import multiprocessing
import time
from email.utils import formatdate
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def real_pages() -> list[bytes]:
    """Every real article page in the shared data, decompressed."""
    folders = [SHARED / "extraction" / "aeb" / "html", SHARED / "extraction" / "fundus" / "tests"]
    paths = sorted(p for folder in folders for p in folder.rglob("*.html.gz"))
    if not paths:
        raise SystemExit(f"no pages found under {SHARED}/extraction: the benchmark needs ../shared/data")
    return [gzip.decompress(p.read_bytes()) for p in paths]


def build_site(base: str, feeds: int, copies: int) -> tuple[dict[str, tuple[str, bytes]], list[str]]:
    """Routes {path: (content type, body)} and the feed URLs."""
    pages = real_pages()
    routes: dict[str, tuple[str, bytes]] = {}
    items: list[list[str]] = [[] for _ in range(feeds)]
    n = 0
    for copy in range(copies):
        for index, page in enumerate(pages):
            path = f"/article/{copy}/{index}.html"
            routes[path] = ("text/html; charset=utf-8", page)
            date = formatdate(1_700_000_000 - n * 60, usegmt=True)
            items[n % feeds].append(
                f"<item><title>Article {index} copy {copy}</title><link>{escape(base + path)}</link>"
                f"<guid>{escape(base + path)}</guid><pubDate>{date}</pubDate>"
                f"<description>Teaser of article {index}.</description></item>"
            )
            n += 1
    urls = []
    for number, feed_items in enumerate(items):
        path = f"/feed/{number}.xml"
        body = (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Bench feed {number}</title><link>{base}/</link><description>bench</description>"
            + "".join(feed_items)
            + "</channel></rss>"
        ).encode()
        routes[path] = ("application/rss+xml", body)
        urls.append(base + path)
    return routes, urls


def _serve(port_queue: multiprocessing.Queue, feeds: int, copies: int, latency: float) -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    routes, urls = build_site(base, feeds, copies)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            if latency:
                time.sleep(latency)
            content_type, body = routes.get(self.path, ("text/plain", b""))
            self.send_response(200 if self.path in routes else 404)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd.RequestHandlerClass = Handler
    httpd.daemon_threads = True
    port_queue.put((urls, sum(1 for p in routes if p.startswith("/article/"))))
    httpd.serve_forever()


def serve_corpus(feeds: int, copies: int, latency: float) -> tuple[multiprocessing.Process, list[str], int]:
    """Start the server process; return it, the feed URLs and the number of pages."""
    queue: multiprocessing.Queue = multiprocessing.Queue()
    process = multiprocessing.Process(target=_serve, args=(queue, feeds, copies, latency), daemon=True)
    process.start()
    urls, pages = queue.get(timeout=120)
    return process, urls, pages
