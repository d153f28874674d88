"""The panel review app's model: a reviewer's queue, the content open for review, the blind
answer and whether the key may be shown, and submitting a review, in plain Python (no widgets),
so that tests drive it directly; also how a scenario reads to a reviewer (scenario_html). The
view is ReviewApp (review_app.py)."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from itembank.bank import Bank
from itembank.core.errors import ReviewInputError
from itembank.core.render import markdown_html, sanitise
from itembank.review.rules import (
    QueueEntry,
    ReviewAnswers,
    ReviewOutcome,
    ReviewTicket,
    matches_key,
    valid_target,
)
from itembank.ui.statistics_view import statistics_rows

ALL = "(all)"  # a filter that lets every entry through


def scenario_html(scenario: Mapping[str, Any]) -> str:
    """A scenario as a reviewer reads it: background, each exercise's briefs, the reflective and
    written tasks and the marking scheme (all text through the Markdown sanitiser)."""
    md = markdown_html
    parts = [f'<div class="ib-scenario"><h3>{html.escape(str(scenario.get("title", "")))}</h3>']
    parts.append(f"<h4>Background</h4>{md(scenario.get('background', ''))}")
    for exercise in scenario.get("exercises", []) or []:
        if not isinstance(exercise, Mapping):
            continue
        title = f"Exercise {exercise.get('id')}: {exercise.get('title', '')}"
        parts.append(f"<h4>{html.escape(title)}</h4>")
        parts.append(
            f"<p><strong>Candidate brief</strong></p>{md(exercise.get('candidate_brief', ''))}"
        )
        for brief in exercise.get("actor_briefs", []) or []:
            if not isinstance(brief, Mapping):
                continue
            parts.append(f"<p><strong>Actor brief</strong></p>{md(brief.get('character', ''))}")
            parts.append(f"<p><em>Demeanour</em></p>{md(brief.get('demeanour', ''))}")
            for step in brief.get("disclose", []) or []:
                if isinstance(step, Mapping):
                    parts.append(
                        f"<blockquote>{md('**When:** ' + str(step.get('when', '')))}"
                        f"{md(step.get('what', ''))}</blockquote>"
                    )
            donts = "".join(f"<li>{md(x)}</li>" for x in brief.get("do_not_say", []) or [])
            parts.append(f"<p><em>Do not</em></p><ul>{donts}</ul>")
    for part in ("reflective", "written"):
        task = scenario.get(part)
        if isinstance(task, Mapping):
            text = task.get("prompt") or task.get("task") or ""
            parts.append(f"<h4>{part.title()} task</h4>{md(text)}")
    scheme = scenario.get("marking_scheme")
    if isinstance(scheme, Mapping):
        parts.append("<h4>Marking scheme</h4>")
        for criterion in scheme.get("criteria", []) or []:
            if not isinstance(criterion, Mapping):
                continue
            name = criterion.get("title") or criterion.get("id") or ""
            parts.append(f"<p><strong>{html.escape(str(name))}</strong></p><ul>")
            for band in criterion.get("bands", []) or []:
                if isinstance(band, Mapping):
                    label = f"{band.get('score')}: {band.get('label', '')}"
                    parts.append(
                        f"<li><strong>{html.escape(label)}</strong>"
                        f"{md(band.get('descriptor', ''))}</li>"
                    )
            parts.append("</ul>")
    parts.append("</div>")
    return sanitise("".join(parts))


@dataclass
class ReviewModel:
    """Everything the review app knows, with no widgets: tests drive it directly or via the view."""

    bank: Bank
    reviewer: str | None = None
    queue: list[QueueEntry] = field(default_factory=list)
    ticket: ReviewTicket | None = None
    blind: list[str] | dict[str, bool] | None = None
    revealed: bool = False
    last: ReviewOutcome | None = None

    def sign_in(self, login: str | None) -> str:
        self.reviewer = self.bank.panels.sign_in(login, "review")
        self.refresh()
        return self.reviewer

    def refresh(self) -> None:
        if self.reviewer is None:
            raise ReviewInputError("Sign in first.")
        self.queue = self.bank.review.queue(self.reviewer)

    def progress(self) -> tuple[int, int]:
        return sum(e.reviewed for e in self.queue), len(self.queue)

    def filtered(self, standard: str, role: str, fmt: str) -> list[QueueEntry]:
        return [
            e
            for e in self.queue
            if (standard == ALL or standard in e.standards)
            and (role == ALL or role in e.roles)
            and (fmt == ALL or fmt == e.format)
        ]

    def open(self, target: object) -> ReviewTicket:
        """Open an entry of this reviewer's queue (any other value is refused)."""
        if self.reviewer is None:
            raise ReviewInputError("Sign in first.")
        if not valid_target(target) or target not in {e.id for e in self.queue}:
            raise ReviewInputError("Choose an item from your queue.")
        self.ticket = self.bank.review.open(target, self.reviewer)
        self.blind, self.revealed, self.last = None, False, None
        if self.ticket.blind is not None:  # answered before (another page): that answer stands
            self.blind, self.revealed = self.ticket.blind["response"], True
        return self.ticket

    def answer_blind(self, response: object) -> bool:
        """Commit the blind answer (the first one to this version counts, once), then the key
        may be shown; returns whether it matched the key."""
        ticket = self._ticket()
        if ticket.kind != "item":
            raise ReviewInputError("Only items are answered blind.")
        if self.revealed:
            raise ReviewInputError("Your blind answer to this version is already recorded.")
        assert self.reviewer is not None
        recorded = self.bank.review.record_blind_answer(
            ticket.id, ticket.seen, response, self.reviewer
        )
        self.blind, self.revealed = recorded["response"], True
        return self.matched()

    def matched(self) -> bool:
        """Whether the recorded blind answer is the key."""
        ticket = self._ticket()
        return self.blind is not None and matches_key(ticket.record, self.blind)

    def submit(
        self,
        ratings: Mapping[str, Any],
        decision: object,
        comment: object,
        notes: Mapping[str, Any],
    ) -> ReviewOutcome:
        ticket = self._ticket()
        if ticket.kind == "item" and not self.revealed:
            raise ReviewInputError("Answer the item first: the key is shown after your answer.")
        answers = ReviewAnswers(
            seen=ticket.seen,
            ratings={k: v for k, v in ratings.items() if isinstance(k, str)},
            decision=decision if isinstance(decision, str) else "",
            comment=comment if isinstance(comment, str) else "",
            blind_response=self.blind if ticket.kind == "item" else None,
            criterion_comments={k: v for k, v in notes.items() if isinstance(v, str)},
        )
        assert self.reviewer is not None
        outcome: ReviewOutcome = self.bank.review.submit(ticket.id, answers, self.reviewer)
        self.last, self.ticket, self.blind, self.revealed = outcome, None, None, False
        self.refresh()
        return outcome

    def statistics(self) -> list[dict[str, str]]:
        """The open item's statistics history, newest first, once the key may be shown (option
        proportions and facility would cue the key before the blind answer); [] otherwise."""
        ticket = self._ticket()
        if ticket.kind != "item" or not self.revealed:
            return []
        return statistics_rows(self.bank, ticket.record)

    def _ticket(self) -> ReviewTicket:
        if self.ticket is None:
            raise ReviewInputError("Nothing is open: choose an item from your queue.")
        return self.ticket
