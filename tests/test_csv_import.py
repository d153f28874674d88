"""Bulk import from a spreadsheet: `itembank import items.csv`, as a writer would run it."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from .conftest import ROOT, git
from .test_cli import run

WRITER = "Wendy Writer <wendy@example.org>"
HEADER = ["id", "format", "section", "stimulus", "roles", "standards", "references", "stem",
          "option_a", "rationale_a", "option_b", "rationale_b", "option_c", "rationale_c",
          "option_d", "rationale_d", "key", "rationale", "difficulty", "tags"]


def row(**values: str) -> dict[str, str]:
    base = {"format": "sba", "roles": "practitioner", "standards": "fw-a:FA-01",
            "references": "children-act-1989", "stem": "Which section applies?",
            "option_a": "s.17", "rationale_a": "No.", "option_b": "s.20", "rationale_b": "No.",
            "option_c": "s.47", "rationale_c": "Yes.", "option_d": "s.31", "rationale_d": "No.",
            "key": "C", "rationale": "Section 47 is the duty to enquire.", "difficulty": "0.6",
            "tags": "law"}
    return {**base, **values}


def write_csv(path: Path, rows: list[dict[str, str]], header: list[str] = HEADER) -> Path:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def test_good_rows_are_imported_in_one_commit(valid_bank: Path, tmp_path: Path) -> None:
    rows = [row(stem="<script>x</script> Which **section** applies?"),
            row(format="mtf", key="TFTF", stem="Decide whether each is true."),
            row(section="applied", stimulus="CS-0001", stem="In the case, which applies?")]
    out = run("import", str(write_csv(tmp_path / "items.csv", rows)), "--bank", str(valid_bank),
              "--author", WRITER)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Imported 3 draft item(s) (GK-0001, GK-0002, AK-0001)" in out.stdout
    assert git(valid_bank, "log", "-1", "--format=%an <%ae>|%s") == \
        f"{WRITER}|Import 3 draft item(s) from items.csv\n"
    changed = set(git(valid_bank, "show", "--name-only", "--format=", "HEAD").split())
    assert changed == {"bank/items/GK-0001.json", "bank/items/GK-0002.json",
                       "bank/items/AK-0001.json", "bank/stimuli/CS-0001.json"}
    first = json.loads((valid_bank / "items" / "GK-0001.json").read_text())
    assert first["stem"] == "<script>x</script> Which **section** applies?"
    assert first["status"] == "draft" and first["standards"][0]["primary"] is True
    mtf = json.loads((valid_bank / "items" / "GK-0002.json").read_text())
    assert mtf["key"] == {"A": True, "B": False, "C": True, "D": False}
    assert "AK-0001" in json.loads((valid_bank / "stimuli" / "CS-0001.json").read_text())["items"]
    assert run("validate", "--bank", str(valid_bank)).returncode == 0


def test_bad_rows_are_reported_by_line_and_column_and_nothing_is_imported(
        valid_bank: Path, tmp_path: Path) -> None:
    head = git(valid_bank, "rev-parse", "HEAD")
    rows = [row(), row(key="E", standards="fw-a:FA-09"), row(difficulty="high"),
            row(id="TS-0001")]
    csv_file = write_csv(tmp_path / "items.csv", rows)
    out = run("import", str(csv_file), "--bank", str(valid_bank), "--author", WRITER)
    assert out.returncode == 1
    assert f"{csv_file}:3: key: The key names option E, which does not exist." in out.stdout
    assert f"{csv_file}:3: standards: The framework fw-a has no statement 'FA-09'." in out.stdout
    assert f"{csv_file}:4: difficulty: 'high' is not a number" in out.stdout
    assert f"{csv_file}:5: id: TS-0001 already exists" in out.stdout
    assert "nothing was imported" in out.stdout
    assert git(valid_bank, "rev-parse", "HEAD") == head
    skipped = run("import", str(csv_file), "--bank", str(valid_bank), "--author", WRITER,
                  "--skip-bad", "--format", "json")
    data = json.loads(skipped.stdout)
    assert skipped.returncode == 1 and data["imported"] == ["GK-0001"]
    assert [b["line"] for b in data["bad_rows"]] == [3, 4, 5]


def test_a_file_that_cannot_be_read_exits_2(valid_bank: Path, tmp_path: Path) -> None:
    bad_header = write_csv(tmp_path / "h.csv", [row()], header=[*HEADER[:-1], "colour"])
    out = run("import", str(bad_header), "--bank", str(valid_bank), "--author", WRITER)
    assert out.returncode == 2 and "unknown columns: colour" in out.stdout
    latin = tmp_path / "l.csv"
    latin.write_bytes("format,stem,option_a,key,standards\nsba,café,a,A,fw-a:FA-01\n"
                      .encode("latin-1"))
    out = run("import", str(latin), "--bank", str(valid_bank), "--author", WRITER)
    assert out.returncode == 2 and "not UTF-8" in out.stdout
    missing = run("import", str(tmp_path / "nope.csv"), "--bank", str(valid_bank), "--author",
                  WRITER)
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def test_the_template_imports_into_the_sample_bank(sample_bank_rw: Path) -> None:
    template = ROOT / "authoring_notebooks" / "examples" / "items_template.csv"
    out = run("import", str(template), "--bank", str(sample_bank_rw), "--author", WRITER,
              "--dry-run")
    assert out.returncode == 0 and "all good" in out.stdout, out.stdout
