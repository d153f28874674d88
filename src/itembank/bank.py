"""The one facade every face (CLI, widgets, notebooks, apps) calls: open a bank, read records,
validate, report coverage and currency, and save changes as git commits."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from itembank.authoring.csvimport import Row, column_of, read_rows
from itembank.checks.analysis import analyse_file, unreadable_file
from itembank.checks.bankrules import check_bank
from itembank.checks.coverage import Coverage, blueprint_capacity, coverage
from itembank.checks.currency import CURRENCY_CODES, build_matcher
from itembank.checks.lint import lint_item
from itembank.checks.similarity import Match, SimilarityIndex
from itembank.checks.validation import (
    Progress,
    analyse_many,
    cache_header,
    references_of,
    report_from,
    to_cache,
)
from itembank.core import canonical, workflow
from itembank.core.errors import (
    ItembankError,
    UnknownIdError,
    ValidationFailedError,
    WorkflowError,
)
from itembank.core.findings import Finding, Report, error, warning
from itembank.core.identity import check_person, resolve_identity
from itembank.core.ids import check_id, is_id, slugify
from itembank.core.layout import CONTENT_KINDS, kind_of, locate, path_for, path_of
from itembank.core.parsing import parse_record
from itembank.storage.gitstore import Commit, GitStore, Kept, UnreadableFileError

Record = dict[str, Any]
#: Errors that do not block a save: they can only be put right by saving another record
#: (the other side of an enemy pair or of a case set), or are the workflow check's to make.
#: validate still reports them.
_DEFERRED_CODES = frozenset(
    {
        "enemy-not-symmetric",
        "stimulus-item-mismatch",
        "unknown-item",
        "not-approved",
        "approval-stale",
        "workflow-state",
    }
)


def open_bank(path: str | os.PathLike[str] | None = None) -> Bank:
    """Open a bank: `path`, else $ITEMBANK_PATH, else ./item_bank (or the nearest item_bank/
    in a folder above, so a notebook opened from a subfolder finds the project's bank)."""
    chosen = path or os.environ.get("ITEMBANK_PATH")
    if not chosen:
        here = Path.cwd()
        found = next(
            (
                d / "item_bank"
                for d in (here, *here.parents)
                if (d / "item_bank" / "bank.json").is_file()
            ),
            None,
        )
        chosen = found or "item_bank"
    return Bank(GitStore(Path(chosen)))


class Bank:
    """A bank of items, stimuli, scenarios and their reviews, backed by a git repository."""

    def __init__(self, store: GitStore) -> None:
        self.store = store
        self._bases: dict[str, str | None] = {}
        self._similarity: SimilarityIndex | None = None

    def __repr__(self) -> str:
        return f"Bank({str(self.path)!r})"

    @property
    def path(self) -> Path:
        return self.store.root

    # ---- reading ------------------------------------------------------------------------------

    def _load(self, relpath: str) -> Record:
        data = self.store.read_optional(relpath)
        if data is None:
            raise UnknownIdError(f"{relpath} does not exist in the bank at {self.path}.")
        record, problems = parse_record(relpath, data)
        if not isinstance(record, dict):
            detail = "; ".join(f"{f.pointer or '/'}: {f.message}" for f in problems[:5])
            raise ItembankError(f"{relpath} cannot be read: {detail or 'not a JSON object.'}")
        self._bases[relpath] = canonical.git_blob_sha(data)
        return record

    @property
    def settings(self) -> Record:
        """bank.json."""
        return self._load("bank.json")

    def references(self) -> list[Record]:
        return references_of(self.store.read_optional("references.json"))

    def frameworks(self) -> dict[str, Record]:
        return {str(r.get("id")): r for r in self.records("framework")}

    def records(self, kind: str) -> list[Record]:
        """Every readable record of a kind (unreadable files are reported by validate)."""
        out = []
        for relpath in self.store.list_files():
            try:
                location = locate(relpath)
                if location is not None and location.kind == kind:
                    out.append(self._load(relpath))
            except ItembankError:
                continue
        return out

    def items(self) -> list[Record]:
        """Every readable item, in id order."""
        return sorted(self.records("item"), key=lambda r: str(r.get("id", "")))

    def get(self, ident: str) -> Record:
        """The item, stimulus or scenario with this id (the id is checked before use)."""
        check_id("content_id", ident)
        for kind in CONTENT_KINDS:
            relpath = path_for(kind, ident)
            if self.store.exists(relpath):
                return self._load(relpath)
        raise UnknownIdError(f"No item, stimulus or scenario has the id {ident}.")

    def get_record(self, kind: str, ident: str = "", parent: str | None = None) -> Record:
        """Any record by kind and id(s)."""
        return self._load(path_for(kind, ident, parent))

    def reviews_of(self, ident: str) -> list[Record]:
        check_id("content_id", ident)
        folder = f"reviews/{ident}/"
        return [
            self._load(p)
            for p in self.store.list_files()
            if p.startswith(folder) and "/" not in p[len(folder) :]  # not blind/ answers
        ]

    def next_id(self, prefix: str, digits: int = 4) -> str:
        """The next free content id with this prefix (e.g. GK -> GK-0065)."""
        check_id("content_id", f"{prefix}-{'0' * digits}")
        used = [
            int(p.rsplit("-", 1)[1].split(".")[0])
            for p in self.store.list_files()
            if p.split("/")[-1].startswith(prefix + "-")
            and p.split("/")[0] in ("items", "stimuli", "scenarios")
        ]
        return f"{prefix}-{max(used, default=0) + 1:0{digits}d}"

    def history(self, ident: str) -> list[Commit]:
        """Commits that changed this record, newest first."""
        check_id("content_id", ident)
        for kind in CONTENT_KINDS:
            relpath = path_for(kind, ident)
            if self.store.exists(relpath):
                return self.store.history(relpath)
        raise UnknownIdError(f"No item, stimulus or scenario has the id {ident}.")

    # ---- authoring ----------------------------------------------------------------------------

    def check_draft(self, record: Record, kind: str | None = None) -> list[Finding]:
        """What a writer should see while writing: schema and rules (with links to the rest of
        the bank), item-writing checks and near-duplicates of existing items."""
        kind = kind or kind_of(record)
        relpath = path_of(record, kind)
        record = dict(record)
        extra: list[Finding] = []
        try:  # check what a save would store: edited approved content goes back to review
            if self._apply_workflow(kind, record, self._previous(relpath)):
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
        findings = self.check_record(record, kind) + extra
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
        if self._similarity is None:
            self._similarity = SimilarityIndex(self.items())
        return self._similarity.similar(record)

    def versions(self, ident: str) -> list[tuple[Commit, Record]]:
        """Every committed version of a record, newest first."""
        relpath = self._content_path(ident)
        out = []
        for commit, data in self.store.versions(relpath):
            record, _ = parse_record(relpath, data)
            if record is not None:
                out.append((commit, record))
        return out

    def _content_path(self, ident: str) -> str:
        check_id("content_id", ident)
        for kind in CONTENT_KINDS:
            relpath = path_for(kind, ident)
            if self.store.exists(relpath):
                return relpath
        raise UnknownIdError(f"No item, stimulus or scenario has the id {ident}.")

    def identity(self, explicit: str | None = None) -> str:
        """Who is working: explicit, else JUPYTERHUB_USER, else git config (IdentityError)."""
        return resolve_identity(explicit, *self.store.git_identity())

    def save_draft(self, owner: str, record: Record, kind: str | None = None) -> None:
        """Keep a writer's unsaved work (outside the working tree, per person)."""
        relpath = path_of(record, kind or kind_of(record))
        self.store.write_draft(slugify(owner), relpath, canonical.dumps(record).encode("utf-8"))

    def load_draft(self, owner: str, kind: str, ident: str) -> Record | None:
        """The writer's kept unsaved version, if any and readable."""
        relpath = path_for(kind, ident)
        data = self.store.read_draft(slugify(owner), relpath)
        if data is None:
            return None
        record, _ = parse_record(relpath, data)
        return record

    def discard_draft(self, owner: str, kind: str, ident: str) -> None:
        self.store.delete_draft(slugify(owner), path_for(kind, ident))

    def items_by(self, author: str) -> list[dict[str, Any]]:
        """One row per item this person wrote: status, last change, open review comments."""
        rows = []
        email = author.rsplit("<", 1)[-1].rstrip(">").strip().lower()
        for item in self.items():
            if str(item.get("author", "")).lower().rsplit("<", 1)[-1].rstrip(">") != email:
                continue
            ident = str(item["id"])
            last = self.store.history(path_for("item", ident))[:1]
            comments = [
                f"{str(r['reviewer']).split('<')[0].strip()}: {r['comment']}"
                for r in sorted(self.reviews_of(ident), key=lambda r: str(r["submitted"]))
                if r.get("decision") in ("request_changes", "reject") and r.get("comment")
            ]
            rows.append(
                {
                    "id": ident,
                    "status": item.get("status"),
                    "format": item.get("format"),
                    "stem": str(item.get("stem", ""))[:80],
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
        frameworks = self.frameworks().values()
        roles = sorted({str(f["role"]) for f in frameworks if f.get("assessed", True)})

        def report(stage: str) -> Callable[[int, int], None] | None:
            if progress is None:
                return None
            return lambda done, total: progress(stage, done, total)

        rows, problems = read_rows(data, source, roles, author, report("read"), progress_every)
        result = ImportResult(rows=rows, file_findings=problems)
        if problems:
            return result
        used = {p.rsplit("/", 1)[-1][:-5] for p in self.store.list_files("items")}
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
                    case = cases.setdefault(str(stimulus), self.get(str(stimulus)))
                except ItembankError:
                    continue
                members = listed.setdefault(str(stimulus), set(case["items"]))
                if record["id"] not in members:
                    members.add(str(record["id"]))
                    case["items"].append(record["id"])
        changes = {relpath: encoded[relpath] for row, relpath in candidates if not row.problems}
        expected: dict[str, str | None] = dict.fromkeys(changes)
        for case in cases.values():
            relpath, written, _ = self._prepare(case, "stimulus")
            changes[relpath] = written
            expected[relpath] = self._bases.get(relpath)
        result.imported = [str(r["id"]) for r in good]
        result.commit = self.store.save_bulk(
            changes,
            expected,
            author,
            f"Import {len(good)} draft item(s) from {Path(source).name}",
            report("written"),
            progress_every,
        )
        for relpath, written in changes.items():
            self._bases[relpath] = canonical.git_blob_sha(written)
        self._similarity = None
        return result

    def _check_import(
        self, candidates: list[tuple[Row, str]], progress: Progress | None
    ) -> dict[str, bytes]:
        """What check_record says of each imported item, for all of them at once: each file
        analysed once (in parallel), the bank-wide rules run once over the new items and the
        files they link to (read once), not once per row."""
        from itembank.checks.analysis import FileResult

        total = len(candidates)
        references = self.references()
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
        linked: set[str] = {"bank.json", "references.json", *self.store.list_files("standards")}
        with_reviews = {p.split("/")[1] for p in self.store.list_files("reviews")}
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
                linked.update(self.store.list_files(f"reviews/{record['id']}"))
        for other in linked - context.keys():
            data = self.store.read_optional(other)
            if data is not None:
                context[other] = analyse_file(other, data, matcher).facts
        links: dict[str, list[Finding]] = {}
        for finding in check_bank(context):
            links.setdefault(finding.path, []).append(finding)
        for row, relpath in candidates:
            for finding in analysed[relpath].findings + links.get(relpath, []):
                if finding.severity == "error" and finding.code not in _DEFERRED_CODES:
                    row.problems.append(f"{column_of(finding.pointer)}: {finding.message}")
        if progress is not None:
            progress(total, total)
        return written

    # ---- validation ---------------------------------------------------------------------------

    def _snapshot(self) -> tuple[list[str], dict[str, str]]:
        """The bank's files, and the git blob of each one git knows to be unchanged."""
        return self.store.list_files(), self.store.fingerprints()

    def analyse(
        self,
        progress: Progress | None = None,
        snapshot: tuple[list[str], dict[str, str]] | None = None,
    ) -> tuple[dict[str, Any], int]:
        """Facts and findings of every file, re-analysing only files git does not vouch for."""
        files, fingerprints = snapshot or self._snapshot()
        references = self.references()
        matcher = build_matcher(references)
        limit = self.store.record_limit()
        header = cache_header(matcher, limit)
        cache = self.store.read_cache() or {}
        entries = cache.get("files", {}) if cache.get("header") == header else {}
        results = {}
        todo = []
        for relpath in files:
            blob = fingerprints.get(relpath)
            entry = entries.get(relpath)
            if blob is not None and entry is not None and entry[0] == blob:
                results[relpath] = (entry[1], entry[2])
            else:
                todo.append(relpath)
        readable, unreadable = [], {}
        for relpath in todo:
            try:
                readable.append((relpath, self.store.read(relpath, limit)))
            except UnreadableFileError as exc:  # a link, folder, FIFO... or too large
                unreadable[relpath] = unreadable_file(relpath, exc.code, exc.advice)
            except FileNotFoundError:  # removed since listed: said as for any missing file
                unreadable[relpath] = unreadable_file(
                    relpath, "missing-file", "The file was removed while the bank was checked."
                )
        fresh = {**analyse_many(readable, references, progress), **unreadable}
        new_entries = {p: e for p, e in entries.items() if p in results}
        for relpath, result in fresh.items():
            cached = to_cache(fingerprints.get(relpath, ""), result)
            results[relpath] = (cached[1], cached[2])
            if relpath in fingerprints:
                new_entries[relpath] = cached
        if todo or len(new_entries) != len(entries):
            self.store.write_cache({"header": header, "files": new_entries})
        return results, len(files)

    def validate(self, progress: Progress | None = None) -> Report:
        """Every finding in the bank: structural, semantic, bank-wide and currency.

        When git vouches for every file and nothing changed since the last run, the previous
        report is returned without reading any file.
        """
        from itembank.checks.analysis import FileResult

        snapshot = self._snapshot()
        signature = self._signature(*snapshot)
        if signature is not None:
            cached = self.store.read_cache("report")
            if cached and cached.get("signature") == signature:
                found = [Finding(*f) for f in cached["findings"]]
                return Report(cached["files_checked"], found + self._uncommitted_findings())
        raw, count = self.analyse(progress, snapshot)
        results = {
            p: FileResult([Finding(*f) for f in fs], facts) for p, (fs, facts) in raw.items()
        }
        report = report_from(results, count)
        if signature is not None:
            self.store.write_cache(
                {
                    "signature": signature,
                    "files_checked": count,
                    "findings": [
                        (f.path, f.pointer, f.code, f.severity, f.message) for f in report.findings
                    ],
                },
                "report",
            )
        return Report(report.files_checked, report.findings + self._uncommitted_findings())

    def _signature(self, files: list[str], fingerprints: dict[str, str]) -> str | None:
        """A hash of every file's committed blob and the analysis settings, or None if any file
        is modified or untracked (then it must be read)."""
        import hashlib

        if any(p not in fingerprints for p in files):
            return None
        digest = hashlib.sha256()
        references = self.store.read_optional("references.json") or b""
        matcher = build_matcher(references_of(references))
        digest.update(repr(cache_header(matcher, self.store.record_limit())).encode())
        for relpath in files:
            digest.update(f"{relpath}\0{fingerprints[relpath]}\n".encode())
        return digest.hexdigest()

    def facts(self) -> dict[str, dict[str, Any]]:
        """The compact summary of every readable record (what coverage and rules use)."""
        raw, _ = self.analyse()
        return {p: facts for p, (_, facts) in raw.items() if facts is not None}

    def currency(self) -> list[Finding]:
        """Content citing superseded or pending references, or using their flag terms."""
        return [f for f in self.validate().findings if f.code in CURRENCY_CODES]

    def coverage(self, blueprint: str | None = None) -> Coverage:
        """Item counts per statement x role x section x format x status."""
        facts = self.facts()
        frameworks = {
            f["file_id"]: f for f in facts.values() if f["kind"] == "framework" and f["valid"]
        }
        result = coverage(facts, frameworks)
        if blueprint is not None:
            result.blueprint = blueprint_capacity(self.get_record("blueprint", blueprint), facts)
        return result

    # ---- writing ------------------------------------------------------------------------------

    def check_record(self, record: Record, kind: str | None = None) -> list[Finding]:
        """Findings for one record as it would be saved (its own file plus its links)."""
        kind = kind or kind_of(record)
        relpath = path_of(record, kind)
        if not_json := canonical.non_json_numbers(relpath, record):
            return not_json
        data = canonical.dumps(record).encode("utf-8")
        matcher = build_matcher(self.references())
        result = analyse_file(relpath, data, matcher)
        if result.facts is None or not result.facts.get("valid"):
            return result.findings
        context: dict[str, Any] = {relpath: result.facts}
        for other in self._linked_paths(record, kind):
            linked = self.store.read_optional(other) if other != relpath else None
            if linked is not None:
                context[other] = analyse_file(other, linked, matcher).facts
        links = [f for f in check_bank(context) if f.path == relpath]
        return result.findings + links

    def _linked_paths(self, record: Record, kind: str) -> list[str]:
        """The files a record's links are checked against (ids that are not ids are skipped:
        the record's own findings already say so)."""
        paths = ["bank.json", "references.json", *self.store.list_files("standards")]

        def ids(value: object) -> list[str]:
            values = value if isinstance(value, list) else [value]
            return [str(v) for v in values if is_id("content_id", v)]

        if kind == "item":
            paths += [path_for("stimulus", s) for s in ids(record.get("stimulus"))]
            paths += [path_for("item", e) for e in ids(record.get("enemies", []))]
        elif kind == "stimulus":
            paths += [path_for("item", i) for i in ids(record.get("items", []))]
        elif kind in ("review", "blind_answer"):
            paths += [path_for(k, t) for t in ids(record.get("target")) for k in CONTENT_KINDS]
        if kind in CONTENT_KINDS:
            for ident in ids(record.get("id")):
                paths += self.store.list_files(f"reviews/{ident}")
        return paths

    def save(
        self, record: Record, author: str, message: str | None = None, kind: str | None = None
    ) -> str:
        """Check, write and commit one record as `author`; returns the commit sha.

        Refuses (ValidationFailedError) a record with errors, (WorkflowError) an illegal status
        change, and (ConflictError) a record whose file changed since this Bank loaded it.
        Editing approved content sends it back to review.
        """
        return self.save_many([record], author, message, kinds=[kind] if kind else None)

    def save_many(
        self,
        records: list[Record],
        author: str,
        message: str | None = None,
        delete: list[tuple[str, str]] | None = None,
        kinds: list[str] | None = None,
    ) -> str:
        """Check all, then write and commit several records (and delete draft records given as
        (kind, id)) in ONE commit, e.g. a case and the question added to it."""
        author = check_person(author)
        changes: dict[str, bytes | None] = {}
        summaries = []
        for index, given in enumerate(records):
            kind = kinds[index] if kinds else kind_of(given)
            relpath, data, summary = self._prepare(dict(given), kind)
            changes[relpath] = data
            summaries.append(summary)
        for kind, ident in delete or []:
            relpath = path_for(kind, ident)
            old = self._previous(relpath)
            if old is None or old.get("status") != "draft":
                raise WorkflowError(
                    f"{ident} is not a draft: only drafts can be deleted (ids of content that "
                    "has been reviewed are permanent; retire it instead)."
                )
            changes[relpath] = None
            summaries.append(f"{ident}: delete draft")
        expected = {p: self._bases.get(p) for p in changes}  # None: new, so must not exist
        summary = message or "; ".join(summaries)
        sha = self.store.save(changes, expected, author, summary)
        for relpath, written in changes.items():
            if written is None:
                self._bases.pop(relpath, None)
            else:
                self._bases[relpath] = canonical.git_blob_sha(written)
        self._similarity = None
        return sha

    # ---- kept versions: every save that could not be made (issue 8) ----------------------------

    def kept(self, ident: str | None = None) -> list[Kept]:
        """Kept versions of one record (or of all), oldest first, numbered per record."""
        if ident is None:
            return self.store.kept_versions()
        check_id("content_id", ident)
        paths = {path_for(kind, ident) for kind in CONTENT_KINDS}
        return [k for k in self.store.kept_versions() if k.record in paths]

    def kept_version(self, ident: str, number: int) -> Kept:
        for kept in self.kept(ident):
            if kept.number == number:
                return kept
        raise UnknownIdError(
            f"{ident} has no kept version {number}; 'itembank kept {ident}' lists them."
        )

    def kept_text(self, ident: str, number: int) -> bytes:
        """The kept version exactly as it was kept."""
        kept = self.kept_version(ident, number)
        try:
            return kept.path.read_bytes()
        except OSError as exc:
            raise ItembankError(f"{kept.path} cannot be read: {exc.strerror}.") from None

    def restore_kept(self, ident: str, number: int, author: str) -> str:
        """Save a kept version as `author`'s next save of the record: the normal save path
        (checks, workflow, conflict check against the version read now), one commit."""
        kept = self.kept_version(ident, number)
        record, problems = parse_record(kept.record, self.kept_text(ident, number))
        if not isinstance(record, dict):
            detail = problems[0].message if problems else "it is not a JSON object"
            raise ItembankError(f"Kept version {number} of {ident} cannot be read: {detail}")
        location = locate(kept.record)
        kind = location.kind if location is not None else kind_of(record)
        if self.store.exists(kept.record):
            self._load(kept.record)
        else:
            self._bases.pop(kept.record, None)
        return self.save(
            record,
            author,
            f"{ident}: restore kept version {number} ({kept.why}, {kept.who}, {kept.when})",
            kind=kind,
        )

    def _uncommitted_findings(self) -> list[Finding]:
        """Bank files that differ from the last commit (e.g. a save killed half-way)."""
        return [
            warning(p, "", "uncommitted-change", self.store.uncommitted_words(p))
            for p in self.store.uncommitted()
        ]

    def _prepare(self, record: Record, kind: str) -> tuple[str, bytes, str]:
        """Check one record for saving: path, canonical bytes and the commit message part."""
        relpath = path_of(record, kind)
        old = self._previous(relpath)
        note = self._apply_workflow(kind, record, old)
        findings = self.check_record(record, kind)
        errors = [f for f in findings if f.severity == "error" and f.code not in _DEFERRED_CODES]
        if errors:
            lines = "\n".join(f"  {f.pointer or '/'}: {f.message}" for f in errors)
            raise ValidationFailedError(f"{relpath} was not saved:\n{lines}", errors)
        if (
            kind in CONTENT_KINDS
            and record.get("status") == "approved"
            and (old is None or old.get("status") != "approved")
        ):
            self._require_policy(record, kind)
        return (
            relpath,
            canonical.dumps(record).encode("utf-8"),
            _describe_change(record, old, kind) + note,
        )

    def _previous(self, relpath: str) -> Record | None:
        data = self.store.read_optional(relpath)
        if data is None:
            return None
        record, _ = parse_record(relpath, data)
        return record if isinstance(record, dict) else None

    def _apply_workflow(self, kind: str, record: Record, old: Record | None) -> str:
        if kind not in CONTENT_KINDS:
            return ""
        old_status = old.get("status") if old else None
        if (
            old is not None
            and old_status == "approved"
            and record.get("status") == "approved"
            and workflow.content_hash(kind, old) != workflow.content_hash(kind, record)
        ):
            record["status"] = "in_review"
            return " (content changed after approval: back to review)"
        workflow.check_move(
            old_status if isinstance(old_status, str) else None, str(record.get("status"))
        )
        return ""

    def _require_policy(self, record: Record, kind: str) -> None:
        from itembank.checks.analysis import FACTS

        policy = self.settings["review_policy"]
        reviews = [(str(r["id"]), FACTS["review"](r)) for r in self.reviews_of(str(record["id"]))]
        verdict = workflow.verdict_for(
            str(record["author"]), workflow.content_hash(kind, record), reviews, policy
        )
        if not verdict.approved:
            raise WorkflowError(
                f"{record['id']} cannot be approved: it has {len(verdict.current_approvals)} of "
                f"{policy.get('approvals_required', 2)} approvals of its current content"
                + (
                    f" and unresolved concerns ({'; '.join(verdict.blocking)})"
                    if verdict.blocking
                    else ""
                )
                + "."
            )

    # ---- panels: expert review and standard setting (issue 4) ---------------------------------
    # Faces (the Voila apps) call only these. Every id and person is checked again here, since a
    # panel member can send any value from a browser.

    def panels(self, kind: str | None = None) -> list[Record]:
        """The panels in bank.json, optionally of one kind ("review", "standard_setting")."""
        found = self.settings.get("panels", [])
        return [p for p in found if kind is None or p.get("kind") == kind]

    def panel_members(self, kind: str) -> list[str]:
        """Everyone on a panel of this kind, in name order (the local sign-in list)."""
        return sorted({str(m) for p in self.panels(kind) for m in p.get("members", [])})

    def panel_of(self, person: str, kind: str = "review") -> str | None:
        """The id of the first panel of this kind the person is on, or None."""
        for panel in self.panels(kind):
            if any(str(m).lower() == person.strip().lower() for m in panel.get("members", [])):
                return str(panel["id"])
        return None

    def sign_in(self, login: str | None = None, kind: str = "review") -> str:
        """The panel member using an app: JUPYTERHUB_USER behind a hub (it always wins), else
        the name chosen locally. IdentityError when that person is on no panel of this kind."""
        from itembank.core.errors import IdentityError
        from itembank.review.rules import member_for_login

        hub = os.environ.get("JUPYTERHUB_USER", "").strip()
        chosen = hub or (login if isinstance(login, str) else "")
        member = member_for_login(self.panel_members(kind), chosen)
        if member is None:
            where = "signed in to the hub as" if hub else "chose"
            raise IdentityError(
                f"You {where} {chosen!r}, who is not on a {kind.replace('_', '-')} panel in "
                "bank.json. Ask the panel's chair to add you to the panel."
            )
        return member

    def _panel_roles(self, panel: str) -> set[str] | None:
        """The roles a review panel covers, or None when it reviews every role."""
        for found in self.panels("review"):
            if found.get("id") == panel and found.get("roles"):
                return {str(r) for r in found["roles"]}
        return None

    def _panel_for(self, person: str, kind: str) -> str:
        from itembank.core.errors import IdentityError

        person = check_person(person)
        panel = self.panel_of(person, kind)
        if panel is None:
            raise IdentityError(
                f"{person} is not on a {kind.replace('_', '-')} panel in bank.json, so cannot "
                "take part. Ask the panel's chair to add you."
            )
        return panel

    def _panel_content_path(self, ident: object) -> tuple[str, str]:
        """(kind, relative path) of an existing item, stimulus or scenario with a checked id."""
        ident = check_id("content_id", ident)
        for kind in CONTENT_KINDS:
            relpath = path_for(kind, ident)
            if self.store.exists(relpath):
                return kind, relpath
        raise UnknownIdError(f"No item, stimulus or scenario has the id {ident}.")

    def review_queue(self, reviewer: str) -> list[Any]:
        """Content in review for this reviewer's panel (the roles the panel covers in bank.json;
        every role when it names none), never their own; each entry says whether they have
        reviewed this version."""
        from itembank.review.rules import QueueEntry, same_person

        covers = self._panel_roles(self._panel_for(reviewer, "review"))
        facts = self.facts()
        mine: dict[str, list[str]] = {}
        for f in facts.values():
            if f["kind"] == "review" and f["valid"] and same_person(f["reviewer"], reviewer):
                mine.setdefault(f["target"], []).append(f["hash"])
        out = []
        for f in sorted(facts.values(), key=lambda x: str(x.get("id") or x.get("file_id"))):
            if f["kind"] not in CONTENT_KINDS or not f["valid"] or f["status"] != "in_review":
                continue
            if same_person(f["author"], reviewer):
                continue
            if covers is not None and not covers & set(f.get("roles", [])):
                continue  # content for roles another panel reviews
            ident = str(f.get("id") or f["file_id"])
            hashes = mine.get(ident, [])
            out.append(
                QueueEntry(
                    id=ident,
                    kind=f["kind"],
                    format=str(f.get("format", f["kind"])),
                    roles=tuple(f.get("roles", [])),
                    standards=tuple(sorted({s for _, s in f.get("std", [])})),
                    reviewed=f["hash"] in hashes,
                    changed=bool(hashes) and f["hash"] not in hashes,
                )
            )
        return out

    def open_review(self, target: object, reviewer: str) -> Any:
        """Open content for review: checks the reviewer may review it and returns a ticket with
        the record, the version seen and, if they reviewed an older version, what changed."""
        from itembank.review.rules import ReviewInputError, ReviewTicket, content_diff, same_person

        panel = self._panel_for(reviewer, "review")
        kind, relpath = self._panel_content_path(target)
        record = self._load(relpath)
        covers = self._panel_roles(panel)
        roles = set(record.get("roles") or [record.get("role")])
        if covers is not None and not covers & roles:
            raise ReviewInputError(
                f"{record.get('id')} is for {', '.join(sorted(map(str, roles)))}; your panel "
                f"({panel}) reviews {', '.join(sorted(covers))} content only."
            )
        seen = self._bases[relpath]
        if record.get("status") != "in_review":
            raise ReviewInputError(
                f"{record['id']} is not in review (it is {record.get('status')}): it has "
                "left your queue. Choose another."
            )
        if same_person(str(record.get("author", "")), reviewer):
            raise ReviewInputError(
                f"You wrote {record['id']}: reviewers never review their own content."
            )
        stimulus = None
        if kind == "item" and record.get("stimulus"):
            try:
                stimulus = self.get_record("stimulus", str(record["stimulus"]))
            except ItembankError:
                stimulus = None
        changes: list[str] = []
        current = workflow.content_hash(kind, record)
        older = sorted(
            (r for r in self.reviews_of(str(record["id"])) if same_person(r["reviewer"], reviewer)),
            key=lambda r: str(r["submitted"]),
        )
        if older and older[-1]["content_hash"] != current:
            for commit in self.store.history(relpath):
                old = parse_record(relpath, self.store.show(commit.sha, relpath))[0]
                if isinstance(old, dict) and (
                    workflow.content_hash(kind, old) == older[-1]["content_hash"]
                ):
                    changes = content_diff(kind, old, record)
                    break
            else:
                changes = ["(the version you reviewed is not in this bank's history)"]
        titles = {
            (str(fw), str(s["id"])): str(s.get("title", ""))
            for fw, f in self.frameworks().items()
            for s in f.get("statements", [])
        }
        return ReviewTicket(
            id=str(record["id"]),
            kind=kind,
            record=record,
            seen=seen or "",
            stimulus=stimulus,
            panel=self._panel_for(reviewer, "review"),
            changes=tuple(changes),
            titles=titles,
            blind=self.blind_answer_of(str(record["id"]), reviewer, current)
            if kind == "item"
            else None,
        )

    def blind_answer_of(self, ident: str, reviewer: str, content_hash: str) -> Record | None:
        """The reviewer's FIRST recorded blind answer to this version of an item, or None."""
        from itembank.review.rules import same_person

        folder = f"reviews/{check_id('content_id', ident)}/blind/"
        for relpath in sorted(p for p in self.store.list_files() if p.startswith(folder)):
            try:
                found = self._load(relpath)
            except ItembankError:
                continue  # validate reports it
            if (
                found.get("content_hash") == content_hash
                and isinstance(found.get("reviewer"), str)
                and same_person(found["reviewer"], reviewer)
            ):
                return found
        return None

    def record_blind_answer(
        self, target: object, seen: str, response: object, reviewer: str, when: Any = None
    ) -> Record:
        """Commit the reviewer's blind answer to the item version they opened, BEFORE the key is
        shown. Once per reviewer per version: a second answer is refused (the first counts)."""
        from datetime import UTC, datetime

        from itembank.review.rules import ReviewInputError, answer_words, build_blind_answer

        ticket = self.open_review(target, reviewer)  # every check of opening, again
        if ticket.kind != "item":
            raise ReviewInputError(f"A {ticket.kind} has no key to answer blind.")
        if ticket.seen != seen:
            raise ReviewInputError(
                f"{ticket.id} was changed by someone else since you opened it, so your answer "
                "was not recorded. Open it again and answer the version you read."
            )
        reviewer = check_person(reviewer)
        answer = build_blind_answer(ticket.record, response, reviewer, when or datetime.now(UTC))
        findings = self.check_record(answer, "blind_answer")
        errors = [f for f in findings if f.severity == "error"]
        if errors:
            lines = "\n".join(f"  {f.pointer or '/'}: {f.message}" for f in errors)
            raise ValidationFailedError(f"The blind answer was not recorded:\n{lines}", errors)
        relpath = path_for("item", ticket.id)

        def build() -> tuple[dict[str, bytes | None], dict[str, str | None], str]:
            first = self.blind_answer_of(ticket.id, reviewer, answer["content_hash"])
            if first is not None:
                raise ReviewInputError(
                    f"You already answered this version of {ticket.id} blind "
                    f"({answer_words(first['response'])}); only your first answer counts."
                )
            answer_path = self._free_blind_path(answer)
            changes: dict[str, bytes | None] = {
                answer_path: canonical.dumps(answer).encode("utf-8"),
                relpath: self.store.read(relpath),  # still the version answered, under the lock
            }
            name = reviewer.split("<")[0].strip()
            return (
                changes,
                {answer_path: None, relpath: seen},
                f"{ticket.id}: blind answer by {name}",
            )

        self.store.save_with(build, reviewer)
        return answer

    def _free_blind_path(self, answer: Record) -> str:
        """Where a new blind answer goes: its id is the time to the second, so an answer to a
        newer version within the same second takes the next free second (ids never reused)."""
        from datetime import UTC, datetime, timedelta

        from itembank.review.rules import review_id

        stamp = datetime.strptime(str(answer["answered"]), "%Y-%m-%dT%H:%M:%SZ")
        stamp = stamp.replace(tzinfo=UTC)
        while self.store.exists(relpath := path_of(answer, "blind_answer")):
            stamp += timedelta(seconds=1)
            answer["id"] = review_id(str(answer["reviewer"]), stamp)
        return relpath

    def submit_review(self, target: object, answers: Any, reviewer: str, when: Any = None) -> Any:
        """Record one review: the review file and any status change of the content in ONE
        commit by the reviewer. Refused clearly (nothing written) when the content changed or
        left review since it was opened, or this reviewer already reviewed this version."""
        from dataclasses import replace
        from datetime import UTC, datetime

        from itembank.review.rules import (
            ReviewInputError,
            ReviewOutcome,
            build_blind_answer,
            build_review,
            next_status,
            policy_verdict,
            same_person,
        )

        reviewer = check_person(reviewer)
        panel = self._panel_for(reviewer, "review")
        kind, relpath = self._panel_content_path(target)
        data = self.store.read(relpath)
        record, _ = parse_record(relpath, data)
        if not isinstance(record, dict):
            raise ItembankError(f"{relpath} cannot be read, so it cannot be reviewed now.")
        ident = str(record["id"])
        if record.get("status") != "in_review":
            raise ReviewInputError(
                f"{ident} left review since you opened it (it is now {record.get('status')}); "
                "your review was not recorded."
            )
        if canonical.git_blob_sha(data) != answers.seen:
            raise ReviewInputError(
                f"{ident} was changed by someone else since you opened it, so your review was "
                "not recorded (it would not be of what you read). Your answers are still on "
                "screen: open the item again, check what changed, and submit."
            )
        if same_person(str(record.get("author", "")), reviewer):
            raise ReviewInputError(f"You wrote {ident}: reviewers never review their own content.")
        current = workflow.content_hash(kind, record)
        policy = self.settings["review_policy"]
        now = when or datetime.now(UTC)
        first = self.blind_answer_of(ident, reviewer, current) if kind == "item" else None
        if first is not None:
            # the blind answer is the one committed before the key was shown, whatever is sent now
            answers = replace(answers, blind_response=first["response"])
        review = build_review(kind, record, answers, reviewer, panel, now, policy)
        blind: Record | None = None
        if kind == "item" and first is None:
            # no blind answer was recorded (a client that never showed the key): the one sent
            # is the first, committed with the review
            blind = build_blind_answer(record, review["blind_response"], reviewer, now)
        findings = self.check_record(review, "review")
        errors = [f for f in findings if f.severity == "error" and f.code not in _DEFERRED_CODES]
        if errors:
            lines = "\n".join(f"  {f.pointer or '/'}: {f.message}" for f in errors)
            raise ValidationFailedError(f"The review was not recorded:\n{lines}", errors)
        review_path = path_of(review, "review")
        decided: dict[str, Any] = {}

        def build() -> tuple[dict[str, bytes | None], dict[str, str | None], str]:
            # Under the store's lock: the reviews read here are all there are, so a second
            # submission (double click, second tab) is refused and two reviewers giving the
            # last approvals at once cannot both miss that the policy is met.
            earlier = self.reviews_of(ident)
            done = [
                r
                for r in earlier
                if same_person(r["reviewer"], reviewer) and r["content_hash"] == current
            ]
            if done:
                raise ReviewInputError(
                    f"You already reviewed this version of {ident} (review {done[0]['id']}); "
                    "it is recorded once. Nothing more was written."
                )
            status = next_status(kind, record, review, earlier, policy)
            if status:
                workflow.check_move("in_review", status)
            changed = dict(record, status=status) if status else record
            decided.update(status=status, changed=changed, earlier=earlier)
            changes: dict[str, bytes | None] = {
                review_path: canonical.dumps(review).encode("utf-8"),
                # the content file is always in the commit, so the check that it is still the
                # version the reviewer read happens under the lock too
                relpath: canonical.dumps(changed).encode("utf-8") if status else data,
            }
            expected: dict[str, str | None] = {review_path: None, relpath: answers.seen}
            if blind is not None:
                if self.blind_answer_of(ident, reviewer, current) is not None:
                    raise ReviewInputError(
                        f"Your blind answer to {ident} was recorded from another window since "
                        "you opened it; open the item again. Nothing more was written."
                    )
                blind_path = self._free_blind_path(blind)
                changes[blind_path] = canonical.dumps(blind).encode("utf-8")
                expected[blind_path] = None
            name = reviewer.split("<")[0].strip()
            words = {"approve": "approve", "request_changes": "request changes", "reject": "reject"}
            message = f"{ident}: {words[review['decision']]} (review by {name})"
            if status == "approved":
                message += "; approved: review policy met"
            elif status:
                message += f"; status {status}"
            return changes, expected, message

        commit = self.store.save_with(build, reviewer)
        status = decided["status"]
        verdict = policy_verdict(kind, decided["changed"], [*decided["earlier"], review], policy)
        return ReviewOutcome(
            review=review,
            status=status,
            commit=commit,
            approvals=len(verdict.current_approvals),
            needed=int(policy.get("approvals_required", 2)),
        )

    def exercise(self, exercise_id: object) -> Record:
        """A standard-setting exercise (the id is checked before it becomes a path)."""
        return self.get_record("exercise", check_id("slug", exercise_id))

    def exercises(self) -> list[Record]:
        return sorted(self.records("exercise"), key=lambda r: str(r.get("id")))

    def ratings_of(self, exercise_id: object) -> list[Record]:
        """Every rating record of an exercise (for the facilitator's results only)."""
        ident = check_id("slug", exercise_id)
        folder = f"standard_setting/{ident}/ratings/"
        return [self._load(p) for p in self.store.list_files() if p.startswith(folder)]

    def _max_marks(self, items: list[str]) -> dict[str, float]:
        return {i: float(self.get_record("item", i)["scoring"]["max_score"]) for i in items}

    def open_exercise(
        self,
        exercise_id: object,
        title: str,
        facilitator: str,
        items: list[str] | None = None,
        blueprint: str | None = None,
        rounds: int = 2,
    ) -> Record:
        """Open a modified-Angoff exercise over items (or the approved items fitting a
        blueprint's role and sections), rated by both standard-setting panels; one commit by the
        facilitator, who may not be a judge."""
        from itembank.core.errors import WorkflowError as _WorkflowError

        ident = check_id("slug", exercise_id)
        facilitator = check_person(facilitator)
        if self.panel_of(facilitator, "standard_setting"):
            raise _WorkflowError(
                f"{facilitator} is a judge on a standard-setting panel, so cannot facilitate."
            )
        if blueprint is not None:
            plan = self.get_record("blueprint", check_id("slug", blueprint))
            sections = {s.get("section") for s in plan.get("sections", [])}
            items = [
                str(i["id"])
                for i in self.items()
                if i.get("status") == "approved"
                and plan.get("role") in i.get("roles", [])
                and i.get("section") in sections
            ]
        chosen = [check_id("content_id", i) for i in items or []]
        if not chosen:
            raise ItembankError("An exercise needs at least one item: give items or a blueprint.")
        for item_id in chosen:
            self.get_record("item", item_id)
        panels = [str(p["id"]) for p in self.panels("standard_setting")]
        record: Record = {
            "schema_version": "1.0",
            "id": ident,
            "title": title.strip() or ident,
            "method": "modified_angoff",
            "items": chosen,
            "panels": panels,
            "rounds": rounds,
            "facilitator": facilitator,
            "status": "open",
        }
        if blueprint is not None:
            record["blueprint"] = blueprint
        self.save(record, facilitator, f"standard setting {ident}: open ({len(chosen)} items)")
        return record

    def judge_round(self, exercise_id: object, judge: str) -> tuple[str, int | None]:
        """(the judge's panel, the round they rate next, or None when they have rated every
        round). IdentityError when they are not on a panel of this exercise."""
        from itembank.core.errors import IdentityError as _IdentityError
        from itembank.standard_setting.angoff import latest

        exercise = self.exercise(exercise_id)
        panel = self._panel_for(judge, "standard_setting")
        if panel not in exercise["panels"]:
            raise _IdentityError(f"Your panel {panel} does not take part in {exercise['id']}.")
        done = [r for (p, j, r) in latest(self.ratings_of(exercise["id"])) if j == judge.lower()]
        following = max(done, default=0) + 1
        return panel, following if following <= int(exercise["rounds"]) else None

    def submit_ratings(
        self,
        exercise_id: object,
        judge: str,
        round_no: object,
        values: dict[str, object],
        comments: dict[str, object] | None = None,
    ) -> Record:
        """Record one judge's ratings for one round as one file and one commit by the judge.
        Every item needs a number from 0 to 1; the round must be the judge's next round; the
        same ratings are never recorded twice."""
        from datetime import UTC, datetime

        from itembank.review.rules import ReviewInputError, review_id, timestamp

        judge = check_person(judge)
        exercise = self.exercise(exercise_id)
        if exercise["status"] != "open":
            raise ReviewInputError(f"{exercise['id']} is closed: ratings are no longer taken.")
        panel, following = self.judge_round(exercise["id"], judge)
        if following is None or round_no != following:
            raise ReviewInputError(
                f"You have already rated round {round_no}; nothing more was recorded."
                if following is None or (isinstance(round_no, int) and round_no < following)
                else f"Round {round_no} is not open to you: you are on round {following}."
            )
        ratings = []
        for item_id in exercise["items"]:
            value = values.get(item_id)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ReviewInputError(f"Give {item_id} a rating from 0 to 1.")
            if not 0 <= float(value) <= 1:
                raise ReviewInputError(
                    f"The rating of {item_id} is {value}: it must be from 0 to 1 (the probability"
                    " that a just-competent candidate gets it right)."
                )
            entry: dict[str, Any] = {"item": item_id, "value": round(float(value), 4)}
            note = (comments or {}).get(item_id)
            if isinstance(note, str) and note.strip():
                entry["comment"] = note.strip()[:2000]
            ratings.append(entry)
        extra = sorted(set(values) - set(exercise["items"]))
        if extra:
            raise ReviewInputError(f"{str(extra[0])[:40]!r} is not an item of this exercise.")
        when = datetime.now(UTC)
        record: Record = {
            "schema_version": "1.0",
            "id": f"{review_id(judge, when)}-r{following}",
            "exercise": exercise["id"],
            "panel": panel,
            "judge": judge,
            "round": following,
            "submitted": timestamp(when),
            "ratings": ratings,
        }
        # check_record sees only the rating's own links, not the exercise checked above
        findings = self.check_record(record, "rating")
        errors = [f for f in findings if f.severity == "error" and f.code != "unknown-exercise"]
        if errors:
            lines = "\n".join(f"  {f.pointer or '/'}: {f.message}" for f in errors)
            raise ValidationFailedError(f"The ratings were not recorded:\n{lines}", errors)
        name = judge.split("<")[0].strip()
        message = (
            f"standard setting {exercise['id']}: round {following} ratings by {name} ({panel})"
        )
        relpath = path_of(record, "rating")
        self.store.save(
            {relpath: canonical.dumps(record).encode("utf-8")}, {relpath: None}, judge, message
        )
        return record

    def round_feedback(self, exercise_id: object, judge: str, round_no: int) -> dict[str, Any]:
        """The judge's OWN panel's spread in a round they have rated (never the other panel)."""
        from itembank.review.rules import ReviewInputError
        from itembank.standard_setting.angoff import feedback

        exercise = self.exercise(exercise_id)
        panel, following = self.judge_round(exercise["id"], judge)
        if following is not None and round_no >= following:
            raise ReviewInputError("Feedback on a round is shown once you have rated it.")
        mine = [r for r in self.ratings_of(exercise["id"]) if r.get("panel") == panel]
        return feedback(exercise, mine, self._max_marks(exercise["items"]), panel, round_no)

    def standard_setting_results(
        self, exercise_id: object, facilitator: str, round_no: int | None = None
    ) -> Any:
        """Both panels' results for a round: for the exercise's facilitator only."""
        from itembank.core.errors import IdentityError as _IdentityError
        from itembank.standard_setting.angoff import results

        exercise = self.exercise(exercise_id)
        if check_person(facilitator).lower() != str(exercise["facilitator"]).lower():
            raise _IdentityError(f"Only {exercise['facilitator']} sees {exercise['id']}'s results.")
        return results(
            exercise,
            self.ratings_of(exercise["id"]),
            self._max_marks(exercise["items"]),
            round_no,
        )

    def close_exercise(self, exercise_id: object, facilitator: str) -> Record:
        """Close an exercise to further ratings (one commit by the facilitator)."""
        from itembank.core.errors import IdentityError as _IdentityError

        exercise = self.exercise(exercise_id)
        if check_person(facilitator).lower() != str(exercise["facilitator"]).lower():
            raise _IdentityError(f"Only {exercise['facilitator']} can close {exercise['id']}.")
        exercise["status"] = "closed"
        self.save(exercise, facilitator, f"standard setting {exercise['id']}: close")
        return exercise

    # ---- form assembly and export (issue 5) ---------------------------------------------------

    def blueprint(self, ident: str) -> Record:
        """A blueprint, refused with its findings when it is invalid or names unknown things."""
        from itembank.forms.pool import AssemblyError

        record = self.get_record("blueprint", check_id("slug", ident))
        errors = [f for f in self.check_record(record, "blueprint") if f.severity == "error"]
        if errors:
            raise AssemblyError(
                f"blueprints/{ident}.json cannot be used:",
                [f"{f.pointer or '/'}: {f.message}" for f in errors],
            )
        return record

    def blueprints(self) -> list[str]:
        """Ids of the bank's blueprints."""
        return sorted(str(r.get("id")) for r in self.records("blueprint"))

    def committed_forms(self) -> list[Record]:
        """Every form manifest under forms/ (what exposure counts are taken from)."""
        return sorted(self.records("form"), key=lambda r: str(r.get("id")))

    def form_pool(self, blueprint: Record, skip_forms: frozenset[str] = frozenset()) -> Any:
        """The approved items and cases a blueprint may use, with their exposure so far."""
        from itembank.forms.pool import build_pool, difficulty_values, exposure_counts

        items = self.items()
        ratings = self.records("rating") if blueprint.get("difficulty", {}).get("source") else []
        source = blueprint.get("difficulty", {}).get("source", "writer")
        exposure = exposure_counts(
            m for m in self.committed_forms() if str(m.get("id")) not in skip_forms
        )
        return build_pool(
            blueprint,
            items,
            self.records("stimulus"),
            difficulty_values(source, items, ratings),
            exposure,
        )

    def feasibility(self, blueprint_id: str, n_forms: int) -> list[str]:
        """Constraint families whose demand for n_forms exceeds what the bank supplies."""
        from itembank.forms.pool import supply_conflicts

        blueprint = self.blueprint(blueprint_id)
        pool = self.form_pool(blueprint)
        cap = blueprint.get("exposure_cap")
        left = {
            i: max(0, int(cap) - c.exposure) if cap is not None else n_forms
            for i, c in pool.items.items()
        }
        return list(supply_conflicts(blueprint, pool, n_forms, left))

    def _commit_facts(self) -> tuple[str, str]:
        """HEAD's sha and its commit time in UTC (what makes a form's `created` reproducible)."""
        import datetime as dt

        head = self.store.head()
        if head is None:
            raise ItembankError("The bank's repository has no commits yet: commit the bank first.")
        stamp = self.store.repo.commit(head).committed_date
        when = dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return head, when

    def _require_clean(self, prefixes: tuple[str, ...]) -> None:
        """Refuse when content a form depends on differs from the commit it would record."""
        from itembank.forms.manifests import NotDeliverableError

        files, fingerprints = self._snapshot()
        dirty = [p for p in files if p.startswith(prefixes) and p not in fingerprints]
        if dirty:
            raise NotDeliverableError(
                f"{len(dirty)} file(s) differ from the last commit. A form records the commit "
                "it was built from: commit or discard those changes first.",
                [f"{p}: uncommitted-change" for p in dirty],
            )

    #: The findings of validate's review-policy rule (bankrules) that keep content off a form.
    _GATE_CODES = frozenset({"approval-stale", "not-approved"})

    def _as_at(
        self, commit: str, refs: dict[str, str], bank_path: str | None = None
    ) -> tuple[dict[str, Record], dict[str, str], dict[str, bytes]]:
        """Content records (id -> kind) as they were at `commit`, read from git, and for each
        one marked approved that the review policy does not back then, "code: why": the very
        rule validate applies (bankrules, over bank.json and the reviews as of that commit),
        never a second one. Also returns the files read (path -> bytes). `bank_path`: where
        the bank folder was in the repository then (default: where it is now)."""
        from itembank.checks.analysis import analyse_file

        paths = {ident: path_for(kind, ident) for ident, kind in refs.items()}
        files = self.store.files_at(
            commit, ["bank.json", *paths.values()], [f"reviews/{i}" for i in refs], bank_path
        )
        matcher = build_matcher([])
        analysed = {p: analyse_file(p, data, matcher) for p, data in files.items()}
        records: dict[str, Record] = {}
        verdicts: dict[str, str] = {}
        for ident, path in paths.items():
            if path not in files:
                continue
            record, _ = parse_record(path, files[path])
            facts = analysed[path].facts
            if not isinstance(record, dict) or facts is None or not facts.get("valid"):
                verdicts[ident] = "invalid: the file has errors (itembank validate lists them)"
                continue
            records[ident] = record
        by_path = {p: i for i, p in paths.items()}
        for finding in check_bank({p: r.facts for p, r in analysed.items()}):
            ident = by_path.get(finding.path, "")
            if ident and finding.code in self._GATE_CODES and ident not in verdicts:
                verdicts[ident] = f"{finding.code}: {finding.message}"
        return records, verdicts, files

    def _uncommitted(self, refs: dict[str, str], head_files: dict[str, bytes]) -> list[str]:
        """Ids whose file, or whose reviews, differ on disk from HEAD (`head_files`: what
        _as_at read at HEAD for the same refs)."""
        out = []
        for ident, kind in refs.items():
            own, folder = path_for(kind, ident), f"reviews/{ident}/"
            # the reviews themselves, as _as_at reads them (blind/ answers are not part of them)
            reviews = [p for p in self.store.list_files(folder) if "/" not in p[len(folder) :]]
            disk = {p: self.store.read_optional(p) for p in [own, *reviews]}
            head = {p: d for p, d in head_files.items() if p == own or p.startswith(folder)}
            if {p: d for p, d in disk.items() if d is not None} != head:
                out.append(ident)
        return out

    def _head(self) -> str:
        head = self.store.head()
        if head is None:
            raise ItembankError("The bank's repository has no commits yet: commit the bank first.")
        return head

    @staticmethod
    def _is_manifest_path(form: str) -> bool:
        """A form named by the path of a manifest (assemble --out), not by its id."""
        return "/" in form or form.endswith(".json") or Path(form).exists()

    def _check_form(self, form: str) -> tuple[Any, Record, dict[str, Record], dict[str, bytes]]:
        """The FormCheck of a form (see verify_form), its manifest, and its records and the
        files read at its recorded commit (what export builds from)."""
        from itembank.forms.manifests import changes_since, check_manifest, manifest_ids

        manifest = self.form(form)
        commit, bank_path = str(manifest["bank_commit"]), manifest.get("bank_path")
        refs = manifest_ids(manifest)
        recorded, then, files = self._as_at(commit, refs, bank_path)
        blueprint_path = path_for("blueprint", str(manifest["blueprint"]))
        files.update(self.store.files_at(commit, [blueprint_path], ["standards"], bank_path))
        try:
            blueprint: Record | None = self.get_record("blueprint", str(manifest["blueprint"]))
        except ItembankError:
            blueprint = None
        items = {i: r for i, r in recorded.items() if refs[i] == "item"}
        stimuli = {i: r for i, r in recorded.items() if refs[i] == "stimulus"}
        check = check_manifest(manifest, items, stimuli, blueprint, then)
        head = self._head()
        current, now, head_files = self._as_at(head, refs)
        uncommitted = self._uncommitted(refs, head_files)
        if not self._is_manifest_path(form):
            relpath = path_for("form", str(manifest["id"]))
            if self.store.files_at(head, [relpath]).get(relpath) != self.store.read(relpath):
                check.problems.append(
                    f"{relpath}: uncommitted-change: the manifest differs from the last commit "
                    "(commit or discard the change)"
                )
        check = changes_since(check, manifest, current, now, uncommitted)
        return check, manifest, recorded, files

    def assemble(
        self,
        blueprint_id: str,
        n_forms: int,
        seed: int,
        *,
        out: str | os.PathLike[str] | None = None,
        force: bool = False,
        author: str | None = None,
        time_limit: float = 60.0,
        progress: Callable[[str], None] | None = None,
    ) -> Any:
        """Build n_forms parallel forms and commit their manifests (one commit), or with `out`
        write them to that folder instead. Returns a FormsOutcome."""
        from itembank.forms.assembly import assemble
        from itembank.forms.exporters import write_tree
        from itembank.forms.manifests import FormsOutcome, build_manifest, form_ids

        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ItembankError(f"The seed must be a whole number 0 or more, not {seed!r}.")
        blueprint = self.blueprint(blueprint_id)
        ids = form_ids(blueprint_id, seed, n_forms)
        paths = {i: path_for("form", i) for i in ids}
        existing = [i for i in ids if self.store.exists(paths[i])]
        if existing and out is None and not force:
            raise ItembankError(
                f"Form(s) {', '.join(existing)} already exist in the bank. Use another seed, "
                "or --force to replace them."
            )
        self._require_clean(("items/", "stimuli/", "reviews/", "blueprints/", "forms/"))
        head, created = self._commit_facts()
        pool = self.form_pool(blueprint, frozenset(existing) if force else frozenset())
        refs = {i: "item" for i in pool.items} | {c: "stimulus" for c in pool.cases}
        _, verdicts, _ = self._as_at(head, refs)
        if verdicts:
            from itembank.forms.manifests import NotDeliverableError

            raise NotDeliverableError(
                f"Cannot assemble {blueprint_id}: {len(verdicts)} record(s) marked approved do "
                "not carry the approvals the review policy requires (validate says the same). "
                "Set them to in_review, or complete their review, and commit:",
                [f"{i}: {why}" for i, why in sorted(verdicts.items())],
            )
        result = assemble(blueprint, pool, n_forms, seed, time_limit, progress)
        items = {str(r["id"]): r for r in self.items()}
        stimuli = {str(r["id"]): r for r in self.records("stimulus")}
        difficulty = {i: c.difficulty for i, c in pool.items.items()}
        manifests = [
            build_manifest(
                form_id,
                form,
                blueprint,
                items,
                stimuli,
                difficulty,
                seed,
                head,
                created,
                result.solver,
                ids,
                self.store.prefix.rstrip("/"),
            )
            for form_id, form in zip(ids, result.forms, strict=True)
        ]
        files = {f"{m['id']}/manifest.json": canonical.dumps(m).encode() for m in manifests}
        commit = None
        written = None
        if out is not None:
            written = write_tree(Path(out), files, force, self._protected())
        else:
            who = self.identity(author)
            expected = {
                paths[i]: canonical.git_blob_sha(self.store.read(paths[i])) for i in existing
            }
            changes = {f"forms/{rel}": data for rel, data in files.items()}
            commit = self.store.save(
                changes,
                {p: expected.get(p) for p in changes},
                who,
                f"Assemble {n_forms} form(s) for {blueprint_id} (seed {seed}): {', '.join(ids)}",
            )
        return FormsOutcome(manifests, result, commit, written)

    def form(self, form: str) -> Record:
        """A form manifest: a form id in this bank, or the path of a manifest.json (or of the
        folder holding one) written with assemble --out."""
        if self._is_manifest_path(form):
            path = Path(form)
            path = path / "manifest.json" if path.is_dir() else path
            if not path.is_file():
                raise UnknownIdError(f"No form manifest at {path}.")
            from itembank.core.schemas import iter_schema_errors

            record, problems = parse_record("forms/x/manifest.json", path.read_bytes())
            if not isinstance(record, dict):
                raise ItembankError(f"{path} cannot be read: {problems[0].message}")
            errors = list(iter_schema_errors("form", record))
            if errors:
                raise ItembankError(f"{path} is not a valid form manifest: {errors[0].message}")
            return record
        relpath = path_for("form", check_id("slug", form))
        if not self.store.exists(relpath):
            raise UnknownIdError(f"No form {form} in the bank (looked for {relpath}).")
        return self._load(relpath)

    def verify_form(self, form: str) -> Any:
        """Check a form as recorded, reading each record at the manifest's bank commit (hash,
        approvals as of that commit, option order, key, totals), and say what changed since,
        per id: edited, retired, went back to review, approvals no longer valid, gone, or an
        uncommitted change (a FormCheck; ok only if the form can be delivered as it stands)."""
        check, _, _, _ = self._check_form(form)
        return check

    def export_form(
        self,
        form: str,
        fmt: str,
        out: str | os.PathLike[str],
        force: bool = False,
        as_delivered: bool = False,
    ) -> list[Path]:
        """Export a form (or, for html/pdf, a scenario id) to the folder `out`.

        A form is rebuilt from its manifest's recorded bank commit: every record (and bank.json,
        the standards and the blueprint) is read from git at that commit, its content hash must
        match the manifest and it must have carried the approvals the review policy requires
        AS OF that commit; so the same form gives the same bytes years later. If an item has
        moved on since, an edit that was approved again, or a retirement, does not block; but
        content whose current state is not approved-or-retired (back in review, or marked
        approved without the approvals: approval-stale / not-approved) is refused unless
        `as_delivered` (a re-export of what candidates saw, for the record, e.g. an appeal).
        Uncommitted changes to any record the form names always refuse. A scenario is exported
        as committed at HEAD, and only when the review policy backs its approval.
        Refusals raise NotDeliverableError naming each id and why."""
        from itembank.core.ids import is_id
        from itembank.forms.exporters import FormBundle, ScenarioBundle, export, write_tree
        from itembank.forms.manifests import NotDeliverableError, manifest_ids

        bundle: FormBundle | ScenarioBundle

        if is_id("content_id", form):
            refs = {form: "scenario"}
            current, verdicts, files = self._as_at(self._head(), refs)
            scenario = current.get(form) or self.get(form)  # absent: get() says so plainly
            if "exercises" not in scenario:
                raise ItembankError(f"{form} is not a form or a scenario: export takes either.")
            problems = [f"{form}: {why}" for why in verdicts.values()]
            if scenario.get("status") != "approved":
                problems.append(f"{form}: not-approved: it is {scenario.get('status')}")
            problems += [
                f"{i}: uncommitted-change: its file or its reviews differ from the last commit "
                "(commit or discard the change)"
                for i in self._uncommitted(refs, files)
            ]
            if problems:
                raise NotDeliverableError(
                    f"{form} cannot be exported: only approved, committed scenarios are.", problems
                )
            files.update(self.store.files_at(self._head(), [], ["standards"]))
            bundle = ScenarioBundle(scenario, *self._titles_at(files))
        else:
            check, manifest, recorded, files = self._check_form(form)
            blockers = check.export_blockers(as_delivered)
            if blockers:
                hint = (
                    " (to re-export it exactly as delivered, for the record, e.g. an appeal, "
                    "use --as-delivered)"
                    if not as_delivered and not check.export_blockers(True)
                    else ""
                )
                raise NotDeliverableError(
                    f"The form {check.form} cannot be exported{hint}:", blockers
                )
            refs = manifest_ids(manifest)
            blueprint_path = path_for("blueprint", str(manifest["blueprint"]))
            blueprint, _ = parse_record(blueprint_path, files.get(blueprint_path, b"null"))
            bundle = FormBundle(
                manifest,
                blueprint if isinstance(blueprint, dict) else None,
                {i: r for i, r in recorded.items() if refs[i] == "item"},
                {i: r for i, r in recorded.items() if refs[i] == "stimulus"},
                *self._titles_at(files),
            )
        return write_tree(Path(out), export(fmt, bundle), force, self._protected())

    def _titles_at(self, files: dict[str, bytes]) -> tuple[dict[tuple[str, str], str], str]:
        """Statement titles and the bank's title from files read at one commit."""
        titles: dict[tuple[str, str], str] = {}
        bank_title = "Item bank"
        for relpath, data in sorted(files.items()):
            if relpath != "bank.json" and not relpath.startswith("standards/"):
                continue
            record, _ = parse_record(relpath, data)
            if not isinstance(record, dict):
                continue
            if relpath == "bank.json":
                bank_title = str(record.get("title", bank_title))
            elif relpath.startswith("standards/"):
                for statement in record.get("statements", []):
                    titles[(str(record.get("id")), statement["id"])] = statement["title"]
        return titles, bank_title

    def _protected(self) -> list[Path]:
        """Folders --force must never replace: the bank and the working tree holding it."""
        return [self.path, self.store.worktree]

    def compare_forms(self, forms: list[str]) -> list[dict[str, Any]]:
        """Forms side by side (ids or manifest paths): difficulty, cases, items per statement."""
        from itembank.forms.manifests import compare

        manifests = [self.form(f) for f in forms]
        ids = {e["id"] for m in manifests for s in m["sections"] for e in s["items"]}
        return compare(manifests, {i: self.get_record("item", i) for i in sorted(ids)})


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


def _describe_change(record: Record, old: Record | None, kind: str) -> str:
    """A commit message naming the record and what changed."""
    ident = record.get("id", kind)
    if kind == "review":
        return (
            f"{record.get('target')}: {str(record.get('decision', 'review')).replace('_', ' ')}"
            f" (review by {str(record.get('reviewer', '')).split('<')[0].strip()})"
        )
    if old is None:
        return f"{ident}: create {kind} ({record.get('status', 'new')})"
    changed = sorted(k for k in set(record) | set(old) if record.get(k) != old.get(k))
    if old.get("status") != record.get("status"):
        move = {
            "in_review": "submit for review",
            "approved": "approve",
            "retired": "retire",
            "draft": "return to draft",
        }.get(str(record.get("status")), f"set status {record.get('status')}")
        others = [c for c in changed if c != "status"]
        return f"{ident}: {move}" + (f"; update {', '.join(others)}" if others else "")
    return f"{ident}: update {', '.join(changed) or 'nothing'}"


ProgressCallback = Callable[[int, int], None]
#: An import's progress: (stage, rows done, rows in all); stage is "read", "checked", "written".
ImportProgress = Callable[[str, int, int], None]


#: Rows checked per step of an import (its progress is reported after each step).
_IMPORT_CHUNK = 10_000


def _note_number(top: dict[str, int], ident: str) -> None:
    """Remember the number of an id like GK-0123 if it is the highest of its prefix so far."""
    prefix, sep, number = ident.partition("-")
    if sep and number.isdigit():
        top[prefix] = max(top.get(prefix, 0), int(number))
