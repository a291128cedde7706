"""Prepayment quotes and executions read their body alike: every bad field named, `mode` included."""

import pytest

from tests.api.conftest import Channel, make_api_app, new_key


@pytest.mark.parametrize("path", ["/api/v1/loans/1/prepayment-quotes", "/api/v1/loans/1/prepayments"])
def test_a_prepayment_request_names_every_bad_field(tmp_path, path):
    app = make_api_app(f"sqlite:///{tmp_path}/p.sqlite3")
    channel = Channel(app.test_client(), new_key(app))
    response = channel.post(path, {"amount": "-5", "on": "2026-02-30", "mode": "shorter", "extra": 1})
    assert response.status_code == 422
    pointers = {error["pointer"] for error in response.get_json()["errors"]}
    assert pointers == {"/amount", "/on", "/mode", "/extra"}
