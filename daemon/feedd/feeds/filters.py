"""Per-feed entry filters: `include` and `exclude` regular expressions over an entry's title, link
and summary, applied before its page is fetched (Miniflux's keep and block rules).

An entry matching any `exclude` pattern is skipped; when there are `include` patterns, an entry
matching none of them is skipped too. Patterns are Python regular expressions searched anywhere
in the text, case-sensitive unless they say `(?i)`. Skipped entries are not recorded, so a
changed filter applies to entries the feed still carries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from typing import TYPE_CHECKING

from feedd.feeds.records import Entry

if TYPE_CHECKING:
    from feedd.config import FeedConfig

_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True, slots=True)
class EntryFilter:
    include: tuple[re.Pattern[str], ...] = ()
    exclude: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def for_feed(cls, feed: FeedConfig) -> EntryFilter:
        return cls(tuple(map(re.compile, feed.include)), tuple(map(re.compile, feed.exclude)))

    def __bool__(self) -> bool:
        return bool(self.include or self.exclude)

    def skip_reason(self, entry: Entry) -> str | None:
        """Why the entry is skipped, or None when it is kept."""
        if not self:
            return None
        text = "\n".join((entry.title, entry.link or "", unescape(_TAG.sub(" ", entry.summary_html))))
        for pattern in self.exclude:
            if pattern.search(text):
                return f"matches exclude pattern {pattern.pattern!r}"
        if self.include and not any(pattern.search(text) for pattern in self.include):
            return "matches no include pattern"
        return None
