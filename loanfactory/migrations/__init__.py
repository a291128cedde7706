"""Alembic migrations of the app's schema (``loanfactory db upgrade``)."""
