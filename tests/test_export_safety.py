"""Commands never destroy what they did not make: `--force` replaces only a folder itembank
wrote (it holds a .itembank-export marker), never the bank, anything in the bank's repository,
a git repository, the current folder or one above it, the home folder or /. Everything else is
refused with exit 2 and the reason, and is left exactly as it was."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from itembank import open_bank
from itembank.cli import run

from .conftest import SAMPLE_BANK, TESTER, git, make_repo

EXE = shutil.which("itembank", path=str(Path(sys.executable).parent)) or shutil.which("itembank")
BLUEPRINT = "practitioner-knowledge-live"


@pytest.fixture(scope="module")
def form(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    bank = make_repo(tmp_path_factory.mktemp("safety"), SAMPLE_BANK, "item_bank")
    return bank, open_bank(bank).forms.assemble(BLUEPRINT, 1, 8, author=TESTER).manifests[0]["id"]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under a folder (the .git folder included, but for itembank's own caches
    there, which any command may refresh), by relative path."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink() and p.suffix != ".cache"
    }


def export(bank: Path, form_id: str, out: Path | str, *extra: str) -> int:
    return run(["export", form_id, "--format", "html", "--out", str(out), "--bank", str(bank), *extra])


def test_force_on_the_bank_folder_is_refused_and_the_bank_survives(form: tuple[Path, str]) -> None:
    bank, form_id = form
    repo = bank.parent
    before = snapshot(repo)
    done = subprocess.run(
        [EXE or "itembank", "export", form_id, "--format", "qti21", "--out", str(bank), "--force", "--bank", str(bank)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 2
    assert f"Refusing to replace {bank}: it is, holds or is inside {bank}" in done.stderr
    assert "Traceback" not in done.stderr
    assert snapshot(repo) == before
    assert git(repo, "status", "--porcelain") == ""


@pytest.mark.parametrize("where", ["repo", "inside-repo", "repo-parent"])
def test_force_never_touches_the_bank_repository(form: tuple[Path, str], where: str, capsys: pytest.CaptureFixture[str]) -> None:
    bank, form_id = form
    repo = bank.parent
    target = {"repo": repo, "inside-repo": repo / "exports", "repo-parent": repo.parent}[where]
    if where == "inside-repo":  # itembank may write a new folder in the repository, not replace it
        assert export(bank, form_id, target) == 0
    before = snapshot(target)
    assert export(bank, form_id, target, "--force") == 2
    assert "(the bank or its git repository)" in capsys.readouterr().err
    assert snapshot(target) == before
    shutil.rmtree(repo / "exports", ignore_errors=True)


def test_force_on_a_folder_itembank_did_not_write_is_refused(form: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bank, form_id = form
    mine = tmp_path / "thesis"
    mine.mkdir()
    (mine / "chapter1.txt").write_text("years of work")
    assert export(bank, form_id, mine, "--force") == 2
    err = capsys.readouterr().err
    assert f"Refusing to replace {mine}: itembank did not write it (it has no .itembank-export file)" in err
    assert (mine / "chapter1.txt").read_text() == "years of work"


def test_force_replaces_a_folder_itembank_wrote(form: tuple[Path, str], tmp_path: Path) -> None:
    bank, form_id = form
    out = tmp_path / "paper"
    assert export(bank, form_id, out) == 0
    assert (out / ".itembank-export").read_bytes() == b"This folder was written by itembank. itembank --force may replace it.\n"
    (out / "stray.txt").write_text("left by hand")
    assert export(bank, form_id, out) == 2  # without --force: refused, as before
    assert (out / "stray.txt").exists()
    assert export(bank, form_id, out, "--force") == 0
    assert not (out / "stray.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["paper"]  # no staging or old copy left


def test_force_on_a_git_repository_is_refused_even_with_a_marker(form: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bank, form_id = form
    other = tmp_path / "other"
    assert export(bank, form_id, other) == 0
    git(other, "init", "-q")
    before = snapshot(other)
    assert export(bank, form_id, other, "--force") == 2
    assert f"{other} is a git repository" in capsys.readouterr().err
    assert snapshot(other) == before


def test_force_on_the_current_folder_or_above_is_refused(form: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    bank, form_id = form
    out = tmp_path / "paper"
    assert export(bank, form_id, out) == 0
    (out / "work").mkdir()
    monkeypatch.chdir(out / "work")
    for target in (".", "..", str(out)):
        assert export(bank, form_id, target, "--force") == 2
        assert "it is the current folder or one above it" in capsys.readouterr().err
    assert (out / "work").is_dir() and (out / ".itembank-export").is_file()


def test_force_on_home_or_root_is_refused(form: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    bank, form_id = form
    home = tmp_path / "home"
    assert export(bank, form_id, home) == 0  # even one itembank wrote, once it is $HOME
    monkeypatch.setenv("HOME", str(home))
    assert export(bank, form_id, home, "--force") == 2
    assert "it is the home folder" in capsys.readouterr().err
    monkeypatch.chdir(tmp_path)
    assert export(bank, form_id, "/", "--force") == 2
    assert "it is the root folder" in capsys.readouterr().err
    assert (home / ".itembank-export").is_file()


def test_a_symlinked_out_is_refused_and_its_target_kept(form: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bank, form_id = form
    real = tmp_path / "real"
    assert export(bank, form_id, real) == 0
    before = snapshot(real)
    link = tmp_path / "link"
    link.symlink_to(real)
    assert export(bank, form_id, link, "--force") == 2
    assert f"{link} is a symbolic link" in capsys.readouterr().err
    assert snapshot(real) == before and link.is_symlink()
    # a link to the bank, one level up: the real path is what is judged
    via = tmp_path / "via"
    via.symlink_to(bank.parent)
    assert export(bank, form_id, via / "item_bank", "--force") == 2
    assert (bank / "bank.json").is_file() and (bank.parent / ".git").is_dir()


def test_a_new_folder_is_never_made_inside_the_bank(form: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    bank, form_id = form
    assert export(bank, form_id, bank / "papers") == 2
    assert "inside the bank" in capsys.readouterr().err
    assert not (bank / "papers").exists()


def test_assemble_out_is_guarded_the_same_way(form: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    bank, _ = form
    before = snapshot(bank.parent)
    argv = ["assemble", "--blueprint", BLUEPRINT, "--forms", "1", "--seed", "3", "--quiet", "--bank", str(bank)]
    assert run([*argv, "--out", str(bank), "--force"]) == 2
    assert "Refusing to replace" in capsys.readouterr().err
    assert snapshot(bank.parent) == before
    assert os.path.isdir(bank / "items")
