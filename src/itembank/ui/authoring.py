"""The writers' app: tabs for the item editor (item_editor.py), 'My items' and an item's history
(my_items.py), the case editor (case_editor.py) and the scenario editor (scenario_editor.py).
Notebooks show `AuthoringApp(open_bank()).widget`."""

from __future__ import annotations

import ipywidgets as w

from itembank.bank import Bank
from itembank.ui.case_editor import CaseEditor
from itembank.ui.item_editor import ItemEditor
from itembank.ui.my_items import HistoryView, MyItems
from itembank.ui.scenario_editor import ScenarioEditor
from itembank.ui.widgets import css, parse_list


class AuthoringApp:
    """Tabs: edit an item, my items, history, cases, scenarios."""

    def __init__(self, bank: Bank, author: str | None = None) -> None:
        self.bank = bank
        self.editor = ItemEditor(bank, author)
        self.history = HistoryView(bank)
        self.tabs = css(w.Tab(), "ib-authoring-tabs")
        self.my_items = MyItems(bank, self.editor, lambda: setattr(self.tabs, "selected_index", 0))
        self.cases = CaseEditor(bank, self.editor)
        self.scenarios = ScenarioEditor(bank, self.editor)
        self.editor.on_open.append(self.history.show)
        self.tabs.children = [
            self.editor.widget,
            self.my_items.widget,
            self.history.widget,
            self.cases.widget,
            self.scenarios.widget,
        ]
        for index, title in enumerate(["Edit item", "My items", "History", "Cases", "Scenarios"]):
            self.tabs.set_title(index, title)
        self.widget = self.tabs

    def show(self) -> w.Widget:
        """The app, for a notebook cell to display."""
        return self.widget


__all__ = ["AuthoringApp", "CaseEditor", "HistoryView", "MyItems", "ScenarioEditor", "parse_list"]
