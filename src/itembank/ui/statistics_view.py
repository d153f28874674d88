"""An item's statistics history as the item editor and the review app show it: one row per
administration, newest first (n, facility, item-rest r, worst DIF class, flags), or "no
statistics yet". Built from the bank's statistics records, which hold aggregates only."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from itembank.bank import Bank
from itembank.core.errors import ItembankError
from itembank.core.ids import is_id
from itembank.core.workflow import content_hash
from itembank.results.records import history_rows

NO_STATISTICS = "No statistics yet: this item has not been analysed after a delivery."
COLUMNS = (
    ("administration", "Administration"),
    ("form", "Form"),
    ("version", "Version"),
    ("analysed", "Analysed"),
    ("n", "n"),
    ("facility", "Facility"),
    ("item_rest", "Item-rest r"),
    ("dif", "DIF class"),
    ("flags", "Flags"),
)


def statistics_rows(bank: Bank, record: Mapping[str, Any]) -> list[dict[str, str]]:
    """The display rows of an item's statistics, newest first, each saying whether it measured
    the record's version or an earlier one ([] for a new item)."""
    ident = record.get("id")
    if not is_id("content_id", ident):
        return []
    try:
        current = content_hash("item", record)
    except (TypeError, AttributeError, ValueError):  # a half-typed record in the editor
        current = None
    try:
        return history_rows(bank.statistics_of(str(ident)), current)
    except ItembankError:
        return []


def statistics_html(rows: Sequence[Mapping[str, str]]) -> str:
    """A small table of the rows (every value escaped), or the "no statistics yet" line."""
    if not rows:
        return f'<div class="ib-statistics-none"><em>{NO_STATISTICS}</em></div>'
    head = "".join(f"<th>{title}</th>" for _, title in COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(row[key]))}</td>" for key, _ in COLUMNS) + "</tr>"
        for row in rows
    )
    return (
        '<div class="ib-statistics-history"><strong>Statistics (newest first)</strong>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


__all__ = ["NO_STATISTICS", "statistics_html", "statistics_rows"]
