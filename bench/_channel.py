"""The channel the API benchmarks play: its product, its key and the requests it sends.

:func:`prepare` readies a database for a channel (the tables, CONSUMER_INSTALLMENT published as shipped, a key
with a limit far above any benchmark's rate); :func:`application` is a new applicant's complete application,
different for each sequence number. Shared by ``bench/api.py`` and ``bench/faults.py``; not a benchmark itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
QUOTE = "/api/v1/products/CONSUMER_INSTALLMENT/quotes"
APPLY = "/api/v1/products/CONSUMER_INSTALLMENT/applications"


def prepare(url: str) -> str:
    """Tables, the product published and a key with a limit far above the benchmark rate."""
    from core.channels.keys import issue_api_key
    from core.products.validate import read_document
    from core.products.versions import create_draft, publish, submit
    from loanfactory.app import create_app
    from loanfactory.database import get_db

    app = create_app({"DATABASE_URL": url, "DEMO": True})
    with app.app_context():
        session = get_db(app).session()
        version = create_draft(session, read_document(ROOT / "product_configs" / "consumer_installment.json"),
                               actor="bench-maker")
        submit(session, version, actor="bench-maker")
        publish(session, version, actor="bench-checker")
        _client, key = issue_api_key(session, "bench", ["*"], rate_limit="1000000/minute")
        session.commit()
    get_db(app).engine.dispose()
    return key


def id_number(sequence: int) -> str:
    """A valid resident ID number, different for each ``sequence``."""
    from stdnum.cn import ric

    first = f"110101{1980 + sequence % 20}0{1 + sequence % 9}1{sequence % 10}{sequence % 1000:03d}"[:17]
    return first + ric.calc_check_digit(first + "0")


def application(sequence: int) -> dict[str, Any]:
    return {"amount": "12000.00", "term": 6, "method": "equal_installment", "purpose": "used_car",
            "applicant": {"name": "压测", "id_number": id_number(sequence), "phone": f"138{sequence % 10**8:08d}",
                          "monthly_income": "20000.00", "monthly_debt_payments": "1000.00", "employment_years": 5,
                          "housing": "own", "occupation": "skilled", "dependants": 1,
                          "bank_account": {"bank_code": "ICBC", "account_number": "6222020200112233445",
                                           "holder_name": "压测"}},
            "consents": {"credit_bureau_query": {"granted_at": "2026-01-10T10:00:00+08:00", "reference": "b-1"},
                         "personal_information": {"granted_at": "2026-01-10T10:00:00+08:00", "reference": "b-2"}}}
