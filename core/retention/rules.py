"""How long each class of record is kept: dated configuration in ``rules.json``.

Each version names its ``effective_from`` day and ``source``; the version in force on a day is the latest that
took effect by then. A class keeps its records ``years`` after either the end of the customer relationship
(``relationship_end``: customer identification and transactions, anti-money-laundering) or the record's own
date (``record_date``: accounting vouchers and ledgers). :func:`keep_until` says the first day a record may go.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from core.errors import InvalidArgumentError

RULES_FILE = Path(__file__).with_name("rules.json")
RELATIONSHIP_END, RECORD_DATE = "relationship_end", "record_date"


@dataclass(frozen=True)
class RetentionRule:
    """Records of ``record_class`` are kept ``years`` after ``counted_from``; ``version`` names the rules."""

    record_class: str
    years: int
    counted_from: str
    version: str

    def keep_until(self, start: date) -> date:
        """The first day a record counted from ``start`` may be purged (29 February runs to 1 March)."""
        try:
            return start.replace(year=start.year + self.years)
        except ValueError:  # 29 February in a year that has none
            return date(start.year + self.years, 3, 1)


@cache
def _versions() -> tuple[tuple[date, str, dict[str, dict[str, object]]], ...]:
    data = json.loads(RULES_FILE.read_text(encoding="utf-8"))
    versions = [(date.fromisoformat(v["effective_from"]), v["source"], v["classes"]) for v in data["versions"]]
    return tuple(sorted(versions, key=lambda version: version[0]))


def rules_in_force(day: date) -> dict[str, RetentionRule]:
    """The rule of every record class on ``day``.

    Raises:
        InvalidArgumentError: no version had taken effect by ``day`` (``as_of``).
    """
    in_force = [version for version in _versions() if version[0] <= day]
    if not in_force:
        raise InvalidArgumentError(f"as_of: no retention rules in force on {day}", field="as_of", value=str(day))
    effective, _source, classes = in_force[-1]
    label = f"retention@{effective.isoformat()}"
    return {name: RetentionRule(name, int(str(rule["years"])), str(rule["counted_from"]), label)
            for name, rule in classes.items()}
