"""The writers' and review apps over a bank shared through a remote (real bare repository, real
clones, widgets without a browser): the banner says when the bank is behind, and opening a record
brings others' work in first, so a reviewer reviews the latest version."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from itembank import open_bank
from itembank.ui.item_editor import ItemEditor
from itembank.ui.review_app import ReviewApp

from .conftest import SAMPLE_BANK, git, make_repo

HELEN = "Helen Marsh <helen.marsh@example.org>"
WRITER = "Wendy Writer <wendy@example.org>"
NEW_STEM = "Which duty applies first in this shared bank test"


def shared_sample(tmp_path: Path) -> tuple[Path, Path, Path]:
    """The sample bank in a bare remote, with `sync` set, and two clones' bank folders."""
    bank = make_repo(tmp_path, SAMPLE_BANK, "item_bank")
    settings = json.loads((bank / "bank.json").read_text())
    settings["sync"] = {"remote": "origin", "branch": "main"}
    (bank / "bank.json").write_text(json.dumps(settings, indent=2) + "\n")
    git(bank, "commit", "-qam", "share the bank")
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(bank.parent), str(remote))
    for name in ("north", "south"):
        git(tmp_path, "clone", "-q", str(remote), name)
    return remote, tmp_path / "north" / "item_bank", tmp_path / "south" / "item_bank"


def test_review_app_shows_behind_and_reviews_the_latest_version(tmp_path: Path) -> None:
    remote, north, south = shared_sample(tmp_path)
    app = ReviewApp(open_bank(north))
    assert app.sync_banner.fetching is not None
    app.sync_banner.fetching.join(120)  # wait for the background fetch to end (state)
    assert app.sync_banner.widget.value == ""  # in step with the remote
    writer = open_bank(south)  # a writer elsewhere changes the item under review
    writer.save({**writer.get("GK-0064"), "stem": NEW_STEM}, WRITER)
    app.sync_banner.refresh(fetch=True)
    assert "The shared bank has 1 newer change(s) by others" in app.sync_banner.widget.value
    app.who.value = HELEN
    app.sign_in_button.click()
    app.queue.value = "GK-0064"
    app.open_button.click()
    assert app.model.ticket is not None, app.message.value
    assert NEW_STEM in app.content.value  # the latest version, brought in before opening
    assert app.sync_banner.widget.value == ""
    app.blind_box.children[0].value = "A"
    app.reveal_button.click()
    for radio in app.ratings.values():
        radio.value = "yes"
    app.decision.value = "approve"
    app.submit_button.click()
    assert "Recorded review" in app.message.value, app.message.value
    # the review commit, by the panel member, reached the remote
    assert git(remote, "log", "-1", "--format=%an <%ae>|%s", "main").strip() == (
        f"{HELEN}|GK-0064: approve (review by Helen Marsh)")

    # the writer opens the item: the review is brought in first
    editor = ItemEditor(open_bank(south), WRITER)
    assert editor.sync_banner.fetching is not None
    editor.sync_banner.fetching.join(120)
    # two commits by Helen: her blind answer, then her review
    assert git(remote, "log", "-2", "--format=%an", "main").split("\n")[:2] == ["Helen Marsh"] * 2
    assert "The shared bank has 2 newer change(s) by others" in editor.sync_banner.widget.value
    assert list((south / "reviews" / "GK-0064").glob("*.json")) == []
    editor.open("GK-0064")
    assert len(list((south / "reviews" / "GK-0064").glob("*.json"))) == 1
    assert editor.stem.value == NEW_STEM
    assert editor.sync_banner.widget.value == ""


def test_a_save_the_remote_cannot_take_says_so_in_the_editor(tmp_path: Path) -> None:
    remote, north, _ = shared_sample(tmp_path)
    editor = ItemEditor(open_bank(north), WRITER)
    assert editor.sync_banner.fetching is not None
    editor.sync_banner.fetching.join(120)
    editor.open("GK-0064")
    remote.rename(remote.with_name("gone.git"))
    editor.stem.value = NEW_STEM
    assert editor.save()
    assert "Saved GK-0064" in editor.result.value
    assert "not yet shared" in editor.result.value and "next save or" in editor.result.value
    editor.sync_banner.refresh()
    assert "1 of your saves are not yet shared." in editor.sync_banner.widget.value
    done = subprocess.run(["git", "status", "--porcelain"], cwd=north, capture_output=True,
                          text=True, check=True)
    assert done.stdout == ""
