"""Sharing a bank through a git remote: save-and-push latency against a bare remote on the same
machine (beside the same save with no remote), and `sync` of 1,000 remote commits into a clone
(a fast-forward, and a replay of one local commit on top of them).

    python benchmarks/sync.py [--saves 7] [--runs 3] [--commits 1000]

Measurements, not tests: nothing here passes or fails. The machine's load is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from itembank import open_bank

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "tests" / "data" / "valid" / "bank"
WHO = "Bench Writer <bench@example.org>"
ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.org",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.org",
}


def git(cwd: Path, *args: str, stdin: bytes | None = None) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=ENV, input=stdin, capture_output=True, check=True
    )
    return done.stdout.decode().strip()


def shared(tmp: Path, clones: list[str]) -> tuple[Path, dict[str, Path]]:
    """A bare remote with the valid test bank (sync set) and clones: their bank folders."""
    seed = tmp / "seed"
    shutil.copytree(SOURCE, seed / "bank")
    settings = json.loads((seed / "bank" / "bank.json").read_text())
    settings["sync"] = {"remote": "origin", "branch": "main"}
    (seed / "bank" / "bank.json").write_text(json.dumps(settings, indent=2) + "\n")
    git(seed, "init", "-q", "-b", "main")
    git(seed, "add", "-A")
    git(seed, "commit", "-qm", "seed")
    remote = tmp / "remote.git"
    git(tmp, "clone", "-q", "--bare", str(seed), str(remote))
    out = {}
    for name in clones:
        git(tmp, "clone", "-q", str(remote), name)
        out[name] = tmp / name / "bank"
    return remote, out


def item(bank: Path, ident: str) -> dict[str, object]:
    base = json.loads((bank / "items" / "TS-0003.json").read_text())
    return {**base, "id": ident, "stem": f"Benchmark item {ident}"}


def save_latency(bank: Path, saves: int, first: int) -> list[float]:
    """Seconds per Bank.save of a new item (checks, write, commit, and push if configured)."""
    handle = open_bank(bank)
    out = []
    for number in range(saves):
        record = item(bank, f"TS-{first + number}")
        started = time.perf_counter()
        handle.save(record, WHO)
        out.append(time.perf_counter() - started)
        assert handle.sync.note is None, handle.sync.note
    return out


def many_commits(clone: Path, count: int) -> None:
    """`count` commits, one new item each, made with fast-import and pushed at once."""
    git(clone.parent, "pull", "-q", "origin", "main")
    base = json.loads((clone / "items" / "TS-0003.json").read_text())
    stream = [b"commit refs/heads/main\n"]
    for number in range(count):
        ident = f"TS-{5000 + number}"
        data = (
            json.dumps(
                {**base, "id": ident, "stem": f"Remote item {ident}"}, indent=2, sort_keys=True
            )
            + "\n"
        ).encode()
        message = f"{ident}: create item (draft)\n".encode()
        if number:
            stream.append(b"commit refs/heads/main\n")
        stream.append(b"committer Other <other@example.org> %d +0000\n" % (1700000000 + number))
        stream.append(b"data %d\n%s" % (len(message), message))
        if number == 0:
            stream.append(b"from refs/heads/main^0\n")
        stream.append(
            b"M 100644 inline bank/items/%s.json\ndata %d\n%s\n" % (ident.encode(), len(data), data)
        )
    git(clone.parent, "fast-import", "--quiet", stdin=b"".join(stream))
    git(clone.parent, "reset", "-q", "--hard", "main")
    git(clone.parent, "push", "-q", "origin", "main")


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--commits", type=int, default=1000)
    args = parser.parse_args()
    print(f"before: {load()}")
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        remote, banks = shared(tmp, ["writer", "offline", "other", "target"])
        pushed = save_latency(banks["writer"], args.saves, 1000)
        os.environ["ITEMBANK_SYNC"] = "off"
        local = save_latency(banks["offline"], args.saves, 2000)
        del os.environ["ITEMBANK_SYNC"]
        print(
            f"save and push (n={args.saves}): median {statistics.median(pushed):.3f} s "
            f"(min {min(pushed):.3f}, max {max(pushed):.3f})"
        )
        print(
            f"save, no remote (n={args.saves}): median {statistics.median(local):.3f} s "
            f"(min {min(local):.3f}, max {max(local):.3f})"
        )

        target = banks["target"]
        git(target.parent, "pull", "-q", "origin", "main")
        start = git(target.parent, "rev-parse", "HEAD")
        many_commits(banks["other"], args.commits)
        tip = git(remote, "rev-parse", "main")
        timings: dict[str, list[float]] = {"fast-forward": [], "replay": []}
        for run in range(args.runs):
            for mode in ("fast-forward", "replay"):
                git(target.parent, "reset", "-q", "--hard", start)
                git(target.parent, "update-ref", "refs/remotes/origin/main", start)
                if mode == "replay":  # one local commit, not yet shared
                    os.environ["ITEMBANK_SYNC"] = "off"
                    open_bank(target).save(item(target, f"TS-{9000 + run}"), WHO)
                    del os.environ["ITEMBANK_SYNC"]
                tip_before = tip
                started = time.perf_counter()
                outcome = open_bank(target).sync.sync()
                timings[mode].append(time.perf_counter() - started)
                assert outcome.received == args.commits and not outcome.dropped, outcome
                assert (
                    git(target.parent, "rev-parse", "HEAD~1" if mode == "replay" else "HEAD")
                    == tip_before
                )
                if mode == "replay":  # take the pushed commit back off the remote for the next run
                    git(remote, "update-ref", "refs/heads/main", tip)
        for mode, values in timings.items():
            print(
                f"sync of {args.commits} remote commits, {mode} (n={args.runs}): median "
                f"{statistics.median(values):.3f} s (min {min(values):.3f}, "
                f"max {max(values):.3f})"
            )
    print(f"after: {load()}")


if __name__ == "__main__":
    main()
