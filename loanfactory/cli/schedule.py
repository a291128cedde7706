"""``loanfactory schedule``: print a repayment schedule with its totals and APR.

Every refusal is one line naming the option at fault, exit status 2: the kernel's
:class:`~core.errors.LoanFactoryError` is re-labelled with the option the user typed (``principal`` ->
``--amount``), and click's own usage errors (a word where a number goes, an unknown method) are turned
into the same one-line form instead of click's usage banner.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Any

import click

from core.daycount import DayCount
from core.errors import InvalidArgumentError, LoanFactoryError
from core.money import parse_money, to_decimal
from core.rounding import Rounding
from core.schedule import DueDayRule, FirstPeriod, Frequency, GraceType, LoanTerms, Method, Schedule, build_schedule
from core.schedule.apr import AprResult, schedule_apr, schedule_document
from loanfactory import clock
from loanfactory.cli.common import echo_json, json_option, parse_date

#: kernel argument -> the option a user typed for it, where the two names differ
KERNEL_TO_OPTION = {"principal": "--amount", "periods": "--term", "start_date": "--start-date"}


def option_for(field: str) -> str:
    """The command-line option for a kernel argument or option name (``annual_rate`` -> ``--annual-rate``)."""
    if field in KERNEL_TO_OPTION:
        return KERNEL_TO_OPTION[field]
    return field if field.startswith("--") else "--" + field.replace("_", "-")


class OneLineErrors(click.Command):
    """A command whose refusals are one line naming the option (exit 2 through the ``main`` group)."""

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as error:
            param = getattr(error, "param", None)
            field = param.opts[0] if param is not None and param.opts else None
            raise InvalidArgumentError(error.format_message(), field=field) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LoanFactoryError as error:
            if not error.field:
                raise
            option = option_for(error.field)
            message = error.message.removeprefix(f"{error.field}: ")
            raise type(error)(f"{option}: {message}", field=option, value=error.value) from None


def _choices(kind: type[StrEnum]) -> click.Choice[str]:
    return click.Choice([m.value for m in kind], case_sensitive=False)


@click.command(cls=OneLineErrors)
@click.option("--amount", required=True, help="Principal paid out in CNY, whole fen, e.g. 1000000.")
@click.option("--annual-rate", required=True, help="Nominal annual rate as a fraction, e.g. 0.049 for 4.9%.")
@click.option("--term", required=True, type=int, help="Number of installments (days for a daily bullet).")
@click.option("--method", default=Method.EQUAL_INSTALLMENT.value, show_default=True, type=_choices(Method))
@click.option("--start-date", default=None, help="Disbursement date, YYYY-MM-DD (default: today).")
@click.option("--frequency", default=Frequency.MONTHLY.value, show_default=True, type=_choices(Frequency))
@click.option("--day-count", default=DayCount.ACT_360.value, show_default=True, type=_choices(DayCount),
              help="Prices broken periods and bullet loans.")
@click.option("--due-day-rule", default=DueDayRule.SAME_DAY.value, show_default=True, type=_choices(DueDayRule))
@click.option("--repayment-day", type=int, default=None,
              help="With fixed_day: day of month 1-31 (monthly, quarterly) or ISO weekday 1-7 (weekly, biweekly).")
@click.option("--first-period", default=FirstPeriod.ACTUAL_DAYS.value, show_default=True,
              type=_choices(FirstPeriod), help="Shape of the irregular first period with fixed_day.")
@click.option("--grace-periods", type=int, default=0, show_default=True)
@click.option("--grace-type", default=GraceType.INTEREST_ONLY.value, show_default=True, type=_choices(GraceType))
@click.option("--fee-per-period", default="0", show_default=True, help="Fee added to each installment.")
@click.option("--upfront-fee", default="0", show_default=True, help="Fee paid at disbursement (counts in the APR).")
@click.option("--rounding", default=Rounding.HALF_UP.value, show_default=True, type=_choices(Rounding))
@json_option
def schedule(amount: str, annual_rate: str, term: int, method: str, start_date: str | None, frequency: str,
             day_count: str, due_day_rule: str, repayment_day: int | None, first_period: str,
             grace_periods: int, grace_type: str, fee_per_period: str, upfront_fee: str, rounding: str,
             as_json: bool) -> None:
    """Print the repayment schedule of a loan, its totals and its APR."""
    terms = LoanTerms(
        principal=parse_money(amount, "amount", positive=True),
        annual_rate=to_decimal(annual_rate, "annual_rate"),
        periods=term,
        start_date=parse_date(start_date, "start_date") if start_date else clock.today(),
        method=Method(method), frequency=Frequency(frequency), day_count=DayCount(day_count),
        due_day_rule=DueDayRule(due_day_rule), repayment_day=repayment_day, first_period=FirstPeriod(first_period),
        grace_periods=grace_periods, grace_type=GraceType(grace_type),
        fee_per_period=parse_money(fee_per_period, "fee_per_period"),
        upfront_fee=parse_money(upfront_fee, "upfront_fee"), rounding=Rounding(rounding),
    )
    result = build_schedule(terms)
    if as_json:
        echo_json(schedule_document(result))
    else:
        click.echo(render_table(result, schedule_apr(result)))


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _periods_per_year(apr: AprResult) -> str:
    ppy = apr.periods_per_year
    return str(int(ppy)) if ppy == ppy.to_integral_value() else f"{ppy:.4f}"


def render_table(result: Schedule, apr: AprResult) -> str:
    """The schedule as a fixed-width text table followed by its totals, APR and effective annual rate."""
    header = ("#", "due date", "principal", "interest", "fee", "total", "remaining")
    rows: list[Sequence[str]] = [header]
    rows += [
        (str(i.period), i.due_date.isoformat(), _money(i.principal), _money(i.interest), _money(i.fee),
         _money(i.total), _money(i.remaining_principal))
        for i in result.installments
    ]
    widths = [max(len(r[c]) for r in rows) for c in range(len(header))]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    summary = [
        ("total principal", _money(result.total_principal)),
        ("total interest", _money(result.total_interest)),
        ("total fees", _money(result.total_fees)),
        ("total payable", _money(result.total_payable)),
        ("APR", f"{apr.apr * 100:.4f}%"),
        ("effective annual", f"{apr.effective_annual_rate * 100:.4f}%"),
    ]
    width = max(len(value) for _label, value in summary)
    lines.append("")
    lines += [f"{label:<18}{value:>{width}}" for label, value in summary]
    lines[-2] += f"  (periodic IRR x {_periods_per_year(apr)})"
    return "\n".join(lines)
