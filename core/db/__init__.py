"""Database plumbing: the declarative base and column types, engines and sessions (:mod:`core.db.base`), the
statements run straight on the driver's cursor (:mod:`core.db.driver`), objects written with one Core
statement (:mod:`core.db.direct`), many rows written at once (:mod:`core.db.bulk`), exact sums of money
(:mod:`core.db.sums`), and a PostgreSQL ``LISTEN`` kept in a thread (:mod:`core.db.listener`)."""
