"""Helpers every sub-command shares: date parsing that names the option, JSON output."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import click

from core.errors import InvalidArgumentError


def parse_date(value: str, option: str) -> date:
    """Parse an ISO date, naming ``option`` when the date does not exist."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidArgumentError(f"{option}: {value!r} is not a date that exists (YYYY-MM-DD)",
                                   field=option, value=value) from None


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--json`` (stored as ``as_json``) to a command."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(func)


def echo_json(data: object) -> None:
    """Print ``data`` as indented JSON, Chinese left readable."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))
