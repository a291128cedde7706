"""Random sequences of posts, repeats, batches and reversals: after every step the trial balance is zero,
the projection equals the journal, and both equal an independent model of the balances kept by the test."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from books.factories import add_customer, add_loan
from core.ledger import (
    IdempotencyConflictError,
    JournalEntry,
    Line,
    NewEntry,
    ReversalError,
    UnbalancedEntryError,
    cash_clearing,
    compare_projection,
    loan_balances,
    post,
    post_many,
    reverse,
    trial_balance,
)
from core.ledger import accounts as acc

#: bucket of each per-loan account and the sign of a debit on it, written out from the chart's definition
PER_LOAN = {acc.PRINCIPAL_RECEIVABLE: ("principal", 1), acc.INTEREST_RECEIVABLE: ("interest", 1),
            acc.FEE_RECEIVABLE: ("fee", 1), acc.PENALTY_RECEIVABLE: ("penalty", 1),
            acc.OVERPAYMENT_SUSPENSE: ("suspense", -1)}
OTHER = [cash_clearing("sandbox_bank"), cash_clearing("unionpay"), acc.INTEREST_INCOME, acc.FEE_INCOME,
         acc.PENALTY_INCOME, acc.WRITE_OFF_EXPENSE]
ACCOUNTS = [*PER_LOAN, *OTHER]
DAY = date(2026, 4, 1)

amounts = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("50000"), places=4)
raw_line = st.tuples(st.sampled_from(ACCOUNTS), amounts, st.integers(0, 2))


@st.composite
def entry_lines(draw: st.DrawFn) -> tuple[list[tuple[str, Decimal, int]], list[tuple[str, Decimal, int]]]:
    """Debit and credit lines (account, amount, loan index) that balance exactly."""
    debits = draw(st.lists(raw_line, min_size=1, max_size=3))
    credits = draw(st.lists(raw_line, min_size=1, max_size=3))
    gap = sum(a for _, a, _ in debits) - sum(a for _, a, _ in credits)
    filler = (draw(st.sampled_from(ACCOUNTS)), abs(gap), draw(st.integers(0, 2)))
    if gap > 0:
        credits.append(filler)
    elif gap < 0:
        debits.append(filler)
    return debits, credits


operation = st.one_of(
    st.tuples(st.just("post"), entry_lines(), st.integers(0, 2), st.booleans()),
    st.tuples(st.just("batch"), st.lists(entry_lines(), min_size=1, max_size=4), st.integers(0, 2), st.booleans()),
    st.tuples(st.just("repeat"), st.integers(0, 50), st.booleans(), st.just(True)),
    st.tuples(st.just("reverse"), st.integers(0, 50), st.booleans(), st.just(True)),
)


class Books:
    """The test's own model: balances per loan and bucket, total debits, and what each key posted."""

    def __init__(self, loans: list[int]) -> None:
        self.loans = loans
        self.balances: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        self.total = Decimal(0)
        self.posted: dict[str, tuple[str, int, list[Line]]] = {}
        self.reversed: set[str] = set()
        self.reversals: set[str] = set()

    def lines(self, drawn, loan_index: int) -> list[Line]:
        debits, credits = drawn
        loan_of = self.loans
        return ([Line(a, amount, Decimal(0), loan_of[i]) for a, amount, i in debits]
                + [Line(a, Decimal(0), amount, loan_of[i]) for a, amount, i in credits])

    def apply(self, key: str, loan_id: int, lines: list[Line], event: str = "test") -> None:
        self.posted[key] = (event, loan_id, lines)
        for line in lines:
            self.total += line.debit
            if line.account in PER_LOAN:
                bucket, sign = PER_LOAN[line.account]
                self.balances[line.loan_id][bucket] += sign * (line.debit - line.credit)


def check(session, books: Books) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))  # run the deferred balance trigger now
        session.execute(text("SET CONSTRAINTS ALL DEFERRED"))
    report = trial_balance(session)
    assert report.balanced
    assert report.total_debit == books.total
    assert compare_projection(session) == []
    for loan_id in books.loans:
        assert loan_balances(session, loan_id).as_dict() == {
            bucket: books.balances[loan_id][bucket] for bucket in ("principal", "interest", "fee", "penalty",
                                                                   "suspense")}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, min_size=1, max_size=10))
def test_random_ledger_sequences_keep_the_books_balanced(db_session, operations):
    db_session.rollback()
    try:
        customer = add_customer(db_session)
        books = Books([add_loan(db_session, customer).id for _ in range(3)])
        for number, (kind, payload, loan_index, flag) in enumerate(operations):
            key = f"op-{number}"
            loan_id = books.loans[loan_index]
            if kind == "post":
                lines = books.lines(payload, loan_index)
                if not flag:  # make it unbalanced by a hundredth of a fen
                    first = lines[0]
                    lines[0] = Line(first.account, first.debit + Decimal("0.0001") if first.debit else Decimal(0),
                                    first.credit + Decimal("0.0001") if first.credit else Decimal(0), first.loan_id)
                    try:
                        post(db_session, key=key, event="test", business_date=DAY, loan_id=loan_id, lines=lines)
                    except UnbalancedEntryError as error:
                        assert abs(error.residual) == Decimal("0.0001")
                    else:
                        raise AssertionError("an unbalanced entry was accepted")
                else:
                    post(db_session, key=key, event="test", business_date=DAY, loan_id=loan_id, lines=lines)
                    books.apply(key, loan_id, lines)
            elif kind == "batch":
                entries = [NewEntry(f"{key}-{i}", "test", DAY, tuple(books.lines(drawn, loan_index)), loan_id)
                           for i, drawn in enumerate(payload)]
                if flag or not books.posted:
                    result = post_many(db_session, [*entries, entries[0]])
                    assert (result.inserted, result.skipped) == (len(entries), 1)
                    for entry in entries:
                        books.apply(entry.key, loan_id, list(entry.lines))
                else:  # a batch reusing a posted key with other content is refused; its savepoint undoes it all
                    reused = NewEntry(sorted(books.posted)[0], "other", DAY, entries[0].lines, loan_id)
                    savepoint = db_session.begin_nested()
                    try:
                        post_many(db_session, [*entries, reused])
                    except IdempotencyConflictError:
                        savepoint.rollback()
                    else:
                        raise AssertionError("a batch reusing a key with other content was accepted")
            elif kind == "repeat" and books.posted:
                old_key = sorted(books.posted)[payload % len(books.posted)]
                event, old_loan, old_lines = books.posted[old_key]
                if flag:
                    post(db_session, key=old_key, event=event, business_date=DAY, loan_id=old_loan, lines=old_lines)
                else:
                    try:
                        post(db_session, key=old_key, event=event, business_date=date(2026, 4, 2),
                             loan_id=old_loan, lines=old_lines)
                    except IdempotencyConflictError:
                        pass
                    else:
                        raise AssertionError("a reused key with other content was accepted")
            elif kind == "reverse" and books.posted:
                old_key = sorted(books.posted)[payload % len(books.posted)]
                entry = db_session.query(JournalEntry).filter_by(idempotency_key=old_key).one()
                if old_key in books.reversed or old_key in books.reversals:
                    try:
                        reverse(db_session, entry, key=f"{key}-rev")
                    except ReversalError:
                        pass
                    else:
                        raise AssertionError("an entry was reversed twice, or a reversal reversed")
                else:
                    _, old_loan, old_lines = books.posted[old_key]
                    mirror = [Line(x.account, x.credit, x.debit, x.loan_id) for x in old_lines]
                    reverse(db_session, entry, key=f"{key}-rev")
                    books.apply(f"{key}-rev", old_loan, mirror, "reversal")
                    books.reversed.add(old_key)
                    books.reversals.add(f"{key}-rev")
            check(db_session, books)
    finally:
        db_session.rollback()
