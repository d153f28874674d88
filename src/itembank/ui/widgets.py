"""Small reusable form parts: labelled fields with their own message line, a standards picker,
and the rendering of findings next to the field they concern."""

from __future__ import annotations

import html
import logging
import secrets
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import ipywidgets as w

from itembank.bank import Bank
from itembank.core.errors import ItembankError
from itembank.core.findings import Finding

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


def css(widget: w.Widget, *classes: str) -> w.Widget:
    """Give a widget stable CSS classes (browser tests select by them, never by generated ids)."""
    for name in classes:
        widget.add_class(name)
    return widget


def findings_html(findings: Iterable[Finding]) -> str:
    """Findings as escaped HTML lines, errors first."""
    ordered = sorted(findings, key=lambda f: (f.severity != "error", f.pointer, f.code))
    return "".join(
        f'<div class="ib-finding ib-{f.severity}"><b style="color:{LABELS[f.severity][1]}">'
        f"{LABELS[f.severity][0]}:</b> {html.escape(f.message)}"
        f' <span style="color:#888">[{html.escape(f.code)}]</span></div>'
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
    """Rows of framework -> statement (shown with its title), one marked primary."""

    def __init__(self, bank: Bank, on_change: Callback) -> None:
        self.frameworks = {
            fid: fw for fid, fw in bank.frameworks().items() if isinstance(fw, Mapping)
        }
        self.on_change = on_change
        self.rows: list[tuple[w.Dropdown, w.Dropdown, w.Checkbox]] = []
        self.box = css(w.VBox([]), "ib-standards")
        self.add_button = css(
            w.Button(description="Add a standard", icon="plus"), "ib-add-standard"
        )
        self.add_button.on_click(lambda _: self.add())
        self.widget = w.VBox([self.box, self.add_button])

    def _statements(self, framework: str) -> list[tuple[str, str]]:
        statements = self.frameworks.get(framework, {}).get("statements", [])
        return [(f"{s['id']} {s['title']}", s["id"]) for s in statements]

    def add(self, mapping: Mapping[str, Any] | None = None) -> None:
        mapping = mapping or {}
        framework = str(mapping.get("framework") or next(iter(self.frameworks), ""))
        fw = w.Dropdown(options=sorted(self.frameworks), layout=w.Layout(width="230px"))
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
