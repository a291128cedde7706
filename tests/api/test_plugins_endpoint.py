"""GET /api/v1/plugins lists the installed plugins as `loanfactory plugins` does, filtered by hook."""

from tests.api.conftest import Channel, make_api_app, new_key


def test_plugins_endpoint_lists_the_builtins_with_their_hooks(tmp_path):
    app = make_api_app(f"sqlite:///{tmp_path}/p.sqlite3")
    channel = Channel(app.test_client(), new_key(app))
    body = channel.get("/api/v1/plugins").get_json()
    names = {p["name"]: p for p in body["plugins"]}
    assert {"scorecard", "sandbox_bureau", "sandbox_bank", "local_esign", "reports", "notifications"} <= set(names)
    assert "score_application" in names["scorecard"]["hooks"]
    assert all(p["version"] for p in body["plugins"] if p["enabled"])
    scoring = channel.get("/api/v1/plugins?hook=score_application").get_json()
    assert "scorecard" in {p["name"] for p in scoring["plugins"]}
    assert "sandbox_bank" not in {p["name"] for p in scoring["plugins"]}
    assert all("score_application" in p["hooks"] for p in scoring["plugins"])


def test_plugins_endpoint_names_an_unknown_hook(tmp_path):
    app = make_api_app(f"sqlite:///{tmp_path}/p.sqlite3")
    channel = Channel(app.test_client(), new_key(app))
    response = channel.get("/api/v1/plugins?hook=nope")
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["parameter"] == "hook"


def test_plugins_endpoint_needs_a_key(tmp_path):
    app = make_api_app(f"sqlite:///{tmp_path}/p.sqlite3")
    assert app.test_client().get("/api/v1/plugins").status_code == 401
