"""Notification templates: ``${variable}`` placeholders (``string.Template``), one text per channel.

The shipped templates are in ``templates.json`` (template -> channel -> text); a deployment adds or
overrides them with ``PLUGIN_CONFIG["notifications"]["templates"]`` in the same shape. Rendering names
every missing variable at once, and never leaves a placeholder in a message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from string import Template

from core.errors import InvalidArgumentError
from core.plugin_types import TemplateNotFoundError, TemplateVariableMissingError

TEMPLATES_PATH = Path(__file__).with_name("templates.json")


@lru_cache(maxsize=1)
def shipped_templates() -> Mapping[str, Mapping[str, str]]:
    """The templates that come with the plugin."""
    templates: dict[str, dict[str, str]] = json.loads(TEMPLATES_PATH.read_text(encoding="utf-8"))
    return templates


def render(template: str, channel: str, variables: Mapping[str, str],
           overrides: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """The text of ``template`` for ``channel`` with ``variables`` filled in.

    Raises:
        TemplateNotFoundError: no such template, or none for this channel.
        TemplateVariableMissingError: the template uses variables not given (``field`` names the first,
            the message names all).
        InvalidArgumentError: the template text itself is malformed (a ``$`` not followed by a name).
    """
    texts = {**shipped_templates().get(template, {}), **(overrides or {}).get(template, {})}
    if not texts:
        raise TemplateNotFoundError(f"template: no notification template {template!r}", field="template",
                                    value=template)
    if channel not in texts:
        raise TemplateNotFoundError(f"template: {template!r} has no {channel} text (has {', '.join(sorted(texts))})",
                                    field="channel", value=channel)
    text = Template(texts[channel])
    if not text.is_valid():
        raise InvalidArgumentError(f"template: {template!r} ({channel}) has a malformed placeholder",
                                   field="template", value=template)
    missing = [name for name in text.get_identifiers() if name not in variables]
    if missing:
        raise TemplateVariableMissingError(
            f"variables.{missing[0]}: template {template!r} needs {', '.join(missing)}",
            field=f"variables.{missing[0]}", value=missing)
    return text.substitute(variables)
