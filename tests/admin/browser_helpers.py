"""Helpers of the browser tests: the app served from a thread, Debian's Chromium driven by Playwright.

Debian's ``chromium`` is driven through Playwright's Python package (``playwright install`` cannot
download browsers here); the app is served from a thread on 127.0.0.1. Screenshots go to
``test-output/admin/`` (git-ignored).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from admin_helpers import PASSWORD, make_admin_app
from werkzeug.serving import make_server

from tests.conftest import require_service

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "admin"


@contextmanager
def served_app(database: Path) -> Iterator[tuple[str, object]]:
    """An admin app on a fresh SQLite ``database``, served on 127.0.0.1: ``(base URL, app)``."""
    require_service(os.path.exists(CHROMIUM) and shutil.which("chromium") is not None,
                    "Chromium is not installed (apt-get install -y chromium fonts-noto-cjk)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        require_service(False, "the playwright Python package is not installed")
    app = make_admin_app(f"sqlite:///{database}")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app
    finally:
        server.shutdown()
        thread.join(5)


@contextmanager
def chromium_page() -> Iterator[object]:
    """A page of Debian's Chromium, headless, closed afterwards."""
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(15000)
        refused: list[str] = []  # what the Content-Security-Policy blocked: it must block none of our own
        page.on("console", lambda message: refused.append(message.text)
                if "Content Security Policy" in message.text else None)
        try:
            yield page
            assert refused == []
        finally:
            browser.close()


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/admin/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def sign_out(page) -> None:
    page.click("form[action$='/admin/logout'] button")
