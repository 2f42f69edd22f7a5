"""Prometheus metrics for `feedd run` ([metrics] listen): polls, documents, duplicates, fetch
latency, feeds in error."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app

from feedd.errors import ConfigError
from feedd.pipeline import FeedReport
from feedd.service.health import Health


class Metrics:
    """The daemon's counters, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._server: WSGIServer | None = None
        self.polls = Counter("feedd_polls", "Feed polls by result", ["result"], registry=self.registry)
        self.saved = Counter("feedd_documents_saved", "Documents saved", registry=self.registry)
        self.dropped = Counter(
            "feedd_duplicates_dropped", "Entries dropped as duplicates", registry=self.registry
        )
        self.failed = Counter(
            "feedd_entries_failed", "Entries that yielded no document", registry=self.registry
        )
        self.fetch_seconds = Histogram(
            "feedd_feed_fetch_seconds",
            "Time to fetch a feed document",
            buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=self.registry,
        )
        self.feeds_in_error = Gauge(
            "feedd_feeds_in_error", "Feeds whose last poll failed", registry=self.registry
        )

    def serve(self, host: str, port: int, health: Callable[[], Health] | None = None) -> None:
        """Expose /metrics (and /healthz, when given `health`) on `host` (an IPv6 address
        without brackets) and `port` from a background thread; ConfigError if it cannot listen
        there."""
        metrics = make_wsgi_app(self.registry)

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if environ.get("PATH_INFO") == "/healthz" and health is not None:
                found = health()
                body = json.dumps(found.as_dict()).encode()
                status = "200 OK" if found.healthy else "503 Service Unavailable"
                start_response(
                    status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
                )
                return [body]
            return metrics(environ, start_response)  # type: ignore[no-any-return]

        server_class = _IPv6Server if ":" in host else _IPv4Server
        try:
            self._server = make_server(host, port, app, server_class, _QuietHandler)
        except OSError as exc:  # socket.gaierror too: a host name that does not resolve
            shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            raise ConfigError(f"metrics.listen: cannot serve metrics on {shown}: {exc}") from None
        threading.Thread(target=self._server.serve_forever, daemon=True, name="metrics").start()

    def close(self) -> None:
        """Stop serving /metrics and free the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def observe(self, report: FeedReport) -> None:
        self.polls.labels(report.result).inc()
        self.saved.inc(report.saved)
        self.dropped.inc(report.duplicate)
        self.failed.inc(report.failed)
        if report.fetch_seconds is not None:
            self.fetch_seconds.observe(report.fetch_seconds)


class _IPv4Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _IPv6Server(_IPv4Server):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        """Scrapes are not news: no line per request on stderr."""
