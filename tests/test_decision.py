"""The met / not met decision (issue 13 part 1): the agreed band (tolerance, third mark),
pending never guessed, the rules of bank.json, a candidate exactly at the pass mark, refusal
without an adopted pass mark, and decisions from the results store (service and CSV)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from itembank import open_bank
from itembank.core.errors import ItembankError
from itembank.results.decision import (
    DecisionRules,
    NoAdoptedPassMarkError,
    agreed_band,
    decide,
    outcome_word,
)
from itembank.results.outcomes import AdoptedPassMark
from itembank.results.practice import Criterion, MarkRow
from itembank.storage.resultstore import ResultsFolderError
from tests.conftest import git
from tests.test_practice_marks import (  # noqa: F401 (fixtures)
    FORM1,
    PAIR,
    _marks_file,
    knowledge_store,
    marks_bank,
    with_knowledge,
)

BANDS = {0: "Not demonstrated", 1: "Limited", 2: "Competent", 3: "Strong"}
SCHEMES = {"SIM-A": {"C1": Criterion("First", BANDS), "C2": Criterion("Second", BANDS)},
           "SIM-B": {"C1": Criterion("Other", BANDS)}}
CHAIR = "Joanne Kelly <joanne.kelly@example.org>"


def mark(form: str = "F", at: float = 18.0, of: float = 30.0) -> AdoptedPassMark:
    return AdoptedPassMark(form, at, of, "hofstee", CHAIR, "The Hofstee compromise.", "ss-1",
                           f"standard_setting/ss-1/adopted/{form}.json", "abc123")


def rows(spec: dict[tuple[str, str, str], tuple[int, ...]]) -> list[MarkRow]:
    out, line = [], 1
    for (cand, scen, crit), bands in spec.items():
        for n, band in enumerate(bands):
            line += 1
            out.append(MarkRow(cand, scen, crit, f"ASR-{n + 1}", band, line))
    return out


def settings(**decision: object) -> dict:
    return {"results": {"decision": decision}}


@pytest.mark.parametrize(("bands", "tolerance", "third", "agreed"), [
    ((2, 2), 1, "median", 2),
    ((1, 2), 1, "median", 1),     # within tolerance: the mean rounded down
    ((3, 2), 1, "median", 2),
    ((1, 3), 1, "median", None),  # too far apart, no third mark: cannot be agreed
    ((1, 3), 2, "median", 2),     # within a tolerance of 2: mean of 1 and 3
    ((0, 3), 2, "median", None),
    ((1, 3, 2), 1, "median", 2),
    ((1, 3, 3), 1, "median", 3),
    ((0, 3, 1), 1, "median", 1),
    ((1, 3, 1), 1, "moderator", 1),
    ((1, 3, 3), 1, "moderator", 3),
    ((2, 2, 0), 1, "median", 2),  # a third mark counts whenever it is there
    ((2,), 1, "median", None),
    ((), 1, "median", None),
])
def test_the_agreed_band(bands: tuple[int, ...], tolerance: int, third: str, agreed: int | None) -> None:
    rules = DecisionRules(assessor_tolerance=tolerance, third_mark=third)  # type: ignore[arg-type]
    assert agreed_band(bands, rules) == agreed


def test_every_criterion_rule_with_knowledge_exactly_at_the_pass_mark() -> None:
    marks = rows({("K1", "SIM-A", "C1"): (2, 3), ("K1", "SIM-A", "C2"): (2, 2),   # met
                  ("K2", "SIM-A", "C1"): (2, 2), ("K2", "SIM-A", "C2"): (1, 2),   # C2 agreed 1
                  ("K3", "SIM-A", "C1"): (3, 3), ("K3", "SIM-A", "C2"): (3, 3),   # practice met
                  ("K4", "SIM-B", "C1"): (2, 2)})
    knowledge = {"K1": (18.0, 30.0), "K2": (25.0, 30.0), "K3": (17.5, 30.0),
                 "K4": (0.1 + 0.2 + 17.7, 30.0)}  # 18.000000000000004 - 4e-15 in floating point
    got = decide("F", "F-2026-11-30", knowledge, marks, SCHEMES, settings(), mark())
    assert [(d.candidate, d.knowledge_met, d.met, d.pending) for d in got] == [
        ("K1", True, True, ()), ("K2", True, False, ()), ("K3", False, False, ()),
        ("K4", True, True, ())]
    k1 = got[0]
    assert [(p.criterion, p.bands, p.assessors, p.agreed, p.met) for p in k1.practice] == [
        ("C1", (2, 3), ("ASR-1", "ASR-2"), 2, True), ("C2", (2, 2), ("ASR-1", "ASR-2"), 2, True)]
    assert (k1.form, k1.administration, k1.knowledge_score, k1.knowledge_max) == (
        "F", "F-2026-11-30", 18.0, 30.0)
    assert k1.pass_mark == mark() and [outcome_word(d) for d in got] == ["met", "not met", "not met", "met"]
    assert k1.rule == (
        "Met when both hold: the knowledge score is at or above the pass mark (18 of 30 marks), "
        "and every simulated-practice criterion is at band 2 or above. Two assessors mark each "
        "criterion independently; where their bands are at most 1 apart the band used is the "
        "mean of the two, rounded down; where they are further apart a third assessor marks it "
        "and the band used is the median of the three bands.")
    below = decide("F", "a", {"K1": (17.99, 30.0)}, marks, SCHEMES, settings(), mark())
    assert below[0].knowledge_met is False and below[0].met is False


def test_a_missing_mark_makes_the_decision_pending_never_guessed() -> None:
    marks = rows({("K1", "SIM-A", "C1"): (1, 3), ("K1", "SIM-A", "C2"): (3, 3),
                  ("K2", "SIM-A", "C1"): (2,), ("K2", "SIM-A", "C2"): (2, 2),
                  ("K3", "SIM-A", "C1"): (2, 2)})
    knowledge = {"K1": (10.0, 30.0), "K2": (20.0, 30.0), "K3": (20.0, 30.0), "K4": (20.0, 30.0)}
    got = decide("F", "a", knowledge, marks, SCHEMES, settings(), mark())
    assert [(d.candidate, d.met, d.pending) for d in got] == [
        ("K1", None, ("third mark needed for SIM-A/C1 (bands 1 and 3 are more than 1 apart)",)),
        ("K2", None, ("second mark needed for SIM-A/C1",)),
        ("K3", None, ("no marks for SIM-A/C2",)),
        ("K4", None, ("no simulated-practice marks have been imported for this candidate",))]
    # K1 fails the knowledge part, yet the decision waits for the marks it is owed
    assert got[0].knowledge_met is False
    assert [(p.agreed, p.met) for p in got[0].practice] == [(None, None), (3, True)]
    gone = decide("F", "a", {"K5": (20.0, 30.0)}, rows({("K5", "SIM-X", "C1"): (2, 2)}),
                  SCHEMES, settings(), mark())
    assert (gone[0].met, gone[0].pending) == (
        None, ("SIM-X is no longer an approved scenario: no marking scheme",))
    third = [*marks, MarkRow("K1", "SIM-A", "C1", "ASR-9", 2, 99)]
    resolved = decide("F", "a", {"K1": (20.0, 30.0)}, third, SCHEMES, settings(), mark())
    assert (resolved[0].met, resolved[0].pending, resolved[0].practice[0].agreed) == (True, (), 2)
    moderated = decide("F", "a", {"K1": (20.0, 30.0)},
                       [*marks, MarkRow("K1", "SIM-A", "C1", "ASR-9", 1, 99)], SCHEMES,
                       settings(third_mark="moderator"), mark())
    assert (moderated[0].met, moderated[0].practice[0].agreed) == (False, 1)


def test_the_criteria_count_rule_and_the_met_band_are_data() -> None:
    marks = rows({("K1", "SIM-A", "C1"): (3, 3), ("K1", "SIM-A", "C2"): (0, 1),
                  ("K2", "SIM-A", "C1"): (1, 1), ("K2", "SIM-A", "C2"): (0, 0)})
    knowledge = {"K1": (20.0, 30.0), "K2": (20.0, 30.0)}
    count = settings(rule="knowledge-and-criteria-count", min_criteria_met=1)
    assert [d.met for d in decide("F", "a", knowledge, marks, SCHEMES, count, mark())] == [True, False]
    every = [d.met for d in decide("F", "a", knowledge, marks, SCHEMES, settings(), mark())]
    assert every == [False, False]
    low = settings(met_band=1)  # band 1 is enough: K2's C2 (0) still fails
    assert [d.met for d in decide("F", "a", {"K2": (20.0, 30.0)}, marks, SCHEMES, low, mark())] == [False]
    words = decide("F", "a", knowledge, marks, SCHEMES, count, mark(at=17.5))[0].rule
    assert words.startswith("Met when both hold: the knowledge score is at or above the pass mark "
                            "(17.5 of 30 marks), and at least 1 criteria of each "
                            "simulated-practice scenario are at band 2 or above.")
    with pytest.raises(ItembankError, match="needs min_criteria_met"):
        DecisionRules.from_settings(settings(rule="knowledge-and-criteria-count"))
    with pytest.raises(ItembankError, match="rule must be one of"):
        DecisionRules.from_settings(settings(rule="best-of-three"))


def test_no_decision_without_an_adopted_pass_mark() -> None:
    with pytest.raises(NoAdoptedPassMarkError) as caught:
        decide("F", "a", {"K1": (20.0, 30.0)}, [], SCHEMES, settings(), None)
    assert "adopt a pass mark first: itembank standard-setting adopt" in str(caught.value)
    with pytest.raises(ItembankError, match="is for form G, not F"):
        decide("F", "a", {}, [], SCHEMES, settings(), mark("G"))


def test_the_schema_checks_the_decision_settings(valid_bank: Path) -> None:
    path = valid_bank / "bank.json"
    record = json.loads(path.read_text())
    record.setdefault("results", {})["decision"] = {"rule": "knowledge-and-criteria-count",
                                                   "third_mark": "mean", "met_band": -1}
    path.write_text(json.dumps(record, indent=2) + "\n")
    found = [(f.pointer, f.code) for f in open_bank(valid_bank).validate().errors
             if f.path == "bank.json"]
    assert found == [("/results/decision/met_band", "out-of-range"),
                     ("/results/decision/min_criteria_met", "missing-field"),
                     ("/results/decision/third_mark", "not-allowed-value")]


def test_the_sample_bank_states_its_rule() -> None:
    from tests.conftest import SAMPLE_BANK

    rules = DecisionRules.from_settings(open_bank(SAMPLE_BANK).settings)
    assert rules == DecisionRules(2, 1, "median", "knowledge-and-every-criterion", None)


# ---- from the results store -----------------------------------------------------------------


def test_decisions_from_the_store_and_the_csv_outside_the_repository(
    marks_bank: Path, with_knowledge: Path, tmp_path: Path,  # noqa: F811 (fixtures)
) -> None:
    bank = open_bank(marks_bank)
    bank.results.marks.import_marks(_marks_file(tmp_path, "a.csv", PAIR), FORM1, with_knowledge)
    matrix = bank.results.matrix(FORM1, with_knowledge)
    totals = dict(zip(matrix.candidates, matrix.totals.tolist(), strict=True))
    at = totals["CAND-00003"]  # CAND-00003 exactly at the pass mark
    adopted = mark(FORM1, at, float(matrix.max_scores.sum()))
    with pytest.raises(NoAdoptedPassMarkError):
        bank.results.marks.decisions(FORM1, with_knowledge)  # nothing adopted in this bank
    got = bank.results.marks.decisions(FORM1, with_knowledge, adopted)
    expected_met = {c: (totals[c] >= at) for c in totals}
    assert [d.candidate for d in got] == ["CAND-00001", "CAND-00002", "CAND-00003"]
    assert got[2].knowledge_met is True and got[2].met is True
    assert got[1].met is None and got[1].pending == (
        "third mark needed for SIM-0001/MC3 (bands 1 and 3 are more than 1 apart)",)
    assert got[0].met is expected_met["CAND-00001"]
    assert {d.administration for d in got} == {bank.results.administration_id(FORM1, with_knowledge)}
    # the CSV: outside the repository only, one row per candidate
    inside = bank.store.worktree / "decisions.csv"
    with pytest.raises(ResultsFolderError, match="inside the bank's git repository"):
        bank.results.marks.write_decisions(FORM1, inside, with_knowledge, adopted)
    assert not inside.exists() and git(bank.store.worktree, "status", "--porcelain").strip() == ""
    path, _made = bank.results.marks.write_decisions(FORM1, tmp_path / "out" / "d.csv", with_knowledge, adopted)
    lines = path.read_text().splitlines()
    assert lines[0] == ("candidate,form,administration,knowledge_score,knowledge_max,pass_mark,"
                        "knowledge_met,practice,decision,pending")
    assert len(lines) == 4 and path.stat().st_mode & 0o077 == 0
    assert lines[2].split(",")[-2:] == ["pending", "third mark needed for SIM-0001/MC3 (bands 1 and 3 are more than 1 apart)"]
    assert "SIM-0001: 8 of 8 criteria met" in lines[3]
    # the third mark arrives in a file of its own: the decision is made
    third = _marks_file(tmp_path, "third.csv", ["CAND-00002,SIM-0001,MC3,ASR-07,2"])
    bank.results.marks.import_marks(third, FORM1, with_knowledge)
    again = bank.results.marks.decisions(FORM1, with_knowledge, adopted)
    assert again[1].pending == () and again[1].met is expected_met["CAND-00002"]
    assert again[1].practice[2].bands == (1, 3, 2) and again[1].practice[2].agreed == 2
