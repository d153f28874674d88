"""The read-only coverage dashboard: standards against a blueprint, throughput, waiting list."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from itembank import open_bank
from itembank.ui.coverage_dashboard import CoverageDashboard
from tests.conftest import git


def test_dashboard_shows_coverage_throughput_and_waiting(sample_bank_copy: Path) -> None:
    head = git(sample_bank_copy.parent, "rev-parse", "HEAD")
    board = CoverageDashboard(open_bank(sample_bank_copy), today=date(2030, 1, 1))
    assert "<td>PR-01</td>" in board.standards.value
    board.blueprint.value = "practitioner-knowledge-live"
    assert "needed per form (role practitioner)" in board.standards.value
    assert "<td>SU-01</td>" not in board.standards.value  # a supervisor standard, not in this blueprint
    assert "2026-W41" in board.throughput.value  # the sample reviews of 5-11 October 2026
    waiting = board.waiting.value
    for ident in ("GK-0006", "GK-0044", "GK-0064", "SIM-0003"):
        assert f"<td>{ident}</td>" in waiting
    assert "<td>GK-0001</td>" not in waiting  # approved
    assert git(sample_bank_copy.parent, "rev-parse", "HEAD") == head  # read-only


def test_dashboard_draws_coverage_as_a_chart_with_gaps_marked(valid_bank: Path) -> None:
    from matplotlib.patches import Rectangle

    from itembank.ui.maintenance import coverage_heatmap

    bank = open_bank(valid_bank)
    board = CoverageDashboard(bank, today=date(2030, 1, 1))
    assert board.chart in board.root.children and board.chart.format == "png"
    assert board.chart.value[:8] == b"\x89PNG\r\n\x1a\n"
    whole = board.chart.value
    # the test bank: FA-01 has one approved practitioner item, FA-02 (a practitioner
    # statement) none: that one cell is the gap, outlined in red
    axes = coverage_heatmap(bank).axes[0]
    gaps = [p for p in axes.patches if isinstance(p, Rectangle)]
    assert [(g.get_x(), g.get_y()) for g in gaps] == [(-0.5, 0.5)]
    assert [t.get_text() for t in axes.get_yticklabels()] == ["FA-01 First", "FA-02 Second"]
    board.blueprint.value = "bp-test"  # only the blueprint's statements: FA-01, no gap
    assert board.chart.value[:8] == b"\x89PNG\r\n\x1a\n" and board.chart.value != whole
    only = coverage_heatmap(bank, {("fw-a", "FA-01")}).axes[0]
    assert [t.get_text() for t in only.get_yticklabels()] == ["FA-01 First"]
    assert list(only.patches) == []
