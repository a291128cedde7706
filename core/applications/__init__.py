"""Loan applications: what a channel submits and what the decision was."""

from core.applications.models import Application

__all__ = ["Application"]
