"""A form generated from the product JSON Schema, and the document read back from it.

There is no maintained JSON-Schema-to-WTForms library, and we own the subset of keywords the product
schema uses, so the editor is generated here: :func:`build` walks the schema (``$ref`` into ``$defs``,
``properties``/``required``, ``items``, ``enum``, ``type``, ``format``, ``default``, the bilingual
``title``/``x-title-zh`` and ``description``/``x-description-zh``) beside a document and returns a tree
of :class:`Node`. Every input is named by the JSON pointer of its value, so :func:`parse` can rebuild the
document from the posted form and a validation problem's pointer lands on exactly one input. Arrays carry
their length in a hidden ``<pointer>#count`` input; :func:`apply_edit` adds or removes an item.

Fractions (the schema's ``#/$defs/fraction``: rates, caps, loan-to-value, debt-to-income) are typed and
shown as percentages (``18`` with the unit ``%`` for ``"0.18"``) and read back exactly (``Decimal`` shift
by two places, never a float).

Reading back is deliberately lossless rather than clever: an integer field holding ``"12a"`` stays the
string ``"12a"`` so the server-side validator (the only authority) reports it at that field. Empty inputs
are left out; an optional object or array whose inputs are all empty, however deep, is left out too.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from core.products.problems import pointer as make_pointer

MISSING: Any = object()
SKIPPED_PROPERTIES = frozenset({"$schema"})
INTEGER = re.compile(r"^-?[0-9]+$")
#: the schema's fractions, edited as percentages
FRACTION_REF = "#/$defs/fraction"


@dataclass
class Node:
    """One field of the generated form (an object, an array or a single input)."""

    pointer: str
    kind: str  # "object", "array" or "input"
    label: str
    help: str
    required: bool
    schema: dict[str, Any]
    value: Any = None
    children: list[Node] = field(default_factory=list)
    input_type: str = "text"
    options: list[str] = field(default_factory=list)
    index: int | None = None

    @property
    def name(self) -> str:
        return self.pointer

    @property
    def dom_id(self) -> str:
        return "f" + re.sub(r"[^A-Za-z0-9_]", "_", self.pointer)

    def pointers(self) -> set[str]:
        """This node's pointer and all its descendants'."""
        found = {self.pointer}
        for child in self.children:
            found |= child.pointers()
        return found


def resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` with its local ``$ref`` merged in (the referring schema's own keywords win)."""
    merged = dict(schema)
    while "$ref" in merged:
        ref = merged.pop("$ref")
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise ValueError(f"only local references are supported, got {ref!r}")
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        merged = {**target, **merged}
    return merged


def _types(schema: Mapping[str, Any]) -> list[str]:
    kind = schema.get("type", "string")
    return list(kind) if isinstance(kind, list) else [kind]


def _text(schema: Mapping[str, Any], key: str, locale: str, fallback: str = "") -> str:
    if locale.startswith("zh"):
        return str(schema.get(f"x-{key}-zh") or schema.get(key) or fallback)
    return str(schema.get(key) or schema.get(f"x-{key}-zh") or fallback)


def build(schema: Mapping[str, Any], document: Any, *, locale: str = "zh_CN", root: Mapping[str, Any] | None = None,
          at: str = "", required: bool = True, name: str = "", index: int | None = None) -> Node:
    """The form tree for ``document`` (may be partial or wrong) under ``schema``."""
    root = root if root is not None else schema
    resolved = resolve(schema, root)
    kinds = _types(resolved)
    label = _text(resolved, "title", locale, name)
    if index is not None:
        label = f"{label or name} {index + 1}"
    node = Node(pointer=at, kind="input", label=label, help=_text(resolved, "description", locale),
                required=required, schema=resolved, index=index)
    if "object" in kinds:
        node.kind = "object"
        values = document if isinstance(document, Mapping) else {}
        needed = set(resolved.get("required", ()))
        for key, child in resolved.get("properties", {}).items():
            if key in SKIPPED_PROPERTIES:
                continue
            node.children.append(build(child, values.get(key, MISSING), locale=locale, root=root,
                                       at=make_pointer(*_split(at), key), required=key in needed, name=key))
    elif "array" in kinds:
        node.kind = "array"
        items = document if isinstance(document, list) else []
        for i, item in enumerate(items):
            node.children.append(build(resolved.get("items", {}), item, locale=locale, root=root,
                                       at=make_pointer(*_split(at), i), required=True, name=label or name,
                                       index=i))
    else:
        node.value = "" if document is MISSING or document is None else _display(document)
        if schema.get("$ref") == FRACTION_REF:
            node.input_type = "percent"
            node.value = percent_of(node.value)
        elif "enum" in resolved:
            node.input_type = "select"
            node.options = [str(option) for option in resolved["enum"]]
        elif "boolean" in kinds:
            node.input_type = "select"
            node.options = ["true", "false"]
        elif resolved.get("format") == "date":
            node.input_type = "date"
        elif resolved.get("x-expression"):
            node.input_type = "expression"
        elif kinds in (["integer"], ["number"]):
            node.input_type = "number"
    return node


def percent_of(fraction: str) -> str:
    """``"0.1825"`` as ``"18.25"``: the decimal point moved two places, digits kept, so reading it back gives
    the very text stored (text that is not a number is kept for the validator to name)."""
    try:
        value = Decimal(fraction.strip())
    except InvalidOperation:
        return fraction
    return format(value.scaleb(2), "f") if value.is_finite() else fraction


def fraction_of(percent: str) -> str:
    """``"18.25"`` (or ``"18.25%"``) as ``"0.1825"``, exactly; anything else is kept as typed."""
    text = percent.strip().removesuffix("%").strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        return percent
    return format(value.scaleb(-2), "f") if value.is_finite() else percent


def _display(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _split(at: str) -> list[str]:
    if not at:
        return []
    return [part.replace("~1", "/").replace("~0", "~") for part in at.split("/")[1:]]


def parse(schema: Mapping[str, Any], form: Mapping[str, str], *, root: Mapping[str, Any] | None = None,
          at: str = "", required: bool = True) -> Any:
    """The document the posted ``form`` (pointer -> text) describes, :data:`MISSING` for an empty optional."""
    root = root if root is not None else schema
    resolved = resolve(schema, root)
    kinds = _types(resolved)
    if "object" in kinds:
        result: dict[str, Any] = {}
        for key, child in resolved.get("properties", {}).items():
            if key in SKIPPED_PROPERTIES:
                continue
            value = parse(child, form, root=root, at=make_pointer(*_split(at), key),
                          required=key in set(resolved.get("required", ())))
            if value is not MISSING:
                result[key] = value
        return result if required or not _hollow(result) else MISSING
    if "array" in kinds:
        count = _count(form, at)
        item_schema = resolve(resolved.get("items", {}), root)
        scalar_items = not ({"object", "array"} & set(_types(item_schema)))
        values = []
        for i in range(count):
            value = parse(item_schema, form, root=root, at=make_pointer(*_split(at), i), required=not scalar_items)
            if value is not MISSING:
                values.append(value)
        return values if values or required else MISSING
    if schema.get("$ref") == FRACTION_REF:
        text = form.get(at, "")
        return _scalar(kinds, fraction_of(text) if text.strip() else text)
    return _scalar(kinds, form.get(at, ""))


def _hollow(value: Any) -> bool:
    """Whether ``value`` holds no input at all: only objects and arrays, every one of them empty or hollow (the
    required parts of an optional section left blank, such as a loan product's empty ``credit_line``)."""
    if isinstance(value, dict):
        return all(_hollow(v) for v in value.values())
    if isinstance(value, list):
        return all(_hollow(v) for v in value)
    return False


def _count(form: Mapping[str, str], at: str) -> int:
    try:
        return max(int(form.get(at + "#count", "0")), 0)
    except ValueError:
        return 0


def _scalar(kinds: list[str], raw: str) -> Any:
    text = raw.strip()
    if text == "":
        return MISSING
    if kinds == ["boolean"]:
        return {"true": True, "false": False}.get(text, text)
    if kinds == ["integer"]:
        return int(text) if INTEGER.match(text) else text
    if kinds == ["number"]:
        try:
            return Decimal(text)
        except InvalidOperation:
            return text
    return text


def field_label(schema: Mapping[str, Any], at: str, *, locale: str = "zh_CN") -> str:
    """The path to the field at pointer ``at`` in the schema's titles (``期限 › 可选期限``); list items by
    their number (``费用 › 2``)."""
    names: list[str] = []
    node = resolve(schema, schema)
    for part in _split(at):
        if part.isdigit() and "items" in node:
            node = resolve(node["items"], schema)
            names.append(str(int(part) + 1))
            continue
        child = node.get("properties", {}).get(part)
        if child is None:
            names.append(part)
            break
        node = resolve(child, schema)
        names.append(_text(node, "title", locale, part))
    return " › ".join(names)


def describe(schema: Mapping[str, Any], at: str, value: Any, label: Any, *, locale: str = "zh_CN") -> str:
    """``value`` (found at pointer ``at``) as a person reads it: codes through ``label`` (a callable giving
    the code's words), fractions as percentages, objects as ``title: value`` pairs, lists item by item."""
    node = _schema_at(schema, at)
    if isinstance(value, Mapping):
        return "；".join(f"{_text(_schema_at(schema, f'{at}/{k}'), 'title', locale, str(k))}: "
                        f"{describe(schema, f'{at}/{k}', v, label, locale=locale)}" for k, v in value.items())
    if isinstance(value, list):
        return "、".join(describe(schema, f"{at}/{i}", v, label, locale=locale) for i, v in enumerate(value))
    if isinstance(value, bool):
        return str(label("true" if value else "false"))
    text = _display(value)
    if node.get("$ref") == FRACTION_REF:
        shown = percent_of(text)
        return f"{format(Decimal(shown).normalize(), 'f')}%" if shown != text or text == "0" else text
    return str(label(text)) if "enum" in resolve(node, schema) else text


def _schema_at(schema: Mapping[str, Any], at: str) -> dict[str, Any]:
    """The (unresolved, so a ``$ref`` to a fraction still shows) schema of the value at pointer ``at``; for
    an item of a list of plain values, the list's ``items``."""
    node: dict[str, Any] = dict(schema)
    for part in _split(at):
        resolved = resolve(node, schema)
        if "items" in resolved and (part.isdigit() or "properties" not in resolved):
            node = dict(resolved["items"])
        else:
            node = dict(resolved.get("properties", {}).get(part, {}))
    return node


def apply_edit(schema: Mapping[str, Any], document: Any, edit: str) -> Any:
    """``document`` after ``add:<array pointer>`` (a new empty item) or ``remove:<item pointer>``.

    Raises:
        ValueError: the edit is malformed or points nowhere.
    """
    verb, _, target = edit.partition(":")
    document = copy.deepcopy(document)
    parts = _split(target)
    if verb == "add":
        container, _schema = _walk(schema, document, parts, create=True)
        if not isinstance(container, list):
            raise ValueError(f"{target} is not a list")
        item_schema = resolve(_schema.get("items", {}), schema)
        container.append({} if "object" in _types(item_schema) else "")
        return document
    if verb == "remove" and parts:
        container, _schema = _walk(schema, document, parts[:-1], create=False)
        if not isinstance(container, list) or not parts[-1].isdigit() or int(parts[-1]) >= len(container):
            raise ValueError(f"{target} is not an item of a list")
        del container[int(parts[-1])]
        return document
    raise ValueError(f"unknown edit {edit!r}")


def _walk(root: Mapping[str, Any], document: Any, parts: list[str], *, create: bool) -> tuple[Any, dict[str, Any]]:
    """The value at ``parts`` and its schema, creating missing objects and arrays when ``create``."""
    node: Any = document
    schema = resolve(root, root)
    for depth, part in enumerate(parts):
        if isinstance(node, dict):
            child_schema = resolve(schema.get("properties", {}).get(part, {}), root)
            if part not in node:
                if not create:
                    raise ValueError(f"nothing at /{'/'.join(parts[:depth + 1])}")
                node[part] = [] if "array" in _types(child_schema) else {}
            node, schema = node[part], child_schema
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node, schema = node[int(part)], resolve(schema.get("items", {}), root)
        else:
            raise ValueError(f"nothing at /{'/'.join(parts[:depth + 1])}")
    return node, schema


def flatten(node: Node) -> dict[str, str]:
    """What a browser posts for ``node`` untouched: pointer -> text, plus each array's ``#count``."""
    if node.kind == "input":
        return {node.pointer: node.value}
    values: dict[str, str] = {}
    if node.kind == "array":
        values[node.pointer + "#count"] = str(len(node.children))
    for child in node.children:
        values.update(flatten(child))
    return values
