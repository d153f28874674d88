"""The panel review app (Voila): sign in, pick content from the queue, answer an item blind, then
see the key, rate each criterion and decide. State lives in ReviewModel (plain Python, in
review_model.py); this view only shows it. The key reaches no widget until the reviewer has
answered."""

from __future__ import annotations

import html
import os
from collections.abc import Mapping
from typing import Any

import ipywidgets as w

from itembank.bank import Bank
from itembank.core import workflow
from itembank.core.render import candidate_html, markdown_html, reviewer_html
from itembank.core.workflow import CRITERIA
from itembank.review.rules import (
    CRITERION_TEXT,
    DECISIONS,
    QueueEntry,
    ReviewTicket,
    answer_words,
    option_ids,
)
from itembank.ui.learning_editor import learning_point_html
from itembank.ui.review_model import ALL, ReviewModel, scenario_html
from itembank.ui.statistics_view import statistics_html
from itembank.ui.widgets import Messages, SyncBanner, css

__all__ = ["ALL", "FORMAT_NAMES", "ReviewApp", "ReviewModel", "scenario_html"]

FORMAT_NAMES = {
    "single_best_answer": "single best answer",
    "multiple_response": "multiple response",
    "true_false": "true/false",
    "multiple_true_false": "multiple true/false",
    "scenario": "simulation scenario",
    "stimulus": "case",
    "learning_point": "learning point",
}


class ReviewApp(Messages):
    """The view: ReviewApp(open_bank()).show() in a Voila notebook."""

    def __init__(self, bank: Bank) -> None:
        self.model = ReviewModel(bank)
        self.sync_banner = SyncBanner(bank)
        self.message = css(w.HTML(""), "ib-message")
        hub = os.environ.get("JUPYTERHUB_USER", "").strip()
        members = bank.panels.members("review")
        self.who = css(
            w.Dropdown(
                options=[("Choose your name", "")]
                + [(m.split("<")[0].strip(), m) for m in members],
                value="",
                description="Reviewer",
            ),
            "ib-signin-name",
        )
        self.sign_in_button = css(
            w.Button(description="Sign in", button_style="primary"), "ib-signin"
        )
        self.sign_in_button.on_click(self._safe(lambda: self._sign_in(self.who.value)))
        self.signed = css(w.HTML(""), "ib-signed-in")
        self.sign_in_box = w.HBox([self.who, self.sign_in_button])
        self.standard = css(w.Dropdown(options=[ALL], description="Standard"), "ib-filter-standard")
        self.role = css(w.Dropdown(options=[ALL], description="Role"), "ib-filter-role")
        self.format = css(w.Dropdown(options=[ALL], description="Format"), "ib-filter-format")
        for box in (self.standard, self.role, self.format):
            box.observe(self._safe(self._show_queue), names="value")
        self.progress = css(w.HTML(""), "ib-progress")
        self.queue = css(w.Select(options=[], rows=8, layout=w.Layout(width="95%")), "ib-queue")
        self.open_button = css(w.Button(description="Open for review"), "ib-open")
        self.open_button.on_click(self._safe(lambda: self._open(self.queue.value)))
        self.queue_box = w.VBox(
            [
                self.progress,
                w.HBox([self.standard, self.role, self.format]),
                self.queue,
                self.open_button,
            ],
            layout=w.Layout(display="none"),
        )
        self.content = css(w.HTML(""), "ib-content")
        self.changes = css(w.HTML(""), "ib-changes")
        self.blind_box = css(w.VBox([]), "ib-blind")
        self.reveal_button = css(
            w.Button(description="Record my answer and show the key", button_style="primary"),
            "ib-reveal",
        )
        self.reveal_button.on_click(self._safe(self._reveal))
        self.match = css(w.HTML(""), "ib-match")
        self.statistics = css(w.HTML(""), "ib-statistics")  # shown with the key, never before
        self.ratings: dict[str, w.RadioButtons] = {}
        self.notes: dict[str, w.Textarea] = {}
        self.rating_box = w.VBox([])
        self.decision = css(
            w.RadioButtons(
                options=[
                    ("Approve", "approve"),
                    ("Request changes", "request_changes"),
                    ("Reject", "reject"),
                ],
                value=None,
                description="Decision",
            ),
            "ib-decision",
        )
        self.comment = css(
            w.Textarea(
                placeholder="Comment for the writer (required to request "
                "changes or reject; explain any blind-key mismatch)",
                rows=4,
                layout=w.Layout(width="95%"),
            ),
            "ib-comment",
        )
        self.submit_button = css(
            w.Button(description="Submit review", button_style="success"), "ib-submit"
        )
        self.submit_button.on_click(self._safe(self._submit))
        self.judge_box = w.VBox(
            [
                self.match,
                self.statistics,
                self.rating_box,
                self.decision,
                self.comment,
                self.submit_button,
            ],
            layout=w.Layout(display="none"),
        )
        self.review_box = w.VBox(
            [self.changes, self.content, self.blind_box, self.reveal_button, self.judge_box],
            layout=w.Layout(display="none"),
        )
        self.root = css(
            w.VBox(
                [
                    w.HTML("<h2>Item review</h2>"),
                    self.sync_banner.widget,
                    self.sign_in_box,
                    self.signed,
                    self.message,
                    self.queue_box,
                    self.review_box,
                ]
            ),
            "ib-review-app",
        )
        if hub:
            self.sign_in_box.layout.display = "none"
            self._sign_in(None)

    def show(self) -> w.Widget:
        """The app's root widget (the notebook cell displays it)."""
        return self.root

    # ---- helpers ------------------------------------------------------------------------------

    # ---- flow ---------------------------------------------------------------------------------

    def _sign_in(self, login: object) -> None:
        if self.model.reviewer is not None:
            return
        name = self._run(lambda: self.model.sign_in(login if isinstance(login, str) else None))
        if name is None:
            return
        self.sign_in_box.layout.display = "none"
        self.signed.value = f"Signed in as <strong>{html.escape(name)}</strong>"
        self._say("")
        self.queue_box.layout.display = ""
        self._fill_filters()
        self._show_queue()

    def _fill_filters(self) -> None:
        queue = self.model.queue
        self.standard.options = [ALL, *sorted({s for e in queue for s in e.standards})]
        self.role.options = [ALL, *sorted({r for e in queue for r in e.roles})]
        self.format.options = [ALL, *sorted({e.format for e in queue})]

    def _show_queue(self) -> None:
        done, total = self.model.progress()
        self.progress.value = f"<strong>{done} of {total}</strong> reviewed"
        entries = self.model.filtered(
            str(self.standard.value), str(self.role.value), str(self.format.value)
        )
        self.queue.options = [(self._label(e), e.id) for e in entries]

    @staticmethod
    def _label(e: QueueEntry) -> str:
        state = (
            "reviewed ✓"
            if e.reviewed
            else ("changed since your review" if e.changed else "to review")
        )
        what = FORMAT_NAMES.get(e.format, e.format)
        flagged = f" · flagged ({e.administration}): {'; '.join(e.flags)}" if e.flags else ""
        return f"{e.id} · {what} · {', '.join(e.standards)} · {state}{flagged}"

    def _open(self, target: object) -> None:
        self.sync_banner.before_opening()  # review the latest version of the shared bank
        ticket = self._run(lambda: self.model.open(target))
        if ticket is None:
            return
        self._say("")
        self.judge_box.layout.display = "none"
        self.match.value = ""
        self.statistics.value = ""
        self.decision.value = None
        self.comment.value = ""
        self.changes.value = self._changes_html(ticket) if ticket.kind != "item" else ""
        if ticket.kind == "item":
            self.content.value = candidate_html(ticket.record, ticket.stimulus)
            self._blind_widgets(ticket.record)
            self.blind_box.layout.display = ""
            self.reveal_button.layout.display = ""
            if self.model.revealed:  # answered blind before: show that answer beside the key
                self._show_blind(self.model.blind)
                self._show_key(ticket, self.model.matched(), again=True)
        else:
            if ticket.kind == "scenario":
                body = scenario_html(ticket.record)
            elif ticket.kind == "learning_point":  # no key: nothing to answer blind
                refs = self.model.bank.references()
                titles = {str(r.get("id")): str(r.get("title")) for r in refs}
                body = learning_point_html(ticket.record, ticket.titles, titles)
            else:
                body = markdown_html(ticket.record.get("text", ""))
            self.content.value = body
            self.blind_box.children = ()
            self.reveal_button.layout.display = "none"
            self._rating_widgets(ticket.kind)
            self.judge_box.layout.display = ""
        self.review_box.layout.display = ""

    def _blind_widgets(self, item: Mapping[str, Any]) -> None:
        ids = option_ids(item)
        letters = "ABCDEFGHI"
        fmt = item.get("format")
        if fmt == "multiple_true_false":
            rows = [
                css(
                    w.ToggleButtons(
                        options=[("True", True), ("False", False)],
                        value=None,
                        description=f"Statement {i}",
                    ),
                    "ib-blind-tf",
                    f"ib-blind-tf-{i}",
                )
                for i in ids
            ]
            self.blind_box.children = rows
        elif fmt == "multiple_response":
            boxes = [
                css(
                    w.Checkbox(
                        value=False,
                        description=f"{letters[n]} ({i})" if letters[n] != i else i,
                        indent=False,
                    ),
                    "ib-blind-mr",
                    f"ib-blind-mr-{i}",
                )
                for n, i in enumerate(ids)
            ]
            self.blind_box.children = [w.HTML(f"Choose {item.get('select_count')}:"), *boxes]
        else:
            radio = css(
                w.RadioButtons(options=ids, value=None, description="Your answer"), "ib-blind-one"
            )
            self.blind_box.children = [radio]

    def _blind_value(self) -> object:
        ticket = self.model.ticket
        if ticket is None:
            return None
        ids = option_ids(ticket.record)
        kids = [c for c in self.blind_box.children if not isinstance(c, w.HTML)]
        fmt = ticket.record.get("format")
        if fmt == "multiple_true_false":
            return {i: c.value for i, c in zip(ids, kids, strict=False) if c.value is not None}
        if fmt == "multiple_response":
            return [i for i, c in zip(ids, kids, strict=False) if c.value is True]
        value = kids[0].value if kids else None
        return [value] if isinstance(value, str) else []

    def _reveal(self) -> None:
        ticket = self.model.ticket
        if ticket is None or ticket.kind != "item":
            self._say("Nothing to answer: open an item from your queue.", "error")
            return
        if self.model.revealed:
            return
        matched = self._run(lambda: self.model.answer_blind(self._blind_value()))
        if matched is None:
            assert self.model.reviewer is not None
            content = workflow.content_hash("item", ticket.record)
            if self.model.bank.review.blind_answer_of(ticket.id, self.model.reviewer, content):
                # answered in another window meanwhile: that answer stands; show it with the key
                self._open(ticket.id)
                self._say(
                    "Your blind answer to this version was already recorded (in another "
                    "window): it is shown beside the key and cannot be changed.",
                    "error",
                )
            return
        self._say("")
        self._show_key(ticket, matched)

    def _show_blind(self, response: object) -> None:
        """Set the answer widgets to a recorded blind answer (they are disabled next)."""
        kids = [c for c in self.blind_box.children if not isinstance(c, w.HTML)]
        ticket = self.model.ticket
        ids = option_ids(ticket.record) if ticket else []
        if isinstance(response, Mapping):
            for i, child in zip(ids, kids, strict=False):
                child.value = response.get(i)
        elif isinstance(response, list):
            if len(kids) == 1 and isinstance(kids[0], w.RadioButtons):
                kids[0].value = response[0] if response else None
            else:
                for i, child in zip(ids, kids, strict=False):
                    child.value = i in response

    def _show_key(self, ticket: ReviewTicket, matched: bool, again: bool = False) -> None:
        """The key and rating form, once the blind answer is recorded; the answer is frozen."""
        for child in self.blind_box.children:
            child.disabled = True
        self.reveal_button.layout.display = "none"
        self.content.value = reviewer_html(ticket.record, ticket.stimulus, ticket.titles)
        self.changes.value = self._changes_html(ticket)
        words = html.escape(answer_words(self.model.blind))
        recorded = (
            f'<div class="ib-blind-recorded">Your blind answer (recorded'
            f"{' earlier; it cannot be changed' if again else ''}): <strong>{words}</strong></div>"
        )
        if matched:
            self.match.value = recorded + (
                '<div class="ib-blind-ok" style="color:#1b5e20">Your answer matches the key.</div>'
            )
        else:
            self.match.value = recorded + (
                '<div class="ib-blind-mismatch" style="color:#a40000;font-weight:bold">'
                "Your answer differs from the key. This is recorded. If you approve, explain in "
                "the comment why the key is right; otherwise request changes.</div>"
            )
        self.statistics.value = statistics_html(self.model.statistics())
        self._rating_widgets("item")
        self.judge_box.layout.display = ""

    def _changes_html(self, ticket: ReviewTicket) -> str:
        if not ticket.changes:
            return ""
        lines = []
        for line in ticket.changes:
            cls = (
                "ib-diff-add"
                if line.startswith("+")
                else "ib-diff-del"
                if line.startswith("-")
                else "ib-diff-ctx"
            )
            lines.append(f'<span class="{cls}">{html.escape(line)}</span>')
        return (
            '<div class="ib-diff"><strong>Changed since your last review:</strong>'
            f"<pre>{'<br>'.join(lines)}</pre></div>"
        )

    def _rating_widgets(self, kind: str) -> None:
        self.ratings, self.notes, rows = {}, {}, []
        for criterion in CRITERIA[kind]:
            radio = css(
                w.RadioButtons(
                    options=[("Yes", "yes"), ("No", "no"), ("Unsure", "unsure")], value=None
                ),
                "ib-rating",
                f"ib-rating-{criterion}",
            )
            note = css(
                w.Textarea(placeholder="Comment (optional)", rows=1, layout=w.Layout(width="60%")),
                f"ib-note-{criterion}",
            )
            self.ratings[criterion], self.notes[criterion] = radio, note
            rows.append(
                w.VBox(
                    [
                        w.HTML(f"<strong>{html.escape(CRITERION_TEXT[criterion])}</strong>"),
                        w.HBox([radio, note]),
                    ]
                )
            )
        self.rating_box.children = rows

    def _submit(self) -> None:
        if self.model.ticket is None:
            self._say("Nothing to submit: choose an item from your queue.", "error")
            return
        flagged = self.model.ticket.record.get("status") == "approved"  # back for statistics
        self.submit_button.disabled = True
        try:
            decision = self.decision.value
            if decision is not None and decision not in DECISIONS:
                decision = ""
            outcome = self._run(
                lambda: self.model.submit(
                    {c: r.value for c, r in self.ratings.items()},
                    decision,
                    self.comment.value,
                    {c: n.value for c, n in self.notes.items()},
                )
            )
        finally:
            self.submit_button.disabled = False
        if outcome is None:
            return
        target = outcome.review["target"]
        if flagged:
            state = {
                None: f"{target} stays approved; the flag clears when {outcome.needed} panel "
                "members have re-approved it since its statistics.",
                "in_review": f"{target} is back in review: it goes on no new form until it is "
                "changed and approved again.",
                "retired": f"{target} is retired: it goes on no new form.",
            }.get(outcome.status, f"{target} is now {outcome.status}.")
        elif outcome.status == "approved":
            state = f"{target} is now approved."
        elif outcome.status:
            state = (
                f"{target} is now {outcome.status.replace('_', ' ')}: it goes back to its writer."
            )
        else:
            state = (
                f"{target} stays in review ({outcome.approvals} of {outcome.needed} "
                "approvals of this version)."
            )
        self._say(
            f"Recorded review {outcome.review['id']} (commit {outcome.commit[:8]}). {state}", "ok"
        )
        self.review_box.layout.display = "none"
        self.content.value = ""
        self.blind_box.children = ()
        self.rating_box.children = ()
        self._fill_filters()
        self._show_queue()
