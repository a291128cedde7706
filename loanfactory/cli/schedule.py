"""``loanfactory schedule``: print a repayment schedule with its totals and APR."""

from __future__ import annotations

from enum import StrEnum

import click

from core.apr import schedule_apr
from core.daycount import DayCount
from core.money import to_decimal
from core.rounding import Rounding
from core.schedule import DueDayRule, Frequency, LoanTerms, Method, Schedule, build_schedule
from core.schedule.terms import FirstPeriod, GraceType
from loanfactory.cli.common import echo_json, json_option, parse_date


def _choices(kind: type[StrEnum]) -> click.Choice[str]:
    return click.Choice([m.value for m in kind])


@click.command()
@click.option("--amount", required=True, help="Principal paid out, e.g. 1000000.")
@click.option("--annual-rate", required=True, help="Nominal annual rate as a fraction, e.g. 0.049.")
@click.option("--term", required=True, type=int, help="Number of installments (days for a daily bullet).")
@click.option("--method", default=Method.EQUAL_INSTALLMENT.value, show_default=True, type=_choices(Method))
@click.option("--start-date", default=None, help="Disbursement date, YYYY-MM-DD (default: today).")
@click.option("--frequency", default=Frequency.MONTHLY.value, show_default=True, type=_choices(Frequency))
@click.option("--day-count", default=DayCount.ACT_360.value, show_default=True, type=_choices(DayCount))
@click.option("--due-day-rule", default=DueDayRule.SAME_DAY.value, show_default=True, type=_choices(DueDayRule))
@click.option("--repayment-day", type=int, default=None, help="Fixed day of month (with fixed_day).")
@click.option("--first-period", default=FirstPeriod.ACTUAL_DAYS.value, show_default=True,
              type=_choices(FirstPeriod))
@click.option("--grace-periods", type=int, default=0, show_default=True)
@click.option("--grace-type", default=GraceType.INTEREST_ONLY.value, show_default=True, type=_choices(GraceType))
@click.option("--fee-per-period", default="0", show_default=True)
@click.option("--upfront-fee", default="0", show_default=True)
@click.option("--rounding", default="half_up", show_default=True,
              type=click.Choice(["half_up", "half_even", "down", "up"]))
@json_option
def schedule(amount: str, annual_rate: str, term: int, method: str, start_date: str | None, frequency: str,
             day_count: str, due_day_rule: str, repayment_day: int | None, first_period: str,
             grace_periods: int, grace_type: str, fee_per_period: str, upfront_fee: str, rounding: str,
             as_json: bool) -> None:
    """Print the repayment schedule of a loan, its totals and its APR."""
    from datetime import date

    terms = LoanTerms(
        principal=to_decimal(amount, "amount"),
        annual_rate=to_decimal(annual_rate, "annual-rate"),
        periods=term,
        start_date=parse_date(start_date, "start-date") if start_date else date.today(),
        method=Method(method), frequency=Frequency(frequency), day_count=DayCount(day_count),
        due_day_rule=DueDayRule(due_day_rule), repayment_day=repayment_day, first_period=FirstPeriod(first_period),
        grace_periods=grace_periods, grace_type=GraceType(grace_type),
        fee_per_period=to_decimal(fee_per_period, "fee-per-period"),
        upfront_fee=to_decimal(upfront_fee, "upfront-fee"), rounding=Rounding(rounding),
    )
    result = build_schedule(terms)
    if as_json:
        echo_json(result.as_dict())
    else:
        click.echo(render_table(result))


COLUMNS = ("period", "due_date", "principal", "interest", "fee", "total", "remaining_principal")


def render_table(result: Schedule) -> str:
    """The schedule as a fixed-width text table followed by its totals and APR."""
    header = ("#", "due date", "principal", "interest", "fee", "total", "remaining")
    rows = [header] + [
        (str(i.period), i.due_date.isoformat(), f"{i.principal:,.2f}", f"{i.interest:,.2f}", f"{i.fee:,.2f}",
         f"{i.total:,.2f}", f"{i.remaining_principal:,.2f}")
        for i in result.installments
    ]
    widths = [max(len(r[c]) for r in rows) for c in range(len(header))]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    apr = schedule_apr(result)
    lines += [
        "",
        f"total principal   {result.total_principal:,.2f}",
        f"total interest    {result.total_interest:,.2f}",
        f"total fees        {result.total_fees:,.2f}",
        f"total payable     {result.total_payable:,.2f}",
        f"APR (IRR x {apr.periods_per_year.normalize()})  {apr.apr * 100:.4f}%",
        f"effective annual  {apr.effective_annual_rate * 100:.4f}%",
    ]
    return "\n".join(lines)
