"""Generate, compile and register the Python evaluator of a rule set.

The generated function reads each needed fact once into a local, computes the metrics, then
walks the tiers (first match: a tier's ``when``, or its ``stay_while`` for a student whose
``previous_tier`` it is), the rules (a bit per rule that fires) and the legal steps (a bit
per step whose condition holds, and per step that is exempt). It returns those four integers
and the student id it read; the rule set turns them into a :class:`~tierflow.Decision`,
caching the parts that depend only on them.

Nothing a rule set's author or host chose reaches the compiled source as text: facts and
metrics become locals named from checked identifiers (``f_days_absent``), every string, date and
non-finite number is a bound constant, and a line that evaluates a rule's expression ends with a
comment holding only an integer (``# [3]``). Where that expression is written (the file name,
line and path, which may hold any character, line breaks included) is kept beside the source: the
copy registered with :mod:`linecache`, which tracebacks and debuggers show, has each ``[3]``
replaced by the location with every unprintable character escaped, so it has the same lines.
"""

from __future__ import annotations

import datetime as dt
import itertools
import linecache
import math
import re
from collections.abc import Mapping
from typing import Any

from tierflow.compile._checked import CheckedExpr
from tierflow.compile._compilation import BatchEvaluator, Compilation, Evaluator, FactRead
from tierflow.errors import DataError
from tierflow.expr import (
    BoolOp,
    Call,
    Compare,
    Const,
    Constants,
    EvalContext,
    Expr,
    ListExpr,
    Name,
    to_python,
    walk,
)
from tierflow.expr._functions import add_duration, same_items, subtract_duration
from tierflow.facts._read import check_terms

__all__ = ["generate", "generate_all", "read_fact"]

_KINDS: dict[str, tuple[type, ...]] = {
    "number": (int, float),
    "string": (str,),
    "bool": (bool,),
    "date": (dt.date,),
    "list": (list, tuple, set, frozenset),
}

_counter = itertools.count()

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
"""A name that may be written into generated source: ASCII, no keyword once prefixed."""

_NOTE = re.compile(r"  # \[([0-9]+)\]$")
"""The end of a generated line that evaluates expression number N."""


def read_fact(facts: Mapping[str, Any], read: FactRead, value: Any) -> Any:
    """Resolve a fact that is missing or of an unexpected type (the slow path).

    Returns the default for a missing fact that has one, a converted value for a date written as
    text, or raises :class:`DataError` naming the student and the fact.
    """
    student = facts.get("student_id")
    student_id = None if student is None else str(student)
    if value is None:
        if read.has_default:
            return read.default
        raise DataError(
            "facts.missing",
            f"fact {read.name!r} is required by the rule set and was not provided",
            student_id=student_id,
            field=read.name,
        )
    if read.kind == "date" and isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError as exc:
            raise DataError(
                "facts.invalid",
                f"fact {read.name!r} must be a date (YYYY-MM-DD), got {value!r}",
                student_id=student_id,
                field=read.name,
            ) from exc
    if read.kind == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return value  # a subclass of int or float (numpy scalars register as such)
    if read.kind == "string" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # identifiers such as 604822 arrive as numbers from JSON
    if isinstance(value, _KINDS[read.kind]) and not (
        read.kind == "number" and isinstance(value, bool)
    ):
        return value
    raise DataError(
        "facts.invalid",
        f"fact {read.name!r} must be a {read.kind}, got {type(value).__name__} {value!r}",
        student_id=student_id,
        field=read.name,
    )


def local_name(prefix: str, name: str, index: int) -> str:
    r"""Return the generated local for fact or metric ``name``: ``f_days_absent`` (or ``f3_``).

    Names reach here from the condition parser, which only reads ASCII identifiers; anything else
    (a host's own compilation stage, say) gets a name made of ``prefix`` and its index, so no
    text from a rule set is ever written into the source as code.

    >>> local_name("f", "days_absent", 3), local_name("m", "x\nimport os", 0)
    ('f_days_absent', 'm0_')
    """
    return f"{prefix}_{name}" if _IDENTIFIER.fullmatch(name) else f"{prefix}{index}_"


def annotate(source: str, notes: list[CheckedExpr]) -> str:
    """Return ``source`` with each ``# [N]`` replaced by where expression ``notes[N]`` is written.

    The location (file name, line, column and path) is escaped as in a Python string literal, so
    a file name with a line break still makes one comment: the result has the lines of
    ``source``, for tracebacks, and is itself harmless to compile.
    """

    def located(match: re.Match[str]) -> str:
        e = notes[int(match.group(1))]
        return "  # " + repr(f"{e.span} {e.path}")[1:-1]

    return "".join(_NOTE.sub(located, line) for line in source.splitlines(True))


def generate(c: Compilation, module_name: str) -> tuple[Evaluator, str]:
    """Generate, compile and register the evaluator; return it with its readable source.

    The readable source is the compiled one with each expression's location in its comment
    (see :func:`annotate`); ``module_name`` (the rule set's id) appears only in the file name
    tracebacks show, and only if it is an identifier (``-`` allowed).
    """
    fn, readable, _ = generate_all(c, module_name)
    return fn, readable


def generate_all(c: Compilation, module_name: str) -> tuple[Evaluator, str, BatchEvaluator]:
    """As :func:`generate`, and the batch loop made of the same lines (also registered).

    The batch loop runs the evaluator's body for each record of ``records`` in one frame (no
    call, no tuple of results a record) and yields each record's decision, built by the
    callables it is given: ``_outcomes[t].get(r)`` or ``_outcome_of(t, r)``, ``_legal(l, x,
    f)`` for legal bits, ``_decision(student id, as_of, outcome, legal, _ruleset, f)``. An
    exception other than ``_DataError`` goes to ``_failed(f, as_of, exc)``, which raises.
    """
    consts = Constants()
    ns: dict[str, Any] = {}
    names: dict[str, str] = {}
    notes: list[CheckedExpr] = []

    def note(e: CheckedExpr) -> str:
        notes.append(e)
        return f"  # [{len(notes) - 1}]"

    lines = ["def _evaluate(f, as_of, {binds}):", "    get = f.get"]
    for number, read in enumerate(c.fact_reads):
        local = local_name("f", read.name, number)
        names[read.name] = local
        rname = consts.add(read)
        kinds = consts.add(frozenset(_KINDS[read.kind]))
        # The fact's name as a literal only when it is a checked identifier (it always is, from
        # the condition parser); otherwise a bound constant.
        key = repr(read.name) if _IDENTIFIER.fullmatch(read.name) else consts.add(read.name)
        lines += [
            f"    {local} = get({key})",
            f"    if {local} is None or {local}.__class__ not in {kinds}:",
            f"        {local} = _read_fact(f, {rname}, {local})",
        ]
        known = c.vocabulary(read.name)
        if known is not None:
            # One C call, bound once; an unhashable item makes it raise TypeError, which the
            # rule set turns into the same facts.invalid through check_terms.
            vocab = consts.add(known)
            within = consts.add(known.issuperset)
            lines += [
                f"    if {local} and not {within}({local}):",
                f"        _check_terms(f, {key}, {local}, {vocab})",
            ]
    names["as_of"] = "as_of"
    uses_ctx = any(c.functions.functions[fn].context for e in _all_exprs(c) for fn in _calls(e))
    if uses_ctx:
        catalogue = c.the_spec.interventions
        unsupportive = frozenset(iv.id for iv in catalogue if not iv.supportive)
        lines.append(f"    _ctx = _EvalContext(f, as_of, {consts.add(unsupportive)})")
    for number, m in enumerate(c.metric_order):
        e = c.metric_exprs[m]
        value = e.tree.value if isinstance(e.tree, Const) else None
        if type(value) in (int, bool) or (type(value) is float and math.isfinite(value)):
            names[m] = repr(value)  # a threshold: inlined where it is used
            continue
        if type(value) is float:
            names[m] = consts.add(value)  # inf and nan have no literal
            continue
        local = names[m] = local_name("m", m, number)
        lines.append(f"    {local} = {to_python(e.tree, names, consts, c.functions)}{note(e)}")
    spec = c.the_spec
    names["tier"] = "tier_id"
    names["tier_level"] = "tier_level"
    default_index = next(i for i, t in enumerate(spec.tiers) if t.default)
    first = True
    for i, cond in enumerate(c.tier_exprs):
        if cond is None:
            continue
        kw = "if" if first else "elif"
        first = False
        code = to_python(cond.tree, names, consts, c.functions)
        stay = c.stay_exprs[i]
        if stay is None:
            lines += [f"    {kw} {code}:{note(cond)}", f"        t = {i}"]
            continue
        # Hysteresis: the tier also matches a student whose previous tier it was while its
        # stay_while holds. Evaluated in the reference interpreter's order: when, then the
        # previous tier, then stay_while.
        previous = names["previous_tier"]
        tier_id = consts.add(spec.tiers[i].id)
        kept = to_python(stay.tree, names, consts, c.functions)
        lines += [
            f"    {kw} (",
            f"        ({code}){note(cond)}",
            f"        or {previous} == {tier_id} and ({kept}){note(stay)}",
            "    ):",
            f"        t = {i}",
        ]
    if first:
        lines.append(f"    t = {default_index}")
    else:
        lines += ["    else:", f"        t = {default_index}"]
    # Rules restricted to some tiers are grouped under one test of the tier index, so a
    # student in a tier no rule names costs one comparison, not one per rule.
    index = {t.id: i for i, t in enumerate(spec.tiers)}
    by_tiers: dict[frozenset[int] | None, list[tuple[int, CheckedExpr, Expr | None]]] = {}
    for i, e in enumerate(c.rule_exprs):
        tiers, rest = _split_tiers(e.tree, index)
        by_tiers.setdefault(tiers, []).append((i, e, rest if tiers is not None else e.tree))
    rest_trees = [rest for group in by_tiers.values() for _, _, rest in group if rest is not None]
    later = [*c.legal_exprs, *[e for e in c.exempt_exprs if e is not None]]
    later_names = set().union(*(e.names for e in later), *(_names(t) for t in rest_trees))
    if "tier" in later_names:
        lines.append(f"    tier_id = {consts.add(tuple(t.id for t in spec.tiers))}[t]")
    if "tier_level" in later_names:
        lines.append(f"    tier_level = {consts.add(tuple(t.level for t in spec.tiers))}[t]")
    lines.append("    r = 0")
    for tiers, group in by_tiers.items():
        pad = "    "
        if tiers is not None:
            test = f"t == {next(iter(tiers))}" if len(tiers) == 1 else f"t in {consts.add(tiers)}"
            lines.append(f"    if {test}:")
            pad = "        "
        for i, e, rest in group:
            if rest is None:
                lines.append(f"{pad}r |= {1 << i}{note(e)}")
            else:
                code = to_python(rest, names, consts, c.functions)
                lines += [f"{pad}if {code}:{note(e)}", f"{pad}    r |= {1 << i}"]
    lines += ["    l = 0", "    x = 0"]
    for i, (e, ex) in enumerate(zip(c.legal_exprs, c.exempt_exprs, strict=True)):
        lines += [
            f"    if {to_python(e.tree, names, consts, c.functions)}:{note(e)}",
            f"        l |= {1 << i}",
        ]
        if ex is not None:
            lines += [
                f"        if {to_python(ex.tree, names, consts, c.functions)}:{note(ex)}",
                f"            x |= {1 << i}",
            ]
    # The student id was read (and checked) with the facts: returned, a decision needs no
    # second lookup of it.
    student = names["student_id"]
    lines.append(f"    return t, r, l, x, {student}")

    body = "\n".join(lines)
    available = {
        "_read_fact": read_fact,
        "_check_terms": check_terms,
        "_EvalContext": EvalContext,
        "_add_duration": add_duration,
        "_subtract_duration": subtract_duration,
        "_same_items": same_items,
    }
    helpers = {name: fn for name, fn in available.items() if name in body}
    used_fns = {fn for e in _all_exprs(c) for fn in _calls(e)}
    helpers |= {f"_fn_{fn}": c.functions.functions[fn].impl for fn in sorted(used_fns)}
    binds = {**consts.values, **helpers}
    # Bound as default arguments, constants and helpers are fast locals in the function body.
    bound = ", ".join(f"{k}={k}" for k in binds)
    lines[0] = lines[0].format(binds=bound)
    shown = module_name if _IDENTIFIER.fullmatch(module_name.replace("-", "_")) else "ruleset"
    number = next(_counter)
    ns.update(binds)
    readable = _compile_into(ns, "\n".join(lines) + "\n", f"<tierflow {shown} #{number}>", notes)
    fn: Evaluator = ns["_evaluate"]
    # With _reject (a batch with a report), a record that fails is handed to it with its
    # number and the loop goes on; each kept record is counted with _accept. Without, the
    # first failure is raised.
    batch_lines = [
        "def _evaluate_batch(records, as_of, _decision, _outcomes, _outcome_of, _legal, _failed,"
        f" _ruleset, _DataError, _reject, _accept, {bound}):",
        "    _at = 0",
        "    for f in records:",
        "        _at += 1",
        "        try:",
        "            try:",
        *(f"            {line}" for line in lines[1:-1]),
        "            except _DataError:",
        "                raise",
        "            except Exception as _exc:  # _failed raises the DataError it stands for, or",
        "                _failed(f, as_of, _exc)",
        "                raise",
        "            _outcome = _outcomes[t].get(r)",
        "            if _outcome is None:",
        "                _outcome = _outcome_of(t, r)",
        "            _actions = _legal(l, x, f) if l else ()",
        "        except _DataError as _exc:",
        "            if _reject is None:",
        "                raise",
        "            _reject(_exc, _at)",
        "            continue",
        "        if _accept is not None:",
        "            _accept()",
        f"        yield _decision({student}, as_of, _outcome, _actions, _ruleset, f)",
    ]
    source = "\n".join(batch_lines) + "\n"
    _compile_into(ns, source, f"<tierflow {shown} #{number} batch>", notes)
    batch: BatchEvaluator = ns["_evaluate_batch"]
    return fn, readable, batch


def _compile_into(ns: dict[str, Any], source: str, filename: str, notes: list[CheckedExpr]) -> str:
    """Compile ``source`` into ``ns``, register its readable copy with linecache; return it."""
    exec(compile(source, filename, "exec"), ns)
    readable = annotate(source, notes)
    linecache.cache[filename] = (len(readable), None, readable.splitlines(True), filename)
    return readable


def _split_tiers(tree: Expr, index: Mapping[str, int]) -> tuple[frozenset[int] | None, Expr | None]:
    """Split ``tier in [...] and rest`` into the tier indices and ``rest`` (None: always)."""
    first, rest = tree, None
    if isinstance(tree, BoolOp) and tree.op == "and":
        first = tree.values[0]
        if len(tree.values) == 2:
            rest = tree.values[1]
        else:
            rest = BoolOp(tree.pos, "and", tree.values[1:])
            rest.type = tree.type
    if (
        isinstance(first, Compare)
        and first.ops == ["in"]
        and isinstance(first.operands[0], Name)
        and first.operands[0].name == "tier"
    ):
        values = _constant_strings(first.operands[1])
        if values is not None and all(v in index for v in values):
            return frozenset(index[v] for v in values), rest
    return None, tree


def _constant_strings(node: Expr) -> tuple[str, ...] | None:
    """The strings of a constant list (folded or not), else None."""
    if isinstance(node, Const) and isinstance(node.value, (tuple, list, frozenset)):
        items = tuple(node.value)
    elif isinstance(node, ListExpr) and all(isinstance(i, Const) for i in node.items):
        items = tuple(i.value for i in node.items if isinstance(i, Const))
    else:
        return None
    return items if all(isinstance(v, str) for v in items) else None


def _names(tree: Expr) -> set[str]:
    return {n.name for n in walk(tree) if isinstance(n, Name)}


def _all_exprs(c: Compilation) -> list[CheckedExpr]:
    out = [c.metric_exprs[m] for m in c.metric_order]
    out += [e for e in (*c.tier_exprs, *c.stay_exprs) if e is not None]
    out += c.rule_exprs + c.legal_exprs + [e for e in c.exempt_exprs if e is not None]
    return out


def _calls(e: CheckedExpr) -> set[str]:
    return {n.func for n in walk(e.tree) if isinstance(n, Call)}
