"""Ingest: every file tierflow reads, one module per format or job.

- student facts (:func:`read_facts`): CSV or JSON Lines of the facts rules read;
- attendance records (:func:`read_events`, :func:`read_enrollments`, :func:`read_calendars`,
  :func:`read_groups`): Ed-Fi XML interchange files, Ed-Fi API JSON, or tierflow's own CSV and
  JSON Lines columns, with an optional :class:`~tierflow.spec.ColumnMapping` for vendor exports;
- a roster of names and dates of birth for exports (:func:`read_people`);
- families and schools for notices (:func:`read_contacts`, :func:`read_schools`);
- the whole raw-data pipeline, files to a facts builder (:func:`facts_from_files`).

A record that cannot be read goes to the :class:`~tierflow.DataReport` the reader is given
(``report=``), with its ``file:line`` and student id, and the file is read on; a streaming
reader without a report raises it.

Every reader is linear in its file and bounded: text is decoded line by line, JSON with a depth
and number-size limit, and XML with a DOCTYPE refused, so a hostile file costs at most its size.
"""

from tierflow.ingest._attendance import facts_from_files
from tierflow.ingest._calendars import read_calendars
from tierflow.ingest._contacts import Contacts, read_contacts
from tierflow.ingest._events import read_enrollments, read_events
from tierflow.ingest._facts import FactsRecord, read_facts, read_facts_text
from tierflow.ingest._groups import read_groups
from tierflow.ingest._people import People, Person, read_people
from tierflow.ingest._schools import Schools, read_schools

__all__ = [
    "Contacts",
    "FactsRecord",
    "People",
    "Person",
    "Schools",
    "facts_from_files",
    "read_calendars",
    "read_contacts",
    "read_enrollments",
    "read_events",
    "read_facts",
    "read_facts_text",
    "read_groups",
    "read_people",
    "read_schools",
]
