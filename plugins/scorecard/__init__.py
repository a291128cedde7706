"""``scorecard``: a points scorecard trained on the German credit data, stored as data.

Settings (``PLUGIN_CONFIG["scorecard"]``): ``table_path`` (another trained table; default the shipped
``table.json``), ``amount_scale`` (CNY to German-data amount units, default ``"0.2"``). See
:mod:`plugins.scorecard.mapping` for how our facts become characteristics and :mod:`plugins.scorecard.train`
for how the table is made (``python -m plugins.scorecard.train``).
"""

from __future__ import annotations

from decimal import Decimal

from core.plugins.hookspecs import hookimpl
from core.plugins.types import ApplicantProfile, ApplicationFacts, BureauReport, PluginContext, ScoreResult
from plugins.scorecard.mapping import DEFAULT_AMOUNT_SCALE, characteristic_values
from plugins.scorecard.model import TABLE_PATH, load_table

__version__ = "1.0.0"


@hookimpl(trylast=True)
def score_application(context: PluginContext, application: ApplicationFacts, applicant: ApplicantProfile,
                      bureau_report: BureauReport | None) -> ScoreResult:
    """Score with the trained table; reason codes name the characteristics that cost the most points."""
    table = load_table(str(context.config.get("table_path", TABLE_PATH)))
    scale = Decimal(str(context.config.get("amount_scale", DEFAULT_AMOUNT_SCALE)))
    return table.score(characteristic_values(application, applicant, bureau_report, amount_scale=scale))
