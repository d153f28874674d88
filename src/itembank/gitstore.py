"""Storage: the only module that touches the bank's files on disk and git.

Every save is an atomic write (temporary file, fsync, rename) of the changed records and one
commit of exactly those files, by the person who made the change, under a lock. A save checks
that each file is still the version the person loaded; if not, it refuses and keeps their
version in the repository's git folder, so nothing is lost.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import marshal
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git

from .canonical import git_blob_sha
from .errors import BankNotFoundError, ConflictError, ItembankError

LOCK_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class Commit:
    """One entry of a record's history."""

    sha: str
    author: str
    date: str
    message: str


class GitStore:
    """A bank folder inside a git working tree."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        root = Path(path).expanduser()
        if not root.is_dir():
            raise BankNotFoundError(
                f"No bank at {root}: the folder does not exist. Pass --bank PATH or set "
                "ITEMBANK_PATH to a bank folder (one with a bank.json)."
            )
        if not (root / "bank.json").is_file():
            raise BankNotFoundError(
                f"{root} is not a bank: it has no bank.json. Pass --bank PATH or set "
                "ITEMBANK_PATH to a bank folder."
            )
        try:
            self.repo = git.Repo(root, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise BankNotFoundError(
                f"The bank {root} is not inside a git repository, so changes cannot be "
                "recorded. Run 'git init' in it (or clone the bank's repository)."
            ) from None
        if self.repo.bare or self.repo.working_tree_dir is None:
            raise BankNotFoundError(f"{root} is in a bare git repository; use a clone.")
        self.worktree = Path(self.repo.working_tree_dir).resolve()
        self.root = root.resolve()
        prefix = self.root.relative_to(self.worktree).as_posix()
        self.prefix = "" if prefix == "." else prefix + "/"
        self.state_dir = Path(self.repo.git_dir) / "itembank"

    # ---- reading ------------------------------------------------------------------------------

    def list_files(self, under: str = "") -> list[str]:
        """Every .json file of the bank, or of one folder of it (relative, '/'-separated),
        skipping hidden names."""
        out: list[str] = []
        for folder, dirs, files in os.walk(self.root / under):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            rel = Path(folder).relative_to(self.root).as_posix()
            base = "" if rel == "." else rel + "/"
            out.extend(base + f for f in files if f.endswith(".json") and not f.startswith("."))
        return sorted(out)

    def read(self, relpath: str) -> bytes:
        return (self.root / relpath).read_bytes()

    def read_optional(self, relpath: str) -> bytes | None:
        try:
            return self.read(relpath)
        except FileNotFoundError:
            return None

    def exists(self, relpath: str) -> bool:
        return (self.root / relpath).is_file()

    def fingerprints(self) -> dict[str, str]:
        """Git blob sha of every bank file whose working copy git knows to be unchanged.

        Modified and untracked files are left out: they must be read and checked again.
        """
        spec = self.prefix or "."
        listing = self.repo.git.ls_files("-s", "-z", "--", spec)
        out: dict[str, str] = {}
        for entry in listing.split("\0"):
            if not entry:
                continue
            meta, path = entry.split("\t", 1)
            out[path] = meta.split()[1]
        status = self.repo.git.status(
            "--porcelain=v1", "-z", "--untracked-files=no", "--ignore-submodules", "--", spec
        )
        parts = iter(status.split("\0"))
        for part in parts:
            if len(part) < 4:
                continue
            code, path = part[:2], part[3:]
            if code[0] in "RC":
                next(parts, None)
            if code[1] != " ":
                out.pop(path, None)
        size = len(self.prefix)
        return {p[size:]: sha for p, sha in out.items() if p.startswith(self.prefix)}

    def git_identity(self) -> tuple[str | None, str | None]:
        """user.name and user.email from git config, if set."""
        reader = self.repo.config_reader()
        name = reader.get_value("user", "name", default="") or None
        email = reader.get_value("user", "email", default="") or None
        return (str(name) if name else None, str(email) if email else None)

    def head(self) -> str | None:
        try:
            return str(self.repo.head.commit.hexsha)
        except ValueError:
            return None

    def history(self, relpath: str) -> list[Commit]:
        """Commits that changed the file, newest first."""
        if self.head() is None:
            return []
        out = []
        for commit in self.repo.iter_commits(paths=self.prefix + relpath):
            out.append(
                Commit(
                    sha=commit.hexsha,
                    author=f"{commit.author.name} <{commit.author.email}>",
                    date=commit.authored_datetime.isoformat(),
                    message=str(commit.message).strip(),
                )
            )
        return out

    def show(self, sha: str, relpath: str) -> bytes:
        """The file as it was at a commit."""
        blob = self.repo.commit(sha).tree / (self.prefix + relpath)
        return bytes(blob.data_stream.read())

    def versions(self, relpath: str, limit: int = 50) -> list[tuple[Commit, bytes]]:
        """The file's committed versions, newest first, with the commit of each."""
        out = []
        for commit in self.history(relpath)[:limit]:
            with contextlib.suppress(KeyError):
                out.append((commit, self.show(commit.sha, relpath)))
        return out

    # ---- local drafts: unsaved work kept per person, outside the working tree ------------------

    def _draft_file(self, owner: str, relpath: str) -> Path:
        return self.state_dir / "drafts" / owner / relpath.replace("/", "__")

    def write_draft(self, owner: str, relpath: str, data: bytes) -> None:
        """Keep a person's unsaved version of a record (overwritten at each change)."""
        target = self._draft_file(owner, relpath)
        target.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(target, data)

    def read_draft(self, owner: str, relpath: str) -> bytes | None:
        try:
            return self._draft_file(owner, relpath).read_bytes()
        except FileNotFoundError:
            return None

    def delete_draft(self, owner: str, relpath: str) -> None:
        self._draft_file(owner, relpath).unlink(missing_ok=True)

    # ---- the validation cache (kept in the git folder, never committed) -----------------------

    def read_cache(self, name: str = "validation") -> dict[str, Any] | None:
        """A cache kept in the git folder (never committed); None if absent or unreadable."""
        try:
            with open(self.state_dir / f"{name}.cache", "rb") as handle:
                data = marshal.load(handle)
        except (OSError, EOFError, ValueError, TypeError):
            return None
        return data if isinstance(data, dict) else None

    def write_cache(self, data: dict[str, Any], name: str = "validation") -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            _atomic_write(self.state_dir / f"{name}.cache", marshal.dumps(data))

    # ---- writing ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """One writer at a time per repository (other processes wait, then give up clearly)."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with open(self.state_dir / "write.lock", "a+") as handle:
            deadline = time.monotonic() + LOCK_TIMEOUT_SECONDS
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    if time.monotonic() > deadline:
                        raise ItembankError(
                            "Another save has held the bank's lock for over a minute; nothing "
                            "was written. Try again shortly."
                        ) from None
                    time.sleep(0.05)
            try:
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
        Returns the commit sha.
        """
        with self.lock():
            return self._save_locked(changes, expected, author, message)

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
        name, email = _split_person(author)
        # the caller holds the lock
        for relpath in changes:
            current = self.read_optional(relpath)
            current_sha = None if current is None else git_blob_sha(current)
            if current_sha != expected.get(relpath):
                kept = self._keep(relpath, changes[relpath] or current or b"")
                raise ConflictError(
                    self._conflict_message(relpath, current, expected.get(relpath), kept),
                    kept_at=str(kept),
                )
        before = {p: self.read_optional(p) for p in changes}
        try:
            for relpath, data in changes.items():
                target = self.root / relpath
                if data is None:
                    target.unlink()
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                _atomic_write(target, data)
            paths = [self.prefix + p for p in changes]
            env = {
                "GIT_AUTHOR_NAME": name,
                "GIT_AUTHOR_EMAIL": email,
                "GIT_COMMITTER_NAME": name,
                "GIT_COMMITTER_EMAIL": email,
            }
            self.repo.git.add("--", *paths)
            self.repo.git.commit(
                "--only", "--no-verify", "-q", "-m", message, "--", *paths, env=env
            )
        except BaseException:
            self._restore(before)
            raise
        return str(self.repo.head.commit.hexsha)

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
        name, email = _split_person(author)
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
        }

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
            branch = subprocess.run(
                ["git", "symbolic-ref", "-q", "HEAD"],
                cwd=self.worktree,
                capture_output=True,
                text=True,
                check=False,
            ).stdout.strip()
            if not branch:
                raise ItembankError(
                    "The bank's repository is on a detached HEAD, so a commit would be lost: "
                    "nothing was imported. Check out a branch (git switch main) and import again."
                )
            for relpath in changes:
                current = self.read_optional(relpath)
                if (None if current is None else git_blob_sha(current)) != expected.get(relpath):
                    kept = self._keep(relpath, changes[relpath])
                    raise ConflictError(
                        self._conflict_message(relpath, current, expected.get(relpath), kept),
                        kept_at=str(kept),
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
                    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
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
                            _atomic_write(self.root / relpath, before[relpath] or b"")
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

    def _restore(self, before: Mapping[str, bytes | None]) -> None:
        """Put files back as they were when a save could not be completed."""
        for relpath, data in before.items():
            target = self.root / relpath
            with contextlib.suppress(Exception):
                if data is None:
                    target.unlink(missing_ok=True)
                else:
                    _atomic_write(target, data)
                self.repo.git.reset("-q", "--", self.prefix + relpath)

    def _keep(self, relpath: str, data: bytes) -> Path:
        """Keep a version that could not be saved, so the person's work is not lost."""
        folder = self.state_dir / "kept"
        folder.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S")
        kept = folder / f"{relpath.replace('/', '__')}.{stamp}.{os.getpid()}.json"
        _atomic_write(kept, data)
        return kept

    def _conflict_message(
        self, relpath: str, current: bytes | None, expected: str | None, kept: Path
    ) -> str:
        last = self.history(relpath)[:1]
        by = f" (last change {last[0].sha[:8]} by {last[0].author}, {last[0].date})" if last else ""
        if expected is None:
            what = "already exists: it was created by someone else, or was not opened first"
        elif current is None:
            what = "was deleted since you opened it"
        else:
            what = "was changed by someone else since you opened it"
        return (
            f"{relpath} {what}{by}. Your version was not saved over it and is kept at "
            f"{kept}. Open the record again, apply your changes, and save."
        )


def _split_person(person: str) -> tuple[str, str]:
    name, _, rest = person.partition("<")
    return name.strip(), rest.rstrip(">").strip()


def _atomic_write(target: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder, fsync, then rename over the target."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
