"""Assembly of parallel test forms from a blueprint, as one mixed-integer programme: the entry
point (`assemble`), the solve, the forms read back from the solution, and the diagnosis.

All N forms are built at once (van der Linden's simultaneous formulation): every form meets the
section lengths, per-standard and per-format bounds and the difficulty window; enemies never
share a form; a case's items come all together or not at all; item exposure (across the forms
already committed plus these) and the overlap between any two new forms are capped. A seeded
random objective makes different seeds give different forms, while the same pool, blueprint and
seed give the same forms. Before solving, each constraint family's supply is checked against
its demand; when the programme is still infeasible, families are relaxed one (then two) at a
time to name the ones that conflict. The pool and its supply checks are in
`itembank.forms.pool`; the programme itself (columns, objective, one step per constraint
family) is in `itembank.forms.programme`.

Overlap is counted explicitly in two parts: items outside cases that two forms share
(at most ``max_overlap``), and whole cases that two forms share (at most ``max_shared_cases``,
0 when the blueprint does not say; a shared case's items are counted there, not in
``max_overlap``).

Pure: records in, results out. The solver is HiGHS through scipy.optimize.milp.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from itembank.forms.pool import AssemblyError, Pool, supply_conflicts
from itembank.forms.programme import FAMILIES, Programme, build_programme, seeded_rng

Progress = Callable[[str], None]


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


# ---- solving and reading the forms back ---------------------------------------------------------


def _solve(m: Programme, time_limit: float) -> tuple[Any, float]:
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
    blueprint: Mapping[str, Any], pool: Pool, m: Programme, x: np.ndarray, n: int, seed: int
) -> list[AssembledForm]:
    sections = list(blueprint["sections"])
    forms = []
    for f in range(n):
        out: list[FormSection] = []
        for si, section in enumerate(sections):
            chosen = [i for (ff, s, i), col in m.x.items() if ff == f and s == si and x[col] > 0.5]
            if section["section"] == "general":
                order = seeded_rng(seed, f"order:{f}:{section['id']}").permutation(len(chosen))
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
        model = build_programme(blueprint, pool, n_forms, seed, frozenset(), pairs)
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
        model = build_programme(blueprint, pool, n_forms, seed, frozenset(drop), None)
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


__all__ = [
    "AssembledForm",
    "Assembly",
    "FormSection",
    "assemble",
    "diagnose",
]
