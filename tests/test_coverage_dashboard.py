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
