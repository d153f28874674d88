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
import stat as stat_module
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git

from .canonical import git_blob_sha
from .errors import BankNotFoundError, ConflictError, ItembankError
from .parsing import parse_record

LOCK_TIMEOUT_SECONDS = 60.0
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
