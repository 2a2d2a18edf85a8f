"""The condition language's grammar: literals, precedence, errors, limits and what it refuses."""

from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierflow.expr import (
    Arith,
    BoolOp,
    Call,
    Compare,
    Const,
    Duration,
    Expr,
    ExprSyntaxError,
    ListExpr,
    Name,
    Neg,
    Not,
    _parser,
    parse,
    unparse,
)
from tierflow.expr._parser import KEYWORDS, MAX_DEPTH, MAX_LENGTH

# Mutation testing (docs/testing.md): the whole mutmut run of expr/_parser.py with this module
# (614 mutants, 2026-12-04) kills 600; 4 more hang (an escape or a token that never advances), which
# the run's timeout catches. The 10 that survive change no answer:
# - _tokenize: `ch in "XX'\"XX"` for `ch in "'\""`: that line sees only a character no token
#   matches, and X always starts a name;
# - _tokenize: `m.lastgroup or "XXXX"`: every alternative of the pattern is a named group, so a
#   match always has one;
# - _tokenize: the end token's text None or "XXXX" for "": the parser reads an end token by its
#   kind only (at() wants an operator or a name; expect() and primary() test kind == "eof");
# - _number: replace("XX_XX", "") for replace("_", ""): int(), float() and Decimal() read the
#   underscores the tokenizer allows (one between two digits, PEP 515) as this code does;
# - _duration: lstrip("XX0XX") for lstrip("0"): the text matched [0-9]+, so there is no X to strip;
# - _duration: int(digits) whatever the length, or the cut at 8 or 10 digits, or the stand-in
#   13 * MAX_DURATION_DAYS: 9 digits or more are out of range whichever value stands in, and
#   MAX_LENGTH (4000) keeps int() under its 4300-digit limit.


def shape(node: Expr) -> Any:
    """The tree as nested tuples, prefix style, so trees compare by structure."""
    if isinstance(node, Const):
        return node.value if isinstance(node.value, (bool, Duration)) else ("const", node.value)
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Neg):
        return ("neg", shape(node.operand))
    if isinstance(node, Not):
        return ("not", shape(node.operand))
    if isinstance(node, Arith):
        return (node.op, shape(node.left), shape(node.right))
    if isinstance(node, Compare):
        return ("cmp", tuple(node.ops), *[shape(o) for o in node.operands])
    if isinstance(node, BoolOp):
        return (node.op, *[shape(v) for v in node.values])
    if isinstance(node, Call):
        return ("call", node.func, *[shape(a) for a in node.args])
    if isinstance(node, ListExpr):
        return ("list", *[shape(i) for i in node.items])
    raise TypeError(node)


def c(value: Any) -> Any:
    return ("const", value)


# --- literals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("42", 42),
        ("1_000", 1000),
        ("1_000.5", 1000.5),
        ("3.25", 3.25),
        ("1e3", 1000.0),
        ("2.5E-2", 0.025),
        ("1E3", 1000.0),
        ("10%", 0.1),
        ("12.5%", 0.125),
        ("100%", 1.0),
        ("0%", 0.0),
        ("1e2%", 1.0),
    ],
)
def test_numbers(text: str, value: float) -> None:
    node = parse(text)
    assert isinstance(node, Const)
    assert node.value == value
    assert type(node.value) is type(value)
    assert type(node.value) is type(value)


@pytest.mark.parametrize(
    ("text", "value"),
    [("7.2%", 0.072), ("0.7%", 0.007), ("9.95%", 0.0995), ("14.4%", 0.144), ("1_7.6%", 0.176)],
)
def test_a_percentage_is_the_decimal_it_writes(text: str, value: float) -> None:
    # float("7.2") / 100 rounds twice (0.07200000000000001): 9 absences in 125 days, exactly
    # 7.2%, would not reach 'absence_rate >= 7.2%'.
    node = parse(text)
    assert isinstance(node, Const) and node.value == value


@given(st.integers(0, 100_000), st.integers(0, 4))
def test_every_percentage_equals_its_decimal_literal(whole: int, places: int) -> None:
    text = f"{whole / 10**places:.{places}f}"
    shifted = f"{text}e-2"
    assert parse(f"{text}%").value == float(shifted)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0d", Duration(days=0)),
        ("28d", Duration(days=28)),
        ("1w", Duration(days=7)),
        ("4w", Duration(days=28)),
        ("6mo", Duration(months=6)),
        ("1y", Duration(months=12)),
        ("2y", Duration(months=24)),
        ("365d", Duration(days=365)),
        # leading zeros are not digits of the value: 28 days, though 13 characters long
        ("0000000000028d", Duration(days=28)),
    ],
)
def test_durations(text: str, value: Duration) -> None:
    node = parse(text)
    assert isinstance(node, Const)
    assert node.value == value


# A hundred years, as the statute of no rule needs more (expr/_bounds.py): 36,525 days, and
# 36,525 // 7 = 5,217 whole weeks; 1,200 months, 100 years. One more of any unit is refused.
HUNDRED_YEARS = "at most 36525d, 5217w, 1200mo or 100y"


@pytest.mark.parametrize("text", ["36525d", "5217w", "1200mo", "100y"])
def test_the_longest_durations_are_accepted(text: str) -> None:
    assert isinstance(parse(text), Const)


@pytest.mark.parametrize("text", ["36526d", "5218w", "1201mo", "101y"])
def test_one_more_is_out_of_range_word_for_word(text: str) -> None:
    with pytest.raises(ExprSyntaxError) as info:
        parse(f"x < {text}")
    err = info.value
    assert (err.pos, err.code, err.hint) == (4, "expr.out_of_range", HUNDRED_YEARS)
    assert err.message == f"the duration {text} is out of range: a duration is at most 100 years"


def test_an_out_of_range_number_is_refused_where_it_is() -> None:
    with pytest.raises(ExprSyntaxError) as info:
        parse("days_absent > 1e309")
    err = info.value
    assert (err.pos, err.code, err.hint) == (14, "expr.out_of_range", "")
    assert err.message == (
        "the number 1e309 is out of range: it is larger than the largest float (about 1.8e308)"
    )


@pytest.mark.parametrize("text", ["3m", "3days", "3dd", "3wk", "3mon", "3yr", "3d2", "1.5d"])
def test_malformed_durations_are_refused(text: str) -> None:
    with pytest.raises(ExprSyntaxError):
        parse(text)


def test_a_duration_of_thousands_of_digits_is_out_of_range() -> None:
    # 100 years is at most 36525d (docs/conditions.md); 3990 nines are far past it.
    with pytest.raises(ExprSyntaxError) as err:
        parse("9" * 3990 + "d")
    assert err.value.code == "expr.out_of_range"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("'foster'", "foster"),
        ('"foster"', "foster"),
        ("''", ""),
        ("'it\\'s'", "it's"),
        ('"say \\"hi\\""', 'say "hi"'),
        ('"it\'s"', "it's"),
        ("'a\\nb\\tc\\\\d'", "a\nb\tc\\d"),
        ("'ab\\ncd\\tef'", "ab\ncd\tef"),
        ("'é ü 中'", "é ü 中"),
        ("'and or not in'", "and or not in"),
    ],
)
def test_strings(text: str, value: str) -> None:
    node = parse(text)
    assert isinstance(node, Const)
    assert node.value == value


def test_booleans_are_lowercase() -> None:
    assert shape(parse("true")) is True
    assert shape(parse("false")) is False
    for text in ("True", "False"):
        with pytest.raises(ExprSyntaxError) as info:
            parse(text)
        assert info.value.hint == f"write {text.lower()!r}"


@pytest.mark.parametrize("text", ["\u0663", "1\u0663", "\u0663d", "\uff11"])
def test_numbers_are_ascii_digits_only(text: str) -> None:
    with pytest.raises(ExprSyntaxError):
        parse(text)


@pytest.mark.parametrize("text", ["1_", "1__0", "1_.5", "1._5"])
def test_underscores_only_between_digits(text: str) -> None:
    with pytest.raises(ExprSyntaxError):
        parse(text)


# --- precedence and associativity ---------------------------------------------------------------

PRECEDENCE = [
    # arithmetic
    ("a + b * c", ("+", "a", ("*", "b", "c"))),
    ("a * b + c", ("+", ("*", "a", "b"), "c")),
    ("a - b / c", ("-", "a", ("/", "b", "c"))),
    ("(a + b) * c", ("*", ("+", "a", "b"), "c")),
    ("-a * b", ("*", ("neg", "a"), "b")),
    ("-a + b", ("+", ("neg", "a"), "b")),
    ("a * -b", ("*", "a", ("neg", "b"))),
    ("-(a + b)", ("neg", ("+", "a", "b"))),
    ("--a", ("neg", ("neg", "a"))),
    # comparisons bind looser than arithmetic
    ("a + 1 > b * 2", ("cmp", (">",), ("+", "a", c(1)), ("*", "b", c(2)))),
    ("a < b <= c", ("cmp", ("<", "<="), "a", "b", "c")),
    ("a == b != c", ("cmp", ("==", "!="), "a", "b", "c")),
    ("a in b", ("cmp", ("in",), "a", "b")),
    ("a not in b", ("cmp", ("not in",), "a", "b")),
    ("a not in b in c", ("cmp", ("not in", "in"), "a", "b", "c")),
    ("a in [1, 2]", ("cmp", ("in",), "a", ("list", c(1), c(2)))),
    # not binds looser than comparisons, tighter than and/or
    ("not a == b", ("not", ("cmp", ("==",), "a", "b"))),
    ("not a in b", ("not", ("cmp", ("in",), "a", "b"))),
    ("not a and b", ("and", ("not", "a"), "b")),
    ("not not a", ("not", ("not", "a"))),
    ("not (a and b)", ("not", ("and", "a", "b"))),
    # and binds tighter than or
    ("a or b and c", ("or", "a", ("and", "b", "c"))),
    ("a and b or c", ("or", ("and", "a", "b"), "c")),
    ("a and (b or c)", ("and", "a", ("or", "b", "c"))),
    (
        "a < 1 and b > 2 or c",
        ("or", ("and", ("cmp", ("<",), "a", c(1)), ("cmp", (">",), "b", c(2))), "c"),
    ),
    # calls and lists are primaries
    ("max(a, b) * 2", ("*", ("call", "max", "a", "b"), c(2))),
    ("-f(x)", ("neg", ("call", "f", "x"))),
    ("f()", ("call", "f")),
    ("f(a or b, not c)", ("call", "f", ("or", "a", "b"), ("not", "c"))),
    ("[]", ("list",)),
    ("[a + 1, [b]]", ("list", ("+", "a", c(1)), ("list", "b"))),
    # trailing commas
    ("f(a,)", ("call", "f", "a")),
    ("[1,]", ("list", c(1))),
    # whitespace, including newlines from YAML block scalars
    ("a\n  and\tb", ("and", "a", "b")),
]


@pytest.mark.parametrize(("text", "tree"), PRECEDENCE)
def test_precedence(text: str, tree: Any) -> None:
    assert shape(parse(text)) == tree


ASSOCIATIVITY = [
    ("a - b - c", ("-", ("-", "a", "b"), "c")),
    ("a - b + c", ("+", ("-", "a", "b"), "c")),
    ("a + b - c", ("-", ("+", "a", "b"), "c")),
    ("a / b / c", ("/", ("/", "a", "b"), "c")),
    ("a / b * c", ("*", ("/", "a", "b"), "c")),
    ("a * b / c", ("/", ("*", "a", "b"), "c")),
    ("a - (b - c)", ("-", "a", ("-", "b", "c"))),
    ("a / (b / c)", ("/", "a", ("/", "b", "c"))),
    # and/or are n-ary and flat
    ("a or b or c", ("or", "a", "b", "c")),
    ("a and b and c and d", ("and", "a", "b", "c", "d")),
    ("(a or b) or c", ("or", ("or", "a", "b"), "c")),
    # comparison chains are one node, not nested
    ("a < b < c < d", ("cmp", ("<", "<", "<"), "a", "b", "c", "d")),
]


@pytest.mark.parametrize(("text", "tree"), ASSOCIATIVITY)
def test_associativity(text: str, tree: Any) -> None:
    assert shape(parse(text)) == tree


def test_positions_are_0_based_offsets_of_first_character() -> None:
    tree = parse("  days_absent >= max(3, x)")
    assert isinstance(tree, Compare)
    assert tree.pos == 2
    left, right = tree.operands
    assert left.pos == 2
    assert isinstance(right, Call) and right.pos == 17
    assert [a.pos for a in right.args] == [21, 24]
    assert parse("(a)").pos == 1
    assert parse("not a").pos == 0
    assert isinstance(n := parse("x - -y"), Arith) and n.right.pos == 4
    # every kind of node, each at its own offset (counted by hand)
    assert parse("  a or b").pos == 2
    assert parse("  a and b").pos == 2
    assert parse("  a * b").pos == 2
    assert parse("  a / b + c").pos == 2
    cmp = parse("x == true or y < 3d or z in [1] or w != 'a'")
    assert isinstance(cmp, BoolOp)
    assert [[o.pos for o in v.operands] for v in cmp.values] == [  # type: ignore[attr-defined]
        [0, 5],
        [13, 17],
        [23, 28],
        [35, 40],
    ]


# --- syntax errors --------------------------------------------------------------------------


# Word for word: a message or hint is what a district developer reads, so the test pins the
# whole of it (a check for a fragment lets any change around the fragment through). Each row was
# written from the grammar and the tables of mistakes in the module, by hand.
JOIN = "join conditions with 'and' or 'or'"
EARLY = "expression ends too early"
SYNTAX_ERRORS = [
    # text, pos, message, hint
    ("", 0, "empty expression", ""),
    ("   \n ", 0, "empty expression", ""),
    ("a = 1", 2, "unexpected character '='", "use '==' to compare"),
    ("a && b", 2, "unexpected '&&'", "use 'and'"),
    ("a || b", 2, "unexpected '||'", "use 'or'"),
    ("a & b", 2, "unexpected character '&'", "use 'and'"),
    ("a | b", 2, "unexpected character '|'", "use 'or'"),
    ("a ** 2", 2, "unexpected '**'", "there is no power operator"),
    ("!a", 0, "unexpected character '!'", "use 'not' (or '!=' to compare)"),
    (
        "a ? b : c",
        2,
        "unexpected character '?'",
        "there is no conditional operator; use separate conditions",
    ),
    ("{'a': 1}", 0, "unexpected character '{'", "mappings are not part of the language"),
    (
        "x.y",
        1,
        "unexpected character '.'",
        "attribute access is not part of the language; facts are plain names",
    ),
    ("a[1:2]", 3, "unexpected character ':'", "slices and mappings are not part of the language"),
    ("10 %", 3, "unexpected character '%'", "'%' is only a suffix of numbers, as in 10%"),
    ("a ~ b", 2, "unexpected character '~'", ""),
    ("'abc", 0, "unterminated string", "close it on the same line"),
    ('a + "abc', 4, "unterminated string", "close it on the same line"),
    ("'ab\nc'", 0, "unterminated string", "close it on the same line"),
    ("a b", 2, "unexpected 'b' after a complete expression", JOIN),
    ("a 3", 2, "unexpected '3' after a complete expression", JOIN),
    ("1 2", 2, "unexpected '2' after a complete expression", JOIN),
    ("a 'x'", 2, "unexpected \"'x'\" after a complete expression", JOIN),
    ("a 3d", 2, "unexpected '3d' after a complete expression", ""),
    ("(a", 2, "expected ')' to close '(' at column 1, found the end", ""),
    ("(a b", 3, "expected ')' to close '(' at column 1, found 'b'", ""),
    ("max(a, b", 8, "expected ')' to close '(' at column 4, found the end", ""),
    ("[1, 2", 5, "expected ']' to close '[' at column 1, found the end", ""),
    ("[1, 2)", 5, "expected ']' to close '[' at column 1, found ')'", ""),
    ("a)", 1, "unexpected ')' after a complete expression", ""),
    ("a +", 3, EARLY, ""),
    ("a and", 5, EARLY, ""),
    ("not", 3, EARLY, ""),
    ("-", 1, EARLY, ""),
    ("f(,)", 2, "unexpected ','", ""),
    ("[,]", 1, "unexpected ','", ""),
    ("f(a,,b)", 4, "unexpected ','", ""),
    ("a ==", 4, EARLY, ""),
    ("a < < b", 4, "unexpected '<'", ""),
    ("a * * b", 4, "unexpected '*'", "there is no power operator"),
    ("and", 0, "unexpected keyword 'and'", ""),
    ("a or in b", 5, "unexpected keyword 'in'", ""),
    ("a not b", 2, "unexpected 'not' after a complete expression", JOIN),
    ("True", 0, "unknown name 'True'", "write 'true'"),
    ("a or False", 5, "unknown name 'False'", "write 'false'"),
    ("'a\\qb'", 3, "unknown escape '\\q' in string", ""),
    ("'\\x41'", 2, "unknown escape '\\x' in string", ""),
    ("x + _y", 4, "names may not start with '_': '_y'", ""),
]


@pytest.mark.parametrize(("text", "pos", "message", "hint"), SYNTAX_ERRORS)
def test_syntax_errors(text: str, pos: int, message: str, hint: str) -> None:
    with pytest.raises(ExprSyntaxError) as info:
        parse(text)
    err = info.value
    assert (err.pos, err.message, err.hint, err.code) == (pos, message, hint, "expr.syntax")
    assert str(err) == message


def test_every_keyword_is_reserved() -> None:
    for kw in sorted(KEYWORDS - {"true", "false", "not"}):
        with pytest.raises(ExprSyntaxError):
            parse(kw)
        with pytest.raises(ExprSyntaxError):
            parse(f"{kw}(1)")
    assert shape(parse("true")) is True


# --- limits ---------------------------------------------------------------------------------


def test_length_limit() -> None:
    padded = "a" + " " * (MAX_LENGTH - 1)
    assert shape(parse(padded)) == "a"
    with pytest.raises(ExprSyntaxError) as info:
        parse(padded + " ")
    assert info.value.pos == 0
    assert str(MAX_LENGTH) in info.value.message


@pytest.mark.parametrize(
    ("build", "levels"),
    [
        (lambda n: "(" * n + "a" + ")" * n, "parentheses"),
        (lambda n: "[" * n + "a" + "]" * n, "lists"),
        (lambda n: "f(" * n + "a" + ")" * n, "calls"),
        (lambda n: "-" * n + "a", "negations"),
        (lambda n: "not " * n + "a", "nots"),
        (lambda n: "a" + " + a" * n, "additions"),
        (lambda n: "a" + " * a" * n, "multiplications"),
        (lambda n: "a" + " - a" * (n // 2) + " / a" * (n - n // 2), "mixed arithmetic"),
    ],
)
def test_depth_limit(build: Any, levels: str) -> None:
    parse(build(MAX_DEPTH))
    with pytest.raises(ExprSyntaxError) as info:
        parse(build(MAX_DEPTH + 1))
    assert "nested deeper" in info.value.message, levels


# The same budget, counted exactly at a small limit (at MAX_DEPTH the mutation run's trampolines
# would deepen the stack past Python's limit): five levels fail at the fifth level's token, and a
# level left gives its budget back, so two siblings of four levels each parse.
# The same budget, counted exactly at a small limit (at MAX_DEPTH the mutation run's trampolines
# would deepen the stack past Python's limit): five levels fail at the fifth level's token; a
# level left gives back exactly what it took, so two siblings of four levels each parse, and
# one level before five parentheses leaves none to spare.
SHALLOW = [
    # one level, five levels, where the fifth starts, two siblings of four levels
    ("(a)", "(((((a)))))", 4, "((((a)))) and ((((a))))"),
    ("[a]", "[[[[[a]]]]]", 4, "[[[[a]]]] and [[[[a]]]]"),
    ("f(a)", "f(f(f(f(f(a)))))", 8, "f(f(f(f(a)))) and f(f(f(f(a))))"),
    ("-a", "-----a", 4, "----a and ----a"),
    ("not a", "not not not not not a", 16, "not not not not a and not not not not a"),
    ("a + a", "a + a + a + a + a + a", 18, "a + a + a + a + a and a + a + a + a + a"),
    ("a * a", "a * a / a * a / a * a", 18, "a * a * a * a * a and a / a / a / a / a"),
    ("(a + a)", "(a + a + a + a + a)", 15, "(a + a + a + a) and (a + a + a + a)"),
]


@pytest.mark.parametrize(("one", "deep", "pos", "siblings"), SHALLOW)
def test_depth_is_counted_level_by_level(
    monkeypatch: pytest.MonkeyPatch, one: str, deep: str, pos: int, siblings: str
) -> None:
    monkeypatch.setattr(_parser, "MAX_DEPTH", 4)
    too_deep = "expression nested deeper than 4 levels"
    with pytest.raises(ExprSyntaxError) as info:
        parse(deep)
    assert (info.value.pos, info.value.message) == (pos, too_deep)
    assert isinstance(parse(siblings), BoolOp)
    after = f"{one} and "
    assert isinstance(parse(after + "((((a))))"), BoolOp)
    with pytest.raises(ExprSyntaxError) as info:
        parse(after + "(((((a)))))")
    assert (info.value.pos, info.value.message) == (len(after) + 4, too_deep)


def test_long_operator_chain_is_a_syntax_error_not_a_recursion_error() -> None:
    # 2,000 additions fit in MAX_LENGTH; the tree would be 2,000 levels deep, and every later
    # stage (checker, interpreter, unparser) recurses once per level.
    text = "1" + "+1" * ((MAX_LENGTH - 1) // 2)
    assert len(text) <= MAX_LENGTH
    with pytest.raises(ExprSyntaxError) as info:
        parse(text)
    assert "nested deeper" in info.value.message


def test_chains_inside_parentheses_share_the_depth_budget() -> None:
    half = MAX_DEPTH // 2
    inner = "a" + " + a" * half
    parse("(" * (MAX_DEPTH - half) + inner + ")" * (MAX_DEPTH - half))
    with pytest.raises(ExprSyntaxError):
        parse("(" * (MAX_DEPTH - half + 1) + inner + ")" * (MAX_DEPTH - half + 1))


def test_sibling_chains_do_not_accumulate_depth() -> None:
    chain = "a" + " + a" * (MAX_DEPTH - 1)
    text = " and ".join(f"{chain} > 0" for _ in range(5))
    assert isinstance(parse(text), BoolOp)


# --- what the language refuses --------------------------------------------------------------

REFUSED = [
    "__import__('os')",
    "__import__('os').system('rm -rf /')",
    "__builtins__",
    "_private",
    "a._b",
    "x.__class__",
    "().__class__.__bases__[0].__subclasses__()",
    "''.join",
    "days_absent.real",
    "facts['days_absent']",
    "groups[0]",
    "groups[1:2]",
    "x[0]",
    "lambda: 1",
    "lambda x: x",
    "import os",
    "from os import system",
    "a if b else c",
    "a; b",
    "a := 1",
    "f(x=1)",
    "f(*args)",
    "f(**kw)",
    "`a`",
    "@decorator",
    "a @ b",
    "{1, 2}",
    "{'a': 1}",
    "(x for x in y)",
    "[x for x in y]",
    "f'{x}'",
    "b'x'",
    "r'x'",
    "0x1f",
    "0o7",
    "1j",
    "a ^ b",
    "~a",
    "a << 1",
    "a // b",
    "a % b",
    "'a' 'b'",
    "print 'x'",
    "exec 'x'",
    "yield x",
    "await x",
    "a is b",
    "a is not b",
    "a\\\nb",
    "# comment",
    "a # comment",
]


@pytest.mark.parametrize("text", REFUSED)
def test_parser_refuses_python_beyond_the_language(text: str) -> None:
    with pytest.raises(ExprSyntaxError):
        parse(text)


@pytest.mark.parametrize("name", ["__class__", "__dict__", "_", "_x", "__init__"])
def test_underscore_names_are_refused_as_names_and_as_calls(name: str) -> None:
    for text in (name, f"{name}(1)", f"a + {name}", f"f({name})"):
        with pytest.raises(ExprSyntaxError) as info:
            parse(text)
        assert "'_'" in info.value.message


@pytest.mark.parametrize(
    "text",
    [
        '\'__import__("os").system("echo pwned")\'',
        '\'"); import os; os.system("x"); ("\'',
        "'\\'; __import__(\\'os\\')'",
        "'{0.__class__}'",
        "'%(x)s'",
    ],
)
def test_code_inside_strings_stays_a_string(text: str) -> None:
    node = parse(text)
    assert isinstance(node, Const)
    assert isinstance(node.value, str)


def test_calls_parse_by_name_only() -> None:
    # The parser knows no function; a call is a name and arguments, resolved (or refused) by
    # the checker against the registry. See test_check for eval/exec/open.
    assert shape(parse("eval('1')")) == ("call", "eval", c("1"))


# --- round trip -----------------------------------------------------------------------------

ROUND_TRIP = [text for text, _ in PRECEDENCE + ASSOCIATIVITY] + [
    "absence_rate >= 10% and 'foster' in groups",
    "as_of - enrolled_on > 28 and count_within('absence', 4w) >= 3",
    "not (a or b) and c",
    "(not a) == b",
    "(a < b) == (c < d)",
    "-(-a)",
    "a - -1",
    "(a and b) or (c and d)",
    "tier in ['tier1', 'tier2'] and tier_level >= 2",
    'x == \'it\\\'s\' or x == "say \\"hi\\""',
    "d == 6mo or d == 1y or d == 2w",
    "x > 1e15",
    "1.5e-07 < x",
]


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_parse_unparse_parse(text: str) -> None:
    tree = parse(text)
    canonical = unparse(tree)
    again = parse(canonical)
    assert shape(again) == shape(tree)
    assert unparse(again) == canonical  # canonical text is a fixed point


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("(a+b)*2 >= 10%   and not(c)", "(a + b) * 2 >= 0.1 and not c"),
        ("((a))", "a"),
        ("a-(b-c)", "a - (b - c)"),
        ("(a-b)-c", "a - b - c"),
        ("a or (b or c)", "a or (b or c)"),
        ("not(a==b)", "not a == b"),
        ("f( a ,b, )", "f(a, b)"),
        ("[ 1,2 , ]", "[1, 2]"),
        ("2w", "14d"),
        ("1y", "12mo"),
        ('"x"', "'x'"),
        ('"it\'s"', '"it\'s"'),
    ],
)
def test_unparse_is_canonical(text: str, canonical: str) -> None:
    assert unparse(parse(text)) == canonical


_NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True).filter(lambda n: n not in KEYWORDS)


def _trees() -> st.SearchStrategy[Expr]:
    leaves = st.one_of(
        _NAMES.map(lambda n: Name(0, n)),
        st.integers(min_value=0, max_value=10**12).map(lambda v: Const(0, v)),
        # Finite: infinity has no literal (1e999 is refused at load, expr.out_of_range).
        st.floats(min_value=0, allow_nan=False, allow_infinity=False).map(lambda v: Const(0, v)),
        st.text(max_size=8).map(lambda v: Const(0, v)),
        st.booleans().map(lambda v: Const(0, v)),
        st.integers(min_value=0, max_value=400).map(lambda v: Const(0, Duration(days=v))),
        st.integers(min_value=1, max_value=30).map(lambda v: Const(0, Duration(months=v))),
    )

    def extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
        many = st.lists(children, min_size=2, max_size=3)
        return st.one_of(
            children.map(lambda e: Neg(0, e)),
            children.map(lambda e: Not(0, e)),
            st.builds(
                lambda op, a, b: Arith(0, op, a, b), st.sampled_from("+-*/"), children, children
            ),
            st.builds(lambda op, vs: BoolOp(0, op, vs), st.sampled_from(["and", "or"]), many),
            many.flatmap(
                lambda vs: st.lists(
                    st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "in", "not in"]),
                    min_size=len(vs) - 1,
                    max_size=len(vs) - 1,
                ).map(lambda ops: Compare(0, ops, vs))
            ),
            st.builds(lambda f, args: Call(0, f, args), _NAMES, st.lists(children, max_size=3)),
            st.lists(children, max_size=3).map(lambda items: ListExpr(0, items)),
        )

    return st.recursive(leaves, extend, max_leaves=12)


@settings(max_examples=400, deadline=None)
@given(_trees())
def test_unparse_then_parse_gives_the_same_tree(tree: Expr) -> None:
    text = unparse(tree)
    assert shape(parse(text)) == shape(tree), text


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_string_literal_round_trips(value: str) -> None:
    text = unparse(Const(0, value))
    node = parse(text)
    assert isinstance(node, Const)
    assert node.value == value


@given(st.text(alphabet=string.printable, max_size=40))
def test_parser_raises_only_expr_syntax_error(text: str) -> None:
    try:
        parse(text)
    except ExprSyntaxError as err:
        assert 0 <= err.pos <= len(text)
