"""The compromise part of the standard-setting app driven without a browser: a judge's ranges
after the last round (bad input refused beside the button, pass rates turned into fail rates),
and the chair's review of a delivered form (figures, chart, adoption with a reason)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from itembank import open_bank
from itembank.ui.standard_setting_app import StandardSettingApp
from itembank.ui.standard_setting_compromise import parse_percent, ranges_values
from tests.conftest import ImportedSample, git, results_copy, sample_repo
from tests.test_adoption import CHAIR, FORM, JOANNE


def test_parse_percent_and_pass_rates_become_fail_rates() -> None:
    assert parse_percent("65%") == 65.0 and parse_percent(" 62.5 ") == 62.5 and parse_percent("lots") == "lots"
    assert parse_percent("nan") == "nan"
    boxes = {"pass_mark_min": "50", "pass_mark_max": "70%", "rate_min": "70", "rate_max": "90",
             "pass_mark": "60", "pass_rate": "80"}
    assert ranges_values(boxes, "pass") == {"pass_mark_min": 50.0, "pass_mark_max": 70.0, "pass_mark": 60.0,
                                            "pass_rate": 80.0, "fail_rate_min": 10.0, "fail_rate_max": 30.0}
    assert ranges_values(boxes, "fail")["fail_rate_max"] == 90.0


def test_a_judge_enters_ranges_after_the_last_round(sample_bank_rw: Path) -> None:
    bank = open_bank(sample_bank_rw)
    bank.standard_setting.open("ex-app", "App", CHAIR, items=["GK-0001", "GK-0002"], rounds=1)
    app = StandardSettingApp(open_bank(sample_bank_rw))
    app.who.value = JOANNE
    app.judge_button.click()
    app.exercise.value = "ex-app"
    app.start_button.click()
    assert app.ranges.root.layout.display == "none"  # not before the last round
    for box in app.inputs.values():
        box.value = "0.6"
    app.submit_button.click()
    assert app.ranges.root.layout.display == "" and "every round" in app.round_label.value
    boxes = app.ranges.inputs
    for key, value in {"pass_mark_min": "70", "pass_mark_max": "50", "rate_min": "10", "rate_max": "30",
                       "pass_mark": "60", "pass_rate": "eighty"}.items():
        boxes[key].value = value
    app.ranges.submit.click()
    shown = app.ranges.message.value
    assert "lowest acceptable pass mark (70%) is above the highest (50%): swap them" in shown
    assert "Give the pass rate as a number" in shown and "ib-msg-error" in shown
    assert not (sample_bank_rw / "standard_setting/ex-app/ranges").exists()
    boxes["pass_mark_min"].value, boxes["pass_mark_max"].value, boxes["pass_rate"].value = "50", "70", "80%"
    app.ranges.rate_is.value = "pass"
    boxes["rate_min"].value, boxes["rate_max"].value = "75", "90"
    app.ranges.submit.click()
    assert "Recorded your ranges" in app.ranges.message.value
    record = open_bank(sample_bank_rw).standard_setting.my_ranges("ex-app", JOANNE)
    assert record is not None and (record["fail_rate_min"], record["fail_rate_max"]) == (10, 25)
    assert "fail rate 10% to 25%" in app.ranges.saved.value
    assert git(sample_bank_rw.parent, "log", "-1", "--format=%an <%ae>").strip() == JOANNE


@pytest.fixture
def delivered(imported_sample: ImportedSample, tmp_path: Path) -> tuple[Path, Path]:
    """The sample bank (its exercises closed, pass marks adopted) with form 1's results imported
    (a copy of the session's import of them, conftest.imported_sample)."""
    return sample_repo(tmp_path), results_copy(imported_sample.form1, tmp_path)


def test_the_chair_compares_and_adopts(delivered: tuple[Path, Path]) -> None:
    path, store = delivered
    app = StandardSettingApp(open_bank(path))
    app.fac_name.value = CHAIR
    app.fac_button.click()
    app.fac_exercise.value = "pk-live-2026-1"
    chair = app.chair
    chair.form.value, chair.folder.value = FORM, str(store)
    chair.compare.click()
    assert chair.message.value == "", chair.message.value
    bank = open_bank(path)
    totals = [float(x) for x in bank.results.matrix(FORM, store).totals]
    expected = bank.standard_setting.compromise("pk-live-2026-1", FORM, totals, CHAIR)
    for figure in expected.figures:
        assert f"<th>{figure.method}</th><td>{figure.pass_mark}</td>" in chair.table.value
    assert chair.chart.value[:8] == b"\x89PNG\r\n\x1a\n" and chair.chart.layout.display == ""
    assert "Adopted: <strong>18</strong> of 30 (angoff)" in chair.current.value  # the sample's decision
    assert chair.mark.value == "18"  # the Angoff figure, filled in
    chair.method.value = "hofstee"
    assert chair.mark.value == str(expected.figure("hofstee").pass_mark)
    chair.method.value, chair.mark.value, chair.reason.value = "chair", "25", "Too high on purpose here."
    chair.adopt_button.click()
    assert "outside" not in chair.message.value and "must lie within the range" in chair.message.value
    chair.mark.value = "17"
    chair.adopt_button.click()
    assert "Adopted 17 for practitioner-knowledge-live-2026-1" in chair.message.value
    assert "Adopted: <strong>17</strong> of 30 (chair)" in chair.current.value
    record = json.loads((path / "standard_setting/pk-live-2026-1/adopted" / f"{FORM}.json").read_text())
    assert record["supersedes"]["pass_mark"] == 18 and record["decided_by"] == CHAIR
