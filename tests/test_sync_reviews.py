"""Reviews in clones of one remote: a review is decided again on the latest bank when another
panel member's review of the same item reached the remote first, so the review policy counts
both (as the lock does within one clone)."""

from __future__ import annotations

import json
import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from itembank import open_bank
from itembank.core.workflow import CRITERIA
from itembank.review.rules import ReviewAnswers

from .conftest import git
from .test_sync_apps import shared_sample

HELEN = "Helen Marsh <helen.marsh@example.org>"
GARETH = "Gareth Price <gareth.price@example.org>"
WHEN = datetime(2026, 11, 30, 9, 0, 0, tzinfo=UTC)


def approve(bank_path: Path | str, reviewer: str, seconds: int) -> str:
    bank = open_bank(bank_path)
    ticket = bank.review.open("GK-0064", reviewer)
    answers = ReviewAnswers(seen=ticket.seen, ratings={c: "yes" for c in CRITERIA["item"]},
                            decision="approve", blind_response=list(ticket.record["key"]))
    bank.review.submit("GK-0064", answers, reviewer, WHEN + timedelta(seconds=seconds))
    return bank.sync.note or ""


def test_the_second_approval_from_another_clone_approves_the_item(tmp_path: Path) -> None:
    remote, north, south = shared_sample(tmp_path)
    helen = open_bank(north)
    ticket = helen.review.open("GK-0064", HELEN)  # Helen opens it first ...
    assert approve(south, GARETH, 0) == ""  # ... Gareth approves in his clone and it is shared
    answers = ReviewAnswers(seen=ticket.seen, ratings={c: "yes" for c in CRITERIA["item"]},
                            decision="approve", blind_response=list(ticket.record["key"]))
    helen.review.submit("GK-0064", answers, HELEN, WHEN + timedelta(seconds=1))
    assert helen.sync.note is None
    item = json.loads(git(remote, "show", "main:item_bank/items/GK-0064.json"))
    assert item["status"] == "approved"
    subjects = git(remote, "log", "-3", "--format=%an|%s", "main").splitlines()
    assert subjects[0] == "Helen Marsh|GK-0064: approve (review by Helen Marsh); approved: " \
        "review policy met", subjects
    assert subjects[1].startswith("Gareth Price|GK-0064: approve (review by Gareth Price)")
    assert "approved" not in subjects[1].split(";", 1)[-1]
    assert helen.kept() == []  # decided again, not refused: nothing to keep


def _approve_in_child(bank_path: str, reviewer: str, seconds: int, barrier: object,
                      out: object) -> None:
    barrier.wait()  # type: ignore[attr-defined]
    try:
        out.put((reviewer, approve(bank_path, reviewer, seconds)))  # type: ignore[attr-defined]
    except Exception as exc:
        out.put((reviewer, f"{type(exc).__name__}: {exc}"))  # type: ignore[attr-defined]


def test_two_approvals_at_once_in_two_clones_approve_the_item(tmp_path: Path) -> None:
    remote, north, south = shared_sample(tmp_path)
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_approve_in_child, args=(str(path), who, n, barrier, out))
             for n, (path, who) in enumerate(((north, HELEN), (south, GARETH)))]
    for proc in procs:
        proc.start()
    results = sorted(out.get(timeout=300) for _ in procs)
    for proc in procs:
        proc.join(60)
    assert results == [(GARETH, ""), (HELEN, "")]
    item = json.loads(git(remote, "show", "main:item_bank/items/GK-0064.json"))
    assert item["status"] == "approved"
    subjects = git(remote, "log", "-2", "--format=%s", "main").splitlines()
    assert sum("approved: review policy met" in s for s in subjects) == 1, subjects
    git(north, "pull", "-q", "origin", "main")
    assert open_bank(north).validate().ok
