"""Assembly of parallel test forms from a blueprint, as one mixed-integer programme.

All N forms are built at once (van der Linden's simultaneous formulation): every form meets the
section lengths, per-standard and per-format bounds and the difficulty window; enemies never
share a form; a case's items come all together or not at all; item exposure (across the forms
already committed plus these) and the overlap between any two new forms are capped. A seeded
random objective makes different seeds give different forms, while the same pool, blueprint and
seed give the same forms. Before solving, each constraint family's supply is checked against
its demand; when the programme is still infeasible, families are relaxed one (then two) at a
time to name the ones that conflict.

Overlap is counted explicitly in two parts: items outside cases that two forms share
(at most ``max_overlap``), and whole cases that two forms share (at most ``max_shared_cases``,
0 when the blueprint does not say; a shared case's items are counted there, not in
``max_overlap``).

Pure: records in, results out. The solver is HiGHS through scipy.optimize.milp.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from itembank.core.errors import ItembankError

Record = dict[str, Any]
Progress = Callable[[str], None]

#: Families of constraints that can be relaxed to find which ones conflict.
FAMILIES = ("standards", "formats", "enemies", "overlap", "exposure", "difficulty", "include")


class AssemblyError(ItembankError):
    """The blueprint cannot be met (or is not usable); `conflicts` say why, in plain words."""

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


@dataclass
class Pool:
    """Eligible items and cases, and notes on what was left out and why."""

    items: dict[str, Candidate]
    cases: dict[str, list[str]]  # stimulus id -> its eligible items, in the case's order
    case_exposure: dict[str, int]
    notes: list[str] = field(default_factory=list)


def difficulty_values(
    source: str, items: Iterable[Mapping[str, Any]], ratings: Iterable[Mapping[str, Any]] = ()
) -> dict[str, float]:
    """Each item's difficulty (expected facility, 0-1) from the blueprint's chosen source."""
    if source == "writer":
        return {str(i["id"]): float(i["difficulty_estimate"]) for i in items}
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


def counted_standards(mappings: Iterable[Mapping[str, Any]]) -> frozenset[tuple[str, str]]:
    """The statements an item counts towards in blueprint bounds: one per framework, its primary
    statement there (the one marked primary, else the first listed), so that an item mapped to
    three statements still fills one slot of the blueprint."""
    chosen: dict[str, str] = {}
    for m in mappings:
        fw = str(m["framework"])
        if m.get("primary") or fw not in chosen:
            chosen[fw] = str(m["statement"])
    return frozenset(chosen.items())


def build_pool(
    blueprint: Mapping[str, Any],
    items: Iterable[Mapping[str, Any]],
    stimuli: Iterable[Mapping[str, Any]],
    difficulty: Mapping[str, float],
    exposure: Mapping[str, int] | None = None,
) -> Pool:
    """The approved items and cases of the blueprint's role, minus exclusions.

    Raises AssemblyError when `include` names content that is not approved or not eligible.
    """
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
            standards=counted_standards(r["standards"]),
            difficulty=float(difficulty[ident]),
            enemies=tuple(sorted(str(e) for e in r.get("enemies", []))),
            exposure=seen,
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


# ---- the result ----------------------------------------------------------------------------------


@dataclass
class FormSection:
    """One section of one assembled form."""

    id: str
    title: str
    items: list[str]
    stimulus: str | None = None
    time_minutes: int | None = None


@dataclass
class AssembledForm:
    sections: list[FormSection]

    @property
    def items(self) -> list[str]:
        return [i for s in self.sections for i in s.items]

    @property
    def stimuli(self) -> list[str]:
        return [s.stimulus for s in self.sections if s.stimulus]


@dataclass
class Assembly:
    """N parallel forms and how the solver got them."""

    forms: list[AssembledForm]
    solver: dict[str, Any]
    difficulty: list[float]
    notes: list[str] = field(default_factory=list)

    def overlap(self) -> list[dict[str, Any]]:
        """For every pair of forms: shared items (all, and outside shared cases), shared cases."""
        out = []
        for (a, fa), (b, fb) in itertools.combinations(enumerate(self.forms), 2):
            shared_cases = sorted(set(fa.stimuli) & set(fb.stimuli))
            shared = set(fa.items) & set(fb.items)
            case_items = {i for s in fa.sections if s.stimulus in shared_cases for i in s.items}
            out.append(
                {
                    "forms": [a + 1, b + 1],
                    "shared_items": len(shared),
                    "shared_items_outside_cases": len(shared - case_items),
                    "shared_cases": shared_cases,
                }
            )
        return out


# ---- supply against demand, family by family ----------------------------------------------------


def _per_case(section: Mapping[str, Any]) -> int:
    stimuli = int(section.get("stimuli", 1))
    if section["items"] % stimuli:
        raise AssemblyError(
            f"Section {section['id']} asks for {section['items']} items on {stimuli} cases, "
            "which does not divide evenly: give a number of items that is a multiple of the "
            "number of cases."
        )
    return int(section["items"]) // stimuli


def _eligible(section: Mapping[str, Any], c: Candidate) -> bool:
    formats = section.get("formats")
    return c.section == section["section"] and (not formats or c.format in formats)


def usable_cases(section: Mapping[str, Any], pool: Pool) -> tuple[dict[str, list[str]], list[str]]:
    """Cases with enough eligible items for this applied section, and why others fall short."""
    need = _per_case(section)
    good: dict[str, list[str]] = {}
    short = []
    for sid, members in pool.cases.items():
        ok = [i for i in members if _eligible(section, pool.items[i])]
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
            pool_ids = [i for i, c in pool.items.items() if _eligible(section, c)]
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
                    f"section {section['id']} needs {need} case(s) of {_per_case(section)} "
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


# ---- the mixed-integer programme ----------------------------------------------------------------


@dataclass
class _Model:
    n_vars: int
    cost: list[float]
    upper: list[float]
    integer: list[int]
    rows: list[tuple[dict[int, float], float, float]]
    x: dict[tuple[int, int, str], int]  # (form, section index, item) -> column
    z: dict[tuple[int, int, str], int]  # (form, section index, case) -> column

    def var(self, cost: float = 0.0, upper: float = 1.0, integer: bool = True) -> int:
        self.cost.append(cost)
        self.upper.append(upper)
        self.integer.append(1 if integer else 0)
        self.n_vars += 1
        return self.n_vars - 1

    def row(self, coefs: Mapping[int, float], low: float, high: float) -> None:
        if coefs:
            self.rows.append((dict(coefs), low, high))


#: Objective weights: the random part is in [0, 1) per item and case; sharing items or cases
#: between forms costs more, so the solver spreads content when the pool allows.
OVERLAP_COST = 0.5
SHARED_CASE_COST = 4.0


def _rng(seed: int, salt: str) -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}:{salt}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def _build(
    blueprint: Mapping[str, Any],
    pool: Pool,
    n: int,
    seed: int,
    drop: frozenset[str],
    overlap_pairs: Iterable[tuple[int, int]] | None,
) -> _Model:
    """The programme; `drop` names families left out; `overlap_pairs` None means every pair."""
    m = _Model(0, [], [], [], [], {}, {})
    rng = _rng(seed, str(blueprint["id"]))
    sections = list(blueprint["sections"])
    cap = blueprint.get("exposure_cap")
    include = set(blueprint.get("include", [])) if "include" not in drop else set()
    eligible: dict[int, list[str]] = {}
    cases_of: dict[int, dict[str, list[str]]] = {}
    for si, section in enumerate(sections):
        if section["section"] == "general":
            eligible[si] = [i for i, c in pool.items.items() if _eligible(section, c)]
        else:
            cases_of[si], _ = usable_cases(section, pool)
            eligible[si] = [i for members in cases_of[si].values() for i in members]
    for f in range(n):
        for si in range(len(sections)):
            for i in eligible[si]:
                m.x[(f, si, i)] = m.var(float(rng.random()))
            for c in cases_of.get(si, {}):
                m.z[(f, si, c)] = m.var(float(rng.random()))
    length = sum(int(s["items"]) for s in sections)

    def on(f: int, ident: str) -> dict[int, float]:
        return {m.x[k]: 1.0 for si in range(len(sections)) if (k := (f, si, ident)) in m.x}

    def case_on(f: int, sid: str) -> dict[int, float]:
        return {m.z[k]: 1.0 for si in range(len(sections)) if (k := (f, si, sid)) in m.z}

    for f in range(n):
        total: dict[int, float] = {}
        for si, section in enumerate(sections):
            cols = {m.x[(f, si, i)]: 1.0 for i in eligible[si]}
            if cols:
                m.row(cols, section["items"], section["items"])
            else:
                m.rows.append(({}, 1, 0))
            total.update(cols)
            if section["section"] == "applied":
                per_case = _per_case(section)
                zs = {m.z[(f, si, c)]: 1.0 for c in cases_of[si]}
                need = int(section.get("stimuli", 1))
                if zs:
                    m.row(zs, need, need)
                else:
                    m.rows.append(({}, 1, 0))
                for c, members in cases_of[si].items():
                    coefs = {m.x[(f, si, i)]: 1.0 for i in members}
                    coefs[m.z[(f, si, c)]] = -float(per_case)
                    m.row(coefs, 0, 0)
        for ident in pool.items:
            cols = on(f, ident)
            if len(cols) > 1:
                m.row(cols, 0, 1)
        for sid in pool.cases:
            cols = case_on(f, sid)
            if len(cols) > 1:
                m.row(cols, 0, 1)
        if "standards" not in drop:
            for bound in blueprint.get("standards", []):
                ref = (bound["framework"], bound["statement"])
                cols = {
                    col: 1.0
                    for i, c in pool.items.items()
                    if ref in c.standards
                    for col in on(f, i)
                }
                high = float(bound.get("max", length))
                if cols:
                    m.row(cols, float(bound["min"]), high)
                elif bound["min"] > 0:
                    m.rows.append(({}, 1, 0))
        if "formats" not in drop:
            for bound in blueprint.get("formats", []):
                cols = {
                    col: 1.0
                    for i, c in pool.items.items()
                    if c.format == bound["format"]
                    for col in on(f, i)
                }
                if cols:
                    m.row(cols, float(bound["min"]), float(bound.get("max", length)))
                elif bound["min"] > 0:
                    m.rows.append(({}, 1, 0))
        if "enemies" not in drop:
            for ident, cand in pool.items.items():
                for other in cand.enemies:
                    if other in pool.items and ident < other:
                        m.row({**on(f, ident), **on(f, other)}, 0, 1)
        difficulty = blueprint.get("difficulty")
        if difficulty and "difficulty" not in drop:
            target, tol = float(difficulty["target"]), float(difficulty["tolerance"])
            coefs = {
                col: pool.items[i].difficulty - target
                for si in range(len(sections))
                for i in eligible[si]
                if (col := m.x[(f, si, i)]) is not None
            }
            slack = tol * length - 1e-9
            m.row(coefs, -slack, slack)
        for ident in include:
            if ident in pool.items:
                m.row(on(f, ident), 1, 1)
            elif ident in pool.cases:
                m.row(case_on(f, ident), 1, 1)
    if cap is not None and "exposure" not in drop:
        for ident, cand in pool.items.items():
            cols = {col: 1.0 for f in range(n) for col in on(f, ident)}
            left = max(0, int(cap) - cand.exposure)
            if left < n:
                m.row(cols, 0, left)
    if "overlap" not in drop and n > 1:
        pairs = (
            list(itertools.combinations(range(n), 2))
            if overlap_pairs is None
            else list(overlap_pairs)
        )
        case_items = {i for members in pool.cases.values() for i in members}
        max_overlap = blueprint.get("max_overlap")
        max_cases = int(blueprint.get("max_shared_cases", 0))
        for f, g in pairs:
            if max_overlap is not None:
                ys: dict[int, float] = {}
                for ident in pool.items:
                    if ident in case_items:
                        continue
                    a, b = on(f, ident), on(g, ident)
                    if not a or not b:
                        continue
                    y = m.var(OVERLAP_COST, 1.0, integer=False)
                    m.row({**a, **b, y: -1.0}, -np.inf, 1)
                    ys[y] = 1.0
                m.row(ys, 0, float(max_overlap))
            ws: dict[int, float] = {}
            for sid in pool.cases:
                a, b = case_on(f, sid), case_on(g, sid)
                if not a or not b:
                    continue
                if max_cases == 0:
                    m.row({**a, **b}, 0, 1)
                    continue
                w = m.var(SHARED_CASE_COST, 1.0, integer=False)
                m.row({**a, **b, w: -1.0}, -np.inf, 1)
                ws[w] = 1.0
            if ws:
                m.row(ws, 0, float(max_cases))
    return m


def _solve(m: _Model, time_limit: float) -> tuple[Any, float]:
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_array

    started = time.perf_counter()
    if any(not coefs and low > high for coefs, low, high in m.rows):
        return None, 0.0
    rows, cols, vals, lows, highs = [], [], [], [], []
    for r, (coefs, low, high) in enumerate(m.rows):
        for col, val in coefs.items():
            rows.append(r)
            cols.append(col)
            vals.append(val)
        lows.append(low)
        highs.append(high)
    matrix = coo_array((vals, (rows, cols)), shape=(len(m.rows), m.n_vars)).tocsr()
    result = milp(
        c=np.array(m.cost),
        integrality=np.array(m.integer),
        bounds=Bounds(np.zeros(m.n_vars), np.array(m.upper)),
        constraints=LinearConstraint(matrix, np.array(lows), np.array(highs)),
        options={"time_limit": float(time_limit), "disp": False, "mip_rel_gap": 0.05},
    )
    return result, time.perf_counter() - started


def _feasible(result: Any) -> bool:
    return result is not None and result.x is not None and result.status in (0, 1)


def _forms_from(
    blueprint: Mapping[str, Any], pool: Pool, m: _Model, x: np.ndarray, n: int, seed: int
) -> list[AssembledForm]:
    sections = list(blueprint["sections"])
    forms = []
    for f in range(n):
        out: list[FormSection] = []
        for si, section in enumerate(sections):
            chosen = [i for (ff, s, i), col in m.x.items() if ff == f and s == si and x[col] > 0.5]
            if section["section"] == "general":
                order = _rng(seed, f"order:{f}:{section['id']}").permutation(len(chosen))
                ordered = [sorted(chosen)[k] for k in order]
                out.append(
                    FormSection(
                        section["id"], section["title"], ordered, None, section.get("time_minutes")
                    )
                )
                continue
            cases = sorted(
                c for (ff, s, c), col in m.z.items() if ff == f and s == si and x[col] > 0.5
            )
            for k, sid in enumerate(cases):
                members = [i for i in pool.cases[sid] if i in chosen]
                sec_id = section["id"] if len(cases) == 1 else f"{section['id']}-{k + 1}"
                out.append(
                    FormSection(sec_id, section["title"], members, sid, section.get("time_minutes"))
                )
        forms.append(AssembledForm(out))
    return forms


def _overlap_violations(
    blueprint: Mapping[str, Any], pool: Pool, forms: list[AssembledForm]
) -> list[tuple[int, int]]:
    case_items = {i for members in pool.cases.values() for i in members}
    limit = blueprint.get("max_overlap")
    max_cases = int(blueprint.get("max_shared_cases", 0))
    bad = []
    for (a, fa), (b, fb) in itertools.combinations(enumerate(forms), 2):
        shared = (set(fa.items) & set(fb.items)) - case_items
        cases = set(fa.stimuli) & set(fb.stimuli)
        if (limit is not None and len(shared) > limit) or len(cases) > max_cases:
            bad.append((a, b))
    return bad


#: Above this many overlap variables, overlap constraints are added only for pairs of forms
#: that break them (lazily), which keeps large pools fast.
EAGER_OVERLAP_LIMIT = 60_000


def assemble(
    blueprint: Mapping[str, Any],
    pool: Pool,
    n_forms: int,
    seed: int,
    time_limit: float = 60.0,
    progress: Progress | None = None,
) -> Assembly:
    """Build n_forms parallel forms; raise AssemblyError naming the conflicts if impossible."""
    say = progress or (lambda _msg: None)
    if n_forms < 1:
        raise AssemblyError("Ask for at least one form.")
    cap = blueprint.get("exposure_cap")
    cap_left = {
        i: max(0, int(cap) - c.exposure) if cap is not None else n_forms
        for i, c in pool.items.items()
    }
    say(f"pool: {len(pool.items)} approved item(s), {len(pool.cases)} case(s)")
    conflicts = supply_conflicts(blueprint, pool, n_forms, cap_left)
    if conflicts:
        raise AssemblyError(
            f"The blueprint {blueprint['id']} cannot be met for {n_forms} form(s): the bank "
            "lacks what these constraints need:",
            conflicts + pool.notes,
        )
    n_general = sum(1 for c in pool.items.values() if c.stimulus is None)
    pairs_all = n_forms * (n_forms - 1) // 2
    eager = pairs_all * n_general <= EAGER_OVERLAP_LIMIT
    pairs: list[tuple[int, int]] | None = None if eager else []
    started = time.perf_counter()
    rounds = 0
    while True:
        rounds += 1
        model = _build(blueprint, pool, n_forms, seed, frozenset(), pairs)
        say(
            f"solving: {model.n_vars} variables, {len(model.rows)} constraints "
            f"(time limit {time_limit:g}s)"
        )
        remaining = max(1.0, time_limit - (time.perf_counter() - started))
        result, _ = _solve(model, remaining)
        if not _feasible(result):
            timed_out = result is not None and result.status == 1
            if timed_out:
                raise AssemblyError(
                    f"The solver found no set of {n_forms} form(s) within {time_limit:g}s. "
                    "Allow more time (--time-limit) or ask for fewer forms."
                )
            say("infeasible: relaxing constraint families to find the conflict")
            raise AssemblyError(
                f"The blueprint {blueprint['id']} cannot be met for {n_forms} form(s): "
                "these constraints conflict:",
                diagnose(blueprint, pool, n_forms, seed, min(10.0, time_limit)) + pool.notes,
            )
        forms = _forms_from(blueprint, pool, model, result.x, n_forms, seed)
        bad = _overlap_violations(blueprint, pool, forms)
        if not bad or pairs is None:
            break
        say(f"adding overlap constraints for {len(bad)} pair(s) of forms")
        pairs = sorted(set(pairs) | set(bad))
    total_seconds = time.perf_counter() - started
    import scipy

    diffs = [float(np.mean([pool.items[i].difficulty for i in f.items])) for f in forms]
    say(f"solved in {total_seconds:.2f}s: mean difficulty " + ", ".join(f"{d:.3f}" for d in diffs))
    status = "optimal" if result.status == 0 else "feasible (time limit reached)"
    return Assembly(
        forms,
        {
            "name": "HiGHS via scipy.optimize.milp",
            "version": scipy.__version__,
            "status": status,
            "objective": round(float(result.fun), 9),
            "seconds": round(total_seconds, 3),
            "rounds": rounds,
        },
        diffs,
        pool.notes,
    )


def diagnose(
    blueprint: Mapping[str, Any], pool: Pool, n_forms: int, seed: int, time_limit: float = 10.0
) -> list[str]:
    """Which constraint families conflict: those whose removal (alone, else in pairs) lets the
    programme be solved."""
    present = [f for f in FAMILIES if _has_family(blueprint, f, n_forms)]

    def solvable(drop: Iterable[str]) -> bool:
        model = _build(blueprint, pool, n_forms, seed, frozenset(drop), None)
        result, _ = _solve(model, time_limit)
        return _feasible(result)

    if not solvable(present):
        return [
            "even without standards, formats, enemies, overlap, exposure, difficulty and "
            "include, the sections cannot be filled: the bank lacks approved items or cases "
            "for the section lengths"
        ]
    singles = [f for f in present if solvable([f])]
    if singles:
        return [
            f"{_describe(blueprint, f)} conflicts with the rest: without it the forms can be built"
            for f in singles
        ]
    for a, b in itertools.combinations(present, 2):
        if solvable([a, b]):
            return [
                f"{_describe(blueprint, a)} and {_describe(blueprint, b)} together conflict "
                "with the rest: relaxing both lets the forms be built"
            ]
    return ["several constraint families conflict at once; relax the blueprint step by step"]


def _has_family(blueprint: Mapping[str, Any], family: str, n: int) -> bool:
    return {
        "standards": bool(blueprint.get("standards")),
        "formats": bool(blueprint.get("formats")),
        "enemies": True,
        "overlap": n > 1,
        "exposure": blueprint.get("exposure_cap") is not None,
        "difficulty": bool(blueprint.get("difficulty")),
        "include": bool(blueprint.get("include")),
    }[family]


def _describe(blueprint: Mapping[str, Any], family: str) -> str:
    if family == "overlap":
        return (
            f"the overlap limit (at most {blueprint.get('max_overlap')} shared items outside "
            f"cases and {blueprint.get('max_shared_cases', 0)} shared case(s) per pair of forms)"
        )
    if family == "exposure":
        return f"the exposure cap ({blueprint.get('exposure_cap')} forms per item)"
    if family == "difficulty":
        d = blueprint["difficulty"]
        return f"the difficulty window ({d['target']} +- {d['tolerance']})"
    if family == "enemies":
        return "the enemy rule (enemies never on the same form)"
    if family == "include":
        return f"the include list ({', '.join(blueprint.get('include', []))})"
    return f"the per-{family[:-1]} bounds"


def exposure_counts(manifests: Iterable[Mapping[str, Any]]) -> Counter[str]:
    """How many committed forms carry each item."""
    counts: Counter[str] = Counter()
    for manifest in manifests:
        counts.update({i["id"] for s in manifest.get("sections", []) for i in s.get("items", [])})
    return counts


__all__ = [
    "AssembledForm",
    "Assembly",
    "AssemblyError",
    "Pool",
    "assemble",
    "build_pool",
    "diagnose",
    "difficulty_values",
    "exposure_counts",
    "supply_conflicts",
]
