"""Tokenizer and recursive-descent parser of the condition language.

The grammar, loosest binding first::

    expr       := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := sum (("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not" "in") sum)*
    sum        := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := "-" unary | primary
    primary    := NUMBER | PERCENT | STRING | DURATION | "true" | "false"
                | NAME | NAME "(" [expr ("," expr)*] ")" | "(" expr ")" | "[" [expr ("," expr)*] "]"

Numbers may end in ``%`` (``10%`` is ``0.1``); durations are an integer and a unit: ``d`` (days),
``w`` (weeks), ``mo`` (months), ``y`` (years). Both are bounded (:mod:`tierflow.expr._bounds`):
a literal out of range is an ``expr.out_of_range`` problem at its column. There is deliberately
no attribute access, no indexing, no lambda and no way to name anything outside the rule set's
own vocabulary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from tierflow.errors import TierflowError
from tierflow.expr._ast import (
    Arith,
    BoolOp,
    Call,
    Compare,
    Const,
    Expr,
    ListExpr,
    Name,
    Neg,
    Not,
)
from tierflow.expr._bounds import MAX_DURATION_DAYS, MAX_DURATION_MONTHS, check_literal
from tierflow.expr._types import Duration

__all__ = ["ExprSyntaxError", "parse"]

MAX_LENGTH = 4_000
"""Longest expression text accepted, in characters."""

MAX_DEPTH = 60
"""Deepest nesting of parentheses, lists, calls and operators accepted."""

KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false"})

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<dur>[0-9]+(?:mo|d|w|y)(?![A-Za-z0-9_]))
  | (?P<num>[0-9](?:_?[0-9])*(?:\.[0-9](?:_?[0-9])*)?(?:[eE][+-]?[0-9]+)?%?)
  | (?P<str>'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|<|>|\+|-|\*|/|\(|\)|\[|\]|,)
    """,
    re.VERBOSE,
)

_MISTAKES = {
    "=": "use '==' to compare",
    "&": "use 'and'",
    "|": "use 'or'",
    "!": "use 'not' (or '!=' to compare)",
    ".": "attribute access is not part of the language; facts are plain names",
    "%": "'%' is only a suffix of numbers, as in 10%",
    "*": "there is no power operator",
    "{": "mappings are not part of the language",
    "?": "there is no conditional operator; use separate conditions",
    ":": "slices and mappings are not part of the language",
}

_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", "'": "'", '"': '"'}


@dataclass
class ExprSyntaxError(TierflowError, ValueError):
    """A problem reading the text at ``pos`` (0-based offset into the expression text).

    ``code`` is ``expr.syntax``, or ``expr.out_of_range`` for a literal outside the bounds. It
    is a :class:`~tierflow.TierflowError` and a ``ValueError``, as :class:`~tierflow.RulesetError`
    is; the compiler reports it as one problem of a ``RulesetError``, with its place in the file.
    """

    pos: int
    message: str
    hint: str = ""
    code: str = "expr.syntax"

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    pos: int


def _unescape(body: str, pos: int) -> str:
    out = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            nxt = body[i + 1]
            if nxt not in _ESCAPES:
                raise ExprSyntaxError(pos + i + 1, f"unknown escape '\\{nxt}' in string")
            out.append(_ESCAPES[nxt])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos = 0
    while pos < len(text):
        two = text[pos : pos + 2]
        m = None if two == "**" else _TOKEN.match(text, pos)  # not two '*' operators
        if m is None:
            ch = text[pos]
            if two in ("&&", "||", "**"):
                hint = {"&&": "use 'and'", "||": "use 'or'", "**": "there is no power operator"}
                raise ExprSyntaxError(pos, f"unexpected {two!r}", hint[two])
            if ch in "'\"":
                raise ExprSyntaxError(pos, "unterminated string", "close it on the same line")
            raise ExprSyntaxError(pos, f"unexpected character {ch!r}", _MISTAKES.get(ch, ""))
        kind = m.lastgroup or ""
        if kind != "ws":
            toks.append(_Tok(kind, m.group(), pos))
        pos = m.end()
    toks.append(_Tok("eof", "", len(text)))
    return toks


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokenize(text)
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def at(self, *texts: str) -> bool:
        t = self.tok
        return t.kind in ("op", "name") and t.text in texts

    def advance(self) -> _Tok:
        t = self.tok
        self.i += 1
        return t

    def expect(self, text: str, opening: _Tok) -> _Tok:
        if not self.at(text):
            got = "the end" if self.tok.kind == "eof" else repr(self.tok.text)
            raise ExprSyntaxError(
                self.tok.pos,
                f"expected {text!r} to close {opening.text!r} at column {opening.pos + 1}, "
                f"found {got}",
            )
        return self.advance()

    def enter(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprSyntaxError(pos, f"expression nested deeper than {MAX_DEPTH} levels")

    def parse(self) -> Expr:
        node = self.or_expr()
        if self.tok.kind != "eof":
            t = self.tok
            hint = "join conditions with 'and' or 'or'" if t.kind in ("name", "num", "str") else ""
            raise ExprSyntaxError(t.pos, f"unexpected {t.text!r} after a complete expression", hint)
        return node

    def or_expr(self) -> Expr:
        first = self.and_expr()
        values = [first]
        while self.at("or"):
            self.advance()
            values.append(self.and_expr())
        return first if len(values) == 1 else BoolOp(first.pos, "or", values)

    def and_expr(self) -> Expr:
        first = self.not_expr()
        values = [first]
        while self.at("and"):
            self.advance()
            values.append(self.not_expr())
        return first if len(values) == 1 else BoolOp(first.pos, "and", values)

    def not_expr(self) -> Expr:
        if self.at("not"):
            t = self.advance()
            self.enter(t.pos)
            node = Not(t.pos, self.not_expr())
            self.depth -= 1
            return node
        return self.comparison()

    def comparison(self) -> Expr:
        first = self.sum()
        ops: list[str] = []
        operands = [first]
        while True:
            if self.at("==", "!=", "<", "<=", ">", ">=", "in"):
                ops.append(self.advance().text)
            elif self.at("not") and self.toks[self.i + 1].text == "in":
                self.advance()
                self.advance()
                ops.append("not in")
            else:
                break
            operands.append(self.sum())
        return first if not ops else Compare(first.pos, ops, operands)

    def sum(self) -> Expr:
        # Each operator of a chain nests the tree one level deeper (``a + b + c`` is
        # ``(a + b) + c``), so it counts against MAX_DEPTH like a parenthesis: every later stage
        # walks the tree recursively and must not meet a RecursionError.
        node = self.term()
        chain = 0
        while self.at("+", "-"):
            t = self.advance()
            self.enter(t.pos)
            chain += 1
            node = Arith(node.pos, t.text, node, self.term())
        self.depth -= chain
        return node

    def term(self) -> Expr:
        node = self.unary()
        chain = 0
        while self.at("*", "/"):
            t = self.advance()
            self.enter(t.pos)
            chain += 1
            node = Arith(node.pos, t.text, node, self.unary())
        self.depth -= chain
        return node

    def unary(self) -> Expr:
        if self.at("-"):
            t = self.advance()
            self.enter(t.pos)
            node = Neg(t.pos, self.unary())
            self.depth -= 1
            return node
        return self.primary()

    def primary(self) -> Expr:
        t = self.tok
        if t.kind == "num":
            self.advance()
            return Const(t.pos, _number(t))
        if t.kind == "dur":
            self.advance()
            return Const(t.pos, _duration(t))
        if t.kind == "str":
            self.advance()
            return Const(t.pos, _unescape(t.text[1:-1], t.pos + 1))
        if t.kind == "name":
            return self.name_or_call()
        if self.at("("):
            self.advance()
            self.enter(t.pos)
            node = self.or_expr()
            self.expect(")", t)
            self.depth -= 1
            return node
        if self.at("["):
            self.advance()
            self.enter(t.pos)
            items = self.arguments("]", t)
            self.depth -= 1
            return ListExpr(t.pos, items)
        if t.kind == "eof":  # never the first token: parse() refused blank text
            raise ExprSyntaxError(t.pos, "expression ends too early")
        raise ExprSyntaxError(t.pos, f"unexpected {t.text!r}", _MISTAKES.get(t.text, ""))

    def name_or_call(self) -> Expr:
        t = self.advance()
        name = t.text
        if name.startswith("_"):
            raise ExprSyntaxError(t.pos, f"names may not start with '_': {name!r}")
        if name in ("true", "false"):
            return Const(t.pos, name == "true")
        if name in KEYWORDS:
            raise ExprSyntaxError(t.pos, f"unexpected keyword {name!r}")
        if name in ("True", "False"):
            raise ExprSyntaxError(t.pos, f"unknown name {name!r}", f"write {name.lower()!r}")
        if self.at("("):
            opening = self.advance()
            self.enter(t.pos)
            args = self.arguments(")", opening)
            self.depth -= 1
            return Call(t.pos, name, args)
        return Name(t.pos, name)

    def arguments(self, closing: str, opening: _Tok) -> list[Expr]:
        items: list[Expr] = []
        if self.at(closing):
            self.advance()
            return items
        while True:
            items.append(self.or_expr())
            if self.at(","):
                self.advance()
                if self.at(closing):
                    break
                continue
            break
        self.expect(closing, opening)
        return items


def _number(t: _Tok) -> int | float:
    refused = check_literal(t.text)
    if refused:
        raise ExprSyntaxError(t.pos, refused, code="expr.out_of_range")
    text = t.text.replace("_", "")
    if text.endswith("%"):
        # Shifted as a decimal, then rounded once: float("7.2") / 100 rounds twice and gives
        # 0.07200000000000001, so 9 absences in 125 days (exactly 7.2%) would not reach 7.2%.
        return float(Decimal(text[:-1]).scaleb(-2))
    if "." in text or "e" in text or "E" in text:
        return float(text)
    return int(text)


def _duration(t: _Tok) -> Duration:
    m = re.fullmatch(r"([0-9]+)(mo|d|w|y)", t.text)
    assert m is not None  # the tokenizer only produces matching text
    digits, unit = m.group(1).lstrip("0") or "0", m.group(2)
    n = int(digits) if len(digits) <= 9 else MAX_DURATION_DAYS * 12  # beyond any limit below
    span = {
        "d": Duration(days=n),
        "w": Duration(days=7 * n),
        "mo": Duration(months=n),
        "y": Duration(months=12 * n),
    }[unit]
    if span.days > MAX_DURATION_DAYS or span.months > MAX_DURATION_MONTHS:
        raise ExprSyntaxError(
            t.pos,
            f"the duration {t.text} is out of range: a duration is at most 100 years",
            f"at most {MAX_DURATION_DAYS}d, {MAX_DURATION_DAYS // 7}w, "
            f"{MAX_DURATION_MONTHS}mo or {MAX_DURATION_MONTHS // 12}y",
            "expr.out_of_range",
        )
    return span


def parse(text: str) -> Expr:
    """Parse expression text into a syntax tree.

    Args:
        text: The expression, e.g. ``"absence_rate >= 10% and 'foster' in groups"``.

    Returns:
        The root node (types are not yet checked).

    Raises:
        ExprSyntaxError: With the 0-based offset of the problem.

    >>> parse("days_absent >= 3").ops
    ['>=']
    >>> parse("10%").value
    0.1
    """
    if len(text) > MAX_LENGTH:
        raise ExprSyntaxError(0, f"expression longer than {MAX_LENGTH} characters")
    if not text.strip():
        raise ExprSyntaxError(0, "empty expression")
    return _Parser(text).parse()
