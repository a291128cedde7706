"""Automatic debits (代扣): the authorisation, the product's policy, and the due run that collects by them.

* :mod:`.models` — the authorisation and the debit instructions (one per installment and attempt);
* :mod:`.policy` — the product's ``debit`` section as a record: when each attempt is made;
* :mod:`.authorisations` — stated in the contract, captured at signing, revoked and audited;
* :mod:`.planning` — the due run's set-based step that writes the instructions whose time has come;
* :mod:`.dispatch` — batches to the payment channel (批量代扣), and queries after silent instructions;
* :mod:`.results` — a channel's answer applied once: the ordinary repayment, or the failure.

Nothing here commits: :mod:`loanfactory.tasks.debits` runs the steps, a transaction each.
"""
