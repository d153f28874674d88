"""Guards of a save: refuse when git is half-way through an operation or another program
holds git's locks, and recover the locks a killed itembank save left (proved stale by its owner
record, a dead process and no git running in the worktree)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
import uuid
from pathlib import Path
from typing import Any

from itembank.storage.files import TEMP_NAME, atomic_write
from itembank.storage.repo import Reading

#: How long a save waits for a git lock file of another program to go before refusing.
GIT_LOCK_WAIT_SECONDS = 5.0


class Guards(Reading):
    """The checks a save makes before running git, and what a killed save leaves behind."""

    #: owner records of previous saves, seen under the lock (only a killed save leaves one)
    _previous_owners: list[tuple[dict[str, Any], int, Path]] = []  # noqa: RUF012
    _own_record: Path | None = None

    def state_problem(self) -> str | None:
        """In words, why no commit can be made now (detached HEAD, a merge or rebase in
        progress, another program's git lock...), or None. A batch checks this first, so that a
        refusal keeps no copies of records it can simply write again."""
        problem = self._git_state_problem() or self._git_lock_problem()
        return problem[1] if problem else None

    def _git_state_problem(self) -> tuple[str, str] | None:
        """(why, words) when the repository is in a state where a commit would be lost or mixed
        into someone's unfinished git operation."""
        gitdir = Path(self.repo.git_dir)
        here = f"git -C {self.worktree}"
        states = [
            (
                "MERGE_HEAD",
                "a merge is in progress",
                f"finish it (git commit) or abort it ({here} merge --abort)",
            ),
            (
                "rebase-merge",
                "a rebase is in progress",
                f"finish it ({here} rebase --continue) or abort it ({here} rebase --abort)",
            ),
            (
                "rebase-apply",
                "a rebase (or git am) is in progress",
                f"finish it ({here} rebase "
                f"--continue) or abort it ({here} rebase --abort, or {here} am --abort)",
            ),
            (
                "CHERRY_PICK_HEAD",
                "a cherry-pick is in progress",
                f"finish it ({here} "
                f"cherry-pick --continue) or abort it ({here} cherry-pick --abort)",
            ),
            (
                "REVERT_HEAD",
                "a revert is in progress",
                f"finish it ({here} revert --continue) or abort it ({here} revert --abort)",
            ),
            ("BISECT_LOG", "a bisect is in progress", f"end it ({here} bisect reset)"),
        ]
        for marker, what, fix in states:
            if (gitdir / marker).exists():
                return "repository-state", (
                    f"in the bank's repository {what}, and a save now would be mixed into it "
                    f"or lost. Nothing was written. Ask whoever started it to {fix}, then save "
                    "again."
                )
        try:
            head = (gitdir / "HEAD").read_text(encoding="utf-8").strip()
        except OSError:
            head = ""
        if not head.startswith("ref: refs/heads/"):
            at = head[:8] if head else "an unknown commit"
            return "repository-state", (
                f"the bank's repository is not on a branch (HEAD is detached at {at}), so a "
                "commit would belong to no branch and be lost. Nothing was written. Go back to "
                f"the bank's branch ({here} switch main, or the branch you use), then save again."
            )
        return None

    def _git_locks(self) -> list[Path]:
        """The git lock files that would make the commit fail."""
        gitdir, common = Path(self.repo.git_dir), Path(self.repo.common_dir)
        locks = [gitdir / "index.lock", gitdir / "HEAD.lock", common / "packed-refs.lock"]
        with contextlib.suppress(OSError):
            head = (gitdir / "HEAD").read_text(encoding="utf-8").strip()
            if head.startswith("ref: "):
                locks.append(common / (head[5:] + ".lock"))
        return [lock for lock in locks if lock.exists()]

    def _git_lock_problem(self) -> tuple[str, str] | None:
        """Remove git locks provably left by a killed itembank save; wait a bounded time for
        any other lock to go; then (why, words) naming the lock, its age and the safe fix."""
        deadline = time.monotonic() + GIT_LOCK_WAIT_SECONDS
        while True:
            locks = self._git_locks()
            for lock in list(locks):
                if self._stale_lock(lock):
                    with contextlib.suppress(FileNotFoundError):
                        lock.unlink()
                    locks.remove(lock)
            if not locks:
                return None
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        lock = locks[0]
        try:
            age = _age_words(time.time() - lock.stat().st_mtime)
        except OSError:
            age = "an unknown time"
        return "git-lock", (
            f"git's lock file {lock} exists (created {age} ago), so another git program is "
            f"using the bank's repository or one was stopped half-way. Waited "
            f"{GIT_LOCK_WAIT_SECONDS:g} s; nothing was written. If no git program is running "
            "(close git tools and editors using this repository; 'ps aux | grep git' shows "
            f"none), remove the lock: rm '{lock}', then save again."
        )

    @property
    def _owners_dir(self) -> Path:
        return self.state_dir / "operations"

    def _record_owner(self) -> None:
        """Record who runs git in this repository now (pid, host, process start), so that a
        lock file left by this process if it is killed can later be proved stale. The record
        is removed when the save ends; only a killed save leaves it."""
        pid = os.getpid()
        record = {"pid": pid, "host": socket.gethostname(), "start": _process_start(pid)}
        self._owners_dir.mkdir(parents=True, exist_ok=True)
        own = self._owners_dir / f"{pid}.{uuid.uuid4().hex[:12]}.json"
        atomic_write(own, json.dumps(record).encode("utf-8"))
        self._own_record = own

    def _clear_owner(self) -> None:
        if self._own_record is not None:
            with contextlib.suppress(OSError):
                self._own_record.unlink()
            self._own_record = None

    def _forget_killed_owners(self) -> None:
        """No git lock is left: the records of killed saves prove nothing any more."""
        for _, _, path in self._previous_owners:
            with contextlib.suppress(OSError):
                path.unlink()
        self._previous_owners = []

    def _stale_lock(self, lock: Path) -> bool:
        """True only when provably left by a killed itembank save: a previous save's owner
        record is still there (it is removed when a save ends), its process is dead on this
        host, the lock is not older than that record, and no process on this host has the lock
        open or is running git in this worktree. We hold the bank's lock, so no other itembank
        save is running."""
        try:
            made = lock.stat().st_mtime_ns
        except OSError:
            return False
        for record, recorded_at, _ in self._previous_owners:
            pid = record.get("pid")
            if (
                record.get("host") == socket.gethostname()
                and isinstance(pid, int)
                and not _alive(pid, record.get("start"))
                and made >= recorded_at
            ):
                return not _in_use(lock, self.worktree)
        return False

    def _tidy(self) -> None:
        """Under the bank's lock: note the owner records of previous saves (left only by a
        killed save), and delete temporary files of killed saves (no save is running now)."""
        self._previous_owners = []
        with contextlib.suppress(OSError):
            for entry in os.scandir(self._owners_dir):
                if entry.name.startswith("."):
                    with contextlib.suppress(OSError):
                        if TEMP_NAME.match(entry.name):
                            os.unlink(entry.path)
                    continue
                with contextlib.suppress(OSError, ValueError):
                    data = json.loads(Path(entry.path).read_bytes())
                    if isinstance(data, dict):
                        mtime = entry.stat().st_mtime_ns
                        self._previous_owners.append((data, mtime, Path(entry.path)))
        for folder, dirs, files in os.walk(self.root):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in files:
                if TEMP_NAME.match(name):
                    with contextlib.suppress(OSError):
                        os.unlink(os.path.join(folder, name))
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.kept_dir):
                if TEMP_NAME.match(entry.name):
                    os.unlink(entry.path)


def _age_words(seconds: float) -> str:
    if seconds < 120:
        return f"{max(seconds, 0):.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _process_start(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (tells a reused pid apart)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def _alive(pid: int, start: object) -> bool:
    """Is the process that recorded (pid, start) still running (zombies are not)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return True
    if fields and fields[0] in ("Z", "X"):
        return False
    return not (isinstance(start, int) and _process_start(pid) not in (None, start))


def _in_use(lock: Path, worktree: Path) -> bool:
    """Could any process still own `lock`: one holding it open, or any git process working
    in this worktree? True when this cannot be ruled out (no /proc, unreadable process)."""
    proc = Path("/proc")
    if not (proc / "self" / "fd").is_dir():
        return True
    target, me = str(lock), str(os.getpid())
    for entry in proc.iterdir():
        if not entry.name.isdigit() or entry.name == me:
            continue
        try:
            comm = (entry / "comm").read_text(encoding="utf-8").strip()
            args = (entry / "cmdline").read_bytes().split(b"\0")
            if comm.startswith("git") and b"cat-file" not in args[1:2]:  # cat-file takes no lock
                cwd = Path(os.readlink(entry / "cwd"))
                if cwd == worktree or worktree in cwd.parents:
                    return True
            for fd in (entry / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) == target:
                        return True
        except FileNotFoundError:
            continue
        except OSError:
            return True
    return False
