"""Sign-in for the served panel apps (loaded only inside the Voila process): /logout really
signs out. Tornado's login cookie is signed, not stored, so clearing it in the browser alone
would leave a copied cookie valid; here a signed-out cookie is refused for the server's life."""

from __future__ import annotations

import html
from typing import Any

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.auth.identity import PasswordIdentityProvider
from jupyter_server.auth.logout import LogoutHandler
from tornado import web

#: login cookies signed out since the server started (a restart signs everyone out anyway,
#: as the cookie secret is new)
_SIGNED_OUT: set[str] = set()


class SigningOutIdentityProvider(PasswordIdentityProvider):
    """The token / cookie sign-in of Jupyter Server, refusing cookies that signed out."""

    def get_user_cookie(self, handler: web.RequestHandler) -> Any:
        raw = handler.get_cookie(self.get_cookie_name(handler))
        if raw is not None and raw in _SIGNED_OUT:
            return None
        return super().get_user_cookie(handler)

    def clear_login_cookie(self, handler: web.RequestHandler) -> None:
        raw = handler.get_cookie(self.get_cookie_name(handler))
        if raw:
            _SIGNED_OUT.add(raw)
        super().clear_login_cookie(handler)


class SignOutHandler(LogoutHandler):
    """/logout: forget the sign-in and say so in a plain page (Jupyter's own logout page needs
    static files standalone Voila does not serve, so it failed with a 500)."""

    @allow_unauthenticated
    def get(self) -> None:
        self.identity_provider.clear_login_cookie(self)
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        self.write(
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Signed out"
            "</title></head><body><h1>Signed out</h1><p>"
            + html.escape("You are signed out. To work again, open the link you were given.")
            + "</p></body></html>"
        )
