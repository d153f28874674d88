"""Text and JSON renderings of the same findings and reports (the exit code comes from them)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from itembank.checks.coverage import Coverage
from itembank.core.findings import Finding, Report


def findings_text(findings: Sequence[Finding]) -> str:
    """One line per finding: path:pointer: severity [code] message."""
    return "\n".join(
        f"{f.path}:{f.pointer or '/'}: {f.severity} [{f.code}] {f.message}" for f in findings
    )


def report_text(report: Report) -> str:
    lines = [findings_text(report.findings)] if report.findings else []
    lines.append(
        f"{report.files_checked} files checked: {len(report.errors)} errors, "
        f"{len(report.warnings)} warnings."
    )
    return "\n".join(lines)


def to_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def coverage_text(result: Coverage) -> str:
    """A table of statements with approved / in-review / draft counts, gaps marked."""
    lines = [f"{'statement':<10} {'role':<13} {'appr':>4} {'rev':>4} {'draft':>5}  title"]
    for s in result.statements:
        flag = "  <- no approved items" if s["assessed"] and s["approved"] == 0 else ""
        if not s["assessed"]:
            flag = "  (not assessed)"
        lines.append(
            f"{s['statement']:<10} {s['role']:<13} {s['approved']:>4} "
            f"{s['in_review']:>4} {s['draft']:>5}  {s['title'][:50]}{flag}"
        )
    gaps = result.uncovered
    lines.append(
        f"{len(result.statements)} statements; {len(gaps)} assessed statement(s) "
        "without an approved item."
    )
    if result.blueprint is not None:
        bp = result.blueprint
        lines.append("")
        lines.append(
            f"Blueprint {bp.blueprint}: at most {bp.forms_upper_bound} disjoint "
            "form(s) from approved items (each constraint taken on its own):"
        )
        for limit in sorted(bp.limits, key=lambda x: x["forms"]):
            lines.append(
                f"  {limit['forms']:>3} forms  {limit['constraint']} "
                f"({limit['available']} available, {limit['per_form']} per form)"
            )
    return "\n".join(lines)
