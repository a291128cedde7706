"""CSRF on every form: each POST route of the admin refuses a request without the token, and every
``method="post"`` form of every template carries the token."""

import re
from pathlib import Path

import admin

ARGUMENTS = {"kind": "penalty_waiver", "code": "en"}
FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.S | re.I)


def post_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/admin") and "POST" in (rule.methods or ()):
            values = {name: ARGUMENTS.get(name, 1) for name in rule.arguments}
            yield rule.rule, rule.build(values)[1]


def test_every_admin_post_route_refuses_a_request_without_the_token(app, login):
    client = login("admin")
    routes = list(post_routes(app))
    assert len(routes) > 25
    for rule, url in routes:
        response = client.client.post(url, data={"comment": "x", "reason": "x"})
        assert response.status_code == 400 and b"CSRF" in response.data, rule


def test_every_post_form_of_every_template_carries_the_token():
    templates = Path(admin.__file__).parent / "templates"
    forms = [(path.name, form) for path in templates.rglob("*.html")
             for form in FORM.findall(path.read_text(encoding="utf-8"))
             if re.search(r'method="post"', form, re.I)]
    assert len(forms) > 15
    missing = [name for name, form in forms if "csrf_token" not in form]
    assert missing == []
