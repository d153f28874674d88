"""DIF screening against published figures and hand computations.

difR `verbal` (Gender, focal = 1): the per-item Mantel-Haenszel chi-square, p-value, alpha_MH,
delta_MH and effect-size class below are difR's printed output of
`difMH(verbal, group = 25, focal.name = 1)` as recorded in difR's own test snapshot,
repository adelahladka/difR, file tests/testthat/_snaps/difMH.md (commit 28af0942e75d).
MSATB item 49: the figures in ../shared/reference-data/README.md."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from itembank.results import dif
from itembank.results.dif import DifRules
from itembank.results.matrix import ScoredMatrix
from itembank.results.reliability import AnalysisInputError

from .conftest import SAMPLE_BANK

# item: (MH chi-square, p-value, alpha_MH, delta_MH, effect-size class) as difMH prints them
VERBAL_DIFMH = {
    "S1wantCurse": (1.7076, 0.1913, 1.7005, -1.2476, "B"),
    "S1WantScold": (2.1486, 0.1427, 1.7702, -1.3420, "B"),
    "S1WantShout": (0.9926, 0.3191, 1.4481, -0.8701, "A"),
    "S2WantCurse": (1.9302, 0.1647, 1.9395, -1.5567, "C"),
    "S2WantScold": (2.9540, 0.0857, 1.9799, -1.6052, "C"),
    "S2WantShout": (9.6032, 0.0019, 2.8804, -2.4861, "C"),
    "S3WantCurse": (0.0013, 0.9711, 0.9439, 0.1358, "A"),
    "S3WantScold": (0.6752, 0.4112, 0.7194, 0.7741, "A"),
    "S3WantShout": (0.8185, 0.3656, 1.5281, -0.9965, "A"),
    "S4WantCurse": (1.6292, 0.2018, 1.6849, -1.2260, "B"),
    "S4WantScold": (0.0152, 0.9020, 1.0901, -0.2028, "A"),
    "S4WantShout": (4.1188, 0.0424, 2.3458, -2.0036, "C"),
    "S1DoCurse": (0.1324, 0.7160, 0.7967, 0.5340, "A"),
    "S1DoScold": (2.7501, 0.0972, 0.4995, 1.6313, "C"),
    "S1DoShout": (0.0683, 0.7938, 1.1765, -0.3821, "A"),
    "S2DoCurse": (6.3029, 0.0121, 0.3209, 2.6709, "C"),
    "S2DoScold": (6.8395, 0.0089, 0.3746, 2.3072, "C"),
    "S2DoShout": (0.2170, 0.6414, 0.7931, 0.5447, "A"),
    "S3DoCurse": (5.7817, 0.0162, 0.4616, 1.8165, "C"),
    "S3DoScold": (3.8880, 0.0486, 0.4727, 1.7606, "C"),
    "S3DoShout": (0.2989, 0.5846, 0.6373, 1.0585, "B"),
    "S4DoCurse": (1.1220, 0.2895, 0.6444, 1.0327, "B"),
    "S4DoScold": (1.4491, 0.2287, 0.6385, 1.0541, "B"),
    "S4DoShout": (0.8390, 0.3597, 1.6053, -1.1123, "B"),
}


def verbal(shared: Path) -> tuple[ScoredMatrix, list[str | None]]:
    frame = pd.read_csv(shared / "reference-data" / "verbal.txt", sep="\t")
    m = ScoredMatrix.from_binary(frame.iloc[:, :24].to_numpy(), items=list(frame.columns[:24]))
    return m, [str(int(v)) for v in frame["Gender"]]


def msatb(shared: Path) -> tuple[ScoredMatrix, list[str | None]]:
    import rdata

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        frame = rdata.read_rda(str(shared / "reference-data" / "sia_MSATB.rda"))["MSATB"]
    m = ScoredMatrix.from_binary(frame.iloc[:, :20].to_numpy(), items=list(frame.columns[:20]))
    return m, [str(int(v)) for v in frame["gender"]]


@pytest.mark.shared
def test_verbal_matches_difmh_printed_output(shared: Path) -> None:
    m, gender = verbal(shared)
    results = dif.mantel_haenszel(m, gender, reference="0", focal="1")
    got = {
        r.item: (
            round(r.chi_square or 0, 4),
            round(r.p_value or 0, 4),
            round(r.alpha_mh or 0, 4),
            round(r.delta_mh or 0, 4),
            r.effect_size_class,
        )
        for r in results
    }
    assert got == VERBAL_DIFMH
    # ETS classes with significance (Zwick 2012): only 2 of difR's 10 effect-size Cs survive
    assert [(r.item, r.ets_class) for r in results if r.ets_class != "A"] == [
        ("S2WantShout", "C"),
        ("S4WantShout", "B"),
        ("S2DoCurse", "C"),
        ("S2DoScold", "B"),
        ("S3DoCurse", "B"),
        ("S3DoScold", "B"),
    ]
    assert results[5].favours == "reference" and results[15].favours == "focal"


@pytest.mark.shared
def test_msatb_item_49_mantel_haenszel_and_logistic(shared: Path) -> None:
    m, gender = msatb(shared)
    assert m.items[0] == "Item49"
    mh = dif.mantel_haenszel(m, gender, "0", "1")[0]
    assert round(mh.chi_square or 0, 4) == 12.4456
    assert round(mh.alpha_mh or 0, 4) == 0.5430
    assert round(mh.delta_mh or 0, 4) == 1.4352
    lr = dif.logistic(m, gender, "0", "1")[0]
    assert round(lr.lr_both or 0, 4) == 14.7603
    assert round(lr.delta_r2_both or 0, 4) == 0.0164
    assert lr.jodoin_gierl_class == "A"  # significant, but delta R^2 < .035
    assert lr.lr_uniform is not None and lr.lr_nonuniform is not None
    assert lr.lr_uniform + lr.lr_nonuniform == pytest.approx(lr.lr_both, abs=1e-9)


def test_mantel_haenszel_by_hand() -> None:
    # two strata (totals 1 and 2) on item 1; a third candidate alone at total 0 is dropped
    # stratum total 1: reference 2 right 1 wrong, focal 1 right 2 wrong (N = 6)
    # stratum total 2: reference 3 right 0 wrong, focal 1 right 1 wrong (N = 5)
    rest = {0: [0, 0], 1: [1, 0], 2: [1, 1]}  # two other 0/1 items making up the total
    rows, group = [], []
    for g, right, wrong, total in (("r", 2, 1, 1), ("f", 1, 2, 1), ("r", 3, 0, 2), ("f", 1, 1, 2)):
        rows += [[1, *rest[total - 1]]] * right + [[0, *rest[total]]] * wrong
        group += [g] * (right + wrong)
    rows.append([0, 0, 0])
    group.append("f")
    m = ScoredMatrix.from_binary(np.array(rows, dtype=float))
    r = dif.mantel_haenszel(m, group, "r", "f")[0]
    num = 2 * 2 / 6 + 3 * 1 / 5
    den = 1 * 1 / 6 + 0 * 1 / 5
    assert r.alpha_mh == pytest.approx(num / den, abs=1e-12)
    # E(A) = nR m1 / N, Var(A) = nR nF m1 m0 / (N^2 (N - 1))
    expected = 3 * 3 / 6 + 3 * 4 / 5
    variance = 3 * 3 * 3 * 3 / (36 * 5) + 3 * 2 * 4 * 1 / (25 * 4)
    chi = (abs(5 - expected) - 0.5) ** 2 / variance
    assert r.chi_square == pytest.approx(chi, abs=1e-12)
    assert r.strata == 2
    assert r.delta_mh == pytest.approx(-2.35 * np.log(num / den), abs=1e-12)


def test_ets_and_jodoin_gierl_classes_by_hand() -> None:
    assert dif.ets_class(-1.6, 0.01, 0.2) == "C"  # (1.6 - 1) / 0.2 = 3 > 1.645
    assert dif.ets_class(1.6, 0.01, 0.5) == "B"  # 1.2: not significantly above 1
    assert dif.ets_class(1.9, 0.001, 0.5) == "C"  # 1.8: above 1.645 (one-sided at .05)
    assert dif.ets_class(1.9, 0.001, 0.5, level=0.01) == "B"  # 1.8: below 2.326
    assert dif.ets_class(1.2, 0.01, 0.1) == "B"
    assert dif.ets_class(0.99, 0.0001, 0.1) == "A"
    assert dif.ets_class(2.5, 0.06, 0.1) == "A"  # not significant
    assert dif.ets_class(None, None, None) is None
    assert [dif.effect_size_class(d) for d in (0.99, -1.0, 1.49, -1.5)] == ["A", "B", "B", "C"]
    assert dif.jodoin_gierl(0.0349, 0.001) == "A"
    assert dif.jodoin_gierl(0.035, 0.001) == "B"
    assert dif.jodoin_gierl(0.0699, 0.001) == "B"
    assert dif.jodoin_gierl(0.070, 0.001) == "C"
    assert dif.jodoin_gierl(0.2, 0.06) == "A"


def test_polytomous_item_is_skipped_with_the_reason() -> None:
    m = ScoredMatrix(
        candidates=tuple("abcd"),
        items=("P", "Q"),
        scores=np.array([[2, 1], [1, 0], [0, 1], [1, 1]], dtype=float),
        max_scores=np.array([2.0, 1.0]),
        omitted=np.zeros((4, 2), dtype=bool),
    )
    mh = dif.mantel_haenszel(m, ["x", "y", "x", "y"], "x", "y")[0]
    assert mh.skipped == dif.NOT_BINARY and mh.chi_square is None
    assert dif.logistic(m, ["x", "y", "x", "y"], "x", "y")[0].skipped == dif.NOT_BINARY


@pytest.mark.shared
def test_screen_skips_small_groups_with_the_reason_and_runs_the_rest(shared: Path) -> None:
    m, gender = verbal(shared)
    gender[0] = None  # candidate 1 (focal) unknown: left out and counted
    anger = ["high" if i % 3 == 0 else "low" if i % 3 == 1 else None for i in range(316)]
    screened = dif.screen(m, {"gender": gender, "anger": anger}, DifRules())
    assert screened.group_sizes == {"gender": {"0": 243, "1": 72}, "anger": {"high": 106,
                                    "low": 105}}  # fmt: skip
    assert screened.unknown == {"gender": 1, "anger": 105}
    first, second = screened.comparisons
    assert (first.reference, first.focal, first.mantel_haenszel) == ("0", "1", ())
    assert first.skipped == (
        "focal group '1' has 72 candidates: at least 100 are needed in each group "
        "(bank.json results.dif.min_group_size)"
    )
    assert (second.reference, second.focal, second.skipped) == ("high", "low", None)
    assert len(second.mantel_haenszel) == 24 and len(second.logistic) == 24
    # with a lower minimum and the full data, the screen gives difMH's figures
    m, gender = verbal(shared)
    rules = DifRules.from_settings(
        {"results": {"dif": {"min_group_size": 50, "reference": {"gender": "0"}}}}
    )
    (only,) = dif.screen(m, {"gender": gender}, rules).comparisons
    assert {r.item: round(r.chi_square or 0, 4) for r in only.mantel_haenszel} == {
        item: figures[0] for item, figures in VERBAL_DIFMH.items()
    }
    record = dif.screen(m, {"gender": gender}, rules).to_dict()
    assert json.loads(json.dumps(record, allow_nan=False)) == record
    assert record["comparisons"][0]["mantel_haenszel"][5]["delta_mh"] == -2.4861


def test_screen_reference_is_largest_or_named_and_bad_input_is_clear() -> None:
    m = ScoredMatrix.from_binary(np.tile([[1, 0], [0, 1], [1, 1], [0, 0]], (60, 1)))
    values = ["a"] * 100 + ["b"] * 120 + ["c"] * 20
    screened = dif.screen(m, {"k": values}, DifRules())
    assert [(c.reference, c.focal, c.skipped is None) for c in screened.comparisons] == [
        ("b", "a", True),
        ("b", "c", False),
    ]
    assert "focal group 'c' has 20 candidates" in (screened.comparisons[1].skipped or "")
    # the total predicts these items perfectly: the logistic models have no maximum, said so
    assert [r.skipped for r in screened.comparisons[0].logistic] == [dif.NO_FIT, dif.NO_FIT]
    assert screened.comparisons[0].mantel_haenszel[0].skipped is None
    named = dif.screen(m, {"k": values}, DifRules(reference={"k": "a"}))
    assert [(c.reference, c.focal) for c in named.comparisons] == [("a", "b"), ("a", "c")]
    # a handful of candidates is never written down exactly (disclosure control)
    few = dif.screen(m, {"k": ["a"] * 120 + ["b"] * 117 + ["c"] * 3}, DifRules())
    assert few.comparisons[1].skipped == (
        "focal group 'c' has fewer than 10 candidates: at least 100 are needed in each group "
        "(bank.json results.dif.min_group_size)"
    )
    assert few.group_sizes == {"k": {"a": 120, "b": 117, "c": 3}}  # exact only in memory
    assert few.to_dict()["group_sizes"] == {"k": {"a": 120, "b": 117, "c": "fewer than 10"}}
    assert few.to_dict()["comparisons"][1]["n_focal"] == "fewer than 10"
    one = dif.screen(m, {"k": ["a"] * 240}, DifRules())
    assert one.comparisons[0].skipped == "fewer than two groups are known for 'k': nothing to compare"
    with pytest.raises(AnalysisInputError, match=r"'k' has 3 values for 240 candidates"):
        dif.screen(m, {"k": ["a", "b", "c"]}, DifRules())
    with pytest.raises(AnalysisInputError, match=r"names 'z' as the reference group for 'k'"):
        dif.screen(m, {"k": values}, DifRules(reference={"k": "z"}))
    with pytest.raises(AnalysisInputError, match=r"no candidate is in group '1'; .*: a, b, c$"):
        dif.mantel_haenszel(m, values, "a", "1")
    with pytest.raises(AnalysisInputError, match=r"the reference and focal groups are both 'a'"):
        dif.logistic(m, values, "a", "a")


def test_sample_bank_dif_rules() -> None:
    settings = json.loads((SAMPLE_BANK / "bank.json").read_text(encoding="utf-8"))
    assert DifRules.from_settings(settings) == DifRules(min_group_size=100, significance=0.05)
    assert DifRules.from_settings({}).min_group_size == dif.DEFAULT_MIN_GROUP == 100
