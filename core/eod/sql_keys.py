"""The end-of-day's entry keys in SQL, for the set-based paths (:mod:`core.eod.setbased`, :mod:`core.eod.overdue`).

They spell :func:`core.loans.daily.eod_keys` in SQL: ``eod:<date>:<step>:<loan>[:g<generation>]``, the
generation being the loan's replay generation in ``loan_servicing_states`` (0, and no suffix, when it has no
row). Both paths must produce the Python rule's keys exactly, so an entry posts once whichever path closes
the loan.
"""

from __future__ import annotations


def entry_key(step: str) -> str:
    """The select-list SQL ``... AS key`` of a loan's key for ``step``, from columns ``loan_id`` and
    ``generation`` and the bound parameter ``:day`` (the ISO date)."""
    return (f"'eod:' || :day || ':{step}:' || loan_id "
            "|| CASE WHEN generation <> 0 THEN '\\:g' || generation ELSE '' END AS key")


def generation_of(loan: str) -> str:
    """A ``CROSS JOIN LATERAL`` giving the column ``generation`` of the loan whose id is the SQL ``loan``: one
    index probe a row, for the few rows of a day's fees or penalties (the accrual joins the states instead)."""
    return ("CROSS JOIN LATERAL (SELECT COALESCE(max(s.generation), 0) AS generation "
            f"FROM loan_servicing_states s WHERE s.loan_id = {loan}) g")
