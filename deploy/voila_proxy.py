"""jhsingle-native-proxy for the panel members' Voila, with one fix: its websocket origin check
compared the browser's Origin with the raw Host header, which the hub's proxy rewrites, so every
kernel websocket was refused (403) and the apps stuck at 'Loading widget...'. Here the Origin is
compared with the host the browser asked for (X-Forwarded-Host, as tornado's xheaders give it).
Same-origin only, as before; everything else is jhsingle-native-proxy's own behaviour.

Run as the proxy itself: python deploy/voila_proxy.py [jhsingle-native-proxy options] COMMAND...
"""

from __future__ import annotations

import sys
from urllib.parse import urlparse

from jhsingle_native_proxy import proxyhandlers
from jhsingle_native_proxy.main import run


def check_origin(self: proxyhandlers.ProxyHandler, origin: str) -> bool:
    """Same origin: the Origin's host:port is the one the browser addressed."""
    return bool(origin) and urlparse(origin).netloc.lower() == self.request.host.lower()


proxyhandlers.ProxyHandler.check_origin = check_origin  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.argv[0] = "jhsingle-native-proxy"
    sys.exit(run())
