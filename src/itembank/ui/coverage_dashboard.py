"""Read-only dashboard for panel chairs (Voila): approved items per standard and role as a chart
(the maintenance notebook's heatmap, gaps outlined in red) and a table against what each
blueprint needs on a form, review throughput by week, and the content waiting longest for
review. It writes nothing."""

from __future__ import annotations

import html
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

import ipywidgets as w

from itembank.bank import Bank
from itembank.core.layout import CONTENT_KINDS, path_for
from itembank.ui.maintenance import coverage_heatmap, figure_png
from itembank.ui.widgets import css


def _table(headers: list[str], rows: list[list[Any]], cls: str) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


class CoverageDashboard:
    """CoverageDashboard(open_bank()).show()"""

    def __init__(self, bank: Bank, today: date | None = None) -> None:
        self.bank = bank
        self.today = today or datetime.now(UTC).date()
        blueprints = sorted(str(b.get("id")) for b in bank.records("blueprint"))
        self.blueprint = css(
            w.Dropdown(
                options=[("(no blueprint)", "")] + [(b, b) for b in blueprints],
                value="",
                description="Blueprint",
            ),
            "ib-cov-blueprint",
        )
        self.blueprint.observe(lambda _: self._draw_standards(), names="value")
        self.chart = css(w.Image(format="png"), "ib-cov-chart")
        self.standards = css(w.HTML(""), "ib-cov-standards")
        self.throughput = css(w.HTML(""), "ib-cov-throughput")
        self.waiting = css(w.HTML(""), "ib-cov-waiting")
        self.root = css(
            w.VBox(
                [
                    w.HTML("<h2>Coverage and review progress</h2>"),
                    w.HTML("<h3>Approved items per standard and role</h3>"),
                    self.blueprint,
                    self.chart,
                    self.standards,
                    w.HTML("<h3>Review throughput</h3>"),
                    self.throughput,
                    w.HTML("<h3>Waiting longest for review</h3>"),
                    self.waiting,
                ]
            ),
            "ib-coverage-dashboard",
        )
        self._draw_standards()
        self._draw_throughput()
        self._draw_waiting()

    def show(self) -> w.Widget:
        return self.root

    def _draw_standards(self) -> None:
        chosen = self.blueprint.value
        result = self.bank.coverage()
        needs: dict[tuple[str, str], int] = {}
        per_form = ""
        if chosen in {v for _, v in self.blueprint.options} and chosen:
            plan = self.bank.get_record("blueprint", str(chosen))
            needs = {
                (s["framework"], s["statement"]): int(s.get("min", 0))
                for s in plan.get("standards", [])
            }
            per_form = f" (role {plan.get('role')})"
        figure = coverage_heatmap(self.bank, set(needs) if needs else None)
        self.chart.value = figure_png(figure)
        rows = []
        for s in result.statements:
            if not s["assessed"]:
                continue
            key = (s["framework"], s["statement"])
            if needs and key not in needs:
                continue
            need = needs.get(key)
            gap = "" if need is None else ("short" if s["approved"] < need else "ok")
            rows.append(
                [
                    s["statement"],
                    s["title"],
                    s["role"],
                    s["approved"],
                    s["in_review"],
                    s["draft"],
                    "" if need is None else need,
                    gap,
                ]
            )
        headers = [
            "standard",
            "title",
            "role",
            "approved",
            "in review",
            "draft",
            f"needed per form{per_form}",
            "",
        ]
        self.standards.value = _table(headers, rows, "ib-cov-table")

    def _draw_throughput(self) -> None:
        weeks: Counter[tuple[str, str]] = Counter()
        for f in self.bank.facts().values():
            if f["kind"] == "review" and f["valid"]:
                day = datetime.strptime(f["submitted"][:10], "%Y-%m-%d").date()
                year, number, _ = day.isocalendar()
                weeks[(f"{year}-W{number:02d}", f["decision"])] += 1
        rows = []
        for week in sorted({w_ for w_, _ in weeks}, reverse=True)[:12]:
            rows.append(
                [
                    week,
                    weeks[(week, "approve")],
                    weeks[(week, "request_changes")],
                    weeks[(week, "reject")],
                ]
            )
        self.throughput.value = _table(
            ["week", "approvals", "changes requested", "rejections"], rows, "ib-cov-throughput"
        )

    def _draw_waiting(self) -> None:
        rows = []
        for f in self.bank.facts().values():
            if f["kind"] not in CONTENT_KINDS or not f["valid"]:
                continue
            if f["status"] != "in_review":
                continue
            ident = str(f.get("id") or f["file_id"])
            history = self.bank.store.history(path_for(f["kind"], ident))
            since = history[0].date[:10] if history else ""
            days = (self.today - date.fromisoformat(since)).days if since else 0
            approvals = sum(
                1
                for g in self.bank.facts().values()
                if g["kind"] == "review"
                and g.get("target") == ident
                and g.get("hash") == f["hash"]
                and g.get("decision") == "approve"
            )
            rows.append([ident, f["kind"], since, days, approvals])
        rows.sort(key=lambda r: -int(r[3]))
        self.waiting.value = _table(
            ["id", "kind", "last changed", "days waiting", "approvals of this version"],
            rows,
            "ib-cov-waiting",
        )
