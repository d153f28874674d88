"""Reviews submitted at the same moment, from separate processes: nothing is recorded twice,
and the policy is applied to every review there is."""

from __future__ import annotations

import json
import multiprocessing
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from itembank import open_bank
from itembank.core.workflow import CRITERIA
from itembank.review.rules import ReviewAnswers

from .conftest import git

HELEN = "Helen Marsh <helen.marsh@example.org>"
GARETH = "Gareth Price <gareth.price@example.org>"
WHEN = datetime(2026, 11, 23, 9, 45, 0, tzinfo=UTC)


def _submit(bank_path: str, reviewer: str, seconds: int, barrier: object, out: object) -> None:
    bank = open_bank(bank_path)
    ticket = bank.review.open("GK-0064", reviewer)
    answers = ReviewAnswers(seen=ticket.seen, ratings={c: "yes" for c in CRITERIA["item"]},
                            decision="approve", blind_response=list(ticket.record["key"]))
    barrier.wait()  # type: ignore[attr-defined]
    try:
        bank.review.submit("GK-0064", answers, reviewer, WHEN + timedelta(seconds=seconds))
        out.put((reviewer, seconds, "recorded"))  # type: ignore[attr-defined]
    except Exception as exc:  # the message is what the test checks
        out.put((reviewer, seconds, f"{type(exc).__name__}: {exc}"))  # type: ignore[attr-defined]


def _race(bank: Path, who: list[tuple[str, int]]) -> list[tuple[str, int, str]]:
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(len(who)), ctx.Queue()
    procs = [ctx.Process(target=_submit, args=(str(bank), r, s, barrier, out)) for r, s in who]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(60)
    return sorted(results)


def test_the_same_review_from_two_tabs_is_recorded_once(sample_bank_rw: Path) -> None:
    results = _race(sample_bank_rw, [(HELEN, 0), (HELEN, 1)])
    outcomes = [r[2] for r in results]
    assert outcomes.count("recorded") == 1, results
    refused = [o for o in outcomes if o != "recorded"]
    assert len(refused) == 1 and re.fullmatch(
        r"ReviewInputError: You already reviewed this version of GK-0064 \(review "
        r"20261123T09450[01]Z-helen-marsh\); it is recorded once\. Nothing more was written\.",
        refused[0]), results
    assert len(list((sample_bank_rw / "reviews" / "GK-0064").glob("*.json"))) == 1


def test_two_last_approvals_at_once_approve_the_item(sample_bank_rw: Path) -> None:
    results = _race(sample_bank_rw, [(HELEN, 0), (GARETH, 0)])
    assert [r[2] for r in results] == ["recorded", "recorded"], results
    item = json.loads((sample_bank_rw / "items" / "GK-0064.json").read_text())
    assert item["status"] == "approved"
    subjects = git(sample_bank_rw, "log", "-2", "--format=%s").splitlines()
    assert sum("approved: review policy met" in s for s in subjects) == 1
    assert open_bank(sample_bank_rw).validate().ok
