"""The expert panels' section of a bank (``bank.review``): the queue of content in review for a
reviewer's panel, opening content for review, blind answers committed before the key is shown,
and a submitted review committed with any status change it causes. The rules themselves are
pure, in review/rules.py; this section reads and commits through the bank."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from itembank.core import canonical, workflow
from itembank.core.errors import (
    ItembankError,
    ReviewInputError,
    UnknownIdError,
    ValidationFailedError,
)
from itembank.core.findings import DEFERRED_CODES
from itembank.core.identity import check_person, review_id, same_person
from itembank.core.ids import check_id
from itembank.core.layout import CONTENT_KINDS, path_for, path_of
from itembank.core.parsing import parse_record
from itembank.review.rules import (
    FLAGGED_NEXT_STATUS,
    QueueEntry,
    ReviewAnswers,
    ReviewOutcome,
    ReviewTicket,
    answer_words,
    build_blind_answer,
    build_review,
    content_diff,
    next_status,
    pending_flags,
    policy_verdict,
)

if TYPE_CHECKING:
    from itembank.bank import Bank

Record = dict[str, Any]


class Review:
    """Expert review as the panel apps call it; every id and person is checked again here."""

    def __init__(self, bank: Bank) -> None:
        self._bank = bank
        self._store = bank.store

    def _content(self, ident: object) -> tuple[str, str]:
        """(kind, relative path) of an existing item, stimulus or scenario with a checked id."""
        ident = check_id("content_id", ident)
        for kind in CONTENT_KINDS:
            relpath = path_for(kind, ident)
            if self._store.exists(relpath):
                return kind, relpath
        raise UnknownIdError(f"No item, case, scenario or learning point has the id {ident}.")

    def queue(self, reviewer: str) -> list[QueueEntry]:
        """Content in review for this reviewer's panel (the roles the panel covers in bank.json;
        every role when it names none), never their own; each entry says whether they have
        reviewed this version.

        Approved items whose newest statistics are flagged come back too, with the flags'
        reasons, until the panel acts (see review.rules.pending_flags); they stay approved, and
        deliverable, meanwhile: a flag is a screening signal for expert judgement (a hard item,
        DIF that may have a construct-relevant explanation, a small sample), not a finding of
        fault, and pulling items automatically would change live forms on a statistic alone."""
        covers = self._bank.panels.roles(self._bank.panels.require(reviewer, "review"))
        facts = self._bank.facts()
        flagged = self._flagged(facts)
        mine: dict[str, list[str]] = {}
        since_flag: set[str] = set()
        for f in facts.values():
            if f["kind"] == "review" and f["valid"] and same_person(f["reviewer"], reviewer):
                mine.setdefault(f["target"], []).append(f["hash"])
                stats = flagged.get(f["target"])
                if stats is not None and str(f["submitted"]) > stats[2]:
                    since_flag.add(f["target"])
        out = []
        for f in sorted(facts.values(), key=lambda x: str(x.get("id") or x.get("file_id"))):
            if f["kind"] not in CONTENT_KINDS or not f["valid"]:
                continue
            ident = str(f.get("id") or f["file_id"])
            flags = flagged.get(ident)
            if not (f["status"] == "in_review" or (f["status"] == "approved" and flags)):
                continue
            if same_person(f["author"], reviewer):
                continue
            if covers is not None and not covers & set(f.get("roles", [])):
                continue  # content for roles another panel reviews
            hashes = mine.get(ident, [])
            again = f["status"] == "approved"  # back for its statistics: reviews since count
            out.append(
                QueueEntry(
                    id=ident,
                    kind=f["kind"],
                    format=str(f.get("format", f["kind"])),
                    roles=tuple(f.get("roles", [])),
                    standards=tuple(sorted({s for _, s in f.get("std", [])})),
                    reviewed=ident in since_flag if again else f["hash"] in hashes,
                    changed=not again and bool(hashes) and f["hash"] not in hashes,
                    flags=flags[1] if flags else (),
                    administration=flags[0] if flags else "",
                )
            )
        return out

    def _flagged(self, facts: dict[str, Any]) -> dict[str, tuple[str, tuple[str, ...], str]]:
        """Item id -> (administration, flag reasons, analysed at) for items whose newest
        statistics are flagged and not yet acted on by the panel."""
        stats: dict[str, list[dict[str, Any]]] = {}
        reviews: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        items = {}
        for path, f in facts.items():
            if not f["valid"]:
                continue
            if f["kind"] == "statistics":
                stats.setdefault(f["item"], []).append(f)
            elif f["kind"] == "review":
                reviews.setdefault(f["target"], []).append((path, f))
            elif f["kind"] == "item" and f.get("id"):
                items[f["id"]] = f
        policy = self._bank.settings["review_policy"]
        out = {}
        for ident, records in stats.items():
            if ident not in items:
                continue  # validate reports statistics of an unknown item
            pending = pending_flags(items[ident], records, reviews.get(ident, []), policy)
            if pending is not None:
                newest = max(str(r["analysed_at"]) for r in records)
                out[ident] = (pending[0], pending[1], newest)
        return out

    def _open_status_ok(self, ident: str, status: object) -> bool:
        """In review, or approved with flagged statistics the panel has not acted on."""
        if status == "in_review":
            return True
        return status == "approved" and ident in self._flagged(self._bank.facts())

    def open(self, target: object, reviewer: str) -> ReviewTicket:
        """Open content for review: checks the reviewer may review it and returns a ticket with
        the record, the version seen and, if they reviewed an older version, what changed."""
        panel = self._bank.panels.require(reviewer, "review")
        kind, relpath = self._content(target)
        record = self._bank._load(relpath)
        covers = self._bank.panels.roles(panel)
        roles = set(record.get("roles") or [record.get("role")])
        if covers is not None and not covers & roles:
            raise ReviewInputError(
                f"{record.get('id')} is for {', '.join(sorted(map(str, roles)))}; your panel "
                f"({panel}) reviews {', '.join(sorted(covers))} content only."
            )
        seen = self._bank._bases[relpath]
        if not self._open_status_ok(str(record.get("id")), record.get("status")):
            raise ReviewInputError(
                f"{record['id']} is not in review (it is {record.get('status')}): it has "
                "left your queue. Choose another."
            )
        if same_person(str(record.get("author", "")), reviewer):
            raise ReviewInputError(
                f"You wrote {record['id']}: reviewers never review their own content."
            )
        stimulus = None
        if kind == "item" and record.get("stimulus"):
            try:
                stimulus = self._bank.get_record("stimulus", str(record["stimulus"]))
            except ItembankError:
                stimulus = None
        changes: list[str] = []
        current = workflow.content_hash(kind, record)
        older = sorted(
            (
                r
                for r in self._bank.reviews_of(str(record["id"]))
                if same_person(r["reviewer"], reviewer)
            ),
            key=lambda r: str(r["submitted"]),
        )
        if older and older[-1]["content_hash"] != current:
            for commit in self._store.history(relpath):
                old = parse_record(relpath, self._store.show(commit.sha, relpath))[0]
                if isinstance(old, dict) and (
                    workflow.content_hash(kind, old) == older[-1]["content_hash"]
                ):
                    changes = content_diff(kind, old, record)
                    break
            else:
                changes = ["(the version you reviewed is not in this bank's history)"]
        titles = {
            (str(fw), str(s["id"])): str(s.get("title", ""))
            for fw, f in self._bank.frameworks().items()
            for s in f.get("statements", [])
        }
        return ReviewTicket(
            id=str(record["id"]),
            kind=kind,
            record=record,
            seen=seen or "",
            stimulus=stimulus,
            panel=self._bank.panels.require(reviewer, "review"),
            changes=tuple(changes),
            titles=titles,
            blind=self.blind_answer_of(str(record["id"]), reviewer, current)
            if kind == "item"
            else None,
        )

    def blind_answer_of(self, ident: str, reviewer: str, content_hash: str) -> Record | None:
        """The reviewer's FIRST recorded blind answer to this version of an item, or None."""
        folder = f"reviews/{check_id('content_id', ident)}/blind/"
        for relpath in sorted(p for p in self._store.list_files() if p.startswith(folder)):
            try:
                found = self._bank._load(relpath)
            except ItembankError:
                continue  # validate reports it
            if (
                found.get("content_hash") == content_hash
                and isinstance(found.get("reviewer"), str)
                and same_person(found["reviewer"], reviewer)
            ):
                return found
        return None

    def record_blind_answer(
        self,
        target: object,
        seen: str,
        response: object,
        reviewer: str,
        when: datetime | None = None,
    ) -> Record:
        """Commit the reviewer's blind answer to the item version they opened, BEFORE the key is
        shown. Once per reviewer per version: a second answer is refused (the first counts)."""
        ticket = self.open(target, reviewer)  # every check of opening, again
        if ticket.kind != "item":
            raise ReviewInputError(f"A {ticket.kind} has no key to answer blind.")
        if ticket.seen != seen:
            raise ReviewInputError(
                f"{ticket.id} was changed by someone else since you opened it, so your answer "
                "was not recorded. Open it again and answer the version you read."
            )
        reviewer = check_person(reviewer)
        answer = build_blind_answer(ticket.record, response, reviewer, when or datetime.now(UTC))
        findings = self._bank.check_record(answer, "blind_answer")
        errors = [f for f in findings if f.severity == "error"]
        if errors:
            lines = "\n".join(f"  {f.pointer or '/'}: {f.message}" for f in errors)
            raise ValidationFailedError(f"The blind answer was not recorded:\n{lines}", errors)
        relpath = path_for("item", ticket.id)

        def build() -> tuple[dict[str, bytes | None], dict[str, str | None], str]:
            first = self.blind_answer_of(ticket.id, reviewer, answer["content_hash"])
            if first is not None:
                raise ReviewInputError(
                    f"You already answered this version of {ticket.id} blind "
                    f"({answer_words(first['response'])}); only your first answer counts."
                )
            answer_path = self._free_blind_path(answer)
            changes: dict[str, bytes | None] = {
                answer_path: canonical.dumps(answer).encode("utf-8"),
                relpath: self._store.read(relpath),  # still the version answered, under the lock
            }
            name = reviewer.split("<")[0].strip()
            return (
                changes,
                {answer_path: None, relpath: seen},
                f"{ticket.id}: blind answer by {name}",
            )

        self._store.save_with(build, reviewer)
        return answer

    def _free_blind_path(self, answer: Record) -> str:
        """Where a new blind answer goes: its id is the time to the second, so an answer to a
        newer version within the same second takes the next free second (ids never reused)."""
        stamp = datetime.strptime(str(answer["answered"]), "%Y-%m-%dT%H:%M:%SZ")
        stamp = stamp.replace(tzinfo=UTC)
        while self._store.exists(relpath := path_of(answer, "blind_answer")):
            stamp += timedelta(seconds=1)
            answer["id"] = review_id(str(answer["reviewer"]), stamp)
        return relpath

    def submit(
        self, target: object, answers: ReviewAnswers, reviewer: str, when: datetime | None = None
    ) -> ReviewOutcome:
        """Record one review: the review file and any status change of the content in ONE
        commit by the reviewer. Refused clearly (nothing written) when the content changed or
        left review since it was opened, or this reviewer already reviewed this version."""
        reviewer = check_person(reviewer)
        panel = self._bank.panels.require(reviewer, "review")
        kind, relpath = self._content(target)
        data = self._store.read(relpath)
        record, _ = parse_record(relpath, data)
        if not isinstance(record, dict):
            raise ItembankError(f"{relpath} cannot be read, so it cannot be reviewed now.")
        ident = str(record["id"])
        if not self._open_status_ok(ident, record.get("status")):
            raise ReviewInputError(
                f"{ident} left review since you opened it (it is now {record.get('status')}); "
                "your review was not recorded."
            )
        if canonical.git_blob_sha(data) != answers.seen:
            raise ReviewInputError(
                f"{ident} was changed by someone else since you opened it, so your review was "
                "not recorded (it would not be of what you read). Your answers are still on "
                "screen: open the item again, check what changed, and submit."
            )
        if same_person(str(record.get("author", "")), reviewer):
            raise ReviewInputError(f"You wrote {ident}: reviewers never review their own content.")
        current = workflow.content_hash(kind, record)
        policy = self._bank.settings["review_policy"]
        now = when or datetime.now(UTC)
        first = self.blind_answer_of(ident, reviewer, current) if kind == "item" else None
        if first is not None:
            # the blind answer is the one committed before the key was shown, whatever is sent now
            answers = replace(answers, blind_response=first["response"])
        review = build_review(kind, record, answers, reviewer, panel, now, policy)
        blind: Record | None = None
        if kind == "item" and first is None:
            # no blind answer was recorded (a client that never showed the key): the one sent
            # is the first, committed with the review
            blind = build_blind_answer(record, review["blind_response"], reviewer, now)
        findings = self._bank.check_record(review, "review")
        errors = [f for f in findings if f.severity == "error" and f.code not in DEFERRED_CODES]
        if errors:
            lines = "\n".join(f"  {f.pointer or '/'}: {f.message}" for f in errors)
            raise ValidationFailedError(f"The review was not recorded:\n{lines}", errors)
        review_path = path_of(review, "review")
        decided: dict[str, Any] = {}
        # an approved item is back for flagged statistics: only reviews since them count as
        # "already reviewed" (whoever approved it before may, and should, look again)
        flag = self._flagged(self._bank.facts()).get(ident)
        since = flag[2] if record.get("status") == "approved" and flag else ""

        def build() -> tuple[dict[str, bytes | None], dict[str, str | None], str]:
            # Under the store's lock: the reviews read here are all there are, so a second
            # submission (double click, second tab) is refused and two reviewers giving the
            # last approvals at once cannot both miss that the policy is met.
            earlier = self._bank.reviews_of(ident)
            done = [
                r
                for r in earlier
                if same_person(r["reviewer"], reviewer)
                and r["content_hash"] == current
                and str(r["submitted"]) > since
            ]
            if done:
                raise ReviewInputError(
                    f"You already reviewed this version of {ident} (review {done[0]['id']}); "
                    "it is recorded once. Nothing more was written."
                )
            if record.get("status") == "approved":  # back for flagged statistics
                status = FLAGGED_NEXT_STATUS.get(str(review["decision"]))
            else:
                status = next_status(kind, record, review, earlier, policy)
            if status:
                workflow.check_move(str(record.get("status")), status)
            changed = dict(record, status=status) if status else record
            decided.update(status=status, changed=changed, earlier=earlier)
            changes: dict[str, bytes | None] = {
                review_path: canonical.dumps(review).encode("utf-8"),
                # the content file is always in the commit, so the check that it is still the
                # version the reviewer read happens under the lock too
                relpath: canonical.dumps(changed).encode("utf-8") if status else data,
            }
            expected: dict[str, str | None] = {review_path: None, relpath: answers.seen}
            if blind is not None:
                if self.blind_answer_of(ident, reviewer, current) is not None:
                    raise ReviewInputError(
                        f"Your blind answer to {ident} was recorded from another window since "
                        "you opened it; open the item again. Nothing more was written."
                    )
                blind_path = self._free_blind_path(blind)
                changes[blind_path] = canonical.dumps(blind).encode("utf-8")
                expected[blind_path] = None
            name = reviewer.split("<")[0].strip()
            words = {"approve": "approve", "request_changes": "request changes", "reject": "reject"}
            message = f"{ident}: {words[review['decision']]} (review by {name})"
            if record.get("status") == "approved":
                message += "; statistics flags reviewed" + (f"; status {status}" if status else "")
            elif status == "approved":
                message += "; approved: review policy met"
            elif status:
                message += f"; status {status}"
            return changes, expected, message

        commit = self._store.save_with(build, reviewer)
        status = decided["status"]
        verdict = policy_verdict(kind, decided["changed"], [*decided["earlier"], review], policy)
        return ReviewOutcome(
            review=review,
            status=status,
            commit=commit,
            approvals=len(verdict.current_approvals),
            needed=int(policy.get("approvals_required", 2)),
        )
