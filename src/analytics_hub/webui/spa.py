"""Serve the built web UI (a single-page app) from the paths the API does not use.

:func:`install_webui` makes a :class:`WebUI` the router's *default*: the handler Starlette
calls only when no route matched. So every API route (and its 405 for a wrong method)
answers exactly as without a UI, and a wrong ``/api/...`` path still gets the API's JSON
404. Of what is left:

- a file of the build (``/assets/app-3f2a.js``, ``/favicon.svg``) is served as is;
  ``/assets/`` holds content-hashed names, so those are cached for a year, the rest
  revalidated (``no-cache``, answered 304 when unchanged);
- a missing file under ``/assets/`` is a 404 (an old page asking for a replaced chunk
  must fail, not receive HTML);
- any other GET is a client-side route (``/explorer``, ``/dashboards/abc``) and gets
  ``index.html``, never cached, so a new build is picked up at the next load.

When the directory has no ``index.html`` (the UI was not built), ``/`` answers a short
page saying how to build it. The files carry no data and need no API key: the UI asks
for one and sends it with its API calls.
"""

from __future__ import annotations

import html
import stat
from pathlib import Path

import anyio.to_thread
from starlette.responses import HTMLResponse, Response
from starlette.routing import Router
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

#: where ``make run`` copies the build (``frontend/dist``) inside the package
PACKAGE_STATIC_DIR = Path(__file__).resolve().parent / "static"

#: paths that belong to the API (and the server's own pages): never the UI's
API_PREFIXES: tuple[str, ...] = (
    "/api",
    "/v1",
    "/docs",
    "/redoc",
    "/openapi.json",
    "/readyz",
    "/metrics",
)

ASSETS_PREFIX = "/assets/"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

_NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>LLM Analytics Hub</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>LLM Analytics Hub</h1>
<p>The hub is running, but its web UI is not built: there is no <code>index.html</code>
in <code>{directory}</code>.</p>
<p>Build it with <code>make run</code> (it builds the UI, needs Node.js 20.19 or newer), or
with <code>cd frontend &amp;&amp; npm ci &amp;&amp; npm run build</code> and point
<code>HUB_WEBUI_DIR</code> at <code>frontend/dist</code>.</p>
<p>The API works without it: see <a href="/docs">/docs</a>.</p>
</body></html>
"""


def resolve_webui_dir(configured: str) -> Path:
    """The directory to serve: ``HUB_WEBUI_DIR`` when set, else the package's copy."""
    return Path(configured).expanduser() if configured.strip() else PACKAGE_STATIC_DIR


def is_api_path(path: str) -> bool:
    """Whether ``path`` is the API's (so a miss there is the API's JSON 404): one of
    ``API_PREFIXES`` or below it, or anything starting ``/health``."""
    return path.startswith("/health") or any(
        path == p or path.startswith(p + "/") for p in API_PREFIXES
    )


def _route_path(scope: Scope) -> str:
    # The path below the app's mount point (behind a proxy that sets ``root_path``).
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root) :] or "/"
    return path


class WebUI:
    """ASGI app serving the build in ``directory``; ``fallback`` answers everything else
    (the router's ``not_found``: the API's JSON 404)."""

    def __init__(self, directory: Path, fallback: ASGIApp) -> None:
        self.directory = directory
        self._fallback = fallback
        # Starlette's lookup keeps requests inside the directory (no ``..``, no symlink
        # escape); the directory may appear later (a build while the hub runs).
        self._files = StaticFiles(directory=directory, check_dir=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self._fallback(scope, receive, send)
            return
        path = _route_path(scope)
        if is_api_path(path):
            await self._fallback(scope, receive, send)
            return
        asset = path.startswith(ASSETS_PREFIX)
        response = await self._file(self._files.get_path(scope), scope, immutable=asset)
        if response is None and not asset:
            response = await self._file("index.html", scope, immutable=False)
            if response is None and path == "/":
                response = HTMLResponse(
                    _NOT_BUILT.format(directory=html.escape(str(self.directory))),
                    headers={"Cache-Control": REVALIDATE},
                )
        if response is None:
            await self._fallback(scope, receive, send)
            return
        await response(scope, receive, send)

    async def _file(self, relative: str, scope: Scope, *, immutable: bool) -> Response | None:
        """The file at ``relative`` (304 when the client's copy is current), or None."""
        try:
            full, found = await anyio.to_thread.run_sync(self._files.lookup_path, relative)
        except (OSError, ValueError):  # a name too long, a NUL byte: no such file
            return None
        if found is None or not stat.S_ISREG(found.st_mode):
            return None
        response = self._files.file_response(full, found, scope)
        response.headers["Cache-Control"] = IMMUTABLE if immutable else REVALIDATE
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def install_webui(router: Router, directory: Path) -> WebUI:
    """Serve the UI in ``directory`` from every path no route of ``router`` matches."""
    ui = WebUI(directory, fallback=router.default)
    router.default = ui
    return ui


__all__ = [
    "API_PREFIXES",
    "PACKAGE_STATIC_DIR",
    "WebUI",
    "install_webui",
    "is_api_path",
    "resolve_webui_dir",
]
