"""The lender's own staff: users, roles and permissions (:mod:`core.backoffice.users`), and the audit log
with its maker-checker change requests (:mod:`core.backoffice.audit`)."""
