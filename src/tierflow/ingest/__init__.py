"""Ingest: every file tierflow reads, one module per format or job.

- student facts (:func:`read_facts`): CSV or JSON Lines of the facts rules read;
- attendance records (:func:`read_events`, :func:`read_enrollments`, :func:`read_calendars`,
  :func:`read_groups`): Ed-Fi XML interchange files, Ed-Fi API JSON, or tierflow's own CSV and
  JSON Lines columns, with an optional :class:`~tierflow.spec.ColumnMapping` for vendor exports;
- a roster of names and dates of birth for exports (:func:`read_people`).

Every reader is linear in its file and bounded: text is decoded line by line, JSON with a depth
and number-size limit, and XML with a DOCTYPE refused, so a hostile file costs at most its size.
"""

from tierflow.ingest._calendars import read_calendars
from tierflow.ingest._events import read_enrollments, read_events
from tierflow.ingest._facts import FactsRecord, read_facts, read_facts_text
from tierflow.ingest._groups import read_groups
from tierflow.ingest._people import People, Person, read_people

__all__ = [
    "FactsRecord",
    "People",
    "Person",
    "read_calendars",
    "read_enrollments",
    "read_events",
    "read_facts",
    "read_facts_text",
    "read_groups",
    "read_people",
]
