"""Data-driven: every invalid case in tests/data/invalid produces exactly its expected findings
(file, pointer, code and severity: nothing missing, nothing extra) and checks exactly the number
of files it should, so one broken file never hides the rest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from itembank import open_bank

from .conftest import DATA, git, make_repo

CASES = sorted(p.name for p in (DATA / "invalid").iterdir() if p.is_dir())
VALID_CASES = sorted(p.name for p in (DATA / "valid_cases").iterdir() if p.is_dir())


def test_the_valid_bank_has_no_findings(valid_bank: Path) -> None:
    report = open_bank(valid_bank).validate()
    assert report.findings == []
    assert report.files_checked == 14


@pytest.mark.parametrize("case", CASES)
def test_invalid_case(case: str, tmp_path: Path) -> None:
    check_case(DATA / "invalid" / case, tmp_path)


@pytest.mark.parametrize("case", VALID_CASES)
def test_valid_case(case: str, tmp_path: Path) -> None:
    """Changes to the valid bank that must not produce any finding."""
    check_case(DATA / "valid_cases" / case, tmp_path)


def check_case(folder: Path, tmp_path: Path) -> None:
    """The case's files laid over the valid bank give exactly its expected findings."""
    case = folder.name
    bank = make_repo(tmp_path, DATA / "valid" / "bank")
    spec = json.loads((folder / "expected.json").read_text())
    files = folder / "files"
    if files.is_dir():
        # copy without the source's times: copy2 would keep a same-size file's mtime, and git's
        # stat check would then not see the change it has to commit
        shutil.copytree(files, bank, dirs_exist_ok=True, copy_function=shutil.copyfile)
    for rel in spec["remove"]:
        (bank / rel).unlink()
    git(bank, "add", "-A")  # the bad state as committed (uncommitted files are a finding too)
    git(bank, "commit", "-q", "-m", f"invalid case {case}")
    report = open_bank(bank).validate()
    got = sorted((f.path, f.pointer, f.code, f.severity) for f in report.findings)
    want = sorted((w["path"], w["pointer"], w["code"], w["severity"]) for w in spec["expected"])
    assert got == want, f"{case}: {spec['description']}"
    for finding in report.findings:
        assert finding.message and finding.message[-1] in ".)'", finding
        assert "Traceback" not in finding.message
    # files the case did not touch are still read and counted
    assert report.files_checked == spec["files_checked"]
    # and a second run, from the cache, says exactly the same
    again = open_bank(bank).validate()
    assert (again.files_checked, again.findings) == (report.files_checked, report.findings)


def test_every_case_is_exercised() -> None:
    assert len(CASES) == 50
    assert VALID_CASES == ["standards-match-roles"]
