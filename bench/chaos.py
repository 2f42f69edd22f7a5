"""Benchmark: `feedd run-once` over a world where 15% of URLs misbehave.

    python bench/chaos.py [--feeds 40] [--pages 10] [--bad 0.15]

Feeds and pages are spread over loopback hosts 127.0.0.2-127.0.0.41 (one host per feed, as real
publishers are). A seeded 15% of all URLs answer with a fault: stall after the headers, a slow
trickle, a truncated body, 30 MB, a gzip bomb, a redirect loop, 500, 429 with Retry-After, random
bytes, HTML instead of a feed. Prints the wall time of the pass, feedd's summary, and peak memory
(RSS of the main process, PSS of its process tree). Default timeouts (connect 10 s, read 20 s,
whole request 60 s).
"""

from __future__ import annotations

import argparse
import gzip
import multiprocessing
import random
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import measure  # noqa: E402

from corpus import real_pages  # noqa: E402

FAULTS = ["stall", "trickle", "truncated", "huge", "bomb", "loop", "500", "429", "garbage", "html"]


def _serve(port_queue: multiprocessing.Queue, feeds: int, pages: int, bad: float) -> None:
    rng = random.Random(2026)
    bodies = real_pages()
    bomb = gzip.compress(b"\0" * (300 * 1024 * 1024))
    routes: dict[tuple[str, str], tuple[str, object]] = {}
    httpd = ThreadingHTTPServer(("0.0.0.0", 0), BaseHTTPRequestHandler)
    port = httpd.server_address[1]
    urls = []
    for f in range(feeds):
        host = f"127.0.0.{2 + f}"
        items = []
        for p in range(pages):
            path = f"/story/{p}.html"
            fault = rng.choice(FAULTS) if rng.random() < bad else None
            routes[(host, path)] = (fault or "page", bodies[(f * pages + p) % len(bodies)])
            items.append(
                f"<item><title>Story {f}-{p}</title><link>http://{host}:{port}{path}</link>"
                f"<guid>{host}-{p}</guid><description>Teaser {f}-{p}.</description></item>"
            )
        feed = (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Feed</title>'
            + "".join(items)
            + "</channel></rss>"
        ).encode()
        fault = rng.choice(FAULTS) if rng.random() < bad else None
        routes[(host, "/feed.xml")] = (fault or "feed", feed)
        urls.append(f"http://{host}:{port}/feed.xml")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            host = self.headers.get("Host", "").split(":")[0]
            kind, body = routes.get((host, self.path), ("404", b""))
            try:
                self._answer(kind, body)
            except OSError:
                pass

        def _send(
            self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _answer(self, kind: str, body: object) -> None:
            if kind == "feed":
                self._send(200, body, "application/rss+xml")
            elif kind == "page":
                self._send(200, body, "text/html; charset=utf-8")
            elif kind == "stall":
                self.send_response(200)
                self.send_header("Content-Length", "100000")
                self.end_headers()
                time.sleep(120)
            elif kind == "trickle":
                self.send_response(200)
                self.send_header("Content-Length", "100000")
                self.end_headers()
                for _ in range(1000):
                    self.wfile.write(b"<")
                    self.wfile.flush()
                    time.sleep(0.5)
            elif kind == "truncated":
                self.send_response(200)
                self.send_header("Content-Length", "500000")
                self.end_headers()
                self.wfile.write(bytes(body)[:1000])
                self.close_connection = True
            elif kind == "huge":
                self._send(200, b"<p>" + b"x" * (30 * 1024 * 1024), "text/html")
            elif kind == "bomb":
                self._send(200, bomb, "text/html", {"Content-Encoding": "gzip"})
            elif kind == "loop":
                self._send(302, b"", "text/plain", {"Location": self.path})
            elif kind == "500":
                self._send(500, b"oops", "text/plain")
            elif kind == "429":
                self._send(429, b"slow down", "text/plain", {"Retry-After": "30"})
            elif kind == "garbage":
                self._send(200, random.randbytes(5000), "application/xml")
            elif kind == "html":
                self._send(200, b"<html><body><p>Not a feed</p></body></html>", "application/rss+xml")
            else:
                self._send(404, b"not found", "text/plain")

    httpd.RequestHandlerClass = Handler
    httpd.daemon_threads = True
    httpd.handle_error = lambda request, address: None  # clients hanging up is the point
    port_queue.put(urls)
    httpd.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=40)
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--bad", type=float, default=0.15)
    args = parser.parse_args()
    queue: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(
        target=_serve, args=(queue, args.feeds, args.pages, args.bad), daemon=True
    )
    server.start()
    urls = queue.get(timeout=120)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "feedd.toml"
            config.write_text(
                '[storage]\noutput_dir = "out"\ndatabase = "state.sqlite3"\n'
                "[fetch]\nallow_private_networks = true\n"
                + "".join(f'[[feeds]]\nurl = "{u}"\n' for u in urls)
            )
            measured = measure.run_once(config)
    finally:
        server.terminate()
    print(
        f"world: {len(urls)} feeds x {args.pages} pages on {len(urls)} hosts, {args.bad:.0%} of URLs misbehaving"
    )
    print(measured.stdout.split("problems")[0].strip())
    print(f"pass: {measured.seconds:.0f}s, exit code {measured.returncode}")
    print(
        f"peak memory: main process RSS {measured.peak_main / 2**20:.0f} MB, "
        f"process tree PSS {measured.peak_tree / 2**20:.0f} MB"
    )


if __name__ == "__main__":
    main()
