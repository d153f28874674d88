"""The standard-setting app driven without a browser: a facilitator opens an exercise, judges in
both panels rate a round, each sees only their own panel's spread, the facilitator sees results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from itembank import open_bank
from itembank.ui.standard_setting_app import StandardSettingApp, parse_probability
from tests.conftest import git

FACILITATOR = "Priya Shah <priya.shah@example.org>"
JOANNE = "Joanne Kelly <joanne.kelly@example.org>"
MARCUS = "Marcus Reid <marcus.reid@example.org>"
CLAIRE = "Claire Benson <claire.benson@example.org>"
ITEMS = ["GK-0001", "GK-0002", "GK-0003"]


def facilitator(bank_path: Path) -> StandardSettingApp:
    app = StandardSettingApp(open_bank(bank_path))
    app.fac_name.value = FACILITATOR
    app.fac_button.click()
    assert app.role == "facilitator", app.message.value
    return app


def judge(bank_path: Path, who: str) -> StandardSettingApp:
    app = StandardSettingApp(open_bank(bank_path))
    app.who.value = who
    app.judge_button.click()
    assert app.role == "judge", app.message.value
    return app


def rate(app: StandardSettingApp, values: list[str]) -> None:
    app.start_button.click()
    for box, value in zip(app.inputs.values(), values, strict=True):
        box.value = value
    app.submit_button.click()


def test_parse_probability() -> None:
    assert parse_probability("0.65") == 0.65 and parse_probability("65%") == 0.65
    assert parse_probability("abc") is None and parse_probability("nan") is None and parse_probability("") is None


def test_round_by_both_panels_and_results(sample_bank_rw: Path) -> None:
    fac = facilitator(sample_bank_rw)
    fac.new_id.value, fac.new_title.value, fac.new_items.value = "pk-2026", "Practitioner", "GK-0001, GK-0002 GK-0003"
    fac.open_button.click()
    assert "Opened pk-2026 with 3 items" in fac.message.value
    joanne = judge(sample_bank_rw, JOANNE)
    joanne.exercise.value = "pk-2026"
    rate(joanne, ["0.5", "0.6", "0.7"])
    assert "Recorded your round 1 ratings" in joanne.message.value
    assert "Round 2 of 2" in joanne.round_label.value and "Your panel in round 1" in joanne.feedback.value
    claire = judge(sample_bank_rw, CLAIRE)
    claire.exercise.value = "pk-2026"
    rate(claire, ["0.9", "0.9", "0.9"])
    assert "0.90" in claire.feedback.value and "0.50" not in claire.feedback.value  # never panel 1's
    joanne.start_button.click()
    assert "0.90" not in joanne.feedback.value
    fac.fac_exercise.value = "pk-2026"
    fac.results_button.click()
    assert "Panel standard-setting-1: cut 1.80" in fac.summary.value
    assert "Panel standard-setting-2: cut 2.70" in fac.summary.value
    assert "Recommended pass mark: 3 of 3" in fac.summary.value
    log = git(sample_bank_rw.parent, "log", "-3", "--format=%an").split("\n")
    assert log[:3] == ["Claire Benson", "Joanne Kelly", "Priya Shah"]


def test_bad_input_is_refused_and_nothing_recorded(sample_bank_rw: Path) -> None:
    open_bank(sample_bank_rw).standard_setting.open("pk-2026", "P", FACILITATOR, items=ITEMS)
    app = judge(sample_bank_rw, MARCUS)
    app.exercise.value = "pk-2026"
    rate(app, ["1.5", "0.5", "0.5"])
    assert "must be from 0 to 1" in app.message.value
    for box, value in zip(app.inputs.values(), ["0.5", "lots", "0.5"], strict=True):
        box.value = value
    app.submit_button.click()
    assert "Give GK-0002 a rating" in app.message.value
    app._start("../../etc")  # a crafted exercise id
    assert "Choose one of the exercises" in app.message.value
    assert not (sample_bank_rw / "standard_setting/pk-2026/ratings").exists()
    for box in app.inputs.values():
        box.value = "0.6"
    app.submit_button.click()
    app.round = 1  # a stale page (second tab) submitting round 1 again
    app.submit_button.click()
    assert "already rated round 1" in app.message.value
    assert len(list((sample_bank_rw / "standard_setting/pk-2026/ratings").iterdir())) == 1


def test_people_in_the_wrong_place(sample_bank_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = StandardSettingApp(open_bank(sample_bank_copy))
    app._sign_in_judge("Helen Marsh <helen.marsh@example.org>")  # a reviewer, not a judge
    assert "not on a standard-setting panel" in app.message.value and app.role is None
    app.fac_name.value = JOANNE
    app.fac_button.click()
    assert "Judges cannot facilitate" in app.message.value
    app.fac_name.value = "<script>alert(1)</script>"
    app.fac_button.click()
    assert "<script>" not in app.message.value and app.role is None
    monkeypatch.setenv("JUPYTERHUB_USER", "tunde.bello")
    hub = StandardSettingApp(open_bank(sample_bank_copy))
    assert hub.role == "judge" and hub.person == "Tunde Bello <tunde.bello@example.org>"
    judge_app = judge(sample_bank_copy, JOANNE)
    judge_app._results("pk-2026")
    assert "Only the facilitator" in judge_app.message.value
    assert json.dumps(judge_app.summary.value) == '""'


def test_the_facilitators_exercise_is_always_chosen(sample_bank_rw: Path) -> None:
    fac = facilitator(sample_bank_rw)
    assert fac.fac_exercise.options == () and fac.fac_exercise.value is None
    fac.results_button.click()  # nothing to show yet: said plainly, next to the button
    assert "Open an exercise first" in fac.results_message.value
    assert "None is not a valid slug" not in fac.results_message.value + fac.top_message.value
    fac.new_id.value, fac.new_title.value, fac.new_items.value = "pk-2026", "P", "GK-0001"
    fac.open_button.click()
    assert fac.fac_exercise.value == "pk-2026"  # the one just opened, no blank choice
    fac.new_id.value = "ak-2026"
    fac.open_button.click()
    assert fac.fac_exercise.value == "ak-2026"
    again = facilitator(sample_bank_rw)  # a new session starts on the first open exercise
    assert again.fac_exercise.value == "ak-2026"
    again.results_button.click()
    assert "Standard setting: ak-2026, round 1" in again.summary.value


def test_a_judges_earlier_ratings_are_filled_in_the_next_round(sample_bank_rw: Path) -> None:
    open_bank(sample_bank_rw).standard_setting.open("pk-2026", "P", FACILITATOR, items=ITEMS)
    joanne = judge(sample_bank_rw, JOANNE)
    joanne.start_button.click()
    assert [box.value for box in joanne.inputs.values()] == ["", "", ""]  # round 1 starts blank
    rate(joanne, ["0.5", "65%", "0.7"])
    assert "Round 2 of 2" in joanne.round_label.value
    assert "Your round 1 ratings are filled in" in joanne.round_label.value
    assert [box.value for box in joanne.inputs.values()] == ["0.5", "0.65", "0.7"]
    later = judge(sample_bank_rw, JOANNE)  # a new session finds them too
    later.start_button.click()
    assert [box.value for box in later.inputs.values()] == ["0.5", "0.65", "0.7"]
    marcus = judge(sample_bank_rw, MARCUS)  # never another judge's ratings
    marcus.start_button.click()
    assert [box.value for box in marcus.inputs.values()] == ["", "", ""]


def test_messages_appear_next_to_the_button_that_caused_them(sample_bank_rw: Path) -> None:
    open_bank(sample_bank_rw).standard_setting.open("pk-2026", "P", FACILITATOR, items=ITEMS)
    app = judge(sample_bank_rw, MARCUS)
    rate(app, ["1.5", "0.5", "0.5"])
    assert "must be from 0 to 1" in app.submit_message.value
    assert app.top_message.value == "" and app.start_message.value == ""
    app.exercise.options = [("gone", "gone")]  # a list gone stale under the judge
    app.start_button.click()
    assert "gone/exercise.json does not exist" in app.start_message.value
    assert app.submit_message.value == ""  # the old message does not linger elsewhere
    fac = facilitator(sample_bank_rw)
    fac.new_id.value = "not a slug!"
    fac.new_items.value = "GK-0001"
    fac.open_button.click()
    assert "ib-msg-error" in fac.open_message.value and fac.results_message.value == ""


def test_results_warn_of_small_panels_and_show_welchs_test(sample_bank_rw: Path) -> None:
    open_bank(sample_bank_rw).standard_setting.open("pk-2026", "P", FACILITATOR, items=ITEMS,
                                                    rounds=1)
    for who, values in [(JOANNE, ["0.5", "0.6", "0.7"]), (MARCUS, ["0.7", "0.7", "0.7"]),
                        (CLAIRE, ["0.9", "0.9", "0.9"])]:
        rate(judge(sample_bank_rw, who), values)
    fac = facilitator(sample_bank_rw)
    fac.results_button.click()
    summary = fac.summary.value
    # panel 2 has one judge: no Welch test, and the summary says why
    assert "Welch&#x27;s t-test: not computed (it needs at least two judges" in summary
    assert ("WARNING: Panel standard-setting-2 has 1 judge(s) with complete ratings in round 1, "
            "fewer than the 5 the bank asks for") in summary
    assert "Panel standard-setting-2 has 1 judge(s)" in fac.results_message.value
    rate(judge(sample_bank_rw, "Tunde Bello <tunde.bello@example.org>"), ["0.8", "0.8", "0.8"])
    fac.results_button.click()
    # by hand: cuts 1.8, 2.1 against 2.7, 2.4; each variance 0.045, so t = -0.6 / sqrt(0.045)
    # = -2.83 on (0.045)^2 / (2 x 0.0225^2) = 2.0 df; for 2 df, p = 1 - |t| / sqrt(t^2 + 2) = 0.106
    assert "Welch&#x27;s t = -2.83, df = 2.0, p = 0.106" in fac.summary.value
    assert "Difference between panels: -0.60 marks" in fac.summary.value
    settings = json.loads((sample_bank_rw / "bank.json").read_text())
    settings["min_judges_per_panel"] = 2
    (sample_bank_rw / "bank.json").write_text(json.dumps(settings, indent=2) + "\n")
    git(sample_bank_rw.parent, "commit", "-qam", "two judges are enough here")
    fac = facilitator(sample_bank_rw)
    fac.results_button.click()
    assert "WARNING" not in fac.summary.value and fac.results_message.value == ""
