"""Benchmark: feedd's extract stage out of sample, on AEB and on the Fundus pages, beside trafilatura.

    python bench/extraction_oos.py [--worst N] [--folds K]

Pages are grouped by publisher (registrable domain). Three rows per corpus:
- "shipped rules, in-sample": every shipped site rule applies, as in a poll; the rules were written
  from some of these very pages, so this row flatters;
- "rules, leave-one-publisher-out": a rule never applies to its own publisher's pages (each page is
  scored with the shipped rules minus its publisher's domains); rules are matched by domain, so
  this row equals "generic only" unless a rule ever reaches another publisher's pages;
- "generic only": no site rule at all, the path every site nobody writes rules for takes.
Beside them, plain `trafilatura.extract` on the same pages (AEB body, Fundus paragraphs).

AEB: the benchmark's own scorer (evaluate.py: word 4-gram shingles, P and R averaged over pages,
F1 of the two). Fundus: bench/extraction_fundus.py's scorer (titles exact after whitespace
normalisation, leads word F1 >= 0.8 where the page has one, "strict" in the lead itself (the target's
figure), "leads" also counting it found as the body's opening paragraph where there is no lead (for
information: FORMAT.md omits a lead equal to the first paragraph, yet Fundus's reference holds most
of those standfirsts apart from the body); paragraph word F1). "worse" counts pages
whose F1 is below plain trafilatura's by more than 0.05; "reason" those of them with a stated reason,
the issue's allowance: feedd declined the page as not an article (a poll saves the feed's text there;
given alone here, it scores 0), or (AEB, which scores the body alone) the text missing from the body
is the saved file's lead: with the lead counted the page scores higher, and not worse than
trafilatura. Throughput is pages per second of CPU time
(process_time) of the extract call alone, one core.

Thresholds and other tunable parameters of the generic path are chosen by grouped k-fold
(`choose_by_grouped_kfold`: folds of whole publishers; each fold's pick is the setting with the best
figure on the other folds, scored on the held-out fold), reported next to each setting's in-sample
figure. To add candidates, append to SETTINGS a Setting whose `extract` takes a PageInput and
returns what try_extract does, e.g. a module constant set for the duration of the call:

    def _with(threshold: float) -> Callable[[PageInput], Article | ExtractionFailure]:
        def run(page: PageInput) -> Article | ExtractionFailure:
            with patch.object(vote, "AGREEMENT", threshold):  # unittest.mock.patch
                return try_extract(page)
        return run

    SETTINGS += [Setting(f"vote agreement {t}", _with(t)) for t in (0.5, 0.6, 0.7)]

Only the generic path is tuned this way (settings run without site rules). Needs ../shared/data
beside the checkout.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import trafilatura
from extraction_aeb import AEB, _scorer, page_alone
from extraction_fundus import DATA, FUNDUS, PageScore, _score

from feedd.config import SiteRule, SiteRules, load_site_rules
from feedd.extract import Article, Block, ExtractionFailure, PageInput, try_extract
from feedd.feeds import registrable_domain

_FUNDUS_CONTENT_TYPE = "text/html; charset=utf-8"
#: A page counts as worse than plain trafilatura when its F1 is lower by more than this.
WORSE_BY = 0.05
#: The issue's targets, each judged on the figure named here (leads: in the lead field itself).
TARGETS = {"AEB F1": 0.975, "Fundus titles": 0.93, "Fundus leads, strict": 0.88, "Fundus paragraph F1": 0.96}


@dataclass(frozen=True, slots=True)
class Setting:
    """One candidate configuration of the generic path."""

    name: str
    extract: Callable[[PageInput], Article | ExtractionFailure]


SETTINGS: list[Setting] = [Setting("shipped extraction", try_extract)]


@dataclass(frozen=True, slots=True)
class Page:
    corpus: str
    key: str
    url: str
    #: The registrable domain: the group for leave-one-publisher-out and k-fold.
    publisher: str
    html: bytes
    content_type: str
    #: Fundus's pairing record (what its scorer reads); None for AEB.
    fundus_pair: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class PageResult:
    """One page scored for one system."""

    #: Body shingle F1 (AEB) or paragraph word F1 (Fundus).
    f1: float
    #: AEB: the scorer's true positives, false positives and false negatives.
    shingles: tuple[float, float, float] | None
    fundus: PageScore | None
    seconds: float
    #: Why extraction gave no article, when it did not.
    failure: str | None = None
    #: AEB: the F1 of the saved lead and body together, where there is a lead.
    f1_with_lead: float | None = None


@dataclass(frozen=True, slots=True)
class KFoldReport:
    in_sample: dict[str, float]
    held_out: float
    picks: tuple[str, ...]


def aeb_pages() -> tuple[list[Page], dict[str, dict[str, str]]]:
    truth = json.loads((AEB / "ground-truth.json").read_text(encoding="utf-8"))
    pages = [
        Page(
            "AEB",
            key,
            item["url"],
            registrable_domain(item["url"]),
            gzip.decompress((AEB / "html" / f"{key}.html.gz").read_bytes()),
            "text/html",
        )
        for key, item in truth.items()
    ]
    return pages, truth


def fundus_pages() -> list[Page]:
    pairs = json.loads((FUNDUS / "INDEX_pairs.json").read_text())
    return [
        Page(
            "Fundus",
            pair["html"],
            pair["url"],
            registrable_domain(pair["url"]),
            gzip.decompress((DATA / pair["html"]).read_bytes()),
            _FUNDUS_CONTENT_TYPE,
            pair,
        )
        for pair in pairs
    ]


class Scorer:
    """Runs a system on a page and scores the result with the corpus's own scorer."""

    def __init__(self, truth: dict[str, dict[str, str]]) -> None:
        self._truth = truth
        self._aeb = _scorer()

    def feedd(
        self, page: Page, extract: Callable[[PageInput], Article | ExtractionFailure], rule: SiteRule | None
    ) -> PageResult:
        started = time.process_time()
        article = extract(page_alone(page.html, page.url, page.content_type, rule))
        return self._scored(page, article, time.process_time() - started)

    def trafilatura(self, page: Page) -> PageResult:
        started = time.process_time()
        text = trafilatura.extract(page.html.decode("utf-8", "replace"), url=page.url, include_comments=False)
        seconds = time.process_time() - started
        blocks = tuple(Block("paragraph", line) for line in (text or "").splitlines() if line.strip())
        # No title or lead: only the body (AEB) or paragraph (Fundus) figure means anything.
        article = Article(
            title="", published=None, lead=None, url=page.url, canonical_url=page.url, blocks=blocks
        )
        return self._scored(page, article, seconds)

    def figure(self, corpus: str, results: Sequence[PageResult]) -> float:
        """The one number k-fold picks by: AEB F1; for Fundus the mean of the three targets' rates."""
        if corpus == "AEB":
            return self.aeb_metrics(results)["f1"]
        summary = fundus_summary(results)
        return (summary["titles"] + summary["leads, strict"] + summary["paragraph F1"]) / 3

    def aeb_metrics(self, results: Sequence[PageResult]) -> dict[str, float]:
        try:
            return self._aeb.metrics_from_tp_fp_fns([r.shingles for r in results if r.shingles])
        except statistics.StatisticsError:  # evaluate.py averages over pages with text: there were none
            return {"f1": 0.0, "precision": 0.0, "recall": 0.0}

    def _scored(self, page: Page, article: Article | ExtractionFailure, seconds: float) -> PageResult:
        failure = article.reason if isinstance(article, ExtractionFailure) else None
        if page.fundus_pair is not None:
            score = _score(page.fundus_pair, article)
            return PageResult(score.f1, None, score, seconds, failure)
        body = ""
        if isinstance(article, Article):
            body = "\n\n".join(
                [*(b.text or "\n".join(b.items) for b in article.blocks), *filter(None, [article.credit])]
            )
        truth = self._truth[page.key]["articleBody"]
        tp, fp, fn = self._aeb.string_shingle_matching(truth, body)
        with_lead = None
        if isinstance(article, Article) and article.lead:
            ltp, lfp, lfn = self._aeb.string_shingle_matching(truth, f"{article.lead}\n\n{body}")
            with_lead = 2 * ltp / (2 * ltp + lfp + lfn or 1)
        return PageResult(2 * tp / (2 * tp + fp + fn or 1), (tp, fp, fn), None, seconds, failure, with_lead)


def fundus_summary(results: Sequence[PageResult]) -> dict[str, float]:
    scores = [r.fundus for r in results if r.fundus]
    leads = [s for s in scores if s.has_lead]
    return {
        "titles": sum(s.title_ok for s in scores) / len(scores),
        "leads": sum(s.lead_ok or s.lead_opens_body for s in leads) / max(1, len(leads)),
        "leads, strict": sum(s.lead_ok for s in leads) / max(1, len(leads)),
        "paragraph F1": sum(s.f1 for s in scores) / len(scores),
    }


def publisher_folds(pages: Sequence[Page], folds: int) -> list[set[str]]:
    """Publishers dealt into `folds` groups of about equal page counts, biggest first (deterministic)."""
    sizes: dict[str, int] = defaultdict(int)
    for page in pages:
        sizes[page.publisher] += 1
    groups: list[set[str]] = [set() for _ in range(folds)]
    loads = [0] * folds
    for publisher in sorted(sizes, key=lambda p: (-sizes[p], p)):
        lightest = loads.index(min(loads))
        groups[lightest].add(publisher)
        loads[lightest] += sizes[publisher]
    return groups


def choose_by_grouped_kfold(
    settings: Sequence[Setting],
    pages: Sequence[Page],
    run: Callable[[Setting, Page], PageResult],
    figure: Callable[[Sequence[PageResult]], float],
    folds: int = 5,
) -> KFoldReport:
    """Each setting's in-sample figure, and the held-out figure of choosing by k-fold over publishers.

    Every setting runs once per page; for each fold the setting with the best figure on the other
    folds is picked and its results on the held-out fold are kept; the held-out figure is computed
    over all pages so kept (each scored by the setting its fold picked, never one chosen on it)."""
    results = {setting.name: [run(setting, page) for page in pages] for setting in settings}
    held_out: list[PageResult] = []
    picks = []
    for group in publisher_folds(pages, folds):
        training = [i for i, page in enumerate(pages) if page.publisher not in group]
        held_out_pages = [i for i, page in enumerate(pages) if page.publisher in group]
        if not held_out_pages:
            continue
        pick = max(settings, key=lambda s: figure([results[s.name][i] for i in training]))
        picks.append(pick.name)
        held_out += [results[pick.name][i] for i in held_out_pages]
    in_sample = {name: figure(found) for name, found in results.items()}
    return KFoldReport(in_sample, figure(held_out), tuple(picks))


def without_publisher(rules: Sequence[SiteRule], publisher: str) -> list[SiteRule]:
    """The rules with every domain of `publisher` taken out (rules left with none dropped)."""
    kept = []
    for rule in rules:
        domains = tuple(d for d in rule.domains if registrable_domain(f"http://{d}/") != publisher)
        if domains:
            kept.append(replace(rule, domains=domains))
    return kept


ROWS = ("shipped rules, in-sample", "rules, leave-one-publisher-out", "generic only", "trafilatura.extract")


def run_corpus(
    pages: Sequence[Page], scorer: Scorer, folds: int
) -> tuple[dict[str, list[PageResult]], KFoldReport]:
    """Every row's results, page by page, and the k-fold report over SETTINGS."""
    rules = load_site_rules()
    cache: dict[tuple[str, str], PageResult] = {}

    def generic(setting: Setting, page: Page) -> PageResult:
        if (setting.name, page.key) not in cache:
            cache[setting.name, page.key] = scorer.feedd(page, setting.extract, None)
        return cache[setting.name, page.key]

    shipped = SETTINGS[0]
    kfold = choose_by_grouped_kfold(
        SETTINGS, pages, generic, lambda found: scorer.figure(pages[0].corpus, found), folds
    )
    rows: dict[str, list[PageResult]] = {row: [] for row in ROWS}
    held_out_rules: dict[str, SiteRules] = {}
    for page in pages:
        plain = generic(shipped, page)
        rows["generic only"].append(plain)
        rows["trafilatura.extract"].append(scorer.trafilatura(page))
        rule = rules.for_url(page.url)
        rows["shipped rules, in-sample"].append(scorer.feedd(page, shipped.extract, rule) if rule else plain)
        if page.publisher not in held_out_rules:
            held_out_rules[page.publisher] = SiteRules(without_publisher(list(rules), page.publisher))
        held_rule = held_out_rules[page.publisher].for_url(page.url)
        rows["rules, leave-one-publisher-out"].append(
            scorer.feedd(page, shipped.extract, held_rule) if held_rule else plain
        )
    return rows, kfold


def stated_reason(result: PageResult, baseline: PageResult) -> str | None:
    """Why a page worse than trafilatura is so by design, if it is."""
    if result.failure and result.failure.startswith("page is"):  # page_kind's reasons all start so
        return result.failure
    if (
        result.f1_with_lead is not None
        and result.f1_with_lead > result.f1
        and baseline.f1 - result.f1_with_lead <= WORSE_BY
    ):
        return f"the missing text is the saved lead (F1 with it {result.f1_with_lead:.3f})"
    return None


def explained(rows: dict[str, list[PageResult]], row: str) -> list[int]:
    baseline = rows["trafilatura.extract"]
    return [i for i in worse_pages(rows, row) if stated_reason(rows[row][i], baseline[i])]


def worse_pages(rows: dict[str, list[PageResult]], row: str) -> list[int]:
    baseline = rows["trafilatura.extract"]
    return [i for i, result in enumerate(rows[row]) if baseline[i].f1 - result.f1 > WORSE_BY]


def print_corpus(
    pages: Sequence[Page], scorer: Scorer, rows: dict[str, list[PageResult]], kfold: KFoldReport, worst: int
) -> None:
    corpus = pages[0].corpus
    publishers = len({page.publisher for page in pages})
    ruled = sum(1 for page in pages if load_site_rules().for_url(page.url))
    print(
        f"\n{corpus}: {len(pages)} pages, {publishers} publishers; {ruled} pages fall under a shipped site rule"
    )
    if corpus == "AEB":
        print(f"{'':32} {'F1':>6} {'P':>6} {'R':>6} {'worse':>6} {'reason':>8} {'failed':>6} {'pages/s':>8}")
    else:
        print(
            f"{'':32} {'titles':>7} {'leads':>7} {'strict':>7} {'para F1':>7} {'worse':>6} {'reason':>8} "
            f"{'failed':>6} {'pages/s':>8}"
        )
    for row in ROWS:
        results = rows[row]
        worse = "" if row == ROWS[-1] else str(len(worse_pages(rows, row)))
        not_articles = "" if row == ROWS[-1] else str(len(explained(rows, row)))
        failed = "" if row == ROWS[-1] else str(sum(1 for r in results if r.failure))
        speed = len(results) / sum(r.seconds for r in results)
        if corpus == "AEB":
            m = scorer.aeb_metrics(results)
            figures = f"{m['f1']:6.4f} {m['precision']:6.4f} {m['recall']:6.4f}"
        else:
            s = fundus_summary(results)
            titles = "-" if row == ROWS[-1] else f"{s['titles']:.1%}"
            leads = "-" if row == ROWS[-1] else f"{s['leads']:.1%}"
            strict = "-" if row == ROWS[-1] else f"{s['leads, strict']:.1%}"
            figures = f"{titles:>7} {leads:>7} {strict:>7} {s['paragraph F1']:7.4f}"
        print(f"{row:32} {figures} {worse:>6} {not_articles:>8} {failed:>6} {speed:8.1f}")
    print(f"k-fold over {len(SETTINGS)} setting(s), {len(kfold.picks)} folds of publishers (generic path):")
    for name, figure in kfold.in_sample.items():
        print(f"  {name}: in-sample {figure:.4f}")
    print(f"  per-fold pick, held out: {kfold.held_out:.4f} (picks: {', '.join(kfold.picks)})")
    failures = defaultdict(int)
    for result in rows["generic only"]:
        if result.failure:
            failures[result.failure] += 1
    for reason, count in sorted(failures.items()):
        print(f"  not extracted (generic): {count} x {reason}")
    if worst:
        generic, baseline = rows["generic only"], rows["trafilatura.extract"]
        order = sorted(range(len(pages)), key=lambda i: generic[i].f1 - baseline[i].f1)[:worst]
        print(f"  {worst} pages furthest below trafilatura (generic F1, trafilatura F1):")
        for i in order:
            reason = stated_reason(generic[i], baseline[i]) or generic[i].failure
            because = f"  ({reason})" if reason else ""
            print(f"    {generic[i].f1:.3f} {baseline[i].f1:.3f}  {pages[i].url}{because}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--worst", type=int, default=0, help="per corpus, list the N pages furthest below trafilatura"
    )
    parser.add_argument(
        "--folds", type=int, default=5, help="publisher folds for choosing settings (default 5)"
    )
    args = parser.parse_args()
    if not AEB.exists() or not DATA.exists():
        raise SystemExit(
            "../shared/data/extraction not found: the benchmark needs ../shared/data beside the checkout"
        )
    aeb, truth = aeb_pages()
    scorer = Scorer(truth)
    fundus = fundus_pages()
    figures: dict[str, float] = {}
    worse = unexplained = 0
    for pages in (aeb, fundus):
        rows, kfold = run_corpus(pages, scorer, args.folds)
        print_corpus(pages, scorer, rows, kfold, args.worst)
        if pages is aeb:
            figures["AEB F1"] = scorer.aeb_metrics(rows["rules, leave-one-publisher-out"])["f1"]
        else:
            summary = fundus_summary(rows["generic only"])
            figures |= {f"Fundus {name}": value for name, value in summary.items()}
        held_out = "rules, leave-one-publisher-out"
        worse += len(worse_pages(rows, held_out))
        unexplained += len(worse_pages(rows, held_out)) - len(explained(rows, held_out))
    verdicts = [
        f"{name} {figures[name]:.4f} >= {target} {'met' if figures[name] >= target else 'missed'}"
        for name, target in TARGETS.items()
    ]
    verdicts.append(f"(Fundus leads, in the lead or opening the body: {figures['Fundus leads']:.4f})")
    verdicts.append(
        f"pages worse than trafilatura by > {WORSE_BY}: {worse}, {unexplained} without a stated reason "
        f"({'met' if unexplained == 0 else 'missed'})"
    )
    print("\ntargets, out of sample: " + "; ".join(verdicts))


if __name__ == "__main__":
    main()
