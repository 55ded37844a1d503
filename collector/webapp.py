"""The web application's files at ``/``, and the API documentation with its own assets.

``collector/web_dist/`` is what ``npm run build`` writes in ``web/`` (and what the wheel and the
image carry): ``index.html``, content-hashed ``assets/`` and, under ``api-docs/``, the
Swagger UI and ReDoc scripts that ``/docs`` and ``/redoc`` load from here, never from a CDN
(the collector runs on networks without one).

- ``/assets/*``: ``Cache-Control: public, max-age=31536000, immutable`` (names change with
  their content);
- any other GET path outside ``/api``, ``/docs``, ``/redoc``, ``/openapi.json`` and
  ``/healthz`` that is not a file answers ``index.html`` (``no-cache``), so that the app's own
  paths (``/stations/rfm-dakar``) reload;
- without a build, ``/`` says how to make one (503).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response

WEB_DIST = Path(__file__).resolve().parent / "web_dist"
DOCS_ASSETS = "/api-docs"
IMMUTABLE = "public, max-age=31536000, immutable"
_NOT_APP = ("api/", "docs", "redoc", "openapi.json", "healthz")
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
_NOT_BUILT = """<!doctype html><html lang="en"><meta charset="utf-8"><title>SODAV Monitor</title>
<h1>The web application is not built</h1>
<p>This collector serves the API at <a href="/docs">/docs</a>. For the web application, build it
once: <code>./dev setup</code> in a checkout (or <code>npm ci &amp;&amp; npm run build</code> in
<code>web/</code>), or install a wheel or image that carries it.</p></html>"""


def _inside(root: Path, relative: str) -> Path | None:
    """The file ``relative`` under ``root``, or None (missing, a directory, or outside root)."""
    try:
        path = (root / relative).resolve()
    except (OSError, ValueError):
        return None
    if root.resolve() not in path.parents or not path.is_file():
        return None
    return path


def install_docs(app: FastAPI, dist: Path = WEB_DIST) -> None:
    """``/docs`` (Swagger UI, which sends a bearer token once you click Authorize) and ``/redoc``,
    both on the assets of ``dist/api-docs``."""
    title = f"{app.title} API"

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=title,
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
            swagger_ui_parameters={"persistAuthorization": True},
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=title,
            redoc_js_url=f"{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
            with_google_fonts=False,
        )


WEB_ROUTE = "/{path:path}"
"""The app's catch-all route: every path no API route serves."""


def install_web(app: FastAPI, dist: Path = WEB_DIST) -> None:
    """Serve the built app at ``/``; register it after every API route (it answers the rest)."""

    # every method, so that an unknown API path is a 404 whatever its method, not a 405
    @app.api_route(WEB_ROUTE, methods=[*_METHODS], include_in_schema=False)
    def web(path: str, request: Request) -> Response:
        if path.startswith(_NOT_APP) or request.method not in ("GET", "HEAD"):
            raise HTTPException(404, f"no such endpoint: {request.method} {request.url.path}; see /docs")
        index = dist / "index.html"
        if not index.is_file():
            return HTMLResponse(_NOT_BUILT, status_code=503)
        found = _inside(dist, path) if path else None
        if path.startswith("assets/"):
            if found is None:
                raise HTTPException(404, f"no such file: {request.url.path}")
            return FileResponse(found, headers={"Cache-Control": IMMUTABLE})
        if found is not None:
            return FileResponse(found, headers={"Cache-Control": "public, max-age=3600"})
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
