"""The validation cache: every file's findings and facts, the ids each file is about, and the
bank-wide findings, in one SQLite database in the git folder (never committed).

SQLite rather than one marshalled dictionary, so that a run after a small change reads only the
rows it needs (a 50,000-item bank is not unmarshalled whole), updates them in place, and writes
them in one transaction: a process killed mid-write leaves the previous state, and two processes
validating at once never mix their writes (the second one's write is skipped when the first
changed the cache since the second read it; its report is still its own). A file that is not such
a database, or one written by another version, is set aside with a note and rebuilt."""

from __future__ import annotations

import contextlib
import marshal
import os
import sqlite3
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

#: Bump when the tables change; a cache of another format is rebuilt.
FORMAT = "2"  # 2: coverage tally rows
_CHUNK = 500  # ids per "IN (...)" query (SQLite allows 32,766 parameters; stay well under)

_TABLES = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, blob TEXT, findings BLOB, facts BLOB,
    live INTEGER NOT NULL, global INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS keys (key TEXT NOT NULL, path TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS files_with_findings ON files (path) WHERE findings IS NOT NULL;
CREATE INDEX IF NOT EXISTS files_global ON files (path) WHERE global = 1;
CREATE INDEX IF NOT EXISTS files_live ON files (path) WHERE live = 1;
CREATE INDEX IF NOT EXISTS keys_by_key ON keys (key);
CREATE TABLE IF NOT EXISTS tally (
    path TEXT NOT NULL, fw TEXT, statement TEXT, roles TEXT, section TEXT, format TEXT,
    status TEXT);
CREATE INDEX IF NOT EXISTS tally_by_path ON tally (path);
CREATE INDEX IF NOT EXISTS keys_by_path ON keys (path);
CREATE TABLE IF NOT EXISTS bank (
    path TEXT NOT NULL, local INTEGER NOT NULL, rule INTEGER NOT NULL, seq INTEGER NOT NULL,
    finding BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS bank_by_path ON bank (path);
"""

#: The temporary tables rows are staged in before a save (as files, keys and tally).
_STAGING = (
    (
        "staged_files",
        "path TEXT, blob TEXT, findings BLOB, facts BLOB, live INTEGER, global INTEGER",
    ),
    ("staged_keys", "key TEXT, path TEXT"),
    (
        "staged_tally",
        "path TEXT, fw TEXT, statement TEXT, roles TEXT, section TEXT, format TEXT, status TEXT",
    ),
)

#: path, blob, findings, facts (marshalled), live, global, keys, coverage tally rows
Row = tuple[str, "str | None", "list[Any] | None", "bytes | None", bool, bool, list[str], list[Any]]


class FactStore:
    """One bank's validation cache. `header` is what the cached analysis depends on besides
    each file (versions, schemas, the catalogue's terms): a different header empties it."""

    def __init__(self, path: Path, header: str) -> None:
        self.path = path
        self.note: str | None = None  # why the cache was rebuilt, if it was
        self.generation = 0
        self._staged: bool | None = False  # rows staged for save(); None: staging failed
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):  # the marshalled cache of earlier versions
            (path.parent / "validation.cache").unlink(missing_ok=True)
        try:
            self._open(header)
        except sqlite3.DatabaseError as exc:  # not a database, or damaged
            self._discard()
            self.note = (
                f"The validation cache {path} could not be read ({exc}); it was set aside and "
                "rebuilt."
            )
            self._open(header)

    def _open(self, header: str) -> None:
        self.db = sqlite3.connect(self.path, timeout=120, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=DELETE")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(_TABLES)
        meta = dict(self.db.execute("SELECT name, value FROM meta").fetchall())
        if meta.get("format") != FORMAT or meta.get("header") != header:
            if meta:
                self.note = (
                    f"The validation cache {self.path} was written by another version or with "
                    "other settings; it was rebuilt."
                )
            with self.transaction():  # another process may have emptied it meanwhile
                before = self._meta("generation")
                after = str(int(before) + 1) if before and before.isdigit() else "1"
                for table in ("files", "keys", "bank", "tally", "meta"):
                    self.db.execute(f"DELETE FROM {table}")
                self.db.executemany(
                    "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                    [("format", FORMAT), ("header", header), ("generation", after), ("bank", "0")],
                )
        self.generation = int(self._meta("generation") or 0)

    def _discard(self) -> None:
        with contextlib.suppress(Exception):
            self.db.close()
        for suffix in ("", "-journal", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                Path(f"{self.path}{suffix}").unlink()

    def close(self) -> None:
        self.db.close()

    def _meta(self, name: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return str(row[0]) if row else None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """A consistent view for several reads (others' writes meanwhile are not seen)."""
        self.db.execute("BEGIN")
        try:
            self.generation = int(self._meta("generation") or 0)
            yield
        finally:
            self.db.execute("COMMIT")

    # ---- reading ---------------------------------------------------------------------------

    def blobs(self) -> dict[str, str | None]:
        """path -> git blob the cached result is of (None: it was not vouched for by git)."""
        return dict(self.db.execute("SELECT path, blob FROM files").fetchall())

    def has_bank_findings(self) -> bool:
        return self._meta("bank") == "1"

    def entries(self, paths: Iterable[str]) -> dict[str, tuple[list[Any] | None, Any]]:
        """path -> (findings, facts) of these files."""
        out = {}
        for chunk in _chunks(sorted(set(paths))):
            marks = ",".join("?" * len(chunk))
            for path, findings, facts in self.db.execute(
                f"SELECT path, findings, facts FROM files WHERE path IN ({marks})", chunk
            ):
                out[path] = (_load(findings), _load(facts))
        return out

    def all_facts(self) -> dict[str, Any]:
        return {
            p: marshal.loads(f)
            for p, f in self.db.execute("SELECT path, facts FROM files WHERE facts IS NOT NULL")
        }

    def file_findings(self) -> list[tuple[str, list[Any]]]:
        """Every file's own findings, in path order (files without any are not read)."""
        rows = self.db.execute(
            "SELECT path, findings FROM files WHERE findings IS NOT NULL ORDER BY path"
        )
        return [(p, marshal.loads(f)) for p, f in rows]

    def bank_findings(self) -> list[tuple[str, int, int, list[Any]]]:
        rows = self.db.execute("SELECT path, rule, seq, finding FROM bank")
        return [(p, r, s, marshal.loads(f)) for p, r, s, f in rows]

    def paths_with_keys(self, keys: Iterable[str]) -> set[str]:
        return self._keys_table("path", "key", keys)

    def keys_of(self, paths: Iterable[str]) -> set[str]:
        return self._keys_table("key", "path", paths)

    def _keys_table(self, column: str, where: str, values: Iterable[str]) -> set[str]:
        """`column` of the keys rows whose `where` column is one of `values` (two fixed column
        names, never user text), asked in chunks of the size SQLite accepts."""
        out: set[str] = set()
        for chunk in _chunks(sorted(set(values))):
            marks = ",".join("?" * len(chunk))
            query = f"SELECT {column} FROM keys WHERE {where} IN ({marks})"
            out.update(v for (v,) in self.db.execute(query, chunk))
        return out

    def tallies(self) -> list[tuple[Any, int]]:
        """Coverage's tally rows of every file, counted (SQLite adds them up)."""
        rows = self.db.execute(
            "SELECT fw, statement, roles, section, format, status, COUNT(*) FROM tally "
            "GROUP BY fw, statement, roles, section, format, status"
        )
        return [(tuple(r[:6]), int(r[6])) for r in rows]

    def global_facts(self) -> dict[str, Any]:
        rows = self.db.execute("SELECT path, facts FROM files WHERE global = 1")
        return {p: _load(f) for p, f in rows}

    def global_paths(self) -> set[str]:
        return {p for (p,) in self.db.execute("SELECT path FROM files WHERE global = 1")}

    def live(self) -> dict[str, str | None]:
        """path -> blob of the files marked live (items a near-duplicate check compares)."""
        return dict(self.db.execute("SELECT path, blob FROM files WHERE live = 1").fetchall())

    # ---- staging (before the write transaction, no lock taken) -------------------------------

    def stage(self, rows: Iterable[Row]) -> None:
        """Keep rows for the next save() in temporary tables of this connection, which take no
        lock on the cache: a run stages each chunk of results while the workers analyse the
        next, so its write transaction only copies them within SQLite. A failure here is not
        an error of the run: save() then writes nothing (the next run rebuilds)."""
        if self._staged is None:
            return
        rows = list(rows)
        try:
            if not self._staged:
                self.db.execute("PRAGMA temp_store = MEMORY")
                for table, columns in _STAGING:
                    self.db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} ({columns})")
                    self.db.execute(f"DELETE FROM temp.{table}")
                self._staged = True
            self.db.executemany(
                "INSERT INTO temp.staged_files VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (p, b, marshal.dumps(fs) if fs else None, facts, int(lv), int(gl))
                    for p, b, fs, facts, lv, gl, _, _ in rows
                ],
            )
            self.db.executemany(
                "INSERT INTO temp.staged_keys VALUES (?, ?)",
                [(k, r[0]) for r in rows for k in set(r[6])],
            )
            self.db.executemany(
                "INSERT INTO temp.staged_tally VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(r[0], *t) for r in rows for t in r[7]],
            )
        except (sqlite3.Error, OSError):
            self._staged = None

    def _put_staged(self) -> None:
        """Move the staged rows into the cache (inside `transaction`)."""
        if not self._staged:
            return
        staged = "SELECT path FROM temp.staged_files"
        self.db.execute(f"DELETE FROM keys WHERE path IN ({staged})")
        self.db.execute(f"DELETE FROM tally WHERE path IN ({staged})")
        self.db.execute("INSERT OR REPLACE INTO files SELECT * FROM temp.staged_files")
        self.db.execute("INSERT INTO keys SELECT * FROM temp.staged_keys")
        self.db.execute("INSERT INTO tally SELECT * FROM temp.staged_tally")

    def _drop_staged(self) -> None:
        if self._staged:
            with contextlib.suppress(sqlite3.Error):
                for table, _ in _STAGING:
                    self.db.execute(f"DROP TABLE IF EXISTS temp.{table}")
        self._staged = False

    # ---- writing (inside `transaction`) ----------------------------------------------------

    def put_files(self, rows: Iterable[Row], removed: Iterable[str]) -> None:
        gone = sorted(set(removed))
        for chunk in _chunks(gone):
            marks = ",".join("?" * len(chunk))
            self.db.execute(f"DELETE FROM files WHERE path IN ({marks})", chunk)
            self.db.execute(f"DELETE FROM keys WHERE path IN ({marks})", chunk)
            self.db.execute(f"DELETE FROM tally WHERE path IN ({marks})", chunk)
        rows = list(rows)
        for chunk in _chunks([r[0] for r in rows]):
            marks = ",".join("?" * len(chunk))
            self.db.execute(f"DELETE FROM keys WHERE path IN ({marks})", chunk)
            self.db.execute(f"DELETE FROM tally WHERE path IN ({marks})", chunk)
        self.db.executemany(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)",
            [
                (p, b, marshal.dumps(fs) if fs else None, facts, int(lv), int(gl))
                for p, b, fs, facts, lv, gl, _, _ in rows
            ],
        )
        self.db.executemany(
            "INSERT INTO keys VALUES (?, ?)", [(k, r[0]) for r in rows for k in set(r[6])]
        )
        self.db.executemany(
            "INSERT INTO tally VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(r[0], *t) for r in rows for t in r[7]],
        )
        self._put_staged()

    def replace_bank_findings(
        self, rows: Iterable[tuple[str, bool, int, int, list[Any]]], paths: Iterable[str] | None
    ) -> None:
        """Replace the bank-wide findings of these paths and every global one (all, if None)."""
        if paths is None:
            self.db.execute("DELETE FROM bank")
        else:
            self.db.execute("DELETE FROM bank WHERE local = 0")
            for chunk in _chunks(sorted(set(paths))):
                marks = ",".join("?" * len(chunk))
                self.db.execute(f"DELETE FROM bank WHERE local = 1 AND path IN ({marks})", chunk)
        self.db.executemany(
            "INSERT INTO bank VALUES (?, ?, ?, ?, ?)",
            [(p, int(lc), r, s, marshal.dumps(f)) for p, lc, r, s, f in rows],
        )
        self.db.execute("UPDATE meta SET value = '1' WHERE name = 'bank'")

    def save(
        self,
        rows: list[Row],
        removed: list[str],
        bank: list[tuple[str, bool, int, int, list[Any]]],
        touched: set[str] | None,
    ) -> bool:
        """Write one run's results (these rows and the staged ones) in one transaction, unless
        another process wrote since this one read (its state stands; this run's report is
        still its own). False if not written (that, or the disk refused, or staging failed:
        the next run rebuilds what is missing)."""
        try:
            if self._staged is None:
                return False
            with self.transaction():
                if self.current_generation() != self.generation:
                    return False
                self.put_files(rows, removed)
                if touched is None or touched:
                    self.replace_bank_findings(bank, touched)
                self.bump()
        except (sqlite3.Error, OSError):
            return False
        finally:
            self._drop_staged()
        return True

    def bump(self) -> None:
        self.db.execute(
            "UPDATE meta SET value = ? WHERE name = 'generation'", (str(self.generation + 1),)
        )

    def current_generation(self) -> int:
        return int(self._meta("generation") or 0)


def _chunks(values: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(values), _CHUNK):
        yield values[i : i + _CHUNK]


def _load(value: bytes | None) -> Any:
    return None if value is None else marshal.loads(value)


def read_or_why(root: str, limit: int, relpath: str) -> bytes | tuple[str, str]:
    """A bank file's bytes, or (finding code, advice) saying why it was not read."""
    from itembank.storage.files import UnreadableFileError, read_regular

    try:
        return read_regular(Path(root), relpath, limit)
    except UnreadableFileError as exc:  # a link, folder, FIFO... or too large
        return exc.code, exc.advice
    except FileNotFoundError:  # removed since listed: said as for any missing file
        return "missing-file", "The file was removed while the bank was checked."


_FILE_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY
_FOLDER_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_DIRECTORY


class FileReader:
    """read_or_why for many files of one bank, as an analysis worker reads its own files: each
    folder is opened once (without following links, as read_regular does) and kept open, and a
    file in it is read only after it is seen to be a regular file within the limit (before and
    after opening). Anything else (a link, a FIFO, a large or vanished file, a folder that is
    not one) is left to read_or_why, which says exactly what it is. Picklable; the open folders
    belong to the process that opened them and go with close() or the process."""

    def __init__(self, root: str, limit: int) -> None:
        self.root = root
        self.limit = limit
        self._folders: dict[str, int | None] = {}
        self._pid = os.getpid()

    def __getstate__(self) -> dict[str, Any]:
        return {"root": self.root, "limit": self.limit, "_folders": {}, "_pid": 0}

    def __call__(self, relpath: str) -> bytes | tuple[str, str]:
        folder, _, name = relpath.rpartition("/")
        fd = self._folder(folder)
        if fd is not None and name not in ("", ".", ".."):
            with contextlib.suppress(OSError):
                if stat.S_ISREG(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode):
                    data = self._read(name, fd)
                    if data is not None:
                        return data
        return read_or_why(self.root, self.limit, relpath)

    def _read(self, name: str, folder: int) -> bytes | None:
        handle = os.open(name, _FILE_FLAGS, dir_fd=folder)
        try:
            opened = os.fstat(handle)
            if not stat.S_ISREG(opened.st_mode) or opened.st_size > self.limit:
                return None
            data = os.read(handle, opened.st_size + 1)
            while len(data) <= self.limit:  # until the end (the file may grow meanwhile)
                more = os.read(handle, min(1 << 16, self.limit + 1 - len(data)))
                if not more:
                    return data
                data += more
            return None  # over the limit now: read_or_why says so
        finally:
            os.close(handle)

    def _folder(self, folder: str) -> int | None:
        if self._pid != os.getpid():  # inherited by a forked worker: its own descriptors
            self._folders, self._pid = {}, os.getpid()
        if folder not in self._folders:
            self._folders[folder] = self._open_folder(folder)
        return self._folders[folder]

    def _open_folder(self, folder: str) -> int | None:
        parts = folder.split("/") if folder else []
        if any(part in ("", ".", "..") for part in parts):
            return None
        try:
            fd = os.open(self.root, _FOLDER_FLAGS & ~os.O_NOFOLLOW)
        except OSError:
            return None
        for part in parts:
            try:
                inner = os.open(part, _FOLDER_FLAGS, dir_fd=fd)
            except OSError:
                inner = None
            os.close(fd)
            if inner is None:
                return None
            fd = inner
        return fd

    def close(self) -> None:
        if self._pid == os.getpid():
            for fd in self._folders.values():
                if fd is not None:
                    with contextlib.suppress(OSError):
                        os.close(fd)
        self._folders = {}
