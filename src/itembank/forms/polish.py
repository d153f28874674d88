"""Polishing the greedy start one form at a time, where the greedy swaps stall short of the
parity goal (typically when the curves are matched: seven measures at once, and single swaps
reach a local minimum).

Each form that is further than the goal from the targets is re-chosen by a small programme of
its own (HiGHS, the same constraint steps as the whole programme, for one form): it may keep its
own items and case and take any general item that no other start form carries. Whatever it picks
then shares no more with any other form than it did, and uses no item more often than the
exposure cap allows, so the forms together stay feasible while the one form moves to the target.
A form programme has a few hundred columns and is solved to the goal in a fraction of a second;
the whole programme (many forms, overlap columns, one free centre per measure) could spend
minutes at its root node on the same task.

Pure: a pool and start forms in, start forms out (HiGHS runs in this process).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from itembank.forms.parity import Measure, ParitySpec, add_parity
from itembank.forms.pool import Pool
from itembank.forms.programme import Candidates, build_programme, seeded_rng
from itembank.forms.solver import Model
from itembank.forms.warmstart import StartForm

#: the most seconds one form's programme may take
FORM_TIME_LIMIT = 3.0
#: free items (on no other form) one form's programme may choose from, per item on the form
FREE_PER_SLOT = 5


def goals(spec: ParitySpec) -> list[float]:
    """Each measure's target, the pool's mean for a measure without one (as the greedy rule)."""
    return [
        float(np.mean(list(m.values.values()))) if m.target is None else float(m.target)
        for m in spec.measures
    ]


def deviation(spec: ParitySpec, targets: Sequence[float], items: Sequence[str]) -> float:
    """The form's largest distance from the targets over every measure."""
    return max(
        abs(float(np.mean([m.values[i] for i in items])) - t)
        for m, t in zip(spec.measures, targets, strict=True)
    )


def polish(
    blueprint: Mapping[str, Any],
    pool: Pool,
    starts: list[StartForm],
    spec: ParitySpec,
    seed: int,
    goal: float,
    time_limit: float,
    tie_weight: float,
    beyond: float | None = None,
) -> tuple[list[StartForm], int]:
    """The start forms with each form further than `beyond` (default: `goal`) from the targets
    re-chosen by its own programme until within `goal` where it can be (worst first, while time
    is left); returns the forms and how many were re-chosen."""
    beyond = goal if beyond is None else beyond
    targets = goals(spec)
    fixed = replace(
        spec,
        measures=tuple(
            Measure(m.name, m.values, t) for m, t in zip(spec.measures, targets, strict=True)
        ),
    )
    case_items = {i for members in pool.cases.values() for i in members}
    m_length = sum(int(s["items"]) for s in blueprint["sections"])
    forms = list(starts)
    order = sorted(range(len(forms)), key=lambda f: -deviation(spec, targets, forms[f].all_items))
    began = time.perf_counter()
    changed = 0
    for f in order:
        before = deviation(spec, targets, forms[f].all_items)
        left = time_limit - (time.perf_counter() - began)
        if before <= beyond or left <= 0.2:
            continue
        others = {i for g, form in enumerate(forms) if g != f for i in form.all_items}
        own = set(forms[f].all_items)
        # a seeded share of the free items: the whole pool's worth of columns makes HiGHS's root
        # node (cuts) take seconds per form, a few items per slot reach the goal as surely
        spare = [i for i in pool.items if i not in others and i not in case_items]
        rng = seeded_rng(seed, f"polish:{f}")
        free = {spare[j] for j in rng.permutation(len(spare))[: FREE_PER_SLOT * m_length]}
        cases = frozenset(c for cs in forms[f].cases.values() for c in cs)
        allowed = own | free | {i for c in cases for i in pool.cases[c]}
        m = build_programme(
            blueprint,
            pool,
            1,
            seed,
            frozenset({"overlap"}),
            None,
            [Candidates(frozenset(allowed), cases)],
            tie_weight,
        )
        cols = add_parity(m, fixed, 1)
        start = {col: 0.0 for col in (*m.x.values(), *m.z.values())}
        for si, ids in forms[f].items.items():
            for i in ids:
                start[m.x[(0, si, i)]] = 1.0
        for si, cs in forms[f].cases.items():
            for c in cs:
                start[m.z[(0, si, c)]] = 1.0
        out = Model(m, seed).solve(min(FORM_TIME_LIMIT, left), goal / 4, start, goal)
        if out.x is None or float(out.x[cols.t]) >= before - 1e-12:
            continue
        items = {
            si: [i for i in m.eligible[si] if (0, si, i) in m.x and out.x[m.x[(0, si, i)]] > 0.5]
            for si in range(len(m.sections))
        }
        chosen = {
            si: [c for c in m.cases_of[si] if (0, si, c) in m.z and out.x[m.z[(0, si, c)]] > 0.5]
            for si in m.cases_of
        }
        forms[f] = StartForm(items, chosen)
        changed += 1
    return forms, changed


__all__ = ["FORM_TIME_LIMIT", "FREE_PER_SLOT", "deviation", "goals", "polish"]
