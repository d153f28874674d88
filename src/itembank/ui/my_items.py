"""What a writer sees of their own work: 'My items' (items and learning points: status, last
change, review comments to address) and an item's history with what changed between two
versions, in words."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as w
import pandas as pd

from itembank.authoring.itemdiff import changes_html, item_changes
from itembank.bank import Bank
from itembank.core.errors import ItembankError
from itembank.ui.item_editor import ItemEditor
from itembank.ui.widgets import css


class MyItems:
    """A table of the writer's items: status, last change, review comments to address."""

    def __init__(
        self,
        bank: Bank,
        editor: ItemEditor,
        go_to_editor: Callable[[], None],
        open_learning_point: Callable[[str], None] | None = None,
    ) -> None:
        self.bank, self.editor, self.go_to_editor = bank, editor, go_to_editor
        self.open_learning_point = open_learning_point
        self.kinds: dict[str, str] = {}  # id -> format ("learning_point" opens in its own tab)
        self.table = css(w.HTML(), "ib-my-items")
        self.choice = css(w.Dropdown(description="Item"), "ib-my-items-choice")
        self.open_button = css(
            w.Button(description="Edit this item", icon="pencil"), "ib-my-items-open"
        )
        self.refresh_button = css(
            w.Button(description="Refresh", icon="refresh"), "ib-my-items-refresh"
        )
        self.open_button.on_click(lambda _: self.open())
        self.refresh_button.on_click(lambda _: self.refresh())
        self.widget = w.VBox(
            [w.HBox([self.choice, self.open_button, self.refresh_button]), self.table]
        )
        self.refresh()

    def frame(self) -> pd.DataFrame:
        rows = self.bank.authoring.items_by(self.editor.author) if self.editor.author else []
        return pd.DataFrame(
            rows, columns=["id", "status", "format", "stem", "last_change", "comments"]
        )

    def refresh(self) -> None:
        frame = self.frame()
        if not self.editor.author:
            self.table.value = "<p>Tell the editor who you are to see your items.</p>"
        elif frame.empty:
            self.table.value = "<p>You have no items in this bank yet.</p>"
        else:
            self.table.value = frame.to_html(index=False, escape=True, border=0)
        self.choice.options = list(frame["id"]) if not frame.empty else []
        self.kinds = dict(zip(frame["id"], frame["format"], strict=True))

    def open(self) -> None:
        if self.choice.value and self.kinds.get(self.choice.value) == "learning_point":
            if self.open_learning_point is not None:
                self.open_learning_point(str(self.choice.value))
        elif self.choice.value:
            self.editor.request(lambda: self.editor.open(self.choice.value))
            self.go_to_editor()


class HistoryView:
    """An item's commits, and what changed between any two versions, in words."""

    def __init__(self, bank: Bank) -> None:
        self.bank = bank
        self.ident: str | None = None
        self.versions: list[tuple[Any, dict[str, Any]]] = []
        self.older = css(w.Dropdown(description="From"), "ib-history-from")
        self.newer = css(w.Dropdown(description="To"), "ib-history-to")
        self.log = css(w.HTML(), "ib-history-log")
        self.diff = css(w.HTML(), "ib-history-diff")
        self.older.observe(lambda _: self.show_diff(), "value")
        self.newer.observe(lambda _: self.show_diff(), "value")
        self.widget = w.VBox([self.log, w.HBox([self.older, self.newer]), self.diff])

    def show(self, ident: str) -> None:
        self.ident = ident
        try:
            self.versions = self.bank.versions(ident)
        except ItembankError as exc:
            self.log.value = html.escape(str(exc))
            return
        rows = "".join(
            f"<tr><td><code>{c.sha[:8]}</code></td><td>{html.escape(c.date[:16])}</td>"
            f"<td>{html.escape(c.author)}</td><td>{html.escape(c.message)}</td></tr>"
            for c, _ in self.versions
        )
        self.log.value = f"<h4>History of {html.escape(ident)}</h4><table>{rows}</table>"
        options = [
            (f"{c.sha[:8]} {c.date[:10]} {c.author.split('<')[0].strip()}", i)
            for i, (c, _) in enumerate(self.versions)
        ]
        self.older.options = options
        self.newer.options = options
        if len(options) >= 2:
            self.older.value, self.newer.value = 1, 0
        self.show_diff()

    def show_diff(self) -> None:
        if self.older.value is None or self.newer.value is None or not self.versions:
            self.diff.value = "<p>Only one version so far.</p>"
            return
        old = self.versions[int(self.older.value)][1]
        new = self.versions[int(self.newer.value)][1]
        self.diff.value = changes_html(item_changes(old, new))
