"""The facts of every file in a bank, arranged for the bank-wide rules' look-ups (by kind and
id, the frameworks' statements, the reference catalogue, reviews per target, blind answers)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from itembank.core.layout import CONTENT_KINDS

Facts = dict[str, Any]


@dataclass
class BankIndex:
    """The facts of a bank, arranged for look-up."""

    facts: dict[str, Facts]  # relpath -> facts
    by_kind: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> id -> relpath
    settings: Facts | None = None
    statements: dict[str, set[str]] = field(default_factory=dict)
    reference_entries: list[dict[str, Any]] = field(default_factory=list)
    reviews: dict[str, list[tuple[str, Facts]]] = field(default_factory=dict)
    blind: list[tuple[str, Facts]] = field(default_factory=list)  # blind answers, path order
    # the valid records of each kind, and the valid content of every kind, in path order: the
    # rules walk only the records they are about (the facts of a large bank are nearly all
    # items), and the bank is sorted once rather than once per rule
    valid: dict[str, list[tuple[str, Facts]]] = field(default_factory=dict)
    content_facts: list[tuple[str, Facts]] = field(default_factory=list)

    @classmethod
    def build(cls, facts: Mapping[str, Facts | None]) -> BankIndex:
        index = cls({p: f for p, f in sorted(facts.items(), key=_path) if f is not None})
        by_kind: dict[str, dict[str, str]] = defaultdict(dict)
        reviews: dict[str, list[tuple[str, Facts]]] = defaultdict(list)
        valid: dict[str, list[tuple[str, Facts]]] = defaultdict(list)
        content = index.content_facts
        for path, f in index.facts.items():
            key = f.get("id") or f.get("file_id")
            if key:
                by_kind[f["kind"]].setdefault(key, path)
            if not f["valid"]:
                continue
            valid[f["kind"]].append((path, f))
            if f["kind"] in CONTENT_KINDS:
                content.append((path, f))
            if f["kind"] == "bank":
                index.settings = f
            elif f["kind"] == "framework":
                index.statements[f["file_id"]] = set(f["statements"])
            elif f["kind"] == "references":
                index.reference_entries = f["references"]
            elif f["kind"] == "review":
                reviews[f["target"]].append((path, f))
            elif f["kind"] == "blind_answer":
                index.blind.append((path, f))
        index.by_kind = dict(by_kind)
        index.reviews = dict(reviews)
        index.valid = dict(valid)
        return index

    def ids(self, kind: str) -> dict[str, str]:
        return self.by_kind.get(kind, {})

    def valid_of(self, *kinds: str) -> list[tuple[str, Facts]]:
        """The valid records of these kinds, in path order."""
        if len(kinds) == 1:
            return self.valid.get(kinds[0], [])
        return sorted((pair for kind in kinds for pair in self.valid.get(kind, [])), key=_path)

    def content(self, ident: str) -> tuple[str, Facts] | None:
        for kind in CONTENT_KINDS:
            path = self.ids(kind).get(ident)
            if path:
                return path, self.facts[path]
        return None


def _path(pair: tuple[str, Any]) -> str:
    return pair[0]
