"""The product definition reference, generated from the schema's own titles and descriptions.

``docs/products.md`` is written by hand except for the part between the markers ``<!-- BEGIN
GENERATED -->`` and ``<!-- END GENERATED -->``: a table per section of the product document (every field
with its type, constraints, whether it is required, and its English and Chinese description) and the
variables of the condition language. :func:`render_reference` returns the page with that part rebuilt,
so a test can fail when the committed page and the schema drift apart.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from core.products.expressions import VARIABLES
from core.products.problems import product_schema

DOCS_PATH = Path(__file__).resolve().parents[2] / "docs" / "products.md"
BEGIN = "<!-- BEGIN GENERATED: run `loanfactory products docs` to refresh -->"
END = "<!-- END GENERATED -->"

Schema = Mapping[str, Any]


def _resolve(node: Schema) -> dict[str, Any]:
    """``node`` with a local ``$ref`` merged in (the node's own keywords win)."""
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return dict(node)
    target = product_schema()["$defs"][ref.rsplit("/", 1)[-1]]
    return {**_resolve(target), **{k: v for k, v in node.items() if k != "$ref"}}


def _kind(node: Schema) -> str:
    if "enum" in node:
        return " | ".join(f"`{v}`" for v in node["enum"])
    kinds = node.get("type", "any")
    text = " or ".join(kinds) if isinstance(kinds, list) else str(kinds)
    if text == "array":
        item = _resolve(node.get("items", {}))
        text = f"array of {_kind(item) if item.get('type') != 'object' else 'objects'}"
    return text


def _limits(node: Schema) -> str:
    parts = []
    for keyword, label in (("minimum", ">="), ("maximum", "<="), ("minLength", "length >="),
                           ("maxLength", "length <="), ("minItems", "items >="), ("maxItems", "items <=")):
        if keyword in node:
            parts.append(f"{label} {node[keyword]}")
    if node.get("uniqueItems"):
        parts.append("unique")
    if "pattern" in node:
        parts.append(f"pattern `{node['pattern']}`")
    if "format" in node:
        parts.append(f"format {node['format']}")
    if "default" in node:
        parts.append(f"default `{node['default']}`")
    if node.get("x-expression"):
        parts.append("condition language")
    return "; ".join(parts)


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _rows(node: Schema, prefix: str) -> Iterator[str]:
    required = set(node.get("required", ()))
    for name, raw in node.get("properties", {}).items():
        child = _resolve(raw)
        path = f"{prefix}{name}"
        en = child.get("description", child.get("title", ""))
        zh = child.get("x-description-zh", child.get("x-title-zh", ""))
        yield (f"| `{path}` | {_cell(_kind(child))} | {'yes' if name in required else ''} | {_cell(_limits(child))} "
               f"| {_cell(en)} | {_cell(zh)} |")
        if child.get("type") == "object" and "properties" in child:
            yield from _rows(child, f"{path}.")
        items = _resolve(child.get("items", {})) if child.get("type") == "array" else {}
        if items.get("type") == "object":
            yield from _rows(items, f"{path}[].")


def generated_section() -> str:
    """The generated part of the reference: the field tables and the condition variables."""
    schema = product_schema()
    lines = [BEGIN, "", f"The document as a whole: {schema['description']}", "", schema["x-description-zh"], ""]
    required = set(schema["required"])
    for name, raw in schema["properties"].items():
        if name == "$schema":
            continue
        node = _resolve(raw)
        lines += [f"### `{name}`: {node.get('title', name)} ({node.get('x-title-zh', '')})", ""]
        lines += [f"{'Required.' if name in required else 'Optional.'} {node.get('description', '')}", "",
                  node.get("x-description-zh", ""), ""]
        table = list(_rows(node, f"{name}.")) if node.get("type") == "object" else []
        items = _resolve(node.get("items", {})) if node.get("type") == "array" else {}
        if items.get("type") == "object":
            table = list(_rows(items, f"{name}[]."))
        elif node.get("type") != "object":
            table = [f"| `{name}` | {_cell(_kind(node))} | {'yes' if name in required else ''} | "
                     f"{_cell(_limits(node))} | {_cell(node.get('description', ''))} | "
                     f"{_cell(node.get('x-description-zh', ''))} |"]
        if table:
            lines += ["| field | type | required | constraints | description | 说明 |",
                      "|---|---|---|---|---|---|", *table, ""]
    lines += ["### Condition variables (条件变量)", "",
              "Conditions may use these variables; the caller supplies their values when it evaluates them.", "",
              "| variable | type | description | 说明 |", "|---|---|---|---|"]
    lines += [f"| `{name}` | {kind.value} | {_cell(en)} | {_cell(zh)} |" for name, (kind, en, zh) in VARIABLES.items()]
    lines += ["", END]
    return "\n".join(lines)


def render_reference(current: str | None = None) -> str:
    """The reference page: ``current`` (default: the committed page) with its generated part rebuilt.

    A page without the markers gets the generated part appended.
    """
    text = current if current is not None else (DOCS_PATH.read_text(encoding="utf-8") if DOCS_PATH.exists() else "")
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        return head + generated_section() + tail
    return text.rstrip("\n") + ("\n\n" if text else "") + generated_section() + "\n"
