"""Issue 14's validation rows side by side, in one run: the floor (validate_floor.py), the
previous version's code and this tree's, on the same generated bank (benchmarks/run.py's).

    python benchmarks/validation.py OLD_TREE [SIZE] [REPEAT] [BANK]

OLD_TREE is the root of an itembank source tree (e.g. `git archive fac7773 src | tar -x -C DIR`).
Each tree is measured in its own process (its `src` first on sys.path) on the same bank, the
caches dropped before its cold runs. BANK: an existing bank made by run.py's make_bank (its
generation takes minutes on a loaded machine); it is edited (committed) by the run. Prints one JSON object per tree and a Markdown table of
the medians, with the machine's load average before and after.

    python benchmarks/validation.py --one TREE BANK REPEAT    (what each process runs)

    python benchmarks/validation.py --cold OLD_TREE BANK [REPEAT]

The cold row against the floor, interleaved so that each round sees the same load: per round
the floor, the previous tree's cold run and this tree's, each in a fresh process (caches but
stat.cache dropped first). Prints each run's wall time and the CPU seconds of its process tree,
the medians, the ratios to the floor and the load average.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROW_NAMES = {
    "cold": "validate, cold (no cache)",
    "unchanged": "validate, bank unchanged",
    "after_1": "validate after 1 changed file (committed)",
    "after_100": "validate after 100 changed files (committed)",
    "coverage": "coverage, bank unchanged",
    "coverage_after_1": "coverage after 1 changed file",
}


def git(cwd: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.org",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.org"}
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=env)


def change(bank: Path, count: int, rng: random.Random) -> None:
    """Edit `count` item files (their stems) and commit, as saves would."""
    items = sorted((bank / "items").glob("*.json"))
    for path in rng.sample(items, count):
        record = json.loads(path.read_text())
        record["stem"] = record["stem"] + f" Edited {rng.randrange(10**9)}."
        path.write_text(json.dumps(record, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    git(bank.parent, "add", "-A")
    git(bank.parent, "commit", "-q", "-m", f"{count} edits")


def one(tree: Path, bank: Path, repeat: int) -> dict[str, list[float]]:
    """Every row for one tree's code (run in its own process)."""
    sys.path.insert(0, str(tree / "src"))
    import itembank

    assert Path(itembank.__file__).resolve().is_relative_to(tree.resolve()), itembank.__file__
    state = Path(subprocess.run(["git", "rev-parse", "--absolute-git-dir"], cwd=bank,
                                capture_output=True, text=True, check=True).stdout.strip())
    state = state / "itembank"
    rng = random.Random(14)
    rows: dict[str, list[float]] = {k: [] for k in ROW_NAMES}

    def timed(row: str, fn: object) -> None:
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        rows[row].append(time.perf_counter() - start)

    def validate() -> None:
        report = itembank.open_bank(bank).validate()
        assert not report.errors, report.errors[:3]

    for _ in range(repeat):
        for cache in state.glob("*"):
            if cache.is_file() and cache.name != "stat.cache":
                cache.unlink()
        timed("cold", validate)
    for _ in range(max(repeat, 5)):
        timed("unchanged", validate)
    for _ in range(max(repeat, 5)):
        timed("coverage", lambda: itembank.open_bank(bank).coverage())
    for _ in range(repeat):
        change(bank, 1, rng)
        timed("after_1", validate)
    for _ in range(repeat):
        change(bank, 100, rng)
        timed("after_100", validate)
    for _ in range(repeat):
        change(bank, 1, rng)
        timed("coverage_after_1", lambda: itembank.open_bank(bank).coverage())
    return rows


def cold_once(tree: Path, bank: Path) -> float:
    """One cold validation with this tree's code (run in its own process): its seconds."""
    sys.path.insert(0, str(tree / "src"))
    import itembank

    assert Path(itembank.__file__).resolve().is_relative_to(tree.resolve()), itembank.__file__
    state = Path(subprocess.run(["git", "rev-parse", "--absolute-git-dir"], cwd=bank,
                                capture_output=True, text=True, check=True).stdout.strip())
    for cache in (state / "itembank").glob("*"):
        if cache.is_file() and cache.name != "stat.cache":
            cache.unlink()
    start = time.perf_counter()
    report = itembank.open_bank(bank).validate()
    seconds = time.perf_counter() - start
    assert not report.errors, report.errors[:3]
    return seconds


def timed_process(command: list[str]) -> tuple[str, float]:
    """A command's output and the CPU seconds (user + system) of its whole process tree."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return out, cpu


def cold_rounds(old: Path, bank: Path, repeat: int) -> None:
    """Floor, previous cold and new cold, interleaved round by round (see the docstring)."""
    runs: dict[str, list[tuple[float, float]]] = {"floor": [], "previous": [], "new": []}
    load_before = os.getloadavg()
    for round_ in range(repeat):
        out, cpu = timed_process([sys.executable, str(HERE / "validate_floor.py"), str(bank), "1"])
        runs["floor"].append((json.loads(out)["floor_median_s"], cpu))
        for name, tree in (("previous", old), ("new", HERE.parent)):
            out, cpu = timed_process([sys.executable, str(HERE / "validation.py"), "--cold-once",
                                      str(tree), str(bank)])
            runs[name].append((float(out.strip().splitlines()[-1]), cpu))
        print(json.dumps({"round": round_ + 1, "load": os.getloadavg()[0],
                          **{k: v[-1] for k, v in runs.items()}}), flush=True)
    load_after = os.getloadavg()
    floor_s = statistics.median(w for w, _ in runs["floor"])
    floor_cpu = statistics.median(c for _, c in runs["floor"])
    print("\n| measure (cold, 50,000 items) | wall, median | CPU s, median | wall / floor |")
    print("|---|---:|---:|---:|")
    for name in runs:
        wall = statistics.median(w for w, _ in runs[name])
        cpu = statistics.median(c for _, c in runs[name])
        walls = ", ".join(f"{w:.2f}" for w, _ in runs[name])
        print(f"| {name} ({walls}) | {wall:.2f} s | {cpu:.1f} | {wall / floor_s:.2f} x |")
    print(f"\nCPU / floor CPU: previous "
          f"{statistics.median(c for _, c in runs['previous']) / floor_cpu:.2f}, new "
          f"{statistics.median(c for _, c in runs['new']) / floor_cpu:.2f}")
    print(f"load average before {load_before}, after {load_after}")


def main() -> None:
    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help"):
        sys.exit(__doc__)
    if args[0] == "--one":
        print(json.dumps(one(Path(args[1]), Path(args[2]), int(args[3]))))
        return
    if args[0] == "--cold-once":
        print(cold_once(Path(args[1]).resolve(), Path(args[2])))
        return
    if args[0] == "--cold":
        cold_rounds(Path(args[1]).resolve(), Path(args[2]), int(args[3]) if len(args) > 3 else 3)
        return
    old, new = Path(args[0]).resolve(), HERE.parent
    size = int(args[1]) if len(args) > 1 else 50000
    repeat = int(args[2]) if len(args) > 2 else 3
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="itembank-validation-") as tmp:
        sys.path.insert(0, str(HERE))
        from run import make_bank

        bank = Path(args[3]) if len(args) > 3 else make_bank(Path(tmp), size)
        floor = subprocess.run(
            [sys.executable, str(HERE / "validate_floor.py"), str(bank), str(repeat)],
            capture_output=True, text=True, check=True,
        )
        results = {"floor": json.loads(floor.stdout)}
        for name, tree in (("previous", old), ("new", new)):
            done = subprocess.run(
                [sys.executable, str(HERE / "validation.py"), "--one", str(tree), str(bank),
                 str(repeat)],
                capture_output=True, text=True,
            )
            if done.returncode != 0:
                sys.exit(f"{name} ({tree}) failed:\n{done.stderr}")
            results[name] = json.loads(done.stdout.splitlines()[-1])
    load_after = os.getloadavg()
    print(json.dumps({"items": size, "load_before": load_before, "load_after": load_after,
                      "results": results}))
    floor_s = results["floor"]["floor_median_s"]
    print(f"\n| measure ({size:,} items) | previous | new |")
    print("|---|---:|---:|")
    print(f"| read + parse + schema-check floor | {floor_s:.2f} s | |")
    for key, label in ROW_NAMES.items():
        cells = []
        for name in ("previous", "new"):
            values = results[name][key]
            cells.append(f"{statistics.median(values):.3f} s (n={len(values)})")
        print(f"| {label} | {cells[0]} | {cells[1]} |")
    print(f"\nload average before {load_before}, after {load_after}")


if __name__ == "__main__":
    main()
