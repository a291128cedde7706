"""Channel SDKs generated from the served documents, as a channel developer would generate them.

A Python client (openapi-python-client) is generated from ``/api/v1/openapi.json`` and drives the whole path
from quote to repayment alone (the bank's settlement callback is the bank's, not the channel's); every
response it receives is also checked against the document (:func:`tests.api.contract.problems_of`).
TypeScript types (openapi-typescript) are generated from the whole document and from a product's, and a
channel's code using them compiles under ``tsc --strict``, where reading a money or rate field as a number
does not. The TypeScript tools are the pinned ones of ``tests/sdk/package.json`` (``.ci/run`` installs them
with ``npm ci``).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask

from tests.api.conftest import (
    PAYMENT_PLUGINS,
    application_body,
    bank_callbacks,
    make_api_app,
    new_key,
    publish_sample,
    to_disbursing,
)
from tests.api.contract import PREFIX, api_document, problems_of
from tests.conftest import IN_CI

SDK_TOOLS = Path(__file__).resolve().parents[1] / "sdk" / "node_modules" / ".bin"
VENV_BIN = Path(sys.executable).parent


def _tool(path: Path, how: str) -> str:
    if path.exists():
        return str(path)
    if IN_CI:
        pytest.fail(f"{path.name} is not installed ({how}); CI=true: this test must run, not skip")
    pytest.skip(f"{path.name} is not installed ({how})")


def _run(*command: str, cwd: Path) -> str:
    environment = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300, env=environment)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


@pytest.fixture
def selling_sqlite(tmp_path: Path) -> Iterator[Flask]:
    app = make_api_app(f"sqlite:///{tmp_path}/sdk.sqlite3", **PAYMENT_PLUGINS)
    publish_sample(app, "consumer_installment")
    yield app
    forget_generated(tmp_path)


def forget_generated(where: Path) -> None:
    """Take a generated package off ``sys.path`` and out of the imported modules."""
    if str(where) in sys.path:
        sys.path.remove(str(where))
    for name in [m for m in sys.modules if m == "channel_sdk" or m.startswith("channel_sdk.")]:
        del sys.modules[name]


def generated_python_client(app: Flask, where: Path) -> Any:
    """The package openapi-python-client generates from the served document, imported (``where`` stays on
    ``sys.path`` for the test: :func:`forget_generated` takes it off)."""
    document = app.test_client().get(PREFIX + "/openapi.json").get_json()
    (where / "openapi.json").write_text(json.dumps(document, ensure_ascii=False))
    generator = _tool(VENV_BIN / "openapi-python-client", "pip install -e '.[dev]'")
    output = _run(generator, "generate", "--path", "openapi.json", "--output-path", "channel_sdk", "--meta", "none",
                  cwd=where)
    assert "Warning" not in output, output
    forget_generated(where)
    sys.path.insert(0, str(where))
    return importlib.import_module("channel_sdk")


def checked_transport(app: Flask) -> httpx.WSGITransport:
    """The app itself behind httpx, each response checked against the document as the test client does."""

    class Checked(httpx.WSGITransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = super().handle_request(request)
            response.read()
            body = response.json() if response.headers.get("content-type", "").endswith("json") else None
            problems = problems_of(api_document(app), request.method, request.url.path[len(PREFIX):],
                                   response.status_code, response.headers.get("content-type", "").split(";")[0],
                                   dict(response.headers), body)
            assert not problems, "\n".join(problems)
            return response

    return Checked(app=app)


def test_a_generated_python_client_alone_takes_a_loan_from_quote_to_repayment(selling_sqlite: Flask,
                                                                              tmp_path: Path) -> None:
    sdk = generated_python_client(selling_sqlite, tmp_path)
    api = importlib.import_module("channel_sdk.api")
    models = importlib.import_module("channel_sdk.models")
    for group in ("products", "applications", "loans"):
        importlib.import_module(f"channel_sdk.api.{group}")
    ops = {name: importlib.import_module(f"channel_sdk.api.{group}.{name}") for group, names in {
        "products": ("create_quote", "get_product"),
        "applications": ("create_application", "accept_offer", "get_contract", "sign_contract", "disburse",
                         "get_application"),
        "loans": ("get_loan", "get_schedule", "repay", "list_repayments", "get_balances")}.items() for name in names}
    assert api is not None
    client = sdk.AuthenticatedClient(base_url="http://channel.test" + PREFIX, token=new_key(selling_sqlite),
                                     httpx_args={"transport": checked_transport(selling_sqlite)})
    code = "CONSUMER_INSTALLMENT"

    product = ops["get_product"].sync(code, client=client)
    assert isinstance(product, models.ProductDetail) and product.version == 1
    quote = ops["create_quote"].sync(code, client=client, body=models.QuoteRequest.from_dict(
        {"amount": "12000.00", "term": 6, "method": "equal_installment"}))
    assert isinstance(quote, models.Quote) and len(quote.installments) == 6
    assert all(isinstance(i.total, str) for i in quote.installments)

    # the payout's first half runs through the generated client; the bank's callback is the bank's own
    steps: dict[str, Any] = {}

    class GeneratedChannel:
        """What :func:`to_disbursing` asks of a channel, answered by the generated client."""

        def post(self, path: str, body: Any = None, **_: Any) -> Any:
            if path.endswith("/applications"):
                made = ops["create_application"].sync(code, client=client, idempotency_key="apply-1",
                                                      body=models.ApplicationRequest.from_dict(body))
                assert isinstance(made, models.Application), made
                assert made.state == models.ApplicationState.APPROVED and made.decision is not None
                steps["application"] = made
                return Answer(made.to_dict())
            application_id = steps["application"].id
            if path.endswith("/acceptance"):
                accepted = ops["accept_offer"].sync(application_id, client=client, idempotency_key="accept-1")
                assert accepted.state == models.ApplicationState.ACCEPTED
                return Answer(accepted.to_dict())
            if path.endswith("/signature"):
                signed = ops["sign_contract"].sync(application_id, client=client, idempotency_key="sign-1",
                                                   body=models.SignatureRequest.from_dict(body))
                assert signed.signed and [s.role.value for s in signed.signatures] == ["borrower", "lender"]
                return Answer(signed.to_dict())
            payout = ops["disburse"].sync_detailed(application_id, client=client, idempotency_key="pay-1")
            assert payout.parsed.state == models.DisbursementState.DISBURSING
            return Answer(payout.parsed.to_dict(), payout.status_code)

        def get(self, path: str, **_: Any) -> Any:
            contract = ops["get_contract"].sync(steps["application"].id, client=client)
            assert len(contract.sha256) == 64 and not contract.signed
            return Answer(contract.to_dict())

    to_disbursing(selling_sqlite, GeneratedChannel(), application_body("12000.00", 6))  # type: ignore[arg-type]
    (callback,) = bank_callbacks(selling_sqlite)
    headers, payload = callback
    assert selling_sqlite.test_client().post(PREFIX + "/callbacks/payments/sandbox_bank", data=payload,
                                             headers=headers).status_code == 200

    application = ops["get_application"].sync(steps["application"].id, client=client)
    assert application.state == models.ApplicationState.DISBURSED and application.loan_id
    loan = ops["get_loan"].sync(application.loan_id, client=client)
    assert loan.state == models.LoanState.ACTIVE and loan.product_version == 1
    schedule = ops["get_schedule"].sync(loan.id, client=client)
    first = schedule.installments[0]
    assert first.total == application.decision.first_installment
    repaid = ops["repay"].sync(loan.id, client=client, idempotency_key="repay-1",
                               body=models.RepaymentRequest.from_dict({"amount": first.total, "paid_on": "2026-03-02"}))
    assert isinstance(repaid, models.Repayment) and repaid.amount == first.total
    assert repaid.allocated.excess == first.total, "before the first due date the money is held as overpayment"
    listed = ops["list_repayments"].sync(loan.id, client=client)
    assert [r.id for r in listed.items] == [repaid.id]
    balances = ops["get_balances"].sync(loan.id, client=client)
    assert balances.overpayment == first.total


class Answer:
    """A response as :func:`to_disbursing` reads it."""

    def __init__(self, body: dict[str, Any], status_code: int = 200) -> None:
        self.body = body
        self.status_code = status_code

    def get_json(self) -> dict[str, Any]:
        return self.body


USES = """import type { components, operations } from "./%(name)s";
type Schemas = components["schemas"];
declare const application: Schemas["Application"];
declare const loan: Schemas["Loan"];
const apr: string | undefined = application.decision?.apr;
const accepted: boolean = application.state === "accepted";
const total: string = loan.links.repayments;
type Quote = operations["createQuote"]["responses"][200]["content"]["application/json"];
declare const quote: Quote;
const first: string = quote.installments[0].total;
// @ts-expect-error a rate is a string, never a number
const wrong: number = application.decision!.apr!;
// @ts-expect-error states are enumerated
const unknown: Schemas["Application"]["state"] = "approved_and_accepted";
export { apr, accepted, total, first, wrong, unknown };
"""


def test_typescript_types_of_both_documents_compile_under_tsc_strict(selling_sqlite: Flask, tmp_path: Path) -> None:
    generate = _tool(SDK_TOOLS / "openapi-typescript", "npm ci --prefix tests/sdk")
    tsc = _tool(SDK_TOOLS / "tsc", "npm ci --prefix tests/sdk")
    files = []
    for name, path in (("api", "/openapi.json"), ("consumer", "/products/CONSUMER_INSTALLMENT/openapi.json")):
        document = selling_sqlite.test_client().get(PREFIX + path).get_json()
        (tmp_path / f"{name}.json").write_text(json.dumps(document, ensure_ascii=False))
        _run(generate, f"{name}.json", "-o", f"{name}.d.ts", cwd=tmp_path)
        (tmp_path / f"use_{name}.ts").write_text(USES % {"name": name})
        files += [f"{name}.d.ts", f"use_{name}.ts"]
    (tmp_path / "tsconfig.json").write_text(json.dumps({"compilerOptions": {
        "strict": True, "noEmit": True, "target": "ES2022", "module": "ES2022", "moduleResolution": "bundler"},
        "files": files}))
    _run(tsc, "-p", "tsconfig.json", cwd=tmp_path)
