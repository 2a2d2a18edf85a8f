"""Compiling one condition: parse, type-check and fold it, with problems where it was written.

The condition stages (:mod:`tierflow.compile._conditions`) call these for every expression of a
rule set; :func:`compile_expr` maps each problem's offset back to the line and column of the
YAML scalar it came from, in whichever style the scalar was written.
"""

from __future__ import annotations

from collections.abc import Mapping

from tierflow.compile._checked import CheckedExpr
from tierflow.compile._compilation import BUILTIN_METRICS, Compilation
from tierflow.errors import Problem
from tierflow.expr import (
    BOOL,
    DATE,
    NUMBER,
    STRING,
    Arith,
    BoolOp,
    Call,
    Compare,
    Const,
    Expr,
    ExprSyntaxError,
    FunctionRegistry,
    ListExpr,
    Name,
    Scope,
    Type,
    check,
    fold,
    list_of,
    parse,
    unparse,
    walk,
)
from tierflow.source import SourceSpan

__all__ = [
    "builtin_metric",
    "compile_checklist_item",
    "compile_expr",
    "history_scope",
    "membership",
    "shorthand",
]


def compile_expr(
    c: Compilation,
    text: str,
    path: tuple[str | int, ...],
    scope: Scope,
    expected: Type | None,
) -> CheckedExpr | None:
    """Parse, check (against ``expected``, if given) and fold the expression at merged ``path``.

    Returns None after adding its problems to ``c`` (each at its own line and column).
    """
    span = c.smap.span(path)
    doc = c.smap.document(path)
    # The models strip surrounding spaces: offsets are into the text as its file wrote it.
    raw = c.smap.raw_value(path)
    written, lead = text, 0
    if isinstance(raw, str) and raw.strip() == text:
        written, lead = raw, len(raw) - len(raw.lstrip())
    where = c.smap.path_in_source(path)

    def located(pos: int, code: str, message: str, hint: str) -> Problem:
        return Problem(doc.expression_span(span, lead + pos, written), code, message, where, hint)

    try:
        tree = parse(text)
    except ExprSyntaxError as exc:
        c.problems.append(located(exc.pos, exc.code, exc.message, exc.hint))
        return None
    found = check(tree, scope, expected)
    if not found:
        folded = fold(tree, scope.functions, found)
    c.problems.extend(located(p.pos, p.code, p.message, p.hint) for p in found)
    if found:
        return None
    spans = {
        n.pos: doc.expression_span(span, lead + n.pos, written)
        for n in walk(folded)
        if isinstance(n, (Arith, Call))
    }
    return CheckedExpr(folded, text, span, where, spans)


_CHECKLIST_HINT = (
    "a checklist item reads the documented history only, through its functions "
    "(conferences_held, conferences_attempted, contacts, intervention_tried, legal_issued...); "
    "a condition on facts or metrics belongs in the step's 'when'"
)


def history_scope(functions: FunctionRegistry, vocab: Mapping[str, frozenset[str]]) -> Scope:
    """The scope of a checklist item: ``as_of`` and the functions that read only the history.

    A checklist is checked wherever a step's evidence is (the engine, a packet, the compliance
    report), and there only the documented history is known, not the student's facts.
    """
    allowed = FunctionRegistry(
        {f.name: f for f in functions if not f.context or (f.reads and set(f.reads) <= {"history"})}
    )
    return Scope({"as_of": DATE}, allowed, vocab)


def compile_checklist_item(
    c: Compilation,
    text: str,
    path: tuple[str | int, ...],
    scope: Scope,
    outside: set[str],
) -> CheckedExpr | None:
    """Compile a checklist item's condition (true/false, in the history scope).

    A fact or metric it names, or a function reading facts it calls, is reported as unknown
    there, with a hint saying what a checklist item may read instead of a did-you-mean.
    """
    before = len(c.problems)
    checked = compile_expr(c, text, path, scope, BOOL)
    facts_readers = {f.name for f in c.functions if f.context and set(f.reads) - {"history"}}
    for k in range(before, len(c.problems)):
        p = c.problems[k]
        name = p.message.split("'")[1] if p.message.count("'") >= 2 else ""
        if (p.code == "expr.unknown_name" and name in outside) or (
            p.code == "expr.unknown_function" and name in facts_readers
        ):
            c.problems[k] = Problem(p.span, p.code, p.message, p.path, _CHECKLIST_HINT)
    return checked


def builtin_metric(name: str, scope: Scope) -> CheckedExpr:
    """Compile the built-in metric ``name`` (its definition always checks)."""
    text = BUILTIN_METRICS[name][0]
    tree = parse(text)
    assert not check(tree, scope, NUMBER)
    return CheckedExpr(fold(tree, scope.functions), text, SourceSpan("<tierflow built-in>"), name)


def shorthand(
    rule_when: CheckedExpr | None, parts: list[Expr], path: str, span: SourceSpan
) -> CheckedExpr | None:
    """Join a rule's shorthand conditions (``parts``) and its ``when`` with ``and``."""
    if not parts:
        return rule_when
    conds = [*parts, *([rule_when.tree] if rule_when is not None else [])]
    tree = conds[0] if len(conds) == 1 else BoolOp(0, "and", conds)
    tree.type = BOOL
    tree = fold(tree)
    text = unparse(tree)
    return CheckedExpr(tree, text, rule_when.span if rule_when else span, path)


def membership(name: str, values: tuple[str, ...], scope_type: Type) -> Expr:
    """Build ``name in [values]`` (scalar name) or ``'a' in name or ...`` (list name)."""
    if scope_type.kind == "list":
        alts: list[Expr] = []
        for v in values:
            const = Const(0, v)
            const.type = STRING
            ref = Name(0, name)
            ref.type = scope_type
            cmp = Compare(0, ["in"], [const, ref])
            cmp.type = BOOL
            alts.append(cmp)
        if len(alts) == 1:
            return alts[0]
        node: Expr = BoolOp(0, "or", alts)
        node.type = BOOL
        return node
    ref = Name(0, name)
    ref.type = scope_type
    items: list[Expr] = []
    for v in values:
        const = Const(0, v)
        const.type = STRING
        items.append(const)
    lst = ListExpr(0, items)
    lst.type = list_of(STRING)
    cmp = Compare(0, ["in"], [ref, lst])
    cmp.type = BOOL
    return cmp
