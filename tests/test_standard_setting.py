"""Modified Angoff statistics against values worked by hand on a small fixed set, and the
service: exercises, rounds, refusals, own-panel feedback, results for the facilitator only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from itembank import open_bank
from itembank.core.errors import (
    IdentityError,
    InvalidIdError,
    ItembankError,
    ReviewInputError,
    WorkflowError,
)
from itembank.standard_setting.angoff import feedback, results, robust_z, summary_text
from tests.conftest import git

ITEMS = ["GK-0001", "GK-0002", "GK-0003"]
MARKS = {"GK-0001": 1.0, "GK-0002": 1.0, "GK-0003": 2.0}
EXERCISE = {"id": "ex", "items": ITEMS, "panels": ["a", "b"], "rounds": 2}
A = {"a1": [0.5, 0.6, 0.5], "a2": [0.7, 0.8, 0.6], "a3": [0.6, 0.7, 0.55]}  # cuts 2.1 2.7 2.4
B = {"b1": [0.4, 0.5, 0.5], "b2": [0.6, 0.6, 0.5], "b3": [0.5, 0.6, 0.45], "b4": [0.5, 0.5, 0.35]}  # 1.9 2.2 2.0 1.7
FACILITATOR = "Priya Shah <priya.shah@example.org>"
JOANNE = "Joanne Kelly <joanne.kelly@example.org>"
MARCUS = "Marcus Reid <marcus.reid@example.org>"
CLAIRE = "Claire Benson <claire.benson@example.org>"


def records(panel: str, judges: dict[str, list[float]], round_no: int = 1, stamp: str = "09") -> list[dict]:
    return [{"id": f"2026{stamp}-{j}", "panel": panel, "judge": f"{j} <{j}@x.org>", "round": round_no,
             "submitted": f"2026-11-23T{stamp}:00:00Z",
             "ratings": [{"item": i, "value": v} for i, v in zip(ITEMS, values, strict=True)]}
            for j, values in judges.items()]


def test_results_match_hand_computed_values() -> None:
    r = results(EXERCISE, records("a", A) + records("b", B), MARKS)
    a, b = r.panels
    assert sorted(round(j.cut, 6) for j in a.judges) == [2.1, 2.4, 2.7]
    assert a.cut == pytest.approx(2.4) and a.sd == pytest.approx(0.3) and a.se == pytest.approx(0.173205, abs=1e-6)
    assert b.cut == pytest.approx(1.95) and b.sd == pytest.approx(0.208167, abs=1e-6)
    assert b.se == pytest.approx(0.104083, abs=1e-6)
    assert r.difference == pytest.approx(0.45)
    assert r.t == pytest.approx(2.226922, abs=1e-5) and r.df == pytest.approx(3.408897, abs=1e-5)
    assert r.p == pytest.approx(0.101595, abs=1e-5)  # same as scipy's ttest_ind(equal_var=False)
    assert r.combined_cut == pytest.approx(2.175) and r.combined_se == pytest.approx(0.101036, abs=1e-6)
    assert r.pass_mark == 3 and r.max_marks == 4
    assert r.item_means["a"] == pytest.approx({"GK-0001": 0.6, "GK-0002": 0.7, "GK-0003": 0.55})
    assert r.correlation == pytest.approx(0.981981, abs=1e-5)
    assert not any(j.outlier for p in r.panels for j in p.judges)
    assert [round(j.robust_z, 4) for j in a.judges] == [-0.6745, 0.6745, 0.0]


def test_robust_rule_flags_an_outlier_in_a_panel_of_four() -> None:
    z = robust_z({"a": 10, "b": 11, "c": 12, "d": 20})  # median 11.5, MAD 1.0
    assert z["d"] == pytest.approx(0.6745 * 8.5) and z["d"] > 3.5
    assert z["a"] == pytest.approx(-1.01175)
    assert robust_z({"a": 1, "b": 1, "c": 1}) == {"a": 0.0, "b": 0.0, "c": 0.0}
    r = results(EXERCISE, records("a", {**A, "a4": [0.1, 0.1, 0.05]}), MARKS)
    flagged = [j.judge for j in r.panels[0].judges if j.outlier]
    assert flagged == ["a4 <a4@x.org>"]


def test_latest_record_counts_and_rounds_show_their_spread() -> None:
    round2 = {"a1": [0.6, 0.7, 0.5], "a2": [0.65, 0.75, 0.55], "a3": [0.6, 0.7, 0.55]}  # 2.3 2.5 2.4
    ratings = records("a", A) + records("a", round2, 2, "10") + records("b", B)
    r = results(EXERCISE, ratings, MARKS)
    assert r.round == 2 and [p.panel for p in r.panels] == ["a"] and r.difference is None
    spread = {(s["panel"], s["round"]): s for s in r.spread}
    assert spread[("a", 1)]["sd"] == pytest.approx(0.3) and spread[("a", 2)]["sd"] == pytest.approx(0.1)
    replaced = records("a", {"a1": [1.0, 1.0, 1.0]}, 1, "11")  # a later record replaces a1's
    r1 = results(EXERCISE, ratings + replaced, MARKS, 1)
    assert max(j.cut for j in r1.panels[0].judges) == pytest.approx(4.0)


def test_feedback_is_the_judges_own_panel_only() -> None:
    f = feedback(EXERCISE, records("a", A) + records("b", B), MARKS, "a", 1)
    assert f["judges"] == 3 and f["cuts"] == pytest.approx([2.1, 2.4, 2.7])
    assert f["items"]["GK-0003"] == pytest.approx({"low": 0.5, "mean": 0.55, "high": 0.6})


def test_summary_is_printable() -> None:
    text = summary_text(results(EXERCISE, records("a", A) + records("b", B), MARKS))
    assert "Panel a: cut 2.40 ± 0.17" in text and "Recommended pass mark: 3 of 4 (75%)" in text
    assert "Welch's t = 2.23, df = 3.4, p = 0.102" in text and "r = 0.98" in text


# ---- service ------------------------------------------------------------------------------------

@pytest.fixture
def bank_with_exercise(sample_bank_rw: Path) -> Path:
    open_bank(sample_bank_rw).standard_setting.open("pk-2026", "Practitioner knowledge", FACILITATOR, items=ITEMS)
    return sample_bank_rw


def test_open_exercise_commits_by_the_facilitator(bank_with_exercise: Path) -> None:
    record = json.loads((bank_with_exercise / "standard_setting/pk-2026/exercise.json").read_text())
    assert record["panels"] == ["standard-setting-1", "standard-setting-2"] and record["status"] == "open"
    assert git(bank_with_exercise.parent, "log", "-1", "--format=%an <%ae>") .strip() == FACILITATOR
    bank = open_bank(bank_with_exercise)
    with pytest.raises(WorkflowError, match="judge"):
        bank.standard_setting.open("other", "x", JOANNE, items=ITEMS)
    with pytest.raises(InvalidIdError):
        bank.standard_setting.open("../x", "x", FACILITATOR, items=ITEMS)
    with pytest.raises(ItembankError):
        bank.standard_setting.open("empty", "x", FACILITATOR, items=[])


def test_a_round_by_both_panels(bank_with_exercise: Path) -> None:
    bank = open_bank(bank_with_exercise)
    for judge, values in ((JOANNE, [0.5, 0.6, 0.5]), (MARCUS, [0.7, 0.8, 0.6]), (CLAIRE, [0.4, 0.5, 0.5])):
        bank.standard_setting.submit_ratings("pk-2026", judge, 1, dict(zip(ITEMS, values, strict=True)))
    log = git(bank_with_exercise.parent, "log", "-3", "--format=%an|%s").splitlines()
    assert log[0] == "Claire Benson|standard setting pk-2026: round 1 ratings by Claire Benson (standard-setting-2)"
    assert len(list((bank_with_exercise / "standard_setting/pk-2026/ratings").iterdir())) == 3
    assert bank.standard_setting.judge_round("pk-2026", JOANNE) == ("standard-setting-1", 2)
    seen = bank.standard_setting.round_feedback("pk-2026", JOANNE, 1)
    assert seen["panel"] == "standard-setting-1" and seen["judges"] == 2  # not Claire's
    assert seen["cuts"] == pytest.approx([1.6, 2.1])  # GK items are 1 mark each in the sample
    result = bank.standard_setting.results("pk-2026", FACILITATOR)
    assert [p.panel for p in result.panels] == ["standard-setting-1", "standard-setting-2"]
    with pytest.raises(IdentityError, match="Only"):
        bank.standard_setting.results("pk-2026", JOANNE)
    assert open_bank(bank_with_exercise).validate().ok


@pytest.mark.parametrize(("values", "words"), [
    ({"GK-0001": 1.5, "GK-0002": 0.5, "GK-0003": 0.5}, "from 0 to 1"),
    ({"GK-0001": -0.1, "GK-0002": 0.5, "GK-0003": 0.5}, "from 0 to 1"),
    ({"GK-0001": "0.5", "GK-0002": 0.5, "GK-0003": 0.5}, "rating from 0 to 1"),
    ({"GK-0001": True, "GK-0002": 0.5, "GK-0003": 0.5}, "rating from 0 to 1"),
    ({"GK-0001": 0.5, "GK-0002": 0.5}, "Give GK-0003"),
    ({"GK-0001": 0.5, "GK-0002": 0.5, "GK-0003": 0.5, "../../x": 0.5}, "not an item"),
])
def test_bad_ratings_are_refused(bank_with_exercise: Path, values: dict, words: str) -> None:
    with pytest.raises(ReviewInputError, match=words):
        open_bank(bank_with_exercise).standard_setting.submit_ratings("pk-2026", JOANNE, 1, values)
    assert not (bank_with_exercise / "standard_setting/pk-2026/ratings").exists()


def test_rounds_in_order_once_each_and_only_for_panel_judges(bank_with_exercise: Path) -> None:
    bank = open_bank(bank_with_exercise)
    values = dict.fromkeys(ITEMS, 0.6)
    with pytest.raises(ReviewInputError, match="you are on round 1"):
        bank.standard_setting.submit_ratings("pk-2026", JOANNE, 2, values)
    with pytest.raises(ReviewInputError, match="shown once you have rated it"):
        bank.standard_setting.round_feedback("pk-2026", JOANNE, 1)
    bank.standard_setting.submit_ratings("pk-2026", JOANNE, 1, values)
    with pytest.raises(ReviewInputError, match="already rated round 1"):  # double click, second tab
        bank.standard_setting.submit_ratings("pk-2026", JOANNE, 1, values)
    bank.standard_setting.submit_ratings("pk-2026", JOANNE, 2, values)
    with pytest.raises(ReviewInputError, match="already rated"):
        bank.standard_setting.submit_ratings("pk-2026", JOANNE, 2, values)
    with pytest.raises(IdentityError):
        bank.standard_setting.submit_ratings("pk-2026", "Helen Marsh <helen.marsh@example.org>", 1, values)
    bank.standard_setting.close("pk-2026", FACILITATOR)
    with pytest.raises(ReviewInputError, match="closed"):
        bank.standard_setting.submit_ratings("pk-2026", MARCUS, 1, values)
    assert len(list((bank_with_exercise / "standard_setting/pk-2026/ratings").iterdir())) == 2
