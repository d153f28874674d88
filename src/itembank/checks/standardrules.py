"""Bank-wide rule: standards that match roles. Every framework belongs to one role; content is
measured against the frameworks of the roles it claims, so a mapping to another role's
framework assesses nothing on that content's papers (a practitioner item mapped only to the
practice leader statement passed every check and was assembled onto a practitioner paper).

Two findings, both errors:
- ``standard-role-mismatch``: a mapping (or a marking criterion's mapping) to a framework whose
  role the content does not claim, at the mapping's pointer;
- ``standard-role-missing``: a claimed role with no primary mapping to an assessed framework of
  that role, at the role's pointer. Primary as assembly counts it (core/standards.py): each
  framework's mapping marked primary, else its first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from itembank.checks.bankindex import BankIndex, Facts
from itembank.core.findings import Finding, error, pointer

KIND_NAMES = {
    "item": "item",
    "stimulus": "case",
    "scenario": "scenario",
    "learning_point": "learning point",
}


def standard_roles(index: BankIndex) -> Iterator[Finding]:
    """Content maps only to frameworks of its roles, and to an assessed one for each role."""
    frameworks: dict[str, Facts] = {}
    for fid, path in index.ids("framework").items():
        if index.facts[path]["valid"]:
            frameworks[fid] = index.facts[path]
    assessed: dict[str, list[str]] = defaultdict(list)
    unassessed: dict[str, list[str]] = defaultdict(list)
    for fid, fw in sorted(frameworks.items()):
        (assessed if fw["assessed"] else unassessed)[fw["role"]].append(fid)
    # what a message suggests: the assessed frameworks in force, before any still pending
    # (e.g. ecs-2026 before 1 April 2027), unless only pending ones assess the role
    suggest = {
        role: [f for f in fids if frameworks[f]["status"] != "pending"] or fids
        for role, fids in assessed.items()
    }
    declared = set(index.settings["roles"]) if index.settings else None
    role_of = {fid: fw["role"] for fid, fw in frameworks.items()}
    for path, f in index.content_facts:
        roles: list[str] = f["roles"]
        std: list[list[str]] = f["std"]
        mappings = std + f["marking_std"] if f["kind"] == "scenario" else std
        for i, (fw, _statement) in enumerate(mappings):
            if fw in role_of and role_of[fw] not in roles:
                yield error(
                    path,
                    pointer("standards", i) if i < len(std) else f["marking_where"][i - len(std)],
                    "standard-role-mismatch",
                    _mismatch(KIND_NAMES[f["kind"]], roles, fw, frameworks[fw], suggest),
                )
        if any(fw not in role_of for fw, _ in std):
            continue  # unknown-standard says what to fix first
        # every framework mapped has a primary statement (core/standards.py), so a role is
        # served when any mapped framework is an assessed one of that role
        served = {role_of[fw] for fw, _ in std if frameworks[fw]["assessed"]}
        for ri, role in enumerate(roles):
            if role in served or (declared is not None and role not in declared):
                continue  # served, or unknown-role says what is wrong
            yield error(
                path,
                "/role" if f["kind"] == "scenario" else pointer("roles", ri),
                "standard-role-missing",
                _missing(KIND_NAMES[f["kind"]], role, suggest.get(role, []), unassessed[role]),
            )


def _mismatch(
    noun: str, roles: Sequence[str], fw: str, framework: Facts, assessed: dict[str, list[str]]
) -> str:
    targets = sorted({t for role in roles for t in assessed.get(role, [])})
    where = (
        f"a statement of {_either(targets)}"
        if targets
        else f"a statement of a framework for {_either(list(roles))}"
    )
    never = "" if framework["assessed"] else f" ({fw} is never assessed)"
    return (
        f"{fw} is the framework of the {framework['role']} role{never}, but this {noun} is for "
        f"{_either(list(roles))}, so the mapping counts towards nothing. Map it to {where} "
        "instead."
    )


def _missing(noun: str, role: str, assessed: list[str], unassessed: list[str]) -> str:
    if not assessed:
        never = f" ({_either(unassessed)} is never assessed)" if unassessed else ""
        return (
            f"No framework in this bank assesses the {role} role{never}. Remove {role} from "
            f"the {noun}'s roles, or add an assessed framework for {role} to standards/."
        )
    return (
        f"This {noun} is for {role} but maps to no statement of {_either(assessed)}, the "
        f"assessed framework{'s' if len(assessed) > 1 else ''} of that role. Add a mapping to "
        f"the statement it assesses there (marked primary), or remove {role} from its roles."
    )


def _either(values: list[Any]) -> str:
    names = [str(v) for v in values]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


__all__ = ["standard_roles"]
