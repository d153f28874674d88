"""What a bank-wide finding about one file can depend on, so that after a change only the files
it touches are checked again (the rest keep their findings).

Every file gets *keys*: the content ids it is about or points at (an item: its id, its case and
its enemies; a case: its id and its questions; a review or blind answer: its target). The
bank-wide rules' findings about an item, case, scenario, review or blind answer depend only on
the facts of files sharing a key with it, plus the *global* files (settings, catalogue,
frameworks, blueprints, forms, exercises, ratings, statistics), which are few and always
re-checked. So after a change:

- touched = the changed files and every file sharing a key with one of them (before or after);
- context = touched, the global files, and every file sharing a key with a touched one;
- the rules run over the context's facts, and only their findings about touched files (and
  about global ones) replace the kept ones.

A change to a global file re-runs every rule (it can concern every file)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from itembank.core.errors import InvalidIdError
from itembank.core.layout import locate

#: Kinds whose bank-wide findings are kept per file and re-checked only when touched.
LOCAL_KINDS = frozenset({"item", "stimulus", "scenario", "review", "blind_answer"})
LIVE_STATUSES = frozenset({"in_review", "approved"})  # as checks.similarity

Facts = dict[str, Any]


def _ids(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, str) and v]


def keys_of(facts: Facts | None) -> list[str]:
    """The content ids a file is about or points at (see the module's docstring)."""
    if facts is None:
        return []
    kind = facts.get("kind")
    own = facts.get("id") or facts.get("file_id")
    keys = _ids(own)
    if not facts.get("valid"):
        return keys
    if kind == "item":
        keys += _ids(facts.get("stim")) + _ids(facts.get("enemies"))
    elif kind == "stimulus":
        keys += _ids(facts.get("items"))
    elif kind in ("review", "blind_answer"):
        keys += _ids(facts.get("target"))
    elif kind in ("form", "exercise"):
        keys += _ids(facts.get("items"))
    elif kind == "blueprint":
        record = facts.get("record") or {}
        keys += _ids(record.get("include", [])) + _ids(record.get("exclude", []))
    elif kind == "statistics":
        keys += _ids(facts.get("item"))
    return sorted(set(keys))


def is_global(facts: Facts | None) -> bool:
    """Facts of a kind whose findings can concern any file (re-checked on every run)."""
    return facts is not None and facts.get("kind") not in LOCAL_KINDS


def is_live(facts: Facts | None) -> bool:
    """A valid item in review or approved: what the near-duplicate check compares."""
    return (
        facts is not None
        and facts.get("kind") == "item"
        and bool(facts.get("valid"))
        and facts.get("status") in LIVE_STATUSES
    )


def is_local_path(path: str) -> bool:
    """Whether findings about this path are kept per file (else they are global findings)."""
    try:
        location = locate(path)
    except InvalidIdError:
        return False
    return location is not None and location.kind in LOCAL_KINDS


def changed_facts(
    old: Mapping[str, Facts | None], new: Mapping[str, Facts | None], removed: Iterable[str]
) -> set[str]:
    """Files whose facts (what the bank-wide rules see) differ: added, removed or changed."""
    out = set(removed)
    for path, facts in new.items():
        if path not in old or old[path] != facts:
            out.add(path)
    return out
