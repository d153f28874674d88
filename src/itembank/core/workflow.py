"""Review workflow: the allowed status moves (data, in one place), the content hash that an
approval is tied to, and whether a set of reviews meets the bank's review policy."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from itembank.core.canonical import sha256_of
from itembank.core.errors import WorkflowError

#: status -> statuses it may move to. Only approved content goes on a form.
TRANSITIONS: Mapping[str, frozenset[str]] = {
    "draft": frozenset({"in_review"}),
    "in_review": frozenset({"approved", "changes_requested", "rejected", "draft"}),
    "changes_requested": frozenset({"draft", "in_review"}),
    "approved": frozenset({"retired", "in_review"}),
    "rejected": frozenset({"draft"}),
    "retired": frozenset(),
}

#: The fields of each content kind that an approval covers: what a candidate sees plus the key
#: (for scenarios, everything an actor, assessor or candidate is given).
HASHED_FIELDS: Mapping[str, tuple[str, ...]] = {
    "item": ("format", "section", "stimulus", "stem", "options", "select_count", "key", "scoring"),
    "stimulus": ("title", "text"),
    "scenario": (
        "title",
        "role",
        "background",
        "exercises",
        "reflective",
        "written",
        "marking_scheme",
    ),
    # a learning point's words reach candidates' letters: its title, text and the resources it
    # suggests (mappings stay outside, as for items, so a remap keeps approvals)
    "learning_point": ("title", "text", "references"),
}

#: Review criteria that apply to each kind of content.
CRITERIA: Mapping[str, tuple[str, ...]] = {
    "item": (
        "key_correct",
        "maps_to_standard",
        "clear",
        "distractors_plausible",
        "fair",
        "current",
    ),
    "stimulus": ("maps_to_standard", "clear", "fair", "current", "realistic"),
    "scenario": ("maps_to_standard", "clear", "fair", "current", "realistic", "marking_scheme"),
    # no key, so no blind answer: is the advice right, usable, fair, free of live item content?
    "learning_point": (
        "accurate",
        "maps_to_standard",
        "actionable",
        "fair",
        "no_item_content",
        "plain_english",
    ),
}


def content_hash(kind: str, record: Mapping[str, Any]) -> str:
    """Hash of what a review approves. Option rationales, tags and status are not included,
    so fixing a typo in a rationale does not send an item back to review."""
    fields = HASHED_FIELDS[kind]
    content: dict[str, Any] = {name: record.get(name) for name in fields if name in record}
    if kind == "item" and isinstance(content.get("options"), list):
        content["options"] = [
            {"id": o.get("id"), "text": o.get("text")} if isinstance(o, dict) else o
            for o in content["options"]
        ]
    return sha256_of(content)


def can_move(old: str | None, new: str) -> bool:
    """True if the workflow allows old -> new (a new record may start as draft or in_review)."""
    if old is None:
        return new in ("draft", "in_review")
    return old == new or new in TRANSITIONS.get(old, frozenset())


def check_move(old: str | None, new: str) -> None:
    """Raise WorkflowError naming the allowed moves when old -> new is not allowed."""
    if not can_move(old, new):
        if old is None:
            allowed = ["draft", "in_review"]
        elif old not in TRANSITIONS:
            raise WorkflowError(
                f"Status {old!r} is not a workflow state (the states are "
                f"{', '.join(sorted(TRANSITIONS))}): correct the record's status."
            )
        else:
            allowed = sorted(TRANSITIONS[old])
        raise WorkflowError(
            f"Status cannot change from {old or '(new)'} to {new}. "
            f"From {old or '(new)'} it may become: {', '.join(allowed) or 'nothing (final)'}."
        )


@dataclass(frozen=True)
class ReviewFacts:
    """What the policy needs to know of one review."""

    id: str
    reviewer: str
    content_hash: str
    decision: str
    submitted: str
    blocking_noes: tuple[str, ...] = ()
    blind_match: bool | None = None
    has_comment: bool = False


@dataclass
class Verdict:
    """How a content record stands against the review policy."""

    current_approvals: list[str] = field(default_factory=list)  # reviewers
    stale_approvals: list[str] = field(default_factory=list)  # review ids
    self_reviews: list[str] = field(default_factory=list)  # review ids
    blocking: list[str] = field(default_factory=list)  # "review id: criterion"
    unexplained_mismatches: list[str] = field(default_factory=list)  # review ids
    latest_decision: str | None = None
    approved: bool = False


def evaluate(
    author: str, current_hash: str, reviews: Iterable[ReviewFacts], policy: Mapping[str, Any]
) -> Verdict:
    """Apply the review policy to the reviews of one record.

    An approval counts only if it is of the current content, by someone other than the author,
    and (if the policy says so) with any blind-key mismatch explained in a comment. Only each
    reviewer's latest review of the current content counts.
    """
    verdict = Verdict()
    latest: dict[str, ReviewFacts] = {}
    for review in sorted(reviews, key=lambda r: (r.submitted, r.id)):
        if _same_person(review.reviewer, author):
            verdict.self_reviews.append(review.id)
            continue
        if review.content_hash != current_hash:
            if review.decision == "approve":
                verdict.stale_approvals.append(review.id)
            continue
        latest[review.reviewer.lower()] = review
        verdict.latest_decision = review.decision
    blocking_mismatch = bool(policy.get("blind_key_mismatch_blocks", False))
    for review in latest.values():
        verdict.blocking.extend(f"{review.id}: {c}" for c in review.blocking_noes)
        if review.decision != "approve":
            continue
        if review.blind_match is False and blocking_mismatch and not review.has_comment:
            verdict.unexplained_mismatches.append(review.id)
            continue
        verdict.current_approvals.append(review.reviewer)
    needed = int(policy.get("approvals_required", 2))
    verdict.approved = (
        len(verdict.current_approvals) >= needed
        and not verdict.blocking
        and all(r.decision == "approve" for r in latest.values())
    )
    return verdict


def verdict_for(
    author: str,
    current_hash: str,
    reviews: Iterable[tuple[str, Mapping[str, Any]]],
    policy: Mapping[str, Any],
) -> Verdict:
    """evaluate() over reviews given as (review id, review facts) pairs, as the per-file
    analysis records them; the policy's blocking criteria pick which 'no' ratings block."""
    blocking = set(policy.get("blocking_criteria", []))
    facts = [
        ReviewFacts(
            id=review_id,
            reviewer=f["reviewer"],
            content_hash=f["hash"],
            decision=f["decision"],
            submitted=f["submitted"],
            blocking_noes=tuple(c for c in f["noes"] if c in blocking),
            blind_match=f["blind_match"],
            has_comment=f["has_comment"],
        )
        for review_id, f in reviews
    ]
    return evaluate(author, current_hash, facts, policy)


def _same_person(a: str, b: str) -> bool:
    """Same email (case-insensitive), or same full 'Name <email>' string."""

    def email(person: str) -> str:
        return person.rsplit("<", 1)[-1].rstrip(">").strip().lower()

    return a.strip().lower() == b.strip().lower() or email(a) == email(b)


def describe_change(record: Mapping[str, Any], old: Mapping[str, Any] | None, kind: str) -> str:
    """A commit message naming the record and what changed, in the words of the status moves
    (submit for review, approve, retire...)."""
    ident = record.get("id", kind)
    if kind == "review":
        return (
            f"{record.get('target')}: {str(record.get('decision', 'review')).replace('_', ' ')}"
            f" (review by {str(record.get('reviewer', '')).split('<')[0].strip()})"
        )
    if old is None:
        return f"{ident}: create {kind} ({record.get('status', 'new')})"
    changed = sorted(k for k in set(record) | set(old) if record.get(k) != old.get(k))
    if old.get("status") != record.get("status"):
        move = {
            "in_review": "submit for review",
            "approved": "approve",
            "retired": "retire",
            "draft": "return to draft",
        }.get(str(record.get("status")), f"set status {record.get('status')}")
        others = [c for c in changed if c != "status"]
        return f"{ident}: {move}" + (f"; update {', '.join(others)}" if others else "")
    return f"{ident}: update {', '.join(changed) or 'nothing'}"
