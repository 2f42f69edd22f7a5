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

#: Inline elements part no words ("Spon<b>sored</b>"); any other tag does ("<p>a</p><p>b</p>").
_INLINE_TAG = re.compile(
    r"</?(?:a|b|strong|em|i|u|s|span|small|big|mark|abbr|cite|code|kbd|var|dfn|tt|sub|sup|q|time|font"
    r"|bdi|bdo|wbr)\b[^>]*>",
    re.I,
)
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
        text = "\n".join((entry.title, entry.link or "", _readable(entry.summary_html)))
        for pattern in self.exclude:
            if pattern.search(text):
                return f"matches exclude pattern {pattern.pattern!r}"
        if self.include and not any(pattern.search(text) for pattern in self.include):
            return "matches no include pattern"
        return None


def _readable(html: str) -> str:
    """The summary as it reads: tags gone, whitespace collapsed, so a pattern matches the words a
    reader sees ("Sponsored by <a>Acme</a> Marine" is "Sponsored by Acme Marine")."""
    return " ".join(unescape(_TAG.sub(" ", _INLINE_TAG.sub("", html))).split())
