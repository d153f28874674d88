"""The writers' section of a bank (``bank.authoring``): the next free id, what a writer sees
while writing (checks, item-writing lint, near-duplicates), unsaved drafts kept per person,
'my items', and a spreadsheet of drafts imported in one commit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from itembank.authoring.csvimport import Row, column_of, read_rows
from itembank.authoring.remap import (
    RemapError,
    RemapPlan,
    crosswalk_between,
    plan_remap,
    unknown_skips,
)
from itembank.checks.analysis import FileResult, analyse_file
from itembank.checks.bankrules import check_bank
from itembank.checks.currency import build_matcher
from itembank.checks.lint import lint_item
from itembank.checks.similarity import Match, SimilarityIndex
from itembank.checks.validation import Progress, analyse_many
from itembank.core import canonical
from itembank.core.errors import (
    ItembankError,
    WorkflowError,
)
from itembank.core.findings import DEFERRED_CODES, Finding, error, warning
from itembank.core.identity import check_person
from itembank.core.ids import check_id, is_id, slugify
from itembank.core.layout import CONTENT_FOLDERS, CONTENT_KINDS, kind_of, path_for, path_of
from itembank.core.parsing import parse_record

if TYPE_CHECKING:
    from itembank.bank import Bank

Record = dict[str, Any]


class Authoring:
    """The writers' section: everything here acts for one writer at a time."""

    def __init__(self, bank: Bank) -> None:
        self._bank = bank
        self._store = bank.store

    def next_id(self, prefix: str, digits: int = 4, owner: str | None = None) -> str:
        """The next free content id with this prefix (e.g. GK -> GK-0065). With `owner`, an id
        this writer holds a kept draft of is reserved too, so a new item never overwrites the
        unsaved draft of an earlier one."""
        check_id("content_id", f"{prefix}-{'0' * digits}")
        paths = self._store.list_files()
        if owner:
            paths = [*paths, *self._store.list_drafts(slugify(owner))]
        used = [
            int(p.rsplit("-", 1)[1].split(".")[0])
            for p in paths
            if p.split("/")[-1].startswith(prefix + "-")
            and p.split("/")[0] in CONTENT_FOLDERS.values()
            and p.rsplit("-", 1)[1].split(".")[0].isdigit()
        ]
        return f"{prefix}-{max(used, default=0) + 1:0{digits}d}"

    def check_draft(self, record: Record, kind: str | None = None) -> list[Finding]:
        """What a writer should see while writing: schema and rules (with links to the rest of
        the bank), item-writing checks and near-duplicates of existing items."""
        kind = kind or kind_of(record)
        relpath = path_of(record, kind)
        record = dict(record)
        extra: list[Finding] = []
        try:  # check what a save would store: edited approved content goes back to review
            if self._bank._apply_workflow(kind, record, self._bank._previous(relpath)):
                extra.append(
                    warning(
                        relpath,
                        "/status",
                        "back-to-review",
                        "The content of this approved item has changed: saving sends it back to "
                        "review, and the panel must approve it again.",
                    )
                )
        except WorkflowError as exc:
            extra.append(error(relpath, "/status", "workflow", str(exc)))
        findings = self._bank.check_record(record, kind) + extra
        if kind == "item":
            findings += lint_item(relpath, record)
            enemies = set(record.get("enemies", []) or [])
            for match in self.similar_items(record):
                if match.id not in enemies:
                    findings.append(
                        warning(
                            relpath,
                            "/stem",
                            "near-duplicate",
                            f"Very like {match.id} (similarity {match.score:.2f}): "
                            f"{match.stem[:120]!r}. Make sure it is not the same question; if both "
                            "stay, list each as the other's enemy.",
                        )
                    )
        return sorted(set(findings))

    def similar_items(self, record: Record) -> list[Match]:
        """Existing items most like this one (the index is built once per Bank and save)."""
        if self._bank._similarity is None:
            self._bank._similarity = SimilarityIndex(self._bank.items())
        return self._bank._similarity.similar(record)

    def save_draft(self, owner: str, record: Record, kind: str | None = None) -> None:
        """Keep a writer's unsaved work (outside the working tree, per person)."""
        relpath = path_of(record, kind or kind_of(record))
        self._store.write_draft(slugify(owner), relpath, canonical.dumps(record).encode("utf-8"))

    def load_draft(self, owner: str, kind: str, ident: str) -> Record | None:
        """The writer's kept unsaved version, if any and readable."""
        relpath = path_for(kind, ident)
        data = self._store.read_draft(slugify(owner), relpath)
        if data is None:
            return None
        record, _ = parse_record(relpath, data)
        return record

    def drafts(self, owner: str) -> list[tuple[str, Record, bool]]:
        """(id, record, is new) for each readable draft this writer keeps: a new item's draft
        has no committed record yet, so a reload is the only way back to it."""
        out = []
        committed = set(self._store.list_files())
        for relpath in self._store.list_drafts(slugify(owner)):
            data = self._store.read_draft(slugify(owner), relpath)
            if data is None:
                continue
            record, findings = parse_record(relpath, data)
            if record is None or any(f.severity == "error" for f in findings):
                continue
            ident = str(record.get("id", ""))
            if is_id("content_id", ident):
                out.append((ident, record, relpath not in committed))
        return out

    def discard_draft(self, owner: str, kind: str, ident: str) -> None:
        self._store.delete_draft(slugify(owner), path_for(kind, ident))

    def remap(
        self,
        source: str,
        target: str,
        author: str | None = None,
        apply: bool = False,
        replace: bool = False,
        skip: tuple[str, ...] = (),
    ) -> RemapPlan:
        """Propose each item's, case's and scenario's mappings to `target` from `source`'s
        crosswalk; with `apply`, save every accepted proposal in ONE commit by `author` (the
        maintainer). Mappings are outside the approved content hash, so approvals stay valid."""
        walk = crosswalk_between(self._bank.frameworks(), source, target)
        records = [(kind, record) for kind in CONTENT_KINDS for record in self._bank.records(kind)]
        plan = plan_remap(records, walk, replace, skip)
        if typos := unknown_skips(plan, skip):
            raise RemapError(
                f"--skip names {', '.join(typos)}, which the plan does not include (no mapping "
                f"to {source}): check the id(s)."
            )
        by_id = {str(r.get("id")): (kind, r) for kind, r in records}
        uncommitted = set(self._store.uncommitted())
        changed, kinds = [], []
        for proposal in plan.accepted:  # one bad record must not block the batch: set it aside
            kind, record = by_id[proposal.id]
            new = {**record, "standards": proposal.standards}
            relpath = path_of(new, kind)
            errors = [
                f
                for f in self._bank.check_record(new, kind)
                if f.severity == "error" and f.code not in DEFERRED_CODES
            ]
            if relpath in uncommitted:
                proposal.outcome = "uncommitted"
                proposal.remarks.append(self._store.uncommitted_words(relpath))
            elif errors:
                proposal.outcome = "invalid"
                more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
                proposal.remarks.append(f"{errors[0].pointer or '/'}: {errors[0].message}{more}")
            else:
                changed.append(new)
                kinds.append(kind)
        if not apply or not changed:
            return plan
        author = check_person(author)
        if problem := self._store.state_problem():
            raise RemapError(f"The remap was not saved: {problem}")
        ids = ", ".join(p.id for p in plan.accepted)
        message = (
            f"Remap {len(changed)} record(s) from {source} to {target} by its crosswalk"
            f"{' (replacing the old mappings)' if replace else ''}\n\n{ids}"
        )
        plan.commit = self._bank.save_many(changed, author, message, kinds=kinds)
        return plan

    def new_learning_point(self, author: str, **fields: Any) -> Record:
        """A new learning point (the next free LP id) as a draft by `author`, with `fields`
        (title, text, roles, standards, references, tags) filled in: save it with bank.save."""
        record: Record = {
            "schema_version": "1.0",
            "id": self.next_id("LP", owner=author),
            "title": "",
            "roles": [],
            "standards": [],
            "text": "",
            "references": [],
            "author": check_person(author),
            "status": "draft",
            "tags": [],
        }
        record.update(fields)
        return record

    def items_by(self, author: str) -> list[dict[str, Any]]:
        """One row per item and learning point this person wrote: status, last change, open
        review comments (a learning point's 'format' is learning_point, its 'stem' the title)."""
        rows = []
        email = author.rsplit("<", 1)[-1].rstrip(">").strip().lower()
        points = sorted(self._bank.records("learning_point"), key=lambda r: str(r.get("id", "")))
        for item in [*self._bank.items(), *points]:
            if str(item.get("author", "")).lower().rsplit("<", 1)[-1].rstrip(">") != email:
                continue
            ident = str(item["id"])
            kind = "item" if "stem" in item else "learning_point"
            last = self._store.history(path_for(kind, ident))[:1]
            comments = [
                f"{str(r['reviewer']).split('<')[0].strip()}: {r['comment']}"
                for r in sorted(self._bank.reviews_of(ident), key=lambda r: str(r["submitted"]))
                if r.get("decision") in ("request_changes", "reject") and r.get("comment")
            ]
            rows.append(
                {
                    "id": ident,
                    "status": item.get("status"),
                    "format": item.get("format", kind),
                    "stem": str(item.get("stem", item.get("title", "")))[:80],
                    "last_change": last[0].date[:10] if last else "",
                    "comments": " | ".join(comments[-2:]),
                }
            )
        return rows

    def import_items(
        self,
        data: bytes,
        source: str,
        author: str,
        skip_bad: bool = False,
        dry_run: bool = False,
        progress: ImportProgress | None = None,
        progress_every: int = 1000,
    ) -> ImportResult:
        """Draft items from a spreadsheet (CSV) in ONE commit by `author`. Every bad row is
        reported by line and column; if any row is bad nothing is imported, unless skip_bad.
        Applied items are added to their case's question list in the same commit.

        Linear in the number of rows (100,000 rows are one pass each of reading, checking and
        writing): the bank's shared files are read once, the rows are analysed together (on
        every core) and the bank-wide rules run once over all of them. `progress(stage, done,
        total)` is called every `progress_every` rows and at the end of each stage ("read",
        "checked", "written")."""
        author = check_person(author)
        frameworks = self._bank.frameworks().values()
        roles = sorted({str(f["role"]) for f in frameworks if f.get("assessed", True)})

        def report(stage: str) -> Callable[[int, int], None] | None:
            if progress is None:
                return None
            return lambda done, total: progress(stage, done, total)

        rows, problems = read_rows(data, source, roles, author, report("read"), progress_every)
        result = ImportResult(rows=rows, file_findings=problems)
        if problems:
            return result
        used = {p.rsplit("/", 1)[-1][:-5] for p in self._store.list_files("items")}
        top: dict[str, int] = {}  # highest number in use per id prefix (GK, AK)
        for ident in used:
            _note_number(top, ident)
        seen: set[str] = set()
        candidates: list[tuple[Row, str]] = []
        for row in rows:
            record = row.record
            if not record:
                continue
            if not record["id"]:
                prefix = "AK" if record["section"] == "applied" else "GK"
                record["id"] = f"{prefix}-{top.get(prefix, 0) + 1:04d}"
            elif record["id"] in used:
                row.problems.append(
                    f"id: {record['id']} already exists; leave id empty to get the next free one"
                )
            elif record["id"] in seen:
                row.problems.append(f"id: {record['id']} is used on an earlier line")
            seen.add(str(record["id"]))
            _note_number(top, str(record["id"]))
            if row.problems or not is_id("content_id", record["id"]):
                if not is_id("content_id", record["id"]):
                    row.problems.append(f"id: {record['id']!r} is not an item id (e.g. GK-0123)")
                continue
            relpath = path_of(record, "item")
            candidates.append((row, relpath))
        encoded = self._check_import(candidates, report("checked"))
        good = [row.record for row in rows if row.record and not row.problems]
        if (result.bad and not skip_bad) or not good or dry_run:
            return result
        cases: dict[str, Record] = {}
        listed: dict[str, set[str]] = {}
        for record in good:
            stimulus = record.get("stimulus")
            if record["section"] == "applied" and is_id("content_id", stimulus):
                try:
                    case = cases.setdefault(str(stimulus), self._bank.get(str(stimulus)))
                except ItembankError:
                    continue
                members = listed.setdefault(str(stimulus), set(case["items"]))
                if record["id"] not in members:
                    members.add(str(record["id"]))
                    case["items"].append(record["id"])
        changes = {relpath: encoded[relpath] for row, relpath in candidates if not row.problems}
        expected: dict[str, str | None] = dict.fromkeys(changes)
        for case in cases.values():
            relpath, written, _ = self._bank._prepare(case, "stimulus")
            changes[relpath] = written
            expected[relpath] = self._bank._bases.get(relpath)
        result.imported = [str(r["id"]) for r in good]
        result.commit = self._store.save_bulk(
            changes,
            expected,
            author,
            f"Import {len(good)} draft item(s) from {Path(source).name}",
            report("written"),
            progress_every,
        )
        for relpath, written in changes.items():
            self._bank._bases[relpath] = canonical.git_blob_sha(written)
        self._bank._similarity = None
        self._bank._live_text = None
        return result

    def _check_import(
        self, candidates: list[tuple[Row, str]], progress: Progress | None
    ) -> dict[str, bytes]:
        """What check_record says of each imported item, for all of them at once: each file
        analysed once (in parallel), the bank-wide rules run once over the new items and the
        files they link to (read once), not once per row."""

        total = len(candidates)
        references = self._bank.references()
        written: dict[str, bytes] = {}
        analysed: dict[str, FileResult] = {}
        for start in range(0, total, _IMPORT_CHUNK):  # progress every chunk, not one long wait
            chunk = candidates[start : start + _IMPORT_CHUNK]
            files = [(p, canonical.dumps(row.record).encode("utf-8")) for row, p in chunk]
            written.update(files)
            analysed.update(analyse_many(files, references))
            if progress is not None and start + len(chunk) < total:
                progress(start + len(chunk), total)
        matcher = build_matcher(references)
        context: dict[str, Any] = {}
        linked: set[str] = {"bank.json", "references.json", *self._store.list_files("standards")}
        with_reviews = {p.split("/")[1] for p in self._store.list_files("reviews")}
        for row, relpath in candidates:
            facts = analysed[relpath].facts
            if facts is None or not facts.get("valid"):
                continue
            context[relpath] = facts
            record = row.record
            stimulus = record.get("stimulus")
            if is_id("content_id", stimulus):
                linked.add(path_for("stimulus", str(stimulus)))
            linked.update(
                path_for("item", str(e)) for e in record["enemies"] if is_id("content_id", e)
            )
            if record["id"] in with_reviews:
                linked.update(self._store.list_files(f"reviews/{record['id']}"))
        for other in linked - context.keys():
            data = self._store.read_optional(other)
            if data is not None:
                context[other] = analyse_file(other, data, matcher).facts
        links: dict[str, list[Finding]] = {}
        for finding in check_bank(context):
            links.setdefault(finding.path, []).append(finding)
        for row, relpath in candidates:
            for finding in analysed[relpath].findings + links.get(relpath, []):
                if finding.severity == "error" and finding.code not in DEFERRED_CODES:
                    row.problems.append(f"{column_of(finding.pointer)}: {finding.message}")
        if progress is not None:
            progress(total, total)
        return written


@dataclass
class ImportResult:
    """What an import found and did."""

    rows: list[Row]
    file_findings: list[Finding]
    imported: list[str] = field(default_factory=list)
    commit: str | None = None

    @property
    def bad(self) -> list[Row]:
        return [row for row in self.rows if row.problems]


#: An import's progress: (stage, rows done, rows in all); stage is "read", "checked", "written".
ImportProgress = Callable[[str, int, int], None]


#: Rows checked per step of an import (its progress is reported after each step).
_IMPORT_CHUNK = 10_000


def _note_number(top: dict[str, int], ident: str) -> None:
    """Remember the number of an id like GK-0123 if it is the highest of its prefix so far."""
    prefix, sep, number = ident.partition("-")
    if sep and number.isdigit():
        top[prefix] = max(top.get(prefix, 0), int(number))
