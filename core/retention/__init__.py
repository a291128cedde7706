"""Retention (档案): how long each class of record is kept, legal holds, and the purge of what has expired."""
