"""The compromise part of ``bank.standard_setting``: judges' acceptable ranges, the chair's
review of the Angoff pass mark against a delivered form's scores (Hofstee, Beuk), and the
adopted pass mark, a commit recording who decided and why. The arithmetic is pure, in
compromise.py; the observed totals come from the caller (the face asks bank.results), as rooms
do not import each other.

Who may adopt: the exercise's facilitator, who chairs it (never a judge: `open` refuses one).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from itembank.checks.passmarkrules import RANGE_FIELDS, range_problems
from itembank.core import canonical
from itembank.core.errors import (
    IdentityError,
    ItembankError,
    ReviewInputError,
    ValidationFailedError,
)
from itembank.core.identity import check_person, review_id, timestamp
from itembank.core.ids import check_id
from itembank.core.layout import path_of
from itembank.core.parsing import parse_record
from itembank.standard_setting.compromise import Compromise, compromise, judge_range

if TYPE_CHECKING:  # the Bank hands the results room's shared type in: rooms never import rooms
    from itembank.bank import Bank
    from itembank.results.outcomes import AdoptedPassMark
    from itembank.standard_setting.angoff import Results

Record = dict[str, Any]
METHODS = ("angoff", "hofstee", "beuk", "chair")
#: codes the service checks itself (the exercise and form are not in check_record's context)
_CHECKED_HERE = {"unknown-exercise", "unknown-form", "not-the-chair"}


class Compromises:
    """Mixed into StandardSetting: the ranges, the compromise and the adoption."""

    _bank: Bank
    _adopted_type: type[AdoptedPassMark]

    # the Angoff half, defined in service.py
    def exercise(self, exercise_id: object) -> Record:
        raise NotImplementedError

    def judge_round(self, exercise_id: object, judge: str) -> tuple[str, int | None]:
        raise NotImplementedError

    def results(
        self, exercise_id: object, facilitator: str, round_no: int | None = None
    ) -> Results:
        raise NotImplementedError

    # ---- the judges' ranges ----------------------------------------------------------------

    def _files(self, exercise: str, folder: str) -> list[str]:
        start = f"standard_setting/{exercise}/{folder}/"
        return [p for p in self._bank.store.list_files() if p.startswith(start)]

    def ranges_of(self, exercise_id: object) -> list[Record]:
        """The ranges that count: each judge's latest record, in judge order."""
        ident = check_id("slug", exercise_id)
        latest: dict[str, Record] = {}
        records = [self._bank._load(p) for p in self._files(ident, "ranges")]
        for record in sorted(records, key=lambda r: (str(r["submitted"]), str(r["id"]))):
            latest[str(record["judge"]).lower()] = record
        return [latest[k] for k in sorted(latest)]

    def my_ranges(self, exercise_id: object, judge: str) -> Record | None:
        key = check_person(judge).lower()
        return next(
            (r for r in self.ranges_of(exercise_id) if str(r["judge"]).lower() == key), None
        )

    def submit_ranges(
        self, exercise_id: object, judge: str, values: Mapping[str, object], comment: str = ""
    ) -> Record:
        """Record a judge's acceptable ranges (percentages: pass_mark_min/max, fail_rate_min/max,
        their own pass_mark and expected pass_rate) once they have rated the last round; one
        file and one commit by the judge. A later record replaces theirs."""
        judge = check_person(judge)
        exercise = self.exercise(exercise_id)
        if exercise["status"] != "open":
            raise ReviewInputError(f"{exercise['id']} is closed: ranges are no longer taken.")
        panel, following = self.judge_round(exercise["id"], judge)
        if following is not None:
            raise ReviewInputError(
                f"Rate round {following} of {exercise['rounds']} first: the acceptable ranges "
                "are entered after the last Angoff round."
            )
        extra = sorted(set(values) - set(RANGE_FIELDS))
        if extra:
            raise ReviewInputError(f"{str(extra[0])[:40]!r} is not one of the ranges asked for.")
        problems = range_problems(values)
        if problems:
            lines = "\n".join(f"  {name}: {message}" for name, message in problems)
            raise ReviewInputError(f"The ranges were not recorded:\n{lines}")
        when = datetime.now(UTC)
        ident, n = f"{review_id(judge, when)}-ranges", 1
        taken = {p.rsplit("/", 1)[-1][:-5] for p in self._files(exercise["id"], "ranges")}
        while ident in taken:  # a second record in the same second never replaces the first
            n += 1
            ident = f"{review_id(judge, when)}-ranges-{n}"
        record: Record = {
            "schema_version": "1.0",
            "id": ident,
            "exercise": exercise["id"],
            "panel": panel,
            "judge": judge,
            "submitted": timestamp(when),
            **{name: round(float(values[name]), 2) for name in RANGE_FIELDS},  # type: ignore[arg-type]
        }
        if comment.strip():
            record["comment"] = comment.strip()[:2000]
        name = judge.split("<")[0].strip()
        self._commit(
            record, "ranges", judge, f"standard setting {exercise['id']}: ranges by {name}"
        )
        return record

    def _commit(self, record: Record, kind: str, author: str, message: str) -> str:
        findings = self._bank.check_record(record, kind)
        errors = [f for f in findings if f.severity == "error" and f.code not in _CHECKED_HERE]
        if errors:
            lines = "\n".join(f"  {f.pointer or '/'}: {f.message}" for f in errors)
            raise ValidationFailedError(f"Nothing was recorded:\n{lines}", errors)
        relpath = path_of(record, kind)
        data = canonical.dumps(record).encode("utf-8")
        old = self._bank.store.read_optional(relpath)
        expected = {relpath: canonical.git_blob_sha(old) if old is not None else None}
        return self._bank.store.save({relpath: data}, expected, author, message)

    # ---- the chair's review ----------------------------------------------------------------

    def _chair(self, exercise: Record, chair: str) -> str:
        chair = check_person(chair)
        if chair.lower() != str(exercise["facilitator"]).lower():
            raise IdentityError(
                f"Only {exercise['facilitator']}, who facilitates {exercise['id']}, chairs its "
                "review and adopts a pass mark."
            )
        return chair

    def _form_marks(self, exercise: Record, form: object) -> tuple[str, float]:
        """The form's id and maximum score; the form must hold exactly the exercise's items."""
        manifest = self._bank.get_record("form", check_id("slug", form))
        items = {str(i["id"]) for s in manifest["sections"] for i in s["items"]}
        if items != set(exercise["items"]):
            missing = sorted(items - set(exercise["items"]))
            extra = sorted(set(exercise["items"]) - items)
            raise ItembankError(
                f"{exercise['id']} did not rate the items of {manifest['id']}: "
                + "; ".join(
                    x
                    for x in (
                        f"not rated: {', '.join(missing[:5])}" if missing else "",
                        f"not on the form: {', '.join(extra[:5])}" if extra else "",
                    )
                    if x
                )
                + ". Choose the exercise that set this form's standard."
            )
        top = sum(float(i["max_score"]) for s in manifest["sections"] for i in s["items"])
        return str(manifest["id"]), top

    def compromise(
        self, exercise_id: object, form: object, scores: Sequence[float], chair: str
    ) -> Compromise:
        """Angoff, Hofstee and Beuk side by side on the form's observed totals (for the chair)."""
        exercise = self.exercise(exercise_id)
        chair = self._chair(exercise, chair)
        _, top = self._form_marks(exercise, form)
        outcome = self.results(exercise["id"], chair)
        note = f"Modified Angoff, round {outcome.round} ({exercise['id']})."
        if outcome.warnings:
            note += " " + " ".join(outcome.warnings)
        try:
            return compromise(
                list(scores),
                top,
                outcome.pass_mark,
                [judge_range(r) for r in self.ranges_of(exercise["id"])],
                note,
            )
        except ValueError as exc:
            raise ItembankError(f"{form}: {exc}") from None

    def adopt(
        self,
        exercise_id: object,
        form: object,
        pass_mark: object,
        method: object,
        reason: object,
        chair: str,
        *,
        scores: Sequence[float],
        administration: str | None = None,
    ) -> AdoptedPassMark:
        """Adopt a pass mark for a delivered form: a method's figure, or (method "chair") a whole
        mark of the chair's own within the judges' acceptable range, with a reason. One commit
        by the chair; a re-adoption replaces the record (git keeps the history) and names the
        one it supersedes."""
        exercise = self.exercise(exercise_id)
        chair = self._chair(exercise, chair)
        if exercise["status"] != "closed":
            raise ReviewInputError(
                f"{exercise['id']} is still open: close it before adopting a pass mark, so the "
                "figures cannot change after the decision."
            )
        if method not in METHODS:
            raise ReviewInputError(
                f"The method must be one of {', '.join(METHODS)}, not {method!r}."
            )
        if not isinstance(reason, str) or len(reason.strip()) < 10:
            raise ReviewInputError(
                "Give the reason for the decision in a sentence or more: it is recorded with it."
            )
        if (
            isinstance(pass_mark, bool)
            or not isinstance(pass_mark, (int, float))
            or not math.isfinite(pass_mark)
            or float(pass_mark) != int(pass_mark)
        ):
            raise ReviewInputError(
                f"The pass mark must be a whole number of marks, not {pass_mark!r}."
            )
        mark = int(pass_mark)
        form_id, top = self._form_marks(exercise, form)
        result = self.compromise(exercise["id"], form_id, scores, chair)
        if not 0 <= mark <= top:
            raise ReviewInputError(f"The pass mark must be from 0 to {top:g} (the form's maximum).")
        if method != "chair":
            figure = result.figure(str(method))
            if figure.pass_mark is None:
                raise ReviewInputError(
                    f"There is no {method} figure to adopt: {figure.note} Adopt another method's "
                    "figure, or a mark of your own within the judges' range as 'chair'."
                )
            if figure.pass_mark != mark:
                raise ReviewInputError(
                    f"The {method} figure is {figure.pass_mark}, not {mark}: adopt "
                    f"{figure.pass_mark}, or give your own mark as method 'chair'."
                )
        elif result.acceptable is None or not (
            result.acceptable[0] <= mark <= result.acceptable[1]
        ):
            where = (
                "there is no acceptable range (no judge entered one)"
                if result.acceptable is None
                else f"the judges' acceptable range is {result.acceptable[0]} to "
                f"{result.acceptable[1]} marks"
            )
            raise ReviewInputError(f"A chair's own pass mark must lie within the range: {where}.")
        figures: Record = {}
        for f in result.figures:
            entry: Record = {
                "pass_mark": f.pass_mark,
                "pass_rate": None if f.pass_rate is None else round(f.pass_rate, 2),
                "note": f.note[:1000],
                "inputs": {k: round(float(v), 4) for k, v in f.inputs.items()},
            }
            if f.fallback is not None:
                entry["fallback"] = f.fallback
            figures[f.method] = entry
        record: Record = {
            "schema_version": "1.0",
            "id": form_id,
            "exercise": exercise["id"],
            "form": form_id,
            "pass_mark": mark,
            "max_score": top,
            "method": method,
            "candidates": result.curve.n,
            "figures": figures,
            "reason": reason.strip()[:4000],
            "decided_by": chair,
            "date": timestamp(datetime.now(UTC)),
        }
        if administration:
            record["administration"] = check_id("slug", administration)
        if result.acceptable is not None:
            record["acceptable"] = list(result.acceptable)
        previous = self._adoption_record(exercise["id"], form_id)
        if previous is not None:
            record["supersedes"] = {
                k: previous[k] for k in ("pass_mark", "method", "decided_by", "date")
            }
        name = chair.split("<")[0].strip()
        sha = self._commit(
            record,
            "adoption",
            chair,
            f"standard setting {exercise['id']}: pass mark {mark} of {top:g} adopted for "
            f"{form_id} ({method}) by {name}",
        )
        return self._as_adopted(record, path_of(record, "adoption"), sha)

    def _adoption_record(self, exercise: str, form: str) -> Record | None:
        relpath = f"standard_setting/{exercise}/adopted/{form}.json"
        return self._bank._load(relpath) if self._bank.store.exists(relpath) else None

    def _as_adopted(self, record: Record, relpath: str, sha: str) -> AdoptedPassMark:
        return self._adopted_type(
            form=str(record["form"]),
            pass_mark=float(record["pass_mark"]),
            max_score=float(record["max_score"]),
            method=str(record["method"]),
            decided_by=str(record["decided_by"]),
            reason=str(record["reason"]),
            exercise=str(record["exercise"]),
            record=relpath,
            commit=sha,
        )

    def _adoption_paths(self, form: str) -> list[str]:
        return [
            p
            for p in self._bank.store.list_files("standard_setting")
            if p.endswith(f"/adopted/{form}.json")
        ]

    def adopted(self, form: object) -> AdoptedPassMark | None:
        """The pass mark adopted for a form (the latest, if several exercises adopted one), with
        its record's path and the commit that made it; None when none has been adopted. A record
        not yet committed has commit ""."""
        form_id = check_id("slug", form)
        found = []
        for relpath in self._adoption_paths(form_id):
            record = self._bank._load(relpath)
            found.append((str(record.get("date", "")), relpath, record))
        if not found:
            return None
        _, relpath, record = max(found, key=lambda x: (x[0], x[1]))
        history = self._bank.store.history(relpath)
        return self._as_adopted(record, relpath, history[0].sha if history else "")

    def adoption_history(self, form: object) -> list[tuple[str, str, Record]]:
        """Every adoption ever committed for a form, newest first: (commit sha, date, record)."""
        form_id = check_id("slug", form)
        out = []
        for relpath in self._adoption_paths(form_id):
            for commit, data in self._bank.store.versions(relpath):
                record, _ = parse_record(relpath, data)
                if isinstance(record, dict):
                    out.append((commit.sha, str(record.get("date", "")), record))
        return sorted(out, key=lambda x: x[1], reverse=True)
