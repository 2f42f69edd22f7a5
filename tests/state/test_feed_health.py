""" "Failing since": the state keeps when a feed's current run of failed polls began (schema 8),
for the feeds page and `feedd status --json`."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from conftest import write_config
from feedd.config import load_config
from feedd.state import SCHEMA_VERSION, State, feed_statuses


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


def test_a_feed_failing_at_the_upgrade_to_schema_8_has_no_start_until_a_new_run(tmp_path: Path) -> None:
    url = "https://news.example/feed.xml"
    config = load_config(write_config(tmp_path, [{"url": url}]))
    with State(config.database, config.output_dir, config.storage.filename) as state:
        for _ in range(3):
            state.feeds.record_poll(url, result="failed", error="HTTP 503")
        # As a schema 7 state left it: three errors in a row, and no feed_failures table.
        state.db.connection.execute("DROP TABLE feed_failures")
        state.db.connection.execute("UPDATE meta SET value = '7' WHERE key = 'schema_version'")
    with State(config.database, config.output_dir, config.storage.filename) as state:
        assert state.db.meta("schema_version") == str(SCHEMA_VERSION)
        state.feeds.record_poll(url, result="failed", error="HTTP 503")
    (upgraded,) = feed_statuses(config)
    # The run began before the upgrade: its start is unknown, not the fourth error's time.
    assert upgraded.consecutive_errors == 4 and upgraded.failing_since is None
    with State(config.database, config.output_dir, config.storage.filename) as state:
        state.feeds.record_poll(url, result="ok")
        state.feeds.record_poll(url, result="failed", error="HTTP 503")
    (again,) = feed_statuses(config)
    assert again.consecutive_errors == 1 and again.failing_since is not None


def test_a_poll_is_recorded_whole_or_not_at_all(tmp_path: Path) -> None:
    """The feeds row and its feed_failures row are written in one transaction: a poll whose
    second write fails leaves neither."""
    url = "https://news.example/feed.xml"
    config = load_config(write_config(tmp_path, [{"url": url}]))
    with State(config.database, config.output_dir, config.storage.filename) as state:
        state.db.connection.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON feed_failures BEGIN SELECT RAISE(ABORT, 'full'); END"
        )
        with pytest.raises(sqlite3.Error, match="full"):
            state.feeds.record_poll(url, result="failed", error="HTTP 503")
        assert state.feeds.consecutive_errors(url) == 0
