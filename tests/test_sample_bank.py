"""The sample bank is real, valid content that meets the brief (checked on a copy)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from itembank import open_bank
from itembank.core.canonical import dumps

from .conftest import SAMPLE_BANK

FORMATS = {"single_best_answer", "multiple_response", "true_false", "multiple_true_false"}


def records(folder: str) -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8"))
            for p in sorted((SAMPLE_BANK / folder).rglob("*.json"))]


def test_validates_without_errors_or_currency_findings(sample_bank_copy: Path) -> None:
    bank = open_bank(sample_bank_copy)
    report = bank.validate()
    assert report.errors == []
    # on the day the catalogue was last reviewed (not today: a test must not fail by the calendar)
    reviewed_on = json.loads((SAMPLE_BANK / "references.json").read_text())["reviewed_on"]
    assert bank.currency(on=reviewed_on) == []
    assert report.files_checked > 150


def test_currency_on_1_april_2027_names_only_content_still_on_the_ended_standard(
        sample_bank_copy: Path) -> None:
    found = open_bank(sample_bank_copy).currency(on="2027-04-01")
    assert found and {f.code for f in found} == {"framework-ended"}
    assert all("only to pqs-practitioner-2018, which ended on 2027-03-31" in f.message
               for f in found)


def test_files_are_canonical_json() -> None:
    for path in sorted(SAMPLE_BANK.rglob("*.json")):
        text = path.read_text(encoding="utf-8")
        assert text == dumps(json.loads(text)), f"{path} is not canonically formatted"


def test_frameworks_and_references() -> None:
    sizes = {f["id"]: len(f["statements"]) for f in records("standards")}
    assert sizes == {"pqs-practitioner-2018": 10, "pqs-supervisor-2018": 8, "pqs-leader-2018": 6,
                     "ecs-2026": 6}
    refs = json.loads((SAMPLE_BANK / "references.json").read_text())["references"]
    status = Counter(r["status"] for r in refs)
    assert len(refs) >= 20 and status["current"] >= 10 and status["superseded"] >= 5
    titles = {r["title"] for r in refs}
    assert "Working Together to Safeguard Children 2023" in titles


def test_general_items_cover_every_practitioner_statement_in_all_formats() -> None:
    general = [i for i in records("items") if i["section"] == "general"]
    assert len(general) >= 60
    assert {i["format"] for i in general} == FORMATS
    per_statement = Counter(m["statement"] for i in general for m in i["standards"]
                            if m["framework"] == "pqs-practitioner-2018")
    assert all(per_statement[f"PR-{n:02d}"] >= 4 for n in range(1, 11)), per_statement


def test_case_stimuli_and_applied_items() -> None:
    stimuli = records("stimuli")
    assert len(stimuli) >= 5
    items = {i["id"]: i for i in records("items")}
    for stimulus in stimuli:
        assert 4 <= len(stimulus["items"]) <= 12
        assert all(items[i]["stimulus"] == stimulus["id"] for i in stimulus["items"])
    roles = Counter(r for s in stimuli for r in s["roles"])
    assert roles["practitioner"] >= 2 and roles["supervisor"] >= 2
    supervisor_statements = {m["statement"] for i in items.values()
                             if i["section"] == "applied" and "supervisor" in i["roles"]
                             for m in i["standards"]}
    assert {f"PS-{n:02d}" for n in range(1, 9)} <= supervisor_statements


def test_scenarios() -> None:
    scenarios = records("scenarios")
    assert len(scenarios) >= 3
    practitioner = [s for s in scenarios if s["role"] == "practitioner"]
    assert len(practitioner) >= 2 and all(len(s["exercises"]) == 2 for s in practitioner)
    supervisor = [s for s in scenarios if s["role"] == "supervisor"]
    assert any(e["kind"] == "supervision" for s in supervisor for e in s["exercises"])
    for s in scenarios:
        assert s["reflective"]["prompt"] and s["written"]["task"]
        assert all(len(c["bands"]) >= 2 and c["standards"] for c in s["marking_scheme"]["criteria"])
        assert s["marking_scheme"]["mixed_evidence"] and s["marking_scheme"]["second_marking"]


def test_every_pass_mark_is_the_same_proportion_of_the_maximum() -> None:
    """15 of 24 and 14 of 21 are the same standard: the smallest whole total at or above 62.5%."""
    import math
    import re
    for s in records("scenarios"):
        top = sum(max(b["score"] for b in c["bands"]) for c in s["marking_scheme"]["criteria"])
        total, out_of = map(int, re.search(r"at least \*\*(\d+) out of (\d+)\*\*",
                                           s["marking_scheme"]["pass_rule"]).groups())
        assert (out_of, total) == (top, math.ceil(0.625 * top)), s["id"]


def test_every_workflow_state_and_two_reviewer_approvals() -> None:
    items = records("items")
    states = Counter(i["status"] for i in items)
    assert set(states) == {"draft", "in_review", "changes_requested", "approved", "rejected",
                           "retired"}
    assert states["approved"] > len(items) / 2
    approvals: dict[str, set[str]] = defaultdict(set)
    for review in records("reviews"):
        if review.get("decision") == "approve":  # blind answers (reviews/ID/blind/) have none
            approvals[review["target"]].add(review["reviewer"])
    approved = [i for i in items if i["status"] == "approved"]
    assert all(len(approvals[i["id"]]) >= 2 for i in approved)


def test_coverage_every_assessed_statement_has_approved_items(sample_bank_copy: Path) -> None:
    result = open_bank(sample_bank_copy).coverage()
    # the early career standards start on 1 April 2027: their gaps are the work still to do
    assert [s for s in result.uncovered if s["framework"] != "ecs-2026"] == []
    assessed = {s["statement"] for s in result.statements if s["assessed"]}
    assert assessed == ({f"PR-{n:02d}" for n in range(1, 11)} | {f"PS-{n:02d}" for n in range(1, 9)}
                        | {f"ECS-{n:02d}" for n in range(1, 7)})


@pytest.mark.parametrize("blueprint,role", [("practitioner-knowledge-live", "practitioner"),
                                           ("supervisor-knowledge-live", "supervisor")])
def test_blueprints_model_the_live_assessment(sample_bank_copy: Path, blueprint: str,
                                              role: str) -> None:
    bp = json.loads((SAMPLE_BANK / "blueprints" / f"{blueprint}.json").read_text())
    assert bp["role"] == role and bp["time_minutes"] == 60
    assert [(s["section"], s["items"], s.get("stimuli")) for s in bp["sections"]] == [
        ("general", 18, None), ("applied", 12, 1)]
    capacity = open_bank(sample_bank_copy).coverage(blueprint=blueprint).blueprint
    assert capacity is not None and capacity.forms_upper_bound >= 1


def test_learning_points_one_per_practitioner_statement_each_approved_by_two(
        sample_bank_copy: Path) -> None:
    points = records("learning_points")
    assert 12 <= len(points) <= 15
    primary = {p["standards"][0]["statement"] for p in points}
    assert primary == {f"PR-{n:02d}" for n in range(1, 11)}
    approvals: dict[str, set[str]] = defaultdict(set)
    for review in records("reviews"):
        if review.get("decision") == "approve":
            approvals[review["target"]].add(review["reviewer"])
    assert all(p["status"] == "approved" for p in points)
    assert all(len(approvals[p["id"]] - {p["author"]}) >= 2 for p in points)
    letters = open_bank(sample_bank_copy).learning_points()
    assert [t.id for t in letters] == [f"LP-{n:04d}" for n in range(1, len(points) + 1)]
    assert all(t.resources and t.standards for t in letters)
