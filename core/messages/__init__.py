"""Borrower messages about their installments: planned from the books, sent in the allowed hours, logged.

* :mod:`.models` — the per-loan message log (what, for when, channel, outcome);
* :mod:`.policy` — the product's ``reminders`` section: reminder days, overdue days, window, daily cap;
* :mod:`.planning` — the messages a business day and a debit's answer call for, written to the log;
* :mod:`.sending` — sending what is due through ``notification_send`` within the window and the cap.

A message is written in the transaction of what causes it (a debit's answer, the due run's planning) and
sent later, in transactions of its own: a notification provider that fails never blocks a repayment.
"""
