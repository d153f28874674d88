"""The case (stimulus) editor: a case's text, roles and standards, and its question set, in the
order candidates see it (add a question, write a new one, reorder, remove a draft one)."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from itembank.bank import Bank
from itembank.core.errors import ItembankError, ValidationFailedError
from itembank.core.render import candidate_html, markdown_html
from itembank.ui.item_editor import ItemEditor
from itembank.ui.record_editor import RecordEditor, say
from itembank.ui.widgets import StandardsPicker, css, field, findings_html, message_box, textarea


class CaseEditor(RecordEditor):
    """A case (stimulus) and its question set: add, reorder and remove questions."""

    def __init__(self, bank: Bank, editor: ItemEditor) -> None:
        super().__init__(bank, editor)
        self.picker = css(
            w.Dropdown(description="Case", layout=w.Layout(width="480px")), "ib-case-picker"
        )
        self.open_button = css(w.Button(description="Open", icon="folder-open"), "ib-case-open")
        self.new_button = css(w.Button(description="New case", icon="plus"), "ib-case-new")
        self.title = css(w.Text(layout=w.Layout(width="95%")), "ib-case-title")
        self.roles = {
            r["id"]: w.Checkbox(description=r["title"], indent=False)
            for r in bank.settings.get("roles", [])
        }
        self.standards = StandardsPicker(bank, self.check)
        self.text = textarea("case-text", rows=12, placeholder="The case as candidates read it")
        self.items = css(w.Select(rows=8, layout=w.Layout(width="95%")), "ib-case-items")
        self.up = css(w.Button(description="Move up", icon="arrow-up"), "ib-case-up")
        self.down = css(w.Button(description="Move down", icon="arrow-down"), "ib-case-down")
        self.remove = css(
            w.Button(description="Remove draft question", icon="trash"), "ib-case-remove"
        )
        self.orphans = css(w.Dropdown(description="Add"), "ib-case-orphans")
        self.add_button = css(w.Button(description="Add to this case", icon="plus"), "ib-case-add")
        self.new_question = css(
            w.Button(description="Write a new question for it", icon="pencil"),
            "ib-case-new-question",
        )
        self.save_button = css(
            w.Button(description="Save case", icon="save", button_style="primary"), "ib-case-save"
        )
        self.messages = {
            n: message_box(f"case-{n}") for n in ("general", "text", "items", "standards")
        }
        self.result = css(w.HTML(), "ib-case-result")
        self.preview = css(w.HTML(), "ib-case-preview")
        self.order: list[str] = []
        self.open_button.on_click(lambda _: self.open(self.picker.value))
        self.new_button.on_click(lambda _: self.new())
        self.up.on_click(lambda _: self.move(-1))
        self.down.on_click(lambda _: self.move(1))
        self.remove.on_click(lambda _: self.remove_question())
        self.add_button.on_click(lambda _: self.add_question())
        self.new_question.on_click(lambda _: self.write_question())
        self.save_button.on_click(lambda _: self.save())
        for widget in (self.title, self.text, *self.roles.values()):
            widget.observe(lambda _: self.check(), "value")
        self.widget = css(
            w.VBox(
                [
                    w.HBox([self.picker, self.open_button, self.new_button]),
                    self.messages["general"],
                    field("Title", self.title, w.HTML()),
                    field("Roles", w.HBox(list(self.roles.values())), w.HTML()),
                    field("Standards", self.standards.widget, self.messages["standards"]),
                    field("Case text", self.text, self.messages["text"]),
                    field(
                        "Questions, in the order candidates see them",
                        w.VBox(
                            [
                                self.items,
                                w.HBox([self.up, self.down, self.remove]),
                                w.HBox([self.orphans, self.add_button, self.new_question]),
                            ]
                        ),
                        self.messages["items"],
                    ),
                    self.save_button,
                    self.result,
                    w.HTML("<h3>Preview</h3>"),
                    self.preview,
                ]
            ),
            "ib-case-editor",
        )
        self.refresh()

    def new(self) -> None:
        ident = self.bank.authoring.next_id("CS")
        self.load(
            {
                "schema_version": "1.0",
                "id": ident,
                "title": "",
                "roles": [],
                "standards": [],
                "text": "",
                "items": [],
                "author": self.editor.author or "",
                "status": "draft",
                "tags": [],
            }
        )

    def load(self, record: dict[str, Any]) -> None:
        self.record = dict(record)
        self.title.value = str(record.get("title", ""))
        for role, box in self.roles.items():
            box.value = role in (record.get("roles") or [])
        self.standards.value = record.get("standards", []) or []
        self.text.value = str(record.get("text", ""))
        self.order = [str(i) for i in record.get("items", []) or []]
        self._show_items()
        self.check()

    def _items(self) -> dict[str, dict[str, Any]]:
        return {str(i["id"]): i for i in self.bank.items()}

    def _show_items(self) -> None:
        items = self._items()
        self.items.options = [
            (
                f"{i} · {items.get(i, {}).get('status', 'missing')} · "
                f"{str(items.get(i, {}).get('stem', ''))[:70]}",
                i,
            )
            for i in self.order
        ]
        own = str(self.record.get("id"))
        self.orphans.options = [
            i for i, item in items.items() if item.get("stimulus") == own and i not in self.order
        ]

    def move(self, step: int) -> None:
        if self.items.value not in self.order:
            return
        index = self.order.index(self.items.value)
        target = index + step
        if 0 <= target < len(self.order):
            self.order[index], self.order[target] = self.order[target], self.order[index]
            chosen = self.items.value
            self._show_items()
            self.items.value = chosen
            self.check()

    def add_question(self) -> None:
        if self.orphans.value and self.orphans.value not in self.order:
            self.order.append(str(self.orphans.value))
            self._show_items()
            self.check()

    def write_question(self) -> None:
        """Start a new applied question on this case in the item editor."""
        self.editor.refresh_choices()
        self.editor.request(lambda: self._new_question())

    def _new_question(self) -> None:
        self.editor.new("AK")
        if self.record.get("id") in [v for _, v in self.editor.stimulus.options]:
            self.editor.stimulus.value = self.record["id"]
        say(
            self.result,
            "A new question is open in the 'Edit item' tab; save it there, then add it here.",
            True,
        )

    def remove_question(self) -> None:
        """Remove a draft question: it is deleted with the case's new list in one commit."""
        ident = self.items.value
        if not ident or not self.editor.author:
            return
        item = self._items().get(str(ident), {})
        if item.get("status") != "draft":
            say(
                self.result,
                f"{ident} is {item.get('status')}: only draft questions can be "
                "removed. Retire a reviewed question instead.",
                False,
            )
            return
        record = self.collect()
        record["items"] = [i for i in self.order if i != ident]
        try:
            self.bank.save_many(
                [record], self.editor.author, delete=[("item", str(ident))], kinds=["stimulus"]
            )
        except ItembankError as exc:
            say(self.result, f"Not removed. {exc}", False)
            return
        self.load(self.bank.get(str(record["id"])))
        say(self.result, f"Removed {ident} from the case and deleted the draft.", True)

    def collect(self) -> dict[str, Any]:
        record = dict(self.record)
        record.update(
            {
                "title": self.title.value,
                "roles": [r for r, box in self.roles.items() if box.value],
                "standards": self.standards.value,
                "text": self.text.value,
                "items": list(self.order),
            }
        )
        return record

    def check(self) -> None:
        if not self.record:
            return
        record = self.collect()
        try:
            findings = self.bank.authoring.check_draft(record, "stimulus")
        except ItembankError as exc:
            say(self.result, str(exc), False)
            return
        groups: dict[str, list[Any]] = {n: [] for n in self.messages}
        for finding in findings:
            head = finding.pointer.split("/")[1] if finding.pointer.count("/") else ""
            groups.get(head, groups["general"]).append(finding)
        for name, box in self.messages.items():
            box.value = findings_html(groups[name])
        items = self._items()
        questions = "".join(candidate_html(items[i]) for i in self.order if i in items)
        self.preview.value = markdown_html(record.get("text", "")) + questions

    def save(self) -> bool:
        if not self.editor.author:
            say(self.result, "Tell the item editor who you are first.", False)
            return False
        try:
            sha = self.bank.save(self.collect(), author=self.editor.author, kind="stimulus")
        except ValidationFailedError as exc:
            self.messages["general"].value = findings_html(exc.findings)
            say(self.result, f"Not saved: {len(exc.findings)} error(s) shown above.", False)
            return False
        except ItembankError as exc:
            say(self.result, f"Not saved. {exc}", False)
            return False
        self.refresh()
        self.load(self.bank.get(str(self.record["id"])))
        say(self.result, f"Saved {self.record['id']} (commit {sha[:8]}).", True)
        return True
