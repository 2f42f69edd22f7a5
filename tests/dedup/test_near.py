"""Near-duplicate detection's parts: fingerprints, the LSH index, verification, persistence."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from datasketch import MinHash

from conftest import manifest_entry, story
from feedd.dedup import (
    Evidence,
    Fingerprint,
    Fingerprinter,
    FingerprintRecord,
    NearIndex,
    NearParams,
    SavedFingerprint,
    Thresholds,
    Verifier,
    decide,
    fingerprinter,
    load_index,
    normalise_text,
    overlap,
)
from feedd.dedup.fingerprint import shingle_hashes
from feedd.state import NewDocument, State

PARAMS = NearParams()
TEXT = " ".join(story(1, paragraphs=6))
THRESHOLDS = Thresholds(jaccard=0.5, containment=0.8, min_shingles=30)


def test_minhash_is_datasketchs() -> None:
    fingerprint = fingerprinter(PARAMS).fingerprint(TEXT)
    ordered, unique = shingle_hashes(normalise_text(TEXT), PARAMS.shingle_words)
    reference = MinHash(num_perm=PARAMS.num_perm, seed=PARAMS.seed, hashfunc=int, scheme=PARAMS.scheme)
    reference.update_batch(ordered.tolist())
    assert np.array_equal(fingerprint.minhash, reference.hashvalues)
    assert np.array_equal(fingerprint.shingles, unique)
    # Each window is the MinHash of its own slice of the document.
    size = PARAMS.window_sizes[0]
    first_window = MinHash(num_perm=PARAMS.num_perm, seed=PARAMS.seed, hashfunc=int, scheme=PARAMS.scheme)
    first_window.update_batch(ordered[:size].tolist())
    assert np.array_equal(fingerprint.window_minhashes[0], first_window.hashvalues)


def test_shingles_ignore_case_punctuation_and_quote_style() -> None:
    a = fingerprinter(PARAMS).fingerprint("“Kim’s friend” — said PUTIN, on Tuesday in Moscow today.")
    b = fingerprinter(PARAMS).fingerprint('"kim\'s friend" - said putin on tuesday in moscow today')
    assert np.array_equal(a.shingles, b.shingles)


def test_batched_candidates_equal_minhashlsh_query() -> None:
    make = fingerprinter(PARAMS)
    index = NearIndex(PARAMS)
    documents = [make.fingerprint(" ".join(story(seed, paragraphs=5))) for seed in range(40)]
    for seq, fingerprint in enumerate(documents):
        index.add(seq, fingerprint.minhash, fingerprint.lead_minhash)
    probe = make.fingerprint(" ".join(story(3, paragraphs=5)[:2] + story(7, paragraphs=5)[2:]))
    expected: set[int] = set()
    for hashvalues in (probe.minhash, *probe.window_minhashes):
        expected.update(index.documents.query(index.sketch(hashvalues)))
    expected.update(index.leads.query(index.sketch(probe.minhash)))
    assert index.candidates(probe) == expected
    assert {3, 7} <= expected


def test_brief_inside_a_long_story_is_found_both_ways() -> None:
    make = fingerprinter(PARAMS)
    long_story = story(11, paragraphs=14)
    brief = make.fingerprint(" ".join(long_story[:2]))
    full = make.fingerprint(" ".join(long_story))
    assert overlap(brief.shingles, full.shingles).containment == 1.0
    assert overlap(brief.shingles, full.shingles).jaccard < 0.2
    for first, second in ((brief, full), (full, brief)):
        index = NearIndex(PARAMS)
        index.add(0, first.minhash, first.lead_minhash)
        assert index.candidates(second) == {0}


def test_both_verifications_find_a_trimmed_copy_but_not_a_teaser_or_another_story() -> None:
    make = fingerprinter(PARAMS)
    long_story = story(5, paragraphs=10)
    full = make.fingerprint("\n".join(long_story))
    saved = SavedFingerprint("full", full.shingles, FingerprintRecord.of(full).text)
    trimmed = make.fingerprint("\n".join(long_story[:3]))
    teaser = make.fingerprint(" ".join(long_story[0].split()[:12]))
    other = make.fingerprint("\n".join(story(6, paragraphs=10)))
    for method in ("shared-runs", "overlap"):
        thresholds = Thresholds(jaccard=0.5, containment=0.6, min_shingles=20, method=method)
        assert decide(trimmed, [saved], thresholds).duplicate_of, method  # contained
        assert not decide(teaser, [saved], thresholds).duplicate_of, method  # too short to count
        assert not decide(other, [saved], thresholds).duplicate_of, method
    evidence = Verifier(trimmed, Thresholds(0.5, 0.6, 20)).check(saved).evidence
    assert evidence is not None and evidence.copied_share == 1.0 and evidence.measured == "new"


def test_removal_keeps_the_index_consistent() -> None:
    make = fingerprinter(PARAMS)
    index = NearIndex(PARAMS)
    same = make.fingerprint(TEXT)
    index.add(1, same.minhash, same.lead_minhash)
    index.add(2, same.minhash, same.lead_minhash)  # identical sketches share every bucket
    assert index.candidates(same) == {1, 2}
    index.remove_many([1])
    assert index.candidates(same) == {2} and len(index) == 1
    index.remove_many([2, 99])
    assert index.candidates(same) == set() and len(index) == 0


def _save(store: State, seq_hint: int, make: Fingerprinter, text: str) -> None:
    store.documents.save(
        NewDocument(
            doc_id=f"{seq_hint:016x}",
            canonical_url=f"https://x.example/{seq_hint}",
            body_hash=str(seq_hint),
            text=text,
            filename_date=datetime(2024, 1, 1, tzinfo=UTC),
            feed_url="f",
            entry_key=str(seq_hint),
            entry_link=None,
            manifest=manifest_entry(),
            fingerprint=FingerprintRecord.of(make.fingerprint(text)),
        )
    )


def test_index_is_rebuilt_from_the_state_and_bounded_by_the_window(tmp_path: Path) -> None:
    make = fingerprinter(PARAMS)
    with State(tmp_path / "db", tmp_path / "out", "{seq}_{id}.txt") as store:
        for n in range(3):
            _save(store, n, make, " ".join(story(n, paragraphs=5)))
        store.db.connection.execute(
            "UPDATE fingerprints SET saved_at = '2000-01-01T00:00:00+00:00' WHERE seq = 0"
        )
        cutoff = datetime.now(UTC) - timedelta(days=30)
        index = load_index(store.fingerprints, PARAMS, cutoff)
        assert len(index) == 2
        assert index.candidates(make.fingerprint(" ".join(story(1, paragraphs=5)))) == {1}
        assert index.candidates(make.fingerprint(" ".join(story(0, paragraphs=5)))) == set()
        assert [row[0] for row in store.db.connection.execute("SELECT seq FROM fingerprints")] == [1, 2]


def test_changed_parameters_rebuild_the_signatures(tmp_path: Path) -> None:
    with State(tmp_path / "db", tmp_path / "out", "{seq}_{id}.txt") as store:
        old = NearParams(num_perm=32, bands=16, lead_bands=4, seed=7)
        load_index(store.fingerprints, old, datetime(1970, 1, 1, tzinfo=UTC))
        _save(store, 0, fingerprinter(old), TEXT)
        before = store.db.connection.execute("SELECT minhash FROM fingerprints").fetchone()[0]
        index = load_index(store.fingerprints, PARAMS, datetime(1970, 1, 1, tzinfo=UTC))
        after = store.db.connection.execute("SELECT minhash FROM fingerprints").fetchone()[0]
        assert len(after) == 2 * PARAMS.num_perm * 4 and after != before
        assert index.candidates(fingerprinter(PARAMS).fingerprint(TEXT)) == {0}
        assert store.fingerprints.parameters() == PARAMS.recorded()


def test_a_long_lived_local_index_evicts_expired_fingerprints(tmp_path: Path) -> None:
    from feedd.dedup import Candidate, LocalIndex

    with State(tmp_path / "db", tmp_path / "out", "{seq}_{id}.txt") as store:
        backend = LocalIndex(store.documents, store.fingerprints, THRESHOLDS, window=timedelta(days=30))
        make = backend.fingerprinter
        assert make is not None
        saved = Candidate("https://x.example/0", "0", 500, make.fingerprint(TEXT))
        _save(store, 0, make, TEXT)
        asyncio.run(backend.commit(saved, f"{0:016x}", 0))
        retitled = Candidate("https://y.example/copy", "other", 500, make.fingerprint("Retitled. " + TEXT))
        match = asyncio.run(backend.check(retitled, "copy")).duplicate_of
        assert match is not None and match.reason == "near duplicate"
        store.db.connection.execute("UPDATE fingerprints SET saved_at = '2000-01-01T00:00:00+00:00'")
        assert asyncio.run(backend.evict(datetime.now(UTC) - timedelta(days=30))) == 1
        assert asyncio.run(backend.check(retitled, "copy")).duplicate_of is None
        assert store.db.connection.execute("SELECT COUNT(*) FROM fingerprints").fetchone()[0] == 0


def _saved(doc_id: str, fingerprint: Fingerprint) -> SavedFingerprint:
    return SavedFingerprint(doc_id, fingerprint.shingles, FingerprintRecord.of(fingerprint).text)


def test_the_evidence_is_taken_on_the_new_document_whichever_is_shorter() -> None:
    make = fingerprinter(PARAMS)
    full, teaser = story(21, paragraphs=10), story(21, paragraphs=10)[:2]
    thresholds = Thresholds(jaccard=0.5, containment=0.6, min_shingles=20)
    # The teaser after its story: all of its text is saved, a copy.
    verdict = decide(
        make.fingerprint("\n".join(teaser)), [_saved("full", make.fingerprint("\n".join(full)))], thresholds
    )
    assert verdict.duplicate_of is not None and verdict.duplicate_of.document_id == "full"
    # The story after its teaser: eight paragraphs of its own, kept; it extends the teaser.
    verdict = decide(
        make.fingerprint("\n".join(full)), [_saved("teaser", make.fingerprint("\n".join(teaser)))], thresholds
    )
    assert verdict.duplicate_of is None
    (extended,) = verdict.extends
    assert extended.document_id == "teaser" and extended.evidence is not None
    assert extended.evidence.saved_share == 1.0 and extended.evidence.copied_share == pytest.approx(
        0.2, abs=0.01
    )
    assert extended.evidence.coverage is not None and extended.evidence.coverage.own_words == 320


def test_the_runs_of_every_candidate_count_together() -> None:
    # A roll-up of three saved briefs: none holds more than a third of it, all three hold it all.
    make = fingerprinter(PARAMS)
    briefs = [story(30 + n, paragraphs=2) for n in range(3)]
    saved = [_saved(f"brief-{n}", make.fingerprint("\n".join(brief))) for n, brief in enumerate(briefs)]
    roll_up = make.fingerprint("\n".join(paragraph for brief in briefs for paragraph in brief))
    thresholds = Thresholds(jaccard=0.5, containment=0.6, min_shingles=20)
    verdict = decide(roll_up, saved, thresholds)
    assert verdict.duplicate_of is not None and verdict.duplicate_of.evidence is not None
    assert verdict.duplicate_of.evidence.copied_share < 0.34
    coverage = verdict.duplicate_of.evidence.coverage
    assert coverage is not None and coverage.share == 1.0 and coverage.own_words == 0
    assert sorted(coverage.documents) == ["brief-0", "brief-1", "brief-2"]
    # One brief alone leaves two thirds of it new: kept, extending that brief.
    alone = decide(roll_up, saved[:1], thresholds)
    assert alone.duplicate_of is None and [match.document_id for match in alone.extends] == ["brief-0"]


@pytest.mark.parametrize(("own_words", "copy"), [(40, True), (160, False)])
def test_words_of_its_own_decide_as_well_as_shares(own_words: int, copy: bool) -> None:
    # The same 400-word copy with a tail of its own: 40 words are a copy's, 160 are reporting
    # (over min_new_words), though 71% of the longer one is still copied.
    make = fingerprinter(PARAMS)
    original = story(40, paragraphs=10)
    tail = story(41, paragraphs=1, words=own_words)
    new = make.fingerprint("\n".join([*original, *tail]))
    thresholds = Thresholds(jaccard=0.5, containment=0.6, min_shingles=20, min_new_words=150)
    verdict = decide(new, [_saved("original", make.fingerprint("\n".join(original)))], thresholds)
    assert (verdict.duplicate_of is not None) is copy
    assert bool(verdict.extends) is not copy


def test_the_overlap_rule_is_direction_aware_too() -> None:
    make = fingerprinter(PARAMS)
    full, teaser = story(50, paragraphs=10), story(50, paragraphs=10)[:2]
    thresholds = Thresholds(jaccard=0.5, containment=0.6, min_shingles=20, method="overlap")
    saved_teaser = _saved("teaser", make.fingerprint("\n".join(teaser)))
    verdict = decide(make.fingerprint("\n".join(full)), [saved_teaser], thresholds)
    assert verdict.duplicate_of is None and [match.document_id for match in verdict.extends] == ["teaser"]
    saved_full = _saved("full", make.fingerprint("\n".join(full)))
    assert decide(make.fingerprint("\n".join(teaser)), [saved_full], thresholds).duplicate_of is not None


def test_evidence_recorded_before_issue_16_still_reads() -> None:
    # States keep the evidence of past drops as JSON; then it measured the shorter text.
    old = {
        "copied_share": 0.8,
        "shorter": "saved",
        "words": 100,
        "quoted_words": 0,
        "shared_words": 80,
        "shared_quoted_words": 0,
        "run_count": 1,
        "runs": [{"start": 0, "other_start": 5, "length": 80, "quoted": 0, "excerpt": "a ... b"}],
        "quote_weight": 0.25,
    }
    evidence = Evidence.from_dict(old)
    assert evidence.measured == "saved" and evidence.saved_share is None and evidence.coverage is None
    assert "80% of the saved document's text" in evidence.summary()


def test_a_restyled_copy_is_still_a_copy() -> None:
    # A word changed in every ten (a copy edit, a restyle) leaves no stretch of text of its own:
    # the scattered words outside the shared runs are not reporting, however many they add up to.
    make = fingerprinter(PARAMS)
    original = " ".join(story(60, paragraphs=40))  # 1,600 words
    words = original.split(" ")
    restyled = " ".join("altered" if n % 10 == 5 else word for n, word in enumerate(words))
    thresholds = Thresholds(jaccard=0.5, containment=0.6, min_shingles=20, min_new_words=150)
    verdict = decide(make.fingerprint(restyled), [_saved("original", make.fingerprint(original))], thresholds)
    assert verdict.duplicate_of is not None
    assert verdict.duplicate_of.evidence is not None and verdict.duplicate_of.evidence.coverage is not None
    assert verdict.duplicate_of.evidence.coverage.own_words == 0
