"""What the bank offers a blueprint, before any solving: the eligible items and cases (the pool),
each item's difficulty and exposure, and whether the pool can supply each constraint family's
demand. Kept apart from the solver so that coverage reports and the bank can ask these questions
without building a programme.

Pure: records in, results out.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from itembank.core.errors import ItembankError
from itembank.core.standards import counted_standards
from itembank.core.workflow import content_hash


class AssemblyError(ItembankError):
    """The blueprint cannot be met (or is not usable); `conflicts` say why, in plain words.

    Defined here, not beside the solver, because the pool raises it first (an include list that
    cannot be honoured, an unusable section) and the solver module imports this one."""

    def __init__(self, message: str, conflicts: Sequence[str] = ()) -> None:
        super().__init__(message + "".join(f"\n  - {c}" for c in conflicts))
        self.conflicts = list(conflicts)


# ---- the pool: what the bank offers this blueprint ---------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """One approved item the blueprint may use."""

    id: str
    section: str
    format: str
    stimulus: str | None
    standards: frozenset[tuple[str, str]]
    difficulty: float
    enemies: tuple[str, ...]
    exposure: int  # forms already committed that carry it
    delivered: int = 0  # of those, forms actually delivered (with statistics in the bank)
    seen_by: int = 0  # candidates those deliveries gave it to


@dataclass
class Pool:
    """Eligible items and cases, and notes on what was left out and why."""

    items: dict[str, Candidate]
    cases: dict[str, list[str]]  # stimulus id -> its eligible items, in the case's order
    case_exposure: dict[str, int]
    notes: list[str] = field(default_factory=list)


#: Statistics from fewer candidates than this do not replace the writer's estimate: the
#: standard error of a facility from 30 candidates is already up to 0.09.
EMPIRICAL_MIN_N = 30


def empirical_difficulty(
    items: Iterable[Mapping[str, Any]], statistics: Iterable[Mapping[str, Any]]
) -> tuple[dict[str, float], list[str]]:
    """Each item's facility from the newest statistics of ITS CURRENT VERSION (content hash)
    with at least EMPIRICAL_MIN_N candidates, and the items that fell back to the writer's
    estimate (no such statistics yet: new or changed items, which must still reach forms to
    be measured; figures of an earlier version describe a different item)."""
    newest: dict[tuple[str, str], tuple[tuple[str, str], float]] = {}
    for record in statistics:
        if int(record.get("n", 0)) < EMPIRICAL_MIN_N:
            continue
        key = (str(record["item"]), str(record["content_hash"]))
        stamp = (str(record["analysed_at"]), str(record["administration"]))
        if key not in newest or stamp > newest[key][0]:
            newest[key] = (stamp, float(record["facility"]))
    values, fallback = {}, []
    for item in items:
        ident = str(item["id"])
        found = newest.get((ident, content_hash("item", item)))
        if found is not None:
            values[ident] = found[1]
        else:
            values[ident] = float(item["difficulty_estimate"])
            if item.get("status") == "approved":
                fallback.append(ident)
    return values, sorted(fallback)


def delivered_counts(statistics: Iterable[Mapping[str, Any]]) -> dict[str, tuple[int, int]]:
    """Item id -> (forms actually delivered that carried it, candidates given it), from the
    statistics records (one per item, form and administration)."""
    forms: dict[str, set[str]] = defaultdict(set)
    candidates: Counter[str] = Counter()
    for record in statistics:
        forms[str(record["item"])].add(str(record["form"]))
        candidates[str(record["item"])] += int(record.get("n", 0))
    return {i: (len(f), candidates[i]) for i, f in forms.items()}


def difficulty_values(
    source: str,
    items: Iterable[Mapping[str, Any]],
    ratings: Iterable[Mapping[str, Any]] = (),
    statistics: Iterable[Mapping[str, Any]] = (),
) -> dict[str, float]:
    """Each item's difficulty (expected facility, 0-1) from the blueprint's chosen source
    ('empirical': see empirical_difficulty, which also says which items fell back)."""
    if source == "writer":
        return {str(i["id"]): float(i["difficulty_estimate"]) for i in items}
    if source == "empirical":
        return empirical_difficulty(items, statistics)[0]
    if source == "angoff":
        # the mean of every judge's rating in the latest round that rated the item
        by_item: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
        for record in ratings:
            for r in record.get("ratings", []):
                by_item[str(r["item"])][int(record["round"])].append(float(r["value"]))
        return {i: float(np.mean(rounds[max(rounds)])) for i, rounds in by_item.items()}
    raise AssemblyError(
        f"The blueprint asks for {source!r} difficulty, but the bank holds no empirical item "
        "statistics yet. Use difficulty source 'writer' or 'angoff' in the blueprint."
    )


def build_pool(
    blueprint: Mapping[str, Any],
    items: Iterable[Mapping[str, Any]],
    stimuli: Iterable[Mapping[str, Any]],
    difficulty: Mapping[str, float],
    exposure: Mapping[str, int] | None = None,
    framework_roles: Mapping[str, str] | None = None,
    delivered: Mapping[str, tuple[int, int]] | None = None,
) -> Pool:
    """The approved items and cases of the blueprint's role, minus exclusions. Given each
    framework's role, an item's mappings to frameworks of roles it does not claim are ignored
    (they count towards no blueprint bound).

    The exposure cap counts COMMITTED forms (`exposure`), not only delivered ones
    (`delivered`, shown beside it): every committed form is meant to be delivered, so counting
    only past deliveries would let an item exceed the cap once the forms waiting to be
    delivered are used.

    Raises AssemblyError when `include` names content that is not approved or not eligible.
    """
    delivered = delivered or {}
    role = blueprint["role"]
    exposure = exposure or {}
    excluded = set(blueprint.get("exclude", []))
    included = set(blueprint.get("include", []))
    cap = blueprint.get("exposure_cap")
    all_items = {str(i["id"]): i for i in items}
    all_stimuli = {str(s["id"]): s for s in stimuli}
    notes: list[str] = []
    problems: list[str] = []
    for ident in sorted(included):
        record = all_items.get(ident) or all_stimuli.get(ident)
        if record is None:
            problems.append(f"include names {ident}, which is not in the bank")
        elif record.get("status") != "approved":
            problems.append(
                f"include names {ident}, which is {record.get('status')}: only approved "
                "content can go on a form"
            )
        elif role not in record.get("roles", []):
            problems.append(f"include names {ident}, which is not for the role {role}")
        elif ident in excluded:
            problems.append(f"{ident} is both included and excluded")
    if problems:
        raise AssemblyError("The blueprint's include list cannot be honoured:", problems)

    usable_stimuli = {
        sid
        for sid, s in all_stimuli.items()
        if s.get("status") == "approved" and role in s.get("roles", []) and sid not in excluded
    }
    pool: dict[str, Candidate] = {}
    no_difficulty = []
    for ident, r in sorted(all_items.items()):
        if r.get("status") != "approved" or role not in r.get("roles", []) or ident in excluded:
            continue
        stim = r.get("stimulus")
        if stim is not None and stim not in usable_stimuli:
            continue
        if ident not in difficulty:
            no_difficulty.append(ident)
            continue
        seen = int(exposure.get(ident, 0))
        if cap is not None and seen >= cap and ident not in included:
            continue
        pool[ident] = Candidate(
            id=ident,
            section=str(r["section"]),
            format=str(r["format"]),
            stimulus=str(stim) if stim else None,
            standards=counted_standards(r["standards"], r.get("roles", []), framework_roles),
            difficulty=float(difficulty[ident]),
            enemies=tuple(sorted(str(e) for e in r.get("enemies", []))),
            exposure=seen,
            delivered=delivered.get(ident, (0, 0))[0],
            seen_by=delivered.get(ident, (0, 0))[1],
        )
    if no_difficulty:
        notes.append(
            f"{len(no_difficulty)} approved item(s) have no difficulty value from the "
            f"blueprint's source and were left out (e.g. {', '.join(no_difficulty[:5])})"
        )
    capped = sorted(
        i for i, n in exposure.items() if cap is not None and n >= cap and i in all_items
    )
    if capped:
        notes.append(
            f"{len(capped)} item(s) already appear on {cap} committed form(s), the exposure cap, "
            f"and were left out (e.g. {', '.join(capped[:5])})"
        )
    cases: dict[str, list[str]] = {}
    case_exposure: dict[str, int] = {}
    for sid in sorted(usable_stimuli):
        members = [i for i in all_stimuli[sid].get("items", []) if i in pool]
        if members:
            cases[sid] = members
            case_exposure[sid] = max(pool[i].exposure for i in members)
    return Pool(pool, cases, case_exposure, notes)


# ---- supply against demand, family by family ----------------------------------------------------


def items_per_case(section: Mapping[str, Any]) -> int:
    """Items each case of an applied section carries; the section's length must divide evenly,
    or no case could fill it."""
    stimuli = int(section.get("stimuli", 1))
    if section["items"] % stimuli:
        raise AssemblyError(
            f"Section {section['id']} asks for {section['items']} items on {stimuli} cases, "
            "which does not divide evenly: give a number of items that is a multiple of the "
            "number of cases."
        )
    return int(section["items"]) // stimuli


def is_eligible(section: Mapping[str, Any], c: Candidate) -> bool:
    """Whether an item may fill a slot of this blueprint section (its kind and, if the section
    narrows them, its formats); the supply checks and the programme must agree on this."""
    formats = section.get("formats")
    return c.section == section["section"] and (not formats or c.format in formats)


def usable_cases(section: Mapping[str, Any], pool: Pool) -> tuple[dict[str, list[str]], list[str]]:
    """Cases with enough eligible items for this applied section, and why others fall short."""
    need = items_per_case(section)
    good: dict[str, list[str]] = {}
    short = []
    for sid, members in pool.cases.items():
        ok = [i for i in members if is_eligible(section, pool.items[i])]
        if len(ok) >= need:
            good[sid] = ok
        elif ok:
            short.append(f"{sid} has {len(ok)} approved item(s) of the {need} a case needs")
    return good, short


def supply_conflicts(
    blueprint: Mapping[str, Any], pool: Pool, n_forms: int, cap_left: Mapping[str, int]
) -> list[str]:
    """Each constraint family's demand over n_forms set against what the pool can supply."""
    out: list[str] = []
    n = n_forms
    shared_cases = int(blueprint.get("max_shared_cases", 0))
    length = sum(int(s["items"]) for s in blueprint["sections"])

    def uses(ident: str) -> int:  # forms an item can still go on
        return min(n, cap_left.get(ident, n))

    for section in blueprint["sections"]:
        if section["section"] == "general":
            pool_ids = [i for i, c in pool.items.items() if is_eligible(section, c)]
            supply = sum(uses(i) for i in pool_ids)
            need = int(section["items"])
            if len(pool_ids) < need or supply < need * n:
                out.append(
                    f"section {section['id']} needs {need} approved general item(s) per form "
                    f"x {n} form(s) = {need * n} placements; the bank has {len(pool_ids)} "
                    f"eligible item(s) giving {supply} placements within the exposure cap"
                )
        else:
            cases, short = usable_cases(section, pool)
            need = int(section.get("stimuli", 1))
            per_case_forms = {
                sid: min(n if shared_cases > 0 else 1, min(uses(i) for i in members))
                for sid, members in cases.items()
            }
            supply = sum(per_case_forms.values())
            if len(cases) < need or supply < need * n:
                rule = (
                    "no case may be shared between forms (max_shared_cases 0)"
                    if shared_cases == 0
                    else f"two forms may share at most {shared_cases} case(s)"
                )
                out.append(
                    f"section {section['id']} needs {need} case(s) of {items_per_case(section)} "
                    f"approved items per form x {n} form(s), and {rule}; the bank has "
                    f"{len(cases)} such case(s) ({', '.join(sorted(cases)) or 'none'}), "
                    f"usable on {supply} form(s) within that rule and the exposure cap"
                    + (f"; {'; '.join(short)}" if short else "")
                )
    for bound in blueprint.get("standards", []):
        ref = (bound["framework"], bound["statement"])
        ids = [i for i, c in pool.items.items() if ref in c.standards]
        supply = sum(uses(i) for i in ids)
        if bound["min"] and (len(ids) < bound["min"] or supply < bound["min"] * n):
            out.append(
                f"standard {bound['statement']} needs {bound['min']} approved item(s) per form "
                f"x {n} form(s); the bank has {len(ids)} ({supply} placements within the "
                "exposure cap)"
            )
    for bound in blueprint.get("formats", []):
        ids = [i for i, c in pool.items.items() if c.format == bound["format"]]
        supply = sum(uses(i) for i in ids)
        if bound["min"] and (len(ids) < bound["min"] or supply < bound["min"] * n):
            out.append(
                f"format {bound['format']} needs {bound['min']} approved item(s) per form x "
                f"{n} form(s); the bank has {len(ids)} ({supply} placements)"
            )
    difficulty = blueprint.get("difficulty")
    if difficulty and len(pool.items) >= length:
        values = sorted(c.difficulty for c in pool.items.values())
        easiest = float(np.mean(values[-length:]))
        hardest = float(np.mean(values[:length]))
        low, high = (
            difficulty["target"] - difficulty["tolerance"],
            difficulty["target"] + (difficulty["tolerance"]),
        )
        if hardest > high or easiest < low:
            out.append(
                f"difficulty: a form's mean must lie in {low:.2f}-{high:.2f}, but any "
                f"{length} approved items average between {hardest:.2f} and {easiest:.2f}"
            )
    return out


def exposure_counts(manifests: Iterable[Mapping[str, Any]]) -> Counter[str]:
    """How many committed forms carry each item."""
    counts: Counter[str] = Counter()
    for manifest in manifests:
        counts.update({i["id"] for s in manifest.get("sections", []) for i in s.get("items", [])})
    return counts


__all__ = [
    "AssemblyError",
    "Candidate",
    "Pool",
    "build_pool",
    "counted_standards",
    "delivered_counts",
    "difficulty_values",
    "empirical_difficulty",
    "exposure_counts",
    "is_eligible",
    "items_per_case",
    "supply_conflicts",
    "usable_cases",
]
