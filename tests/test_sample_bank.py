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
    assert bank.currency() == []
    assert report.files_checked > 150


def test_files_are_canonical_json() -> None:
    for path in sorted(SAMPLE_BANK.rglob("*.json")):
        text = path.read_text(encoding="utf-8")
        assert text == dumps(json.loads(text)), f"{path} is not canonically formatted"


def test_frameworks_and_references() -> None:
    sizes = {f["id"]: len(f["statements"]) for f in records("standards")}
    assert sizes == {"pqs-practitioner-2018": 10, "pqs-supervisor-2018": 8, "pqs-leader-2018": 6}
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
    assert result.uncovered == []
    assessed = {s["statement"] for s in result.statements if s["assessed"]}
    assert assessed == {f"PR-{n:02d}" for n in range(1, 11)} | {f"PS-{n:02d}" for n in range(1, 9)}


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
