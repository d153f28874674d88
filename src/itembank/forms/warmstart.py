"""A feasible start for form assembly, found in milliseconds, and the candidate sets that let
many forms be assembled from a large pool without a programme the size of the pool.

`construct` builds the forms one after another by a seeded randomised greedy rule that keeps
every blueprint constraint (section lengths, whole cases, per-standard and per-format bounds,
enemies, the include list, exposure across the new forms, the overlap limits with the forms
already built) and then swaps items to bring each form's mean difficulty to the target. The
solver takes it as its first incumbent: from then on it only has to improve parity, never to
search for feasibility. When the rule gets stuck it gives up (returns None) and the solver
starts cold: the greedy rule is a shortcut, never a judge of feasibility.

`candidate_sets` is the decomposition: each form may choose among its greedy items plus a
seeded random share of the rest of the pool, dealt so that forms share as little as possible.

Pure: a pool in, lists of item ids out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from itembank.forms.pool import Pool, is_eligible, items_per_case, usable_cases
from itembank.forms.programme import Candidates, seeded_rng


@dataclass
class StartForm:
    """One greedily built form: its items per section index and its cases per section index."""

    items: dict[int, list[str]] = field(default_factory=dict)
    cases: dict[int, list[str]] = field(default_factory=dict)

    @property
    def all_items(self) -> list[str]:
        return [i for si in sorted(self.items) for i in self.items[si]]


#: how many of the best-scoring items the swap step tries, per item it could swap out, before it
#: gives up on that item
SWAP_CANDIDATES = 200


class _Stuck(Exception):
    """The greedy rule cannot place what the blueprint asks (the solver will start cold)."""


@dataclass
class _State:
    """What the forms built so far use: exposure left, and each form's items and cases."""

    cap_left: dict[str, int]
    forms: list[StartForm] = field(default_factory=list)
    uses: Counter[str] = field(default_factory=Counter)
    case_uses: Counter[str] = field(default_factory=Counter)


def construct(
    blueprint: Mapping[str, Any],
    pool: Pool,
    n: int,
    seed: int,
    cap_left: Mapping[str, int],
    target: float | None,
    goal: float,
    measures: Sequence[tuple[Mapping[str, float], float | None]] = (),
) -> list[StartForm] | None:
    """n forms meeting every constraint, each form's mean difficulty (and each further measure:
    per-item values and a target, None for the pool's mean) within `goal` of its target where
    swaps can get it there (the blueprint's target, else the pool's mean); None if stuck."""
    state = _State(dict(cap_left))
    ids = list(pool.items)
    columns = [[pool.items[i].difficulty for i in ids]] + [[v[i] for i in ids] for v, _ in measures]
    targets = [target] + [t for _, t in measures]
    matrix = np.array(columns, dtype=np.float64).T  # items x measures
    goals = np.array(
        [float(np.mean(matrix[:, k])) if t is None else float(t) for k, t in enumerate(targets)]
    )
    values = {i: matrix[k] for k, i in enumerate(ids)}
    for f in range(n):
        rng = seeded_rng(seed, f"start:{f}")
        try:
            form = _Builder(blueprint, pool, state, rng).build(values, goals, goal)
        except _Stuck:
            return None
        state.forms.append(form)
        for cases in form.cases.values():
            state.case_uses.update(cases)
        state.uses.update(form.all_items)
    return state.forms


class _Builder:
    """Builds one form against the forms already built."""

    def __init__(
        self, blueprint: Mapping[str, Any], pool: Pool, state: _State, rng: np.random.Generator
    ) -> None:
        self.bp, self.pool, self.state, self.rng = blueprint, pool, state, rng
        self.sections = list(blueprint["sections"])
        self.length = sum(int(s["items"]) for s in self.sections)
        self.case_items = {i for members in pool.cases.values() for i in members}
        self.form = StartForm({si: [] for si in range(len(self.sections))}, {})
        self.on: set[str] = set()
        self.std: Counter[tuple[str, str]] = Counter()
        self.fmt: Counter[str] = Counter()
        self.max_overlap = blueprint.get("max_overlap")
        self.max_cases = int(blueprint.get("max_shared_cases", 0))
        self.shared = [0] * len(state.forms)  # general items shared with each earlier form
        self.std_bounds = {
            (b["framework"], b["statement"]): (int(b["min"]), int(b.get("max", self.length)))
            for b in blueprint.get("standards", [])
        }
        self.fmt_bounds = {
            b["format"]: (int(b["min"]), int(b.get("max", self.length)))
            for b in blueprint.get("formats", [])
        }
        self.earlier = [set(f.all_items) for f in state.forms]

    # -- checks ------------------------------------------------------------------------------

    def _fits(self, ident: str) -> bool:
        """Whether the item can join the form: exposure, enemies, upper bounds, overlap."""
        c = self.pool.items[ident]
        if ident in self.on or self.state.cap_left.get(ident, 1) - self.state.uses[ident] < 1:
            return False
        if any(e in self.on for e in c.enemies):
            return False
        if any(
            s in self.std_bounds and self.std[s] + 1 > self.std_bounds[s][1] for s in c.standards
        ):
            return False
        if c.format in self.fmt_bounds and self.fmt[c.format] + 1 > self.fmt_bounds[c.format][1]:
            return False
        if self.max_overlap is not None and ident not in self.case_items:
            for g, items in enumerate(self.earlier):
                if ident in items and self.shared[g] + 1 > int(self.max_overlap):
                    return False
        return True

    def _add(self, si: int, ident: str) -> None:
        c = self.pool.items[ident]
        self.form.items[si].append(ident)
        self.on.add(ident)
        self.std.update(c.standards)
        self.fmt[c.format] += 1
        if ident not in self.case_items:
            for g, items in enumerate(self.earlier):
                if ident in items:
                    self.shared[g] += 1

    def _remove(self, si: int, ident: str) -> None:
        c = self.pool.items[ident]
        self.form.items[si].remove(ident)
        self.on.discard(ident)
        self.std.subtract(c.standards)
        self.fmt[c.format] -= 1
        if ident not in self.case_items:
            for g, items in enumerate(self.earlier):
                if ident in items:
                    self.shared[g] -= 1

    def _order(self, ids: Sequence[str]) -> list[str]:
        """Random order, least used first (spreads content over the pool)."""
        keys = self.rng.random(len(ids))
        return [
            i for _, _, i in sorted(zip((self.state.uses[i] for i in ids), keys, ids, strict=True))
        ]

    # -- building ----------------------------------------------------------------------------

    def build(
        self, values: Mapping[str, np.ndarray], targets: np.ndarray, goal: float
    ) -> StartForm:
        include = sorted(set(self.bp.get("include", [])))
        for si, section in enumerate(self.sections):
            if section["section"] != "general":
                self._cases(si, section, [i for i in include if i in self.pool.cases])
        general = [si for si, s in enumerate(self.sections) if s["section"] == "general"]
        for ident in include:
            if ident in self.pool.items and ident not in self.on:
                self._place(general, [ident], force=True)
        self._fill_minimums(general)
        for si in general:
            need = int(self.sections[si]["items"]) - len(self.form.items[si])
            ids = [i for i, c in self.pool.items.items() if is_eligible(self.sections[si], c)]
            for ident in self._order(ids):
                if need == 0:
                    break
                if self._fits(ident):
                    self._add(si, ident)
                    need -= 1
            if need:
                raise _Stuck
        if any(self.std[s] < lo for s, (lo, _) in self.std_bounds.items()):
            raise _Stuck
        if any(self.fmt[f] < lo for f, (lo, _) in self.fmt_bounds.items()):
            raise _Stuck
        self._tune(general, values, targets, goal, set(include))
        window = self.bp.get("difficulty")
        if window:
            mean = self._sum() / self.length
            if abs(mean - float(window["target"])) > float(window["tolerance"]) - 1e-9:
                raise _Stuck
        return self.form

    def _cases(self, si: int, section: Mapping[str, Any], include: list[str]) -> None:
        cases, _ = usable_cases(section, self.pool)
        per_case = items_per_case(section)
        need = int(section.get("stimuli", 1))
        earlier_cases = [{c for cs in f.cases.values() for c in cs} for f in self.state.forms]
        shared_cases = [0] * len(earlier_cases)
        chosen: list[str] = []
        order = [c for c in include if c in cases] + [
            c for c in self._order_cases(list(cases)) if c not in include
        ]
        for sid in order:
            if len(chosen) == need:
                break
            if sid in chosen or any(sid in cs for cs in self.form.cases.values()):
                continue
            hits = [g for g, cs in enumerate(earlier_cases) if sid in cs]
            if any(shared_cases[g] + 1 > self.max_cases for g in hits):
                continue
            members = [i for i in cases[sid] if self._fits(i)]
            if len(members) < per_case:
                continue
            picks = sorted(self.rng.permutation(len(members))[:per_case])
            for k in picks:
                self._add(si, members[k])
            for g in hits:
                shared_cases[g] += 1
            chosen.append(sid)
        if len(chosen) < need:
            raise _Stuck
        self.form.cases[si] = chosen

    def _order_cases(self, ids: list[str]) -> list[str]:
        keys = self.rng.random(len(ids))
        return [
            i
            for _, _, i in sorted(
                zip((self.state.case_uses[i] for i in ids), keys, ids, strict=True)
            )
        ]

    def _place(self, general: list[int], ids: list[str], force: bool = False) -> bool:
        """Put the first item of ids that fits into a general section with room."""
        for ident in ids:
            if not force and not self._fits(ident):
                continue
            for si in general:
                room = int(self.sections[si]["items"]) - len(self.form.items[si])
                if room > 0 and is_eligible(self.sections[si], self.pool.items[ident]):
                    if force and not self._fits(ident):
                        raise _Stuck
                    self._add(si, ident)
                    return True
        if force:
            raise _Stuck
        return False

    def _fill_minimums(self, general: list[int]) -> None:
        """Meet each standard's and format's minimum first, with items that fit."""
        for ref, (low, _) in self.std_bounds.items():
            ids = self._order([i for i, c in self.pool.items.items() if ref in c.standards])
            while self.std[ref] < low:
                if not self._place(general, ids):
                    raise _Stuck
        for fmt, (low, _) in self.fmt_bounds.items():
            ids = self._order([i for i, c in self.pool.items.items() if c.format == fmt])
            while self.fmt[fmt] < low:
                if not self._place(general, ids):
                    raise _Stuck

    def _sum(self) -> float:
        # over the lists, not the set: a set's order (hence the float sum's last bit) varies
        # from process to process, and the swaps must not
        return sum(self.pool.items[i].difficulty for i in self.form.all_items)

    def _tune(
        self,
        general: list[int],
        values: Mapping[str, np.ndarray],
        targets: np.ndarray,
        goal: float,
        fixed: set[str],
    ) -> None:
        """Swap one general item at a time for the one that brings the form closest to the
        targets over every measure (`_score`), keeping every bound, until within `goal` or no
        swap helps."""
        by_section = {}
        for si in general:
            ids = [i for i, c in self.pool.items.items() if is_eligible(self.sections[si], c)]
            # measures x items, each measure's row contiguous: reducing over 7 measures along
            # the short axis of an items x measures array was most of the greedy rule's time
            by_section[si] = (ids, np.ascontiguousarray(np.array([values[i] for i in ids]).T))
        want = targets * self.length
        for _ in range(4 * self.length):
            gap = want - sum((values[i] for i in self.form.all_items), np.zeros(len(targets)))
            if float(np.max(np.abs(gap))) <= goal * self.length:
                return
            worst = float(_score(gap[:, None])[0])
            best: tuple[float, int, str, str] | None = None
            for si in general:
                ids, matrix = by_section[si]
                for out in list(self.form.items[si]):
                    if out in fixed:
                        continue
                    scores = _score(gap[:, None] - (matrix - values[out][:, None]))
                    # best first, down to the first that keeps every bound: the few best by
                    # score often break a per-standard or per-format bound, so looking at only
                    # those left the rule stuck far from the target on the curves
                    for j in _best_first(scores, worst if best is None else min(worst, best[0])):
                        if self._swap_ok(si, out, ids[j]):
                            best = (float(scores[j]), si, out, ids[j])
                            break
            if best is None:
                return
            _, si, out, new_id = best
            self._remove(si, out)
            self._add(si, new_id)

    def _swap_ok(self, si: int, out: str, new: str) -> bool:
        """Whether `new` can replace `out` and every minimum still holds."""
        self._remove(si, out)
        ok = self._fits(new)
        if ok:
            c = self.pool.items[new]
            std = self.std + Counter(c.standards)
            fmt = self.fmt + Counter([c.format])
            ok = all(std[s] >= lo for s, (lo, _) in self.std_bounds.items()) and all(
                fmt[f] >= lo for f, (lo, _) in self.fmt_bounds.items()
            )
        self._add(si, out)
        return ok


def _best_first(scores: np.ndarray, below: float) -> list[int]:
    """The indices of at most SWAP_CANDIDATES scores under `below`, best first (ties by index),
    without sorting the whole pool's scores (a full sort per swapped-out item was most of the
    greedy rule's time on 5,000 items)."""
    idx = np.flatnonzero(scores < below - 1e-12)
    if len(idx) > SWAP_CANDIDATES:
        idx = idx[np.argpartition(scores[idx], SWAP_CANDIDATES - 1)[:SWAP_CANDIDATES]]
    order = np.lexsort((idx, scores[idx]))
    return [int(k) for k in idx[order]]


def _score(gaps: np.ndarray) -> np.ndarray:
    """How far each column of gaps (measures x candidates, in sums over the form) is from the
    targets: the largest squared plus the sum of squares. The largest alone leaves the swaps
    stuck on a plateau when several measures are matched (one swap cannot lower the largest
    without raising another); the sum of squares moves every measure towards its target."""
    a = np.abs(gaps)
    out: np.ndarray = np.max(a, axis=0) ** 2 + np.sum(a * a, axis=0)
    return out


def candidate_sets(
    pool: Pool, forms: Sequence[StartForm], seed: int, extra_items: int, extra_cases: int
) -> list[Candidates]:
    """Each form's greedy items and cases plus `extra_items` general items and `extra_cases`
    cases dealt round-robin from a seeded shuffle of the rest, so that forms share as little as
    the pool allows (items already on some start form stay with those forms)."""
    rng = seeded_rng(seed, "candidates")
    case_items = {i for members in pool.cases.values() for i in members}
    taken = {i for f in forms for i in f.all_items}
    spare = [i for i in pool.items if i not in taken and i not in case_items]
    spare = [spare[k] for k in rng.permutation(len(spare))]
    used_cases = {c for f in forms for cs in f.cases.values() for c in cs}
    spare_cases = [c for c in pool.cases if c not in used_cases]
    spare_cases = [spare_cases[k] for k in rng.permutation(len(spare_cases))]
    out = []
    n = len(forms)
    for f, form in enumerate(forms):
        items = set(form.all_items)
        cases = {c for cs in form.cases.values() for c in cs}
        if spare:
            items.update(spare[(f * extra_items + k) % len(spare)] for k in range(extra_items))
        if spare_cases:
            cases.update(
                spare_cases[(f * extra_cases + k) % len(spare_cases)]
                for k in range(min(extra_cases, max(1, len(spare_cases) // max(1, n))))
            )
        for c in cases:
            items.update(pool.cases[c])
        out.append(Candidates(frozenset(items), frozenset(cases)))
    return out


__all__ = ["StartForm", "candidate_sets", "construct"]
