"""Notification templates: ``{variable}`` placeholders, one text per event, locale and channel.

The placeholder syntax is the product schema's (``{name}``, ``{amount}``; ``{{`` and ``}}`` for literal
braces), so a product's own template text and the shipped ones render the same way. The shipped texts
are in ``templates.json`` (event -> locale -> channel -> text); ``PLUGIN_CONFIG["notifications"]
["templates"]`` adds or overrides them in the same shape. Rendering names every missing variable at
once and never leaves a placeholder in a message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from core.errors import InvalidArgumentError
from core.plugins.types import TemplateNotFoundError, TemplateVariableMissingError

TEMPLATES_PATH = Path(__file__).with_name("templates.json")
TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}|[{}]")


@lru_cache(maxsize=1)
def shipped_templates() -> Mapping[str, Any]:
    """The templates that come with the plugin."""
    templates: dict[str, Any] = json.loads(TEMPLATES_PATH.read_text(encoding="utf-8"))
    return templates


def template_text(template: str, locale: str, channel: str, overrides: Mapping[str, Any] | None = None) -> str:
    """The text of event ``template`` for ``locale`` (``zh_CN`` -> ``zh``) and ``channel``.

    Raises:
        TemplateNotFoundError: no such template, or none for this locale or channel.
    """
    language = locale.split("_", 1)[0].lower()
    by_locale = {**shipped_templates().get(template, {}), **(overrides or {}).get(template, {})}
    if not by_locale:
        raise TemplateNotFoundError(f"template: no notification template {template!r}", field="template",
                                    value=template)
    texts = by_locale.get(language)
    if not texts or channel not in texts:
        raise TemplateNotFoundError(f"template: {template!r} has no {language} {channel} text", field="channel",
                                    value=channel)
    text: str = texts[channel]
    return text


def render(text: str, variables: Mapping[str, str], template: str = "text") -> str:
    """``text`` with every ``{variable}`` replaced.

    Raises:
        TemplateVariableMissingError: variables the text uses are not given (``field`` names the first, the
            message names all).
        InvalidArgumentError: a lone ``{`` or ``}`` that is not part of a placeholder.
    """
    missing: list[str] = []
    for match in TOKEN.finditer(text):
        name = match.group(1)
        if match.group(0) in ("{", "}"):
            raise InvalidArgumentError(f"template: {template!r} has a stray {match.group(0)!r} at character "
                                       f"{match.start()}", field="template", value=template)
        if name and name not in variables and name not in missing:
            missing.append(name)
    if missing:
        raise TemplateVariableMissingError(
            f"variables.{missing[0]}: template {template!r} needs {', '.join(missing)}",
            field=f"variables.{missing[0]}", value=missing)

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        return token[0] if token in ("{{", "}}") else str(variables[match.group(1)])

    return TOKEN.sub(replace, text)
