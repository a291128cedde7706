"""``loanfactory products``: validate files, and drive versions through the database."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from core.backoffice.users import Role, create_user
from core.db.base import Base, make_engine, make_session_factory
from core.products import validate_product
from loanfactory.cli import main
from tests.products.helpers import SAMPLES_DIR, sample

PASSWORD = "a long password 1"


def who(name: str) -> tuple[str, ...]:
    """Sign in as ``name``."""
    return ("--user", name, "--password", PASSWORD)


def people(database_url: str) -> None:
    """The back-office users the commands sign in as: two product managers and a risk manager."""
    engine = make_engine(database_url)
    Base.metadata.create_all(engine)
    with make_session_factory(engine)() as session:
        for name, role in (("maker", Role.PRODUCT_MANAGER), ("ops", Role.PRODUCT_MANAGER),
                           ("checker", Role.RISK_MANAGER), ("auditor", Role.AUDITOR)):
            create_user(session, username=name, password=PASSWORD, roles=[role])
        session.commit()
    engine.dispose()


def invoker(database_url):
    runner = CliRunner()
    people(database_url)

    def invoke(*args: str):
        extra = ["--database-url", database_url] if args[0] not in ("validate", "docs") else []
        return runner.invoke(main, ["products", *args, *extra])

    return invoke


@pytest.fixture
def run(db_url, db_engine):
    """Invoke ``loanfactory products ...`` on a fresh database whose tables exist (as after migrations)."""
    return invoker(db_url)


@pytest.fixture
def run_sqlite(tmp_path):
    """The same on an embedded SQLite file, whose tables the command creates itself."""
    return invoker(f"sqlite:///{tmp_path}/cli.sqlite3")


def write(tmp_path, name, document):
    path = tmp_path / name
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_validate_accepts_the_samples_and_prints_their_worst_case():
    files = [str(p) for p in sorted(SAMPLES_DIR.glob("*.json"))]
    result = CliRunner().invoke(main, ["products", "validate", "--no-plugin-check", *files])
    assert result.exit_code == 0, result.output
    assert "short_term_bridge.json: ok; worst-case APR 0.219000 (cap 0.24) at amount 500.00, term 7" in result.output


def test_validate_prints_every_problem_of_every_file_and_exits_1(tmp_path):
    bad = sample("consumer_installment.json")
    bad["amount"]["default"] = "90000.00"
    bad["approval"][0]["condition"] = "score <"
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    result = CliRunner().invoke(main, ["products", "validate", "--no-plugin-check", write(tmp_path, "bad.json", bad),
                                       str(broken)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].endswith("bad.json: /amount/default: [range.default_out_of_range] amount: default 90000.00 is "
                             "outside [1000.00, 50000.00] / 金额默认值 90000.00 不在 [1000.00, 50000.00] 内")
    assert "bad.json: /approval/0/condition: [expression.syntax] bad condition at character 7" in lines[1]
    assert "broken.json: /: [json.syntax]" in lines[2]


def test_validate_as_json(tmp_path):
    bad = sample("sme_business.json")
    bad["plugins"]["esign"] = "nobody"
    result = CliRunner().invoke(main, ["products", "validate", "--json", write(tmp_path, "bad.json", bad)])
    assert result.exit_code == 1
    [report] = json.loads(result.output)
    assert ("/plugins/esign", "plugin.unknown") in [(p["pointer"], p["code"]) for p in report["problems"]]
    assert report["ok"] is False and report["proof"] is None


def test_import_submit_publish_list_export_and_diff(run, tmp_path):
    path = str(SAMPLES_DIR / "sme_business.json")
    assert run("import", path, *who("maker"), "--submit", "--no-plugin-check").output.endswith(
        "SME_BUSINESS v1 in_review\n")
    refused = run("publish", "SME_BUSINESS", "1", *who("maker"), "--no-plugin-check")
    assert refused.exit_code == 2 and "maker submitted SME_BUSINESS v1 and cannot also approve it" in refused.output
    assert run("publish", "SME_BUSINESS", "1", *who("checker"), "--no-plugin-check").output == \
        "SME_BUSINESS v1 published\n"

    changed = sample("sme_business.json")
    changed["overdue_grace_days"] = 5
    assert run("import", write(tmp_path, "v2.json", changed), *who("maker")).output.endswith(
        "SME_BUSINESS v2 draft\n")
    listing = json.loads(run("list", "--json").output)
    assert [(r["version"], r["status"], r["worst_apr"]) for r in listing] == [(1, "published", "0.204486"),
                                                                                (2, "draft", None)]
    exported = json.loads(run("export", "SME_BUSINESS", "--version", "1").output)
    assert exported["overdue_grace_days"] == 3 and validate_product(exported, prove=False) == []
    assert run("diff", "SME_BUSINESS", "1", "2").output == "/overdue_grace_days  changed: 3 -> 5\n"
    table = run("list").output.splitlines()
    assert table[1].split() == ["SME_BUSINESS", "1", "published", "maker", "checker", "0.204486", "0", "0"]


def test_a_published_version_cannot_be_changed_from_the_cli(run_sqlite):
    run = run_sqlite
    path = str(SAMPLES_DIR / "short_term_bridge.json")
    run("import", path, *who("maker"), "--submit", "--no-plugin-check")
    run("publish", "SHORT_TERM_BRIDGE", "1", *who("checker"), "--no-plugin-check")
    again = run("submit", "SHORT_TERM_BRIDGE", "1", *who("maker"), "--no-plugin-check")
    assert again.exit_code == 2 and "cannot go from 'published' to 'in_review'" in again.output
    # importing the same code never touches the published version: it makes the next draft
    assert run("import", path, *who("maker")).output.endswith("SHORT_TERM_BRIDGE v2 draft\n")
    assert run("clone", "SHORT_TERM_BRIDGE", "1", *who("maker")).output == "SHORT_TERM_BRIDGE v3 draft\n"
    assert run("pause", "SHORT_TERM_BRIDGE", "1", *who("ops"), "--reason", "incident").output == \
        "SHORT_TERM_BRIDGE v1 paused\n"
    assert run("resume", "SHORT_TERM_BRIDGE", "1", *who("ops")).output == "SHORT_TERM_BRIDGE v1 published\n"
    assert run("retire", "SHORT_TERM_BRIDGE", "1", *who("ops"), "--reason", "end").output == \
        "SHORT_TERM_BRIDGE v1 retired\n"
    missing = run("export", "SHORT_TERM_BRIDGE", "--version", "9")
    assert missing.exit_code == 2 and "no version SHORT_TERM_BRIDGE v9" in missing.output


def test_each_person_of_the_maker_checker_signs_in_as_a_real_user(run_sqlite, monkeypatch):
    run = run_sqlite
    path = str(SAMPLES_DIR / "short_term_bridge.json")
    wrong = run("import", path, "--user", "maker", "--password", "guessed", "--submit", "--no-plugin-check")
    assert wrong.exit_code == 2 and "--user: wrong user name or password" in wrong.output
    made_up = run("import", path, *who("somebody"))
    assert made_up.exit_code == 2 and "--user" in made_up.output
    monkeypatch.setenv("LOANFACTORY_PASSWORD", PASSWORD)  # the password from the environment, or asked for
    assert run("import", path, "--user", "maker", "--submit", "--no-plugin-check").exit_code == 0
    not_allowed = run("publish", "SHORT_TERM_BRIDGE", "1", "--user", "auditor", "--no-plugin-check")
    assert not_allowed.exit_code == 2 and "auditor may not product.publish" in not_allowed.output
    assert run("publish", "SHORT_TERM_BRIDGE", "1", "--user", "checker", "--no-plugin-check").output == \
        "SHORT_TERM_BRIDGE v1 published\n"
    listed = run("list").output.splitlines()[1].split()
    assert listed[3:5] == ["maker", "checker"]


def test_docs_check_reports_a_stale_page(tmp_path):
    stale = tmp_path / "products.md"
    stale.write_text("# Products\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["products", "docs", "--check", "--output", str(stale)])
    assert result.exit_code == 1 and "out of date" in result.output
    assert CliRunner().invoke(main, ["products", "docs", "--output", str(stale)]).exit_code == 0
    assert CliRunner().invoke(main, ["products", "docs", "--check", "--output", str(stale)]).exit_code == 0
