"""Family notices: the letter, email or text a step calls for, in the family's language.

A rule set's ``notices:`` name what calls for each notice, its channel, a Jinja2 template per
language and the statutory elements it must carry (``notice_elements:``, with citations and
the dates each is in force). Templates are untrusted input: they run sandboxed and bounded
(:mod:`tierflow.notices._env`), and the compiler checks every name they use against the typed
:class:`NoticeContext` at load. Jinja2 and Babel are the optional ``tierflow[notices]`` extra,
imported only when a template is parsed or rendered. See docs/notices.md.
"""

from tierflow.notices._check import TemplateCheck, TemplateIssue, check_template
from tierflow.notices._context import (
    AttendanceFigures,
    DecisionSummary,
    DistrictInfo,
    FamilyContact,
    NoticeContext,
    SchoolInfo,
    StaffContact,
    StepInfo,
    StudentInfo,
    context_fields,
)
from tierflow.notices._env import MAX_ITERATIONS, MAX_OUTPUT, MAX_RANGE, NoticeError
from tierflow.notices._figures import (
    MIN_CLASSMATES,
    attendance_figures,
    classmates_group,
    classmates_medians,
)
from tierflow.notices._languages import (
    DEFAULT_LANGUAGE,
    EC_48985_SHARE,
    base_language,
    language_code,
    language_shares,
    required_languages,
)
from tierflow.notices._render import (
    NoticeBook,
    RenderedNotice,
    TemplateSource,
    pick_language,
    render_notice,
)

__all__ = [
    "DEFAULT_LANGUAGE",
    "EC_48985_SHARE",
    "MAX_ITERATIONS",
    "MAX_OUTPUT",
    "MAX_RANGE",
    "MIN_CLASSMATES",
    "AttendanceFigures",
    "DecisionSummary",
    "DistrictInfo",
    "FamilyContact",
    "NoticeBook",
    "NoticeContext",
    "NoticeError",
    "RenderedNotice",
    "SchoolInfo",
    "StaffContact",
    "StepInfo",
    "StudentInfo",
    "TemplateCheck",
    "TemplateIssue",
    "TemplateSource",
    "attendance_figures",
    "base_language",
    "check_template",
    "classmates_group",
    "classmates_medians",
    "context_fields",
    "language_code",
    "language_shares",
    "pick_language",
    "render_notice",
    "required_languages",
]
