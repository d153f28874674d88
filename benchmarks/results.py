"""Results benchmark: the whole pipeline for 30,000 candidates x 60 items, and the pure cores.

Pipeline: a temporary copy of the sample bank (its own git repository) gets a 60-item blueprint
(48 general items and one 12-item case) and one assembled form; a responses CSV (one row per
candidate and item, the letters shown, the platform's score) and a candidates CSV are generated
from a seeded 2PL model (itembank.results.simulation.simulate, DIF planted in two items for a
40% focal group); then `bank.results.import_results` into a temporary results folder, the
ScoredMatrix from the store, item and test analysis, Mantel-Haenszel DIF for every item, and a
Rasch calibration. The import runs in a subprocess (so `--src DIR` can time another version of
the package on the same files: `git archive <commit> src schemas | tar -x -C DIR`).

In memory (`--in-memory`): the same statistics on a simulated ScoredMatrix, plus the item
analysis with raw choices (distractor tables) and logistic-regression DIF.

    .venv/bin/python benchmarks/results.py [--candidates N] [--items 60] [--runs 3]
    .venv/bin/python benchmarks/results.py --in-memory
    .venv/bin/python benchmarks/results.py --import-only --src /tmp/old   # the code before

Prints Markdown tables of the medians (for benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from itembank import open_bank  # noqa: E402
from itembank.forms.manifests import delivery_id  # noqa: E402
from itembank.forms.scoring import score  # noqa: E402
from itembank.results import analysis, dif, irt  # noqa: E402
from itembank.results.matrix import ScoredMatrix  # noqa: E402
from itembank.results.simulation import simulate  # noqa: E402

DIF_LOGITS = 0.8  # two items made this much harder for the focal group at every ability
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
GIT = ["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.org"]


def planted(k: int) -> tuple[int, int]:
    """The two items with DIF (columns 7 and 42 of 60)."""
    return k // 8, 7 * k // 10


def parameters(k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """2PL slopes a ~ U(0.6, 2.0) and intercepts d = -a b with b ~ N(0, 1)."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.6, 2.0, k)
    return a, -a * rng.standard_normal(k)


def in_memory(n: int, k: int, seed: int) -> tuple[ScoredMatrix, list[str | None]]:
    """A simulated ScoredMatrix (simulation.simulate: 60/40 reference/focal, DIF planted in
    two items) with raw choices (key "A", wrong answers spread over B, C, D) so the
    distractor tables have something to count."""
    a, d = parameters(k, seed)
    labels = [f"I{j + 1:02d}" for j in range(k)]
    sim = simulate(a, d, n, seed, groups={"reference": 0.6, "focal": 0.4},
                   dif={labels[j]: -DIF_LOGITS for j in planted(k)}, items=labels)
    scores = sim.matrix.scores
    rng = np.random.default_rng(seed + 1)
    wrong = np.array(["B", "C", "D"], dtype=object)[rng.integers(0, 3, (n, k))]
    m = ScoredMatrix(
        candidates=tuple(f"C{i}" for i in range(n)),
        items=tuple(labels),
        scores=scores,
        max_scores=np.ones(k),
        omitted=np.zeros((n, k), dtype=np.bool_),
        choices=np.where(scores == 1, "A", wrong).astype(object),
        keys=("A",) * k,
    )
    return m, list(sim.groups or ())


def median_time(run: Callable[[], object], runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


# ---- the pipeline --------------------------------------------------------------------------


def bank_with_form(tmp: Path, k: int) -> tuple[Path, str]:
    """A copy of the sample bank in its own repository, with a k-item form (k - 12 general
    items and one 12-item case) assembled and committed."""
    repo = tmp / "repo"
    shutil.copytree(ROOT / "item_bank", repo / "item_bank")
    base = json.loads((repo / "item_bank/blueprints/practitioner-knowledge-live.json").read_text())
    general = k - 12
    base.update(id=f"bench-{k}", standards=[], max_overlap=k, exposure_cap=5,
                difficulty={"source": "writer", "target": 0.68, "tolerance": 0.2},
                instructions=f"{k} questions.")
    base["sections"][0]["items"] = general
    (repo / f"item_bank/blueprints/bench-{k}.json").write_text(json.dumps(base, indent=2) + "\n")
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "bench"]):
        subprocess.run([*GIT, *command], cwd=repo, check=True)
    bank = open_bank(repo / "item_bank")
    outcome = bank.forms.assemble(f"bench-{k}", 1, 2026, author="Bench <bench@example.org>")
    return repo / "item_bank", str(outcome.manifests[0]["id"])


def responses_csv(bank_path: Path, form: str, n: int, seed: int) -> tuple[bytes, bytes, dict[str, Any]]:
    """(responses CSV, candidates CSV, facts) for `form`: simulation.simulate gives who earns
    full marks; a full mark is the key in the letters shown, anything else one wrong answer
    (a distractor; a multiple-response key with one option swapped; one statement flipped),
    1% omitted. The platform's score is the bank's score of that response."""
    bank = open_bank(bank_path)
    manifest = bank.forms.form(form)
    entries = [e for s in manifest["sections"] for e in s["items"]]
    k = len(entries)
    a, d = parameters(k, seed)
    labels = [str(e["id"]) for e in entries]
    sim = simulate(a, d, n, seed, groups={"male": 0.6, "female": 0.4},
                   dif={labels[j]: -DIF_LOGITS for j in planted(k)}, items=labels)
    rng = np.random.default_rng(seed + 1)
    columns = []
    for j, entry in enumerate(entries):
        item = bank.get(str(entry["id"]))
        order = [str(o) for o in entry["option_order"]]
        letter = {oid: LETTERS[x] for x, oid in enumerate(order)}
        key = item["key"]
        if isinstance(key, Mapping):
            right = {s: bool(v) for s, v in key.items()}
            answers = [right] + [{**right, s: not right[s]} for s in sorted(right)]
            shown = ["|".join(f"{letter[s]}={'T' if v else 'F'}"
                              for s, v in sorted(r.items(), key=lambda kv: letter[kv[0]]))
                     for r in answers]
        else:
            keys = sorted(str(x) for x in key)
            wrong = [o for o in order if o not in keys]
            answers = [keys] + ([[o] for o in wrong] if len(keys) == 1 else
                                [sorted([*keys[1:], o]) for o in wrong])
            shown = ["|".join(sorted(letter[o] for o in r)) for r in answers]
        marks = [f"{float(score(item, r)):g}" for r in answers]
        pick = np.where(sim.matrix.scores[:, j] == 1, 0, rng.integers(1, len(answers), n))
        omit = rng.random(n) < 0.01
        text = np.array(shown, dtype=object)[pick]
        mark = np.array(marks, dtype=object)[pick]
        text[omit], mark[omit] = "", "0"
        columns.append((delivery_id(entry), text, mark))
    out = io.StringIO()
    out.write("candidate,form,item,response,score\n")
    people = [f"CAND-{i + 1:06d}" for i in range(n)]
    for i, person in enumerate(people):
        out.write("".join(f"{person},{form},{ident},{text[i]},{mark[i]}\n"
                          for ident, text, mark in columns))
    cands = io.StringIO()
    cands.write("candidate,employer,sex\n")
    for person, group in zip(people, sim.groups or (), strict=True):
        cands.write(f"{person},Borough of Eastwick,{group}\n")
    facts = {"planted": [labels[j] for j in planted(k)], "items": k}
    return out.getvalue().encode(), cands.getvalue().encode(), facts


IMPORT = """
import sys, time
sys.path.insert(0, sys.argv[1])
from itembank import open_bank
bank = open_bank(sys.argv[2])
start = time.perf_counter()
outcome = bank.results.import_results([sys.argv[3]], sys.argv[4], sys.argv[5], sys.argv[6])
print(time.perf_counter() - start, outcome.responses, len(outcome.disagreements))
"""


def time_import(src: Path, bank: Path, form: str, files: tuple[Path, Path], store: Path) -> float:
    """Seconds of one import_results call (in a subprocess running the package in `src`)."""
    shutil.rmtree(store, ignore_errors=True)
    run = subprocess.run(
        [sys.executable, "-c", IMPORT, str(src), str(bank), str(files[0]), form, str(files[1]),
         str(store)], capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": str(src)})
    return float(run.stdout.splitlines()[-1].split()[0])


def pipeline(args: argparse.Namespace) -> None:
    n, runs = args.candidates, args.runs
    load = os.getloadavg()[0]
    src = Path(args.src).resolve() / "src" if args.src else ROOT / "src"
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        bank_path, form = bank_with_form(tmp, args.items)
        start = time.perf_counter()
        data, people, facts = responses_csv(bank_path, form, n, args.seed)
        files = (tmp / "responses.csv.gz", tmp / "candidates.csv")
        files[0].write_bytes(gzip.compress(data, 1, mtime=0))
        files[1].write_bytes(people)
        rows.append((f"generate the CSV ({len(data) / 1e6:.0f} MB, {files[0].stat().st_size / 1e6:.1f} "
                     "MB gzipped; n=1)", time.perf_counter() - start))
        store = tmp / "results"
        times = [time_import(src, bank_path, form, files, store) for _ in range(args.import_runs)]
        rows.append((f"import: parse, match and re-score, store (n={len(times)}: "
                     f"{', '.join(f'{t:.1f}' for t in times)})", statistics.median(times)))
        if not args.import_only:
            bank = open_bank(bank_path)
            t_matrix, m = median_time(lambda: bank.results.matrix(form, store), runs)
            rows.append(("ScoredMatrix from the store", t_matrix))
            assert isinstance(m, ScoredMatrix)
            sex = bank.results.characteristics(form, store)["sex"]
            pass_mark = float(round(0.6 * m.max_scores.sum()))
            t_items, _ = median_time(lambda: analysis.item_analysis(m), runs)
            rows.append(("item analysis with raw choices (distractor tables)", t_items))
            t_test, test = median_time(lambda: analysis.test_analysis(m, pass_mark=pass_mark), runs)
            rows.append((f"test analysis with CSEM and Subkoviak at {pass_mark:g}", t_test))
            t_mh, mh = median_time(lambda: dif.mantel_haenszel(m, sex, "male", "female"), runs)
            rows.append(("Mantel-Haenszel DIF, every item, sex", t_mh))
            rows.append(("**item + test analysis + MH DIF**", t_items + t_test + t_mh))
            t_rasch, _ = median_time(lambda: irt.calibrate(m, "rasch"), runs)
            rows.append(("Rasch calibration", t_rasch))
            assert isinstance(test, analysis.TestStats) and isinstance(mh, tuple)
            flagged = [r.item for r in mh if r.ets_class == "C"]
            print(f"alpha {test.alpha:.4f}; ETS class C: {', '.join(flagged) or 'none'} "
                  f"(planted: {', '.join(facts['planted'])})")
    print(f"{n:,} candidates x {facts['items']} items, seed {args.seed}; package {src}; "
          f"Python {platform.python_version()}, numpy {np.__version__}; medians of {runs} runs; "
          f"load average {load:.1f} before, {os.getloadavg()[0]:.1f} after\n")
    print("| step | time |\n|---|---:|")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.2f} s |")


def memory(args: argparse.Namespace) -> None:
    n, k, runs = args.candidates, args.items, args.runs
    m, group = in_memory(n, k, args.seed)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=30_000)
    parser.add_argument("--items", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--import-runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=20261130)
    parser.add_argument("--in-memory", action="store_true", help="the pure cores only")
    parser.add_argument("--import-only", action="store_true")
    parser.add_argument("--src", help="a tree holding src/ of another version (the import)")
    args = parser.parse_args()
    memory(args) if args.in_memory else pipeline(args)


if __name__ == "__main__":
    main()
