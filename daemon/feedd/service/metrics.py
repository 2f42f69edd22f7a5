"""Prometheus metrics for `feedd run` ([metrics] listen): polls, documents, duplicates, fetch
latency, feeds in error."""

from __future__ import annotations

from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from feedd.errors import ConfigError
from feedd.pipeline import FeedReport


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

    def serve(self, host: str, port: int) -> None:
        """Expose /metrics on `host` (an IPv6 address without brackets) and `port` from a
        background thread; ConfigError if it cannot listen there."""
        try:
            self._server, _ = start_http_server(port, addr=host, registry=self.registry)
        except OSError as exc:  # socket.gaierror too: a host name that does not resolve
            shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            raise ConfigError(f"metrics.listen: cannot serve metrics on {shown}: {exc}") from None

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
