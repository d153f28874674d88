"""The mixed-integer programme behind form assembly: its columns, the seeded random tie-break
costs and one step per constraint family; `itembank.forms.assembly` solves it and reads the forms
back, and `itembank.forms.parity` adds the objective (the largest deviation of any form).

A form may be limited to a candidate set of items and cases (`candidates`): the decomposition
for many forms from a large pool, where each form chooses among its own few hundred items rather
than the whole pool, so the programme's size does not grow with the pool.

Column and row order decide the solver's path, so `build_programme` runs its steps in a fixed
order and the same pool, blueprint and seed give the same programme, hence the same forms.

Pure: no solver here, only the numbers handed to it.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from itembank.forms.pool import Pool, is_eligible, items_per_case, usable_cases

#: Families of constraints that can be relaxed to find which ones conflict.
FAMILIES = ("standards", "formats", "enemies", "overlap", "exposure", "difficulty", "include")


@dataclass(frozen=True)
class Candidates:
    """What one form may take: its candidate items and cases (the decomposition)."""

    items: frozenset[str]
    cases: frozenset[str]


@dataclass
class Programme:
    """The programme being built: columns (cost, bound, integrality), rows (coefficients, low,
    high), which column selects what, and the per-section eligibility every step shares."""

    sections: list[Mapping[str, Any]]
    eligible: dict[int, list[str]]  # section index -> items that may fill it
    cases_of: dict[int, dict[str, list[str]]]  # applied section index -> usable cases
    length: int  # items on a form
    n_vars: int = 0
    cost: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    integer: list[int] = field(default_factory=list)
    rows: list[tuple[dict[int, float], float, float]] = field(default_factory=list)
    x: dict[tuple[int, int, str], int] = field(default_factory=dict)  # (form, section, item)
    z: dict[tuple[int, int, str], int] = field(default_factory=dict)  # (form, section, case)
    tie_weight: float = 1.0  # scales the random tie-break and overlap costs
    item_cols: list[dict[str, dict[int, float]]] = field(default_factory=list)  # per form
    case_cols: list[dict[str, dict[int, float]]] = field(default_factory=list)  # per form

    def var(self, cost: float = 0.0, upper: float = 1.0, integer: bool = True) -> int:
        self.cost.append(cost)
        self.upper.append(upper)
        self.lower.append(0.0)
        self.integer.append(1 if integer else 0)
        self.n_vars += 1
        return self.n_vars - 1

    def row(self, coefs: Mapping[int, float], low: float, high: float) -> None:
        if coefs:
            self.rows.append((dict(coefs), low, high))

    def impossible(self) -> None:
        """A row nothing can meet: a demand with no column to fill it (the solve step then reports
        the programme infeasible without calling the solver)."""
        self.rows.append(({}, 1, 0))

    def on(self, f: int, ident: str) -> dict[int, float]:
        """The columns that put an item on form f (one per section it may fill)."""
        return dict(self.item_cols[f].get(ident, {}))

    def case_on(self, f: int, sid: str) -> dict[int, float]:
        """The columns that put a case on form f."""
        return dict(self.case_cols[f].get(sid, {}))


#: Tie-break weights (times the programme's tie weight): the random part is in [0, 1) per item
#: and case; sharing items or cases between forms costs more, so among forms of equal parity the
#: solver spreads content when the pool allows.
OVERLAP_COST = 0.5
SHARED_CASE_COST = 4.0


def seeded_rng(seed: int, salt: str) -> np.random.Generator:
    """A generator fixed by the seed and a salt, so each use (objective, a section's order) has
    its own stream and adding one does not shift the others."""
    digest = hashlib.sha256(f"{seed}:{salt}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def build_programme(
    blueprint: Mapping[str, Any],
    pool: Pool,
    n: int,
    seed: int,
    drop: frozenset[str],
    overlap_pairs: Iterable[tuple[int, int]] | None,
    candidates: Sequence[Candidates] | None = None,
    tie_weight: float = 1.0,
) -> Programme:
    """The programme for n forms, step by step; `drop` names families left out (to find which
    conflict); `overlap_pairs` None means every pair of forms; `candidates` (one per form)
    limits what each form may take; `tie_weight` scales the seeded random costs."""
    m = _variables(blueprint, pool, n, candidates)
    m.tie_weight = tie_weight
    _random_objective(m, seed, str(blueprint["id"]))
    # sorted: a set's order changes from process to process (string hashing is seeded), and
    # the rows must come in the same order every time for the same forms
    include = sorted(set(blueprint.get("include", []))) if "include" not in drop else []
    for f in range(n):
        _section_lengths(m, f)
        _at_most_once(m, f, pool)
        if "standards" not in drop:
            _standard_bounds(m, f, blueprint, pool)
        if "formats" not in drop:
            _format_bounds(m, f, blueprint, pool)
        if "enemies" not in drop:
            _enemies_apart(m, f, pool)
        if "difficulty" not in drop:
            _difficulty_window(m, f, blueprint, pool)
        _included(m, f, pool, include)
    if "exposure" not in drop:
        _exposure_cap(m, blueprint, pool, n)
    if "overlap" not in drop and n > 1:
        _overlap_limits(m, blueprint, pool, n, overlap_pairs)
    return m


def _variables(
    blueprint: Mapping[str, Any], pool: Pool, n: int, candidates: Sequence[Candidates] | None
) -> Programme:
    """One binary column per form, section and eligible item, and per form, applied section and
    usable case (within the form's candidates, if any); form by form, section by section."""
    sections = list(blueprint["sections"])
    eligible: dict[int, list[str]] = {}
    cases_of: dict[int, dict[str, list[str]]] = {}
    for si, section in enumerate(sections):
        if section["section"] == "general":
            eligible[si] = [i for i, c in pool.items.items() if is_eligible(section, c)]
        else:
            cases_of[si], _ = usable_cases(section, pool)
            eligible[si] = [i for members in cases_of[si].values() for i in members]
    m = Programme(sections, eligible, cases_of, sum(int(s["items"]) for s in sections))
    for f in range(n):
        allowed = candidates[f] if candidates is not None else None
        items: dict[str, dict[int, float]] = {}
        cases: dict[str, dict[int, float]] = {}
        for si in range(len(sections)):
            for i in eligible[si]:
                if allowed is None or i in allowed.items:
                    m.x[(f, si, i)] = col = m.var()
                    items.setdefault(i, {})[col] = 1.0
            for c in cases_of.get(si, {}):
                if allowed is None or c in allowed.cases:
                    m.z[(f, si, c)] = col = m.var()
                    cases.setdefault(c, {})[col] = 1.0
        m.item_cols.append(items)
        m.case_cols.append(cases)
    return m


def _random_objective(m: Programme, seed: int, salt: str) -> None:
    """A seeded random weight in [0, 1) on every item and case column, drawn in column order:
    different seeds give different forms, the same seed the same forms. (The overlap step's
    columns carry their own fixed costs.)"""
    rng = seeded_rng(seed, salt)
    for col in sorted([*m.x.values(), *m.z.values()]):
        m.cost[col] = m.tie_weight * float(rng.random())


def _section_lengths(m: Programme, f: int) -> None:
    """Each section gets exactly its number of items; an applied section exactly its number of
    cases, and a case on the form brings exactly its share of the items (none when it is off)."""
    for si, section in enumerate(m.sections):
        cols = {m.x[k]: 1.0 for i in m.eligible[si] if (k := (f, si, i)) in m.x}
        if cols:
            m.row(cols, section["items"], section["items"])
        else:
            m.impossible()
        if section["section"] == "applied":
            per_case = items_per_case(section)
            zs = {m.z[k]: 1.0 for c in m.cases_of[si] if (k := (f, si, c)) in m.z}
            need = int(section.get("stimuli", 1))
            if zs:
                m.row(zs, need, need)
            else:
                m.impossible()
            for c, members in m.cases_of[si].items():
                if (f, si, c) not in m.z:
                    for i in members:  # a case that is not a candidate brings none of its items
                        if (f, si, i) in m.x:
                            m.upper[m.x[(f, si, i)]] = 0.0
                    continue
                coefs = {m.x[k]: 1.0 for i in members if (k := (f, si, i)) in m.x}
                coefs[m.z[(f, si, c)]] = -float(per_case)
                m.row(coefs, 0, 0)


def _at_most_once(m: Programme, f: int, pool: Pool) -> None:
    """An item or case that several sections may take goes on the form once at most."""
    for cols in m.item_cols[f].values():
        if len(cols) > 1:
            m.row(cols, 0, 1)
    for cols in m.case_cols[f].values():
        if len(cols) > 1:
            m.row(cols, 0, 1)


def _standard_bounds(m: Programme, f: int, blueprint: Mapping[str, Any], pool: Pool) -> None:
    """Per-standard min and max of items on the form (counted by `counted_standards`)."""
    for bound in blueprint.get("standards", []):
        ref = (bound["framework"], bound["statement"])
        cols = {
            col: 1.0
            for i, on in m.item_cols[f].items()
            if ref in pool.items[i].standards
            for col in on
        }
        high = float(bound.get("max", m.length))
        if cols:
            m.row(cols, float(bound["min"]), high)
        elif bound["min"] > 0:
            m.impossible()


def _format_bounds(m: Programme, f: int, blueprint: Mapping[str, Any], pool: Pool) -> None:
    """Per-format min and max of items on the form."""
    for bound in blueprint.get("formats", []):
        cols = {
            col: 1.0
            for i, on in m.item_cols[f].items()
            if pool.items[i].format == bound["format"]
            for col in on
        }
        if cols:
            m.row(cols, float(bound["min"]), float(bound.get("max", m.length)))
        elif bound["min"] > 0:
            m.impossible()


def _enemies_apart(m: Programme, f: int, pool: Pool) -> None:
    """Two enemies never share the form (one row per pair)."""
    on = m.item_cols[f]
    for ident in on:
        for other in pool.items[ident].enemies:
            if other in on and ident < other:
                m.row({**on[ident], **on[other]}, 0, 1)


def _difficulty_window(m: Programme, f: int, blueprint: Mapping[str, Any], pool: Pool) -> None:
    """The form's mean difficulty within target +- tolerance (as a sum, so the row is linear)."""
    difficulty = blueprint.get("difficulty")
    if not difficulty:
        return
    target, tol = float(difficulty["target"]), float(difficulty["tolerance"])
    coefs = {
        m.x[k]: pool.items[i].difficulty - target
        for si in range(len(m.sections))
        for i in m.eligible[si]
        if (k := (f, si, i)) in m.x
    }
    slack = tol * m.length - 1e-9
    m.row(coefs, -slack, slack)


def _included(m: Programme, f: int, pool: Pool, include: Iterable[str]) -> None:
    """Every item and case the blueprint includes is on the form."""
    for ident in include:
        cols = m.on(f, ident) if ident in pool.items else m.case_on(f, ident)
        if ident not in pool.items and ident not in pool.cases:
            continue
        if cols:
            m.row(cols, 1, 1)
        else:
            m.impossible()


def _exposure_cap(m: Programme, blueprint: Mapping[str, Any], pool: Pool, n: int) -> None:
    """Across the new forms, an item goes on no more forms than the cap leaves it after the
    committed forms."""
    cap = blueprint.get("exposure_cap")
    if cap is None:
        return
    for ident, cand in pool.items.items():
        cols = {col: 1.0 for f in range(n) for col in m.on(f, ident)}
        left = max(0, int(cap) - cand.exposure)
        if left < n:
            m.row(cols, 0, left)


def _overlap_limits(
    m: Programme,
    blueprint: Mapping[str, Any],
    pool: Pool,
    n: int,
    overlap_pairs: Iterable[tuple[int, int]] | None,
) -> None:
    """For each pair of forms: at most `max_overlap` shared items outside cases and
    `max_shared_cases` shared cases, each share counted by a costed column (y, w) that the row
    forces to 1 when both forms carry it."""
    pairs = (
        list(itertools.combinations(range(n), 2)) if overlap_pairs is None else list(overlap_pairs)
    )
    case_items = {i for members in pool.cases.values() for i in members}
    max_overlap = blueprint.get("max_overlap")
    max_cases = int(blueprint.get("max_shared_cases", 0))
    for f, g in pairs:
        if max_overlap is not None:
            ys: dict[int, float] = {}
            both = sorted((m.item_cols[f].keys() & m.item_cols[g].keys()) - case_items)
            for ident in both:
                a, b = m.on(f, ident), m.on(g, ident)
                y = m.var(m.tie_weight * OVERLAP_COST, 1.0, integer=False)
                m.row({**a, **b, y: -1.0}, -np.inf, 1)
                ys[y] = 1.0
            m.row(ys, 0, float(max_overlap))
        ws: dict[int, float] = {}
        for sid in sorted(m.case_cols[f].keys() & m.case_cols[g].keys()):
            a, b = m.case_on(f, sid), m.case_on(g, sid)
            if max_cases == 0:
                m.row({**a, **b}, 0, 1)
                continue
            w = m.var(m.tie_weight * SHARED_CASE_COST, 1.0, integer=False)
            m.row({**a, **b, w: -1.0}, -np.inf, 1)
            ws[w] = 1.0
        if ws:
            m.row(ws, 0, float(max_cases))


def add_overlap_rows(
    m: Programme,
    blueprint: Mapping[str, Any],
    pool: Pool,
    n: int,
    pairs: Iterable[tuple[int, int]],
) -> None:
    """Append the overlap columns and rows of these pairs of forms to a built programme (the
    lazy path: only pairs found breaking the limits, added to the loaded model)."""
    _overlap_limits(m, blueprint, pool, n, list(pairs))


__all__ = [
    "FAMILIES",
    "OVERLAP_COST",
    "SHARED_CASE_COST",
    "Candidates",
    "Programme",
    "add_overlap_rows",
    "build_programme",
    "seeded_rng",
]
