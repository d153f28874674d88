"""The item editor, driven as a writer would (values set, buttons clicked), without a browser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from itembank import open_bank
from itembank.ui.item_editor import ItemEditor

from .conftest import git

WRITER = "Wendy Writer <wendy@example.org>"


def subjects(bank: Path) -> list[str]:
    return git(bank, "log", "--format=%an <%ae>|%s").splitlines()


def fill_new_item(editor: ItemEditor) -> str:
    editor.new("GK")
    ident = str(editor.record["id"])
    editor.stem.value = "Under which section of the Children Act 1989 must a local authority make enquiries?"
    for row, text in zip(editor.options, ["Section 17", "Section 20", "Section 47", "Section 31"], strict=False):
        row.text.value = text
        row.rationale.value = f"{text}: explained."
    editor.options[2].keyed.value = True
    editor.rationale.value = "Section 47 sets the duty to make enquiries."
    editor.standards.add({"framework": "fw-a", "statement": "FA-01", "primary": True})
    editor.references.value = ("children-act-1989",)
    return ident


def test_open_fills_the_form_and_previews_hide_the_key(valid_bank: Path) -> None:
    editor = ItemEditor(open_bank(valid_bank), author=WRITER)
    editor.open("TS-0002")
    assert editor.stem.value == "Which order?"
    assert [r.keyed.value for r in editor.options] == [c in "ADF" for c in "ABCDEFGH"]
    assert editor.findings == []
    assert "Why A." not in editor.candidate_preview.value
    assert "Why A." in editor.reviewer_preview.value
    assert not editor.dirty


def test_a_new_item_is_saved_as_one_commit_then_submitted(valid_bank: Path) -> None:
    editor = ItemEditor(open_bank(valid_bank), author=WRITER)
    ident = fill_new_item(editor)
    assert ident == "GK-0001"  # the first GK id of the test bank
    editor.save_button.click()
    assert "Saved" in editor.result.value, editor.result.value
    saved = json.loads((valid_bank / "items" / f"{ident}.json").read_text())
    assert saved["key"] == ["C"] and saved["status"] == "draft" and saved["author"] == WRITER
    assert subjects(valid_bank)[0] == f"{WRITER}|{ident}: create item (draft)"
    editor.submit_button.click()
    assert json.loads((valid_bank / "items" / f"{ident}.json").read_text())["status"] == "in_review"
    assert subjects(valid_bank)[0] == f"{WRITER}|{ident}: submit for review"
    assert not editor.dirty


def test_live_checks_appear_next_to_their_field(valid_bank: Path) -> None:
    editor = ItemEditor(open_bank(valid_bank), author=WRITER)
    editor.open("TS-0002")
    editor.options[7].text.value = "All of the above"
    editor.enemies.value = "TS-0001, TS-0999"
    editor.stem.value = "Which is not required by Working Together 2018?"
    assert "all-none-of-above" in editor.options[7].message.value
    assert "TS-0999" in editor.messages["enemies"].value
    assert "superseded-term" in editor.messages["stem"].value
    assert "negative-stem" in editor.messages["stem"].value
    assert editor.dirty and "unsaved changes" in editor.status.value


def test_near_duplicate_is_shown_with_the_matching_item(valid_bank: Path) -> None:
    editor = ItemEditor(open_bank(valid_bank), author=WRITER)
    editor.open("TS-0001")
    editor.new("GK")
    original = open_bank(valid_bank).get("TS-0001")
    editor.stem.value = original["stem"]
    for row, option in zip(editor.options, original["options"], strict=False):
        row.text.value = option["text"]
    assert "near-duplicate" in editor.messages["stem"].value
    assert "TS-0001" in editor.messages["stem"].value


@pytest.mark.parametrize("text", [
    "<script>alert('x')</script> **bold**",
    "Emoji 👶🏽 and right-to-left: مرحبا بالعالم",
    "x" * 19000,
    "",
])
def test_anything_typed_is_shown_safely_and_kept_exactly(valid_bank: Path, text: str) -> None:
    editor = ItemEditor(open_bank(valid_bank), author=WRITER)
    editor.open("TS-0003")
    editor.stem.value = text
    assert "<script" not in editor.candidate_preview.value
    editor.save_button.click()
    stored = json.loads((valid_bank / "items" / "TS-0003.json").read_text())
    if text:
        assert stored["stem"] == text, editor.result.value
    else:
        assert "Not saved" in editor.result.value
        assert "too-short" in editor.messages["stem"].value
        assert stored["stem"] == "Which order?"


def test_a_conflicting_save_says_so_and_keeps_the_writers_text(valid_bank: Path) -> None:
    first = ItemEditor(open_bank(valid_bank), author="Ann One <ann@example.org>")
    second = ItemEditor(open_bank(valid_bank), author="Ben Two <ben@example.org>")
    first.open("TS-0003")
    second.open("TS-0003")
    first.stem.value = "Ann's version?"
    first.save_button.click()
    second.stem.value = "Ben's version?"
    second.save_button.click()
    assert "changed by someone else" in second.result.value
    assert second.stem.value == "Ben's version?"
    assert json.loads((valid_bank / "items" / "TS-0003.json").read_text())["stem"] == "Ann's version?"
    kept = list((valid_bank.parent / ".git" / "itembank" / "kept").glob("items__TS-0003*"))
    assert len(kept) == 1 and json.loads(kept[0].read_text())["stem"] == "Ben's version?"


def test_switching_items_with_unsaved_changes_asks_first(valid_bank: Path) -> None:
    editor = ItemEditor(open_bank(valid_bank), author=WRITER)
    editor.open("TS-0003")
    editor.stem.value = "Changed but not saved"
    editor.picker.value = "TS-0001"
    editor.open_button.click()
    assert "unsaved changes" in editor.confirm.children[0].value
    stay = next(b for b in editor.confirm.children if "ib-confirm-stay" in b._dom_classes)
    stay.click()
    assert editor.record["id"] == "TS-0003" and editor.stem.value == "Changed but not saved"
    editor.open_button.click()
    discard = next(b for b in editor.confirm.children if "ib-confirm-discard" in b._dom_classes)
    discard.click()
    assert editor.record["id"] == "TS-0001"


def test_unsaved_work_survives_as_a_local_draft(valid_bank: Path) -> None:
    editor = ItemEditor(open_bank(valid_bank), author=WRITER)
    editor.open("TS-0003")
    editor.stem.value = "Half-written thought"
    later = ItemEditor(open_bank(valid_bank), author=WRITER)  # e.g. after the kernel died
    later.open("TS-0003")
    assert later.stem.value == "Which order?"
    restore = next(b for b in later.confirm.children if "ib-restore" in b._dom_classes)
    restore.click()
    assert later.stem.value == "Half-written thought" and later.dirty
    assert git(valid_bank, "status", "--porcelain") == ""  # drafts live outside the tree


def test_submit_is_refused_while_there_are_errors(valid_bank: Path) -> None:
    editor = ItemEditor(open_bank(valid_bank), author=WRITER)
    editor.new("GK")
    editor.stem.value = "A question with no key yet?"
    editor.submit_button.click()
    assert "Not submitted" in editor.result.value
    assert not list((valid_bank / "items").glob(f"{editor.record['id']}.json"))


def test_identity_is_asked_once_when_nothing_gives_it(valid_bank: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    editor = ItemEditor(open_bank(valid_bank))
    assert editor.author is None and editor.identity_row.layout.display == ""
    editor.open("TS-0003")
    editor.save_button.click()
    assert "Tell us who you are" in editor.result.value
    editor.name_box.value, editor.email_box.value = "Pat Writer", "pat@example.org"
    editor.identity_button.click()
    assert editor.author == "Pat Writer <pat@example.org>"
    assert editor.identity_row.layout.display == "none"


def test_hub_user_is_the_identity(valid_bank: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTERHUB_USER", "amara.okafor@example.org")
    assert ItemEditor(open_bank(valid_bank)).author == "amara.okafor <amara.okafor@example.org>"


def test_a_crafted_id_never_becomes_a_path(valid_bank: Path) -> None:
    editor = ItemEditor(open_bank(valid_bank), author=WRITER)
    editor.open("../../etc/passwd")
    assert "not an item id" in editor.result.value
    assert editor.record == {}


def test_editing_approved_content_warns_it_goes_back_to_review(valid_bank: Path) -> None:
    editor = ItemEditor(open_bank(valid_bank), author=WRITER)
    editor.open("TS-0001")
    assert [f for f in editor.findings if f.severity == "error"] == []
    editor.stem.value = "Which order applies today?"
    assert "back-to-review" in editor.messages["general"].value
    assert "approval-stale" not in editor.status.value + editor.messages["general"].value
    editor.save_button.click()
    assert json.loads((valid_bank / "items" / "TS-0001.json").read_text())["status"] == "in_review"


def buttons(widget: object) -> list[object]:
    """Every button in a widget tree."""
    import ipywidgets as w

    found = [widget] if isinstance(widget, w.Button) else []
    for child in getattr(widget, "children", ()):
        found += buttons(child)
    return found


def test_a_reload_offers_the_new_items_draft_and_never_reuses_its_id(valid_bank: Path) -> None:
    editor = ItemEditor(open_bank(valid_bank), author=WRITER)
    ident = fill_new_item(editor)
    assert ident == "GK-0001" and editor.dirty  # typed, never saved
    reloaded = ItemEditor(open_bank(valid_bank), author=WRITER)  # the page is reloaded
    offer = reloaded.confirm.children
    assert "1 unsaved draft" not in offer[0].value and "an unsaved draft" in offer[0].value
    drafts = next(c for c in offer if "ib-drafts" in c._dom_classes)
    assert drafts.options == (("GK-0001 (new item)", "GK-0001"),)
    next(c for c in offer if "ib-restore" in c._dom_classes).click()
    assert reloaded.record["id"] == "GK-0001" and reloaded.dirty and reloaded.saved == {}
    assert reloaded.stem.value.startswith("Under which section") and reloaded.options[2].keyed.value
    assert reloaded.confirm.children == ()
    reloaded.save_button.click()
    assert "Saved GK-0001" in reloaded.result.value, reloaded.result.value
    assert ItemEditor(open_bank(valid_bank), author=WRITER).confirm.children == ()  # draft gone


def test_new_item_skips_the_id_of_a_kept_draft(valid_bank: Path) -> None:
    fill_new_item(ItemEditor(open_bank(valid_bank), author=WRITER))
    reloaded = ItemEditor(open_bank(valid_bank), author=WRITER)
    reloaded.new_button.click()
    assert reloaded.record["id"] == "GK-0002"
    discard = ItemEditor(open_bank(valid_bank), author=WRITER)
    next(c for c in discard.confirm.children if "ib-restore-discard" in c._dom_classes).click()
    assert discard.confirm.children == ()  # the GK-0002 draft was never typed in: nothing left
    discard.new_button.click()
    assert discard.record["id"] == "GK-0001"


def test_the_editor_says_whose_name_a_save_carries(valid_bank: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    editor = ItemEditor(open_bank(valid_bank), author=WRITER)
    assert "Saving as <b>Wendy Writer &lt;wendy@example.org&gt;</b>" in editor.saving_as.value
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    anonymous = ItemEditor(open_bank(valid_bank))
    assert "Saving as" not in anonymous.saving_as.value
    assert "Say who you are" in anonymous.saving_as.value
    anonymous.name_box.value, anonymous.email_box.value = "Pat Writer", "pat@example.org"
    anonymous.identity_button.click()
    assert "Saving as <b>Pat Writer &lt;pat@example.org&gt;</b>" in anonymous.saving_as.value


def test_no_raw_schema_text_reaches_the_writer(valid_bank: Path) -> None:
    editor = ItemEditor(open_bank(valid_bank), author=WRITER)
    editor.open("TS-0003")
    editor.load({**editor.record, "author": [], "stem": ""})
    shown = "".join(box.value for box in editor.messages.values())
    assert "The author is not filled in the way the bank can store it." in shown
    assert "The question (stem) is empty. Write it." in shown
    for raw in ("Expected", "found a list", "[wrong-type]", "[too-short]", "[]"):
        assert raw not in shown, raw
    assert 'title="wrong-type"' in shown  # the code stays findable, out of the text


def test_the_item_picker_filters_as_you_type(valid_bank: Path) -> None:
    editor = ItemEditor(open_bank(valid_bank), author=WRITER)
    everything = [v for _, v in editor.picker.options]
    assert len(everything) == len(open_bank(valid_bank).items()) > 1
    assert editor.picker.value == everything[0]  # one is always chosen
    editor.filter.value = "ts-0002"
    assert [v for _, v in editor.picker.options] == ["TS-0002"]
    assert editor.picker.description == "1 found" and editor.picker.value == "TS-0002"
    editor.open_button.click()
    assert editor.record["id"] == "TS-0002"
    editor.filter.value = "which order"  # words of the stem, any case
    assert "TS-0002" in [v for _, v in editor.picker.options]
    editor.filter.value = "no item says this"
    assert editor.picker.options == () and editor.picker.value is None
    editor.open_button.click()
    assert "Choose an item in the list first" in editor.result.value
    editor.filter.value = ""
    assert [v for _, v in editor.picker.options] == everything and editor.picker.description == "Item"


def test_button_labels_are_never_cut_off(valid_bank: Path) -> None:
    editor = ItemEditor(open_bank(valid_bank), author=WRITER)
    editor.open("TS-0002")
    editor.stem.value = "Changed"
    editor.new_button.click()  # shows the 'Save, then continue' choices
    labelled = [b for b in buttons(editor.widget) if b.description]
    assert {"Submit for review", "Save, then continue", "Discard my changes",
            "Add a standard", "Add an option"} <= {b.description for b in labelled}
    assert [b.description for b in labelled if b.layout.width != "auto"] == []


def test_the_standards_picker_offers_the_frameworks_of_the_items_roles(sample_bank_copy: Path) -> None:
    editor = ItemEditor(open_bank(sample_bank_copy), author=WRITER)
    editor.new("GK")
    editor.standards.today = "2026-11-30"  # the order depends on the day: before ecs-2026 applies
    assert [r for r, box in editor.roles.items() if box.value] == ["practitioner"]
    editor.standards.add_button.click()
    framework = editor.standards.rows[0][0]
    assert framework.value == "pqs-practitioner-2018"  # not the first alphabetically (leader)
    # both practitioner frameworks, the one in force first (ecs-2026 applies from 1 April 2027)
    assert [v for _, v in framework.options] == ["pqs-practitioner-2018", "ecs-2026"]
    editor.roles["supervisor"].value = True
    assert [v for _, v in framework.options] == [
        "pqs-practitioner-2018", "pqs-supervisor-2018", "ecs-2026"]
    editor.roles["practitioner"].value = False  # the row keeps its choice, labelled as not fitting
    assert framework.value == "pqs-practitioner-2018"
    assert framework.options == (
        ("pqs-supervisor-2018", "pqs-supervisor-2018"),
        ("pqs-practitioner-2018 (not a framework of this item's roles)", "pqs-practitioner-2018"),
    )
    editor.standards.add_button.click()
    assert editor.standards.rows[1][0].value == "pqs-supervisor-2018"
    assert [m["framework"] for m in editor.collect()["standards"]] == [
        "pqs-practitioner-2018", "pqs-supervisor-2018"]


def test_the_framework_in_force_comes_first_when_a_role_has_several(valid_bank: Path) -> None:
    from datetime import date

    from itembank.ui.widgets import StandardsPicker

    framework = json.loads((valid_bank / "standards" / "fw-a.json").read_text())
    for ident, start, end, assessed in (("fw-0-old", "2010-01-01", "2019-12-31", True),
                                        ("fw-1-next", "2027-04-01", None, True),
                                        ("fw-2-kss", "2020-01-01", None, False)):
        record = {**framework, "id": ident, "effective_from": start, "assessed": assessed}
        if end:
            record["effective_to"] = end
        (valid_bank / "standards" / f"{ident}.json").write_text(json.dumps(record))
    git(valid_bank, "add", "-A")
    git(valid_bank, "commit", "-qm", "more practitioner frameworks")
    bank = open_bank(valid_bank)
    now = StandardsPicker(bank, lambda: None, today=date(2026, 11, 30))
    now.set_roles(["practitioner"])
    # assessed before not assessed, in force before not, then by id
    assert now.offered() == ["fw-a", "fw-0-old", "fw-1-next", "fw-2-kss"]
    now.add()
    assert now.value == [{"framework": "fw-a", "statement": "FA-01"}]
    later = StandardsPicker(bank, lambda: None, today=date(2027, 4, 1))
    later.set_roles(["practitioner"])
    assert later.offered() == ["fw-1-next", "fw-a", "fw-0-old", "fw-2-kss"]  # both in force
    later.set_roles(["supervisor"])
    assert later.offered() == []


def test_a_reload_offers_changes_to_an_existing_item_but_not_a_stale_copy(valid_bank: Path) -> None:
    editor = ItemEditor(open_bank(valid_bank), author=WRITER)
    editor.open("TS-0003")
    editor.stem.value = "Half-written thought"
    opened: list[str] = []
    reloaded = ItemEditor(open_bank(valid_bank), author=WRITER)
    reloaded.on_open.append(opened.append)
    drafts = next(c for c in reloaded.confirm.children if "ib-drafts" in c._dom_classes)
    assert drafts.options == (("TS-0003 (changes)", "TS-0003"),)
    next(c for c in reloaded.confirm.children if "ib-restore" in c._dom_classes).click()
    assert reloaded.stem.value == "Half-written thought" and reloaded.dirty
    assert reloaded.saved["stem"] == "Which order?" and opened == ["TS-0003"]
    editor.stem.value = "Which order?"  # typed back to what is committed: nothing unsaved
    assert ItemEditor(open_bank(valid_bank), author=WRITER).confirm.children == ()
