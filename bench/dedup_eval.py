"""Evaluation: near-duplicate detection on ECB+ (real wire copies) and AEB wire copies.

    python bench/dedup_eval.py [--sweep]

Documents go through the detector one by one, in corpus order, exactly as the pipeline does
(fingerprint, MinHashLSH candidates, verification, then indexing of what is kept), once with
each verification: "overlap" (one containment threshold) and "shared-runs" (the default). Prints
pair precision / recall / F1 and the Adjusted Rand Index of the resulting clusters, recall on ECB+
copies with word-5-gram containment >= 0.5, recall per AEB rewrite kind, and the same-event
independent write-ups kept. `--sweep` repeats the overlap rule over a grid of thresholds.
"""

from __future__ import annotations

import argparse
import ast
import itertools
import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from math import comb
from pathlib import Path

from feedd.config import DedupConfig
from feedd.dedup import FingerprintRecord, NearIndex, NearParams, SavedFingerprint, Thresholds, decide

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dedup"


@dataclass(frozen=True)
class Doc:
    id: str
    text: str


def detect(docs: list[Doc], thresholds: Thresholds, params: NearParams | None = None) -> dict[str, str]:
    """{dropped doc id: id of the kept document it matched}."""
    index = NearIndex(params or NearParams())
    stored: dict[int, SavedFingerprint] = {}
    dropped: dict[str, str] = {}
    for seq, doc in enumerate(docs):
        fingerprint = index.fingerprinter.fingerprint(doc.text)
        seqs = index.candidates(fingerprint)
        verdict = decide(fingerprint, (stored[s] for s in seqs), thresholds)
        if verdict.duplicate_of is not None:
            dropped[doc.id] = verdict.duplicate_of.document_id
            continue
        text = FingerprintRecord.of(fingerprint).text
        stored[seq] = SavedFingerprint(doc.id, fingerprint.shingles, text)
        index.add(seq, fingerprint.minhash, fingerprint.lead_minhash)
    return dropped


def clusters_of(ids: list[str], links: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Each id's cluster: the kept document it (transitively) matched, or itself."""
    parent = {i: i for i in ids}

    def root(i: str) -> str:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in links:
        parent[root(a)] = root(b)
    return {i: root(i) for i in ids}


def pairs_of(clusters: dict[str, str]) -> set[frozenset[str]]:
    members: dict[str, list[str]] = defaultdict(list)
    for doc, cluster in clusters.items():
        members[cluster].append(doc)
    return {frozenset(p) for group in members.values() for p in itertools.combinations(group, 2)}


def adjusted_rand_index(truth: dict[str, str], predicted: dict[str, str]) -> float:
    contingency = Counter((truth[i], predicted[i]) for i in truth)
    sum_cells = sum(comb(n, 2) for n in contingency.values())
    sum_truth = sum(comb(n, 2) for n in Counter(truth.values()).values())
    sum_pred = sum(comb(n, 2) for n in Counter(predicted.values()).values())
    expected = sum_truth * sum_pred / comb(len(truth), 2)
    maximum = (sum_truth + sum_pred) / 2
    return (sum_cells - expected) / (maximum - expected) if maximum != expected else 1.0


def scores(
    truth_pairs: set[frozenset[str]], predicted_pairs: set[frozenset[str]], ignore: set[frozenset[str]]
):
    predicted = predicted_pairs - ignore
    true_positive = len(predicted & truth_pairs)
    precision = true_positive / len(predicted) if predicted else 1.0
    recall = true_positive / len(truth_pairs) if truth_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def load_ecbplus() -> tuple[list[Doc], list[dict]]:
    folder = DATA / "ecbplus"
    articles = [json.loads(line) for line in (folder / "articles.jsonl").open(encoding="utf-8")]
    docs = [Doc(a["id"], a["text"]) for a in articles]
    judged = [json.loads(line) for line in (folder / "judged_pairs.jsonl").open(encoding="utf-8")]
    return docs, judged


def load_aeb_copies() -> list[tuple[Doc, str, str]]:
    rows = [json.loads(line) for line in (DATA / "wirecopy_aeb.jsonl").open(encoding="utf-8")]
    out = []
    for row in rows:
        paragraphs = row["paragraphs"]
        if isinstance(paragraphs, str):
            paragraphs = ast.literal_eval(paragraphs)
        out.append((Doc(row["id"], row["title"] + "\n" + "\n".join(paragraphs)), row["cluster"], row["kind"]))
    return out


def _later(pair: dict, position: dict[str, int]) -> str:
    return max(pair["a"], pair["b"], key=position.__getitem__)


def _earlier(pair: dict, position: dict[str, int]) -> str:
    return min(pair["a"], pair["b"], key=position.__getitem__)


def evaluate(thresholds: Thresholds, verbose: bool) -> dict[str, float]:
    docs, judged = load_ecbplus()
    ids = [d.id for d in docs]
    started = time.perf_counter()
    dropped = detect(docs, thresholds)
    seconds = time.perf_counter() - started
    predicted = clusters_of(ids, dropped.items())
    # Gold clusters: the judged copy pairs, closed transitively.
    gold = clusters_of(ids, [(j["a"], j["b"]) for j in judged if j["label"] == "copy"])
    gold_pairs = pairs_of(gold)
    unclear = {frozenset((j["a"], j["b"])) for j in judged if j["label"] == "unclear"}
    precision, recall, f1 = scores(gold_pairs, pairs_of(predicted), unclear)
    ari = adjusted_rand_index(gold, predicted)
    strong = [j for j in judged if j["label"] == "copy" and j["containment5"] >= 0.5]
    strong_found = sum(predicted[j["a"]] == predicted[j["b"]] for j in strong)
    # The pair measures ask for the same cluster; what a corpus needs is that the later copy is
    # gone, whichever saved document it was matched to.
    position = {doc_id: n for n, doc_id in enumerate(ids)}
    later_dropped = sum(max(j["a"], j["b"], key=position.get) in dropped for j in strong)
    # Direction matters since issue 16: a later copy that is no longer than its original (a brief
    # after its story, a trimmed copy) must go; a later one that adds text of its own is kept.
    length = {doc.id: len(doc.text.split()) for doc in docs}
    copies = [j for j in judged if j["label"] == "copy"]
    later_shorter = [j for j in copies if length[_later(j, position)] <= length[_earlier(j, position)]]
    later_shorter_dropped = sum(_later(j, position) in dropped for j in later_shorter)
    independent = [j for j in judged if j["label"] == "independent"]
    independent_kept = sum(predicted[j["a"]] != predicted[j["b"]] for j in independent)
    result = {
        "ecb_p": precision,
        "ecb_r": recall,
        "ecb_f1": f1,
        "ecb_ari": ari,
        "ecb_strong_recall": strong_found / len(strong),
        "independent_kept": independent_kept / len(independent),
        "later_shorter_dropped": later_shorter_dropped / len(later_shorter),
    }

    aeb = load_aeb_copies()
    aeb_docs = [doc for doc, _, _ in aeb]
    aeb_dropped = detect(aeb_docs, thresholds)
    aeb_ids = [d.id for d in aeb_docs]
    aeb_pred = clusters_of(aeb_ids, aeb_dropped.items())
    aeb_gold = {doc.id: cluster for doc, cluster, _ in aeb}
    a_precision, a_recall, a_f1 = scores(pairs_of(aeb_gold), pairs_of(aeb_pred), set())
    kinds: dict[str, list[bool]] = defaultdict(list)
    original = {cluster: doc.id for doc, cluster, kind in aeb if kind == "original"}
    for doc, cluster, kind in aeb:
        if kind != "original":
            kinds[kind].append(aeb_pred[doc.id] == aeb_pred[original[cluster]])
    result.update(
        aeb_p=a_precision, aeb_r=a_recall, aeb_f1=a_f1, aeb_ari=adjusted_rand_index(aeb_gold, aeb_pred)
    )
    result.update({f"kind_{k}": sum(v) / len(v) for k, v in sorted(kinds.items())})
    result["ms_per_doc"] = seconds / len(docs) * 1000
    if verbose:
        print(f"ECB+ ({len(docs)} articles; {len(gold_pairs)} gold copy pairs, transitively closed)")
        print(f"  pair precision {precision:.3f}  recall {recall:.3f}  F1 {f1:.3f}  ARI {ari:.3f}")
        print(
            f"  recall on copies with containment >= 0.5: {strong_found}/{len(strong)} = {strong_found / len(strong):.3f}"
        )
        print(
            f"  copies with containment >= 0.5 whose later document was dropped: {later_dropped}/{len(strong)} = {later_dropped / len(strong):.3f}"
        )
        print(
            f"  judged copies whose later document is no longer than the earlier, later one dropped: "
            f"{later_shorter_dropped}/{len(later_shorter)} = {later_shorter_dropped / len(later_shorter):.3f}"
        )
        print(f"  same-event independent write-ups kept apart: {independent_kept}/{len(independent)}")
        false_drops = [
            (d, m) for d, m in dropped.items() if frozenset((d, m)) not in gold_pairs and gold[d] != gold[m]
        ]
        print(f"  drops not matching a judged copy: {len(false_drops)} {false_drops[:8]}")
        missed = [
            (j["a"], j["b"], j["containment5"], j["jaccard5"])
            for j in strong
            if predicted[j["a"]] != predicted[j["b"]]
        ]
        print(f"  missed copies with containment >= 0.5: {missed}")
        print(
            f"  {seconds / len(docs) * 1000:.2f} ms per document (fingerprint, candidates, verification, index)"
        )
        print(f"AEB wire copies ({len(aeb_docs)} documents in {len(original)} stories)")
        print(
            f"  pair precision {a_precision:.3f}  recall {a_recall:.3f}  F1 {a_f1:.3f}  ARI {result['aeb_ari']:.3f}"
        )
        print(
            "  recall per rewrite kind: "
            + ", ".join(f"{k} {sum(v)}/{len(v)}" for k, v in sorted(kinds.items()))
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sweep", action="store_true", help="also sweep the thresholds")
    args = parser.parse_args()
    if not DATA.exists():
        raise SystemExit(f"{DATA} not found: the evaluation needs ../shared/data beside the checkout")
    defaults = DedupConfig()
    print(f"{NearParams()}")
    for method in ("overlap", "shared-runs"):
        thresholds = replace(Thresholds.of(defaults), method=method)
        rule = (
            f"copied share >= {thresholds.copied_share}"
            if method == "shared-runs"
            else f"containment >= {thresholds.containment}"
        )
        print(
            f"\n== verification {method}: Jaccard >= {thresholds.jaccard} or {rule} "
            f"(smaller side >= {thresholds.min_shingles} shingles)"
        )
        evaluate(thresholds, verbose=True)
    if args.sweep:
        print(
            "\nsweep: jaccard containment | ECB+ P R F1 ARI strong-recall independent-kept | AEB P R F1 | worst kind"
        )
        for jaccard, containment in itertools.product(
            (0.3, 0.4, 0.5, 0.6, 0.7), (0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
        ):
            r = evaluate(
                Thresholds(jaccard, containment, defaults.min_shingles, method="overlap"), verbose=False
            )
            worst = min((v, k[5:]) for k, v in r.items() if k.startswith("kind_"))
            print(
                f"{jaccard:.1f} {containment:.1f} | {r['ecb_p']:.3f} {r['ecb_r']:.3f} {r['ecb_f1']:.3f} "
                f"{r['ecb_ari']:.3f} {r['ecb_strong_recall']:.3f} {r['independent_kept']:.3f} | "
                f"{r['aeb_p']:.3f} {r['aeb_r']:.3f} {r['aeb_f1']:.3f} | {worst[1]} {worst[0]:.3f}"
            )


if __name__ == "__main__":
    main()
