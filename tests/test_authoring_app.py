"""The writers' app beyond the item form: my items, history, cases and scenarios."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from itembank import open_bank
from itembank.ui.authoring import AuthoringApp

from .conftest import git

WRITER = "Wendy Writer <wendy@example.org>"


def test_my_items_lists_status_and_comments_to_address(sample_bank_rw: Path) -> None:
    item = json.loads((sample_bank_rw / "items" / "GK-0018.json").read_text())
    assert item["status"] == "changes_requested"
    app = AuthoringApp(open_bank(sample_bank_rw), author=item["author"])
    frame = app.my_items.frame()
    row = frame[frame["id"] == "GK-0018"].iloc[0]
    assert row["status"] == "changes_requested" and "distractors" in row["comments"]
    assert set(frame["id"]) == {i for i in app.my_items.choice.options}
    folder = {"GK": "items", "AK": "items", "LP": "learning_points"}  # writers' learning points too
    assert all(json.loads((sample_bank_rw / folder[i[:2]] / f"{i}.json").read_text())["author"]
               == item["author"] for i in frame["id"])
    assert set(frame[frame["format"] == "learning_point"]["id"]) == {
        "LP-0002", "LP-0006", "LP-0010", "LP-0014"}
    app.my_items.choice.value = "GK-0018"
    app.my_items.open_button.click()
    assert app.editor.record["id"] == "GK-0018" and app.tabs.selected_index == 0


def test_history_shows_what_changed_in_words(valid_bank: Path) -> None:
    app = AuthoringApp(open_bank(valid_bank), author=WRITER)
    app.editor.open("TS-0003")
    app.editor.stem.value = "Which order applies now?"
    app.editor.save_button.click()
    assert len(app.history.versions) == 2
    assert "<th>Stem</th>" in app.history.diff.value
    assert "Which <del>order?</del> <ins>order applies now?</ins>" in app.history.diff.value
    assert "Wendy Writer" in app.history.log.value


def test_case_questions_are_reordered_and_saved(sample_bank_rw: Path) -> None:
    app = AuthoringApp(open_bank(sample_bank_rw), author=WRITER)
    cases = app.cases
    cases.open("CS-0003")
    first, second = cases.order[:2]
    cases.items.value = first
    cases.down.click()
    assert cases.order[:2] == [second, first]
    cases.save_button.click()
    assert "Saved CS-0003" in cases.result.value, cases.result.value
    stored = json.loads((sample_bank_rw / "stimuli" / "CS-0003.json").read_text())
    assert stored["items"][:2] == [second, first]
    assert git(sample_bank_rw, "log", "-1", "--format=%an|%s") == \
        "Wendy Writer|CS-0003: update items\n"


def test_new_question_for_a_case_then_remove_it(sample_bank_rw: Path) -> None:
    bank = open_bank(sample_bank_rw)
    app = AuthoringApp(bank, author=WRITER)
    app.cases.open("CS-0003")
    app.cases.new_question.click()
    editor = app.editor
    assert editor.section.value == "applied" and editor.stimulus.value == "CS-0003"
    ident = str(editor.record["id"])
    editor.stem.value = "In the case, what should the worker do first when Leah returns?"
    for row, text in zip(editor.options, ["Ask Leah where she was", "Hold a return interview",
                                          "Close the case", "Call the school"], strict=False):
        row.text.value, row.rationale.value = text, "Because."
    editor.options[1].keyed.value = True
    editor.rationale.value = "A return interview is offered after a missing episode."
    editor.roles["practitioner"].value = True
    editor.standards.add({"framework": "pqs-practitioner-2018", "statement": "PR-05"})
    editor.save_button.click()
    assert "Saved" in editor.result.value, editor.result.value
    app.cases.open("CS-0003")
    assert ident in app.cases.orphans.options
    app.cases.orphans.value = ident
    app.cases.add_button.click()
    app.cases.save_button.click()
    assert ident in json.loads((sample_bank_rw / "stimuli" / "CS-0003.json").read_text())["items"]
    assert open_bank(sample_bank_rw).validate().ok
    app.cases.items.value = ident
    app.cases.remove.click()
    assert "Removed" in app.cases.result.value, app.cases.result.value
    assert not (sample_bank_rw / "items" / f"{ident}.json").exists()
    changed = git(sample_bank_rw, "show", "--name-only", "--format=%s", "HEAD").split()
    assert f"item_bank/items/{ident}.json" in changed and "item_bank/stimuli/CS-0003.json" in changed
    assert open_bank(sample_bank_rw).validate().ok
    app.cases.items.value = app.cases.order[0]
    app.cases.remove.click()
    assert "only draft questions can be removed" in app.cases.result.value


def test_scenario_is_edited_with_readable_line_formats(sample_bank_rw: Path) -> None:
    app = AuthoringApp(open_bank(sample_bank_rw), author=WRITER)
    scenarios = app.scenarios
    scenarios.open("SIM-0001")
    assert scenarios.findings.value == ""
    scenarios.background.value += "\n\nThe family's GP has also called."
    bands = scenarios._criterion_boxes[0]["bands"]
    original = bands.value
    bands.value = "three | Good | Not a score"
    scenarios.save_button.click()
    assert "could not be read" in scenarios.result.value
    assert "whole-number score" in scenarios.findings.value
    bands.value = original
    scenarios.save_button.click()
    assert "Saved SIM-0001" in scenarios.result.value, scenarios.result.value
    stored = json.loads((sample_bank_rw / "scenarios" / "SIM-0001.json").read_text())
    assert stored["background"].endswith("The family's GP has also called.")
    assert stored["status"] == "in_review"  # approved content changed: back to review


def test_a_new_scenario_is_written_from_a_template(valid_bank: Path) -> None:
    app = AuthoringApp(open_bank(valid_bank), author=WRITER)
    scenarios = app.scenarios
    scenarios.new_button.click()
    assert scenarios.record["id"] == "SIM-0002"
    scenarios.save_button.click()
    assert "Not saved" in scenarios.result.value  # empty template: errors listed
    codes = Counter(re.findall(r'title="([a-z-]+)"', scenarios.findings.value))
    assert codes == {"too-short": 14, "too-few": 4}  # every empty field of the template, nothing else
    scenarios.title.value = "A home visit after a school referral"
    scenarios.standards.add({"framework": "fw-a", "statement": "FA-01"})
    scenarios.background.value = "Ms Patel has three children; the school is worried."
    scenarios.add_exercise.click()
    assert len(scenarios._exercise_boxes) == 2
    for number, boxes in enumerate(scenarios._exercise_boxes, 1):
        boxes["title"].value = f"Visit {number}"
        boxes["candidate_brief"].value = "You are visiting the family."
        boxes["character"].value = "Ms Patel, 34, mother of three."
        boxes["demeanour"].value = "Tired and wary."
        boxes["disclose"].value = "if asked about money :: she has rent arrears"
        boxes["do_not_say"].value = "Do not mention the father."
    scenarios.reflective.value = "Talk through your hypotheses."
    scenarios.written.value = "Write case notes and an action plan."
    scenarios.pass_rule.value = "Met on every criterion."
    boxes = scenarios._criterion_boxes[0]
    boxes["title"].value = "Engagement"
    boxes["bands"].value = "0 | Not met | Does not engage.\n1 | Met | Engages warmly."
    scenarios.save_button.click()
    assert "Saved SIM-0002" in scenarios.result.value, scenarios.findings.value
    stored = json.loads((valid_bank / "scenarios" / "SIM-0002.json").read_text())
    assert [e["id"] for e in stored["exercises"]] == ["E1", "E2"]
    assert stored["exercises"][1]["actor_briefs"][0]["disclose"] == [
        {"when": "if asked about money", "what": "she has rent arrears"}]
    assert stored["marking_scheme"]["criteria"][0]["standards"] == [
        {"framework": "fw-a", "statement": "FA-01"}]
