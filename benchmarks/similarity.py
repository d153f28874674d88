"""Time the near-duplicate index (checks/similarity.py): building it, one query (what the
editor's live check does per keystroke pause), and every pair above the threshold (what
validate does when the report is not cached). Synthetic items are random sentences drawn
from the sample bank's own words at their natural frequencies, so vocabulary and overlap
look like a real bank's. A measurement, not a test: nothing here passes or fails.

    .venv/bin/python benchmarks/similarity.py [--sizes 10000 50000] [--pairs-up-to 10000]
    .venv/bin/python benchmarks/similarity.py --labelled     # the labelled pairs, for a report
    .venv/bin/python benchmarks/similarity.py --sizes --planted 10000 50000
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from itembank.checks.similarity import DEFAULT_THRESHOLD, SimilarityIndex  # noqa: E402

PAIRS = ROOT / "tests" / "data" / "duplicates" / "pairs.json"


def labelled() -> None:
    """Each labelled pair's score and the confusion counts at the default threshold."""
    data = json.loads(PAIRS.read_text(encoding="utf-8"))
    items, pairs = data["items"], data["pairs"]
    index = SimilarityIndex(items.values())
    counts = {"TP": 0, "FP": 0, "FN": 0, "TN": 0}
    for pair in sorted(pairs, key=lambda p: -index.score(items[p["a"]], items[p["b"]])):
        score = index.score(items[pair["a"]], items[pair["b"]])
        found, duplicate = score >= DEFAULT_THRESHOLD, pair["label"] == "duplicate"
        counts[("T" if found == duplicate else "F") + ("P" if found else "N")] += 1
        print(f"{score:.3f}  {pair['label']:<9}  {pair['a']} / {pair['b']}: {pair['reason']}")
    tp, fp, fn = counts["TP"], counts["FP"], counts["FN"]
    print(
        f"threshold {DEFAULT_THRESHOLD}: {counts}; recall {tp / (tp + fn):.3f}, "
        f"precision {tp / (tp + fp):.3f}"
    )


def planted(size: int, words: list[str]) -> None:
    """The labelled items hidden among `size` synthetic ones: which duplicate pairs pairs()
    finds (it compares only pairs sharing a distinctive key word)."""
    data = json.loads(PAIRS.read_text(encoding="utf-8"))
    items = make_items(size, words, random.Random(size)) + list(data["items"].values())
    index = SimilarityIndex(items)
    start = time.perf_counter()
    found = {frozenset((a, b)) for a, b, _ in index.pairs(threshold=DEFAULT_THRESHOLD)}
    took = time.perf_counter() - start
    wanted = [
        p
        for p in data["pairs"]
        if p["label"] == "duplicate"
        and index.score(data["items"][p["a"]], data["items"][p["b"]]) >= DEFAULT_THRESHOLD
    ]
    hits = sum(frozenset((p["a"], p["b"])) in found for p in wanted)
    print(
        f"{size:>6} synthetic items + the labelled ones: pairs() {took:.2f} s, found {hits} of "
        f"the {len(wanted)} duplicate pairs scoring above the threshold; {len(found)} pairs in all"
    )


def bank_words() -> list[str]:
    words: list[str] = []
    for path in sorted((ROOT / "item_bank" / "items").glob("*.json")):
        item = json.loads(path.read_text(encoding="utf-8"))
        texts = [item["stem"]] + [f"{o['text']} {o['rationale']}" for o in item["options"]]
        words += re.findall(r"[A-Za-z0-9']+", " ".join(texts))
    return words


def make_items(size: int, words: list[str], rng: random.Random) -> list[dict]:
    def sentence(n: int) -> str:
        return " ".join(rng.choice(words) for _ in range(n)) + "."

    items = []
    for i in range(size):
        options = [
            {"id": c, "text": sentence(rng.randint(2, 20)), "rationale": sentence(25)}
            for c in "ABCD"
        ]
        items.append(
            {
                "id": f"SY-{i:06d}",
                "format": "single_best_answer",
                "stem": sentence(45),
                "options": options,
                "key": [rng.choice("ABCD")],
                "references": [],
            }
        )
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 50_000])
    parser.add_argument("--pairs-up-to", type=int, default=10_000)
    parser.add_argument("--labelled", action="store_true", help="score the labelled pairs only")
    parser.add_argument("--planted", type=int, nargs="*", default=[], help="sizes to plant in")
    args = parser.parse_args()
    if args.labelled:
        labelled()
        return
    words = bank_words()
    for size in args.planted:
        planted(size, words)
    for size in args.sizes:
        items = make_items(size, words, random.Random(size))
        start, cpu = time.perf_counter(), time.process_time()
        index = SimilarityIndex(items)
        built, built_cpu = time.perf_counter() - start, time.process_time() - cpu
        queries = []
        for probe in items[:5]:
            start = time.perf_counter()
            index.similar(probe)
            queries.append(time.perf_counter() - start)
        line = (
            f"{size:>6} items: build {built:.2f} s ({built_cpu:.2f} s CPU), "
            f"one query {min(queries) * 1000:.0f} ms"
        )
        if size <= args.pairs_up_to:
            start, cpu = time.perf_counter(), time.process_time()
            found = len(index.pairs(threshold=DEFAULT_THRESHOLD))
            line += (
                f", all pairs {time.perf_counter() - start:.2f} s "
                f"({time.process_time() - cpu:.2f} s CPU; {found} above the threshold)"
            )
        print(line, flush=True)


if __name__ == "__main__":
    main()
