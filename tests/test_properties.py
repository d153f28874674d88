"""Property-based tests: arbitrary input never crashes analysis; validators agree; JSON round-trips."""

from __future__ import annotations

import copy
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from itembank.analysis import analyse_file
from itembank.canonical import dumps
from itembank.currency import build_matcher
from itembank.schemas import is_valid, python_validator

from .conftest import VALID_BANK

MATCHER = build_matcher(json.loads((VALID_BANK / "references.json").read_text())["references"])
ITEM = json.loads((VALID_BANK / "items" / "TS-0002.json").read_text())
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
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
