"""Item statistics written back to the bank: the record (aggregates only), its validation, one
commit per administration by the analyst, a flagged item back in the panel queue with the reason,
assembly's empirical difficulty and delivered exposure, and the statistics history in the item
editor and the review app. Every bank is a temporary repository (tests/conftest.py)."""

from __future__ import annotations

import math
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from itembank import open_bank
from itembank.bank import Bank
from itembank.core import canonical
from itembank.core.errors import ConflictError, ReviewInputError, ValidationFailedError
from itembank.core.schemas import iter_schema_errors
from itembank.core.workflow import CRITERIA, content_hash
from itembank.forms.manifests import delivery_id
from itembank.forms.pool import EMPIRICAL_MIN_N, delivered_counts, empirical_difficulty
from itembank.results.records import (
    StatisticsInputError,
    commit_message,
    history_rows,
    statistics_record,
)
from itembank.review.rules import ReviewAnswers, pending_flags
from itembank.ui.item_editor import ItemEditor
from itembank.ui.review_app import ReviewApp
from itembank.ui.statistics_view import NO_STATISTICS

from .conftest import SAMPLE_BANK, TESTER, git, make_repo

BLUEPRINT = "practitioner-knowledge-live"
ANALYST = "Priya Shah <priya.shah@example.org>"
HELEN = "Helen Marsh <helen.marsh@example.org>"
RUTH = "Ruth Adeyemi <ruth.adeyemi@example.org>"
PANEL = (HELEN, RUTH, "Gareth Price <gareth.price@example.org>",
         "Kwame Mensah <kwame.mensah@example.org>")
ANALYSED = datetime(2026, 11, 2, 10, 0, 0, tzinfo=UTC)
HASH = "sha256:" + "ab" * 32
STATS = {"n": 412, "facility": 0.712345, "item_rest_r": 0.3141592, "upper_lower": 0.4, "omit_rate": 0.01}


def build(item: str = "GK-0001", **kw: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "administration": "2026-11-pilot", "form": "f-1", "item": item, "content_hash": HASH,
        "delivery_id": f"{item}-0a1b2c3d", "analysed_by": ANALYST, "analysis_version": "itembank 0.1",
        "item_stats": STATS, "analysed_at": ANALYSED,
    }
    args.update(kw)
    return statistics_record(**args)


# ---- the record: aggregates only ---------------------------------------------------------------

def test_the_record_copies_named_aggregates_only_and_is_valid() -> None:
    leaky = {**STATS, "candidates": ["C0001", "C0002"], "scores": [[1, 0]], "ethnicity": ["x"],
             "groups": ["low", "middle", "high"],
             "options": [{"option": "A", "by_group": [0.5, 0.3, 0.1], "is_key": False},
                         {"option": "B", "by_group": [0.5, 0.7, 0.9], "is_key": True}]}
    dif = [{"characteristic": "Age Band", "method": "mantel_haenszel", "reference": "under 40",
            "focal": "40 and over", "n_reference": 250, "n_focal": 162, "statistic": 12.44561,
            "p_value": 0.00042, "effect_size": 1.43524, "class": "B", "members": ["C0001"]}]
    record = build(item_stats=leaky, dif=dif, irt={"model": "2PL", "a": 0.988, "d": 1.856,
                                                  "se_a": 0.1, "theta": [0.1, 0.2]},
                   flags=[{"code": "low_item_rest", "reason": "item-rest r below 0.15", "who": "C9"}])
    assert list(iter_schema_errors("statistics", record)) == []
    assert "C0001" not in canonical.dumps(record) and "ethnicity" not in canonical.dumps(record)
    assert record["facility"] == 0.7123 and record["item_rest"] == 0.3142
    assert record["irt"] == {"model": "2pl", "a": 0.988, "b": -1.8785, "d": 1.856, "se_a": 0.1}
    assert record["dif"] == [{"characteristic": "age-band", "method": "mantel_haenszel",
                              "reference": "under 40", "focal": "40 and over", "n_reference": 250,
                              "n_focal": 162, "statistic": 12.4456, "p_value": 0.0004,
                              "effect_size": 1.4352, "class": "B"}]
    assert record["flags"] == [{"code": "low-item-rest", "reason": "item-rest r below 0.15"}]
    assert record["options"]["proportions"]["B"] == [0.5, 0.7, 0.9]
    assert record["analysed_at"] == "2026-11-02T10:00:00Z"


def test_undefined_figures_are_null_or_refused_and_rasch_b_gives_d() -> None:
    record = build(item_stats={**STATS, "item_rest_r": math.nan, "upper_lower": None},
                   irt={"model": "rasch", "b": -0.5})
    assert record["item_rest"] is None and record["upper_lower"] is None
    assert record["irt"] == {"model": "rasch", "a": 1.0, "b": -0.5, "d": 0.5}
    with pytest.raises(StatisticsInputError, match="the facility is undefined"):
        build(item_stats={**STATS, "facility": math.nan})
    with pytest.raises(StatisticsInputError, match="no omit_rate"):
        build(item_stats={k: v for k, v in STATS.items() if k != "omit_rate"})


def test_a_dif_group_below_the_minimum_is_refused_not_dropped() -> None:
    small = {"characteristic": "disability", "method": "mantel_haenszel", "reference": "no",
             "focal": "yes", "n_reference": 380, "n_focal": 32, "statistic": 1.0,
             "effect_size": 0.2, "class": "A"}
    with pytest.raises(StatisticsInputError, match="groups of 380 and 32: below the minimum group size \\(100\\)"):
        build(dif=[small])
    assert build(dif=[small], min_group_size=30)["dif"][0]["n_focal"] == 32


def test_commit_message_names_the_administration_and_who_ran_it() -> None:
    assert commit_message("2026-11-pilot", "f-1", 30, ANALYST) == (
        "statistics: administration 2026-11-pilot, form f-1 (30 items) analysed by Priya Shah")


def test_history_rows_are_newest_first_and_say_which_version() -> None:
    old = build(analysed_at="2026-05-01T09:00:00Z", administration="2026-05-live",
                content_hash="sha256:" + "cd" * 32)
    new = build(flags=[{"code": "hard", "reason": "facility below 0.2"}],
                dif=[{"characteristic": "sex", "method": "mantel_haenszel", "reference": "male",
                      "focal": "female", "n_reference": 200, "n_focal": 212, "statistic": 9.0,
                      "effect_size": -1.7, "class": "C"}])
    rows = history_rows([old, new], HASH)
    assert [(r["administration"], r["version"], r["dif"], r["flags"]) for r in rows] == [
        ("2026-11-pilot", "this", "C", "facility below 0.2"),
        ("2026-05-live", "earlier", "-", "-"),
    ]
    assert rows[0]["facility"] == "0.71" and rows[0]["item_rest"] == "0.31" and rows[0]["n"] == "412"


# ---- a bank with one delivered form --------------------------------------------------------------

@pytest.fixture(scope="module")
def delivered_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sample bank copy with one practitioner form committed (seed 7): the repo, read-only.
    The sample's own statistics (the simulated administration) are taken out first, so these
    tests see only the figures they save."""
    bank_path = make_repo(tmp_path_factory.mktemp("statsrec"), SAMPLE_BANK, "item_bank")
    if (bank_path / "statistics").exists():
        git(bank_path.parent, "rm", "-q", "-r", "item_bank/statistics")
        git(bank_path.parent, "commit", "-q", "-m", "no statistics yet")
    open_bank(bank_path).forms.assemble(BLUEPRINT, 1, 7, author=TESTER)
    return bank_path.parent


@pytest.fixture
def bank_path(delivered_repo: Path, tmp_path: Path) -> Path:
    """A private copy of that repository (with its history) for one test to change."""
    repo = tmp_path / "repo"
    shutil.copytree(delivered_repo, repo, symlinks=True)
    return repo / "item_bank"


def the_form(bank: Bank) -> dict[str, Any]:
    """The form assembled in this repository (the sample's own forms record commits of the
    project's repository, which a fresh test repository does not hold)."""
    return next(m for m in bank.forms.committed() if m["seed"] == 7)


def entries(form: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for s in form["sections"] for i in s["items"]]


def records_for(form: dict[str, Any], administration: str = "2026-11-pilot", *,
                when: str = "2026-11-02T10:00:00Z", n: int = 412,
                facility: dict[str, float] | None = None,
                flags: dict[str, list[dict[str, str]]] | None = None) -> list[dict[str, Any]]:
    out = []
    for entry in entries(form):
        stats = {**STATS, "n": n, "facility": (facility or {}).get(entry["id"], 0.6)}
        out.append(statistics_record(
            administration=administration, form=form["id"], item=entry["id"],
            content_hash=entry["content_hash"], delivery_id=delivery_id(entry),
            analysed_by=ANALYST, analysis_version="itembank 0.1", item_stats=stats,
            flags=(flags or {}).get(entry["id"], []), analysed_at=when))
    return out


def save(bank: Bank, records: list[dict[str, Any]]) -> str:
    first = records[0]
    return bank.save_many(records, ANALYST, commit_message(
        first["administration"], first["form"], len(records), ANALYST),
        kinds=["statistics"] * len(records))


def test_statistics_are_one_commit_by_the_analyst_and_change_no_item(bank_path: Path) -> None:
    bank = open_bank(bank_path)
    form = the_form(bank)
    before = {e["id"]: bank.get(e["id"]) for e in entries(form)}
    sha = save(bank, records_for(form))
    log = git(bank_path, "log", "-1", "--format=%an <%ae>|%s", "--name-only", sha).splitlines()
    assert log[0] == f"{ANALYST}|statistics: administration 2026-11-pilot, form {form['id']} (30 items) analysed by Priya Shah"
    assert sorted(p for p in log[1:] if p) == sorted(
        f"item_bank/statistics/2026-11-pilot/{e['id']}.json" for e in entries(form))
    after = open_bank(bank_path)
    for ident, record in before.items():  # not content: status, hash and bytes unchanged
        assert after.get(ident) == record
        assert content_hash("item", after.get(ident)) == content_hash("item", record)
    assert after.validate().findings == []
    assert after.forms.verify(form["id"]).ok
    first = entries(form)[0]["id"]
    assert [r["administration"] for r in after.statistics_of(first)] == ["2026-11-pilot"]


def test_a_record_that_does_not_match_its_form_is_refused_with_the_fix(bank_path: Path) -> None:
    bank = open_bank(bank_path)
    record = records_for(the_form(bank))[0]
    with pytest.raises(ValidationFailedError, match=r"not the version of .* that the form .* delivered"):
        bank.save_many([{**record, "content_hash": "sha256:" + "0" * 64}], ANALYST, kinds=["statistics"])
    with pytest.raises(ValidationFailedError, match="The form 'no-such-form' does not exist"):
        bank.save_many([{**record, "form": "no-such-form"}], ANALYST, kinds=["statistics"])
    assert bank.store.list_files("statistics") == []


# ---- back to the panel with the reason ------------------------------------------------------------

def flagged_bank(bank_path: Path) -> tuple[Bank, str, str]:
    """Statistics saved with flags on two approved items none of the panel wrote."""
    bank = open_bank(bank_path)
    form = the_form(bank)
    ours = [e["id"] for e in entries(form) if bank.get(e["id"])["author"] not in PANEL]
    first, second = ours[0], ours[1]
    flags = {first: [{"code": "low-item-rest", "reason": "item-rest r 0.05 is below 0.15"}],
             second: [{"code": "dif-c", "reason": "sex: ETS class C (delta_MH -1.9)"}]}
    save(bank, records_for(form, flags=flags))
    return open_bank(bank_path), first, second


def review(bank: Bank, ident: str, who: str, decision: str, when: datetime) -> Any:
    ticket = bank.review.open(ident, who)
    record = ticket.record
    bank.review.record_blind_answer(ident, ticket.seen, record["key"], who, when)
    seen = bank.review.open(ident, who).seen
    answers = ReviewAnswers(seen=seen, ratings=dict.fromkeys(CRITERIA["item"], "yes"),
                            decision=decision, comment="" if decision == "approve" else "Flag confirmed.",
                            blind_response=record["key"])
    return bank.review.submit(ident, answers, who, when)


def test_a_flagged_approved_item_returns_to_the_queue_with_the_reason(bank_path: Path) -> None:
    bank, first, second = flagged_bank(bank_path)
    queue = {e.id: e for e in bank.review.queue(HELEN)}
    assert queue[first].flags == ("item-rest r 0.05 is below 0.15",)
    assert queue[second].flags == ("sex: ETS class C (delta_MH -1.9)",)
    assert queue[first].administration == "2026-11-pilot" and not queue[first].reviewed
    approved = {i for i in queue if bank.get(i)["status"] == "approved"}
    assert approved == {first, second}  # approved items whose statistics have no flags stay out
    assert {i for i, e in queue.items() if e.flags} == {first, second}
    # meanwhile it stays approved and deliverable (a flag asks for judgement, not a withdrawal)
    assert bank.get(first)["status"] == "approved"
    pool = bank.forms.pool(bank.forms.blueprint(BLUEPRINT))
    assert first in pool.items


def test_the_panel_acts_re_approval_by_policy_clears_the_flag(bank_path: Path) -> None:
    bank, first, _ = flagged_bank(bank_path)
    outcome = review(bank, first, HELEN, "approve", datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    assert outcome.status is None  # still approved: one member is not the panel
    message = git(bank_path, "log", "-1", "--format=%s")
    assert message.strip() == f"{first}: approve (review by Helen Marsh); statistics flags reviewed"
    helen = {e.id: e for e in open_bank(bank_path).review.queue(HELEN)}
    assert helen[first].reviewed and helen[first].flags
    assert first in {e.id for e in open_bank(bank_path).review.queue(RUTH)}
    review(open_bank(bank_path), first, RUTH, "approve", datetime(2026, 11, 20, 10, 0, tzinfo=UTC))
    after = open_bank(bank_path)
    assert first not in {e.id for e in after.review.queue(RUTH)}
    assert after.get(first)["status"] == "approved"
    assert after.validate().findings == []


def test_requesting_changes_or_rejecting_a_flagged_item_takes_it_off_new_forms(bank_path: Path) -> None:
    bank, first, second = flagged_bank(bank_path)
    assert review(bank, first, HELEN, "request_changes", datetime(2026, 11, 20, 9, 0, tzinfo=UTC)).status == "in_review"
    assert review(open_bank(bank_path), second, HELEN, "reject", datetime(2026, 11, 20, 9, 5, tzinfo=UTC)).status == "retired"
    after = open_bank(bank_path)
    assert (after.get(first)["status"], after.get(second)["status"]) == ("in_review", "retired")
    pool = after.forms.pool(after.forms.blueprint(BLUEPRINT))
    assert first not in pool.items and second not in pool.items
    assert [f for f in after.validate().findings if f.severity == "error"] == []


def test_newer_unflagged_statistics_or_an_unflagged_item_are_not_queued() -> None:
    item = {"author": "Tom Whitfield <tom@example.org>", "hash": HASH}
    policy = {"approvals_required": 2, "blocking_criteria": []}
    older = {"administration": "a-1", "analysed_at": "2026-05-01T09:00:00Z", "flags": [["hard", "too hard"]]}
    newer = {"administration": "a-2", "analysed_at": "2026-11-01T09:00:00Z", "flags": []}
    assert pending_flags(item, [older], [], policy) == ("a-1", ("too hard",))
    assert pending_flags(item, [older, newer], [], policy) is None
    assert pending_flags(item, [], [], policy) is None


def _review(who: str, submitted: str, decision: str = "approve") -> tuple[str, dict[str, Any]]:
    return (f"{submitted}-{who[:4]}", {"target": "GK-0001", "hash": HASH, "reviewer": who,
                                       "decision": decision, "submitted": submitted, "noes": [],
                                       "blind_match": True, "has_comment": True, "panel": "p"})


def test_the_panel_has_acted_when_the_policy_is_met_again_or_it_asked_for_changes() -> None:
    item = {"author": "Tom Whitfield <tom@example.org>", "hash": HASH}
    policy = {"approvals_required": 2, "blind_key_mismatch_blocks": True, "blocking_criteria": []}
    record = {"administration": "a-1", "analysed_at": "2026-11-01T09:00:00Z", "flags": [["hard", "too hard"]]}
    before = [_review(HELEN, "2026-10-01T09:00:00Z"), _review(RUTH, "2026-10-02T09:00:00Z")]
    assert pending_flags(item, [record], before, policy) == ("a-1", ("too hard",))
    one = [*before, _review(HELEN, "2026-11-05T09:00:00Z")]
    assert pending_flags(item, [record], one, policy) == ("a-1", ("too hard",))
    two = [*one, _review(RUTH, "2026-11-06T09:00:00Z")]
    assert pending_flags(item, [record], two, policy) is None
    changes = [*before, _review(HELEN, "2026-11-05T09:00:00Z", "request_changes")]
    assert pending_flags(item, [record], changes, policy) is None


# ---- assembly: empirical difficulty and delivered exposure ----------------------------------------

ITEM = {"id": "GK-0001", "status": "approved", "difficulty_estimate": 0.55, "format": "single_best_answer",
        "section": "general", "stem": "s", "options": [{"id": "A", "text": "a"}, {"id": "B", "text": "b"}],
        "key": ["A"], "scoring": {"max_score": 1}}


def stats(**kw: Any) -> dict[str, Any]:
    base = {"item": "GK-0001", "content_hash": content_hash("item", ITEM), "analysed_at": "2026-11-01T09:00:00Z",
            "administration": "a-2", "form": "f-1", "n": 400, "facility": 0.42}
    return {**base, **kw}


def test_empirical_difficulty_is_the_newest_facility_of_the_current_version() -> None:
    older = stats(analysed_at="2026-05-01T09:00:00Z", administration="a-1", facility=0.8)
    assert empirical_difficulty([ITEM], [older, stats()]) == ({"GK-0001": 0.42}, [])
    assert empirical_difficulty([ITEM], [stats(), older]) == ({"GK-0001": 0.42}, [])  # any order
    # figures of another version, or from too few candidates, do not count: the writer's estimate
    other = stats(content_hash="sha256:" + "0" * 64, analysed_at="2026-12-01T09:00:00Z", facility=0.1)
    few = stats(n=EMPIRICAL_MIN_N - 1, analysed_at="2026-12-02T09:00:00Z", facility=0.1)
    assert empirical_difficulty([ITEM], [older, stats(), other, few]) == ({"GK-0001": 0.42}, [])
    assert empirical_difficulty([ITEM], [other, few]) == ({"GK-0001": 0.55}, ["GK-0001"])


def test_delivered_exposure_counts_forms_and_candidates() -> None:
    records = [stats(), stats(administration="a-1", n=100), stats(form="f-2", n=50)]
    assert delivered_counts(records) == {"GK-0001": (2, 550)}


def test_assembly_uses_empirical_difficulty_and_reports_delivered_exposure(bank_path: Path) -> None:
    bank = open_bank(bank_path)
    form = the_form(bank)
    on_form = [e["id"] for e in entries(form)]
    save(bank, records_for(form, facility={on_form[0]: 0.234, on_form[1]: 0.9}))
    bank = open_bank(bank_path)
    blueprint = {**bank.forms.blueprint(BLUEPRINT), "difficulty": {"source": "empirical", "target": 0.68, "tolerance": 0.05}}
    pool = bank.forms.pool(blueprint)
    assert pool.items[on_form[0]].difficulty == 0.234 and pool.items[on_form[1]].difficulty == 0.9
    # exposure: the committed forms holding the item (the assembler may put it on more than one)
    forms_with = sum(on_form[0] in {e["id"] for e in entries(m)} for m in bank.forms.committed())
    assert forms_with >= 1
    assert (pool.items[on_form[0]].exposure, pool.items[on_form[0]].delivered, pool.items[on_form[0]].seen_by) == (forms_with, 1, 412)
    off_form = next(i for i in pool.items if i not in on_form)
    assert pool.items[off_form].difficulty == bank.get(off_form)["difficulty_estimate"]
    assert pool.items[off_form].delivered == 0
    note = next(n for n in pool.notes if "no statistics of their current version" in n)
    unmeasured = [i["id"] for i in bank.items() if i["status"] == "approved" and i["id"] not in on_form]
    assert note.startswith(f"{len(unmeasured)} approved item(s) have no statistics")
    assert f"e.g. {', '.join(sorted(unmeasured)[:5])}" in note


# ---- the faces: item editor and review app --------------------------------------------------------

def test_item_editor_shows_the_history_newest_first_or_none_yet(bank_path: Path) -> None:
    bank = open_bank(bank_path)
    form = the_form(bank)
    ident = entries(form)[0]["id"]
    editor = ItemEditor(bank, author=TESTER)
    editor.open(ident)
    assert NO_STATISTICS in editor.statistics.value
    save(bank, records_for(form, "2026-05-live", when="2026-05-01T09:00:00Z"))
    save(bank, records_for(form, flags={ident: [{"code": "hard", "reason": "facility <0.2>"}]}))
    editor = ItemEditor(open_bank(bank_path), author=TESTER)
    editor.open(ident)
    shown = editor.statistics.value
    assert NO_STATISTICS not in shown
    assert shown.index("2026-11-pilot") < shown.index("2026-05-live")
    assert "facility &lt;0.2&gt;" in shown and "<0.2>" not in shown  # escaped
    assert shown.count("<td>412</td>") == 2 and shown.count("<td>this</td>") == 2


def test_review_app_lists_the_reason_and_shows_statistics_only_with_the_key(bank_path: Path) -> None:
    bank, first, _ = flagged_bank(bank_path)
    app = ReviewApp(bank)
    app._sign_in(HELEN)
    labels = [label for label, value in app.queue.options if value == first]
    assert labels and labels[0].endswith("flagged (2026-11-pilot): item-rest r 0.05 is below 0.15")
    app._open(first)
    assert app.statistics.value == ""  # facility and option choices would cue the key
    assert app.model.statistics() == []
    with pytest.raises(ReviewInputError, match="Answer the item first"):
        app.model.submit({}, "approve", "", {})
    app.model.answer_blind(bank.get(first)["key"])
    assert [r["administration"] for r in app.model.statistics()] == ["2026-11-pilot"]
    app._show_key(app.model.ticket, app.model.matched())
    assert "item-rest r 0.05 is below 0.15" in app.statistics.value
    for radio in app.ratings.values():
        radio.value = "yes"
    app.decision.value = "approve"
    app._submit()
    assert (f"{first} stays approved; the flag clears when 2 panel members have re-approved it "
            "since its statistics.") in app.message.value
    assert "stays in review" not in app.message.value


def test_re_analysis_replaces_an_administrations_records_once_they_are_read(bank_path: Path) -> None:
    bank = open_bank(bank_path)
    form = the_form(bank)
    save(bank, records_for(form))
    again = open_bank(bank_path)
    redone = records_for(form, when="2026-11-03T10:00:00Z", facility={entries(form)[0]["id"]: 0.5})
    with pytest.raises(ConflictError):  # written blind over figures it never read: refused
        save(again, redone)
    assert len(again.statistics_of(entries(form)[0]["id"])) == 1
    for entry in entries(form):
        again.statistics_of(entry["id"])  # read what is there: replacing it is now deliberate
    save(again, redone)
    assert open_bank(bank_path).statistics_of(entries(form)[0]["id"])[0]["facility"] == 0.5


def test_a_member_who_approved_the_item_before_can_review_it_again_after_a_flag(bank_path: Path) -> None:
    bank = open_bank(bank_path)
    form = the_form(bank)
    approvers = {(e["id"], r["reviewer"]) for e in entries(form) for r in bank.reviews_of(e["id"])
                 if r["decision"] == "approve" and r["reviewer"] in PANEL[:2]}
    ident, member = sorted(approvers)[0]
    save(bank, records_for(form, flags={ident: [{"code": "hard", "reason": "facility 0.12 is below 0.2"}]}))
    bank = open_bank(bank_path)
    entry = {e.id: e for e in bank.review.queue(member)}[ident]
    assert entry.flags == ("facility 0.12 is below 0.2",) and not entry.reviewed
    ticket = bank.review.open(ident, member)
    answers = ReviewAnswers(seen=ticket.seen, ratings=dict.fromkeys(CRITERIA["item"], "yes"),
                            decision="approve", comment="", blind_response=ticket.record["key"])
    assert bank.review.submit(ident, answers, member, datetime(2026, 11, 20, 9, 0, tzinfo=UTC)).status is None
    assert {e.id: e for e in open_bank(bank_path).review.queue(member)}[ident].reviewed
