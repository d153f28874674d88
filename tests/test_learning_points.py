"""Learning points: a reviewed content kind that candidate letters quote. Schema and rule
findings, saving as the writer, review to approval without a blind answer, editing sending it
back, only approved ones for letters, and the rule that keeps live item text out of them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from itembank import open_bank
from itembank.checks.learningrules import learning_point_rules, shared_item_text, word_count
from itembank.core.errors import ReviewInputError, ValidationFailedError
from itembank.core.workflow import CRITERIA, content_hash
from itembank.review.rules import ReviewAnswers
from itembank.ui.authoring import AuthoringApp
from itembank.ui.review_app import ReviewApp

from .conftest import SAMPLE_BANK, git

WENDY = "Wendy Writer <wendy@example.org>"
RITA = "Rita Reviewer <rita@example.org>"
RAJ = "Raj Reviewer <raj@example.org>"
WHEN = datetime(2026, 11, 30, 9, 0, 0, tzinfo=UTC)
TEXT = (
    "Revisit how the threshold for care and supervision orders is applied in practice, and "
    "what evidence a court needs to see. Practise setting out the facts, their sources and "
    "your analysis of the impact on the child separately. Then discuss with your supervisor "
    "one case where you were unsure whether the threshold was met, and what would have "
    "settled it."
)
YES = {c: "yes" for c in CRITERIA["learning_point"]}


def point(**fields: object) -> dict:
    record = {
        "schema_version": "1.0",
        "id": "LP-0001",
        "title": "Weighing significant harm",
        "roles": ["practitioner"],
        "standards": [{"framework": "fw-a", "statement": "FA-01", "primary": True}],
        "text": TEXT,
        "references": ["children-act-1989"],
        "author": WENDY,
        "status": "draft",
        "tags": ["significant-harm"],
    }
    record.update(fields)
    return record


def codes(findings: list) -> list[tuple[str, str, str]]:
    return sorted((f.pointer, f.code, f.severity) for f in findings)


# ---- schema and rules -----------------------------------------------------------------------


def test_a_good_learning_point_has_no_findings(valid_bank: Path) -> None:
    assert open_bank(valid_bank).check_record(point(), "learning_point") == []


def test_schema_findings_are_exact(valid_bank: Path) -> None:
    bank = open_bank(valid_bank)
    record = point(references=[], colour="blue")
    del record["title"]
    assert codes(bank.check_record(record, "learning_point")) == [
        ("/colour", "unknown-field", "error"),
        ("/references", "too-few", "error"),
        ("/title", "missing-field", "error"),
    ]


def test_links_are_checked_like_content(valid_bank: Path) -> None:
    bank = open_bank(valid_bank)
    record = point(
        standards=[{"framework": "fw-a", "statement": "FA-07", "primary": True}],
        references=["children-act-1989", "no-such-guidance"],
        roles=["leader"],
    )
    assert codes(bank.check_record(record, "learning_point")) == [
        ("/references/1", "unknown-reference", "error"),
        ("/roles/0", "unknown-role", "error"),
        # content maps only to frameworks of its roles: fw-a is the practitioners'
        ("/standards/0", "standard-role-mismatch", "error"),
        ("/standards/0/statement", "unknown-standard", "error"),
    ]


def test_text_length_is_40_to_250_words() -> None:
    def findings(n: int) -> list:
        return list(learning_point_rules("p.json", {"text": " ".join(["word"] * n)}))

    assert [len(findings(n)) for n in (39, 40, 250, 251)] == [1, 0, 0, 1]
    (short,) = findings(39)
    assert (short.pointer, short.code) == ("/text", "text-length")
    assert short.message.startswith("The text has 39 words; a learning point has 40 to 250")
    # as a reader counts: a possessive, a section number and a hyphenated word are one each
    assert word_count("The child's s.47 **well-being**: see 2023.") == 6


# ---- no live item text ----------------------------------------------------------------------

ITEM = {
    "id": "GK-0100",
    "stem": "Which of these is the **threshold** for a care order?",
    "options": [
        {"id": "A", "text": "The child is suffering, or likely to suffer, significant harm.",
         "rationale": "Correct: section 31 sets the threshold of significant harm."},
        {"id": "B", "text": "The parents have not cooperated with a child in need plan.",
         "rationale": "Incorrect."},
    ],
    "rationale": "The court must be satisfied that the harm is attributable to the care given.",
    "notes": "the child is suffering or likely to suffer significant harm",
}


def test_a_planted_copied_sentence_is_found_with_its_source() -> None:
    copied = point(text=TEXT + " Remember: THE CHILD IS SUFFERING, or likely to suffer, "
                   "*significant* harm.")
    (finding,) = shared_item_text({"learning_points/LP-0001.json": copied}, [("item", ITEM)])
    assert (finding.path, finding.pointer, finding.code, finding.severity) == (
        "learning_points/LP-0001.json", "/text", "item-text", "error")
    assert finding.message.startswith(
        'Shares 10 words with GK-0100 (/options/0/text): "the child is suffering or likely to '
        'suffer significant harm"')


def test_seven_shared_words_and_the_originals_pass() -> None:
    seven = point(text=TEXT + " The court must be satisfied that it can act.")
    assert shared_item_text({"lp.json": seven}, [("item", ITEM)]) == []
    eight = point(text=TEXT + " The court must be satisfied that the harm exists.")
    assert len(shared_item_text({"lp.json": eight}, [("item", ITEM)])) == 1
    # ids and metadata (notes) are not prose a candidate meets; learning points are not live
    assert shared_item_text({"lp.json": point(text=ITEM["notes"] + " " + TEXT)},
                            [("item", {**ITEM, "rationale": "", "options": []}),
                             ("learning_point", {"text": ITEM["notes"]})]) == []


def test_names_of_law_and_guidance_are_not_copying() -> None:
    item = {**ITEM, "rationale": "See Working Together to Safeguard Children 2023 on this."}
    cites = point(text=TEXT + " Read Working Together to Safeguard Children 2023 on this.")
    assert len(shared_item_text({"lp.json": cites}, [("item", item)])) == 1
    names = ["Working Together to Safeguard Children 2023"]
    assert shared_item_text({"lp.json": cites}, [("item", item)], names) == []


def test_the_sample_learning_points_share_no_words_with_live_content() -> None:
    def read(folder: str) -> list[dict]:
        return [json.loads(p.read_text()) for p in sorted((SAMPLE_BANK / folder).glob("*.json"))]

    points = {f"learning_points/{r['id']}.json": r for r in read("learning_points")}
    live = [(k, r) for k, f in (("item", "items"), ("stimulus", "stimuli"),
                                ("scenario", "scenarios")) for r in read(f)]
    titles = [r["title"] for r in json.loads((SAMPLE_BANK / "references.json").read_text())
              ["references"]]
    assert len(points) == 14 and len(live) == 120 + 5 + 3
    assert shared_item_text(points, live, titles) == []
    # and the rule does find them when they are planted in an item's rationale
    planted = dict(live[0][1], rationale=points["learning_points/LP-0003.json"]["text"])
    found = shared_item_text(points, [("item", planted)], titles)
    assert [(f.path, f.pointer) for f in found] == [("learning_points/LP-0003.json", "/text")]


def test_save_refuses_and_validate_reports_item_text(valid_bank: Path) -> None:
    bank = open_bank(valid_bank)
    item = bank.get("TS-0004")
    item["rationale"] = "Only a court can decide that the threshold of significant harm is met."
    bank.save(item, author=WENDY)
    copied = point(text=TEXT + " Only a court can decide that the threshold is met.")
    with pytest.raises(ValidationFailedError) as refused:
        bank.save(copied, author=WENDY)
    assert [f.code for f in refused.value.findings] == ["item-text"]
    assert not (valid_bank / "learning_points").exists()
    # written past the Bank (e.g. by hand), validate says the same
    (valid_bank / "learning_points").mkdir()
    (valid_bank / "learning_points" / "LP-0001.json").write_text(json.dumps(copied))
    git(valid_bank, "add", "-A")
    git(valid_bank, "commit", "-q", "-m", "by hand")
    report = open_bank(valid_bank).validate()
    assert [(f.path, f.pointer, f.code) for f in report.findings] == [
        ("learning_points/LP-0001.json", "/text", "item-text")]


# ---- writing, review, letters ---------------------------------------------------------------


def test_create_save_commit_by_the_writer_and_my_items(valid_bank: Path) -> None:
    bank = open_bank(valid_bank)
    record = bank.authoring.new_learning_point(WENDY, title="Weighing significant harm",
                                               text=TEXT, roles=["practitioner"],
                                               standards=point()["standards"],
                                               references=["children-act-1989"])
    assert record["id"] == "LP-0001" and record["status"] == "draft"
    sha = bank.save(record, author=WENDY)
    assert git(valid_bank, "log", "-1", "--format=%H|%an <%ae>|%s").strip() == (
        f"{sha}|{WENDY}|LP-0001: create learning_point (draft)")
    assert bank.authoring.next_id("LP") == "LP-0002"
    assert [c.sha for c in bank.history("LP-0001")] == [sha]
    (row,) = [r for r in bank.authoring.items_by(WENDY) if r["id"] == "LP-0001"]
    assert (row["status"], row["format"], row["stem"]) == (
        "draft", "learning_point", "Weighing significant harm")


def submit_for_review(bank_path: Path) -> None:
    bank = open_bank(bank_path)
    bank.save(point(), author=WENDY)
    bank.save(point(status="in_review"), author=WENDY)


def test_review_round_trip_to_approved_without_a_blind_answer(valid_bank: Path) -> None:
    submit_for_review(valid_bank)
    bank = open_bank(valid_bank)
    assert [(e.id, e.format) for e in bank.review.queue(RITA)] == [
        ("LP-0001", "learning_point"), ("TS-0002", "multiple_response")]
    ticket = bank.review.open("LP-0001", RITA)
    assert (ticket.kind, ticket.blind) == ("learning_point", None)
    with pytest.raises(ReviewInputError, match="has no key to answer blind"):
        bank.review.record_blind_answer("LP-0001", ticket.seen, ["A"], RITA)
    with pytest.raises(ReviewInputError, match="has no key to answer blind"):
        bank.review.submit("LP-0001", ReviewAnswers(ticket.seen, YES, "approve",
                                                    blind_response=["A"]), RITA, when=WHEN)
    with pytest.raises(ReviewInputError, match="specific and practical"):
        bank.review.submit("LP-0001", ReviewAnswers(ticket.seen, {**YES, "actionable": ""},
                                                    "approve"), RITA, when=WHEN)
    first = bank.review.submit("LP-0001", ReviewAnswers(ticket.seen, YES, "approve"), RITA,
                               when=WHEN)
    assert (first.status, first.approvals, first.needed) == (None, 1, 2)
    assert bank.learning_points() == ()
    seen = bank.review.open("LP-0001", RAJ).seen
    second = bank.review.submit("LP-0001", ReviewAnswers(seen, YES, "approve"), RAJ,
                                when=WHEN.replace(minute=5))
    assert second.status == "approved"
    assert git(valid_bank, "log", "-1", "--format=%an|%s").strip() == (
        "Raj Reviewer|LP-0001: approve (review by Raj Reviewer); approved: review policy met")
    assert sorted(second.review["ratings"]) == sorted(CRITERIA["learning_point"])
    assert "blind_response" not in second.review
    assert not list((valid_bank / "reviews" / "LP-0001").glob("blind/*"))
    again = open_bank(valid_bank)
    assert again.validate().findings == []
    (text,) = again.learning_points()
    assert (text.id, text.title, text.text, text.standards, text.resources) == (
        "LP-0001", "Weighing significant harm", TEXT, ("FA-01",), ("Children Act 1989",))


def approve(bank_path: Path) -> None:
    submit_for_review(bank_path)
    bank = open_bank(bank_path)
    for n, who in enumerate((RITA, RAJ)):
        seen = bank.review.open("LP-0001", who).seen
        bank.review.submit("LP-0001", ReviewAnswers(seen, YES, "approve"), who,
                           when=WHEN.replace(minute=n))


def test_editing_an_approved_one_sends_it_back_to_review(valid_bank: Path) -> None:
    approve(valid_bank)
    bank = open_bank(valid_bank)
    record = bank.get("LP-0001")
    assert record["status"] == "approved"
    bank.save({**record, "tags": ["threshold"]}, author=WENDY)  # not reviewed content: stays
    assert bank.get("LP-0001")["status"] == "approved"
    bank.save({**bank.get("LP-0001"), "text": TEXT + " Keep a note of it."}, author=WENDY)
    assert bank.get("LP-0001")["status"] == "in_review"
    assert git(valid_bank, "log", "-1", "--format=%s").strip() == (
        "LP-0001: submit for review; update text (content changed after approval: back to "
        "review)")
    assert bank.learning_points() == () and len(bank.learning_points(None)) == 1
    assert bank.validate().errors == []
    assert [e.id for e in bank.review.queue(RITA)] == ["LP-0001", "TS-0002"]


def test_only_approved_and_backed_learning_points_reach_letters(valid_bank: Path) -> None:
    approve(valid_bank)
    bank = open_bank(valid_bank)
    bank.save(point(id="LP-0002", title="A draft"), author=WENDY)
    bank.save(point(id="LP-0003", title="In review", status="draft"), author=WENDY)
    bank.save(point(id="LP-0003", title="In review", status="in_review"), author=WENDY)
    # marked approved past the Bank without reviews of its text: validate says so, letters skip it
    unbacked = point(id="LP-0004", title="Not backed", status="approved")
    (valid_bank / "learning_points" / "LP-0004.json").write_text(json.dumps(unbacked))
    git(valid_bank, "add", "-A")
    git(valid_bank, "commit", "-q", "-m", "by hand")
    bank = open_bank(valid_bank)
    assert [t.id for t in bank.learning_points()] == ["LP-0001"]
    assert [t.id for t in bank.learning_points(None)] == ["LP-0001", "LP-0002", "LP-0003",
                                                          "LP-0004"]
    assert [t.id for t in bank.learning_points("in_review")] == ["LP-0003"]
    assert [(f.path, f.code) for f in bank.validate().errors] == [
        ("learning_points/LP-0004.json", "not-approved")]


def test_the_content_hash_covers_what_a_letter_prints() -> None:
    base = content_hash("learning_point", point())
    assert content_hash("learning_point", point(text=TEXT + " More.")) != base
    assert content_hash("learning_point", point(title="Other")) != base
    assert content_hash("learning_point", point(references=["working-together-2023"])) != base
    # mappings and tags are not printed: a remap keeps the approvals, as for items
    assert content_hash("learning_point", point(tags=[], standards=[])) == base


# ---- the apps, without a browser --------------------------------------------------------------


def test_writers_app_creates_checks_saves_and_submits(valid_bank: Path) -> None:
    app = AuthoringApp(open_bank(valid_bank), author=WENDY)
    editor = app.learning
    editor.new_button.click()
    assert editor.model.record["id"] == "LP-0001"
    editor.title.value = "Weighing significant harm"
    editor.roles["practitioner"].value = True
    editor.standards.add({"framework": "fw-a", "statement": "FA-01", "primary": True})
    editor.text.value = "Too short."
    editor.references.value = ("children-act-1989",)
    assert "ib-code-text-length" in editor.findings.value
    assert "2 words" in editor.count.value
    editor.submit_button.click()
    assert "Not saved: 1 error(s)" in editor.result.value and not (valid_bank / "learning_points").exists()
    editor.text.value = TEXT
    assert editor.findings.value == "" and "Weighing significant harm" in editor.preview.value
    editor.save_button.click()
    assert "Saved LP-0001" in editor.result.value, editor.result.value
    editor.submit_button.click()
    assert "Submitted LP-0001" in editor.result.value, editor.result.value
    stored = json.loads((valid_bank / "learning_points" / "LP-0001.json").read_text())
    assert (stored["status"], stored["references"], stored["text"]) == (
        "in_review", ["children-act-1989"], TEXT)
    assert git(valid_bank, "log", "-2", "--format=%an|%s").splitlines() == [
        "Wendy Writer|LP-0001: submit for review", "Wendy Writer|LP-0001: create learning_point "
        "(draft)"]
    app.my_items.refresh()
    app.my_items.choice.value = "LP-0001"
    app.my_items.open_button.click()
    assert app.tabs.selected_index == 5 and editor.title.value == "Weighing significant harm"


def test_review_app_shows_a_learning_point_with_its_criteria_and_no_blind_step(
        valid_bank: Path) -> None:
    submit_for_review(valid_bank)
    app = ReviewApp(open_bank(valid_bank))
    app.who.value = RITA
    app.sign_in_button.click()
    assert app.queue.options[0] == ("LP-0001 · learning point · FA-01 · to review", "LP-0001")
    app.queue.value = "LP-0001"
    app.open_button.click()
    assert "Weighing significant harm" in app.content.value
    assert "Children Act 1989" in app.content.value and "FA-01 First" in app.content.value
    assert app.blind_box.children == () and app.reveal_button.layout.display == "none"
    assert list(app.ratings) == list(CRITERIA["learning_point"])
    for radio in app.ratings.values():
        radio.value = "yes"
    app.decision.value = "approve"
    app.submit_button.click()
    assert "stays in review (1 of 2 approvals" in app.message.value, app.message.value
    assert git(valid_bank, "log", "-1", "--format=%an|%s").strip() == (
        "Rita Reviewer|LP-0001: approve (review by Rita Reviewer)")


def test_a_no_on_item_content_blocks_approval_in_the_sample_bank(sample_bank_rw: Path) -> None:
    amara, helen, ruth = ("Amara Okafor <amara.okafor@example.org>",
                          "Helen Marsh <helen.marsh@example.org>",
                          "Ruth Adeyemi <ruth.adeyemi@example.org>")
    bank = open_bank(sample_bank_rw)
    record = bank.authoring.new_learning_point(
        amara, title="Weighing significant harm", text=TEXT, roles=["practitioner"],
        standards=[{"framework": "pqs-practitioner-2018", "statement": "PR-08", "primary": True}],
        references=["children-act-1989"])
    assert record["id"] == "LP-0015"
    bank.save(record, author=amara)
    bank.save({**record, "status": "in_review"}, author=amara)
    seen = bank.review.open("LP-0015", helen).seen
    bank.review.submit("LP-0015", ReviewAnswers(seen, {**YES, "no_item_content": "no"},
                                                "approve", comment="Too close to GK-0020."),
                       helen, when=WHEN)
    outcome = bank.review.submit("LP-0015", ReviewAnswers(seen, YES, "approve"), ruth,
                                 when=WHEN.replace(minute=1))
    assert (outcome.status, outcome.approvals) == (None, 2)  # two approvals, one blocking 'no'
    assert bank.get("LP-0015")["status"] == "in_review"


def test_a_broken_learning_point_file_is_left_out_not_a_crash(valid_bank: Path) -> None:
    bank = open_bank(valid_bank)
    bank.save(point(), author=WENDY)
    broken = point(id="LP-0002")
    del broken["text"]
    (valid_bank / "learning_points" / "LP-0002.json").write_text(json.dumps(broken))
    (valid_bank / "learning_points" / "LP-0003.json").write_text("{not json")
    git(valid_bank, "add", "-A")
    git(valid_bank, "commit", "-q", "-m", "by hand")
    bank = open_bank(valid_bank)
    assert [t.id for t in bank.learning_points(None)] == ["LP-0001"]
    assert {(f.path, f.code) for f in bank.validate().errors} == {
        ("learning_points/LP-0002.json", "missing-field"),
        ("learning_points/LP-0003.json", "malformed-json")}
