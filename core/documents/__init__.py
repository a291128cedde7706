"""Documents (资料): files a customer hands in, checked by content, stored content-addressed and encrypted
(:mod:`core.documents.storage`), recorded and attached to a customer, an application or a loan
(:mod:`core.documents.files`), with the kinds and their rules in :mod:`core.documents.kinds`."""
