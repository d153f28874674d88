"""The standard-setting app (Voila): judges rate each item, round by round, seeing only their own
panel's spread between rounds, then enter their acceptable ranges; the facilitator opens
exercises, sees both panels' results and a printable summary, closes the exercise and, as its
chair after a first administration, compares the Angoff, Hofstee and Beuk pass marks and adopts
one (standard_setting_compromise.py). State lives in plain Python; widgets only show it."""

from __future__ import annotations

import html
import os
from collections.abc import Callable
from typing import Any

import ipywidgets as w

from itembank.bank import Bank
from itembank.core.identity import member_for_login
from itembank.core.render import reviewer_html
from itembank.standard_setting.angoff import summary_text
from itembank.ui.standard_setting_compromise import ChairBox, RangesBox
from itembank.ui.widgets import Messages, button, css


def parse_probability(text: object) -> float | None:
    """'0.65', '.65' or '65%' -> 0.65; None when it is not a number (range is the service's)."""
    if not isinstance(text, str) or not text.strip():
        return None
    raw = text.strip().rstrip("%")
    try:
        value = float(raw)
    except ValueError:
        return None
    if value != value:  # NaN
        return None
    return value / 100 if text.strip().endswith("%") else value


class StandardSettingApp(Messages):
    """StandardSettingApp(open_bank()).show()"""

    def __init__(self, bank: Bank) -> None:
        self.bank = bank
        self.person: str | None = None
        self.role: str | None = None  # "judge" | "facilitator"
        self.exercise_id: str | None = None
        self.round: int | None = None
        self.inputs: dict[str, w.Text] = {}
        # a message appears next to the button that caused it (self.message is that line)
        self.top_message = css(w.HTML(""), "ib-message")
        self.start_message = css(w.HTML(""), "ib-ss-start-message")
        self.submit_message = css(w.HTML(""), "ib-ss-submit-message")
        self.open_message = css(w.HTML(""), "ib-ss-open-message")
        self.results_message = css(w.HTML(""), "ib-ss-results-message")
        self.message = self.top_message
        judges = bank.panels.members("standard_setting")
        self.who = css(
            w.Dropdown(
                options=[("Choose your name", "")] + [(m.split("<")[0].strip(), m) for m in judges],
                value="",
                description="Judge",
            ),
            "ib-ss-judge-name",
        )
        self.judge_button = css(button("Sign in as judge"), "ib-ss-signin-judge")
        self.judge_button.on_click(
            self._near(self.top_message, lambda: self._sign_in_judge(self.who.value))
        )
        self.fac_name = css(
            w.Text(placeholder="Full Name <email@example.org>", description="Facilitator"),
            "ib-ss-fac-name",
        )
        self.fac_button = css(button("Sign in as facilitator"), "ib-ss-signin-fac")
        self.fac_button.on_click(
            self._near(self.top_message, lambda: self._sign_in_facilitator(self.fac_name.value))
        )
        self.sign_in_box = w.VBox(
            [w.HBox([self.who, self.judge_button]), w.HBox([self.fac_name, self.fac_button])]
        )
        self.signed = css(w.HTML(""), "ib-signed-in")
        # judge
        self.exercise = css(w.Dropdown(options=[], description="Exercise"), "ib-ss-exercise")
        self.start_button = css(button("Rate this exercise"), "ib-ss-start")
        self.start_button.on_click(
            self._near(self.start_message, lambda: self._start(self.exercise.value))
        )
        self.round_label = css(w.HTML(""), "ib-ss-round")
        self.feedback = css(w.HTML(""), "ib-ss-feedback")
        self.items_box = css(w.VBox([]), "ib-ss-items")
        self.submit_button = css(
            button("Submit my ratings", button_style="success"), "ib-ss-submit"
        )
        self.submit_button.on_click(self._near(self.submit_message, self._submit))
        self.ranges = RangesBox(bank)
        self.judge_box = w.VBox(
            [
                w.HBox([self.exercise, self.start_button, self.start_message]),
                self.round_label,
                self.feedback,
                self.items_box,
                self.submit_button,
                self.submit_message,
                self.ranges.root,
            ],
            layout=w.Layout(display="none"),
        )
        # facilitator
        self.new_id = css(w.Text(description="Id", placeholder="pk-live-2026"), "ib-ss-new-id")
        self.new_title = css(w.Text(description="Title"), "ib-ss-new-title")
        self.new_items = css(
            w.Text(description="Items", placeholder="GK-0001, GK-0002 (or a blueprint below)"),
            "ib-ss-new-items",
        )
        blueprints = [str(b.get("id")) for b in bank.records("blueprint")]
        self.new_blueprint = css(
            w.Dropdown(
                options=[("(none)", "")] + [(b, b) for b in sorted(blueprints)],
                value="",
                description="Blueprint",
            ),
            "ib-ss-new-blueprint",
        )
        self.new_rounds = css(
            w.Dropdown(options=[1, 2, 3], value=2, description="Rounds"), "ib-ss-new-rounds"
        )
        self.open_button = css(button("Open exercise"), "ib-ss-open")
        self.open_button.on_click(self._near(self.open_message, self._open_exercise))
        self.fac_exercise = css(
            w.Dropdown(options=[], description="Exercise"), "ib-ss-fac-exercise"
        )
        self.results_button = css(button("Show results"), "ib-ss-results")
        self.results_button.on_click(
            self._near(self.results_message, lambda: self._results(self.fac_exercise.value))
        )
        self.close_button = css(button("Close exercise"), "ib-ss-close")
        self.close_button.on_click(
            self._near(self.results_message, lambda: self._close(self.fac_exercise.value))
        )
        self.summary = css(w.HTML(""), "ib-ss-summary")
        self.chair = ChairBox(bank, lambda: self.fac_exercise.value)
        self.fac_box = w.VBox(
            [
                w.HTML("<h3>Open an exercise</h3>"),
                self.new_id,
                self.new_title,
                self.new_items,
                self.new_blueprint,
                self.new_rounds,
                self.open_button,
                self.open_message,
                w.HTML("<h3>Results</h3>"),
                w.HBox([self.fac_exercise, self.results_button, self.close_button]),
                self.results_message,
                self.summary,
                self.chair.root,
            ],
            layout=w.Layout(display="none"),
        )
        self.root = css(
            w.VBox(
                [
                    w.HTML("<h2>Standard setting (modified Angoff)</h2>"),
                    self.sign_in_box,
                    self.signed,
                    self.top_message,
                    self.judge_box,
                    self.fac_box,
                ]
            ),
            "ib-standard-setting-app",
        )
        hub = os.environ.get("JUPYTERHUB_USER", "").strip()
        if hub:
            self.sign_in_box.layout.display = "none"
            if member_for_login(judges, hub):
                self._sign_in_judge(None)
            else:
                self._sign_in_facilitator(None)

    def show(self) -> w.Widget:
        return self.root

    def _near(self, line: w.HTML, action: Callable[[], None]) -> Callable[[Any], None]:
        """A button's callback whose messages appear on `line`, next to that button (a judge at
        the bottom of a long page never has to scroll to the top to see why nothing happened)."""

        def run(_: Any) -> None:
            for other in (
                self.top_message,
                self.start_message,
                self.submit_message,
                self.open_message,
                self.results_message,
            ):
                other.value = ""
            self.message = line
            action()

        return run

    # ---- judges -----------------------------------------------------------------------------

    def _sign_in_judge(self, login: object) -> None:
        if self.person is not None:
            return
        name = self._run(
            lambda: self.bank.panels.sign_in(
                login if isinstance(login, str) else None, "standard_setting"
            )
        )
        if name is None:
            return
        self.person, self.role = name, "judge"
        panel = self.bank.panels.panel_of(name, "standard_setting")
        self.signed.value = (
            f"Signed in as <strong>{html.escape(name)}</strong> ({html.escape(str(panel))})"
        )
        self.sign_in_box.layout.display = "none"
        self._say("")
        mine = [
            e
            for e in self.bank.standard_setting.exercises()
            if e["status"] == "open" and panel in e["panels"]
        ]
        self.exercise.options = [(f"{e['title']} ({e['id']})", e["id"]) for e in mine]
        self.exercise.value = mine[0]["id"] if mine else None
        self.judge_box.layout.display = ""
        if not mine:
            self._say("No exercise is open for your panel yet.")

    def _start(self, exercise_id: object) -> None:
        if self.role != "judge" or self.person is None:
            self._say("Sign in as a judge first.", "error")
            return
        if exercise_id not in {v for _, v in self.exercise.options}:
            self._say("Choose one of the exercises listed.", "error")
            return
        person = self.person
        state = self._run(lambda: self.bank.standard_setting.judge_round(exercise_id, person))
        if state is None:
            return
        _panel, round_no = state
        self.exercise_id = str(exercise_id)
        self.round = round_no
        exercise = self.bank.standard_setting.exercise(exercise_id)
        if round_no is None:
            self.round_label.value = "You have rated every round of this exercise. Thank you."
            self.items_box.children = ()
            self.submit_button.layout.display = "none"
            if exercise["status"] == "open":
                self.ranges.show_for(person, str(exercise_id))
            return
        self.ranges.root.layout.display = "none"
        self.submit_button.layout.display = ""
        self.round_label.value = (
            f"<strong>Round {round_no} of {exercise['rounds']}</strong>: for each item, "
            "the probability (0 to 1) that a <em>minimally competent</em> candidate answers it "
            "correctly (for partial-credit items, the expected share of its marks)."
        )
        self.feedback.value = self._feedback_html(round_no - 1) if round_no > 1 else ""
        earlier: dict[str, float] = {}
        if round_no > 1:
            person = self.person
            earlier = (
                self._run(
                    lambda: self.bank.standard_setting.my_ratings(exercise_id, person, round_no - 1)
                )
                or {}
            )
        if earlier:
            self.round_label.value += (
                f" Your round {round_no - 1} ratings are filled in: change the ones you now see "
                "differently, then submit."
            )
        rows: list[w.Widget] = []
        self.inputs = {}
        for item_id in exercise["items"]:
            item = self.bank.get_record("item", item_id)
            box = css(
                w.Text(
                    value=f"{earlier[item_id]:g}" if item_id in earlier else "",
                    placeholder="0 to 1",
                    description=item_id,
                ),
                "ib-ss-value",
                f"ib-ss-value-{item_id}",
            )
            self.inputs[item_id] = box
            rows.append(w.VBox([css(w.HTML(reviewer_html(item)), "ib-ss-item"), box]))
        self.items_box.children = rows

    def _feedback_html(self, round_no: int) -> str:
        person, exercise_id = self.person, self.exercise_id
        if person is None or exercise_id is None:
            return ""
        data = self._run(
            lambda: self.bank.standard_setting.round_feedback(exercise_id, person, round_no)
        )
        if not data:
            return ""
        rows = "".join(
            f"<tr><td>{html.escape(i)}</td><td>{v['low']:.2f}</td><td>{v['mean']:.2f}</td>"
            f"<td>{v['high']:.2f}</td></tr>"
            for i, v in data["items"].items()
        )
        cuts = ", ".join(f"{c:.1f}" for c in data["cuts"])
        return (
            f"<div class='ib-ss-spread'><strong>Your panel in round {round_no}</strong> "
            f"({data['judges']} judges; their cuts in marks: {cuts}). No empirical facility "
            "data are held for these items."
            "<table><tr><th>item</th><th>lowest</th><th>mean</th><th>highest</th></tr>"
            f"{rows}</table></div>"
        )

    def _submit(self) -> None:
        if self.role != "judge" or self.person is None or self.exercise_id is None:
            self._say("Choose an exercise first.", "error")
            return
        if self.round is None:
            self._say("You have rated every round of this exercise.", "error")
            return
        values: dict[str, object] = {}
        for item_id, box in self.inputs.items():
            value = parse_probability(box.value)
            values[item_id] = value if value is not None else box.value
        person, exercise_id, round_no = self.person, self.exercise_id, self.round
        self.submit_button.disabled = True
        try:
            record = self._run(
                lambda: self.bank.standard_setting.submit_ratings(
                    exercise_id, person, round_no, values
                )
            )
        finally:
            self.submit_button.disabled = False
        if record is None:
            return
        self._say(f"Recorded your round {record['round']} ratings ({record['id']}).", "ok")
        self._start(exercise_id)

    # ---- facilitator ------------------------------------------------------------------------

    def _sign_in_facilitator(self, name: object) -> None:
        if self.person is not None:
            return
        person = self._run(lambda: self.bank.identity(name if isinstance(name, str) else None))
        if person is None:
            return
        if self.bank.panels.panel_of(person, "standard_setting"):
            self._say("Judges cannot facilitate: sign in as a judge.", "error")
            return
        self.person, self.role = person, "facilitator"
        self.chair.chair = person
        self.signed.value = f"Facilitator: <strong>{html.escape(person)}</strong>"
        self.sign_in_box.layout.display = "none"
        self._say("")
        self._list_facilitated()
        self.fac_box.layout.display = ""

    def _list_facilitated(self, chosen: str | None = None) -> None:
        """The facilitator's exercises, one always chosen (`chosen`, else the one already
        chosen, else the first open one): never a blank list that Show results fails on."""
        mine = [
            e
            for e in self.bank.standard_setting.exercises()
            if str(e.get("facilitator", "")).lower() == str(self.person).lower()
        ]
        ids = [str(e["id"]) for e in mine]
        keep = chosen if chosen in ids else self.fac_exercise.value
        opened = [str(e["id"]) for e in mine if e.get("status") == "open"]
        self.fac_exercise.options = [(f"{e['id']} ({e['status']})", e["id"]) for e in mine]
        if keep in ids:
            self.fac_exercise.value = keep
        elif ids:
            self.fac_exercise.value = (opened or ids)[0]

    def _chosen(self, exercise_id: object) -> bool:
        """Whether the facilitator has an exercise chosen (saying what to do if not)."""
        if exercise_id in {v for _, v in self.fac_exercise.options}:
            return True
        self._say(
            "Open an exercise first: you have none to show."
            if not self.fac_exercise.options
            else "Choose one of your exercises in the list.",
            "error",
        )
        return False

    def _open_exercise(self) -> None:
        if self.role != "facilitator" or self.person is None:
            self._say("Sign in as the facilitator first.", "error")
            return
        items = [p for p in str(self.new_items.value).replace(",", " ").split() if p]
        blueprint = str(self.new_blueprint.value or "") or None
        rounds = self.new_rounds.value if self.new_rounds.value in (1, 2, 3) else 2
        person = self.person
        record = self._run(
            lambda: self.bank.standard_setting.open(
                self.new_id.value,
                str(self.new_title.value),
                person,
                items=None if blueprint else items,
                blueprint=blueprint,
                rounds=int(rounds),
            )
        )
        if record is None:
            return
        self._say(f"Opened {record['id']} with {len(record['items'])} items.", "ok")
        self._list_facilitated(str(record["id"]))

    def _results(self, exercise_id: object) -> None:
        person = self.person
        if self.role != "facilitator" or person is None:
            self._say("Only the facilitator sees results.", "error")
            return
        if not self._chosen(exercise_id):
            return
        result = self._run(lambda: self.bank.standard_setting.results(exercise_id, person))
        if result is None:
            return
        self._say(
            " ".join(result.warnings) if result.warnings else "",
            "error" if result.warnings else "info",
        )
        self.summary.value = (
            f"<pre class='ib-ss-printable'>{html.escape(summary_text(result))}</pre>"
        )

    def _close(self, exercise_id: object) -> None:
        person = self.person
        if self.role != "facilitator" or person is None:
            self._say("Only the facilitator closes an exercise.", "error")
            return
        if not self._chosen(exercise_id):
            return
        if self._run(lambda: self.bank.standard_setting.close(exercise_id, person)) is not None:
            self._say(f"Closed {exercise_id}.", "ok")
            self._list_facilitated()
