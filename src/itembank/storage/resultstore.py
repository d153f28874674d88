"""The results store: candidate-level results in Parquet files written and read by DuckDB, in a
folder OUTSIDE the content repository. The only code that touches those files.

Layout (hive-partitioned, so Spark, Trino or DuckDB on a cluster read the same folder)::

    RESULTS/imports/<import>.parquet                      one row per import: the commit point
    RESULTS/responses/form=<FORM>/<import>.parquet        one row per candidate and item
    RESULTS/candidates/form=<FORM>/<import>.parquet       pseudonymous id and employer
    RESULTS/characteristics/form=<FORM>/<import>.parquet  equality characteristics, kept apart
    RESULTS/marks/form=<FORM>/<import>.parquet            simulated-practice marks (assessors')
    RESULTS/.lock  RESULTS/.tmp/                          the writers' lock and scratch space

<import> is the SHA-256 of the source, so the same source always lands in the same files.
Each part is written to .tmp/ and renamed into place (atomic on one filesystem); the imports
row is renamed in last, and readers only see parts whose import is listed: an import is all
there or not there. Writers hold an exclusive lock on .lock for the whole check-and-write, so
two importers at once cannot both pass the conflict check.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from itembank.core.errors import ItembankError
from itembank.storage.files import atomic_write, os_words

ENV = "ITEMBANK_RESULTS"

#: column -> DuckDB type, per table (the order is the files' column order)
TABLES: dict[str, dict[str, str]] = {
    "imports": {
        "import_id": "VARCHAR",
        "form": "VARCHAR",
        "source": "VARCHAR",
        "format": "VARCHAR",
        "imported_at": "VARCHAR",
        "candidates": "BIGINT",
        "responses": "BIGINT",
        "disagreements": "BIGINT",
    },
    "responses": {
        "import_id": "VARCHAR",
        "form": "VARCHAR",
        "candidate": "VARCHAR",
        "item": "VARCHAR",
        "delivery_id": "VARCHAR",
        "content_hash": "VARCHAR",
        "position": "INTEGER",
        "response": "VARCHAR",
        "omitted": "BOOLEAN",
        "score": "DOUBLE",
        "platform_score": "DOUBLE",
        "max_score": "DOUBLE",
        "key": "VARCHAR",
    },
    "candidates": {
        "import_id": "VARCHAR",
        "form": "VARCHAR",
        "candidate": "VARCHAR",
        "employer": "VARCHAR",
    },
    "characteristics": {
        "import_id": "VARCHAR",
        "form": "VARCHAR",
        "candidate": "VARCHAR",
        "name": "VARCHAR",
        "value": "VARCHAR",
    },
    "marks": {
        "import_id": "VARCHAR",
        "form": "VARCHAR",
        "candidate": "VARCHAR",
        "scenario": "VARCHAR",
        "criterion": "VARCHAR",
        "assessor": "VARCHAR",
        "band": "INTEGER",
        "line": "BIGINT",
    },
}
MARKS_FORMAT = "marks"  # the imports row of a marks import: `responses` counts its marks


class ResultsFolderError(ItembankError):
    """The results folder cannot be used (inside the content repository, not writable...)."""


class ImportConflictError(ItembankError):
    """A different source for candidates already imported for the same form."""


def choose_folder(explicit: str | os.PathLike[str] | None, worktree: Path) -> Path:
    """The results folder: `explicit` (--results), else $ITEMBANK_RESULTS, else
    <repository>-results beside the bank's repository. Refused inside that repository's work
    tree: candidate data must never be committed with the content."""
    chosen = explicit or os.environ.get(ENV)
    folder = Path(chosen) if chosen else worktree.parent / f"{worktree.name}-results"
    folder = folder.expanduser().resolve()
    top = worktree.resolve()
    default = top.parent / f"{top.name}-results"
    if folder == top or top in folder.parents:
        raise ResultsFolderError(
            f"The results folder {folder} is inside the bank's git repository ({top}): "
            "candidate-level results must stay out of the content repository. Choose a folder "
            f"outside it with --results DIR or ${ENV} (default: {default})."
        )
    return folder


def _connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that prints nothing: its progress bar (a long COPY of a
    big import) would land on the command's stdout, in the middle of --output json."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    return con


def write_files(folder: Path, files: Mapping[str, bytes]) -> None:
    """Write each named file into `folder` (made if missing), each whole or not at all (a
    report is aggregates only, so it may go anywhere, unlike the results)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            atomic_write(folder / name, data)
            (folder / name).chmod(0o644)  # a report to share, not a private temporary file
    except OSError as exc:
        raise ItembankError(f"{folder} cannot be written: {os_words(exc)}.") from None


def _literal(text: str) -> str:
    """A SQL string literal (DuckDB cannot take a file list or a COPY target as a parameter)."""
    return "'" + text.replace("'", "''") + "'"


def _unmasked(values: Any) -> Any:
    """A plain numpy array from DuckDB's column (masked where NULL): None, or NaN, there."""
    if not isinstance(values, np.ma.MaskedArray):
        return np.asarray(values)
    if values.dtype == object:
        data = np.array(values.data, dtype=object)
        data[np.ma.getmaskarray(values)] = None
        return data
    return np.ma.filled(values.astype(np.float64), np.nan)


def _series(values: Any) -> Any:
    """A frame column: a typed numpy array as it is (no Python object per value, a million
    rows are quick), anything else as Python objects (DuckDB's CAST gives the table's type)."""
    import pandas as pd

    if isinstance(values, np.ndarray) and values.dtype != object:
        return pd.Series(values)
    return pd.Series(values, dtype=object)


SOURCE_SUFFIXES = (".xml", ".xml.gz", ".csv", ".csv.gz")


def read_sources(paths: Sequence[str | os.PathLike[str]]) -> list[tuple[str, bytes]]:
    """(name, bytes) of each results file named, and of each results file (.xml, .csv, either
    gzipped) directly in each folder named, in name order."""
    out: list[tuple[str, bytes]] = []
    for given in paths:
        path = Path(given)
        try:
            if path.is_dir():
                files = sorted(
                    p
                    for p in path.iterdir()
                    if p.is_file()
                    and p.name.lower().endswith(SOURCE_SUFFIXES)
                    and not p.name.startswith(".")
                )
                if not files:
                    raise ItembankError(
                        f"{path} holds no results files (.xml or .csv, optionally .gz)."
                    )
                out.extend((str(p), p.read_bytes()) for p in files)
            elif path.is_file():
                out.append((str(path), path.read_bytes()))
            else:
                raise ItembankError(f"{path} does not exist: name a results file or folder.")
        except OSError as exc:
            raise ItembankError(f"{path} cannot be read ({exc.strerror or exc}).") from None
    return out


class ResultStore:
    """Parquet parts under one results folder (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    # ---- reading --------------------------------------------------------------------------

    def _parts(self, table: str, form: str | None = None) -> list[Path]:
        base = self.folder / table
        if table != "imports":
            base = base / f"form={form}" if form else base
            return sorted(base.glob("*.parquet" if form else "form=*/*.parquet"))
        return sorted(base.glob("*.parquet"))

    def _query(
        self,
        table: str,
        form: str | None,
        sql: str,
        params: Sequence[Any] = (),
        as_arrays: bool = False,
    ) -> Any:
        """Rows of `sql` over the committed parts of `table` (as the view `t`), or with
        `as_arrays` its columns as numpy arrays (None when nothing is stored)."""
        parts = self._parts(table, form)
        listed = {p.stem for p in self._parts("imports")}
        parts = [p for p in parts if p.stem in listed]
        if not parts:
            return None if as_arrays else []
        con = _connect()
        try:
            columns = ", ".join(TABLES[table])
            files = ", ".join(_literal(str(p)) for p in parts)
            hive = (
                "hive_partitioning = false"
                if table == "imports"
                else "hive_partitioning = true, hive_types = {'form': VARCHAR}"
            )
            con.execute(
                f"CREATE VIEW t AS SELECT {columns} FROM read_parquet([{files}], "
                f"union_by_name = true, {hive})"
            )
            result = con.execute(sql, list(params))
            return result.fetchnumpy() if as_arrays else result.fetchall()
        finally:
            con.close()

    def imports(self) -> list[dict[str, Any]]:
        """Every import, oldest first."""
        names = list(TABLES["imports"])
        rows = self._query(
            "imports", None, f"SELECT {', '.join(names)} FROM t ORDER BY imported_at, import_id"
        )
        return [dict(zip(names, r, strict=True)) for r in rows]

    def rows(self, table: str, form: str, columns: Sequence[str]) -> list[tuple[Any, ...]]:
        """`columns` of every committed row of `table` for `form`."""
        wanted = [c for c in columns if c in TABLES[table]]
        if len(wanted) != len(columns):
            raise ValueError(f"unknown column in {columns}")
        sql = f"SELECT {', '.join(columns)} FROM t WHERE form = ?"
        return list(self._query(table, form, sql, [form]))

    def arrays(self, table: str, form: str, columns: Sequence[str]) -> dict[str, Any]:
        """`columns` of every committed row of `table` for `form`, as numpy arrays."""
        if any(c not in TABLES[table] for c in columns):
            raise ValueError(f"unknown column in {columns}")
        sql = f"SELECT {', '.join(columns)} FROM t WHERE form = ?"
        found = self._query(table, form, sql, [form], as_arrays=True)
        if found is None:
            return {c: np.array([], dtype=object) for c in columns}
        return {c: _unmasked(found[c]) for c in columns}

    def aggregate(
        self, table: str, form: str, sql: str, params: Sequence[Any] = ()
    ) -> list[tuple[Any, ...]]:
        """Any read-only query over one table of one form (view `t`): for aggregates."""
        return list(self._query(table, form, sql, params))

    # ---- writing --------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / ".tmp").mkdir(exist_ok=True)
            handle = open(self.folder / ".lock", "a+b")  # noqa: SIM115 (held for the block)
        except OSError as exc:
            raise ResultsFolderError(
                f"Cannot write to the results folder {self.folder} ({exc.strerror or exc}): "
                "choose one you may write to with --results DIR."
            ) from None
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # another importer waits here, then re-checks
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _write(
        self,
        con: duckdb.DuckDBPyConnection,
        table: str,
        form: str | None,
        import_id: str,
        rows: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]],
    ) -> Path:
        """One part file (rows, or columns of equal length), written to .tmp/ and renamed into
        place. The columns reach DuckDB as a pandas frame: a million rows in seconds."""
        import pandas as pd

        # the form is the folder's name (form=<FORM>), not a column in the file: engines that
        # read hive partitions (Spark, Trino) refuse a column that is also a partition key
        schema = {c: t for c, t in TABLES[table].items() if not (form and c == "form")}
        if isinstance(rows, Mapping):
            n = len(next(iter(rows.values()), []))
            data = {
                c: (np.full(n, import_id, dtype=object) if c == "import_id" else rows[c])
                for c in schema
            }
        else:
            data = {c: [import_id if c == "import_id" else r.get(c) for r in rows] for c in schema}
        frame = pd.DataFrame({c: _series(v) for c, v in data.items()})
        con.register("incoming", frame)
        select = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in schema.items())
        tmp = self.folder / ".tmp" / f"{table}-{import_id}-{os.getpid()}.parquet"
        con.execute(
            f"COPY (SELECT {select} FROM incoming) TO {_literal(str(tmp))} (FORMAT parquet, "
            "COMPRESSION zstd)"
        )
        con.unregister("incoming")
        final = self.folder / table / (f"form={form}" if form else "") / f"{import_id}.parquet"
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)
        return final

    def _sweep(self, listed: set[str]) -> None:
        """Remove parts of imports that never completed (a crash between renames)."""
        for table in ("responses", "candidates", "characteristics", "marks"):
            for part in self._parts(table):
                if part.stem not in listed:
                    part.unlink(missing_ok=True)
        for leftover in (self.folder / ".tmp").glob("*.parquet"):
            leftover.unlink(missing_ok=True)

    def add(
        self,
        import_id: str,
        meta: Mapping[str, Any],
        responses: Mapping[str, Sequence[Any]],
        candidates: Sequence[Mapping[str, Any]],
        characteristics: Sequence[Mapping[str, Any]],
    ) -> bool:
        """Store one import; False when that very source is already stored (nothing changes).
        Raises ImportConflictError when another import already holds any of its candidates
        for the same form."""
        form = str(meta["form"])
        with self._locked():
            listed = {p.stem for p in self._parts("imports")}
            if import_id in listed:
                return False
            self._sweep(listed)
            ids = sorted({str(c["candidate"]) for c in candidates})
            clash = (
                self._query(
                    "candidates",
                    form,
                    "SELECT import_id, count(*) FROM t WHERE form = ? "
                    "AND list_contains(?, candidate) GROUP BY import_id ORDER BY import_id",
                    [form, ids],
                )
                if ids
                else []
            )
            if clash:
                which = "; ".join(f"{n} in import {i[:12]}" for i, n in clash)
                raise ImportConflictError(
                    f"Form {form} already has results for candidates in this file ({which}), "
                    "from a different source. A candidate's sitting comes from one import: if "
                    "this file corrects that one, remove the earlier import first (`itembank "
                    "results remove IMPORT`); if these are other candidates, check the ids."
                )
            con = _connect()
            try:
                self._write(con, "responses", form, import_id, responses)
                self._write(con, "candidates", form, import_id, candidates)
                self._write(con, "characteristics", form, import_id, characteristics)
                self._write(con, "imports", None, import_id, [dict(meta)])  # the commit point
            except (duckdb.Error, OSError) as exc:
                self._sweep(listed)
                raise ResultsFolderError(
                    f"Could not write the import to {self.folder} ({exc}); nothing was stored."
                ) from None
            finally:
                con.close()
        return True

    def add_marks(
        self, import_id: str, meta: Mapping[str, Any], marks: Mapping[str, Sequence[Any]]
    ) -> bool:
        """Store one import of simulated-practice marks (columns of the marks table);
        False when that very source is already stored. Raises ImportConflictError when an
        earlier import holds a mark of the same candidate, criterion and assessor."""
        form = str(meta["form"])
        with self._locked():
            listed = {p.stem for p in self._parts("imports")}
            if import_id in listed:
                return False
            self._sweep(listed)
            keys = ("candidate", "scenario", "criterion", "assessor")
            held = {
                tuple(r[:4]): r[4]
                for r in self._query(
                    "marks",
                    form,
                    f"SELECT {', '.join(keys)}, import_id FROM t WHERE form = ?",
                    [form],
                )
            }
            clash = sorted(
                {held[k] for k in zip(*(marks[c] for c in keys), strict=True) if k in held}
            )
            if clash:
                raise ImportConflictError(
                    f"Form {form} already has some of these marks (the same candidate, "
                    f"criterion and assessor) from import(s) {', '.join(i[:12] for i in clash)}. "
                    "A mark comes from one import: if this file corrects that one, remove the "
                    "earlier import first (`itembank results remove IMPORT`); a third mark goes "
                    "in a file of its own, holding only the third marks."
                )
            con = _connect()
            try:
                self._write(con, "marks", form, import_id, marks)
                self._write(con, "imports", None, import_id, [dict(meta)])  # the commit point
            except (duckdb.Error, OSError) as exc:
                self._sweep(listed)
                raise ResultsFolderError(
                    f"Could not write the marks to {self.folder} ({exc}); nothing was stored."
                ) from None
            finally:
                con.close()
        return True

    def import_order(self) -> dict[str, int]:
        """Each import's place in time (oldest 0): the order in which marks were given."""
        return {r["import_id"]: i for i, r in enumerate(self.imports())}

    def remove(self, import_id: str) -> dict[str, Any]:
        """Take one import out (its imports row first, so readers never see half of it)."""
        with self._locked():
            matches = [p for p in self._parts("imports") if p.stem.startswith(import_id)]
            if len(matches) != 1 or len(import_id) < 6:
                raise ItembankError(
                    f"No single import starts with {import_id!r}: `itembank results list` "
                    "shows them (give at least 6 characters)."
                )
            full = matches[0].stem
            record = next(i for i in self.imports() if i["import_id"] == full)
            matches[0].unlink()
            self._sweep({p.stem for p in self._parts("imports")})
            return record


__all__ = [
    "ENV",
    "MARKS_FORMAT",
    "ImportConflictError",
    "ResultStore",
    "ResultsFolderError",
    "choose_folder",
    "read_sources",
    "write_files",
]
