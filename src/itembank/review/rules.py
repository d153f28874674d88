"""Expert review of one item, case or scenario (pure core): check a reviewer's answers, build the
immutable review record (blind answer and whether it matched the key, a rating per criterion, a
decision) and decide the content's next status under the bank's review policy."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from itembank.core import workflow
from itembank.core.errors import ReviewInputError
from itembank.core.identity import review_id, timestamp
from itembank.core.ids import is_id

Record = dict[str, Any]
RATINGS = ("yes", "no", "unsure")
DECISIONS = ("approve", "request_changes", "reject")
#: Plain-English wording of each criterion, as the reviewer reads it.
CRITERION_TEXT: Mapping[str, str] = {
    "key_correct": "The key is correct and defensible under current law and guidance",
    "maps_to_standard": "It assesses the standard(s) it claims",
    "clear": "It is clear and unambiguous",
    "distractors_plausible": "The distractors are plausible but clearly wrong",
    "fair": "It is fair: no bias or sensitivity concern for any group (age, ethnicity, "
    "disability, gender, religion, sexual orientation…)",
    "current": "It is current: law, guidance and terms are up to date",
    "realistic": "The case material is realistic for practice in England",
    "marking_scheme": "The marking scheme is clear and rewards the practice the standards describe",
    "accurate": "The advice is accurate under current law and guidance in England",
    "actionable": "It is specific and practical: a candidate knows what to revisit, practise or "
    "discuss",
    "no_item_content": "It contains no live item content (no question, option or rationale, "
    "quoted or paraphrased)",
    "plain_english": "It is in plain English a candidate can act on without help",
}
#: Where a decision sends the content (approval only once the policy is met).
NEXT_STATUS = {"request_changes": "changes_requested", "reject": "rejected"}
#: Where a panel's decision sends an APPROVED item it re-reviews because its statistics were
#: flagged: approving keeps it approved; asking for changes takes it off new forms and back
#: into review (the request blocks approval until the writer's new version is reviewed);
#: rejecting retires it (ids are permanent, so an approved item is retired, not rejected).
FLAGGED_NEXT_STATUS = {"request_changes": "in_review", "reject": "retired"}
COMMENT_LIMIT, CRITERION_COMMENT_LIMIT = 10000, 5000


@dataclass(frozen=True)
class ReviewAnswers:
    """What a reviewer gave: blind answer (items), ratings per criterion, decision, comment.

    `seen` is the git blob sha of the content file the reviewer was shown, so a review of a
    version that has since changed is refused rather than recorded against the new one.
    """

    seen: str
    ratings: Mapping[str, str]
    decision: str
    comment: str = ""
    blind_response: list[str] | dict[str, bool] | None = None
    criterion_comments: Mapping[str, str] = field(default_factory=dict)


def option_ids(item: Mapping[str, Any]) -> list[str]:
    return [str(o.get("id")) for o in item.get("options", []) if isinstance(o, Mapping)]


def check_blind_response(item: Mapping[str, Any], response: object) -> list[str] | dict[str, bool]:
    """The blind answer in the key's shape, or ReviewInputError saying what is missing."""
    ids = option_ids(item)
    fmt = item.get("format")
    if fmt == "multiple_true_false":
        if not isinstance(response, Mapping):
            raise ReviewInputError("Mark each statement true or false before the key is shown.")
        unknown = [k for k in response if k not in ids]
        if unknown:
            raise ReviewInputError(f"{unknown[0]!r} is not a statement of this item.")
        missing = [i for i in ids if not isinstance(response.get(i), bool)]
        if missing:
            raise ReviewInputError(f"Mark statement(s) {', '.join(missing)} true or false.")
        return {i: bool(response[i]) for i in ids}
    if not isinstance(response, (list, tuple)) or not all(isinstance(r, str) for r in response):
        raise ReviewInputError("Choose your answer before the key is shown.")
    unknown = [r for r in response if r not in ids]
    if unknown:
        raise ReviewInputError(f"{unknown[0]!r} is not an option of this item.")
    chosen = sorted(set(response))
    if fmt == "multiple_response":
        need = item.get("select_count")
        if isinstance(need, int) and len(chosen) != need:
            raise ReviewInputError(f"Choose exactly {need} answers (you chose {len(chosen)}).")
        if not chosen:
            raise ReviewInputError("Choose your answers before the key is shown.")
    elif len(chosen) != 1:
        raise ReviewInputError("Choose one answer before the key is shown.")
    return chosen


def build_blind_answer(
    record: Mapping[str, Any], response: object, reviewer: str, when: datetime
) -> Record:
    """The immutable record of a reviewer's first blind answer to this item version (committed
    before the key is shown, so it cannot be changed after seeing the key)."""
    return {
        "schema_version": "1.0",
        "id": review_id(reviewer, when),
        "target": str(record["id"]),
        "content_hash": workflow.content_hash("item", record),
        "reviewer": reviewer,
        "answered": timestamp(when),
        "response": check_blind_response(record, response),
    }


def answer_words(response: object) -> str:
    """A blind answer as a reviewer reads it: 'B', 'A, C' or '1 true, 2 false'."""
    if isinstance(response, Mapping):
        return ", ".join(f"{k} {'true' if v else 'false'}" for k, v in response.items())
    if isinstance(response, list):
        return ", ".join(map(str, response))
    return ""


def matches_key(item: Mapping[str, Any], response: list[str] | dict[str, bool]) -> bool:
    """Whether a blind answer is the key (the same key structure; order of options aside)."""
    key = item.get("key")
    if isinstance(key, Mapping):
        return isinstance(response, Mapping) and dict(response) == dict(key)
    if isinstance(key, list):
        return isinstance(response, list) and sorted(response) == sorted(map(str, key))
    return False


def build_review(
    kind: str,
    record: Mapping[str, Any],
    answers: ReviewAnswers,
    reviewer: str,
    panel: str,
    when: datetime,
    policy: Mapping[str, Any],
) -> Record:
    """The review record for these answers, or ReviewInputError naming the first problem."""
    criteria = workflow.CRITERIA[kind]
    ratings: dict[str, dict[str, str]] = {}
    for criterion in criteria:
        value = answers.ratings.get(criterion)
        if value not in RATINGS:
            raise ReviewInputError(
                f"Rate '{CRITERION_TEXT[criterion]}' as yes, no or unsure"
                + (f" ({value!r} is not one of them)." if value else ".")
            )
        entry = {"rating": str(value)}
        note = answers.criterion_comments.get(criterion, "")
        if not isinstance(note, str) or len(note) > CRITERION_COMMENT_LIMIT:
            raise ReviewInputError(
                f"The comment on '{criterion}' must be text of at most "
                f"{CRITERION_COMMENT_LIMIT} characters."
            )
        if note.strip():
            entry["comment"] = note.strip()
        ratings[criterion] = entry
    extra = sorted(set(answers.ratings) - set(criteria))
    if extra:
        raise ReviewInputError(f"{extra[0]!r} is not a review criterion for a {kind}.")
    if answers.decision not in DECISIONS:
        raise ReviewInputError("Choose a decision: approve, request changes or reject.")
    comment = answers.comment.strip() if isinstance(answers.comment, str) else ""
    if len(comment) > COMMENT_LIMIT:
        raise ReviewInputError(f"The comment is longer than {COMMENT_LIMIT} characters.")
    if answers.decision != "approve" and not comment:
        raise ReviewInputError(
            "Say in the comment what needs to change (or why it is rejected): the writer "
            "gets your comment."
        )
    review: Record = {
        "schema_version": "1.0",
        "id": review_id(reviewer, when),
        "target": str(record["id"]),
        "content_hash": workflow.content_hash(kind, record),
        "reviewer": reviewer,
        "panel": panel,
        "submitted": timestamp(when),
        "ratings": ratings,
        "decision": answers.decision,
        "comment": comment,
    }
    if kind == "item":
        response = check_blind_response(record, answers.blind_response)
        review["blind_response"] = response
        review["blind_match"] = matches_key(record, response)
        if (
            not review["blind_match"]
            and answers.decision == "approve"
            and policy.get("blind_key_mismatch_blocks")
            and not comment
        ):
            raise ReviewInputError(
                "Your blind answer differed from the key. To approve, explain in the comment "
                "why the key is right (or choose request changes)."
            )
    elif answers.blind_response is not None:
        raise ReviewInputError(f"A {kind} has no key to answer blind.")
    return review


def review_facts(review: Mapping[str, Any]) -> dict[str, Any]:
    """What the policy needs of a review (the same facts the per-file analysis records)."""
    from itembank.checks.analysis import FACTS

    return FACTS["review"](dict(review))


def next_status(
    kind: str,
    record: Mapping[str, Any],
    new_review: Mapping[str, Any],
    earlier: Sequence[Mapping[str, Any]],
    policy: Mapping[str, Any],
) -> str | None:
    """The content's status after this review: changes_requested / rejected from the decision,
    approved when the policy is met with it, otherwise None (it stays in review)."""
    decision = str(new_review["decision"])
    if decision in NEXT_STATUS:
        return NEXT_STATUS[decision]
    verdict = policy_verdict(kind, record, [*earlier, new_review], policy)
    return "approved" if verdict.approved else None


def policy_verdict(
    kind: str,
    record: Mapping[str, Any],
    reviews: Sequence[Mapping[str, Any]],
    policy: Mapping[str, Any],
) -> workflow.Verdict:
    """workflow.verdict_for over review records."""
    return workflow.verdict_for(
        str(record.get("author", "")),
        workflow.content_hash(kind, record),
        [(str(r["id"]), review_facts(r)) for r in reviews],
        policy,
    )


def pending_flags(
    item: Mapping[str, Any],
    statistics: Sequence[Mapping[str, Any]],
    reviews: Sequence[tuple[str, Mapping[str, Any]]],
    policy: Mapping[str, Any],
) -> tuple[str, tuple[str, ...]] | None:
    """(administration, flag reasons) when the item's NEWEST statistics record has flags the
    panel has not yet acted on, else None. Facts in, as the per-file analysis records them.

    The panel has acted when, since that record was analysed, a review asked for changes or
    rejected the item, or reviews of the current content meet the review policy again (a
    re-approval by as many reviewers as an approval needs, knowing the statistics). One
    reviewer's look is not enough: the flag asks the panel, not one member, to decide.
    """
    if not statistics:
        return None
    newest = max(statistics, key=lambda s: (str(s["analysed_at"]), str(s["administration"])))
    if not newest["flags"]:
        return None
    since = [(i, r) for i, r in reviews if str(r["submitted"]) > str(newest["analysed_at"])]
    if any(r["decision"] != "approve" for _, r in since):
        return None
    verdict = workflow.verdict_for(str(item["author"]), str(item["hash"]), since, policy)
    if since and verdict.approved:
        return None
    return str(newest["administration"]), tuple(str(reason) for _, reason in newest["flags"])


def readable_lines(kind: str, record: Mapping[str, Any]) -> list[str]:
    """The reviewed content (what an approval covers) as lines of text, for a diff."""
    lines: list[str] = []
    for name in workflow.HASHED_FIELDS[kind]:
        value = record.get(name)
        if value is None:
            continue
        if name == "options" and isinstance(value, list):
            for option in value:
                if isinstance(option, Mapping):
                    lines.append(f"option {option.get('id')}: {option.get('text')}")
            continue
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        for i, part in enumerate(text.splitlines() or [""]):
            lines.append(f"{name}: {part}" if i == 0 else f"    {part}")
    return lines


def content_diff(kind: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """A unified diff of the reviewed content between two versions (empty when the same)."""
    return list(
        difflib.unified_diff(
            readable_lines(kind, old),
            readable_lines(kind, new),
            "as you last reviewed it",
            "as it is now",
            lineterm="",
            n=1,
        )
    )


def valid_target(value: object) -> bool:
    return is_id("content_id", value)


@dataclass(frozen=True)
class QueueEntry:
    """One piece of content waiting for a reviewer, as the queue lists it."""

    id: str
    kind: str
    format: str
    roles: tuple[str, ...]
    standards: tuple[str, ...]
    reviewed: bool  # this reviewer has reviewed the current content
    changed: bool  # this reviewer reviewed an older version
    #: why the item's newest statistics want a panel to look again (empty: not flagged)
    flags: tuple[str, ...] = ()
    #: the administration those statistics come from
    administration: str = ""


@dataclass(frozen=True)
class ReviewTicket:
    """What a reviewer opened: the record (with its key: kept in the kernel, never in a widget
    until the blind answer is given), the file version seen, and any linked case."""

    id: str
    kind: str
    record: Record
    seen: str
    stimulus: Record | None
    panel: str
    changes: tuple[str, ...]  # diff of the content since this reviewer last reviewed it
    titles: Mapping[tuple[str, str], str] = field(default_factory=dict)
    #: this reviewer's recorded blind answer to this version (then the key may be shown)
    blind: Record | None = None


@dataclass(frozen=True)
class ReviewOutcome:
    """A recorded review: the record, the content's new status (None: still in review), the
    commit, and where the content now stands against the policy."""

    review: Record
    status: str | None
    commit: str
    approvals: int
    needed: int
