"""Every losing or refused version is kept under a name never reused, and can be listed, shown
and restored (issue 8). Concurrency is tested with real processes saving stale copies."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from itembank import open_bank
from itembank.cli import run
from itembank.core.errors import ConflictError

from .conftest import git

ITEM = "items/TS-0003.json"
RUNNER = "Rita Restorer <rita@example.org>"

WORKER = """
import json, sys, time
from pathlib import Path
from itembank import open_bank
from itembank.core.errors import ConflictError

bank_path, sync, me, rounds = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])


def wait_for(path):
    deadline = time.monotonic() + 300
    while not path.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"worker {me}: no {path.name} after 300 s")
        time.sleep(0.005)


for r in range(rounds):
    wait_for(sync / f"go-{r}")
    bank = open_bank(bank_path)
    item = bank.get("TS-0003")
    (sync / f"loaded-{r}-{me}").touch()
    wait_for(sync / f"save-{r}")
    text = f"Worker {me} wrote this in round {r}?"
    item["stem"] = text
    result = {"round": r, "worker": me, "text": text}
    try:
        result["commit"] = bank.save(item, author=f"Worker {me} <w{me}@example.org>")
    except ConflictError as exc:
        result.update(kept_at=exc.kept_at, message=str(exc))
    (sync / f"done-{r}-{me}.tmp").write_text(json.dumps(result))
    (sync / f"done-{r}-{me}.tmp").rename(sync / f"done-{r}-{me}")
"""


def wait_for_all(paths: list[Path], workers: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + 300
    while not all(p.exists() for p in paths):
        assert all(w.poll() in (None, 0) for w in workers), "a worker failed"
        assert time.monotonic() < deadline, "workers did not get there in 300 s"
        time.sleep(0.01)


def test_8_processes_x_10_rounds_of_stale_saves_keep_all_70_losing_versions(
        valid_bank: Path, tmp_path: Path) -> None:
    sync = tmp_path / "sync"
    sync.mkdir()
    n_workers, rounds = 8, 10
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(valid_bank), str(sync),
                                 str(w), str(rounds)]) for w in range(n_workers)]
    results = []
    try:
        for r in range(rounds):
            (sync / f"go-{r}").touch()
            wait_for_all([sync / f"loaded-{r}-{w}" for w in range(n_workers)], workers)
            (sync / f"save-{r}").touch()
            done = [sync / f"done-{r}-{w}" for w in range(n_workers)]
            wait_for_all(done, workers)
            results += [json.loads(p.read_text()) for p in done]
    finally:
        for w in workers:
            w.wait(timeout=60)
    assert [w.returncode for w in workers] == [0] * n_workers
    winners = [r for r in results if "commit" in r]
    losers = [r for r in results if "commit" not in r]
    assert sorted(r["round"] for r in winners) == list(range(rounds))
    assert len(losers) == 70
    assert len({r["kept_at"] for r in losers}) == 70
    for lost in losers:
        assert f"is kept at {lost['kept_at']}." in lost["message"]
        assert json.loads(Path(lost["kept_at"]).read_text())["stem"] == lost["text"]
    kept = open_bank(valid_bank).kept("TS-0003")
    assert len(kept) == 70
    assert sorted((k.who, k.why, json.loads(k.path.read_text())["stem"]) for k in kept) == sorted(
        (f"Worker {r['worker']} <w{r['worker']}@example.org>", "conflict", r["text"])
        for r in losers)
    assert [k.number for k in kept] == list(range(1, 71))
    last = max(winners, key=lambda r: r["round"])
    assert json.loads((valid_bank / ITEM).read_text())["stem"] == last["text"]
    assert git(valid_bank, "rev-list", "--count", "HEAD").strip() == str(1 + rounds)


def lose_two_saves(valid_bank: Path) -> None:
    winner = open_bank(valid_bank)
    first, second = open_bank(valid_bank), open_bank(valid_bank)
    records = [b.get("TS-0003") for b in (winner, first, second)]
    records[0]["stem"] = "The winning stem?"
    records[1]["stem"] = "Lost stem one?"
    records[2]["stem"] = "Lost stem two?"
    winner.save(records[0], author="Win Ner <win@example.org>")
    for bank, record, who in ((first, records[1], "Ann One <ann@example.org>"),
                              (second, records[2], "Ben Two <ben@example.org>")):
        with pytest.raises(ConflictError):
            bank.save(record, author=who)


def test_kept_lists_shows_and_restores_through_the_normal_save(
        valid_bank: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lose_two_saves(valid_bank)
    bank_arg = ["--bank", str(valid_bank)]
    assert run(["kept", "TS-0003", *bank_arg]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] + line.split()[3:4] for line in lines] == [
        [ITEM, "#1", "conflict"], [ITEM, "#2", "conflict"]]
    assert "Ann One <ann@example.org>" in lines[0] and "Ben Two <ben@example.org>" in lines[1]
    assert run(["kept", "TS-0003", "--show", "2", *bank_arg]) == 0
    assert json.loads(capsys.readouterr().out)["stem"] == "Lost stem two?"
    assert run(["kept", "TS-0003", "--restore", "1", "--author", RUNNER, *bank_arg]) == 0
    assert "Restored kept version 1 of TS-0003 (commit " in capsys.readouterr().out
    assert json.loads((valid_bank / ITEM).read_text())["stem"] == "Lost stem one?"
    log = git(valid_bank, "log", "-1", "--format=%an <%ae>|%s").strip()
    assert log.startswith(f"{RUNNER}|TS-0003: restore kept version 1 (conflict, Ann One")
    assert run(["kept", *bank_arg]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_kept_refuses_a_missing_version_in_plain_words(
        valid_bank: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lose_two_saves(valid_bank)
    assert run(["kept", "TS-0003", "--show", "3", "--bank", str(valid_bank)]) == 2
    assert capsys.readouterr().err == (
        "itembank: error: TS-0003 has no kept version 3; 'itembank kept TS-0003' lists them.\n")


def test_restoring_checks_the_record_like_any_save(valid_bank: Path) -> None:
    lose_two_saves(valid_bank)
    bank = open_bank(valid_bank)
    before = git(valid_bank, "rev-parse", "HEAD")
    bank.restore_kept("TS-0003", 2, RUNNER)
    assert json.loads((valid_bank / ITEM).read_text())["stem"] == "Lost stem two?"
    assert bank.restore_kept("TS-0003", 2, RUNNER) == git(valid_bank, "rev-parse", "HEAD").strip()
    assert git(valid_bank, "rev-list", "--count", f"{before.strip()}..HEAD").strip() == "1"
