"""The installed `itembank` command, run as a user would run it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import git

EXE = shutil.which("itembank", path=str(Path(sys.executable).parent)) or shutil.which("itembank")


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    assert EXE, "the itembank console script is not installed"
    return subprocess.run([EXE, *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=120)


def test_help_lists_every_command() -> None:
    out = run("--help")
    assert out.returncode == 0
    assert out.stdout.startswith("usage: itembank")
    for command in ("validate", "coverage", "currency", "history", "kept", "export", "serve"):
        assert f"    {command}" in out.stdout


@pytest.mark.parametrize("command", ["validate", "coverage", "currency", "history", "kept"])
def test_help_everywhere(command: str) -> None:
    out = run(command, "--help")
    assert out.returncode == 0
    assert out.stdout.startswith(f"usage: itembank {command}")
    assert "--bank" in out.stdout


def test_validate_exit_codes_and_json_shape(valid_bank: Path) -> None:
    ok = run("validate", "--bank", str(valid_bank), "--format", "json")
    assert ok.returncode == 0, ok.stderr
    data = json.loads(ok.stdout)
    assert data == {"files_checked": 14, "errors": [], "warnings": []}
    (valid_bank / "items" / "TS-0003.json").write_text('{"id": "TS-0003", "format": 5}')
    bad = run("validate", "--bank", str(valid_bank), "--format", "json")
    assert bad.returncode == 1
    errors = json.loads(bad.stdout)["errors"]
    assert {"path", "pointer", "code", "severity", "message"} == set(errors[0])
    missing = ("author", "difficulty_estimate", "enemies", "key", "options", "rationale",
               "references", "roles", "schema_version", "scoring", "section", "standards",
               "status", "stem", "tags")
    assert sorted((e["path"], e["pointer"], e["code"], e["severity"]) for e in errors) == sorted(
        [("items/TS-0003.json", "/format", "not-allowed-value", "error")]
        + [("items/TS-0003.json", f"/{name}", "missing-field", "error") for name in missing])
    assert [(w["path"], w["code"]) for w in json.loads(bad.stdout)["warnings"]] == [
        ("items/TS-0003.json", "uncommitted-change")]
    text = run("validate", "--bank", str(valid_bank))
    assert text.returncode == 1
    assert "items/TS-0003.json:/stem: error [missing-field] Missing required field 'stem'" in text.stdout


@pytest.mark.parametrize("setup", ["missing", "no-bank-json", "not-git"])
def test_unusable_bank_exits_2_without_traceback(tmp_path: Path, setup: str) -> None:
    target = tmp_path / "bank"
    if setup != "missing":
        target.mkdir()
    if setup == "not-git":
        (target / "bank.json").write_text("{}")
    out = run("validate", "--bank", str(target))
    assert out.returncode == 2
    assert out.stderr.startswith("itembank: error: ")
    assert "Traceback" not in out.stderr + out.stdout


def test_bad_invocation_exits_2() -> None:
    assert run("validate", "--format", "xml").returncode == 2
    assert run("frobnicate").returncode == 2
    out = run("history", "../../etc/passwd", "--bank", ".")
    assert out.returncode == 2 and "Traceback" not in out.stderr


def test_coverage_and_blueprint_json(valid_bank: Path) -> None:
    out = run("coverage", "--bank", str(valid_bank), "--blueprint", "bp-test", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    fa01 = next(s for s in data["statements"] if s["statement"] == "FA-01")
    assert (fa01["approved"], fa01["in_review"], fa01["draft"]) == (1, 1, 2)  # TS-0003, TS-0004
    assert data["uncovered"] == [{"framework": "fw-a", "statement": "FA-02"}]
    assert data["blueprint"]["disjoint_forms_upper_bound"] == 1
    missing = run("coverage", "--bank", str(valid_bank), "--blueprint", "nope")
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_currency_lists_superseded_use(valid_bank: Path) -> None:
    assert run("currency", "--bank", str(valid_bank)).returncode == 0
    item = valid_bank / "items" / "TS-0003.json"
    item.write_text(item.read_text().replace("Which order?", "Which LSCB duty applies?"))
    out = run("currency", "--bank", str(valid_bank))
    assert out.returncode == 1
    assert "'LSCB'" in out.stdout and "Working Together to Safeguard Children 2023" in out.stdout


def test_history_command(valid_bank: Path) -> None:
    out = run("history", "TS-0001", "--bank", str(valid_bank), "--format", "json")
    assert out.returncode == 0
    commits = json.loads(out.stdout)
    assert commits[0]["message"] == "initial bank"
    assert commits[0]["sha"] == git(valid_bank, "rev-parse", "HEAD").strip()
    unknown = run("history", "TS-0999", "--bank", str(valid_bank))
    assert unknown.returncode == 2 and "No item" in unknown.stderr


def test_audit_and_currency_say_which_files_they_left_out(valid_bank: Path) -> None:
    clean_audit = run("audit", "--bank", str(valid_bank))
    clean_currency = run("currency", "--bank", str(valid_bank), "--on", "2027-04-01")
    assert "Left out" not in clean_audit.stderr + clean_currency.stderr
    item = sorted((valid_bank / "items").glob("*.json"))[0]
    item.write_bytes(b'{"id": "\xff\xfe')  # not UTF-8, not JSON: validate says what is wrong
    relpath = f"items/{item.name}"
    note = (f"Left out 1 file(s) that cannot be read as records ({relpath}): 'itembank validate' "
            "says what is wrong with each.\n")
    for out in (run("audit", "--bank", str(valid_bank)),
                run("currency", "--bank", str(valid_bank), "--on", "2027-04-01")):
        assert out.stderr == note
        assert out.returncode in (0, 1)
