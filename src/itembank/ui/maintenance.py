"""Maintainers' views for notebooks: validation findings as a table, a coverage heatmap of
approved items per statement and role (gaps highlighted), the currency report and the cue
audit's rates against chance."""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from itembank.bank import Bank
from itembank.checks.coverage import Coverage
from itembank.checks.cues import audit
from itembank.core.findings import Finding

COLUMNS = ["path", "pointer", "code", "severity", "message"]


def findings_frame(findings: list[Finding]) -> pd.DataFrame:
    """Findings as a table, errors first."""
    frame = pd.DataFrame([f.to_dict() for f in findings], columns=COLUMNS)
    return frame.sort_values(["severity", "path", "pointer"]).reset_index(drop=True)


CUE_COLUMNS = ["scope", "cue", "items", "hits", "rate", "chance", "p", "above chance"]


def cue_table(bank: Bank, by_writer: bool = False) -> pd.DataFrame:
    """The cue audit (`itembank audit`) as a table: each cue's rate against its chance value
    and the one-sided p-value, so a maintainer sees which habit of the writers cues keys."""
    rows = [
        [
            r.scope,
            r.title,
            r.items,
            r.hits,
            round(r.rate, 2),
            round(r.chance, 2),
            round(r.p_value, 4),
            "yes" if r.significant else "",
        ]
        for r in audit(bank.items(), by_writer=by_writer).rates
    ]
    return pd.DataFrame(rows, columns=CUE_COLUMNS)


def _label(statement: dict[str, Any]) -> str:
    return f"{statement['statement']} {statement['title'][:40]}"


def coverage_matrix(
    bank: Bank,
    coverage: Coverage | None = None,
    only: set[tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """Approved items per assessed statement (rows) and role (columns); with `only`, just
    those (framework, statement) rows (a blueprint's, say)."""
    coverage = coverage or bank.coverage()
    statements = [
        s
        for s in coverage.statements
        if s["assessed"] and (only is None or (s["framework"], s["statement"]) in only)
    ]
    roles = [r["id"] for r in bank.settings["roles"]]
    matrix = pd.DataFrame(0, index=[_label(s) for s in statements], columns=roles)
    labels = {(s["framework"], s["statement"]): _label(s) for s in statements}
    for row in coverage.rows:
        label = labels.get((row["framework"], row["statement"]))
        if label is not None and row["role"] in matrix.columns:
            matrix.loc[label, row["role"]] += row["approved"]
    return matrix


def coverage_heatmap(bank: Bank, only: set[tuple[str, str]] | None = None) -> Figure:
    """The coverage matrix as a heatmap; a statement with no approved item for its own role
    (the gap that matters) is outlined in red. `only` limits the rows as coverage_matrix does."""
    coverage = bank.coverage()
    matrix = coverage_matrix(bank, coverage, only)
    own_role = {_label(s): s["role"] for s in coverage.statements if s["assessed"]}
    figure = Figure(figsize=(7, 0.35 * len(matrix) + 1.5))
    axes = figure.subplots()
    image = axes.imshow(matrix.values, cmap="Greens", aspect="auto")
    axes.set_xticks(range(len(matrix.columns)), labels=list(matrix.columns))
    axes.set_yticks(range(len(matrix.index)), labels=list(matrix.index), fontsize=8)
    for (y, x), value in pd.DataFrame(matrix.values).stack().items():
        axes.text(x, y, str(value), ha="center", va="center", fontsize=8)
        if value == 0 and own_role.get(str(matrix.index[y])) == matrix.columns[x]:
            axes.add_patch(
                Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=1.5)
            )
    axes.set_title("Approved items per statement and role (red: none)")
    figure.colorbar(image, ax=axes, fraction=0.03)
    figure.tight_layout()
    return figure


def figure_png(figure: Figure) -> bytes:
    """A figure as PNG bytes (no matplotlib backend needed): for an ipywidgets Image."""
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


def figure_image(figure: Figure) -> Any:
    """A figure as a PNG image a notebook displays."""
    from IPython.display import Image

    return Image(data=figure_png(figure), format="png")  # type: ignore[no-untyped-call]
