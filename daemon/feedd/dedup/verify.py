"""Copy or independent write-up: the verification of a near-duplicate candidate.

MinHash LSH proposes candidates; the decision is taken here, on evidence of shared runs rather
than one overlap figure. A copy (a trimmed or rewritten wire story, a write-through, a brief pasted
into a roll-up) shares runs of its own prose with the original; an independent write-up of the
same event shares quoted speech, names and numbers, a sentence of background. So the evidence is
the share of the shorter text covered by runs of at least `run_words` words found in the other,
where words inside quotation marks weigh `quote_weight` (a shared quote is weak evidence), both
in the shared words and in the total. How the defaults were measured: docs/dedup.md.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import Any, Literal

from feedd.dedup.text import fold_quotes_and_dashes

#: A word, or a double quotation mark (every style folded to '"' first).
_TOKEN = re.compile(r'[^\W_]+|"')
#: Evidence keeps this many runs (the longest) for `feedd explain`.
MAX_RUNS_KEPT = 8
#: Places in the other text a run is followed at, at most (see compare).
_MAX_ALIGNMENTS = 16
#: Words of a run shown at each end of its excerpt.
_EXCERPT_WORDS = 8


@dataclass(frozen=True, slots=True)
class VerifyParams:
    """What makes a shared run, and how much a quoted word weighs."""

    run_words: int = 4
    quote_weight: float = 0.25


@dataclass(frozen=True, slots=True)
class Words:
    """A text as verification reads it: normalised words, and whether each sits inside quotes."""

    words: tuple[str, ...]
    quoted: tuple[bool, ...]

    @classmethod
    def of(cls, text: str) -> Words:
        """Quotes open and close per paragraph: news style opens every paragraph of a long quote
        and closes only the last, and a stray mark must not turn the rest of the text into a quote."""
        text = fold_quotes_and_dashes(unicodedata.normalize("NFKC", text).casefold())
        words: list[str] = []
        quoted: list[bool] = []
        for paragraph in text.split("\n"):
            inside = False
            for token in _TOKEN.findall(paragraph):
                if token == '"':
                    inside = not inside
                else:
                    words.append(token)
                    quoted.append(inside)
        return cls(tuple(words), tuple(quoted))

    def __len__(self) -> int:
        return len(self.words)


@dataclass(frozen=True, slots=True)
class SharedRun:
    """A run of consecutive words of the shorter text that the other text also has."""

    #: Word offset in the shorter text, and in the other (where the run lines up there).
    start: int
    other_start: int
    length: int
    #: Of which inside quotation marks.
    quoted: int
    #: The run's words, shortened in the middle when long.
    excerpt: str


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a candidate is, or is not, a copy: what `feedd explain` shows."""

    #: Weighted share of the shorter text inside shared runs: the figure the decision reads.
    copied_share: float
    #: Which document is the shorter one, whose words the runs count.
    shorter: Literal["new", "saved"]
    words: int
    quoted_words: int
    shared_words: int
    #: Shared words inside quotation marks: counted at the quote weight.
    shared_quoted_words: int
    run_count: int
    #: The longest runs, longest first.
    runs: tuple[SharedRun, ...]
    quote_weight: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evidence:
        return cls(**{**data, "runs": tuple(SharedRun(**run) for run in data["runs"])})

    def summary(self, new: str = "the new document", saved: str = "the saved document") -> str:
        """One line; `new` and `saved` name the two documents as the reader knows them."""
        longest = self.runs[0].length if self.runs else 0
        return (
            f"{self.copied_share:.0%} of {new if self.shorter == 'new' else saved}'s text "
            f"in {self.run_count} shared run(s) of words, longest {longest}; "
            f"{self.shared_quoted_words} of the {self.shared_words} shared words are inside "
            f"quotation marks and count {self.quote_weight:g}"
        )


def _grams(words: tuple[str, ...], n: int) -> list[tuple[str, ...]]:
    return list(zip(*(words[i:] for i in range(n)), strict=False))


def compare(new: Words, saved: Words, params: VerifyParams = VerifyParams()) -> Evidence:
    """The shared runs of the shorter of two texts, and the share of it they cover."""
    which: Literal["new", "saved"] = "new" if len(new) <= len(saved) else "saved"
    shorter, other = (new, saved) if which == "new" else (saved, new)
    n = params.run_words
    first_seen: dict[tuple[str, ...], int] = {}
    repeated: dict[tuple[str, ...], set[int]] = {}  # every place of a gram seen more than once
    for position, gram in enumerate(_grams(other.words, n)):
        earliest = first_seen.setdefault(gram, position)
        if earliest != position:
            repeated.setdefault(gram, {earliest}).add(position)
    # A run lines up with one stretch of the other text: consecutive grams found at consecutive
    # places there. Two passages copied from different places are two runs, even where they touch.
    runs: list[SharedRun] = []
    first = last = -1
    starts: list[int] = []  # where the run's first word can sit in the other text
    for position, gram in enumerate(_grams(shorter.words, n)):
        seen = first_seen.get(gram)
        if seen is None:
            continue
        found = repeated.get(gram) or {seen}
        if starts and last == position - 1:
            kept = [start for start in starts if position - first + start in found]
            if kept:
                starts, last = kept, position
                continue
        if starts:
            runs.append(_run(shorter, first, min(last + n, position), min(starts)))
        first = last = position
        # A text that repeats itself (a live blog, a results table) has a gram in many places:
        # following the earliest few keeps the work linear; the share covered is the same.
        starts = sorted(found)[:_MAX_ALIGNMENTS]
    if starts:
        runs.append(_run(shorter, first, last + n, min(starts)))
    weight = params.quote_weight
    quoted_words = sum(shorter.quoted)
    total = (len(shorter) - quoted_words) + weight * quoted_words
    shared_words = sum(run.length for run in runs)
    shared_quoted = sum(run.quoted for run in runs)
    weighted = (shared_words - shared_quoted) + weight * shared_quoted
    runs.sort(key=lambda run: -run.length)
    return Evidence(
        copied_share=round(weighted / total, 4) if total else 0.0,
        shorter=which,
        words=len(shorter),
        quoted_words=quoted_words,
        shared_words=shared_words,
        shared_quoted_words=shared_quoted,
        run_count=len(runs),
        runs=tuple(runs[:MAX_RUNS_KEPT]),
        quote_weight=weight,
    )


def _run(text: Words, start: int, end: int, other_start: int) -> SharedRun:
    words = text.words[start:end]
    if len(words) > 2 * _EXCERPT_WORDS + 1:
        excerpt = " ".join((*words[:_EXCERPT_WORDS], "...", *words[-_EXCERPT_WORDS:]))
    else:
        excerpt = " ".join(words)
    return SharedRun(start, other_start, end - start, sum(text.quoted[start:end]), excerpt)
