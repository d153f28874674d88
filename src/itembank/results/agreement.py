"""How far two assessors agree on each simulated-practice criterion: exact and within-one-band
agreement, Cohen's weighted kappa (linear and quadratic weights) and the intraclass
correlation ICC(2,1), with how many candidates need a third mark.

Pure. Definitions, so that the figures can be checked by hand:
- weighted kappa (Cohen 1968): 1 - sum(w * observed) / sum(w * expected), with disagreement
  weights over the positions i, j of the criterion's bands (k bands): linear |i - j| / (k - 1)
  (Cicchetti-Allison), quadratic ((i - j) / (k - 1))^2; expected from the two assessors'
  margins. Every band of the scheme is a category, used or not.
- ICC(2,1) (Shrout & Fleiss 1979, case 2; McGraw & Wong 1996 "ICC(A,1)"): two-way random
  effects, absolute agreement, single rater: (BMS - EMS) / (BMS + (k-1) EMS + k (JMS - EMS) / n)
  from the two-way ANOVA of candidates by assessors (first and second mark as the two
  "judges"). icc() also gives ICC(1,1) and ICC(3,1) so the formulas can be checked against
  the published table.
Each is None where it is undefined (fewer than two candidates, or no variation at all).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from itembank.results.practice import MarkRow, Schemes, group_marks

Weights = Literal["none", "linear", "quadratic"]


def weighted_kappa(
    pairs: Sequence[tuple[int, int]], categories: Sequence[int], weights: Weights = "linear"
) -> float | None:
    """Cohen's kappa of two raters' (first, second) categories; None when undefined."""
    k = len(categories)
    index = {c: i for i, c in enumerate(categories)}
    table = np.zeros((k, k), dtype=np.float64)
    for a, b in pairs:
        table[index[a], index[b]] += 1
    n = table.sum()
    if n == 0 or k < 2:
        return None
    i, j = np.indices((k, k))
    if weights == "none":
        w = (i != j).astype(np.float64)
    elif weights == "linear":
        w = np.abs(i - j) / (k - 1)
    else:
        w = ((i - j) / (k - 1)) ** 2
    observed = float((w * table).sum() / n)
    expected = float((w * np.outer(table.sum(axis=1), table.sum(axis=0))).sum() / n**2)
    if expected == 0:
        return None  # both assessors used one and the same band throughout
    return 1.0 - observed / expected


@dataclass(frozen=True)
class Icc:
    """Single-rater intraclass correlations of n targets rated by k judges."""

    icc1: float | None  # one-way random: ICC(1,1)
    icc2: float | None  # two-way random, absolute agreement: ICC(2,1)
    icc3: float | None  # two-way mixed, consistency: ICC(3,1)


def icc(ratings: NDArray[np.float64]) -> Icc:
    """Shrout & Fleiss's ICC(1,1), ICC(2,1) and ICC(3,1) of an n x k table (no missing)."""
    x = np.asarray(ratings, dtype=np.float64)
    n, k = x.shape
    if n < 2 or k < 2:
        return Icc(None, None, None)
    grand = x.mean()
    ss_rows = k * float(((x.mean(axis=1) - grand) ** 2).sum())
    ss_cols = n * float(((x.mean(axis=0) - grand) ** 2).sum())
    ss_total = float(((x - grand) ** 2).sum())
    bms = ss_rows / (n - 1)
    jms = ss_cols / (k - 1)
    ems = (ss_total - ss_rows - ss_cols) / ((n - 1) * (k - 1))
    wms = (ss_total - ss_rows) / (n * (k - 1))

    def ratio(num: float, den: float) -> float | None:
        return None if abs(den) < 1e-12 else num / den

    return Icc(
        ratio(bms - wms, bms + (k - 1) * wms),
        ratio(bms - ems, bms + (k - 1) * ems + k * (jms - ems) / n),
        ratio(bms - ems, bms + (k - 1) * ems),
    )


@dataclass(frozen=True)
class CriterionAgreement:
    """The first two assessors' agreement on one criterion, across the candidates they both
    marked; `third_needed`: candidates whose two bands differ by more than the tolerance."""

    scenario: str
    criterion: str
    title: str
    n: int  # candidates with two marks
    exact: float | None  # share with the same band
    within_one: float | None  # share at most one band apart
    kappa_linear: float | None
    kappa_quadratic: float | None
    icc: float | None  # ICC(2,1)
    third_needed: int
    third_missing: int  # of those, with no third mark yet
    single: int  # candidates with one mark only (a second mark is missing)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def agreement(
    rows: Sequence[MarkRow], schemes: Schemes, tolerance: int
) -> list[CriterionAgreement]:
    """Agreement per criterion that has marks, in scenario order then marking-scheme order."""
    grouped = group_marks(rows)
    out = []
    for scenario in sorted(schemes):
        for criterion, spec in schemes[scenario].items():
            marks = grouped.get((scenario, criterion))
            if not marks:
                continue
            pairs = [(m[0][1], m[1][1]) for m in marks.values() if len(m) >= 2]
            needed = [
                m for m in marks.values() if len(m) >= 2 and abs(m[0][1] - m[1][1]) > tolerance
            ]
            n = len(pairs)
            diffs = np.array([abs(a - b) for a, b in pairs], dtype=np.float64)
            categories = list(spec.bands)
            out.append(
                CriterionAgreement(
                    scenario,
                    criterion,
                    spec.title,
                    n,
                    float((diffs == 0).mean()) if n else None,
                    float((diffs <= 1).mean()) if n else None,
                    weighted_kappa(pairs, categories, "linear"),
                    weighted_kappa(pairs, categories, "quadratic"),
                    icc(np.array(pairs, dtype=np.float64)).icc2 if n else None,
                    len(needed),
                    sum(1 for m in needed if len(m) < 3),
                    sum(1 for m in marks.values() if len(m) == 1),
                )
            )
    return out


__all__ = ["CriterionAgreement", "Icc", "agreement", "icc", "weighted_kappa"]
