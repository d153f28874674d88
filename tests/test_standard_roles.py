"""Standards that match roles: validate rejects content mapped to another role's framework (the
data-driven cases are in tests/data/invalid/standard-role-* and tests/data/valid_cases), and
coverage, blueprint capacity, assembly and form comparison ignore such mappings."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from itembank import open_bank
from itembank.checks.coverage import blueprint_capacity, coverage
from itembank.core.errors import ValidationFailedError
from itembank.core.standards import counted_standards, primary_indexes
from itembank.forms.manifests import compare

from .conftest import TESTER, git

ROLES = {"p": "practitioner", "p2": "practitioner", "s": "supervisor", "l": "leader"}
FRAMEWORKS = {
    fw: {"role": role, "statements": ["S-1", "S-2"], "titles": {}, "assessed": fw != "l"}
    for fw, role in ROLES.items()
}


def test_primary_is_the_marked_mapping_else_the_first_per_framework() -> None:
    assert primary_indexes(["p", "p", "s", "p"], [False, True, False, True]) == {"p": 1, "s": 2}
    assert primary_indexes(["p", "s", "p"]) == {"p": 0, "s": 1}


def test_counted_standards_ignore_frameworks_of_roles_the_item_does_not_claim() -> None:
    mappings = [
        {"framework": "l", "statement": "S-1", "primary": True},
        {"framework": "p", "statement": "S-1"},
        {"framework": "p", "statement": "S-2", "primary": True},
        {"framework": "p2", "statement": "S-1"},
        {"framework": "gone", "statement": "S-1"},
    ]
    assert counted_standards(mappings, ["practitioner"], ROLES) == {("p", "S-2"), ("p2", "S-1")}
    assert counted_standards(mappings, ["leader"], ROLES) == {("l", "S-1")}
    # without the frameworks' roles every framework counts (the old behaviour, for callers
    # that have no bank at hand)
    assert counted_standards(mappings) == {("l", "S-1"), ("p", "S-2"), ("p2", "S-1"),
                                           ("gone", "S-1")}


def _item(i: int, roles: list[str], std: list[list[str]], primary: list[bool] | None = None,
          status: str = "approved") -> dict[str, Any]:
    return {"kind": "item", "valid": True, "id": f"TS-{i:04d}", "status": status, "std": std,
            "std_primary": primary or [False] * len(std), "roles": roles,
            "section": "general", "format": "true_false", "stim": None}


def test_coverage_counts_a_mapping_only_for_its_frameworks_role() -> None:
    facts = {
        "a": _item(1, ["practitioner"], [["p", "S-1"], ["l", "S-1"]]),
        "b": _item(2, ["practitioner", "supervisor"], [["p", "S-1"], ["s", "S-2"]]),
        "c": _item(3, ["supervisor"], [["p", "S-2"]], status="draft"),
    }
    result = coverage(facts, FRAMEWORKS)
    rows = [(r["framework"], r["statement"], r["role"], r["approved"], r["draft"])
            for r in result.rows]
    assert rows == [("p", "S-1", "practitioner", 2, 0), ("s", "S-2", "supervisor", 1, 0)]
    counts = {(s["framework"], s["statement"]): s["approved"] + s["draft"]
              for s in result.statements}
    assert counts == {("p", "S-1"): 2, ("p", "S-2"): 0, ("p2", "S-1"): 0, ("p2", "S-2"): 0,
                      ("s", "S-1"): 0, ("s", "S-2"): 1, ("l", "S-1"): 0, ("l", "S-2"): 0}


def test_blueprint_capacity_counts_what_assembly_counts() -> None:
    facts = {f"a{i}": _item(i, ["practitioner"], [["p", "S-1"]]) for i in range(3)}
    facts |= {f"l{i}": _item(10 + i, ["practitioner"], [["l", "S-1"]]) for i in range(2)}
    # primary S-2 and a second mapping to S-1: counts towards S-2 only, as assembly counts it
    facts |= {f"b{i}": _item(20 + i, ["practitioner"], [["p", "S-1"], ["p", "S-2"]],
                             [False, True]) for i in range(2)}
    bp = {"id": "bp", "role": "practitioner",
          "sections": [{"id": "g", "section": "general", "items": 1}],
          "standards": [{"framework": fw, "statement": st, "min": 1}
                        for fw, st in (("p", "S-1"), ("p", "S-2"), ("l", "S-1"))]}
    cap = blueprint_capacity(bp, facts, FRAMEWORKS)
    assert [(x["constraint"], x["available"]) for x in cap.limits] == [
        ("section g: approved general items", 7),
        ("standard S-1: min 1 per form", 3),
        ("standard S-2: min 1 per form", 2),
        ("standard S-1: min 1 per form", 0),
    ]
    assert cap.forms_upper_bound == 0


def test_form_comparison_ignores_mappings_to_other_roles() -> None:
    manifest = {"id": "F-1", "sections": [{"items": [{"id": "TS-0001"}, {"id": "TS-0002"}]}],
                "totals": {"max_score": 2, "difficulty_mean": 0.5}}
    items = {
        "TS-0001": {"roles": ["practitioner"], "standards": [
            {"framework": "l", "statement": "S-1", "primary": True},
            {"framework": "p", "statement": "S-2"}]},
        "TS-0002": {"roles": ["practitioner"], "standards": [
            {"framework": "p", "statement": "S-2", "primary": True}]},
    }
    (row,) = compare([manifest], items, ROLES)
    assert (row["S-2"], "S-1" in row) == (2, False)
    # an item for two roles on a practitioner form counts towards practitioner statements only
    items["TS-0002"] = {"roles": ["practitioner", "supervisor"], "standards": [
        {"framework": "p", "statement": "S-2", "primary": True},
        {"framework": "s", "statement": "S-1", "primary": True}]}
    (row,) = compare([manifest], items, ROLES)
    assert (row["S-2"], row["S-1"]) == (2, 1)
    (row,) = compare([manifest], items, ROLES, {"F-1": "practitioner"})
    assert (row["S-2"], "S-1" in row) == (2, False)


def _map_only_to_leader(bank: Path, ident: str) -> None:
    """Commit an item mapped only to the practice leader framework, as a hand edit would."""
    path = bank / "items" / f"{ident}.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    record["standards"] = [{"framework": "pqs-leader-2018", "statement": "PL-01", "primary": True}]
    path.write_text(json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    git(bank.parent, "commit", "-qam", f"{ident}: map to the leader framework")


def test_validate_rejects_a_practitioner_item_mapped_only_to_the_leader_framework(
    sample_bank_rw: Path,
) -> None:
    _map_only_to_leader(sample_bank_rw, "GK-0001")
    exe = shutil.which("itembank", path=str(Path(sys.executable).parent))
    assert exe
    out = subprocess.run([exe, "validate", "--bank", str(sample_bank_rw), "--format", "json"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1, out.stderr
    report = json.loads(out.stdout)
    assert report["warnings"] == []
    found = sorted((f["path"], f["pointer"], f["code"]) for f in report["errors"])
    assert found == [
        ("items/GK-0001.json", "/roles/0", "standard-role-missing"),
        ("items/GK-0001.json", "/roles/1", "standard-role-missing"),
        ("items/GK-0001.json", "/standards/0", "standard-role-mismatch"),
    ]
    text = subprocess.run([exe, "validate", "--bank", str(sample_bank_rw)],
                          capture_output=True, text=True, timeout=120).stdout
    assert ("items/GK-0001.json:/standards/0: error [standard-role-mismatch] pqs-leader-2018 is "
            "the framework of the leader role (pqs-leader-2018 is never assessed), but this item "
            "is for practitioner or supervisor, so the mapping counts towards nothing. Map it to "
            "a statement of pqs-practitioner-2018 or pqs-supervisor-2018 instead.") in text


def test_saving_a_mismatched_mapping_is_refused_and_nothing_is_committed(
    sample_bank_rw: Path,
) -> None:
    bank = open_bank(sample_bank_rw)
    record = bank.get_record("item", "GK-0013")
    record["standards"] = [{"framework": "pqs-supervisor-2018", "statement": "PS-05"}]
    record["roles"] = ["practitioner"]
    head = git(sample_bank_rw, "rev-parse", "HEAD")
    with pytest.raises(ValidationFailedError) as caught:
        bank.save(record, TESTER)
    assert sorted((f.pointer, f.code) for f in caught.value.findings) == [
        ("/roles/0", "standard-role-missing"), ("/standards/0", "standard-role-mismatch")]
    assert git(sample_bank_rw, "rev-parse", "HEAD") == head


def test_assembly_pool_counts_only_mappings_to_the_items_roles(sample_bank_rw: Path) -> None:
    _map_only_to_leader(sample_bank_rw, "GK-0001")
    bank = open_bank(sample_bank_rw)
    practitioner = bank.forms.pool(bank.forms.blueprint("practitioner-knowledge-live"))
    assert practitioner.items["GK-0001"].standards == frozenset()
    supervisor = bank.forms.pool(bank.forms.blueprint("supervisor-knowledge-live"))
    assert supervisor.items["GK-0002"].standards == {
        ("pqs-practitioner-2018", "PR-01"), ("pqs-supervisor-2018", "PS-05")}


def test_every_sample_item_marks_an_assessed_primary_statement_for_each_role() -> None:
    """The sample bank after the rule: the general items for practitioners and supervisors
    carry a supervisor statement marked primary (a mapping, not content: approvals stand)."""
    root = Path(__file__).resolve().parents[1] / "item_bank"
    frameworks = {f["id"]: f for f in (json.loads(p.read_text(encoding="utf-8"))
                                      for p in (root / "standards").glob("*.json"))}
    for path in sorted((root / "items").glob("*.json")):
        item = json.loads(path.read_text(encoding="utf-8"))
        mapped = [(frameworks[m["framework"]], m.get("primary")) for m in item["standards"]]
        assert {fw["role"] for fw, _ in mapped} <= set(item["roles"]), path.name
        for role in item["roles"]:
            assert any(fw["role"] == role and fw.get("assessed", True) and primary
                       for fw, primary in mapped), (path.name, role)
