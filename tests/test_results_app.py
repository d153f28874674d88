"""The psychometrician's results app driven without a browser, over a copy of the sample bank and
the sample administration of form 1 imported into a temporary results folder: only the results
team gets in; the test summary, item table, flags, distractor and ICC plots and the DIF table
show the sample's figures; write-back is a commit by the signed-in member. Also the observed
proportions overlaid on an ICC, against a hand computation."""

from __future__ import annotations

import base64
import csv
import gzip
import html
import json
import math
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from itembank import open_bank
from itembank.results.analysis import ItemFlag
from itembank.results.empirical import empirical_icc
from itembank.results.irt import ItemParameters
from itembank.results.matrix import ScoredMatrix
from itembank.results.reliability import AnalysisInputError
from itembank.ui.results_app import ResultsApp
from itembank.ui.results_model import NotSignedInError
from tests.conftest import ROOT, SAMPLE_BANK, ImportedSample, git, results_copy, sample_repo

FORM = "practitioner-knowledge-live-2026-1"
SAMPLE = ROOT / "sample_results" / FORM
RAHUL = "Rahul Menon <rahul.menon@example.org>"
ELEANOR = "Eleanor Lindqvist <eleanor.lindqvist@example.org>"


def assembled_copy(tmp: Path) -> Path:
    """The sample bank, without its statistics, in a fresh repository with its forms assembled
    again there (same blueprint, seed and pool: the same items and option orders, so the
    sample's delivery ids match, but at a commit this repository holds; as in
    tests/test_results_import.py)."""
    bank = sample_repo(tmp)
    if (bank / "statistics").exists():  # the sample's own write-back: these tests make theirs
        git(bank.parent, "rm", "-q", "-r", "item_bank/statistics")
        git(bank.parent, "commit", "-q", "-m", "no statistics yet")
    return bank


@pytest.fixture(scope="module")
def imported(imported_sample: ImportedSample, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(bank, results folder): the sample administration of form 1 outside the repo (a copy of
    the session's import, conftest.imported_sample, which is the same import of the same files)."""
    tmp = tmp_path_factory.mktemp("results-app")
    return assembled_copy(tmp), results_copy(imported_sample.form1, tmp)


def signed_in(bank: Path, folder: Path, who: str = RAHUL) -> ResultsApp:
    app = ResultsApp(open_bank(bank))
    app.who.value = who
    app.sign_in_button.click()
    assert app.model.person == who, app.message.value
    app.folder.value = str(folder)
    app.find_button.click()
    return app


@pytest.fixture(scope="module")
def analysed(imported: tuple[Path, Path]) -> ResultsApp:
    app = signed_in(*imported)
    app.form.value = FORM
    app.pass_mark.value = "18"
    app.analyse_button.click()
    assert f"Analysed {FORM}" in app.work_line.value, app.work_line.value
    return app


def cells(html_text: str) -> list[list[str]]:
    """The rows of an HTML table as lists of cell texts."""
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", html_text, re.S)
    return [[html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r, re.S)]
            for r in rows]


def test_empirical_icc_against_a_hand_computation() -> None:
    # totals 0, 1, 1, 2: the tied pair at 1 straddles the median, so each is half in each group
    m = ScoredMatrix.from_binary([[0, 0], [1, 0], [0, 1], [1, 1]], items=["I1", "I2"])
    params = [ItemParameters("I1", 1.0, 0.0, 0.0), ItemParameters("I2", 1.0, 0.0, 0.0)]
    low, high = empirical_icc(m, params, "I1", groups=2)
    # low: weights 1, .5, .5, 0 -> mean score 1/2, I1 right (.5) / 2 = .25; TCC 2 expit(t) = .5
    assert low.size == pytest.approx(2.0) and low.mean_score == pytest.approx(0.5)
    assert low.proportion == pytest.approx(0.25)
    assert low.theta == pytest.approx(math.log(1 / 3), abs=1e-3)
    assert high.mean_score == pytest.approx(1.5) and high.proportion == pytest.approx(0.75)
    assert high.theta == pytest.approx(math.log(3), abs=1e-3)
    # an item worth 2 marks counts as right only with both (as the calibration scores it)
    two = ScoredMatrix(("a", "b"), ("I1", "I2"), np.array([[1.0, 0.0], [2.0, 0.0]]),
                       np.array([2.0, 1.0]), np.zeros((2, 2), dtype=bool))
    first, second = empirical_icc(two, params, "I1", groups=2)
    assert (first.mean_score, first.proportion) == (0.0, 0.0)  # a: 1 of 2 marks is not right
    assert (second.mean_score, second.proportion) == (1.0, 1.0)


def test_empirical_icc_refuses_what_it_cannot_place() -> None:
    m = ScoredMatrix.from_binary([[0, 1], [1, 0], [1, 1]], items=["I1", "I2"])
    params = [ItemParameters("I1", 1.0, 0.0, 0.0)]
    with pytest.raises(AnalysisInputError, match="I2 is not among the calibrated items"):
        empirical_icc(m, params, "I2")
    with pytest.raises(AnalysisInputError, match="cannot be formed from 3 candidates"):
        empirical_icc(m, params, "I1", groups=10)
    with pytest.raises(AnalysisInputError, match="does not have: I9"):
        empirical_icc(m, [*params, ItemParameters("I9", 1.0, 0.0, 0.0)], "I1", groups=2)


def test_only_the_results_team_gets_in(imported: tuple[Path, Path],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    bank, _ = imported
    app = ResultsApp(open_bank(bank))
    assert [v for _, v in app.who.options] == ["", ELEANOR, RAHUL]  # nobody else is offered
    app.sign_in_button.click()  # no name chosen
    assert "not on a results panel" in app.sign_message.value
    monkeypatch.setenv("JUPYTERHUB_USER", "helen.marsh")  # a reviewer, behind the hub
    refused = ResultsApp(open_bank(bank))
    text = refused.sign_message.value
    assert "You signed in to the hub as &#x27;helen.marsh&#x27;, who is not on a results panel" in text
    assert "they show how candidates answered each item, and so which option is its key" in text
    assert refused.model.person is None and refused.work_box.layout.display == "none"
    with pytest.raises(NotSignedInError, match="Sign in as a member of the results team"):
        refused.model.forms()
    with pytest.raises(NotSignedInError):
        refused.model.analyse(FORM)
    monkeypatch.setenv("JUPYTERHUB_USER", "eleanor.lindqvist")
    hub = ResultsApp(open_bank(bank))
    assert hub.model.person == ELEANOR and hub.work_box.layout.display == ""


def test_the_folder_is_chosen_and_checked(imported: tuple[Path, Path], tmp_path: Path) -> None:
    bank, folder = imported
    app = signed_in(bank, folder)
    assert [v for _, v in app.form.options] == [FORM]
    assert app.form.options[0][0] == f"{FORM} (2000 candidates, 1 import(s))"
    app.folder.value = str(tmp_path / "empty")
    app.find_button.click()
    assert f"No imported results in {tmp_path / 'empty'}" in app.work_line.value
    assert app.form.options == ()
    app.folder.value = str(bank / "results")  # inside the content repository: refused
    app.find_button.click()
    assert "is inside the bank&#x27;s git repository" in app.work_line.value
    assert not (bank / "results").exists()
    app.folder.value = str(folder)
    app.find_button.click()
    app.pass_mark.value = "eighteen"
    app.analyse_button.click()
    assert "The pass mark &#x27;eighteen&#x27; is not a number" in app.work_line.value
    assert app.results_box.layout.display == "none"


def test_summary_of_the_sample_administration(analysed: ResultsApp) -> None:
    summary = dict(analysed.model.summary())
    assert summary["Candidates (n)"] == "2000" and summary["Items"] == "30"
    assert summary["Mean total"] == "21.14 of 30" and summary["SD"] == "5.55"
    assert summary["Alpha (95% Feldt interval)"] == "0.881 [0.874, 0.889]"
    assert summary["SEM"] == "1.91"
    assert summary["Pass mark"] == "18 (given here)"
    assert summary["Pass rate"] == "0.721"
    # Lord's binomial CSEM at 18 of 30: sqrt(18 x 12 / 29) = 2.729...
    assert f"{math.sqrt(18 * 12 / 29):.2f}" == "2.73"
    assert summary["CSEM at the pass mark"] == "2.73 (Lord binomial error model)"
    assert summary["Decision consistency"].startswith("agreement 0.851, kappa 0.598 (Subkoviak")
    assert summary["Statistics in the bank"] == "not written yet"
    table = cells(analysed.summary.value)
    assert ["Alpha (95% Feldt interval)", "0.881 [0.874, 0.889]"] in table


def test_item_table_flags_and_order(analysed: ResultsApp) -> None:
    rows = cells(analysed.items.value)
    assert rows[0] == ["#", "item", "facility", "item-rest r", "upper-lower D", "omitted",
                       "DIF", "flags"]
    # flagged first: the two items with DIF planted against women, class C
    assert [r[1] for r in rows[1:3]] == ["AK-0009", "AK-0011"]
    assert rows[1][:7] == ["27", "AK-0009", "0.223", "0.418", "0.526", "0.6%", "C"]
    assert rows[1][7].startswith("sex: ETS class C DIF between female and male, delta_MH 2.89, "
                                 "favours male")
    # ... and GK-0021 (facility 0.945), whose item-rest r is under bank.json's 0.15
    assert analysed.items.value.count('class="ib-res-flagged"') == 3
    by_item = {r[1]: r for r in rows[1:]}
    assert by_item["GK-0021"][2:7] == ["0.945", "0.139", "0.103", "0.9%", "A"]
    assert by_item["GK-0021"][7].startswith(
        "the item agrees little with the rest of the test (item-rest r 0.139 < 0.15)")
    assert by_item["GK-0058"][6:] == ["B", "-"]  # a DIF class B alone is no flag
    # a flag outranks a DIF class B without one: GK-0060 given two flags comes third
    r = analysed.model.results
    extra = tuple(ItemFlag("GK-0060", code, f"planted {code}", 0.0, 0.0)
                  for code in ("omit-rate-high", "item-rest-low"))
    analysed.model.results = replace(r, analysis=replace(r.analysis, flags=r.analysis.flags + extra))
    try:
        ordered = analysed.model.item_rows("flags")
    finally:
        analysed.model.results = r
    assert [(o.item, o.codes) for o in ordered[:4]] == [
        ("GK-0060", ("omit-rate-high", "item-rest-low")), ("AK-0009", ("dif-class-c",)),
        ("AK-0011", ("dif-class-c",)), ("GK-0021", ("item-rest-low",))]
    analysed.order.value = "position"
    assert [r[1] for r in cells(analysed.items.value)[1:4]] == ["GK-0060", "GK-0058", "GK-0021"]
    analysed.order.value = "facility"
    assert cells(analysed.items.value)[1][1] == "AK-0009"  # the hardest, facility .223
    analysed.order.value = "flags"


def test_facility_matches_a_count_of_the_raw_file(analysed: ResultsApp) -> None:
    """GK-0021's facility counted in the CSV itself: the share of candidates who chose the
    letter the manifest says its key was shown as (the platform's scores aside)."""
    manifest = json.loads((SAMPLE_BANK / "forms" / FORM / "manifest.json").read_text())
    entry = next(e for s in manifest["sections"] for e in s["items"] if e["id"] == "GK-0021")
    assert entry["key"] == ["C"]  # letters as shown on the form
    with gzip.open(SAMPLE / "responses.csv.gz", "rt") as handle:
        letters = [r["response"] for r in csv.DictReader(handle) if r["item"].startswith("GK-0021")]
    assert len(letters) == 2000
    assert analysed.model.item_stats("GK-0021").facility == letters.count("C") / 2000 == 0.945


def test_dif_table_with_ets_classes_and_skipped_comparisons(analysed: ResultsApp) -> None:
    rows = cells(analysed.dif.value)
    assert [(r[0], r[1], r[2], r[6]) for r in rows[1:]] == [
        ("age_band", "45_plus vs 30_to_44", "GK-0010", "B"),
        ("ethnic_group", "asian vs white", "GK-0058", "B"),
        ("sex", "male vs female", "AK-0009", "C"),
        ("sex", "male vs female", "AK-0011", "C"),
        ("sex", "male vs female", "GK-0053", "B"),
    ]
    ak9 = next(r for r in rows if r[2] == "AK-0009")
    assert ak9[3:] == ["65.35", "0.0000", "2.89", "C", "male", "63.31", "0.0353", "B", ""]
    assert analysed.dif.value.count('<td class="ib-dif-C">C</td>') == 2
    skipped = cells(analysed.dif_skipped.value)
    assert skipped[1:] == [
        ["ethnic_group", "mixed vs white", "focal group 'mixed' has 85 candidates: at least 100 "
         "are needed in each group (bank.json results.dif.min_group_size)"],
        ["ethnic_group", "other vs white", "focal group 'other' has 64 candidates: at least 100 "
         "are needed in each group (bank.json results.dif.min_group_size)"],
    ]
    analysed.only_flagged.value = False
    everything = cells(analysed.dif.value)[1:]
    assert len(everything) == 6 * 30  # six comparisons made, every item in each
    assert sum(r[6] == "A" for r in everything) == 30 * 6 - 5
    analysed.only_flagged.value = True


def test_item_plots(analysed: ResultsApp) -> None:
    png = b"\x89PNG\r\n\x1a\n"
    assert analysed.item.value == "AK-0009"  # the first flagged item is shown first
    assert analysed.item.options[26] == ("AK-0009 (1 flag)", "AK-0009")
    assert bytes(analysed.distractors.value).startswith(png)
    assert bytes(analysed.curve.value).startswith(png) and analysed.curve_note.value == ""
    points = empirical_icc(analysed.model.matrix, analysed.model.results.calibration.items,
                           "AK-0009")
    assert [round(p.proportion, 3) for p in points][:3] == [0.01, 0.018, 0.041]
    before = bytes(analysed.distractors.value)
    analysed.item.value = "GK-0060"
    assert bytes(analysed.distractors.value).startswith(png)
    assert bytes(analysed.distractors.value) != before
    figure = analysed.model.distractor_plot("GK-0060")
    labels = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    key = analysed.model.matrix.keys[0]
    assert labels[0] == f"{key} (key)" and "omitted" in labels


def test_report_pdf_is_offered_for_download(analysed: ResultsApp) -> None:
    analysed.report_button.click()
    link = analysed.download.value
    assert "The technical report is ready" in analysed.work_message.value, analysed.work_message.value
    name = re.search(r'download="([^"]+)"', link)
    assert name and name.group(1) == f"{analysed.model.results.administration}-technical-report.pdf"
    data = base64.b64decode(re.search(r"base64,([A-Za-z0-9+/=]+)", link).group(1))
    assert data.startswith(b"%PDF-")


def test_write_back_is_a_commit_by_the_member(imported: tuple[Path, Path], tmp_path: Path) -> None:
    _, folder = imported
    bank = assembled_copy(tmp_path)
    app = signed_in(bank, folder, ELEANOR)
    app.form.value = FORM
    app.analyse_button.click()
    administration = app.model.results.administration
    app.write_button.click()
    assert f"Wrote the statistics of 30 items of {administration} to the bank" in \
        app.work_message.value, app.work_message.value
    log = git(bank.parent, "log", "-1", "--format=%an <%ae>|%s", "--name-only").split("\n")
    assert log[0] == (f"{ELEANOR}|statistics: administration {administration}, form {FORM} "
                      "(30 items) analysed by Eleanor Lindqvist")
    written = sorted(p for p in log[1:] if p)
    assert len(written) == 30 and written[0] == f"item_bank/statistics/{administration}/AK-0001.json"
    record = json.loads((bank.parent / written[8]).read_text())  # AK-0009
    assert record["item"] == "AK-0009" and record["analysed_by"] == ELEANOR
    assert [f["code"] for f in record["flags"]] == ["dif-class-c"]
    assert dict(app.model.summary())["Statistics in the bank"].startswith(
        f"written by {ELEANOR} at ")
    head = git(bank.parent, "rev-parse", "HEAD")
    app.write_button.click()  # the same figures again: nothing new
    assert "already in the bank with these figures" in app.work_message.value
    assert git(bank.parent, "rev-parse", "HEAD") == head
