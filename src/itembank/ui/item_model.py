"""The item editor's model: the record being edited, the version it was loaded from, the findings
of the last check, whether there are unsaved changes, and what a writer may do with an item
(start one, load one, turn what the form shows into a record, check, keep a draft, save, submit).
Plain Python with no widgets, so that the editor's rules are tested without a form; the view
(item_editor.py) reads its widgets into ItemFields, asks the model, and shows the answer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from itembank.bank import Bank
from itembank.core.errors import IdentityError, InvalidIdError, ItembankError
from itembank.core.findings import Finding
from itembank.core.ids import is_id, slugify
from itembank.core.layout import kind_of
from itembank.core.render import candidate_html, reviewer_html

LETTERS = "ABCDEFGHIJ"  # option ids, in order; an item has at most this many options
DEFAULT_OPTIONS = {
    "single_best_answer": 4,
    "multiple_response": 8,
    "true_false": 2,
    "multiple_true_false": 4,
}
# where a finding about a part of the record with no box of its own is shown
FIELD_OF = {
    "key": "options",
    "select_count": "options",
    "scoring": "options",
    "stimulus": "section",
    "difficulty_estimate": "difficulty",
}


class NotSubmittedError(ItembankError):
    """Submitting for review is refused while the item has errors (saving it is not)."""


@dataclass
class OptionFields:
    """One option as the form shows it. `truth` starts true, as the form's true/false list does,
    so that an item whose format becomes 'multiple true/false' reads as the form shows it."""

    text: str = ""
    rationale: str = ""
    keyed: bool = False
    truth: bool = True


@dataclass
class ItemFields:
    """What the form's boxes hold, as plain values (lists already split from the typed text)."""

    format: str = "single_best_answer"
    section: str = "general"
    stimulus: str | None = None
    roles: list[str] = field(default_factory=list)
    stem: str = ""
    options: list[OptionFields] = field(default_factory=list)
    scoring: str = "all_or_nothing"
    rationale: str = ""
    standards: list[dict[str, Any]] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    enemies: list[str] = field(default_factory=list)
    difficulty: float = 0.65
    tags: list[str] = field(default_factory=list)
    notes: str = ""


def fields_of(record: dict[str, Any]) -> ItemFields:
    """What the form shows for a record (the inverse of ItemModel.record_from)."""
    key = record.get("key")
    options = []
    for option in record.get("options", []) or []:
        row = OptionFields(str(option.get("text", "")), str(option.get("rationale", "")))
        if isinstance(key, dict):
            row.truth = bool(key.get(option.get("id"), False))
        else:
            row.keyed = option.get("id") in (key or [])
        options.append(row)
    return ItemFields(
        format=record.get("format", "single_best_answer"),
        section=record.get("section", "general"),
        stimulus=record.get("stimulus"),
        roles=record.get("roles") or [],
        stem=str(record.get("stem", "")),
        options=options,
        scoring=(record.get("scoring") or {}).get("rule", "all_or_nothing"),
        rationale=str(record.get("rationale", "")),
        standards=list(record.get("standards", []) or []),
        references=list(record.get("references", [])),
        enemies=list(record.get("enemies", []) or []),
        difficulty=float(record.get("difficulty_estimate", 0.65)),
        tags=list(record.get("tags", []) or []),
        notes=str(record.get("notes", "")),
    )


def group_findings(
    findings: Iterable[Finding], fields: Iterable[str]
) -> tuple[dict[str, list[Finding]], dict[int, list[Finding]]]:
    """Findings by the field they concern (anything unplaced under 'general'), and those about
    one option by its position, so that each is shown next to what it is about."""
    groups: dict[str, list[Finding]] = {name: [] for name in fields}
    per_option: dict[int, list[Finding]] = {}
    for finding in findings:
        parts = finding.pointer.split("/")[1:] or [""]
        head = parts[0]
        if head == "options" and len(parts) > 1 and parts[1].isdigit():
            per_option.setdefault(int(parts[1]), []).append(finding)
            continue
        target = FIELD_OF.get(head, head)
        groups.get(target, groups["general"]).append(finding)
    return groups, per_option


def identity_or_none(bank: Bank, author: str | None) -> str | None:
    """The writer's identity if anything gives it (the argument, the hub, git), else None."""
    try:
        return bank.identity(author)
    except ItembankError:
        return None


class ItemModel:
    """One item being written: `record` as loaded (it keeps the fields the form has no box
    for), `saved` the committed version ({} for a new item), `dirty` whether the form has
    changes not yet saved, `findings` those of the last check."""

    def __init__(self, bank: Bank, author: str | None = None) -> None:
        self.bank = bank
        self.author = identity_or_none(bank, author)
        self.record: dict[str, Any] = {}
        self.saved: dict[str, Any] = {}
        self.dirty = False
        self.findings: list[Finding] = []
        self.roles = [str(r["id"]) for r in bank.settings.get("roles", [])]

    # ---- identity ---------------------------------------------------------------------------

    def set_identity(self, name: str, email: str) -> str:
        """Use this name and email for every change from now on (IdentityError if unusable)."""
        self.author = self.bank.identity(f"{name.strip()} <{email.strip()}>")
        return self.author

    # ---- opening ----------------------------------------------------------------------------

    def fetch(self, ident: object) -> dict[str, Any]:
        """The committed record of an item; an id is checked before it can become a path."""
        if not isinstance(ident, str) or not is_id("content_id", ident):
            raise InvalidIdError(f"{ident!r} is not an item id.")
        return self.bank.get(ident)

    def load(self, record: dict[str, Any], saved: dict[str, Any] | None = None) -> None:
        """Edit `record`, whose committed version is `saved` (the record itself by default)."""
        self.record = dict(record)
        self.saved = dict(saved if saved is not None else record)
        self.dirty = False

    def new(self, prefix: str = "GK", stimulus: str | None = None) -> dict[str, Any]:
        """Start a new draft with the next free id (an applied one on `stimulus`)."""
        ident = self.bank.authoring.next_id(
            prefix if prefix in ("GK", "AK") else "GK", owner=self.author
        )
        roles = [r for r in self.roles if r != "leader"]
        template: dict[str, Any] = {
            "schema_version": "1.0",
            "id": ident,
            "format": "single_best_answer",
            "section": "applied" if prefix == "AK" else "general",
            "roles": roles[:1],
            "standards": [],
            "references": [],
            "stem": "",
            "key": [],
            "options": [{"id": c, "text": "", "rationale": ""} for c in "ABCD"],
            "scoring": {"rule": "all_or_nothing", "max_score": 1},
            "rationale": "",
            "author": self.author or "",
            "status": "draft",
            "enemies": [],
            "difficulty_estimate": 0.65,
            "tags": [],
        }
        if prefix == "AK" and stimulus:
            template["stimulus"] = stimulus
        self.load(template, saved={})
        self.dirty = True
        return template

    # ---- drafts kept outside the bank -------------------------------------------------------

    def kept_draft(self, ident: str) -> dict[str, Any] | None:
        """The writer's unsaved changes to this item from an earlier session, if they differ
        from the record being edited."""
        draft = (
            self.bank.authoring.load_draft(self.author or "", "item", ident)
            if self.author
            else None
        )
        return draft if draft is not None and draft != self.record else None

    def drafts(self) -> list[tuple[str, dict[str, Any], bool]]:
        """The writer's kept item drafts from earlier sessions: (id, draft, is a new item)."""
        if not self.author:
            return []
        out = []
        for ident, record, new in self.bank.authoring.drafts(self.author):
            if kind_of(record) != "item":
                continue
            try:  # a draft that is the committed version again holds no unsaved work
                if not new and self.bank.get(ident) == record:
                    continue
            except ItembankError:
                pass
            out.append((ident, record, new))
        return out

    def resume(self, ident: str) -> bool:
        """Edit the kept draft of `ident` again after a reload: a new item's draft on its own,
        an existing item's over its committed version. False if there is no such draft."""
        found = {i: (record, new) for i, record, new in self.drafts()}
        if ident not in found:
            return False
        draft, new = found[ident]
        self.load(draft, saved={} if new else self.fetch(ident))
        self.dirty = True
        return True

    def restore(self, draft: dict[str, Any]) -> None:
        """Edit a kept draft instead: it is unsaved work on the same committed version."""
        self.load(draft, saved=self.saved)
        self.dirty = True

    def drop_draft(self, ident: str) -> None:
        self.bank.authoring.discard_draft(self.author or "", "item", ident)

    def discard(self) -> None:
        """Forget the unsaved changes to the record being edited (and its kept draft)."""
        self.drop_draft(str(self.record.get("id")))
        self.dirty = False

    # ---- editing ----------------------------------------------------------------------------

    def record_from(self, fields: ItemFields) -> dict[str, Any]:
        """The record as the form now describes it (whatever was typed)."""
        record = dict(self.record)
        fmt = fields.format
        options = [
            {"id": LETTERS[i], "text": row.text, "rationale": row.rationale}
            for i, row in enumerate(fields.options)
        ]
        key: Any
        if fmt == "multiple_true_false":
            key = {LETTERS[i]: bool(row.truth) for i, row in enumerate(fields.options)}
        else:
            key = [LETTERS[i] for i, row in enumerate(fields.options) if row.keyed]
        several = fmt in ("multiple_response", "multiple_true_false")
        record.update(
            {
                "schema_version": "1.0",
                "format": fmt,
                "section": fields.section,
                "roles": list(fields.roles),
                "standards": fields.standards,
                "references": list(fields.references),
                "stem": fields.stem,
                "options": options,
                "key": key,
                "scoring": {
                    "rule": fields.scoring if several else "all_or_nothing",
                    "max_score": (self.record.get("scoring") or {}).get("max_score", 1),
                },
                "rationale": fields.rationale,
                "enemies": [e.upper() for e in fields.enemies],
                "difficulty_estimate": round(float(fields.difficulty), 2),
                "tags": [slugify(t) for t in fields.tags],
            }
        )
        record.setdefault("author", self.author or "")
        record.setdefault("status", "draft")
        if fields.section == "applied" and fields.stimulus:
            record["stimulus"] = fields.stimulus
        else:
            record.pop("stimulus", None)
        if fmt == "multiple_response":
            record["select_count"] = len(key)
        else:
            record.pop("select_count", None)
        if fmt == "true_false":
            record["fixed_order"] = True
        if fields.notes.strip():
            record["notes"] = fields.notes
        else:
            record.pop("notes", None)
        return record

    def edited(self, record: dict[str, Any]) -> None:
        """The writer changed something: there are unsaved changes, kept as a local draft
        (outside the bank's tree) so that a dead kernel loses nothing."""
        self.dirty = True
        if self.author and is_id("content_id", record.get("id")):
            self.bank.authoring.save_draft(self.author, record, "item")

    # ---- checks and previews ----------------------------------------------------------------

    def check(self, record: dict[str, Any]) -> list[Finding] | None:
        """Every check of a draft, remembered as `findings`; None when the record has no item
        id yet (nothing to check against)."""
        if not is_id("content_id", record.get("id")):
            return None
        self.findings = self.bank.authoring.check_draft(record, "item")
        return self.findings

    def counts(self) -> tuple[int, int]:
        """Errors and warnings found by the last check."""
        errors = sum(f.severity == "error" for f in self.findings)
        return errors, len(self.findings) - errors

    def previews(
        self, record: dict[str, Any], titles: dict[tuple[str, str], str]
    ) -> tuple[str, str]:
        """The item as a candidate sees it (no key) and as a reviewer sees it (with the key)."""
        stimulus = None
        if record.get("stimulus"):
            try:
                stimulus = self.bank.get(str(record["stimulus"]))
            except ItembankError:
                stimulus = None
        return candidate_html(record, stimulus), reviewer_html(record, None, titles)

    # ---- saving -----------------------------------------------------------------------------

    def stamped(self, record: dict[str, Any]) -> dict[str, Any]:
        """The record with its author filled in (the writer, for a new item)."""
        return {**record, "author": record.get("author") or self.author}

    def save(
        self,
        record: dict[str, Any],
        submit: bool = False,
        findings: list[Finding] | None = None,
    ) -> str:
        """Save as one commit by the writer and return its sha; with submit, move a draft to
        in_review, which is refused (NotSubmittedError) while `findings` (those of a check of
        this record, run here if not given) hold an error. The bank's own refusal
        (ValidationFailedError, a conflict) reaches the caller; after a save the committed
        version is loaded and the kept draft dropped."""
        if not self.author:
            raise IdentityError(
                "Tell us who you are first: every change is recorded against a person."
            )
        record = self.stamped(record)
        if findings is None:
            findings = self.check(record) or []
        errors = [f for f in findings if f.severity == "error"]
        if submit:
            if errors:
                raise NotSubmittedError(
                    f"Not submitted: fix the {len(errors)} error(s) marked in red first."
                )
            if record.get("status") in ("draft", "changes_requested"):
                record["status"] = "in_review"
        sha = self.bank.save(record, author=self.author)
        ident = str(record["id"])
        self.bank.authoring.discard_draft(self.author, "item", ident)
        self.load(self.bank.get(ident))
        return sha


def statement_titles(frameworks: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(framework, statement) -> the statement's title, for the reviewer's preview."""
    return {
        (fid, s["id"]): s["title"]
        for fid, fw in frameworks.items()
        for s in fw.get("statements", [])
    }
