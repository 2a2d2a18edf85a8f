"""Families' languages: one canonical code, and the translations California EC 48985 requires.

**Canonical form.** A language is written as its ISO 639-1 code where one exists, else its ISO
639-2/3 code, lower case (``es``, ``vi``, ``hmn``), optionally with a two-letter region in
upper case (``es-MX``): the form a rule set's ``templates:`` keys take, so
:func:`~tierflow.notices.pick_language` finds ``es-MX``, else ``es``. :func:`language_code`
reads what district data writes: codes in any case with ``-`` or ``_`` (``ES_mx``), ISO 639-2
codes (``spa``), Ed-Fi descriptors (``uri://ed-fi.org/LanguageDescriptor#spa``) and names in
English or in the language itself (``Spanish``, ``Español``). A script or a numeric region is
dropped (``zh-Hant-TW`` is ``zh-TW``, ``es-419`` is ``es``). Mandarin is ``zh``; Cantonese
stays ``yue``, as California's language census counts it apart.

**EC 48985.** Where 15% or more of a school's pupils speak a single primary language other
than English, every notice to their parents is also written in that language.
:func:`language_shares` computes each language's share of a school's pupils (regional forms
counted with their base language: ``es-MX`` is Spanish), and :func:`required_languages` the
languages at or above the share. English is never "required" as a translation.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Mapping

__all__ = [
    "DEFAULT_LANGUAGE",
    "EC_48985_SHARE",
    "base_language",
    "language_code",
    "language_shares",
    "required_languages",
]

DEFAULT_LANGUAGE = "en"
"""The language assumed for a family whose data gives none (always reported, never silent)."""

EC_48985_SHARE = 0.15
"""California EC 48985: the share of a school's pupils that makes a language required."""

_ENGLISH = "en"

# Float rounding of a share such as 3/20 must not put exactly 15% below 0.15.
_TOLERANCE = 1e-9

# The languages most spoken by English learners in California and Texas schools (CDE language
# census, TEA), with their ISO 639-2/3 codes and names in English and in the language itself.
_TABLE: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("en", ("eng",), ("english",)),
    ("es", ("spa",), ("spanish", "español", "espanol", "castellano")),
    ("vi", ("vie",), ("vietnamese", "tiếng việt", "tieng viet")),
    ("zh", ("zho", "chi", "cmn"), ("chinese", "mandarin", "putonghua", "中文", "普通话")),
    ("yue", (), ("cantonese", "廣東話", "广东话")),
    ("ar", ("ara",), ("arabic", "العربية")),
    ("tl", ("tgl",), ("tagalog",)),
    ("fil", (), ("filipino", "pilipino")),
    ("ko", ("kor",), ("korean", "한국어")),
    ("ru", ("rus",), ("russian", "русский")),
    ("pa", ("pan",), ("punjabi", "panjabi", "ਪੰਜਾਬੀ")),
    ("hy", ("hye", "arm"), ("armenian", "հայերեն")),
    ("fa", ("fas", "per"), ("farsi", "persian", "فارسی")),
    ("prs", (), ("dari",)),
    ("ps", ("pus",), ("pashto", "pushto")),
    ("hmn", (), ("hmong",)),
    ("km", ("khm",), ("khmer", "cambodian")),
    ("lo", ("lao",), ("lao", "laotian")),
    ("th", ("tha",), ("thai",)),
    ("my", ("mya", "bur"), ("burmese",)),
    ("ja", ("jpn",), ("japanese", "日本語")),
    ("pt", ("por",), ("portuguese", "português", "portugues")),
    ("hi", ("hin",), ("hindi",)),
    ("ur", ("urd",), ("urdu",)),
    ("bn", ("ben",), ("bengali", "bangla")),
    ("gu", ("guj",), ("gujarati",)),
    ("te", ("tel",), ("telugu",)),
    ("ta", ("tam",), ("tamil",)),
    ("ne", ("nep",), ("nepali",)),
    ("so", ("som",), ("somali",)),
    ("am", ("amh",), ("amharic",)),
    ("ti", ("tir",), ("tigrinya",)),
    ("sw", ("swa", "swh"), ("swahili", "kiswahili")),
    ("rw", ("kin",), ("kinyarwanda",)),
    ("uk", ("ukr",), ("ukrainian", "українська")),
    ("fr", ("fra", "fre"), ("french", "français", "francais")),
    ("ht", ("hat",), ("haitian creole", "haitian", "kreyòl", "kreyol")),
    ("de", ("deu", "ger"), ("german", "deutsch")),
    ("it", ("ita",), ("italian", "italiano")),
    ("pl", ("pol",), ("polish", "polski")),
    ("ro", ("ron", "rum"), ("romanian",)),
    ("tr", ("tur",), ("turkish", "türkçe")),
    ("he", ("heb",), ("hebrew",)),
    ("mix", (), ("mixteco", "mixtec")),
    ("quc", (), ("k'iche'", "kiche", "quiche")),
    ("mam", (), ("mam",)),
    ("kjb", (), ("q'anjob'al", "kanjobal")),
    ("zap", (), ("zapoteco", "zapotec")),
)
_BY_NAME = {key: code for code, codes, names in _TABLE for key in (code, *codes, *names)}
# ISO 639-2 "no language" codes, and "na" (an export's "not available" far more often than
# Nauruan): read as no language given.
_NO_LANGUAGE = frozenset({"und", "mul", "mis", "zxx", "na", "n/a", "none", "unknown"})
# ISO 639-1: a two-letter code must be one of these ("SP" is no language); checked against
# Babel's language names.
_ISO_639_1_TEXT = (
    "aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv "
    "cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho "
    "hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku "
    "kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn "
    "no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm "
    "sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi "
    "vo wa wo xh yi yo za zh zu"
)
_ISO_639_1 = frozenset(_ISO_639_1_TEXT.split())
_CODE = re.compile(r"^([a-z]{2,3})((?:-[a-z0-9]{1,8})*)$")


def language_code(value: str) -> str | None:
    """The canonical code of a language as district data writes it; None if not recognised.

    >>> [language_code(v) for v in ("Spanish", "spa", "es_mx", "ES-MX", "Español")]
    ['es', 'es', 'es-MX', 'es-MX', 'es']
    >>> language_code("uri://ed-fi.org/LanguageDescriptor#vie"), language_code("Hmong")
    ('vi', 'hmn')
    >>> language_code("zh-Hant-TW"), language_code("es-419"), language_code("und")
    ('zh-TW', 'es', None)
    >>> language_code("Klingon") is None
    True

    An ISO 639-1 code, or a three-letter code, that the table of common languages does not
    list is kept as written (``to``, ``ton``); any other word is not recognised.
    """
    text = value.strip()
    if "#" in text:  # an Ed-Fi descriptor URI: the code value follows the '#'
        text = text.rsplit("#", 1)[1].strip()
    key = " ".join(text.lower().replace("_", "-").split())
    if not key or key in _NO_LANGUAGE:
        return None
    if key in _BY_NAME:
        return _BY_NAME[key]
    match = _CODE.match(key)
    if match is None:
        return None
    primary, rest = match.groups()
    if primary in _NO_LANGUAGE or (len(primary) == 2 and primary not in _ISO_639_1):
        return None
    primary = _BY_NAME.get(primary, primary)
    regions = [part for part in rest.split("-")[1:] if len(part) == 2 and part.isalpha()]
    return f"{primary}-{regions[0].upper()}" if regions else primary


def base_language(code: str) -> str:
    """The language without its region: ``es-MX`` is ``es``.

    >>> base_language("es-MX"), base_language("hmn")
    ('es', 'hmn')
    """
    return code.split("-", 1)[0].lower()


def language_shares(
    languages_by_student: Mapping[str, str], school_of: Mapping[str, str]
) -> dict[str, dict[str, float]]:
    """Each school's pupils by primary language, as shares of the school's pupils.

    The pupils of a school are the students ``school_of`` places there; a regional form counts
    with its base language (``es-MX`` and ``es`` are both ``es``). A pupil with no language in
    ``languages_by_student`` counts among the school's pupils and in no language's share, so
    the shares of a school may add up to less than 1. A student missing from ``school_of`` is
    not counted anywhere.

    >>> shares = language_shares({"a": "es-MX", "b": "es", "c": "en", "d": "en"},
    ...                          {"a": "oak", "b": "oak", "c": "oak", "d": "oak"})
    >>> shares
    {'oak': {'en': 0.5, 'es': 0.5}}

    Args:
        languages_by_student: Each student's primary language (any spelling
            :func:`language_code` reads; an unrecognised one counts as no language).
        school_of: Each student's school.

    Returns:
        By school (sorted), each language's share of its pupils (sorted by language).
    """
    pupils: Counter[str] = Counter(school_of.values())
    speakers: dict[str, Counter[str]] = {school: Counter() for school in pupils}
    for student, school in school_of.items():
        written = languages_by_student.get(student)
        code = language_code(written) if written else None
        if code is not None:
            speakers[school][base_language(code)] += 1
    return {
        school: {lang: count / pupils[school] for lang, count in sorted(speakers[school].items())}
        for school in sorted(pupils)
    }


def required_languages(
    shares: Mapping[str, Mapping[str, float]],
    threshold: float = EC_48985_SHARE,
    *,
    given: Mapping[str, Collection[str]] | None = None,
) -> dict[str, frozenset[str]]:
    """The languages each school's notices must also be written in (EC 48985).

    A language is required at a school when its share is ``threshold`` or more (exactly 15%
    counts); English never is. A school in ``given`` takes that list instead of its computed
    shares: a district's own determination (its prior-year language census).

    >>> required_languages({"oak": {"en": 0.70, "es": 0.15, "vi": 0.1499}})
    {'oak': frozenset({'es'})}
    >>> required_languages({"oak": {"es": 0.4}}, given={"elm": ["Vietnamese"]})
    {'oak': frozenset({'es'}), 'elm': frozenset({'vi'})}

    Args:
        shares: By school, each language's share of its pupils (from :func:`language_shares`
            or from the district's own figures).
        threshold: The share that makes a language required (EC 48985: 0.15).
        given: By school, the languages a district says are required there (any spelling
            :func:`language_code` reads).

    Raises:
        ValueError: ``threshold`` is not above 0 and at most 1, or a given language is not
            one :func:`language_code` recognises.
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be above 0 and at most 1, got {threshold!r}")
    out: dict[str, frozenset[str]] = {}
    for school, by_language in shares.items():
        if given is not None and school in given:
            continue
        by_base: dict[str, float] = {}
        for lang, share in by_language.items():
            code = language_code(lang)
            key = base_language(code) if code else lang
            by_base[key] = by_base.get(key, 0.0) + share
        out[school] = frozenset(
            lang
            for lang, share in by_base.items()
            if lang != _ENGLISH and share >= threshold - _TOLERANCE
        )
    for school, languages in (given or {}).items():
        codes = set()
        for lang in languages:
            code = language_code(lang)
            if code is None:
                raise ValueError(f"school {school!r}: {lang!r} is not a language tierflow reads")
            if base_language(code) != _ENGLISH:
                codes.add(base_language(code))
        out[school] = frozenset(codes)
    return out
