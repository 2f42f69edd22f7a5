"""Shared runs marked in the texts of a pair: the evidence counts runs in words of the dedup text
(feedd.dedup.Words: NFKC, case-folded, quotes folded), and the page shows the text as written;
this maps one onto the other and cuts the text into plain and marked segments."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from feedd.dedup import SharedRun, Words

#: A piece of text that makes at most one word: a run of letters and digits, or one other character.
_PIECE = re.compile(r"[^\W_]+|\S")

#: "gap": words of a dropped entry not shared, counted rather than shown (its text no longer kept).
Mark = Literal["", "shared", "quoted", "gap"]


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of text, plain or inside a shared run ("quoted": the run's words inside
    quotation marks, which count at the quote weight)."""

    text: str
    mark: Mark = ""
    #: The run's rank in the evidence (1: the longest), for marked segments.
    run: int | None = None


@dataclass(frozen=True, slots=True)
class Span:
    """Where the word lies in the text as written, and whether it sits inside quotation marks."""

    start: int
    end: int
    quoted: bool


def word_spans(text: str) -> list[Span] | None:
    """The character span of each of `Words.of(text)`'s words; None in the rare text whose pieces
    do not give the same words as the whole (a character that normalises across a boundary)."""
    expected = Words.of(text)
    spans: list[Span] = []
    for match in _PIECE.finditer(text):
        for _word in Words.of(match.group()).words:
            index = len(spans)
            if index >= len(expected.words):
                return None
            spans.append(Span(match.start(), match.end(), expected.quoted[index]))
    if len(spans) != len(expected.words):
        return None
    return spans


def marked(text: str, runs: Sequence[SharedRun], *, saved_side: bool) -> list[Segment] | None:
    """`text` cut into segments, the words of each run marked: runs start at `run.start` in the
    new document, at `run.other_start` in the saved one (`saved_side`). None when the words of
    the text cannot be placed (word_spans)."""
    spans = word_spans(text)
    if spans is None:
        return None
    owner: dict[int, int] = {}
    for rank, run in enumerate(runs, start=1):
        first = run.other_start if saved_side else run.start
        for position in range(first, min(first + run.length, len(spans))):
            owner.setdefault(position, rank)
    return _segments(text, spans, owner)


def run_segments(text: str, spans: list[Span], run: SharedRun, rank: int) -> list[Segment] | None:
    """A run's own words as the saved text writes them (punctuation between them included),
    quoted words marked apart: how the dropped entry's side shows it. `spans`: word_spans(text)."""
    if run.other_start + run.length > len(spans):
        return None
    inside = spans[run.other_start : run.other_start + run.length]
    base = inside[0].start
    shifted = [Span(span.start - base, span.end - base, span.quoted) for span in inside]
    return _segments(text[base : inside[-1].end], shifted, dict.fromkeys(range(len(shifted)), rank))


def _segments(text: str, spans: list[Span], owner: dict[int, int]) -> list[Segment]:
    """Plain text between marked stretches; a stretch is consecutive words of one run with the
    same quoting (what lies between two of its words belongs to it)."""
    segments: list[Segment] = []
    cursor = 0
    position = 0
    while position < len(spans):
        rank = owner.get(position)
        if rank is None:
            position += 1
            continue
        quoted = spans[position].quoted
        last = position
        while last + 1 < len(spans) and owner.get(last + 1) == rank and spans[last + 1].quoted == quoted:
            last += 1
        start, end = spans[position].start, spans[last].end
        if start > cursor:
            segments.append(Segment(text[cursor:start]))
        segments.append(Segment(text[start:end], "quoted" if quoted else "shared", rank))
        cursor = end
        position = last + 1
    if cursor < len(text):
        segments.append(Segment(text[cursor:]))
    return segments
