"""Copy or independent write-up: the shared-runs verification on the judged ECB+ pairs.

    python bench/dedup_verify.py [--folds 5] [--repeats 20] [--examples 6] [--sweep]

../shared/data/dedup/ecbplus/judged_pairs.jsonl holds 326 real pairs of same-event articles, each
judged "copy", "independent" or "unclear" by reading both (unclear ones are set aside). Prints,
side by side, the share of copies decided "copy" and of independent write-ups decided
"independent" by:

- the best single word-5-gram containment threshold, and the best single Jaccard threshold
  (feedd's own shingles), chosen on all pairs (in-sample: their best case) and by k-fold;
- containment after quoted speech is removed, as the issue measured it;
- the shared-runs copied share (feedd.dedup.verify), its threshold fitted by k-fold (fit on k-1 folds,
  decide the held-out fold, over several shuffles), and nested (run length and quote weight
  chosen in the training folds as well);
- feedd as shipped: the default threshold, on the pair alone and through the pipeline (the
  earlier article indexed, the later one queried through MinHash LSH and verified).

Then the speed of one verification, and the pairs still decided wrong at the default, with the
judges' reasons. Thresholds are chosen for the higher of the two shares' minimum. `--sweep` adds
the copied-share thresholds side by side with the world-level ECB+ evaluation of dedup_eval.py.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from feedd.config import DedupConfig
from feedd.dedup import (
    FingerprintRecord,
    NearIndex,
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

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dedup" / "ecbplus"
_QUOTED = re.compile(r'"[^"\n]*"|“[^”\n]*”')


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    copy: bool
    why: str


def load() -> tuple[dict[str, dict], list[Pair]]:
    articles = {}
    for line in (DATA / "articles.jsonl").open(encoding="utf-8"):
        article = json.loads(line)
        articles[article["id"]] = article
    pairs = []
    for line in (DATA / "judged_pairs.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        if row["label"] != "unclear":
            pairs.append(Pair(row["a"], row["b"], row["label"] == "copy", row["why"]))
    return articles, pairs


def rates(decided: Sequence[bool], pairs: Sequence[Pair]) -> tuple[float, float]:
    """(share of copies decided copy, share of independent write-ups decided independent)."""
    copies = [d for d, p in zip(decided, pairs, strict=True) if p.copy]
    independent = [not d for d, p in zip(decided, pairs, strict=True) if not p.copy]
    return sum(copies) / len(copies), sum(independent) / len(independent)


def best_threshold(values: Sequence[float], pairs: Sequence[Pair]) -> float:
    """The threshold (value >= it means copy) that maximises the smaller of the two rates."""
    best = (-1.0, 0.0)
    for threshold in sorted(set(values)):
        score = min(rates([v >= threshold for v in values], pairs))
        if score > best[0]:
            best = (score, threshold)
    return best[1]


def k_fold(
    decide_fold: Callable[[list[int], list[int]], list[bool]], pairs: Sequence[Pair], folds: int, repeats: int
) -> tuple[float, float]:
    """Mean rates over `repeats` shuffles: each fold decided by what was fitted on the others."""
    results = []
    for repeat in range(repeats):
        order = list(range(len(pairs)))
        random.Random(repeat).shuffle(order)
        decided = [False] * len(pairs)
        for fold in range(folds):
            held_out = order[fold::folds]
            held = set(held_out)
            training = [i for i in order if i not in held]
            for i, d in zip(held_out, decide_fold(training, held_out), strict=True):
                decided[i] = d
        results.append(decided)
    copies, independent = zip(*(rates(d, pairs) for d in results), strict=True)
    return statistics.mean(copies), statistics.mean(independent)


def threshold_k_fold(
    values: Sequence[float], pairs: Sequence[Pair], folds: int, repeats: int
) -> tuple[float, float]:
    def fit_and_decide(training: list[int], held_out: list[int]) -> list[bool]:
        threshold = best_threshold([values[i] for i in training], [pairs[i] for i in training])
        return [values[i] >= threshold for i in held_out]

    return k_fold(fit_and_decide, pairs, folds, repeats)


def nested_k_fold(
    grid: dict[VerifyParams, list[float]], pairs: Sequence[Pair], folds: int, repeats: int
) -> tuple[tuple[float, float], list[VerifyParams]]:
    """Run length, quote weight and threshold all chosen on the training folds."""
    chosen: list[VerifyParams] = []

    def fit_and_decide(training: list[int], held_out: list[int]) -> list[bool]:
        train_pairs = [pairs[i] for i in training]
        best = None
        for params, values in grid.items():
            train_values = [values[i] for i in training]
            threshold = best_threshold(train_values, train_pairs)
            score = min(rates([v >= threshold for v in train_values], train_pairs))
            if best is None or score > best[0]:
                best = (score, params, threshold)
        assert best is not None
        _, params, threshold = best
        chosen.append(params)
        return [grid[params][i] >= threshold for i in held_out]

    return k_fold(fit_and_decide, pairs, folds, repeats), chosen


def through_the_pipeline(
    articles: dict[str, dict], pairs: Sequence[Pair], thresholds: Thresholds
) -> tuple[list[bool], int]:
    """Each pair as the daemon meets it: the earlier article saved and indexed, the later one
    fingerprinted, queried through MinHash LSH and verified. Returns the decisions and how many
    copies the LSH did not propose at all."""
    position = {doc_id: n for n, doc_id in enumerate(articles)}
    decided = []
    not_proposed = 0
    for pair in pairs:
        first, second = sorted((pair.a, pair.b), key=position.__getitem__)
        index = NearIndex(NearParams())
        saved = index.fingerprinter.fingerprint(articles[first]["text"])
        index.add(0, saved.minhash, saved.lead_minhash)
        new = index.fingerprinter.fingerprint(articles[second]["text"])
        proposed = 0 in index.candidates(new)
        not_proposed += pair.copy and not proposed
        stored = (
            [SavedFingerprint(first, saved.shingles, FingerprintRecord.of(saved).text)] if proposed else []
        )
        decided.append(decide(new, stored, thresholds).duplicate_of is not None)
    return decided, not_proposed


def speed(articles: dict[str, dict], pairs: Sequence[Pair]) -> tuple[float, float, float]:
    """ms per pair as the daemon verifies: the saved text decompressed and read, the new one's
    words read once per document (counted here for every pair: the worst case)."""
    make = fingerprinter(NearParams())
    records = {i: FingerprintRecord.of(make.fingerprint(a["text"])) for i, a in articles.items()}
    texts = {i: a["text"] for i, a in articles.items()}
    timings = []
    for _ in range(3):
        for pair in pairs:
            started = time.perf_counter()
            compare(Words.of(texts[pair.b]), Words.of(records[pair.a].plain_text()))
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    words = statistics.mean(len(a["text"].split()) for a in articles.values())
    return statistics.mean(timings), timings[int(len(timings) * 0.99)], words


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=20, help="shuffles of the k-fold split")
    parser.add_argument("--examples", type=int, default=6, help="wrong decisions listed per class")
    parser.add_argument(
        "--sweep", action="store_true", help="also the copied-share thresholds, world-level too"
    )
    args = parser.parse_args()
    if not DATA.exists():
        raise SystemExit(f"{DATA} not found: the benchmark needs ../shared/data beside the checkout")
    articles, pairs = load()
    copies = sum(p.copy for p in pairs)
    print(f"{len(pairs)} judged pairs: {copies} copies, {len(pairs) - copies} independent write-ups")
    print(f"k-fold: {args.folds} folds x {args.repeats} shuffles\n")

    make = fingerprinter(NearParams())
    prints = {i: make.fingerprint(a["text"]) for i, a in articles.items()}
    unquoted = {i: make.fingerprint(_QUOTED.sub(" ", a["text"])) for i, a in articles.items()}
    containment = [overlap(prints[p.a].shingles, prints[p.b].shingles).containment for p in pairs]
    jaccard = [overlap(prints[p.a].shingles, prints[p.b].shingles).jaccard for p in pairs]
    containment_unquoted = [
        overlap(unquoted[p.a].shingles, unquoted[p.b].shingles).containment for p in pairs
    ]
    words = {i: Words.of(a["text"]) for i, a in articles.items()}
    grid = {
        VerifyParams(n, weight): [
            compare(words[p.a], words[p.b], VerifyParams(n, weight)).pair_share for p in pairs
        ]
        for n in (3, 4, 5)
        for weight in (0.0, 0.25, 0.5, 1.0)
    }
    shipped = VerifyParams()
    copied = grid[shipped]
    default = DedupConfig()

    rows: list[tuple[str, tuple[float, float], str]] = []
    for name, values in (
        ("word-5-gram containment", containment),
        ("word-5-gram Jaccard", jaccard),
        ("containment, quoted speech removed", containment_unquoted),
    ):
        threshold = best_threshold(values, pairs)
        in_sample = rates([v >= threshold for v in values], pairs)
        rows.append((f"{name}, best threshold in-sample", in_sample, f">= {threshold:.3f}"))
        rows.append(
            (f"{name}, threshold by k-fold", threshold_k_fold(values, pairs, args.folds, args.repeats), "")
        )
    threshold = best_threshold(copied, pairs)
    rows.append(
        (
            f"shared runs (run {shipped.run_words}, quotes {shipped.quote_weight:g}), best threshold in-sample",
            rates([v >= threshold for v in copied], pairs),
            f">= {threshold:.3f}",
        )
    )
    rows.append(
        (
            "shared runs, threshold by k-fold",
            threshold_k_fold(copied, pairs, args.folds, args.repeats),
            "",
        )
    )
    nested, chosen = nested_k_fold(grid, pairs, args.folds, args.repeats)
    picks = sorted({f"run {p.run_words}/quotes {p.quote_weight:g}" for p in chosen})
    rows.append(("shared runs, nested k-fold (run, quote weight, threshold)", nested, ", ".join(picks)))
    before = [
        o.jaccard >= default.jaccard or o.containment >= default.containment
        for o in (overlap(prints[p.a].shingles, prints[p.b].shingles) for p in pairs)
    ]
    rows.append(
        (
            "overlap rule shipped before (Jaccard or containment)",
            rates(before, pairs),
            f"J >= {default.jaccard} or C >= {default.containment}",
        )
    )
    at_default = [v >= default.copied_share for v in copied]
    rows.append(
        (
            "shared runs at the shipped default, pair alone",
            rates(at_default, pairs),
            f">= {default.copied_share} (chosen on ECB+ world precision)",
        )
    )
    pipeline, not_proposed = through_the_pipeline(articles, pairs, Thresholds.of(default))
    rows.append(
        (
            "feedd as shipped: LSH candidates + verification",
            rates(pipeline, pairs),
            f"{not_proposed} copies not proposed by the LSH",
        )
    )
    width = max(len(r[0]) for r in rows)
    print(f"{'decided by':<{width}}  copies  independent  note")
    for name, (copy_rate, independent_rate), note in rows:
        print(f"{name:<{width}}  {copy_rate:6.1%}  {independent_rate:11.1%}  {note}")

    mean_ms, p99_ms, mean_words = speed(articles, pairs)
    print(
        f"\nverification: {mean_ms:.3f} ms per pair on average, p99 {p99_ms:.3f} ms "
        f"(articles of {mean_words:.0f} words on average; both texts read for every pair)"
    )

    if args.sweep:
        from dataclasses import replace

        from dedup_eval import evaluate

        print(
            "\ncopied share threshold | judged pairs: copies, independent | ECB+ world: P, R, later copy dropped"
        )
        print("  (world-level: every ECB+ article through the detector in corpus order, bench/dedup_eval.py)")
        before_world = evaluate(replace(Thresholds.of(default), method="overlap"), verbose=False)
        print(
            f"  overlap rule before    | {rates(before, pairs)[0]:.1%} {rates(before, pairs)[1]:.1%} | "
            f"{before_world['ecb_p']:.3f} {before_world['ecb_r']:.3f} {before_world['ecb_strong_recall']:.3f}"
        )
        for threshold in (0.40, 0.44, 0.48, 0.50, 0.52, 0.55, 0.58, 0.60, 0.65):
            pair_rates = rates([v >= threshold for v in copied], pairs)
            world = evaluate(replace(Thresholds.of(default), copied_share=threshold), verbose=False)
            print(
                f"  {threshold:.2f}{' (default)' if threshold == default.copied_share else '          '}"
                f"       | {pair_rates[0]:.1%} {pair_rates[1]:.1%} | "
                f"{world['ecb_p']:.3f} {world['ecb_r']:.3f} {world['ecb_strong_recall']:.3f}"
            )

    print(f"\nwrong at the shipped default (copied share >= {default.copied_share}):")
    for label, wrong in (
        (
            "independent decided copy",
            [(v, p) for v, p in zip(copied, pairs, strict=True) if not p.copy and v >= default.copied_share],
        ),
        (
            "copies decided independent",
            [(v, p) for v, p in zip(copied, pairs, strict=True) if p.copy and v < default.copied_share],
        ),
    ):
        print(f"  {label}: {len(wrong)}")
        for value, pair in sorted(wrong, key=lambda r: -r[0] if label.startswith("independent") else r[0])[
            : args.examples
        ]:
            evidence = compare(words[pair.a], words[pair.b])
            longest = evidence.runs[0].length if evidence.runs else 0
            print(
                f"    {pair.a} / {pair.b}: copied share {value:.2f}, {evidence.run_count} runs, "
                f"longest {longest} words. Judged: {pair.why}"
            )


if __name__ == "__main__":
    main()
