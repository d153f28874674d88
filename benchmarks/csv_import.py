"""Benchmark of `itembank import` (not part of the pass/fail suite).

Generates a CSV of N valid draft items (four formats, general and applied, ids left empty so
every row takes the next free id) and imports it with the real command line into a fresh copy of
the sample bank in a temporary git repository, once per run; prints the wall time of each run and
the median, with the machine and its load.

    python benchmarks/csv_import.py [--rows 10000 100000] [--repeat 3] [--src DIR]

Copy the medians into benchmarks/README.md with the machine they were measured on.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "item_bank"
WRITER = "Bench Writer <bench@example.org>"
WORDS = ["assessment", "child", "family", "parent", "risk", "plan", "review", "harm", "school",
         "health", "police", "court", "consent", "capacity", "neglect", "abuse", "support"]
HEADER = ["id", "format", "section", "stimulus", "roles", "standards", "references", "stem",
          *[f"{kind}_{c}" for c in "abcd" for kind in ("option", "rationale")], "key",
          "rationale", "difficulty", "tags"]


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def make_csv(rows: int, seed: int = 1) -> bytes:
    """`rows` valid rows; five are applied items (one added to each sample case); one in fifty
    has a stem over two physical lines (a quoted newline)."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER)
    writer.writeheader()
    formats = ["sba", "mr", "tf", "mtf"]
    for i in range(rows):
        fmt = formats[i % 4]
        letters = "ab" if fmt == "tf" else "abcd"
        row = {"format": fmt, "roles": "practitioner",
               "standards": f"pqs-practitioner-2018:PR-{(i % 9) + 1:02d}",
               "references": "children-act-1989", "stem": sentence(rng, 25),
               "rationale": sentence(rng, 15), "difficulty": f"{rng.uniform(0.3, 0.9):.2f}",
               "tags": "synthetic"}
        if i % 50 == 7:
            row["stem"] += "\nA second line of the stem."
        if i < 50 and i % 10 == 3:  # a case holds at most 20 items: one more in each case
            row.update(section="applied", stimulus=f"CS-{i // 10 + 1:04d}")
        for c in letters:
            row[f"option_{c}"] = sentence(rng, 6)
            row[f"rationale_{c}"] = sentence(rng, 8)
        row["key"] = {"sba": "B", "mr": "A;C", "tf": "A", "mtf": "TFTF"}[fmt]
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


def fresh_bank(tmp: Path) -> Path:
    repo = tmp / "repo"
    shutil.copytree(SAMPLE, repo / "item_bank")
    env = {**os.environ, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.org",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.org"}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "sample"]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)
    return repo / "item_bank"


def one_run(csv_file: Path, rows: int, src: Path | None) -> float:
    command = [str(Path(sys.executable).parent / "itembank")]
    env = dict(os.environ)
    if src:  # another version of the code, e.g. `git archive <commit> src | tar -x -C DIR`
        command = [sys.executable, "-c", "import sys; from itembank.cli import run; "
                   "sys.exit(run())"]
        env["PYTHONPATH"] = str(src)
    with tempfile.TemporaryDirectory(prefix="itembank-csv-bench-") as tmp:
        bank = fresh_bank(Path(tmp))
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run([*command, "import", str(csv_file), "--bank", str(bank),
                               "--author", WRITER, "--format", "json"],
                              capture_output=True, text=True, env=env)
        elapsed = time.perf_counter() - start
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime
                                                            - cpu_before.ru_stime)
        if done.returncode != 0:
            raise SystemExit(f"import failed ({done.returncode}):\n{done.stdout[-2000:]}"
                             f"\n{done.stderr[-2000:]}")
        imported = len(list((bank / "items").glob("*.json")))
        print(f"  {rows:,} rows: {elapsed:.1f} s wall, {cpu:.1f} s CPU (the import, its workers "
              f"and git; {imported:,} item files after import); "
              f"progress lines on stderr: {done.stderr.count(chr(10))}", file=sys.stderr)
        return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--csv-only", type=Path, help="only write the CSV of the first size here")
    parser.add_argument("--src", type=Path, help="run the itembank package found in this folder")
    args = parser.parse_args()
    if args.csv_only:
        args.csv_only.write_bytes(make_csv(args.rows[0]))
        return
    print(f"machine: Python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"{platform.platform()}; load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="itembank-csv-") as tmp:
        for rows in args.rows:
            csv_file = Path(tmp) / f"items-{rows}.csv"
            csv_file.write_bytes(make_csv(rows))
            times = [one_run(csv_file, rows, args.src) for _ in range(args.repeat)]
            print(f"| {rows:,} rows | {statistics.median(times):.1f} s "
                  f"(n={len(times)}: {', '.join(f'{t:.1f}' for t in times)}) | "
                  f"load average after: {os.getloadavg()[0]:.2f} |")


if __name__ == "__main__":
    main()
