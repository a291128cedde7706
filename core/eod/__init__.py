"""End-of-day: close a business date for every open loan, set-based, idempotent, in order."""

from core.eod.models import EodStepRun
from core.eod.run import EodOrderError, EodReport, Partition, finalize, last_closed, plan_partitions, run_eod

__all__ = ["EodOrderError", "EodReport", "EodStepRun", "Partition", "finalize", "last_closed", "plan_partitions",
           "run_eod"]
