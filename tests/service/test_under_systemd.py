"""`feedd run` as systemd starts it: stderr is the journal (JOURNAL_STREAM names its device and
inode) and relative [storage] paths go to $STATE_DIRECTORY, not to the config's read-only folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import LoopbackServer, article_page, rss, story


def test_feedd_run_writes_to_the_journal_and_the_state_directory(
    server: LoopbackServer, tmp_path: Path
) -> None:
    page = server.add("/story", article_page("Harbour reopens", story(12)))
    feed = server.add(
        "/feed.xml",
        rss([{"title": "Harbour reopens", "link": page}]),
        headers={"Content-Type": "application/rss+xml"},
    )
    etc = tmp_path / "etc"
    etc.mkdir()
    config = etc / "feedd.toml"
    config.write_text(
        '[fetch]\nallow_private_networks = true\nhost_gap = "0s"\n[extract]\nworkers = 0\n'
        f'[[feeds]]\nurl = "{feed}"\nname = "Harbour"\n'
    )
    etc.chmod(0o555)  # as /etc/feedd under ProtectSystem: nothing may be written beside the config
    state = tmp_path / "var-lib-feedd"
    state.mkdir()
    journal = tmp_path / "journal"
    journal.touch()
    stat = os.stat(journal)
    env = {**os.environ, "JOURNAL_STREAM": f"{stat.st_dev}:{stat.st_ino}", "STATE_DIRECTORY": str(state)}
    with open(journal, "w") as stderr:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "feedd", "run", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=env,
        )
        try:
            deadline = time.monotonic() + 30
            while not list((state / "articles").glob("*.txt")):
                assert time.monotonic() < deadline, journal.read_text()
                time.sleep(0.2)
        finally:
            daemon.send_signal(signal.SIGTERM)
            assert daemon.wait(timeout=30) == 0
            etc.chmod(0o755)
    assert (state / "feedd.sqlite3").exists() and not list(etc.glob("*.sqlite3"))
    lines = journal.read_text().splitlines()
    assert lines and all(line.startswith("<") for line in lines), lines
    assert any(line.startswith("<6>INFO feedd: feed Harbour: ok, 1 new, 1 saved") for line in lines), lines
