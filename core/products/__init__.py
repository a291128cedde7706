"""Loan products as data: the schema, validation, the APR cap proof, versions and their lifecycle.

A product is a JSON document described by ``product_configs/schema/product.schema.json``.
:func:`validate_product` returns every :class:`Problem` (JSON pointer, code, Chinese and English
message): schema first, then the semantic checks, then the APR cap proof. :func:`load_product` returns
a :class:`Product` with typed accessors or raises :class:`InvalidProductError`. Conditions in
eligibility rules and approval steps use the safe expression language of :func:`compile_condition`.
"""

from core.products.expressions import (
    VARIABLES,
    Condition,
    ConditionEvaluationError,
    ExpressionError,
    compile_condition,
)
from core.products.problems import Problem, product_schema
from core.products.product import Fee, Product, Range
from core.products.proof import AprProof, prove_apr_cap
from core.products.references import DEFAULT_ROLES, REQUIRED_HOOKS
from core.products.validate import (
    InvalidProductError,
    Report,
    check_product,
    load_product,
    read_document,
    validate_product,
)

__all__ = [
    "DEFAULT_ROLES",
    "REQUIRED_HOOKS",
    "VARIABLES",
    "AprProof",
    "Condition",
    "ConditionEvaluationError",
    "ExpressionError",
    "Fee",
    "InvalidProductError",
    "Problem",
    "Product",
    "Range",
    "Report",
    "check_product",
    "compile_condition",
    "load_product",
    "product_schema",
    "prove_apr_cap",
    "read_document",
    "validate_product",
]
