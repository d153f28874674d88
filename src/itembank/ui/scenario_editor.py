"""The simulation scenario editor: background, up to four exercises with their candidate and
actor briefs, the reflective and written tasks, and the marking scheme. Lists inside a scenario
are typed one entry per line, and a line that cannot be read is named, not dropped."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from itembank.bank import Bank
from itembank.core.errors import ItembankError, ValidationFailedError
from itembank.ui.item_editor import ItemEditor
from itembank.ui.record_editor import RecordEditor, say
from itembank.ui.widgets import StandardsPicker, css, field, findings_html, textarea


class ScenarioEditor(RecordEditor):
    """A simulation scenario. Lists inside it are written one entry per line:
    disclosures as 'when :: what', marking bands as 'score | label | descriptor'."""

    kind, label = "scenario", "scenario"

    def __init__(self, bank: Bank, editor: ItemEditor) -> None:
        super().__init__(bank, editor)
        self.picker = css(
            w.Dropdown(description="Scenario", layout=w.Layout(width="480px")), "ib-scenario-picker"
        )
        self.open_button = css(w.Button(description="Open", icon="folder-open"), "ib-scenario-open")
        self.title = css(w.Text(layout=w.Layout(width="95%")), "ib-scenario-title")
        self.role = css(
            w.Dropdown(options=[r["id"] for r in bank.settings.get("roles", [])]),
            "ib-scenario-role",
        )
        self.standards = StandardsPicker(bank, self.check)
        self.background = textarea("scenario-background", rows=8)
        self.exercises = css(w.Accordion([]), "ib-scenario-exercises")
        self.reflective = textarea("scenario-reflective", rows=4)
        self.written = textarea("scenario-written", rows=4)
        self.criteria = css(w.Accordion([]), "ib-scenario-criteria")
        self.pass_rule = textarea("scenario-pass-rule", rows=2)
        self.save_button = css(
            w.Button(description="Save scenario", icon="save", button_style="primary"),
            "ib-scenario-save",
        )
        self.findings = css(w.HTML(), "ib-scenario-findings")
        self.result = css(w.HTML(), "ib-scenario-result")
        self._exercise_boxes: list[dict[str, w.Widget]] = []
        self._criterion_boxes: list[dict[str, w.Widget]] = []
        self.new_button = css(w.Button(description="New scenario", icon="plus"), "ib-scenario-new")
        self.add_exercise = css(
            w.Button(description="Add an exercise", icon="plus"), "ib-scenario-add-exercise"
        )
        self.add_criterion = css(
            w.Button(description="Add a marking criterion", icon="plus"),
            "ib-scenario-add-criterion",
        )
        self.open_button.on_click(lambda _: self.open(self.picker.value))
        self.new_button.on_click(lambda _: self.new())
        self.add_exercise.on_click(lambda _: self._grow("exercises"))
        self.add_criterion.on_click(lambda _: self._grow("criteria"))
        self.save_button.on_click(lambda _: self.save())
        for widget in (
            self.title,
            self.role,
            self.background,
            self.reflective,
            self.written,
            self.pass_rule,
        ):
            widget.observe(lambda _: self.check(), "value")
        self.widget = css(
            w.VBox(
                [
                    w.HBox([self.picker, self.open_button, self.new_button]),
                    field("Title", self.title, w.HTML()),
                    field("Role", self.role, w.HTML()),
                    field("Standards", self.standards.widget, w.HTML()),
                    field("Case background", self.background, w.HTML()),
                    field(
                        "Exercises",
                        self.exercises,
                        w.HTML(),
                        "Disclosures: one per line as 'when :: what'. Do-not-say: one per line.",
                    ),
                    field("Reflective assessment prompt", self.reflective, w.HTML()),
                    field("Written assessment task", self.written, w.HTML()),
                    field(
                        "Marking scheme",
                        self.criteria,
                        w.HTML(),
                        "Bands: one per line as 'score | label | descriptor'.",
                    ),
                    field("Pass rule", self.pass_rule, w.HTML()),
                    self.findings,
                    self.save_button,
                    self.result,
                ]
            ),
            "ib-scenario-editor",
        )
        self.refresh()

    def new(self) -> None:
        """Start a scenario from a template of one exercise and one criterion."""
        self.load(
            {
                "schema_version": "1.0",
                "id": self.bank.authoring.next_id("SIM"),
                "title": "",
                "role": self.role.value,
                "standards": [],
                "background": "",
                "exercises": [_exercise_template("E1")],
                "reflective": {"exercise": "E1", "duration_minutes": 20, "prompt": ""},
                "written": {"exercise": "E1", "duration_minutes": 30, "task": ""},
                "marking_scheme": {"pass_rule": "", "criteria": [_criterion_template("MC1")]},
                "author": self.editor.author or "",
                "status": "draft",
                "tags": [],
            }
        )

    def _grow(self, part: str) -> None:
        """Add an exercise (up to four) or a marking criterion, keeping what was typed."""
        if not self.record:
            return
        record, _ = self.collect()
        if part == "exercises" and len(record["exercises"]) < 4:
            record["exercises"].append(_exercise_template(f"E{len(record['exercises']) + 1}"))
        elif part == "criteria":
            criteria = record["marking_scheme"]["criteria"]
            criteria.append(_criterion_template(f"MC{len(criteria) + 1}"))
        self.load(record)

    def load(self, record: dict[str, Any]) -> None:
        self.record = dict(record)
        self.title.value = str(record.get("title", ""))
        if record.get("role") in self.role.options:
            self.role.value = record["role"]
        self.standards.value = record.get("standards", []) or []
        self.background.value = str(record.get("background", ""))
        self._exercise_boxes = []
        children = []
        for exercise in record.get("exercises", []) or []:
            actor = (exercise.get("actor_briefs") or [{}])[0]
            boxes: dict[str, w.Widget] = {
                "title": w.Text(value=str(exercise.get("title", ""))),
                "candidate_brief": textarea("scenario-brief", rows=5),
                "character": textarea("scenario-character", rows=3),
                "demeanour": textarea("scenario-demeanour", rows=2),
                "disclose": textarea("scenario-disclose", rows=5),
                "do_not_say": textarea("scenario-do-not-say", rows=3),
            }
            boxes["candidate_brief"].value = str(exercise.get("candidate_brief", ""))
            boxes["character"].value = str(actor.get("character", ""))
            boxes["demeanour"].value = str(actor.get("demeanour", ""))
            boxes["disclose"].value = "\n".join(
                f"{d.get('when', '')} :: {d.get('what', '')}" for d in actor.get("disclose", [])
            )
            boxes["do_not_say"].value = "\n".join(actor.get("do_not_say", []))
            for box in boxes.values():
                box.observe(lambda _: self.check(), "value")
            self._exercise_boxes.append(boxes)
            children.append(
                w.VBox(
                    [field(k.replace("_", " ").capitalize(), v, w.HTML()) for k, v in boxes.items()]
                )
            )
        self.exercises.children = children
        for i, exercise in enumerate(record.get("exercises", []) or []):
            self.exercises.set_title(i, f"{exercise.get('id')}: {exercise.get('title', '')}")
        self.reflective.value = str((record.get("reflective") or {}).get("prompt", ""))
        self.written.value = str((record.get("written") or {}).get("task", ""))
        scheme = record.get("marking_scheme") or {}
        self.pass_rule.value = str(scheme.get("pass_rule", ""))
        self._criterion_boxes = []
        children = []
        for criterion in scheme.get("criteria", []) or []:
            boxes = {
                "title": w.Text(value=str(criterion.get("title", ""))),
                "bands": textarea("scenario-bands", rows=4),
            }
            boxes["bands"].value = "\n".join(
                f"{b.get('score')} | {b.get('label')} | {b.get('descriptor')}"
                for b in criterion.get("bands", [])
            )
            for box in boxes.values():
                box.observe(lambda _: self.check(), "value")
            self._criterion_boxes.append(boxes)
            children.append(
                w.VBox(
                    [
                        field("Title", boxes["title"], w.HTML()),
                        field("Bands", boxes["bands"], w.HTML()),
                    ]
                )
            )
        self.criteria.children = children
        for i, criterion in enumerate(scheme.get("criteria", []) or []):
            self.criteria.set_title(i, f"{criterion.get('id')}: {criterion.get('title', '')}")
        self.check()

    def collect(self) -> tuple[dict[str, Any], list[str]]:
        """The record, and any line that could not be read (with its place)."""
        record = dict(self.record)
        problems: list[str] = []
        exercises = []
        for index, (exercise, boxes) in enumerate(
            zip(record.get("exercises", []), self._exercise_boxes, strict=False)
        ):
            updated = dict(exercise)
            updated["title"] = boxes["title"].value
            updated["candidate_brief"] = boxes["candidate_brief"].value
            actors = [dict(a) for a in exercise.get("actor_briefs", [{}])] or [{}]
            disclose = []
            for number, line in enumerate(boxes["disclose"].value.splitlines(), 1):
                if not line.strip():
                    continue
                when, sep, what = line.partition("::")
                if not sep:
                    problems.append(
                        f"Exercise {index + 1}, disclosure line {number}: write it "
                        "as 'when :: what'."
                    )
                    continue
                disclose.append({"when": when.strip(), "what": what.strip()})
            actors[0].update(
                {
                    "character": boxes["character"].value,
                    "demeanour": boxes["demeanour"].value,
                    "disclose": disclose,
                    "do_not_say": [
                        x.strip() for x in boxes["do_not_say"].value.splitlines() if x.strip()
                    ],
                }
            )
            updated["actor_briefs"] = actors
            exercises.append(updated)
        record["exercises"] = exercises
        record.update(
            {
                "title": self.title.value,
                "role": self.role.value,
                "standards": self.standards.value,
                "background": self.background.value,
            }
        )
        record["reflective"] = {**record.get("reflective", {}), "prompt": self.reflective.value}
        record["written"] = {**record.get("written", {}), "task": self.written.value}
        scheme = dict(record.get("marking_scheme", {}))
        criteria = []
        for index, (criterion, boxes) in enumerate(
            zip(scheme.get("criteria", []), self._criterion_boxes, strict=False)
        ):
            bands = []
            for number, line in enumerate(boxes["bands"].value.splitlines(), 1):
                if not line.strip():
                    continue
                parts = [p.strip() for p in line.split("|", 2)]
                if len(parts) != 3 or not parts[0].isdigit():
                    problems.append(
                        f"Criterion {index + 1}, band line {number}: write it as "
                        "'score | label | descriptor' with a whole-number score."
                    )
                    continue
                bands.append({"score": int(parts[0]), "label": parts[1], "descriptor": parts[2]})
            standards = criterion.get("standards") or self.standards.value[:1]
            criteria.append(
                {**criterion, "title": boxes["title"].value, "bands": bands, "standards": standards}
            )
        scheme.update({"criteria": criteria, "pass_rule": self.pass_rule.value})
        record["marking_scheme"] = scheme
        return record, problems

    def check(self) -> None:
        if not self.record:
            return
        record, problems = self.collect()
        try:
            findings = self.bank.authoring.check_draft(record, "scenario")
        except ItembankError as exc:
            say(self.result, str(exc), False)
            return
        lines = "".join(
            f'<div class="ib-finding ib-error"><b style="color:#b00020">Error:</b> '
            f"{html.escape(p)}</div>"
            for p in problems
        )
        self.findings.value = lines + findings_html(findings)

    def save(self) -> bool:
        if not self.editor.author:
            say(self.result, "Tell the item editor who you are first.", False)
            return False
        record, problems = self.collect()
        if problems:
            say(self.result, "Not saved: some lines could not be read (listed above).", False)
            return False
        try:
            sha = self.bank.save(record, author=self.editor.author, kind="scenario")
        except ValidationFailedError as exc:
            self.findings.value = findings_html(exc.findings)
            say(self.result, f"Not saved: {len(exc.findings)} error(s) shown above.", False)
            return False
        except ItembankError as exc:
            say(self.result, f"Not saved. {exc}", False)
            return False
        self.load(self.bank.get(str(record["id"])))
        say(self.result, f"Saved {record['id']} (commit {sha[:8]}).", True)
        return True


def _exercise_template(ident: str) -> dict[str, Any]:
    return {
        "id": ident,
        "title": "",
        "kind": "direct_work",
        "duration_minutes": 10,
        "candidate_brief": "",
        "actor_briefs": [{"character": "", "demeanour": "", "disclose": [], "do_not_say": []}],
    }


def _criterion_template(ident: str) -> dict[str, Any]:
    labels = ["Not met", "Partly met", "Met", "Exceeded"]
    return {
        "id": ident,
        "title": "",
        "applies_to": ["E1"],
        "standards": [],
        "bands": [{"score": n, "label": label, "descriptor": ""} for n, label in enumerate(labels)],
    }
