"""Currency on a date (issue 10): what will be out of date on a given day, in a temporary bank
whose catalogue has dated entries either side of the day, a provision with its own commencement
day and a framework with an end date."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from itembank import ItembankError, open_bank
from itembank.checks.currency import parse_day, status_on

from .test_cli import run

NEW_ACT = {
    "id": "new-act-2026", "title": "New Act 2026", "kind": "act", "status": "current",
    "date": "2026-04-29",
    "commencement": [
        {"provision": "s.1 (family group conferences)", "how": "regulations",
         "in_force_from": "2027-02-01", "affects": ["children-act-1989"],
         "topic_terms": ["family group conference"]},
        {"provision": "s.2", "how": "regulations: no day appointed",
         "affects": ["children-act-1989"], "topic_terms": ["Which order"]},
    ],
}
OLD_GUIDANCE = {  # current today, replaced from 1 April 2027 (a scheduled replacement)
    "id": "old-guidance", "title": "Old Guidance 2020", "kind": "guidance", "status": "current",
    "date": "2020-01-01", "superseded_on": "2027-04-01", "superseded_by": ["working-together-2023"],
    "flag_terms": ["Old Guidance"],
}
PENDING_REGS = {  # made, not in force until 1 January 2027
    "id": "pending-regs", "title": "Pending Regulations 2026", "kind": "regulations",
    "status": "pending", "date": "2026-06-01", "in_force_from": "2027-01-01",
}


def _edit(path: Path, change: Any) -> None:
    record = json.loads(path.read_text())
    change(record)
    path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")


@pytest.fixture
def dated_bank(valid_bank: Path) -> Path:
    """The valid bank with dated references, content citing them and fw-a ending 2027-03-31."""
    _edit(valid_bank / "references.json",
          lambda r: r["references"].extend([NEW_ACT, OLD_GUIDANCE, PENDING_REGS]))
    _edit(valid_bank / "standards" / "fw-a.json", lambda r: r.update(effective_to="2027-03-31"))
    _edit(valid_bank / "items" / "TS-0001.json",
          lambda r: r.update(rationale="Hold a family group conference first."))
    _edit(valid_bank / "items" / "TS-0002.json",
          lambda r: r.update(references=["children-act-1989", "old-guidance"],
                             stem="Under the Old Guidance, which order?"))
    _edit(valid_bank / "items" / "TS-0003.json",
          lambda r: r.update(references=["pending-regs"]))
    return valid_bank


def _found(bank: Path, on: str) -> list[tuple[str, str, str]]:
    return [(f.path, f.pointer, f.code) for f in open_bank(bank).currency(on=on)]


ENDED = [
    ("items/TS-0001.json", "/standards/0", "framework-ended"),
    ("items/TS-0002.json", "/standards/0", "framework-ended"),
    ("items/TS-0003.json", "/standards/0", "framework-ended"),
    ("items/TS-0004.json", "/standards/0", "framework-ended"),
    ("scenarios/SIM-0001.json", "/standards/0", "framework-ended"),
    ("stimuli/CS-0001.json", "/standards/0", "framework-ended"),
]


def test_before_anything_changes_only_the_pending_regulations_are_found(dated_bank: Path) -> None:
    assert _found(dated_bank, "2026-12-31") == [
        ("items/TS-0003.json", "/references/0", "cites-pending")]


def test_commencement_day_and_the_day_before(dated_bank: Path) -> None:
    assert _found(dated_bank, "2027-01-01") == []  # the regulations are in force from today
    assert _found(dated_bank, "2027-01-31") == []
    assert _found(dated_bank, "2027-02-01") == [
        ("items/TS-0001.json", "/rationale", "provision-commenced")]


def test_the_day_the_framework_and_the_old_guidance_end(dated_bank: Path) -> None:
    assert _found(dated_bank, "2027-03-31") == [
        ("items/TS-0001.json", "/rationale", "provision-commenced")]
    assert _found(dated_bank, "2027-04-01") == [
        ("items/TS-0001.json", "/rationale", "provision-commenced"),
        ENDED[0],
        ("items/TS-0002.json", "/stem", "superseded-term"),
        ("items/TS-0002.json", "/references/1", "cites-superseded"),
        *ENDED[1:],
    ]


def test_messages_name_the_law_the_day_and_the_fix(dated_bank: Path) -> None:
    found = {f.code: f.message for f in open_bank(dated_bank).currency(on="2027-04-01")
             if f.path == "items/TS-0002.json" or f.code == "provision-commenced"}
    assert found["cites-superseded"] == (
        "Cites Old Guidance 2020, which was superseded on 2027-04-01 by Working Together to "
        "Safeguard Children 2023. Cite the current law or guidance and check the key still holds.")
    assert found["provision-commenced"] == (
        "'family group conference': New Act 2026, s.1 (family group conferences), is in force "
        "from 2027-02-01 and changes what children-act-1989 say on this. Check the text states "
        "the law in force on 2027-04-01, then cite new-act-2026 in references.")
    assert found["framework-ended"] == (
        "Its practitioner mappings are only to fw-a, which ended on 2027-03-31: on 2027-04-01 it "
        "is no longer the standard. Re-map it to the framework that replaces it (see that "
        "framework's notes and crosswalk).")


def test_citing_the_new_law_or_mapping_a_current_framework_clears_the_finding(
        dated_bank: Path) -> None:
    _edit(dated_bank / "items" / "TS-0001.json",
          lambda r: r.update(references=["children-act-1989", "new-act-2026"]))
    fw_b = json.loads((dated_bank / "standards" / "fw-a.json").read_text())
    fw_b.update(id="fw-b", effective_from="2027-04-01")
    fw_b.pop("effective_to")
    (dated_bank / "standards" / "fw-b.json").write_text(json.dumps(fw_b, indent=2) + "\n")
    _edit(dated_bank / "items" / "TS-0004.json",
          lambda r: r["standards"].append({"framework": "fw-b", "statement": "FA-01",
                                           "primary": False}))
    found = _found(dated_bank, "2027-04-01")
    assert ("items/TS-0001.json", "/rationale", "provision-commenced") not in found
    assert ("items/TS-0004.json", "/standards/0", "framework-ended") not in found
    assert ("items/TS-0003.json", "/standards/0", "framework-ended") in found


def test_status_on_reads_the_dates_not_the_recorded_status() -> None:
    assert status_on(OLD_GUIDANCE, "2027-03-31") == "current"
    assert status_on(OLD_GUIDANCE, "2027-04-01") == "superseded"
    assert status_on(PENDING_REGS, "2026-12-31") == "pending"
    assert status_on(PENDING_REGS, "2027-01-01") == "current"
    withdrawn = {"status": "current", "effective_to": "2026-12-31"}
    assert [status_on(withdrawn, d) for d in ("2026-12-31", "2027-01-01")] == [
        "current", "superseded"]
    lps = {"status": "pending"}  # no day appointed: pending on every day
    assert status_on(lps, "2099-01-01") == "pending"
    wt2018 = {"status": "superseded", "superseded_on": "2023-12-15"}
    assert [status_on(wt2018, d) for d in ("2023-12-14", "2023-12-15")] == [
        "current", "superseded"]


@pytest.mark.parametrize("text", ["2027-02-30", "2027-4-1", "1 April 2027", "", "2027-04-01x"])
def test_a_bad_day_is_refused_in_plain_words(text: str) -> None:
    with pytest.raises(ItembankError, match=r"is not a date\. Write it as YEAR-MONTH-DAY"):
        parse_day(text)
    assert parse_day(" 2027-04-01 ") == "2027-04-01"


def test_cli_on_a_future_date_and_a_bad_date(dated_bank: Path) -> None:
    out = run("currency", "--bank", str(dated_bank), "--on", "2027-04-01", "--format", "json")
    assert out.returncode == 1
    assert len(json.loads(out.stdout)) == len(ENDED) + 3
    text = run("currency", "--bank", str(dated_bank), "--on", "2027-01-01")
    assert (text.returncode, text.stdout.splitlines()[0]) == (
        0, "Nothing is out of date on 2027-01-01: no content cites superseded or pending law or "
        "guidance, states a position changed by a commenced provision, or maps only to an ended "
        "framework.")
    bad = run("currency", "--bank", str(dated_bank), "--on", "2027-02-30")
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr.splitlines()[-1] == (
        "itembank currency: error: argument --on: '2027-02-30' is not a date. Write it as "
        "YEAR-MONTH-DAY, e.g. 2027-04-01.")
    assert "--on YYYY-MM-DD" in run("currency", "--help").stdout
