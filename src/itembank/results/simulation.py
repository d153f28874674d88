"""Simulated administrations: seeded 2PL responses with known parameters, optionally with
groups, uniform DIF planted on named items and a difference in mean ability between groups.

The tests, the benchmarks and the sample administration use them: a statistic that recovers the
parameters (calibration) or finds the planted DIF (screening) and nothing else is shown to work
on data whose truth is known. Pure: no files. Also reachable as `itembank.results.irt.simulate`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from itembank.results.matrix import ScoredMatrix


@dataclass(frozen=True)
class Simulation:
    """A simulated administration: the scored matrix, the generating abilities, each
    candidate's group (None without groups) and the generating parameters."""

    matrix: ScoredMatrix
    theta: NDArray[np.float64]
    groups: tuple[str, ...] | None
    a: NDArray[np.float64]
    d: NDArray[np.float64]


def simulate(
    a: ArrayLike,
    d: ArrayLike,
    n: int,
    seed: int,
    *,
    groups: Mapping[str, float] | None = None,
    dif: Mapping[str, float] | None = None,
    impact: Mapping[str, float] | None = None,
    items: Sequence[str] | None = None,
) -> Simulation:
    """Seeded 2PL responses of `n` candidates with theta ~ N(0, 1) (Rasch: pass equal slopes).

    `groups` maps a label to its share of candidates (shares are normalised; counts are rounded
    and candidates shuffled); the FIRST group is the reference group and every other group is
    focal. `dif` maps an item label to a shift of its intercept d for focal candidates (uniform
    DIF; negative makes the item harder for them). `impact` shifts a group's mean ability (a real
    difference in ability, which DIF screening must not flag). Same seed, same matrix."""
    slopes = np.asarray(a, dtype=np.float64).reshape(-1)
    intercepts = np.asarray(d, dtype=np.float64).reshape(-1)
    if slopes.shape != intercepts.shape:
        raise ValueError("a and d must have one entry per item")
    k = slopes.size
    labels = tuple(items) if items is not None else tuple(f"I{j + 1}" for j in range(k))
    if len(labels) != k:
        raise ValueError(f"items must name {k} items")
    if (dif or impact) and not groups:
        raise ValueError("dif and impact need groups: the first group is the reference group")
    strangers = sorted(set(impact or {}) - set(groups or {}))
    if strangers:
        raise ValueError(f"impact names groups that are not simulated: {', '.join(strangers)}")
    unknown = sorted(set(dif or {}) - set(labels))
    if unknown:
        raise ValueError(f"dif names items that are not simulated: {', '.join(unknown)}")
    rng = np.random.default_rng(seed)
    member = np.zeros(n, dtype=np.int64)
    names: tuple[str, ...] | None = None
    if groups:
        names = tuple(groups)
        shares = np.asarray([groups[g] for g in names], dtype=np.float64)
        if (shares < 0).any() or shares.sum() <= 0:
            raise ValueError("group shares must be non-negative and not all zero")
        bounds = np.round(np.cumsum(shares) / shares.sum() * n).astype(np.int64)
        member = rng.permutation(np.searchsorted(bounds, np.arange(n), side="right"))
    theta = rng.standard_normal(n)
    if impact and names is not None:
        for g, shift in impact.items():
            theta[member == names.index(g)] += shift
    logits = theta[:, None] * slopes[None, :] + intercepts[None, :]
    for item, shift in (dif or {}).items():
        logits[member > 0, labels.index(item)] += shift
    scores = (rng.random((n, k)) < 1.0 / (1.0 + np.exp(-logits))).astype(np.float64)
    matrix = ScoredMatrix.from_binary(scores, items=labels)
    group_labels = tuple(names[g] for g in member) if names is not None else None
    return Simulation(matrix, theta, group_labels, slopes, intercepts)


__all__ = ["Simulation", "simulate"]
