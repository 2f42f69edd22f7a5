"""The documents search as SQLite runs it: a range of days read in the order the page lists
(never the whole range sorted), and a title's words each matched, in any order."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from feedd.state import State
from feedd.web.queries import DocumentSearch, search_query


def _plan(folder: Path, search: DocumentSearch) -> str:
    query, parameters = search_query(search, offset=0, limit=51)
    with State(folder / "state.sqlite3", folder / "out", "{seq}_{id}.txt") as state:
        rows = state.db.connection.execute(f"EXPLAIN QUERY PLAN {query}", parameters).fetchall()
    return " | ".join(str(row["detail"]) for row in rows)


def test_a_range_of_days_is_read_in_page_order(tmp_path: Path) -> None:
    for search in (
        DocumentSearch(since=date(2020, 1, 1), until=date(2026, 12, 31)),
        DocumentSearch(since=date(2020, 1, 1)),
        DocumentSearch(until=date(2026, 12, 31), title="storm", tag="wire"),
    ):
        plan = _plan(tmp_path, search)
        assert "TEMP B-TREE" not in plan and "documents_saved_at" not in plan, (search, plan)


def test_every_word_of_a_title_search_is_a_term() -> None:
    query, parameters = search_query(DocumentSearch(title="  full   story "), offset=0, limit=51)
    assert query.count("json_extract(manifest_line, '$.title') LIKE") == 2
    # Each word twice: over the stored line (cheap), then over the title itself.
    assert parameters.count("%full%") == 2 and parameters.count("%story%") == 2
