"""Entry filters: `include` and `exclude` patterns over an entry's title, link and summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedd.config import FeedConfig, parse_config
from feedd.errors import ConfigError
from feedd.feeds import Entry, EntryFilter


def _entry(title: str = "", link: str | None = None, summary: str = "", content: str = "") -> Entry:
    return Entry(
        key=link or title,
        guid=None,
        link=link,
        canonical_link=link,
        title=title,
        published=None,
        summary_html=summary,
        content_html=content,
        author=None,
    )


def _filter(include: list[str] | None = None, exclude: list[str] | None = None) -> EntryFilter:
    return EntryFilter.for_feed(
        FeedConfig(url="https://news.example/feed", include=include or [], exclude=exclude or [])
    )


def test_a_feed_without_patterns_keeps_everything() -> None:
    entry_filter = _filter()
    assert not entry_filter
    assert entry_filter.skip_reason(_entry("Sponsored: anything")) is None


def test_exclude_skips_an_entry_matching_any_pattern_and_names_it() -> None:
    entry_filter = _filter(exclude=["^Sponsored:", "live blog"])
    assert entry_filter
    assert (
        entry_filter.skip_reason(_entry("Sponsored: buy a boat")) == "matches exclude pattern '^Sponsored:'"
    )
    assert (
        entry_filter.skip_reason(_entry("Election night live blog")) == "matches exclude pattern 'live blog'"
    )
    assert entry_filter.skip_reason(_entry("Election results are in")) is None


def test_include_keeps_only_entries_matching_one_of_its_patterns() -> None:
    entry_filter = _filter(include=["election", "weather"])
    assert entry_filter.skip_reason(_entry("Today's weather")) is None
    assert entry_filter.skip_reason(_entry("A new weather station")) is None
    assert entry_filter.skip_reason(_entry("Budget approved")) == "matches no include pattern"


def test_exclude_wins_over_include() -> None:
    entry_filter = _filter(include=["election"], exclude=["live blog"])
    reason = entry_filter.skip_reason(_entry("election live blog"))
    assert reason == "matches exclude pattern 'live blog'"


def test_patterns_are_case_sensitive_unless_they_say_otherwise() -> None:
    assert (
        _filter(include=["election"]).skip_reason(_entry("Election results")) == "matches no include pattern"
    )
    assert _filter(include=["(?i)election"]).skip_reason(_entry("ELECTION results")) is None


def test_the_link_and_the_summary_text_are_searched_too() -> None:
    by_link = _filter(exclude=[r"/sport/"])
    assert by_link.skip_reason(_entry("Match report", link="https://news.example/sport/1")) is not None
    assert by_link.skip_reason(_entry("Match report", link="https://news.example/news/1")) is None
    by_summary = _filter(include=["harbour"])
    assert by_summary.skip_reason(_entry("Council meets", summary="<p>The <b>harbour</b> plan</p>")) is None


def test_the_summary_is_matched_as_text_without_tags_or_entities() -> None:
    entry = _entry("Weekly digest", summary="<p>Fish&amp;Chips</p><p>Salt&#x26;Vinegar</p>")
    assert _filter(exclude=["Fish&Chips"]).skip_reason(entry) is not None
    assert _filter(exclude=["Salt&Vinegar"]).skip_reason(entry) is not None
    # Markup is no longer there to match, and a tag does not join the words around it.
    assert _filter(exclude=["<p>", "&amp;", "p>", "ChipsSalt"]).skip_reason(entry) is None


def test_a_phrase_around_an_inline_element_matches_as_it_reads() -> None:
    entry = _entry("Boats", summary='<p>Sponsored by <a href="https://acme.example/">Acme</a> Marine</p>')
    assert _filter(exclude=["Sponsored by Acme Marine"]).skip_reason(entry) is not None
    # A word split by an inline element is one word; paragraphs stay apart.
    entry = _entry("Boats", summary="<p>Spon<wbr>so<b>red</b> content</p><p>Harbour news</p>")
    assert _filter(exclude=["Sponsored content Harbour"]).skip_reason(entry) is not None
    assert _filter(exclude=["contentHarbour"]).skip_reason(entry) is None


def test_the_entry_content_is_not_searched() -> None:
    entry = _entry("Council meets", summary="Short summary.", content="<p>Sponsored content inside</p>")
    assert _filter(exclude=["Sponsored"]).skip_reason(entry) is None


def test_title_link_and_summary_are_separate_lines() -> None:
    entry = _entry("Budget", link="https://news.example/a", summary="approved")
    # `^` anchors at the start of the title only, and `.` does not run from one part into the next.
    assert _filter(exclude=["^approved"]).skip_reason(entry) is None
    assert _filter(exclude=["Budget.*approved"]).skip_reason(entry) is None
    assert _filter(exclude=["(?m)^approved$"]).skip_reason(entry) is not None


def test_a_missing_link_is_not_an_error() -> None:
    assert _filter(include=["Budget"]).skip_reason(_entry("Budget", link=None)) is None


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ('include = ["(unclosed"]', "feeds[0].include: invalid regular expression '(unclosed'"),
        ('exclude = ["ok", "[z-a]"]', "feeds[0].exclude: invalid regular expression '[z-a]'"),
    ],
)
def test_an_invalid_pattern_is_refused_by_the_config_naming_its_line(option: str, message: str) -> None:
    text = f'[[feeds]]\nurl = "https://news.example/feed"\n{option}\n'
    with pytest.raises(ConfigError) as refused:
        parse_config(text, Path("feedd.toml"))
    assert str(refused.value).startswith(f"feedd.toml:3: {message}")
