"""End-of-day: the batch that closes a business date for every open loan, in order, idempotently.

Only orchestration lives here: the run over dates and partitions (:mod:`core.eod.run`), closing one
partition's loans with the per-loan rule (:mod:`core.eod.partition`), and the set-based SQL that closes the
quiet loans (:mod:`core.eod.setbased`) and the steadily overdue ones (:mod:`core.eod.overdue`) without reading
them into Python. Each SQL path names the rule of :mod:`core.loans` it accelerates, and a test holds the two
equal. The rule itself (accrual, what falls due, penalty, classification, the ledger lines) is
:func:`core.loans.daily.close_day`.
"""

from core.eod.run import EodOrderError, EodReport, Partition, finalize, plan_partitions, run_eod

__all__ = ["EodOrderError", "EodReport", "Partition", "finalize", "plan_partitions", "run_eod"]
