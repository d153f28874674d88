"""Expert review: the core (blind answer, ratings, decision, next status) and the service
(queue, one commit per review with the status change, refusals that record nothing)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from itembank import open_bank
from itembank.core.errors import IdentityError, InvalidIdError, ReviewInputError, UnknownIdError
from itembank.core.identity import member_for_login, review_id
from itembank.core.workflow import CRITERIA, content_hash
from itembank.review.rules import (
    ReviewAnswers,
    build_review,
    check_blind_response,
    content_diff,
    matches_key,
)
from tests.conftest import git

HELEN = "Helen Marsh <helen.marsh@example.org>"
RUTH = "Ruth Adeyemi <ruth.adeyemi@example.org>"
GARETH = "Gareth Price <gareth.price@example.org>"
TOM = "Tom Whitfield <tom.whitfield@example.org>"  # writer of GK-0044, GK-0064, SIM-0003
JUDGE = "Joanne Kelly <joanne.kelly@example.org>"
WHEN = datetime(2026, 11, 23, 9, 45, 0, tzinfo=UTC)
YES = {c: "yes" for c in CRITERIA["item"]}
POLICY = {"approvals_required": 2, "blind_key_mismatch_blocks": True,
          "blocking_criteria": ["key_correct", "fair", "current"]}
MTF = {"id": "GK-0006", "author": "Daniel Hughes <daniel.hughes@example.org>",
       "format": "multiple_true_false", "stem": "s", "section": "general",
       "options": [{"id": k, "text": k} for k in "ABCD"],
       "key": {"A": True, "B": False, "C": True, "D": False}}
SBA = {"id": "GK-0064", "author": TOM, "format": "single_best_answer", "stem": "s",
       "options": [{"id": k, "text": k} for k in "ABCD"], "key": ["A"]}
MR = {"id": "GK-0099", "author": TOM, "format": "multiple_response", "select_count": 2,
      "stem": "s", "options": [{"id": k, "text": k} for k in "ABCDE"], "key": ["B", "D"]}


def answers(seen: str = "x", decision: str = "approve", **kw: object) -> ReviewAnswers:
    base: dict[str, object] = {"seen": seen, "ratings": dict(YES), "decision": decision}
    base.update(kw)
    return ReviewAnswers(**base)  # type: ignore[arg-type]


# ---- core ---------------------------------------------------------------------------------------

def test_review_id_is_utc_stamp_and_name_slug() -> None:
    assert review_id(HELEN, WHEN) == "20261123T094500Z-helen-marsh"


@pytest.mark.parametrize(("item", "response", "match"), [
    (SBA, ["A"], True), (SBA, ["B"], False),
    (MR, ["D", "B"], True), (MR, ["B", "C"], False),
    (MTF, {"A": True, "B": False, "C": True, "D": False}, True),
    (MTF, {"A": True, "B": True, "C": True, "D": False}, False),
])
def test_blind_answer_is_compared_with_the_key(item: dict, response: object, match: bool) -> None:
    checked = check_blind_response(item, response)
    assert matches_key(item, checked) is match


@pytest.mark.parametrize(("item", "response", "words"), [
    (SBA, [], "Choose one answer"),
    (SBA, ["A", "B"], "Choose one answer"),
    (SBA, ["Z"], "not an option"),
    (SBA, None, "Choose your answer"),
    (MR, ["B"], "exactly 2"),
    (MTF, {"A": True}, "B, C, D"),
    (MTF, ["A"], "true or false"),
    (MTF, {"A": True, "B": False, "C": True, "D": False, "Q": True}, "not a statement"),
])
def test_incomplete_or_crafted_blind_answers_are_refused(item: dict, response: object, words: str) -> None:
    with pytest.raises(ReviewInputError, match=words):
        check_blind_response(item, response)


def test_build_review_records_blind_answer_ratings_and_hash() -> None:
    review = build_review("item", SBA, answers(blind_response=["B"], comment="B is arguable, but A is right under s47."),
                          HELEN, "expert-panel-a", WHEN, POLICY)
    assert review["blind_response"] == ["B"] and review["blind_match"] is False
    assert review["ratings"]["clear"] == {"rating": "yes"}
    assert review["content_hash"].startswith("sha256:")
    assert review["id"] == "20261123T094500Z-helen-marsh" and review["submitted"] == "2026-11-23T09:45:00Z"


@pytest.mark.parametrize(("change", "words"), [
    ({"ratings": {**YES, "fair": "maybe"}}, "yes, no or unsure"),
    ({"ratings": {k: v for k, v in YES.items() if k != "current"}}, "current"),
    ({"ratings": {**YES, "realistic": "yes"}}, "not a review criterion"),
    ({"decision": "request_changes", "comment": "   "}, "Say in the comment"),
    ({"decision": "reject"}, "Say in the comment"),
    ({"decision": "publish"}, "Choose a decision"),
    ({"comment": "x" * 10001}, "longer than"),
    ({"criterion_comments": {"clear": "y" * 5001}}, "at most 5000"),
    ({"blind_response": ["B"]}, "differed from the key"),  # mismatch, approve, no comment
])
def test_bad_answers_are_refused_with_a_clear_message(change: dict, words: str) -> None:
    given = {"blind_response": ["A"], **change}
    with pytest.raises(ReviewInputError, match=words):
        build_review("item", SBA, answers(**given), HELEN, "expert-panel-a", WHEN, POLICY)


def test_scenario_review_has_its_own_criteria_and_no_blind_answer() -> None:
    scenario = {"id": "SIM-0003", "author": TOM, "title": "t", "exercises": []}
    ratings = {c: "yes" for c in CRITERIA["scenario"]}
    review = build_review("scenario", scenario, answers(ratings=ratings), HELEN, "p", WHEN, POLICY)
    assert "blind_response" not in review and set(review["ratings"]) == set(CRITERIA["scenario"])
    with pytest.raises(ReviewInputError, match="no key"):
        build_review("scenario", scenario, answers(ratings=ratings, blind_response=["A"]), HELEN, "p", WHEN, POLICY)


def test_member_for_login_matches_hub_names() -> None:
    members = [HELEN, RUTH]
    assert member_for_login(members, "helen.marsh") == HELEN
    assert member_for_login(members, "ruth.adeyemi@example.org") == RUTH
    assert member_for_login(members, "ruth-adeyemi") == RUTH
    assert member_for_login(members, "mallory") is None and member_for_login(members, "") is None


def test_content_diff_shows_what_changed() -> None:
    diff = content_diff("item", SBA, {**SBA, "stem": "new stem", "key": ["B"]})
    assert "-stem: s" in diff and "+stem: new stem" in diff
    assert '-key: ["A"]' in diff and '+key: ["B"]' in diff
    assert content_diff("item", SBA, dict(SBA)) == []


# ---- service ------------------------------------------------------------------------------------

def log(bank_path: Path, *args: str) -> str:
    return git(bank_path.parent, "log", *args)


def item(bank_path: Path, ident: str) -> dict:
    return json.loads((bank_path / "items" / f"{ident}.json").read_text())


def test_queue_lists_content_in_review_never_the_reviewers_own(sample_bank_copy: Path) -> None:
    bank = open_bank(sample_bank_copy)
    queue = {e.id: e for e in bank.review.queue(HELEN)}
    # the sample's statistics (the simulated administration) flag 8 approved items back to the panel
    flagged = {"AK-0009", "AK-0011", "AK-0014", "AK-0015", "AK-0024", "GK-0021", "GK-0022", "GK-0040"}
    assert set(queue) == {"GK-0006", "GK-0044", "GK-0064", "SIM-0003"} | flagged
    assert {i for i, e in queue.items() if e.flags} == flagged
    assert queue["GK-0006"].reviewed and queue["GK-0044"].changed and not queue["GK-0064"].reviewed
    assert queue["SIM-0003"].kind == "scenario"
    with pytest.raises(IdentityError, match="not on a review panel"):
        bank.review.queue(TOM)
    with pytest.raises(IdentityError):
        bank.review.queue(JUDGE)


def test_sign_in_uses_the_hub_user_over_the_local_choice(sample_bank_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bank = open_bank(sample_bank_copy)
    assert bank.panels.sign_in(HELEN) == HELEN
    monkeypatch.setenv("JUPYTERHUB_USER", "ruth.adeyemi")
    assert bank.panels.sign_in(HELEN) == RUTH
    monkeypatch.setenv("JUPYTERHUB_USER", "mallory")
    with pytest.raises(IdentityError, match="signed in to the hub as 'mallory'"):
        bank.panels.sign_in(HELEN)


def test_second_approval_approves_in_one_commit_by_the_reviewer(sample_bank_rw: Path) -> None:
    bank = open_bank(sample_bank_rw)
    ticket = bank.review.open("GK-0006", RUTH)
    blind = {"A": True, "B": False, "C": True, "D": False}
    out = bank.review.submit("GK-0006", answers(ticket.seen, blind_response=blind), RUTH, WHEN)
    assert out.status == "approved" and out.approvals == 2
    assert item(sample_bank_rw, "GK-0006")["status"] == "approved"
    stat = log(sample_bank_rw, "-1", "--name-only", "--format=%an <%ae>|%s")
    assert stat.splitlines()[0] == f"{RUTH}|GK-0006: approve (review by Ruth Adeyemi); approved: review policy met"
    assert sorted(stat.splitlines()[2:]) == ["item_bank/items/GK-0006.json",
                                             "item_bank/reviews/GK-0006/20261123T094500Z-ruth-adeyemi.json",
                                             # no blind answer was recorded first: this one is, with the review
                                             "item_bank/reviews/GK-0006/blind/20261123T094500Z-ruth-adeyemi.json"]
    assert open_bank(sample_bank_rw).validate().ok


def test_first_approval_keeps_it_in_review_and_writes_only_the_review(sample_bank_rw: Path) -> None:
    bank = open_bank(sample_bank_rw)
    ticket = bank.review.open("GK-0064", HELEN)
    out = bank.review.submit("GK-0064", answers(ticket.seen, blind_response=list(ticket.record["key"])), HELEN, WHEN)
    assert out.status is None and out.approvals == 1 and out.needed == 2
    assert item(sample_bank_rw, "GK-0064")["status"] == "in_review"
    assert sorted(log(sample_bank_rw, "-1", "--name-only", "--format=").split()) == [
        "item_bank/reviews/GK-0064/20261123T094500Z-helen-marsh.json",
        "item_bank/reviews/GK-0064/blind/20261123T094500Z-helen-marsh.json"]


def test_request_changes_sends_it_back_with_the_comment(sample_bank_rw: Path) -> None:
    bank = open_bank(sample_bank_rw)
    ticket = bank.review.open("GK-0064", GARETH)
    ratings = {**YES, "clear": "no"}
    out = bank.review.submit("GK-0064", answers(ticket.seen, "request_changes", ratings=ratings,
                             comment="Option C is <script>alert(1)</script> ambiguous.",
                             blind_response=["A"]), GARETH, WHEN)
    assert out.status == "changes_requested"
    assert item(sample_bank_rw, "GK-0064")["status"] == "changes_requested"
    review = json.loads((sample_bank_rw / "reviews/GK-0064/20261123T094500Z-gareth-price.json").read_text())
    assert review["comment"] == "Option C is <script>alert(1)</script> ambiguous."  # stored as text; escaped when shown
    assert "request changes" in log(sample_bank_rw, "-1", "--format=%s")


def test_reject_rejects(sample_bank_rw: Path) -> None:
    bank = open_bank(sample_bank_rw)
    ratings = {c: "yes" for c in CRITERIA["scenario"]}
    ticket = bank.review.open("SIM-0003", RUTH)
    out = bank.review.submit("SIM-0003", answers(ticket.seen, "reject", ratings=ratings, comment="Out of date."), RUTH, WHEN)
    assert out.status == "rejected"


def test_double_submission_is_recorded_once(sample_bank_rw: Path) -> None:
    bank = open_bank(sample_bank_rw)
    ticket = bank.review.open("GK-0064", HELEN)
    given = answers(ticket.seen, blind_response=["A"])
    bank.review.submit("GK-0064", given, HELEN, WHEN)
    head = log(sample_bank_rw, "-1", "--format=%H")
    with pytest.raises(ReviewInputError, match="already reviewed this version"):
        bank.review.submit("GK-0064", given, HELEN, datetime(2026, 11, 23, 9, 46, tzinfo=UTC))
    other_tab = open_bank(sample_bank_rw)  # a second tab is a second kernel with its own Bank
    with pytest.raises(ReviewInputError, match="already reviewed"):
        other_tab.review.submit("GK-0064", given, HELEN, datetime(2026, 11, 23, 9, 47, tzinfo=UTC))
    assert log(sample_bank_rw, "-1", "--format=%H") == head
    assert len(list((sample_bank_rw / "reviews/GK-0064").glob("*.json"))) == 1


def test_review_of_changed_or_departed_content_is_refused(sample_bank_rw: Path) -> None:
    bank = open_bank(sample_bank_rw)
    ticket = bank.review.open("GK-0064", HELEN)
    writer = open_bank(sample_bank_rw)
    record = writer.get("GK-0064")
    record["stem"] = record["stem"] + " (revised)"
    writer.save(record, TOM)
    with pytest.raises(ReviewInputError, match="changed by someone else"):
        bank.review.submit("GK-0064", answers(ticket.seen, blind_response=["A"]), HELEN, WHEN)
    assert not (sample_bank_rw / "reviews" / "GK-0064").exists()
    ticket = bank.review.open("GK-0064", HELEN)
    record = writer.get("GK-0064")
    record["status"] = "draft"
    writer.save(record, TOM)
    with pytest.raises(ReviewInputError, match="left review"):
        bank.review.submit("GK-0064", answers(ticket.seen, blind_response=["A"]), HELEN, WHEN)
    with pytest.raises(ReviewInputError, match="not in review"):
        bank.review.open("GK-0064", HELEN)


def test_refusals_for_people_and_ids(sample_bank_rw: Path) -> None:
    bank = open_bank(sample_bank_rw)
    with pytest.raises(IdentityError):
        bank.review.submit("GK-0064", answers("x", blind_response=["A"]), JUDGE, WHEN)
    with pytest.raises(InvalidIdError):
        bank.review.open("../../etc/passwd", HELEN)
    with pytest.raises(InvalidIdError):
        bank.review.submit("items/GK-0064", answers("x"), HELEN, WHEN)
    with pytest.raises(UnknownIdError):
        bank.review.open("GK-9999", HELEN)
    assert not (sample_bank_rw / "reviews" / "GK-0064").exists()


def test_own_item_is_refused(sample_bank_rw: Path) -> None:
    """A panel member who wrote an item never gets it (make Tom a reviewer to show it)."""
    settings = json.loads((sample_bank_rw / "bank.json").read_text())
    settings["panels"][0]["members"].append(TOM)
    (sample_bank_rw / "bank.json").write_text(json.dumps(settings))
    bank = open_bank(sample_bank_rw)
    assert "GK-0064" not in {e.id for e in bank.review.queue(TOM)}
    with pytest.raises(ReviewInputError, match="You wrote GK-0064"):
        bank.review.open("GK-0064", TOM)
    with pytest.raises(ReviewInputError, match="You wrote GK-0064"):
        bank.review.submit("GK-0064", answers(bank.review.open("GK-0064", HELEN).seen, blind_response=["A"]), TOM, WHEN)


def test_changed_since_last_review_shows_a_diff(sample_bank_rw: Path) -> None:
    bank = open_bank(sample_bank_rw)
    ticket = bank.review.open("GK-0064", HELEN)
    bank.review.submit("GK-0064", answers(ticket.seen, "request_changes", blind_response=["A"],
                                          comment="Say which Act."), HELEN, WHEN)
    writer = open_bank(sample_bank_rw)
    record = writer.get("GK-0064")
    record["stem"] = "Under the Children Act 1989, " + record["stem"]
    record["status"] = "in_review"
    writer.save(record, TOM)
    entry = {e.id: e for e in bank.review.queue(HELEN)}["GK-0064"]
    assert entry.changed and not entry.reviewed
    changes = bank.review.open("GK-0064", HELEN).changes
    assert any(line.startswith("+stem: Under the Children Act 1989") for line in changes)


# ---- blind keying: the first blind answer to a version is committed before the key is shown ----


def test_first_blind_answer_is_committed_and_wins_over_what_is_sent_later(sample_bank_rw: Path) -> None:
    bank = open_bank(sample_bank_rw)
    ticket = bank.review.open("GK-0064", HELEN)
    assert ticket.blind is None
    recorded = bank.review.record_blind_answer("GK-0064", ticket.seen, ["B"], HELEN, WHEN)  # wrong: key is A
    path = "reviews/GK-0064/blind/20261123T094500Z-helen-marsh.json"
    assert json.loads((sample_bank_rw / path).read_text()) == recorded == {
        "schema_version": "1.0", "id": "20261123T094500Z-helen-marsh", "target": "GK-0064",
        "content_hash": content_hash("item", ticket.record), "reviewer": HELEN,
        "answered": "2026-11-23T09:45:00Z", "response": ["B"]}
    assert log(sample_bank_rw, "-1", "--name-only", "--format=%an <%ae>|%s").split("\n")[0] == (
        f"{HELEN}|GK-0064: blind answer by Helen Marsh")
    head = log(sample_bank_rw, "-1", "--format=%H")
    other_tab = open_bank(sample_bank_rw)  # a new page is a new kernel with its own Bank
    again = other_tab.review.open("GK-0064", HELEN)
    assert again.blind == recorded
    with pytest.raises(ReviewInputError, match=r"already answered this version of GK-0064 blind \(B\)"):
        other_tab.review.record_blind_answer("GK-0064", again.seen, ["A"], HELEN, WHEN)
    assert log(sample_bank_rw, "-1", "--format=%H") == head
    # whatever the page sends now (the key), the review carries the recorded first answer
    out = other_tab.review.submit("GK-0064", answers(again.seen, "request_changes", blind_response=["A"],
                                  comment="Option B reads as right too."), HELEN, WHEN)
    assert out.review["blind_response"] == ["B"] and out.review["blind_match"] is False
    saved = json.loads((sample_bank_rw / "reviews/GK-0064/20261123T094500Z-helen-marsh.json").read_text())
    assert saved["blind_response"] == ["B"] and saved["blind_match"] is False
    assert len(list((sample_bank_rw / "reviews/GK-0064/blind").iterdir())) == 1


def test_a_new_content_version_gets_a_new_blind_answer(sample_bank_rw: Path) -> None:
    bank = open_bank(sample_bank_rw)
    ticket = bank.review.open("GK-0064", HELEN)
    first = bank.review.record_blind_answer("GK-0064", ticket.seen, ["B"], HELEN, WHEN)
    writer = open_bank(sample_bank_rw)
    record = writer.get("GK-0064")
    record["stem"] += " Choose the best answer."
    writer.save(record, TOM)
    with pytest.raises(ReviewInputError, match="changed by someone else"):  # answer to what was read
        bank.review.record_blind_answer("GK-0064", ticket.seen, ["A"], HELEN, WHEN)
    ticket = bank.review.open("GK-0064", HELEN)
    assert ticket.blind is None  # the old version's answer does not count for the new one
    second = bank.review.record_blind_answer("GK-0064", ticket.seen, ["A"], HELEN, WHEN)  # same second
    assert second["content_hash"] != first["content_hash"]
    assert second["id"] == "20261123T094501Z-helen-marsh"  # ids are never reused
    assert bank.review.open("GK-0064", HELEN).blind == second
    # (near-duplicate warnings are about the items, not the reviews: tests/test_similarity.py)
    assert [f for f in open_bank(sample_bank_rw).validate().findings if f.code != "near-duplicate"] == []


def test_crafted_blind_answers_are_refused_and_nothing_is_written(sample_bank_rw: Path) -> None:
    bank = open_bank(sample_bank_rw)
    ticket = bank.review.open("GK-0064", HELEN)
    head = log(sample_bank_rw, "-1", "--format=%H")
    for crafted, words in (([], "Choose one answer"), (["Z"], "'Z' is not an option"),
                           ("A", "Choose your answer"), ({"A": True}, "Choose your answer")):
        with pytest.raises(ReviewInputError, match=words):
            bank.review.record_blind_answer("GK-0064", ticket.seen, crafted, HELEN, WHEN)
    with pytest.raises(IdentityError, match="not on a review panel"):
        bank.review.record_blind_answer("GK-0064", ticket.seen, ["A"], TOM, WHEN)
    with pytest.raises(ReviewInputError, match="A scenario has no key"):
        bank.review.record_blind_answer("SIM-0003", bank.review.open("SIM-0003", RUTH).seen, ["A"], RUTH, WHEN)
    assert log(sample_bank_rw, "-1", "--format=%H") == head


def test_validate_allows_one_blind_answer_per_reviewer_per_version(sample_bank_rw: Path) -> None:
    bank = open_bank(sample_bank_rw)
    ticket = bank.review.open("GK-0064", HELEN)
    first = bank.review.record_blind_answer("GK-0064", ticket.seen, ["B"], HELEN, WHEN)
    folder = sample_bank_rw / "reviews/GK-0064/blind"
    second = dict(first, id="20261123T094600Z-helen-marsh", answered="2026-11-23T09:46:00Z", response=["A"])
    (folder / "20261123T094600Z-helen-marsh.json").write_text(json.dumps(second, indent=2) + "\n")
    bad = dict(first, id="20261123T094700Z-helen-marsh", response="A")
    (folder / "20261123T094700Z-helen-marsh.json").write_text(json.dumps(bad, indent=2) + "\n")
    stray = dict(first, target="GK-0999")
    (sample_bank_rw / "reviews/GK-0999/blind").mkdir(parents=True)
    (sample_bank_rw / "reviews/GK-0999/blind/20261123T094500Z-helen-marsh.json").write_text(json.dumps(stray))
    git(sample_bank_rw.parent, "add", "-A")
    git(sample_bank_rw.parent, "commit", "-q", "-m", "a second answer after seeing the key")
    found = {(f.path, f.pointer, f.code, f.severity) for f in open_bank(sample_bank_rw).validate().findings
             if f.code != "near-duplicate"}
    assert found == {
        ("reviews/GK-0064/blind/20261123T094600Z-helen-marsh.json", "", "duplicate-blind-answer", "error"),
        ("reviews/GK-0064/blind/20261123T094700Z-helen-marsh.json", "/response", "wrong-type", "error"),
        ("reviews/GK-0999/blind/20261123T094500Z-helen-marsh.json", "/target", "unknown-target", "error"),
    }
    # the first answer is still the one that counts
    assert open_bank(sample_bank_rw).review.open("GK-0064", HELEN).blind == first
