"""The Bank every face (CLI, widgets, notebooks, apps) calls: open a bank, read its records,
validate it, report coverage and currency, and save changes as git commits by the person who
made them. Each role's work is a section the Bank composes (authoring, panels, review,
standard_setting, forms), so a new capability lands in its own room, not in this class.

Validation with its cache is in validating.py (bank.validation); what is left here is what
every section shares (reading with conflict bases, saving with its workflow checks, kept
versions)."""

from __future__ import annotations

import contextlib
import os
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from itembank.checks.analysis import analyse_file
from itembank.checks.bankrules import check_bank
from itembank.checks.coverage import Coverage, blueprint_capacity, coverage
from itembank.checks.currency import build_matcher
from itembank.checks.validation import Progress, references_of
from itembank.core import canonical, workflow
from itembank.core.errors import (
    ItembankError,
    UnknownIdError,
    ValidationFailedError,
    WorkflowError,
)
from itembank.core.findings import DEFERRED_CODES, Finding, Report, warning
from itembank.core.identity import bank_people, check_person, resolve_identity
from itembank.core.ids import check_id, is_id
from itembank.core.layout import CONTENT_KINDS, kind_of, locate, path_for, path_of
from itembank.core.parsing import parse_record
from itembank.storage import Commit, GitStore, Kept, RemoteSync

if TYPE_CHECKING:  # the sections are imported when first used: `import itembank` stays light
    from itembank.authoring.service import Authoring
    from itembank.checks.learningrules import LiveText
    from itembank.checks.similarity import SimilarityIndex
    from itembank.forms.service import Forms
    from itembank.panels import Panels
    from itembank.results.outcomes import LearningText
    from itembank.results.service import Results
    from itembank.review.service import Review
    from itembank.standard_setting.service import StandardSetting
    from itembank.validating import Validation

Record = dict[str, Any]


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
    """A bank of items, stimuli, scenarios and their reviews, backed by a git repository.

    The bank itself reads records, validates, and saves changes as commits; each role's work is
    a section it composes: ``bank.authoring``, ``bank.review``, ``bank.standard_setting``,
    ``bank.forms`` and ``bank.panels``.
    """

    def __init__(self, store: GitStore) -> None:
        self.store = store
        #: git blob of each file as this Bank last read or wrote it: a save refuses (keeping
        #: the person's version) when the file changed since. Shared with the sections.
        self._bases: dict[str, str | None] = {}
        self._similarity: SimilarityIndex | None = None
        self._live_text: LiveText | None = None  # live prose, for learning points' checks

    # Each section is made (and its room imported) when first used, so a command that only
    # validates never imports the solver, the exporters or the similarity index.

    @cached_property
    def authoring(self) -> Authoring:
        """Writers: next ids, live checks, drafts, 'my items', CSV import, remapping."""
        from itembank.authoring.service import Authoring

        return Authoring(self)

    @cached_property
    def panels(self) -> Panels:
        """Who sits on which panel, and who is signing in to a panel app."""
        from itembank.panels import Panels

        return Panels(self)

    @cached_property
    def review(self) -> Review:
        """Expert review: the queue, opening content, blind answers, submitting reviews."""
        from itembank.review.service import Review

        return Review(self)

    @cached_property
    def standard_setting(self) -> StandardSetting:
        """Modified-Angoff exercises, ratings, feedback and results; the compromise review and
        the adopted pass mark (the results room's AdoptedPassMark is handed in)."""
        from itembank.results.outcomes import AdoptedPassMark
        from itembank.standard_setting.service import StandardSetting

        return StandardSetting(self, AdoptedPassMark)

    @cached_property
    def forms(self) -> Forms:
        """Blueprints, assembly, verification and export of forms."""
        from itembank.forms.service import Forms

        return Forms(self)

    @cached_property
    def results(self) -> Results:
        """Delivered results: import into the results store (outside the repository), the
        scored matrix and characteristics the statistics read. The forms room's scorer,
        delivery ids and PDF printer are handed in here, as rooms do not import each other."""
        from itembank.forms.exporters.pdf import print_pdf
        from itembank.forms.manifests import delivery_id
        from itembank.forms.scoring import score
        from itembank.results.service import Results

        return Results(self, score, delivery_id, print_pdf)

    @cached_property
    def sync(self) -> RemoteSync:
        """Sharing through the git remote bank.json's `sync` names: status (ahead, behind,
        last fetch) and sync(); every save already pushes (storage/remote.py)."""
        return RemoteSync(self.store)

    def __repr__(self) -> str:
        return f"Bank({str(self.path)!r})"

    @property
    def path(self) -> Path:
        return self.store.root

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

    def unreadable(self, kinds: tuple[str, ...] = CONTENT_KINDS) -> list[str]:
        """Record files of these kinds that cannot be read as records (validate says why): what
        a command built on the readable records leaves out, so that it can say so."""
        out = []
        for relpath in self.store.list_files():
            try:
                location = locate(relpath)
                if location is not None and location.kind in kinds:
                    self._load(relpath)
            except ItembankError:
                out.append(relpath)
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
        raise UnknownIdError(f"No item, case, scenario or learning point has the id {ident}.")

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

    def statistics_of(self, ident: str) -> list[Record]:
        """The readable statistics records of one item, every administration, newest first
        (aggregates only; they are not content and never change the item)."""
        check_id("content_id", ident)
        out = []
        for relpath in self.store.list_files("statistics"):
            if relpath.endswith(f"/{ident}.json"):
                with contextlib.suppress(ItembankError):
                    out.append(self._load(relpath))
        return sorted(out, key=lambda r: str(r.get("analysed_at", "")), reverse=True)

    def history(self, ident: str) -> list[Commit]:
        """Commits that changed this record, newest first."""
        check_id("content_id", ident)
        for kind in CONTENT_KINDS:
            relpath = path_for(kind, ident)
            if self.store.exists(relpath):
                return self.store.history(relpath)
        raise UnknownIdError(f"No item, case, scenario or learning point has the id {ident}.")

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
        raise UnknownIdError(f"No item, case, scenario or learning point has the id {ident}.")

    def identity(self, explicit: str | None = None) -> str:
        """Who is working: explicit, else JUPYTERHUB_USER, else git config (IdentityError)."""
        return resolve_identity(
            explicit, *self.store.git_identity(), people=bank_people(self.settings)
        )

    def _snapshot(self, defer: bool = False) -> tuple[list[str], dict[str, str]]:
        """The bank's files, and the git blob of each one git knows to be unchanged (with
        `defer`, for validation: on a first run the workers hash the files they read)."""
        return self.store.list_files(), self.store.fingerprints(defer)

    @cached_property
    def validation(self) -> Validation:
        """Validation with its cache (validating.py): cold, or only what a change touches."""
        from itembank.validating import Validation

        return Validation(self.store, self._load)

    def validate(self, progress: Progress | None = None) -> Report:
        """Every finding in the bank: structural, semantic, bank-wide and currency, plus the
        files that differ from the last commit. After a change only the changed files and what
        they touch are checked again; an unchanged bank's last report is reused."""
        uncommitted = self.store.uncommitted_later()  # git looks while validation runs
        report = self.validation.validate(self._snapshot(defer=True), progress)
        return Report(
            report.files_checked, report.findings + self._uncommitted_findings(uncommitted())
        )

    def facts(self) -> dict[str, dict[str, Any]]:
        """The compact summary of every readable record (what coverage and rules use)."""
        return self.validation.facts(self._snapshot(defer=True))

    def currency(self, on: str | None = None) -> list[Finding]:
        """What is out of date on ``on`` (YYYY-MM-DD, default today): citations and terms of
        superseded or pending law, provisions commenced by then, frameworks ended by then."""
        from itembank.checks.currency import Content, currency_on, parse_day

        day = parse_day(on) if on is not None else date.today().isoformat()
        content = []
        for relpath in self.store.list_files():
            try:
                location = locate(relpath)
                if location is not None and location.kind in CONTENT_KINDS:
                    content.append(Content(relpath, self._load(relpath)))
            except ItembankError:
                continue  # unreadable: validate reports it
        return currency_on(day, self.references(), self.frameworks(), content)

    def coverage(self, blueprint: str | None = None) -> Coverage:
        """Item counts per statement x role x section x format x status."""
        if blueprint is None:
            return self.validation.coverage(self._snapshot(defer=True))
        facts = self.facts()
        frameworks = {
            f["file_id"]: f for f in facts.values() if f["kind"] == "framework" and f["valid"]
        }
        result = coverage(facts, frameworks)
        if blueprint is not None:
            record = self.get_record("blueprint", blueprint)
            result.blueprint = blueprint_capacity(record, facts, frameworks)
        return result

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
        if kind == "learning_point":  # never live item content: checked against all of it
            links += self._shared_with_live({relpath: record})
        return result.findings + links

    def _shared_with_live(self, points: dict[str, Record]) -> list[Finding]:
        """Learning points that share a run of words with live content; the live prose is read
        once per Bank and save (a writer's checks run as they type)."""
        from itembank.checks.learningrules import LIVE_KINDS, LiveText

        if self._live_text is None:
            live = [(kind, r) for kind in LIVE_KINDS for r in self.records(kind)]
            names = [str(r.get("title", "")) for r in self.references()]
            self._live_text = LiveText(live, names)
        return self._live_text.findings(points)

    def learning_points(self, status: str | None = "approved") -> tuple[LearningText, ...]:
        """Learning points as letters quote them, sorted by id: by default the approved ones
        whose approval the review policy backs (approvals of the current text) and that share
        no words with live content; `status=None` gives every valid one (a file with schema
        errors is left out: validate names it)."""
        from itembank.results.outcomes import LearningText

        valid = {p for p, f in self.facts().items() if f["kind"] == "learning_point" and f["valid"]}
        chosen = {
            relpath: self._load(relpath)
            for relpath in sorted(valid)
            if status is None or self._load(relpath).get("status") == status
        }
        if status == "approved":
            policy = self.settings["review_policy"]
            from itembank.checks.analysis import FACTS

            for relpath, record in list(chosen.items()):
                reviews = [
                    (str(r["id"]), FACTS["review"](r)) for r in self.reviews_of(record["id"])
                ]
                verdict = workflow.verdict_for(
                    str(record["author"]),
                    workflow.content_hash("learning_point", record),
                    reviews,
                    policy,
                )
                if not verdict.approved:
                    del chosen[relpath]
            for finding in self._shared_with_live(chosen):
                chosen.pop(finding.path, None)
        titles = {str(r.get("id")): str(r.get("title", r.get("id"))) for r in self.references()}
        return tuple(
            LearningText(
                id=str(r["id"]),
                title=str(r["title"]),
                text=str(r["text"]),
                standards=tuple(str(m["statement"]) for m in r["standards"]),
                resources=tuple(titles.get(str(ref), str(ref)) for ref in r["references"]),
            )
            for r in sorted(chosen.values(), key=lambda r: str(r["id"]))
        )

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
        elif kind == "statistics":  # the item it describes and the form it was delivered on
            paths += [path_for("item", i) for i in ids(record.get("item"))]
            form = record.get("form")
            paths += [path_for("form", str(form))] if is_id("slug", form) else []
        elif kind == "release":  # the form its candidates sat
            form = record.get("form")
            paths += [path_for("form", str(form))] if is_id("slug", form) else []
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
        if not all(p.startswith("learning_points/") for p in changes):  # live prose changed
            self._live_text = None
        return sha

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

    def _uncommitted_findings(self, paths: list[str]) -> list[Finding]:
        """Bank files that differ from the last commit (e.g. a save killed half-way)."""
        return [
            warning(p, "", "uncommitted-change", self.store.uncommitted_words(p)) for p in paths
        ]

    def _prepare(self, record: Record, kind: str) -> tuple[str, bytes, str]:
        """Check one record for saving: path, canonical bytes and the commit message part."""
        relpath = path_of(record, kind)
        old = self._previous(relpath)
        note = self._apply_workflow(kind, record, old)
        findings = self.check_record(record, kind)
        errors = [f for f in findings if f.severity == "error" and f.code not in DEFERRED_CODES]
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
            workflow.describe_change(record, old, kind) + note,
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
