"""Observed against expected: the empirical proportions correct of one item by score group,
placed on the ability scale of a calibration, to overlay on that item's characteristic curve.

Why: a fitted ICC alone hides misfit; the psychometrician judges an item by how far the
observed proportions stray from the curve. Candidates are grouped by their number-correct
score on the calibrated items (the same 0/1 scoring the calibration used: full marks = 1), and
each group is placed at the ability whose expected number-correct score (the test
characteristic curve) equals the group's mean score: the usual observed-score plot, needing no
candidate's ability estimate. Pure: numbers in, numbers out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from itembank.results.analysis import group_weights
from itembank.results.irt import ItemParameters, test_characteristic_curve
from itembank.results.matrix import ScoredMatrix
from itembank.results.reliability import AnalysisInputError

#: the ability range searched when a group's mean score is turned into an ability
THETA_RANGE = (-4.0, 4.0)


@dataclass(frozen=True)
class EmpiricalPoint:
    """One score group: its size (ties shared, so it may be fractional), mean number-correct
    score on the calibrated items, the ability that score corresponds to, and the proportion
    of the group that earned full marks on the item."""

    size: float
    mean_score: float
    theta: float
    proportion: float


def empirical_icc(
    m: ScoredMatrix, params: Sequence[ItemParameters], item: str, groups: int = 10
) -> tuple[EmpiricalPoint, ...]:
    """The observed proportions correct of `item` in `groups` equal-sized score groups (lowest
    first), each at the ability where the calibration's test characteristic curve meets the
    group's mean score (clipped to THETA_RANGE)."""
    names = [p.item for p in params]
    if item not in names:
        raise AnalysisInputError(
            f"{item} is not among the calibrated items: an item left out of the calibration "
            "has no curve to compare with"
        )
    missing = [n for n in names if n not in m.items]
    if missing:
        raise AnalysisInputError(
            f"the calibration names items this administration does not have: {', '.join(missing)}"
        )
    if groups < 2 or groups > len(m.candidates):
        raise AnalysisInputError(
            f"{groups} score groups cannot be formed from {len(m.candidates)} candidates"
        )
    columns = [m.items.index(n) for n in names]
    binary = (m.scores[:, columns] >= m.max_scores[columns][None, :]).astype(np.float64)
    total = binary.sum(axis=1)
    weights = group_weights(total, tuple(g / groups for g in range(groups + 1)))
    sizes = weights.sum(axis=0)
    mean_score = (weights.T @ total) / sizes
    proportion = (weights.T @ binary[:, names.index(item)]) / sizes
    grid = np.linspace(*THETA_RANGE, 801)
    expected = test_characteristic_curve(list(params), grid)
    theta = np.interp(mean_score, expected, grid)  # expected rises with theta (slopes > 0)
    return tuple(
        EmpiricalPoint(float(s), float(x), float(t), float(p))
        for s, x, t, p in zip(sizes, mean_score, theta, proportion, strict=True)
    )


__all__ = ["THETA_RANGE", "EmpiricalPoint", "empirical_icc"]
