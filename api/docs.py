"""Swagger UI at ``/api/docs``, served from the vendored ``swagger-ui-dist`` files (no CDN).

The page loads ``/api/v1/openapi.json``; ``?product=CODE`` shows one product's document instead. Its own
script is served at ``/api/docs/init.js`` (the Content-Security-Policy forbids inline scripts).
The vendored version and licence are recorded in ``api/static/swagger-ui/VERSION.md``.
"""

from __future__ import annotations

from flask import Blueprint, Response, request, url_for
from markupsafe import escape

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Loan Product Factory API</title>
  <link rel="stylesheet" href="{css}">
  <link rel="icon" type="image/png" href="{icon}">
</head>
<body>
<div id="swagger-ui" data-spec="{spec}"></div>
<script src="{bundle}"></script>
<script src="{preset}"></script>
<script src="{init}"></script>
</body>
</html>
"""

#: the page's own script, served from this origin: the Content-Security-Policy allows no inline script
INIT_SCRIPT = """window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.spec,
    domNode: root,
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout"
  });
});
"""


def make_docs_blueprint() -> Blueprint:
    """The docs blueprint: the page and the static Swagger UI files."""
    docs_bp = Blueprint("api_docs", __name__, static_folder="static/swagger-ui", static_url_path="/docs/static")

    @docs_bp.get("/docs")
    def swagger_ui() -> Response:
        product = request.args.get("product")
        spec = (url_for("api.openapi_product", code=product) if product else url_for("api.openapi_all"))

        def static(name: str) -> str:
            return url_for("api_docs.static", filename=name)

        html = PAGE.format(css=static("swagger-ui.css"), icon=static("favicon-32x32.png"),
                           bundle=static("swagger-ui-bundle.js"), preset=static("swagger-ui-standalone-preset.js"),
                           init=url_for("api_docs.init_script"), spec=escape(spec))
        return Response(html, mimetype="text/html")

    @docs_bp.get("/docs/init.js")
    def init_script() -> Response:
        return Response(INIT_SCRIPT, mimetype="text/javascript")

    return docs_bp
