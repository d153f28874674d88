"""The knowledge item editor's view: every format, live checks next to each field, candidate and
reviewer previews, save (one commit by the writer), submit for review, local drafts and a
warning before unsaved changes would be lost. What is edited and the rules for it live in the
model (item_model.py); this module holds the widgets, reads them into ItemFields for the model
and shows what the model says."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as w

from itembank.bank import Bank
from itembank.core.errors import ItembankError, ValidationFailedError
from itembank.core.findings import Finding
from itembank.ui.item_form import FORMATS, ItemForm, OptionRow
from itembank.ui.item_model import (
    LETTERS,
    ItemModel,
    NotSubmittedError,
    fields_of,
    statement_titles,
)
from itembank.ui.statistics_view import statistics_html, statistics_rows
from itembank.ui.widgets import SyncBanner, button, css

__all__ = ["FORMATS", "LETTERS", "ItemEditor", "OptionRow"]


class ItemEditor(ItemForm):
    """A form over one item. Build it with a Bank; `.widget` is what a notebook displays; the
    state is `.model` (an ItemModel), the boxes come from ItemForm."""

    def __init__(self, bank: Bank, author: str | None = None) -> None:
        self.bank = bank
        self.model = ItemModel(bank, author)
        self.sync_banner = SyncBanner(bank)
        self._pending: Callable[[], None] | None = None
        self.on_open: list[Callable[[str], None]] = []  # called with the id on open and save

        # choosing an item: the list narrows to what is typed in the filter (id or stem words)
        self.choices: list[tuple[str, str]] = []
        self.filter = css(
            w.Text(
                placeholder="Type an id or words of the stem",
                description="Find",
                continuous_update=True,
                layout=w.Layout(width="320px"),
            ),
            "ib-picker-filter",
        )
        self.filter.observe(lambda _: self._filter_choices(), "value")
        self.picker = css(
            w.Dropdown(description="Item", layout=w.Layout(width="520px")), "ib-picker"
        )
        self.open_button = css(button("Open", icon="folder-open"), "ib-open")
        self.prefix = css(
            w.Dropdown(
                options=[("General (GK)", "GK"), ("Applied (AK)", "AK")],
                layout=w.Layout(width="150px"),
            ),
            "ib-prefix",
        )
        self.new_button = css(button("New item", icon="plus"), "ib-new")
        self.open_button.on_click(lambda _: self.request(lambda: self.open(self.picker.value)))
        self.new_button.on_click(lambda _: self.request(lambda: self.new(self.prefix.value)))
        self.status = css(w.HTML(), "ib-status")
        self.confirm = css(w.HBox([]), "ib-confirm")

        # identity, asked once when nothing else gives it
        self.name_box = css(w.Text(placeholder="Full name"), "ib-identity-name")
        self.email_box = css(w.Text(placeholder="email@example.org"), "ib-identity-email")
        self.identity_button = css(button("Use this identity"), "ib-identity-set")
        self.identity_button.on_click(lambda _: self.set_identity())
        self.identity_row = w.HBox(
            [
                w.HTML("<b>Who are you?</b>&nbsp;"),
                self.name_box,
                self.email_box,
                self.identity_button,
            ]
        )
        super().__init__(bank)  # the item's fields

        # actions and previews
        self.check_button = css(button("Check", icon="check"), "ib-check")
        self.save_button = css(button("Save", icon="save", button_style="primary"), "ib-save")
        self.submit_button = css(
            button("Submit for review", icon="paper-plane", button_style="success"), "ib-submit"
        )
        self.saving_as = css(w.HTML(), "ib-saving-as")  # whose name a save will carry
        self.check_button.on_click(lambda _: self.run_checks())
        self.save_button.on_click(lambda _: self.save())
        self.submit_button.on_click(lambda _: self.save(submit=True))
        self.result = css(w.HTML(), "ib-result")
        self.candidate_preview = css(w.HTML(), "ib-preview-candidate")
        self.reviewer_preview = css(w.HTML(), "ib-preview-reviewer")
        previews = w.Tab([self.candidate_preview, self.reviewer_preview])
        previews.set_title(0, "As a candidate sees it")
        previews.set_title(1, "As a reviewer sees it")
        self.statistics = css(w.HTML(), "ib-statistics")  # the item's history after delivery

        self.widget = css(
            w.VBox(
                [
                    self.sync_banner.widget,
                    w.HBox([self.filter]),
                    w.HBox([self.picker, self.open_button, self.prefix, self.new_button]),
                    self.identity_row,
                    self.status,
                    self.confirm,
                    self.messages["general"],
                    self.form,
                    w.HBox(
                        [self.check_button, self.save_button, self.submit_button, self.saving_as]
                    ),
                    self.result,
                    w.HTML("<h3>Preview</h3>"),
                    previews,
                    self.statistics,
                ]
            ),
            "ib-item-editor",
        )
        self.refresh_choices()
        self._show_identity()
        self.offer_drafts()

    # ---- the model's state, as the editor has always shown it ------------------------------

    @property
    def author(self) -> str | None:
        return self.model.author

    @property
    def record(self) -> dict[str, Any]:
        """What is being edited (it keeps the fields the form has no box for)."""
        return self.model.record

    @property
    def saved(self) -> dict[str, Any]:
        """The committed version ({} for a new item)."""
        return self.model.saved

    @property
    def dirty(self) -> bool:
        return self.model.dirty

    @property
    def findings(self) -> list[Finding]:
        return self.model.findings

    # ---- identity ---------------------------------------------------------------------------

    def _show_identity(self) -> None:
        self.identity_row.layout.display = "none" if self.author else ""
        self.saving_as.value = (
            f'<span style="color:#333">&nbsp;Saving as <b>{html.escape(self.author)}</b></span>'
            if self.author
            else '<span style="color:#b00020">&nbsp;Say who you are (above) before saving</span>'
        )

    def set_identity(self) -> None:
        """Use the name and email typed in the identity row."""
        try:
            self.model.set_identity(self.name_box.value, self.email_box.value)
        except ItembankError as exc:
            self._say(str(exc), "error")
            return
        self._show_identity()
        self._say(f"Changes will be recorded as {self.author}.", "ok")
        self.offer_drafts()

    # ---- opening ----------------------------------------------------------------------------

    def refresh_choices(self) -> None:
        self.choices = [
            (f"{i['id']} · {i.get('status')} · {str(i.get('stem', ''))[:60]}", i["id"])
            for i in self.bank.items()
        ]
        self._filter_choices()
        self.stimulus.options = [
            (f"{s['id']} · {s.get('title', '')}", s["id"]) for s in self.bank.records("stimulus")
        ]

    def _filter_choices(self) -> None:
        """Offer only the items whose id or stem holds every word typed in the filter."""
        words = str(self.filter.value).lower().split()
        kept = [c for c in self.choices if all(word in c[0].lower() for word in words)]
        current = self.picker.value
        self.picker.options = kept
        values = [v for _, v in kept]
        if values:  # always one chosen: Open never acts on an empty choice
            self.picker.value = current if current in values else values[0]
        self.picker.description = "Item" if not words else f"{len(kept)} found"

    # ---- drafts from an earlier session -----------------------------------------------------

    def offer_drafts(self) -> None:
        """On opening the editor (a reload, a new kernel), offer to go back to the writer's
        unsaved drafts: a new item's draft is otherwise reachable from nowhere."""
        drafts = self.model.drafts()
        if not drafts or self.dirty:
            return
        choice = css(
            w.Dropdown(
                options=[
                    (f"{ident} ({'new item' if new else 'changes'})", ident)
                    for ident, _, new in drafts
                ],
                layout=w.Layout(width="auto"),
            ),
            "ib-drafts",
        )
        restore = css(button("Restore this draft", button_style="warning"), "ib-restore")
        drop = css(button("Discard it"), "ib-restore-discard")
        restore.on_click(lambda _: self.resume(str(choice.value)))
        drop.on_click(lambda _: self._drop_kept(str(choice.value)))
        count = f"{len(drafts)} unsaved draft(s)" if len(drafts) > 1 else "an unsaved draft"
        self.confirm.children = (
            w.HTML(f"<b>You have {count} from an earlier session.</b>&nbsp;"),
            choice,
            restore,
            drop,
        )

    def resume(self, ident: str) -> None:
        """Edit a kept draft again (after a reload)."""
        self.confirm.children = ()
        try:
            found = self.model.resume(ident)
        except ItembankError as exc:
            self._say(str(exc), "error")
            return
        if not found:
            self._say(f"There is no kept draft of {ident} any more.", "error")
            return
        self._render()
        self._update_status()
        if self.saved:  # an existing item: the other tabs follow it, as on open
            for callback in self.on_open:
                callback(ident)
        self._say(f"Restored your unsaved draft of {ident}. Save it to keep it in the bank.", "ok")

    def _drop_kept(self, ident: str) -> None:
        self.confirm.children = ()
        self.model.drop_draft(ident)
        self.offer_drafts()

    def request(self, action: Callable[[], None]) -> None:
        """Run `action` (open or new), asking first if there are unsaved changes."""
        if not self.dirty:
            action()
            return
        self._pending = action
        ident = html.escape(str(self.record.get("id", "this item")))
        save = css(button("Save, then continue", button_style="primary"), "ib-confirm-save")
        discard = css(button("Discard my changes", button_style="danger"), "ib-confirm-discard")
        stay = css(button("Keep editing"), "ib-confirm-stay")
        save.on_click(lambda _: self._resolve("save"))
        discard.on_click(lambda _: self._resolve("discard"))
        stay.on_click(lambda _: self._resolve("stay"))
        self.confirm.children = (
            w.HTML(f"<b>{ident} has unsaved changes.</b>&nbsp;"),
            save,
            discard,
            stay,
        )

    def _resolve(self, choice: str) -> None:
        action, self._pending = self._pending, None
        self.confirm.children = ()
        if choice == "save" and not self.save():
            return
        if choice == "discard":
            self.model.discard()
        if choice != "stay" and action is not None:
            action()

    def open(self, ident: object) -> None:
        """Load an existing item (offering to restore a kept draft of it)."""
        if ident is None:
            self._say(
                "Choose an item in the list first (type part of its id or stem in Find).", "error"
            )
            return
        self.sync_banner.before_opening()  # edit the latest version of the shared bank
        try:
            record = self.model.fetch(ident)
        except ItembankError as exc:
            self._say(str(exc), "error")
            return
        self.load(record)
        ident = str(ident)
        draft = self.model.kept_draft(ident)
        if draft is not None:
            restore = css(
                button("Restore my unsaved changes", button_style="warning"), "ib-restore"
            )
            drop = css(button("Discard them"), "ib-restore-discard")
            restore.on_click(lambda _: self._restore(draft))
            drop.on_click(lambda _: self._drop_draft(ident))
            self.confirm.children = (
                w.HTML(
                    f"<b>You have unsaved changes to {ident} from an earlier session.</b>&nbsp;"
                ),
                restore,
                drop,
            )
        for callback in self.on_open:
            callback(ident)

    def _restore(self, draft: dict[str, Any]) -> None:
        self.confirm.children = ()
        self.model.restore(draft)
        self._render()
        self._update_status()

    def _drop_draft(self, ident: str) -> None:
        self.confirm.children = ()
        self.model.drop_draft(ident)

    def new(self, prefix: str = "GK") -> None:
        """Start a new draft with the next free id."""
        stimuli = [v for _, v in self.stimulus.options]
        self.model.new(prefix, stimuli[0] if stimuli else None)
        self._render()
        self._update_status()

    def load(self, record: dict[str, Any], saved: dict[str, Any] | None = None) -> None:
        """Fill the form from a record (without marking it changed)."""
        self.model.load(record, saved)
        self._render()

    def _render(self) -> None:
        """Show the model's record in the form, then its checks and previews."""
        self._show(fields_of(self.record))
        self.result.value = ""
        self.statistics.value = statistics_html(statistics_rows(self.bank, self.record))
        self.run_checks()

    def collect(self) -> dict[str, Any]:
        """The record as the form now describes it (whatever was typed)."""
        return self.model.record_from(self.fields())

    def _changed(self) -> None:
        if self._loading:
            return
        record = self.collect()
        self.model.edited(record)
        self.run_checks(record)

    # ---- checks and previews ----------------------------------------------------------------

    def run_checks(self, record: dict[str, Any] | None = None) -> list[Finding]:
        """Run every check and show each finding next to its field; refresh the previews."""
        record = record or self.collect()
        try:
            findings = self.model.check(record)
        except ItembankError as exc:
            self._say(str(exc), "error")
            return []
        if findings is None:
            return []
        self._show_findings(findings)
        titles = statement_titles(self.standards.frameworks)
        self.candidate_preview.value, self.reviewer_preview.value = self.model.previews(
            record, titles
        )
        self._update_status()
        return findings

    def _update_status(self) -> None:
        errors, warnings = self.model.counts()
        ident = html.escape(str(self.record.get("id") or self.collect().get("id", "")))
        state = html.escape(str(self.saved.get("status", "new")))
        unsaved = " · <b>unsaved changes</b>" if self.dirty else ""
        self.status.value = (
            f"<b>{ident}</b> · {state}{unsaved} · {errors} error(s), {warnings} warning(s)"
        )

    def _say(self, text: str, kind: str) -> None:
        colour = {"error": "#b00020", "ok": "#1b5e20"}.get(kind, "#333")
        self.result.value = (
            f'<div class="ib-result-{kind}" style="color:{colour}">{html.escape(text)}</div>'
        )

    # ---- saving -----------------------------------------------------------------------------

    def save(self, submit: bool = False) -> bool:
        """Save as one commit by the writer (and, with submit, move to in_review)."""
        if not self.author:
            self._say(
                "Tell us who you are first (name and email above): every change is "
                "recorded against a person.",
                "error",
            )
            return False
        record = self.model.stamped(self.collect())
        findings = self.run_checks(record)
        try:
            sha = self.model.save(record, submit=submit, findings=findings)
        except NotSubmittedError as exc:
            self._say(str(exc), "error")
            return False
        except ValidationFailedError as exc:
            self._show_findings(exc.findings + [f for f in findings if f not in exc.findings])
            self._say(
                f"Not saved: {len(exc.findings)} error(s), marked in red. Your work is "
                "kept as a local draft.",
                "error",
            )
            return False
        except ItembankError as exc:
            self._say(f"Not saved. {exc}", "error")
            return False
        ident = str(record["id"])
        self.refresh_choices()
        self._render()
        if ident in [v for _, v in self.picker.options]:
            self.picker.value = ident
        for callback in self.on_open:
            callback(ident)
        action = "Submitted" if submit else "Saved"
        shared = f" {self.bank.sync.note}" if self.bank.sync.note else ""
        self._say(
            f"{action} {ident} (commit {sha[:8]}, status {self.record.get('status')}).{shared}",
            "ok",
        )
        return True
