"""The writers' app: the item editor plus 'My items', an item's history with readable diffs, the
case (stimulus) editor with its question set, and the scenario editor. Notebooks show
`AuthoringApp(open_bank()).widget`."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as w
import pandas as pd

from itembank.authoring.itemdiff import changes_html, item_changes
from itembank.bank import Bank
from itembank.core.errors import ItembankError, ValidationFailedError
from itembank.core.ids import is_id
from itembank.core.render import candidate_html, markdown_html
from itembank.ui.item_editor import ItemEditor
from itembank.ui.widgets import (
    StandardsPicker,
    css,
    field,
    findings_html,
    message_box,
    parse_list,
    textarea,
)


def _say(target: w.HTML, text: str, ok: bool) -> None:
    colour = "#1b5e20" if ok else "#b00020"
    kind = "ok" if ok else "error"
    target.value = f'<div class="ib-result-{kind}" style="color:{colour}">{html.escape(text)}</div>'


class MyItems:
    """A table of the writer's items: status, last change, review comments to address."""

    def __init__(self, bank: Bank, editor: ItemEditor, go_to_editor: Callable[[], None]) -> None:
        self.bank, self.editor, self.go_to_editor = bank, editor, go_to_editor
        self.table = css(w.HTML(), "ib-my-items")
        self.choice = css(w.Dropdown(description="Item"), "ib-my-items-choice")
        self.open_button = css(
            w.Button(description="Edit this item", icon="pencil"), "ib-my-items-open"
        )
        self.refresh_button = css(
            w.Button(description="Refresh", icon="refresh"), "ib-my-items-refresh"
        )
        self.open_button.on_click(lambda _: self.open())
        self.refresh_button.on_click(lambda _: self.refresh())
        self.widget = w.VBox(
            [w.HBox([self.choice, self.open_button, self.refresh_button]), self.table]
        )
        self.refresh()

    def frame(self) -> pd.DataFrame:
        rows = self.bank.authoring.items_by(self.editor.author) if self.editor.author else []
        return pd.DataFrame(
            rows, columns=["id", "status", "format", "stem", "last_change", "comments"]
        )

    def refresh(self) -> None:
        frame = self.frame()
        if not self.editor.author:
            self.table.value = "<p>Tell the editor who you are to see your items.</p>"
        elif frame.empty:
            self.table.value = "<p>You have no items in this bank yet.</p>"
        else:
            self.table.value = frame.to_html(index=False, escape=True, border=0)
        self.choice.options = list(frame["id"]) if not frame.empty else []

    def open(self) -> None:
        if self.choice.value:
            self.editor.request(lambda: self.editor.open(self.choice.value))
            self.go_to_editor()


class HistoryView:
    """An item's commits, and what changed between any two versions, in words."""

    def __init__(self, bank: Bank) -> None:
        self.bank = bank
        self.ident: str | None = None
        self.versions: list[tuple[Any, dict[str, Any]]] = []
        self.older = css(w.Dropdown(description="From"), "ib-history-from")
        self.newer = css(w.Dropdown(description="To"), "ib-history-to")
        self.log = css(w.HTML(), "ib-history-log")
        self.diff = css(w.HTML(), "ib-history-diff")
        self.older.observe(lambda _: self.show_diff(), "value")
        self.newer.observe(lambda _: self.show_diff(), "value")
        self.widget = w.VBox([self.log, w.HBox([self.older, self.newer]), self.diff])

    def show(self, ident: str) -> None:
        self.ident = ident
        try:
            self.versions = self.bank.versions(ident)
        except ItembankError as exc:
            self.log.value = html.escape(str(exc))
            return
        rows = "".join(
            f"<tr><td><code>{c.sha[:8]}</code></td><td>{html.escape(c.date[:16])}</td>"
            f"<td>{html.escape(c.author)}</td><td>{html.escape(c.message)}</td></tr>"
            for c, _ in self.versions
        )
        self.log.value = f"<h4>History of {html.escape(ident)}</h4><table>{rows}</table>"
        options = [
            (f"{c.sha[:8]} {c.date[:10]} {c.author.split('<')[0].strip()}", i)
            for i, (c, _) in enumerate(self.versions)
        ]
        self.older.options = options
        self.newer.options = options
        if len(options) >= 2:
            self.older.value, self.newer.value = 1, 0
        self.show_diff()

    def show_diff(self) -> None:
        if self.older.value is None or self.newer.value is None or not self.versions:
            self.diff.value = "<p>Only one version so far.</p>"
            return
        old = self.versions[int(self.older.value)][1]
        new = self.versions[int(self.newer.value)][1]
        self.diff.value = changes_html(item_changes(old, new))


class _RecordEditor:
    """What the case and scenario editors share: a picker of records of one kind, opening one
    by a checked id, and a result line."""

    kind = "stimulus"
    label = "case"
    picker: w.Dropdown
    result: w.HTML

    def __init__(self, bank: Bank, editor: ItemEditor) -> None:
        self.bank, self.editor = bank, editor
        self.record: dict[str, Any] = {}

    def refresh(self) -> None:
        self.picker.options = [
            (f"{s['id']} · {s.get('status')} · {s.get('title', '')}", s["id"])
            for s in self.bank.records(self.kind)
        ]

    def open(self, ident: object) -> None:
        if not isinstance(ident, str) or not is_id("content_id", ident):
            _say(self.result, f"{ident!r} is not a {self.label} id.", False)
            return
        try:
            self.load(self.bank.get(ident))
        except ItembankError as exc:
            _say(self.result, str(exc), False)

    def load(self, record: dict[str, Any]) -> None:
        raise NotImplementedError


class CaseEditor(_RecordEditor):
    """A case (stimulus) and its question set: add, reorder and remove questions."""

    def __init__(self, bank: Bank, editor: ItemEditor) -> None:
        super().__init__(bank, editor)
        self.picker = css(
            w.Dropdown(description="Case", layout=w.Layout(width="480px")), "ib-case-picker"
        )
        self.open_button = css(w.Button(description="Open", icon="folder-open"), "ib-case-open")
        self.new_button = css(w.Button(description="New case", icon="plus"), "ib-case-new")
        self.title = css(w.Text(layout=w.Layout(width="95%")), "ib-case-title")
        self.roles = {
            r["id"]: w.Checkbox(description=r["title"], indent=False)
            for r in bank.settings.get("roles", [])
        }
        self.standards = StandardsPicker(bank, self.check)
        self.text = textarea("case-text", rows=12, placeholder="The case as candidates read it")
        self.items = css(w.Select(rows=8, layout=w.Layout(width="95%")), "ib-case-items")
        self.up = css(w.Button(description="Move up", icon="arrow-up"), "ib-case-up")
        self.down = css(w.Button(description="Move down", icon="arrow-down"), "ib-case-down")
        self.remove = css(
            w.Button(description="Remove draft question", icon="trash"), "ib-case-remove"
        )
        self.orphans = css(w.Dropdown(description="Add"), "ib-case-orphans")
        self.add_button = css(w.Button(description="Add to this case", icon="plus"), "ib-case-add")
        self.new_question = css(
            w.Button(description="Write a new question for it", icon="pencil"),
            "ib-case-new-question",
        )
        self.save_button = css(
            w.Button(description="Save case", icon="save", button_style="primary"), "ib-case-save"
        )
        self.messages = {
            n: message_box(f"case-{n}") for n in ("general", "text", "items", "standards")
        }
        self.result = css(w.HTML(), "ib-case-result")
        self.preview = css(w.HTML(), "ib-case-preview")
        self.order: list[str] = []
        self.open_button.on_click(lambda _: self.open(self.picker.value))
        self.new_button.on_click(lambda _: self.new())
        self.up.on_click(lambda _: self.move(-1))
        self.down.on_click(lambda _: self.move(1))
        self.remove.on_click(lambda _: self.remove_question())
        self.add_button.on_click(lambda _: self.add_question())
        self.new_question.on_click(lambda _: self.write_question())
        self.save_button.on_click(lambda _: self.save())
        for widget in (self.title, self.text, *self.roles.values()):
            widget.observe(lambda _: self.check(), "value")
        self.widget = css(
            w.VBox(
                [
                    w.HBox([self.picker, self.open_button, self.new_button]),
                    self.messages["general"],
                    field("Title", self.title, w.HTML()),
                    field("Roles", w.HBox(list(self.roles.values())), w.HTML()),
                    field("Standards", self.standards.widget, self.messages["standards"]),
                    field("Case text", self.text, self.messages["text"]),
                    field(
                        "Questions, in the order candidates see them",
                        w.VBox(
                            [
                                self.items,
                                w.HBox([self.up, self.down, self.remove]),
                                w.HBox([self.orphans, self.add_button, self.new_question]),
                            ]
                        ),
                        self.messages["items"],
                    ),
                    self.save_button,
                    self.result,
                    w.HTML("<h3>Preview</h3>"),
                    self.preview,
                ]
            ),
            "ib-case-editor",
        )
        self.refresh()

    def new(self) -> None:
        ident = self.bank.authoring.next_id("CS")
        self.load(
            {
                "schema_version": "1.0",
                "id": ident,
                "title": "",
                "roles": [],
                "standards": [],
                "text": "",
                "items": [],
                "author": self.editor.author or "",
                "status": "draft",
                "tags": [],
            }
        )

    def load(self, record: dict[str, Any]) -> None:
        self.record = dict(record)
        self.title.value = str(record.get("title", ""))
        for role, box in self.roles.items():
            box.value = role in (record.get("roles") or [])
        self.standards.value = record.get("standards", []) or []
        self.text.value = str(record.get("text", ""))
        self.order = [str(i) for i in record.get("items", []) or []]
        self._show_items()
        self.check()

    def _items(self) -> dict[str, dict[str, Any]]:
        return {str(i["id"]): i for i in self.bank.items()}

    def _show_items(self) -> None:
        items = self._items()
        self.items.options = [
            (
                f"{i} · {items.get(i, {}).get('status', 'missing')} · "
                f"{str(items.get(i, {}).get('stem', ''))[:70]}",
                i,
            )
            for i in self.order
        ]
        own = str(self.record.get("id"))
        self.orphans.options = [
            i for i, item in items.items() if item.get("stimulus") == own and i not in self.order
        ]

    def move(self, step: int) -> None:
        if self.items.value not in self.order:
            return
        index = self.order.index(self.items.value)
        target = index + step
        if 0 <= target < len(self.order):
            self.order[index], self.order[target] = self.order[target], self.order[index]
            chosen = self.items.value
            self._show_items()
            self.items.value = chosen
            self.check()

    def add_question(self) -> None:
        if self.orphans.value and self.orphans.value not in self.order:
            self.order.append(str(self.orphans.value))
            self._show_items()
            self.check()

    def write_question(self) -> None:
        """Start a new applied question on this case in the item editor."""
        self.editor.refresh_choices()
        self.editor.request(lambda: self._new_question())

    def _new_question(self) -> None:
        self.editor.new("AK")
        if self.record.get("id") in [v for _, v in self.editor.stimulus.options]:
            self.editor.stimulus.value = self.record["id"]
        _say(
            self.result,
            "A new question is open in the 'Edit item' tab; save it there, then add it here.",
            True,
        )

    def remove_question(self) -> None:
        """Remove a draft question: it is deleted with the case's new list in one commit."""
        ident = self.items.value
        if not ident or not self.editor.author:
            return
        item = self._items().get(str(ident), {})
        if item.get("status") != "draft":
            _say(
                self.result,
                f"{ident} is {item.get('status')}: only draft questions can be "
                "removed. Retire a reviewed question instead.",
                False,
            )
            return
        record = self.collect()
        record["items"] = [i for i in self.order if i != ident]
        try:
            self.bank.save_many(
                [record], self.editor.author, delete=[("item", str(ident))], kinds=["stimulus"]
            )
        except ItembankError as exc:
            _say(self.result, f"Not removed. {exc}", False)
            return
        self.load(self.bank.get(str(record["id"])))
        _say(self.result, f"Removed {ident} from the case and deleted the draft.", True)

    def collect(self) -> dict[str, Any]:
        record = dict(self.record)
        record.update(
            {
                "title": self.title.value,
                "roles": [r for r, box in self.roles.items() if box.value],
                "standards": self.standards.value,
                "text": self.text.value,
                "items": list(self.order),
            }
        )
        return record

    def check(self) -> None:
        if not self.record:
            return
        record = self.collect()
        try:
            findings = self.bank.authoring.check_draft(record, "stimulus")
        except ItembankError as exc:
            _say(self.result, str(exc), False)
            return
        groups: dict[str, list[Any]] = {n: [] for n in self.messages}
        for finding in findings:
            head = finding.pointer.split("/")[1] if finding.pointer.count("/") else ""
            groups.get(head, groups["general"]).append(finding)
        for name, box in self.messages.items():
            box.value = findings_html(groups[name])
        items = self._items()
        questions = "".join(candidate_html(items[i]) for i in self.order if i in items)
        self.preview.value = markdown_html(record.get("text", "")) + questions

    def save(self) -> bool:
        if not self.editor.author:
            _say(self.result, "Tell the item editor who you are first.", False)
            return False
        try:
            sha = self.bank.save(self.collect(), author=self.editor.author, kind="stimulus")
        except ValidationFailedError as exc:
            self.messages["general"].value = findings_html(exc.findings)
            _say(self.result, f"Not saved: {len(exc.findings)} error(s) shown above.", False)
            return False
        except ItembankError as exc:
            _say(self.result, f"Not saved. {exc}", False)
            return False
        self.refresh()
        self.load(self.bank.get(str(self.record["id"])))
        _say(self.result, f"Saved {self.record['id']} (commit {sha[:8]}).", True)
        return True


class ScenarioEditor(_RecordEditor):
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
            _say(self.result, str(exc), False)
            return
        lines = "".join(
            f'<div class="ib-finding ib-error"><b style="color:#b00020">Error:</b> '
            f"{html.escape(p)}</div>"
            for p in problems
        )
        self.findings.value = lines + findings_html(findings)

    def save(self) -> bool:
        if not self.editor.author:
            _say(self.result, "Tell the item editor who you are first.", False)
            return False
        record, problems = self.collect()
        if problems:
            _say(self.result, "Not saved: some lines could not be read (listed above).", False)
            return False
        try:
            sha = self.bank.save(record, author=self.editor.author, kind="scenario")
        except ValidationFailedError as exc:
            self.findings.value = findings_html(exc.findings)
            _say(self.result, f"Not saved: {len(exc.findings)} error(s) shown above.", False)
            return False
        except ItembankError as exc:
            _say(self.result, f"Not saved. {exc}", False)
            return False
        self.load(self.bank.get(str(record["id"])))
        _say(self.result, f"Saved {record['id']} (commit {sha[:8]}).", True)
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


class AuthoringApp:
    """Tabs: edit an item, my items, history, cases, scenarios."""

    def __init__(self, bank: Bank, author: str | None = None) -> None:
        self.bank = bank
        self.editor = ItemEditor(bank, author)
        self.history = HistoryView(bank)
        self.tabs = css(w.Tab(), "ib-authoring-tabs")
        self.my_items = MyItems(bank, self.editor, lambda: setattr(self.tabs, "selected_index", 0))
        self.cases = CaseEditor(bank, self.editor)
        self.scenarios = ScenarioEditor(bank, self.editor)
        self.editor.on_open.append(self.history.show)
        self.tabs.children = [
            self.editor.widget,
            self.my_items.widget,
            self.history.widget,
            self.cases.widget,
            self.scenarios.widget,
        ]
        for index, title in enumerate(["Edit item", "My items", "History", "Cases", "Scenarios"]):
            self.tabs.set_title(index, title)
        self.widget = self.tabs

    def show(self) -> w.Widget:
        """The app, for a notebook cell to display."""
        return self.widget


__all__ = ["AuthoringApp", "CaseEditor", "HistoryView", "MyItems", "ScenarioEditor", "parse_list"]
