"""One bank shared through a git remote: real bare repositories and real clones in tmp_path,
real processes saving at once; nothing lost, every conflict refused with the version kept."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest

from itembank import ConflictError, open_bank
from itembank.cli import run

from .conftest import VALID_BANK, git, make_repo

CLONE_NAMES = ("north", "south", "west")


def shared_bank(tmp_path: Path, clones: int = 3) -> tuple[Path, list[Path]]:
    """A bare remote holding the valid test bank with `sync` set, and clones of it: returns
    the remote and each clone's bank folder."""
    bank = make_repo(tmp_path, VALID_BANK)
    settings = json.loads((bank / "bank.json").read_text())
    settings["sync"] = {"remote": "origin", "branch": "main"}
    (bank / "bank.json").write_text(json.dumps(settings, indent=2) + "\n")
    git(bank, "commit", "-qam", "share the bank")
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(bank.parent), str(remote))
    banks = []
    for name in CLONE_NAMES[:clones]:
        git(tmp_path, "clone", "-q", str(remote), name)
        banks.append(tmp_path / name / "bank")
    return remote, banks


def item(bank_path: Path | str, ident: str, stem: str) -> dict[str, object]:
    base = json.loads((Path(bank_path) / "items/TS-0003.json").read_text())
    return {**base, "id": ident, "stem": stem}


def remote_file(remote: Path, path: str) -> dict[str, object]:
    return json.loads(git(remote, "show", f"main:{path}"))


def fsck(repo: Path) -> str:
    done = subprocess.run(
        ["git", "fsck", "--strict", "--no-dangling", "--no-progress"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    return f"{done.returncode}:{done.stdout}{done.stderr}"


# ---- the test: 8 writers in 3 clones at once ------------------------------------------

ROUNDS = 3


def _writer(bank_path: str, number: int, barrier: object, out: object) -> None:
    """Writer `number` creates its own item and edits it ROUNDS - 1 times, all at once with
    the others; then, in its clone pair's round, saves the SAME item as another clone."""
    bank = open_bank(bank_path)
    who = f"Writer {number} <writer{number}@example.org>"
    ident = f"TS-{1000 + number}"
    barrier.wait()  # type: ignore[attr-defined]
    for round_ in range(ROUNDS):
        stem = f"Writer {number}, round {round_}"
        record = item(bank_path, ident, stem) if round_ == 0 else {**bank.get(ident), "stem": stem}
        try:
            bank.save(record, who)
            out.put(("saved", number, ident, stem, bank.sync.note or ""))  # type: ignore[attr-defined]
        except Exception as exc:  # the test asserts on every outcome
            out.put(("error", number, ident, stem, f"{type(exc).__name__}: {exc}"))  # type: ignore[attr-defined]


def _same_record(bank_path: str, number: int, barrier: object, out: object) -> None:
    bank = open_bank(bank_path)
    record = {**bank.get("TS-0004"), "stem": f"Same record, from writer {number}"}
    barrier.wait()  # type: ignore[attr-defined]
    try:
        bank.save(record, f"Writer {number} <writer{number}@example.org>")
        out.put(("saved", number, "", "", bank.sync.note or ""))  # type: ignore[attr-defined]
    except ConflictError as exc:
        out.put(("conflict", number, str(exc.kept_at), str(exc), ""))  # type: ignore[attr-defined]
    except Exception as exc:
        out.put(("error", number, "", "", f"{type(exc).__name__}: {exc}"))  # type: ignore[attr-defined]


def _race(target: object, jobs: list[tuple[str, int]]) -> list[tuple[str, int, str, str, str]]:
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(len(jobs)), ctx.Queue()
    procs = [ctx.Process(target=target, args=(path, n, barrier, out)) for path, n in jobs]
    for proc in procs:
        proc.start()
    per = ROUNDS if target is _writer else 1
    results = [out.get(timeout=600) for _ in range(len(jobs) * per)]
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0
    return results


def test_eight_writers_in_three_clones_lose_nothing(tmp_path: Path) -> None:
    remote, banks = shared_bank(tmp_path)
    start = int(git(remote, "rev-list", "--count", "main"))
    results = _race(_writer, [(str(banks[n % 3]), n) for n in range(8)])
    assert [r for r in results if r[0] != "saved" or r[4]] == []  # saved, and no note
    # every commit of a different record reached the remote: 8 writers x ROUNDS saves
    assert int(git(remote, "rev-list", "--count", "main")) == start + 8 * ROUNDS
    for n in range(8):
        assert remote_file(remote, f"bank/items/TS-{1000 + n}.json")["stem"] == (
            f"Writer {n}, round {ROUNDS - 1}"
        )
        subjects = git(remote, "log", "--format=%s", f"--author=writer{n}@", "main").splitlines()
        assert sorted(subjects) == sorted(
            [f"TS-{1000 + n}: create item (draft)"] + [f"TS-{1000 + n}: update stem"] * (ROUNDS - 1)
        )

    # rounds where two clones save the SAME record at once: one wins, the other is refused
    # with the ordinary conflict error and its version kept; the loser's clone shows the winner's
    for round_, (a, b) in enumerate(((0, 1), (1, 2), (2, 0))):
        before = int(git(remote, "rev-list", "--count", "main"))
        for bank in banks:
            assert run(["sync", "--quiet", "--bank", str(bank)]) == 0
        outcomes = sorted(
            _race(
                _same_record, [(str(banks[a]), 10 * round_ + a), (str(banks[b]), 10 * round_ + b)]
            )
        )
        assert [o[0] for o in outcomes] == ["conflict", "saved"], outcomes
        assert outcomes[1][4] == "", outcomes  # the winner's save was shared
        loser, winner = outcomes[0][1], outcomes[1][1]
        assert "changed by someone else on the shared remote" in outcomes[0][3]
        assert json.loads(Path(outcomes[0][2]).read_text())["stem"] == (
            f"Same record, from writer {loser}"
        )
        assert remote_file(remote, "bank/items/TS-0004.json")["stem"] == (
            f"Same record, from writer {winner}"
        )
        loser_bank = banks[a] if loser == 10 * round_ + a else banks[b]
        assert json.loads((loser_bank / "items/TS-0004.json").read_text())["stem"] == (
            f"Same record, from writer {winner}"
        )
        assert int(git(remote, "rev-list", "--count", "main")) == before + 1

    for bank in banks:
        assert run(["sync", "--quiet", "--bank", str(bank)]) == 0
        assert git(bank, "rev-parse", "HEAD") == git(remote, "rev-parse", "main")
        assert git(bank, "status", "--porcelain") == ""
        assert fsck(bank.parent) == "0:"
    assert fsck(remote) == "0:"
    assert (
        len(open_bank(banks[0]).kept("TS-0004"))
        + len(open_bank(banks[1]).kept("TS-0004"))
        + len(open_bank(banks[2]).kept("TS-0004"))
        == 3
    )
    assert open_bank(banks[0]).validate().ok


# ---- offline: the save is kept and pushed later -----------------------------------------------


def test_an_unreachable_remote_keeps_the_save_for_the_next_sync(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remote, (north, south) = shared_bank(tmp_path, 2)
    away = remote.with_name("away.git")
    remote.rename(away)  # the server is down between the commit and the push
    bank = open_bank(north)
    sha = bank.save(item(north, "TS-2001", "Written offline"), "Ann One <ann@example.org>")
    assert git(north, "rev-parse", "HEAD").strip() == sha  # committed here
    assert (
        bank.sync.note is not None
        and "is not a git repository, or cannot be reached" in (bank.sync.note)
        and "will be pushed by the next save or 'itembank sync'" in bank.sync.note
    )
    status = bank.sync.status()
    assert (status.ahead, status.behind) == (1, 0)
    assert run(["sync", "--bank", str(north)]) == 2
    assert "cannot be reached" in capsys.readouterr().err
    away.rename(remote)
    assert run(["sync", "--bank", str(north)]) == 0
    assert "Pushed 1 commit(s); received 0" in capsys.readouterr().out
    assert git(remote, "rev-parse", "main").strip() == sha
    assert run(["sync", "--quiet", "--bank", str(south)]) == 0
    assert json.loads((south / "items/TS-2001.json").read_text())["stem"] == "Written offline"
    assert open_bank(north).sync.status().ahead == 0


def test_a_push_refused_once_by_the_server_is_pushed_by_the_next_save(tmp_path: Path) -> None:
    remote, (north,) = shared_bank(tmp_path, 1)
    flag = tmp_path / "refuse-once"
    flag.write_text("x")
    hook = remote / "hooks" / "pre-receive"
    hook.write_text(
        f"#!/bin/sh\nif [ -e '{flag}' ]; then rm '{flag}'; echo 'maintenance' >&2; "
        "exit 1; fi\nexit 0\n"
    )
    hook.chmod(0o755)
    bank = open_bank(north)
    first = bank.save(item(north, "TS-2002", "First"), "Ann One <ann@example.org>")
    assert bank.sync.note is not None and "the remote refused the push" in bank.sync.note
    assert git(remote, "log", "--format=%H", "main").split().count(first) == 0
    second = bank.save(item(north, "TS-2003", "Second"), "Ann One <ann@example.org>")
    assert bank.sync.note is None
    assert git(remote, "log", "--format=%H", "-2", "main").split() == [second, first]


def test_a_save_killed_during_its_push_loses_nothing(tmp_path: Path) -> None:
    remote, (north,) = shared_bank(tmp_path, 1)
    started, release = tmp_path / "push-started", tmp_path / "release"
    hook = remote / "hooks" / "pre-receive"
    hook.write_text(
        f"#!/bin/sh\ntouch '{started}'\nwhile [ ! -e '{release}' ]; do sleep 0.05; done\nexit 0\n"
    )
    hook.chmod(0o755)
    code = (
        "import sys; from itembank import open_bank; b = open_bank(sys.argv[1]); "
        "r = b.get('TS-0003'); r['id'] = 'TS-2004'; r['stem'] = 'Pushed when killed'; "
        "b.save(r, 'Ann One <ann@example.org>')"
    )
    saver = subprocess.Popen([sys.executable, "-c", code, str(north)], start_new_session=True)
    for _ in range(6000):  # wait for the state (the push has reached the server), capped
        if started.exists() or saver.poll() is not None:
            break
        subprocess.run(["sleep", "0.05"], check=True)
    assert started.exists()
    os.killpg(saver.pid, 9)  # the saver and its git push, as a killed server process would
    saver.wait()
    release.write_text("x")
    local = git(north, "log", "-1", "--format=%s").strip()
    assert local == "TS-2004: create item (draft)"  # the commit is on the local branch
    assert run(["sync", "--quiet", "--bank", str(north)]) == 0
    assert remote_file(remote, "bank/items/TS-2004.json")["stem"] == "Pushed when killed"
    assert fsck(north.parent) == "0:" and fsck(remote) == "0:"


# ---- itembank sync: conflicts, exit codes, hostile states --------------------------------------


def test_sync_replays_other_records_and_refuses_the_same_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    remote, (north, south) = shared_bank(tmp_path, 2)
    theirs = open_bank(north)
    theirs.save({**theirs.get("TS-0004"), "stem": "North's stem"}, "Ann One <ann@example.org>")
    monkeypatch.setenv("ITEMBANK_SYNC", "off")  # south works offline: two commits, no push
    mine = open_bank(south)
    mine.save({**mine.get("TS-0004"), "stem": "South's stem"}, "Ben Two <ben@example.org>")
    mine.save(item(south, "TS-2005", "South's new item"), "Ben Two <ben@example.org>")
    monkeypatch.delenv("ITEMBANK_SYNC")
    assert run(["sync", "--progress", "--bank", str(south)]) == 1
    err = capsys.readouterr().err
    assert "sync: fetch 1/1" in err and "sync: replay 2/2" in err
    assert (
        "conflict: items/TS-0004.json changed on the remote; your commit 'TS-0004: update stem'"
        in err
    )
    kept = open_bank(south).kept("TS-0004")
    assert len(kept) == 1 and json.loads(kept[0].path.read_text())["stem"] == "South's stem"
    assert kept[0].why == "conflict" and kept[0].who == "Ben Two <ben@example.org>"
    assert json.loads((south / "items/TS-0004.json").read_text())["stem"] == "North's stem"
    assert remote_file(remote, "bank/items/TS-2005.json")["stem"] == "South's new item"
    assert git(south, "rev-parse", "HEAD") == git(remote, "rev-parse", "main")
    assert git(remote, "log", "-1", "--format=%an|%s", "main").strip() == (
        "Ben Two|TS-2005: create item (draft)"
    )
    assert run(["sync", "--quiet", "--bank", str(south)]) == 0


def test_sync_without_a_remote_is_a_usage_error(
    valid_bank: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["sync", "--bank", str(valid_bank)]) == 2
    assert "This bank has no remote to sync with" in capsys.readouterr().err


def _sync_err(bank: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert run(["sync", "--quiet", "--bank", str(bank)]) == 2
    return capsys.readouterr().err


def test_hostile_states_are_refused_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remote, (north, south) = shared_bank(tmp_path, 2)
    # a remote that is not a git repository
    empty = tmp_path / "not-a-repo"
    empty.mkdir()
    git(north, "remote", "set-url", "origin", str(empty))
    assert "is not a git repository, or cannot be reached" in _sync_err(north, capsys)
    git(north, "remote", "set-url", "origin", str(remote))
    # no such remote in this clone
    git(north, "remote", "rename", "origin", "elsewhere")
    assert "this clone has no git remote named 'origin'" in _sync_err(north, capsys)
    git(north, "remote", "rename", "elsewhere", "origin")
    # a detached HEAD, and a rebase left half-way by a killed process
    git(north, "checkout", "-q", "--detach")
    assert "HEAD is detached" in _sync_err(north, capsys)
    git(north, "checkout", "-q", "main")
    (north.parent / ".git" / "rebase-merge").mkdir()
    assert "a rebase is in progress" in _sync_err(north, capsys)
    (north.parent / ".git" / "rebase-merge").rmdir()
    # a file edited by hand that others' work would overwrite
    other = open_bank(south)
    other.save({**other.get("TS-0003"), "stem": "From south"}, "Ben Two <ben@example.org>")
    (north / "items/TS-0003.json").write_text("edited by hand\n")
    err = _sync_err(north, capsys)
    assert "items/TS-0003.json was written on disk but never committed" in err
    assert (north / "items/TS-0003.json").read_text() == "edited by hand\n"
    git(north, "checkout", "--", "items/TS-0003.json")
    assert run(["sync", "--quiet", "--bank", str(north)]) == 0
    # a remote branch rewritten by a force-push: refused, never force-pushed over
    git(south, "reset", "-q", "--hard", "HEAD~1")
    git(south, "push", "-q", "--force", "origin", "main")
    rewritten = git(remote, "rev-parse", "main")
    assert "was rewritten (force-pushed)" in _sync_err(north, capsys)
    assert git(remote, "rev-parse", "main") == rewritten
    assert json.loads((north / "items/TS-0003.json").read_text())["stem"] == "From south"
    for repo in (north.parent, south.parent, remote):
        assert fsck(repo) == "0:"


def test_sync_off_keeps_todays_behaviour(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    remote, (north,) = shared_bank(tmp_path, 1)
    monkeypatch.setenv("ITEMBANK_SYNC", "off")
    before = git(remote, "rev-parse", "main")
    bank = open_bank(north)
    bank.save(item(north, "TS-2006", "Local only"), "Ann One <ann@example.org>")
    assert git(remote, "rev-parse", "main") == before
    assert not bank.sync.configured


def test_a_sync_killed_between_the_files_and_the_branch_is_finished(tmp_path: Path) -> None:
    """The state a sync killed after updating the working tree but before moving the branch
    leaves (its journal, new files, old branch): the next save finishes the move first."""
    remote, (north, south) = shared_bank(tmp_path, 2)
    other = open_bank(south)
    other.save({**other.get("TS-0003"), "stem": "From south"}, "Ben Two <ben@example.org>")
    git(north, "fetch", "-q", "origin")
    old, new = git(north, "rev-parse", "HEAD").strip(), git(north, "rev-parse", "origin/main").strip()
    journal = north.parent / ".git" / "itembank" / "sync-move.json"
    journal.parent.mkdir(parents=True, exist_ok=True)
    journal.write_text(json.dumps({"old": old, "new": new}))
    git(north, "read-tree", "-m", "-u", old, new)  # killed here: HEAD still at `old`
    assert git(north, "rev-parse", "HEAD").strip() == old
    bank = open_bank(north)
    sha = bank.save(item(north, "TS-2007", "After the killed sync"), "Ann One <ann@example.org>")
    assert bank.sync.note is None
    assert git(north, "rev-parse", "HEAD~1").strip() == new
    assert git(remote, "rev-parse", "main").strip() == sha
    assert not journal.exists()
    assert git(north, "status", "--porcelain") == ""
    assert json.loads((north / "items/TS-0003.json").read_text())["stem"] == "From south"
    assert fsck(north.parent) == "0:"


def test_sync_help_documents_the_exit_codes() -> None:
    done = subprocess.run([str(Path(sys.executable).with_name("itembank")), "sync", "--help"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert text.startswith("usage: itembank sync [-h] [--bank PATH] [--progress | --quiet]")
    assert "Exit codes: 0 in sync; 1 conflict" in text and "2 bad invocation, no remote" in text
    assert subprocess.run([str(Path(sys.executable).with_name("itembank")), "sync", "--bogus"],
                          capture_output=True, check=False).returncode == 2


def test_remote_commits_dated_in_the_past_are_not_replayed_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Commits from a machine whose clock was years behind: a date-ordered walk (rev-list
    HEAD ^tip) stops early and lists the shared history as local; the sync must not."""
    remote, (north, south) = shared_bank(tmp_path, 2)
    for number in range(20):
        (south.parent / f"note-{number}.txt").write_text(f"note {number}\n")
        git(south, "add", "-A")
        subprocess.run(["git", "commit", "-qm", f"note {number}"], cwd=south, check=True,
                       env={**os.environ, "GIT_AUTHOR_NAME": "Old Clock", "GIT_AUTHOR_EMAIL":
                            "old@example.org", "GIT_COMMITTER_NAME": "Old Clock",
                            "GIT_COMMITTER_EMAIL": "old@example.org",
                            "GIT_AUTHOR_DATE": f"2001-01-01T00:00:{number:02d}Z",
                            "GIT_COMMITTER_DATE": f"2001-01-01T00:00:{number:02d}Z"})
    git(south, "push", "-q", "origin", "main")
    tip = git(remote, "rev-parse", "main").strip()
    monkeypatch.setenv("ITEMBANK_SYNC", "off")
    bank = open_bank(north)
    bank.save(item(north, "TS-2008", "Mine"), "Ann One <ann@example.org>")
    monkeypatch.delenv("ITEMBANK_SYNC")
    outcome = open_bank(north).sync.sync()
    assert (outcome.pushed, outcome.received, outcome.dropped) == (1, 20, [])
    assert git(remote, "rev-parse", "main~1").strip() == tip
    assert git(remote, "log", "-1", "--format=%s", "main").strip() == "TS-2008: create item (draft)"


def test_an_import_is_pushed_and_replayed_like_a_save(tmp_path: Path) -> None:
    from .test_csv_import import row, write_csv

    remote, (north, south) = shared_bank(tmp_path, 2)
    other = open_bank(south)
    other.save({**other.get("TS-0004"), "stem": "From south"}, "Ben Two <ben@example.org>")
    data = write_csv(tmp_path / "items.csv", [row(), row(stem="Which duty applies here?")])
    bank = open_bank(north)
    result = bank.authoring.import_items(data.read_bytes(), "items.csv", "Ann One <ann@example.org>")
    assert bank.sync.note is None
    assert git(remote, "log", "-2", "--format=%an|%s", "main").splitlines() == [
        "Ann One|Import 2 draft item(s) from items.csv", "Ben Two|TS-0004: update stem"]
    assert git(remote, "rev-parse", "main").strip() == result.commit
    assert remote_file(remote, "bank/items/GK-0002.json")["stem"] == "Which duty applies here?"
    assert json.loads((north / "items/TS-0004.json").read_text())["stem"] == "From south"
