"""Load the JSON Schemas (the single source of truth for every file format) and check records.

The schemas ship inside the installed package (built from the repository's ``schemas/``);
in a source checkout they are read from ``schemas/`` directly, so there is never a second copy.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs
from referencing import Registry, Resource

if TYPE_CHECKING:  # importing jsonschema costs about a second: only done when a file is invalid
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

SCHEMA_FILES = {
    "bank": "bank.schema.json",
    "framework": "framework.schema.json",
    "references": "references.schema.json",
    "item": "item.schema.json",
    "stimulus": "stimulus.schema.json",
    "scenario": "scenario.schema.json",
    "learning_point": "learning_point.schema.json",
    "review": "review.schema.json",
    "blind_answer": "blind_answer.schema.json",
    "exercise": "standard_setting_exercise.schema.json",
    "rating": "rating.schema.json",
    "blueprint": "blueprint.schema.json",
    "form": "form_manifest.schema.json",
    "statistics": "item_statistics.schema.json",
    "ranges": "acceptable_ranges.schema.json",
    "adoption": "adopted_pass_mark.schema.json",
    "release": "release.schema.json",
}


def schema_dir() -> Path:
    """Where the schemas are: inside the installed package, else the source tree's schemas/."""
    packaged = resources.files("itembank") / "schemas"
    if packaged.is_dir():
        return Path(str(packaged))
    source = Path(__file__).resolve().parents[3] / "schemas"
    if source.is_dir():
        return source
    raise FileNotFoundError("itembank's JSON Schemas are missing: reinstall the package")


@cache
def raw_schemas() -> dict[str, dict[str, Any]]:
    """Every schema file by file name, parsed."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(schema_dir().glob("*.schema.json")):
        out[path.name] = json.loads(path.read_text(encoding="utf-8"))
    return out


@cache
def schema_fingerprint() -> str:
    """A short hash of all schemas, so caches notice a schema change."""
    import hashlib

    blob = json.dumps(raw_schemas(), sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def common_def(name: str) -> dict[str, Any]:
    """One of the shared definitions in common.schema.json (id patterns and the like)."""
    return raw_schemas()["common.schema.json"]["$defs"][name]  # type: ignore[no-any-return]


@cache
def _registry() -> Registry:
    registry: Registry = Registry()
    for name, contents in raw_schemas().items():
        registry = registry.with_resource(name, Resource.from_contents(contents))
    return registry


@cache
def python_validator(kind: str) -> Draft202012Validator:
    """The reference validator: slower, but its errors carry paths and context for messages."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(raw_schemas()[SCHEMA_FILES[kind]], registry=_registry())


def _retrieve(uri: str) -> Any:
    name = uri.rsplit("/", 1)[-1]
    if name in raw_schemas():
        return raw_schemas()[name]
    raise KeyError(f"unknown schema {uri}")


@cache
def fast_validator(kind: str) -> Any:
    """A compiled (Rust) validator used only to answer 'is this valid?' quickly."""
    base = schema_dir().resolve().as_uri() + "/"
    return jsonschema_rs.validator_for(
        raw_schemas()[SCHEMA_FILES[kind]],
        base_uri=base + SCHEMA_FILES[kind],
        retriever=_retrieve,
    )


def is_valid(kind: str, instance: Any) -> bool:
    """Quick yes/no, from the compiled validator."""
    return bool(fast_validator(kind).is_valid(instance))


def iter_schema_errors(kind: str, instance: Any) -> Iterator[ValidationError]:
    """Every structural error, with the most relevant branch chosen for oneOf/anyOf/if-then."""
    if is_valid(kind, instance):
        return
    from jsonschema.exceptions import best_match

    for error in python_validator(kind).iter_errors(instance):
        if error.context:
            yield best_match(error.context)
        else:
            yield error
