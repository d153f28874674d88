"""A readable difference between two versions of an item (stem, options, key, mappings), for
writers and reviewers: not raw JSON."""

from __future__ import annotations

import difflib
import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from itembank.core.render import key_text


@dataclass(frozen=True)
class Change:
    """One field that differs: its label and the two values as text."""

    field: str
    before: str
    after: str


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items())
    return str(value)


def _mappings(item: Mapping[str, Any]) -> str:
    return ", ".join(
        f"{m.get('framework')} {m.get('statement')}"
        for m in item.get("standards", []) or []
        if isinstance(m, Mapping)
    )


def item_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """The fields that differ, in the order a reader cares about."""
    out: list[Change] = []

    def add(label: str, a: str, b: str) -> None:
        if a != b:
            out.append(Change(label, a, b))

    add("Format", _text(old.get("format")), _text(new.get("format")))
    add("Stem", _text(old.get("stem")), _text(new.get("stem")))
    old_options = {o.get("id"): o for o in old.get("options", []) or [] if isinstance(o, Mapping)}
    new_options = {o.get("id"): o for o in new.get("options", []) or [] if isinstance(o, Mapping)}
    for oid in sorted(set(old_options) | set(new_options), key=str):
        before, after = old_options.get(oid, {}), new_options.get(oid, {})
        add(f"Option {oid}", _text(before.get("text")), _text(after.get("text")))
        add(
            f"Option {oid} rationale", _text(before.get("rationale")), _text(after.get("rationale"))
        )
    add("Key", key_text(old), key_text(new))
    add("Rationale", _text(old.get("rationale")), _text(new.get("rationale")))
    add("Standards", _mappings(old), _mappings(new))
    for name in (
        "references",
        "roles",
        "section",
        "stimulus",
        "enemies",
        "difficulty_estimate",
        "tags",
        "status",
        "scoring",
        "select_count",
    ):
        add(name.replace("_", " ").capitalize(), _text(old.get(name)), _text(new.get(name)))
    return out


def word_diff_html(before: str, after: str) -> str:
    """Words removed in <del>, words added in <ins> (escaped, safe to show)."""
    a, b = before.split(), after.split()
    parts = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op in ("delete", "replace"):
            parts.append(f"<del>{html.escape(' '.join(a[i1:i2]))}</del>")
        if op in ("insert", "replace"):
            parts.append(f"<ins>{html.escape(' '.join(b[j1:j2]))}</ins>")
        if op == "equal":
            parts.append(html.escape(" ".join(a[i1:i2])))
    return " ".join(parts)


def changes_html(changes: list[Change]) -> str:
    """A table of changes with word-level highlighting."""
    if not changes:
        return "<p>No differences.</p>"
    rows = "".join(
        f"<tr><th>{html.escape(c.field)}</th><td>{word_diff_html(c.before, c.after)}</td></tr>"
        for c in changes
    )
    return f'<table class="ib-diff">{rows}</table>'
