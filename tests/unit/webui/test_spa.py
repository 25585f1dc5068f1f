"""The web UI beside the API: files of a real (tiny) build in ``tmp_path``, index.html for
client-side routes, cache headers, and the API's own answers left untouched."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from analytics_hub.api.errors import install_error_handlers
from analytics_hub.webui import PACKAGE_STATIC_DIR, install_webui, resolve_webui_dir
from analytics_hub.webui.spa import IMMUTABLE, is_api_path

INDEX = '<!doctype html><html><head><script type="module" src="/assets/app-abc.js"></script>'
SCRIPT = "console.log('hub');\n"


def build(root: Path) -> Path:
    """A fake ``frontend/dist``: index.html, a hashed asset, a root file."""
    dist = root / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    (dist / "assets" / "app-abc.js").write_text(SCRIPT)
    (dist / "favicon.svg").write_text("<svg/>")
    return dist


def app_serving(directory: Path) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/api/v1/thing")
    async def thing() -> dict[str, str]:
        return {"thing": "yes"}

    install_webui(app.router, directory)
    return app


def get(app: FastAPI, path: str, method: str = "GET", **headers: str) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            return await client.request(method, path, headers=headers)

    return asyncio.run(call())


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    return app_serving(build(tmp_path))


@pytest.mark.parametrize("path", ["/", "/explorer", "/dashboards/abc", "/dashboards/abc/edit"])
def test_the_root_and_client_side_routes_get_index_html_uncached(app: FastAPI, path: str) -> None:
    r = get(app, path)
    assert r.status_code == 200
    assert r.text == INDEX
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["cache-control"] == "no-cache"


def test_hashed_assets_are_cached_for_a_year_and_revalidate_to_304(app: FastAPI) -> None:
    r = get(app, "/assets/app-abc.js")
    assert (r.status_code, r.text) == (200, SCRIPT)
    assert "javascript" in r.headers["content-type"]
    assert r.headers["cache-control"] == IMMUTABLE == "public, max-age=31536000, immutable"
    again = get(app, "/assets/app-abc.js", **{"if-none-match": r.headers["etag"]})
    assert again.status_code == 304


def test_other_files_of_the_build_are_served_and_revalidated(app: FastAPI) -> None:
    r = get(app, "/favicon.svg")
    assert (r.status_code, r.text) == (200, "<svg/>")
    assert r.headers["cache-control"] == "no-cache"
    head = get(app, "/", method="HEAD")
    assert (head.status_code, head.content) == (200, b"")


@pytest.mark.parametrize(
    "path", ["/assets/app-old.js", "/api/v1/nope", "/api", "/v1/traces/x", "/healthzz", "/docs/x"]
)
def test_misses_under_assets_and_the_api_are_the_apis_json_404(app: FastAPI, path: str) -> None:
    r = get(app, path)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


def test_api_routes_keep_their_answers_and_their_405(app: FastAPI) -> None:
    assert get(app, "/api/v1/thing").json() == {"thing": "yes"}
    r = get(app, "/api/v1/thing", method="POST")
    assert r.status_code == 405
    assert r.json()["error"]["code"] == "method_not_allowed"


def test_other_methods_are_not_the_uis(app: FastAPI) -> None:
    r = get(app, "/explorer", method="POST")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


def test_nothing_outside_the_build_is_served(tmp_path: Path) -> None:
    dist = build(tmp_path)
    (tmp_path / "secret.txt").write_text("s3cret")
    (dist / "assets" / "link.txt").symlink_to(tmp_path / "secret.txt")
    app = app_serving(dist)
    # Sent unnormalised, as a hostile client would; outside the build is not there.
    assert raw_get(app, "/assets/../../secret.txt")[0] == 404
    assert raw_get(app, "/assets/link.txt")[0] == 404
    assert raw_get(app, "/../secret.txt") == (200, INDEX.encode())  # a client route


def raw_get(app: FastAPI, path: str) -> tuple[int, bytes]:
    """Send ``path`` to the ASGI app as is (HTTP clients remove ``..`` themselves)."""
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"hub")],
        "server": ("hub", 80),
        "client": ("127.0.0.1", 1),
    }

    async def run() -> None:
        done = asyncio.Event()
        requested = False

        async def receive() -> dict[str, Any]:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await done.wait()  # the client hangs up once the response is complete
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                done.set()

        await app(scope, receive, send)

    asyncio.run(run())
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def test_without_a_build_the_root_says_how_to_build_it(tmp_path: Path) -> None:
    app = app_serving(tmp_path / "dist")
    r = get(app, "/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "make run" in r.text
    assert str(tmp_path / "dist") in r.text
    assert r.headers["cache-control"] == "no-cache"
    assert get(app, "/explorer").status_code == 404
    assert get(app, "/api/v1/thing").json() == {"thing": "yes"}
    # A build made while the hub runs is served from the next request on.
    build(tmp_path)
    assert get(app, "/explorer").text == INDEX


def test_the_setting_picks_the_directory() -> None:
    assert resolve_webui_dir("") == PACKAGE_STATIC_DIR
    assert resolve_webui_dir("  ") == PACKAGE_STATIC_DIR
    assert resolve_webui_dir("frontend/dist") == Path("frontend/dist")
    assert PACKAGE_STATIC_DIR.parent.name == "webui"


@pytest.mark.parametrize(
    ("path", "api"),
    [
        ("/api/v1/x", True),
        ("/api", True),
        ("/v1/traces", True),
        ("/docs", True),
        ("/openapi.json", True),
        ("/healthz", True),
        ("/health/live", True),
        ("/readyz", True),
        ("/metrics", True),
        ("/apiary", False),
        ("/v1beta", False),
        ("/explorer", False),
        ("/", False),
    ],
)
def test_which_paths_are_the_apis(path: str, api: bool) -> None:
    assert is_api_path(path) is api
