"""Parsers for results coming back from delivery: QTI 3.0 and QTI 2.1/2.2 Results Reporting
(assessmentResult documents), a responses CSV and a candidates CSV. Bytes in, rows and
findings out; matching to the form and re-scoring happen in matching.py. Pure: no files.

Every problem is a Finding naming the source file, the place (``line N`` in a CSV, an XPath in
XML) and the fix, so one bad row never hides the others and nothing is half-read. XML is
parsed with no network, no entity expansion and no huge-tree mode: a results file comes from
outside and must not be able to read local files or exhaust memory.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from lxml import etree

from itembank.core.findings import Finding, error

Notation = Literal["shown", "ids"]
Format = Literal["qti30", "qti21", "csv"]

NAMESPACES: dict[str, Format] = {
    "http://www.imsglobal.org/xsd/imsqti_result_v3p0": "qti30",
    "http://www.imsglobal.org/xsd/imsqti_result_v2p1": "qti21",
    "http://www.imsglobal.org/xsd/imsqti_result_v2p2": "qti21",
}
RESPONSE_COLUMNS = ("candidate", "form", "item", "response", "score")
#: a pseudonymous id: short, no spaces, nothing that looks like an e-mail address
_CANDIDATE_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_GZIP_MAGIC = b"\x1f\x8b"
MAX_UNZIPPED = 512 * 1024 * 1024  # a results file larger than this is refused, not read


class RawResponse(NamedTuple):
    """One response as the source gave it. `values`: the option tokens chosen ("B"; or "A",
    "C"; or "s1=T", "s2=F" for true/false statements), () when omitted; `notation` says whether
    they are the letters shown on the form or the item's own option ids."""

    candidate: str
    form: str | None
    item: str
    values: tuple[str, ...]
    notation: Notation
    platform_score: float | None
    where: str  # "line 12" or an XPath
    source: str  # the file it came from


@dataclass(frozen=True)
class CandidateRow:
    """A candidate as the candidates file lists them: pseudonymous id, employer, and the
    equality characteristics (column -> value; None when not declared)."""

    id: str
    employer: str | None
    characteristics: dict[str, str | None]
    where: str


@dataclass
class Parsed:
    """What a parser read: responses (or candidates) and the problems, as findings."""

    responses: list[RawResponse] = field(default_factory=list)
    candidates: list[CandidateRow] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def unzip(name: str, data: bytes) -> bytes:
    """The bytes of a gzipped file, or the bytes themselves (samples ship gzipped)."""
    if not data.startswith(_GZIP_MAGIC):
        return data
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
        out = stream.read(MAX_UNZIPPED + 1)
    if len(out) > MAX_UNZIPPED:
        raise ValueError(f"{name}: unzips to more than {MAX_UNZIPPED // 2**20} MB")
    return out


def sniff(data: bytes) -> Format:
    """The format of one (unzipped) results file: an assessmentResult's namespace, else CSV."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        for namespace, fmt in NAMESPACES.items():
            if namespace.encode() in head:
                return fmt
        return "qti30"  # parse_qti says what is wrong with it
    return "csv"


def candidate_problem(ident: str) -> str | None:
    """Why `ident` cannot be a pseudonymous candidate id, or None."""
    if "@" in ident:
        return "looks like an e-mail address (use the pseudonymous id the platform assigned)"
    if not _CANDIDATE_ID.match(ident):
        return "must be 1 to 64 letters, digits, '.', '_' or '-' (a pseudonymous id)"
    return None


# ---- CSV ---------------------------------------------------------------------------------


def _rows(name: str, data: bytes, parsed: Parsed) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and (line number, cells) of a UTF-8 CSV; a finding when it cannot be read."""
    try:
        text = unzip(name, data).decode("utf-8-sig")
    except (UnicodeDecodeError, ValueError, OSError, EOFError) as exc:
        parsed.findings.append(
            error(
                name,
                "line 1",
                "unreadable",
                f"cannot be read as UTF-8 text ({exc}): save it as CSV UTF-8",
            )
        )
        return [], []
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[str]]] = []
    header: list[str] = []
    try:
        for cells in reader:
            if not header:
                header = [c.strip().lower() for c in cells]
                continue
            if len(cells) > 1 or (cells and cells[0].strip()):
                rows.append((reader.line_num, cells))
    except csv.Error as exc:
        parsed.findings.append(
            error(name, f"line {reader.line_num}", "bad-row", f"is not valid CSV ({exc})")
        )
    return header, rows


def _score(text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    value = float(text)  # ValueError is the caller's finding
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(text)
    return value


def _width_error(name: str, where: str, cells: int, columns: int) -> Finding:
    """A CSV row with more or fewer cells than its header (both CSV kinds say it alike)."""
    return error(
        name,
        where,
        "bad-row",
        f"has {cells} cells, the header has {columns}: quote any value holding a comma",
    )


def parse_csv(name: str, data: bytes) -> Parsed:
    """A responses CSV: one row per candidate and item, columns candidate, form, item,
    response (the letters shown on the form: "B", "A|C", "A=T|B=F") or response_id (the
    item's own option ids, as QTI reports them), and score (the platform's, may be empty)."""
    parsed = Parsed()
    header, rows = _rows(name, data, parsed)
    if not header:
        if not parsed.findings:
            parsed.findings.append(error(name, "line 1", "empty", "has no header row"))
        return parsed
    notation: Notation = "ids" if "response_id" in header else "shown"
    wanted = [
        c if c != "response" or notation == "shown" else "response_id" for c in RESPONSE_COLUMNS
    ]
    missing = [c for c in wanted if c not in header]
    extra = [c for c in header if c not in wanted]
    if missing or extra or len(set(header)) != len(header):
        parsed.findings.append(
            error(
                name,
                "line 1",
                "bad-header",
                f"the header must be {','.join(RESPONSE_COLUMNS)} (or response_id instead of "
                f"response), not {','.join(header)}"
                + (f"; missing {', '.join(missing)}" if missing else "")
                + (f"; unexpected {', '.join(extra)}" if extra else ""),
            )
        )
        return parsed
    col = {c: header.index(c) for c in wanted}
    answer = "response_id" if notation == "ids" else "response"
    good: set[str] = set()  # candidate ids already checked
    for line, cells in rows:
        where = f"line {line}"
        if len(cells) != len(header):
            parsed.findings.append(_width_error(name, where, len(cells), len(header)))
            continue
        value = {c: cells[i].strip() for c, i in col.items()}
        ident, text = value["candidate"], value["score"]
        if value["form"] and value["item"] and (ident in good or not candidate_problem(ident)):
            try:  # the common case, kept quick: a million rows is an ordinary import
                score = float(text) if text else None
                ok = score is None or math.isfinite(score)
            except ValueError:
                ok = False
            if ok:
                good.add(ident)
                raw = value[answer]
                tokens = tuple(map(str.strip, raw.split("|"))) if raw else ()
                parsed.responses.append(
                    RawResponse(
                        ident, value["form"], value["item"], tokens, notation, score, where, name
                    )
                )
                continue
        problems = [f"no {c}" for c in ("candidate", "form", "item") if not value[c]]
        try:
            score = _score(value["score"])
        except ValueError:
            problems.append(f"the score {value['score']!r} is not a number")
            score = None
        why = candidate_problem(value["candidate"]) if value["candidate"] else None
        if why:
            problems.append(f"the candidate id {value['candidate']!r} {why}")
        if problems:
            parsed.findings.append(
                error(name, where, "bad-row", "; ".join(problems) + ": correct the row")
            )
            continue
        raw = value["response_id" if notation == "ids" else "response"]
        tokens = tuple(t.strip() for t in raw.split("|")) if raw else ()
        parsed.responses.append(
            RawResponse(
                value["candidate"],
                value["form"],
                value["item"],
                tokens,
                notation,
                score,
                where,
                name,
            )
        )
    return parsed


def parse_candidates(name: str, data: bytes) -> Parsed:
    """A candidates CSV: candidate (the pseudonymous id), employer, then any equality
    characteristics as further columns (an empty cell: not declared)."""
    parsed = Parsed()
    header, rows = _rows(name, data, parsed)
    if header[:2] != ["candidate", "employer"] or len(set(header)) != len(header):
        parsed.findings.append(
            error(
                name,
                "line 1",
                "bad-header",
                "the header must start candidate,employer, then one column per equality "
                f"characteristic, each named once; it is {','.join(header) or 'empty'}",
            )
        )
        return parsed
    seen: dict[str, int] = {}
    for line, cells in rows:
        where = f"line {line}"
        if len(cells) != len(header):
            parsed.findings.append(_width_error(name, where, len(cells), len(header)))
            continue
        ident = cells[0].strip()
        why = candidate_problem(ident) if ident else "is empty"
        if why:
            parsed.findings.append(
                error(name, where, "bad-row", f"the candidate id {ident!r} {why}: correct it")
            )
            continue
        if ident in seen:
            parsed.findings.append(
                error(
                    name,
                    where,
                    "duplicate-candidate",
                    f"candidate {ident} is listed again (first on line {seen[ident]}): keep "
                    "one row per candidate",
                )
            )
            continue
        seen[ident] = line
        traits = {h: (c.strip() or None) for h, c in zip(header[2:], cells[2:], strict=True)}
        parsed.candidates.append(CandidateRow(ident, cells[1].strip() or None, traits, where))
    return parsed


# ---- QTI Results Reporting ---------------------------------------------------------------


def safe_parser() -> etree.XMLParser:
    """An XML parser that never fetches, never expands entities and keeps the size limits."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
    )


def _xpath(element: etree._Element) -> str:
    """/assessmentResult/itemResult[3]/...: where an element is, without namespace prefixes."""
    parts = []
    node: etree._Element | None = element
    while node is not None:
        parent = node.getparent()
        local = etree.QName(node).localname
        if parent is None:
            parts.append(local)
        else:
            same = [c for c in parent if isinstance(c.tag, str) and c.tag == node.tag]
            parts.append(f"{local}[{same.index(node) + 1}]" if len(same) > 1 else local)
        node = parent
    return "/" + "/".join(reversed(parts))


def _first(parent: etree._Element, tag: str, ident: str | None = None) -> etree._Element | None:
    """The first child with this tag (and identifier): what find() gives, without lxml's
    Python-level path machinery (it was most of the time of a 30-item document)."""
    for child in parent:
        if child.tag == tag and (ident is None or child.get("identifier") == ident):
            return child
    return None


def _values(variable: etree._Element, ns: str) -> tuple[str, ...]:
    """The candidate's values of a responseVariable ("s1 TRUE" pairs become "s1=T")."""
    response = _first(variable, f"{{{ns}}}candidateResponse")
    if response is None:
        return ()
    out = []
    tag = f"{{{ns}}}value"
    for value in response:
        if value.tag != tag:
            continue
        text = " ".join((value.text or "").split())
        if not text:
            continue
        if variable.get("baseType") == "directedPair" and " " in text:
            left, right = text.split(" ", 1)
            truth = {"TRUE": "T", "FALSE": "F"}.get(right.upper(), right)
            text = f"{left}={truth}"
        out.append(text)
    return tuple(out)


def parse_qti(name: str, data: bytes, expected: Format | None = None) -> Parsed:
    """One assessmentResult document (QTI 3.0 or 2.1/2.2): the candidate is the context's
    sourcedId, the form the testResult's identifier, each itemResult one response (its
    RESPONSE variable, in the item's own option ids) with the platform's SCORE. An item reported
    more than once (attempts) counts by its latest datestamp."""
    parsed = Parsed()
    try:
        root = etree.fromstring(unzip(name, data), safe_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or 1
        parsed.findings.append(
            error(
                name,
                f"line {line}",
                "bad-xml",
                f"is not well-formed XML ({exc.msg}): export the results again",
            )
        )
        return parsed
    except (ValueError, OSError, EOFError) as exc:
        parsed.findings.append(error(name, "/", "unreadable", f"cannot be read ({exc})"))
        return parsed
    qname = etree.QName(root)
    fmt = NAMESPACES.get(qname.namespace or "")
    if qname.localname != "assessmentResult" or fmt is None:
        parsed.findings.append(
            error(
                name,
                _xpath(root),
                "not-results",
                f"is not a QTI results report: its root is {qname.localname} in "
                f"{qname.namespace or 'no namespace'} (expected assessmentResult in "
                f"{' or '.join(NAMESPACES)})",
            )
        )
        return parsed
    if expected is not None and fmt != expected:
        parsed.findings.append(
            error(
                name,
                _xpath(root),
                "wrong-format",
                f"is {fmt}, not {expected}: use --format {fmt} or --format auto",
            )
        )
        return parsed
    ns = qname.namespace
    context = root.find(f"{{{ns}}}context")
    candidate = (context.get("sourcedId") or "").strip() if context is not None else ""
    if not candidate:
        parsed.findings.append(
            error(
                name,
                _xpath(context if context is not None else root),
                "no-candidate",
                "names no candidate: context/@sourcedId must hold the pseudonymous candidate id",
            )
        )
        return parsed
    why = candidate_problem(candidate)
    if why:
        parsed.findings.append(
            error(
                name,
                _xpath(context),
                "bad-candidate",
                f"the candidate id {candidate!r} {why}",
            )
        )
        return parsed
    test = root.find(f"{{{ns}}}testResult")
    form = test.get("identifier") if test is not None else None
    latest: dict[str, tuple[str, RawResponse]] = {}
    item_tag = f"{{{ns}}}itemResult"
    results = [child for child in root if child.tag == item_tag]
    top = f"/{qname.localname}/itemResult"  # what _xpath gives, without its sibling scans
    for number, result in enumerate(results, 1):
        where = f"{top}[{number}]" if len(results) > 1 else top
        item = (result.get("identifier") or "").strip()
        if not item:
            parsed.findings.append(error(name, where, "bad-row", "has no identifier"))
            continue
        variable = _first(result, f"{{{ns}}}responseVariable", "RESPONSE")
        score_var = _first(result, f"{{{ns}}}outcomeVariable", "SCORE")
        score = None
        if score_var is not None:
            value_tag = f"{{{ns}}}value"
            texts = [(v.text or "").strip() for v in score_var if v.tag == value_tag]
            try:
                score = _score(texts[0]) if texts else None
            except ValueError:
                parsed.findings.append(
                    error(
                        name,
                        _xpath(score_var),
                        "bad-row",
                        f"the SCORE {texts[0]!r} is not a number: export the results again",
                    )
                )
                continue
        values = _values(variable, str(ns)) if variable is not None else ()
        row = RawResponse(candidate, form, item, values, "ids", score, where, name)
        stamp = result.get("datestamp") or ""
        if item not in latest or stamp >= latest[item][0]:
            latest[item] = (stamp, row)
    parsed.responses.extend(row for _, row in latest.values())
    return parsed


def parse_many(files: Sequence[tuple[str, bytes]], fmt: Format | Literal["auto"]) -> Parsed:
    """Several results files as one source (a folder of assessmentResult documents, or
    several CSVs): their responses together, and every file's findings."""
    out = Parsed()
    for name, data in files:
        try:
            raw = unzip(name, data)
        except (ValueError, OSError, EOFError) as exc:
            out.findings.append(error(name, "/", "unreadable", f"cannot be unzipped ({exc})"))
            continue
        kind = sniff(raw) if fmt == "auto" else fmt
        one = (
            parse_csv(name, raw)
            if kind == "csv"
            else parse_qti(name, raw, None if fmt == "auto" else kind)
        )
        out.responses.extend(one.responses)
        out.findings.extend(one.findings)
    return out


__all__ = [
    "CandidateRow",
    "Format",
    "Notation",
    "Parsed",
    "RawResponse",
    "candidate_problem",
    "parse_candidates",
    "parse_csv",
    "parse_many",
    "parse_qti",
    "safe_parser",
    "sniff",
    "unzip",
]
