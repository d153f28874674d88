"""Assessor agreement (issue 13 part 1): weighted kappa and ICC against published figures and
hand computations, and the per-criterion table built from marks."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.inter_rater import cohens_kappa

from itembank.results.agreement import agreement, icc, weighted_kappa
from itembank.results.practice import Criterion, MarkRow

# Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges
SHROUT_FLEISS = np.array(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]],
    dtype=np.float64,
)
# the SAS PROC FREQ agreement example that statsmodels' tests reproduce: 19 subjects, 3 levels
SAS_TABLE = [[0, 4, 1], [0, 8, 0], [0, 1, 5]]
SAS_PAIRS = [(i, j) for i in range(3) for j in range(3) for _ in range(SAS_TABLE[i][j])]


def test_icc_reproduces_shrout_and_fleiss_table_2() -> None:
    got = icc(SHROUT_FLEISS)
    # published (two decimals): ICC(1,1) .17, ICC(2,1) .29, ICC(3,1) .71
    assert (round(got.icc1, 2), round(got.icc2, 2), round(got.icc3, 2)) == (0.17, 0.29, 0.71)
    # by hand from the paper's mean squares: BMS 11.24, WMS 6.26, JMS 32.49, EMS 1.02 (n 6, k 4)
    bms, wms, jms, ems = 56.2083333 / 5, 112.75 / 18, 97.4583333 / 3, 15.2916667 / 15
    assert got.icc1 == pytest.approx((bms - wms) / (bms + 3 * wms), abs=1e-6)
    assert got.icc2 == pytest.approx((bms - ems) / (bms + 3 * ems + 4 * (jms - ems) / 6), abs=1e-6)
    assert got.icc3 == pytest.approx((bms - ems) / (bms + 3 * ems), abs=1e-6)
    assert (round(bms, 2), round(wms, 2), round(jms, 2), round(ems, 2)) == (11.24, 6.26, 32.49, 1.02)


def test_weighted_kappa_reproduces_the_sas_example_and_a_hand_computation() -> None:
    # SAS prints simple kappa 0.4842 and weighted kappa (Cicchetti-Allison = linear) 0.4701
    assert round(weighted_kappa(SAS_PAIRS, [0, 1, 2], "none"), 4) == 0.4842
    assert round(weighted_kappa(SAS_PAIRS, [0, 1, 2], "linear"), 4) == 0.4701
    # by hand: rows (5, 8, 6), columns (0, 13, 6), n = 19
    # linear: observed 4*.5 + 1*1 + 1*.5 = 3.5 of 19; expected (5*13*.5 + 5*6 + 8*6*.5 + 6*13*.5)
    # = 125.5 of 361 -> 1 - 66.5 / 125.5
    assert weighted_kappa(SAS_PAIRS, [0, 1, 2], "linear") == pytest.approx(1 - 66.5 / 125.5)
    # quadratic: observed 4*.25 + 1 + .25 = 2.25 (42.75 of 361); expected 16.25 + 30 + 12 + 19.5
    assert weighted_kappa(SAS_PAIRS, [0, 1, 2], "quadratic") == pytest.approx(1 - 42.75 / 77.75)
    table = np.array(SAS_TABLE)
    for wt in ("linear", "quadratic"):
        assert weighted_kappa(SAS_PAIRS, [0, 1, 2], wt) == pytest.approx(  # type: ignore[arg-type]
            cohens_kappa(table, wt=wt).kappa)


def test_undefined_statistics_are_none_not_numbers() -> None:
    same = [(2, 2)] * 5
    assert weighted_kappa(same, [0, 1, 2, 3], "linear") is None
    assert icc(np.array(same, dtype=np.float64)).icc2 is None
    assert weighted_kappa([], [0, 1, 2, 3]) is None
    assert icc(np.array([[1.0, 2.0]])).icc2 is None  # one candidate


def test_the_criterion_table_by_hand() -> None:
    schemes = {"SIM-A": {"C1": Criterion("Relationship", {0: "", 1: "", 2: "", 3: ""}),
                         "C2": Criterion("Unmarked", {0: "", 1: ""})}}
    pairs = [(2, 2), (1, 2), (3, 3), (0, 2), (2, 3)]
    rows = []
    for n, (a, b) in enumerate(pairs):
        rows += [MarkRow(f"K{n}", "SIM-A", "C1", "A1", a, 2 * n), MarkRow(f"K{n}", "SIM-A", "C1", "A2", b, 2 * n + 1)]
    rows.append(MarkRow("K9", "SIM-A", "C1", "A1", 2, 99))  # one mark only: not in the pair statistics
    (got,) = agreement(rows, schemes, tolerance=1)
    assert (got.scenario, got.criterion, got.title, got.n) == ("SIM-A", "C1", "Relationship", 5)
    assert (got.exact, got.within_one) == (pytest.approx(2 / 5), pytest.approx(4 / 5))
    # linear: observed 4/3 of 5; expected 26/3 of 25 (margins 1,1,2,1 and 0,0,3,2) -> 6/26
    assert got.kappa_linear == pytest.approx(6 / 26)
    # quadratic: observed 6/9 of 5, expected 48/9 of 25 -> 18/48
    assert got.kappa_quadratic == pytest.approx(18 / 48)
    # ICC(2,1): BMS 1.25, JMS 1.6, EMS 0.35 -> 0.9 / 2.1
    assert got.icc == pytest.approx(0.9 / 2.1)
    assert (got.third_needed, got.third_missing, got.single) == (1, 1, 1)
    rows.append(MarkRow("K3", "SIM-A", "C1", "A3", 1, 100))  # the third mark arrives
    (got,) = agreement(rows, schemes, tolerance=1)
    assert (got.third_needed, got.third_missing) == (1, 0)
    assert agreement(rows, schemes, tolerance=2)[0].third_needed == 0
