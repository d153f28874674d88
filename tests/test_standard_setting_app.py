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
