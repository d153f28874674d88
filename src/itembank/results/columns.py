"""The fast path of a results import: a whole responses source as columns (numpy arrays), not
one Python object per row. A 30,000 x 60 administration is 1.8 million rows; reading them one
by one (importer.parse_csv) cost most of an import.

The fast path only ever says "these are the rows" when the row-by-row parser would read the
very same rows with no finding; at the first sign of anything else (a quote, a stray carriage
return, a short row, a bad candidate id or score...) it answers None and the caller runs the
row-by-row parser, which names every problem exactly as before. So error messages have one
source, and the fast path needs no messages of its own. Pure: bytes in, arrays out.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from itembank.results.importer import (
    RESPONSE_COLUMNS,
    Format,
    Notation,
    RawResponse,
    candidate_problem,
    parse_qti,
    sniff,
    unzip,
)

Objects = NDArray[np.object_]
#: csv.reader refuses a longer field (csv.field_size_limit()); parse_csv then says so
FIELD_LIMIT = 131072


@dataclass
class ResponseColumns:
    """Responses as columns, one entry per response in source order. `response` is the raw
    answer text ("B", "A|C", "s1=T|s2=F"; "" when omitted), `platform_score` NaN where the
    source gave none. A row's place is `where[i]` when given (QTI), else "line `line[i]`"."""

    candidate: Objects
    form: Objects  # str, or None where the source names no form (QTI without testResult)
    item: Objects
    response: Objects
    ids: NDArray[np.bool_]  # True: the item's own option ids; False: the letters shown
    platform_score: NDArray[np.float64]
    source: Objects
    line: NDArray[np.int64]
    where: Objects | None = None

    def __len__(self) -> int:
        return len(self.candidate)

    def place(self, row: int) -> tuple[str, str]:
        """(source, where) of one row, as the row-by-row parser gives them."""
        where = str(self.where[row]) if self.where is not None else f"line {self.line[row]}"
        return str(self.source[row]), where

    def notation(self, row: int) -> Notation:
        return "ids" if self.ids[row] else "shown"

    def tokens(self, row: int) -> tuple[str, ...]:
        """The response's option tokens, as RawResponse.values holds them."""
        text = str(self.response[row])
        return tuple(map(str.strip, text.split("|"))) if text else ()


def _objects(values: Sequence[object]) -> Objects:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def read_csv(name: str, data: bytes) -> ResponseColumns | None:
    """A responses CSV as columns, or None when parse_csv must read it (it would find a
    problem, or the file uses something this reader does not: quotes, lone carriage returns,
    blank lines of spaces)."""
    try:
        raw = unzip(name, data)
        raw = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
        raw.decode("utf-8")  # parse_csv names a file that is not UTF-8
    except (UnicodeDecodeError, ValueError, OSError, EOFError):
        return None
    # Without quotes every physical line is one CSV record and its cells are line.split(","):
    # exactly what csv.reader gives. Carriage returns only as part of CRLF. "," and "\n" are
    # single bytes in UTF-8, never part of another character: counted on the bytes.
    if b'"' in raw or b"\x00" in raw or raw.count(b"\r") != raw.count(b"\r\n"):
        return None
    head, _, body = raw.partition(b"\n")
    header = [c.strip().lower() for c in head.decode("utf-8").split(",")]
    notation: Notation = "ids" if "response_id" in header else "shown"
    answer = "response_id" if notation == "ids" else "response"
    wanted = [answer if c == "response" else c for c in RESPONSE_COLUMNS]
    if not head.strip() or sorted(header) != sorted(wanted):
        return None
    array = np.frombuffer(body, dtype=np.uint8)
    ends = np.append(np.flatnonzero(array == 10), len(array))  # each line's end
    commas = np.diff(np.searchsorted(np.flatnonzero(array == 44), ends), prepend=0)
    starts = np.concatenate(([0], ends[:-1] + 1))
    if len(ends) and (ends - starts).max() > FIELD_LIMIT:
        return None
    empty = commas == 0
    if (ends[empty] != starts[empty]).any() or (commas[~empty] != len(header) - 1).any():
        return None  # a row of one cell, or of spaces, or a short or long row
    frame = pd.read_csv(
        io.BytesIO(body), header=None, names=header, dtype=str, na_filter=False,
        skip_blank_lines=True, quoting=csv.QUOTE_NONE, engine="c", encoding="utf-8",
    )  # fmt: skip
    n = len(frame)
    col = {c: np.asarray(frame[c].to_numpy(dtype=object)) for c in wanted}
    for c, values in col.items():
        if any(v != v.strip() for v in pd.unique(values)):
            col[c] = np.asarray(frame[c].str.strip().to_numpy(dtype=object))
    codes, uniques = pd.factorize(col["score"])
    values = np.empty(len(uniques), dtype=np.float64)
    for k, text_score in enumerate(uniques):
        try:
            values[k] = float(text_score) if text_score else math.nan
        except ValueError:
            return None
        if text_score and not math.isfinite(values[k]):
            return None
    for column in ("candidate", "form", "item"):
        if any(not v for v in pd.unique(col[column])):
            return None
    if any(candidate_problem(str(c)) for c in pd.unique(col["candidate"])):
        return None
    return ResponseColumns(
        candidate=col["candidate"],
        form=col["form"],
        item=col["item"],
        response=col[answer],
        ids=np.full(n, notation == "ids"),
        platform_score=values[codes] if n else np.zeros(0),
        source=np.full(n, name, dtype=object),
        line=np.flatnonzero(~empty).astype(np.int64) + 2,
    )


def from_raw(responses: Sequence[RawResponse]) -> ResponseColumns | None:
    """Parsed responses (QTI documents) as columns; None when a value holds "|" (the columns
    join a response's values with it)."""
    if any("|" in v for r in responses for v in r.values):
        return None
    n = len(responses)
    return ResponseColumns(
        candidate=_objects([r.candidate for r in responses]),
        form=_objects([r.form for r in responses]),
        item=_objects([r.item for r in responses]),
        response=_objects(["|".join(r.values) for r in responses]),
        ids=np.fromiter((r.notation == "ids" for r in responses), dtype=np.bool_, count=n),
        platform_score=np.fromiter(
            (math.nan if r.platform_score is None else r.platform_score for r in responses),
            dtype=np.float64,
            count=n,
        ),
        source=_objects([r.source for r in responses]),
        line=np.zeros(n, dtype=np.int64),
        where=_objects([r.where for r in responses]),
    )


def read_columns(
    files: Sequence[tuple[str, bytes]], fmt: Format | Literal["auto"]
) -> ResponseColumns | None:
    """parse_many's responses as columns, or None when it would find a problem (or a source
    uses something the fast path does not): the caller then runs parse_many."""
    parts = []
    for name, data in files:
        try:
            raw = unzip(name, data)
        except (ValueError, OSError, EOFError):
            return None
        kind = sniff(raw) if fmt == "auto" else fmt
        if kind == "csv":
            part = read_csv(name, raw)
        else:
            parsed = parse_qti(name, raw, None if fmt == "auto" else kind)
            part = None if parsed.findings else from_raw(parsed.responses)
        if part is None:
            return None
        parts.append(part)
    return concat(parts) if parts else None


def concat(parts: Sequence[ResponseColumns]) -> ResponseColumns:
    """Several sources' columns as one, in order."""
    if len(parts) == 1:
        return parts[0]
    wheres = [
        p.where if p.where is not None else _objects([f"line {x}" for x in p.line.tolist()])
        for p in parts
    ]
    keyed = any(p.where is not None for p in parts)
    return ResponseColumns(
        candidate=np.concatenate([p.candidate for p in parts]),
        form=np.concatenate([p.form for p in parts]),
        item=np.concatenate([p.item for p in parts]),
        response=np.concatenate([p.response for p in parts]),
        ids=np.concatenate([p.ids for p in parts]),
        platform_score=np.concatenate([p.platform_score for p in parts]),
        source=np.concatenate([p.source for p in parts]),
        line=np.concatenate([p.line for p in parts]),
        where=np.concatenate(wheres) if keyed else None,
    )


__all__ = ["ResponseColumns", "concat", "from_raw", "read_columns", "read_csv"]
