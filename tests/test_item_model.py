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


def test_a_new_items_id_stays_reserved_while_its_draft_is_kept(valid_bank: Path) -> None:
    model = ItemModel(open_bank(valid_bank), author=WRITER)
    first = model.new("GK")
    assert first["id"] == "GK-0001"
    first = {**first, "stem": "Half a question"}
    model.edited(first)  # kept as this writer's draft, never committed
    reloaded = ItemModel(open_bank(valid_bank), author=WRITER)  # the page is reloaded
    assert reloaded.new("GK")["id"] == "GK-0002"  # GK-0001 is not reused
    assert reloaded.new("AK")["id"] == "AK-0001"  # other prefixes are not affected
    assert [(i, r["stem"], new) for i, r, new in reloaded.drafts()] == [
        ("GK-0001", "Half a question", True)
    ]
    assert reloaded.resume("GK-0001") and reloaded.dirty and reloaded.saved == {}
    assert reloaded.record["stem"] == "Half a question"
    assert not reloaded.resume("GK-0009")
    other = ItemModel(open_bank(valid_bank), author="Ann Other <ann@example.org>")
    assert other.drafts() == []  # drafts are per person
    reloaded.drop_draft("GK-0001")
    assert ItemModel(open_bank(valid_bank), author=WRITER).new("GK")["id"] == "GK-0001"


def test_findings_reach_writers_in_plain_words() -> None:
    from itembank.core.findings import error, warning
    from itembank.ui.writer_words import field_name, writer_message

    assert field_name("/options/2/text") == "Option C's text"
    assert field_name("/standards/0/statement") == "Standard 1's statement"
    assert field_name("/stem") == "The question (stem)" and field_name("") == "This item"
    raw = error("items/GK-0001.json", "/key", "wrong-type",
                "Expected an object here for format multiple_true_false, found a list [].")
    assert writer_message(raw) == (
        "The correct answer is not filled in the way the bank can store it. Tick the correct "
        "option(s) again (for true/false statements, choose true or false for each).")
    cases = {
        ("/stem", "too-short", "Must not be empty. Write the text here."):
            "The question (stem) is empty. Write it.",
        ("/options", "too-few", "Has 2 entries; needs at least 3 for format single_best_answer. Add more."):
            "The options: too few. There are 2; at least 3 are needed. Add more.",
        ("/enemies/0", "bad-format", "'gk12' does not have the expected form (an item id such as GK-0012)."):
            "Entry 1 of enemies is not written in the expected form. It should be an item id such as GK-0012.",
        ("/difficulty_estimate", "out-of-range", "1.5 is out of range: must be at most 1."):
            "The difficulty estimate must be at most 1.",
        ("/section", "not-allowed-value", "'x' is not allowed here. Use one of: general, applied."):
            "Section has a value the bank does not accept. Choose one of: general, applied.",
        ("/options/1/rationale", "missing-field", "Missing required field 'rationale'. Add it."):
            "Option B's rationale is missing. Fill it in.",
    }
    for (where, code, message), plain in cases.items():
        assert writer_message(error("items/GK-0001.json", where, code, message)) == plain
    lint = warning("items/GK-0001.json", "/stem", "negative-stem", "Put the negative in bold.")
    assert writer_message(lint) == "Put the negative in bold."  # the rules' own words stay
