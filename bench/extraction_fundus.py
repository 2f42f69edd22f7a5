"""Benchmark: feedd's extract stage against Fundus's per-publisher expectations (258 real pages).

    python bench/extraction_fundus.py [--failures N]

For every page: title exact (after whitespace normalisation), publication date right to the day,
lead found where the page has one (word F1 >= 0.8 with Fundus's summary; "lead" counts it found in
the lead or, with no lead, as the body's opening paragraph: FORMAT.md omits a lead equal to the first
paragraph, so there is where feedd puts a standfirst the page prints as its first paragraph;
"strict" counts the lead alone), "no lead": pages without
a standfirst given no lead (FORMAT.md allows the page's description there, so this one is for
information), subheadings kept as heading blocks, and paragraph word P/R/F1.
The page alone is given (no feed title or date), which is harder than a real poll; the shipped
site rules apply as in a poll, and a last row shows generic extraction without them (the rules were
written from some of these very pages, so that row is the out-of-sample figure). The expected
values are Fundus's hand-written parsers' output, not independent annotation. Needs
../shared/data beside the checkout.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import time
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from extraction_aeb import page_alone

from feedd.config import load_site_rules
from feedd.extract import Article, ExtractionFailure, try_extract

FUNDUS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "extraction" / "fundus"
DATA = FUNDUS / "tests" / "resources" / "parser" / "test_data"
_WORD = re.compile(r"\w+", re.UNICODE)
_CONTENT_TYPE = "text/html; charset=utf-8"


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def _words(text: str) -> Counter[str]:
    return Counter(word.lower() for word in _WORD.findall(text))


def _f1(expected: Counter[str], got: Counter[str]) -> tuple[float, float, float]:
    common = sum((expected & got).values())
    precision = common / sum(got.values()) if got else 0.0
    recall = common / sum(expected.values()) if expected else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


@dataclass
class PageScore:
    name: str
    lang: str
    title_ok: bool
    date_ok: bool
    has_lead: bool
    lead_ok: bool
    #: No lead, and the body opens with the standfirst (where FORMAT.md puts it then).
    lead_opens_body: bool
    #: A lead given where the page has none.
    lead_extra: bool
    subheads: int
    subheads_kept: int
    precision: float
    recall: float
    f1: float
    detail: str

    @classmethod
    def failed(cls, name: str, lang: str, has_lead: bool, subheads: int, reason: str) -> PageScore:
        """A page feedd extracted nothing from: every field missed."""
        missed = dict.fromkeys(("title_ok", "date_ok", "lead_ok", "lead_opens_body", "lead_extra"), False)
        nothing = dict.fromkeys(("subheads_kept", "precision", "recall", "f1"), 0)
        return cls(
            name=name, lang=lang, has_lead=has_lead, subheads=subheads, detail=reason, **missed, **nothing
        )


def _score(pair: dict, article: Article | ExtractionFailure) -> PageScore:
    expected = json.loads((DATA / pair["country"] / f"{pair['publisher']}.json").read_text())[pair["version"]]
    body = expected["body"]
    summary = " ".join(body.get("summary") or [])
    headlines = [_norm(h) for section in body["sections"] for h in section["headline"]]
    paragraphs = [p for section in body["sections"] for p in section["paragraphs"]]
    day = expected["publishing_date"][:10]
    if isinstance(article, ExtractionFailure):
        return PageScore.failed(pair["html"], pair["lang"], bool(summary), len(headlines), article.reason)
    title_ok = _norm(article.title) == _norm(expected["title"])
    date_ok = article.published is not None and article.published.isoformat() == day
    lead_ok = (
        bool(summary) and article.lead is not None and _f1(_words(summary), _words(article.lead))[2] >= 0.8
    )
    opening = next((block.text for block in article.blocks if block.kind == "paragraph"), "")
    lead_opens_body = (
        bool(summary) and article.lead is None and _f1(_words(summary), _words(opening))[2] >= 0.8
    )
    heading_texts = {_norm(block.text) for block in article.blocks if block.kind == "heading"}
    kept = sum(1 for headline in headlines if headline in heading_texts)
    got_paragraphs = [
        block.text or "\n".join(block.items) for block in article.blocks if block.kind != "heading"
    ]
    if article.credit:
        got_paragraphs.append(article.credit)
    precision, recall, f1 = _f1(_words("\n".join(paragraphs)), _words("\n".join(got_paragraphs)))
    detail = []
    if not title_ok:
        detail.append(f"title {article.title!r} != {expected['title']!r}")
    if not date_ok:
        detail.append(f"date {article.published} != {day}")
    if summary and not (lead_ok or lead_opens_body):
        detail.append(f"lead {(article.lead or '')[:60]!r} != {summary[:60]!r}")
    return PageScore(
        name=pair["html"],
        lang=pair["lang"],
        title_ok=title_ok,
        date_ok=date_ok,
        has_lead=bool(summary),
        lead_ok=lead_ok,
        lead_opens_body=lead_opens_body,
        lead_extra=not summary and bool(article.lead),
        subheads=len(headlines),
        subheads_kept=kept,
        precision=precision,
        recall=recall,
        f1=f1,
        detail="; ".join(detail),
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--failures", type=int, default=0, help="print this many failing pages per field")
    args = parser.parse_args()
    if not DATA.exists():
        raise SystemExit(f"{DATA} not found: the benchmark needs ../shared/data beside the checkout")
    pairs = json.loads((FUNDUS / "INDEX_pairs.json").read_text())
    rules = load_site_rules()
    generic, scores = [], []
    cpu = 0.0
    for pair in pairs:
        html = gzip.decompress((DATA / pair["html"]).read_bytes())
        generic.append(_score(pair, try_extract(page_alone(html, pair["url"], _CONTENT_TYPE))))
        started = time.process_time()
        article = try_extract(page_alone(html, pair["url"], _CONTENT_TYPE, rules.for_url(pair["url"])))
        cpu += time.process_time() - started
        scores.append(_score(pair, article))

    groups: dict[str, list[PageScore]] = defaultdict(list)
    for score in scores:
        groups["all"].append(score)
        groups["English" if score.lang == "en" else "other languages"].append(score)
    groups["all, generic only"] = generic
    print(f"{len(scores)} Fundus pages, {len(scores) / cpu:.0f} pages/s extract on one core")
    print(
        f"{sum(1 for p in pairs if rules.for_url(p['url']))} pages fall under {len(rules)} shipped site rules\n"
    )
    print(
        f"{'':17} {'pages':>5} {'title':>7} {'date':>7} {'lead':>11} {'strict':>7} {'no lead':>13} "
        f"{'subheads':>13} {'para P':>7} "
        f"{'para R':>7} {'para F1':>7}"
    )
    for name in ("all", "English", "other languages", "all, generic only"):
        group = groups[name]
        leads = [s for s in group if s.has_lead]
        subheads = sum(s.subheads for s in group)
        print(
            f"{name:17} {len(group):5d} {sum(s.title_ok for s in group) / len(group):7.1%} "
            f"{sum(s.date_ok for s in group) / len(group):7.1%} "
            f"{sum(s.lead_ok or s.lead_opens_body for s in leads) / max(1, len(leads)):6.1%} ({len(leads):3d}) "
            f"{sum(s.lead_ok for s in leads) / max(1, len(leads)):7.1%} "
            f"{sum(not s.lead_extra for s in group if not s.has_lead) / max(1, len(group) - len(leads)):6.1%} "
            f"({len(group) - len(leads):4d}) "
            f"{sum(s.subheads_kept for s in group) / max(1, subheads):6.1%} ({subheads:4d}) "
            f"{sum(s.precision for s in group) / len(group):7.3f} {sum(s.recall for s in group) / len(group):7.3f} "
            f"{sum(s.f1 for s in group) / len(group):7.3f}"
        )
    if args.failures:
        for field, failed in (
            ("title", lambda s: not s.title_ok),
            ("date", lambda s: not s.date_ok),
            ("lead", lambda s: s.has_lead and not (s.lead_ok or s.lead_opens_body)),
        ):
            print(f"\n{field} misses:")
            for score in [s for s in scores if failed(s)][: args.failures]:
                print(f"  {score.name}: {score.detail}")


if __name__ == "__main__":
    main()
