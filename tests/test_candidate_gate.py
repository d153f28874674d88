"""Only reviewed, committed content reaches a candidate: assemble, form verify and export refuse
content whose approvals the review policy does not back (the verdict validate gives) or whose
working-tree file differs from HEAD; export rebuilds a form from the manifest's recorded commit,
byte-identically, after its items have moved on. Real git repositories, real commits made
behind the tool's back, the installed command run as a subprocess."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from itembank import open_bank
from itembank.core import canonical
from itembank.core.workflow import content_hash
from itembank.forms.manifests import NotDeliverableError

from .conftest import TESTER, git

EXE = shutil.which("itembank", path=str(Path(sys.executable).parent)) or shutil.which("itembank")
BLUEPRINT = "practitioner-knowledge-live"


def cli(*args: str, bank: Path) -> subprocess.CompletedProcess[str]:
    assert EXE, "the itembank console script is not installed"
    return subprocess.run(
        [EXE, *args, "--bank", str(bank)], capture_output=True, text=True, timeout=300, check=False
    )


def commit_edit(bank: Path, relpath: str, change: Callable[[dict[str, Any]], None]) -> None:
    """Edit a record's file directly and commit it with git, as someone bypassing itembank."""
    path = bank / relpath
    record = json.loads(path.read_text())
    change(record)
    path.write_text(canonical.dumps(record))
    git(bank.parent, "commit", "-q", "-am", f"edit {relpath} directly")


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def assembled(bank_path: Path, seed: int = 4) -> dict[str, Any]:
    manifest: dict[str, Any] = open_bank(bank_path).forms.assemble(BLUEPRINT, 1, seed, author=TESTER).manifests[0]
    return manifest


def first_item(manifest: dict[str, Any]) -> str:
    return str(manifest["sections"][0]["items"][0]["id"])


def single_answer_item(manifest: dict[str, Any]) -> str:
    """The first item on the form whose key is one option."""
    return next(
        str(e["id"]) for s in manifest["sections"] for e in s["items"] if isinstance(e["key"], list) and len(e["key"]) == 1
    )


def flip_key(record: dict[str, Any]) -> None:
    """Move a single-answer key to another option (a plausible wrong key)."""
    options = [o["id"] for o in record["options"]]
    record["key"] = [next(o for o in options if o not in record["key"])]


def test_a_key_edited_in_git_is_refused_by_assemble_verify_and_export(sample_bank_rw: Path, tmp_path: Path) -> None:
    manifest = assembled(sample_bank_rw)
    form, ident = manifest["id"], single_answer_item(manifest)
    before = cli("export", form, "--format", "qti21", "--out", str(tmp_path / "before"), bank=sample_bank_rw)
    assert before.returncode == 0, before.stderr
    commit_edit(sample_bank_rw, f"items/{ident}.json", flip_key)
    assert open_bank(sample_bank_rw).get(ident)["status"] == "approved"

    validate = cli("validate", "--format", "json", bank=sample_bank_rw)
    assert validate.returncode == 1
    stale = [f for f in json.loads(validate.stdout)["errors"] if f["code"] == "approval-stale"]
    assert [f["path"] for f in stale] == [f"items/{ident}.json"]

    verify = cli("form", "verify", form, bank=sample_bank_rw)
    assert verify.returncode == 1
    assert f"{ident}: edited since the form was assembled" in verify.stdout
    assert f"{ident}: approval-stale: Marked approved" in verify.stdout

    out = tmp_path / "after"
    export = cli("export", form, "--format", "qti21", "--out", str(out), bank=sample_bank_rw)
    assert export.returncode == 1
    assert f"{ident}: approval-stale" in export.stderr
    assert "--as-delivered" in export.stderr
    assert not out.exists()

    assemble = cli("assemble", "--blueprint", BLUEPRINT, "--forms", "1", "--seed", "5", "--quiet", bank=sample_bank_rw)
    assert assemble.returncode == 1
    assert f"  - {ident}: approval-stale: Marked approved" in assemble.stderr
    assert "Traceback" not in assemble.stderr + export.stderr + verify.stderr
    assert not (sample_bank_rw / "forms" / f"{BLUEPRINT}-5-1").exists()

    # For the record (an appeal), the form as delivered is rebuilt with the key candidates saw.
    record = cli("export", form, "--format", "qti21", "--out", str(out), "--as-delivered", bank=sample_bank_rw)
    assert record.returncode == 0, record.stderr
    assert tree_digest(out) == tree_digest(tmp_path / "before")


def test_an_edit_approved_again_or_a_retirement_still_exports_the_recorded_bytes(sample_bank_rw: Path, tmp_path: Path) -> None:
    manifest = assembled(sample_bank_rw)
    form = manifest["id"]
    edited, retired = (str(e["id"]) for e in manifest["sections"][0]["items"][:2])
    for fmt in ("qti30", "html"):
        assert cli("export", form, "--format", fmt, "--out", str(tmp_path / f"{fmt}-0"), bank=sample_bank_rw).returncode == 0

    # Edit the stem and approve it again: two reviews of the new content, committed.
    commit_edit(sample_bank_rw, f"items/{edited}.json", lambda r: r.update(stem=r["stem"] + " (Reworded.)"))
    new_hash = content_hash("item", json.loads((sample_bank_rw / f"items/{edited}.json").read_text()))
    for old in sorted((sample_bank_rw / "reviews" / edited).glob("*.json")):
        review = json.loads(old.read_text())
        review["id"] = "2027" + review["id"][4:]
        review["submitted"] = "2027" + review["submitted"][4:]
        review["content_hash"] = new_hash
        (old.parent / f"{review['id']}.json").write_text(canonical.dumps(review))
    git(sample_bank_rw.parent, "add", "-A")
    git(sample_bank_rw.parent, "commit", "-q", "-m", "approve the reworded item again")
    commit_edit(sample_bank_rw, f"items/{retired}.json", lambda r: r.update(status="retired"))
    assert open_bank(sample_bank_rw).validate().ok

    verify = cli("form", "verify", form, bank=sample_bank_rw)
    assert verify.returncode == 1
    assert f"{edited}: edited since the form was assembled at {manifest['bank_commit'][:10]}" in verify.stdout
    assert f"{retired}: retired since the form was assembled" in verify.stdout
    assert "not-approved" not in verify.stdout and "approval-stale" not in verify.stdout
    for fmt in ("qti30", "html"):
        again = cli("export", form, "--format", fmt, "--out", str(tmp_path / f"{fmt}-1"), bank=sample_bank_rw)
        assert again.returncode == 0, again.stderr
        assert tree_digest(tmp_path / f"{fmt}-1") == tree_digest(tmp_path / f"{fmt}-0")
    assert "(Reworded.)" not in (tmp_path / "html-1").joinpath(
        next(p.name for p in (tmp_path / "html-1").iterdir() if p.suffix == ".html")
    ).read_text()


def test_an_item_sent_back_to_review_blocks_export_unless_as_delivered(sample_bank_rw: Path, tmp_path: Path) -> None:
    manifest = assembled(sample_bank_rw)
    form, ident = manifest["id"], first_item(manifest)
    bank = open_bank(sample_bank_rw)
    item = bank.get(ident)
    item["status"] = "in_review"  # its key was found wrong: back to the panel
    bank.save(item, author=TESTER)
    check = bank.forms.verify(form)
    assert check.not_approved == [(ident, "in_review")] and check.changed == [] and check.problems == []
    refused = cli("export", form, "--format", "html", "--out", str(tmp_path / "x"), bank=sample_bank_rw)
    assert refused.returncode == 1
    assert f"{ident}: not-approved: went back to review since the form was assembled (status in_review)" in refused.stderr
    assert not (tmp_path / "x").exists()
    kept = cli("export", form, "--format", "html", "--out", str(tmp_path / "x"), "--as-delivered", bank=sample_bank_rw)
    assert kept.returncode == 0, kept.stderr


def test_uncommitted_changes_are_refused_by_all_three(sample_bank_rw: Path, tmp_path: Path) -> None:
    manifest = assembled(sample_bank_rw)
    form, ident = manifest["id"], first_item(manifest)
    path = sample_bank_rw / "items" / f"{ident}.json"
    record = json.loads(path.read_text())
    record["tags"] = [*record.get("tags", []), "uncommitted"]  # not even a hashed field
    path.write_text(canonical.dumps(record))

    verify = cli("form", "verify", form, bank=sample_bank_rw)
    assert verify.returncode == 1
    assert f"{ident}: uncommitted-change" in verify.stdout
    for extra in ([], ["--as-delivered"]):
        export = cli("export", form, "--format", "qti21", "--out", str(tmp_path / "q"), *extra, bank=sample_bank_rw)
        assert export.returncode == 1
        assert f"{ident}: uncommitted-change" in export.stderr
    assemble = cli("assemble", "--blueprint", BLUEPRINT, "--forms", "1", "--seed", "5", "--quiet", bank=sample_bank_rw)
    assert assemble.returncode == 1
    assert f"  - items/{ident}.json: uncommitted-change" in assemble.stderr

    # An uncommitted review counts too: the verdict is taken from what git records.
    path.write_text(canonical.dumps({**record, "tags": record["tags"][:-1]}))
    review = next((sample_bank_rw / "reviews" / ident).glob("*.json"))
    review.write_text(review.read_text().replace('"comment": ""', '"comment": "late note"'))
    verify = cli("form", "verify", form, bank=sample_bank_rw)
    assert verify.returncode == 1
    assert f"{ident}: uncommitted-change" in verify.stdout


def test_a_manifest_whose_hash_the_recorded_commit_does_not_hold_is_refused(sample_bank_rw: Path, tmp_path: Path) -> None:
    manifest = assembled(sample_bank_rw)
    form, ident = manifest["id"], first_item(manifest)
    commit_edit(
        sample_bank_rw,
        f"forms/{form}/manifest.json",
        lambda m: m["sections"][0]["items"][0].update(content_hash="sha256:" + "0" * 64),
    )
    for extra in ([], ["--as-delivered"]):
        export = cli("export", form, "--format", "html", "--out", str(tmp_path / "h"), *extra, bank=sample_bank_rw)
        assert export.returncode == 1
        assert f"{ident}: hash-mismatch: its content at the recorded commit" in export.stderr
    assert not (tmp_path / "h").exists()

    # A manifest naming a commit the repository does not hold: a plain message, exit 2.
    moved = tmp_path / "elsewhere" / "manifest.json"
    moved.parent.mkdir()
    moved.write_text(canonical.dumps({**manifest, "bank_commit": "1" * 40}))
    lost = cli("form", "verify", str(moved), bank=sample_bank_rw)
    assert lost.returncode == 2
    assert f"The commit {'1' * 40} is not in the bank's repository" in lost.stderr
    assert "Traceback" not in lost.stderr


def test_a_scenario_changed_in_git_after_approval_is_not_exported(sample_bank_rw: Path, tmp_path: Path) -> None:
    assert cli("export", "SIM-0001", "--format", "html", "--out", str(tmp_path / "ok"), bank=sample_bank_rw).returncode == 0
    commit_edit(sample_bank_rw, "scenarios/SIM-0001.json", lambda s: s.update(title=s["title"] + " (revised)"))
    refused = cli("export", "SIM-0001", "--format", "html", "--out", str(tmp_path / "no"), bank=sample_bank_rw)
    assert refused.returncode == 1
    assert "SIM-0001: approval-stale: Marked approved" in refused.stderr
    assert not (tmp_path / "no").exists()


def test_a_form_is_rebuilt_after_the_bank_folder_moved_in_its_repository(sample_bank_rw: Path, tmp_path: Path) -> None:
    manifest = assembled(sample_bank_rw)
    assert manifest["bank_path"] == "item_bank"
    first = cli("export", manifest["id"], "--format", "qti21", "--out", str(tmp_path / "a"), bank=sample_bank_rw)
    assert first.returncode == 0, first.stderr
    repo = sample_bank_rw.parent
    git(repo, "mv", "item_bank", "exams")
    git(repo, "commit", "-q", "-m", "rename the bank folder")
    moved = repo / "exams"
    assert cli("form", "verify", manifest["id"], bank=moved).returncode == 0
    again = cli("export", manifest["id"], "--format", "qti21", "--out", str(tmp_path / "b"), bank=moved)
    assert again.returncode == 0, again.stderr
    assert tree_digest(tmp_path / "b") == tree_digest(tmp_path / "a")


def test_an_item_left_with_one_approval_is_refused_as_not_approved(sample_bank_rw: Path) -> None:
    manifest = assembled(sample_bank_rw)
    # an item reviewed once per version (a re-reviewed item's older approvals would make the
    # finding approval-stale instead)
    ident = next(
        str(e["id"]) for s in manifest["sections"] for e in s["items"]
        if isinstance(e["key"], list) and len(e["key"]) == 1
        and len(list((sample_bank_rw / "reviews" / str(e["id"])).glob("*.json"))) == 2
    )
    review = sorted((sample_bank_rw / "reviews" / ident).glob("*.json"))[0]
    git(sample_bank_rw.parent, "rm", "-q", str(review))
    git(sample_bank_rw.parent, "commit", "-q", "-m", f"withdraw one review of {ident}")
    bank = open_bank(sample_bank_rw)
    with pytest.raises(NotDeliverableError) as refused:
        bank.forms.assemble(BLUEPRINT, 1, 6, author=TESTER)
    assert refused.value.lines == [
        f"{ident}: not-approved: Marked approved, but it has 1 of 2 approvals of the current "
        "content. Set status to in_review until the review policy is met."
    ]
    check = bank.forms.verify(manifest["id"])
    assert check.stale == [(ident, refused.value.lines[0].split(": ", 1)[1])]
    assert check.changed == [] and check.problems == []


def test_blind_answers_beside_an_items_reviews_do_not_block_its_form(
    sample_bank_rw: Path, tmp_path: Path
) -> None:
    """Blind answers live in reviews/<ID>/blind/: committed, they are neither an uncommitted
    change nor part of the approval verdict, so verify and export go through."""
    from datetime import UTC, datetime

    from itembank.core.layout import path_of
    from itembank.review.rules import build_blind_answer

    bank = open_bank(sample_bank_rw)
    manifest = assembled(sample_bank_rw, seed=5)
    ident = first_item(manifest)
    record = bank.get(ident)
    answer = build_blind_answer(record, record["key"], "Rita Reviewer <rita@example.org>",
                                datetime(2026, 11, 1, 10, 0, tzinfo=UTC))
    target = sample_bank_rw / path_of(answer, "blind_answer")
    target.parent.mkdir(parents=True)
    target.write_text(canonical.dumps(answer))
    git(sample_bank_rw.parent, "add", "-A")
    git(sample_bank_rw.parent, "commit", "-q", "-m", f"{ident}: blind answer by Rita Reviewer")
    assert cli("validate", bank=sample_bank_rw).returncode == 0
    verify = cli("form", "verify", manifest["id"], bank=sample_bank_rw)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    done = cli("export", manifest["id"], "--format", "qti30", "--out", str(tmp_path / "q"),
               bank=sample_bank_rw)
    assert done.returncode == 0, done.stderr
