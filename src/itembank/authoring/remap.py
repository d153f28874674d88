"""Re-mapping content from one framework version to the next through the old framework's
crosswalk (e.g. pqs-practitioner-2018 -> ecs-2026). Pure: records in, a plan out; the writers'
section (service.py) reads the bank and saves what the maintainer accepts.

Standards mappings are not part of the content an approval covers (core/workflow.py's
HASHED_FIELDS), so applying a plan never sends approved content back to review. Marking-scheme
criteria of scenarios are the exception: they sit inside the approved marking scheme, so they are
reported for a maintainer and a panel rather than changed here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from itembank.core.errors import ItembankError

Record = dict[str, Any]

#: common.schema.json's maxItems for a standards list.
MAX_MAPPINGS = 6

#: What happens to a record, and whether a maintainer must act on it.
OUTCOMES: Mapping[str, str] = {
    "remap": "new mappings proposed",
    "already": "already mapped to the target: nothing to do",
    "skipped": "left out by the maintainer (--skip)",
    "no-target": "no statement it maps to has a target in the crosswalk",
    "no-room": "the new mappings would exceed the limit of 6 standards",
    "wrong-role": "not content for the target framework's role",
    "invalid": "the record has errors: fix them first (itembank validate)",
    "uncommitted": "its file differs from the last commit: commit or discard that first",
}
#: Outcomes that leave a record without target mappings: a maintainer must act on it.
NEEDS_ACTION = frozenset({"no-target", "no-room", "wrong-role", "invalid", "uncommitted"})


class RemapError(ItembankError):
    """The remap cannot be planned (a framework or its crosswalk is missing)."""


@dataclass(frozen=True)
class Crosswalk:
    """One framework's crosswalk to the next, checked against both frameworks."""

    source: str
    target: str
    role: str
    table: Mapping[str, tuple[str, ...]]
    notes: Mapping[str, str]


@dataclass
class Proposal:
    """What the crosswalk proposes for one record."""

    kind: str
    id: str
    status: str
    outcome: str
    source_statements: list[str]
    added: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    standards: list[Record] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "status": self.status,
            "outcome": self.outcome,
            "from": self.source_statements,
            "add": self.added,
            "unmapped": self.unmapped,
            "standards": self.standards,
            "remarks": self.remarks,
        }


@dataclass
class RemapPlan:
    """Every record mapped to the source framework, with what the crosswalk proposes."""

    crosswalk: Crosswalk
    replace: bool
    proposals: list[Proposal]
    commit: str | None = None

    def by_outcome(self, outcome: str) -> list[Proposal]:
        return [p for p in self.proposals if p.outcome == outcome]

    @property
    def accepted(self) -> list[Proposal]:
        return self.by_outcome("remap")

    @property
    def needs_action(self) -> list[Proposal]:
        return [p for p in self.proposals if p.outcome in NEEDS_ACTION]

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.crosswalk.source,
            "to": self.crosswalk.target,
            "replace": self.replace,
            "commit": self.commit,
            "counts": {o: len(self.by_outcome(o)) for o in OUTCOMES},
            "proposals": [p.to_dict() for p in self.proposals],
        }


def crosswalk_between(
    frameworks: Mapping[str, Mapping[str, Any]], source: str, target: str
) -> Crosswalk:
    """The source framework's crosswalk to `target`, or a RemapError that says what to add."""
    for name in (source, target):
        if name not in frameworks:
            known = ", ".join(sorted(frameworks)) or "none"
            raise RemapError(
                f"There is no framework {name!r} in standards/ (the bank has: {known})."
            )
    walk = frameworks[source].get("crosswalk")
    if not isinstance(walk, Mapping) or walk.get("to") != target:
        raise RemapError(
            f"standards/{source}.json has no crosswalk to {target}: add a 'crosswalk' with "
            f'"to": "{target}" and one mapping per statement (schemas/framework.schema.json).'
        )
    target_ids = {str(s["id"]) for s in frameworks[target].get("statements", [])}
    table: dict[str, tuple[str, ...]] = {}
    notes: dict[str, str] = {}
    for i, m in enumerate(walk.get("mappings", [])):
        unknown = [t for t in m.get("to", []) if t not in target_ids]
        if unknown:
            raise RemapError(
                f"standards/{source}.json:/crosswalk/mappings/{i}: {', '.join(unknown)} "
                f"is not a statement of {target}; run 'itembank validate' and correct it."
            )
        table[str(m["from"])] = tuple(str(t) for t in m.get("to", []))
        if m.get("note"):
            notes[str(m["from"])] = str(m["note"])
    return Crosswalk(source, target, str(frameworks[target].get("role", "")), table, notes)


def _roles(record: Mapping[str, Any]) -> list[str]:
    roles = record.get("roles")
    if isinstance(roles, list):
        return [str(r) for r in roles]
    return [str(record["role"])] if record.get("role") else []


def propose(
    kind: str, record: Mapping[str, Any], walk: Crosswalk, replace: bool = False
) -> Proposal | None:
    """The crosswalk's proposal for one record; None if it has no mapping to the source.

    Added mappings follow the record's own order, the primary statement's targets first (so that
    forms count the right target statement: forms/pool.py takes the first per framework). Without
    `replace` they are added beside the old ones (both versions apply until the old one ends) and
    none is primary; with `replace` the old mappings go and the primary moves to the first target
    of the old primary statement."""
    mappings = [m for m in record.get("standards", []) if isinstance(m, Mapping)]
    source = [m for m in mappings if m.get("framework") == walk.source]
    if not source:
        return None
    ordered = sorted(source, key=lambda m: not m.get("primary"))
    statements = [str(m["statement"]) for m in ordered]
    proposal = Proposal(kind, str(record.get("id")), str(record.get("status")), "remap", statements)
    proposal.unmapped = [s for s in statements if not walk.table.get(s)]
    if kind == "scenario" and _criteria_map_source(record, walk.source):
        proposal.remarks.append(
            f"its marking-scheme criteria also map to {walk.source}: they are part of the approved "
            "marking scheme, so change them in the scenario editor (and send it for review)"
        )
    if walk.role not in _roles(record):
        proposal.outcome = "wrong-role"
        return proposal
    present = {str(m["statement"]) for m in mappings if m.get("framework") == walk.target}
    for statement in statements:
        for target in walk.table.get(statement, ()):
            if target not in present and target not in proposal.added:
                proposal.added.append(target)
    if not proposal.added:
        proposal.outcome = "already" if present else "no-target"
        return proposal
    new: list[Record] = [{"framework": walk.target, "statement": t} for t in proposal.added]
    if replace:
        kept = [dict(m) for m in mappings if m.get("framework") != walk.source]
        old_primary = next((str(m["statement"]) for m in source if m.get("primary")), None)
        if old_primary and not any(m.get("primary") for m in kept):
            firsts = walk.table.get(old_primary, ())
            for m in new:
                if firsts and m["statement"] == firsts[0]:
                    m["primary"] = True
        proposal.standards = kept + new
    else:
        proposal.standards = [dict(m) for m in mappings] + new
    if len(proposal.standards) > MAX_MAPPINGS:
        proposal.outcome = "no-room"
        proposal.remarks.append(
            f"it would map to {len(proposal.standards)} statements (the limit is {MAX_MAPPINGS}): "
            "keep the main ones by hand, or use --replace once the old framework has ended"
        )
    return proposal


def _criteria_map_source(record: Mapping[str, Any], source: str) -> bool:
    scheme = record.get("marking_scheme")
    criteria = scheme.get("criteria", []) if isinstance(scheme, Mapping) else []
    return any(
        isinstance(m, Mapping) and m.get("framework") == source
        for c in criteria
        if isinstance(c, Mapping)
        for m in c.get("standards", [])
    )


def plan_remap(
    records: Iterable[tuple[str, Mapping[str, Any]]],
    walk: Crosswalk,
    replace: bool = False,
    skip: Iterable[str] = (),
) -> RemapPlan:
    """Proposals for every (kind, record) mapped to the source, in id order. Retired content is
    left as it is (it is never delivered again); ids in `skip` are proposals not accepted."""
    skipped = set(skip)
    proposals = []
    for kind, record in records:
        if record.get("status") == "retired":
            continue
        proposal = propose(kind, record, walk, replace)
        if proposal is None:
            continue
        if proposal.id in skipped and proposal.outcome == "remap":
            proposal.outcome = "skipped"
        proposals.append(proposal)
    proposals.sort(key=lambda p: p.id)
    return RemapPlan(walk, replace, proposals)


def unknown_skips(plan: RemapPlan, skip: Iterable[str]) -> list[str]:
    """Ids given to --skip that the plan does not propose anything for (probably a typo)."""
    proposed = {p.id for p in plan.proposals}
    return sorted(set(skip) - proposed)
