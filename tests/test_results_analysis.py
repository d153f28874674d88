"""Item and test analysis against published figures (LSAT7, SAT12, HCI in ../shared) and
hand-checkable cases: tied score groups, upper-lower, Lord's and Brennan's CSEM, Subkoviak's
agreement index and kappa, and the flag rules."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from itembank.results import analysis, reliability
from itembank.results.analysis import FlagRules, ItemStats, OptionStats
from itembank.results.matrix import ScoredMatrix
from itembank.results.reliability import AnalysisInputError

from .conftest import SAMPLE_BANK

# the key as the reference-data README gives it
SAT12_KEY = [1, 4, 5, 2, 3, 1, 2, 1, 3, 1, 2, 4, 2, 1, 5, 3, 4, 4, 1, 4, 3, 3, 4, 1, 3, 5, 1, 3, 1, 5, 4, 5]


def read_rda(path: Path) -> dict:
    """An R data file as pandas objects (rdata warns that old files name no encoding)."""
    import rdata

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return dict(rdata.read_rda(str(path)))


def lsat7(shared: Path) -> ScoredMatrix:
    """The 32 response patterns with their frequencies, expanded to 1,000 candidates."""
    frame = read_rda(shared / "reference-data" / "mirt_LSAT7.RData")["LSAT7"]
    patterns = frame.iloc[:, :5].to_numpy()
    return ScoredMatrix.from_binary(np.repeat(patterns, frame["freq"].astype(int), axis=0))


def sat12(shared: Path) -> ScoredMatrix:
    """SAT12's raw options (1-5, 8 = missing) with the key: choices, keys and omissions."""
    raw = read_rda(shared / "reference-data" / "mirt_SAT12.RData")["SAT12"].to_numpy().astype(int)
    n, k = raw.shape
    choices = np.array([[None if v == 8 else str(v) for v in row] for row in raw], dtype=object)
    return ScoredMatrix(
        candidates=tuple(f"C{i + 1}" for i in range(n)),
        items=tuple(f"I{j + 1}" for j in range(k)),
        scores=(raw == np.array(SAT12_KEY)).astype(np.float64),
        max_scores=np.ones(k),
        omitted=raw == 8,
        choices=choices,
        keys=tuple(str(v) for v in SAT12_KEY),
    )


# ---------------------------------------------------------------- published figures


@pytest.mark.shared
def test_lsat7_matches_mirt_itemstats(shared: Path) -> None:
    m = lsat7(shared)
    items = analysis.item_analysis(m)
    test = analysis.test_analysis(m)
    assert [round(i.facility, 3) for i in items] == [0.828, 0.658, 0.772, 0.606, 0.843]
    assert [round(i.item_rest_r or 0, 3) for i in items] == [0.246, 0.247, 0.313, 0.223, 0.175]
    assert round(test.alpha or 0, 3) == 0.453
    assert round(test.sem or 0, 3) == 0.886
    assert (test.n, test.k, test.max_total) == (1000, 5, 5.0)


@pytest.mark.shared
def test_lsat7_alpha_if_deleted_is_alpha_without_the_item(shared: Path) -> None:
    m = lsat7(shared)
    items = analysis.item_analysis(m)
    for j, item in enumerate(items):
        without = reliability.cronbach_alpha(np.delete(m.scores, j, axis=1))
        assert item.alpha_if_deleted == pytest.approx(without, abs=1e-12)


@pytest.mark.shared
def test_sat12_from_raw_options_matches_published(shared: Path) -> None:
    m = sat12(shared)
    test = analysis.test_analysis(m)
    assert round(test.alpha or 0, 3) == 0.798
    assert round(test.sem or 0, 3) == 2.272
    assert round(test.mean, 3) == 18.202
    assert round(test.sd, 3) == 5.054
    items = analysis.item_analysis(m)
    first = items[0]
    # item 1: key "1"; omitted is 8 in the raw data
    key = next(o for o in first.options if o.is_key)
    assert key.option == "1"
    assert key.proportion == pytest.approx(first.facility, abs=1e-12)
    for it in analysis.item_analysis(m):  # choosing the key is the 0/1 score: same r both ways
        keyed = next(o for o in it.options if o.is_key)
        assert keyed.option_rest_r == pytest.approx(it.item_rest_r, abs=1e-9)
    assert first.omit_rate == pytest.approx(float((m.omitted[:, 0]).mean()), abs=1e-12)
    assert sum(o.proportion for o in first.options) + first.omit_rate == pytest.approx(1.0)
    for g, share in enumerate(first.omitted_by_group):  # each group's options and omits add up
        assert sum(o.by_group[g] for o in first.options) + share == pytest.approx(1.0)
    # the key is chosen more by the high third than the low third on every item but none lower
    assert all(
        next(o for o in it.options if o.is_key).by_group[2]
        > next(o for o in it.options if o.is_key).by_group[0]
        for it in items
    )


@pytest.mark.shared
def test_hci_alpha_variance_and_feldt_interval(shared: Path) -> None:
    frame = read_rda(shared / "reference-data" / "sia_HCI.rda")["HCI"]
    m = ScoredMatrix.from_binary(frame.iloc[:, :20].to_numpy())
    test = analysis.test_analysis(m)
    assert round(test.alpha or 0, 4) == 0.7155
    assert round(test.variance, 4) == 13.2473
    assert test.alpha_ci is not None
    assert [round(v, 4) for v in test.alpha_ci] == [0.6828, 0.7462]


def test_feldt_interval_degrees_of_freedom_by_hand() -> None:
    # Feldt (1965): (1 - alpha) / (1 - true alpha) ~ F(n - 1, (n - 1)(k - 1)); n 10, k 5: F(9, 36)
    from scipy.stats import f

    low, high = reliability.feldt_interval(0.8, 10, 5)
    assert low == pytest.approx(1 - 0.2 * f.ppf(0.975, 9, 36), abs=1e-12)
    assert high == pytest.approx(1 - 0.2 * f.ppf(0.025, 9, 36), abs=1e-12)
    assert round(low, 4) == 0.5016  # F(.975; 9, 36) = 2.4922: tables give 2.57 (9, 30), 2.45 (9, 40)


# ---------------------------------------------------------------- score groups and ties


def test_tied_candidates_are_shared_between_groups_in_proportion() -> None:
    # positions 0..4 sorted by total; the tie block of total 1 covers [1, 4), the cut is 2.5
    w = analysis.group_weights(np.array([1.0, 0.0, 1.0, 2.0, 1.0]), (0.0, 0.5, 1.0))
    assert w.tolist() == [[0.5, 0.5], [1.0, 0.0], [0.5, 0.5], [0.0, 1.0], [0.5, 0.5]]
    assert w.sum(axis=0).tolist() == [2.5, 2.5]


def test_upper_lower_by_hand_and_independent_of_row_order() -> None:
    # 10 candidates: 27 % groups hold 2.7 candidates. Totals sorted: 0 0 1 1 1 2 2 2 3 3.
    scores = np.array(
        [[0, 0, 0], [0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 0, 0],
         [1, 1, 0], [1, 0, 1], [0, 1, 1], [1, 1, 1], [1, 1, 1]], dtype=float,
    )  # fmt: skip
    m = ScoredMatrix.from_binary(scores)
    items = analysis.item_analysis(m)
    # lower group: both 0s (weight 1) and 0.7 of the block of three 1s (weight 0.7/3 each);
    # upper group: both 3s and 0.7 of the block of three 2s.
    low_1 = (0 + 0 + (1 + 0 + 1) * 0.7 / 3) / 2.7
    up_1 = (2 + (1 + 1 + 0) * 0.7 / 3) / 2.7
    assert items[0].upper_lower == pytest.approx(up_1 - low_1, abs=1e-12)
    low_3 = 0.0
    up_3 = (2 + (0 + 1 + 1) * 0.7 / 3) / 2.7
    assert items[2].upper_lower == pytest.approx(up_3 - low_3, abs=1e-12)
    shuffled = ScoredMatrix.from_binary(scores[[9, 3, 0, 7, 5, 1, 8, 2, 6, 4]])
    assert [i.to_dict() for i in analysis.item_analysis(shuffled)] == [i.to_dict() for i in items]


def test_polytomous_facility_is_mean_over_maximum() -> None:
    m = ScoredMatrix(
        candidates=("a", "b", "c", "d"),
        items=("P", "Q"),
        scores=np.array([[0, 1], [1, 0], [2, 1], [1, 1]], dtype=float),
        max_scores=np.array([2.0, 1.0]),
        omitted=np.zeros((4, 2), dtype=bool),
    )
    items = analysis.item_analysis(m)
    assert items[0].facility == 0.5  # mean 1 of 2 marks
    assert items[1].facility == 0.75


# ---------------------------------------------------------------- CSEM and decision consistency


def test_lord_csem_by_hand() -> None:
    assert reliability.lord_csem(6, 10) == pytest.approx(math.sqrt(6 * 4 / 9), abs=1e-15)
    assert reliability.lord_csem(0, 10) == 0.0


def test_brennan_person_error_variance_by_hand_and_equals_lord_for_binary() -> None:
    # item scores 2, 0, 1: own mean 1, squared deviations 1 + 1 + 0 = 2, times k/(k-1) = 1.5
    assert reliability.person_error_variance(np.array([[2.0, 0.0, 1.0]])).tolist() == [3.0]
    rng = np.random.default_rng(7)
    binary = (rng.random((200, 12)) < 0.6).astype(float)
    lord = [reliability.lord_csem(t, 12) ** 2 for t in binary.sum(axis=1)]
    assert reliability.person_error_variance(binary) == pytest.approx(lord, abs=1e-12)
    # the polytomous path (a quadratic through Brennan's variances) reproduces Lord on 0/1 data
    csem, method = reliability.csem_at(binary, np.full(12, 2.0), 7)
    assert csem == pytest.approx(reliability.lord_csem(7, 12), abs=1e-9)
    assert method.startswith("Brennan")
    assert reliability.csem_at(binary, np.ones(12), 7) == (
        reliability.lord_csem(7, 12),
        "Lord binomial error model",
    )


def test_subkoviak_by_hand() -> None:
    # totals 0, 1, 1, 2 on 2 items, pass at 1: KR-21 = 0.5, true p = x/4 + 1/4, P(pass) =
    # 1 - (1 - p)^2 = .4375 .75 .75 .9375; p0 = .66015625, rate .71875, chance .595703125,
    # kappa = .064453125 / .404296875 = 11/69
    m = ScoredMatrix.from_binary([[0, 0], [1, 0], [0, 1], [1, 1]])
    test = analysis.test_analysis(m, pass_mark=1)
    dc = test.decision_consistency
    assert dc is not None
    assert dc.agreement == pytest.approx(0.66015625, abs=1e-12)
    assert dc.expected_pass_rate == pytest.approx(0.71875, abs=1e-12)
    assert dc.chance == pytest.approx(0.595703125, abs=1e-12)
    assert dc.kappa == pytest.approx(11 / 69, abs=1e-12)
    assert test.pass_rate == 0.75
    assert test.csem_at_pass == pytest.approx(math.sqrt(1 * 1 / 1), abs=1e-12)
    assert reliability.kr21(1.0, 2 / 3, 2) == pytest.approx(0.5, abs=1e-12)


def test_polytomous_form_says_why_no_decision_consistency() -> None:
    scores = np.array([[2, 1, 0], [1, 1, 1], [0, 0, 1], [2, 1, 1], [1, 0, 0]], dtype=float)
    m = ScoredMatrix(
        candidates=tuple("abcde"),
        items=("P", "Q", "R"),
        scores=scores,
        max_scores=np.array([2.0, 1.0, 1.0]),
        omitted=np.zeros((5, 3), dtype=bool),
    )
    test = analysis.test_analysis(m, pass_mark=2)
    assert test.decision_consistency is None
    assert test.csem_method == "Brennan (1998) person error variance, quadratic in the total"
    assert test.notes == (
        "decision consistency is not estimated: Subkoviak's binomial model needs 0/1 items and "
        "this form has items worth more than 1 mark",
    )


def test_bad_input_is_a_clear_error() -> None:
    m = ScoredMatrix.from_binary([[0, 1], [1, 1], [1, 0]])
    with pytest.raises(AnalysisInputError, match=r"pass mark 5 is outside the possible totals"):
        analysis.test_analysis(m, pass_mark=5)
    with pytest.raises(AnalysisInputError, match=r"at least 2 candidates and 2 items"):
        analysis.item_analysis(ScoredMatrix.from_binary([[0, 1]]))
    with pytest.raises(AnalysisInputError, match=r"3 \(thirds\) or 5 \(quintiles\), not 4"):
        analysis.item_analysis(m, groups=4)


def test_constant_item_has_no_correlation_rather_than_nan() -> None:
    m = ScoredMatrix.from_binary([[1, 0, 1], [1, 1, 1], [1, 0, 0], [1, 1, 0]])
    first = analysis.item_analysis(m)[0]
    assert first.item_rest_r is None
    assert first.to_dict()["item_rest_r"] is None


# ---------------------------------------------------------------- flags


def _item(name: str, facility: float, rest: float | None, omit: float = 0.0,
          options: tuple[OptionStats, ...] = ()) -> ItemStats:  # fmt: skip
    return ItemStats(name, 100, 1.0, facility, facility, rest, 0.3, omit, 0.7,
                     ("low", "middle", "high") if options else (), options)  # fmt: skip


def test_flags_by_hand_with_default_and_bank_rules() -> None:
    items = [
        _item("fine", 0.6, 0.4),
        _item("at-the-limits", 0.2, 0.15, 0.05),  # limits are not crossed: no flag
        _item("hard", 0.19, 0.3),
        _item("easy", 0.96, 0.2),
        _item("weak", 0.5, 0.149),
        _item("skipped", 0.5, 0.3, 0.051),
        _item("bad-distractor", 0.5, 0.3, options=(
            OptionStats("A", True, 0.5, (0.3, 0.5, 0.7), 0.4),
            OptionStats("B", False, 0.2, (0.1, 0.2, 0.3), 0.1),
            OptionStats("C", False, 0.3, (0.6, 0.3, 0.0), -0.4),
        )),
    ]  # fmt: skip
    raised = analysis.flags(items, FlagRules())
    assert [(f.item, f.code) for f in raised] == [
        ("hard", "facility-low"),
        ("easy", "facility-high"),
        ("weak", "item-rest-low"),
        ("skipped", "omit-rate-high"),
        ("bad-distractor", "distractor-high-group"),
    ]
    assert raised[-1].reason == (
        "option B is not the key but the high group chose it more often than the low group "
        "(30% against 10%): it may be defensible or the key may be wrong"
    )
    assert raised[-1].value == pytest.approx(0.2)
    stricter = FlagRules.from_settings(
        {"results": {"flags": {"facility_below": 0.25, "distractor_margin": 0.25}}}
    )
    assert stricter == FlagRules(facility_below=0.25, distractor_margin=0.25)
    assert [(f.item, f.code) for f in analysis.flags(items, stricter)] == [
        ("at-the-limits", "facility-low"),
        ("hard", "facility-low"),
        ("easy", "facility-high"),
        ("weak", "item-rest-low"),
        ("skipped", "omit-rate-high"),
    ]


def test_sample_bank_states_the_default_rules() -> None:
    settings = json.loads((SAMPLE_BANK / "bank.json").read_text(encoding="utf-8"))
    assert FlagRules.from_settings(settings) == FlagRules()
    assert FlagRules.from_settings({}) == FlagRules(0.2, 0.95, 0.15, 0.05, 0.0)


def test_distractor_flag_from_raw_choices() -> None:
    # 6 candidates in thirds of 2 (totals 0 0 2 2 3 3): the two best chose distractor "C"
    scores = np.array([[0, 1, 1, 1], [0, 1, 1, 1], [1, 1, 0, 0], [1, 1, 0, 0],
                       [0, 0, 0, 0], [0, 0, 0, 0]], dtype=float)  # fmt: skip
    choices = [[x, *("A" if v else "B" for v in row[1:])]
               for x, row in zip("CCAABB", scores, strict=True)]  # fmt: skip
    m = ScoredMatrix(
        candidates=tuple("abcdef"),
        items=("X", "Y", "Z", "W"),
        scores=scores,
        max_scores=np.ones(4),
        omitted=np.zeros((6, 4), dtype=bool),
        choices=np.array(choices, dtype=object),
        keys=("A", "A", "A", "A"),
    )
    first = analysis.item_analysis(m)[0]
    assert [(o.option, o.by_group) for o in first.options] == [
        ("A", (0.0, 1.0, 0.0)),
        ("B", (1.0, 0.0, 0.0)),
        ("C", (0.0, 0.0, 1.0)),
    ]
    raised = analysis.flags(analysis.item_analysis(m), FlagRules())
    assert [(f.item, f.code, f.value) for f in raised if f.code == "distractor-high-group"] == [
        ("X", "distractor-high-group", 1.0)
    ]


@pytest.mark.shared
def test_to_dict_is_json_ready_and_rounded(shared: Path) -> None:
    m = sat12(shared)
    settings = {"results": {"flags": {"item_rest_below": 0.2}}}
    whole = analysis.analyse(m, pass_mark=16, settings=settings)
    items = analysis.item_analysis(m)
    assert whole.items == items
    assert whole.flags == analysis.flags(items, FlagRules(item_rest_below=0.2))
    record = whole.to_dict()
    assert json.loads(json.dumps(record, allow_nan=False)) == record
    assert record["flag_rules"]["item_rest_below"] == 0.2
    def flagged(code: str) -> list[str]:
        return [f["item"] for f in record["flags"] if f["code"] == code]

    # I11 (r .156) and I30 (r .160) are flagged only because the bank's rule is .2, not .15
    assert flagged("item-rest-low") == ["I9", "I11", "I12", "I21", "I30", "I32"]
    assert flagged("facility-low") == ["I6", "I32"]  # .160 and .162
    assert flagged("facility-high") == ["I11", "I17"]  # .983 and .963
    assert flagged("omit-rate-high") == []
    assert record["test"]["alpha"] == 0.797892
    assert record["test"]["sd_kind"] == "sample (n - 1)"
    assert record["items"][0]["options"][0]["proportion"] == round(
        items[0].options[0].proportion, 4
    )
    assert record["test"]["decision_consistency"]["method"].startswith("Subkoviak (1976)")
