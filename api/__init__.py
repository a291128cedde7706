"""The channel API blueprint under /api/v1."""
