"""The early career standards (ecs-2026), the crosswalk to them from pqs-practitioner-2018, and
`itembank remap` end to end on a temporary copy of the sample bank."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from itembank import open_bank
from itembank.authoring.remap import Crosswalk, RemapError, crosswalk_between, propose
from itembank.core.workflow import content_hash

from .conftest import SAMPLE_BANK, git

EXE = shutil.which("itembank", path=str(Path(sys.executable).parent)) or shutil.which("itembank")
MAINTAINER = "Maya Maintainer <maya.maintainer@example.org>"
PQS, ECS = "pqs-practitioner-2018", "ecs-2026"


def itembank(*args: str) -> subprocess.CompletedProcess[str]:
    assert EXE, "the itembank console script is not installed"
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=120)


def read(folder: Path, kind_folder: str) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text(encoding="utf-8"))
            for p in sorted((folder / kind_folder).glob("*.json"))}


def test_ecs_framework_file_is_valid_and_marks_what_to_check(sample_bank_copy: Path) -> None:
    bank = open_bank(sample_bank_copy)
    findings = [f for f in bank.validate().findings if f.path.startswith("standards/")]
    assert findings == []
    ecs = json.loads((SAMPLE_BANK / "standards" / "ecs-2026.json").read_text(encoding="utf-8"))
    assert (ecs["role"], ecs["effective_from"], ecs["status"], ecs["assessed"]) == (
        "practitioner", "2027-04-01", "pending", True)
    assert [(s["id"], s["number"], s["title"]) for s in ecs["statements"]] == [
        ("ECS-01", 1, "Anti-discriminatory practice"),
        ("ECS-02", 2, "Relationships and communication"),
        ("ECS-03", 3, "Assessment and planning"),
        ("ECS-04", 4, "Intervention"),
        ("ECS-05", 5, "Reflection and learning"),
        ("ECS-06", 6, "Leadership and management"),
    ]
    assert all("published document" in s["note"] for s in ecs["statements"])
    assert "must still check" in ecs["notes"]
    pqs = json.loads((SAMPLE_BANK / "standards" / f"{PQS}.json").read_text(encoding="utf-8"))
    assert pqs["effective_to"] == "2027-03-31"
    settings = json.loads((SAMPLE_BANK / "bank.json").read_text(encoding="utf-8"))
    assert ECS in settings["frameworks"]


def test_crosswalk_covers_every_practitioner_statement_with_a_note() -> None:
    pqs = json.loads((SAMPLE_BANK / "standards" / f"{PQS}.json").read_text(encoding="utf-8"))
    assert pqs["crosswalk"]["to"] == ECS
    mappings = pqs["crosswalk"]["mappings"]
    assert [m["from"] for m in mappings] == [s["id"] for s in pqs["statements"]]
    assert all(m["note"] for m in mappings)
    assert {m["from"]: m["to"] for m in mappings}["PR-06"] == ["ECS-03"]
    # nothing in the old standard is about anti-discriminatory practice as such: a real gap
    assert not any("ECS-01" in m["to"] for m in mappings)


def test_a_bad_crosswalk_is_a_clear_error(valid_bank: Path) -> None:
    frameworks = {"a": {"role": "practitioner", "statements": [{"id": "A-1"}]},
                  "b": {"role": "practitioner", "statements": [{"id": "B-1"}]}}
    with pytest.raises(RemapError, match="no crosswalk to b"):
        crosswalk_between(frameworks, "a", "b")
    with pytest.raises(RemapError, match="no framework 'c'"):
        crosswalk_between(frameworks, "a", "c")
    frameworks["a"]["crosswalk"] = {"to": "b", "mappings": [{"from": "A-1", "to": ["B-9"]}]}
    with pytest.raises(RemapError, match="B-9 is not a statement of b"):
        crosswalk_between(frameworks, "a", "b")
    with pytest.raises(RemapError, match=r"standards/fw-a\.json has no crosswalk to fw-a"):
        open_bank(valid_bank).authoring.remap("fw-a", "fw-a")


WALK = Crosswalk("old", "new", "practitioner",
                 {"O-1": ("N-1", "N-2"), "O-2": ("N-2",), "O-3": ()}, {})


def item(standards: list[dict], roles: tuple[str, ...] = ("practitioner",)) -> dict:
    return {"id": "GK-0001", "status": "approved", "roles": list(roles), "standards": standards}


def test_propose_adds_beside_the_old_mappings_primary_targets_first() -> None:
    record = item([{"framework": "old", "statement": "O-2"},
                   {"framework": "old", "statement": "O-1", "primary": True}])
    p = propose("item", record, WALK)
    assert p is not None
    assert (p.outcome, p.source_statements, p.added, p.unmapped) == (
        "remap", ["O-1", "O-2"], ["N-1", "N-2"], [])
    assert p.standards == record["standards"] + [
        {"framework": "new", "statement": "N-1"}, {"framework": "new", "statement": "N-2"}]


def test_propose_replace_moves_the_primary_to_the_first_target() -> None:
    record = item([{"framework": "old", "statement": "O-2", "primary": True},
                   {"framework": "other", "statement": "X-1"}])
    p = propose("item", record, WALK, replace=True)
    assert p is not None
    assert p.standards == [{"framework": "other", "statement": "X-1"},
                           {"framework": "new", "primary": True, "statement": "N-2"}]


def test_propose_outcomes_that_need_a_maintainer() -> None:
    assert propose("item", item([{"framework": "other", "statement": "X-1"}]), WALK) is None
    none = propose("item", item([{"framework": "old", "statement": "O-3"}]), WALK)
    assert none is not None and (none.outcome, none.unmapped) == ("no-target", ["O-3"])
    role = propose("item", item([{"framework": "old", "statement": "O-1"}], ("supervisor",)), WALK)
    assert role is not None and role.outcome == "wrong-role"
    full = item([{"framework": "old", "statement": "O-1"}]
                + [{"framework": "other", "statement": f"X-{i}"} for i in range(1, 5)])
    room = propose("item", full, WALK)
    assert room is not None and room.outcome == "no-room" and len(room.standards) == 7
    partly = propose("item", item([{"framework": "old", "statement": "O-3"},
                                   {"framework": "old", "statement": "O-2"}]), WALK)
    assert partly is not None and (partly.outcome, partly.added, partly.unmapped) == (
        "remap", ["N-2"], ["O-3"])
    done = item([{"framework": "old", "statement": "O-2"}, {"framework": "new", "statement": "N-2"}])
    again = propose("item", done, WALK)
    assert again is not None and again.outcome == "already"


def test_mappings_are_not_part_of_the_approved_content() -> None:
    record = json.loads((SAMPLE_BANK / "items" / "GK-0001.json").read_text(encoding="utf-8"))
    before = content_hash("item", record)
    remapped = {**record, "standards": [*record["standards"],
                                        {"framework": ECS, "statement": "ECS-02"}]}
    assert content_hash("item", remapped) == before
    assert content_hash("item", {**record, "stem": record["stem"] + " "}) != before


FOLDERS = {"GK": "items", "AK": "items", "CS": "stimuli", "LP": "learning_points"}


def expected_additions(bank: Path) -> dict[str, list[str]]:
    """By hand from the files: each practitioner record's new ECS statements, in its own order
    (primary first), for records whose standards stay within the limit of 6."""
    pqs = json.loads((bank / "standards" / f"{PQS}.json").read_text(encoding="utf-8"))
    table = {m["from"]: m["to"] for m in pqs["crosswalk"]["mappings"]}
    out = {}
    for folder in ("items", "stimuli", "scenarios", "learning_points"):
        for ident, r in read(bank, folder).items():
            roles = r.get("roles") or [r.get("role")]
            old = [m for m in r["standards"] if m["framework"] == PQS]
            if r["status"] == "retired" or not old or "practitioner" not in roles:
                continue
            old = [m for m in old if m.get("primary")] + [m for m in old if not m.get("primary")]
            new: list[str] = []
            for m in old:
                new += [t for t in table[m["statement"]] if t not in new]
            if len(r["standards"]) + len(new) <= 6:
                out[ident] = new
    return out


def test_remap_end_to_end_on_a_copy_of_the_sample_bank(sample_bank_rw: Path) -> None:
    repo = sample_bank_rw.parent
    head = git(repo, "rev-parse", "HEAD").strip()
    expected = expected_additions(sample_bank_rw)
    assert len(expected) > 80
    before_status = {i: r["status"] for i, r in read(sample_bank_rw, "items").items()}

    dry = itembank("remap", "--from", PQS, "--to", ECS, "--bank", str(sample_bank_rw),
                   "--format", "json")
    plan = json.loads(dry.stdout)
    assert dry.returncode == 1, dry.stderr  # the cases and scenarios need mapping by hand
    assert git(repo, "rev-parse", "HEAD").strip() == head
    assert git(repo, "status", "--porcelain") == ""
    assert {p["id"]: p["add"] for p in plan["proposals"] if p["outcome"] == "remap"} == expected
    by_hand = {p["id"]: p["outcome"] for p in plan["proposals"] if p["outcome"] != "remap"}
    assert by_hand == {"CS-0001": "no-room", "CS-0002": "no-room", "CS-0003": "no-room",
                       "SIM-0001": "no-room", "SIM-0002": "no-room"}

    text = itembank("remap", "--from", PQS, "--to", ECS, "--bank", str(sample_bank_rw))
    assert "(dry run)" in text.stdout and "Nothing was saved: add --apply" in text.stdout
    assert "Not remapped (a maintainer must act):\n  CS-0001" in text.stdout

    done = itembank("remap", "--from", PQS, "--to", ECS, "--bank", str(sample_bank_rw),
                    "--apply", "--author", MAINTAINER, "--skip", "GK-0001")
    assert done.returncode == 1, done.stderr
    assert f"Saved {len(expected) - 1} record(s) in one commit" in done.stdout
    log = git(repo, "log", "--format=%an <%ae>|%s", f"{head}..HEAD").splitlines()
    assert log == [f"{MAINTAINER}|Remap {len(expected) - 1} record(s) from {PQS} to {ECS} "
                   "by its crosswalk"]
    changed = git(repo, "diff", "--name-only", head, "HEAD").split()
    assert sorted(changed) == sorted(
        f"item_bank/{FOLDERS[i[:2]]}/{i}.json"
        for i in expected if i != "GK-0001")

    items = read(sample_bank_rw, "items")
    assert {i: r["status"] for i, r in items.items()} == before_status
    gk = items["GK-0002"]
    assert [m["statement"] for m in gk["standards"] if m["framework"] == ECS] == expected["GK-0002"]
    assert not any(m["framework"] == ECS for m in items["GK-0001"]["standards"])
    report = open_bank(sample_bank_rw).validate()
    assert report.errors == []
    assert [f for f in report.warnings if f.code in ("approval-stale", "not-approved")] == []

    again = itembank("remap", "--from", PQS, "--to", ECS, "--bank", str(sample_bank_rw),
                     "--apply", "--author", MAINTAINER, "--format", "json")
    counts = json.loads(again.stdout)["counts"]
    assert (counts["remap"], counts["already"], json.loads(again.stdout)["commit"]) == (
        1, len(expected) - 1, git(repo, "rev-parse", "HEAD").strip())


def test_coverage_against_ecs_shows_the_gaps(sample_bank_rw: Path) -> None:
    before = itembank("coverage", "--bank", str(sample_bank_rw), "--framework", ECS,
                      "--format", "json")
    assert before.returncode == 0, before.stderr
    assert [s["statement"] for s in json.loads(before.stdout)["uncovered"]] == [
        f"ECS-0{n}" for n in range(1, 7)]
    hint = itembank("coverage", "--bank", str(sample_bank_rw), "--framework", ECS)
    assert hint.stdout.splitlines()[:2] == [
        f"{ECS}: Child and family social worker early career standards (pending, from "
        "2027-04-01)",
        f"No content maps to {ECS} yet: 'itembank remap --from {PQS} --to {ECS}' proposes "
        "mappings from the crosswalk."]
    expected = expected_additions(sample_bank_rw)
    bank = open_bank(sample_bank_rw)
    bank.authoring.remap(PQS, ECS, author=MAINTAINER, apply=True)
    items = read(sample_bank_rw, "items")
    approved: Counter[str] = Counter()
    for ident, new in expected.items():
        if ident in items and items[ident]["status"] == "approved":
            approved.update(new)
    after = itembank("coverage", "--bank", str(sample_bank_rw), "--framework", ECS,
                     "--format", "json")
    data = json.loads(after.stdout)
    assert {s["statement"]: s["approved"] for s in data["statements"]} == {
        f"ECS-0{n}": approved[f"ECS-0{n}"] for n in range(1, 7)}
    assert [s["statement"] for s in data["uncovered"]] == ["ECS-01"]
    assert {r["framework"] for r in data["rows"]} == {ECS}
    text = itembank("coverage", "--bank", str(sample_bank_rw), "--framework", ECS)
    assert "ECS-01     practitioner     0" in text.stdout and "<- no approved items" in text.stdout
    wrong = itembank("coverage", "--bank", str(sample_bank_rw), "--framework", "ecs-2062")
    assert wrong.returncode == 2 and "no framework 'ecs-2062'" in wrong.stderr


def test_remap_bad_calls_exit_2(valid_bank: Path) -> None:
    out = itembank("remap", "--from", PQS, "--bank", str(valid_bank))
    assert out.returncode == 2 and "--to" in out.stderr
    out = itembank("remap", "--from", "fw-a", "--to", ECS, "--bank", str(valid_bank))
    assert out.returncode == 2 and "no framework 'ecs-2026'" in out.stderr
    out = itembank("remap", "--help")
    assert out.returncode == 0 and "Exit 0" in out.stdout and "--apply" in out.stdout


def test_remap_skip_of_an_unknown_id_is_refused(sample_bank_rw: Path) -> None:
    out = itembank("remap", "--from", PQS, "--to", ECS, "--bank", str(sample_bank_rw),
                   "--apply", "--author", MAINTAINER, "--skip", "GK-9999")
    assert out.returncode == 2 and "GK-9999" in out.stderr
    assert git(sample_bank_rw.parent, "log", "--format=%s").splitlines() == ["initial bank"]


def test_a_bad_or_uncommitted_record_is_set_aside_not_blocking_the_batch(
        sample_bank_rw: Path) -> None:
    repo = sample_bank_rw.parent
    bad = sample_bank_rw / "items" / "GK-0003.json"
    record = json.loads(bad.read_text(encoding="utf-8"))
    bad.write_text(json.dumps({**record, "key": ["Z"]}, indent=2), encoding="utf-8")
    git(repo, "commit", "-q", "-am", "a bad key")
    head = git(repo, "rev-parse", "HEAD").strip()
    expected = expected_additions(sample_bank_rw)
    dirty = sample_bank_rw / "items" / "GK-0002.json"
    dirty.write_text(dirty.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    out = itembank("remap", "--from", PQS, "--to", ECS, "--bank", str(sample_bank_rw),
                   "--apply", "--author", MAINTAINER, "--format", "json")
    assert out.returncode == 1, out.stderr
    plan = json.loads(out.stdout)
    outcome = {p["id"]: p for p in plan["proposals"]}
    assert outcome["GK-0003"]["outcome"] == "invalid"
    assert outcome["GK-0003"]["remarks"] == [
        "/key/0: The key names option Z, which does not exist. Options are A, B, C, D: correct "
        "the key or add the option."]
    assert outcome["GK-0002"]["outcome"] == "uncommitted"
    saved = git(repo, "diff", "--name-only", head, "HEAD").split()
    assert len(saved) == plan["counts"]["remap"] == len(expected) - 2
    assert "item_bank/items/GK-0002.json" not in saved
    assert "item_bank/items/GK-0003.json" not in saved
    assert git(repo, "status", "--porcelain").split() == ["M", "item_bank/items/GK-0002.json"]
    assert not (repo / ".git" / "itembank" / "kept").exists()


def test_marking_scheme_criteria_are_reported_not_changed() -> None:
    scenario = {"id": "SIM-0009", "status": "approved", "role": "practitioner",
                "standards": [{"framework": "old", "statement": "O-2", "primary": True}],
                "marking_scheme": {"criteria": [
                    {"id": "MC1", "standards": [{"framework": "old", "statement": "O-1"}]}]}}
    p = propose("scenario", scenario, WALK)
    assert p is not None and (p.outcome, p.added) == ("remap", ["N-2"])
    assert p.remarks == [
        "its marking-scheme criteria also map to old: they are part of the approved marking "
        "scheme, so change them in the scenario editor (and send it for review)"]
    assert scenario["marking_scheme"]["criteria"][0]["standards"] == [
        {"framework": "old", "statement": "O-1"}]
    scenario["marking_scheme"]["criteria"][0]["standards"] = [
        {"framework": "new", "statement": "N-1"}]
    again = propose("scenario", scenario, WALK)
    assert again is not None and again.remarks == []


def test_remap_on_a_detached_head_is_refused_without_keeping_copies(sample_bank_rw: Path) -> None:
    repo = sample_bank_rw.parent
    git(repo, "checkout", "-q", "--detach")
    out = itembank("remap", "--from", PQS, "--to", ECS, "--bank", str(sample_bank_rw),
                   "--apply", "--author", MAINTAINER)
    assert out.returncode == 2
    assert out.stderr.splitlines()[1].startswith(
        "itembank: error: The remap was not saved: the bank's repository is not on a branch "
        "(HEAD is detached at ")
    assert git(repo, "log", "--format=%s").splitlines() == ["initial bank"]
    assert git(repo, "status", "--porcelain") == ""
    assert not (repo / ".git" / "itembank" / "kept").exists()


def test_remap_while_another_program_holds_a_git_lock_is_refused_without_copies(
    sample_bank_rw: Path,
) -> None:
    repo = sample_bank_rw.parent
    lock = repo / ".git" / "index.lock"
    lock.write_bytes(b"")  # another git program's lock (not a killed itembank save's)
    out = itembank("remap", "--from", PQS, "--to", ECS, "--bank", str(sample_bank_rw),
                   "--apply", "--author", MAINTAINER)
    assert out.returncode == 2
    assert out.stderr.splitlines()[1].startswith(
        f"itembank: error: The remap was not saved: git's lock file {lock} exists")
    assert lock.exists()  # never removed: it is not provably ours
    assert git(repo, "log", "--format=%s").splitlines() == ["initial bank"]
    assert not (repo / ".git" / "itembank" / "kept").exists()
