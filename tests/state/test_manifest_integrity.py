"""The manifest never loses a line: a write cut short by a full disk is taken back at once (a
real short write: the process's file-size limit, RLIMIT_FSIZE, in a child process), the save is
finished by the next one while the process runs, and a manifest torn by an older feedd is
repaired line by line when the state opens."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

from conftest import manifest_entry
from feedd.state import NewDocument, State


def _document(n: int) -> NewDocument:
    return NewDocument(
        doc_id=f"{n:016x}",
        canonical_url=f"https://x.example/{n}",
        body_hash=str(n),
        text=f"Story {n}\n\nIts text.\n",
        filename_date=datetime(2024, 1, 1, tzinfo=UTC),
        feed_url="https://x.example/feed",
        entry_key=str(n),
        entry_link=None,
        manifest=manifest_entry(f"Story {n}"),
    )


def _seqs(manifest: Path) -> list[int]:
    return [json.loads(line)["seq"] for line in manifest.read_text().splitlines()]


def test_a_manifest_torn_mid_file_is_repaired_when_the_state_opens(tmp_path: Path) -> None:
    with State(tmp_path / "db", tmp_path / "out", "{seq}_{id}.txt") as state:
        for n in range(4):
            state.documents.save(_document(n))
    manifest = tmp_path / "out" / "manifest.jsonl"
    lines = manifest.read_bytes().splitlines(keepends=True)
    # What an older feedd left after a full disk: line 1 torn, line 2 appended onto it.
    manifest.write_bytes(lines[0] + lines[1][:25] + lines[2] + lines[3])
    with State(tmp_path / "db", tmp_path / "out", "{seq}_{id}.txt"):
        pass
    assert _seqs(manifest) == [0, 1, 2, 3]
    assert manifest.read_bytes() == b"".join(lines)


_FULL_DISK = """
import json, resource, signal, sys
from pathlib import Path
sys.path[:0] = [{tests!r}]
from test_manifest_integrity import _document
from feedd.errors import DocumentWriteError
from feedd.state import State

folder = Path({folder!r})
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
manifest = folder / "out" / "manifest.jsonl"
result = {{}}
with State(folder / "db", folder / "out", "{{seq}}_{{id}}.txt") as state:
    state.documents.save(_document(0))
    # Make the manifest the largest file, then let it grow by 40 bytes only: the next line is
    # cut short, as on a full disk.
    with open(manifest, "a") as handle:
        handle.write("".join(json.dumps({{"seq": -n, "pad": "x" * 200}}) + "\\n" for n in range(1, 20000)))
    size = manifest.stat().st_size
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 40, hard))
    try:
        state.documents.save(_document(1))
        result["error"] = None
    except DocumentWriteError as exc:
        result["error"] = str(exc)
    result["size_after_failure"] = manifest.stat().st_size
    result["size_before"] = size
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    # Room again (the disk was cleaned up): the next save finishes the pending one first.
    state.documents.save(_document(2))
print(json.dumps(result))
"""


def test_a_line_cut_short_by_a_full_disk_is_taken_back_and_finished_by_the_next_save(tmp_path: Path) -> None:
    tests = str(Path(__file__).parent.parent)
    script = _FULL_DISK.format(tests=tests, folder=str(tmp_path))
    ran = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent,
    )
    assert ran.returncode == 0, ran.stderr
    result = json.loads(ran.stdout)
    manifest = tmp_path / "out" / "manifest.jsonl"
    # The failure names the file that failed, and leaves no torn line behind.
    assert result["error"] is not None and str(manifest) in result["error"]
    assert result["size_after_failure"] == result["size_before"]
    seqs = [seq for seq in _seqs(manifest) if seq >= 0]
    assert seqs == [0, 1, 2]
    assert all(line.startswith("{") and line.endswith("}") for line in manifest.read_text().splitlines())
