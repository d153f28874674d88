"""A read-only overview of a bank for notebooks: what is in it, in which state, and whether it
validates."""

from __future__ import annotations

from typing import Any

import pandas as pd

from itembank.bank import Bank
from itembank.core.layout import CONTENT_KINDS


def status_table(bank: Bank) -> pd.DataFrame:
    """Counts of items, stimuli and scenarios by workflow status."""
    facts = bank.facts().values()
    rows: list[dict[str, Any]] = [
        {"kind": f["kind"], "status": f.get("status", "unreadable")}
        for f in facts
        if f["kind"] in CONTENT_KINDS
    ]
    if not rows:
        return pd.DataFrame()
    table = pd.crosstab(
        pd.Series([r["kind"] for r in rows], name="kind"),
        pd.Series([r["status"] for r in rows], name="status"),
    )
    return table


def coverage_table(bank: Bank) -> pd.DataFrame:
    """Approved / in-review / draft items per assessed statement of each framework."""
    result = bank.coverage()
    frame = pd.DataFrame(result.statements)
    if frame.empty:
        return frame
    frame = frame[frame["assessed"]]
    return frame[["framework", "statement", "title", "approved", "in_review", "draft"]]
