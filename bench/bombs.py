"""Benchmark: peak memory of feedd's fetcher under every kind of decompression bomb (issue 17).

    python bench/bombs.py [--against REV] [--size MIB]

Each bomb (SIZE MiB of zeros, 256 by default, compressed as gzip, deflate, raw deflate, brotli,
and gzip inside gzip) is served by a loopback HTTP server; a fresh process fetches it with
feedd's Fetcher and the shipped [fetch] settings and reports how far its peak RSS rose above
what it was just before the fetch (after a small warm-up fetch). Target: under 20 MB for every
kind (the body cap is 10 MiB). --against REV measures feedd as of git revision REV as well, in
the same invocation (a temporary worktree).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import resource
import subprocess
import sys
import tempfile
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import brotli

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("gzip", "deflate", "raw deflate", "br", "gzip, gzip")
TARGET_MB = 20.0


def bomb(kind: str, size: int) -> tuple[bytes, str]:
    """`size` bytes of zeros, compressed as `kind` a megabyte at a time; and its Content-Encoding."""
    block = b"\0" * (1024 * 1024)
    if kind == "br":
        compressor = brotli.Compressor(quality=5)
        return b"".join(
            compressor.process(block) for _ in range(size // len(block))
        ) + compressor.finish(), "br"
    wbits = {"deflate": zlib.MAX_WBITS, "raw deflate": -zlib.MAX_WBITS}.get(kind, zlib.MAX_WBITS | 16)
    stream = zlib.compressobj(9, zlib.DEFLATED, wbits)
    body = b"".join(stream.compress(block) for _ in range(size // len(block))) + stream.flush()
    if kind == "gzip, gzip":
        return gzip.compress(body), kind
    return body, "deflate" if kind == "raw deflate" else kind


def serve(routes: dict[str, tuple[bytes, str]]) -> str:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            body, coding = routes[self.path]
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            if coding:
                self.send_header("Content-Encoding", coding)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_one(kind: str, size: int) -> dict[str, object]:
    """In this process: fetch one bomb; the peak RSS it added and how it ended."""
    from feedd.config import FetchConfig
    from feedd.errors import FetchError
    from feedd.http import Fetcher

    base = serve({"/warm": (b"<html>warm</html>" * 100, ""), "/bomb": bomb(kind, size)})
    config = FetchConfig.model_validate({"allow_private_networks": True, "timeout": 60.0})

    async def fetch(path: str) -> str:
        async with Fetcher(config, "bench") as fetcher:
            try:
                result = await fetcher.get(base + path)
            except FetchError as exc:
                return f"{type(exc).__name__}: {exc.reason if hasattr(exc, 'reason') else exc}"
            return f"{len(result.content)} bytes"

    asyncio.run(fetch("/warm"))
    before = peak_mb()
    outcome = asyncio.run(fetch("/bomb"))
    return {"kind": kind, "added_mb": peak_mb() - before, "outcome": outcome}


def run_all(size: int, pythonpath: str | None) -> list[dict[str, object]]:
    env = {"PATH": "/usr/bin:/bin"} | ({"PYTHONPATH": pythonpath} if pythonpath else {})
    results = []
    for kind in KINDS:
        done = subprocess.run(
            [sys.executable, __file__, "--one", kind, "--size", str(size // 2**20)],
            capture_output=True,
            text=True,
            env=env if pythonpath else None,
            check=True,
        )
        results.append(json.loads(done.stdout))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--against", metavar="REV", help="also feedd as of this git revision")
    parser.add_argument("--size", type=int, default=256, help="MiB each bomb inflates to (default 256)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    size = args.size * 2**20
    if args.one:
        print(json.dumps(measure_one(args.one, size)))
        return
    runs = {"this checkout": run_all(size, None)}
    if args.against:
        with tempfile.TemporaryDirectory() as folder:
            tree = Path(folder) / "tree"
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(tree), args.against],
                check=True,
            )
            try:
                runs[f"feedd @ {args.against}"] = run_all(size, str(tree / "daemon"))
            finally:
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=True
                )
    print(
        f"decompression bombs of {args.size} MiB of zeros; peak RSS added by one fetch (target < {TARGET_MB:g} MB)"
    )
    for name, results in runs.items():
        print(f"\n{name}")
        for result in results:
            verdict = "met" if float(result["added_mb"]) < TARGET_MB else "MISSED"  # type: ignore[arg-type]
            print(
                f"  {result['kind']:<12} {float(result['added_mb']):7.1f} MB  [{verdict}]  {result['outcome']}"
            )  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
