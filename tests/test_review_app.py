"""The panel review app driven without a browser: set widget values, click, and check the bank,
git and the app's messages. Covers every flow and the bad input the issue lists."""

from __future__ import annotations

import json
import re
from pathlib import Path

import ipywidgets as w
import pytest
from ipywidgets.widgets.widget import _instances
from traitlets import TraitError

from itembank import open_bank
from itembank.core.errors import ReviewInputError
from itembank.core.workflow import CRITERIA
from itembank.ui.review_app import ReviewApp
from tests.conftest import git

HELEN = "Helen Marsh <helen.marsh@example.org>"
RUTH = "Ruth Adeyemi <ruth.adeyemi@example.org>"
GARETH = "Gareth Price <gareth.price@example.org>"
TOM = "Tom Whitfield <tom.whitfield@example.org>"


def app_for(bank_path: Path, who: str) -> ReviewApp:
    app = ReviewApp(open_bank(bank_path))
    app.who.value = who
    app.sign_in_button.click()
    assert app.model.reviewer == who, app.message.value
    return app


def tree_state(widget: w.Widget) -> str:
    """Every value the kernel would send to the browser for this widget tree."""
    seen: list[str] = []

    def walk(x: w.Widget) -> None:
        seen.append(json.dumps(x.get_state(), default=str))
        for child in getattr(x, "children", ()):
            walk(child)

    walk(widget)
    return "\n".join(seen)


def all_widget_state() -> str:
    return "\n".join(json.dumps(x.get_state(), default=str) for x in list(_instances.values()))


def rate(app: ReviewApp, value: str = "yes", decision: str = "approve", comment: str = "") -> None:
    for radio in app.ratings.values():
        radio.value = value
    app.decision.value = decision
    app.comment.value = comment


def open_item(app: ReviewApp, ident: str) -> None:
    app.queue.value = ident
    app.open_button.click()
    assert app.model.ticket is not None and app.model.ticket.id == ident, app.message.value


def reviews(bank_path: Path, ident: str = "GK-0064") -> list[Path]:
    """The review records of an item (its blind answers are in blind/ beside them)."""
    return sorted((bank_path / "reviews" / ident).glob("*.json"))


def last_commit(bank_path: Path) -> str:
    return git(bank_path.parent, "log", "-1", "--format=%an <%ae>|%s")


def test_sign_in_queue_progress_and_filters(sample_bank_copy: Path) -> None:
    app = app_for(sample_bank_copy, HELEN)
    # Helen approved GK-0006 already; 8 approved items are back, flagged by the sample's statistics
    assert "1 of 12" in app.progress.value
    flagged = ["AK-0009", "AK-0011", "AK-0014", "AK-0015", "AK-0024", "GK-0021", "GK-0022", "GK-0040"]
    assert [v for _, v in app.queue.options] == sorted(
        ["GK-0006", "GK-0044", "GK-0064", "SIM-0003", *flagged])
    app.format.value = "scenario"
    assert [v for _, v in app.queue.options] == ["SIM-0003"]
    app.format.value = "(all)"
    app.role.value = "practitioner"
    assert [v for _, v in app.queue.options] == sorted(["GK-0006", "GK-0044", "GK-0064", *flagged])
    app.role.value = "(all)"
    app.standard.value = "PR-01"
    assert "GK-0006" in [v for _, v in app.queue.options] and "SIM-0003" not in [v for _, v in app.queue.options]
    labels = dict((v, k) for k, v in app.queue.options)
    assert "reviewed ✓" in labels["GK-0006"]


def test_key_is_not_in_any_widget_until_the_blind_answer(sample_bank_copy: Path) -> None:
    w.Widget.close_all()  # only this page's widgets remain: a Voila page has its own kernel
    app = app_for(sample_bank_copy, HELEN)
    item = open_bank(sample_bank_copy).get("GK-0064")
    open_item(app, "GK-0064")
    secret = [item["rationale"][:60], *(o["rationale"][:60] for o in item["options"])]
    state = all_widget_state()
    assert item["stem"][:40] in app.content.value
    assert "ib-key" not in state and "Key:" not in state
    assert not [s for s in secret if s in state]
    app.blind_box.children[0].value = "B"  # a wrong answer
    app.reveal_button.click()
    assert "Key:" in app.content.value and item["rationale"][:60] in app.content.value
    assert "ib-blind-mismatch" in app.match.value


def test_two_reviewers_approve_an_item(sample_bank_rw: Path) -> None:
    """GK-0064 has no reviews: Helen approves (still in review), then Gareth (approved)."""
    for who, name in ((HELEN, "Helen Marsh"), (GARETH, "Gareth Price")):
        app = app_for(sample_bank_rw, who)
        open_item(app, "GK-0064")
        app.blind_box.children[0].value = "A"
        app.reveal_button.click()
        assert "matches the key" in app.match.value
        rate(app)
        app.submit_button.click()
        assert "Recorded review" in app.message.value, app.message.value
        assert last_commit(sample_bank_rw).startswith(f"{who}|GK-0064: approve (review by {name})")
    assert "GK-0064 is now approved" in app.message.value
    assert json.loads((sample_bank_rw / "items/GK-0064.json").read_text())["status"] == "approved"
    assert len(reviews(sample_bank_rw)) == 2
    assert "GK-0064" not in [v for _, v in app.queue.options]  # left the queue


def test_multiple_true_false_blind_answer_and_approval(sample_bank_rw: Path) -> None:
    app = app_for(sample_bank_rw, RUTH)
    open_item(app, "GK-0006")
    for toggle, value in zip(app.blind_box.children, (True, False, True, False), strict=True):
        toggle.value = value
    app.reveal_button.click()
    rate(app)
    app.submit_button.click()
    assert "GK-0006 is now approved" in app.message.value, app.message.value


def test_mismatch_must_be_explained_to_approve(sample_bank_rw: Path) -> None:
    app = app_for(sample_bank_rw, HELEN)
    open_item(app, "GK-0064")
    app.blind_box.children[0].value = "C"
    app.reveal_button.click()
    rate(app)
    app.submit_button.click()
    assert "differed from the key" in app.message.value
    assert reviews(sample_bank_rw) == []
    app.comment.value = "I misread option C; the key A is right under section 47."
    app.submit_button.click()
    review = json.loads(reviews(sample_bank_rw)[0].read_text())
    assert review["blind_response"] == ["C"] and review["blind_match"] is False


def test_request_changes_needs_a_comment_and_sends_it_back(sample_bank_rw: Path) -> None:
    app = app_for(sample_bank_rw, HELEN)
    open_item(app, "GK-0064")
    app.blind_box.children[0].value = "A"
    app.reveal_button.click()
    rate(app, decision="request_changes")
    app.ratings["clear"].value = "no"
    app.notes["clear"].value = "Option B could also be read as right."
    app.submit_button.click()
    assert "Say in the comment" in app.message.value
    app.comment.value = "Make option B clearly wrong <script>alert('x')</script>"
    app.submit_button.click()
    assert "changes requested: it goes back to its writer" in app.message.value
    assert "<script>" not in app.message.value
    review = json.loads(reviews(sample_bank_rw)[0].read_text())
    assert review["ratings"]["clear"] == {"rating": "no", "comment": "Option B could also be read as right."}
    assert json.loads((sample_bank_rw / "items/GK-0064.json").read_text())["status"] == "changes_requested"


def test_scenario_review_shows_briefs_and_marking_scheme(sample_bank_rw: Path) -> None:
    app = app_for(sample_bank_rw, RUTH)
    open_item(app, "SIM-0003")
    assert "Marking scheme" in app.content.value and "Actor brief" in app.content.value
    assert app.reveal_button.layout.display == "none"
    assert set(app.ratings) == set(CRITERIA["scenario"])
    rate(app)
    app.submit_button.click()
    assert "SIM-0003 is now approved" in app.message.value, app.message.value  # Sarah + Ruth


def test_ratings_out_of_range_are_refused(sample_bank_rw: Path) -> None:
    app = app_for(sample_bank_rw, HELEN)
    open_item(app, "GK-0064")
    app.blind_box.children[0].value = "A"
    app.reveal_button.click()
    rate(app)
    with pytest.raises(TraitError):  # the widget itself refuses a value that is not an option
        app.ratings["fair"].value = "maybe"
    app.ratings["fair"].value = None  # a rating left out
    app.submit_button.click()
    assert "as yes, no or unsure" in app.message.value
    with pytest.raises(Exception, match="yes, no or unsure"):  # a crafted value reaching the model
        app.model.submit({**{c: "yes" for c in CRITERIA["item"]}, "fair": "10"}, "approve", "", {})
    assert reviews(sample_bank_rw) == []


def test_double_click_records_once(sample_bank_rw: Path) -> None:
    app = app_for(sample_bank_rw, HELEN)
    open_item(app, "GK-0064")
    app.blind_box.children[0].value = "A"
    app.reveal_button.click()
    app.reveal_button.click()
    rate(app)
    app.submit_button.click()
    app.submit_button.click()
    assert "Nothing to submit" in app.message.value
    assert len(reviews(sample_bank_rw)) == 1
    assert len(list((sample_bank_rw / "reviews/GK-0064/blind").iterdir())) == 1
    assert git(sample_bank_rw.parent, "rev-list", "--count", "HEAD").strip() == "3"  # answer, review


def test_two_tabs_record_once(sample_bank_rw: Path) -> None:
    first, second = app_for(sample_bank_rw, HELEN), app_for(sample_bank_rw, HELEN)
    for app in (first, second):
        open_item(app, "GK-0064")
    first.blind_box.children[0].value = "A"
    first.reveal_button.click()
    rate(first)
    second.blind_box.children[0].value = "B"
    second.reveal_button.click()
    # the second tab's answer is refused (the first counts): it shows the first answer and the key
    assert "already recorded (in another window)" in second.message.value
    assert second.blind_box.children[0].value == "A" and second.blind_box.children[0].disabled
    assert "<strong>A</strong>" in second.match.value and "Key:" in second.content.value
    rate(second)
    first.submit_button.click()
    second.submit_button.click()
    assert "already reviewed this version of GK-0064" in second.message.value
    assert len(reviews(sample_bank_rw)) == 1
    assert len(list((sample_bank_rw / "reviews/GK-0064/blind").iterdir())) == 1


def test_item_changed_or_left_review_meanwhile(sample_bank_rw: Path) -> None:
    app = app_for(sample_bank_rw, HELEN)
    open_item(app, "GK-0064")
    app.blind_box.children[0].value = "A"
    app.reveal_button.click()
    rate(app)
    writer = open_bank(sample_bank_rw)
    record = writer.get("GK-0064")
    record["stem"] += " Choose the best answer."
    writer.save(record, TOM)
    app.submit_button.click()
    assert "changed by someone else since you opened it" in app.message.value
    assert app.model.ticket is not None  # the answers stay on screen
    assert app.ratings["clear"].value == "yes"
    open_item(app, "GK-0064")
    record = writer.get("GK-0064")
    record["status"] = "draft"
    writer.save(record, TOM)
    app.blind_box.children[0].value = "A"
    app.reveal_button.click()
    assert "is not in review (it is draft)" in app.message.value
    assert app.judge_box.layout.display == "none"  # no key shown
    assert reviews(sample_bank_rw) == []
    assert len(list((sample_bank_rw / "reviews/GK-0064/blind").iterdir())) == 1  # 1st version


def test_reviewer_not_on_the_panel(sample_bank_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = ReviewApp(open_bank(sample_bank_copy))
    with pytest.raises(TraitError):
        app.who.value = TOM  # not one of the choices
    app._sign_in("Mallory <mallory@example.org>")  # what a crafted message could reach
    assert "not on a review panel" in app.message.value and app.model.reviewer is None
    assert app.queue_box.layout.display == "none"
    monkeypatch.setenv("JUPYTERHUB_USER", "joanne.kelly")  # a standard-setting judge
    hub_app = ReviewApp(open_bank(sample_bank_copy))
    assert "not on a review panel" in hub_app.message.value and hub_app.model.reviewer is None
    monkeypatch.setenv("JUPYTERHUB_USER", "gareth.price")
    hub_app = ReviewApp(open_bank(sample_bank_copy))
    assert hub_app.model.reviewer == GARETH and hub_app.sign_in_box.layout.display == "none"


def test_crafted_item_ids_are_refused(sample_bank_copy: Path) -> None:
    app = app_for(sample_bank_copy, HELEN)
    with pytest.raises(TraitError):
        app.queue.value = "GK-0001"  # approved: not in the queue
    for crafted in ("../bank", "GK-0001", "items/GK-0064.json", None, 7):
        app._open(crafted)
        assert "Choose an item from your queue" in app.message.value
        assert app.model.ticket is None
    app.model.queue = []  # an id that was in the queue when the page was drawn
    app._open("GK-0064")
    assert "Choose an item from your queue" in app.message.value


def test_html_and_script_in_item_text_never_reach_the_page(sample_bank_rw: Path) -> None:
    writer = open_bank(sample_bank_rw)
    record = writer.get("GK-0064")
    record["stem"] = "Which **duty** applies? <script>alert(1)</script><img src=x onerror=alert(2)> [x](javascript:alert(3))"
    record["options"][1]["text"] = "<iframe src='https://evil.example'></iframe> Option"
    writer.save(record, TOM)
    app = app_for(sample_bank_rw, HELEN)
    open_item(app, "GK-0064")
    state = tree_state(app.root)
    for bad in ("<script", "<img", "<iframe", "href=\"javascript"):
        assert bad not in app.content.value and bad not in state
    assert "&lt;script&gt;" in app.content.value  # shown as text, harmless
    assert "<strong>duty</strong>" in app.content.value


def test_reviewer_who_reviewed_older_content_sees_what_changed(sample_bank_rw: Path) -> None:
    app = app_for(sample_bank_rw, HELEN)
    open_item(app, "GK-0064")
    app.blind_box.children[0].value = "A"
    app.reveal_button.click()
    rate(app, decision="request_changes", comment="Name the Act in the stem.")
    app.submit_button.click()
    writer = open_bank(sample_bank_rw)
    record = writer.get("GK-0064")
    record["stem"] = "Under the Children Act 1989: " + record["stem"]
    record["status"] = "in_review"
    writer.save(record, TOM)
    app.model.refresh()
    app._show_queue()
    assert "changed since your review" in dict((v, k) for k, v in app.queue.options)["GK-0064"]
    open_item(app, "GK-0064")
    assert app.changes.value == ""  # the diff shows the key, so it waits for the blind answer
    app.blind_box.children[0].value = "A"
    app.reveal_button.click()
    assert "ib-diff-add" in app.changes.value and "Under the Children Act 1989" in app.changes.value


# ---- guards of blind keying ---------------------------------------------------------------------

#: one item of each format in the sample bank (the test checks the list covers every format)
FORMAT_ITEMS = {"single_best_answer": "GK-0064", "multiple_response": "AK-0002",
                "true_false": "GK-0005", "multiple_true_false": "GK-0006"}


def put_in_review(bank_path: Path, ident: str) -> dict:
    """Set an item in review (by hand, as a writer's commit would) so a panel can open it."""
    path = bank_path / "items" / f"{ident}.json"
    record = json.loads(path.read_text())
    if record["status"] != "in_review":
        record["status"] = "in_review"
        path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        git(bank_path.parent, "commit", "-q", "-am", f"{ident} in review")
    return record


def key_secrets(item: dict) -> list[str]:
    """Text that only the reviewer's view with the key shows."""
    return ["Key:", "ib-key", item["rationale"][:60],
            *(o["rationale"][:60] for o in item["options"] if o.get("rationale"))]


def test_the_guard_covers_every_item_format() -> None:
    schema = json.loads((Path(__file__).resolve().parents[1] / "schemas/item.schema.json").read_text())
    assert sorted(FORMAT_ITEMS) == sorted(schema["properties"]["format"]["enum"])


@pytest.mark.parametrize("fmt", sorted(FORMAT_ITEMS))
def test_every_blind_widget_starts_empty_and_the_key_reaches_no_widget(sample_bank_rw: Path, fmt: str) -> None:
    ident = FORMAT_ITEMS[fmt]
    item = put_in_review(sample_bank_rw, ident)
    assert item["format"] == fmt
    w.Widget.close_all()  # only this page's widgets remain: a Voila page has its own kernel
    app = app_for(sample_bank_rw, HELEN)
    open_item(app, ident)
    answer_widgets = [c for c in app.blind_box.children if not isinstance(c, w.HTML)]
    assert len(answer_widgets) == (1 if fmt in ("single_best_answer", "true_false") else len(item["options"]))
    for widget in answer_widgets:
        if isinstance(widget, w.Checkbox):
            assert widget.value is False
        else:  # RadioButtons, ToggleButtons: nothing chosen
            assert widget.value is None and widget.index is None, (fmt, widget)
        assert widget.disabled is False
    state = all_widget_state()
    assert [s for s in key_secrets(item) if s in state] == []
    app.reveal_button.click()  # nothing chosen: refused, nothing recorded, no key
    assert "ib-msg-error" in app.message.value
    assert not (sample_bank_rw / "reviews" / ident / "blind").exists()
    assert [s for s in key_secrets(item) if s in all_widget_state()] == []


def test_first_blind_answer_stands_after_reopening_in_a_new_kernel(sample_bank_rw: Path) -> None:
    item = json.loads((sample_bank_rw / "items/GK-0064.json").read_text())
    app = app_for(sample_bank_rw, HELEN)
    open_item(app, "GK-0064")
    app.blind_box.children[0].value = "B"  # wrong: the key is A
    app.reveal_button.click()
    assert "Key:" in app.content.value and "ib-blind-mismatch" in app.match.value
    assert last_commit(sample_bank_rw).strip() == f"{HELEN}|GK-0064: blind answer by Helen Marsh"
    w.Widget.close_all()
    again = app_for(sample_bank_rw, HELEN)  # reload: a new page, a new kernel, a new Bank
    open_item(again, "GK-0064")
    radio = again.blind_box.children[0]
    assert radio.value == "B" and radio.disabled is True
    assert again.reveal_button.layout.display == "none"
    assert "Key:" in again.content.value and item["rationale"][:60] in again.content.value
    assert "recorded earlier; it cannot be changed" in again.match.value
    assert "<strong>B</strong>" in again.match.value and "ib-blind-mismatch" in again.match.value
    radio.value = "A"  # a crafted message can still set a disabled widget
    again._reveal()
    with pytest.raises(ReviewInputError, match="already recorded"):
        again.model.answer_blind(["A"])
    rate(again, decision="request_changes", comment="B reads as right too.")
    again.submit_button.click()
    assert "Recorded review" in again.message.value, again.message.value
    review = json.loads(reviews(sample_bank_rw)[0].read_text())
    assert review["blind_response"] == ["B"] and review["blind_match"] is False
    assert len(list((sample_bank_rw / "reviews/GK-0064/blind").iterdir())) == 1


# ---- unexpected errors ----------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["service", "view"])
def test_an_unexpected_error_is_shown_plainly_and_logged_with_its_traceback(
        sample_bank_rw: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str],
        where: str) -> None:
    app = app_for(sample_bank_rw, HELEN)
    open_item(app, "GK-0064")
    app.blind_box.children[0].value = "A"
    capfd.readouterr()

    def bug(*_: object, **__: object) -> None:
        raise KeyError("rationale")  # a bug, not a user's mistake: no ItembankError

    if where == "service":  # the bank raises inside the app's run helper
        monkeypatch.setattr(app.model.bank.review, "record_blind_answer", bug)
    else:  # the callback itself raises, after the answer is recorded
        monkeypatch.setattr(app, "_changes_html", bug)
    app.reveal_button.click()
    message = app.message.value
    found = re.search(r'<div class="ib-msg-error" style="color:#a40000">Something went wrong, so '
                      r"that step was not done \(reference ([0-9a-f]{8})\)\. Nothing you have "
                      r"recorded is lost\.", message)
    assert found, message
    assert "Traceback" not in message and "KeyError" not in message
    log = capfd.readouterr().err  # the kernel process's stderr: the server's log
    assert f"unexpected error in ReviewApp (reference {found.group(1)})" in log
    assert "Traceback (most recent call last)" in log and "KeyError: 'rationale'" in log
    assert app.judge_box.layout.display == "none"  # the step was not done: no rating form
