"""`itembank standard-setting compromise|adopt`, run as the installed command, on a copy of the
sample bank with form 1's simulated results imported into a temporary results folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from itembank import open_bank
from tests.conftest import ImportedSample, git, results_copy, sample_repo
from tests.test_adoption import CHAIR, CLAIRE, FORM, JOANNE, MARCUS, TUNDE, ranges
from tests.test_cli import run


@pytest.fixture(scope="module")
def setup(imported_sample: ImportedSample, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A closed exercise over form 1 (every item rated 0.6: Angoff 18 of 30) with three judges'
    ranges, and form 1's 2,000 simulated candidates imported (the forms assembled again in
    this repository, as tests/test_results_analyse.py does, so their bank commit is in it)."""
    tmp = tmp_path_factory.mktemp("sscli")
    bank_path = sample_repo(tmp)
    bank = open_bank(bank_path)
    record = bank.standard_setting.open("pk-2026-1", "Form 1", CHAIR, form=FORM, rounds=1)
    for judge in (JOANNE, MARCUS, CLAIRE, TUNDE):
        bank.standard_setting.submit_ratings("pk-2026-1", judge, 1, dict.fromkeys(record["items"], 0.6))
    for judge, (mark, rate) in {JOANNE: (60, 75), MARCUS: (55, 70), CLAIRE: (65, 80)}.items():
        bank.standard_setting.submit_ranges("pk-2026-1", judge, ranges(mark, rate))
    bank.standard_setting.close("pk-2026-1", CHAIR)
    # form 1's import, made once per session (conftest.imported_sample; the command that
    # imports is tested in tests/test_results_import.py), in this module's own folder
    return bank_path, results_copy(imported_sample.form1, tmp)


def args(setup: tuple[Path, Path], action: str, *more: str) -> list[str]:
    bank, results = setup
    return ["standard-setting", action, "pk-2026-1", "--form", FORM, "--results", str(results),
            "--bank", str(bank), *more]


def test_help_and_exit_codes() -> None:
    for action in ("compromise", "adopt"):
        out = run("standard-setting", action, "--help")
        assert out.returncode == 0 and out.stdout.startswith(f"usage: itembank standard-setting {action}")
        words = " ".join(out.stdout.split())
        assert "Exit 0: " in words and "; 1: " in words and "; 2: bad invocation" in words
    assert run("standard-setting").returncode == 2
    assert run("standard-setting", "adopt", "pk", "--form", FORM).returncode == 2  # missing options


def test_compromise_matches_the_service_on_the_same_totals(setup: tuple[Path, Path]) -> None:
    bank = open_bank(setup[0])
    totals = [float(x) for x in bank.results.matrix(FORM, setup[1]).totals]
    expected = bank.standard_setting.compromise("pk-2026-1", FORM, totals, CHAIR)
    out = run(*args(setup, "compromise", "--as", CHAIR, "--output", "json"))
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["candidates"] == 2000 and data["max_score"] == 30.0 and data["judges"] == 3
    assert [(f["method"], f["pass_mark"], f["pass_rate"]) for f in data["figures"]] == [
        (f.method, f.pass_mark, f.pass_rate) for f in expected.figures]
    assert data["figures"][0]["pass_mark"] == 18
    # the Angoff pass rate is the share of the 2,000 totals at or above 18, counted here directly
    assert data["figures"][0]["pass_rate"] == pytest.approx(100 * sum(t >= 18 for t in totals) / 2000)
    text = run(*args(setup, "compromise", "--as", CHAIR))
    assert text.returncode == 0 and "2000 candidates, maximum 30 marks; 3 judge(s) gave ranges" in text.stdout
    judge = run(*args(setup, "compromise", "--as", JOANNE))
    assert judge.returncode == 2 and "Only Eleanor Lindqvist" in judge.stderr


def test_adopt_refuses_then_commits_as_the_chair(setup: tuple[Path, Path]) -> None:
    bank_path = setup[0]
    repo = bank_path.parent
    before = git(repo, "rev-parse", "HEAD").strip()
    wrong = run(*args(setup, "adopt", "--pass-mark", "29", "--method", "angoff", "--reason",
                      "A reason long enough.", "--as", CHAIR))
    assert wrong.returncode == 1 and "The angoff figure is 18, not 29" in wrong.stdout
    assert "Nothing was committed." in wrong.stdout and git(repo, "rev-parse", "HEAD").strip() == before
    unknown = run("standard-setting", "adopt", "nope", "--form", FORM, "--results", str(setup[1]), "--bank",
                  str(bank_path), "--pass-mark", "18", "--method", "angoff", "--reason", "x" * 20, "--as", CHAIR)
    assert unknown.returncode == 2 and "nope" in unknown.stderr
    good = run(*args(setup, "adopt", "--pass-mark", "18", "--method", "angoff", "--reason",
                     "The Angoff mark gives a pass rate within the judges' acceptable range.", "--as", CHAIR))
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.startswith(f"Adopted 18 of 30 for {FORM} (angoff) by {CHAIR}")
    assert git(repo, "log", "-1", "--format=%an <%ae>").strip() == CHAIR
    adopted = open_bank(bank_path).standard_setting.adopted(FORM)
    assert adopted is not None and adopted.pass_mark == 18 and adopted.commit == git(repo, "rev-parse", "HEAD").strip()
