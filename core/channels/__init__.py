"""Channel plumbing: sales channels and their API keys (:mod:`core.channels.keys`, cached in each process by
:mod:`core.channels.key_cache`), idempotent requests (:mod:`core.channels.idempotency`) and the webhooks
channels subscribe to (:mod:`core.channels.webhooks`). Selling itself is :mod:`core.origination`."""
