"""The judges' acceptable ranges and the chair's adopted pass mark, through the Bank on a copy of
the sample bank: records committed by the right person, refusals that record nothing, who may
adopt, adopted() the latest with its commit, re-adoption with history, validate's rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from itembank import open_bank
from itembank.bank import Bank
from itembank.core.errors import IdentityError, ItembankError, ReviewInputError
from itembank.results.outcomes import AdoptedPassMark
from tests.conftest import git

FORM = "practitioner-knowledge-live-2026-1"
OTHER_FORM = "practitioner-knowledge-live-2026-2"
CHAIR = "Eleanor Lindqvist <eleanor.lindqvist@example.org>"
JOANNE = "Joanne Kelly <joanne.kelly@example.org>"
MARCUS = "Marcus Reid <marcus.reid@example.org>"
CLAIRE = "Claire Benson <claire.benson@example.org>"
TUNDE = "Tunde Bello <tunde.bello@example.org>"
# 20 candidates scoring 10..29 once each on the 30-mark form: F(c) = 5 (c - 10) % for c in 10..30
SCORES = list(range(10, 30))
# each judge: pass mark 50-70%, fail rate 10-40%; own marks 60, 55, 65; pass rates 75, 70, 80
RANGES = {
    JOANNE: (60, 75),
    MARCUS: (55, 70),
    CLAIRE: (65, 80),
}
REASON = "The Hofstee mark sits inside every judge's range and keeps the Angoff intent."


def ranges(mark: float, rate: float) -> dict[str, object]:
    return {"pass_mark_min": 50, "pass_mark_max": 70, "fail_rate_min": 10, "fail_rate_max": 40,
            "pass_mark": mark, "pass_rate": rate}


def head(repo: Path, fmt: str = "%an <%ae>|%s") -> str:
    return git(repo, "log", "-1", f"--format={fmt}").strip()


@pytest.fixture
def bare(sample_bank_rw: Path) -> Path:
    """The sample bank without its own standard-setting exercises and adoptions."""
    git(sample_bank_rw.parent, "rm", "-q", "-r", "item_bank/standard_setting")
    git(sample_bank_rw.parent, "commit", "-q", "-m", "no standard setting yet")
    return sample_bank_rw


@pytest.fixture
def rated(bare: Path) -> Path:
    """An exercise over FORM's items, one round, rated 0.6 on every item by two judges of each
    panel (Angoff pass mark 0.6 x 30 = 18)."""
    sample_bank_rw = bare
    bank = open_bank(sample_bank_rw)
    record = bank.standard_setting.open("pk-2026-1", "Form 1", CHAIR, form=FORM, rounds=1)
    assert record["form"] == FORM and len(record["items"]) == 30
    for judge in (JOANNE, MARCUS, CLAIRE, TUNDE):
        bank.standard_setting.submit_ratings("pk-2026-1", judge, 1, dict.fromkeys(record["items"], 0.6))
    return sample_bank_rw


@pytest.fixture
def ranged(rated: Path) -> Path:
    bank = open_bank(rated)
    for judge, (mark, rate) in RANGES.items():
        bank.standard_setting.submit_ranges("pk-2026-1", judge, ranges(mark, rate))
    return rated


def closed(repo_bank: Path) -> Bank:
    bank = open_bank(repo_bank)
    bank.standard_setting.close("pk-2026-1", CHAIR)
    return bank


def test_ranges_are_a_commit_by_the_judge_and_the_latest_counts(rated: Path) -> None:
    bank = open_bank(rated)
    record = bank.standard_setting.submit_ranges("pk-2026-1", JOANNE, ranges(60, 75), "Hard form.")
    path = rated / f"standard_setting/pk-2026-1/ranges/{record['id']}.json"
    saved = json.loads(path.read_text())
    assert saved["judge"] == JOANNE and saved["panel"] == "standard-setting-1"
    assert (saved["pass_mark_min"], saved["fail_rate_max"], saved["comment"]) == (50, 40, "Hard form.")
    assert head(rated.parent) == f"{JOANNE}|standard setting pk-2026-1: ranges by Joanne Kelly"
    again = bank.standard_setting.submit_ranges("pk-2026-1", JOANNE, ranges(62, 72))
    assert again["id"] != record["id"]
    mine = bank.standard_setting.my_ranges("pk-2026-1", JOANNE)
    assert mine is not None and mine["pass_mark"] == 62
    assert len(bank.standard_setting.ranges_of("pk-2026-1")) == 1
    assert bank.validate().ok


@pytest.mark.parametrize(("change", "words"), [
    ({"pass_mark_min": 80, "pass_mark": 75}, "lowest acceptable pass mark \\(80%\\) is above the highest"),
    ({"fail_rate_min": 50}, "lowest acceptable fail rate \\(50%\\) is above the highest \\(40%\\)"),
    ({"fail_rate_max": 140}, "fail_rate_max: The fail rate max is 140: it must be from 0 to 100"),
    ({"pass_rate": "most"}, "pass_rate: Give the pass rate as a number"),
    ({"pass_mark": 45}, "own pass mark \\(45%\\) is outside their acceptable range"),
    ({"pass_mark_min": None}, "pass_mark_min: Give the pass mark min as a number"),
    ({"../x": 1}, "'../x' is not one of the ranges"),
])
def test_bad_ranges_are_refused_and_nothing_is_recorded(rated: Path, change: dict, words: str) -> None:
    before = head(rated.parent, "%H")
    with pytest.raises(ReviewInputError, match=words):
        open_bank(rated).standard_setting.submit_ranges("pk-2026-1", JOANNE, {**ranges(60, 75), **change})
    assert head(rated.parent, "%H") == before
    assert not (rated / "standard_setting/pk-2026-1/ranges").exists()


def test_ranges_only_after_the_last_round_by_a_judge_of_the_exercise(bare: Path) -> None:
    bank = open_bank(bare)
    record = bank.standard_setting.open("two", "Two rounds", CHAIR, form=FORM, rounds=2)
    with pytest.raises(ReviewInputError, match="Rate round 1 of 2 first"):
        bank.standard_setting.submit_ranges("two", JOANNE, ranges(60, 75))
    bank.standard_setting.submit_ratings("two", JOANNE, 1, dict.fromkeys(record["items"], 0.5))
    with pytest.raises(ReviewInputError, match="Rate round 2 of 2 first"):
        bank.standard_setting.submit_ranges("two", JOANNE, ranges(60, 75))
    with pytest.raises(IdentityError, match="not on a standard-setting panel"):
        bank.standard_setting.submit_ranges("two", CHAIR, ranges(60, 75))
    bank.standard_setting.close("two", CHAIR)
    with pytest.raises(ReviewInputError, match="closed: ranges are no longer taken"):
        bank.standard_setting.submit_ranges("two", JOANNE, ranges(60, 75))


def test_compromise_side_by_side_for_the_chair_only(ranged: Path) -> None:
    bank = open_bank(ranged)
    result = bank.standard_setting.compromise("pk-2026-1", FORM, SCORES, CHAIR)
    # Angoff 18: F(18) = 40% fail, 60% pass.
    # Hofstee: means 50-70% (marks 15..21), fail 10-40%; L(c) = 40 - 30 (100c/30 - 50) / 20
    #   c=16: L 35, F 30 < 35;  c=17: L 30, F 35 >= 30 -> 17 (65% pass)
    # Beuk: marks 60, 55, 65 (mean 60, SD 5), pass rates 75, 70, 80 (mean 75, SD 5): slope -1,
    #   f(c) = 25 - (100c/30 - 60): c=16: 31.67 > F 30;  c=17: 28.33 <= F 35 -> 17
    assert [(f.method, f.pass_mark, f.pass_rate) for f in result.figures] == [
        ("angoff", 18, 60.0), ("hofstee", 17, 65.0), ("beuk", 17, 65.0)]
    assert result.acceptable == (15, 21) and result.curve.max_score == 30
    with pytest.raises(IdentityError, match=r"Only Eleanor Lindqvist .*, who facilitates pk-2026-1, chairs its review"):
        bank.standard_setting.compromise("pk-2026-1", FORM, SCORES, JOANNE)
    with pytest.raises(ItembankError, match="did not rate the items of practitioner-knowledge-live-2026-2"):
        bank.standard_setting.compromise("pk-2026-1", OTHER_FORM, SCORES, CHAIR)
    with pytest.raises(ItembankError, match="from 0 to 30"):
        bank.standard_setting.compromise("pk-2026-1", FORM, [31], CHAIR)


def test_adoption_is_one_commit_by_the_chair_and_adopted_returns_it(ranged: Path) -> None:
    bank = closed(ranged)
    assert bank.standard_setting.adopted(FORM) is None
    adopted = bank.standard_setting.adopt("pk-2026-1", FORM, 17, "hofstee", REASON, CHAIR, scores=SCORES,
                                          administration="practitioner-knowledge-live-2026-1-2026-11-30")
    relpath = f"standard_setting/pk-2026-1/adopted/{FORM}.json"
    sha = head(ranged.parent, "%H")
    assert adopted == AdoptedPassMark(FORM, 17.0, 30.0, "hofstee", CHAIR, REASON, "pk-2026-1", relpath, sha)
    assert head(ranged.parent) == (f"{CHAIR}|standard setting pk-2026-1: pass mark 17 of 30 adopted for "
                                   f"{FORM} (hofstee) by Eleanor Lindqvist")
    assert git(ranged.parent, "show", "--name-only", "--format=", "HEAD").split() == [f"item_bank/{relpath}"]
    record = json.loads((ranged / relpath).read_text())
    assert record["figures"]["angoff"]["pass_mark"] == 18 and record["figures"]["beuk"]["pass_rate"] == 65.0
    assert record["figures"]["hofstee"]["inputs"] == {"f_max": 40.0, "f_min": 10.0, "judges": 3.0,
                                                      "k_max": 70.0, "k_min": 50.0}
    assert record["candidates"] == 20 and record["acceptable"] == [15, 21] and "supersedes" not in record
    assert open_bank(ranged).standard_setting.adopted(FORM) == adopted
    assert open_bank(ranged).validate().ok


def test_readoption_supersedes_and_history_keeps_both(ranged: Path) -> None:
    bank = closed(ranged)
    first = bank.standard_setting.adopt("pk-2026-1", FORM, 18, "angoff", REASON, CHAIR, scores=SCORES)
    second = bank.standard_setting.adopt("pk-2026-1", FORM, 16, "chair", "Set one mark lower: the "
                                         "new guidance items proved harder than judged.", CHAIR, scores=SCORES)
    assert second.commit != first.commit and second.method == "chair" and second.pass_mark == 16
    latest = bank.standard_setting.adopted(FORM)
    assert latest is not None and latest.commit == second.commit == head(ranged.parent, "%H")
    record = json.loads((ranged / latest.record).read_text())
    assert record["supersedes"]["pass_mark"] == 18 and record["supersedes"]["method"] == "angoff"
    history = bank.standard_setting.adoption_history(FORM)
    assert [(sha, r["pass_mark"]) for sha, _, r in history] == [(second.commit, 16), (first.commit, 18)]


@pytest.mark.parametrize(("mark", "method", "reason", "words"), [
    (16, "hofstee", REASON, "The hofstee figure is 17, not 16"),
    (22, "chair", REASON, "judges' acceptable range is 15 to 21 marks"),
    (17, "guess", REASON, "must be one of angoff, hofstee, beuk, chair"),
    (17, "hofstee", "ok", "Give the reason"),
    (17.5, "chair", REASON, "whole number of marks"),
    ("17", "hofstee", REASON, "whole number of marks"),
    (float("inf"), "chair", REASON, "whole number of marks"),
    (float("nan"), "chair", REASON, "whole number of marks"),
])
def test_bad_adoptions_are_refused_and_nothing_is_committed(ranged: Path, mark: object, method: str,
                                                            reason: str, words: str) -> None:
    bank = closed(ranged)
    before = head(ranged.parent, "%H")
    with pytest.raises(ReviewInputError, match=words):
        bank.standard_setting.adopt("pk-2026-1", FORM, mark, method, reason, CHAIR, scores=SCORES)
    assert head(ranged.parent, "%H") == before and bank.standard_setting.adopted(FORM) is None


def test_only_the_chair_adopts_and_only_once_closed(ranged: Path) -> None:
    bank = open_bank(ranged)
    with pytest.raises(ReviewInputError, match="still open: close it"):
        bank.standard_setting.adopt("pk-2026-1", FORM, 18, "angoff", REASON, CHAIR, scores=SCORES)
    bank.standard_setting.close("pk-2026-1", CHAIR)
    for person in (JOANNE, "Helen Marsh <helen.marsh@example.org>"):
        with pytest.raises(IdentityError, match=r"Only Eleanor Lindqvist .*, who facilitates pk-2026-1, chairs its review"):
            bank.standard_setting.adopt("pk-2026-1", FORM, 18, "angoff", REASON, person, scores=SCORES)
    assert bank.standard_setting.adopted(FORM) is None


def test_no_hofstee_figure_cannot_be_adopted_as_hofstee(rated: Path) -> None:
    bank = open_bank(rated)
    # fail rate 0-5% acceptable, but even 50% (15 marks) fails 25%: the curve is above the box
    bank.standard_setting.submit_ranges("pk-2026-1", JOANNE, {**ranges(60, 75), "fail_rate_max": 5,
                                                              "fail_rate_min": 0})
    bank.standard_setting.close("pk-2026-1", CHAIR)
    figure = bank.standard_setting.compromise("pk-2026-1", FORM, SCORES, CHAIR).figure("hofstee")
    assert figure.pass_mark is None and figure.fallback == 15
    with pytest.raises(ReviewInputError, match="There is no hofstee figure to adopt: No intersection"):
        bank.standard_setting.adopt("pk-2026-1", FORM, 15, "hofstee", REASON, CHAIR, scores=SCORES)
    adopted = bank.standard_setting.adopt("pk-2026-1", FORM, 15, "chair", REASON, CHAIR, scores=SCORES)
    assert adopted.method == "chair"


def test_validate_catches_hand_edited_records(ranged: Path) -> None:
    bank = closed(ranged)
    adopted = bank.standard_setting.adopt("pk-2026-1", FORM, 17, "hofstee", REASON, CHAIR, scores=SCORES)
    path = ranged / adopted.record
    record = json.loads(path.read_text())
    record.update(decided_by=JOANNE, pass_mark=19)
    path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    rng = next((ranged / "standard_setting/pk-2026-1/ranges").iterdir())
    bad = json.loads(rng.read_text())
    bad["fail_rate_min"] = 90
    rng.write_text(json.dumps(bad, indent=2, sort_keys=True) + "\n")
    found = {(f.path, f.pointer, f.code) for f in open_bank(ranged).validate().errors}
    rel = str(rng.relative_to(ranged))
    assert found == {
        (adopted.record, "/pass_mark", "not-the-figure"),
        (adopted.record, "/decided_by", "not-the-chair"),
        (rel, "/fail_rate_min", "bad-range"),
    }


def test_the_sample_adoptions_and_the_latest_of_two_exercises(sample_bank_rw: Path) -> None:
    bank = open_bank(sample_bank_rw)
    sample = bank.standard_setting.adopted(FORM)
    assert sample is not None and (sample.pass_mark, sample.method, sample.exercise) == (18.0, "angoff", "pk-live-2026-1")
    assert sample.decided_by == CHAIR and sample.commit == git(
        sample_bank_rw.parent, "log", "-1", "--format=%H", "--", f"item_bank/{sample.record}").strip()
    other = bank.standard_setting.adopted(OTHER_FORM)
    assert other is not None and (other.pass_mark, other.method) == (18.0, "angoff")
    record = bank.standard_setting.open("pk-2026-1b", "Again", CHAIR, form=FORM, rounds=1)
    for judge in (JOANNE, CLAIRE):
        bank.standard_setting.submit_ratings("pk-2026-1b", judge, 1, dict.fromkeys(record["items"], 0.5))
    bank.standard_setting.close("pk-2026-1b", CHAIR)
    newer = bank.standard_setting.adopt("pk-2026-1b", FORM, 15, "angoff", REASON, CHAIR, scores=SCORES)
    assert bank.standard_setting.adopted(FORM) == newer and newer.exercise == "pk-2026-1b"
    assert [r["exercise"] for _, _, r in bank.standard_setting.adoption_history(FORM)] == [
        "pk-2026-1b", "pk-live-2026-1"]
