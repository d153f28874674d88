"""The schemas are valid draft 2020-12, strict, and ship inside the built package unchanged."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from itembank.core.schemas import SCHEMA_FILES, raw_schemas

from .conftest import ROOT


def test_every_schema_is_valid_2020_12() -> None:
    for name, schema in raw_schemas().items():
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", name
        Draft202012Validator.check_schema(schema)
    assert set(SCHEMA_FILES.values()) <= set(raw_schemas())


def _objects(node: object, where: str = "") -> list[tuple[str, dict]]:
    found = []
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            found.append((where, node))
        for key, value in node.items():
            found.extend(_objects(value, f"{where}/{key}"))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(_objects(value, f"{where}/{i}"))
    return found


def test_every_object_forbids_unknown_fields() -> None:
    for name, schema in raw_schemas().items():
        for where, obj in _objects(schema):
            assert obj.get("additionalProperties") is False, f"{name}{where}"


@pytest.mark.slow
def test_the_wheel_carries_the_schemas(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "-w", str(tmp_path), str(ROOT)], check=True,
                   capture_output=True)
    wheel = next(tmp_path.glob("itembank-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        for source in sorted((ROOT / "schemas").glob("*.schema.json")):
            packed = json.loads(zf.read(f"itembank/schemas/{source.name}"))
            assert packed == json.loads(source.read_text())
