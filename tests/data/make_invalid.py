"""Regenerate tests/data/invalid/: each case is files laid over tests/data/valid/bank plus
expected.json naming exactly the findings (path, pointer, code, severity) the case must produce,
no more, and the number of files validation must check. tests/data/valid_cases/ holds cases laid
the same way that must produce no finding at all.

Run: python tests/data/make_invalid.py   (the cases are committed; this documents them)
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
VALID = HERE / "valid" / "bank"
OUT = HERE / "invalid"
VALID_OUT = HERE / "valid_cases"


def load(rel: str) -> dict[str, Any]:
    return json.loads((VALID / rel).read_text(encoding="utf-8"))


def dump(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def edit(rel: str, change: Callable[[dict[str, Any]], None]) -> tuple[str, bytes]:
    record = load(rel)
    change(record)
    return rel, dump(record)


T3, T4, T1, T2 = "items/TS-0003.json", "items/TS-0004.json", "items/TS-0001.json", "items/TS-0002.json"
REVIEW = "reviews/TS-0001/20261101T100000Z-rita-reviewer.json"
SIM, STIM = "scenarios/SIM-0001.json", "stimuli/CS-0001.json"


def framework(ident: str, role: str, prefix: str, assessed: bool = True) -> tuple[str, bytes]:
    """A two-statement framework for `role` (the valid bank has one, for practitioners)."""
    record = load("standards/fw-a.json")
    record.update(id=ident, role=role, title=f"Framework {ident}", assessed=assessed,
                  statements=[{"id": f"{prefix}-0{n}", "number": n, "title": f"Statement {n}"}
                              for n in (1, 2)])
    return f"standards/{ident}.json", dump(record)

CASES: dict[str, tuple[str, list[tuple[str, bytes]], list[str], list[tuple[str, str, str, str]]]] = {
    "malformed-json": ("a missing value", [(T3, b'{"id": "TS-0003",\n  "format": }\n')], [],
                       [(T3, "", "malformed-json", "error")]),
    "wrong-type": ("difficulty as text", [edit(T3, lambda r: r.update(difficulty_estimate="high"))],
                   [], [(T3, "/difficulty_estimate", "wrong-type", "error")]),
    "missing-field": ("no stem", [edit(T3, lambda r: r.pop("stem"))], [],
                      [(T3, "/stem", "missing-field", "error")]),
    "unknown-field": ("a misspelt field", [edit(T3, lambda r: r.update(colour="red"))], [],
                      [(T3, "/colour", "unknown-field", "error")]),
    "key-unknown-option": ("key C of two options", [edit(T3, lambda r: r.update(key=["C"]))], [],
                           [(T3, "/key/0", "key-unknown-option", "error")]),
    "duplicate-id": ("a stimulus with an item's id",
                     [("stimuli/TS-0003.json", dump({**load("stimuli/CS-0001.json"), "id": "TS-0003",
                                                     "items": ["TS-0003"]}))], [],
                     [("stimuli/TS-0003.json", "/id", "duplicate-id", "error"),
                      ("stimuli/TS-0003.json", "/items/0", "stimulus-item-mismatch", "error")]),
    "id-mismatch": ("id differs from file name", [edit(T3, lambda r: r.update(id="TS-0009"))], [],
                    [(T3, "/id", "id-mismatch", "error")]),
    "id-escape": ("an id that would escape the bank",
                  [edit(T3, lambda r: r.update(id="../../../etc/passwd"))], [],
                  [(T3, "/id", "bad-format", "error"), (T3, "/id", "id-mismatch", "error")]),
    "bad-file-name": ("a file whose name is not an id",
                      [("items/not-an-id.json", dump(load(T3)))], [],
                      [("items/not-an-id.json", "", "bad-file-name", "error")]),
    "unknown-standard": ("statement FA-09 does not exist",
                         [edit(T3, lambda r: r["standards"][0].update(statement="FA-09"))], [],
                         [(T3, "/standards/0/statement", "unknown-standard", "error")]),
    "unknown-stimulus": ("a case that does not exist",
                         [edit(T4, lambda r: r.update(stimulus="CS-0009"))], [],
                         [(T4, "/stimulus", "unknown-stimulus", "error"),
                          ("stimuli/CS-0001.json", "/items/0", "stimulus-item-mismatch", "error")]),
    "unknown-enemy": ("an enemy that does not exist",
                      [edit(T3, lambda r: r.update(enemies=["TS-0099"]))], [],
                      [(T3, "/enemies/0", "unknown-enemy", "error")]),
    "unknown-reference": ("a misspelt reference",
                          [edit(T3, lambda r: r.update(references=["children-act-1889"]))], [],
                          [(T3, "/references/0", "unknown-reference", "error")]),
    "approval-stale": ("the stem changed after two approvals",
                       [edit(T1, lambda r: r.update(stem="Which order now?"))], [],
                       [(T1, "/status", "approval-stale", "error")]),
    "illegal-state": ("a status the workflow does not have",
                      [edit(T3, lambda r: r.update(status="published"))], [],
                      [(T3, "/status", "not-allowed-value", "error")]),
    "approved-without-reviews": ("approved with no reviews",
                                 [edit(T3, lambda r: r.update(status="approved"))], [],
                                 [(T3, "/status", "not-approved", "error")]),
    "not-utf8": ("Latin-1 text", [(T3, '{"stem": "caf\u00e9"}'.encode("latin-1"))], [],
                 [(T3, "", "not-utf8", "error")]),
    "empty-file": ("an empty file", [(T3, b"")], [], [(T3, "", "empty-file", "error")]),
    "enemy-not-symmetric": ("only one side lists the enemy",
                            [edit(T2, lambda r: r.update(enemies=[]))], [],
                            [(T1, "/enemies/0", "enemy-not-symmetric", "error")]),
    "self-review": ("the author reviewed their own item",
                    [edit(REVIEW, lambda r: r.update(reviewer="Wendy Writer <wendy@example.org>"))],
                    [], [(REVIEW, "/reviewer", "self-review", "error"),
                         (REVIEW, "/reviewer", "reviewer-not-on-panel", "warning"),
                         (T1, "/status", "not-approved", "error")]),
    "stimulus-item-mismatch": ("the case lists another item",
                               [edit("stimuli/CS-0001.json", lambda r: r.update(items=["TS-0003"]))],
                               [], [("stimuli/CS-0001.json", "/items/0", "stimulus-item-mismatch", "error"),
                                    (T4, "/stimulus", "stimulus-item-mismatch", "error")]),
    "select-count": ("choose 2 but 3 keys", [edit(T2, lambda r: r.update(select_count=2))], [],
                     [(T2, "/select_count", "key-count", "error")]),
    "two-keys-sba": ("two keys on a single best answer", [edit(T1, lambda r: r.update(key=["A", "C"]))],
                     [], [(T1, "/key", "too-many", "error")]),
    "applied-without-case": ("an applied item with no stimulus",
                             [edit(T4, lambda r: r.pop("stimulus"))], [],
                             [(T4, "/stimulus", "missing-field", "error")]),
    "mtf-key-incomplete": ("a statement with no answer",
                           [edit(T4, lambda r: r["key"].pop("D"))], [],
                           [(T4, "/key", "key-incomplete", "error")]),
    "judge-not-on-panel": ("a rating by someone not on the panel",
                           [edit("standard_setting/angoff-test/ratings/20261110T100000Z-jo-judge.json",
                                 lambda r: r.update(judge="Sam Stranger <sam@example.org>"))], [],
                           [("standard_setting/angoff-test/ratings/20261110T100000Z-jo-judge.json",
                             "/judge", "judge-not-on-panel", "error")]),
    "unknown-target": ("a review of an item that does not exist",
                       [("reviews/TS-0099/20261101T100000Z-rita-reviewer.json",
                         dump({**load(REVIEW), "target": "TS-0099"}))], [],
                       [("reviews/TS-0099/20261101T100000Z-rita-reviewer.json", "/target",
                         "unknown-target", "error")]),
    "wrong-folder": ("a review filed under another item",
                     [("reviews/TS-0002/20261101T100000Z-rita-reviewer.json", dump(load(REVIEW)))],
                     [], [("reviews/TS-0002/20261101T100000Z-rita-reviewer.json", "/target",
                           "wrong-folder", "error")]),
    "superseded-term": ("the stem cites Working Together 2018",
                        [edit(T3, lambda r: r.update(stem="Under Working Together 2018, who leads?"))],
                        [], [(T3, "/stem", "superseded-term", "warning")]),
    "cites-superseded": ("cites a superseded reference",
                         [edit(T3, lambda r: r.update(references=["working-together-2018"]))], [],
                         [(T3, "/references/0", "cites-superseded", "warning")]),
    "several-broken-files": ("one broken file does not stop the others being checked",
                             [(T3, b"{not json"), edit(T2, lambda r: r.update(colour="red")),
                              ("stimuli/CS-0001.json", b"")], [],
                             [(T3, "", "malformed-json", "error"), (T2, "/colour", "unknown-field", "error"),
                              ("stimuli/CS-0001.json", "", "empty-file", "error")]),
    "crosswalk-unknown-framework": (
        "a crosswalk to a framework that does not exist",
        [edit("standards/fw-a.json", lambda r: r.update(
            crosswalk={"to": "fw-next", "mappings": [{"from": "FA-01", "to": ["FN-01"]}]}))], [],
        [("standards/fw-a.json", "/crosswalk/to", "unknown-framework", "error")]),
    "crosswalk-unknown-statement": (
        "a crosswalk naming statements neither framework has",
        [edit("standards/fw-a.json", lambda r: r.update(
            crosswalk={"to": "fw-next", "mappings": [{"from": "FA-09", "to": ["FN-07"]}]})),
         ("standards/fw-next.json", dump({**load("standards/fw-a.json"), "id": "fw-next",
                                          "version": "2", "statements": [
                                              {"id": "FN-01", "number": 1, "title": "New"}]}))],
        [], [("standards/fw-a.json", "/crosswalk/mappings/0/from", "unknown-standard", "error"),
             ("standards/fw-a.json", "/crosswalk/mappings/0/to/0", "unknown-standard", "error")]),
    "duplicate-key": ("an option's text given twice, and the id twice",
                      [(T3, dump(load(T3)).replace(b'"text": "False"', b'"text": "True",\n      "text": "False"')
                        .replace(b'"id": "TS-0003",', b'"id": "TS-0003",\n  "id": "TS-0009",'))], [],
                      [(T3, "/id", "duplicate-key", "error"), (T3, "/options/1/text", "duplicate-key", "error")]),
    "not-a-json-number": ("NaN difficulty and an infinite score (Python's reader accepts both)",
                          [(T3, dump(load(T3)).replace(b'"difficulty_estimate": 0.6', b'"difficulty_estimate": NaN')
                            .replace(b'"max_score": 1', b'"max_score": -Infinity')),
                           (T2, dump(load(T2)).replace(b'"difficulty_estimate": 0.6', b'"difficulty_estimate": 1e999'))],
                          [],
                          [(T3, "/difficulty_estimate", "not-a-json-number", "error"),
                           (T3, "/scoring/max_score", "not-a-json-number", "error"),
                           (T2, "/difficulty_estimate", "not-a-json-number", "error")]),
    "too-large": ("a record over the bank's max_record_bytes (2048 here), padded with spaces",
                  [edit("bank.json", lambda r: r.update(max_record_bytes=2048)),
                   (T3, dump(load(T3)) + b" " * 2048)], [],
                  [(T3, "", "too-large", "error")]),
    "missing-references": ("no reference catalogue", [], ["references.json"],
                           [("references.json", "", "missing-file", "error")]),
    "standard-role-mismatch": (
        "a practitioner item mapped only to the leader framework (never assessed), a leader item "
        "(no framework assesses leaders) and a practitioner scenario's marking criterion mapped "
        "to the leader framework",
        [edit("bank.json", lambda r: (r["roles"].append({"id": "leader", "title": "Leader"}),
                                      r["frameworks"].append("fw-l"))),
         framework("fw-l", "leader", "FL", assessed=False),
         edit(T1, lambda r: r.update(standards=[{"framework": "fw-l", "statement": "FL-01",
                                                 "primary": True}])),
         edit(T3, lambda r: r.update(roles=["leader"], standards=[{"framework": "fw-l",
                                                                   "statement": "FL-01"}])),
         edit(SIM, lambda r: r["marking_scheme"]["criteria"][0]["standards"][0].update(
             framework="fw-l", statement="FL-02"))], [],
        [(T1, "/standards/0", "standard-role-mismatch", "error"),
         (T1, "/roles/0", "standard-role-missing", "error"),
         (T3, "/roles/0", "standard-role-missing", "error"),
         (SIM, "/marking_scheme/criteria/0/standards/0", "standard-role-mismatch", "error")]),
    "standard-role-missing": (
        "an item and a case for practitioners and supervisors mapped only to the practitioner "
        "framework; the item marks two statements of it primary",
        [edit("bank.json", lambda r: r["frameworks"].append("fw-s")),
         framework("fw-s", "supervisor", "FS"),
         edit(T2, lambda r: r.update(roles=["practitioner", "supervisor"], standards=[
             {"framework": "fw-a", "statement": "FA-01", "primary": True},
             {"framework": "fw-a", "statement": "FA-02", "primary": True}])),
         edit(STIM, lambda r: r.update(roles=["practitioner", "supervisor"]))], [],
        [(T2, "/roles/1", "standard-role-missing", "error"),
         (T2, "/standards", "primary-count", "warning"),
         (STIM, "/roles/1", "standard-role-missing", "error")]),
}

#: Cases laid over the valid bank that must stay valid (the same layout, expecting nothing).
VALID_CASES: dict[str, tuple[str, list[tuple[str, bytes]]]] = {
    "standards-match-roles": (
        "an item for practitioners and supervisors with a primary statement in two versions of "
        "the practitioner framework (as pqs-practitioner-2018 and ecs-2026) and in the "
        "supervisor framework, and a practitioner item mapped to both practitioner versions",
        [edit("bank.json", lambda r: r["frameworks"].extend(["fw-b", "fw-s"])),
         framework("fw-b", "practitioner", "FB"),
         framework("fw-s", "supervisor", "FS"),
         edit(T1, lambda r: r["standards"].append({"framework": "fw-b", "statement": "FB-02"})),
         edit(T2, lambda r: r.update(roles=["practitioner", "supervisor"], standards=[
             {"framework": "fw-a", "statement": "FA-01", "primary": True},
             {"framework": "fw-a", "statement": "FA-02"},
             {"framework": "fw-b", "statement": "FB-01", "primary": True},
             {"framework": "fw-s", "statement": "FS-02", "primary": True}]))]),
}


def files_checked(files: list[tuple[str, bytes]], removed: list[str]) -> int:
    """The valid bank's files, plus the case's new ones, less the ones it removes."""
    paths = {p.relative_to(VALID).as_posix() for p in VALID.rglob("*.json")}
    return len((paths | {rel for rel, _ in files}) - set(removed))


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    if VALID_OUT.exists():
        shutil.rmtree(VALID_OUT)
    cases = {**CASES, **{name: (description, files, [], []) for name, (description, files)
                         in VALID_CASES.items()}}
    for name, (description, files, removed, expected) in cases.items():
        case = (VALID_OUT if name in VALID_CASES else OUT) / name
        for rel, data in files:
            target = case / "files" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        case.mkdir(parents=True, exist_ok=True)
        (case / "expected.json").write_text(json.dumps({
            "description": description, "remove": removed,
            "files_checked": files_checked(files, removed),
            "expected": [{"path": p, "pointer": q, "code": c, "severity": s}
                         for p, q, c, s in sorted(expected)],
        }, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
