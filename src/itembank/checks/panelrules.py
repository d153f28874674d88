"""Bank-wide rules on the panels' records: reviews and blind answers are of real content by
panel members, a record's workflow status is backed by its reviews under the bank's review
policy, and standard-setting exercises and ratings name their items, panels and judges."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from itembank.checks.bankindex import BankIndex
from itembank.core.findings import Finding, error, pointer, warning
from itembank.core.workflow import verdict_for


def review_links(index: BankIndex) -> Iterator[Finding]:
    """A review is of content in the bank, by a member of a review panel."""
    panels = index.settings["panels"] if index.settings else {}
    reviewers = {m.lower() for p in panels.values() if p["kind"] == "review" for m in p["members"]}
    for target, reviews in sorted(index.reviews.items()):
        found = index.content(target)
        for path, review in reviews:
            if found is None:
                yield error(
                    path,
                    "/target",
                    "unknown-target",
                    f"This review is of {target}, which is not in the bank.",
                )
                continue
            if panels and review["reviewer"].lower() not in reviewers:
                yield warning(
                    path,
                    "/reviewer",
                    "reviewer-not-on-panel",
                    f"{review['reviewer']} is not a member of any review panel in bank.json.",
                )


def blind_answers(index: BankIndex) -> Iterator[Finding]:
    """One blind answer per reviewer per item version (the first one counts), of a real item."""
    first: dict[tuple[str, str, str], str] = {}
    for path, f in index.blind:  # ids start with the UTC time, so path order is time order
        if index.content(f["target"]) is None:
            yield error(
                path,
                "/target",
                "unknown-target",
                f"This blind answer is to {f['target']}, which is not in the bank.",
            )
            continue
        who = f["reviewer"].rsplit("<", 1)[-1].rstrip(">").strip().lower()
        earlier = first.setdefault((f["target"], f["hash"], who), path)
        if earlier != path:
            yield error(
                path,
                "",
                "duplicate-blind-answer",
                f"{f['reviewer']} already answered this version of {f['target']} blind "
                f"({earlier}); only the first answer counts. Remove this file.",
            )


def workflow_states(index: BankIndex) -> Iterator[Finding]:
    """A record's status must be backed by its reviews under the bank's policy."""
    policy: dict[str, Any] = index.settings["policy"] if index.settings else {}
    unreviewed = verdict_for("", "", [], policy)  # the same for any author and content
    for path, f in index.content_facts:
        reviews = [(r["file_id"], r) for _, r in index.reviews.get(f["id"] or "", [])]
        verdict = verdict_for(f["author"], f["hash"], reviews, policy) if reviews else unreviewed
        for review_id in verdict.self_reviews:
            yield error(
                f"reviews/{f['id']}/{review_id}.json",
                "/reviewer",
                "self-review",
                f"{f['author']} reviewed their own {f['kind']}. Reviewers never review "
                "their own content: remove this review.",
            )
        status, needed = f["status"], int(policy.get("approvals_required", 2))
        if status == "approved" and not verdict.approved:
            have = len(verdict.current_approvals)
            if verdict.stale_approvals and have < needed:
                yield error(
                    path,
                    "/status",
                    "approval-stale",
                    f"Marked approved, but {len(verdict.stale_approvals)} approval(s) "
                    f"({', '.join(verdict.stale_approvals)}) were given to older "
                    f"content, and the current content has {have} of {needed}. The "
                    "content changed after approval: set status to in_review.",
                )
            else:
                why = (
                    f"has {have} of {needed} approvals of the current content"
                    if have < needed
                    else "has an unresolved concern: "
                    + "; ".join(verdict.blocking + verdict.unexplained_mismatches)
                )
                yield error(
                    path,
                    "/status",
                    "not-approved",
                    f"Marked approved, but it {why}. Set status to in_review until the "
                    "review policy is met.",
                )
        elif status in ("changes_requested", "rejected"):
            decision = "request_changes" if status == "changes_requested" else "reject"
            if not any(r["decision"] == decision for _, r in reviews):
                yield error(
                    path,
                    "/status",
                    "workflow-state",
                    f"Status is {status}, but no review made that decision. Set the "
                    "status from the reviews (usually in_review).",
                )
        elif status == "retired" and not any(r["decision"] == "approve" for _, r in reviews):
            yield warning(
                path,
                "/status",
                "workflow-state",
                "Retired, but it was never approved. Rejected or draft content is "
                "not retired: use the status that fits.",
            )


def standard_setting_links(index: BankIndex) -> Iterator[Finding]:
    """Exercises, ratings and judges' ranges name items, panels and judges that exist and belong
    together."""
    panels = index.settings["panels"] if index.settings else {}
    exercises = index.ids("exercise")
    for path, f in index.valid_of("exercise", "rating", "ranges"):
        if f["kind"] == "exercise":
            for i, item in enumerate(f["items"]):
                if item not in index.ids("item"):
                    yield error(
                        path,
                        pointer("items", i),
                        "unknown-item",
                        f"{item} is not an item in this bank.",
                    )
            for i, panel in enumerate(f["panels"]):
                if panels and panels.get(panel, {}).get("kind") != "standard_setting":
                    yield error(
                        path,
                        pointer("panels", i),
                        "unknown-panel",
                        f"{panel!r} is not a standard-setting panel in bank.json.",
                    )
        elif f["kind"] in ("rating", "ranges"):  # ranges: a judge's acceptable ranges
            ex_path = exercises.get(f["exercise"])
            if ex_path is None:
                yield error(
                    path,
                    "/exercise",
                    "unknown-exercise",
                    f"The exercise {f['exercise']!r} does not exist.",
                )
                continue
            exercise = index.facts[ex_path]
            if exercise["valid"]:
                if f["panel"] not in exercise["panels"]:
                    yield error(
                        path,
                        "/panel",
                        "unknown-panel",
                        f"The panel {f['panel']!r} does not take part in this exercise.",
                    )
                for i, item in enumerate(f.get("items", [])):
                    if item not in exercise["items"]:
                        yield error(
                            path,
                            pointer("ratings", i, "item"),
                            "unknown-item",
                            f"{item} is not one of the exercise's items.",
                        )
            members = {m.lower() for m in panels.get(f["panel"], {}).get("members", [])}
            if panels and f["judge"].lower() not in members:
                yield error(
                    path,
                    "/judge",
                    "judge-not-on-panel",
                    f"{f['judge']} is not a member of panel {f['panel']}.",
                )
