"""What the case and scenario editors share: a picker of records of one kind, opening one by a
checked id, and a result line that says what happened."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from itembank.bank import Bank
from itembank.core.errors import ItembankError
from itembank.core.ids import is_id
from itembank.ui.item_editor import ItemEditor


def say(target: w.HTML, text: str, ok: bool) -> None:
    """Say on an editor's result line what happened: green when done, red when refused."""
    colour = "#1b5e20" if ok else "#b00020"
    kind = "ok" if ok else "error"
    target.value = f'<div class="ib-result-{kind}" style="color:{colour}">{html.escape(text)}</div>'


class RecordEditor:
    """What the case and scenario editors share: a picker of records of one kind, opening one
    by a checked id, and a result line."""

    kind = "stimulus"
    label = "case"
    picker: w.Dropdown
    result: w.HTML

    def __init__(self, bank: Bank, editor: ItemEditor) -> None:
        self.bank, self.editor = bank, editor
        self.record: dict[str, Any] = {}

    def refresh(self) -> None:
        self.picker.options = [
            (f"{s['id']} · {s.get('status')} · {s.get('title', '')}", s["id"])
            for s in self.bank.records(self.kind)
        ]

    def open(self, ident: object) -> None:
        if not isinstance(ident, str) or not is_id("content_id", ident):
            say(self.result, f"{ident!r} is not a {self.label} id.", False)
            return
        try:
            self.load(self.bank.get(ident))
        except ItembankError as exc:
            say(self.result, str(exc), False)

    def load(self, record: dict[str, Any]) -> None:
        raise NotImplementedError
