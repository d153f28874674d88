"""The item editor's model alone: plain values in, records, findings and commits out (no widgets)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from itembank import open_bank
from itembank.core.errors import InvalidIdError
from itembank.ui.item_model import ItemModel, NotSubmittedError, fields_of, group_findings

from .conftest import git

WRITER = "Wendy Writer <wendy@example.org>"


def test_load_then_edit_gives_the_record_the_form_describes(valid_bank: Path) -> None:
    model = ItemModel(open_bank(valid_bank), author=WRITER)
    original = model.fetch("TS-0002")
    model.load(original)
    assert not model.dirty and model.saved == original
    fields = fields_of(model.record)
    assert [o.keyed for o in fields.options] == [c in "ADF" for c in "ABCDEFGH"]
    assert model.record_from(fields) == original  # nothing typed: the record as loaded
    fields.stem = "Which orders apply?"
    fields.options[1].keyed = True
    fields.enemies = ["ts-0001"]
    fields.tags = ["Section 47"]
    fields.notes = "   "
    record = model.record_from(fields)
    assert record["stem"] == "Which orders apply?"
    assert record["key"] == ["A", "B", "D", "F"] and record["select_count"] == 4
    assert record["enemies"] == ["TS-0001"] and record["tags"] == ["section-47"]
    assert "notes" not in record
    assert model.record == original  # the loaded record is kept apart from what is typed


def test_statements_are_keyed_true_or_false(valid_bank: Path) -> None:
    model = ItemModel(open_bank(valid_bank), author=WRITER)
    model.load(model.fetch("TS-0002"))
    fields = fields_of(model.record)
    fields.format = "multiple_true_false"
    for option, truth in zip(fields.options, [True, False] * 4, strict=True):
        option.truth = truth
    record = model.record_from(fields)
    assert record["key"] == {c: c in "ACEG" for c in "ABCDEFGH"}
    assert "select_count" not in record and record["scoring"]["rule"] == "partial_credit"


def test_a_check_finds_the_error_and_places_it_by_its_field(valid_bank: Path) -> None:
    model = ItemModel(open_bank(valid_bank), author=WRITER)
    template = model.new("GK")
    assert template["id"] == "GK-0001" and model.dirty and model.saved == {}
    findings = model.check(model.record_from(fields_of(template)))
    assert findings is not None and model.findings == findings
    errors, _ = model.counts()
    assert errors >= 1
    groups, _ = group_findings(findings, ["stem", "options", "general"])
    assert "too-short" in {f.code for f in groups["stem"] if f.severity == "error"}
    with pytest.raises(NotSubmittedError, match="Not submitted"):
        model.save(model.record_from(fields_of(template)), submit=True)
    assert not (valid_bank / "items" / "GK-0001.json").exists()


def test_a_save_is_one_commit_by_the_writer_and_drops_the_draft(valid_bank: Path) -> None:
    bank = open_bank(valid_bank)
    model = ItemModel(bank, author=WRITER)
    model.load(model.fetch("TS-0003"))
    fields = fields_of(model.record)
    fields.stem = "Which order applies now?"
    record = model.record_from(fields)
    model.edited(record)
    assert model.dirty
    later = ItemModel(open_bank(valid_bank), author=WRITER)  # e.g. after the kernel died
    later.load(later.fetch("TS-0003"))
    assert later.kept_draft("TS-0003") == record
    sha = model.save(record, submit=True)
    assert git(valid_bank, "log", "-1", "--format=%H|%an <%ae>") == f"{sha}|{WRITER}\n"
    stored = json.loads((valid_bank / "items" / "TS-0003.json").read_text())
    assert stored["stem"] == "Which order applies now?" and stored["status"] == "in_review"
    assert model.record == stored and model.saved == stored and not model.dirty
    assert later.kept_draft("TS-0003") is None


def test_a_crafted_id_is_refused_before_it_becomes_a_path(valid_bank: Path) -> None:
    model = ItemModel(open_bank(valid_bank), author=WRITER)
    with pytest.raises(InvalidIdError, match="not an item id"):
        model.fetch("../../etc/passwd")
    assert model.record == {}
