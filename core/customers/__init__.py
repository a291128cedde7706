"""Customers: the borrowers' files (:mod:`core.customers.parties`) and how their personal data is kept:
encrypted at rest, found by blind indexes, masked on screen (:mod:`core.customers.pii`)."""
