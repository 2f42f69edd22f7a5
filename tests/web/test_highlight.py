"""Shared runs placed in the text as written: the evidence counts words of the normalised dedup
text, the page marks characters of the original."""

from __future__ import annotations

from feedd.dedup import SharedRun, Words, compare
from feedd.web import marked, word_spans
from feedd.web.highlight import run_segments


def test_word_spans_follow_normalisation_quotes_and_punctuation() -> None:
    text = "Ｆｕｌｌ-width “Quoted words,” she said; don't\nMAẞE ﬁnal"
    spans = word_spans(text)
    assert spans is not None
    assert [text[span.start : span.end] for span in spans] == [
        "Ｆｕｌｌ",
        "width",
        "Quoted",
        "words",
        "she",
        "said",
        "don",
        "t",
        "MAẞE",
        "ﬁnal",
    ]
    assert tuple(span.quoted for span in spans) == Words.of(text).quoted
    assert [span.quoted for span in spans][:4] == [False, False, True, True]


def test_a_run_is_marked_in_both_texts_and_its_quoted_words_apart() -> None:
    saved = (
        'Intro words here. The council voted on Tuesday to "close the old bridge for good" after the storm.'
    )
    new = 'Different start. The council voted on Tuesday to "close the old bridge for good" after the storm!'
    evidence = compare(Words.of(new), Words.of(saved))
    (run,) = evidence.runs
    for text, saved_side in ((saved, True), (new, False)):
        segments = marked(text, evidence.runs, saved_side=saved_side)
        assert segments is not None and "".join(s.text for s in segments) == text
        shown = [(s.mark, s.text) for s in segments if s.mark]
        assert shown == [
            ("shared", "The council voted on Tuesday to"),
            ("quoted", "close the old bridge for good"),
            ("shared", "after the storm"),
        ]
    spans = word_spans(saved)
    assert spans is not None
    pieces = run_segments(saved, spans, run, 1)
    assert pieces is not None and "".join(p.text for p in pieces) == (
        'The council voted on Tuesday to "close the old bridge for good" after the storm'
    )


def test_runs_past_the_text_are_cut_at_its_end() -> None:
    segments = marked("one two three", [SharedRun(1, 1, 9, 0, "two three")], saved_side=True)
    assert segments is not None and [(s.mark, s.text) for s in segments] == [
        ("", "one "),
        ("shared", "two three"),
    ]
