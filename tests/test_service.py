"""The Bank facade and git storage, against real temporary repositories."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import pytest

import itembank
from itembank import (
    BankNotFoundError,
    ConflictError,
    InvalidIdError,
    UnknownIdError,
    ValidationFailedError,
    WorkflowError,
    open_bank,
)
from itembank.core.canonical import dumps

from .conftest import git

WRITER = "Wendy Writer <wendy@example.org>"


def log(bank: Path, *paths: str) -> list[str]:
    return git(bank, "log", "--format=%an <%ae>|%s", "--", *paths).splitlines()


def test_open_bank_uses_env_then_default(valid_bank: Path, monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    monkeypatch.setenv("ITEMBANK_PATH", str(valid_bank))
    assert open_bank().path == valid_bank.resolve()
    monkeypatch.delenv("ITEMBANK_PATH")
    monkeypatch.chdir(valid_bank.parent)
    (valid_bank.parent / "item_bank").symlink_to(valid_bank)
    assert open_bank().path == valid_bank.resolve()
    (valid_bank.parent / "notebooks").mkdir()
    monkeypatch.chdir(valid_bank.parent / "notebooks")  # the nearest item_bank above is found
    assert open_bank().path == valid_bank.resolve()


def test_bank_paths_that_cannot_work(tmp_path: Path) -> None:
    with pytest.raises(BankNotFoundError, match="does not exist"):
        open_bank(tmp_path / "nowhere")
    (tmp_path / "plain").mkdir()
    with pytest.raises(BankNotFoundError, match=r"no bank\.json"):
        open_bank(tmp_path / "plain")
    (tmp_path / "plain" / "bank.json").write_text("{}")
    with pytest.raises(BankNotFoundError, match="not inside a git repository"):
        open_bank(tmp_path / "plain")


def test_read_api(valid_bank: Path) -> None:
    bank = open_bank(valid_bank)
    assert [i["id"] for i in bank.items()] == ["TS-0001", "TS-0002", "TS-0003", "TS-0004"]
    assert bank.get("CS-0001")["title"] == "A case"
    with pytest.raises(UnknownIdError):
        bank.get("TS-0999")
    assert bank.authoring.next_id("TS") == "TS-0005"


@pytest.mark.parametrize("bad", ["../../etc/passwd", "items/TS-0001", "TS-0001.json", "ts-0001",
                                 "", "TS-0001\n", "TS-00001234567"])
def test_ids_are_checked_before_they_become_paths(valid_bank: Path, bad: str) -> None:
    bank = open_bank(valid_bank)
    with pytest.raises(InvalidIdError):
        bank.get(bad)
    with pytest.raises(InvalidIdError):
        bank.history(bad)
    record = {**bank.get("TS-0003"), "id": bad}
    with pytest.raises(InvalidIdError):
        bank.save(record, author=WRITER)
    assert not list(valid_bank.parent.parent.rglob("passwd"))


def test_save_is_one_commit_by_the_author_touching_only_that_record(valid_bank: Path) -> None:
    bank = open_bank(valid_bank)
    (valid_bank / "items" / "TS-0002.json").write_text(  # someone's unrelated uncommitted edit
        (valid_bank / "items" / "TS-0002.json").read_text().replace("Choice A", "Choice A!"))
    git(valid_bank, "add", "items/TS-0002.json")  # ...even staged
    item = bank.get("TS-0003")
    item["stem"] = "Is this **true**?"
    sha = bank.save(item, author=WRITER)
    assert git(valid_bank, "rev-parse", "HEAD").strip() == sha
    changed = git(valid_bank, "show", "--name-only", "--format=", sha).split()
    assert changed == ["bank/items/TS-0003.json"]
    assert log(valid_bank, "items/TS-0003.json")[0] == f"{WRITER}|TS-0003: update stem"
    assert (valid_bank / "items" / "TS-0003.json").read_text() == dumps(item)
    assert "Choice A!" in (valid_bank / "items" / "TS-0002.json").read_text()
    assert "items/TS-0002.json" in git(valid_bank, "diff", "--cached", "--name-only")


def test_history(valid_bank: Path) -> None:
    bank = open_bank(valid_bank)
    item = bank.get("TS-0003")
    item["difficulty_estimate"] = 0.4
    bank.save(item, author=WRITER)
    history = bank.history("TS-0003")
    assert [c.message for c in history] == ["TS-0003: update difficulty_estimate", "initial bank"]
    assert history[0].author == WRITER


def test_stale_copies_conflict_and_nothing_is_lost(valid_bank: Path) -> None:
    alice, bob = open_bank(valid_bank), open_bank(valid_bank)
    a, b = alice.get("TS-0003"), bob.get("TS-0003")
    a["stem"] = "Alice's stem"
    b["stem"] = "Bob's stem"
    alice.save(a, author="Alice A <alice@example.org>")
    with pytest.raises(ConflictError) as caught:
        bob.save(b, author="Bob B <bob@example.org>")
    assert "changed by someone else" in str(caught.value)
    assert "Alice A" in str(caught.value)
    kept = Path(str(caught.value.kept_at))
    assert json.loads(kept.read_text())["stem"] == "Bob's stem"
    assert json.loads((valid_bank / "items/TS-0003.json").read_text())["stem"] == "Alice's stem"
    assert len(log(valid_bank, "items/TS-0003.json")) == 2


def test_creating_an_id_that_someone_else_just_created_conflicts(valid_bank: Path) -> None:
    first, second = open_bank(valid_bank), open_bank(valid_bank)
    new = {**first.get("TS-0003"), "id": "TS-0005"}
    first.save(new, author=WRITER)
    with pytest.raises(ConflictError, match="already exists"):
        second.save({**new, "stem": "Another new item"}, author="Bob B <bob@example.org>")
    assert json.loads((valid_bank / "items/TS-0005.json").read_text())["stem"] == new["stem"]


def _save_in_child(bank_path: str, ident: str, author: str, barrier: object) -> None:
    bank = open_bank(bank_path)
    item = {**bank.get("TS-0003"), "id": ident, "stem": f"Item {ident}"}
    barrier.wait()  # type: ignore[attr-defined]
    bank.save(item, author=author)


def test_two_processes_saving_different_items_both_commit(valid_bank: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_save_in_child, args=(str(valid_bank), i, a, barrier))
             for i, a in (("TS-0010", "Ann One <ann@example.org>"),
                          ("TS-0011", "Ben Two <ben@example.org>"))]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    subjects = git(valid_bank, "log", "--format=%an|%s").splitlines()
    assert "Ann One|TS-0010: create item (draft)" in subjects
    assert "Ben Two|TS-0011: create item (draft)" in subjects
    assert open_bank(valid_bank).validate().ok


@pytest.mark.parametrize("fail_at", ["fsync", "replace"])
def test_an_interrupted_save_leaves_no_half_written_file(valid_bank: Path, fail_at: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    bank = open_bank(valid_bank)
    path = valid_bank / "items" / "TS-0003.json"
    before = path.read_bytes()
    head = git(valid_bank, "rev-parse", "HEAD")
    item = bank.get("TS-0003")
    item["stem"] = "x" * 5000

    def boom(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, fail_at, boom)
    with pytest.raises(KeyboardInterrupt):
        bank.save(item, author=WRITER)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert git(valid_bank, "rev-parse", "HEAD") == head
    assert git(valid_bank, "status", "--porcelain") == ""


def test_a_failed_commit_puts_the_file_back(valid_bank: Path) -> None:
    bank = open_bank(valid_bank)
    path = valid_bank / "items" / "TS-0003.json"
    before = path.read_bytes()
    lock = valid_bank.parent / ".git" / "index.lock"
    lock.write_text("")  # git cannot commit while another git holds the index
    item = bank.get("TS-0003")
    item["stem"] = "Changed"
    with pytest.raises(Exception, match=r"index\.lock"):
        bank.save(item, author=WRITER)
    lock.unlink()
    assert path.read_bytes() == before


def test_a_record_with_errors_is_refused(valid_bank: Path) -> None:
    bank = open_bank(valid_bank)
    item = bank.get("TS-0003")
    item["key"] = ["Z"]
    item["references"] = ["no-such-act"]
    with pytest.raises(ValidationFailedError) as caught:
        bank.save(item, author=WRITER)
    codes = {f.code for f in caught.value.findings}
    assert codes == {"key-unknown-option", "unknown-reference"}
    assert "/key/0" in str(caught.value)


def test_workflow_is_enforced_on_save(valid_bank: Path) -> None:
    bank = open_bank(valid_bank)
    item = bank.get("TS-0003")
    with pytest.raises(WorkflowError, match="draft to approved"):
        bank.save({**item, "status": "approved"}, author=WRITER)
    sha = bank.save({**item, "status": "in_review"}, author=WRITER)
    assert "submit for review" in git(valid_bank, "log", "-1", "--format=%s", sha)
    with pytest.raises(WorkflowError, match="0 of 2 approvals"):
        bank.save({**bank.get("TS-0003"), "status": "approved"}, author=WRITER)


def test_editing_approved_content_sends_it_back_to_review(valid_bank: Path) -> None:
    bank = open_bank(valid_bank)
    item = bank.get("TS-0001")
    item["options"][0]["rationale"] = "A better explanation."  # not part of the content hash
    bank.save(item, author=WRITER)
    assert bank.get("TS-0001")["status"] == "approved"
    item = bank.get("TS-0001")
    item["stem"] = "Which order applies?"
    bank.save(item, author=WRITER)
    assert bank.get("TS-0001")["status"] == "in_review"
    assert "back to review" in log(valid_bank, "items/TS-0001.json")[0]
    assert bank.validate().ok


def test_author_must_be_name_and_email(valid_bank: Path) -> None:
    bank = open_bank(valid_bank)
    with pytest.raises(itembank.IdentityError):
        bank.save(bank.get("TS-0003"), author="wendy")


def test_unchanged_bank_reuses_cached_analysis(valid_bank: Path) -> None:
    bank = open_bank(valid_bank)
    first = bank.validate()
    cache = valid_bank.parent / ".git" / "itembank" / "facts.cache"
    assert cache.is_file()
    stamp = cache.stat().st_mtime_ns
    assert bank.validate() == first
    assert cache.stat().st_mtime_ns == stamp  # nothing re-analysed, nothing rewritten
    (valid_bank / "items" / "TS-0003.json").write_text("{broken")  # uncommitted edit is seen
    assert "malformed-json" in bank.validate().codes()



_SLOW_SAVE = """
import os, sys, time
from itembank import open_bank
bank = open_bank(sys.argv[1])
item = bank.get("TS-0003")
item["stem"] = "y" * 10000
real_fsync = os.fsync
def slow_fsync(fd):
    print("writing", flush=True)
    time.sleep(30)  # killed here, with the temporary file half done
os.fsync = slow_fsync
bank.save(item, author="Wendy Writer <wendy@example.org>")
"""


def test_a_killed_save_leaves_the_bank_as_it_was(valid_bank: Path) -> None:
    import signal
    import subprocess
    import sys

    path = valid_bank / "items" / "TS-0003.json"
    before = path.read_bytes()
    head = git(valid_bank, "rev-parse", "HEAD")
    child = subprocess.Popen([sys.executable, "-c", _SLOW_SAVE, str(valid_bank)],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "writing"
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    assert path.read_bytes() == before
    assert git(valid_bank, "rev-parse", "HEAD") == head
    bank = open_bank(valid_bank)
    assert bank.validate().ok  # the orphaned hidden temporary file is not a bank file
    item = bank.get("TS-0003")  # and the lock died with the process
    item["stem"] = "After the crash"
    bank.save(item, author=WRITER)
    assert json.loads(path.read_text())["stem"] == "After the crash"
