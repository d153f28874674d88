"""Property-based tests: arbitrary input never crashes analysis; validators agree; JSON round-trips."""

from __future__ import annotations

import copy
import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from itembank.checks.analysis import analyse_file
from itembank.checks.currency import build_matcher
from itembank.core.canonical import dumps
from itembank.core.errors import ValidationFailedError
from itembank.core.findings import pointer
from itembank.core.parsing import parse_record
from itembank.core.schemas import is_valid, python_validator

from .conftest import VALID_BANK

MATCHER = build_matcher(json.loads((VALID_BANK / "references.json").read_text())["references"])
ITEM = json.loads((VALID_BANK / "items" / "TS-0002.json").read_text())
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12)


@given(st.binary(max_size=300))
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_any_bytes_give_findings_not_exceptions(data: bytes) -> None:
    result = analyse_file("items/TS-0002.json", data, MATCHER)
    assert result.findings or (result.facts and result.facts["valid"])


@given(json_values)
@settings(max_examples=200)
def test_any_json_gives_findings_not_exceptions(value: object) -> None:
    result = analyse_file("items/TS-0002.json", json.dumps(value).encode(), MATCHER)
    assert result.findings  # nothing arbitrary is a valid item
    assert all(f.path == "items/TS-0002.json" for f in result.findings)


@given(st.sampled_from(sorted(ITEM)), json_values)
@settings(max_examples=300)
def test_fast_and_reference_validators_agree(field: str, value: object) -> None:
    item = copy.deepcopy(ITEM)
    item[field] = value
    reference = not any(True for _ in python_validator("item").iter_errors(item))
    assert is_valid("item", item) == reference


@given(json_values)
def test_canonical_json_round_trips(value: object) -> None:
    text = dumps(value)
    assert text.endswith("\n") and json.loads(text) == value
    assert dumps(json.loads(text)) == text


def _paths(value: object, where: str = "") -> list[tuple[str, object]]:
    """Every (pointer, leaf) of a JSON value (an empty list or object counts as a leaf)."""
    if isinstance(value, dict) and value:
        return [p for k, v in value.items() for p in _paths(v, where + pointer(k))]
    if isinstance(value, list) and value:
        return [p for i, v in enumerate(value) for p in _paths(v, where + pointer(i))]
    return [(where, value)]


@given(st.dictionaries(st.text(), json_values, max_size=5))
def test_strict_parsing_round_trips_what_itembank_writes(record: dict[str, object]) -> None:
    assert parse_record("items/TS-0002.json", dumps(record).encode()) == (record, [])


@given(
    st.dictionaries(st.text(), json_values, min_size=1, max_size=5),
    st.data(),
    st.sampled_from([math.nan, math.inf, -math.inf]),
)
def test_non_finite_numbers_are_never_written_and_never_read(
    record: dict[str, object], data: st.DataObject, bad: float
) -> None:
    where, _ = data.draw(st.sampled_from(_paths(record)))
    parts = [p.replace("~1", "/").replace("~0", "~") for p in where.split("/")[1:]]
    node: object = record
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]  # type: ignore[index]
    if isinstance(node, list):
        node[int(parts[-1])] = bad
    else:
        node[parts[-1]] = bad  # type: ignore[index]
    try:
        dumps(record)
        raise AssertionError("written")
    except ValidationFailedError as refused:
        assert [(f.pointer, f.code) for f in refused.findings] == [(where, "not-a-json-number")]
    text = json.dumps(record)  # Python's own writer emits NaN/Infinity: strict reading refuses
    parsed, found = parse_record("items/TS-0002.json", text.encode())
    assert parsed is None
    assert [(f.pointer, f.code, f.severity) for f in found] == [
        (where, "not-a-json-number", "error")
    ]


@given(st.dictionaries(st.text(), json_values, min_size=1, max_size=5), st.data())
def test_a_key_given_twice_is_found_at_its_pointer(
    record: dict[str, object], data: st.DataObject
) -> None:
    key = data.draw(st.sampled_from(sorted(record)))
    text = json.dumps(record)
    twice = "{" + json.dumps(key) + ": null, " + text[1:]
    parsed, found = parse_record("items/TS-0002.json", twice.encode())
    assert parsed is None
    assert [(f.pointer, f.code, f.severity) for f in found] == [
        (pointer(key), "duplicate-key", "error")
    ]
