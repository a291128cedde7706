"""Finance's view of the books: the lender's chart of accounts and the general ledger mapped onto it.

The kernel's journal (:mod:`core.ledger`) posts to fixed internal accounts; this package maps every line
to the lender's chart (:mod:`core.finance.chart`, versioned in :mod:`core.finance.charts`) through each
product's ``gl_accounts`` (:mod:`core.finance.mapping`) and reads the trial balance by GL code, product
and kernel account (:mod:`core.finance.general_ledger`). Nothing here commits.
"""
