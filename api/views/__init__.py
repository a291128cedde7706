"""The API's view modules; each exposes ``register(bp)`` adding its routes to the blueprint."""
