"""``loanfactory finance``: month end: provisions, vouchers, statements, reconciliation.

``provisions`` prints the five-tier and the expected-credit-loss allowance side by side for a date, the
allowance the journal holds and the coverage ratios; with ``--post`` it books the change the policy's method
requires (``core.finance.provision_posting``) and commits. ``vouchers`` writes a month's vouchers as CSV or
XLSX in an import layout; ``statements`` prints the balance sheet and income statement; ``reconcile`` lists
every difference between the loan sub-ledger and the GL control accounts (exit 1 if any); ``period`` files and
decides the close or reopening of a month under dual control. Each works on
``DATABASE_URL`` (or ``--database-url``).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.backoffice.audit import ChangeRequest
from core.backoffice.users import User
from core.errors import InvalidArgumentError
from core.finance.period_close import decide_period_change, month_bounds, request_close, request_reopen
from core.finance.provision_posting import book_provision, provision_report
from core.finance.provisions import DEFAULT_PROVISIONING, METHODS, Estimate, provisioning_on
from core.finance.reconciliation import reconcile
from core.finance.statements import StatementRow, balance_sheet, income_statement
from core.finance.vouchers import InvalidLayoutError, read_layout, vouchers, write_csv, write_xlsx
from loanfactory.cli.common import echo_json, json_option
from loanfactory.cli.ledger import _money, _session, database_option
from loanfactory.cli.people import signed_in, user_options


@click.group()
def finance() -> None:
    """Finance's month end: provisions, vouchers, statements, reconciliation, closing the period."""


def _estimate_json(estimate: Estimate) -> dict[str, object]:
    return {"method": estimate.method, "total": str(estimate.total),
            "lines": [{"item": line.item, "stage": line.stage, "loans": line.loans, "base": str(line.base),
                       "rate": str(line.rate), "amount": str(line.amount)} for line in estimate.lines]}


def _ratio(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


@finance.command("provisions")
@click.option("--on", "day", type=click.DateTime(["%Y-%m-%d"]), required=True, help="The date (a month end).")
@click.option("--post", "post_it", is_flag=True, help="Book the change the policy's method requires.")
@click.option("--method", type=click.Choice(METHODS), default=None,
              help="Book this method instead of the one the provisioning policy in force names.")
@database_option
@json_option
def provisions_command(day: datetime, post_it: bool, method: str | None, database_url: str | None,
                       as_json: bool) -> None:
    """Both methods' allowance on --on beside the allowance held (and, with --post, book the change)."""
    policy = provisioning_on(DEFAULT_PROVISIONING, day.date())
    policies = (replace(policy, method=method or policy.method),)
    with _session(database_url) as session:
        if post_it:
            booked = book_provision(session, day.date(), policies)
            session.commit()
            report, change = booked.report, booked.change
        else:
            report, change = provision_report(session, day.date(), policies), None
    if as_json:
        echo_json({"day": report.day.isoformat(), "method": report.policy.method, "held": str(report.held),
                   "five_tier": _estimate_json(report.five_tier), "ecl": _estimate_json(report.ecl),
                   "coverage": _ratio(report.coverage.coverage_ratio),
                   "allowance_to_loans": _ratio(report.coverage.allowance_ratio),
                   "posted": None if change is None else str(change)})
        return
    click.echo(f"provisions on {report.day} (booked method: {report.policy.method})")
    for estimate in (report.five_tier, report.ecl):
        click.echo(f"  {estimate.method}")
        for line in estimate.lines:
            stage = f" stage {line.stage}" if line.stage else ""
            click.echo(f"    {line.item + stage:<24} {line.loans:>8} {_money(line.base):>20} {line.rate:>12} "
                       f"{_money(line.amount):>18}")
        click.echo(f"    {'total':<24} {'':>8} {'':>20} {'':>12} {_money(estimate.total):>18}")
    click.echo(f"  allowance held {_money(report.held)}; 拨备覆盖率 {_ratio(report.coverage.coverage_ratio)}; "
               f"拨贷比 {_ratio(report.coverage.allowance_ratio)}")
    if change is not None:
        click.echo(f"  posted {_money(change)}" if change else "  nothing to post")


def _month(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[date, date]:
    try:
        return month_bounds(value)
    except InvalidArgumentError as error:
        raise click.BadParameter(error.message) from None


@finance.command("vouchers")
@click.option("--month", required=True, callback=_month, metavar="YYYY-MM", help="The month of the vouchers.")
@click.option("--layout", "layout_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The import layout (product_configs/vouchers/kingdee.json, yonyou.json or your own).")
@click.option("--format", "file_format", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The file to write.")
@database_option
def vouchers_command(month: tuple[date, date], layout_path: Path, file_format: str, output: Path,
                     database_url: str | None) -> None:
    """Write the month's vouchers, summarised by day, product and GL code, in an importable layout."""
    try:
        layout = read_layout(layout_path)
    except InvalidLayoutError as error:
        raise click.ClickException(f"{layout_path}: {error}") from None
    with _session(database_url) as session:
        found = vouchers(session, *month)
    if file_format == "csv":
        output.write_text(write_csv(found, layout), encoding="utf-8")
    else:
        output.write_bytes(write_xlsx(found, layout))
    click.echo(f"{len(found)} vouchers, {sum(len(v.lines) for v in found)} lines written to {output}")


@finance.command("statements")
@click.option("--month", required=True, callback=_month, metavar="YYYY-MM", help="The month to report.")
@database_option
@json_option
def statements_command(month: tuple[date, date], database_url: str | None, as_json: bool) -> None:
    """The balance sheet at the month's end and the month's income statement; exit 1 if the sheet does not
    balance."""
    first, last = month
    with _session(database_url) as session:
        sheet, statement = balance_sheet(session, last), income_statement(session, first, last)

    def rows(found: tuple[StatementRow, ...]) -> list[dict[str, str]]:
        return [{"gl_code": r.gl_code, "name_zh": r.name_zh, "amount": str(r.amount)} for r in found]

    if as_json:
        echo_json({"balance_sheet": {"day": last.isoformat(), "assets": rows(sheet.assets),
                                     "liabilities": rows(sheet.liabilities), "equity": rows(sheet.equity),
                                     "result": str(sheet.result), "memo": rows(sheet.memo),
                                     "balanced": sheet.balanced},
                   "income_statement": {"first": first.isoformat(), "last": last.isoformat(),
                                        "income": rows(statement.income), "expense": rows(statement.expense),
                                        "result": str(statement.result)}})
    else:
        click.echo(f"balance sheet at {last}")
        for title, found in (("assets", sheet.assets), ("liabilities", sheet.liabilities), ("equity", sheet.equity),
                             ("off-balance memo", sheet.memo)):
            click.echo(f"  {title}")
            for r in found:
                click.echo(f"    {r.gl_code:<10} {r.name_zh:<24} {_money(r.amount):>20}")
        click.echo(f"  accumulated result {_money(sheet.result)}; total assets {_money(sheet.total_assets)}; "
                   f"liabilities, equity and result {_money(sheet.total_liabilities_and_equity)}")
        click.echo(f"income statement {first} to {last}")
        for r in (*statement.income, *statement.expense):
            click.echo(f"    {r.gl_code:<10} {r.name_zh:<24} {_money(r.amount):>20}")
        click.echo(f"  result {_money(statement.result)}")
    if not sheet.balanced:
        sys.exit(1)


@finance.command("reconcile")
@database_option
@json_option
def reconcile_command(database_url: str | None, as_json: bool) -> None:
    """Reconcile the loan sub-ledger to the GL control accounts; exit 1 listing every difference."""
    with _session(database_url) as session:
        found = reconcile(session).differences
    if as_json:
        echo_json({"differences": [{"product": d.product, "gl_code": d.gl_code, "kernel_account": d.kernel_account,
                                    "sub_ledger": str(d.sub_ledger), "general_ledger": str(d.general_ledger),
                                    "difference": str(d.amount)} for d in found]})
    else:
        for d in found:
            click.echo(f"{d.product or '-'} {d.gl_code} ({d.kernel_account}): sub-ledger {d.sub_ledger} "
                       f"general ledger {d.general_ledger} difference {d.amount}")
        click.echo(f"{len(found)} differences" if found else "the sub-ledger reconciles to the general ledger")
    if found:
        sys.exit(1)


def _acting(session: Session, signed: User) -> User:
    """The signed-in user (:func:`loanfactory.cli.people.signed_in`, which commits its own sign-in record
    before this command's transaction opens) as a row of ``session``."""
    user = session.get(User, signed.id)
    assert user is not None
    return user


@finance.group("period")
def period() -> None:
    """Close or reopen an accounting month: one finance user files, a second decides (audited)."""


@period.command("request-close")
@click.option("--month", required=True, metavar="YYYY-MM")
@user_options
@click.option("--reason", default="")
@database_option
def request_close_command(month: str, username: str, password: str, reason: str, database_url: str | None) -> None:
    """File the close of --month as the signed-in finance user (end-of-day must have closed its last day)."""
    signed = signed_in(database_url, username, password, "period.close.request")
    with _session(database_url) as session:
        change = request_close(session, maker=_acting(session, signed), month=month, reason=reason)
        session.commit()
        click.echo(f"request {change.id}: close {month}, filed by {username}; a second finance user decides it")


@period.command("request-reopen")
@click.option("--month", required=True, metavar="YYYY-MM")
@user_options
@click.option("--reason", required=True, help="Why the closed month must be reopened.")
@database_option
def request_reopen_command(month: str, username: str, password: str, reason: str, database_url: str | None) -> None:
    """File the reopening of closed --month, with its reason, as the signed-in user."""
    signed = signed_in(database_url, username, password, "period.reopen.request")
    with _session(database_url) as session:
        change = request_reopen(session, maker=_acting(session, signed), month=month, reason=reason)
        session.commit()
        click.echo(f"request {change.id}: reopen {month}, filed by {username}; a second user decides it")


@period.command("decide")
@click.argument("request_id", type=int)
@user_options
@click.option("--approve/--reject", required=True)
@click.option("--comment", default="")
@database_option
def decide_command(request_id: int, username: str, password: str, approve: bool, comment: str,
                   database_url: str | None) -> None:
    """Approve (carrying it out) or reject a filed close or reopening, as the signed-in user (never its maker)."""
    with _session(database_url) as session:
        kind = session.scalar(select(ChangeRequest.kind).where(ChangeRequest.id == request_id))
    if kind is None:
        raise click.BadParameter(f"no request {request_id}", param_hint="REQUEST_ID")
    signed = signed_in(database_url, username, password,
                       "period.close.approve" if kind == "period_close" else "period.reopen.approve")
    with _session(database_url) as session:
        change = session.get(ChangeRequest, request_id)
        assert change is not None
        decide_period_change(session, change, checker=_acting(session, signed), approve=approve, comment=comment)
        session.commit()
        click.echo(f"request {request_id} {change.state} by {username}")
