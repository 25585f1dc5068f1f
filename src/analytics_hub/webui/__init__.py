"""The web UI: its build (``static/``, copied from ``frontend/dist`` by ``make run``; not in
git) and the ASGI app that serves it beside the API (:mod:`analytics_hub.webui.spa`)."""

from analytics_hub.webui.spa import (
    PACKAGE_STATIC_DIR,
    WebUI,
    install_webui,
    resolve_webui_dir,
)

__all__ = ["PACKAGE_STATIC_DIR", "WebUI", "install_webui", "resolve_webui_dir"]
