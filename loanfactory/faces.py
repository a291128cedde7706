"""The web faces: the channel API (``api``) and the admin UI (``admin``), attached to an app by module path.

``create_app`` attaches the faces its ``FACES`` setting names (both by default). The command line's app
attaches none, so a command (a plugin's above all) runs with the configuration, the database and the
plugin manager and imports neither package. A command that must reach an endpoint in process, as the
sandbox bank's ``settle`` posts its callbacks to ours, asks for the API with :func:`with_channel_api`.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from flask import Flask, current_app

#: module paths of the faces, each with ``init_app(app)``
FACES: tuple[str, ...] = ("admin", "api")
EXTENSION = "loanfactory.faces"


def init_app(app: Flask, faces: Iterable[str] = FACES) -> None:
    """Attach each of ``faces`` that ``app`` does not have yet."""
    attached: list[str] = app.extensions.setdefault(EXTENSION, [])
    for name in faces:
        if name not in attached:
            importlib.import_module(name).init_app(app)
            attached.append(name)


def with_channel_api(app: Flask | None = None) -> Flask:
    """``app`` (default: the current app) with the channel API attached, for posting to it in process.

    Only the API: it is what an outside party calls back, and the admin cannot be attached inside an app
    context (its lazily translated names ask for a request's locale). Flask accepts new routes only before
    an app has served its first request, as the command line's app has not.
    """
    found: Flask = app or current_app._get_current_object()  # type: ignore[attr-defined]
    init_app(found, ("api",))
    return found
