"""Who sits on which panel (bank.json's ``panels``) and who is signing in to a panel app
(``bank.panels``): shared by the review and standard-setting sections. Every person is checked
again here, since a panel member can send any value from a browser."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from itembank.core.errors import (
    IdentityError,
)
from itembank.core.identity import check_person, member_for_login

if TYPE_CHECKING:
    from itembank.bank import Bank

Record = dict[str, Any]


class Panels:
    """Panel membership, read from bank.json on every call (a chair's edit takes effect at once)."""

    def __init__(self, bank: Bank) -> None:
        self._bank = bank
        self._store = bank.store

    def all(self, kind: str | None = None) -> list[Record]:
        """The panels in bank.json, optionally of one kind ("review", "standard_setting")."""
        found = self._bank.settings.get("panels", [])
        return [p for p in found if kind is None or p.get("kind") == kind]

    def members(self, kind: str) -> list[str]:
        """Everyone on a panel of this kind, in name order (the local sign-in list)."""
        return sorted({str(m) for p in self.all(kind) for m in p.get("members", [])})

    def panel_of(self, person: str, kind: str = "review") -> str | None:
        """The id of the first panel of this kind the person is on, or None."""
        for panel in self.all(kind):
            if any(str(m).lower() == person.strip().lower() for m in panel.get("members", [])):
                return str(panel["id"])
        return None

    def sign_in(self, login: str | None = None, kind: str = "review") -> str:
        """The panel member using an app: JUPYTERHUB_USER behind a hub (it always wins), else
        the name chosen locally. IdentityError when that person is on no panel of this kind."""
        hub = os.environ.get("JUPYTERHUB_USER", "").strip()
        chosen = hub or (login if isinstance(login, str) else "")
        member = member_for_login(self.members(kind), chosen)
        if member is None:
            where = "signed in to the hub as" if hub else "chose"
            raise IdentityError(
                f"You {where} {chosen!r}, who is not on a {kind.replace('_', '-')} panel in "
                "bank.json. Ask the panel's chair to add you to the panel."
            )
        return member

    def roles(self, panel: str) -> set[str] | None:
        """The roles a review panel covers, or None when it reviews every role."""
        for found in self.all("review"):
            if found.get("id") == panel and found.get("roles"):
                return {str(r) for r in found["roles"]}
        return None

    def require(self, person: str, kind: str) -> str:

        person = check_person(person)
        panel = self.panel_of(person, kind)
        if panel is None:
            raise IdentityError(
                f"{person} is not on a {kind.replace('_', '-')} panel in bank.json, so cannot "
                "take part. Ask the panel's chair to add you."
            )
        return panel
