"""The psychometrician's results app driven without a browser, over a copy of the sample bank and
the sample administration of form 1 imported into a temporary results folder: only the results
team gets in; the test summary, item table, flags, distractor and ICC plots and the DIF table
show the sample's figures; write-back is a commit by the signed-in member. Also the observed
proportions overlaid on an ICC, against a hand computation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from itembank.results.empirical import empirical_icc
from itembank.results.irt import ItemParameters
from itembank.results.matrix import ScoredMatrix
from itembank.results.reliability import AnalysisInputError


def test_empirical_icc_against_a_hand_computation() -> None:
    # totals 0, 1, 1, 2: the tied pair at 1 straddles the median, so each is half in each group
    m = ScoredMatrix.from_binary([[0, 0], [1, 0], [0, 1], [1, 1]], items=["I1", "I2"])
    params = [ItemParameters("I1", 1.0, 0.0, 0.0), ItemParameters("I2", 1.0, 0.0, 0.0)]
    low, high = empirical_icc(m, params, "I1", groups=2)
    # low: weights 1, .5, .5, 0 -> mean score 1/2, I1 right (.5) / 2 = .25; TCC 2 expit(t) = .5
    assert low.size == pytest.approx(2.0) and low.mean_score == pytest.approx(0.5)
    assert low.proportion == pytest.approx(0.25)
    assert low.theta == pytest.approx(math.log(1 / 3), abs=1e-3)
    assert high.mean_score == pytest.approx(1.5) and high.proportion == pytest.approx(0.75)
    assert high.theta == pytest.approx(math.log(3), abs=1e-3)
    # an item worth 2 marks counts as right only with both (as the calibration scores it)
    two = ScoredMatrix(("a", "b"), ("I1", "I2"), np.array([[1.0, 0.0], [2.0, 0.0]]),
                       np.array([2.0, 1.0]), np.zeros((2, 2), dtype=bool))
    first, second = empirical_icc(two, params, "I1", groups=2)
    assert (first.mean_score, first.proportion) == (0.0, 0.0)  # a: 1 of 2 marks is not right
    assert (second.mean_score, second.proportion) == (1.0, 1.0)


def test_empirical_icc_refuses_what_it_cannot_place() -> None:
    m = ScoredMatrix.from_binary([[0, 1], [1, 0], [1, 1]], items=["I1", "I2"])
    params = [ItemParameters("I1", 1.0, 0.0, 0.0)]
    with pytest.raises(AnalysisInputError, match="I2 is not among the calibrated items"):
        empirical_icc(m, params, "I2")
    with pytest.raises(AnalysisInputError, match="cannot be formed from 3 candidates"):
        empirical_icc(m, params, "I1", groups=10)
    with pytest.raises(AnalysisInputError, match="does not have: I9"):
        empirical_icc(m, [*params, ItemParameters("I9", 1.0, 0.0, 0.0)], "I1", groups=2)
