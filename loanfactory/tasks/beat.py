"""Putting a task on Celery beat's schedule from a configured interval (one rule for every periodic task)."""

from __future__ import annotations

from flask import Flask


def schedule_every(app: Flask, entry: str, task: str, setting: str, default_seconds: float) -> None:
    """Run ``task`` as beat entry ``entry`` every ``app.config[setting]`` seconds (``default_seconds`` when
    unset; 0 for never)."""
    seconds = float(app.config.get(setting, default_seconds))
    if not seconds:
        return
    celery = app.extensions["celery"]
    schedule = dict(celery.conf.beat_schedule or {})
    schedule[entry] = {"task": task, "schedule": seconds}
    celery.conf.beat_schedule = schedule
