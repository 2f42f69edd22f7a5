"""Benchmark: what dedup does to a corpus, label-free (issue 16).

    python bench/dedup_corpus.py [--against REV] [--seeds N] [--sweep]

Two figures over a whole run, on word tokens with case and punctuation folded:

- novel words lost: over every dropped document, its words not inside an 8-word run found in
  any kept document: text the corpus no longer has;
- redundant words kept: over kept documents, words inside an 8-word run that another kept
  document also has: what dedup exists to remove.

On ECB+ in arrival order and shuffled (N seeds, figures averaged), and on the AEB wire copies. Next
to feedd as shipped (DedupConfig() defaults, the pipeline's own steps: fingerprint, LSH
candidates, `decide`, then indexing what is kept): no dedup (nothing lost, all redundancy), and a
greedy pass that drops a document when at least X of its words sit inside 8-word runs of the
documents kept so far, at several X: the trade-off curve. feedd should lose at most as many novel
words as the greedy pass at 0.6 while keeping no more redundancy than it.

--sweep repeats feedd at other [dedup] copied_share and min_new_words (1,000,000: no word
threshold), to show where the defaults sit. --against REV also runs feedd as of git revision REV (a temporary worktree) on the same documents
and orders, in the same invocation: the before -> after of a change. Needs ../shared/data.
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import re
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "dedup"
RUN = 8
GREEDY = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
#: (copied_share, min_new_words) for --sweep.
SWEEP = [(share, words) for share in (0.5, 0.55, 0.6, 0.65, 0.7) for words in (100, 150, 250, 1_000_000)]
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Doc:
    id: str
    text: str


def ecbplus() -> list[Doc]:
    lines = (DATA / "ecbplus" / "articles.jsonl").open(encoding="utf-8")
    return [Doc(row["id"], row["text"]) for row in map(json.loads, lines)]


def aeb_copies() -> list[Doc]:
    docs = []
    for row in map(json.loads, (DATA / "wirecopy_aeb.jsonl").open(encoding="utf-8")):
        paragraphs = row["paragraphs"]
        if isinstance(paragraphs, str):
            paragraphs = ast.literal_eval(paragraphs)
        docs.append(Doc(row["id"], row["title"] + "\n" + "\n".join(paragraphs)))
    return docs


def words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def grams(tokens: Sequence[str]) -> list[int]:
    return [hash(tuple(tokens[i : i + RUN])) for i in range(len(tokens) - RUN + 1)]


def covered(tokens: Sequence[str], found: Iterable[bool]) -> int:
    """Words inside at least one run whose gram is `found`."""
    mask = bytearray(len(tokens))
    for position, hit in enumerate(found):
        if hit:
            mask[position : position + RUN] = b"\x01" * RUN
    return sum(mask[: len(tokens)])


@dataclass(frozen=True)
class Figures:
    dropped: int
    lost: int
    redundant: int
    total: int


def figures(docs: Sequence[Doc], dropped: set[str]) -> Figures:
    tokens = {doc.id: words(doc.text) for doc in docs}
    doc_grams = {doc.id: grams(tokens[doc.id]) for doc in docs}
    kept = [doc.id for doc in docs if doc.id not in dropped]
    holders: Counter[int] = Counter()
    for doc_id in kept:
        holders.update(set(doc_grams[doc_id]))
    kept_grams = set(holders)
    lost = sum(len(tokens[d]) - covered(tokens[d], (g in kept_grams for g in doc_grams[d])) for d in dropped)
    redundant = sum(covered(tokens[d], (holders[g] > 1 for g in doc_grams[d])) for d in kept)
    return Figures(len(dropped), lost, redundant, sum(len(t) for t in tokens.values()))


def greedy(docs: Sequence[Doc], share: float) -> set[str]:
    seen: set[int] = set()
    dropped = set()
    for doc in docs:
        tokens = words(doc.text)
        doc_grams = grams(tokens)
        if tokens and covered(tokens, (g in seen for g in doc_grams)) >= share * len(tokens):
            dropped.add(doc.id)
        else:
            seen.update(doc_grams)
    return dropped


def feedd_drops(docs: Sequence[Doc], **dedup: object) -> set[str]:
    """feedd's decisions with the shipped [dedup] defaults (or these settings), step by step as
    the pipeline takes them."""
    from feedd.config import DedupConfig
    from feedd.dedup import FingerprintRecord, NearIndex, NearParams, SavedFingerprint, Thresholds, decide

    thresholds = Thresholds.of(DedupConfig.model_validate(dedup))
    index = NearIndex(NearParams())
    stored: dict[int, SavedFingerprint] = {}
    dropped = set()
    for seq, doc in enumerate(docs):
        fingerprint = index.fingerprinter.fingerprint(doc.text)
        verdict = decide(fingerprint, (stored[s] for s in index.candidates(fingerprint)), thresholds)
        if verdict.duplicate_of is not None:
            dropped.add(doc.id)
            continue
        stored[seq] = SavedFingerprint(doc.id, fingerprint.shingles, FingerprintRecord.of(fingerprint).text)
        index.add(seq, fingerprint.minhash, fingerprint.lead_minhash)
    return dropped


def orders(seeds: int) -> dict[str, list[Doc]]:
    ecb, aeb = ecbplus(), aeb_copies()
    runs = {"ECB+ arrival order": ecb}
    for seed in range(seeds):
        shuffled = list(ecb)
        random.Random(seed).shuffle(shuffled)
        runs[f"ECB+ shuffled #{seed}"] = shuffled
    runs["AEB wire copies"] = aeb
    return runs


def feedd_at(revision: str, seeds: int) -> dict[str, set[str]]:
    """feedd_drops on every order, as of `revision`, in a temporary worktree."""
    with tempfile.TemporaryDirectory() as folder:
        tree = Path(folder) / "tree"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(tree), revision], check=True
        )
        try:
            out = subprocess.run(
                [sys.executable, __file__, "--drops-only", "--seeds", str(seeds)],
                env={"PYTHONPATH": str(tree / "daemon"), "PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0"},
                check=True,
                capture_output=True,
                text=True,
            )
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=True)
    return {name: set(ids) for name, ids in json.loads(out.stdout).items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--against", metavar="REV", help="also feedd as of this git revision")
    parser.add_argument("--seeds", type=int, default=3, help="shuffled orders of ECB+ (default 3)")
    parser.add_argument(
        "--sweep", action="store_true", help="also feedd at other copied_share and min_new_words"
    )
    parser.add_argument("--drops-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not DATA.exists():
        raise SystemExit(f"{DATA} not found: the benchmark needs ../shared/data beside the checkout")
    runs = orders(args.seeds)
    if args.drops_only:
        print(json.dumps({name: sorted(feedd_drops(docs)) for name, docs in runs.items()}))
        return
    before = feedd_at(args.against, args.seeds) if args.against else None
    rows: dict[str, dict[str, list[Figures]]] = {}
    for name, docs in runs.items():
        group = "ECB+ shuffled" if name.startswith("ECB+ shuffled") else name
        policies = rows.setdefault(group, {})
        policies.setdefault("no dedup", []).append(figures(docs, set()))
        for share in GREEDY:
            policies.setdefault(f"greedy {share:.1f}", []).append(figures(docs, greedy(docs, share)))
        if before is not None:
            policies.setdefault(f"feedd @ {args.against}", []).append(figures(docs, before[name]))
        policies.setdefault("feedd (this checkout)", []).append(figures(docs, feedd_drops(docs)))
        for share, words in SWEEP if args.sweep else ():
            drops = feedd_drops(docs, copied_share=share, min_new_words=words)
            policies.setdefault(f"  share {share:.2f}, {words} words", []).append(figures(docs, drops))
    for group, policies in rows.items():
        sample = policies["no dedup"][0]
        print(
            f"\n{group}: {len(runs[group]) if group in runs else len(runs['ECB+ arrival order'])} documents, "
            f"{sample.total} words" + (f"; mean of {args.seeds} orders" if group == "ECB+ shuffled" else "")
        )
        print(f"  {'policy':<28} {'dropped':>8} {'novel words lost':>17} {'redundant words kept':>21}")
        for policy, measured in policies.items():
            mean = [
                sum(getattr(f, key) for f in measured) / len(measured)
                for key in ("dropped", "lost", "redundant")
            ]
            print(f"  {policy:<28} {mean[0]:>8.1f} {mean[1]:>17.0f} {mean[2]:>21.0f}")


if __name__ == "__main__":
    main()
