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


def test_progress_is_reported_per_stage_with_exact_counts(valid_bank: Path) -> None:
    from itembank import open_bank

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER, extrasaction="ignore")
    writer.writeheader()
    writer.writerows([row(stem=f"Which section applies ({n})?") for n in range(5)])
    calls: list[tuple[str, int, int]] = []
    bank = open_bank(valid_bank)
    dry = bank.authoring.import_items(out.getvalue().encode(), "items.csv", WRITER, dry_run=True,
                            progress=lambda *call: calls.append(call), progress_every=2)
    assert dry.imported == [] and dry.bad == []
    assert calls == [("read", 2, 5), ("read", 4, 5), ("read", 5, 5), ("checked", 5, 5)]
    calls.clear()
    result = bank.authoring.import_items(out.getvalue().encode(), "items.csv", WRITER,
                               progress=lambda *call: calls.append(call), progress_every=2)
    assert result.imported == ["GK-0001", "GK-0002", "GK-0003", "GK-0004", "GK-0005"]
    assert calls == [("read", 2, 5), ("read", 4, 5), ("read", 5, 5), ("checked", 5, 5),
                     ("written", 2, 5), ("written", 4, 5), ("written", 5, 5)]
    assert git(valid_bank, "show", "--name-only", "--format=%s", "HEAD").split("\n")[0] == \
        "Import 5 draft item(s) from items.csv"
    assert git(valid_bank, "status", "--porcelain") == ""  # index and files agree with HEAD


def test_the_cli_shows_progress_on_stderr(valid_bank: Path, tmp_path: Path) -> None:
    csv_file = write_csv(tmp_path / "items.csv", [row(stem=f"Which applies ({n})?")
                                                  for n in range(3)])
    out = run("import", str(csv_file), "--bank", str(valid_bank), "--author", WRITER)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stderr.splitlines() == ["3 of 3 rows read", "3 of 3 rows checked",
                                       "3 of 3 items written"]


def test_a_multi_line_row_is_reported_by_its_first_line(valid_bank: Path, tmp_path: Path) -> None:
    rows = [row(), row(stem="Which section applies?\nRead the case.\nThen answer.", key="E"),
            row(difficulty="high")]
    csv_file = write_csv(tmp_path / "items.csv", rows)
    assert csv_file.read_text().count("\n") == 6  # header, row on line 2, lines 3-5, line 6
    out = run("import", str(csv_file), "--bank", str(valid_bank), "--author", WRITER,
              "--format", "json")
    assert out.returncode == 1
    data = json.loads(out.stdout)
    assert [(b["line"], b["problems"]) for b in data["bad_rows"]] == [
        (3, ["key: The key names option E, which does not exist. Options are A, B, C, D: "
             "correct the key or add the option."]),
        (6, ["difficulty: 'high' is not a number between 0 and 1"]),
    ]
    assert data["imported"] == []


def test_an_import_is_refused_in_an_unfinished_git_state_or_over_an_uncommitted_case(
    valid_bank: Path, tmp_path: Path
) -> None:
    """The bulk commit takes the same refusals as a single save: nothing written, no commit."""
    rows = [row(section="applied", stimulus="CS-0001", stem="In the case, which applies?")]
    csv_file = write_csv(tmp_path / "items.csv", rows)
    before = git(valid_bank, "rev-parse", "HEAD")
    git_dir = Path(git(valid_bank, "rev-parse", "--absolute-git-dir").strip())
    (git_dir / "MERGE_HEAD").write_text(before)  # as a merge stopped on a conflict leaves it
    out = run("import", str(csv_file), "--bank", str(valid_bank), "--author", WRITER)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert "Nothing was imported: in the bank's repository a merge is in progress" in out.stderr
    (git_dir / "MERGE_HEAD").unlink()
    case = valid_bank / "stimuli" / "CS-0001.json"
    case.write_text(case.read_text().replace('"title": "', '"title": "Edited by hand: ', 1))
    out = run("import", str(csv_file), "--bank", str(valid_bank), "--author", WRITER)
    assert out.returncode == 2
    assert "Nothing was imported: stimuli/CS-0001.json was written on disk but never committed" \
        in out.stderr
    assert git(valid_bank, "rev-parse", "HEAD") == before
    assert not (valid_bank / "items" / "AK-0001.json").exists()
    assert git(valid_bank, "status", "--porcelain") == " M bank/stimuli/CS-0001.json\n"
