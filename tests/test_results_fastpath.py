"""The results import's fast path (issue 12, speed): a CSV read as columns and matched per
distinct (item, response) gives exactly what the row-by-row parser and matcher give, stores the
same bytes, and declines (so the row-by-row code names the problem) whatever it does not read."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from itembank import open_bank
from itembank.forms.manifests import delivery_id
from itembank.forms.scoring import score
from itembank.results.columns import read_columns, read_csv
from itembank.results.importer import parse_candidates, parse_csv, parse_many
from itembank.results.matching import match, match_columns
from itembank.storage.resultstore import ResultStore, read_sources
from tests.conftest import ImportedSample
from tests.test_results_import import FORM1, SAMPLE

SBA = {"id": "GK-9001", "format": "single_best_answer",
       "options": [{"id": o, "text": o} for o in "ABCD"], "key": ["B"],
       "scoring": {"max_score": 1, "rule": "all_or_nothing"}}
MTF = {"id": "GK-9002", "format": "multiple_true_false",
       "options": [{"id": s, "text": s} for s in ("s1", "s2", "s3")],
       "key": {"s1": True, "s2": False, "s3": True},
       "scoring": {"max_score": 3, "rule": "partial_credit"}}
ENTRIES = [{"id": "GK-9001", "content_hash": "sha256:" + "1" * 64, "option_order": ["C", "B", "A", "D"],
            "key": ["B"], "max_score": 1},
           {"id": "GK-9002", "content_hash": "sha256:" + "2" * 64, "option_order": ["s2", "s3", "s1"],
            "key": {}, "max_score": 3}]
MANIFEST = {"sections": [{"items": ENTRIES}]}
ITEMS = {"GK-9001": SBA, "GK-9002": MTF}
D1, D2 = delivery_id(ENTRIES[0]), delivery_id(ENTRIES[1])

CLEAN = (f"candidate,form,item,response,score\nC1,f,{D1},B,0\nC1,f,{D2},A=T|B=F|C=T,2\n"
         f"C2,f,GK-9001,A,0\nC2,f,{D2},,0\nC3,f,{D1},,\nC3,f,{D2},C=F|A=T|B=T,1\n")
VARIANTS = {
    "clean": CLEAN,
    "crlf and a byte-order mark": "\ufeff" + CLEAN.replace("\n", "\r\n"),
    "blank lines and no final newline": CLEAN.replace("\nC2", "\n\n\nC2").rstrip("\n"),
    "spaces around cells, header in another order and case":
        "Score , ITEM,candidate,form,response\n" + "".join(
            f" {s} ,{i} , {c},f , {r} \n" for c, _, i, r, s in
            (line.split(",") for line in CLEAN.splitlines()[1:])),
    "option ids": CLEAN.replace("response,", "response_id,").replace(",B,0", ",B,1").replace(
        "A=T|B=F|C=T", "s2=T|s3=F|s1=T").replace("C=F|A=T|B=T", "s1=F|s2=T|s3=T"),
    "two files": CLEAN,
}


def _rows(parsed_responses: list) -> list[tuple]:
    return [tuple(r) for r in parsed_responses]


def _same(fast: dict, slow: dict) -> None:
    assert sorted(fast) == sorted(slow)
    for column, values in slow.items():
        got = [None if isinstance(v, float) and np.isnan(v) else v for v in np.asarray(fast[column]).tolist()]
        assert got == values, column


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_columns_read_and_match_exactly_what_the_rows_do(variant: str) -> None:
    text = VARIANTS[variant]
    files = [("r.csv", text.encode())] + ([("s.csv", text.replace("\nC", "\nD").encode())]
                                          if variant == "two files" else [])
    fast = read_columns(files, "auto")
    slow = parse_many(files, "auto")
    assert fast is not None and slow.findings == [] and len(fast) == len(slow.responses) > 0
    assert [(str(fast.candidate[i]), fast.form[i], fast.item[i], fast.tokens(i), fast.notation(i),
             None if np.isnan(fast.platform_score[i]) else float(fast.platform_score[i]),
             fast.place(i)[1], fast.place(i)[0]) for i in range(len(fast))] == _rows(slow.responses)
    quick = match_columns("f", MANIFEST, ITEMS, fast, None, score, delivery_id)
    rows = match("f", MANIFEST, ITEMS, slow.responses, None, score, delivery_id)
    assert quick is not None and rows.errors == []
    _same(quick.responses, rows.responses)
    assert quick.disagreements == rows.disagreements and len(rows.disagreements) >= 1
    assert (quick.candidates, quick.characteristics, quick.notes) == (
        rows.candidates, rows.characteristics, rows.notes)


# the fast path declines; the row-by-row parser then names the problem
DECLINED = {
    "a quoted cell": CLEAN.replace(",B,0", ',"B",0'),
    "a lone carriage return": CLEAN.replace("\nC2", "\rC2"),
    "a short row": CLEAN.replace(",B,0", ",B"),
    "a long row": CLEAN.replace(",B,0", ",B,0,x"),
    "a row of one cell": CLEAN + "junk\n",
    "a line of spaces": CLEAN.replace("\nC2", "\n   \nC2"),
    "a bad score": CLEAN.replace(",B,0", ",B,one"),
    "an infinite score": CLEAN.replace(",B,0", ",B,inf"),
    "no candidate": CLEAN.replace("C1,f,GK-9001", ",f,GK-9001"),
    "no form": CLEAN.replace("C2,f,", "C2,,"),
    "an e-mail address": CLEAN.replace("C3,", "c3@example.org,"),
    "a bad header": CLEAN.replace("score", "marks"),
    "not UTF-8": CLEAN.replace("C1", "C\xe91"),
}


@pytest.mark.parametrize("case", sorted(DECLINED))
def test_what_the_columns_do_not_read_is_left_to_the_rows(case: str) -> None:
    data = DECLINED[case].encode("latin-1" if case == "not UTF-8" else "utf-8")
    assert read_csv("r.csv", data) is None
    slow = parse_csv("r.csv", data)
    quiet = case in ("a quoted cell", "a lone carriage return", "a line of spaces")
    assert (slow.findings == []) == quiet  # read by the rows alone, or refused with a finding


@pytest.mark.parametrize("change", ["another form", "unknown item", "duplicate", "no such option",
                                    "unknown candidate"])
def test_a_matching_problem_is_left_to_the_row_matcher(change: str) -> None:
    text = {"another form": CLEAN.replace("C2,f,", "C2,g,"),
            "unknown item": CLEAN.replace(D1, "GK-9999"),
            "duplicate": CLEAN + f"C1,f,{D1},B,1\n",
            "no such option": CLEAN.replace(",B,0", ",E,0"),
            "unknown candidate": CLEAN}[change]
    listed = parse_candidates("c.csv", b"candidate,employer\nC1,X\nC2,Y\n").candidates
    people = listed if change == "unknown candidate" else None
    fast = read_csv("r.csv", text.encode())
    assert fast is not None
    assert match_columns("f", MANIFEST, ITEMS, fast, people, score, delivery_id) is None
    rows = match("f", MANIFEST, ITEMS, parse_csv("r.csv", text.encode()).responses, people, score,
                 delivery_id)
    codes = {"another form": "unknown-form", "unknown item": "unknown-item",
             "duplicate": "duplicate-response", "no such option": "no-such-option",
             "unknown candidate": "unknown-candidate"}
    assert rows.errors and {e.code for e in rows.errors} == {codes[change]}


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.parquet"))}


def test_the_sample_stores_the_same_bytes_by_either_path(imported_sample: ImportedSample,
                                                         tmp_path: Path) -> None:
    bank = open_bank(imported_sample.bank)
    responses = SAMPLE / FORM1 / "responses.csv.gz"
    candidates = SAMPLE / FORM1 / "candidates-SIMULATED.csv.gz"
    sources = read_sources([responses])
    assert read_columns(sources, "auto") is not None  # the service takes the fast path
    # the service's import of these files into an empty folder, made once per session
    outcome = imported_sample.outcomes[FORM1]
    assert outcome.folder == imported_sample.form1
    (meta,) = ResultStore(imported_sample.form1).imports()
    # the same import by the row-by-row parser and matcher, stored from Python lists
    manifest, items = bank.results._form_items(FORM1)
    listed = parse_candidates(str(candidates), gzip.decompress(candidates.read_bytes()))
    rows = match(FORM1, manifest, items, parse_many(sources, "auto").responses,
                 listed.candidates, score, delivery_id, str(candidates))
    assert rows.errors == [] and isinstance(rows.responses["candidate"], list)
    assert [d.to_dict() for d in rows.disagreements] == [d.to_dict() for d in outcome.disagreements]
    meta = {k: v for k, v in meta.items() if k != "import_id"}
    ResultStore(tmp_path / "rows").add(outcome.import_id, meta, rows.responses, rows.candidates,
                                       rows.characteristics)
    fast, slow = _snapshot(imported_sample.form1), _snapshot(tmp_path / "rows")
    assert len(fast) == 4 and fast == slow
    assert json.dumps(outcome.to_dict()["responses"]) == "60000"
