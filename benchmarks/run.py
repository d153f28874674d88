"""Benchmarks for the item bank core (not part of the pass/fail suite).

Generates synthetic banks of 10,000 and 50,000 valid items in temporary git repositories and
measures: cold validation (no cache), validation of the unchanged bank, coverage, one
save-and-commit, and check-jsonschema over the same item files with the same schema.

    python benchmarks/run.py [--sizes 10000 50000] [--repeat 3]

Prints a Markdown table and writes benchmarks/results/latest.json. Copy the medians into
benchmarks/README.md with the machine they were measured on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from itembank import open_bank  # noqa: E402
from itembank.core.canonical import dumps  # noqa: E402

FORMATS = ["single_best_answer", "multiple_response", "true_false", "multiple_true_false"]
WORDS = ["assessment", "child", "family", "parent", "risk", "plan", "review", "harm", "school", "health", "police", "court", "consent", "capacity", "neglect", "abuse", "support", "referral", "strategy", "conference", "record"]


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def make_item(i: int, rng: random.Random) -> dict:
    fmt = FORMATS[i % 4]
    letters = {"single_best_answer": "ABCD", "multiple_response": "ABCDEFGH",
               "true_false": "AB", "multiple_true_false": "ABCD"}[fmt]
    options = [{"id": c, "text": sentence(rng, 8), "rationale": sentence(rng, 12)} for c in letters]
    key: object
    if fmt == "multiple_response":
        key = sorted(rng.sample(list(letters), 3))
    elif fmt == "multiple_true_false":
        key = {c: rng.random() < 0.5 for c in letters}
    else:
        key = [rng.choice(letters)]
    item = {
        "schema_version": "1.0", "id": f"SY-{i:06d}", "format": fmt, "section": "general",
        "roles": ["practitioner"], "standards": [
            {"framework": "fw-bench", "statement": f"BS-{(i % 10) + 1:02d}", "primary": True}],
        "references": ["children-act-1989"], "stem": sentence(rng, 30), "options": options,
        "key": key, "rationale": sentence(rng, 25), "author": "Bench Writer <bench@example.org>",
        "status": "draft", "enemies": [], "difficulty_estimate": round(rng.uniform(0.3, 0.9), 2),
        "tags": ["synthetic"],
        "scoring": {"rule": "partial_credit" if fmt in ("multiple_response",
                                                        "multiple_true_false")
                    else "all_or_nothing", "max_score": 1},
    }
    if fmt == "multiple_response":
        item["select_count"] = 3
    return item


def git(cwd: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.org",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.org"}
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=env)


def make_bank(root: Path, size: int) -> Path:
    rng = random.Random(size)
    bank = root / "bank"
    (bank / "items").mkdir(parents=True)
    (bank / "standards").mkdir()
    (bank / "bank.json").write_text(dumps({
        "schema_version": "1.0", "id": "bench", "title": "Synthetic bank",
        "roles": [{"id": "practitioner", "title": "Practitioner"}], "frameworks": ["fw-bench"],
        "review_policy": {"approvals_required": 2}, "panels": []}))
    (bank / "references.json").write_text(dumps({"schema_version": "1.0", "references": [
        {"id": "children-act-1989", "title": "Children Act 1989", "kind": "act",
         "status": "current", "date": "1989-11-16"},
        {"id": "working-together-2018", "title": "Working Together 2018",
         "kind": "statutory_guidance", "status": "superseded", "date": "2018-07-04",
         "superseded_on": "2023-12-15", "superseded_by": ["children-act-1989"],
         "flag_terms": ["Working Together 2018", "LSCB"]}]}))
    (bank / "standards" / "fw-bench.json").write_text(dumps({
        "schema_version": "1.0", "id": "fw-bench", "title": "Bench framework",
        "role": "practitioner", "version": "1", "effective_from": "2020-01-01",
        "status": "current", "statements": [
            {"id": f"BS-{n:02d}", "number": n, "title": f"Statement {n}"} for n in range(1, 11)]}))
    for i in range(1, size + 1):
        (bank / "items" / f"SY-{i:06d}.json").write_text(dumps(make_item(i, rng)))
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "synthetic bank")
    return bank


def timed(fn: Callable[[], object], repeat: int, before: Callable[[], None] | None = None
          ) -> list[float]:
    out = []
    for _ in range(repeat):
        if before:
            before()
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def check_jsonschema(bank: Path) -> float:
    exe = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    if exe is None:
        raise SystemExit("check-jsonschema is not installed (pip install -e '.[test]')")
    files = sorted(str(p) for p in (bank / "items").glob("*.json"))
    schema = str(ROOT / "schemas" / "item.schema.json")
    start = time.perf_counter()
    for i in range(0, len(files), 10000):  # stay under the command-line length limit
        subprocess.run([exe, "--schemafile", schema, *files[i:i + 10000]], check=True,
                       capture_output=True)
    return time.perf_counter() - start


def run(size: int, repeat: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="itembank-bench-") as tmp:
        started = time.perf_counter()
        bank_path = make_bank(Path(tmp), size)
        print(f"[{size}] generated and committed in {time.perf_counter() - started:.1f}s",
              file=sys.stderr)
        state = Path(tmp) / ".git" / "itembank"
        bank = open_bank(bank_path)

        def drop_cache() -> None:  # every cache: per-file results and the whole report
            for cache in state.glob("*.cache"):
                cache.unlink()

        def validate_ok() -> None:
            report = bank.validate()
            assert report.ok and report.files_checked == size + 3, report.errors[:3]

        result: dict = {"items": size}
        result["validate_cold"] = timed(validate_ok, repeat, drop_cache)
        result["validate_unchanged"] = timed(validate_ok, max(repeat, 5))
        result["coverage"] = timed(lambda: bank.coverage(), max(repeat, 5))
        counter = iter(range(10**6))

        def save_one() -> None:
            item = bank.get(f"SY-{next(counter) + 1:06d}")
            item["stem"] = item["stem"] + " Revised."
            bank.save(item, author="Bench Writer <bench@example.org>")

        result["save_and_commit"] = timed(save_one, max(repeat, 5))
        result["validate_after_one_save"] = timed(validate_ok, 1)
        result["check_jsonschema_items"] = [check_jsonschema(bank_path)]
        print(f"[{size}] done", file=sys.stderr)
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 50000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results = [run(size, args.repeat) for size in args.sizes]
    machine = {"python": platform.python_version(), "cpus": os.cpu_count(),
               "platform": platform.platform()}
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps({"machine": machine, "results": results},
                                                indent=2))
    print(f"machine: {machine}")
    print("| measure | " + " | ".join(f"{r['items']:,} items" for r in results) + " |")
    print("|---|" + "---|" * len(results))
    for key in ("validate_cold", "validate_unchanged", "validate_after_one_save", "coverage",
                "save_and_commit", "check_jsonschema_items"):
        cells = [f"{statistics.median(r[key]):.3f} s (n={len(r[key])})" for r in results]
        print(f"| {key} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
