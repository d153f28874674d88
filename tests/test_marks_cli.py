"""`itembank results import-marks | agreement | decisions` (issue 13 part 1): real
subprocesses, exit codes as documented in --help, candidate-level output kept out of the
repository."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import git
from tests.test_practice_marks import (  # noqa: F401 (fixtures)
    FORM1,
    PAIR,
    _marks_file,
    knowledge_store,
    marks_bank,
    with_knowledge,
)

ITEMBANK = Path(sys.executable).parent / "itembank"


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ITEMBANK), *map(str, args)], capture_output=True, text=True,
                          check=False, timeout=300)


@pytest.mark.parametrize("action", ["import-marks", "agreement", "decisions"])
def test_help_says_the_exit_codes(action: str) -> None:
    done = run("results", action, "--help")
    assert done.returncode == 0
    words = " ".join(done.stdout.split())
    assert "Exit 0:" in words and "; 1:" in words and "; 2:" in words


def test_import_agreement_and_decisions_from_the_command_line(
    marks_bank: Path, with_knowledge: Path, tmp_path: Path,  # noqa: F811 (fixtures)
) -> None:
    common = ("--bank", marks_bank, "--results", with_knowledge)
    source = _marks_file(tmp_path, "marks.csv", PAIR)
    first = run("results", "import-marks", source, "--form", FORM1, *common)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"Imported {FORM1}: 48 mark(s) for 3 candidate(s) on 8 criteria.")
    again = run("results", "import-marks", source, "--form", FORM1, *common, "--output", "json")
    assert again.returncode == 0 and json.loads(again.stdout)["stored"] is False
    listed = run("results", "list", *common)
    assert "marks  48 marks of 3 candidates  (marks.csv)" in listed.stdout

    table = run("results", "agreement", FORM1, *common)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[1].split() == ["criterion", "n", "exact", "±1", "kappa-l", "kappa-q", "ICC",
                                "3rd", "needed", "3rd", "missing", "one", "mark"]
    # MC3: CAND-00002 marked 1 and 3, the others 2 and 2. By hand, margins (0,1,2,0) and
    # (0,0,2,1): linear observed 2/9, expected 2/9 -> 0; quadratic observed 4/27, expected
    # 8/81 -> -0.5; ICC(2,1): BMS 0, JMS 2/3, EMS 2/3 -> (0 - 2/3) / (2/3) = -1
    assert lines[4].split() == ["SIM-0001/MC3", "3", "67%", "67%", "0.00", "-0.50", "-1.00", "1", "1", "0"]
    assert lines[2].split() == ["SIM-0001/MC1", "3", "100%", "100%", "-", "-", "-", "0", "0", "0"]
    as_json = json.loads(run("results", "agreement", FORM1, *common, "--output", "json").stdout)
    assert as_json["criteria"][2]["third_missing"] == 1 and len(as_json["criteria"]) == 8

    refused = run("results", "decisions", FORM1, *common)
    assert refused.returncode == 1
    assert "adopt a pass mark first: itembank standard-setting adopt" in " ".join(refused.stderr.split())
    inside = run("results", "decisions", FORM1, *common, "--csv", marks_bank / "d.csv")
    assert inside.returncode == 2 and "inside the bank's git repository" in inside.stderr
    assert git(marks_bank, "status", "--porcelain").strip() == ""


def test_bad_marks_are_listed_with_line_column_and_fix(
    marks_bank: Path, with_knowledge: Path, tmp_path: Path,  # noqa: F811 (fixtures)
) -> None:
    bad = _marks_file(tmp_path, "bad.csv", ["CAND-00001,SIM-0001,MC9,ASR-01,2",
                                            "CAND-00001,SIM-0001,MC1,ASR-01,7"])
    done = run("results", "import-marks", bad, "--form", FORM1, "--bank", marks_bank,
               "--results", with_knowledge)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines() == [
        "itembank: Nothing was imported: 2 problem(s) in the marks. Correct them and import again:",
        f"  {bad}: line 2, column 3 (criterion): unknown-criterion: criterion MC9 is not in the "
        "marking scheme of SIM-0001: its criteria are MC1, MC2, MC3, MC4, MC5, MC6, MC7, MC8",
        f"  {bad}: line 3, column 5 (band): bad-band: band 7 is not a band of SIM-0001/MC1: its "
        "bands are 0 (Not demonstrated), 1 (Limited), 2 (Competent), 3 (Strong)",
    ]
    nothing = run("results", "agreement", FORM1, "--bank", marks_bank, "--results", with_knowledge)
    assert nothing.returncode == 1 and "No simulated-practice marks" in nothing.stdout
    missing = run("results", "import-marks", tmp_path / "nope.csv", "--form", FORM1, "--bank",
                  marks_bank, "--results", with_knowledge)
    assert missing.returncode == 2 and "is not a file" in missing.stderr
