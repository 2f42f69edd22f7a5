"""Benchmark: quoted material (embedded posts, pull quotes, listings) in duplicate detection, on
the real AEB and Fundus pages that carry some (issue 19).

    python bench/dedup_embeds.py

ECB+ and the AEB wire copies are plain text: no block of theirs is quoted, and
bench/dedup_eval.py cannot see this change. Here every page is extracted as in a poll (the page
alone, generic extraction); for each page with quoted blocks:

- an independent write-up sharing the material: the page's quoted blocks, in place, around own
  prose taken from another page of another site (50, 100 or 150 words of it: under 150 words of
  its own, min_new_words, only the copied share decides), arriving after the page;
- copies of the page: retitled; trimmed (the first 60% of its blocks); relead (the first
  paragraph dropped and a dateline added); extended (an update note added),

decided against the page at the shipped defaults, "before" with every block read as prose (the
dedup text as it was), "after" with the quoted blocks marked. Prints, per set and overall, the
write-ups kept apart and the copies caught, before -> after, and the copied share of the
write-ups. Needs ../shared/data.
"""

from __future__ import annotations

import gzip
import json
import statistics
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace

from extraction_aeb import AEB, page_alone
from extraction_fundus import _CONTENT_TYPE, DATA, FUNDUS

from feedd.config import DedupConfig
from feedd.dedup import (
    Candidate,
    FingerprintRecord,
    NearParams,
    SavedFingerprint,
    Thresholds,
    Verdict,
    decide,
    fingerprinter,
)
from feedd.extract import Article, Block, ExtractionFailure, try_extract
from feedd.feeds import registrable_domain

DEFAULTS = Thresholds.of(DedupConfig())
MAKE = fingerprinter(NearParams())
OWN_WORDS = (50, 100, 150)
COPY_KINDS = ("retitled", "trimmed", "relead", "extended")


@dataclass(frozen=True)
class Page:
    set: str
    name: str
    domain: str
    article: Article


def pages() -> Iterator[Page]:
    truth = json.loads((AEB / "ground-truth.json").read_text(encoding="utf-8"))
    for key, item in truth.items():
        html = gzip.decompress((AEB / "html" / f"{key}.html.gz").read_bytes())
        article = try_extract(page_alone(html, item["url"]))
        if isinstance(article, Article):
            yield Page("AEB", key[:10], registrable_domain(item["url"]), article)
    for pair in json.loads((FUNDUS / "INDEX_pairs.json").read_text(encoding="utf-8")):
        html = gzip.decompress((DATA / pair["html"]).read_bytes())
        article = try_extract(page_alone(html, pair["url"], _CONTENT_TYPE))
        if not isinstance(article, ExtractionFailure):
            yield Page("Fundus", pair["html"], registrable_domain(pair["url"]), article)


def as_prose(article: Article) -> Article:
    """The article as the dedup text read it before quoted material was marked."""
    return replace(article, blocks=tuple(replace(block, quoted=False) for block in article.blocks))


def _saved(article: Article) -> SavedFingerprint:
    fingerprint = Candidate.from_article(article, MAKE).fingerprint
    assert fingerprint is not None
    return SavedFingerprint(
        article.canonical_url, fingerprint.shingles, FingerprintRecord.of(fingerprint).text
    )


def verdict(new: Article, saved: Article) -> Verdict:
    fingerprint = Candidate.from_article(new, MAKE).fingerprint
    assert fingerprint is not None
    return decide(fingerprint, [_saved(saved)], DEFAULTS)


def own_prose(donor: Article, words: int) -> list[Block]:
    """Paragraphs of the donor's own prose, cut to `words` words."""
    blocks: list[Block] = []
    left = words
    for block in donor.blocks:
        if block.kind != "paragraph" or block.quoted or left <= 0:
            continue
        taken = block.text.split()[:left]
        blocks.append(Block("paragraph", text=" ".join(taken)))
        left -= len(taken)
    return blocks


def write_up(page: Article, donor: Article, words: int) -> Article:
    """Another outlet's story: the page's quoted blocks, each after a share of its own prose."""
    quoted = [block for block in page.blocks if block.quoted]
    prose = own_prose(donor, words)
    blocks: list[Block] = []
    for n, block in enumerate(quoted):
        blocks += prose[n * len(prose) // len(quoted) : (n + 1) * len(prose) // len(quoted)]
        blocks.append(block)
    blocks += prose[len(quoted) * len(prose) // len(quoted) :]
    return replace(
        page,
        title=donor.title,
        lead=None,
        url="https://other.example/",
        canonical_url="https://other.example/",
        blocks=tuple(blocks),
    )


def copy_of(page: Article, kind: str) -> Article:
    blocks = list(page.blocks)
    if kind == "trimmed":
        blocks = blocks[: max(1, round(len(blocks) * 0.6))]
    elif kind == "relead":
        first = next((i for i, b in enumerate(blocks) if b.kind == "paragraph" and not b.quoted), None)
        if first is not None:
            del blocks[first]
        blocks.insert(0, Block("paragraph", text="(AFP) —"))
    elif kind == "extended":
        blocks.append(Block("paragraph", text="This story has been updated with the mayor's response."))
    title = page.title if kind != "retitled" else f"{page.title}: what we know"
    url = f"https://copy.example/{kind}"
    return replace(page, title=title, url=url, canonical_url=url, blocks=tuple(blocks))


def main() -> None:
    if not AEB.exists() or not DATA.exists():
        raise SystemExit("../shared/data not found: the benchmark needs it beside the checkout")
    everything = list(pages())
    with_quoted = [p for p in everything if any(b.quoted for b in p.article.blocks)]
    print(f"{len(everything)} pages extracted, {len(with_quoted)} with quoted blocks")
    for name in ("AEB", "Fundus"):
        group = [p for p in with_quoted if p.set == name]
        embeds = sum(
            any(b.quoted and b.kind not in ("list", "table") for b in p.article.blocks) for p in group
        )
        words = [
            sum(len((b.text or " ".join(b.items)).split()) for b in p.article.blocks if b.quoted)
            / max(1, sum(len((b.text or " ".join(b.items)).split()) for b in p.article.blocks))
            for p in group
        ]
        print(
            f"  {name}: {len(group)} pages ({embeds} with an embedded post or pull quote, the rest listings); "
            f"quoted share of body words: median {statistics.median(words):.0%}, max {max(words):.0%}"
        )
    kept: dict[tuple[str, int], list[tuple[bool, bool]]] = defaultdict(list)
    shares: dict[tuple[str, int], list[tuple[float, float]]] = defaultdict(list)
    caught: dict[tuple[str, str], list[tuple[bool, bool]]] = defaultdict(list)
    for index, page in enumerate(with_quoted):
        # The donor: the next page, in corpus order, of another site with prose enough.
        donor = next(
            p
            for p in everything[index + 1 :] + everything
            if p.domain != page.domain and sum(len(b.text.split()) for b in own_prose(p.article, 150)) >= 150
        )
        for words in OWN_WORDS:
            other = write_up(page.article, donor.article, words)
            before = verdict(as_prose(other), as_prose(page.article))
            after = verdict(other, page.article)
            for group in (page.set, "all"):
                kept[group, words].append((before.duplicate_of is None, after.duplicate_of is None))
                shares[group, words].append((_share(before), _share(after)))
        for kind in COPY_KINDS:
            copy = copy_of(page.article, kind)
            before = verdict(as_prose(copy), as_prose(page.article))
            after = verdict(copy, page.article)
            for group in (page.set, "all"):
                caught[group, kind].append((before.duplicate_of is not None, after.duplicate_of is not None))
    print(
        "\nindependent write-ups sharing a page's quoted blocks, kept apart: before -> after "
        "(median copied share before -> after)"
    )
    for group in ("AEB", "Fundus", "all"):
        row = []
        for words in OWN_WORDS:
            pairs = kept[group, words]
            b, a = sum(x for x, _ in pairs), sum(y for _, y in pairs)
            sb = statistics.median(s for s, _ in shares[group, words])
            sa = statistics.median(s for _, s in shares[group, words])
            row.append(f"{words} own words {b}/{len(pairs)} -> {a}/{len(pairs)} ({sb:.2f} -> {sa:.2f})")
        print(f"  {group:6}: " + "; ".join(row))
    print("\ncopies of the pages, caught (dropped): before -> after")
    for group in ("AEB", "Fundus", "all"):
        row = []
        for kind in COPY_KINDS:
            pairs = caught[group, kind]
            b, a = sum(x for x, _ in pairs), sum(y for _, y in pairs)
            row.append(f"{kind} {b}/{len(pairs)} -> {a}/{len(pairs)}")
        print(f"  {group:6}: " + ", ".join(row))


def _share(decided: Verdict) -> float:
    match = decided.duplicate_of or decided.nearest
    if match is None or match.evidence is None:
        return 0.0
    return match.evidence.coverage.share if match.evidence.coverage else match.evidence.copied_share


if __name__ == "__main__":
    main()
