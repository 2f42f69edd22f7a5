"""Copy or independent write-up: the verification of a near-duplicate candidate.

MinHash LSH proposes candidates; the decision is taken on evidence of shared runs rather than one
overlap figure. A copy (a trimmed or rewritten wire story, a brief of a saved story) shares runs
of its own prose with the original; an independent write-up of the same event shares quoted
speech, names and numbers, a sentence of background. The evidence is measured on the new
document: its words inside runs of at least `run_words` words found in the saved one, where words
inside quotation marks, and lines of quoted material (QUOTED_LINE: an embedded post, a pull quote,
a listing), weigh `quote_weight` (a shared quote is weak evidence), both in the shared words and
in the total. The same runs also say how much of the saved document the new one
contains (`saved_share`): a new document that holds a saved one and adds text of its own extends
it. How the defaults were measured: docs/dedup.md.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from feedd.dedup.text import fold_quotes_and_dashes

#: A word, or a double quotation mark (every style folded to '"' first).
_TOKEN = re.compile(r'[^\W_]+|"')
#: Opens each line of quoted material in a dedup text (feedd.dedup.records.dedup_text): every
#: word of the line is quoted. Punctuation, so shingles and hashes do not see it.
QUOTED_LINE = "> "
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
        and closes only the last, and a stray mark must not turn the rest of the text into a quote.
        A line of quoted material is quoted whole, whatever marks it holds."""
        text = fold_quotes_and_dashes(unicodedata.normalize("NFKC", text).casefold())
        words: list[str] = []
        quoted: list[bool] = []
        for paragraph in text.split("\n"):
            if paragraph.startswith(QUOTED_LINE):
                line = [token for token in _TOKEN.findall(paragraph) if token != '"']
                words += line
                quoted += [True] * len(line)
                continue
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
    """A run of consecutive words of the new text that the saved text also has."""

    #: Word offset in the new text, and in the saved one (where the run lines up there).
    start: int
    other_start: int
    length: int
    #: Of which inside quotation marks.
    quoted: int
    #: The run's words, shortened in the middle when long.
    excerpt: str


@dataclass(frozen=True, slots=True)
class Coverage:
    """The new text against every saved document verified with it, their runs together: how a
    roll-up of several saved briefs is found to say nothing new. The decision reads this."""

    #: Weighted share of the new text inside runs found in any of them.
    share: float
    #: Words of the new text inside none of those runs: what it says of its own.
    own_words: int
    #: The saved documents whose runs count here, the most copied from first.
    documents: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a candidate is, or is not, a copy: what `feedd explain` shows."""

    #: Weighted share of the measured text inside runs found in the other.
    copied_share: float
    #: Whose words the runs count: the new document's. ("saved" only in records made before
    #: issue 16, when the shorter of the two was measured.)
    measured: Literal["new", "saved"]
    words: int
    quoted_words: int
    shared_words: int
    #: Shared words inside quotation marks: counted at the quote weight.
    shared_quoted_words: int
    run_count: int
    #: The longest runs, longest first.
    runs: tuple[SharedRun, ...]
    quote_weight: float
    #: Weighted share of the saved document's text that the same runs cover: how much of it the
    #: new one contains (None in records made before issue 16).
    saved_share: float | None = None
    saved_words: int | None = None
    #: The new document against all the saved ones verified with it (on the deciding match).
    coverage: Coverage | None = None

    @property
    def pair_share(self) -> float:
        """The share of whichever text is shorter inside the runs: how alike the two are as a
        pair, whichever came first (what the judged pairs are scored on)."""
        return max(self.copied_share, self.saved_share or 0.0)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evidence:
        data = dict(data)
        if "shorter" in data:  # a record made before issue 16
            data["measured"] = data.pop("shorter")
        coverage = data.get("coverage")
        return cls(
            **{
                **data,
                "runs": tuple(SharedRun(**run) for run in data["runs"]),
                "coverage": Coverage(**{**coverage, "documents": tuple(coverage["documents"])})
                if coverage
                else None,
            }
        )

    def with_coverage(self, coverage: Coverage) -> Evidence:
        return replace(self, coverage=coverage)

    def summary(self, new: str = "the new document", saved: str = "the saved document") -> str:
        """One line; `new` and `saved` name the two documents as the reader knows them."""
        longest = self.runs[0].length if self.runs else 0
        line = (
            f"{self.copied_share:.0%} of {new if self.measured == 'new' else saved}'s text "
            f"in {self.run_count} shared run(s) of words, longest {longest}; "
            f"{self.shared_quoted_words} of the {self.shared_words} shared words are inside "
            f"quotation marks and count {self.quote_weight:g}"
        )
        if self.saved_share is not None:
            line += f"; they hold {self.saved_share:.0%} of {saved}'s text"
        return line


def _grams(words: tuple[str, ...], n: int) -> list[tuple[str, ...]]:
    return list(zip(*(words[i:] for i in range(n)), strict=False))


def shared_runs(new: Words, saved: Words, run_words: int) -> list[SharedRun]:
    """Every run of at least `run_words` words of the new text that the saved text also has, in
    the new text's order (they never overlap there)."""
    n = run_words
    first_seen: dict[tuple[str, ...], int] = {}
    repeated: dict[tuple[str, ...], set[int]] = {}  # every place of a gram seen more than once
    for position, gram in enumerate(_grams(saved.words, n)):
        earliest = first_seen.setdefault(gram, position)
        if earliest != position:
            repeated.setdefault(gram, {earliest}).add(position)
    # A run lines up with one stretch of the saved text: consecutive grams found at consecutive
    # places there. Two passages copied from different places are two runs, even where they touch.
    runs: list[SharedRun] = []
    first = last = -1
    starts: list[int] = []  # where the run's first word can sit in the saved text
    for position, gram in enumerate(_grams(new.words, n)):
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
            runs.append(_run(new, first, min(last + n, position), min(starts)))
        first = last = position
        # A text that repeats itself (a live blog, a results table) has a gram in many places:
        # following the earliest few keeps the work linear; the share covered is the same.
        starts = sorted(found)[:_MAX_ALIGNMENTS]
    if starts:
        runs.append(_run(new, first, last + n, min(starts)))
    return runs


def covered(length: int, spans: Iterable[tuple[int, int]]) -> bytearray:
    """A mask of `length` words, set over each (start, length) span."""
    mask = bytearray(length)
    for start, size in spans:
        mask[start : start + size] = b"\x01" * size
    return mask


def weighted_share(text: Words, mask: bytearray, quote_weight: float) -> float:
    """The share of `text` under `mask`, words inside quotation marks counting `quote_weight`."""
    quoted = text.quoted
    total = shared = 0.0
    for position, inside in enumerate(quoted):
        weight = quote_weight if inside else 1.0
        total += weight
        if mask[position]:
            shared += weight
    return round(shared / total, 4) if total else 0.0


def compare(new: Words, saved: Words, params: VerifyParams = VerifyParams()) -> Evidence:
    """The shared runs of the new text found in the saved one, and the share of each they cover."""
    return evidence_of(new, saved, shared_runs(new, saved, params.run_words), params)


def evidence_of(new: Words, saved: Words, runs: list[SharedRun], params: VerifyParams) -> Evidence:
    """The evidence of `runs` (shared_runs of `new` in `saved`)."""
    weight = params.quote_weight
    new_mask = covered(len(new), ((run.start, run.length) for run in runs))
    saved_mask = covered(len(saved), ((run.other_start, run.length) for run in runs))
    ranked = sorted(runs, key=lambda run: -run.length)
    return Evidence(
        copied_share=weighted_share(new, new_mask, weight),
        measured="new",
        words=len(new),
        quoted_words=sum(new.quoted),
        shared_words=sum(run.length for run in runs),
        shared_quoted_words=sum(run.quoted for run in runs),
        run_count=len(runs),
        runs=tuple(ranked[:MAX_RUNS_KEPT]),
        quote_weight=weight,
        saved_share=weighted_share(saved, saved_mask, weight),
        saved_words=len(saved),
    )


def _run(text: Words, start: int, end: int, other_start: int) -> SharedRun:
    words = text.words[start:end]
    if len(words) > 2 * _EXCERPT_WORDS + 1:
        excerpt = " ".join((*words[:_EXCERPT_WORDS], "...", *words[-_EXCERPT_WORDS:]))
    else:
        excerpt = " ".join(words)
    return SharedRun(start, other_start, end - start, sum(text.quoted[start:end]), excerpt)
