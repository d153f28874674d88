"""Guards added after mutation testing (make mutate): each kills mutants that survived the rest
of the suite in workflow, review, scoring, canonical JSON and the QTI response processing. The
mutant each test was written against is named in its docstring (module.function, mutation)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from itembank import WorkflowError
from itembank.core.errors import ReviewInputError
from itembank.core.workflow import CRITERIA, can_move, check_move
from itembank.review.rules import (
    ReviewAnswers,
    build_review,
    matches_key,
    option_ids,
    policy_verdict,
)

AUTHOR = "Tom Whitfield <tom.whitfield@example.org>"
HELEN = "Helen Marsh <helen.marsh@example.org>"
GARETH = "Gareth Price <gareth.price@example.org>"
POLICY = {"approvals_required": 2, "blind_key_mismatch_blocks": True,
          "blocking_criteria": ["key_correct", "fair", "current"]}
SBA: dict[str, Any] = {"id": "GK-0064", "author": AUTHOR, "format": "single_best_answer",
                       "stem": "s", "options": [{"id": k, "text": k} for k in "ABCD"], "key": ["A"]}


def _approval(reviewer: str, minute: int, record: dict[str, Any] = SBA, **no: str) -> dict[str, Any]:
    """An approval by `reviewer`; criteria given as keywords are rated as given instead of yes."""
    ratings = {c: no.get(c, "yes") for c in CRITERIA["item"]}
    answers = ReviewAnswers(seen="x", ratings=ratings, decision="approve",
                            blind_response=list(record["key"]))
    return build_review("item", record, answers, reviewer, "p",
                        datetime(2026, 11, 23, 9, minute, tzinfo=UTC), POLICY)


# ---- workflow: status moves ---------------------------------------------------------------------

def test_a_new_record_may_start_in_review_but_not_approved() -> None:
    """workflow.can_move: ("draft", "in_review") with in_review mangled."""
    assert can_move(None, "in_review") is True
    assert can_move(None, "draft") is True
    assert can_move(None, "approved") is False


def test_an_unknown_status_moves_nowhere_without_a_traceback() -> None:
    """workflow.can_move: TRANSITIONS.get(old, frozenset()) -> .get(old, None) raises TypeError."""
    assert can_move("bogus", "draft") is False
    assert can_move("bogus", "bogus") is True  # unchanged is always allowed


def test_a_refused_move_names_the_moves_allowed() -> None:
    """workflow.check_move: the default list for a new record mangled."""
    with pytest.raises(WorkflowError) as new:
        check_move(None, "approved")
    assert str(new.value) == ("Status cannot change from (new) to approved. "
                              "From (new) it may become: draft, in_review.")
    with pytest.raises(WorkflowError) as final:
        check_move("retired", "approved")
    assert str(final.value) == ("Status cannot change from retired to approved. "
                                "From retired it may become: nothing (final).")


# ---- review: the verdict the service applies ----------------------------------------------------

def test_a_review_by_the_author_never_counts_towards_approval() -> None:
    """review.policy_verdict: record.get("author", "") mangled, so self-reviews count."""
    own = _approval(AUTHOR, 1)
    other = _approval(HELEN, 2)
    verdict = policy_verdict("item", SBA, [own, other], POLICY)
    assert verdict.current_approvals == [HELEN]
    assert verdict.self_reviews == [own["id"]]
    assert verdict.approved is False
    both = policy_verdict("item", SBA, [own, other, _approval(GARETH, 3)], POLICY)
    assert (both.current_approvals, both.approved) == ([HELEN, GARETH], True)


def test_a_record_without_options_or_key_is_never_a_blind_match() -> None:
    """review.option_ids: .get("options", []) -> None; review.matches_key: final False -> True."""
    assert option_ids({"id": "GK-0001"}) == []
    assert option_ids({"options": [{"id": "A"}, "junk", {"id": 2}]}) == ["A", "2"]
    assert matches_key({"key": None}, ["A"]) is False
    assert matches_key({}, ["A"]) is False
    assert matches_key({"key": "A"}, ["A"]) is False


@pytest.mark.parametrize("a, b, same", [
    ("Tom Whitfield <tom.whitfield@example.org>", "T. Whitfield <TOM.Whitfield@Example.org>", True),
    ("tom.whitfield@example.org", "Tom Whitfield <tom.whitfield@example.org>", True),  # bare email
    ("Tom Whitfield <tom.whitfield@example.org>", " tom.whitfield@example.org ", True),
    ("Tom Whitfield <tom.whitfield@example.org>", "Tom Whitfield <tom@example.org>", False),
    ("Tom <a> <tom@example.org>", "Tom <tom@example.org>", True),  # the last <...> is the email
    ("tom@example.org", "helen@example.org", False),
])
def test_the_author_is_recognised_however_their_name_is_written(a: str, b: str, same: bool) -> None:
    """workflow._same_person and review.same_person: rstrip(">"), rsplit("<", 1)[-1] mangled,
    so an author could review their own item under another spelling of their name."""
    from itembank.core.identity import same_person
    from itembank.core.workflow import _same_person

    assert _same_person(a, b) is same
    assert same_person(a, b) is same


def test_a_no_on_a_blocking_criterion_blocks_approval() -> None:
    """workflow.verdict_for: policy.get("blocking_criteria") mangled, or `c in blocking` negated,
    so a reviewer's 'the key is wrong' no longer stops the item being approved."""
    helen = _approval(HELEN, 1, key_correct="no")
    gareth = _approval(GARETH, 2, clear="no")  # not a blocking criterion
    verdict = policy_verdict("item", SBA, [helen, gareth], POLICY)
    assert verdict.blocking == [f"{helen['id']}: key_correct"]
    assert verdict.current_approvals == [HELEN, GARETH]
    assert verdict.approved is False
    # the same reviews under a policy naming no blocking criteria: nothing blocks (no crash)
    lenient = {k: v for k, v in POLICY.items() if k != "blocking_criteria"}
    verdict = policy_verdict("item", SBA, [helen, gareth], lenient)
    assert (verdict.blocking, verdict.approved) == ([], True)


def test_an_unexplained_blind_mismatch_is_not_an_approval() -> None:
    """workflow.verdict_for: blind_match=f["blind_match"] -> None, so a reviewer who got the key
    wrong blind and approved without a word still counts."""
    helen = {**_approval(HELEN, 1), "blind_response": ["B"], "blind_match": False}
    gareth = _approval(GARETH, 2)
    verdict = policy_verdict("item", SBA, [helen, gareth], POLICY)
    assert verdict.unexplained_mismatches == [helen["id"]]
    assert (verdict.current_approvals, verdict.approved) == ([GARETH], False)
    explained = {**helen, "comment": "B is defensible but A is the key: the stem says 'first'."}
    verdict = policy_verdict("item", SBA, [explained, gareth], POLICY)
    assert (verdict.unexplained_mismatches, verdict.approved) == ([], True)
    relaxed = {**POLICY, "blind_key_mismatch_blocks": False}
    assert policy_verdict("item", SBA, [helen, gareth], relaxed).approved is True


def test_the_review_comment_is_optional_for_an_approval_and_limited_in_length() -> None:
    """review.build_review: a missing comment -> "XXXX" or .strip() of None; `>` -> `>=`."""
    base = {"seen": "x", "ratings": {c: "yes" for c in CRITERIA["item"]}, "decision": "approve",
            "blind_response": ["A"]}
    when = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    review = build_review("item", SBA, ReviewAnswers(**base, comment=None), HELEN, "p", when, POLICY)  # type: ignore[arg-type]
    assert review["comment"] == ""
    longest = "x" * 10000
    review = build_review("item", SBA, ReviewAnswers(**base, comment=longest), HELEN, "p", when, POLICY)  # type: ignore[arg-type]
    assert review["comment"] == longest
    with pytest.raises(ReviewInputError, match=r"^The comment is longer than 10000 characters\.$"):
        build_review("item", SBA, ReviewAnswers(**base, comment=longest + "x"), HELEN, "p", when, POLICY)  # type: ignore[arg-type]


def test_the_policy_decides_how_many_approvals_and_defaults_to_two() -> None:
    """workflow.evaluate: policy.get("approvals_required", 2) mangled (key or default)."""
    reviews = [_approval(HELEN, 1), _approval(GARETH, 2)]
    three = {**POLICY, "approvals_required": 3}
    assert policy_verdict("item", SBA, reviews, three).approved is False
    one = {**POLICY, "approvals_required": 1}
    assert policy_verdict("item", SBA, reviews[:1], one).approved is True
    default = {k: v for k, v in POLICY.items() if k != "approvals_required"}
    assert policy_verdict("item", SBA, reviews[:1], default).approved is False
    assert policy_verdict("item", SBA, reviews, default).approved is True
    # without blind_key_mismatch_blocks a mismatch does not block (default False)
    helen = {**reviews[0], "blind_response": ["B"], "blind_match": False}
    bare = {"approvals_required": 2}
    verdict = policy_verdict("item", SBA, [helen, reviews[1]], bare)
    assert (verdict.unexplained_mismatches, verdict.approved) == ([], True)


def test_every_review_is_weighed_whatever_comes_before_it() -> None:
    """workflow.evaluate: `continue` -> `break` after a self-review, a non-approval or an
    unexplained mismatch, so the reviews sorted after it are silently dropped."""
    own = _approval(AUTHOR, 1)  # sorted first
    mismatch = {**_approval(HELEN, 2), "blind_response": ["B"], "blind_match": False}
    answers = ReviewAnswers(seen="x", ratings={c: "yes" for c in CRITERIA["item"]},
                            decision="request_changes", comment="Say which Act.",
                            blind_response=["A"])
    changes = build_review("item", SBA, answers, "Ruth Adeyemi <ruth.adeyemi@example.org>", "p",
                           datetime(2026, 11, 23, 9, 3, tzinfo=UTC), POLICY)
    gareth = _approval(GARETH, 4)
    verdict = policy_verdict("item", SBA, [gareth, changes, mismatch, own], POLICY)
    assert verdict.self_reviews == [own["id"]]
    assert verdict.unexplained_mismatches == [mismatch["id"]]
    assert verdict.current_approvals == [GARETH]
    assert verdict.latest_decision == "approve"  # Gareth's, the last in time
    assert verdict.approved is False


def test_criterion_comments_are_recorded_up_to_their_limit() -> None:
    """review.build_review: entry["comment"] mangled or None; `>` -> `>=` on the limit."""
    note = "y" * 5000
    answers = ReviewAnswers(seen="x", ratings={c: "yes" for c in CRITERIA["item"]},
                            decision="approve", blind_response=["A"],
                            criterion_comments={"clear": note})
    review = build_review("item", SBA, answers, HELEN, "p",
                          datetime(2026, 11, 23, 9, 0, tzinfo=UTC), POLICY)
    assert review["ratings"]["clear"] == {"rating": "yes", "comment": note}
    assert review["ratings"]["fair"] == {"rating": "yes"}
    too_long = ReviewAnswers(seen="x", ratings={c: "yes" for c in CRITERIA["item"]},
                             decision="approve", blind_response=["A"],
                             criterion_comments={"clear": note + "y"})
    with pytest.raises(ReviewInputError, match=r"^The comment on 'clear' must be text of at most 5000 characters\.$"):
        build_review("item", SBA, too_long, HELEN, "p", datetime(2026, 11, 23, 9, 0, tzinfo=UTC), POLICY)


# ---- canonical JSON and hashes ------------------------------------------------------------------

def test_content_hashes_are_of_compact_sorted_utf8_json() -> None:
    """canonical.sha256_of: sort_keys / ensure_ascii / separators / the 'sha256:' prefix mangled.
    Every recorded approval carries such a hash, so its recipe may never drift."""
    import hashlib

    from itembank.core.canonical import sha256_of

    value = {"b": [1, "é"], "a": {"d": None, "c": True}}
    blob = '{"a":{"c":true,"d":null},"b":[1,"é"]}'.encode()
    assert sha256_of(value) == "sha256:" + hashlib.sha256(blob).hexdigest()
    assert sha256_of(value) == "sha256:db6c191e9f212a6b676c6da3e0d471bc6555c472bb165519f893de785c923a26"


def test_records_are_written_sorted_indented_utf8_with_a_final_newline() -> None:
    """canonical.dumps: the one way records reach the disk (git diffs show only what changed)."""
    from itembank.core.canonical import dumps

    assert dumps({"b": [1, "é"], "a": {"d": None, "c": True}}) == (
        '{\n  "a": {\n    "c": true,\n    "d": null\n  },\n  "b": [\n    1,\n    "é"\n  ]\n}\n')


@pytest.mark.parametrize("data", [b"", b"hello\n", "é\n".encode(), bytes(range(256))])
def test_blob_shas_are_the_ones_git_gives(data: bytes, tmp_path: Any) -> None:
    """canonical.git_blob_sha: the header or the hashed bytes mangled (a review's `seen` is this
    sha, compared with the committed file's)."""
    import subprocess

    from itembank.core.canonical import git_blob_sha

    path = tmp_path / "f"
    path.write_bytes(data)
    expected = subprocess.run(["git", "hash-object", str(path)], capture_output=True, text=True,
                              check=True).stdout.strip()
    assert git_blob_sha(data) == expected


# ---- the core scorer ----------------------------------------------------------------------------

MR: dict[str, Any] = {"format": "multiple_response", "select_count": 3, "key": ["B", "D"],
                      "options": [{"id": k} for k in "ABCDE"],
                      "scoring": {"rule": "partial_credit", "max_score": 2}}


def test_a_repeated_choice_counts_once() -> None:
    """scoring.score: the de-duplication condition inverted."""
    from itembank.forms.scoring import score

    sba = {"format": "single_best_answer", "key": ["A"], "scoring": {"rule": "all_or_nothing", "max_score": 1}}
    assert score(sba, ["A", "A"]) == 1.0
    assert score(MR, ["B", "B", "B", "D"]) == 2.0  # 2 distinct choices, within select_count


def test_select_count_not_the_key_count_limits_choices() -> None:
    """scoring.score: item.get("select_count", len(keys)) mangled (key or default)."""
    from itembank.forms.scoring import score

    assert score(MR, ["A", "B", "D"]) == 2.0  # three allowed: both keys chosen
    assert score(MR, ["A", "B", "C", "D"]) == 0.0  # one too many
    no_count = {k: v for k, v in MR.items() if k != "select_count"}
    assert score(no_count, ["B", "D"]) == 2.0
    assert score(no_count, ["A", "B", "D"]) == 0.0  # the key count is the limit then


def test_an_item_without_a_key_earns_nothing() -> None:
    """scoring.score: `if keys else 0.0` -> 1.0 or dropped (ZeroDivisionError)."""
    from itembank.forms.scoring import score

    assert score({**MR, "key": []}, ["A"]) == 0.0
    assert score({**MR, "key": None}, ["A"]) == 0.0
