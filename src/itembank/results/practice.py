"""Simulated-practice marks from assessors: a CSV (plain or gzipped) with the columns
``candidate,scenario,criterion,assessor,band``, one row per assessor's mark on one criterion.

Pure: a stream (or bytes) in, rows and findings out; storage opens the file and the marks
service stores the rows. The file is read line by line, never whole, so a very large file
(or a gzip that unpacks to one) costs memory for its rows only. Every problem is a Finding
naming the file, the line and column, and the fix; one bad row never hides the others.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, NamedTuple

from itembank.core.findings import Finding, error
from itembank.results.importer import candidate_problem

MARK_COLUMNS = ("candidate", "scenario", "criterion", "assessor", "band")
MAX_LINE = 64 * 1024  # bytes: a marks row is a few dozen; longer is not a marks file
MAX_ROWS = 1_000_000  # marks in one file (~350 MB to check; a national sitting: ~200,000)
MAX_LINES = 2 * MAX_ROWS  # blank lines included: a file of nothing but newlines ends here
MAX_FINDINGS = 500  # listed; the rest are counted in one last finding
MAX_MARKS = 3  # two assessors, and a third where they differ by more than the tolerance
_GZIP_MAGIC = b"\x1f\x8b"


class MarkRow(NamedTuple):
    """One assessor's band on one criterion, as the file gave it (`line`: where)."""

    candidate: str
    scenario: str
    criterion: str
    assessor: str
    band: int
    line: int


@dataclass(frozen=True)
class Criterion:
    """A marking-scheme criterion as the marks need it: its title and its bands."""

    title: str
    bands: dict[int, str]  # score -> label, in score order


Schemes = Mapping[str, Mapping[str, Criterion]]  # scenario -> criterion id -> criterion


@dataclass
class ParsedMarks:
    """What the parser read: the marks, in file order, and every problem."""

    rows: list[MarkRow] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    dropped: int = 0  # findings beyond MAX_FINDINGS, counted not kept

    def problem(self, finding: Finding) -> None:
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append(finding)
        else:
            self.dropped += 1


def schemes_of(scenarios: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Criterion]]:
    """Each scenario's criteria from its marking scheme (scenario records of the bank)."""
    out: dict[str, dict[str, Criterion]] = {}
    for record in scenarios:
        criteria = (record.get("marking_scheme") or {}).get("criteria") or []
        out[str(record.get("id"))] = {
            str(c["id"]): Criterion(
                str(c.get("title", c["id"])),
                {
                    int(b["score"]): str(b.get("label", ""))
                    for b in sorted(c.get("bands", []), key=lambda b: int(b["score"]))
                },
            )
            for c in criteria
            if isinstance(c, dict) and "id" in c
        }
    return out


def _stream(source: bytes | IO[bytes]) -> IO[bytes]:
    """A binary stream of the unpacked file: gzip is recognised by its first bytes."""
    raw: IO[bytes] = io.BytesIO(source) if isinstance(source, bytes) else source
    head = raw.read(2)
    raw.seek(0)
    if head == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    return raw


def _lines(name: str, source: bytes | IO[bytes], parsed: ParsedMarks) -> Iterator[str]:
    """Each physical line as text; a line that is not UTF-8 or is far too long becomes a
    finding and an empty line (so line numbers stay true). Stops at a broken gzip."""
    stream = _stream(source)
    number = 0
    try:
        while True:
            line = stream.readline(MAX_LINE + 1)
            if not line:
                return
            number += 1
            if number > MAX_LINES:
                parsed.problem(
                    error(
                        name,
                        f"line {number}",
                        "too-large",
                        f"has more than {MAX_LINES:,} lines: split the file and import each part",
                    )
                )
                return
            if len(line) > MAX_LINE and not line.endswith(b"\n"):
                while (rest := stream.readline(MAX_LINE)) and not rest.endswith(b"\n"):
                    pass
                parsed.problem(
                    error(
                        name,
                        f"line {number}",
                        "bad-row",
                        f"is longer than {MAX_LINE // 1024} KB: this is not a marks CSV "
                        f"({','.join(MARK_COLUMNS)}, one mark per line)",
                    )
                )
                yield "\n"
                continue
            if number == 1 and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
            try:
                yield line.decode("utf-8")
            except UnicodeDecodeError as exc:
                parsed.problem(
                    error(
                        name,
                        f"line {number}, byte {exc.start + 1}",
                        "unreadable",
                        f"holds a byte that is not UTF-8 (0x{line[exc.start]:02X}): save the "
                        "file as CSV UTF-8",
                    )
                )
                yield "\n"
    except (OSError, EOFError, zlib.error) as exc:
        parsed.problem(
            error(
                name,
                f"line {number + 1}",
                "unreadable",
                f"cannot be unpacked ({exc}): the gzip file is damaged or cut short; "
                "export it again",
            )
        )


def _where(line: int, column: int, header: Sequence[str]) -> str:
    return f"line {line}, column {column + 1} ({header[column]})"


def parse_marks(
    name: str,
    source: bytes | IO[bytes],
    schemes: Schemes,
    candidates: Collection[str] | None = None,
) -> ParsedMarks:
    """Read a marks CSV: every row checked against the bank's scenarios (`schemes`) and, when
    given, the candidates who have results for the form. A seekable stream or bytes."""
    parsed = ParsedMarks()
    reader = csv.reader(_lines(name, source, parsed))
    header: list[str] = []
    col: dict[str, int] = {}
    # (candidate, scenario, criterion) -> [(assessor, line)] of the marks kept: at most three
    given: dict[tuple[str, str, str], list[tuple[str, int]]] = {}
    pool: dict[str, str] = {}  # one copy of each id: a million rows share a few thousand
    known = sorted(schemes)
    try:
        for cells in reader:
            line = reader.line_num
            if not header:
                if parsed.findings:
                    return parsed  # the header line is unreadable: the rest cannot be placed
                if not cells or not "".join(cells).strip():
                    continue  # blank lines before the header
                header = [c.strip().lower() for c in cells]
                missing = [c for c in MARK_COLUMNS if c not in header]
                extra = [c for c in header if c not in MARK_COLUMNS]
                if missing or extra or len(set(header)) != len(header):
                    parsed.problem(
                        error(
                            name,
                            f"line {line}",
                            "bad-header",
                            f"the header must name the columns {','.join(MARK_COLUMNS)} (any "
                            f"order), not {','.join(header)}"
                            + (f"; missing {', '.join(missing)}" if missing else "")
                            + (f"; unexpected {', '.join(extra)}" if extra else "")
                            + (
                                "; a column is named twice"
                                if len(set(header)) != len(header)
                                else ""
                            ),
                        )
                    )
                    return parsed
                col = {c: header.index(c) for c in MARK_COLUMNS}
                continue
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue
            if len(cells) != len(header):
                parsed.problem(
                    error(
                        name,
                        f"line {line}",
                        "bad-row",
                        f"has {len(cells)} cells, the header has {len(header)}: quote any "
                        "value holding a comma",
                    )
                )
                continue
            if len(parsed.rows) >= MAX_ROWS:
                parsed.problem(
                    error(
                        name,
                        f"line {line}",
                        "too-large",
                        f"holds more than {MAX_ROWS:,} marks: split it into several files "
                        "(e.g. one per scenario) and import each",
                    )
                )
                return parsed
            row = _row(name, line, cells, header, col, schemes, known, candidates, parsed, pool)
            if row is None:
                continue
            marks = given.setdefault((row.candidate, row.scenario, row.criterion), [])
            earlier = next((n for a, n in marks if a == row.assessor), None)
            if earlier is not None:
                parsed.problem(
                    error(
                        name,
                        f"line {line}",
                        "duplicate-mark",
                        f"repeats line {earlier}: assessor {row.assessor} already marked "
                        f"{row.scenario}/{row.criterion} for candidate {row.candidate}. Keep "
                        "one mark per candidate, criterion and assessor",
                    )
                )
                continue
            if len(marks) >= MAX_MARKS:
                parsed.problem(
                    error(
                        name,
                        f"line {line}",
                        "too-many-marks",
                        f"is a fourth mark on {row.scenario}/{row.criterion} for candidate "
                        f"{row.candidate}: two assessors mark each criterion, and a third "
                        "only where they differ by more than the tolerance",
                    )
                )
                continue
            marks.append((row.assessor, line))
            parsed.rows.append(row)
    except csv.Error as exc:
        parsed.problem(
            error(name, f"line {reader.line_num}", "bad-row", f"is not valid CSV ({exc})")
        )
    if not header and not parsed.findings:
        parsed.problem(error(name, "line 1", "empty", "is empty: it has no header row"))
    elif header and not parsed.rows and not parsed.findings:
        parsed.problem(
            error(name, "line 2", "empty", "has a header but no marks: it holds nothing to import")
        )
    if parsed.dropped:
        parsed.findings.append(
            error(
                name,
                "",
                "more-problems",
                f"and {parsed.dropped:,} more problem(s) not listed: correct the ones above "
                "and import again to see the rest",
            )
        )
    return parsed


def _row(
    name: str,
    line: int,
    cells: Sequence[str],
    header: Sequence[str],
    col: Mapping[str, int],
    schemes: Schemes,
    known: Sequence[str],
    candidates: Collection[str] | None,
    parsed: ParsedMarks,
    pool: dict[str, str],
) -> MarkRow | None:
    """One row checked: a MarkRow, or None with its problems added to `parsed`."""
    value: dict[str, str] = {}
    for column, index in col.items():
        text = cells[index].strip()
        value[column] = pool.setdefault(text, text)
    before = len(parsed.findings) + parsed.dropped

    def bad(column: str, code: str, message: str) -> None:
        parsed.problem(error(name, _where(line, col[column], header), code, message))

    for column in MARK_COLUMNS:
        if not value[column]:
            bad(column, "missing-value", f"is empty: every mark needs its {column}")
    ident = value["candidate"]
    if ident:
        why = candidate_problem(ident)
        if why:
            bad("candidate", "bad-candidate", f"candidate {ident!r} {why}")
        elif candidates is not None and ident not in candidates:
            bad(
                "candidate",
                "unknown-candidate",
                f"candidate {ident} has no results of this form in the results store: "
                "check the id, or import the form's results first",
            )
    assessor = value["assessor"]
    if assessor and candidate_problem(assessor):
        bad(
            "assessor",
            "bad-assessor",
            f"assessor {assessor!r} is not a pseudonymous assessor code (1 to 64 letters, "
            "digits, '.', '_' or '-'; no names or e-mail addresses)",
        )
    scenario, criterion = value["scenario"], value["criterion"]
    scheme = schemes.get(scenario)
    if scenario and scheme is None:
        bad(
            "scenario",
            "unknown-scenario",
            f"scenario {scenario} is not an approved scenario of the bank: marks can be "
            f"imported for {', '.join(known) or 'none'}",
        )
    elif scheme is not None and criterion and criterion not in scheme:
        bad(
            "criterion",
            "unknown-criterion",
            f"criterion {criterion} is not in the marking scheme of {scenario}: its "
            f"criteria are {', '.join(scheme)}",
        )
    band: int | None = None
    if value["band"]:
        try:
            band = int(value["band"])
        except ValueError:
            bad(
                "band",
                "bad-band",
                f"band {value['band']!r} is not a whole number: give the band's score",
            )
        if band is not None and scheme is not None and criterion in scheme:
            bands = scheme[criterion].bands
            if band not in bands:
                bad(
                    "band",
                    "bad-band",
                    f"band {band} is not a band of {scenario}/{criterion}: its bands are "
                    + ", ".join(
                        f"{s} ({label})" if label else str(s) for s, label in bands.items()
                    ),
                )
    if len(parsed.findings) + parsed.dropped != before or band is None:
        return None
    return MarkRow(ident, scenario, criterion, assessor, band, line)


Grouped = dict[tuple[str, str], dict[str, list[tuple[str, int]]]]


def group_marks(rows: Sequence[MarkRow]) -> Grouped:
    """(scenario, criterion) -> candidate -> [(assessor, band)] in the order given (import
    order, then file order): the first two are the pair, a third is the third mark."""
    out: Grouped = {}
    for row in rows:
        out.setdefault((row.scenario, row.criterion), {}).setdefault(row.candidate, []).append(
            (row.assessor, row.band)
        )
    return out


__all__ = [
    "MARK_COLUMNS",
    "Criterion",
    "Grouped",
    "MarkRow",
    "ParsedMarks",
    "Schemes",
    "group_marks",
    "parse_marks",
    "schemes_of",
]
