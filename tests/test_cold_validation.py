"""The shortcuts of a cold validation give exactly what the long way gives: the quick look at a
file's bytes before the term search never skips a file with a flagged term, the compact encoder
hashes as json.dumps does, and the folder-keeping reader reads or refuses exactly as
read_or_why does (a link, a FIFO, a file over the limit, a folder that is a link)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from itembank.checks.currency import build_matcher, may_flag, term_findings
from itembank.core.canonical import sha256_of
from itembank.storage.factstore import FileReader, read_or_why

TERMS = ["LSCB", "Working Together 2018", "Caf\u00e9 law"]  # the last one is not ASCII
REFERENCES: list[dict[str, Any]] = [
    {"id": "new-law", "status": "current", "title": "New law"},
    {
        "id": "old-law",
        "status": "superseded",
        "title": "Old law",
        "flag_terms": TERMS[:2],
        "superseded_by": ["new-law"],
    },
]

# prose pieces that put a term, or something close to one, in every shape JSON can give it
PIECES = st.sampled_from(
    [
        "LSCB",
        "lscb",
        "LsCb",
        "xLSCB",
        "LSCBs",
        "working together 2018",
        "Working  Together 2018",
        "Working\nTogether 2018",
        "Working Together 2018.",
        "\u212aelvin",  # KELVIN SIGN: re.IGNORECASE matches it to k
        "\u017f",  # LATIN SMALL LETTER LONG S: matches s
        '"quoted"',
        "back\\slash",
        "\u00e9",
        " ",
        "plain words",
    ]
)
PROSE = st.lists(PIECES, max_size=6).map("".join)


def _record(stem: str, options: list[str], notes: str) -> dict[str, Any]:
    return {
        "id": "GK-0001",
        "stem": stem,
        "options": [{"text": t} for t in options],
        "notes": notes,
    }


@settings(max_examples=150, deadline=None)
@given(
    PROSE,
    st.lists(PROSE, max_size=3),
    PROSE,
    st.booleans(),
    st.booleans(),
    st.sampled_from([TERMS[:2], TERMS]),
)
def test_the_quick_look_never_skips_a_flagged_term(
    stem: str, options: list[str], notes: str, ascii_only: bool, indent: bool, terms: list[str]
) -> None:
    references = [dict(REFERENCES[0]), {**REFERENCES[1], "flag_terms": terms}]
    matcher = build_matcher(references)
    record = _record(stem, options, notes)
    data = json.dumps(record, ensure_ascii=ascii_only, indent=2 if indent else None).encode()
    found = term_findings("items/GK-0001.json", record, matcher)
    if found:
        assert may_flag(matcher, data), (data, found)


def test_the_quick_look_skips_a_file_without_terms_and_not_one_with_them() -> None:
    matcher = build_matcher(REFERENCES)
    clean = json.dumps(_record("The local authority convenes a strategy discussion.", [], ""))
    assert not may_flag(matcher, clean.encode())
    flagged = json.dumps(_record("The lscb said so.", [], ""))
    assert may_flag(matcher, flagged.encode())
    # only in the notes, which are not prose: the look says maybe, the search says no
    in_notes = _record("Fine.", [], "LSCB")
    assert may_flag(matcher, json.dumps(in_notes).encode())
    assert term_findings("items/GK-0001.json", in_notes, matcher) == []
    assert not may_flag(build_matcher([REFERENCES[0]]), flagged.encode())  # no terms at all


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(JSON)
def test_sha256_of_hashes_what_json_dumps_writes(value: Any) -> None:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert sha256_of(value) == "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def test_sha256_of_still_refuses_what_json_refuses() -> None:
    loop: list[Any] = []
    loop.append(loop)
    for bad, error in (({"a": {1, 2}}, TypeError), ({1: 0, "a": 0}, TypeError), (loop, ValueError)):
        try:
            sha256_of(bad)
        except error:
            continue
        raise AssertionError(f"{bad!r} was hashed")


def test_the_folder_keeping_reader_reads_and_refuses_as_read_or_why(tmp_path: Path) -> None:
    bank = tmp_path / "bank"
    (bank / "items").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "GK-0009.json").write_text('{"secret": 1}')
    (bank / "items" / "GK-0001.json").write_text('{"id": "GK-0001"}\n')
    (bank / "items" / "GK-0002.json").write_text("")
    (bank / "items" / "GK-0003.json").write_bytes(b"x" * 2049)  # over the limit below
    (bank / "items" / "GK-0004.json").symlink_to(outside / "GK-0009.json")
    os.mkfifo(bank / "items" / "GK-0005.json")
    (bank / "items" / "GK-0006.json").mkdir()
    (bank / "stimuli").symlink_to(outside)  # a folder that is a link
    (bank / "bank.json").write_text("{}")
    paths = [
        "items/GK-0001.json",
        "items/GK-0002.json",
        "items/GK-0003.json",
        "items/GK-0004.json",
        "items/GK-0005.json",
        "items/GK-0006.json",
        "items/GK-0007.json",  # missing
        "stimuli/GK-0009.json",
        "bank.json",
        "bank.json/x.json",
    ]
    reader = FileReader(str(bank), 2048)
    try:
        got = {p: reader(p) for p in paths}
    finally:
        reader.close()
    want = {p: read_or_why(str(bank), 2048, p) for p in paths}
    assert got == want
    assert got["items/GK-0001.json"] == b'{"id": "GK-0001"}\n'
    assert got["items/GK-0002.json"] == b""
    codes = {p: v[0] for p, v in got.items() if isinstance(v, tuple)}
    assert codes == {
        "items/GK-0003.json": "too-large",
        "items/GK-0004.json": "not-a-regular-file",
        "items/GK-0005.json": "not-a-regular-file",
        "items/GK-0006.json": "not-a-regular-file",
        "items/GK-0007.json": "missing-file",
        "stimuli/GK-0009.json": "not-a-regular-file",
        "bank.json/x.json": "missing-file",
    }
