"""The configuration reference (``docs/configuration.md``) is generated from ``loanfactory.reference.SETTINGS``
and held to the code: every setting the code reads is listed, every listed one is read, and each listed
default is the one the code falls back to (read from the code's own default arguments and from a fresh app)."""

from __future__ import annotations

import ast
import importlib
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from loanfactory.app import create_app
from loanfactory.reference import SETTINGS, Computed, markdown

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "admin", "core", "loanfactory", "plugins")
NAME = re.compile(r"^[A-Z][A-Z0-9_]{2,}$")
#: keys the code sets for its libraries, not settings anyone configures
INTERNAL = {"BABEL_TRANSLATION_DIRECTORIES", "XDG_CACHE_HOME"}


def _modules() -> list[tuple[str, ast.Module]]:
    found = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts or "tests" in path.parts:
                continue
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            found.append((module, ast.parse(path.read_text(), str(path))))
    return found


def _value(node: ast.expr, module: str) -> object:
    if isinstance(node, ast.Constant):
        return node.value
    return eval(compile(ast.Expression(node), module, "eval"), vars(importlib.import_module(module)))


def _default(node: ast.expr, module: str) -> list[object]:
    """The default a call falls back to, when it is a value of the module (not a local expression)."""
    try:
        return [_value(node, module)]
    except NameError:
        return []


def _key(node: ast.expr, module: str) -> str | None:
    if isinstance(node, ast.Constant | ast.Name | ast.Attribute):
        try:
            value = _value(node, module)
        except Exception:
            return None
        return value if isinstance(value, str) and NAME.match(value) else None
    return None


def read_by_code() -> dict[str, list[object]]:
    """Every setting the code reads, with the defaults it falls back to where a call names one."""
    reads: dict[str, list[object]] = defaultdict(list)
    for module, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = ast.unparse(node.func)
                config_call = func.endswith(("config.get", "config.setdefault")) or func in (
                    "os.environ.get", "_minutes", "schedule_every")
                args = node.args[1:] if func == "_minutes" else node.args[3:] if func == "schedule_every" else node.args
                if config_call and args and (key := _key(args[0], module)):
                    reads[key].extend(_default(args[1], module) if len(args) > 1 else [])
                for keyword in node.keywords:
                    if keyword.arg == "envvar" and isinstance(keyword.value, ast.Constant):
                        reads.setdefault(keyword.value.value, [])
            elif isinstance(node, ast.Subscript) and ast.unparse(node.value).endswith("config"):
                if key := _key(node.slice, module):
                    reads.setdefault(key, [])
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                if node.targets[0].id.endswith(("_KEY", "_ENV")) and (key := _key(node.value, module)):
                    reads.setdefault(key, [])
    return reads


def _same(listed: object, found: object) -> bool:
    if isinstance(listed, bool) or isinstance(found, bool):
        return listed == found
    if isinstance(found, Decimal):
        return Decimal(str(listed)) == found
    if isinstance(listed, int | float) and isinstance(found, int | float | str):
        return float(listed) == float(found)
    if isinstance(listed, tuple | list) and isinstance(found, tuple | list):
        return list(listed) == list(found)
    return listed == found


def test_the_page_is_what_the_settings_generate() -> None:
    assert (ROOT / "docs" / "configuration.md").read_text() == markdown(), \
        "regenerate: python -m loanfactory.reference > docs/configuration.md"


def test_every_setting_the_code_reads_is_listed_and_every_listed_one_is_read() -> None:
    reads = read_by_code()
    listed = {setting.name for setting in SETTINGS}
    assert sorted(set(reads) - listed - INTERNAL) == []
    assert sorted(listed - set(reads)) == []


def test_each_listed_default_is_the_codes(tmp_path) -> None:
    reads = read_by_code()
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/c.sqlite3", "TESTING": True})
    unchecked = []
    for setting in SETTINGS:
        if isinstance(setting.default, Computed) or setting.name in ("TESTING", "DATABASE_URL"):
            continue
        found = list(reads.get(setting.name, []))
        if setting.name in app.config and not setting.env:
            found.append(app.config[setting.name])
        for value in found:
            assert _same(setting.default, value), (setting.name, setting.default, value)
        if not found and setting.default is not None:
            unchecked.append(setting.name)
    assert unchecked == [], "a listed default the code never falls back to"


def test_the_recommended_serving_command_serves_and_adds_up_its_workers_metrics(tmp_path) -> None:
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/serve.sqlite3", "LOANFACTORY_TESTING": "true",
           "GUNICORN_BIND": f"127.0.0.1:{port}", "PYTHONPATH": str(ROOT)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:loanfactory.gunicorn_conf",
                               "loanfactory.app:create_app()"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                    assert answer.status == 200
                    break
            except OSError:
                time.sleep(0.1)
        for _ in range(6):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).close()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
            text = answer.read().decode()
        counted = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                      if line.startswith("loanfactory_http_requests_total{") and 'route="/healthz"' in line)
        assert counted >= 7  # every worker's requests, whichever worker answered the scrape
    finally:
        os.killpg(server.pid, 15)
        server.wait(30)
