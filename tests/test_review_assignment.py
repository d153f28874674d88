"""Review panels can be assigned the roles whose content they review (bank.json data)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from itembank import open_bank
from itembank.core.errors import ReviewInputError

RITA = "Rita Reviewer <rita@example.org>"


def assign(bank: Path, roles: list[str]) -> None:
    settings = json.loads((bank / "bank.json").read_text())
    settings["panels"][0]["roles"] = roles
    (bank / "bank.json").write_text(json.dumps(settings, indent=2))


def test_a_panel_sees_only_content_for_its_roles(valid_bank: Path) -> None:
    assert [e.id for e in open_bank(valid_bank).review.queue(RITA)] == ["TS-0002"]
    assign(valid_bank, ["supervisor"])
    bank = open_bank(valid_bank)
    assert bank.validate().ok
    assert bank.review.queue(RITA) == []
    with pytest.raises(ReviewInputError, match="reviews supervisor content only"):
        bank.review.open("TS-0002", RITA)  # an id typed into a widget does not get round it
    assign(valid_bank, ["practitioner"])
    assert [e.id for e in open_bank(valid_bank).review.queue(RITA)] == ["TS-0002"]


def test_a_panel_role_must_be_declared(valid_bank: Path) -> None:
    assign(valid_bank, ["leader"])
    report = open_bank(valid_bank).validate()
    assert ("bank.json", "/panels/0/roles/0", "unknown-role") in {
        (f.path, f.pointer, f.code) for f in report.errors}
