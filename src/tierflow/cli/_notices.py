"""``tierflow notices``: render a day's family notices from a store into letters and messages."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any

from tierflow.cli._run import _date
from tierflow.cli._shell import (
    _escape,
    _extends_option,
    _Failed,
    _load,
    _no_database,
    _Out,
    _require_files,
)
from tierflow.errors import DataReport

__all__: list[str] = []


def _notices_options(p: argparse.ArgumentParser) -> None:
    """The ``notices`` command's arguments."""
    p.add_argument("--db", required=True, help="a SQLite store file, or a database URL")
    p.add_argument("--ruleset", "-r", required=True, help="built-in rule set or a path")
    p.add_argument("--on", required=True, metavar="DATE", help="the letters' date")
    p.add_argument(
        "--since", metavar="DATE", help="also produce what came due since this day (default: --on)"
    )
    p.add_argument("--output", "-o", required=True, metavar="DIR", help="where to write")
    p.add_argument(
        "--families",
        required=True,
        metavar="FILE",
        help="each student's family contact: name, language, address, email, phone (CSV, "
        "JSON Lines, Ed-Fi Contact/Parent XML)",
    )
    p.add_argument(
        "--students", required=True, metavar="FILE", help="students' names (CSV, JSON, Ed-Fi XML)"
    )
    p.add_argument("--schools", metavar="FILE", help="schools' names, addresses and phones")
    p.add_argument("--staff", metavar="FILE", help="the staff file (owners' names)")
    data = p.add_argument_group(
        "the day's facts: letters' figures, schools, grades, classmates and EC 48985 shares"
    )
    data.add_argument("--facts", metavar="FILE", help="students' facts as of --on")
    data.add_argument("--events", action="append", metavar="FILE", help="attendance events")
    data.add_argument("--calendar", action="append", metavar="FILE", help="school calendars")
    data.add_argument("--enrollments", action="append", metavar="FILE", help="enrollment spans")
    data.add_argument("--mapping", metavar="FILE", help="column mapping for vendor CSV exports")
    data.add_argument(
        "--assume-full-year",
        action="store_true",
        help="without enrollment records, enrol students for the whole year at their school",
    )
    p.add_argument("--district", required=True, metavar="NAME", help="the district's name")
    p.add_argument("--district-phone", default="", metavar="PHONE")
    p.add_argument("--district-website", default="", metavar="URL")
    p.add_argument(
        "--require-language",
        action="append",
        metavar="SCHOOL=LANG",
        help="a language a school must send (EC 48985), as the district determined it; "
        "repeat (default: computed from --families and the facts when the rule set says so)",
    )
    p.add_argument("--pdf", action="store_true", help="print each school's letters to one PDF")
    p.add_argument("--by", default="tierflow", metavar="ID", help="who produces them")
    p.add_argument("--format", choices=("text", "json"), default="text")
    _extends_option(p)


def _facts(args: argparse.Namespace, on: dt.date, err: _Out) -> list[dict[str, Any]]:
    """The day's facts from ``--facts`` or the raw files (problems reported on ``err``)."""
    from tierflow.ingest import facts_from_files, read_facts

    if args.facts is not None:
        report = DataReport()
        found = [dict(r.facts) for r in read_facts(args.facts, report=report)]
    elif args.events:
        if not args.calendar:
            raise _Failed("--events needs --calendar (which days are school days)")
        builder = facts_from_files(
            args.calendar,
            args.events,
            enrollments=args.enrollments or (),
            mapping=args.mapping,
            assume_full_year=args.assume_full_year,
        )
        report = builder.report
        found = [dict(f) for f in builder.facts(on)]
    else:
        return []
    for problem in report.rejects:
        err.line(f"rejected: {problem}")
    return found


def _given_languages(args: argparse.Namespace) -> dict[str, list[str]] | None:
    """``--require-language SCHOOL=LANG`` options by school (None: none given)."""
    given: dict[str, list[str]] = {}
    for item in args.require_language or ():
        school, sep, lang = item.partition("=")
        if not (sep and school and lang):
            raise _Failed(f"--require-language takes SCHOOL=LANG, got {item!r}")
        given.setdefault(school, []).append(lang)
    return given or None


def _cmd_notices(args: argparse.Namespace, out: _Out, err: _Out) -> int:
    from tierflow.ingest import read_contacts, read_people, read_schools
    from tierflow.notices import DistrictInfo, NoticeError, StaffContact
    from tierflow.report import produce_notices
    from tierflow.runner import read_staff
    from tierflow.store import SqlRepository
    from tierflow.workflow import Engine

    if _no_database(args.db, "notices", err):
        return 2
    on = _date(args.on, "--on")
    since = None if args.since is None else _date(args.since, "--since")
    ruleset = _load(args.ruleset, args)
    _require_files(
        [
            args.families,
            args.students,
            args.schools,
            args.staff,
            args.facts,
            args.mapping,
            *(args.events or ()),
            *(args.calendar or ()),
            *(args.enrollments or ()),
        ]
    )
    families = read_contacts(args.families, mapping=args.mapping)
    people = read_people(args.students)
    schools = read_schools(args.schools) if args.schools else None
    staff_report = DataReport()
    roster = None if args.staff is None else read_staff(args.staff, report=staff_report)
    for report in (
        families.report,
        people.report,
        staff_report,
        *([schools.report] if schools else []),
    ):
        for problem in report.rejects:
            err.line(f"rejected: {problem}")
        for warning in report.warnings:
            err.line(f"warning: {warning}")
    facts = _facts(args, on, err)
    given = _given_languages(args)
    staff: dict[str, StaffContact] = {}
    if roster is not None:
        staff = {m.id: StaffContact(m.name or m.id) for m in roster.staff.values() if m.name}
    with SqlRepository(args.db) as repo:
        engine = Engine(ruleset, repository=repo, roster=roster)
        try:
            mailing = produce_notices(
                engine,
                on=on,
                since=since,
                directory=args.output,
                families=families,
                students=people.people,
                schools=schools,
                district=DistrictInfo(args.district, args.district_phone, args.district_website),
                staff=staff or None,
                facts=facts,
                required_languages=given,
                pdf=args.pdf,
                by=args.by,
            )
        except NoticeError as exc:
            err.line(f"tierflow notices: {exc}")
            return 1
    for skipped in mailing.problems:
        err.line(f"not produced: {skipped}")
    if args.format == "json":
        data = {
            "on": on.isoformat(),
            "folder": str(mailing.folder),
            "notices": [
                {
                    "student_id": n.student_id,
                    "school_id": n.school_id,
                    "notice": n.notice,
                    "for": n.for_,
                    "channel": n.channel,
                    "language": n.language,
                    "fell_back": n.fell_back,
                    "file": n.path,
                    "outbox_seq": n.seq,
                }
                for n in mailing.notices
            ],
            "already": mailing.already,
            "problems": [
                {
                    "student_id": p.student_id,
                    "notice": p.notice,
                    "code": p.code,
                    "message": p.message,
                }
                for p in mailing.problems
            ],
            "letters": {k: str(v) for k, v in mailing.pages.items()},
            "pdfs": {k: str(v) for k, v in mailing.pdfs.items()},
            "mail_house": None if mailing.mail_house is None else str(mailing.mail_house),
            "messages": None if mailing.messages is None else str(mailing.messages),
            "required_languages": {
                k: sorted(v) for k, v in sorted(mailing.required_languages.items()) if v
            },
        }
        out.data(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return 0
    out.line(mailing.summary())
    for school, page in sorted(mailing.pages.items()):
        pdf = mailing.pdfs.get(school)
        out.line(f"  {school or '(no school)'}: {page}" + (f", {pdf}" if pdf else ""))
    if mailing.mail_house is not None:
        out.line(f"  mail house: {mailing.mail_house}")
    if mailing.messages is not None:
        out.line(f"  emails and texts: {mailing.messages}")
    for school, langs in sorted(mailing.required_languages.items()):
        if langs:
            out.line(_escape(f"  {school} must also send: {', '.join(sorted(langs))} (EC 48985)"))
    return 0
