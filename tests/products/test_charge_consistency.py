"""``loanfactory products validate`` refuses a product whose charges cannot be printed or charged as printed."""

from __future__ import annotations

import json

from click.testing import CliRunner

from loanfactory.cli import main
from tests.products.helpers import sample


def problems(tmp_path, document) -> list[tuple[str, str]]:
    path = tmp_path / "product.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(main, ["products", "validate", "--json", "--no-plugin-check", str(path)])
    [report] = json.loads(result.output)
    assert (result.exit_code == 0) is report["ok"]
    return [(p["pointer"], p["code"]) for p in report["problems"]]


def test_a_fee_on_the_balance_with_every_installment_is_refused_at_its_basis(tmp_path):
    """The contract books one fixed fee per installment: a fee on the outstanding balance would be quoted
    and printed period by period but never charged so."""
    document = sample("consumer_installment.json")
    document["fees"][0]["basis"] = "percent_of_outstanding"
    assert ("/fees/0/basis", "fee.installment_fee_on_balance") in problems(tmp_path, document)
