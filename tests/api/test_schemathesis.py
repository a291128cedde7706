"""Schemathesis over the generated OpenAPI document: no 5xx, and every response conforms to it.

One app (SQLite) serves the run, with two products published and a key that may sell them. Every
operation of ``/api/v1/openapi.json`` is driven with generated requests (a bounded number each) through
Hypothesis directly: schemathesis's pytest plugin reads a pytest attribute that pytest 9 removed.
"""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from loanfactory.database import get_db
from tests.api.conftest import PAYMENT_PLUGINS, make_api_app, new_key, publish_sample

EXAMPLES_PER_OPERATION = 4
#: what the document promises: no server error, and statuses, media types, headers and bodies as declared.
#: (``positive_data_acceptance`` is left out: a request can match the schema and still be refused by the
#: rules only the server knows, such as an ID number's check digit or a product's amount step.)
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_headers_conformance, checks.response_schema_conformance]


def test_every_operation_answers_within_its_document(tmp_path: Path) -> None:
    # webhooks off: a generated subscription whose host resolves publicly must never be posted to from a test
    app = make_api_app(f"sqlite:///{tmp_path}/fuzz.sqlite3", API_RATE_LIMIT_ENABLED=False, API_WEBHOOKS_ENABLED=False,
                       **PAYMENT_PLUGINS)
    publish_sample(app, "consumer_installment")
    publish_sample(app, "short_term_bridge")
    publish_sample(app, "sme_business")
    headers = {"X-API-Key": new_key(app)}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def conforms(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        conforms()
    get_db(app).engine.dispose()
