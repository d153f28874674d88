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

    @classmethod
    def build(cls, facts: Mapping[str, Facts | None]) -> BankIndex:
        index = cls({p: f for p, f in facts.items() if f is not None})
        by_kind: dict[str, dict[str, str]] = defaultdict(dict)
        reviews: dict[str, list[tuple[str, Facts]]] = defaultdict(list)
        for path in sorted(index.facts):
            f = index.facts[path]
            key = f.get("id") or f.get("file_id")
            if key:
                by_kind[f["kind"]].setdefault(key, path)
            if f["kind"] == "bank" and f["valid"]:
                index.settings = f
            elif f["kind"] == "framework" and f["valid"]:
                index.statements[f["file_id"]] = set(f["statements"])
            elif f["kind"] == "references" and f["valid"]:
                index.reference_entries = f["references"]
            elif f["kind"] == "review" and f["valid"]:
                reviews[f["target"]].append((path, f))
            elif f["kind"] == "blind_answer" and f["valid"]:
                index.blind.append((path, f))
        index.by_kind = dict(by_kind)
        index.reviews = dict(reviews)
        return index

    def ids(self, kind: str) -> dict[str, str]:
        return self.by_kind.get(kind, {})

    def content(self, ident: str) -> tuple[str, Facts] | None:
        for kind in CONTENT_KINDS:
            path = self.ids(kind).get(ident)
            if path:
                return path, self.facts[path]
        return None
