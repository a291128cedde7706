"""``reports``: regulatory and management reports read from the books, as CSV and XLSX.

The reporting family of hooks (:mod:`core.plugins.hookspecs`). Three report types:

* ``monthly_statistics`` (月度业务统计, a calendar month): :mod:`.statistics`;
* ``credit_reporting`` (征信报送明细, a calendar month): :mod:`.credit_file`;
* ``five_tier_migration`` (五级分类迁徙矩阵, any period): :mod:`.migration`.

Positions at past dates are rebuilt from installments and the journal by the kernel's rule
(:mod:`core.portfolio.positions`), chunk by chunk (:mod:`.books`), and the statistics are the kernel's
portfolio measures (:mod:`core.portfolio.measures`). Configuration (``PLUGIN_CONFIG["reports"]``):
``classification``, a list of dated five-tier policies
(``core.loans.delinquency.ClassificationPolicy.from_mapping``; default: the 2023 rules), and ``mask_pii``
(mask names and ID numbers in the credit-reporting file; default off, the file is the bureau's). See
docs/reports.md.
"""

from __future__ import annotations

from datetime import date

import click

from core.errors import LoanFactoryError
from core.loans.delinquency import DEFAULT_CLASSIFICATION, ClassificationPolicy
from core.plugins.hookspecs import hookimpl
from core.plugins.types import PluginContext, ReportFile, ReportType
from plugins.reports.credit_file import credit_rows, month_end
from plugins.reports.migration import migration_tables
from plugins.reports.statistics import monthly_statistics
from plugins.reports.writers import report_files

__version__ = "1.0.0"

REPORT_TYPES = (
    ReportType(code="monthly_statistics", title="Monthly business statistics", title_zh="月度业务统计",
               period="month"),
    ReportType(code="credit_reporting", title="Loan-level credit reporting (24-month grid)",
               title_zh="征信报送明细（24 个月还款记录）", period="month"),
    ReportType(code="five_tier_migration", title="Five-tier migration matrix", title_zh="五级分类迁徙矩阵",
               period="range"),
)


class UnknownReportError(LoanFactoryError):
    """The report type is not one this plugin lists (``field`` is ``report_type``)."""


class ReportPeriodError(LoanFactoryError):
    """The period is empty, reversed, or not the whole calendar month a monthly report needs."""


def _policies(context: PluginContext) -> tuple[ClassificationPolicy, ...]:
    configured = context.config.get("classification")
    if not configured:
        return DEFAULT_CLASSIFICATION
    return tuple(ClassificationPolicy.from_mapping(item) for item in configured)


def check_period(report: ReportType, start: date, end: date) -> None:
    """Refuse a reversed period, and anything but a whole calendar month for a monthly report."""
    if end < start:
        raise ReportPeriodError(f"period_end: {end} is before period_start {start}", field="period_end")
    if report.period == "month" and (start.day != 1 or end != month_end(start)):
        raise ReportPeriodError(f"period: {report.code} covers a whole calendar month ({start:%Y-%m-01} to "
                                f"{month_end(start)}), not {start} to {end}", field="period_start")


@hookimpl(trylast=True)
def report_types(context: PluginContext) -> list[ReportType]:
    """The three reports above."""
    return list(REPORT_TYPES)


@hookimpl(trylast=True)
def report_generate(context: PluginContext, report_type: str, period_start: date, period_end: date
                    ) -> list[ReportFile]:
    """Generate ``report_type`` for the period: CSV file(s) and an XLSX workbook of the same figures."""
    report = next((r for r in REPORT_TYPES if r.code == report_type), None)
    if report is None:
        raise UnknownReportError(f"report_type: no report {report_type!r}; this plugin has "
                                 f"{', '.join(r.code for r in REPORT_TYPES)}", field="report_type", value=report_type)
    check_period(report, period_start, period_end)
    policies = _policies(context)
    stem = f"{report.code}_{period_start:%Y%m%d}_{period_end:%Y%m%d}"
    with context.db() as session:
        if report.code == "monthly_statistics":
            tables = [monthly_statistics(session, period_start, period_end, policies)]
        elif report.code == "credit_reporting":
            tables = [credit_rows(session, period_start, period_end, policies,
                                  mask_pii=bool(context.config.get("mask_pii", False)))]
        else:
            tables = list(migration_tables(session, period_start, period_end, policies))
    return report_files(stem, tables)


@hookimpl(trylast=True)
def register_commands(cli: click.Group) -> None:
    """``loanfactory reports``."""
    from plugins.reports.cli import reports

    cli.add_command(reports)
