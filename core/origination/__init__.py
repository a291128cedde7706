"""Origination: the kernel side of selling a loan through a channel.

The catalogue of published products as the channel sees them (:mod:`core.origination.catalog`,
:mod:`core.origination.published`), quotes (:mod:`core.origination.quotes`), the application request
(:mod:`core.origination.requests`), the pipeline from eligibility to decision (:mod:`core.origination.pipeline`)
with its approval chain and manual queue (:mod:`core.origination.approval`), the approved offer it records
(:mod:`core.origination.approved`), returns for supplement (:mod:`core.origination.returns`), what lapses
(:mod:`core.origination.expiry`), and booking the accepted offer (:mod:`core.origination.booking`). The
channel plumbing (keys, idempotency, webhooks) is :mod:`core.channels`. Nothing here commits.
"""
