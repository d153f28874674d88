"""The parity report of an assembly (issue 14) where people read it: the CLI's text and JSON
output and each manifest's solver block, on a copy of the sample bank (3 practitioner forms,
written with --out: the sample's committed forms are never re-assembled)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from itembank.cli import run
from itembank.core.schemas import iter_schema_errors

BLUEPRINT = "practitioner-knowledge-live"


def test_cli_and_manifests_report_each_deviation_the_spread_and_the_bound(
    sample_bank_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bank = str(sample_bank_copy)
    args = ["assemble", "--blueprint", BLUEPRINT, "--forms", "3", "--seed", "11", "--bank", bank]
    assert run([*args, "--out", str(tmp_path / "a"), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert run([*args, "--out", str(tmp_path / "b"), "--format", "json", "--quiet"]) == 0
    summary = json.loads(capsys.readouterr().out)
    parity = summary["parity"]["measures"]["difficulty"]
    solver = summary["solver"]
    means = [f["difficulty_mean"] for f in summary["forms"]]
    # the figures agree with each other: deviations from the blueprint's target, the spread
    assert parity["target"] == 0.68 and parity["target_from"] == "blueprint"
    assert [round(m - 0.68, 4) for m in means] == [round(d, 4) for d in parity["deviations"]]
    assert [f["deviation"] for f in summary["forms"]] == parity["deviations"]
    assert parity["spread"] == pytest.approx(max(means) - min(means), abs=2e-6)
    # the proof: the largest deviation is within the tolerance of the proven best
    assert solver["status"] == "optimal" and solver["bound_scope"] == "whole pool"
    assert solver["parity_bound"] <= solver["objective"] <= solver["parity_bound"] + solver["tolerance"]
    assert solver["objective"] == pytest.approx(max(abs(d) for d in parity["deviations"]), abs=1e-6)
    assert f"Parity on mean difficulty: spread {parity['spread']:.4f} between forms" in text
    assert f"the best possible is proven at least {solver['parity_bound']:.4f}" in text
    for f in summary["forms"]:
        assert f"{f['id']}: 30 items" in text and f"({f['deviation']:+.4f} from the target)" in text
    for k, f in enumerate(summary["forms"]):
        manifest = json.loads((tmp_path / "b" / f["id"] / "manifest.json").read_text())
        assert list(iter_schema_errors("form", manifest)) == []
        block = manifest["solver"]
        assert block["deviation"] == parity["deviations"][k] and block["spread"] == parity["spread"]
        assert block["parity_bound"] == solver["parity_bound"] and block["tolerance"] == 0.002
        assert "seconds" not in block  # the same inputs give the same manifest bytes
        wrong = copy.deepcopy(manifest)
        wrong["solver"]["bound_scope"] = "somewhere"
        assert list(iter_schema_errors("form", wrong))


def test_cli_tolerance_is_checked_and_used(
    sample_bank_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bank = str(sample_bank_copy)
    args = ["assemble", "--blueprint", BLUEPRINT, "--forms", "2", "--seed", "3", "--bank", bank]
    with pytest.raises(SystemExit) as exc:
        run([*args, "--tolerance", "0"])
    assert exc.value.code == 2
    assert "the tolerance must be above 0" in capsys.readouterr().err
    assert run([*args, "--tolerance", "0.01", "--out", str(tmp_path / "t"), "--format", "json", "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["solver"]["tolerance"] == 0.01
