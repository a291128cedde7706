"""Repayment schedules: terms in, installments out, re-scheduling after a partial prepayment."""

from core.schedule.builders import build_schedule, level_installment
from core.schedule.model import Installment, Schedule
from core.schedule.reschedule import reschedule
from core.schedule.terms import (
    DueDayRule,
    FirstPeriod,
    Frequency,
    GraceType,
    LoanTerms,
    Method,
    RescheduleMode,
)

__all__ = [
    "DueDayRule",
    "FirstPeriod",
    "Frequency",
    "GraceType",
    "Installment",
    "LoanTerms",
    "Method",
    "RescheduleMode",
    "Schedule",
    "build_schedule",
    "level_installment",
    "reschedule",
]
