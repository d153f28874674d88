"""Results analysis benchmark: 30,000 candidates x 60 items simulated from a seeded 2PL model,
then item analysis, test analysis at a pass mark, Mantel-Haenszel DIF for every item on one
characteristic, and (separately) the logistic-regression DIF and the item analysis with raw
choices (distractor tables).

    .venv/bin/python benchmarks/results.py [--candidates N] [--items K] [--runs 3]

Prints a Markdown table of the medians (for benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from itembank.results import analysis, dif
from itembank.results.matrix import ScoredMatrix

DIF_LOGITS = 0.8  # two items made this much harder for the focal group at every ability


def planted(k: int) -> tuple[int, int]:
    """The two items with DIF (columns 7 and 42 of 60)."""
    return k // 8, 7 * k // 10


def simulate(n: int, k: int, seed: int) -> tuple[ScoredMatrix, list[str | None]]:
    """0/1 scores from a 2PL model (a ~ U(0.6, 2.0), b ~ N(0, 1), theta ~ N(0, 1)), a 60/40
    group split with DIF planted in two items, and raw choices (key "A", wrong answers spread
    over B, C, D) so the distractor tables have something to count."""
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(n)
    a = rng.uniform(0.6, 2.0, k)
    b = rng.standard_normal(k)
    focal = rng.random(n) < 0.4
    shift = np.zeros((n, k))
    shift[np.ix_(focal, list(planted(k)))] = DIF_LOGITS
    p = 1 / (1 + np.exp(-(a * (theta[:, None] - b) - shift)))
    scores = (rng.random((n, k)) < p).astype(np.float64)
    wrong = np.array(["B", "C", "D"], dtype=object)[rng.integers(0, 3, (n, k))]
    choices = np.where(scores == 1, "A", wrong).astype(object)
    m = ScoredMatrix(
        candidates=tuple(f"C{i}" for i in range(n)),
        items=tuple(f"I{j + 1:02d}" for j in range(k)),
        scores=scores,
        max_scores=np.ones(k),
        omitted=np.zeros((n, k), dtype=np.bool_),
        choices=choices,
        keys=("A",) * k,
    )
    return m, ["focal" if f else "reference" for f in focal]


def median_time(run: Callable[[], object], runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=30_000)
    parser.add_argument("--items", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261130)
    args = parser.parse_args()
    n, k, runs = args.candidates, args.items, args.runs
    m, group = simulate(n, k, args.seed)
    scored = ScoredMatrix(m.candidates, m.items, m.scores, m.max_scores, m.omitted)
    pass_mark = float(round(0.6 * k))
    rows = []
    t_items, items = median_time(lambda: analysis.item_analysis(scored), runs)
    rows.append(("item analysis (scores only)", t_items))
    t_test, test = median_time(lambda: analysis.test_analysis(scored, pass_mark=pass_mark), runs)
    rows.append((f"test analysis with CSEM and Subkoviak at {pass_mark:g}", t_test))
    t_mh, mh = median_time(lambda: dif.mantel_haenszel(scored, group, "reference", "focal"), runs)
    rows.append((f"Mantel-Haenszel DIF, all {k} items, one characteristic", t_mh))
    rows.append(("**item + test analysis + MH DIF**", t_items + t_test + t_mh))
    t_choices, _ = median_time(lambda: analysis.item_analysis(m), runs)
    rows.append(("item analysis with raw choices (distractor tables by thirds)", t_choices))
    t_lr, _ = median_time(lambda: dif.logistic(scored, group, "reference", "focal"), 1)
    rows.append((f"logistic-regression DIF, all {k} items (3 Logit fits each; n=1)", t_lr))
    print(f"{n:,} candidates x {k} items, seed {args.seed}; Python {platform.python_version()}, "
          f"numpy {np.__version__}; medians of {runs} runs\n")
    print("| measure | time |\n|---|---:|")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.3f} s |")
    assert isinstance(test, analysis.TestStats) and isinstance(mh, tuple)
    flagged = [r.item for r in mh if r.ets_class == "C"]
    print(f"\nalpha {test.alpha:.4f}, SEM {test.sem:.3f}, CSEM at the pass mark "
          f"{test.csem_at_pass:.3f}; ETS class C: {', '.join(flagged) or 'none'} "
          f"(planted: {', '.join(m.items[j] for j in planted(k))}); items flagged: "
          f"{len({f.item for f in analysis.flags(items, analysis.FlagRules())})}")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
