"""The condition language: parse, check types, fold, interpret, and generate Python."""

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
    walk,
)
from tierflow.expr._check import ExprProblem, Scope, check
from tierflow.expr._codegen import Constants, to_python
from tierflow.expr._functions import PURE_FUNCTIONS, EvalContext, Function, FunctionRegistry
from tierflow.expr._interp import ExprEvalError, TraceEntry, fold, format_value, interpret, unparse
from tierflow.expr._parser import ExprSyntaxError, parse
from tierflow.expr._types import (
    ANY,
    BOOL,
    DATE,
    DURATION,
    NUMBER,
    STRING,
    Duration,
    Type,
    enum_of,
    list_of,
)

__all__ = [
    "ANY",
    "BOOL",
    "DATE",
    "DURATION",
    "NUMBER",
    "PURE_FUNCTIONS",
    "STRING",
    "Arith",
    "BoolOp",
    "Call",
    "Compare",
    "Const",
    "Constants",
    "Duration",
    "EvalContext",
    "Expr",
    "ExprEvalError",
    "ExprProblem",
    "ExprSyntaxError",
    "Function",
    "FunctionRegistry",
    "ListExpr",
    "Name",
    "Neg",
    "Not",
    "Scope",
    "TraceEntry",
    "Type",
    "check",
    "enum_of",
    "fold",
    "format_value",
    "interpret",
    "list_of",
    "parse",
    "to_python",
    "unparse",
    "walk",
]
