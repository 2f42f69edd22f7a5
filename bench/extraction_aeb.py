"""Benchmark: feedd's extract stage on the AEB article-extraction benchmark, beside plain trafilatura.

    python bench/extraction_aeb.py [--worst N]

Scores body text with the benchmark's own scorer (word 4-gram shingles, averaged P/R, F1) and
times extract + render per page. Needs ../shared/data beside the checkout.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import time
from pathlib import Path

import trafilatura

from feedd.config import SiteRule
from feedd.extract import ExtractionFailure, PageInput, try_extract
from feedd.feeds import Entry
from feedd.output.format import render

AEB = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "extraction" / "aeb"


def _scorer():
    spec = importlib.util.spec_from_file_location("aeb_evaluate", AEB / "evaluate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def page_alone(
    html: bytes, url: str, content_type: str = "text/html", site_rule: SiteRule | None = None
) -> PageInput:
    """The page as extraction gets it, with nothing from a feed (no title, date or text)."""
    entry = Entry(
        key="bench",
        guid=None,
        link=url,
        canonical_link=None,
        title="",
        published=None,
        summary_html="",
        content_html="",
        author=None,
    )
    return PageInput(entry, html, content_type, url, site_rule=site_rule)


def _feedd_body(html: bytes, url: str) -> tuple[str, float]:
    started = time.process_time()
    article = try_extract(page_alone(html, url))
    if not isinstance(article, ExtractionFailure):
        render(article)
    elapsed = time.process_time() - started
    if isinstance(article, ExtractionFailure):
        return "", elapsed
    blocks = [b.text or "\n".join(b.items) for b in article.blocks]
    if article.credit:
        blocks.append(article.credit)
    return "\n\n".join(blocks), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--worst", type=int, default=0, help="list this many pages with feedd's lowest F1")
    args = parser.parse_args()
    if not AEB.exists():
        raise SystemExit(f"{AEB} not found: the benchmark needs ../shared/data beside the checkout")
    truth = json.loads((AEB / "ground-truth.json").read_text(encoding="utf-8"))
    scorer = _scorer()
    predictions: dict[str, dict[str, dict[str, str]]] = {"feedd": {}, "trafilatura": {}}
    seconds = {"feedd": 0.0, "trafilatura": 0.0}
    for key, item in truth.items():
        html = gzip.decompress((AEB / "html" / f"{key}.html.gz").read_bytes())
        body, elapsed = _feedd_body(html, item["url"])
        predictions["feedd"][key] = {"articleBody": body}
        seconds["feedd"] += elapsed
        started = time.process_time()
        text = trafilatura.extract(html.decode("utf-8", "replace"), url=item["url"], include_comments=False)
        seconds["trafilatura"] += time.process_time() - started
        predictions["trafilatura"][key] = {"articleBody": text or ""}
    print(f"AEB: {len(truth)} pages")
    print(f"{'system':<22} {'F1':>6} {'precision':>10} {'recall':>8} {'pages/s (1 core)':>18}")
    for name, prediction in predictions.items():
        metrics = scorer.evaluate(truth, prediction, n_bootstrap=0)
        label = "feedd extract+render" if name == "feedd" else "trafilatura.extract"
        print(
            f"{label:<22} {metrics['f1']:6.4f} {metrics['precision']:10.4f} {metrics['recall']:8.4f} "
            f"{len(truth) / seconds[name]:18.1f}"
        )
    if args.worst:
        print(f"\nfeedd's {args.worst} lowest-F1 pages (shingle precision, recall):")
        scored = []
        for key, item in truth.items():
            tp, fp, fn = scorer.string_shingle_matching(
                item["articleBody"], predictions["feedd"][key]["articleBody"]
            )
            precision, recall = tp / (tp + fp or 1), tp / (tp + fn or 1)
            scored.append((2 * tp / (2 * tp + fp + fn or 1), precision, recall, key, item["url"]))
        for f1, precision, recall, key, url in sorted(scored)[: args.worst]:
            print(f"  {f1:.3f}  P {precision:.3f} R {recall:.3f}  {key}  {url}")


if __name__ == "__main__":
    main()
