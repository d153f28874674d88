"""Items drafted in a spreadsheet: read a CSV into draft item records, and say of every bad row
which line and column is wrong and how to fix it.

Columns (header row required; only `format`, `stem`, the options, `key` and `standards` are
needed, the rest are optional):

    id          GK-0123; empty: the next free id (GK for general, AK for applied)
    format      single_best_answer | multiple_response | true_false | multiple_true_false
                (or sba, mr, tf, mtf)
    section     general (default) | applied;   stimulus: the case id for applied items
    roles       practitioner;supervisor   (default: every role but leader)
    standards   pqs-practitioner-2018:PR-05;pqs-practitioner-2018:PR-08 (the first is primary)
    references  children-act-1989;working-together-2023
    stem        the question (Markdown)
    option_a .. option_j, rationale_a .. rationale_j   options and why each is right or wrong
    key         C | A;D;F | for multiple_true_false: A=true;B=false;C=true (or TFT)
    scoring     all_or_nothing | partial_credit (default: partial credit for multiple
                response and multiple true/false)
    rationale   why the key is right;   enemies: GK-0012;GK-0031;   difficulty: 0-1
    tags        section-47;threshold;   notes: for reviewers
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from itembank.core.findings import Finding, error

LETTERS = "ABCDEFGHIJ"
FORMAT_NAMES = {
    "sba": "single_best_answer",
    "mr": "multiple_response",
    "tf": "true_false",
    "mtf": "multiple_true_false",
}
COLUMNS = [
    "id",
    "format",
    "section",
    "stimulus",
    "roles",
    "standards",
    "references",
    "stem",
    *[f"option_{c.lower()}" for c in LETTERS],
    *[f"rationale_{c.lower()}" for c in LETTERS],
    "key",
    "scoring",
    "rationale",
    "enemies",
    "difficulty",
    "tags",
    "notes",
]
REQUIRED = ("format", "stem", "option_a", "key", "standards")


@dataclass
class Row:
    """One data row: its line in the file, the record made from it, and what is wrong."""

    line: int
    record: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace(",", ";").split(";") if part.strip()]


class _Lines:
    """The file's physical lines, counted, so that a row is reported by the line it STARTS on
    (a quoted cell may hold newlines; the csv module's line_num is the row's last line)."""

    def __init__(self, text: str) -> None:
        self._lines = iter(io.StringIO(text, newline=""))
        self.read = 0
        self.first: int | None = None  # first line of the row being read

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.read += 1
        if self.first is None:
            self.first = self.read
        return line


def read_rows(
    data: bytes,
    source: str,
    roles: list[str],
    author: str,
    progress: Callable[[int, int], None] | None = None,
    progress_every: int = 1000,
) -> tuple[list[Row], list[Finding]]:
    """Parse the CSV into rows with draft records; file-level problems come back as findings.
    `progress(rows made, rows in all)` every `progress_every` rows and at the end."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [
            error(
                source,
                "",
                "not-utf8",
                f"The file is not UTF-8 (byte {exc.start}). Save it as 'CSV UTF-8' "
                "from your spreadsheet.",
            )
        ]
    lines = _Lines(text)
    reader = csv.reader(lines)
    raw_rows: list[tuple[int, list[str]]] = []
    try:
        header = [h.strip().lower() for h in next(reader, [])]
        while True:
            lines.first = None
            cells = next(reader, None)
            if cells is None:
                break
            if cells:  # a blank line is no row
                raw_rows.append((lines.first or lines.read, cells))
    except csv.Error as exc:
        return [], [
            error(
                source,
                "",
                "csv-syntax",
                f"Line {lines.first or lines.read}: {exc}. Check the quotes on that line.",
            )
        ]
    missing = [c for c in REQUIRED if c not in header]
    unknown = [h for h in header if h and h not in COLUMNS]
    if not header or missing or unknown:
        detail = []
        if missing:
            detail.append(f"missing columns: {', '.join(missing)}")
        if unknown:
            detail.append(f"unknown columns: {', '.join(unknown)}")
        return [], [
            error(
                source,
                "",
                "csv-header",
                f"The header row is not usable ({'; '.join(detail) or 'no header'})."
                f" Columns are: {', '.join(COLUMNS)}.",
            )
        ]
    rows = []
    total = len(raw_rows)
    for done, (line, cells) in enumerate(raw_rows, 1):
        values = {k: v.strip() for k, v in zip(header, cells, strict=False)}
        if not any(values.values()):
            pass  # an empty row (e.g. only commas)
        elif len(cells) > len(header):
            rows.append(Row(line, problems=["the row has more cells than the header"]))
        else:
            rows.append(_row(line, values, roles, author))
        if progress and (done % progress_every == 0 or done == total):
            progress(done, total)
    return rows, []


def _row(line: int, v: dict[str, str], roles: list[str], author: str) -> Row:
    row = Row(line)
    problem: Callable[[str], None] = row.problems.append
    fmt = FORMAT_NAMES.get(v.get("format", "").lower(), v.get("format", "").lower())
    options = []
    for letter in LETTERS:
        text = v.get(f"option_{letter.lower()}", "")
        rationale = v.get(f"rationale_{letter.lower()}", "")
        if text or rationale:
            options.append({"id": letter, "text": text, "rationale": rationale})
    ids = [o["id"] for o in options]
    key: Any = _split(v.get("key", "").upper())
    if fmt == "multiple_true_false":
        raw_key = v.get("key", "").replace(" ", "")
        if raw_key and "=" not in raw_key and set(raw_key.upper()) <= {"T", "F"}:
            key = {ids[i]: c == "T" for i, c in enumerate(raw_key.upper()) if i < len(ids)}
        else:
            key = {}
            for part in _split(raw_key):
                letter, _, truth = part.partition("=")
                if truth.lower() not in ("true", "false", "t", "f"):
                    problem(f"key: write each statement as A=true or A=false (found {part!r})")
                    continue
                key[letter.upper()] = truth.lower() in ("true", "t")
    standards = []
    for index, pair in enumerate(_split(v.get("standards", ""))):
        framework, sep, statement = pair.partition(":")
        if not sep:
            problem(f"standards: write each as framework:statement (found {pair!r})")
            continue
        mapping: dict[str, Any] = {
            "framework": framework.strip(),
            "statement": statement.strip().upper(),
        }
        if index == 0:
            mapping["primary"] = True
        standards.append(mapping)
    difficulty = 0.65
    if v.get("difficulty"):
        try:
            difficulty = float(v["difficulty"])
        except ValueError:
            problem(f"difficulty: {v['difficulty']!r} is not a number between 0 and 1")
    section = v.get("section", "").lower() or "general"
    rule = v.get("scoring", "").lower() or (
        "partial_credit"
        if fmt in ("multiple_response", "multiple_true_false")
        else "all_or_nothing"
    )
    record: dict[str, Any] = {
        "schema_version": "1.0",
        "id": v.get("id", "").upper(),
        "format": fmt,
        "section": section,
        "roles": _split(v.get("roles", "")) or roles,
        "standards": standards,
        "references": _split(v.get("references", "")),
        "stem": v.get("stem", ""),
        "options": options,
        "key": key,
        "scoring": {"rule": rule, "max_score": 1},
        "rationale": v.get("rationale", ""),
        "author": author,
        "status": "draft",
        "enemies": [e.upper() for e in _split(v.get("enemies", ""))],
        "difficulty_estimate": difficulty,
        "tags": _split(v.get("tags", "").lower()),
    }
    if v.get("stimulus"):
        record["stimulus"] = v["stimulus"].upper()
    if fmt == "multiple_response" and isinstance(key, list):
        record["select_count"] = len(key)
    if fmt == "true_false":
        record["fixed_order"] = True
    if v.get("notes"):
        record["notes"] = v["notes"]
    row.record = record
    return row


def column_of(pointer: str) -> str:
    """The spreadsheet column a JSON pointer of an imported item comes from."""
    parts = pointer.split("/")[1:]
    if not parts:
        return "(row)"
    if parts[0] == "options" and len(parts) > 2 and parts[1].isdigit():
        letter = LETTERS[int(parts[1])].lower() if int(parts[1]) < len(LETTERS) else "?"
        return f"{'option' if parts[2] == 'text' else 'rationale'}_{letter}"
    return {
        "difficulty_estimate": "difficulty",
        "select_count": "key",
        "options": "option_a",
        "scoring": "scoring",
    }.get(parts[0], parts[0])
