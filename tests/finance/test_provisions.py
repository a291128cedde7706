"""Provisions by five-tier class and by expected credit loss, posted as the change from the last provision.

A book on 2026-06-30 of five loans never paid, one per class: 10,000.00 正常 (first due 07-01), 20,000.00
关注 (29 days past due), 10,098.16 次级 (107 days: the audit's loan, which lacks 2,524.54 of specific
provision), 8,000.00 可疑 (302 days), 5,000.00 损失 (364 days). The ratios are the policy's defaults, written
out here: 关注 2%, 次级 25%, 可疑 50%, 损失 100%, general reserve 1% of all principal.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP
from decimal import Decimal as D

import pytest
from servicing.helpers import book, check_books

from core.eod import run_eod
from core.errors import InvalidArgumentError
from core.finance.provision_posting import book_provision, provision_report
from core.finance.provisions import ProvisionPolicy, flow_pd
from core.ledger import accounts as acc
from core.ledger import loan_balances, trial_balance
from core.loans.adjustments import write_off
from core.loans.errors import AmountExceedsOutstandingError, LoanNotServiceableError
from core.loans.models import FiveTier
from core.loans.recovery import recover
from core.portfolio.measures import Portfolio, Slice
from core.portfolio.measures import allowance as allowance_held

DAY = date(2026, 6, 30)
LOANS = {  # class: (principal, start)
    "normal": ("10000.00", date(2026, 6, 1)),
    "special_mention": ("20000.00", date(2026, 5, 1)),
    "substandard": ("10098.16", date(2026, 2, 15)),
    "doubtful": ("8000.00", date(2025, 8, 1)),
    "loss": ("5000.00", date(2025, 6, 1)),
}
RATIOS = {"normal": D(0), "special_mention": D("0.02"), "substandard": D("0.25"), "doubtful": D("0.50"),
          "loss": D(1)}


def fen(amount: D) -> D:
    return amount.quantize(D("0.01"), rounding=ROUND_HALF_UP)


def required(classes: list[str], now_in: dict[str, str] | None = None) -> D:
    """The allowance for the loans of ``classes`` (``now_in``: loans that moved to another class since)."""
    moved = now_in or {}
    specific = sum((fen(D(LOANS[c][0]) * RATIOS[moved.get(c, c)]) for c in classes), D(0))
    return specific + fen(sum((D(LOANS[c][0]) for c in classes), D(0)) * D("0.01"))


def expense(session) -> D:
    rows = {r.account: r for r in trial_balance(session).rows}
    return rows[acc.WRITE_OFF_EXPENSE].debit - rows[acc.WRITE_OFF_EXPENSE].credit


@pytest.fixture
def ids(books):
    made = {c: book(books, principal=p, rate="0.12", start=s, key=f"p-{c}").id for c, (p, s) in LOANS.items()}
    books.commit()
    run_eod(books, DAY)
    books.commit()
    return made


def test_the_five_tier_provision_of_each_class_and_the_general_reserve(books, ids):
    report = provision_report(books, DAY)
    lines = {line.item: line for line in report.five_tier.lines}
    assert lines["substandard"].amount == D("2524.54")
    for tier in FiveTier:
        assert lines[tier.value].base == D(LOANS[tier.value][0])
        assert lines[tier.value].amount == fen(D(LOANS[tier.value][0]) * RATIOS[tier.value])
    assert lines["general"].amount == fen(D("53098.16") * D("0.01")) == D("530.98")
    assert report.five_tier.total == required(list(LOANS)) == D("12455.52")
    assert report.held == 0 and report.coverage.coverage_ratio == 0


def test_a_run_posts_the_change_from_the_last_write_offs_consume_and_recoveries_post_back(books, ids):
    first = book_provision(books, DAY)
    assert (first.change, first.key) == (D("12455.52"), f"provision:{DAY}:0")
    assert book_provision(books, DAY).change == 0                       # nothing changed: nothing posted
    assert allowance_held(books, DAY) == D("12455.52")
    day = DAY + timedelta(days=1)
    owed = loan_balances(books, ids["loss"])
    write_off(books, loan_id=ids["loss"], on=day, key="wo", actor="tests")
    books.commit()
    # the loss loan was on non-accrual: its interest and penalty never were income, so only principal and
    # fee consume the allowance
    assert allowance_held(books, day) == D("12455.52") - owed.principal - owed.fee
    run_eod(books, day)
    books.commit()
    second = book_provision(books, day)
    rest = [c for c in LOANS if c != "loss"]
    assert second.report.chosen.total == required(rest) == D("7405.52")
    assert second.change == required(rest) - (D("12455.52") - D("5000.00")) == D("-50.00")
    later = day + timedelta(days=1)
    assert later == date(2026, 7, 2)
    recover(books, loan_id=ids["loss"], amount="1200.00", on=later, today=later, channel="sandbox_bank",
            key="rec-1", actor="tests")
    run_eod(books, later)
    books.commit()
    third = book_provision(books, later)
    # the 10,000.00 loan missed its 07-01 installment: 1 day past due on 07-02, 关注 (+200.00); the recovery
    # of 1,200.00 is released
    now = required(rest, {"normal": "special_mention"})
    assert now == D("7605.52")
    assert third.change == now - (D("7405.52") + D("1200.00")) == D("-1000.00")
    assert allowance_held(books, later) == now
    assert expense(books) == D("12455.52") - D("50.00") - D("1000.00")
    check_books(books)


def test_a_recovery_takes_no_more_than_was_written_off_and_only_on_a_written_off_loan(books, ids):
    day = DAY + timedelta(days=1)
    with pytest.raises(LoanNotServiceableError) as refused:
        recover(books, loan_id=ids["loss"], amount="1.00", on=day, today=day, channel="sandbox_bank", key="r0",
                actor="tests")
    assert refused.value.field == "loan_id"
    books.rollback()
    event = write_off(books, loan_id=ids["loss"], on=day, key="wo", actor="tests")
    written = D(event.result["written_off"])
    with pytest.raises(AmountExceedsOutstandingError) as too_much:
        recover(books, loan_id=ids["loss"], amount=str(written + D("0.01")), on=day, today=day,
                channel="sandbox_bank", key="r1", actor="tests")
    assert too_much.value.field == "amount"


def portfolio(day: date, counts: dict[str, int]) -> Portfolio:
    return Portfolio(day, {(name, FiveTier.NORMAL): Slice(n, D(n) * 1000) for name, n in counts.items()})


def test_pd_is_the_product_of_the_books_average_flow_rates_to_90_days():
    months = [portfolio(date(2026, 1, 31), {"M0": 100, "M1": 10, "M2": 4, "M3": 2}),
              portfolio(date(2026, 2, 28), {"M0": 100, "M1": 5, "M2": 5, "M3": 2, "M4": 1}),
              portfolio(date(2026, 3, 31), {"M0": 100, "M1": 8, "M2": 1, "M3": 4, "M4": 1})]
    flows = {"M0": (D(5) / 100 + D(8) / 100) / 2, "M1": (D(5) / 10 + D(1) / 5) / 2,
             "M2": (D(2) / 4 + D(4) / 5) / 2, "M3": (D(1) / 2 + D(1) / 2) / 2}
    pd = flow_pd(months)
    assert pd["M3"] == flows["M3"]
    assert pd["M2"] == flows["M2"] * flows["M3"]
    assert pd["M0"] == flows["M0"] * flows["M1"] * flows["M2"] * flows["M3"]
    assert pd["M4"] == pd["M7"] == 1


def test_the_ecl_is_pd_times_lgd_times_ead_by_bucket_with_its_stage(books, ids):
    """With one month of history: on 05-31 the 20,000.00 loan was M0 (first due 06-01), the 10,098.16 loan M3
    (77 days), the others M7; on 06-30 they are M1, M4 and M7, the 10,000.00 loan new in M0. Flow rates: M0
    1/1, M1 and M2 none seen (0), M3 1/1; so PD is 0 for M0 to M2, 1 for M3 and from M4 on."""
    policy = ProvisionPolicy(date(2020, 1, 1), "one month of history", method="ecl", lookback_months=1)
    report = provision_report(books, DAY, (policy,))
    by_bucket = {line.item: line for line in report.ecl.lines}
    assert [by_bucket[b].stage for b in ("M0", "M1", "M2", "M3", "M4", "M7")] == [1, 1, 2, 2, 3, 3]
    assert by_bucket["M0"].amount == by_bucket["M1"].amount == 0
    assert by_bucket["M4"].amount == fen(D("10098.16") * D("0.75")) == D("7573.62")
    assert by_bucket["M7"].amount == fen((D("8000.00") + D("5000.00")) * D("0.75")) == D("9750.00")
    assert report.ecl.total == D("17323.62") and report.chosen is report.ecl
    assert report.five_tier.total == D("12455.52")          # shown beside it
    booked = book_provision(books, DAY, (policy,))
    assert booked.change == D("17323.62")


def test_a_policy_names_the_setting_it_refuses():
    with pytest.raises(InvalidArgumentError) as raised:
        ProvisionPolicy(date(2026, 1, 1), "t", method="guess")
    assert raised.value.field == "provisioning.method"
    with pytest.raises(InvalidArgumentError) as raised:
        ProvisionPolicy(date(2026, 1, 1), "t", lgd=D("1.5"))
    assert raised.value.field == "provisioning.lgd"
    bad = dict(ProvisionPolicy(date(2026, 1, 1), "t").specific)
    bad[FiveTier.DOUBTFUL] = D("-0.1")
    with pytest.raises(InvalidArgumentError) as raised:
        ProvisionPolicy(date(2026, 1, 1), "t", specific=bad)
    assert raised.value.field == "provisioning.specific.doubtful"
