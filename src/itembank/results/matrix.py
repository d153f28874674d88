"""One administration of one form as a table: candidates by items, scored.

Every statistic in the results room takes a ScoredMatrix, whether it came from an import of
delivered responses or from a published reference dataset, so the figures tested against the
literature are computed by the same code that analyses a live administration. Pure: no files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class ScoredMatrix:
    """Scores of `candidates` (rows) on `items` (columns).

    - `scores[i, j]`: marks candidate i earned on item j (0 when omitted), in 0..max_scores[j];
    - `omitted[i, j]`: True when candidate i gave no response to item j;
    - `choices[i, j]`: the option id(s) chosen, as one string ("B", or "A|C" for several, or
      "s1=T|s2=F" for true/false statements), or None when omitted; None for the whole array
      when raw responses are unknown (distractor analysis is then skipped);
    - `keys[j]`: the key in the same notation, when known.
    Item labels are whatever identifies an item version in the caller's world (a manifest's
    item identifier, or "I1".."Ik" for a reference dataset).
    """

    candidates: tuple[str, ...]
    items: tuple[str, ...]
    scores: NDArray[np.float64]
    max_scores: NDArray[np.float64]
    omitted: NDArray[np.bool_]
    choices: NDArray[np.object_] | None = None
    keys: tuple[str | None, ...] | None = None

    def __post_init__(self) -> None:
        n, k = len(self.candidates), len(self.items)
        if self.scores.shape != (n, k) or self.omitted.shape != (n, k):
            raise ValueError(f"scores and omitted must be {n} x {k}")
        if self.max_scores.shape != (k,):
            raise ValueError(f"max_scores must have {k} entries")
        if self.choices is not None and self.choices.shape != (n, k):
            raise ValueError(f"choices must be {n} x {k}")
        if self.keys is not None and len(self.keys) != k:
            raise ValueError(f"keys must have {k} entries")

    @property
    def totals(self) -> NDArray[np.float64]:
        """Each candidate's total score."""
        return np.asarray(self.scores.sum(axis=1), dtype=np.float64)

    @classmethod
    def from_binary(
        cls,
        scores: Sequence[Sequence[float]] | NDArray[np.float64],
        items: Sequence[str] | None = None,
        candidates: Sequence[str] | None = None,
    ) -> ScoredMatrix:
        """A matrix of 0/1 scores with no raw responses (a reference dataset, a simulation)."""
        array = np.asarray(scores, dtype=np.float64)
        n, k = array.shape
        return cls(
            candidates=tuple(candidates or (f"C{i + 1}" for i in range(n))),
            items=tuple(items or (f"I{j + 1}" for j in range(k))),
            scores=array,
            max_scores=np.ones(k, dtype=np.float64),
            omitted=np.zeros((n, k), dtype=np.bool_),
        )


__all__ = ["ScoredMatrix"]
