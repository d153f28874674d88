"""Form manifests: exactly what was assembled (bank commit, blueprint and its hash, seed, solver,
every item's content hash, the option order shown and the key in the letters shown), built from
an assembly and checked again later against the bank.

Options are shuffled per form and item with a seeded, version-independent generator (SHA-256),
unless the item fixes its order (``fixed_order``, and every true/false item). The k-th option
shown is labelled with the k-th letter; the manifest's key uses those labels, so it follows the
shuffle. Pure: records in, records out.
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from itembank.core.canonical import sha256_of
from itembank.core.errors import ItembankError
from itembank.core.standards import counted_standards
from itembank.core.workflow import content_hash
from itembank.forms.assembly import AssembledForm

Record = dict[str, Any]
LETTERS = string.ascii_uppercase
SCHEMA_VERSION = "1.0"


def blueprint_hash(blueprint: Mapping[str, Any]) -> str:
    """The hash that ties a form to the exact blueprint it was built for."""
    return sha256_of(dict(blueprint))


def form_ids(blueprint_id: str, seed: int, n_forms: int) -> list[str]:
    """Ids of the forms one assembly makes: <blueprint>-<seed>-<k>."""
    return [f"{blueprint_id}-{seed}-{k}" for k in range(1, n_forms + 1)]


def _draw(seed: int, salt: str, counter: int) -> int:
    digest = hashlib.sha256(f"{seed}:{salt}:{counter}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def option_order(item: Mapping[str, Any], seed: int, form_id: str) -> list[str]:
    """The order the item's options are shown on this form (ids in authored terms)."""
    ids = [str(o["id"]) for o in item["options"]]
    if item.get("fixed_order") or item.get("format") == "true_false":
        return ids
    order = list(ids)
    for k in range(len(order) - 1, 0, -1):  # Fisher-Yates with hash-derived draws
        j = _draw(seed, f"{form_id}:{item['id']}", k) % (k + 1)
        order[k], order[j] = order[j], order[k]
    return order


def shown_key(item: Mapping[str, Any], order: Sequence[str]) -> list[str] | dict[str, bool]:
    """The key in the letters shown on the form (the k-th option shown is the k-th letter)."""
    label = {orig: LETTERS[k] for k, orig in enumerate(order)}
    key = item["key"]
    if isinstance(key, Mapping):
        return {label[s]: bool(v) for s, v in sorted(key.items(), key=lambda kv: label[kv[0]])}
    return sorted(label[k] for k in key)


#: What of the solver's report a manifest keeps (not the seconds: a manifest records what was
#: assembled, and the same inputs must give the same manifest).
MANIFEST_SOLVER_FIELDS = (
    "name",
    "version",
    "status",
    "objective",
    "tolerance",
    "parity_bound",
    "bound_scope",
    "start",
    "decomposition",
    "target",
    "deviation",
    "spread",
    "curve_deviations",
    "theta",
    "theta_from",
)


def build_manifest(
    form_id: str,
    form: AssembledForm,
    blueprint: Mapping[str, Any],
    items: Mapping[str, Mapping[str, Any]],
    stimuli: Mapping[str, Mapping[str, Any]],
    difficulty: Mapping[str, float],
    seed: int,
    bank_commit: str,
    created: str,
    solver: Mapping[str, Any],
    siblings: Sequence[str],
    bank_path: str | None = None,
) -> Record:
    """The manifest of one assembled form (schemas/form_manifest.schema.json). `bank_path`,
    the bank folder inside its repository, lets the records be read at `bank_commit` later."""
    sections = []
    for section in form.sections:
        entry: Record = {"id": section.id, "title": section.title, "items": []}
        if section.time_minutes:
            entry["time_minutes"] = section.time_minutes
        if section.stimulus:
            entry["stimulus"] = section.stimulus
            entry["stimulus_hash"] = content_hash("stimulus", stimuli[section.stimulus])
        for ident in section.items:
            item = items[ident]
            order = option_order(item, seed, form_id)
            entry["items"].append(
                {
                    "id": ident,
                    "content_hash": content_hash("item", item),
                    "option_order": order,
                    "key": shown_key(item, order),
                    "max_score": item["scoring"]["max_score"],
                }
            )
        sections.append(entry)
    ids = form.items
    totals: Record = {
        "items": len(ids),
        "max_score": sum(float(items[i]["scoring"]["max_score"]) for i in ids),
        "time_minutes": int(blueprint["time_minutes"]),
        "difficulty_mean": round(sum(difficulty[i] for i in ids) / len(ids), 6),
    }
    manifest: Record = {
        "schema_version": SCHEMA_VERSION,
        "id": form_id,
        "blueprint": blueprint["id"],
        "blueprint_hash": blueprint_hash(blueprint),
        "bank_commit": bank_commit,
        "seed": seed,
        "created": created,
        "siblings": [s for s in siblings if s != form_id],
        "solver": {k: solver[k] for k in MANIFEST_SOLVER_FIELDS if k in solver},
        "sections": sections,
        "totals": totals,
    }
    if bank_path is not None:
        manifest["bank_path"] = bank_path
    return manifest


class StaleFormError(ItembankError):
    """A form no longer matches the bank (items changed, retired or missing)."""


class NotDeliverableError(StaleFormError):
    """Content that would reach a candidate lacks the approvals the review policy requires, or
    differs from what git records. `lines` name each id and why, one per line."""

    def __init__(self, message: str, lines: Sequence[str]) -> None:
        super().__init__(message + "".join(f"\n  - {line}" for line in lines))
        self.lines = list(lines)


#: Statuses that mean the content went back to be reviewed again.
BACK_TO_REVIEW = frozenset({"draft", "in_review", "changes_requested"})


@dataclass
class FormCheck:
    """What verify found. `problems` are faults of the form as recorded, read at its recorded
    bank commit (content hash, approvals then, option order, key, totals); the other lists say
    what happened since: edited, retired or back to review, approvals no longer valid, gone, or
    a working-tree file that differs from HEAD."""

    form: str
    commit: str = ""
    changed: list[str] = field(default_factory=list)
    not_approved: list[tuple[str, str]] = field(default_factory=list)  # (id, status now)
    stale: list[tuple[str, str]] = field(default_factory=list)  # (id, "code: why") now
    missing: list[str] = field(default_factory=list)
    uncommitted: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """The form can be delivered again as it stands."""
        return not (
            self.changed
            or self.not_approved
            or self.stale
            or self.missing
            or self.uncommitted
            or self.problems
        )

    def export_blockers(self, as_delivered: bool = False) -> list[str]:
        """Why the form cannot be exported. The files are rebuilt from the recorded commit, so
        an edit since (re-approved) or a retirement does not block; content whose current
        state is not approved-or-retired blocks unless it is re-exported `as_delivered` (for
        the record, e.g. an appeal). Faults of the form as recorded and uncommitted files
        always block."""
        out = [self._uncommitted_line(i) for i in self.uncommitted] + list(self.problems)
        if not as_delivered:
            out += [f"{i}: {why}" for i, why in self.stale]
            out += [self._status_line(i, s) for i, s in self.not_approved if s != "retired"]
            out += [f"{i}: no longer in the bank" for i in self.missing]
        return out

    @staticmethod
    def _uncommitted_line(ident: str) -> str:
        return (
            f"{ident}: uncommitted-change: its file or its reviews differ from the last commit "
            "(commit or discard the change)"
        )

    def _status_line(self, ident: str, status: str) -> str:
        if status == "retired":
            return f"{ident}: retired since the form was assembled"
        if status in BACK_TO_REVIEW:
            return (
                f"{ident}: not-approved: went back to review since the form was assembled "
                f"(status {status})"
            )
        return f"{ident}: not-approved: now {status}"

    def lines(self) -> list[str]:
        since = f" at {self.commit[:10]}" if self.commit else ""
        out = [self._uncommitted_line(i) for i in self.uncommitted]
        out += [f"{i}: edited since the form was assembled{since}" for i in self.changed]
        out += [self._status_line(i, s) for i, s in self.not_approved]
        out += [f"{i}: {why}" for i, why in self.stale]
        out += [f"{i}: no longer in the bank" for i in self.missing]
        return out + self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "form": self.form,
            "commit": self.commit,
            "ok": self.ok,
            "changed": self.changed,
            "not_approved": [{"id": i, "status": s} for i, s in self.not_approved],
            "stale": [{"id": i, "why": w} for i, w in self.stale],
            "missing": self.missing,
            "uncommitted": self.uncommitted,
            "problems": self.problems,
            "notes": self.notes,
        }


def manifest_ids(manifest: Mapping[str, Any]) -> dict[str, str]:
    """Every content id a form names -> its kind (cases first, in the form's order)."""
    out: dict[str, str] = {}
    for section in manifest["sections"]:
        if section.get("stimulus"):
            out[str(section["stimulus"])] = "stimulus"
        for entry in section["items"]:
            out[str(entry["id"])] = "item"
    return out


def delivery_id(entry: Mapping[str, Any]) -> str:
    """The identifier a delivery platform sees for one manifest item entry: the bank id plus a
    short hash of exactly what is delivered (content version and option order).

    Two forms that show an item in different option orders are different deliveries: a
    platform that de-duplicates by identifier must not merge them, and results coming back
    must name the variant that was scored. Same content, same order -> same identifier, on
    every form and every export. The bank id travels separately in the item's metadata.
    """
    variant = f"{entry['content_hash']}|{'|'.join(str(o) for o in entry['option_order'])}"
    digest = hashlib.sha256(variant.encode("utf-8")).hexdigest()[:8]
    return f"{entry['id']}-{digest}"


def check_manifest(
    manifest: Mapping[str, Any],
    items: Mapping[str, Mapping[str, Any]],
    stimuli: Mapping[str, Mapping[str, Any]],
    blueprint: Mapping[str, Any] | None,
    recorded_verdicts: Mapping[str, str] | None = None,
) -> FormCheck:
    """Re-derive every hash, option order, key and total from the records AS RECORDED (read
    at the manifest's bank commit) and list, as problems, whatever does not match the manifest
    or did not carry the required approvals then (`recorded_verdicts`: id -> "code: why")."""
    check = FormCheck(str(manifest["id"]), str(manifest.get("bank_commit", "")))
    seed = int(manifest["seed"])
    at = f"at the recorded commit {check.commit[:10]}"
    verdicts = recorded_verdicts or {}
    total_items = 0
    total_score = 0.0

    def recorded(kind: str, ident: str, record: Mapping[str, Any] | None, expected: Any) -> bool:
        if record is None:
            check.problems.append(f"{ident}: not in the bank {at}")
            return False
        if content_hash(kind, record) != expected:
            check.problems.append(
                f"{ident}: hash-mismatch: its content {at} is not the content the manifest "
                "records (the manifest or the history was altered)"
            )
            return False
        if record.get("status") != "approved":
            check.problems.append(f"{ident}: not-approved: it was {record.get('status')} {at}")
        elif ident in verdicts:
            check.problems.append(f"{ident}: {verdicts[ident]} ({at})")
        return True

    for section in manifest["sections"]:
        sid = section.get("stimulus")
        if sid:
            recorded("stimulus", sid, stimuli.get(sid), section.get("stimulus_hash"))
        for entry in section["items"]:
            ident = entry["id"]
            total_items += 1
            total_score += float(entry["max_score"])
            item = items.get(ident)
            if not recorded("item", ident, item, entry["content_hash"]) or item is None:
                continue
            order = option_order(item, seed, check.form)
            if entry["option_order"] != order:
                check.problems.append(
                    f"{ident}: the recorded option order {entry['option_order']} is not the one "
                    f"the seed gives ({order})"
                )
            if entry["key"] != shown_key(item, entry["option_order"]):
                check.problems.append(f"{ident}: the recorded key does not follow the options")
            if float(entry["max_score"]) != float(item["scoring"]["max_score"]):
                check.problems.append(f"{ident}: the recorded max score differs from the item's")
    totals = manifest["totals"]
    if totals["items"] != total_items or abs(float(totals["max_score"]) - total_score) > 1e-9:
        check.problems.append("the totals do not add up to the items listed")
    if blueprint is None:
        check.notes.append(f"the blueprint {manifest['blueprint']} is no longer in the bank")
    elif blueprint_hash(blueprint) != manifest["blueprint_hash"]:
        check.notes.append(
            f"the blueprint {manifest['blueprint']} has changed since this form was assembled "
            "(the form still stands as built)"
        )
    return check


def changes_since(
    check: FormCheck,
    manifest: Mapping[str, Any],
    current: Mapping[str, Mapping[str, Any]],
    current_verdicts: Mapping[str, str],
    uncommitted: Sequence[str] = (),
) -> FormCheck:
    """Add to `check` what happened to each id since the recorded commit, from the bank now
    (`current`: id -> record; `current_verdicts`: id -> "code: why" for content marked
    approved that the review policy does not back; `uncommitted`: ids whose file or reviews
    differ from HEAD)."""
    recorded_hash = {
        str(s["stimulus"]): s.get("stimulus_hash")
        for s in manifest["sections"]
        if s.get("stimulus")
    }
    recorded_hash.update(
        {str(e["id"]): e["content_hash"] for s in manifest["sections"] for e in s["items"]}
    )
    kinds = manifest_ids(manifest)
    for ident, kind in kinds.items():
        if ident in uncommitted:
            check.uncommitted.append(ident)
        record = current.get(ident)
        if record is None:
            check.missing.append(ident)
            continue
        if content_hash(kind, record) != recorded_hash[ident]:
            check.changed.append(ident)
        status = str(record.get("status"))
        if status != "approved":
            check.not_approved.append((ident, status))
        elif ident in current_verdicts:
            check.stale.append((ident, current_verdicts[ident]))
    return check


__all__ = [
    "BACK_TO_REVIEW",
    "FormCheck",
    "FormsOutcome",
    "NotDeliverableError",
    "StaleFormError",
    "blueprint_hash",
    "build_manifest",
    "changes_since",
    "check_manifest",
    "delivery_id",
    "form_ids",
    "manifest_ids",
    "option_order",
    "shown_key",
]


@dataclass
class FormsOutcome:
    """What one assembly produced: the manifests, the solver's result, and where they went."""

    manifests: list[Record]
    assembly: Any
    commit: str | None  # the commit that added them to the bank, or
    written: list[Any] | None  # the files written with --out


def compare(
    manifests: Sequence[Mapping[str, Any]],
    items: Mapping[str, Mapping[str, Any]],
    framework_roles: Mapping[str, str] | None = None,
    form_roles: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Forms side by side: one row per form with its mean difficulty, max score, case(s), and
    how many items count towards each statement (as blueprint bounds count them). Given the
    frameworks' roles, only mappings to frameworks of the item's roles count, and given a
    form's role (form id -> its blueprint's role), only those of that role: a practitioner
    form's columns are practitioner statements, though its items may also serve supervisors."""
    rows = []
    for m in manifests:
        ids = [e["id"] for s in m["sections"] for e in s["items"]]
        row: dict[str, Any] = {
            "form": m["id"],
            "items": len(ids),
            "max_score": m["totals"]["max_score"],
            "difficulty_mean": m["totals"].get("difficulty_mean"),
            "cases": ", ".join(s["stimulus"] for s in m["sections"] if s.get("stimulus")),
        }
        form_role = (form_roles or {}).get(str(m["id"]))
        for ident in ids:
            item = items[ident]
            roles = [r for r in item.get("roles", []) if form_role in (None, r)]
            counted = counted_standards(item["standards"], roles, framework_roles)
            for _fw, statement in sorted(counted):
                row[statement] = row.get(statement, 0) + 1
        rows.append(row)
    return rows
