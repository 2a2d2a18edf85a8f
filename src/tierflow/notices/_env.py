"""The sandboxed Jinja2 environment notice templates run in, with its bounds.

A district's template is untrusted input, exactly like its conditions: it runs in
:class:`jinja2.sandbox.SandboxedEnvironment` (no ``__class__`` or other private attribute, no
unsafe method), HTML is autoescaped, an undefined name is an error (``StrictUndefined``), and
work is bounded: ``range`` gives at most :data:`MAX_RANGE` items and all of a render's ranges
together at most :data:`MAX_ITERATIONS`; ``*`` and ``**`` may not build huge strings, lists or
numbers; output stops at :data:`MAX_OUTPUT` characters. Jinja2 and Babel are the optional
``tierflow[notices]`` extra, imported here only when a template is parsed or rendered.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tierflow.errors import TierflowError

if TYPE_CHECKING:
    from jinja2.sandbox import SandboxedEnvironment

__all__ = [
    "ELEMENT_TAG",
    "FILTERS",
    "MAX_ITERATIONS",
    "MAX_OUTPUT",
    "MAX_RANGE",
    "NoticeError",
    "RenderState",
    "environment",
]

MAX_RANGE = 1_000
"""The most items one ``range(...)`` in a template may give."""
MAX_ITERATIONS = 10_000
"""The most items all of one render's ``range(...)`` calls may give together."""
MAX_OUTPUT = 500_000
"""The most characters one rendered notice may have."""
_MAX_SIZE = 100_000  # the longest string or list `*` may build, the largest number `**` may
ELEMENT_TAG = "element"
"""The tag marking a statutory element: ``{% element "id" %}...{% endelement %}``."""
FILTERS = ("date", "number", "percent")
"""The filters tierflow adds (formatted per the notice's language with Babel)."""
STATE = "_tierflow_notice"
"""The render's :class:`RenderState` in the template's variables (templates cannot name it:
names starting with ``_`` are refused at load)."""


class NoticeError(TierflowError, ValueError):
    """A notice that cannot be rendered.

    No template in a required language, an unknown notice, or a template that went over its
    bounds (loops, output size).
    """


@dataclass
class RenderState:
    """One render's letter date, elements in force and bookkeeping."""

    on: dt.date
    in_force: frozenset[str]
    rendered: list[str] = field(default_factory=list)
    budget: int = MAX_ITERATIONS


def _missing() -> NoticeError:
    return NoticeError(
        "notices need the optional dependencies Jinja2 and Babel: pip install 'tierflow[notices]'"
    )


def _locale(language: str) -> Any:
    from babel import Locale

    return Locale.parse(language.replace("-", "_"))


def _filters(language: str) -> dict[str, Callable[..., str]]:
    from babel.dates import format_date
    from babel.numbers import format_decimal, format_percent

    locale = _locale(language)

    def date(value: dt.date, form: str = "long") -> str:
        return str(format_date(value, format=form, locale=locale))

    def number(value: float) -> str:
        return str(format_decimal(value, locale=locale))

    def percent(value: float, digits: int = 0) -> str:
        # The language's own pattern (Spanish puts a space before the sign), with decimals.
        pattern = locale.percent_formats[None].pattern
        if digits:
            pattern = pattern.replace("0", "0." + "0" * digits, 1)
        return str(format_percent(value, format=pattern, locale=locale))

    return {"date": date, "number": number, "percent": percent}


@functools.lru_cache(maxsize=32)
def environment(language: str = "en", html: bool = True) -> SandboxedEnvironment:
    """The sandboxed environment for one language, for HTML (autoescaped) or plain text.

    Raises:
        NoticeError: Jinja2 or Babel is not installed.
    """
    try:
        import babel  # noqa: F401
        from jinja2 import StrictUndefined, nodes
        from jinja2.ext import Extension
        from jinja2.runtime import Context
        from jinja2.sandbox import SandboxedEnvironment
        from markupsafe import Markup, escape
    except ImportError as exc:  # pragma: no cover - the extra is installed for tests
        raise _missing() from exc

    class ElementExtension(Extension):
        """``{% element "id" %}body{% endelement %}``: the body, only while ``id`` is in force."""

        tags = {ELEMENT_TAG}  # noqa: RUF012 - jinja2 declares it an instance attribute

        def parse(self, parser: Any) -> Any:
            lineno = next(parser.stream).lineno
            args = [parser.parse_expression(), nodes.ContextReference()]
            body = parser.parse_statements(("name:end" + ELEMENT_TAG,), drop_needle=True)
            return nodes.CallBlock(self.call_method("_element", args), [], [], body).set_lineno(
                lineno
            )

        def _element(self, element_id: str, context: Context, caller: Callable[[], str]) -> str:
            state = context.get(STATE)
            if not isinstance(state, RenderState) or element_id not in state.in_force:
                return ""
            state.rendered.append(element_id)
            if not html:
                return caller()
            return str(
                Markup('<div class="element" data-element="{}">').format(escape(element_id))
                + caller()
                + Markup("</div>")
            )

    class Bounded(SandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
            if operator == "**":
                if isinstance(right, (int, float)) and abs(right) > 64:
                    raise NoticeError("a template may not raise a number to a power above 64")
                result = left**right
                if isinstance(result, int) and abs(result) > _MAX_SIZE**2:
                    raise NoticeError("a template computed a number too large")
                return result
            for seq, n in ((left, right), (right, left)):
                if (
                    isinstance(seq, (str, list, tuple))
                    and isinstance(n, int)
                    and len(seq) * n > _MAX_SIZE
                ):
                    raise NoticeError("a template may not build text or lists this long")
            return left * right

    def bounded_range(context: Context, *args: int) -> range:
        items = range(*args)
        state = context.get(STATE)
        if len(items) > MAX_RANGE:
            raise NoticeError(f"range() in a notice template gives at most {MAX_RANGE} items")
        if isinstance(state, RenderState):
            state.budget -= len(items)
            if state.budget < 0:
                raise NoticeError(
                    f"a notice template's loops ran over {MAX_ITERATIONS} items in all"
                )
        return items

    from jinja2 import pass_context

    env = Bounded(
        autoescape=html,
        undefined=StrictUndefined,
        extensions=[ElementExtension],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals = {"range": pass_context(bounded_range)}
    env.filters.update(_filters(language))
    return env


def bounded_output(chunks: Iterator[str]) -> str:
    """Join a template's output, stopping with an error past :data:`MAX_OUTPUT` characters."""
    out: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_OUTPUT:
            raise NoticeError(f"a rendered notice may have at most {MAX_OUTPUT} characters")
        out.append(chunk)
    return "".join(out)
