"""Assembly of parallel test forms from a blueprint, as one mixed-integer programme: the entry
point (`assemble`), the solve, the forms read back from the solution, and the diagnosis.

All N forms are built at once (van der Linden's simultaneous formulation): every form meets the
section lengths, per-standard and per-format bounds and the difficulty window; enemies never
share a form; a case's items come all together or not at all; item exposure (across the forms
already committed plus these) and the overlap between any two new forms are capped. The
objective is parallelism: the largest deviation of any form from the target
(`itembank.forms.parity`); seeded random costs only break ties within a twentieth of the parity
tolerance, so different seeds give different, equally parallel forms, while the same pool,
blueprint and seed give the same forms.

Fast to a good answer: a seeded greedy construction (`itembank.forms.warmstart`) gives HiGHS a
feasible first incumbent; HiGHS stops once that incumbent (or a better one) has every form
within the tolerance of the target, or is proven within the tolerance of the best parity
(absolute gap), the time limit being only a safety net. With many forms from a large pool each
form chooses among its own candidate set (the decomposition), and overlap limits too many to
state up front are added, for the pairs found breaking them, to the loaded model. Before
solving, each constraint family's supply is checked against its demand; when the programme is
still infeasible, families are relaxed one (then two) at a time to name the ones that conflict.
The pool and its supply checks are in `itembank.forms.pool`; the programme itself (columns,
objective, one step per constraint family) is in `itembank.forms.programme`.

Overlap is counted explicitly in two parts: items outside cases that two forms share
(at most ``max_overlap``), and whole cases that two forms share (at most ``max_shared_cases``,
0 when the blueprint does not say; a shared case's items are counted there, not in
``max_overlap``).

Pure: records in, results out. The solver is HiGHS through highspy (`itembank.forms.solver`).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from itembank.forms.parity import TIE_SHARE, Cut, add_parity, parity_report, parity_spec
from itembank.forms.polish import polish
from itembank.forms.pool import AssemblyError, Pool, supply_conflicts
from itembank.forms.programme import (
    FAMILIES,
    OVERLAP_COST,
    SHARED_CASE_COST,
    Candidates,
    Programme,
    add_overlap_rows,
    build_programme,
    seeded_rng,
)
from itembank.forms.solver import Model, Outcome
from itembank.forms.solver import version as solver_version
from itembank.forms.warmstart import StartForm, candidate_sets, construct

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
    parity: dict[str, Any] = field(default_factory=dict)  # see parity.ParityReport
    start: list[list[str]] | None = None  # the greedy start's forms (None: none was found)

    def solver_for(self, k: int) -> dict[str, Any]:
        """The solver block of form k's manifest: how the forms were solved, how parallel they
        came out (the difficulty spread, this form's deviation from the target) and the proof
        (the lower bound on the best possible largest deviation)."""
        out = dict(self.solver)
        measures = self.parity.get("measures", {})
        if "difficulty" in measures:
            d = measures["difficulty"]
            out.update(target=d["target"], deviation=d["deviations"][k], spread=d["spread"])
        curves = {name: m["deviations"][k] for name, m in measures.items() if name != "difficulty"}
        if curves:
            out["curve_deviations"] = curves
            out.update(theta=self.parity["theta"], theta_from=self.parity["theta_from"])
        return out

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


def _solve(m: Programme, time_limit: float) -> Outcome:
    """A cold solve to feasibility (the diagnosis: is this programme solvable at all)."""
    return Model(m).solve(time_limit, 1.0, None)


def _forms_from(
    blueprint: Mapping[str, Any], pool: Pool, m: Programme, x: Any, n: int, seed: int
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


#: The solver's stopping reasons as the manifest records them.
STATUS = {
    "optimal": "optimal",
    "target": "within tolerance",
    "time_limit": "feasible (time limit reached)",
}
#: Forms x pool items above which each form chooses among its own candidate set (the
#: decomposition) rather than the whole pool: the programme then no longer grows with the pool.
FULL_MODEL_LIMIT = 5_000
#: Items each form may choose from beyond its greedy start, as a multiple of the form's length,
#: and extra cases per form, in the decomposition.
EXTRA_ITEMS_PER_SLOT = 5
EXTRA_CASES = 3
#: Above this many overlap variables, overlap constraints are added only for pairs of forms
#: that break them (rows added to the loaded model, not a rebuilt one).
EAGER_OVERLAP_LIMIT = 60_000


def assemble(
    blueprint: Mapping[str, Any],
    pool: Pool,
    n_forms: int,
    seed: int,
    time_limit: float = 60.0,
    progress: Progress | None = None,
    *,
    irt: Mapping[str, tuple[float, float]] | None = None,
    tolerance: float | None = None,
    decompose: bool | None = None,
    cut: Cut | None = None,
) -> Assembly:
    """Build n_forms forms as parallel as the bank allows (see itembank.forms.parity); raise
    AssemblyError naming the conflicts if the blueprint is impossible. `irt` (item -> 2PL a, d)
    adds the curves to what is matched, around the pass mark `cut` when the blueprint names no
    abilities; `tolerance` overrides the blueprint's parity tolerance; `decompose` forces (True)
    or forbids (False) the candidate-set decomposition."""
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
    spec = parity_spec(blueprint, pool, irt, tolerance, cut)
    for note in spec.notes:
        say(note)
    started = time.perf_counter()
    starts = construct(
        blueprint,
        pool,
        n_forms,
        seed,
        cap_left,
        spec.measures[0].target,
        spec.tolerance / 4,
        [(m.values, m.target) for m in spec.measures[1:]],
    )
    polished = 0
    weight = TIE_SHARE * spec.tolerance / _tie_budget(blueprint, n_forms)
    if starts is None:
        say("no greedy start (the greedy rule got stuck): the solver starts cold")
    else:
        first = parity_report(spec, [f.all_items for f in starts])
        say(f"greedy start: feasible, largest deviation {first.largest_deviation:.4f}")
        # only forms beyond the tolerance: the solver stops at once on a start within it
        starts, polished = polish(
            blueprint,
            pool,
            starts,
            spec,
            seed,
            spec.tolerance / 2,
            time_limit / 4,
            weight,
            spec.tolerance,
        )
        if polished:
            again = parity_report(spec, [f.all_items for f in starts])
            say(
                f"polished {polished} start form(s) one at a time: largest deviation "
                f"{again.largest_deviation:.4f}"
            )
    if decompose is None:
        decompose = n_forms * len(pool.items) > FULL_MODEL_LIMIT
    candidates = None
    if decompose and starts is not None:
        length = sum(int(s["items"]) for s in blueprint["sections"])
        candidates = candidate_sets(pool, starts, seed, EXTRA_ITEMS_PER_SLOT * length, EXTRA_CASES)
        say(f"decomposition: each form chooses among {len(candidates[0].items)} candidate item(s)")
    n_general = _overlap_columns(pool, n_forms, candidates)
    pairs: list[tuple[int, int]] | None = None if n_general <= EAGER_OVERLAP_LIMIT else []
    m = build_programme(blueprint, pool, n_forms, seed, frozenset(), pairs, candidates, weight)
    cols = add_parity(m, spec, n_forms)
    say(
        f"solving: {m.n_vars} variables, {len(m.rows)} constraints (parity tolerance "
        f"{spec.tolerance:g}, time limit {time_limit:g}s)"
    )
    model = Model(m, seed)
    start = _start_vector(m, starts) if starts is not None else None
    rounds = 0
    while True:
        rounds += 1
        remaining = time_limit - (time.perf_counter() - started)
        # stop once proven near the best, or once every form is within the tolerance of the
        # target (the best cannot be below 0, so that is within the tolerance of the best too)
        out = model.solve(remaining, (1 - TIE_SHARE) * spec.tolerance, start, spec.tolerance)
        if out.x is None:
            if out.status != "infeasible":
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
        forms = _forms_from(blueprint, pool, m, out.x, n_forms, seed)
        bad = _overlap_violations(blueprint, pool, forms)
        if not bad or pairs is None:
            break
        say(f"adding overlap constraints for {len(bad)} pair(s) of forms to the loaded model")
        pairs = sorted(set(pairs) | set(bad))
        add_overlap_rows(m, blueprint, pool, n_forms, bad)
        model.grow()
    total_seconds = time.perf_counter() - started
    report = parity_report(spec, [f.items for f in forms])
    diffs = list(report.measures["difficulty"]["means"])
    achieved = float(out.x[cols.t])
    # the tie-break costs are worth at most TIE_SHARE of the tolerance in any solution, so the
    # best parity is at least HiGHS's bound on the whole objective less that share; within
    # candidate sets the bound speaks only for them, and 0 is what holds for the whole pool
    bound = max(0.0, out.bound - TIE_SHARE * spec.tolerance) if candidates is None else 0.0
    say(
        f"solved in {total_seconds:.2f}s: mean difficulty "
        + ", ".join(f"{d:.3f}" for d in diffs)
        + f"; spread {report.measures['difficulty']['spread']:.4f}; largest deviation "
        f"{achieved:.4f}, the best possible is at least {bound:.4f}"
    )
    if out.status == "time_limit":
        say(
            f"time limit reached: these are the best forms found; they may be up to "
            f"{achieved - bound:.4f} less parallel than the best possible"
        )
    return Assembly(
        forms,
        {
            "name": "HiGHS via highspy",
            "version": solver_version(),
            "status": STATUS[out.status],
            "objective": round(achieved, 9),
            "parity_bound": round(bound, 9),
            "tolerance": spec.tolerance,
            "bound_scope": "whole pool" if candidates is None else "candidate sets",
            "start": (
                "none"
                if start is None
                else "greedy (taken)"
                if out.start_objective is not None
                else "greedy (not taken)"
            ),
            "start_polished": polished,
            "decomposition": (
                "none"
                if candidates is None
                else f"candidate sets of {len(candidates[0].items)} items per form"
            ),
            "seconds": round(total_seconds, 3),
            "rounds": rounds,
            "nodes": out.nodes,
        },
        diffs,
        list(pool.notes) + list(spec.notes),
        report.to_dict(),
        [f.all_items for f in starts] if starts is not None else None,
    )


def _overlap_columns(pool: Pool, n: int, candidates: Sequence[Candidates] | None) -> int:
    """How many overlap columns the programme would need for every pair of forms."""
    case_items = {i for members in pool.cases.values() for i in members}
    if candidates is None:
        general = sum(1 for i in pool.items if i not in case_items)
        return n * (n - 1) // 2 * general
    sets = [c.items - case_items for c in candidates]
    return sum(len(a & b) for a, b in itertools.combinations(sets, 2))


def _tie_budget(blueprint: Mapping[str, Any], n: int) -> float:
    """The most the unweighted tie-break costs can add up to in any solution: one per item and
    case on a form, and each pair's shared items and cases at their costs."""
    length = sum(int(s["items"]) for s in blueprint["sections"])
    cases = sum(
        int(s.get("stimuli", 1)) for s in blueprint["sections"] if s["section"] != "general"
    )
    pairs = n * (n - 1) // 2
    overlap = OVERLAP_COST * int(blueprint.get("max_overlap") or 0)
    shared = SHARED_CASE_COST * int(blueprint.get("max_shared_cases", 0))
    return max(1.0, n * (length + cases) + pairs * (overlap + shared))


def _start_vector(m: Programme, starts: Sequence[StartForm]) -> dict[int, float]:
    """The greedy forms as values of every item and case column (HiGHS fills in the rest)."""
    values = {col: 0.0 for col in (*m.x.values(), *m.z.values())}
    for f, form in enumerate(starts):
        for si, ids in form.items.items():
            for i in ids:
                values[m.x[(f, si, i)]] = 1.0
        for si, cases in form.cases.items():
            for c in cases:
                values[m.z[(f, si, c)]] = 1.0
    return values


def diagnose(
    blueprint: Mapping[str, Any], pool: Pool, n_forms: int, seed: int, time_limit: float = 10.0
) -> list[str]:
    """Which constraint families conflict: those whose removal (alone, else in pairs) lets the
    programme be solved."""
    present = [f for f in FAMILIES if _has_family(blueprint, f, n_forms)]

    def solvable(drop: Iterable[str]) -> bool:
        model = build_programme(blueprint, pool, n_forms, seed, frozenset(drop), None)
        return _solve(model, time_limit).x is not None

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
