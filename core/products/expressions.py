"""The condition language of product definitions: small, typed, and never ``eval``.

Conditions such as ``score < 650 or amount > 50000`` appear in eligibility rules and approval chains.
Their text is tokenised, parsed by recursive descent over the grammar below, type-checked against the
declared variables and compiled into a tree of closures; no Python code is ever generated or evaluated,
so ``__import__('os')`` or ``amount.__class__`` is just a refused token, not a hazard::

    condition  := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := sum [("==" | "!=" | "<" | "<=" | ">" | ">=") sum | ["not"] "in" "[" literal ("," literal)* "]"]
    sum        := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := "-" unary | primary
    primary    := NUMBER | STRING | "true" | "false" | VARIABLE | "(" or_expr ")"

Numbers are :class:`~decimal.Decimal` (``0.1`` is exact); strings are quoted with ``'`` or ``"``. Every
variable has a type (number, string or boolean) from :data:`VARIABLES`; comparing a number with a string
or combining non-booleans with ``and`` is refused when the condition is compiled, not when it runs. An
error carries the character offset where it was found, so a validator can point at it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, DivisionByZero, InvalidOperation
from enum import StrEnum

from core.errors import LoanFactoryError

MAX_LENGTH = 500
MAX_DEPTH = 40


class Type(StrEnum):
    """The type of a value in a condition."""

    NUMBER = "number"
    STRING = "string"
    BOOLEAN = "boolean"


#: variable -> (type, English description, Chinese description); the context an evaluator must supply
VARIABLES: dict[str, tuple[Type, str, str]] = {
    "score": (Type.NUMBER, "credit score from the scoring plugin", "评分"),
    "grade": (Type.STRING, "risk grade from the scoring plugin, e.g. 'A'", "风险等级"),
    "amount": (Type.NUMBER, "requested principal in CNY", "申请金额"),
    "term": (Type.NUMBER, "requested term in the product's term unit", "申请期限"),
    "method": (Type.STRING, "requested repayment method, e.g. 'equal_installment'", "还款方式"),
    "age": (Type.NUMBER, "applicant's age in whole years", "年龄"),
    "dti": (Type.NUMBER, "debt-to-income ratio as a fraction, e.g. 0.45", "负债收入比"),
    "monthly_income": (Type.NUMBER, "declared monthly income in CNY", "月收入"),
    "region": (Type.STRING, "applicant's administrative division code, e.g. '310000'", "地区代码"),
    "customer_type": (Type.STRING, "'individual' or 'enterprise'", "客户类型"),
    "channel": (Type.STRING, "sales channel code", "渠道"),
    "collateral_type": (Type.STRING, "collateral type, '' when none", "抵押物类型"),
    "collateral_value": (Type.NUMBER, "appraised collateral value in CNY, 0 when none", "抵押物评估值"),
    "ltv": (Type.NUMBER, "loan-to-value ratio as a fraction, 0 when no collateral", "抵押率"),
    "existing_loans": (Type.NUMBER, "the applicant's live loans with this lender and applications on their way to one",
                       "在贷笔数（含在途申请）"),
    "outstanding": (Type.NUMBER, "the applicant's outstanding principal with this lender, applications on their way "
                    "included", "在贷余额（含在途申请）"),
    "bureau_inquiries_3m": (Type.NUMBER, "credit-bureau inquiries in the last 3 months", "近3月征信查询次数"),
    "bureau_overdue": (Type.BOOLEAN, "the bureau report shows a current overdue", "征信当前逾期"),
    "blacklisted": (Type.BOOLEAN, "the applicant is on one of the product's blacklists", "命中黑名单"),
}

Value = Decimal | str | bool
Evaluator = Callable[[Mapping[str, object]], Value]


class ExpressionError(LoanFactoryError):
    """A condition cannot be compiled: bad syntax, an unknown variable, mismatched types or too long.

    ``offset`` is the 0-based character position of the fault in the condition's text; ``code`` is the
    problem code a validator reports (``expression.syntax``, ``expression.unknown_variable``,
    ``expression.type``).
    """

    def __init__(self, message: str, *, offset: int, code: str, text: str) -> None:
        super().__init__(f"{message} at character {offset}", field="condition", value=text)
        self.offset = offset
        self.code = code
        self.reason = message


class ConditionEvaluationError(LoanFactoryError):
    """A compiled condition was evaluated with a variable missing or of the wrong type, or divided by 0."""


@dataclass(frozen=True)
class Token:
    kind: str  # number, string, name, op, end
    text: str
    offset: int


_TOKEN = re.compile(
    r"(?P<space>\s+)|(?P<number>[0-9]+(?:\.[0-9]+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<string>'[^'\\]*'|\"[^\"\\]*\")|(?P<op>==|!=|<=|>=|[<>()\[\],+\-*/])"
)
_KEYWORDS = {"and", "or", "not", "in", "true", "false"}
_COMPARISONS = {"==", "!=", "<", "<=", ">", ">="}


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens.

    A character outside the language becomes an ``error`` token rather than an immediate failure, so the
    parser reports faults in reading order (``__import__('os')`` fails on the unknown name first).
    """
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            tokens.append(Token("error", text[position], position))
            break
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append(Token(kind, match.group(), position))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


@dataclass(frozen=True)
class Node:
    """A typed, compiled sub-expression."""

    type: Type
    run: Evaluator
    offset: int
    literal: bool = False


class _Parser:
    def __init__(self, text: str, variables: Mapping[str, Type]) -> None:
        self.text = text
        self.variables = variables
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0
        self.used: set[str] = set()

    # -- helpers -----------------------------------------------------------------------------------
    @property
    def current(self) -> Token:
        token = self.tokens[self.index]
        if token.kind == "error":
            reason = "attribute access is not allowed" if token.text == "." else f"unexpected character {token.text!r}"
            raise self.fail(reason, token.offset)
        return token

    def fail(self, reason: str, offset: int, code: str = "expression.syntax") -> ExpressionError:
        return ExpressionError(reason, offset=offset, code=code, text=self.text)

    def accept(self, text: str) -> Token | None:
        token = self.current
        if token.kind in ("op", "name") and token.text == text:
            self.index += 1
            return token
        return None

    def expect(self, text: str) -> Token:
        token = self.accept(text)
        if token is None:
            raise self.fail(f"expected {text!r}, found {_shown(self.current)}", self.current.offset)
        return token

    def need(self, node: Node, wanted: Type, what: str) -> None:
        if node.type is not wanted:
            raise self.fail(f"{what} needs a {wanted.value}, got a {node.type.value}", node.offset, "expression.type")

    # -- grammar -----------------------------------------------------------------------------------
    def parse(self) -> Node:
        node = self.or_expr()
        if self.current.kind != "end":
            raise self.fail(f"unexpected {self.current.text!r}", self.current.offset)
        self.need(node, Type.BOOLEAN, "a condition")
        return node

    def or_expr(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail("the condition is nested too deeply", self.current.offset)
        node = self.and_expr()
        while (token := self.accept("or")) is not None:
            right = self.and_expr()
            node = self.logical(node, right, token)
        self.depth -= 1
        return node

    def and_expr(self) -> Node:
        node = self.not_expr()
        while (token := self.accept("and")) is not None:
            right = self.not_expr()
            node = self.logical(node, right, token)
        return node

    def logical(self, left: Node, right: Node, token: Token) -> Node:
        self.need(left, Type.BOOLEAN, f"'{token.text}'")
        self.need(right, Type.BOOLEAN, f"'{token.text}'")
        lrun, rrun = left.run, right.run
        if token.text == "or":
            return Node(Type.BOOLEAN, lambda ctx: bool(lrun(ctx)) or bool(rrun(ctx)), left.offset)
        return Node(Type.BOOLEAN, lambda ctx: bool(lrun(ctx)) and bool(rrun(ctx)), left.offset)

    def not_expr(self) -> Node:
        token = self.current
        if token.kind == "name" and token.text == "not":
            self.index += 1
            inner = self.not_expr()
            self.need(inner, Type.BOOLEAN, "'not'")
            run = inner.run
            return Node(Type.BOOLEAN, lambda ctx: not run(ctx), token.offset)
        return self.comparison()

    def comparison(self) -> Node:
        left = self.sum()
        token = self.current
        if token.kind == "op" and token.text in _COMPARISONS:
            self.index += 1
            right = self.sum()
            return self.compare(left, right, token)
        negate = False
        if token.kind == "name" and token.text == "not":
            self.index += 1
            negate = True
            if self.accept("in") is None:
                raise self.fail("expected 'in' after 'not'", self.current.offset)
        elif self.accept("in") is None:
            return left
        members = self.literal_list(left)
        run = left.run
        if negate:
            return Node(Type.BOOLEAN, lambda ctx: run(ctx) not in members, left.offset)
        return Node(Type.BOOLEAN, lambda ctx: run(ctx) in members, left.offset)

    def compare(self, left: Node, right: Node, token: Token) -> Node:
        if left.type is not right.type:
            raise self.fail(f"cannot compare a {left.type.value} with a {right.type.value}", token.offset,
                            "expression.type")
        if token.text not in ("==", "!=") and left.type is not Type.NUMBER:
            raise self.fail(f"'{token.text}' needs numbers", token.offset, "expression.type")
        lrun, rrun = left.run, right.run
        ops: dict[str, Callable[[Value, Value], bool]] = {
            "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
            "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,  # type: ignore[operator]
            ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,  # type: ignore[operator]
        }
        op = ops[token.text]
        return Node(Type.BOOLEAN, lambda ctx: op(lrun(ctx), rrun(ctx)), left.offset)

    def literal_list(self, left: Node) -> frozenset[Value]:
        self.expect("[")
        members: set[Value] = set()
        while True:
            item = self.unary()
            if not item.literal:
                raise self.fail("a list may hold only literal values", item.offset)
            if item.type is not left.type:
                raise self.fail(f"list item is a {item.type.value}, expected a {left.type.value}", item.offset,
                                "expression.type")
            members.add(item.run({}))
            if self.accept(",") is None:
                break
        self.expect("]")
        return frozenset(members)

    def sum(self) -> Node:
        node = self.term()
        while self.current.kind == "op" and self.current.text in ("+", "-"):
            node = self.arithmetic(node, self.current, self.term)
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.current.kind == "op" and self.current.text in ("*", "/"):
            node = self.arithmetic(node, self.current, self.unary)
        return node

    def arithmetic(self, left: Node, token: Token, operand: Callable[[], Node]) -> Node:
        self.index += 1
        right = operand()
        self.need(left, Type.NUMBER, f"'{token.text}'")
        self.need(right, Type.NUMBER, f"'{token.text}'")
        lrun, rrun = left.run, right.run
        symbol = token.text

        def run(ctx: Mapping[str, object]) -> Value:
            a, b = lrun(ctx), rrun(ctx)
            assert isinstance(a, Decimal) and isinstance(b, Decimal)
            if symbol == "+":
                return a + b
            if symbol == "-":
                return a - b
            if symbol == "*":
                return a * b
            if b == 0:
                raise ConditionEvaluationError(f"division by zero at character {token.offset}", field="condition")
            return a / b

        return Node(Type.NUMBER, run, left.offset)

    def unary(self) -> Node:
        token = self.current
        if token.kind == "op" and token.text == "-":
            self.index += 1
            inner = self.unary()
            self.need(inner, Type.NUMBER, "'-'")
            run = inner.run
            if inner.literal:
                value = -_number(run({}))
                return Node(Type.NUMBER, lambda ctx: value, token.offset, literal=True)
            return Node(Type.NUMBER, lambda ctx: -_number(run(ctx)), token.offset)
        return self.primary()

    def primary(self) -> Node:
        token = self.current
        self.index += 1
        if token.kind == "number":
            return self.literal(Type.NUMBER, Decimal(token.text), token)
        if token.kind == "string":
            return self.literal(Type.STRING, token.text[1:-1], token)
        if token.kind == "name" and token.text in ("true", "false"):
            return self.literal(Type.BOOLEAN, token.text == "true", token)
        if token.kind == "name" and token.text not in _KEYWORDS:
            return self.variable(token)
        if token.kind == "op" and token.text == "(":
            node = self.or_expr()
            self.expect(")")
            return Node(node.type, node.run, token.offset)
        raise self.fail(f"expected a value, found {_shown(token)}", token.offset)

    def literal(self, kind: Type, value: Value, token: Token) -> Node:
        return Node(kind, lambda ctx: value, token.offset, literal=True)

    def variable(self, token: Token) -> Node:
        name = token.text
        if name not in self.variables:
            raise self.fail(f"unknown variable {name!r}", token.offset, "expression.unknown_variable")
        kind = self.variables[name]
        self.used.add(name)
        return Node(kind, lambda ctx: _lookup(ctx, name, kind), token.offset)


def _shown(token: Token) -> str:
    return repr(token.text) if token.text else "the end"


def _number(value: Value) -> Decimal:
    assert isinstance(value, Decimal)
    return value


def _lookup(context: Mapping[str, object], name: str, kind: Type) -> Value:
    if name not in context:
        raise ConditionEvaluationError(f"{name}: the condition needs this variable", field=name)
    value = context[name]
    if kind is Type.NUMBER:
        if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
            raise ConditionEvaluationError(f"{name}: expected a number, got {value!r}", field=name, value=value)
        try:
            return Decimal(value)
        except InvalidOperation:
            raise ConditionEvaluationError(f"{name}: {value!r} is not a number", field=name, value=value) from None
    expected = str if kind is Type.STRING else bool
    if not isinstance(value, expected):
        raise ConditionEvaluationError(f"{name}: expected a {kind.value}, got {value!r}", field=name, value=value)
    return value


@dataclass(frozen=True)
class Condition:
    """A compiled condition: call :meth:`evaluate` with a mapping of variable values.

    ``variables`` names the variables the text uses, so a caller can gather only what is needed.
    """

    text: str
    variables: frozenset[str]
    _run: Evaluator

    def evaluate(self, context: Mapping[str, object]) -> bool:
        """Whether the condition holds for ``context``.

        Raises:
            ConditionEvaluationError: a variable it uses is missing or of the wrong type, or a division
                by zero.
        """
        try:
            return bool(self._run(context))
        except (DivisionByZero, InvalidOperation) as error:
            raise ConditionEvaluationError(f"condition {self.text!r}: {error}", field="condition") from None


def compile_condition(text: str, variables: Mapping[str, Type] | None = None) -> Condition:
    """Compile ``text`` into a :class:`Condition` over ``variables`` (default: :data:`VARIABLES`).

    Raises:
        ExpressionError: bad syntax, an unknown variable, a type mismatch, an empty or over-long text;
            ``offset`` says where.
    """
    declared = variables if variables is not None else {name: spec[0] for name, spec in VARIABLES.items()}
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("the condition is empty", offset=0, code="expression.syntax", text=str(text))
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the condition is longer than {MAX_LENGTH} characters", offset=MAX_LENGTH,
                              code="expression.syntax", text=text)
    parser = _Parser(text, declared)
    node = parser.parse()
    return Condition(text, frozenset(parser.used), node.run)
