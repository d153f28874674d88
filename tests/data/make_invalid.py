"""Regenerate tests/data/invalid/: each case is files laid over tests/data/valid/bank plus
expected.json naming the findings (path, pointer, code) that the case must produce.

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

CASES: dict[str, tuple[str, list[tuple[str, bytes]], list[str], list[tuple[str, str, str]]]] = {
    "malformed-json": ("a missing value", [(T3, b'{"id": "TS-0003",\n  "format": }\n')], [],
                       [(T3, "", "malformed-json")]),
    "wrong-type": ("difficulty as text", [edit(T3, lambda r: r.update(difficulty_estimate="high"))],
                   [], [(T3, "/difficulty_estimate", "wrong-type")]),
    "missing-field": ("no stem", [edit(T3, lambda r: r.pop("stem"))], [],
                      [(T3, "/stem", "missing-field")]),
    "unknown-field": ("a misspelt field", [edit(T3, lambda r: r.update(colour="red"))], [],
                      [(T3, "/colour", "unknown-field")]),
    "key-unknown-option": ("key C of two options", [edit(T3, lambda r: r.update(key=["C"]))], [],
                           [(T3, "/key/0", "key-unknown-option")]),
    "duplicate-id": ("a stimulus with an item's id",
                     [("stimuli/TS-0003.json", dump({**load("stimuli/CS-0001.json"), "id": "TS-0003",
                                                     "items": ["TS-0003"]}))], [],
                     [("stimuli/TS-0003.json", "/id", "duplicate-id")]),
    "id-mismatch": ("id differs from file name", [edit(T3, lambda r: r.update(id="TS-0009"))], [],
                    [(T3, "/id", "id-mismatch")]),
    "id-escape": ("an id that would escape the bank",
                  [edit(T3, lambda r: r.update(id="../../../etc/passwd"))], [],
                  [(T3, "/id", "bad-format")]),
    "bad-file-name": ("a file whose name is not an id",
                      [("items/not-an-id.json", dump(load(T3)))], [],
                      [("items/not-an-id.json", "", "bad-file-name")]),
    "unknown-standard": ("statement FA-09 does not exist",
                         [edit(T3, lambda r: r["standards"][0].update(statement="FA-09"))], [],
                         [(T3, "/standards/0/statement", "unknown-standard")]),
    "unknown-stimulus": ("a case that does not exist",
                         [edit(T4, lambda r: r.update(stimulus="CS-0009"))], [],
                         [(T4, "/stimulus", "unknown-stimulus")]),
    "unknown-enemy": ("an enemy that does not exist",
                      [edit(T3, lambda r: r.update(enemies=["TS-0099"]))], [],
                      [(T3, "/enemies/0", "unknown-enemy")]),
    "unknown-reference": ("a misspelt reference",
                          [edit(T3, lambda r: r.update(references=["children-act-1889"]))], [],
                          [(T3, "/references/0", "unknown-reference")]),
    "approval-stale": ("the stem changed after two approvals",
                       [edit(T1, lambda r: r.update(stem="Which order now?"))], [],
                       [(T1, "/status", "approval-stale")]),
    "illegal-state": ("a status the workflow does not have",
                      [edit(T3, lambda r: r.update(status="published"))], [],
                      [(T3, "/status", "not-allowed-value")]),
    "approved-without-reviews": ("approved with no reviews",
                                 [edit(T3, lambda r: r.update(status="approved"))], [],
                                 [(T3, "/status", "not-approved")]),
    "not-utf8": ("Latin-1 text", [(T3, '{"stem": "caf\u00e9"}'.encode("latin-1"))], [],
                 [(T3, "", "not-utf8")]),
    "empty-file": ("an empty file", [(T3, b"")], [], [(T3, "", "empty-file")]),
    "enemy-not-symmetric": ("only one side lists the enemy",
                            [edit(T2, lambda r: r.update(enemies=[]))], [],
                            [(T1, "/enemies/0", "enemy-not-symmetric")]),
    "self-review": ("the author reviewed their own item",
                    [edit(REVIEW, lambda r: r.update(reviewer="Wendy Writer <wendy@example.org>"))],
                    [], [(REVIEW, "/reviewer", "self-review"), (T1, "/status", "not-approved")]),
    "stimulus-item-mismatch": ("the case lists another item",
                               [edit("stimuli/CS-0001.json", lambda r: r.update(items=["TS-0003"]))],
                               [], [("stimuli/CS-0001.json", "/items/0", "stimulus-item-mismatch"),
                                    (T4, "/stimulus", "stimulus-item-mismatch")]),
    "select-count": ("choose 2 but 3 keys", [edit(T2, lambda r: r.update(select_count=2))], [],
                     [(T2, "/select_count", "key-count")]),
    "two-keys-sba": ("two keys on a single best answer", [edit(T1, lambda r: r.update(key=["A", "C"]))],
                     [], [(T1, "/key", "too-many")]),
    "applied-without-case": ("an applied item with no stimulus",
                             [edit(T4, lambda r: r.pop("stimulus"))], [],
                             [(T4, "/stimulus", "missing-field")]),
    "mtf-key-incomplete": ("a statement with no answer",
                           [edit(T4, lambda r: r["key"].pop("D"))], [],
                           [(T4, "/key", "key-incomplete")]),
    "judge-not-on-panel": ("a rating by someone not on the panel",
                           [edit("standard_setting/angoff-test/ratings/20261110T100000Z-jo-judge.json",
                                 lambda r: r.update(judge="Sam Stranger <sam@example.org>"))], [],
                           [("standard_setting/angoff-test/ratings/20261110T100000Z-jo-judge.json",
                             "/judge", "judge-not-on-panel")]),
    "unknown-target": ("a review of an item that does not exist",
                       [("reviews/TS-0099/20261101T100000Z-rita-reviewer.json",
                         dump({**load(REVIEW), "target": "TS-0099"}))], [],
                       [("reviews/TS-0099/20261101T100000Z-rita-reviewer.json", "/target",
                         "unknown-target")]),
    "wrong-folder": ("a review filed under another item",
                     [("reviews/TS-0002/20261101T100000Z-rita-reviewer.json", dump(load(REVIEW)))],
                     [], [("reviews/TS-0002/20261101T100000Z-rita-reviewer.json", "/target",
                           "wrong-folder")]),
    "superseded-term": ("the stem cites Working Together 2018",
                        [edit(T3, lambda r: r.update(stem="Under Working Together 2018, who leads?"))],
                        [], [(T3, "/stem", "superseded-term")]),
    "cites-superseded": ("cites a superseded reference",
                         [edit(T3, lambda r: r.update(references=["working-together-2018"]))], [],
                         [(T3, "/references/0", "cites-superseded")]),
    "several-broken-files": ("one broken file does not stop the others being checked",
                             [(T3, b"{not json"), edit(T2, lambda r: r.update(colour="red")),
                              ("stimuli/CS-0001.json", b"")], [],
                             [(T3, "", "malformed-json"), (T2, "/colour", "unknown-field"),
                              ("stimuli/CS-0001.json", "", "empty-file")]),
    "crosswalk-unknown-framework": (
        "a crosswalk to a framework that does not exist",
        [edit("standards/fw-a.json", lambda r: r.update(
            crosswalk={"to": "fw-next", "mappings": [{"from": "FA-01", "to": ["FN-01"]}]}))], [],
        [("standards/fw-a.json", "/crosswalk/to", "unknown-framework")]),
    "crosswalk-unknown-statement": (
        "a crosswalk naming statements neither framework has",
        [edit("standards/fw-a.json", lambda r: r.update(
            crosswalk={"to": "fw-next", "mappings": [{"from": "FA-09", "to": ["FN-07"]}]})),
         ("standards/fw-next.json", dump({**load("standards/fw-a.json"), "id": "fw-next",
                                          "version": "2", "statements": [
                                              {"id": "FN-01", "number": 1, "title": "New"}]}))],
        [], [("standards/fw-a.json", "/crosswalk/mappings/0/from", "unknown-standard"),
             ("standards/fw-a.json", "/crosswalk/mappings/0/to/0", "unknown-standard")]),
    "missing-references": ("no reference catalogue", [], ["references.json"],
                           [("references.json", "", "missing-file")]),
}


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    for name, (description, files, removed, expected) in CASES.items():
        case = OUT / name
        for rel, data in files:
            target = case / "files" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        case.mkdir(parents=True, exist_ok=True)
        (case / "expected.json").write_text(json.dumps({
            "description": description, "remove": removed,
            "expected": [{"path": p, "pointer": q, "code": c} for p, q, c in expected],
        }, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
