"""Currency: content that cites superseded (or not-yet-in-force) law and guidance, or uses a term
that betrays it (e.g. 'LSCB', 'Working Together 2018'), named with its current replacement."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from itembank.core.canonical import sha256_of
from itembank.core.errors import ItembankError
from itembank.core.findings import Finding, pointer, warning

CURRENCY_CODES = frozenset({"superseded-term", "cites-superseded", "cites-pending"})

#: Fields that are ids or metadata, not prose: never scanned for terms.
_SKIP_KEYS = frozenset(
    {
        "id",
        "schema_version",
        "references",
        "standards",
        "tags",
        "author",
        "currency_exemptions",
        "status",
        "format",
        "section",
        "roles",
        "role",
        "stimulus",
        "enemies",
        "key",
        "notes",
        "items",
        "scoring",
        "select_count",
        "fixed_order",
        "difficulty_estimate",
        "applies_to",
        "exercise",
        "kind",
        "score",
    }
)


@dataclass(frozen=True)
class TermMatcher:
    """One compiled regex over every flag term of the reference catalogue."""

    regex: re.Pattern[str] | None
    owner: Mapping[str, Mapping[str, Any]]  # lower-case term -> reference entry
    by_id: Mapping[str, Mapping[str, Any]]  # reference id -> reference entry
    fingerprint: str
    ascii_terms: tuple[bytes, ...] | None = None  # the lower-case terms, if all are ASCII


def build_matcher(references: Sequence[Mapping[str, Any]]) -> TermMatcher:
    """Matcher for the flag terms of superseded and pending references."""
    owner: dict[str, Mapping[str, Any]] = {}
    for ref in references:
        if ref.get("status") in ("superseded", "pending"):
            for term in ref.get("flag_terms", []) or []:
                if isinstance(term, str) and term.strip():
                    owner.setdefault(term.lower(), ref)
    terms = sorted(owner, key=len, reverse=True)
    regex = (
        re.compile(r"(?<!\w)(" + "|".join(map(re.escape, terms)) + r")(?!\w)", re.I)
        if terms
        else None
    )
    by_id = {str(r.get("id")): r for r in references}
    ascii_terms = tuple(t.encode() for t in terms) if all(t.isascii() for t in terms) else None
    return TermMatcher(regex, owner, by_id, sha256_of([list(references)]), ascii_terms)


def may_flag(matcher: TermMatcher, data: bytes) -> bool:
    """False only when no flag term can be in a file's prose, told from its bytes alone: when
    they are ASCII without a backslash, every string of the record is in them verbatim and a
    case-insensitive match is a lower-case substring, so most files skip the term search (which
    walks the record and runs one regex over all its prose)."""
    if matcher.regex is None:
        return False
    if matcher.ascii_terms is None or not data.isascii() or b"\\" in data:
        return True
    lowered = data.lower()
    return any(term in lowered for term in matcher.ascii_terms)


def replacement_text(ref: Mapping[str, Any], by_id: Mapping[str, Mapping[str, Any]]) -> str:
    """'superseded on D by X' / 'not yet in force' for a reference entry."""
    if ref.get("status") == "pending":
        return "is not yet in force: do not present it as current law"
    if not ref.get("superseded_on") and ref.get("effective_to"):
        return f"ended on {ref['effective_to']}"
    names = [str(by_id.get(r, {}).get("title", r)) for r in ref.get("superseded_by", []) or []]
    when = ref.get("superseded_on")
    by = f" by {' and '.join(names)}" if names else ""
    return f"was superseded{f' on {when}' if when else ''}{by}"


def _strings(
    value: Any, parts: tuple[object, ...] = ()
) -> Iterator[tuple[tuple[object, ...], str]]:
    """Every prose string with the path to it (a pointer is built only for a match)."""
    if isinstance(value, str):
        yield parts, value
    elif isinstance(value, dict):
        for key, sub in value.items():
            if key not in _SKIP_KEYS:
                yield from _strings(sub, (*parts, key))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            yield from _strings(sub, (*parts, index))


def prose(record: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Every prose string of a record with its JSON pointer (ids and metadata are skipped):
    what a candidate, actor or reviewer reads."""
    for parts, text in _strings(dict(record)):
        yield pointer(*parts), text


def _texts(value: Any, out: list[str]) -> list[str]:
    """The prose strings alone, gathered without their paths (the quick first look)."""
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for key, sub in value.items():
            if key not in _SKIP_KEYS:
                _texts(sub, out)
    elif isinstance(value, list):
        for sub in value:
            _texts(sub, out)
    return out


def term_findings(relpath: str, record: Mapping[str, Any], matcher: TermMatcher) -> list[Finding]:
    """A warning for each flagged term in the record's prose, unless the record exempts it.
    One search over all the prose first: most records have no flagged term, and for them no
    path is walked twice and no pointer is built."""
    if matcher.regex is None:
        return []
    if not matcher.regex.search("\n".join(_texts(dict(record), []))):
        return []
    exempt = {
        str(e.get("term", "")).lower()
        for e in record.get("currency_exemptions", []) or []
        if isinstance(e, dict)
    }
    out: list[Finding] = []
    for parts, text in _strings(dict(record)):
        for match in matcher.regex.finditer(text):
            term = match.group(1)
            if term.lower() in exempt:
                continue
            ref = matcher.owner[term.lower()]
            out.append(
                warning(
                    relpath,
                    pointer(*parts),
                    "superseded-term",
                    f"'{term}' refers to {ref.get('title')}, which "
                    f"{replacement_text(ref, matcher.by_id)}. Update the text, or if the term is "
                    "used on purpose add it to currency_exemptions with the reason.",
                )
            )
    return out


def citation_findings(
    relpath: str, cited: Sequence[str], matcher: TermMatcher, base: str = "/references"
) -> list[Finding]:
    """A warning for each cited reference that is superseded or pending."""
    out = []
    for index, ref_id in enumerate(cited):
        ref = matcher.by_id.get(ref_id)
        if ref is None or ref.get("status") == "current":
            continue
        code = "cites-pending" if ref.get("status") == "pending" else "cites-superseded"
        out.append(
            warning(
                relpath,
                f"{base}/{index}",
                code,
                f"Cites {ref.get('title')}, which {replacement_text(ref, matcher.by_id)}. "
                "Cite the current law or guidance and check the key still holds.",
            )
        )
    return out


# ---- currency on a date (issue 10): what will be out of date on a given day ---------------------


def parse_day(text: str) -> str:
    """The ISO date ``text`` names (YYYY-MM-DD), or a plain error saying how to write one."""
    import datetime

    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
            return datetime.date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        pass
    raise ItembankError(f"{text!r} is not a date. Write it as YEAR-MONTH-DAY, e.g. 2027-04-01.")


def status_on(ref: Mapping[str, Any], on: str) -> str:
    """The reference's status on the ISO date ``on``, from its dates where it has them.

    Dates win over the recorded status (which says how things stood on the catalogue's
    reviewed_on), so a scheduled replacement or an appointed commencement day counts from
    that day, and a pending entry with no day appointed stays pending."""
    for end, inclusive in (("superseded_on", True), ("effective_to", False)):
        day = ref.get(end)
        if isinstance(day, str) and (day <= on if inclusive else day < on):
            return "superseded"
    start = ref.get("in_force_from")
    if isinstance(start, str):
        return "pending" if start > on else "current"
    if ref.get("status") == "superseded":
        return "current"  # a date before superseded_on: it still applied then
    return str(ref.get("status", "current"))


def references_on(references: Sequence[Mapping[str, Any]], on: str) -> list[dict[str, Any]]:
    """The catalogue as it will stand on ``on``: each entry with its status on that day."""
    return [{**ref, "status": status_on(ref, on)} for ref in references]


@dataclass(frozen=True)
class Content:
    """One item, stimulus or scenario: its file, its record and the references it cites."""

    path: str
    record: Mapping[str, Any]


def _in_effect(framework: Mapping[str, Any], on: str) -> bool:
    start, end = framework.get("effective_from"), framework.get("effective_to")
    return (not isinstance(start, str) or start <= on) and (not isinstance(end, str) or on <= end)


def framework_findings(
    content: Content, frameworks: Mapping[str, Mapping[str, Any]], on: str
) -> list[Finding]:
    """A warning for each role whose mappings are all to frameworks ended by ``on``: the record
    must be re-mapped for that role (a role also mapped to a framework in effect is up to date,
    and a framework still in use for another role does not hide an ended one)."""
    mappings = [m for m in content.record.get("standards", []) or [] if isinstance(m, dict)]
    by_role: dict[str, list[tuple[int, str, Mapping[str, Any]]]] = {}
    for index, mapping in enumerate(mappings):
        framework = frameworks.get(str(mapping.get("framework")))
        if framework is not None:
            role = str(framework.get("role", ""))
            by_role.setdefault(role, []).append((index, str(mapping["framework"]), framework))
    out = []
    for role, found in by_role.items():
        ended = [
            (i, name, f)
            for i, name, f in found
            if isinstance(f.get("effective_to"), str) and f["effective_to"] < on
        ]
        if not ended or any(_in_effect(f, on) for _, _, f in found):
            continue
        index, _, framework = ended[0]
        names = " and ".join(sorted({name for _, name, _ in ended}))
        out.append(
            warning(
                content.path,
                pointer("standards", index),
                "framework-ended",
                f"Its {role or 'role'} mappings are only to {names}, which ended on "
                f"{framework['effective_to']}: on {on} it is no longer the standard. Re-map it to "
                "the framework that replaces it (see that framework's notes and crosswalk).",
            )
        )
    return out


def provision_findings(
    content: Content, references: Sequence[Mapping[str, Any]], on: str
) -> list[Finding]:
    """A warning for content that still states the position a provision changes once it has
    commenced: it cites a reference the provision affects and uses one of its topic terms, but
    does not cite the new law (citing it is how a writer says the item is up to date)."""
    cited = [str(r) for r in content.record.get("references", []) or []]
    out: list[Finding] = []
    for ref in references:
        if ref.get("id") in cited:
            continue
        for provision in ref.get("commencement", []) or []:
            start = provision.get("in_force_from")
            affected = [r for r in provision.get("affects", []) or [] if r in cited]
            terms = [t for t in provision.get("topic_terms", []) or [] if t.strip()]
            if not isinstance(start, str) or start > on or not affected or not terms:
                continue
            regex = re.compile(r"(?<!\w)(" + "|".join(map(re.escape, terms)) + r")(?!\w)", re.I)
            hits = [
                (pointer(*w), m.group(1))
                for w, t in _strings(dict(content.record))
                if (m := regex.search(t))
            ]
            if not hits:
                continue
            where, term = hits[0]
            out.append(
                warning(
                    content.path,
                    where,
                    "provision-commenced",
                    f"'{term}': {ref.get('title')}, {provision.get('provision')}, is in force "
                    f"from {start} and changes what {' and '.join(affected)} say on this. Check "
                    f"the text states the law in force on {on}, then cite {ref.get('id')} in "
                    "references.",
                )
            )
    return out


def currency_on(
    on: str,
    references: Sequence[Mapping[str, Any]],
    frameworks: Mapping[str, Mapping[str, Any]],
    content: Sequence[Content],
) -> list[Finding]:
    """Everything that will be out of date on ``on``: citations and flag terms of references
    superseded (or still pending) by then, provisions commenced by then that content has not
    caught up with, and mappings only to frameworks that have ended."""
    dated = references_on(references, on)
    matcher = build_matcher(dated)
    out: list[Finding] = []
    for c in sorted(content, key=lambda c: c.path):
        out.extend(term_findings(c.path, c.record, matcher))
        cited = [str(r) for r in c.record.get("references", []) or []]
        out.extend(citation_findings(c.path, cited, matcher))
        out.extend(provision_findings(c, dated, on))
        out.extend(framework_findings(c, frameworks, on))
    return out
