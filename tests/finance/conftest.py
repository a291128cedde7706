"""Finance fixtures: the servicing ones (a seeded business calendar), with every table of the app registered."""

from servicing.conftest import books

from loanfactory.models import load_models

load_models()  # finance reads and writes tables of every room (the chart's versions, the audit log)

__all__ = ["books"]
