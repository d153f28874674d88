"""A finding is one problem in one place: file (relative to the bank), JSON pointer, code,
severity and a plain-English message that says how to fix it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Finding:
    """One problem found in the bank."""

    path: str
    pointer: str
    code: str
    severity: Severity
    message: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(**data)


def error(path: str, pointer: str, code: str, message: str) -> Finding:
    return Finding(path, pointer, code, "error", message)


def warning(path: str, pointer: str, code: str, message: str) -> Finding:
    return Finding(path, pointer, code, "warning", message)


def pointer(*parts: object) -> str:
    """A JSON pointer (RFC 6901) from path parts."""
    out = ""
    for part in parts:
        out += "/" + str(part).replace("~", "~0").replace("/", "~1")
    return out


@dataclass
class Report:
    """Every finding of one validation run, sorted by file then place."""

    files_checked: int
    findings: list[Finding] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.findings = sorted(set(self.findings))

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings do not fail a bank)."""
        return not self.errors

    def for_path(self, path: str) -> list[Finding]:
        return [f for f in self.findings if f.path == path]

    def codes(self) -> set[str]:
        return {f.code for f in self.findings}

    def to_dict(self) -> dict[str, Any]:
        return {
            "files_checked": self.files_checked,
            "errors": [f.to_dict() for f in self.errors],
            "warnings": [f.to_dict() for f in self.warnings],
        }

    @classmethod
    def merge(cls, files_checked: int, groups: Iterable[Iterable[Finding]]) -> Report:
        return cls(files_checked, [f for group in groups for f in group])


#: Errors that do not block a save: they can only be put right by saving another record
#: (the other side of an enemy pair or of a case set), or are the workflow check's to make.
#: validate still reports them.
DEFERRED_CODES = frozenset(
    {
        "enemy-not-symmetric",
        "stimulus-item-mismatch",
        "unknown-item",
        "not-approved",
        "approval-stale",
        "workflow-state",
    }
)
