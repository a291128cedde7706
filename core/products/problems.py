"""Problems found in a product definition, and the JSON Schema check that finds the first kind.

A :class:`Problem` names where (an RFC 6901 JSON pointer into the document), what (a stable ``code``
such as ``schema.required`` or ``range.default_out_of_range``) and why, in Chinese and in English. The
validator returns every problem it finds instead of stopping at the first, so an editor can mark every
faulty field at once.

The schema is loaded once (with ``parse_float=Decimal``, so money never passes through a float) and its
:class:`~jsonschema.Draft202012Validator`, with a format checker, is compiled once and cached. jsonschema
speaks English only; :func:`schema_problems` writes the Chinese message from the keyword and its value.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "product_configs" / "schema" / "product.schema.json"


@dataclass(frozen=True, order=True)
class Problem:
    """One fault in a product definition.

    Attributes:
        pointer: JSON pointer of the faulty value (``""`` is the whole document).
        code: stable machine-readable code, ``<family>.<rule>``.
        message_zh: the explanation in Chinese.
        message_en: the explanation in English.
    """

    pointer: str
    code: str
    message_zh: str
    message_en: str

    def as_dict(self) -> dict[str, str]:
        return {"pointer": self.pointer, "code": self.code, "message_zh": self.message_zh,
                "message_en": self.message_en}

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: [{self.code}] {self.message_en} / {self.message_zh}"


def pointer(*parts: str | int) -> str:
    """The JSON pointer to ``parts`` (``pointer("fees", 0, "value") == "/fees/0/value"``), escaped."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def load_json(text: str) -> Any:
    """Parse JSON text with every non-integer number as an exact :class:`~decimal.Decimal`."""
    return json.loads(text, parse_float=Decimal)


def exact_numbers(value: Any) -> Any:
    """``value`` with every ``float`` replaced by the ``Decimal`` of its shortest text (``0.1`` -> ``'0.1'``).

    A document parsed without ``parse_float=Decimal`` (a web framework's JSON body) holds floats; the
    shortest repr of a float parsed from JSON text is that text, so this recovers the decimal the author
    wrote. Nothing else is converted.
    """
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {key: exact_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [exact_numbers(item) for item in value]
    return value


@lru_cache(maxsize=1)
def product_schema() -> dict[str, Any]:
    """The product JSON Schema (draft 2020-12), loaded once."""
    schema: dict[str, Any] = load_json(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


@lru_cache(maxsize=1)
def schema_registry() -> Registry[Any]:
    """A :class:`referencing.Registry` holding the product schema under its ``$id``.

    Other schemas (the channel API's request schemas, an editor's) can ``$ref`` the product schema or
    its ``$defs`` by that URI and validate against this registry.
    """
    schema = product_schema()
    resource: Resource[Any] = Resource.from_contents(schema, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(schema["$id"], resource)
    return registry


@lru_cache(maxsize=1)
def schema_validator() -> Draft202012Validator:
    """The compiled validator of :func:`product_schema`, with format checking on, built once."""
    schema = product_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=schema_registry(),
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def _zh(error: ValidationError) -> str:
    value = error.validator_value
    keyword = str(error.validator)
    messages = {
        "required": "缺少必填项",
        "additionalProperties": "不允许的字段",
        "type": f"类型错误，应为 {_kinds(value)}",
        "enum": f"取值无效，可选值：{', '.join(map(str, value)) if isinstance(value, list) else value}",
        "const": f"取值必须为 {value}",
        "pattern": "格式不符合要求",
        "minimum": f"不得小于 {value}",
        "maximum": f"不得大于 {value}",
        "exclusiveMinimum": f"必须大于 {value}",
        "exclusiveMaximum": f"必须小于 {value}",
        "minLength": f"长度不得少于 {value} 个字符",
        "maxLength": f"长度不得超过 {value} 个字符",
        "minItems": f"至少需要 {value} 项",
        "maxItems": f"最多允许 {value} 项",
        "uniqueItems": "各项不得重复",
        "format": f"不是有效的 {value} 格式",
    }
    return messages.get(keyword, f"不符合模式规则 {keyword}")


def _kinds(value: object) -> str:
    names = {"string": "字符串", "number": "数字", "integer": "整数", "object": "对象", "array": "数组",
             "boolean": "布尔值", "null": "空值"}
    kinds = value if isinstance(value, list) else [value]
    return " 或 ".join(names.get(str(kind), str(kind)) for kind in kinds)


def _missing_or_extra(error: ValidationError) -> Sequence[str]:
    """The property names a ``required`` or ``additionalProperties`` error is about."""
    if error.validator == "required":
        name = error.message.split("'")[1] if "'" in error.message else ""
        return [name]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        return sorted(key for key in error.instance if key not in allowed)
    return []


def schema_problems(document: object) -> list[Problem]:
    """Every schema violation in ``document``, one :class:`Problem` each, ordered by pointer.

    A missing required property or a property that is not allowed is reported at the pointer of that
    property, so an editor can put the message on the field itself.
    """
    found: list[Problem] = []
    for error in schema_validator().iter_errors(document):
        base = list(error.absolute_path)
        names = _missing_or_extra(error)
        code = f"schema.{error.validator}"
        zh = _zh(error)
        if names:
            for name in names:
                en = ("this field is required" if error.validator == "required"
                      else f"the field {name!r} is not allowed here")
                found.append(Problem(pointer(*base, name), code, zh, en))
        else:
            found.append(Problem(pointer(*base), code, zh, error.message))
    return sorted(set(found))


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """``problems`` without duplicates, ordered by pointer then code."""
    return sorted(set(problems))
