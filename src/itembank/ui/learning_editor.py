"""The learning point editor (writers' app, 'Learning points' tab): a short development
suggestion for a standard, with its roles, standards, suggested references and tags. State and
rules live in LearningPointModel (plain Python, tests drive it directly); the view only shows
it. learning_point_html is how a learning point reads to a reviewer and in the preview."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as w

from itembank.bank import Bank
from itembank.checks.learningrules import MAX_WORDS, MIN_WORDS, word_count
from itembank.core.errors import ItembankError, ValidationFailedError, WorkflowError
from itembank.core.findings import Finding
from itembank.core.ids import is_id
from itembank.core.render import markdown_html, sanitise
from itembank.ui.item_editor import ItemEditor
from itembank.ui.record_editor import RecordEditor, say
from itembank.ui.widgets import StandardsPicker, css, findings_html, textarea
from itembank.ui.widgets import field as labelled

Record = dict[str, Any]
KIND = "learning_point"


def learning_point_html(
    record: Mapping[str, Any],
    titles: Mapping[tuple[str, str], str] | None = None,
    references: Mapping[str, str] | None = None,
) -> str:
    """A learning point as a reviewer (and a candidate's letter) reads it: the title, the text,
    the standards it serves (with their titles) and the suggested learning."""
    titles, references = titles or {}, references or {}
    standards = "".join(
        f"<li>{html.escape(str(m.get('statement')))} "
        f"{html.escape(titles.get((str(m.get('framework')), str(m.get('statement'))), ''))} "
        f"<small>({html.escape(str(m.get('framework')))})</small></li>"
        for m in record.get("standards", []) or []
        if isinstance(m, Mapping)
    )
    suggested = "".join(
        f"<li>{html.escape(references.get(str(r), str(r)))}</li>"
        for r in record.get("references", []) or []
    )
    return sanitise(
        f'<div class="ib-learning-point"><h3>{html.escape(str(record.get("title", "")))}</h3>'
        f"{markdown_html(record.get('text', ''))}"
        f"<p><strong>Suggested learning</strong></p><ul>{suggested}</ul>"
        f"<p><strong>Standards</strong></p><ul>{standards}</ul></div>"
    )


@dataclass
class LearningPointModel:
    """One learning point being written: the record, its checks, saving and submitting."""

    bank: Bank
    author: str | None = None
    record: Record = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def new(self) -> Record:
        """Start a new learning point with the next free id (a draft by this writer)."""
        if not self.author:
            raise WorkflowError("Tell the item editor who you are first.")
        self.record = self.bank.authoring.new_learning_point(self.author)
        return self.check()

    def open(self, ident: object) -> Record:
        """Open an existing learning point by its (checked) id."""
        if not is_id("content_id", ident):
            raise WorkflowError(f"{ident!r} is not a learning point id (e.g. LP-0001).")
        record = self.bank.get_record(KIND, str(ident))
        self.record = dict(record)
        return self.check()

    def update(self, **fields: Any) -> Record:
        """Change some fields and check again (as the writer types)."""
        self.record = {**self.record, **fields}
        return self.check()

    def check(self) -> Record:
        self.findings = self.bank.authoring.check_draft(self.record, KIND) if self.record else []
        return self.record

    def words(self) -> int:
        return word_count(str(self.record.get("text", "")))

    def save(self, submit: bool = False) -> str:
        """One commit by the writer; with `submit`, the learning point goes to review (refused
        while it has errors). Editing an approved one sends it back to review."""
        if not self.author:
            raise WorkflowError("Tell the item editor who you are first.")
        record = dict(self.record)
        if submit:
            self.check()
            errors = [f for f in self.findings if f.severity == "error"]
            if errors:
                raise ValidationFailedError(
                    f"{record.get('id')} was not submitted: fix the {len(errors)} error(s) first.",
                    errors,
                )
            if record.get("status") in ("draft", "changes_requested"):
                record["status"] = "in_review"
        sha = self.bank.save(record, author=self.author, kind=KIND)
        self.record = dict(self.bank.get_record(KIND, str(record["id"])))
        self.check()
        return sha


class LearningPointEditor(RecordEditor):
    """The view: pick or start a learning point, edit it with live checks, save or submit."""

    kind, label = KIND, "learning point"

    def __init__(self, bank: Bank, editor: ItemEditor) -> None:
        super().__init__(bank, editor)
        self.model = LearningPointModel(bank, editor.author)
        catalogue = sorted(
            (str(r.get("title", r.get("id"))), str(r.get("id")))
            for r in bank.references()
            if r.get("status") == "current"
        )
        self.reference_titles = {str(r.get("id")): str(r.get("title")) for r in bank.references()}
        self.picker = css(
            w.Dropdown(description="Learning point", layout=w.Layout(width="480px")),
            "ib-lp-picker",
        )
        self.open_button = css(w.Button(description="Open", icon="folder-open"), "ib-lp-open")
        self.new_button = css(w.Button(description="New learning point", icon="plus"), "ib-lp-new")
        self.title = css(w.Text(layout=w.Layout(width="95%")), "ib-lp-title")
        self.roles = {
            r["id"]: w.Checkbox(description=r["title"], indent=False)
            for r in bank.settings.get("roles", [])
        }
        self.standards = StandardsPicker(bank, self.check)
        self.text = textarea(
            "lp-text",
            rows=8,
            placeholder="What to revisit, practise or discuss, and where: in your own words, "
            "never an item's",
        )
        self.count = css(w.HTML(), "ib-lp-count")
        self.references = css(
            w.SelectMultiple(options=catalogue, rows=8, layout=w.Layout(width="95%")),
            "ib-lp-references",
        )
        self.tags = css(w.Text(placeholder="topic tags, e.g. significant-harm"), "ib-lp-tags")
        self.findings = css(w.HTML(), "ib-lp-findings")
        self.save_button = css(
            w.Button(description="Save", icon="save", button_style="primary"), "ib-lp-save"
        )
        self.submit_button = css(
            w.Button(description="Submit for review", icon="paper-plane"), "ib-lp-submit"
        )
        self.result = css(w.HTML(), "ib-lp-result")
        self.preview = css(w.HTML(), "ib-lp-preview")
        self.open_button.on_click(lambda _: self.open(self.picker.value))
        self.new_button.on_click(lambda _: self.new())
        self.save_button.on_click(lambda _: self.save())
        self.submit_button.on_click(lambda _: self.save(submit=True))
        self._loading = False
        for widget in (self.title, self.text, self.references, self.tags, *self.roles.values()):
            widget.observe(lambda _: self.check(), "value")
        self.widget = css(
            w.VBox(
                [
                    w.HBox([self.picker, self.open_button, self.new_button]),
                    labelled("Title", self.title, w.HTML(), "A short heading a candidate reads"),
                    labelled("Roles", w.HBox(list(self.roles.values())), w.HTML()),
                    labelled("Standards", self.standards.widget, w.HTML()),
                    labelled(
                        "Text",
                        self.text,
                        self.count,
                        f"{MIN_WORDS}-{MAX_WORDS} words of specific, practical advice",
                    ),
                    labelled(
                        "Suggested learning (current law and guidance)", self.references, w.HTML()
                    ),
                    labelled("Tags", self.tags, w.HTML()),
                    self.findings,
                    w.HBox([self.save_button, self.submit_button]),
                    self.result,
                    w.HTML("<h3>Preview</h3>"),
                    self.preview,
                ]
            ),
            "ib-lp-editor",
        )
        self.refresh()

    def open(self, ident: object) -> None:
        try:
            self.model.author = self.editor.author
            self.load(self.model.open(ident))
        except ItembankError as exc:
            say(self.result, str(exc), False)

    def new(self) -> None:
        self.model.author = self.editor.author
        try:
            self.load(self.model.new())
        except ItembankError as exc:
            say(self.result, str(exc), False)

    def load(self, record: Record) -> None:
        self._loading = True
        try:
            self.model.record = dict(record)
            self.title.value = str(record.get("title", ""))
            for role, box in self.roles.items():
                box.value = role in (record.get("roles") or [])
            self.standards.value = record.get("standards", []) or []
            self.text.value = str(record.get("text", ""))
            known = {v for _, v in self.references.options}
            extra = [r for r in record.get("references", []) or [] if r not in known]
            self.references.options = [
                *self.references.options,
                *((f"{self.reference_titles.get(r, r)} (not current)", r) for r in extra),
            ]
            self.references.value = tuple(record.get("references", []) or [])
            self.tags.value = ", ".join(record.get("tags", []) or [])
        finally:
            self._loading = False
        self.check()

    def collect(self) -> Record:
        return {
            "title": self.title.value,
            "roles": [r for r, box in self.roles.items() if box.value],
            "standards": self.standards.value,
            "text": self.text.value,
            "references": list(self.references.value),
            "tags": [t for t in self.tags.value.replace(",", " ").split() if t],
        }

    def check(self) -> None:
        if self._loading or not self.model.record:
            return
        try:
            record = self.model.update(**self.collect())
        except ItembankError as exc:
            say(self.result, str(exc), False)
            return
        count = self.model.words()
        colour = "#1b5e20" if MIN_WORDS <= count <= MAX_WORDS else "#b00020"
        self.count.value = f'<span style="color:{colour}">{count} words</span>'
        self.findings.value = findings_html(self.model.findings)
        self.preview.value = learning_point_html(record, None, self.reference_titles)

    def save(self, submit: bool = False) -> bool:
        self.model.author = self.editor.author
        if not self.model.author:
            say(self.result, "Tell the item editor who you are first.", False)
            return False
        self.check()
        try:
            sha = self.model.save(submit=submit)
        except ValidationFailedError as exc:
            self.findings.value = findings_html(exc.findings)
            say(self.result, f"Not saved: {len(exc.findings)} error(s) shown above.", False)
            return False
        except ItembankError as exc:
            say(self.result, f"Not saved. {exc}", False)
            return False
        self.refresh()
        self.load(self.model.record)
        record = self.model.record
        say(
            self.result,
            f"{'Submitted' if submit else 'Saved'} {record['id']} (commit {sha[:8]}, status "
            f"{record.get('status')}).",
            True,
        )
        return True
