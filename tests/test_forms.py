"""Form manifests through the service and the CLI: committed, valid, reproducible, verified;
changed or retired content is listed and blocks export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from itembank import open_bank
from itembank.cli import run
from itembank.core import canonical
from itembank.core.errors import ItembankError
from itembank.core.schemas import iter_schema_errors
from itembank.forms.manifests import StaleFormError, option_order, shown_key

from .conftest import SAMPLE_BANK, TESTER, make_repo

BLUEPRINT = "practitioner-knowledge-live"


@pytest.fixture(scope="module")
def assembled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    """A sample bank copy with 3 practitioner forms committed (seed 42)."""
    bank_path = make_repo(tmp_path_factory.mktemp("forms"), SAMPLE_BANK, "item_bank")
    outcome = open_bank(bank_path).forms.assemble(BLUEPRINT, 3, 42, author=TESTER)
    return bank_path, outcome.manifests


def test_manifests_are_committed_valid_and_validate_with_the_bank(assembled: tuple[Path, list[dict[str, Any]]]) -> None:
    bank_path, manifests = assembled
    bank = open_bank(bank_path)
    assert [m["id"] for m in manifests] == [f"{BLUEPRINT}-42-{k}" for k in (1, 2, 3)]
    for m in manifests:
        assert list(iter_schema_errors("form", m)) == []
        assert (bank_path / "forms" / m["id"] / "manifest.json").read_text() == canonical.dumps(m)
        assert m["bank_commit"] != bank.store.head()  # built from the commit before the forms
        assert m["totals"]["items"] == 30 and m["totals"]["time_minutes"] == 60
        assert abs(m["totals"]["difficulty_mean"] - 0.68) <= 0.05 + 1e-9
        assert set(m["siblings"]) == {x["id"] for x in manifests} - {m["id"]}
    assert bank.validate().ok
    assert bank.store.history(f"forms/{manifests[0]['id']}/manifest.json")[0].author.startswith("Test Runner")


def test_option_order_is_a_permutation_and_the_key_follows_it(assembled: tuple[Path, list[dict[str, Any]]]) -> None:
    bank_path, manifests = assembled
    bank = open_bank(bank_path)
    shuffled = 0
    for m in manifests:
        for section in m["sections"]:
            for entry in section["items"]:
                item = bank.get(entry["id"])
                ids = [o["id"] for o in item["options"]]
                assert sorted(entry["option_order"]) == sorted(ids)
                if item.get("fixed_order") or item["format"] == "true_false":
                    assert entry["option_order"] == ids
                shuffled += entry["option_order"] != ids
                letters = "ABCDEFGHIJ"
                back = {letters[k]: orig for k, orig in enumerate(entry["option_order"])}
                if isinstance(item["key"], dict):
                    assert {back[k]: v for k, v in entry["key"].items()} == item["key"]
                else:
                    assert sorted(back[k] for k in entry["key"]) == sorted(item["key"])
                assert entry["option_order"] == option_order(item, m["seed"], m["id"])
                assert entry["key"] == shown_key(item, entry["option_order"])
    assert shuffled > 0


def test_verify_confirms_an_unchanged_form(assembled: tuple[Path, list[dict[str, Any]]], capsys: pytest.CaptureFixture[str]) -> None:
    bank_path, manifests = assembled
    assert open_bank(bank_path).forms.verify(manifests[0]["id"]).ok
    assert run(["form", "verify", manifests[0]["id"], "--bank", str(bank_path)]) == 0
    assert "matches the bank" in capsys.readouterr().out


def test_same_commit_blueprint_and_seed_give_identical_bytes(sample_bank_rw: Path, tmp_path: Path) -> None:
    bank = open_bank(sample_bank_rw)
    committed = sorted((sample_bank_rw / "forms").glob("*/manifest.json"))  # the sample's forms
    first = bank.forms.assemble(BLUEPRINT, 3, 9, out=tmp_path / "a")
    second = bank.forms.assemble(BLUEPRINT, 3, 9, out=tmp_path / "b")
    assert first.commit is None and first.written
    for a, b in zip(first.written or [], second.written or [], strict=True):
        assert Path(a).read_bytes() == Path(b).read_bytes()
    assert (tmp_path / "a").is_dir()
    assert sorted((sample_bank_rw / "forms").glob("*/manifest.json")) == committed
    with pytest.raises(ItembankError, match="already exists"):
        bank.forms.assemble(BLUEPRINT, 3, 9, out=tmp_path / "a")
    bank.forms.assemble(BLUEPRINT, 3, 9, out=tmp_path / "a", force=True)


def test_changed_and_retired_items_are_listed_and_block_export(sample_bank_rw: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bank = open_bank(sample_bank_rw)
    manifest = bank.forms.assemble(BLUEPRINT, 1, 4, author=TESTER).manifests[0]
    general = manifest["sections"][0]["items"]
    changed, retired = general[0]["id"], general[1]["id"]
    item = bank.get(changed)
    item["stem"] += " (Edited.)"
    bank.save(item, author=TESTER)
    old = bank.get(retired)
    old["status"] = "retired"
    bank.save(old, author=TESTER)
    check = bank.forms.verify(manifest["id"])
    assert not check.ok
    assert check.changed == [changed]
    assert check.not_approved == [(changed, "in_review"), (retired, "retired")]
    assert run(["form", "verify", manifest["id"], "--bank", str(sample_bank_rw)]) == 1
    out = capsys.readouterr().out
    assert f"{changed}: edited since the form was assembled" in out
    assert f"{changed}: not-approved: went back to review" in out
    assert f"{retired}: retired since the form was assembled" in out
    with pytest.raises(StaleFormError, match=changed):
        bank.forms.export(manifest["id"], "html", tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing half-written
    assert run(["export", manifest["id"], "--format", "qti21", "--out", str(tmp_path / "q"), "--bank", str(sample_bank_rw)]) == 1


def test_cli_assemble_and_its_mistakes(sample_bank_rw: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bank = str(sample_bank_rw)
    with pytest.raises(SystemExit) as exc:
        run(["assemble", "--blueprint", BLUEPRINT, "--forms", "3", "--seed", "x", "--bank", bank])
    assert exc.value.code == 2
    assert "seed must be a whole number" in capsys.readouterr().err
    assert run(["assemble", "--blueprint", "no-such", "--forms", "3", "--seed", "1", "--bank", bank]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert run(["assemble", "--blueprint", BLUEPRINT, "--forms", "9", "--seed", "1", "--bank", bank, "--quiet"]) == 1
    assert "cannot be met for 9 form(s)" in capsys.readouterr().err
    assert run(["assemble", "--blueprint", BLUEPRINT, "--forms", "3", "--seed", "1", "--bank", bank, "--format", "json", "--author", TESTER]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert len(summary["forms"]) == 3 and summary["commit"]
    assert all(o["shared_items_outside_cases"] <= 6 and len(o["shared_cases"]) <= 1 for o in summary["overlap"])
    assert run(["assemble", "--blueprint", BLUEPRINT, "--forms", "3", "--seed", "1", "--bank", bank]) == 2
    assert "already exist" in capsys.readouterr().err
    assert open_bank(sample_bank_rw).validate().ok
    for argv in (["assemble", "--help"], ["form", "verify", "--help"], ["export", "--help"]):
        with pytest.raises(SystemExit) as exc:
            run(argv)
        assert exc.value.code == 0


def test_an_invalid_blueprint_is_refused_with_its_findings(sample_bank_rw: Path) -> None:
    path = sample_bank_rw / "blueprints" / f"{BLUEPRINT}.json"
    record = json.loads(path.read_text())
    record["formats"][0]["max"] = 1  # below its min of 12
    path.write_text(canonical.dumps(record))
    with pytest.raises(ItembankError, match="max \\(1\\) is less than min"):
        open_bank(sample_bank_rw).forms.assemble(BLUEPRINT, 1, 1)
