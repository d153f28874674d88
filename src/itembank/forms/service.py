"""The forms section of a bank (``bank.forms``): blueprints, assembly of parallel forms into
committed manifests, verification of a form against the commit it records, and export of only
approved, committed content. Assembly, manifests and exporters are pure; this section reads the
bank (at the recorded commit, from git) and commits through it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from itembank.checks.analysis import analyse_file
from itembank.checks.bankrules import check_bank
from itembank.checks.currency import build_matcher
from itembank.core import canonical
from itembank.core.errors import (
    ItembankError,
    UnknownIdError,
)
from itembank.core.ids import check_id, is_id
from itembank.core.layout import path_for
from itembank.core.parsing import parse_record
from itembank.core.schemas import iter_schema_errors
from itembank.forms.assembly import assemble
from itembank.forms.exporters import (
    FormBundle,
    Progress,
    ScenarioBundle,
    bank_words,
    exporter,
    write_tree,
)
from itembank.forms.exporters.package_check import PackageRefusedError, check_package, unzip
from itembank.forms.exporters.package_report import ExportCheck, paper_lines
from itembank.forms.manifests import (
    FormCheck,
    FormsOutcome,
    NotDeliverableError,
    build_manifest,
    changes_since,
    check_manifest,
    compare,
    form_ids,
    manifest_ids,
)
from itembank.forms.parity import irt_parameters, pass_mark_cut
from itembank.forms.pool import (
    EMPIRICAL_MIN_N,
    AssemblyError,
    Pool,
    build_pool,
    delivered_counts,
    difficulty_values,
    empirical_difficulty,
    exposure_counts,
    supply_conflicts,
)

if TYPE_CHECKING:
    from itembank.bank import Bank

Record = dict[str, Any]
Files = dict[str, bytes]
Out = str | os.PathLike[str] | None  # where an export goes (None: only with check=True)


class Forms:
    """Form assembly, verification and export, gated on review as of the recorded commit."""

    def __init__(self, bank: Bank) -> None:
        self._bank = bank
        self._store = bank.store

    def blueprint(self, ident: str) -> Record:
        """A blueprint, refused with its findings when it is invalid or names unknown things."""
        record = self._bank.get_record("blueprint", check_id("slug", ident))
        errors = [f for f in self._bank.check_record(record, "blueprint") if f.severity == "error"]
        if errors:
            raise AssemblyError(
                f"blueprints/{ident}.json cannot be used:",
                [f"{f.pointer or '/'}: {f.message}" for f in errors],
            )
        return record

    def blueprints(self) -> list[str]:
        """Ids of the bank's blueprints."""
        return sorted(str(r.get("id")) for r in self._bank.records("blueprint"))

    def committed(self) -> list[Record]:
        """Every form manifest under forms/ (what exposure counts are taken from)."""
        return sorted(self._bank.records("form"), key=lambda r: str(r.get("id")))

    def pool(self, blueprint: Record, skip_forms: frozenset[str] = frozenset()) -> Pool:
        """The approved items and cases a blueprint may use, with their exposure so far."""
        items = self._bank.items()
        ratings = (
            self._bank.records("rating") if blueprint.get("difficulty", {}).get("source") else []
        )
        source = blueprint.get("difficulty", {}).get("source", "writer")
        exposure = exposure_counts(
            m for m in self.committed() if str(m.get("id")) not in skip_forms
        )
        statistics = self._bank.records("statistics")  # aggregates only: never on a form
        fallback: list[str] = []
        if source == "empirical":
            difficulty, fallback = empirical_difficulty(items, statistics)
        else:
            difficulty = difficulty_values(source, items, ratings)
        pool = build_pool(
            blueprint,
            items,
            self._bank.records("stimulus"),
            difficulty,
            exposure,
            self._framework_roles(),
            delivered_counts(statistics),
        )
        if fallback:
            pool.notes.append(
                f"{len(fallback)} approved item(s) have no statistics of their current version "
                f"from {EMPIRICAL_MIN_N}+ candidates yet; the writer's difficulty estimate was "
                f"used (e.g. {', '.join(fallback[:5])})"
            )
        return pool

    def _framework_roles(self) -> dict[str, str]:
        """Framework id -> its role: a mapping counts only for content that claims that role."""
        return {fw: str(r.get("role")) for fw, r in self._bank.frameworks().items()}

    def feasibility(self, blueprint_id: str, n_forms: int) -> list[str]:
        """Constraint families whose demand for n_forms exceeds what the bank supplies."""
        blueprint = self.blueprint(blueprint_id)
        pool = self.pool(blueprint)
        cap = blueprint.get("exposure_cap")
        left = {
            i: max(0, int(cap) - c.exposure) if cap is not None else n_forms
            for i, c in pool.items.items()
        }
        return list(supply_conflicts(blueprint, pool, n_forms, left))

    def _commit_facts(self) -> tuple[str, str]:
        """HEAD's sha and its commit time in UTC (what makes a form's `created` reproducible)."""
        import datetime as dt

        head = self._store.head()
        if head is None:
            raise ItembankError("The bank's repository has no commits yet: commit the bank first.")
        stamp = self._store.repo.commit(head).committed_date
        when = dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return head, when

    def _require_clean(self, prefixes: tuple[str, ...]) -> None:
        """Refuse when content a form depends on differs from the commit it would record."""
        files, fingerprints = self._bank._snapshot()
        dirty = [p for p in files if p.startswith(prefixes) and p not in fingerprints]
        if dirty:
            raise NotDeliverableError(
                f"{len(dirty)} file(s) differ from the last commit. A form records the commit "
                "it was built from: commit or discard those changes first.",
                [f"{p}: uncommitted-change" for p in dirty],
            )

    _GATE_CODES = frozenset({"approval-stale", "not-approved"})

    #: The findings of validate's review-policy rule (bankrules) that keep content off a form.
    def _as_at(
        self, commit: str, refs: dict[str, str], bank_path: str | None = None
    ) -> tuple[dict[str, Record], dict[str, str], dict[str, bytes]]:
        """Content records (id -> kind) as they were at `commit`, read from git, and for each
        one marked approved that the review policy does not back then, "code: why": the very
        rule validate applies (bankrules, over bank.json and the reviews as of that commit),
        never a second one. Also returns the files read (path -> bytes). `bank_path`: where
        the bank folder was in the repository then (default: where it is now)."""

        paths = {ident: path_for(kind, ident) for ident, kind in refs.items()}
        files = self._store.files_at(
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
            reviews = [p for p in self._store.list_files(folder) if "/" not in p[len(folder) :]]
            disk = {p: self._store.read_optional(p) for p in [own, *reviews]}
            head = {p: d for p, d in head_files.items() if p == own or p.startswith(folder)}
            if {p: d for p, d in disk.items() if d is not None} != head:
                out.append(ident)
        return out

    def _head(self) -> str:
        head = self._store.head()
        if head is None:
            raise ItembankError("The bank's repository has no commits yet: commit the bank first.")
        return head

    @staticmethod
    def _is_manifest_path(form: str) -> bool:
        """A form named by the path of a manifest (assemble --out), not by its id."""
        return "/" in form or form.endswith(".json") or Path(form).exists()

    def _check_form(
        self, form: str
    ) -> tuple[FormCheck, Record, dict[str, Record], dict[str, bytes]]:
        """The FormCheck of a form (see verify), its manifest, and its records and the
        files read at its recorded commit (what export builds from)."""
        manifest = self.form(form)
        commit, bank_path = str(manifest["bank_commit"]), manifest.get("bank_path")
        refs = manifest_ids(manifest)
        recorded, then, files = self._as_at(commit, refs, bank_path)
        blueprint_path = path_for("blueprint", str(manifest["blueprint"]))
        files.update(self._store.files_at(commit, [blueprint_path], ["standards"], bank_path))
        try:
            blueprint: Record | None = self._bank.get_record(
                "blueprint", str(manifest["blueprint"])
            )
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
            if self._store.files_at(head, [relpath]).get(relpath) != self._store.read(relpath):
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
        tolerance: float | None = None,
    ) -> FormsOutcome:
        """Build n_forms parallel forms and commit their manifests (one commit), or with `out`
        write them to that folder instead. `tolerance` overrides the blueprint's parity
        tolerance; 2PL statistics add the curves to what is matched (forms.parity)."""
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ItembankError(f"The seed must be a whole number 0 or more, not {seed!r}.")
        blueprint = self.blueprint(blueprint_id)
        ids = form_ids(blueprint_id, seed, n_forms)
        paths = {i: path_for("form", i) for i in ids}
        existing = [i for i in ids if self._store.exists(paths[i])]
        if existing and out is None and not force:
            raise ItembankError(
                f"Form(s) {', '.join(existing)} already exist in the bank. Use another seed, "
                "or --force to replace them."
            )
        self._require_clean(("items/", "stimuli/", "reviews/", "blueprints/", "forms/"))
        head, created = self._commit_facts()
        pool = self.pool(blueprint, frozenset(existing) if force else frozenset())
        refs = {i: "item" for i in pool.items} | {c: "stimulus" for c in pool.cases}
        _, verdicts, _ = self._as_at(head, refs)
        if verdicts:
            raise NotDeliverableError(
                f"Cannot assemble {blueprint_id}: {len(verdicts)} record(s) marked approved do "
                "not carry the approvals the review policy requires (validate says the same). "
                "Set them to in_review, or complete their review, and commit:",
                [f"{i}: {why}" for i, why in sorted(verdicts.items())],
            )
        irt = irt_parameters(self._bank.items(), self._bank.records("statistics"))
        cut = pass_mark_cut(blueprint, self._bank.records("adoption"), self.committed())
        plan = (blueprint, pool, n_forms, seed, time_limit, progress)
        result = assemble(*plan, irt=irt, tolerance=tolerance, cut=cut)
        items = {str(r["id"]): r for r in self._bank.items()}
        stimuli = {str(r["id"]): r for r in self._bank.records("stimulus")}
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
                result.solver_for(k),
                ids,
                self._store.prefix.rstrip("/"),
            )
            for k, (form_id, form) in enumerate(zip(ids, result.forms, strict=True))
        ]
        files = {f"{m['id']}/manifest.json": canonical.dumps(m).encode() for m in manifests}
        commit = None
        written = None
        if out is not None:
            written = write_tree(Path(out), files, force, self._protected())
        else:
            who = self._bank.identity(author)
            expected = {
                paths[i]: canonical.git_blob_sha(self._store.read(paths[i])) for i in existing
            }
            changes = {f"forms/{rel}": data for rel, data in files.items()}
            commit = self._store.save(
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
            record, problems = parse_record("forms/x/manifest.json", path.read_bytes())
            if not isinstance(record, dict):
                raise ItembankError(f"{path} cannot be read: {problems[0].message}")
            errors = list(iter_schema_errors("form", record))
            if errors:
                raise ItembankError(f"{path} is not a valid form manifest: {errors[0].message}")
            return record
        relpath = path_for("form", check_id("slug", form))
        if not self._store.exists(relpath):
            raise UnknownIdError(f"No form {form} in the bank (looked for {relpath}).")
        return self._bank._load(relpath)

    def verify(self, form: str) -> FormCheck:
        """Check a form as recorded, reading each record at the manifest's bank commit (hash,
        approvals as of that commit, option order, key, totals), and say what changed since,
        per id: edited, retired, went back to review, approvals no longer valid, gone, or an
        uncommitted change (a FormCheck; ok only if the form can be delivered as it stands)."""
        check, _, _, _ = self._check_form(form)
        return check

    @overload
    def export(self, form: str, fmt: str, out: Out = ..., force: bool = ...,
               as_delivered: bool = ..., *, check: Literal[False] = ...,
               progress: Progress | None = ...) -> list[Path]: ...  # fmt: skip

    @overload
    def export(self, form: str, fmt: str, out: Out = ..., force: bool = ...,
               as_delivered: bool = ..., *, check: Literal[True],
               progress: Progress | None = ...) -> ExportCheck: ...  # fmt: skip

    def export(
        self,
        form: str,
        fmt: str,
        out: Out = None,
        force: bool = False,
        as_delivered: bool = False,
        *,
        check: bool = False,
        progress: Progress | None = None,
    ) -> list[Path] | ExportCheck:
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
        Refusals raise NotDeliverableError naming each id and why, PackageRefusedError for a
        QTI package with errors (package_check). check=True writes nothing and returns an
        ExportCheck. progress(stage, done, total) hears: verify, build (or the exporter's own
        stages), check (per item), write."""
        if out is None and not check:
            raise ItembankError("Say where to write the export (out), or ask for a check.")
        tell: Progress = progress or (lambda stage, done, total: None)
        tell("verify", 0, 1)
        bundle = self._bundle(form, as_delivered)
        tell("verify", 1, 1)
        if check and not fmt.startswith("qti"):  # papers: the HTML says what each will hold
            pdf = fmt.startswith("pdf")
            pages = self._build("html" + fmt[3:] if pdf else fmt, bundle, progress)
            names = [n[:-5] + ".pdf" if pdf else n for n in pages
                     if n.endswith(".html") or not pdf]  # fmt: skip
            return ExportCheck(form, fmt, names, papers=paper_lines(bundle, names))
        files = self._build(fmt, bundle, progress)
        packages = {
            name: check_package(unzip(data), progress)
            for name, data in sorted(files.items())
            if name.endswith(".zip")
        }
        if check:
            return ExportCheck(form, fmt, sorted(files), packages)
        for name, report in packages.items():
            if not report.ok:
                raise PackageRefusedError(name, report)
        assert out is not None  # refused above
        tell("write", 0, 1)
        written = write_tree(Path(out), files, force, self._protected())
        tell("write", 1, 1)
        return written

    @staticmethod
    def _build(fmt: str, bundle: FormBundle | ScenarioBundle, progress: Progress | None) -> Files:
        return exporter(fmt)(bundle, progress=progress)

    def _bundle(self, form: str, as_delivered: bool) -> FormBundle | ScenarioBundle:
        """The records a form (or a scenario) is exported from, refused as export() says."""
        if is_id("content_id", form):
            refs = {form: "scenario"}
            current, verdicts, files = self._as_at(self._head(), refs)
            scenario = current.get(form) or self._bank.get(form)  # absent: get() says so plainly
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
            files.update(self._store.files_at(self._head(), [], ["standards"]))
            titles, bank_title, _language = bank_words(files)
            return ScenarioBundle(scenario, titles, bank_title)
        check, manifest, recorded, files = self._check_form(form)
        blockers = check.export_blockers(as_delivered)
        if blockers:
            hint = (
                " (to re-export it exactly as delivered, for the record, e.g. an appeal, "
                "use --as-delivered)"
                if not as_delivered and not check.export_blockers(True)
                else ""
            )
            raise NotDeliverableError(f"The form {check.form} cannot be exported{hint}:", blockers)
        refs = manifest_ids(manifest)
        blueprint_path = path_for("blueprint", str(manifest["blueprint"]))
        blueprint, _ = parse_record(blueprint_path, files.get(blueprint_path, b"null"))
        titles, bank_title, language = bank_words(files)
        return FormBundle(
            manifest,
            blueprint if isinstance(blueprint, dict) else None,
            {i: r for i, r in recorded.items() if refs[i] == "item"},
            {i: r for i, r in recorded.items() if refs[i] == "stimulus"},
            titles,
            bank_title,
            language=language,
        )

    def _protected(self) -> list[Path]:
        """Folders --force must never replace: the bank and the working tree holding it."""
        return [self._bank.path, self._store.worktree]

    def compare(self, forms: list[str]) -> list[dict[str, Any]]:
        """Forms side by side (ids or manifest paths): difficulty, cases, items per statement."""
        manifests = [self.form(f) for f in forms]
        ids = {e["id"] for m in manifests for s in m["sections"] for e in s["items"]}
        items = {i: self._bank.get_record("item", i) for i in sorted(ids)}
        roles = {}
        for m in manifests:
            try:
                blueprint = self._bank.get_record("blueprint", str(m["blueprint"]))
                roles[str(m["id"])] = str(blueprint.get("role"))
            except ItembankError:
                continue  # the blueprint is gone: count for every role of the item
        return compare(manifests, items, self._framework_roles(), roles)
