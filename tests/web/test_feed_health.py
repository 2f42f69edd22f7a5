""" "Failing since": the state keeps when a feed's current run of failed polls began (schema 8),
for the feeds page and `feedd status --json`."""

from __future__ import annotations

import time
from pathlib import Path

from conftest import write_config
from feedd.config import load_config
from feedd.state import State, feed_statuses


def test_a_run_of_failures_keeps_its_start_until_a_poll_succeeds(tmp_path: Path) -> None:
    url = "https://news.example/feed.xml"
    config = load_config(write_config(tmp_path, [{"url": url}]))
    with State(config.database, config.output_dir, config.storage.filename) as state:
        state.feeds.record_poll(url, result="ok")
        state.feeds.record_poll(url, result="failed", error="HTTP 503")
    (first,) = feed_statuses(config)
    assert first.failing_since is not None and first.consecutive_errors == 1
    time.sleep(1.1)  # times are stored to the second
    with State(config.database, config.output_dir, config.storage.filename) as state:
        state.feeds.record_poll(url, result="failed", error="HTTP 503")
    (second,) = feed_statuses(config)
    assert second.failing_since == first.failing_since and second.consecutive_errors == 2
    with State(config.database, config.output_dir, config.storage.filename) as state:
        state.feeds.record_poll(url, result="ok")
    (healed,) = feed_statuses(config)
    assert healed.failing_since is None and healed.consecutive_errors == 0
