"""The standard-setting section of a bank (``bank.standard_setting``): modified-Angoff exercises
opened by a facilitator, ratings committed by judges round by round, each judge's own panel's
feedback, and the facilitator's results. The arithmetic is pure, in angoff.py. The judges'
acceptable ranges, the chair's compromise review and the adopted pass mark are in adoption.py
(compromise.py is their arithmetic)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from itembank.core import canonical
from itembank.core.errors import (
    IdentityError,
    ItembankError,
    ReviewInputError,
    ValidationFailedError,
    WorkflowError,
)
from itembank.core.identity import check_person, review_id, timestamp
from itembank.core.ids import check_id
from itembank.core.layout import path_of
from itembank.standard_setting.adoption import Compromises
from itembank.standard_setting.angoff import MIN_JUDGES, Results, feedback, latest, results

if TYPE_CHECKING:
    from itembank.bank import Bank
    from itembank.results.outcomes import AdoptedPassMark

Record = dict[str, Any]


class StandardSetting(Compromises):
    """Standard-setting exercises as the app and notebooks call them."""

    def __init__(self, bank: Bank, adopted_type: type[AdoptedPassMark]) -> None:
        self._bank = bank
        self._store = bank.store
        self._adopted_type = adopted_type

    def exercise(self, exercise_id: object) -> Record:
        """A standard-setting exercise (the id is checked before it becomes a path)."""
        return self._bank.get_record("exercise", check_id("slug", exercise_id))

    def exercises(self) -> list[Record]:
        return sorted(self._bank.records("exercise"), key=lambda r: str(r.get("id")))

    def ratings_of(self, exercise_id: object) -> list[Record]:
        """Every rating record of an exercise (for the facilitator's results only)."""
        ident = check_id("slug", exercise_id)
        folder = f"standard_setting/{ident}/ratings/"
        return [self._bank._load(p) for p in self._store.list_files() if p.startswith(folder)]

    def _max_marks(self, items: list[str]) -> dict[str, float]:
        return {i: float(self._bank.get_record("item", i)["scoring"]["max_score"]) for i in items}

    def open(
        self,
        exercise_id: object,
        title: str,
        facilitator: str,
        items: list[str] | None = None,
        blueprint: str | None = None,
        rounds: int = 2,
        form: str | None = None,
    ) -> Record:
        """Open a modified-Angoff exercise over items (or the approved items fitting a
        blueprint's role and sections, or exactly a committed form's items), rated by both
        standard-setting panels; one commit by the facilitator, who may not be a judge."""
        ident = check_id("slug", exercise_id)
        facilitator = check_person(facilitator)
        if self._bank.panels.panel_of(facilitator, "standard_setting"):
            raise WorkflowError(
                f"{facilitator} is a judge on a standard-setting panel, so cannot facilitate."
            )
        if blueprint is not None:
            plan = self._bank.get_record("blueprint", check_id("slug", blueprint))
            sections = {s.get("section") for s in plan.get("sections", [])}
            items = [
                str(i["id"])
                for i in self._bank.items()
                if i.get("status") == "approved"
                and plan.get("role") in i.get("roles", [])
                and i.get("section") in sections
            ]
        if form is not None:
            manifest = self._bank.get_record("form", check_id("slug", form))
            items = [str(i["id"]) for s in manifest["sections"] for i in s["items"]]
        chosen = [check_id("content_id", i) for i in items or []]
        if not chosen:
            raise ItembankError("An exercise needs at least one item: give items or a blueprint.")
        for item_id in chosen:
            self._bank.get_record("item", item_id)
        panels = [str(p["id"]) for p in self._bank.panels.all("standard_setting")]
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
        if form is not None:
            record["form"] = form
        self._bank.save(
            record, facilitator, f"standard setting {ident}: open ({len(chosen)} items)"
        )
        return record

    def judge_round(self, exercise_id: object, judge: str) -> tuple[str, int | None]:
        """(the judge's panel, the round they rate next, or None when they have rated every
        round). IdentityError when they are not on a panel of this exercise."""
        exercise = self.exercise(exercise_id)
        panel = self._bank.panels.require(judge, "standard_setting")
        if panel not in exercise["panels"]:
            raise IdentityError(f"Your panel {panel} does not take part in {exercise['id']}.")
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
        findings = self._bank.check_record(record, "rating")
        errors = [f for f in findings if f.severity == "error" and f.code != "unknown-exercise"]
        if errors:
            lines = "\n".join(f"  {f.pointer or '/'}: {f.message}" for f in errors)
            raise ValidationFailedError(f"The ratings were not recorded:\n{lines}", errors)
        name = judge.split("<")[0].strip()
        message = (
            f"standard setting {exercise['id']}: round {following} ratings by {name} ({panel})"
        )
        relpath = path_of(record, "rating")
        self._store.save(
            {relpath: canonical.dumps(record).encode("utf-8")}, {relpath: None}, judge, message
        )
        return record

    def my_ratings(self, exercise_id: object, judge: str, round_no: int) -> dict[str, float]:
        """This judge's own ratings in a round they have rated (item -> value; empty when they
        have none), so the next round starts from them instead of blank boxes."""
        exercise = self.exercise(exercise_id)
        key = check_person(judge).lower()
        counted = latest(self.ratings_of(exercise["id"]))
        for (_, who, r), record in counted.items():
            if who == key and r == round_no:
                return {str(x["item"]): float(x["value"]) for x in record["ratings"]}
        return {}

    def round_feedback(self, exercise_id: object, judge: str, round_no: int) -> dict[str, Any]:
        """The judge's OWN panel's spread in a round they have rated (never the other panel)."""
        exercise = self.exercise(exercise_id)
        panel, following = self.judge_round(exercise["id"], judge)
        if following is not None and round_no >= following:
            raise ReviewInputError("Feedback on a round is shown once you have rated it.")
        mine = [r for r in self.ratings_of(exercise["id"]) if r.get("panel") == panel]
        return feedback(exercise, mine, self._max_marks(exercise["items"]), panel, round_no)

    def results(
        self, exercise_id: object, facilitator: str, round_no: int | None = None
    ) -> Results:
        """Both panels' results for a round: for the exercise's facilitator only."""
        exercise = self.exercise(exercise_id)
        if check_person(facilitator).lower() != str(exercise["facilitator"]).lower():
            raise IdentityError(f"Only {exercise['facilitator']} sees {exercise['id']}'s results.")
        return results(
            exercise,
            self.ratings_of(exercise["id"]),
            self._max_marks(exercise["items"]),
            round_no,
            int(self._bank.settings.get("min_judges_per_panel", MIN_JUDGES)),
        )

    def close(self, exercise_id: object, facilitator: str) -> Record:
        """Close an exercise to further ratings (one commit by the facilitator)."""
        exercise = self.exercise(exercise_id)
        if check_person(facilitator).lower() != str(exercise["facilitator"]).lower():
            raise IdentityError(f"Only {exercise['facilitator']} can close {exercise['id']}.")
        exercise["status"] = "closed"
        self._bank.save(exercise, facilitator, f"standard setting {exercise['id']}: close")
        return exercise
