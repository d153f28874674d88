"""Coverage: how many items, in which states, assess each statement for each role, section and
format; which statements have no approved items; and how many disjoint forms a blueprint could
be built from (an upper bound: each constraint on its own)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from itembank.core.standards import counted_standards

Facts = dict[str, Any]
STATES = ("approved", "in_review", "changes_requested", "draft", "rejected", "retired")


@dataclass
class BlueprintCapacity:
    """How many disjoint forms the approved items could fill, constraint by constraint."""

    blueprint: str
    forms_upper_bound: int
    limits: list[dict[str, Any]] = field(default_factory=list)

    @property
    def bottleneck(self) -> dict[str, Any] | None:
        return min(self.limits, key=lambda x: x["forms"]) if self.limits else None


@dataclass
class Coverage:
    """Counts per statement x role x section x format x status."""

    rows: list[dict[str, Any]]
    statements: list[dict[str, Any]]
    blueprint: BlueprintCapacity | None = None

    @property
    def uncovered(self) -> list[dict[str, Any]]:
        """Assessed statements with no approved item for their framework's role."""
        return [s for s in self.statements if s["assessed"] and s["approved"] == 0]

    def only(self, framework: str) -> Coverage:
        """The same counts for one framework's statements (e.g. ecs-2026 before it starts)."""
        return Coverage(
            [r for r in self.rows if r["framework"] == framework],
            [s for s in self.statements if s["framework"] == framework],
            self.blueprint,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "statements": self.statements,
            "uncovered": [
                {"framework": s["framework"], "statement": s["statement"]} for s in self.uncovered
            ],
            "rows": self.rows,
        }
        if self.blueprint is not None:
            out["blueprint"] = {
                "id": self.blueprint.blueprint,
                "disjoint_forms_upper_bound": self.blueprint.forms_upper_bound,
                "bottleneck": self.blueprint.bottleneck,
                "limits": self.blueprint.limits,
            }
        return out


#: One item's mapping as coverage counts it: framework, statement, the item's roles (joined by
#: ROLES_JOIN), section, format, status. The cache keeps these per file, so coverage after a
#: change adds up stored rows instead of reading every item's facts.
Tally = tuple[str, str, str, str, str, str]
ROLES_JOIN = "\x1f"


def tally_of(f: Facts | None) -> list[Tally]:
    """The rows an item adds to coverage (none for other records or invalid items)."""
    if f is None or f.get("kind") != "item" or not f.get("valid"):
        return []
    roles = ROLES_JOIN.join(f["roles"])
    return [(fw, st, roles, f["section"], f["format"], f["status"]) for fw, st in f["std"]]


def coverage(facts: Mapping[str, Facts], frameworks: Mapping[str, Facts]) -> Coverage:
    """Count items by mapping; `frameworks` maps framework id -> its facts. A mapping counts
    for its framework's role, and only if the item claims that role (a mapping to another
    role's framework, or to a framework not in `frameworks`, is ignored: validate flags it)."""
    tallies: Counter[Tally] = Counter(t for f in facts.values() for t in tally_of(f))
    return coverage_of(tallies.items(), frameworks)


def coverage_of(tallies: Iterable[tuple[Tally, int]], frameworks: Mapping[str, Facts]) -> Coverage:
    """Coverage from counted tally rows (see tally_of) and the frameworks' facts."""
    counts: Counter[tuple[str, str, str, str, str, str]] = Counter()
    for (framework, statement, roles, section, fmt, status), n in tallies:
        role = frameworks[framework]["role"] if framework in frameworks else None
        if role is not None and role in roles.split(ROLES_JOIN):
            counts[(framework, statement, role, section, fmt, status)] += n
    rows_by: dict[tuple[str, str, str, str, str], Counter[str]] = defaultdict(Counter)
    for (framework, st, role, section, fmt, status), n in counts.items():
        rows_by[(framework, st, role, section, fmt)][status] += n
    rows = [
        {
            "framework": k[0],
            "statement": k[1],
            "role": k[2],
            "section": k[3],
            "format": k[4],
            **{s: c.get(s, 0) for s in STATES},
        }
        for k, c in sorted(rows_by.items())
    ]
    statements = []
    for fw_id, fw in sorted(frameworks.items()):
        for statement in fw["statements"]:
            own: list[dict[str, Any]] = [
                r
                for r in rows
                if r["framework"] == fw_id
                and r["statement"] == statement
                and r["role"] == fw["role"]
            ]
            statements.append(
                {
                    "framework": fw_id,
                    "statement": statement,
                    "role": fw["role"],
                    "title": fw["titles"].get(statement, ""),
                    "assessed": fw["assessed"],
                    **{s: sum(int(r[s]) for r in own) for s in STATES},
                }
            )
    return Coverage(rows, statements)


def blueprint_capacity(
    blueprint: Mapping[str, Any], facts: Mapping[str, Facts], frameworks: Mapping[str, Facts]
) -> BlueprintCapacity:
    """Upper bound on disjoint forms: for each constraint, approved eligible supply // demand.
    A standards bound counts what assembly counts (core/standards.py): an item's primary
    statement in each framework of a role it claims."""
    role = blueprint["role"]
    excluded = set(blueprint.get("exclude", []))
    approved = [
        f
        for f in facts.values()
        if f["kind"] == "item"
        and f["valid"]
        and f["status"] == "approved"
        and role in f["roles"]
        and f["id"] not in excluded
    ]
    stimuli = {f["id"]: f for f in facts.values() if f["kind"] == "stimulus" and f["valid"]}
    limits: list[dict[str, Any]] = []

    def limit(constraint: str, available: int, per_form: int) -> None:
        if per_form > 0:
            limits.append(
                {
                    "constraint": constraint,
                    "available": available,
                    "per_form": per_form,
                    "forms": available // per_form,
                }
            )

    for section in blueprint["sections"]:
        formats = set(section.get("formats", [])) or None
        pool = [
            f
            for f in approved
            if f["section"] == section["section"] and (formats is None or f["format"] in formats)
        ]
        if section["section"] == "general":
            limit(f"section {section['id']}: approved general items", len(pool), section["items"])
        else:
            per_case = section["items"] // max(1, section.get("stimuli", 1))
            by_case = Counter(f["stim"] for f in pool)
            usable = [
                s
                for s, n in by_case.items()
                if n >= per_case
                and stimuli.get(s, {}).get("status") == "approved"
                and role in stimuli.get(s, {}).get("roles", [])
            ]
            limit(
                f"section {section['id']}: approved cases with {per_case}+ approved items",
                len(usable),
                section.get("stimuli", 1),
            )
    fw_roles = {fid: str(fw["role"]) for fid, fw in frameworks.items()}
    counted = {f["id"]: _counted(f, fw_roles) for f in approved}
    for bound in blueprint.get("standards", []):
        ref = (bound["framework"], bound["statement"])
        n = sum(1 for f in approved if ref in counted[f["id"]])
        limit(f"standard {bound['statement']}: min {bound['min']} per form", n, bound["min"])
    for bound in blueprint.get("formats", []):
        n = sum(1 for f in approved if f["format"] == bound["format"])
        limit(f"format {bound['format']}: min {bound['min']} per form", n, bound["min"])
    upper = min((x["forms"] for x in limits), default=0)
    return BlueprintCapacity(blueprint["id"], upper, limits)


def _counted(f: Facts, framework_roles: Mapping[str, str]) -> frozenset[tuple[str, str]]:
    """The statements an item's facts count towards in a blueprint's bounds."""
    mappings = [
        {"framework": fw, "statement": st, "primary": marked}
        for (fw, st), marked in zip(
            f["std"], f.get("std_primary") or [False] * len(f["std"]), strict=True
        )
    ]
    return counted_standards(mappings, f["roles"], framework_roles)
