"""Small reusable form parts: labelled fields with their own message line, a standards picker,
and the rendering of findings next to the field they concern."""

from __future__ import annotations

import html
import logging
import secrets
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any

import ipywidgets as w

from itembank.bank import Bank
from itembank.core.errors import ItembankError
from itembank.core.findings import Finding
from itembank.ui.writer_words import writer_message

Callback = Callable[[], None]
LABELS = {"error": ("Error", "#b00020"), "warning": ("Check", "#8a5a00")}


class Messages:
    """A message line for an app (`self.message`), and running an action that may fail with a
    clear message instead of a traceback."""

    message: w.HTML

    def _say(self, text: str, kind: str = "info") -> None:
        colour = {"error": "#a40000", "ok": "#1b5e20", "info": "#333"}[kind]
        self.message.value = (
            f'<div class="ib-msg-{kind}" style="color:{colour}">{html.escape(text)}</div>'
            if text
            else ""
        )

    def _run(self, action: Callable[[], Any]) -> Any:
        """Run a step of the app: a user's or the bank's problem (ItembankError) is shown in
        its own plain words; anything else is a bug, shown as a plain message with a reference
        and logged with its traceback to the server's log, never swallowed (ipywidgets would
        otherwise drop a callback's traceback where no panel member sees it)."""
        try:
            return action()
        except ItembankError as exc:
            self._say(str(exc), "error")
        except Exception:
            reference = secrets.token_hex(4)
            server_log().exception(
                "unexpected error in %s (reference %s)", type(self).__name__, reference
            )
            self._say(
                "Something went wrong, so that step was not done (reference "
                f"{reference}). Nothing you have recorded is lost. Please tell the bank's "
                "administrator; the details are in the server's log.",
                "error",
            )
        return None

    def _safe(self, action: Callable[[], Any]) -> Callable[[Any], None]:
        """A widget callback (on_click / observe) that goes through _run."""
        return lambda _: self._run(action)


def server_log() -> logging.Logger:
    """A logger writing to the kernel process's own stderr, which is the server's log (the
    kernel's sys.stderr would send it to the page, where nobody reads it)."""
    log = logging.getLogger("itembank.apps")
    if not log.handlers:
        handler = logging.StreamHandler(sys.__stderr__)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    return log


class SyncBanner:
    """A line saying when the bank is behind its shared remote, or holds saves not yet shared,
    and the step that brings others' work in before a record is opened (so a writer edits, and
    a reviewer reviews, the latest version). Nothing shows for a bank without a remote. The
    first fetch runs in the background, so opening an app never waits for the network."""

    def __init__(self, bank: Bank, background: bool = True) -> None:
        self.bank = bank
        self.widget = css(w.HTML(""), "ib-sync-banner")
        #: the background fetch (tests wait for it to end: state, never time)
        self.fetching: threading.Thread | None = None
        if bank.sync.configured:
            if background:
                self.fetching = threading.Thread(target=self.refresh, args=(True,), daemon=True)
                self.fetching.start()
            else:
                self.refresh(fetch=True)

    def refresh(self, fetch: bool = False, note: str = "") -> None:
        """Show where the bank stands (fetch=True asks the remote first)."""
        try:
            status = self.bank.sync.status(fetch)
        except Exception as exc:  # a banner never breaks the app; the server log has it
            server_log().warning("sync status failed: %s", exc)
            return
        parts = [note] if note else []
        if status.behind:
            parts.append(
                f"The shared bank has {status.behind} newer change(s) by others; they are "
                "brought in when you open a record."
            )
        if status.ahead:
            parts.append(f"{status.ahead} of your saves are not yet shared.")
        if status.problem and (status.ahead or fetch):
            parts.append(status.problem)
        text = " ".join(parts)
        self.widget.value = (
            f'<div class="ib-sync-behind" style="color:#8a5a00">{html.escape(text)}</div>'
            if text
            else ""
        )

    def before_opening(self) -> None:
        """Sync before a record is opened; a failure is shown on the banner, never blocks."""
        if not self.bank.sync.configured:
            return
        note = ""
        try:
            outcome = self.bank.sync.sync()
            for dropped in outcome.dropped:
                note += (
                    f"Your earlier save '{dropped.message}' was undone: "
                    f"{', '.join(dropped.records)} changed in the shared bank. Your version is "
                    f"kept at {', '.join(dropped.kept) or 'its commit'}. "
                )
        except ItembankError as exc:
            note = f"Others' latest changes could not be brought in: {exc}"
        self.refresh(fetch=False, note=note.strip())


def css(widget: w.Widget, *classes: str) -> w.Widget:
    """Give a widget stable CSS classes (browser tests select by them, never by generated ids)."""
    for name in classes:
        widget.add_class(name)
    return widget


def button(description: str = "", **kwargs: Any) -> w.Button:
    """A button as wide as its label (ipywidgets' fixed default width cuts long labels off)."""
    layout = kwargs.pop("layout", None) or w.Layout(
        width="auto", min_width="fit-content", align_self="flex-start"
    )
    return w.Button(description=description, layout=layout, **kwargs)


def findings_html(findings: Iterable[Finding]) -> str:
    """Findings as escaped HTML lines, errors first, in a writer's words (writer_words.py);
    the finding's code is kept out of the text, as a tooltip and a class for tests."""
    ordered = sorted(findings, key=lambda f: (f.severity != "error", f.pointer, f.code))
    return "".join(
        f'<div class="ib-finding ib-{f.severity} ib-code-{html.escape(f.code)}" '
        f'title="{html.escape(f.code)}"><b style="color:{LABELS[f.severity][1]}">'
        f"{LABELS[f.severity][0]}:</b> {html.escape(writer_message(f))}</div>"
        for f in ordered
    )


def message_box(name: str) -> w.HTML:
    """The line under a field where its findings appear."""
    return css(w.HTML(""), "ib-msg", f"ib-msg-{name}")


def field(label: str, widget: w.Widget, message: w.HTML, help_text: str = "") -> w.VBox:
    """A label, the input, an optional hint and the field's message line."""
    parts: list[w.Widget] = [w.HTML(f"<b>{html.escape(label)}</b>")]
    if help_text:
        parts.append(w.HTML(f'<span style="color:#666">{html.escape(help_text)}</span>'))
    parts += [widget, message]
    return w.VBox(parts, layout=w.Layout(margin="0 0 10px 0"))


def textarea(name: str, rows: int = 4, placeholder: str = "") -> w.Textarea:
    box = w.Textarea(
        placeholder=placeholder, rows=rows, continuous_update=False, layout=w.Layout(width="95%")
    )
    return css(box, f"ib-{name}")


def parse_list(text: str) -> list[str]:
    """'a, b  c' -> ['a', 'b', 'c'] (commas or spaces)."""
    return [part for part in text.replace(",", " ").split() if part]


class StandardsPicker:
    """Rows of framework -> statement (shown with its title), one marked primary. Only the
    frameworks of the item's roles are offered, the one assessed now first (so a new row starts
    on the framework of the chosen role, never on the first name alphabetically); a mapping to
    another framework, loaded from a record, stays visible and is labelled as such."""

    def __init__(self, bank: Bank, on_change: Callback, today: date | None = None) -> None:
        self.frameworks = {
            fid: fw for fid, fw in bank.frameworks().items() if isinstance(fw, Mapping)
        }
        self.today = (today or date.today()).isoformat()
        self.on_change = on_change
        self.roles: list[str] = []
        self.rows: list[tuple[w.Dropdown, w.Dropdown, w.Checkbox]] = []
        self.box = css(w.VBox([]), "ib-standards")
        self.add_button = css(button("Add a standard", icon="plus"), "ib-add-standard")
        self.add_button.on_click(lambda _: self.add())
        self.widget = w.VBox([self.box, self.add_button])

    def _statements(self, framework: str) -> list[tuple[str, str]]:
        statements = self.frameworks.get(framework, {}).get("statements", [])
        return [(f"{s['id']} {s['title']}", s["id"]) for s in statements]

    def offered(self) -> list[str]:
        """The frameworks of the item's roles (all when it has none yet): assessed before not
        assessed, in force today before the rest, then by id."""

        def rank(fid: str) -> tuple[bool, bool, str]:
            fw = self.frameworks[fid]
            start = str(fw.get("effective_from") or "")
            end = str(fw.get("effective_to") or "9999-12-31")
            in_force = start <= self.today <= end and fw.get("status", "current") == "current"
            return (not fw.get("assessed", True), not in_force, fid)

        fitting = [
            fid
            for fid, fw in self.frameworks.items()
            if not self.roles or fw.get("role") in self.roles
        ]
        return sorted(fitting, key=rank)

    def _framework_options(self, keep: str | None) -> list[tuple[str, str]]:
        offered = self.offered()
        options = [(fid, fid) for fid in offered]
        if keep and keep not in offered:
            options.append((f"{keep} (not a framework of this item's roles)", keep))
        return options

    def set_roles(self, roles: Iterable[str]) -> None:
        """The item's roles changed: offer their frameworks in every row (keeping each row's
        choice, so nothing the writer mapped changes without them)."""
        self.roles = [str(r) for r in roles]
        for fw, _, _ in self.rows:
            current = fw.value
            self._setting = True
            try:
                fw.options = self._framework_options(current)
                fw.value = current
            finally:
                self._setting = False

    _setting = False

    def add(self, mapping: Mapping[str, Any] | None = None) -> None:
        mapping = mapping or {}
        offered = self.offered()
        framework = str(mapping.get("framework") or (offered[0] if offered else ""))
        fw = w.Dropdown(
            options=self._framework_options(framework if framework in self.frameworks else None),
            layout=w.Layout(width="auto"),
        )
        if framework in self.frameworks:
            fw.value = framework
        statement = w.Dropdown(
            options=self._statements(fw.value or ""), layout=w.Layout(width="420px")
        )
        wanted = mapping.get("statement")
        if wanted in [v for _, v in statement.options]:
            statement.value = wanted
        primary = w.Checkbox(
            value=bool(mapping.get("primary")),
            description="primary",
            indent=False,
            layout=w.Layout(width="90px"),
        )
        remove = w.Button(
            icon="trash", tooltip="Remove this standard", layout=w.Layout(width="40px")
        )
        row = (fw, statement, primary)

        def framework_changed(change: dict[str, Any]) -> None:
            if self._setting or change["new"] == change["old"]:
                return
            statement.options = self._statements(str(change["new"]))
            self.on_change()

        fw.observe(framework_changed, "value")
        statement.observe(lambda _: self.on_change(), "value")
        primary.observe(lambda _: self.on_change(), "value")
        remove.on_click(lambda _: self.remove(row))
        self.rows.append(row)
        self.box.children = (
            *self.box.children,
            css(w.HBox([fw, statement, primary, remove]), "ib-standard-row"),
        )
        if mapping == {}:
            self.on_change()

    def remove(self, row: tuple[w.Dropdown, w.Dropdown, w.Checkbox]) -> None:
        index = self.rows.index(row)
        self.rows.pop(index)
        children = list(self.box.children)
        children.pop(index)
        self.box.children = tuple(children)
        self.on_change()

    @property
    def value(self) -> list[dict[str, Any]]:
        out = []
        for fw, statement, primary in self.rows:
            mapping: dict[str, Any] = {"framework": fw.value, "statement": statement.value}
            if primary.value:
                mapping["primary"] = True
            out.append(mapping)
        return out

    @value.setter
    def value(self, mappings: Iterable[Mapping[str, Any]]) -> None:
        self.rows = []
        self.box.children = ()
        for mapping in mappings:
            if isinstance(mapping, Mapping):
                self.add(mapping)
