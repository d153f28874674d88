"""Which of a record's standards mappings count, and for whom: one definition shared by the
bank rules, coverage and assembly, so that what validate accepts is what coverage counts and
what a blueprint's bounds are filled with.

A mapping names a framework, and a framework belongs to one role. A mapping counts only for a
record that claims that role: a practitioner item mapped to the practice leader framework
assesses nothing a practitioner paper measures. Within one framework, the mapping that counts
is the primary one (marked ``primary``, else the first listed), so an item mapped to three
statements still fills one slot of a blueprint.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any


def primary_indexes(frameworks: Sequence[str], marked: Sequence[bool] = ()) -> dict[str, int]:
    """Framework -> index of its primary mapping among `frameworks` (one entry per mapping,
    in order): the first one marked primary, else the first listed for that framework."""
    chosen: dict[str, int] = {}
    for i, fw in enumerate(frameworks):
        is_marked = i < len(marked) and marked[i]
        if fw not in chosen or (is_marked and not _marked(marked, chosen[fw])):
            chosen[fw] = i
    return chosen


def _marked(marked: Sequence[bool], index: int) -> bool:
    return index < len(marked) and bool(marked[index])


def matches_role(
    framework: str, roles: Collection[str], framework_roles: Mapping[str, str] | None
) -> bool:
    """Whether a mapping to `framework` counts for content claiming `roles`. Without the
    frameworks' roles (None) every mapping counts; a framework not in them counts for no one."""
    if framework_roles is None:
        return True
    return framework_roles.get(framework) in roles


def counted_standards(
    mappings: Iterable[Mapping[str, Any]],
    roles: Collection[str] | None = None,
    framework_roles: Mapping[str, str] | None = None,
) -> frozenset[tuple[str, str]]:
    """The (framework, statement) pairs an item counts towards in blueprint bounds: its primary
    statement in each framework, and, given the item's `roles` and each framework's role, only
    frameworks of one of those roles."""
    listed = list(mappings)
    frameworks = [str(m["framework"]) for m in listed]
    marked = [bool(m.get("primary")) for m in listed]
    return frozenset(
        (fw, str(listed[i]["statement"]))
        for fw, i in primary_indexes(frameworks, marked).items()
        if roles is None or matches_role(fw, roles, framework_roles)
    )


__all__ = ["counted_standards", "matches_role", "primary_indexes"]
