"""The scorecard table as data, and the arithmetic of a score.

The table (``table.json``, written by :mod:`plugins.scorecard.train`) lists, per characteristic, its bins
(numerical: upper bounds, value < bound; categorical: category lists) with points, and the points for a
missing value. A score is the sum of the points, rounded half-up to an integer. Reason codes name the
characteristics that cost the most points: points lost = the characteristic's best bin minus the bin
the applicant fell in; the four largest losses above zero, worst first. The grade is the first band whose
``min_score`` the score reaches (bands were cut at PD 5/10/20/35% on the table's odds scaling).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from core.errors import InvalidArgumentError
from core.plugins.types import ReasonCode, ScoreResult
from plugins.scorecard.mapping import CHARACTERISTICS, Value

TABLE_PATH = Path(__file__).with_name("table.json")
MAX_REASON_CODES = 4
DESCRIPTIONS = {c.name: c.description for c in CHARACTERISTICS}


@dataclass(frozen=True, slots=True)
class Bin:
    """One bin: numerical bins hold ``below`` (``None`` for the last), categorical ones ``categories``."""

    points: Decimal
    below: Decimal | None = None
    categories: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class CharacteristicTable:
    """The bins and points of one characteristic."""

    name: str
    kind: str
    reason_code: str
    bins: tuple[Bin, ...]
    missing_points: Decimal

    @property
    def best(self) -> Decimal:
        return max(b.points for b in self.bins)

    def points_for(self, value: Value) -> Decimal:
        """Points for ``value``; ``None`` or a category the training data never had scores as missing."""
        if value is None:
            return self.missing_points
        if self.kind == "numerical":
            number = Decimal(value)
            return next(b.points for b in self.bins if b.below is None or number < b.below)
        return next((b.points for b in self.bins if value in b.categories), self.missing_points)


@dataclass(frozen=True, slots=True)
class ScorecardTable:
    """A loaded table: characteristics, grade bands and the model version."""

    model_version: str
    characteristics: tuple[CharacteristicTable, ...]
    grades: tuple[tuple[str, int | None], ...]

    def score(self, values: dict[str, Value]) -> ScoreResult:
        """Score one applicant's characteristic values (a key per characteristic)."""
        points = {c.name: c.points_for(values.get(c.name)) for c in self.characteristics}
        total = int(sum(points.values(), Decimal(0)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        losses = sorted(((c.best - points[c.name], c) for c in self.characteristics), key=lambda x: -x[0])
        reasons = tuple(ReasonCode(code=c.reason_code, characteristic=c.name, description=DESCRIPTIONS[c.name],
                                   points_lost=lost) for lost, c in losses[:MAX_REASON_CODES] if lost > 0)
        grade = next(g for g, minimum in self.grades if minimum is None or total >= minimum)
        return ScoreResult(score=total, grade=grade, reason_codes=reasons, model_version=self.model_version,
                           points=points)


@lru_cache(maxsize=8)
def load_table(path: str | Path = TABLE_PATH) -> ScorecardTable:
    """Read and check a table file (cached per path).

    Raises:
        InvalidArgumentError: the file lacks a characteristic the mapping supplies, or a bin is malformed.
    """
    document: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    characteristics = tuple(_characteristic(entry) for entry in document["characteristics"])
    names = {c.name for c in characteristics}
    missing = [c.name for c in CHARACTERISTICS if c.name not in names]
    if missing:
        raise InvalidArgumentError(f"scorecard table {path}: no bins for {', '.join(missing)}", field="table_path")
    grades = tuple((g["grade"], g["min_score"]) for g in document["grades"])
    if grades[-1][1] is not None:
        raise InvalidArgumentError(f"scorecard table {path}: the last grade must have no minimum",
                                   field="table_path")
    return ScorecardTable(model_version=document["model_version"], characteristics=characteristics, grades=grades)


def _characteristic(entry: dict[str, Any]) -> CharacteristicTable:
    if entry["kind"] == "numerical":
        bins = tuple(Bin(points=Decimal(b["points"]), below=None if b["below"] is None else Decimal(b["below"]))
                     for b in entry["bins"])
        if bins[-1].below is not None:
            raise InvalidArgumentError(f"{entry['name']}: the last numerical bin must be open-ended",
                                       field="table_path")
    else:
        bins = tuple(Bin(points=Decimal(b["points"]), categories=frozenset(b["categories"])) for b in entry["bins"])
    return CharacteristicTable(name=entry["name"], kind=entry["kind"], reason_code=entry["reason_code"], bins=bins,
                               missing_points=Decimal(entry["missing_points"]))
