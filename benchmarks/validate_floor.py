"""The floor under a cold validation: read, parse and schema-check every file of a bank, nothing
else, on as many worker processes as validation uses (each worker reads its own files). A cold
`validate` cannot be faster than this; issue 14 asks for it within 3 times of it.

    python benchmarks/validate_floor.py BANK [REPEAT]     time the floor on an existing bank
    python benchmarks/validate_floor.py --generate SIZE [REPEAT]   on a bank made by run.py

Prints one JSON line: the median seconds, the runs, the files checked and the workers.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from itembank.core.layout import locate  # noqa: E402
from itembank.core.parsing import parse_record  # noqa: E402
from itembank.core.schemas import is_valid  # noqa: E402


def _check(root: str, paths: list[str]) -> int:
    """Read, parse and schema-check these files; the number that conform."""
    good = 0
    for rel in paths:
        with open(os.path.join(root, rel), "rb") as handle:
            data = handle.read()
        location = locate(rel)
        record, _ = parse_record(rel, data)
        if location is not None and record is not None and is_valid(location.kind, record):
            good += 1
    return good


def files_of(bank: Path) -> list[str]:
    return sorted(
        str(p.relative_to(bank)) for p in bank.rglob("*.json") if not p.name.startswith(".")
    )


def floor(bank: Path, workers: int) -> tuple[float, int]:
    """Seconds to check every file of the bank once, and how many conform."""
    start = time.perf_counter()
    paths = files_of(bank)
    size = max(200, len(paths) // (workers * 8))
    chunks = [paths[i : i + size] for i in range(0, len(paths), size)]
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        good = sum(pool.map(_check, [str(bank)] * len(chunks), chunks))
    return time.perf_counter() - start, good


def main() -> None:
    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help"):
        sys.exit(__doc__)
    workers = min(os.cpu_count() or 1, 8)  # as checks.validation.analyse_many
    with tempfile.TemporaryDirectory(prefix="itembank-floor-") as tmp:
        if args[0] == "--generate":
            sys.path.insert(0, str(ROOT / "benchmarks"))
            from run import make_bank

            bank = make_bank(Path(tmp), int(args[1]))
            rest = args[2:]
        else:
            bank, rest = Path(args[0]), args[1:]
        repeat = int(rest[0]) if rest else 3
        times, good = [], 0
        for _ in range(repeat):
            seconds, good = floor(bank, workers)
            times.append(seconds)
    print(
        json.dumps(
            {
                "floor_median_s": round(statistics.median(times), 3),
                "runs": [round(t, 3) for t in times],
                "files_conforming": good,
                "workers": workers,
            }
        )
    )


if __name__ == "__main__":
    main()
