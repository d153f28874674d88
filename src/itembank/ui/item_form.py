"""The boxes of a knowledge item, every format: one row per option, each field with its own
message line, and reading them as (or setting them from) plain ItemFields. ItemEditor (in
item_editor.py) adds choosing, checking and saving an item around them."""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as w

from itembank.bank import Bank
from itembank.core.findings import Finding
from itembank.ui.item_model import LETTERS, ItemFields, OptionFields, group_findings
from itembank.ui.widgets import (
    StandardsPicker,
    button,
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

    def fields(self) -> OptionFields:
        """What the row holds, as plain values."""
        return OptionFields(
            self.text.value, self.rationale.value, bool(self.keyed.value), bool(self.truth.value)
        )

    def show(self, option: OptionFields) -> None:
        self.text.value = option.text
        self.rationale.value = option.rationale
        self.keyed.value = option.keyed
        self.truth.value = option.truth

    def show_format(self, letter: str, fmt: str) -> None:
        self.label.value = f"<b>{letter}</b>&nbsp;"
        statements = fmt == "multiple_true_false"
        self.keyed.layout.display = "none" if statements else ""
        self.truth.layout.display = "" if statements else "none"


class ItemForm:
    """The item's fields. A subclass says what a change means (`_changed`) and where a message
    goes (`_say`); while `_loading`, changes are the form being filled, not the writer's."""

    def __init__(self, bank: Bank) -> None:
        self._loading = False
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
        self.add_option = css(button("Add an option", icon="plus"), "ib-add-option")
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
        for box in self.roles.values():  # first, so a check sees the frameworks on offer
            box.observe(lambda _: self.standards.set_roles(self._roles()), "value")
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

        self.form = w.VBox(
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

    def _changed(self) -> None:
        """The writer changed a box (the subclass checks and keeps a draft)."""
        raise NotImplementedError

    def _say(self, text: str, kind: str) -> None:
        """Show a message to the writer (the subclass has the line for it)."""
        raise NotImplementedError

    def _show(self, fields: ItemFields) -> None:
        """Set every box (changes made here are not the writer's: no draft, no dirty mark)."""
        self._loading = True
        try:
            self.format.value = fields.format
            self.section.value = fields.section
            if fields.stimulus in [v for _, v in self.stimulus.options]:
                self.stimulus.value = fields.stimulus
            for role, box in self.roles.items():
                box.value = role in fields.roles
            self.standards.set_roles(fields.roles)
            self.stem.value = fields.stem
            self.options, self.options_box.children = [], ()
            for option in fields.options:
                self._add_option(notify=False).show(option)
            self.scoring.value = fields.scoring
            self.rationale.value = fields.rationale
            self.standards.value = fields.standards
            known = {v for _, v in self.references.options}
            self.references.value = tuple(r for r in fields.references if r in known)
            self.enemies.value = ", ".join(fields.enemies)
            self.difficulty.value = fields.difficulty
            self.tags.value = ", ".join(fields.tags)
            self.notes.value = fields.notes
            self._format_changed()
        finally:
            self._loading = False

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

    def fields(self) -> ItemFields:
        """What the boxes hold, as plain values (typed lists split at commas and spaces)."""
        return ItemFields(
            format=str(self.format.value),
            section=self.section.value,
            stimulus=self.stimulus.value,
            roles=self._roles(),
            stem=self.stem.value,
            options=[row.fields() for row in self.options],
            scoring=self.scoring.value,
            rationale=self.rationale.value,
            standards=self.standards.value,
            references=list(self.references.value),
            enemies=parse_list(self.enemies.value),
            difficulty=self.difficulty.value,
            tags=parse_list(self.tags.value.replace(" ", ",")),
            notes=self.notes.value,
        )

    def _roles(self) -> list[str]:
        return [r for r, box in self.roles.items() if box.value]

    def _show_findings(self, findings: list[Finding]) -> None:
        groups, per_option = group_findings(findings, self.messages)
        for name, box in self.messages.items():
            box.value = findings_html(groups[name])
        for index, row in enumerate(self.options):
            row.message.value = findings_html(per_option.get(index, []))
