"""Experiment: a paragraph vote between feedd's extraction and two differently built extractors.

    pip install resiliparse readability-lxml   # for this experiment only: feedd does not ship them
    python bench/extraction_vote.py [--folds K]

Bevendorff et al. (SIGIR 2023) found that a vote of several extractors beats each of them, and that
heuristic extractors differ most on the pages where one fails. Tried here the way issue 19 asks: run
only when feedd's result is "unsure", which is measured as disagreement: the share of feedd's body
(word 4-gram shingles) that Resiliparse's main-content text holds, and the share that readability-
lxml's holds. When both fall below `gate`, each paragraph of feedd's body (of at least
`MIN_VOTED_WORDS` words) that neither of the others holds at least `HELD_SHARE` of is dropped: two
of three extractors voted it out. Adding paragraphs that the two others agree on and feedd lacks was
tried too (in an earlier run of the same code: it lost 0.011 F1 on AEB, 42 pages worse), so it is
not a setting here.

The gate is chosen by grouped k-fold over publishers (bench/extraction_oos.choose_by_grouped_kfold):
the held-out figure is what choosing it would give on publishers it was not chosen on. Prints each
setting's in-sample figure, the held-out figure, and the cost in CPU time per page.
"""

from __future__ import annotations

import argparse
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

import lxml.html
from extraction_oos import (
    Page,
    PageResult,
    Scorer,
    Setting,
    aeb_pages,
    choose_by_grouped_kfold,
    fundus_pages,
)
from readability import Document
from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.html import HTMLTree

from feedd.extract import Article, ExtractionFailure, PageInput, try_extract

_WORD = re.compile(r"\w+")
MIN_VOTED_WORDS = 8
HELD_SHARE = 0.3
GATES = (0.7, 0.8, 0.85, 0.9, 0.95)
#: CPU seconds spent in the two other extractors, per setting, for the cost line.
_SPENT: dict[str, float] = {}


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = [word.lower() for word in _WORD.findall(text)]
    return {tuple(words[i : i + 4]) for i in range(len(words) - 3)}


def _held(shingles: set[tuple[str, ...]], other: set[tuple[str, ...]]) -> float:
    return len(shingles & other) / len(shingles) if shingles else 1.0


def _others(html: str) -> tuple[str, str]:
    """Resiliparse's and readability-lxml's main text of the page."""
    resili = extract_plain_text(
        HTMLTree.parse(html), main_content=True, preserve_formatting=True, list_bullets=False, links=False
    )
    try:
        summary = Document(html).summary(html_partial=True)
        readable = "\n\n".join(
            element.text_content()
            for element in lxml.html.fromstring(summary).iter("p", "li", "h2", "h3", "h4", "blockquote")
        )
    except Exception:  # readability raises on pages it cannot summarise: no vote from it
        readable = ""
    return resili, readable


def voted(gate: float) -> Callable[[PageInput], Article | ExtractionFailure]:
    name = f"vote, gate {gate}"

    def run(page: PageInput) -> Article | ExtractionFailure:
        article = try_extract(page)
        if isinstance(article, ExtractionFailure) or article.source != "page" or page.html is None:
            return article
        started = time.process_time()
        resili, readable = (_shingles(text) for text in _others(page.html.decode("utf-8", "replace")))
        _SPENT[name] = _SPENT.get(name, 0.0) + time.process_time() - started
        body = _shingles(article.body_text)
        if not readable or not (_held(body, resili) < gate and _held(body, readable) < gate):
            return article
        kept = tuple(
            block
            for block in article.blocks
            if block.kind != "paragraph"
            or len(_WORD.findall(block.text)) < MIN_VOTED_WORDS
            or max(_held(_shingles(block.text), resili), _held(_shingles(block.text), readable)) >= HELD_SHARE
        )
        return replace(article, blocks=kept) if kept else article

    return run


SETTINGS = [
    Setting("shipped extraction", try_extract),
    *(Setting(f"vote, gate {g}", voted(g)) for g in GATES),
]


def _report(pages: Sequence[Page], scorer: Scorer, folds: int) -> None:
    cache: dict[tuple[str, str], PageResult] = {}

    def run(setting: Setting, page: Page) -> PageResult:
        if (setting.name, page.key) not in cache:
            cache[setting.name, page.key] = scorer.feedd(page, setting.extract, None)
        return cache[setting.name, page.key]

    corpus = pages[0].corpus
    report = choose_by_grouped_kfold(SETTINGS, pages, run, lambda found: scorer.figure(corpus, found), folds)
    shipped = [run(SETTINGS[0], page) for page in pages]
    print(f"\n{corpus}: {len(pages)} pages, {len({p.publisher for p in pages})} publishers")
    for setting in SETTINGS:
        results = [run(setting, page) for page in pages]
        changed = sum(abs(a.f1 - b.f1) > 1e-9 for a, b in zip(results, shipped, strict=True))
        worse = sum(b.f1 - a.f1 > 0.05 for a, b in zip(results, shipped, strict=True))
        print(
            f"  {setting.name:<20} in-sample {report.in_sample[setting.name]:.4f}  "
            f"pages changed {changed:3d}, worse by > 0.05: {worse}"
        )
    print(
        f"  chosen by {folds}-fold over publishers, held out: {report.held_out:.4f}  (picks: {', '.join(report.picks)})"
    )
    print(f"  shipped extraction, same pages: {report.in_sample[SETTINGS[0].name]:.4f}")
    cpu = sum(r.seconds for r in shipped) / len(pages)
    other = _SPENT.get(SETTINGS[1].name, 0.0) / len(pages)
    print(
        f"  cost: the two other extractors add {1000 * other:.1f} ms CPU per page to feedd's {1000 * cpu:.1f} ms"
    )
    _SPENT.clear()


def main() -> None:
    # readability logs every page it cannot summarise, with a traceback: the vote just goes without it.
    logging.getLogger("readability.readability").setLevel(logging.CRITICAL)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    aeb, truth = aeb_pages()
    scorer = Scorer(truth)
    for pages in (aeb, fundus_pages()):
        _report(pages, scorer, args.folds)


if __name__ == "__main__":
    main()
