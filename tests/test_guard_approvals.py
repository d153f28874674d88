"""Guard: an approval counts only for the content it was given to. Approve, let the writer
really edit the content, approve again: the item is still in review with 1 of 2 approvals,
and the writer cannot approve it by hand."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from itembank import WorkflowError, open_bank
from itembank.core.workflow import CRITERIA
from itembank.review.rules import ReviewAnswers

HELEN = "Helen Marsh <helen.marsh@example.org>"
GARETH = "Gareth Price <gareth.price@example.org>"
TOM = "Tom Whitfield <tom.whitfield@example.org>"  # the writer of GK-0064
WHEN = datetime(2026, 11, 23, 9, 45, 0, tzinfo=UTC)


def _approve(bank_path: Path, reviewer: str, when: datetime) -> object:
    bank = open_bank(bank_path)
    ticket = bank.review.open("GK-0064", reviewer)
    answers = ReviewAnswers(seen=ticket.seen, ratings={c: "yes" for c in CRITERIA["item"]},
                            decision="approve", blind_response=list(ticket.record["key"]))
    return bank.review.submit("GK-0064", answers, reviewer, when)


def test_an_approval_of_older_content_does_not_count(sample_bank_rw: Path) -> None:
    first = _approve(sample_bank_rw, HELEN, WHEN)
    assert (first.status, first.approvals, first.needed) == (None, 1, 2)  # type: ignore[attr-defined]

    writer = open_bank(sample_bank_rw)
    record = writer.get("GK-0064")
    record["stem"] = "Under the Children Act 1989, " + record["stem"]
    writer.save(record, TOM)  # a real save by the writer: one commit

    second = _approve(sample_bank_rw, GARETH, WHEN + timedelta(minutes=5))
    assert (second.status, second.approvals, second.needed) == (None, 1, 2)  # type: ignore[attr-defined]
    on_disk = json.loads((sample_bank_rw / "items" / "GK-0064.json").read_text())
    assert on_disk["status"] == "in_review"

    # the writer cannot approve it either: the service gives the same verdict
    record = open_bank(sample_bank_rw).get("GK-0064")
    record["status"] = "approved"
    with pytest.raises(WorkflowError, match=r"GK-0064 cannot be approved: it has 1 of 2 approvals"):
        open_bank(sample_bank_rw).save(record, TOM)
    assert json.loads((sample_bank_rw / "items" / "GK-0064.json").read_text())["status"] == "in_review"

    # a fresh approval of the edited content by the first reviewer completes the policy
    third = _approve(sample_bank_rw, HELEN, WHEN + timedelta(minutes=10))
    assert (third.status, third.approvals) == ("approved", 2)  # type: ignore[attr-defined]
