"""Exact sums of money in SQL on both back ends: :class:`exact_sum`.

PostgreSQL sums its ``NUMERIC`` exactly. SQLite keeps amounts as decimal text
(:class:`core.db.base.Amount`) and its ``SUM`` would go through floats, so there the text is parsed into
integer ten-thousandths (the four decimals of ``NUMERIC(20, 4)``), summed as integers and scaled back;
never a float on the way.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

#: SQLite sums amounts in units of 10^-SCALE yuan: the four decimals of NUMERIC(20, 4)
SCALE = 4


class _ExactSumType(TypeDecorator[Decimal]):
    """The result of :class:`exact_sum`: a ``Decimal`` from PostgreSQL's NUMERIC or SQLite's integer units."""

    impl = Numeric(38, SCALE, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Integer())
        return dialect.type_descriptor(Numeric(38, SCALE, asdecimal=True))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal:
        if value is None:
            return Decimal(0)
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-SCALE)
        return Decimal(value)


class exact_sum(FunctionElement[Decimal]):
    """``SUM`` of an :class:`~core.db.base.Amount` column (or a ``CASE`` giving one or ``NULL``), exact on
    every back end (0 when there are no rows).

    Amounts carry at most four decimals (``NUMERIC(20, 4)``); the sum of a column must stay below
    about 9 × 10^14 yuan on SQLite (a 64-bit integer of ten-thousandths).
    """

    type = _ExactSumType()
    inherit_cache = True
    name = "exact_sum"


@compiles(exact_sum)
def _sum_numeric(element: exact_sum, compiler: SQLCompiler, **kw: Any) -> str:
    return f"COALESCE(SUM({compiler.process(element.clauses, **kw)}), 0)"


@compiles(exact_sum, "sqlite")
def _sum_text(element: exact_sum, compiler: SQLCompiler, **kw: Any) -> str:
    text = compiler.process(element.clauses, **kw)
    zeros = "0" * SCALE
    units = (f"CASE WHEN instr({text}, '.') = 0 THEN CAST({text} || '{zeros}' AS INTEGER) "
             f"ELSE CAST(replace({text}, '.', '') || substr('{zeros}', 1, {SCALE} - length({text}) + "
             f"instr({text}, '.')) AS INTEGER) END")
    return f"COALESCE(SUM({units}), 0)"
