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
import json
import marshal
import os
import re
import socket
import stat as stat_module
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git

from itembank.core.canonical import git_blob_sha
from itembank.core.errors import (
    BankNotFoundError,
    ConflictError,
    ItembankError,
    SaveRefusedError,
    StorageError,
)
from itembank.core.parsing import parse_record

LOCK_TIMEOUT_SECONDS = 60.0
#: How long a save waits for a git lock file of another program to go before refusing.
GIT_LOCK_WAIT_SECONDS = 5.0
#: The temporary files _atomic_write makes (tempfile.mkstemp's 8 random characters).
_TEMP_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")

#: A bank file larger than this is a `too-large` finding and is never read (bank.json's
#: max_record_bytes changes it, within MIN_RECORD_BYTES..MAX_RECORD_BYTES_CAP).
DEFAULT_MAX_RECORD_BYTES = 1 << 20
MIN_RECORD_BYTES = 1 << 10
MAX_RECORD_BYTES_CAP = 1 << 28
#: A file changed this recently before it was hashed is hashed again next time (see
#: GitStore.fingerprints), as git re-reads "racily clean" files.
RACY_SECONDS = 1.0
STAT_CACHE_VERSION = 2


class UnreadableFileError(ItembankError):
    """A bank path itembank refuses to read: not a regular file, or over the size limit.

    `code` is the finding's code and `advice` its message (what it is and what to do)."""

    def __init__(self, relpath: str, code: str, advice: str) -> None:
        super().__init__(f"{relpath} was not read. {advice}")
        self.relpath = relpath
        self.code = code
        self.advice = advice


def _too_large(relpath: str, size: int, limit: int) -> UnreadableFileError:
    return UnreadableFileError(
        relpath,
        "too-large",
        f"The file is {size:,} bytes, over the bank's limit of {limit:,} bytes per record, so "
        "it was not read. Shorten it (large media belong outside the record), or raise "
        "max_record_bytes in bank.json.",
    )


def _not_regular(relpath: str, mode: int | None, root: Path) -> UnreadableFileError:
    """Say what is at the path instead of a file, and how to put it right."""
    if mode is None or stat_module.S_ISLNK(mode):
        try:
            target = os.readlink(root / relpath)
            what = f"a symbolic link (to {target[:200]!r})"
        except OSError:
            what = "a symbolic link"
        fix = (
            "itembank never follows links (git would record the link, not the record). "
            "Replace it with the record's own file, or delete it."
        )
    else:
        what = {
            stat_module.S_IFDIR: "a folder",
            stat_module.S_IFIFO: "a named pipe (FIFO)",
            stat_module.S_IFSOCK: "a socket",
            stat_module.S_IFCHR: "a character device",
            stat_module.S_IFBLK: "a block device",
            stat_module.S_IFREG: "a file",
        }.get(stat_module.S_IFMT(mode), "not a regular file")
        fix = "A bank holds only regular files, which git records. Move or delete it."
    return UnreadableFileError(
        relpath, "not-a-regular-file", f"It is {what}, not a regular file, and was not read. {fix}"
    )


@dataclass(frozen=True)
class Commit:
    """One entry of a record's history."""

    sha: str
    author: str
    date: str
    message: str


@dataclass(frozen=True)
class Kept:
    """A version that could not be saved, kept so that nothing typed is lost."""

    number: int
    record: str
    path: Path
    who: str
    when: str
    why: str


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
        try:  # git may refuse the repository (e.g. "dubious ownership"): say so once, plainly
            self.repo.git.rev_parse("--git-dir")
        except git.GitCommandError as exc:
            said = " ".join(str(exc.stderr or "").replace("stderr:", "").split()).strip("' ")
            raise BankNotFoundError(
                f"git cannot use the repository holding the bank {root}: {said or exc}. "
                "Put that right, then try again."
            ) from None
        self.worktree = Path(self.repo.working_tree_dir).resolve()
        self.root = root.resolve()
        prefix = self.root.relative_to(self.worktree).as_posix()
        self.prefix = "" if prefix == "." else prefix + "/"
        self.state_dir = Path(self.repo.git_dir) / "itembank"
        self._limit_cache: tuple[tuple[int, int, int, int], int] | None = None
        self.racy_seconds = RACY_SECONDS

    # ---- reading ------------------------------------------------------------------------------

    def list_files(self, under: str = "") -> list[str]:
        """Every .json file of the bank, or of one folder of it (relative, '/'-separated),
        skipping hidden names; plus everything that must not be in a bank, so that reading it
        is refused with a finding: symbolic links, FIFOs, sockets and devices of any name, and
        folders named like records (none of these is descended into or followed)."""
        base = self.root / under if under else self.root
        if under and (base.is_symlink() or (os.path.lexists(base) and not base.is_dir())):
            return [under.rstrip("/")]
        out: list[str] = []
        folders = [(base, under.rstrip("/") + "/" if under else "")]
        while folders:
            folder, prefix = folders.pop()
            try:
                entries = list(os.scandir(folder))
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in entries:
                name = entry.name
                if name.startswith("."):
                    continue
                if entry.is_symlink():
                    out.append(prefix + name)
                elif entry.is_dir(follow_symlinks=False):
                    if name.endswith(".json"):
                        out.append(prefix + name)
                    else:
                        folders.append((Path(entry.path), prefix + name + "/"))
                elif name.endswith(".json") or not entry.is_file(follow_symlinks=False):
                    out.append(prefix + name)
        return sorted(out)

    def read(self, relpath: str, limit: int | None = None) -> bytes:
        """A bank file's bytes, read only if it is a regular file (never through a link) of at
        most `limit` bytes (default: the bank's max_record_bytes).

        Raises UnreadableFileError (a clear message and a finding code) otherwise, and
        FileNotFoundError if nothing is there.
        """
        limit = self.record_limit() if limit is None else limit
        try:
            fd, size = self._open_regular(relpath)
        except (FileNotFoundError, ItembankError):
            raise
        except OSError as exc:  # permissions, I/O: said plainly, as a finding or an error
            raise UnreadableFileError(
                relpath,
                "unreadable-file",
                f"It could not be read ({exc.strerror or exc}). Check its permissions and the "
                "disk, then try again.",
            ) from None
        try:
            if size > limit:
                raise _too_large(relpath, size, limit)
            chunks = []
            total = 0
            while total <= limit:  # a bounded read: the file may grow after fstat
                chunk = os.read(fd, min(1 << 20, limit + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
            if total > limit:
                raise _too_large(relpath, total, limit)
            return b"".join(chunks)
        finally:
            os.close(fd)

    def read_optional(self, relpath: str) -> bytes | None:
        """A bank file's bytes, or None if nothing is at that path (see read)."""
        try:
            return self.read(relpath)
        except FileNotFoundError:
            return None

    def exists(self, relpath: str) -> bool:
        """Whether anything (a file, or something that reading will refuse) is at that path."""
        return os.path.lexists(self.root / relpath)

    def record_limit(self) -> int:
        """The most bytes a bank file may have: max_record_bytes in bank.json, else 1 MiB."""
        try:
            stat = os.lstat(self.root / "bank.json")
        except OSError:
            return DEFAULT_MAX_RECORD_BYTES
        key = (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
        if self._limit_cache is not None and self._limit_cache[0] == key:
            return self._limit_cache[1]
        limit = DEFAULT_MAX_RECORD_BYTES
        with contextlib.suppress(OSError, ItembankError):
            settings, _ = parse_record("bank.json", self.read("bank.json", MAX_RECORD_BYTES_CAP))
            value = (settings or {}).get("max_record_bytes")
            if (
                isinstance(value, int)
                and not isinstance(value, bool)
                and MIN_RECORD_BYTES <= value <= MAX_RECORD_BYTES_CAP
            ):
                limit = value  # otherwise the default; validation reports the setting
        self._limit_cache = (key, limit)
        return limit

    def _open_regular(self, relpath: str) -> tuple[int, int]:
        """Open a bank file for reading without following any link on the way, and return
        (descriptor, size) only if it is a regular file. The type is checked before opening
        (so a FIFO or device is never opened) and again on the opened descriptor (so a file
        swapped for a link or FIFO in between is still refused)."""
        parts = relpath.split("/")
        if any(part in ("", ".", "..") for part in parts):
            raise ItembankError(f"{relpath!r} is not a path inside the bank.")
        flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW
        folder = os.open(self.root, os.O_RDONLY | os.O_CLOEXEC | os.O_DIRECTORY)
        try:
            for depth, part in enumerate(parts):
                last = depth == len(parts) - 1
                try:
                    stat = os.stat(part, dir_fd=folder, follow_symlinks=False)
                except NotADirectoryError:
                    raise FileNotFoundError(relpath) from None
                if not last and stat_module.S_ISREG(stat.st_mode):
                    raise FileNotFoundError(relpath)
                wanted = stat_module.S_ISREG if last else stat_module.S_ISDIR
                if not wanted(stat.st_mode):
                    raise _not_regular("/".join(parts[: depth + 1]), stat.st_mode, self.root)
                try:
                    fd = os.open(
                        part,
                        flags | (os.O_NONBLOCK | os.O_NOCTTY if last else os.O_DIRECTORY),
                        dir_fd=folder,
                    )
                except OSError as exc:
                    if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.ENXIO):
                        raise _not_regular("/".join(parts[: depth + 1]), None, self.root) from None
                    raise
                opened = os.fstat(fd)
                if not wanted(opened.st_mode):
                    os.close(fd)
                    raise _not_regular("/".join(parts[: depth + 1]), opened.st_mode, self.root)
                os.close(folder)
                folder = fd
            return folder, opened.st_size
        except BaseException:
            os.close(folder)
            raise

    def fingerprints(self) -> dict[str, str]:
        """Git blob sha of every bank file whose working copy holds exactly the bytes git's
        index records for it; modified, untracked and non-regular files are left out (they
        must be read and checked again).

        Git's own answer (git status) is not trusted for this: it compares stat information at
        one-second resolution, and user settings (core.trustctime, core.checkStat,
        assume-unchanged, fsmonitor...) loosen it further, so a file rewritten within the same
        second with its mtime restored looks unchanged to it. Instead each file's bytes are
        hashed, and the hash is remembered against the file's full stat (inode, size, mtime and
        ctime to the nanosecond). The remembered hash is reused only while that stat is
        identical, and only for files whose last change was over `racy_seconds` before they were
        hashed: a change within the same clock tick cannot then leave the stat as it was (the
        "racily clean" case git handles by comparing content).
        """
        spec = self.prefix or "."
        listing = self.repo.git.ls_files("-s", "-z", "--", spec)
        index: dict[str, str | None] = {}
        size = len(self.prefix)
        for entry in listing.split("\0"):
            if not entry:
                continue
            meta, path = entry.split("\t", 1)
            mode, sha, stage = meta.split()[:3]
            if path.startswith(self.prefix):
                rel = path[size:]
                regular = mode in ("100644", "100755") and stage == "0" and rel not in index
                index[rel] = sha if regular else None  # links, submodules, conflicts: never
        cache = self.read_cache("stat") or {}
        known = cache.get("files", {}) if cache.get("version") == STAT_CACHE_VERSION else {}
        started = time.time_ns()
        settled = started - int(self.racy_seconds * 1e9)
        limit = self.record_limit()
        root = str(self.root) + "/"
        out: dict[str, str] = {}
        remember: dict[str, tuple[str, str]] = {}
        for rel, sha in index.items():
            if sha is None:
                continue
            try:
                st = os.lstat(root + rel)
            except OSError:
                continue
            if not stat_module.S_ISREG(st.st_mode):
                continue
            key = f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"
            entry = known.get(rel)
            if entry is not None and entry[0] == key:
                blob = entry[1]
            else:
                try:
                    blob = git_blob_sha(self.read(rel, limit))
                except (OSError, ItembankError):
                    continue  # gone, swapped, or too large: analysis says which
            if blob == sha:
                out[rel] = sha
            if st.st_ctime_ns < settled and st.st_mtime_ns < settled:
                remember[rel] = (key, blob)
        if remember != known:
            self.write_cache({"version": STAT_CACHE_VERSION, "files": remember}, "stat")
        return out

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
        """One writer at a time per repository (other processes wait, then give up clearly).

        Holding it, tidy what a killed save may have left: temporary files and, when provably
        stale, git lock files of a dead itembank process."""
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            handle = open(self.state_dir / "write.lock", "a+")  # noqa: SIM115
        except OSError as exc:
            raise StorageError(
                f"The bank's lock ({self.state_dir / 'write.lock'}) cannot be taken: "
                f"{_os_words(exc)}. Nothing was written."
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
                            f"The bank's lock cannot be taken: {_os_words(exc)}. "
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
                    temps[relpath] = _write_temp(target, data)
            for relpath, data in todo.items():
                target = self.root / relpath
                if current[relpath] is not None:
                    backups[relpath] = _link_backup(target)
                if data is None:
                    target.unlink()
                else:
                    os.replace(temps.pop(relpath), target)
                placed.append(relpath)
            for folder in {(self.root / p).parent for p in todo}:
                _fsync_dir(folder)
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
                # named as _TEMP_NAME, so the next save deletes it if this one is killed
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

    def _keep(
        self, relpath: str, data: bytes, author: str = "", why: str = "conflict"
    ) -> tuple[Path | None, str]:
        """Keep a version that could not be saved, under a name never used before (time to the
        nanosecond, pid and a random part, created exclusively), with who/when/why beside it.

        Returns (where, note): where is None when it could not be kept anywhere; note is what
        to add to the message when the bank's own kept folder could not be used."""
        when = time.time_ns()
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(when // 1_000_000_000))
        base = f"{relpath.replace('/', '__')}.{stamp}.{when % 1_000_000_000:09d}Z.{os.getpid()}"
        meta = {
            "record": relpath,
            "who": author,
            "when": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(when // 1_000_000_000))
            + f".{when % 1_000_000_000:09d}Z",
            "why": why,
        }
        folder = self.kept_dir
        try:
            kept = _write_new(folder, base, data)
        except OSError as exc:
            problem = _os_words(exc)
            fallback = Path(tempfile.gettempdir()) / f"itembank-kept-{os.getuid()}"
            try:
                kept = _write_new(fallback, base, data)
            except OSError:
                return None, (
                    f" Your version could NOT be kept: the bank's kept folder ({folder}) "
                    f"cannot be written ({problem}), nor can {fallback}. Your text is only in "
                    "what you were editing: copy it somewhere safe before closing."
                )
            return kept, (
                f" (The bank's kept folder {folder} cannot be written: {problem}; so it is "
                f"kept outside the bank, at {kept}.)"
            )
        with contextlib.suppress(OSError):
            (folder / ".meta").mkdir(exist_ok=True)
            _atomic_write(folder / ".meta" / kept.name, json.dumps(meta).encode("utf-8"))
        return kept, ""

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

    # ---- refusing a save, and what a killed save leaves behind ---------------------------------

    #: owner records of previous saves, seen under the lock (only a killed save leaves one)
    _previous_owners: list[tuple[dict[str, Any], int, Path]] = []  # noqa: RUF012
    _own_record: Path | None = None

    @property
    def kept_dir(self) -> Path:
        return self.state_dir / "kept"

    def _refuse(
        self, changes: Mapping[str, bytes | None], author: str, why: str, words: str
    ) -> SaveRefusedError:
        """Keep every version of a save that cannot be made, and say so plainly."""
        kept: list[Path] = []
        notes = []
        for relpath, data in changes.items():
            if data is None:
                continue
            where, note = self._keep(relpath, data, author, why)
            if where is not None:
                kept.append(where)
            if note:
                notes.append(note)
        names = ", ".join(changes) or "the change"
        words = words if words.endswith(".") else words + "."
        if kept:
            told = "Your version is kept at " + ", ".join(str(k) for k in kept) + "."
        elif any(d is not None for d in changes.values()):
            told = ""
        else:
            told = "Nothing was deleted."
        text = f"{names} was not saved: {words} {told}{''.join(notes)}".rstrip()
        return SaveRefusedError(text, kept_at=str(kept[0]) if kept else None, why=why)

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
        _atomic_write(own, json.dumps(record).encode("utf-8"))
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
                        if _TEMP_NAME.match(entry.name):
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
                if _TEMP_NAME.match(name):
                    with contextlib.suppress(OSError):
                        os.unlink(os.path.join(folder, name))
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.kept_dir):
                if _TEMP_NAME.match(entry.name):
                    os.unlink(entry.path)

    def _head_blobs(self, relpaths: list[str]) -> dict[str, str | None]:
        """The blob sha of each file in HEAD (None: not in HEAD, or no commit yet)."""
        out: dict[str, str | None] = dict.fromkeys(relpaths)
        if self.head() is None or not relpaths:
            return out
        listing = self.repo.git.ls_tree("-z", "HEAD", "--", *[self.prefix + p for p in relpaths])
        size = len(self.prefix)
        for entry in listing.split("\0"):
            if entry:
                meta, path = entry.split("\t", 1)
                if path[size:] in out:
                    out[path[size:]] = meta.split()[2]
        return out

    def uncommitted(self) -> list[str]:
        """Bank files (.json, not hidden) whose working copy differs from the last commit:
        written but never committed (e.g. a save killed half-way), added, or deleted."""
        if self.head() is None:
            return []
        spec = self.prefix or "."
        try:
            changed = self.repo.git.diff("HEAD", "--name-only", "-z", "--", spec).split("\0")
            new = self.repo.git.ls_files("--others", "--exclude-standard", "-z", "--", spec).split(
                "\0"
            )
        except git.GitCommandError:
            return []
        size = len(self.prefix)
        out = set()
        for path in [*changed, *new]:
            rel = path[size:]
            hidden = any(part.startswith(".") for part in rel.split("/"))
            if path.startswith(self.prefix) and rel.endswith(".json") and not hidden:
                out.add(rel)
        return sorted(p for p in out if self._plain_record_path(p))

    def _plain_record_path(self, relpath: str) -> bool:
        """False for what validate already reports as not-a-regular-file (a link, a FIFO, a
        file inside a folder named like a record or reached through a linked folder); True for
        a regular file, or one that is gone."""
        parts = relpath.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder.endswith(".json") or os.path.islink(self.root / folder):
                return False
        try:
            return stat_module.S_ISREG(os.lstat(self.root / relpath).st_mode)
        except FileNotFoundError:
            return True
        except OSError:
            return False

    def uncommitted_words(self, relpath: str) -> str:
        """How a file that differs from the last commit came about, and how to commit or
        discard it (the same words in validate and in a refused save)."""
        full = self.prefix + relpath
        here = f"git -C '{self.worktree}'"
        in_head = self._head_blobs([relpath])[relpath] is not None
        on_disk = (self.root / relpath).exists()
        if not in_head:
            discard = f"rm '{self.root / relpath}'"
        else:
            discard = f"{here} checkout HEAD -- '{full}'"
        state = "was deleted" if not on_disk else "was written"
        return (
            f"{relpath} {state} on disk but never committed (a save may have been interrupted, "
            f"or it was changed outside itembank), so it differs from the last commit. To keep "
            f"that change: {here} add -A -- '{full}' && {here} commit -m 'Commit {relpath}'. "
            f"To discard it: {discard}. Then save again."
        )

    def kept_versions(self, relpath: str | None = None) -> list[Kept]:
        """Kept versions (of one record, or all), oldest first, numbered from 1 per record."""
        try:
            names = sorted(
                e.name
                for e in os.scandir(self.kept_dir)
                if e.is_file() and not e.name.startswith(".")
            )
        except OSError:
            return []
        found: list[tuple[str, str, Path, dict[str, Any]]] = []
        for name in names:
            path = self.kept_dir / name
            meta: dict[str, Any] = {}
            with contextlib.suppress(OSError, ValueError):
                loaded = json.loads((self.kept_dir / ".meta" / name).read_bytes())
                if isinstance(loaded, dict):
                    meta = loaded
            record = str(
                meta.get("record") or name.split(".json.", 1)[0].replace("__", "/") + ".json"
            )
            if relpath is not None and record != relpath:
                continue
            when = str(meta.get("when") or "")
            if not when:
                with contextlib.suppress(OSError):
                    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(path.stat().st_mtime))
            found.append((record, when, path, meta))
        found.sort(key=lambda f: (f[0], f[1], f[2].name))
        out: list[Kept] = []
        counts: dict[str, int] = {}
        for record, when, path, meta in found:
            counts[record] = counts.get(record, 0) + 1
            out.append(
                Kept(
                    number=counts[record],
                    record=record,
                    path=path,
                    who=str(meta.get("who") or "unknown"),
                    when=when,
                    why=str(meta.get("why") or "unknown"),
                )
            )
        return out

    # ---- reading at a recorded commit (forms are rebuilt from the commit they name) -----------

    def files_at(
        self,
        sha: str,
        relpaths: list[str],
        folders: list[str] | None = None,
        bank_path: str | None = None,
    ) -> dict[str, bytes]:
        """The bank files named, and every file directly in the folders named, as they were at
        commit `sha` (absent ones are left out), the bank being at `bank_path` in the
        repository then (default: where it is now). One git process answers all of them."""
        prefix = self.prefix if bank_path is None else (bank_path.strip("/") + "/").lstrip("/")
        try:
            tree = self.repo.commit(sha).tree
        except (ValueError, git.BadName, git.GitCommandError):
            raise ItembankError(
                f"The commit {sha} is not in the bank's repository at {self.worktree}: fetch "
                "the history that holds it (a shallow or rewritten clone lacks it)."
            ) from None
        out: dict[str, bytes] = {}
        for relpath in relpaths:
            with contextlib.suppress(KeyError):
                blob = tree / (prefix + relpath)
                if blob.type == "blob":
                    out[relpath] = bytes(blob.data_stream.read())
        for folder in folders or []:
            with contextlib.suppress(KeyError):
                sub = tree / (prefix + folder.rstrip("/"))
                for blob in sub.blobs if sub.type == "tree" else ():
                    out[f"{folder.rstrip('/')}/{blob.name}"] = bytes(blob.data_stream.read())
        return out


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


def _atomic_write(target: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder, fsync, then rename over the target."""
    tmp = _write_temp(target, data)
    try:
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(target.parent)


def _write_temp(target: Path, data: bytes) -> Path:
    """A fsynced temporary file beside `target` holding `data` (named as _TEMP_NAME)."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(tmp)


def _link_backup(target: Path) -> Path:
    """A hard link to `target` under a temporary name: restoring it is a rename, which needs
    no free space."""
    while True:
        backup = target.parent / f".{target.name}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            os.link(target, backup)
            return backup
        except FileExistsError:
            continue


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _write_new(folder: Path, base: str, data: bytes) -> Path:
    """Write `data` whole under a name that did not exist (base + random part), never
    replacing anything: written to a temporary file, then hard-linked to the new name."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = _write_temp(folder / base, data)
    try:
        while True:
            kept = folder / f"{base}.{uuid.uuid4().hex[:12]}.json"
            try:
                os.link(tmp, kept)
                break
            except FileExistsError:
                continue
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    _fsync_dir(folder)
    return kept


_OS_WORDS = {
    errno.ENOSPC: ("disk-full", "the disk holding the bank is full"),
    errno.EDQUOT: ("disk-full", "the disk quota is used up"),
    errno.EROFS: ("read-only", "the disk holding the bank is read-only"),
    errno.EACCES: ("permission", "permission denied"),
    errno.EPERM: ("permission", "permission denied"),
}


def _os_why(exc: OSError) -> str:
    return _OS_WORDS.get(exc.errno or 0, ("disk", ""))[0]


def _os_words(exc: OSError) -> str:
    words = _OS_WORDS.get(exc.errno or 0, ("disk", exc.strerror or str(exc)))[1]
    return f"{words} ({exc.filename})" if exc.filename else words


def _failure_words(exc: OSError | git.GitCommandError) -> tuple[str, str]:
    """(why, plain words) for an OS or git failure during a save."""
    kept = "Nothing was saved; the file on disk is still the committed version."
    if isinstance(exc, OSError):
        return _os_why(exc), f"{_os_words(exc)}. {kept}"
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
