"""What the web tests serve: a state that `run_once` filled from loopback feeds (a wire story, a
copy of it that is dropped, a later version that extends it, a hostile title, an independent
story, a feed that fails), and the web view on a real uvicorn server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import html
import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conftest import LoopbackServer, article_page, rss, story, write_config
from feedd import load_config, run_once
from feedd.config import Config, ListenAddress
from feedd.feeds import document_id
from feedd.web import WebServer

WIRE = story(2026, paragraphs=8)
QUOTE = (
    "\u201cWe will reopen the bridge next week,\u201d the mayor said after the storm had passed the coast."
)
#: What a hostile publisher puts in a title: markup that would run script, and an attribute breaker.
HOSTILE_TITLE = (
    '<img src=x onerror=window.pwned=1><script>window.pwned=1</script> "x\' onmouseover="window.pwned=1'
)


@dataclass(frozen=True)
class Corpus:
    """A polled state and what the tests look for in it."""

    config_path: Path
    config: Config
    original_id: str
    extended_id: str
    hostile_id: str
    #: The dropped copy's feed and link: with original_id, they name the pair.
    copy_feed: str
    copy_link: str
    failing_feed: str


def polled_corpus(server: LoopbackServer, folder: Path, extra: str = "") -> Corpus:
    """Feeds on `server`, polled once into `folder` (config, state and output)."""
    folder.mkdir(parents=True, exist_ok=True)
    original = server.add(
        "/wire/original", article_page("Bridge closes after storm", [*WIRE[:3], QUOTE, *WIRE[3:]])
    )
    copy = server.add("/paper/copy", article_page("Storm shuts bridge", [*WIRE[:5], QUOTE]))
    extended = server.add(
        "/paper/extended",
        article_page("Bridge closes after storm: the full story", [*WIRE, QUOTE, *story(4242, paragraphs=6)]),
    )
    hostile = server.add("/paper/hostile", article_page(html.escape(HOSTILE_TITLE), story(5)))
    own = server.add("/paper/own", article_page("Our reporter at the bridge", story(77, paragraphs=6)))
    rss_headers = {"Content-Type": "application/rss+xml"}
    wire_feed = server.add(
        "/wire.xml",
        rss([{"title": "Bridge closes after storm", "link": original, "guid": "w1"}]),
        headers=rss_headers,
    )
    paper_items = [
        {"title": "Storm shuts bridge", "link": copy, "guid": "p1"},
        {"title": html.escape(html.escape(HOSTILE_TITLE)), "link": hostile, "guid": "p2"},
        {"title": "Our reporter at the bridge", "link": own, "guid": "p3"},
        {"title": "Bridge closes: the full story", "link": extended, "guid": "p4"},
    ]
    paper_feed = server.add("/paper.xml", rss(paper_items), headers=rss_headers)
    failing_feed = server.url("/gone.xml")
    config_path = write_config(
        folder,
        [{"url": wire_feed, "name": "Wire"}, {"url": paper_feed, "name": "Paper"}, {"url": failing_feed}],
        extra=extra,
    )
    text = config_path.read_text().replace('name = "Wire"', 'name = "Wire"\ntags = ["wire", "agency"]')
    config_path.write_text(text)
    config = load_config(config_path)
    summary = run_once(config)
    # The wire story, the hostile one, our reporter's and the extension are kept; the copy dropped.
    assert (summary.saved, summary.duplicate) == (4, 1), summary
    return Corpus(
        config_path=config_path,
        config=config,
        original_id=document_id(original),
        extended_id=document_id(extended),
        hostile_id=document_id(hostile),
        copy_feed=paper_feed,
        copy_link=copy,
        failing_feed=failing_feed,
    )


class ServedView:
    """The web view of a config's state on a free loopback port, served from a thread's loop."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._failure: BaseException | None = None
        self.port = 0
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    def start(self) -> ServedView:
        self._thread.start()
        self._ready.wait(10)
        if self._failure is not None:
            raise self._failure
        assert self.port, "the web view did not start"
        return self

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = WebServer(self._config, ListenAddress("127.0.0.1", 0))
        try:
            await server.start()
        except BaseException as exc:
            self._failure = exc
            self._ready.set()
            raise
        self.port = server.port
        self._ready.set()
        await self._stop.wait()
        await server.stop()


def explained_drop(corpus: Corpus) -> dict[str, Any]:
    """The corpus's one drop as `feedd explain --json` reports it: what the pair view must show."""
    explained = subprocess.run(
        [
            sys.executable,
            "-m",
            "feedd",
            "explain",
            corpus.original_id,
            "-c",
            str(corpus.config_path),
            "--json",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "250"},
        check=True,
    )
    (drop,) = json.loads(explained.stdout)["drops"]
    return dict(drop)
