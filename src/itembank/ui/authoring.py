"""The writers' app: tabs for the item editor (item_editor.py), 'My items' and an item's history
(my_items.py), the case editor (case_editor.py), the scenario editor (scenario_editor.py) and
the learning point editor (learning_editor.py).
Notebooks show `AuthoringApp(open_bank()).widget`."""

from __future__ import annotations

import ipywidgets as w

from itembank.bank import Bank
from itembank.ui.case_editor import CaseEditor
from itembank.ui.item_editor import ItemEditor
from itembank.ui.learning_editor import LearningPointEditor
from itembank.ui.my_items import HistoryView, MyItems
from itembank.ui.scenario_editor import ScenarioEditor
from itembank.ui.widgets import css, parse_list


class AuthoringApp:
    """Tabs: edit an item, my items, history, cases, scenarios, learning points."""

    def __init__(self, bank: Bank, author: str | None = None) -> None:
        self.bank = bank
        self.editor = ItemEditor(bank, author)
        self.history = HistoryView(bank)
        self.tabs = css(w.Tab(), "ib-authoring-tabs")
        self.cases = CaseEditor(bank, self.editor)
        self.scenarios = ScenarioEditor(bank, self.editor)
        self.learning = LearningPointEditor(bank, self.editor)
        self.my_items = MyItems(
            bank,
            self.editor,
            lambda: setattr(self.tabs, "selected_index", 0),
            self._open_learning_point,
        )
        self.editor.on_open.append(self.history.show)
        self.tabs.children = [
            self.editor.widget,
            self.my_items.widget,
            self.history.widget,
            self.cases.widget,
            self.scenarios.widget,
            self.learning.widget,
        ]
        titles = ["Edit item", "My items", "History", "Cases", "Scenarios", "Learning points"]
        for index, title in enumerate(titles):
            self.tabs.set_title(index, title)
        self.widget = self.tabs

    def _open_learning_point(self, ident: str) -> None:
        """'My items' lists learning points too: open one in its own tab."""
        self.learning.refresh()
        self.learning.open(ident)
        self.tabs.selected_index = 5

    def show(self) -> w.Widget:
        """The app, for a notebook cell to display."""
        return self.widget


__all__ = [
    "AuthoringApp",
    "CaseEditor",
    "HistoryView",
    "LearningPointEditor",
    "MyItems",
    "ScenarioEditor",
    "parse_list",
]
