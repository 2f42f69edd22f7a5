"""Copy or independent write-up: the shared-runs verification, its evidence, and `feedd explain`.

testdata/verify holds a made-up wire story, a write-through that keeps its tail paragraphs under a
new lead (a copy at word-5-gram containment 0.53, under the single threshold of 0.6), and an
outlet's own brief around the story's long quote (not a copy, at containment 0.48).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import LoopbackServer, article_page, rss, write_config
from feedd import load_config, run_once
from feedd.dedup import (
    Evidence,
    Fingerprint,
    FingerprintRecord,
    NearParams,
    SavedFingerprint,
    Thresholds,
    VerifyParams,
    Words,
    compare,
    decide,
    fingerprinter,
    overlap,
)
from feedd.errors import ConfigError

TESTDATA = Path(__file__).parent / "testdata" / "verify"


def _text(name: str) -> str:
    return (TESTDATA / f"{name}.txt").read_text(encoding="utf-8")


def test_words_know_what_is_quoted_in_every_quotation_style() -> None:
    words = Words.of('He said “Stop the vote” and «left», then "came back"')
    assert words.words == ("he", "said", "stop", "the", "vote", "and", "left", "then", "came", "back")
    assert [w for w, quoted in zip(words.words, words.quoted, strict=True) if quoted] == [
        "stop",
        "the",
        "vote",
        "left",
        "came",
        "back",
    ]


def test_a_quote_left_open_ends_with_its_paragraph() -> None:
    # News style: every paragraph of a long quote opens with a mark, only the last one closes.
    words = Words.of('"We will rebuild.\n"It will take years," she said.\nThe mayor agreed.')
    assert words.quoted == (True,) * 7 + (False,) * 5


def test_shared_runs_cover_the_new_text_with_offsets_in_both() -> None:
    saved = Words.of("one two three four five six seven eight nine ten eleven twelve")
    new = Words.of("alpha beta three four five six gamma nine ten eleven twelve")
    evidence = compare(new, saved)
    assert evidence.measured == "new" and evidence.words == 11
    assert (evidence.saved_words, evidence.saved_share) == (12, pytest.approx(8 / 12, abs=1e-4))
    assert [(run.start, run.other_start, run.length) for run in evidence.runs] == [(2, 2, 4), (7, 8, 4)]
    assert evidence.shared_words == 8 and evidence.copied_share == pytest.approx(8 / 11, abs=1e-4)
    # Three words in common are not a run.
    assert compare(Words.of("x y three four five z"), saved).run_count == 0


def test_quoted_words_count_at_the_quote_weight() -> None:
    saved = Words.of('The minister said "we will build the bridge next spring" at the harbour.')
    new = Words.of('Residents cheered. "We will build the bridge next spring," the minister said.')
    evidence = compare(new, saved, VerifyParams(run_words=4, quote_weight=0.25))
    assert (evidence.shared_words, evidence.shared_quoted_words) == (7, 7)
    prose = evidence.words - evidence.quoted_words
    assert evidence.copied_share == pytest.approx(7 * 0.25 / (prose + 7 * 0.25), abs=1e-4)
    assert compare(new, saved, VerifyParams(quote_weight=1.0)).copied_share == pytest.approx(7 / 12, abs=1e-4)


def test_evidence_survives_its_json_round_trip() -> None:
    evidence = compare(Words.of(_text("write_through")), Words.of(_text("original")))
    assert Evidence.from_dict(json.loads(evidence.to_json())) == evidence


def test_the_write_through_shares_two_runs_copied_from_two_places() -> None:
    """Derived by hand from the fixtures, counting words as Words.of does (a title line first;
    "900,000", "year-round", "line's" and "island's" are two words each).

    original.txt (294 words): title 7, then paragraphs of 25, 29, 36, 22, 27, 26 ("Firefighters
    on board ..."), 32, and the four closing paragraphs ("The Nordlys Star, built in 1998 ..." to
    "... once it was moored.") of 24 + 22 + 23 + 21 = 90 words. So "Firefighters" starts at
    7 + 25 + 29 + 36 + 22 + 27 = 146 and "The Nordlys Star" at 146 + 26 + 32 = 204, and only 90
    words follow it.

    write_through.txt (209 words): title 9, new paragraphs of 31, 25 and 28 (11 of them quoted),
    then the original's four closing paragraphs at 9 + 31 + 25 + 28 = 93, then "Firefighters ..."
    (26 words) at 93 + 90 = 183. The two passages touch in the write-through but come from two
    places in the original: two runs, 90 words at 93 / 204 and 26 at 183 / 146.

    Copied share: 116 shared words, none quoted, over 209 - 11 words of prose plus 11 quoted
    words at 0.25: 116 / 200.75 = 0.5778."""
    evidence = compare(Words.of(_text("write_through")), Words.of(_text("original")))
    assert evidence.measured == "new"
    assert (evidence.words, evidence.quoted_words) == (209, 11)
    assert (evidence.shared_words, evidence.shared_quoted_words) == (116, 0)
    assert [(run.start, run.other_start, run.length) for run in evidence.runs] == [
        (93, 204, 90),
        (183, 146, 26),
    ]
    assert evidence.copied_share == pytest.approx(116 / 200.75, abs=1e-4)
    words, original = Words.of(_text("write_through")).words, Words.of(_text("original")).words
    for run in evidence.runs:
        assert (
            words[run.start : run.start + run.length]
            == original[run.other_start : run.other_start + run.length]
        )


def test_runs_that_touch_but_come_from_two_places_stay_two_runs() -> None:
    saved = Words.of("a1 a2 a3 a4 a5 a6 b1 b2 b3 b4 b5 c1 c2 c3 c4 c5 c6")
    new = Words.of("c1 c2 c3 c4 c5 a1 a2 a3 a4 a5")
    evidence = compare(new, saved)
    assert [(run.start, run.other_start, run.length) for run in evidence.runs] == [(0, 11, 5), (5, 0, 5)]
    assert evidence.shared_words == 10 and evidence.run_count == 2


def test_long_runs_are_shortened_in_the_middle() -> None:
    text = " ".join(f"w{n}" for n in range(40))
    (run,) = compare(Words.of(text), Words.of(text)).runs
    assert run.length == 40 and run.excerpt == "w0 w1 w2 w3 w4 w5 w6 w7 ... w32 w33 w34 w35 w36 w37 w38 w39"


@pytest.mark.parametrize("method", ["shared-runs", "overlap"])
def test_write_through_and_quoting_brief(method: str) -> None:
    """Shared runs find the write-through that the single containment threshold misses, and keep
    the brief built around a quote apart, where a threshold low enough for the write-through
    would merge it."""
    make = fingerprinter(NearParams())
    original = make.fingerprint(_text("original"))
    saved = SavedFingerprint("original", original.shingles, FingerprintRecord.of(original).text)
    write_through = make.fingerprint(_text("write_through"))
    brief = make.fingerprint(_text("independent"))
    assert overlap(write_through.shingles, original.shingles).containment < 0.6
    assert overlap(brief.shingles, original.shingles).containment > 0.45
    thresholds = Thresholds(jaccard=0.5, containment=0.6, min_shingles=20, method=method)
    found = _copies(write_through, saved, thresholds)
    assert found is (method == "shared-runs")
    assert not _copies(brief, saved, thresholds)
    if method == "overlap":  # low enough for the write-through, and the brief is merged
        lowered = Thresholds(jaccard=0.5, containment=0.45, min_shingles=20, method=method)
        assert _copies(write_through, saved, lowered)
        assert _copies(brief, saved, lowered)
    else:
        nearest = decide(brief, [saved], thresholds).nearest
        assert nearest is not None and nearest.evidence is not None
        assert nearest.evidence.shared_quoted_words >= 24


def test_saved_texts_without_quotation_marks_are_still_verified() -> None:
    """States written before the text was kept as given hold it normalised (no quotes, no
    paragraphs): the write-through is still found."""
    make = fingerprinter(NearParams())
    original = make.fingerprint(_text("original"))
    from feedd.dedup import normalise_text

    old_style = Fingerprint(
        original.shingles,
        original.minhash,
        original.lead_minhash,
        original.window_minhashes,
        normalise_text(original.text),
    )
    saved = SavedFingerprint("original", old_style.shingles, FingerprintRecord.of(old_style).text)
    assert _copies(
        make.fingerprint(_text("write_through")), saved, Thresholds(0.5, 0.6, 20, copied_share=0.55)
    )


def _copies(new: Fingerprint, saved: SavedFingerprint, thresholds: Thresholds) -> bool:
    return decide(new, [saved], thresholds).duplicate_of is not None


def _serve(server: LoopbackServer, names: list[str], feed: str) -> str:
    items = []
    for name in names:
        title, *paragraphs = _text(name).splitlines()
        url = server.add(f"/{feed}/{name}", article_page(title, paragraphs))
        items.append({"title": title, "link": url, "guid": f"{feed}-{name}"})
    return server.add(f"/{feed}.xml", rss(items), headers={"Content-Type": "application/rss+xml"})


def _explain(config_path: Path, ident: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "feedd", "explain", ident, "-c", str(config_path)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "250"},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_run_once_drops_the_write_through_keeps_the_brief_and_explains_both(
    server: LoopbackServer, tmp_path: Path
) -> None:
    feeds = [{"url": _serve(server, ["original"], "wire")}, {"url": _serve(server, ["write_through"], "b")}]
    feeds.append({"url": _serve(server, ["independent"], "c")})
    # The write-through copies 58% of its text and adds 93 words: a copy by the defaults.
    config_path = write_config(tmp_path, feeds, extra="[dedup]\nlog_duplicates = true")
    summary = run_once(load_config(config_path))
    assert (summary.saved, summary.duplicate) == (2, 1)
    (logged,) = [
        json.loads(line) for line in (tmp_path / "out" / "duplicates.jsonl").read_text().splitlines()
    ]
    # The runs, derived by hand in test_the_write_through_shares_two_runs_copied_from_two_places.
    assert logged["evidence"]["copied_share"] == pytest.approx(116 / 200.75, abs=1e-4)
    assert [(run["start"], run["other_start"], run["length"]) for run in logged["evidence"]["runs"]] == [
        (93, 204, 90),
        (183, 146, 26),
    ]

    dups = subprocess.run(
        [sys.executable, "-m", "feedd", "dups", "-c", str(config_path), "--json"],
        capture_output=True,
        text=True,
    )
    assert json.loads(dups.stdout)["evidence"]["run_count"] == 2

    dropped = _explain(config_path, server.url("/b/write_through"))
    assert "near duplicate of " in dropped
    assert "58% of the dropped entry's text in 2 shared run(s) of words, longest 90" in dropped
    assert '90 words at 93 / 204: "the nordlys star built in 1998 passed its ... ' in dropped
    assert '26 words at 183 / 146: "firefighters on board contained the blaze within an ... ' in dropped

    kept = _explain(config_path, server.url("/c/independent"))
    assert "Nearest saved document: " in kept and "an independent write-up" in kept
    assert "34% of this document's text in 1 shared run(s)" in kept
    assert "24 of the 36 shared words are inside quotation marks and count 0.25" in kept
    assert '36 words, 24 quoted at 23 / 61: "the crew followed the evacuation drill' in kept


def test_a_wrong_verification_is_named_with_its_line(tmp_path: Path) -> None:
    config_path = write_config(
        tmp_path, [{"url": "https://example.org/feed.xml"}], extra='[dedup]\nverification = "fuzzy"'
    )
    with pytest.raises(ConfigError, match=r"feedd.toml:12: dedup.verification: .*'shared-runs' or 'overlap'"):
        load_config(config_path)


def test_the_overlap_rule_is_still_available(server: LoopbackServer, tmp_path: Path) -> None:
    feeds = [{"url": _serve(server, ["original"], "wire")}, {"url": _serve(server, ["write_through"], "b")}]
    config_path = write_config(tmp_path, feeds, extra='[dedup]\nverification = "overlap"')
    summary = run_once(load_config(config_path))
    assert (summary.saved, summary.duplicate) == (2, 0)
