"""The maintainers' notebook views: findings table, coverage matrix and heatmap."""

from __future__ import annotations

import json
from pathlib import Path

from matplotlib.patches import Rectangle

from itembank import open_bank
from itembank.ui.maintenance import (
    coverage_heatmap,
    coverage_matrix,
    figure_image,
    findings_frame,
)


def test_coverage_matrix_and_gaps_outlined(valid_bank: Path) -> None:
    bank = open_bank(valid_bank)
    matrix = coverage_matrix(bank)
    assert matrix.loc["FA-01 First", "practitioner"] == 1  # only TS-0001 is approved
    assert matrix.loc["FA-02 Second", "practitioner"] == 0
    figure = coverage_heatmap(bank)
    outlined = [p for p in figure.axes[0].patches if isinstance(p, Rectangle)]
    assert len(outlined) == 1  # FA-02 has no approved practitioner item
    assert figure_image(figure).data[:8] == b"\x89PNG\r\n\x1a\n"


def test_findings_frame_lists_errors(valid_bank: Path) -> None:
    item = valid_bank / "items" / "TS-0003.json"
    item.write_text(json.dumps({**json.loads(item.read_text()), "colour": "red"}))
    frame = findings_frame(open_bank(valid_bank).validate().findings)
    assert list(frame.columns) == ["path", "pointer", "code", "severity", "message"]
    assert frame.iloc[0]["code"] == "unknown-field" and frame.iloc[0]["pointer"] == "/colour"
