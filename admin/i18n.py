"""Languages of the admin: Simplified Chinese by default, English on request.

Strings are written in English in the code and templates and translated in
``admin/translations/zh_Hans_CN/LC_MESSAGES/messages.po``. The catalogue is compiled to ``.mo`` at start-up
into the instance folder whenever the ``.po`` is newer, so a fresh clone needs no build step. The user's
choice lives in the session (``/admin/lang/<code>``); Flask-Admin's own strings come from its shipped
catalogues.
"""

from __future__ import annotations

import os

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, session
from flask_babel import Babel

SOURCE_DIR = os.path.join(os.path.dirname(__file__), "translations")
LANGUAGES = {"zh_CN": "中文", "en": "English"}
DEFAULT_LOCALE = "zh_CN"


def compile_catalogues(target_dir: str) -> str:
    """Compile every ``.po`` under :data:`SOURCE_DIR` into ``target_dir`` when missing or stale."""
    for root, _dirs, files in os.walk(SOURCE_DIR):
        for name in files:
            if not name.endswith(".po"):
                continue
            source = os.path.join(root, name)
            target = os.path.join(target_dir, os.path.relpath(source, SOURCE_DIR))[:-3] + ".mo"
            if os.path.exists(target) and os.path.getmtime(target) >= os.path.getmtime(source):
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(source, "rb") as po:
                catalogue = read_po(po)
            partial = target + f".{os.getpid()}.tmp"
            with open(partial, "wb") as mo:
                write_mo(mo, catalogue)
            os.replace(partial, target)
    return target_dir


def select_locale() -> str:
    """The session's language if it chose one, else Chinese."""
    chosen = session.get("lang")
    return chosen if chosen in LANGUAGES else DEFAULT_LOCALE


def init_app(app: Flask) -> None:
    """Compile the catalogues and attach Flask-Babel (unless another subsystem already did)."""
    compiled = compile_catalogues(os.path.join(app.instance_path, "translations"))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    existing = app.config.get("BABEL_TRANSLATION_DIRECTORIES", "translations")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = f"{compiled};{existing}"
    if "babel" not in app.extensions:
        Babel(app, locale_selector=select_locale)
    app.jinja_env.globals["lf_languages"] = LANGUAGES
