"""Workflow rules: transitions as data, content hashes, the review policy."""

from __future__ import annotations

import pytest

from itembank.core.errors import WorkflowError
from itembank.core.workflow import (
    TRANSITIONS,
    ReviewFacts,
    can_move,
    check_move,
    content_hash,
    evaluate,
)

POLICY = {"approvals_required": 2, "blind_key_mismatch_blocks": True}
AUTHOR = "Wendy Writer <wendy@example.org>"


def review(n: int, who: str, h: str = "h1", decision: str = "approve", **kw: object) -> ReviewFacts:
    return ReviewFacts(id=f"r{n}", reviewer=who, content_hash=h, decision=decision,
                       submitted=f"2026-11-0{n}T00:00:00Z", **kw)  # type: ignore[arg-type]


def test_transitions() -> None:
    assert can_move(None, "draft") and not can_move(None, "approved")
    assert can_move("draft", "in_review") and not can_move("draft", "approved")
    assert can_move("approved", "retired") and not can_move("retired", "draft")
    assert set(TRANSITIONS) == {"draft", "in_review", "changes_requested", "approved",
                                "rejected", "retired"}
    with pytest.raises(WorkflowError, match="may become: in_review"):
        check_move("draft", "approved")


def test_content_hash_covers_what_candidates_see_and_the_key() -> None:
    item = {"format": "single_best_answer", "stem": "S", "key": ["A"],
            "options": [{"id": "A", "text": "a", "rationale": "r"}], "tags": ["x"]}
    h = content_hash("item", item)
    assert content_hash("item", {**item, "tags": ["y"], "status": "approved"}) == h
    assert content_hash("item", {**item, "options": [{"id": "A", "text": "a", "rationale": "z"}]}) == h
    assert content_hash("item", {**item, "stem": "T"}) != h
    assert content_hash("item", {**item, "key": ["B"]}) != h


def test_two_current_approvals_approve() -> None:
    v = evaluate(AUTHOR, "h1", [review(1, "A <a@x.org>"), review(2, "B <b@x.org>")], POLICY)
    assert v.approved and len(v.current_approvals) == 2


def test_stale_self_and_duplicate_reviews_do_not_count() -> None:
    reviews = [review(1, "A <a@x.org>", h="old"), review(2, "B <b@x.org>"),
               review(3, "Wendy W <WENDY@example.org>"), review(4, "B <b@x.org>")]
    v = evaluate(AUTHOR, "h1", reviews, POLICY)
    assert not v.approved
    assert v.stale_approvals == ["r1"] and v.self_reviews == ["r3"]
    assert v.current_approvals == ["B <b@x.org>"]


def test_blocking_concern_and_unexplained_blind_mismatch() -> None:
    blocked = evaluate(AUTHOR, "h1", [review(1, "A <a@x.org>", blocking_noes=("fair",)),
                                      review(2, "B <b@x.org>")], POLICY)
    assert not blocked.approved and blocked.blocking == ["r1: fair"]
    mismatch = [review(1, "A <a@x.org>", blind_match=False), review(2, "B <b@x.org>")]
    assert not evaluate(AUTHOR, "h1", mismatch, POLICY).approved
    explained = [review(1, "A <a@x.org>", blind_match=False, has_comment=True),
                 review(2, "B <b@x.org>")]
    assert evaluate(AUTHOR, "h1", explained, POLICY).approved


def test_latest_review_per_reviewer_wins() -> None:
    reviews = [review(1, "A <a@x.org>", decision="request_changes"), review(2, "A <a@x.org>"),
               review(3, "B <b@x.org>")]
    assert evaluate(AUTHOR, "h1", reviews, POLICY).approved


def test_a_move_from_an_unknown_state_names_the_states_not_impossible_moves() -> None:
    with pytest.raises(WorkflowError) as caught:
        check_move("bogus", "draft")
    assert str(caught.value) == (
        "Status 'bogus' is not a workflow state (the states are approved, changes_requested, "
        "draft, in_review, rejected, retired): correct the record's status.")
