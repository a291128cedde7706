"""Loading versions of the chart of accounts and finding the one in force.

:func:`load_chart` validates a chart document (:func:`core.finance.chart.parse_chart`), refuses a version
that is not newer than the latest loaded one or that takes effect before it, stores it and records the
change in the audit log, all in the caller's transaction. :func:`chart_in_force` returns the version with
the latest ``effective_from`` not after a date, or the shipped chart while none is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.backoffice.audit import record
from core.finance.chart import Chart, InvalidChartError, parse_chart, shipped_chart
from core.finance.models import ChartVersion
from core.products.problems import Problem


def load_chart(session: Session, document: Mapping[str, Any], *, actor: str) -> ChartVersion:
    """Store ``document`` as a new version of the chart, audited as ``chart.load``.

    Raises:
        InvalidChartError: the document has problems, or its version or date does not follow the latest.
    """
    chart = parse_chart(document)
    latest = session.scalars(select(ChartVersion).order_by(ChartVersion.version.desc()).limit(1)).first()
    if latest is not None and chart.version <= latest.version:
        raise InvalidChartError([Problem("/version", "chart.version_order", f"版本号须大于 {latest.version}",
                                         f"version must be greater than the latest loaded, {latest.version}")])
    if latest is not None and chart.effective_from < latest.effective_from:
        raise InvalidChartError([Problem("/effective_from", "chart.effective_order",
                                         f"生效日期不得早于上一版本的 {latest.effective_from}",
                                         f"effective_from must not be before the latest version's "
                                         f"{latest.effective_from}")])
    stored = ChartVersion(version=chart.version, effective_from=chart.effective_from, document=chart.to_json(),
                          loaded_by=actor)
    session.add(stored)
    session.flush()
    record(session, actor=actor, action="chart.load", entity_type="gl_chart", entity_id=chart.version,
           after={"version": chart.version, "effective_from": chart.effective_from, "accounts": len(chart)})
    return stored


def chart_in_force(session: Session, on: date | None = None) -> Chart:
    """The chart in force on ``on`` (default: the latest loaded); the shipped chart when none applies."""
    query = select(ChartVersion).order_by(ChartVersion.effective_from.desc(), ChartVersion.version.desc()).limit(1)
    if on is not None:
        query = query.where(ChartVersion.effective_from <= on)
    stored = session.scalars(query).first()
    return shipped_chart() if stored is None else parse_chart(stored.document)
