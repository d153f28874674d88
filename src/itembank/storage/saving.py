"""Saving: one writer at a time under the bank's lock, each save an atomic write of the
changed files and one commit of exactly them by the person who made it, or a refusal that keeps
their version; and a bulk import that commits 100,000 files with git plumbing in linear time."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import git

from itembank.core.canonical import git_blob_sha
from itembank.core.errors import (
    ConflictError,
    ItembankError,
    SaveRefusedError,
    StorageError,
)
from itembank.storage.files import (
    atomic_write,
    fsync_dir,
    link_backup,
    os_why,
    os_words,
    write_temp,
)
from itembank.storage.guards import Guards
from itembank.storage.history import History
from itembank.storage.kept import Keeping

LOCK_TIMEOUT_SECONDS = 60.0


class Saving(Keeping, Guards, History):
    """Writing the bank: the lock, save, save_with and save_bulk."""

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """One writer at a time per repository (other processes wait, then give up clearly).

        Holding it, tidy what a killed save may have left: temporary files and, when provably
        stale, git lock files of a dead itembank process."""
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            handle = open(self.state_dir / "write.lock", "a+")  # noqa: SIM115
        except OSError as exc:
            raise StorageError(
                f"The bank's lock ({self.state_dir / 'write.lock'}) cannot be taken: "
                f"{os_words(exc)}. Nothing was written."
            ) from None
        with handle:
            deadline = time.monotonic() + LOCK_TIMEOUT_SECONDS
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise StorageError(
                            f"The bank's lock cannot be taken: {os_words(exc)}. "
                            "Nothing was written."
                        ) from None
                    if time.monotonic() > deadline:
                        raise ItembankError(
                            "Another save has held the bank's lock for over a minute; nothing "
                            "was written. Try again shortly."
                        ) from None
                    time.sleep(0.05)
            try:
                self._tidy()
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def save(
        self,
        changes: Mapping[str, bytes | None],
        expected: Mapping[str, str | None],
        author: str,
        message: str,
    ) -> str:
        """Write (or, for None, delete) the files and commit exactly them as `author`.

        `expected` gives, for each path, the blob sha the caller loaded (None for a new file).
        Returns the commit sha (HEAD, with no new commit, when nothing changed). Refused saves
        raise SaveRefusedError with the writer's version kept; nothing else but ItembankError
        leaves this method.
        """
        started = False
        try:
            with self.lock():
                started = True
                return self._save_locked(changes, expected, author, message)
        except ItembankError as exc:
            if started:
                raise
            raise self._refuse(changes, author, "lock", str(exc)) from None

    def save_with(
        self,
        build: Callable[[], tuple[Mapping[str, bytes | None], Mapping[str, str | None], str]],
        author: str,
    ) -> str:
        """Decide what to write while holding the lock: `build` reads the bank as it is now
        and returns (changes, expected, message), so no other save can slip in between the
        decision and the commit (e.g. a second submission of the same review)."""
        with self.lock():
            changes, expected, message = build()
            return self._save_locked(changes, expected, author, message)

    def _save_locked(
        self,
        changes: Mapping[str, bytes | None],
        expected: Mapping[str, str | None],
        author: str,
        message: str,
    ) -> str:
        # the caller holds the lock
        name, email = _split_person(author)
        try:
            self._record_owner()
        except OSError as exc:
            raise self._refuse(changes, author, *_failure_words(exc)) from None
        try:
            refusal = self._git_state_problem() or self._git_lock_problem()
            if refusal is not None:
                raise self._refuse(changes, author, *refusal)
            self._forget_killed_owners()
            head = self._head_blobs(list(changes))
            current = {p: self.read_optional(p) for p in changes}
            dirty = [
                p
                for p in changes
                if (None if current[p] is None else git_blob_sha(current[p] or b"")) != head[p]
            ]
            if dirty:
                raise self._refuse(
                    changes, author, "uncommitted-change", self.uncommitted_words(dirty[0])
                )
            for relpath in changes:
                now = current[relpath]
                if (None if now is None else git_blob_sha(now)) != expected.get(relpath):
                    data = changes[relpath]
                    kept, note = self._keep(
                        relpath, data if data is not None else now or b"", author, "conflict"
                    )
                    raise ConflictError(
                        self._conflict_message(relpath, now, expected.get(relpath), kept) + note,
                        kept_at=None if kept is None else str(kept),
                    )
            todo = {p: d for p, d in changes.items() if d != current[p]}
            if not todo:
                return self.head() or ""
            self._write_and_commit(todo, current, changes, author, message, name, email)
            return str(self.repo.head.commit.hexsha)
        except (OSError, git.GitCommandError) as exc:
            why, words = _failure_words(exc)
            raise self._refuse(changes, author, why, words) from None
        finally:
            self._clear_owner()

    def _write_and_commit(
        self,
        todo: Mapping[str, bytes | None],
        current: Mapping[str, bytes | None],
        changes: Mapping[str, bytes | None],
        author: str,
        message: str,
        name: str,
        email: str,
    ) -> None:
        """Write every new version to a temporary file first (a full disk fails here, before
        anything is replaced), then rename them into place and commit; on any failure put the
        committed versions back by renaming hard-linked backups (no space needed)."""
        temps: dict[str, Path] = {}
        backups: dict[str, Path] = {}
        placed: list[str] = []
        try:
            for relpath, data in todo.items():
                if data is not None:
                    target = self.root / relpath
                    target.parent.mkdir(parents=True, exist_ok=True)
                    temps[relpath] = write_temp(target, data)
            for relpath, data in todo.items():
                target = self.root / relpath
                if current[relpath] is not None:
                    backups[relpath] = link_backup(target)
                if data is None:
                    target.unlink()
                else:
                    os.replace(temps.pop(relpath), target)
                placed.append(relpath)
            for folder in {(self.root / p).parent for p in todo}:
                fsync_dir(folder)
            paths = [self.prefix + p for p in todo]
            env = {
                **_person_env(name, email),
                # an automatic gc runs inside the save, never as a detached process that would
                # still hold the repository's locks after the save has ended
                "GIT_CONFIG_COUNT": "1",
                "GIT_CONFIG_KEY_0": "gc.autoDetach",
                "GIT_CONFIG_VALUE_0": "false",
            }
            self.repo.git.add("-A", "--", *paths)
            self.repo.git.commit(
                "--only", "--no-verify", "-q", "-m", message, "--", *paths, env=env
            )
        except BaseException:
            self._restore(placed, backups)
            raise
        finally:
            for leftover in [*temps.values(), *backups.values()]:
                with contextlib.suppress(OSError):
                    leftover.unlink()

    def save_bulk(
        self,
        changes: Mapping[str, bytes],
        expected: Mapping[str, str | None],
        author: str,
        message: str,
        progress: Callable[[int, int], None] | None = None,
        progress_every: int = 1000,
    ) -> str:
        """`save` for many files at once (an import of 100,000 items), in time linear in their
        number. `git add`/`commit --only` match every file against every pathspec, which took
        over 9 minutes for 100,000 files, so the commit is made with plumbing instead: blobs in
        one pack (fast-import), a temporary index read from HEAD plus their entries
        (update-index --index-info), write-tree, commit-tree, and update-ref from the HEAD read
        at the start, so a commit made meanwhile is never overwritten. Files are written
        atomically and synced once, not one fsync each."""
        env = {**os.environ, **_person_env(*_split_person(author))}

        def run(*args: str, stdin: bytes = b"", index: str | None = None) -> str:
            extra = {"GIT_INDEX_FILE": index} if index else {}
            done = subprocess.run(
                ["git", *args],
                cwd=self.worktree,
                input=stdin,
                capture_output=True,
                env={**env, **extra},
                check=False,
            )
            if done.returncode != 0:
                raise ItembankError(
                    f"git {args[0]} failed, so nothing was imported: "
                    f"{done.stderr.decode(errors='replace').strip()}"
                )
            return done.stdout.decode().strip()

        with self.lock():
            # the same refusals as a single save: unfinished git operations, a detached HEAD,
            # foreign locks (stale ones of a killed itembank process are recovered), files
            # that differ from the last commit, and changes made since the rows were read.
            # The rows stay in the CSV, so nothing needs keeping when the import is refused.
            try:
                self._record_owner()
                refusal = self._git_state_problem() or self._git_lock_problem()
            except OSError as exc:
                refusal = _failure_words(exc)
            if refusal is not None:
                self._clear_owner()
                raise SaveRefusedError(f"Nothing was imported: {refusal[1]}", why=refusal[0])
            try:
                return self._bulk_locked(changes, expected, message, progress, progress_every, run)
            finally:
                self._clear_owner()

    def _bulk_locked(
        self,
        changes: Mapping[str, bytes],
        expected: Mapping[str, str | None],
        message: str,
        progress: Callable[[int, int], None] | None,
        progress_every: int,
        run: Callable[..., str],
    ) -> str:
        """save_bulk's work, under the bank's lock with the owner recorded."""
        branch = run("symbolic-ref", "-q", "HEAD")
        existing = [p for p in changes if expected.get(p) is not None]
        committed = self._head_blobs(existing)
        for relpath in changes:
            current = self.read_optional(relpath)
            now = None if current is None else git_blob_sha(current)
            if relpath in committed and now != committed[relpath]:
                raise SaveRefusedError(
                    "Nothing was imported: " + self.uncommitted_words(relpath),
                    why="uncommitted-change",
                )
            if now != expected.get(relpath):
                raise ConflictError(
                    f"{relpath} was changed by someone else while the import was checked, so "
                    "nothing was imported. Import again (the rows are still in your file)."
                )
        head = run("rev-parse", "--verify", "-q", "HEAD") if self.repo.head.is_valid() else ""
        before = {p: self.read_optional(p) for p in changes if expected.get(p) is not None}
        written: list[str] = []
        index = str(self.state_dir / f"import-{os.getpid()}.index")
        paths = b"".join((self.prefix + p).encode() + b"\0" for p in changes)
        try:
            for done, (relpath, data) in enumerate(changes.items(), 1):
                target = self.root / relpath
                target.parent.mkdir(parents=True, exist_ok=True)
                # named as TEMP_NAME, so the next save deletes it if this one is killed
                tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
                tmp.write_bytes(data)
                os.replace(tmp, target)
                written.append(relpath)
                if progress and (done % progress_every == 0 or done == len(changes)):
                    progress(done, len(changes))
            os.sync()
            # the blobs go into one pack (fast-import), not 100,000 loose objects; the tree
            # is HEAD's plus these blobs, listed in index order (index-info, no hashing and
            # no pathspec); the branch moves only if it still points where it did
            blobs = [b"blob\ndata %d\n%s\n" % (len(data), data) for data in changes.values()]
            run("fast-import", "--quiet", "--done", stdin=b"".join([*blobs, b"done\n"]))
            entries = sorted(
                ((self.prefix + p).encode(), git_blob_sha(data)) for p, data in changes.items()
            )
            info = b"".join(b"100644 %s\t%s\0" % (sha.encode(), p) for p, sha in entries)
            if head:
                run("read-tree", head, index=index)
            run("update-index", "-z", "--index-info", stdin=info, index=index)
            tree = run("write-tree", index=index)
            commit = run("commit-tree", tree, *(["-p", head] if head else []), "-m", message)
            run("update-ref", "-m", f"commit: {message}", branch, commit, head or "0" * 40)
        except BaseException:
            for relpath in written:
                with contextlib.suppress(OSError):
                    if relpath in before:
                        atomic_write(self.root / relpath, before[relpath] or b"")
                    else:
                        (self.root / relpath).unlink()
            raise
        finally:
            with contextlib.suppress(OSError):
                os.unlink(index)
        # the committed files are now also what the real index holds for them
        with contextlib.suppress(ItembankError):
            run("update-index", "--add", "-z", "--stdin", stdin=paths)
        return commit

    def _restore(self, placed: list[str], backups: Mapping[str, Path]) -> None:
        """Put the committed versions back when a save could not be completed."""
        for relpath in placed:
            target = self.root / relpath
            with contextlib.suppress(Exception):
                if relpath in backups:
                    os.replace(backups[relpath], target)
                else:
                    target.unlink(missing_ok=True)
        with contextlib.suppress(Exception):
            self.repo.git.reset("-q", "--", *[self.prefix + p for p in placed])

    def _conflict_message(
        self, relpath: str, current: bytes | None, expected: str | None, kept: Path | None
    ) -> str:
        last = self.history(relpath)[:1]
        by = f" (last change {last[0].sha[:8]} by {last[0].author}, {last[0].date})" if last else ""
        if expected is None:
            what = "already exists: it was created by someone else, or was not opened first"
        elif current is None:
            what = "was deleted since you opened it"
        else:
            what = "was changed by someone else since you opened it"
        where = f"is kept at {kept}" if kept is not None else "could not be kept"
        return (
            f"{relpath} {what}{by}. Your version was not saved over it and {where}. "
            "Open the record again, apply your changes, and save."
        )


def _person_env(name: str, email: str) -> dict[str, str]:
    """Git's environment for a commit authored and committed by this person."""
    return {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }


def _split_person(person: str) -> tuple[str, str]:
    name, _, rest = person.partition("<")
    return name.strip(), rest.rstrip(">").strip()


def _failure_words(exc: OSError | git.GitCommandError) -> tuple[str, str]:
    """(why, plain words) for an OS or git failure during a save."""
    kept = "Nothing was saved; the file on disk is still the committed version."
    if isinstance(exc, OSError):
        return os_why(exc), f"{os_words(exc)}. {kept}"
    text = str(exc.stderr or "").strip()
    lines = []
    for line in text.splitlines():
        line = line.strip().removeprefix("stderr:").strip().strip("'").strip()
        for prefix in ("fatal:", "error:"):
            line = line.removeprefix(prefix).strip()
        if line:
            lines.append(line.rstrip("."))
    detail = lines[0] if lines else f"git exited with status {exc.status}"
    for marker, why, words in (
        ("No space left", "disk-full", "the disk holding the bank is full"),
        ("Disk quota", "disk-full", "the disk quota is used up"),
        ("Read-only file system", "read-only", "the disk holding the bank is read-only"),
        ("Permission denied", "permission", "permission denied"),
        (".lock", "git-lock", "another git program holds a lock on the repository"),
    ):
        if marker in text:
            return why, f"{words}; git said: {detail}. {kept}"
    return "git", f"git could not record the change; it said: {detail}. {kept}"
