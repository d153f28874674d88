"""A save never loses an edit, whatever state git, the disk or the process is in (issue 8).

Every state is set up for real: real git operations stopped half-way, real lock files, real
processes killed with SIGKILL, a real full tmpfs and a real read-only mount."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from itembank import open_bank
from itembank.core.canonical import git_blob_sha
from itembank.core.errors import SaveRefusedError
from itembank.storage import guards
from itembank.ui.item_editor import ItemEditor

from .conftest import VALID_BANK, git, make_repo

WRITER = "Wendy Writer <wendy@example.org>"
ITEM = "items/TS-0003.json"


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def git_may_fail(repo: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "GIT_AUTHOR_NAME": "Other Person", "GIT_AUTHOR_EMAIL": "o@example.org",
            "GIT_COMMITTER_NAME": "Other Person", "GIT_COMMITTER_EMAIL": "o@example.org",
            "GIT_EDITOR": "true", **env}
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env=full)


def notes_commit(repo: Path, text: str, message: str) -> None:
    (repo / "notes.txt").write_text(text)
    git(repo, "add", "notes.txt")
    git(repo, "commit", "-q", "-m", message)


def diverge(repo: Path) -> None:
    """main and a branch 'other' that change notes.txt (outside the bank) differently."""
    notes_commit(repo, "base\n", "notes")
    git(repo, "checkout", "-q", "-b", "other")
    notes_commit(repo, "other\n", "other notes")
    git(repo, "checkout", "-q", "main")
    notes_commit(repo, "main\n", "main notes")


def merge_conflict(repo: Path) -> None:
    diverge(repo)
    assert git_may_fail(repo, "merge", "other").returncode == 1
    assert (repo / ".git" / "MERGE_HEAD").exists()


def rebase_conflict(repo: Path) -> None:
    diverge(repo)
    git(repo, "checkout", "-q", "other")
    assert git_may_fail(repo, "rebase", "main").returncode == 1
    assert (repo / ".git" / "rebase-merge").is_dir()


def rebase_interactive_break(repo: Path) -> None:
    notes_commit(repo, "one\n", "one")
    notes_commit(repo, "two\n", "two")
    done = git_may_fail(repo, "rebase", "-i", "HEAD~1", GIT_SEQUENCE_EDITOR="sed -i '1i break'")
    assert done.returncode == 0, done.stderr
    assert (repo / ".git" / "rebase-merge").is_dir()


def apply_rebase_conflict(repo: Path) -> None:
    diverge(repo)
    git(repo, "checkout", "-q", "other")
    patch = git(repo, "format-patch", "-1", "--stdout")
    git(repo, "checkout", "-q", "main")
    done = subprocess.run(["git", "am", "-3"], input=patch, cwd=repo, capture_output=True,
                          text=True, env={**os.environ, "GIT_COMMITTER_NAME": "O",
                                          "GIT_COMMITTER_EMAIL": "o@example.org"})
    assert done.returncode != 0
    assert (repo / ".git" / "rebase-apply").is_dir()


def cherry_pick_conflict(repo: Path) -> None:
    diverge(repo)
    assert git_may_fail(repo, "cherry-pick", "other").returncode == 1
    assert (repo / ".git" / "CHERRY_PICK_HEAD").exists()


def revert_conflict(repo: Path) -> None:
    notes_commit(repo, "one\n", "one")
    notes_commit(repo, "two\n", "two")
    assert git_may_fail(repo, "revert", "--no-edit", "HEAD~1").returncode == 1
    assert (repo / ".git" / "REVERT_HEAD").exists()


def bisect(repo: Path) -> None:
    notes_commit(repo, "one\n", "one")
    git(repo, "bisect", "start")
    assert (repo / ".git" / "BISECT_LOG").exists()


def detached(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")


STATES = {
    "merge": (merge_conflict, "a merge is in progress"),
    "rebase": (rebase_conflict, "a rebase is in progress"),
    "rebase -i break": (rebase_interactive_break, "a rebase is in progress"),
    "am (rebase-apply)": (apply_rebase_conflict, "a rebase (or git am) is in progress"),
    "cherry-pick": (cherry_pick_conflict, "a cherry-pick is in progress"),
    "revert": (revert_conflict, "a revert is in progress"),
    "bisect": (bisect, "a bisect is in progress"),
    "detached HEAD": (detached, "is not on a branch (HEAD is detached at"),
}


@pytest.mark.parametrize("state", list(STATES))
def test_a_save_in_an_unfinished_git_state_is_refused_and_kept(valid_bank: Path,
                                                                 state: str) -> None:
    repo = valid_bank.parent
    bank = open_bank(valid_bank)
    item = bank.get("TS-0003")
    item["stem"] = f"Typed during {state}?"
    setup, words = STATES[state]
    setup(repo)
    before_head, before_file = head(repo), (valid_bank / ITEM).read_bytes()
    with pytest.raises(SaveRefusedError) as caught:
        bank.save(item, author=WRITER)
    message = str(caught.value)
    assert caught.value.why == "repository-state"
    assert words in message
    assert "Nothing was written" in message
    kept = Path(str(caught.value.kept_at))
    assert f"kept at {kept}" in message
    assert json.loads(kept.read_text())["stem"] == f"Typed during {state}?"
    assert head(repo) == before_head
    assert (valid_bank / ITEM).read_bytes() == before_file
    assert [(k.record, k.who, k.why) for k in bank.kept("TS-0003")] == [
        (ITEM, WRITER, "repository-state")]


def test_a_merge_in_progress_is_refused_in_the_item_editor_in_plain_words(
        valid_bank: Path) -> None:
    editor = ItemEditor(open_bank(valid_bank), author=WRITER)
    editor.open("TS-0003")
    editor.stem.value = "Typed while a merge was open?"
    merge_conflict(valid_bank.parent)
    editor.save_button.click()
    shown = editor.result.value
    assert "Not saved." in shown
    assert "a merge is in progress" in shown
    assert "Traceback" not in shown and "GitCommandError" not in shown
    assert editor.stem.value == "Typed while a merge was open?"


# ---- git lock files -------------------------------------------------------------------------


@pytest.fixture
def short_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guards, "GIT_LOCK_WAIT_SECONDS", 0.3)


@pytest.mark.parametrize("lock", ["index.lock", "HEAD.lock", "refs/heads/main.lock"])
def test_a_foreign_git_lock_is_waited_for_then_named_with_its_age_and_fix(
        valid_bank: Path, lock: str, short_wait: None) -> None:
    repo = valid_bank.parent
    lock_file = repo / ".git" / lock
    lock_file.write_text("")
    bank = open_bank(valid_bank)
    item = bank.get("TS-0003")
    item["stem"] = "Typed behind a lock?"
    with pytest.raises(SaveRefusedError) as caught:
        bank.save(item, author=WRITER)
    message = str(caught.value)
    assert caught.value.why == "git-lock"
    assert f"git's lock file {lock_file} exists (created " in message
    assert f"remove the lock: rm '{lock_file}'" in message
    assert lock_file.exists()
    assert json.loads(Path(str(caught.value.kept_at)).read_text())["stem"] == "Typed behind a lock?"
    lock_file.unlink()
    assert bank.save(item, author=WRITER) == head(repo)


KILLED_SAVE = """
import os, signal, sys
from itembank.storage import GitStore
store = GitStore(sys.argv[1])
store._record_owner()                     # what a save does before running git
fd = os.open(sys.argv[2], os.O_CREAT | os.O_EXCL | os.O_WRONLY)   # as git takes its lock
os.kill(os.getpid(), signal.SIGKILL)
"""


def killed_itembank_leaves(bank: Path, lock: Path) -> None:
    done = subprocess.run([sys.executable, "-c", KILLED_SAVE, str(bank), str(lock)])
    assert done.returncode == -signal.SIGKILL
    assert lock.exists()


@pytest.mark.parametrize("lock", ["index.lock", "HEAD.lock", "refs/heads/main.lock"])
def test_a_lock_left_by_a_killed_itembank_save_is_removed_and_the_save_goes_on(
        valid_bank: Path, lock: str, short_wait: None) -> None:
    lock_file = valid_bank.parent / ".git" / lock
    killed_itembank_leaves(valid_bank, lock_file)
    bank = open_bank(valid_bank)
    item = bank.get("TS-0003")
    item["stem"] = "Saved after a crash?"
    sha = bank.save(item, author=WRITER)
    assert sha == head(valid_bank.parent)
    assert not lock_file.exists()
    assert json.loads((valid_bank / ITEM).read_text())["stem"] == "Saved after a crash?"


def test_a_lock_older_than_the_killed_save_is_not_ours_and_stays(valid_bank: Path,
                                                                  short_wait: None) -> None:
    lock_file = valid_bank.parent / ".git" / "index.lock"
    lock_file.write_text("")
    os.utime(lock_file, (1_000_000_000, 1_000_000_000))  # made long before the killed save
    lock_file.unlink()
    other = valid_bank.parent / ".git" / "HEAD.lock"
    killed_itembank_leaves(valid_bank, other)
    other.unlink()
    lock_file.write_text("")
    os.utime(lock_file, (1_000_000_000, 1_000_000_000))
    bank = open_bank(valid_bank)
    item = bank.get("TS-0003")
    item["stem"] = "Not over a foreign lock?"
    with pytest.raises(SaveRefusedError, match=r"index\.lock exists"):
        bank.save(item, author=WRITER)
    assert lock_file.exists()


def test_a_killed_saves_record_proves_nothing_after_the_next_save(valid_bank: Path,
                                                                   short_wait: None) -> None:
    killed_itembank_leaves(valid_bank, valid_bank.parent / ".git" / "HEAD.lock")
    bank = open_bank(valid_bank)
    item = bank.get("TS-0003")
    item["stem"] = "Saved after a crash?"
    bank.save(item, author=WRITER)
    foreign = valid_bank.parent / ".git" / "index.lock"
    foreign.write_text("")  # made after the killed save, by no process we know
    item["stem"] = "Not over a foreign lock?"
    with pytest.raises(SaveRefusedError, match=r"index\.lock exists"):
        bank.save(item, author=WRITER)
    assert foreign.exists()


def test_a_lock_held_open_by_a_live_process_is_never_removed(valid_bank: Path,
                                                              short_wait: None) -> None:
    lock_file = valid_bank.parent / ".git" / "index.lock"
    killed_itembank_leaves(valid_bank, lock_file)
    holder = subprocess.Popen([sys.executable, "-c",
                               "import sys; f = open(sys.argv[1]); print('open', flush=True); "
                               "sys.stdin.read()", str(lock_file)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        bank = open_bank(valid_bank)
        item = bank.get("TS-0003")
        item["stem"] = "Not over a live lock?"
        with pytest.raises(SaveRefusedError, match=r"index\.lock exists"):
            bank.save(item, author=WRITER)
        assert lock_file.exists()
    finally:
        holder.communicate("")


def test_a_lock_of_a_killed_save_whose_process_lives_on_is_not_removed(
        valid_bank: Path, short_wait: None) -> None:
    lock_file = valid_bank.parent / ".git" / "index.lock"
    script = KILLED_SAVE.replace("os.kill(os.getpid(), signal.SIGKILL)",
                                 "os.close(fd); print('locked', flush=True); sys.stdin.read()")
    alive = subprocess.Popen([sys.executable, "-c", script, str(valid_bank), str(lock_file)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert alive.stdout is not None and alive.stdout.readline() == "locked\n"
        bank = open_bank(valid_bank)
        item = bank.get("TS-0003")
        item["stem"] = "Not while its owner lives?"
        with pytest.raises(SaveRefusedError, match=r"index\.lock exists"):
            bank.save(item, author=WRITER)
        assert lock_file.exists()
    finally:
        alive.communicate("")


# ---- unchanged saves, uncommitted files, temporary files ---------------------------------------


def test_saving_an_unchanged_record_is_a_no_op_returning_head(valid_bank: Path) -> None:
    repo = valid_bank.parent
    bank = open_bank(valid_bank)
    before = head(repo)
    assert bank.save(bank.get("TS-0003"), author=WRITER) == before
    assert head(repo) == before
    assert git(repo, "rev-list", "--count", "HEAD").strip() == "1"


def test_a_file_written_but_never_committed_is_reported_and_refuses_a_save(
        valid_bank: Path) -> None:
    repo = valid_bank.parent
    bank = open_bank(valid_bank)
    item = bank.get("TS-0003")
    on_disk = {**item, "stem": "Written by a save that was killed?"}
    (valid_bank / ITEM).write_text(json.dumps(on_disk, indent=2) + "\n")
    report = open_bank(valid_bank).validate()
    found = [f for f in report.findings if f.code == "uncommitted-change"]
    assert [(f.path, f.severity) for f in found] == [(ITEM, "warning")]
    words = found[0].message
    assert f"git -C '{repo.resolve()}' checkout HEAD -- 'bank/{ITEM}'" in words
    assert f"git -C '{repo.resolve()}' add -A -- 'bank/{ITEM}'" in words
    mine = open_bank(valid_bank)
    record = mine.get("TS-0003")
    record["stem"] = "My new edit?"
    with pytest.raises(SaveRefusedError) as caught:
        mine.save(record, author=WRITER)
    assert caught.value.why == "uncommitted-change"
    assert words in str(caught.value)
    assert json.loads(Path(str(caught.value.kept_at)).read_text())["stem"] == "My new edit?"
    assert json.loads((valid_bank / ITEM).read_text())["stem"] == on_disk["stem"]
    git(repo, "checkout", "HEAD", "--", f"bank/{ITEM}")
    assert [f for f in open_bank(valid_bank).validate().findings
            if f.code == "uncommitted-change"] == []
    fresh = open_bank(valid_bank)
    fresh.get("TS-0003")
    assert fresh.save(record, author=WRITER) == head(repo)


def test_leftover_temporary_files_are_cleaned_by_the_next_save(valid_bank: Path) -> None:
    leftovers = [valid_bank / "items" / ".TS-0001.json.k3j_9x0a.tmp",
                 valid_bank / "stimuli" / ".ST-0001.json.abcdefgh.tmp"]
    for path in leftovers:
        path.write_text('{"half": ')
    keep = valid_bank / "items" / ".notes.tmp"
    keep.write_text("not ours")
    bank = open_bank(valid_bank)
    item = bank.get("TS-0003")
    item["stem"] = "Cleaned up?"
    bank.save(item, author=WRITER)
    assert [p.exists() for p in leftovers] == [False, False]
    assert keep.exists()


# ---- disk full, read-only ----------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 2 MB tmpfs (we are root in the test container; skipped with the reason if not)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == 28
    return filler


def test_a_full_disk_keeps_the_committed_file_and_the_writers_version(
        small_disk: Path) -> None:
    bank_path = make_repo(small_disk, VALID_BANK)
    repo = bank_path.parent
    bank = open_bank(bank_path)
    item = bank.get("TS-0003")
    item["stem"] = "Typed on a full disk? " + "x" * 3000
    before_head, before = head(repo), (bank_path / ITEM).read_bytes()
    filler = fill(small_disk)
    with pytest.raises(SaveRefusedError) as caught:
        bank.save(item, author=WRITER)
    message = str(caught.value)
    assert caught.value.why == "disk-full"
    assert "the disk holding the bank is full" in message
    assert "the file on disk is still the committed version" in message
    kept = Path(str(caught.value.kept_at))
    assert f"so it is kept outside the bank, at {kept}" in message
    assert json.loads(kept.read_text())["stem"] == item["stem"]
    assert (bank_path / ITEM).read_bytes() == before
    assert head(repo) == before_head
    filler.unlink()
    assert open_bank(bank_path).validate().codes() == set()
    assert bank.save(item, author=WRITER) == head(repo) != before_head


def test_a_full_disk_during_git_puts_the_committed_file_back(small_disk: Path) -> None:
    bank_path = make_repo(small_disk, VALID_BANK)
    repo = bank_path.parent
    bank = open_bank(bank_path)
    item = bank.get("TS-0003")
    item["stem"] = "Fits on disk, but git's objects do not?"
    before_head, before = head(repo), (bank_path / ITEM).read_bytes()
    filler = fill(small_disk)
    os.truncate(filler, os.path.getsize(filler) - 2 * 4096)  # room for the new file only
    with pytest.raises(SaveRefusedError) as caught:
        bank.save(item, author=WRITER)
    assert caught.value.why == "disk-full", str(caught.value)
    assert ("the disk holding the bank is full; git said: unable to write loose object file: "
            "No space left on device. Nothing was saved; the file on disk is still the "
            "committed version.") in str(caught.value)
    assert (bank_path / ITEM).read_bytes() == before
    assert head(repo) == before_head
    filler.unlink()
    assert [f.code for f in open_bank(bank_path).validate().findings] == []
    assert sorted(p.name for p in (bank_path / "items").iterdir()) == sorted(
        p.name for p in (VALID_BANK / "items").iterdir())
    assert bank.save(item, author=WRITER) == head(repo)


def test_when_nothing_can_be_written_the_message_says_the_version_was_not_kept(
        small_disk: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bank_path = make_repo(small_disk, VALID_BANK)
    bank = open_bank(bank_path)
    item = bank.get("TS-0003")
    item["stem"] = "Nowhere to keep this? " + "y" * 3000
    monkeypatch.setattr(tempfile, "tempdir", str(small_disk))
    fill(small_disk)
    with pytest.raises(SaveRefusedError) as caught:
        bank.save(item, author=WRITER)
    message = str(caught.value)
    assert caught.value.kept_at is None
    assert "Your version could NOT be kept" in message
    assert "kept at" not in message


def test_a_read_only_disk_is_said_in_plain_words(small_disk: Path) -> None:
    bank_path = make_repo(small_disk, VALID_BANK)
    bank = open_bank(bank_path)
    bank.validate()
    item = bank.get("TS-0003")
    item["stem"] = "Typed on a read-only disk?"
    before = (bank_path / ITEM).read_bytes()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    with pytest.raises(SaveRefusedError) as caught:
        bank.save(item, author=WRITER)
    message = str(caught.value)
    assert "the disk holding the bank is read-only" in message
    kept = Path(str(caught.value.kept_at))
    assert json.loads(kept.read_text())["stem"] == "Typed on a read-only disk?"
    assert f"kept outside the bank, at {kept}" in message
    assert (bank_path / ITEM).read_bytes() == before


def as_nobody(work: Callable[[], dict[str, object]]) -> dict[str, object]:
    """Run `work` in a forked child with root's rights dropped (uid/gid 65534), since root
    ignores file modes; its result comes back as JSON through a pipe."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        status = 0
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            result = work()
        except BaseException as exc:  # reported to the parent, which fails the test
            result, status = {"crash": f"{type(exc).__name__}: {exc}"}, 1
        with os.fdopen(write_end, "w") as out:
            out.write(json.dumps(result))
        os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end) as incoming:
        text = incoming.read()
    os.waitpid(pid, 0)
    return dict(json.loads(text))


def test_a_folder_without_write_permission_is_said_in_plain_words(
        monkeypatch: pytest.MonkeyPatch) -> None:
    base = Path(tempfile.mkdtemp(dir="/tmp"))
    try:
        base.chmod(0o755)
        bank_path = make_repo(base, VALID_BANK)
        open_bank(bank_path).validate()  # every module a save needs is imported before the fork
        subprocess.run(["chown", "-R", "65534:65534", str(base)], check=True)
        (bank_path / "items").chmod(0o555)
        before = (bank_path / ITEM).read_bytes()
        monkeypatch.setenv("HOME", str(base))
        monkeypatch.setenv("XDG_CONFIG_HOME", str(base))

        def save() -> dict[str, object]:
            bank = open_bank(bank_path)
            item = bank.get("TS-0003")
            item["stem"] = "Typed into a folder I may not write?"
            try:
                bank.save(item, author=WRITER)
            except SaveRefusedError as exc:
                return {"why": exc.why, "message": str(exc), "kept_at": exc.kept_at}
            return {"why": "saved"}

        result = as_nobody(save)
        assert result.get("why") == "permission", result
        message = str(result["message"])
        assert message.startswith(f"{ITEM} was not saved: permission denied ({bank_path}/items/")
        assert "the file on disk is still the committed version" in message
        kept = Path(str(result["kept_at"]))
        assert kept.parent == bank_path.parent / ".git" / "itembank" / "kept"
        assert f"Your version is kept at {kept}." in message
        assert json.loads(kept.read_text())["stem"] == "Typed into a folder I may not write?"
        assert (bank_path / ITEM).read_bytes() == before
        assert git(bank_path, "-c", "safe.directory=*", "rev-list", "--count", "HEAD").strip() == "1"
    finally:
        shutil.rmtree(base)


def test_the_cli_prints_storage_failures_without_a_traceback(valid_bank: Path) -> None:
    bank = open_bank(valid_bank)
    item = bank.get("TS-0003")
    item["stem"] = "Kept during a merge?"
    merge_conflict(valid_bank.parent)
    with pytest.raises(SaveRefusedError):
        bank.save(item, author=WRITER)
    done = subprocess.run([str(Path(sys.executable).parent / "itembank"), "kept", "TS-0003",
                           "--restore", "1", "--bank", str(valid_bank), "--author", WRITER],
                          capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("itembank: error: items/TS-0003.json was not saved: in the "
                                  "bank's repository a merge is in progress")
    kept = open_bank(valid_bank).kept("TS-0003")
    assert [k.why for k in kept] == ["repository-state", "repository-state"]
    assert f"Your version is kept at {kept[1].path}." in done.stderr
    assert json.loads(kept[1].path.read_text())["stem"] == "Kept during a merge?"


# ---- kill -9 at any moment of a save -----------------------------------------------------------

SAVER = """
import json, sys
from itembank import open_bank
from itembank.core.canonical import dumps, git_blob_sha
bank_path, start = sys.argv[1], int(sys.argv[2])
for n in range(start, start + 1000):
    bank = open_bank(bank_path)
    item = bank.get("TS-0003")
    item["stem"] = f"Version {n} of the stem?"
    print(git_blob_sha(dumps(item).encode("utf-8")), flush=True)
    bank.save(item, author="Killed Writer <kw@example.org>")
    print("saved", flush=True)
"""


LOCKS = ("index.lock", "HEAD.lock", "refs/heads/main.lock")


def test_kill_9_at_random_moments_never_leaves_a_half_written_or_stuck_bank(
        valid_bank: Path) -> None:
    import random

    rng = random.Random(8)
    repo = valid_bank.parent
    seen_uncommitted = locks_left = 0
    for round_no in range(30):
        child = subprocess.Popen([sys.executable, "-c", SAVER, str(valid_bank),
                                  str(round_no * 1000)],
                                 stdout=subprocess.PIPE, text=True, start_new_session=True)
        assert child.stdout is not None
        intended = set()
        for _ in range(rng.randint(1, 6)):
            line = child.stdout.readline().strip()
            if line != "saved":
                intended.add(line)
        with contextlib.suppress(subprocess.TimeoutExpired):  # a random moment to kill at
            child.wait(timeout=rng.uniform(0.0, 0.25))
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        intended.update(line for line in child.stdout.read().split() if line != "saved")
        child.stdout.close()
        committed = git(repo, "rev-parse", f"HEAD:bank/{ITEM}").strip()
        on_disk = git_blob_sha((valid_bank / ITEM).read_bytes())
        assert on_disk == committed or on_disk in intended
        fsck = subprocess.run(["git", "fsck", "--no-progress"], cwd=repo, capture_output=True,
                              text=True)
        assert fsck.returncode == 0, fsck.stderr
        locks_left += sum(1 for lock in LOCKS if (repo / ".git" / lock).exists())
        bank = open_bank(valid_bank)
        if on_disk != committed:
            seen_uncommitted += 1
            assert [(f.path, f.code) for f in bank.validate().findings] == [
                (ITEM, "uncommitted-change")]
            record = bank.get("TS-0003")
            with pytest.raises(SaveRefusedError) as caught:
                bank.save({**record, "stem": "After the crash?"}, author=WRITER)
            assert caught.value.why == "uncommitted-change", str(caught.value)
            git(repo, "checkout", "HEAD", "--", f"bank/{ITEM}")
            bank = open_bank(valid_bank)
        record = bank.get("TS-0003")
        record["stem"] = f"Saved after kill {round_no}?"
        assert bank.save(record, author=WRITER) == head(repo)
        assert sorted(p.name for p in valid_bank.rglob(".*.tmp")) == []
        assert not (repo / ".git" / "index.lock").exists()
    assert git(repo, "status", "--porcelain", "--untracked-files=all").strip() == ""
    print(f"after 30 kills: {seen_uncommitted} uncommitted files, {locks_left} git locks left")


def test_a_repository_git_refuses_is_said_in_plain_words(tmp_path: Path) -> None:
    """git refuses a repository owned by another user ("dubious ownership"): the CLI says so
    and how to proceed, exit 2, no traceback."""
    bank = make_repo(tmp_path, VALID_BANK)
    for folder, dirs, files in os.walk(tmp_path / "repo"):
        for name in [*dirs, *files]:
            os.lchown(Path(folder) / name, 65534, 65534)
    os.lchown(tmp_path / "repo", 65534, 65534)
    done = subprocess.run([str(Path(sys.executable).parent / "itembank"), "validate", "--bank",
                           str(bank)],
                          capture_output=True, text=True, env={**os.environ, "HOME": str(tmp_path)})
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "git cannot use the repository holding the bank" in done.stderr
    assert "dubious ownership" in done.stderr
