"""Every admin page, read in Chinese, shows no English word and no raw code.

The walk opens each screen as a user allowed to see it, on a world with a product in review, a queued
application, a loan with repayments, prepayment quote and requests, and reads the page as a person does:
the visible text (not scripts, not attribute values, not the code samples in ``<code>``/``<pre>`` of the
JSON expert view). Any run of Latin letters there that is not a proper name the system is told to keep
(product codes, user names, units such as CNY and APR, bank codes, IDs) fails the test with the page and
the words, so a status, an enum option, a role name, a flash message or a kernel error shown raw is caught.

The editor's help under each field (``small.form-text``) is the product schema's own bilingual description,
which explains the stored codes on purpose (``individual：自然人``), and a cell marked ``lf-data`` shows
what a user typed (a product's English name is English); both are read, not checked, here.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from admin_helpers import Client, build_world, make_admin_app, sign_in


@pytest.fixture(scope="module")
def shared_app(tmp_path_factory):
    return make_admin_app(f"sqlite:///{tmp_path_factory.mktemp('screens')}/screens.sqlite3")


@pytest.fixture(scope="module")
def world(shared_app):
    return build_world(shared_app)


#: words a Chinese page may show as they are: codes and names, units, standard abbreviations
KEPT = {"CNY", "APR", "IRR", "ID", "PDF", "JSON", "API", "UTC", "SLA", "ACT", "KS", "PSI", "M0", "M1", "M2", "M3",
        "M4", "M5", "M6", "M7", "NPL", "PAR", "OK", "CSV", "ZIP", "SMS", "English", "ICBC", "GB", "PBoC", "v"}
#: text that names things the users created or chose (product codes, user names, plugin names)
NAMES = re.compile(r"^(CASH_TEST|CONSUMER_INSTALLMENT|[A-Z][A-Z0-9_]{2,}|SC\d+|maker|checker|admin|"
                   r"product_manager2?|risk_officer2?|risk_manager|finance|operations|auditor|system|sandbox_\w+|local_esign|scorecard|reports|"
                   r"notifications|offline|example_\w+|loanfactory\w*)$")
WORD = re.compile(r"[A-Za-z][A-Za-z_]+")


class VisibleText(HTMLParser):
    """The text a person reads: skips script, style, code, pre, option values and hidden elements."""

    SKIP = frozenset({"script", "style", "code", "pre", "textarea", "title"})

    def __init__(self) -> None:
        super().__init__()
        self.skipping: list[str] = []  # the tags whose content is skipped, innermost last
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag in self.SKIP or (tag == "small" and "form-text" in classes) or (tag == "td" and "lf-data" in classes):
            self.skipping.append(tag)
        for name, value in attrs:
            if name in ("placeholder", "title") and value and not self.skipping:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def english_words(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    text = " ".join(parser.parts)
    return sorted({w for w in WORD.findall(text) if w not in KEPT and not NAMES.match(w)})


#: (user, page) of every screen the admin has
PAGES = [
    ("product_manager", "/admin/"),
    ("operations", "/admin/"),
    ("product_manager", "/admin/products/"),
    ("product_manager", "/admin/products/new?sample=consumer_installment"),
    ("product_manager2", "/admin/products/{version}"),
    ("product_manager2", "/admin/products/{version}/review"),
    ("risk_officer", "/admin/approvals/"),
    ("risk_officer", "/admin/approvals/{task}"),
    ("operations", "/admin/loans/"),
    ("operations", "/admin/loans/{loan}"),
    ("operations", "/admin/loans/{loan}/prepay/quote?business_date=2026-02-15"),
    ("finance", "/admin/loans/requests"),
    ("finance", "/admin/reports/"),
    ("finance", "/admin/finance/"),
    ("operations", "/admin/customers/"),
    ("operations", "/admin/debits/"),
    ("operations", "/admin/debits/loan/{loan}"),
    ("operations", "/admin/credit_lines/"),
    ("finance", "/admin/credit_lines/requests"),
    ("risk_officer", "/admin/credit_lines/warnings"),
    ("operations", "/admin/calendar/"),
    ("admin", "/admin/plugins/"),
    ("admin", "/admin/users/"),
    ("admin", "/admin/users/{user}/edit"),
    ("admin", "/admin/audit/"),
]


@pytest.fixture(scope="module")
def serviced(shared_app, world):
    """The loan of the world with a repayment, so the loan page shows events, postings and states."""
    ops = Client(shared_app.test_client(), "operations")
    sign_in(ops.client, "operations")
    ops.get(f"/admin/loans/{world['loan']}")
    ops.post(f"/admin/loans/{world['loan']}/repay", {"amount": "900.00", "business_date": "2026-02-15",
                                                     "key": "walk"})
    return world


@pytest.mark.parametrize(("user", "page"), PAGES)
def test_a_page_read_in_chinese_shows_no_english_word_or_raw_code(shared_app, serviced, user, page):
    client = Client(shared_app.test_client(), user)
    assert sign_in(client.client, user).status_code == 302
    response = client.get(page.format(**serviced))
    assert response.status_code == 200, response.text[:300]
    assert english_words(response.text) == []
