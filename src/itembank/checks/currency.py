"""Currency: content that cites superseded (or not-yet-in-force) law and guidance, or uses a term
that betrays it (e.g. 'LSCB', 'Working Together 2018'), named with its current replacement."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from itembank.core.canonical import sha256_of
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
    return TermMatcher(regex, owner, by_id, sha256_of([list(references)]))


def replacement_text(ref: Mapping[str, Any], by_id: Mapping[str, Mapping[str, Any]]) -> str:
    """'superseded on D by X' / 'not yet in force' for a reference entry."""
    if ref.get("status") == "pending":
        return "is not yet in force: do not present it as current law"
    names = [str(by_id.get(r, {}).get("title", r)) for r in ref.get("superseded_by", []) or []]
    when = ref.get("superseded_on")
    by = f" by {' and '.join(names)}" if names else ""
    return f"was superseded{f' on {when}' if when else ''}{by}"


def _strings(value: Any, parts: tuple[object, ...] = ()) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield pointer(*parts), value
    elif isinstance(value, dict):
        for key, sub in value.items():
            if key not in _SKIP_KEYS:
                yield from _strings(sub, (*parts, key))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            yield from _strings(sub, (*parts, index))


def term_findings(relpath: str, record: Mapping[str, Any], matcher: TermMatcher) -> list[Finding]:
    """A warning for each flagged term in the record's prose, unless the record exempts it."""
    if matcher.regex is None:
        return []
    exempt = {
        str(e.get("term", "")).lower()
        for e in record.get("currency_exemptions", []) or []
        if isinstance(e, dict)
    }
    out: list[Finding] = []
    for where, text in _strings(dict(record)):
        for match in matcher.regex.finditer(text):
            term = match.group(1)
            if term.lower() in exempt:
                continue
            ref = matcher.owner[term.lower()]
            out.append(
                warning(
                    relpath,
                    where,
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
