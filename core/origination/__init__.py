"""Origination: the kernel side of selling a loan through a channel.

Channels and their API keys (:mod:`core.origination.channels`), the catalogue of published products as
the channel sees them (:mod:`core.origination.catalog`), quotes (:mod:`core.origination.quotes`), the
application pipeline from eligibility to decision (:mod:`core.origination.pipeline`) with its approval
chain and manual queue (:mod:`core.origination.approval`), and the webhook outbox that records every
state change a channel subscribed to (:mod:`core.origination.webhooks`). Nothing here commits.
"""
