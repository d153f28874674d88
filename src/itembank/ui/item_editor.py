"""The knowledge item editor: every format, live checks next to each field, candidate and
reviewer previews, save (one commit by the writer), submit for review, local drafts and a
warning before unsaved changes would be lost."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as w

from itembank.bank import Bank
from itembank.core.errors import ItembankError, ValidationFailedError
from itembank.core.findings import Finding
from itembank.core.ids import is_id, slugify
from itembank.core.render import candidate_html, reviewer_html
from itembank.ui.widgets import (
    StandardsPicker,
    css,
    field,
    findings_html,
    message_box,
    parse_list,
    textarea,
)

FORMATS = [
    ("Single best answer (one key)", "single_best_answer"),
    ("Multiple response (choose several)", "multiple_response"),
    ("True / false", "true_false"),
    ("Multiple true / false (statements)", "multiple_true_false"),
]
LETTERS = "ABCDEFGHIJ"
DEFAULT_OPTIONS = {
    "single_best_answer": 4,
    "multiple_response": 8,
    "true_false": 2,
    "multiple_true_false": 4,
}


class OptionRow:
    """One option (or statement): its text, whether it is keyed, and the rationale."""

    def __init__(self, on_change: Callable[[], None], on_remove: Callable[[OptionRow], None]):
        self.label = w.HTML()
        self.text = textarea("option-text", rows=2, placeholder="Option text (Markdown)")
        self.keyed = css(
            w.Checkbox(description="correct", indent=False, layout=w.Layout(width="100px")),
            "ib-option-key",
        )
        self.truth = css(
            w.Dropdown(options=[("true", True), ("false", False)], layout=w.Layout(width="90px")),
            "ib-option-truth",
        )
        self.rationale = textarea(
            "option-rationale", rows=2, placeholder="Why this option is right, or why it is wrong"
        )
        self.remove = w.Button(
            icon="trash", tooltip="Remove this option", layout=w.Layout(width="40px")
        )
        self.message = message_box("option")
        for widget in (self.text, self.keyed, self.truth, self.rationale):
            widget.observe(lambda _: on_change(), "value")
        self.remove.on_click(lambda _: on_remove(self))
        self.controls = w.HBox([self.label, self.keyed, self.truth, self.remove])
        self.widget = css(
            w.VBox(
                [self.controls, self.text, self.rationale, self.message],
                layout=w.Layout(border="1px solid #ddd", padding="4px", margin="0 0 6px 0"),
            ),
            "ib-option",
        )

    def show_format(self, letter: str, fmt: str) -> None:
        self.label.value = f"<b>{letter}</b>&nbsp;"
        statements = fmt == "multiple_true_false"
        self.keyed.layout.display = "none" if statements else ""
        self.truth.layout.display = "" if statements else "none"


class ItemEditor:
    """A form over one item. Build it with a Bank; `.widget` is what a notebook displays."""

    def __init__(self, bank: Bank, author: str | None = None) -> None:
        self.bank = bank
        self.author = _identity_or_none(bank, author)
        self.record: dict[str, Any] = {}  # what is being edited (fields the form has no box for)
        self.saved: dict[str, Any] = {}  # the committed version ({} for a new item)
        self.dirty = False
        self.findings: list[Finding] = []
        self._loading = False
        self._pending: Callable[[], None] | None = None
        self.on_open: list[Callable[[str], None]] = []  # called with the id on open and save

        # choosing an item
        self.picker = css(
            w.Dropdown(description="Item", layout=w.Layout(width="520px")), "ib-picker"
        )
        self.open_button = css(w.Button(description="Open", icon="folder-open"), "ib-open")
        self.prefix = css(
            w.Dropdown(
                options=[("General (GK)", "GK"), ("Applied (AK)", "AK")],
                layout=w.Layout(width="150px"),
            ),
            "ib-prefix",
        )
        self.new_button = css(w.Button(description="New item", icon="plus"), "ib-new")
        self.open_button.on_click(lambda _: self.request(lambda: self.open(self.picker.value)))
        self.new_button.on_click(lambda _: self.request(lambda: self.new(self.prefix.value)))
        self.status = css(w.HTML(), "ib-status")
        self.confirm = css(w.HBox([]), "ib-confirm")

        # identity, asked once when nothing else gives it
        self.name_box = css(w.Text(placeholder="Full name"), "ib-identity-name")
        self.email_box = css(w.Text(placeholder="email@example.org"), "ib-identity-email")
        self.identity_button = css(w.Button(description="Use this identity"), "ib-identity-set")
        self.identity_button.on_click(lambda _: self.set_identity())
        self.identity_row = w.HBox(
            [
                w.HTML("<b>Who are you?</b>&nbsp;"),
                self.name_box,
                self.email_box,
                self.identity_button,
            ]
        )

        # the fields
        self.format = css(w.Dropdown(options=FORMATS), "ib-format")
        self.section = css(
            w.ToggleButtons(options=[("General", "general"), ("Applied (on a case)", "applied")]),
            "ib-section",
        )
        self.stimulus = css(w.Dropdown(options=[], description="Case"), "ib-stimulus")
        self.roles = {
            r["id"]: w.Checkbox(description=r["title"], indent=False)
            for r in bank.settings.get("roles", [])
        }
        self.stem = textarea("stem", rows=5, placeholder="The question (Markdown)")
        self.options: list[OptionRow] = []
        self.options_box = css(w.VBox([]), "ib-options")
        self.add_option = css(w.Button(description="Add an option", icon="plus"), "ib-add-option")
        self.add_option.on_click(lambda _: self._add_option())
        self.scoring = css(
            w.Dropdown(
                options=[("All or nothing", "all_or_nothing"), ("Partial credit", "partial_credit")]
            ),
            "ib-scoring",
        )
        self.rationale = textarea(
            "rationale", rows=4, placeholder="Why the key is right, citing law or guidance"
        )
        self.standards = StandardsPicker(bank, self._changed)
        refs = bank.references()
        self.references = css(
            w.SelectMultiple(
                options=[
                    (
                        r["title"] + ("" if r["status"] == "current" else f" ({r['status']})"),
                        r["id"],
                    )
                    for r in refs
                ],
                rows=8,
                layout=w.Layout(width="95%"),
            ),
            "ib-references",
        )
        self.enemies = css(w.Text(placeholder="e.g. GK-0012, GK-0031"), "ib-enemies")
        self.difficulty = css(
            w.FloatSlider(min=0, max=1, step=0.05, value=0.65, readout_format=".2f"),
            "ib-difficulty",
        )
        self.tags = css(w.Text(placeholder="e.g. section-47, threshold"), "ib-tags")
        self.notes = textarea(
            "notes", rows=2, placeholder="Notes for reviewers (not shown to candidates)"
        )
        self.messages = {
            name: message_box(name)
            for name in (
                "stem",
                "options",
                "rationale",
                "standards",
                "references",
                "enemies",
                "section",
                "roles",
                "difficulty",
                "tags",
                "general",
                "format",
            )
        }

        # actions and previews
        self.check_button = css(w.Button(description="Check", icon="check"), "ib-check")
        self.save_button = css(
            w.Button(description="Save", icon="save", button_style="primary"), "ib-save"
        )
        self.submit_button = css(
            w.Button(description="Submit for review", icon="paper-plane", button_style="success"),
            "ib-submit",
        )
        self.check_button.on_click(lambda _: self.run_checks())
        self.save_button.on_click(lambda _: self.save())
        self.submit_button.on_click(lambda _: self.save(submit=True))
        self.result = css(w.HTML(), "ib-result")
        self.candidate_preview = css(w.HTML(), "ib-preview-candidate")
        self.reviewer_preview = css(w.HTML(), "ib-preview-reviewer")
        previews = w.Tab([self.candidate_preview, self.reviewer_preview])
        previews.set_title(0, "As a candidate sees it")
        previews.set_title(1, "As a reviewer sees it")

        for widget in (
            self.format,
            self.section,
            self.stimulus,
            self.stem,
            self.scoring,
            self.rationale,
            self.references,
            self.enemies,
            self.difficulty,
            self.tags,
            self.notes,
            *self.roles.values(),
        ):
            widget.observe(lambda _: self._changed(), "value")
        self.format.observe(lambda _: self._format_changed(), "value")

        form = w.VBox(
            [
                field("Format", self.format, self.messages["format"]),
                field(
                    "Section",
                    w.VBox([self.section, self.stimulus]),
                    self.messages["section"],
                    "Applied questions belong to a case.",
                ),
                field("Roles", w.HBox(list(self.roles.values())), self.messages["roles"]),
                field(
                    "Stem",
                    self.stem,
                    self.messages["stem"],
                    "Markdown: **bold**, *italic*, lists. Put a negative such as **not** in bold.",
                ),
                field(
                    "Options",
                    w.VBox([self.options_box, self.add_option, self.scoring]),
                    self.messages["options"],
                    "Tick the correct option(s); give every option a rationale.",
                ),
                field("Rationale for the key", self.rationale, self.messages["rationale"]),
                field("Standards", self.standards.widget, self.messages["standards"]),
                field(
                    "References",
                    self.references,
                    self.messages["references"],
                    "Ctrl/Cmd-click to choose several.",
                ),
                field(
                    "Enemies",
                    self.enemies,
                    self.messages["enemies"],
                    "Items that must not appear on the same form.",
                ),
                field(
                    "Difficulty estimate",
                    self.difficulty,
                    self.messages["difficulty"],
                    "Proportion of minimally competent candidates who would answer correctly.",
                ),
                field("Tags", self.tags, self.messages["tags"]),
                field("Notes", self.notes, w.HTML()),
            ]
        )
        self.widget = css(
            w.VBox(
                [
                    w.HBox([self.picker, self.open_button, self.prefix, self.new_button]),
                    self.identity_row,
                    self.status,
                    self.confirm,
                    self.messages["general"],
                    form,
                    w.HBox([self.check_button, self.save_button, self.submit_button]),
                    self.result,
                    w.HTML("<h3>Preview</h3>"),
                    previews,
                ]
            ),
            "ib-item-editor",
        )
        self.refresh_choices()
        self._show_identity()

    # ---- identity ---------------------------------------------------------------------------

    def _show_identity(self) -> None:
        self.identity_row.layout.display = "none" if self.author else ""

    def set_identity(self) -> None:
        """Use the name and email typed in the identity row."""
        candidate = f"{self.name_box.value.strip()} <{self.email_box.value.strip()}>"
        try:
            self.author = self.bank.identity(candidate)
        except ItembankError as exc:
            self._say(str(exc), "error")
            return
        self._show_identity()
        self._say(f"Changes will be recorded as {self.author}.", "ok")

    # ---- opening ----------------------------------------------------------------------------

    def refresh_choices(self) -> None:
        choices = [
            (f"{i['id']} · {i.get('status')} · {str(i.get('stem', ''))[:60]}", i["id"])
            for i in self.bank.items()
        ]
        self.picker.options = choices
        self.stimulus.options = [
            (f"{s['id']} · {s.get('title', '')}", s["id"]) for s in self.bank.records("stimulus")
        ]

    def request(self, action: Callable[[], None]) -> None:
        """Run `action` (open or new), asking first if there are unsaved changes."""
        if not self.dirty:
            action()
            return
        self._pending = action
        ident = html.escape(str(self.record.get("id", "this item")))
        save = css(
            w.Button(description="Save, then continue", button_style="primary"), "ib-confirm-save"
        )
        discard = css(
            w.Button(description="Discard my changes", button_style="danger"), "ib-confirm-discard"
        )
        stay = css(w.Button(description="Keep editing"), "ib-confirm-stay")
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
            self.bank.authoring.discard_draft(self.author or "", "item", str(self.record.get("id")))
            self.dirty = False
        if choice != "stay" and action is not None:
            action()

    def open(self, ident: object) -> None:
        """Load an existing item (offering to restore a kept draft of it)."""
        if not isinstance(ident, str) or not is_id("content_id", ident):
            self._say(f"{ident!r} is not an item id.", "error")
            return
        try:
            record = self.bank.get(ident)
        except ItembankError as exc:
            self._say(str(exc), "error")
            return
        self.load(record)
        draft = (
            self.bank.authoring.load_draft(self.author or "", "item", ident)
            if self.author
            else None
        )
        if draft is not None and draft != record:
            restore = css(
                w.Button(description="Restore my unsaved changes", button_style="warning"),
                "ib-restore",
            )
            drop = css(w.Button(description="Discard them"), "ib-restore-discard")
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
        self.load(draft, saved=self.saved)
        self.dirty = True
        self._update_status()

    def _drop_draft(self, ident: str) -> None:
        self.confirm.children = ()
        self.bank.authoring.discard_draft(self.author or "", "item", ident)

    def new(self, prefix: str = "GK") -> None:
        """Start a new draft with the next free id."""
        ident = self.bank.authoring.next_id(prefix if prefix in ("GK", "AK") else "GK")
        roles = [r for r in self.roles if r != "leader"]
        template: dict[str, Any] = {
            "schema_version": "1.0",
            "id": ident,
            "format": "single_best_answer",
            "section": "applied" if prefix == "AK" else "general",
            "roles": roles[:1],
            "standards": [],
            "references": [],
            "stem": "",
            "key": [],
            "options": [{"id": c, "text": "", "rationale": ""} for c in "ABCD"],
            "scoring": {"rule": "all_or_nothing", "max_score": 1},
            "rationale": "",
            "author": self.author or "",
            "status": "draft",
            "enemies": [],
            "difficulty_estimate": 0.65,
            "tags": [],
        }
        if prefix == "AK" and self.stimulus.options:
            template["stimulus"] = self.stimulus.options[0][1]
        self.load(template, saved={})
        self.dirty = True
        self._update_status()

    def load(self, record: dict[str, Any], saved: dict[str, Any] | None = None) -> None:
        """Fill the form from a record (without marking it changed)."""
        self._loading = True
        try:
            self.record = dict(record)
            self.saved = dict(saved if saved is not None else record)
            self.format.value = record.get("format", "single_best_answer")
            self.section.value = record.get("section", "general")
            if record.get("stimulus") in [v for _, v in self.stimulus.options]:
                self.stimulus.value = record["stimulus"]
            for role, box in self.roles.items():
                box.value = role in (record.get("roles") or [])
            self.stem.value = str(record.get("stem", ""))
            self.options, self.options_box.children = [], ()
            key = record.get("key")
            for option in record.get("options", []) or []:
                row = self._add_option(notify=False)
                row.text.value = str(option.get("text", ""))
                row.rationale.value = str(option.get("rationale", ""))
                if isinstance(key, dict):
                    row.truth.value = bool(key.get(option.get("id"), False))
                else:
                    row.keyed.value = option.get("id") in (key or [])
            scoring = record.get("scoring") or {}
            self.scoring.value = scoring.get("rule", "all_or_nothing")
            self.rationale.value = str(record.get("rationale", ""))
            self.standards.value = record.get("standards", []) or []
            known = {v for _, v in self.references.options}
            self.references.value = tuple(r for r in record.get("references", []) if r in known)
            self.enemies.value = ", ".join(record.get("enemies", []) or [])
            self.difficulty.value = float(record.get("difficulty_estimate", 0.65))
            self.tags.value = ", ".join(record.get("tags", []) or [])
            self.notes.value = str(record.get("notes", ""))
            self._format_changed()
        finally:
            self._loading = False
        self.dirty = False
        self.result.value = ""
        self.run_checks()

    # ---- editing ----------------------------------------------------------------------------

    def _add_option(self, notify: bool = True) -> OptionRow:
        if len(self.options) >= len(LETTERS):
            self._say("An item has at most 10 options.", "error")
            return self.options[-1]
        row = OptionRow(self._changed, self._remove_option)
        self.options.append(row)
        self.options_box.children = (*self.options_box.children, row.widget)
        row.show_format(LETTERS[len(self.options) - 1], str(self.format.value))
        if notify:
            self._changed()
        return row

    def _remove_option(self, row: OptionRow) -> None:
        index = self.options.index(row)
        self.options.pop(index)
        self.options_box.children = tuple(r.widget for r in self.options)
        self._format_changed()
        self._changed()

    def _format_changed(self) -> None:
        fmt = str(self.format.value)
        for index, row in enumerate(self.options):
            row.show_format(LETTERS[index], fmt)
        self.scoring.layout.display = (
            "" if fmt in ("multiple_response", "multiple_true_false") else "none"
        )
        if fmt in ("single_best_answer", "true_false"):
            self.scoring.value = "all_or_nothing"
        self.stimulus.layout.display = "" if self.section.value == "applied" else "none"
        if (
            not self._loading
            and fmt == "true_false"
            and not any(r.text.value for r in self.options)
        ):
            while len(self.options) > 2:
                self._remove_option(self.options[-1])
            while len(self.options) < 2:
                self._add_option(notify=False)
            self.options[0].text.value, self.options[1].text.value = "True", "False"

    def collect(self) -> dict[str, Any]:
        """The record as the form now describes it (whatever was typed)."""
        record = dict(self.record)
        fmt = str(self.format.value)
        options = [
            {"id": LETTERS[i], "text": row.text.value, "rationale": row.rationale.value}
            for i, row in enumerate(self.options)
        ]
        key: Any
        if fmt == "multiple_true_false":
            key = {LETTERS[i]: bool(row.truth.value) for i, row in enumerate(self.options)}
        else:
            key = [LETTERS[i] for i, row in enumerate(self.options) if row.keyed.value]
        record.update(
            {
                "schema_version": "1.0",
                "format": fmt,
                "section": self.section.value,
                "roles": [r for r, box in self.roles.items() if box.value],
                "standards": self.standards.value,
                "references": list(self.references.value),
                "stem": self.stem.value,
                "options": options,
                "key": key,
                "scoring": {
                    "rule": self.scoring.value
                    if fmt in ("multiple_response", "multiple_true_false")
                    else "all_or_nothing",
                    "max_score": (self.record.get("scoring") or {}).get("max_score", 1),
                },
                "rationale": self.rationale.value,
                "enemies": [e.upper() for e in parse_list(self.enemies.value)],
                "difficulty_estimate": round(float(self.difficulty.value), 2),
                "tags": [slugify(t) for t in parse_list(self.tags.value.replace(" ", ","))],
            }
        )
        record.setdefault("author", self.author or "")
        record.setdefault("status", "draft")
        if self.section.value == "applied" and self.stimulus.value:
            record["stimulus"] = self.stimulus.value
        else:
            record.pop("stimulus", None)
        if fmt == "multiple_response":
            record["select_count"] = len(key)
        else:
            record.pop("select_count", None)
        if fmt == "true_false":
            record["fixed_order"] = True
        if self.notes.value.strip():
            record["notes"] = self.notes.value
        else:
            record.pop("notes", None)
        return record

    def _changed(self) -> None:
        if self._loading:
            return
        self.dirty = True
        record = self.collect()
        if self.author and is_id("content_id", record.get("id")):
            self.bank.authoring.save_draft(self.author, record, "item")
        self.run_checks(record)

    # ---- checks and previews ----------------------------------------------------------------

    def run_checks(self, record: dict[str, Any] | None = None) -> list[Finding]:
        """Run every check and show each finding next to its field; refresh the previews."""
        record = record or self.collect()
        if not is_id("content_id", record.get("id")):
            return []
        try:
            self.findings = self.bank.authoring.check_draft(record, "item")
        except ItembankError as exc:
            self._say(str(exc), "error")
            return []
        self._show_findings(self.findings)
        stimulus = None
        if record.get("stimulus"):
            try:
                stimulus = self.bank.get(str(record["stimulus"]))
            except ItembankError:
                stimulus = None
        self.candidate_preview.value = candidate_html(record, stimulus)
        self.reviewer_preview.value = reviewer_html(record, None, self._titles())
        self._update_status()
        return self.findings

    def _titles(self) -> dict[tuple[str, str], str]:
        return {
            (fid, s["id"]): s["title"]
            for fid, fw in self.standards.frameworks.items()
            for s in fw.get("statements", [])
        }

    def _show_findings(self, findings: list[Finding]) -> None:
        groups: dict[str, list[Finding]] = {name: [] for name in self.messages}
        per_option: dict[int, list[Finding]] = {}
        for finding in findings:
            parts = finding.pointer.split("/")[1:] or [""]
            head = parts[0]
            if head == "options" and len(parts) > 1 and parts[1].isdigit():
                per_option.setdefault(int(parts[1]), []).append(finding)
                continue
            target = {
                "key": "options",
                "select_count": "options",
                "scoring": "options",
                "stimulus": "section",
                "difficulty_estimate": "difficulty",
            }.get(head, head)
            groups.get(target, groups["general"]).append(finding)
        for name, box in self.messages.items():
            box.value = findings_html(groups[name])
        for index, row in enumerate(self.options):
            row.message.value = findings_html(per_option.get(index, []))

    def _update_status(self) -> None:
        errors = sum(f.severity == "error" for f in self.findings)
        warnings = len(self.findings) - errors
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
        record = self.collect()
        record["author"] = record.get("author") or self.author
        findings = self.run_checks(record)
        errors = [f for f in findings if f.severity == "error"]
        if submit:
            if errors:
                self._say(
                    f"Not submitted: fix the {len(errors)} error(s) marked in red first.", "error"
                )
                return False
            if record.get("status") in ("draft", "changes_requested"):
                record["status"] = "in_review"
        try:
            sha = self.bank.save(record, author=self.author)
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
        self.bank.authoring.discard_draft(self.author, "item", ident)
        self.refresh_choices()
        self.load(self.bank.get(ident))
        if ident in [v for _, v in self.picker.options]:
            self.picker.value = ident
        for callback in self.on_open:
            callback(ident)
        action = "Submitted" if submit else "Saved"
        self._say(f"{action} {ident} (commit {sha[:8]}, status {self.record.get('status')}).", "ok")
        return True


def _identity_or_none(bank: Bank, author: str | None) -> str | None:
    try:
        return bank.identity(author)
    except ItembankError:
        return None
