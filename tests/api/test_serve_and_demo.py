"""``loanfactory serve --demo`` seeding, and the ``api-keys`` commands."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from api.webhooks import target_policy
from core.backoffice.users import Role, User
from core.channels.keys import ApiClient
from core.channels.targets import TargetPolicy
from loanfactory.cli import main
from loanfactory.database import get_db
from loanfactory.demo import seed_demo
from tests.api.conftest import Channel, make_api_app


def test_the_demo_publishes_the_samples_adds_a_user_per_role_and_a_working_key(tmp_path: Path) -> None:
    app = make_api_app(f"sqlite:///{tmp_path}/demo.sqlite3")
    seed = seed_demo(app)
    assert seed.problems == []
    assert sorted(seed.products) == ["CONSUMER_INSTALLMENT", "HOME_IMPROVEMENT", "REVOLVING_CREDIT_LINE",
                                    "SHORT_TERM_BRIDGE", "SME_BUSINESS"]
    assert {role for _user, _password, role in seed.users} == {r.value for r in Role}
    channel = Channel(app.test_client(), seed.api_key)
    listed = channel.get("/api/v1/products").get_json()["items"]
    assert len(listed) == len(seed.products)
    again = seed_demo(app)
    assert again.products == seed.products and again.api_key != seed.api_key
    with app.app_context():
        session = get_db(app).session()
        assert len(session.scalars(select(User)).all()) == len(Role)
        assert len(session.scalars(select(ApiClient)).all()) == 2


def test_api_keys_are_issued_listed_and_revoked_from_the_command_line(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/keys.sqlite3")
    runner = CliRunner()
    issued = runner.invoke(main, ["api-keys", "issue", "shop-app", "--scope", "CONSUMER_INSTALLMENT"])
    assert issued.exit_code == 0, issued.output
    key = issued.output.split()[0]
    prefix = key.split("_")[1]
    listing = runner.invoke(main, ["api-keys", "list"])
    assert prefix in listing.output and "CONSUMER_INSTALLMENT" in listing.output and "active" in listing.output
    assert runner.invoke(main, ["api-keys", "revoke", prefix]).exit_code == 0
    assert "revoked" in runner.invoke(main, ["api-keys", "list"]).output
    unknown = runner.invoke(main, ["api-keys", "revoke", "nope"])
    assert unknown.exit_code == 2 and "PREFIX" in unknown.output
    bad_channel = runner.invoke(main, ["api-keys", "issue", "no spaces", "--scope", "*"])
    assert bad_channel.exit_code == 2 and "channel" in bad_channel.output


def test_serve_offers_its_options() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--demo", "--host", "--port"):
        assert option in result.output


def test_the_demo_lets_webhooks_go_to_plain_http_and_production_does_not(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    served = []
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/serve.sqlite3")
    monkeypatch.setattr(sys.modules["loanfactory.cli.serve"], "run_simple",
                        lambda _host, _port, app, **_kw: served.append(app))
    for args in (["serve"], ["serve", "--demo"]):
        assert CliRunner().invoke(main, args).exit_code == 0
    policies = []
    for app in served:
        with app.app_context():
            policies.append(target_policy())
        get_db(app).engine.dispose()
    assert policies == [TargetPolicy(allow_http=False), TargetPolicy(allow_http=True)]
