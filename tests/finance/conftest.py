"""Finance fixtures: the servicing ones (every kernel table, a seeded business calendar), finance's tables too."""

from servicing.conftest import books

import core.finance.models  # noqa: F401  (registers gl_chart_versions for the fixtures' create_all)

__all__ = ["books"]
