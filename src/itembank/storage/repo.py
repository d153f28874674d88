"""Reading the bank as it is on disk and in HEAD: its files (never through a link, never over
the size limit), their fingerprints against git's index, what differs from the last commit, and
itembank's own state in the git folder (drafts, caches). The base of every GitStore part."""

from __future__ import annotations

import contextlib
import marshal
import os
import stat as stat_module
import time
from array import array
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import git

from itembank.core.canonical import git_blob_sha
from itembank.core.errors import BankNotFoundError, ItembankError
from itembank.core.parsing import parse_record
from itembank.storage.files import (
    DEFAULT_MAX_RECORD_BYTES,
    MAX_RECORD_BYTES_CAP,
    MIN_RECORD_BYTES,
    atomic_write,
    read_regular,
)

#: A file changed this recently before it was hashed is hashed again next time (see
#: GitStore.fingerprints), as git re-reads "racily clean" files.
RACY_SECONDS = 1.0
STAT_CACHE_VERSION = 3

#: A file's stat as the stat cache compares it: device, inode, size, mtime_ns, ctime_ns.
STAT_WIDTH = 5
NO_STAT = array("q", (-1,) * STAT_WIDTH)  # nothing remembered, or not a regular file


class Reading:
    """A bank folder inside a git working tree, read (the parts that write build on it)."""

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
        #: files the last fingerprints(defer=True) left for the analysis to hash (see vouch)
        self.deferred: dict[str, str] = {}
        self._pending: tuple[list[str], array[int], array[int], list[str | None], int] | None = None

    # ---- reading ---------------------------------------------------------------------------------

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
        return read_regular(self.root, relpath, limit)

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

    def fingerprints(self, defer: bool = False) -> dict[str, str]:
        """Git blob sha of every bank file whose working copy holds exactly the bytes git's
        index records for it; modified, untracked and non-regular files are left out (they
        must be read and checked again).

        Git's own answer (git status) is not trusted for this: it compares stat information at
        one-second resolution, and user settings (core.trustctime, core.checkStat,
        assume-unchanged, fsmonitor...) loosen it further, so a file rewritten within the same
        second with its mtime restored looks unchanged to it. Instead each file's bytes are
        hashed, and the hash is remembered against the file's full stat (device, inode, size,
        mtime and ctime to the nanosecond). The remembered hash is reused only while that stat
        is identical, and only for files whose last change was over `racy_seconds` before they
        were hashed: a change within the same clock tick cannot then leave the stat as it was
        (the "racily clean" case git handles by comparing content).

        The cache holds three lists in the index's order, so an unchanged bank is one list
        comparison after the stat calls, not a lookup per file (50,000 files: about 0.2 s).

        With `defer`, when there is no stat cache (a first run, e.g. in a new clone) no file is
        hashed here: each is left out and listed in `deferred` (path -> the index's blob),
        for a validation that reads every file anyway to hash them in its workers and hand
        the hashes to `vouch` (hashing 50,000 files here first took seconds, on one core).
        """
        paths, shas = self._index_entries()
        settled = time.time_ns() - int(self.racy_seconds * 1e9)
        keys = self._stat_keys(paths)
        cache = self.read_cache("stat") or {}
        old_keys, old_blobs = _cached_stats(cache, paths)
        deferring = defer and cache.get("version") != STAT_CACHE_VERSION
        self.deferred, self._pending = {}, None
        blobs, stored_keys, stored_blobs = old_blobs, old_keys, old_blobs
        changed = _changed_stats(keys, old_keys)
        if changed:
            current, kept = array("q"), array("q")
            current.frombytes(keys)
            kept.frombytes(old_keys)
            blobs, stored_blobs = list(old_blobs), list(old_blobs)
            limit = self.record_limit()
            for i in changed:
                at = slice(i * STAT_WIDTH, (i + 1) * STAT_WIDTH)
                key = current[at]
                kept[at], blobs[i], stored_blobs[i] = NO_STAT, None, None
                if key == NO_STAT:
                    continue  # gone, or not a regular file: analysis says which
                if deferring:
                    self.deferred[paths[i]] = shas[i]
                    continue
                try:
                    blobs[i] = git_blob_sha(self.read(paths[i], limit))
                except (OSError, ItembankError):
                    continue  # gone, swapped, or too large: analysis says which
                if key[3] < settled and key[4] < settled:
                    kept[at], stored_blobs[i] = key, blobs[i]
            stored_keys = kept.tobytes()
            if self.deferred:
                self._pending = (paths, current, kept, stored_blobs, settled)
        if (stored_keys != old_keys or cache.get("paths") != paths) and (
            cache or stored_keys.strip(b"\xff")
        ):
            self._write_stats(paths, stored_keys, stored_blobs)
        return {p: sha for p, sha, blob in zip(paths, shas, blobs, strict=True) if blob == sha}

    def vouch(self, blobs: Mapping[str, str | None]) -> dict[str, str]:
        """The files `fingerprints(defer=True)` left unhashed whose bytes, as read and hashed
        by the analysis (`blobs`: path -> git blob sha, None if not read), are what git's index
        records: path -> blob. Their hashes are remembered against the stat taken before they
        were read, under the same racy rule as fingerprints' own: a change after that stat
        changes the stat, so a wrong pairing is never reused."""
        pending, deferred = self._pending, self.deferred
        self._pending, self.deferred = None, {}
        if pending is None:
            return {}
        paths, current, kept, stored_blobs, settled = pending
        out: dict[str, str] = {}
        for i, path in enumerate(paths):
            sha = deferred.get(path)
            blob = blobs.get(path) if sha is not None else None
            if blob is None:
                continue
            if blob == sha:
                out[path] = sha
            at = slice(i * STAT_WIDTH, (i + 1) * STAT_WIDTH)
            key = current[at]
            if key[3] < settled and key[4] < settled:
                kept[at], stored_blobs[i] = key, blob
        self._write_stats(paths, kept.tobytes(), stored_blobs)
        return out

    def _write_stats(self, paths: list[str], keys: bytes, blobs: list[str | None]) -> None:
        self.write_cache(
            {"version": STAT_CACHE_VERSION, "paths": paths, "keys": keys, "blobs": blobs}, "stat"
        )

    def _index_entries(self) -> tuple[list[str], list[str]]:
        """The bank's regular files in git's index (paths relative to the bank) and their
        blob shas; links, submodules and unmerged paths are left out (never vouched for)."""
        listing = self.repo.git.ls_files("-s", "-z", "--", self.prefix or ".")
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
        regular_files = [(rel, sha) for rel, sha in index.items() if sha is not None]
        return [rel for rel, _ in regular_files], [sha for _, sha in regular_files]

    def _stat_keys(self, paths: list[str]) -> bytes:
        """Each file's full stat (STAT_WIDTH signed 64-bit numbers: device, inode, size,
        mtime_ns, ctime_ns) packed in one string of bytes, so that comparing 50,000 of them is
        one memory comparison; NO_STAT for what is gone, is not a regular file, or has a number
        that does not fit (never vouched for)."""
        root = str(self.root) + "/"
        lstat, regular = os.lstat, stat_module.S_ISREG
        keys = array("q")
        for rel in paths:
            try:
                st = lstat(root + rel)
            except OSError:
                keys.extend(NO_STAT)
                continue
            if not regular(st.st_mode):
                keys.extend(NO_STAT)
                continue
            try:
                keys.extend((st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
            except OverflowError:  # a number over 2**63: drop what was added of it
                del keys[len(keys) - len(keys) % STAT_WIDTH :]
                keys.extend(NO_STAT)
        return keys.tobytes()

    # ---- git: who is saving, and what the last commit holds --------------------------------------

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

    # ---- what differs from the last commit -------------------------------------------------------

    def uncommitted(self) -> list[str]:
        """Bank files (.json, not hidden) whose working copy differs from the last commit:
        written but never committed (e.g. a save killed half-way), added, or deleted. None
        before the first commit (git refuses `diff HEAD`). Only git subprocesses: this runs in
        a thread beside validation (uncommitted_later), and GitPython's object database keeps
        one cat-file process that two threads must not share."""
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

    def uncommitted_later(self) -> Callable[[], list[str]]:
        """Start `uncommitted` now, in a thread, and return what gives its answer when called.
        Git does that work in its own processes, so validation runs alongside it on the other
        core (at 50,000 files the two git calls take about a tenth of a second)."""
        pool = ThreadPoolExecutor(1, thread_name_prefix="itembank-uncommitted")
        future = pool.submit(self.uncommitted)
        pool.shutdown(wait=False)
        return future.result

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

    # ---- local drafts: unsaved work kept per person, outside the working tree --------------------

    def _draft_file(self, owner: str, relpath: str) -> Path:
        return self.state_dir / "drafts" / owner / relpath.replace("/", "__")

    def write_draft(self, owner: str, relpath: str, data: bytes) -> None:
        """Keep a person's unsaved version of a record (overwritten at each change)."""
        target = self._draft_file(owner, relpath)
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, data)

    def read_draft(self, owner: str, relpath: str) -> bytes | None:
        try:
            return self._draft_file(owner, relpath).read_bytes()
        except FileNotFoundError:
            return None

    def delete_draft(self, owner: str, relpath: str) -> None:
        self._draft_file(owner, relpath).unlink(missing_ok=True)

    def list_drafts(self, owner: str) -> list[str]:
        """The paths (in the bank) of every record this person has a kept draft of."""
        folder = self.state_dir / "drafts" / owner
        if not folder.is_dir():
            return []
        return sorted(f.name.replace("__", "/") for f in folder.iterdir() if f.is_file())

    # ---- the validation cache (kept in the git folder, never committed) --------------------------

    def read_cache(self, name: str = "validation") -> dict[str, Any] | None:
        """A cache kept in the git folder (never committed); None if absent or unreadable."""
        try:
            with open(self.state_dir / f"{name}.cache", "rb") as handle:
                # loads of the whole bytes: marshal.load on a file reads it object by object
                # through Python calls (seconds, not milliseconds, for 50,000 entries)
                data = marshal.loads(handle.read())
        except (OSError, EOFError, ValueError, TypeError):
            return None
        return data if isinstance(data, dict) else None

    def write_cache(self, data: dict[str, Any], name: str = "validation") -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            atomic_write(self.state_dir / f"{name}.cache", marshal.dumps(data))

    @property
    def kept_dir(self) -> Path:
        """Where refused saves are kept (kept.py writes and lists it; the lock's tidying
        clears temporary files from it)."""
        return self.state_dir / "kept"


def _cached_stats(cache: dict[str, Any], paths: list[str]) -> tuple[bytes, list[str | None]]:
    """The remembered stat keys (packed as _stat_keys packs them, NO_STAT where nothing is
    remembered) and blob of each path, from a stat cache of any age or shape: one that is not
    this version's is ignored."""
    size = STAT_WIDTH * 8
    blank: list[str | None] = [None] * len(paths)
    nothing = (NO_STAT * len(paths)).tobytes(), blank
    if cache.get("version") != STAT_CACHE_VERSION:
        return nothing
    old_paths, old_keys, old_blobs = cache.get("paths"), cache.get("keys"), cache.get("blobs")
    if not (
        isinstance(old_paths, list)
        and isinstance(old_keys, bytes)
        and isinstance(old_blobs, list)
        and len(old_paths) == len(old_blobs)
        and len(old_keys) == size * len(old_paths)
    ):
        return nothing
    if old_paths == paths:
        return old_keys, old_blobs
    where = {p: i for i, p in enumerate(old_paths)}
    keys, blobs = bytearray(nothing[0]), nothing[1]
    for n, path in enumerate(paths):
        i = where.get(path)
        if i is not None:
            keys[n * size : (n + 1) * size] = old_keys[i * size : (i + 1) * size]
            blobs[n] = old_blobs[i]
    return bytes(keys), blobs


def _changed_stats(keys: bytes, old_keys: bytes) -> list[int]:
    """The indexes whose packed stat differs from the remembered one (nothing remembered
    differs from every real stat): blocks of 64 entries are compared first, so an unchanged
    bank costs one comparison per block."""
    size = STAT_WIDTH * 8
    block = 64 * size
    out = []
    for start in range(0, len(keys), block):
        if keys[start : start + block] != old_keys[start : start + block]:
            for at in range(start, min(start + block, len(keys)), size):
                if keys[at : at + size] != old_keys[at : at + size]:
                    out.append(at // size)
    return out
